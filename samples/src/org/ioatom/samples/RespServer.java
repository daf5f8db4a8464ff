package org.ioatom.samples;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.IoException;
import org.ioatom.samples.server.Ascii;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;

/**
 * A minimal Redis-protocol (RESP2) server: inline and multibulk requests, pipelining, and
 * PING, ECHO, SET, GET, DEL, EXISTS, INCR, COMMAND, CONFIG GET (a stub), QUIT. Keys and values
 * live in a {@link KeyValueStore} in native memory; requests are parsed where they arrived, in
 * the loop's shared read buffer, and replies are written into the shared output buffer, so
 * serving a request allocates nothing.
 *
 * <p>Limits: a request (command with all its arguments, as sent) of at most {@value #MAX_REQUEST}
 * bytes, at most {@value #MAX_ARGS} arguments, keys of {@value KeyValueStore#KEY_MAX} bytes and
 * values of {@value KeyValueStore#VALUE_MAX} bytes at most, {@code --max-keys} keys (default
 * {@value #DEFAULT_MAX_KEYS}). A malformed request, an absurd length ({@code *} or {@code $}
 * beyond these limits) or a request larger than the limit gets {@code -ERR Protocol error: ...}
 * and its connection is closed; a bad command (unknown, wrong arity, too long a key) gets an
 * {@code -ERR} reply and the connection goes on. Inline requests are split on spaces and tabs
 * (no quoting).
 */
public final class RespServer extends SampleServer {
    static final int DEFAULT_PORT = 6380;
    static final int MAX_REQUEST = 16 * 1024;
    static final int MAX_ARGS = 1024;
    static final int DEFAULT_MAX_KEYS = 40_000;

    private static final byte[] PING = Ascii.keyword("ping");
    private static final byte[] ECHO = Ascii.keyword("echo");
    private static final byte[] SET = Ascii.keyword("set");
    private static final byte[] GET = Ascii.keyword("get");
    private static final byte[] DEL = Ascii.keyword("del");
    private static final byte[] EXISTS = Ascii.keyword("exists");
    private static final byte[] INCR = Ascii.keyword("incr");
    private static final byte[] COMMAND = Ascii.keyword("command");
    private static final byte[] CONFIG = Ascii.keyword("config");
    private static final byte[] QUIT = Ascii.keyword("quit");
    private static final byte[] APPENDONLY = Ascii.keyword("appendonly");

    private static final MemorySegment PONG = Ascii.constant("+PONG\r\n");
    private static final MemorySegment OK = Ascii.constant("+OK\r\n");
    private static final MemorySegment NIL = Ascii.constant("$-1\r\n");
    private static final MemorySegment EMPTY_ARRAY = Ascii.constant("*0\r\n");
    private static final MemorySegment CRLF = Ascii.constant("\r\n");
    private static final MemorySegment NO = Ascii.constant("no");
    private static final MemorySegment ERR_UNKNOWN = Ascii.constant("-ERR unknown command '");
    private static final MemorySegment ERR_ARITY = Ascii.constant("-ERR wrong number of arguments for '");
    private static final MemorySegment ERR_ARITY_END = Ascii.constant("' command\r\n");
    private static final MemorySegment QUOTE_END = Ascii.constant("'\r\n");
    private static final MemorySegment ERR_SYNTAX = Ascii.constant("-ERR syntax error\r\n");
    private static final MemorySegment ERR_NOT_INTEGER = Ascii.constant("-ERR value is not an integer or out of range\r\n");
    private static final MemorySegment ERR_OVERFLOW = Ascii.constant("-ERR increment or decrement would overflow\r\n");
    private static final MemorySegment ERR_KEY_TOO_LONG =
            Ascii.constant("-ERR key too long (limit " + KeyValueStore.KEY_MAX + " bytes)\r\n");
    private static final MemorySegment ERR_VALUE_TOO_LONG =
            Ascii.constant("-ERR value too long (limit " + KeyValueStore.VALUE_MAX + " bytes)\r\n");
    private static final MemorySegment ERR_FULL = Ascii.constant("-ERR store full\r\n");
    private static final MemorySegment ERR_MULTIBULK = Ascii.constant("-ERR Protocol error: invalid multibulk length\r\n");
    private static final MemorySegment ERR_BULK = Ascii.constant("-ERR Protocol error: invalid bulk length\r\n");
    private static final MemorySegment ERR_DOLLAR = Ascii.constant("-ERR Protocol error: expected '$'\r\n");
    private static final MemorySegment ERR_LINE = Ascii.constant("-ERR Protocol error: expected CR LF\r\n");
    private static final MemorySegment ERR_TOO_MANY =
            Ascii.constant("-ERR Protocol error: too many arguments (limit " + MAX_ARGS + ")\r\n");
    private static final MemorySegment ERR_TOO_LARGE =
            Ascii.constant("-ERR Protocol error: request too large (limit " + MAX_REQUEST + " bytes)\r\n");

    /** parse() results besides a position. */
    private static final long INCOMPLETE = -1;
    private static final long MALFORMED = -2;

    private final int maxKeys;
    private KeyValueStore store;
    // The request being handled: its input segment and its arguments (offsets in it).
    private MemorySegment in;
    private final long[] argAt = new long[MAX_ARGS];
    private final int[] argLength = new int[MAX_ARGS];
    private int argc;
    private MemorySegment malformed;

    // Commands, as found by command() from the first argument.
    private static final int UNKNOWN = 0;
    private static final int CMD_GET = 1;
    private static final int CMD_SET = 2;
    private static final int CMD_PING = 3;
    private static final int CMD_INCR = 4;
    private static final int CMD_DEL = 5;
    private static final int CMD_EXISTS = 6;
    private static final int CMD_ECHO = 7;
    private static final int CMD_COMMAND = 8;
    private static final int CMD_CONFIG = 9;
    private static final int CMD_QUIT = 10;

    RespServer(Settings settings, int maxKeys) {
        super("resp-server", settings, MAX_REQUEST);
        this.maxKeys = maxKeys;
    }

    @Override
    protected void opened(Arena arena) {
        store = new KeyValueStore(arena, maxKeys);
    }

    @Override
    protected void closed() {
        store = null;
    }

    @Override
    protected void inputOverflow(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        if (reserve(c, (int) ERR_TOO_LARGE.byteSize())) {
            append(ERR_TOO_LARGE);
        }
        closeAfterReply(c);
    }

    @Override
    protected int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        this.in = in;
        long p = start;
        while (p < end) {
            long next = parse(p, end);
            if (next == INCOMPLETE) {
                break;
            }
            if (next == MALFORMED) {
                if (!reserve(c, (int) malformed.byteSize())) {
                    break; // answer once the output has room
                }
                append(malformed);
                closeAfterReply(c);
                return end;
            }
            if (argc > 0) {
                int command = command();
                if (!reserve(c, replyBound(command))) {
                    break; // the socket is full: the rest waits until it drained
                }
                p = next;
                if (execute(c, command)) {
                    closeAfterReply(c);
                    break;
                }
            } else {
                p = next;
            }
        }
        this.in = null;
        return (int) p;
    }

    // ---- parsing ----

    /**
     * Parses one request at {@code p} into the argument arrays.
     *
     * @return the position after it, {@link #INCOMPLETE}, or {@link #MALFORMED} (with {@link #malformed} set)
     */
    private long parse(long p, long end) {
        MemorySegment in = this.in;
        argc = 0;
        if (Ascii.get(in, p) != '*') {
            return parseInline(p, end);
        }
        long n;
        long lf;
        if (digitsLine(in, p + 1, end)) {
            n = digitsValue;
            lf = digitsEnd + 1;
        } else {
            lf = Ascii.indexOf(in, p + 1, end, (byte) '\n');
            if (lf < 0) {
                return end - p > 24 ? malformed(ERR_MULTIBULK) : INCOMPLETE;
            }
            if (Ascii.get(in, lf - 1) != '\r') {
                return malformed(ERR_LINE);
            }
            n = Ascii.parseLong(in, p + 1, lf - 1 - (p + 1));
        }
        if (n == Ascii.NOT_A_NUMBER || n > MAX_ARGS) {
            return malformed(n > MAX_ARGS ? ERR_TOO_MANY : ERR_MULTIBULK);
        }
        long q = lf + 1;
        for (int i = 0; i < n; i++) {
            if (q >= end) {
                return INCOMPLETE;
            }
            if (Ascii.get(in, q) != '$') {
                return malformed(ERR_DOLLAR);
            }
            long length;
            if (digitsLine(in, q + 1, end)) {
                length = digitsValue;
                lf = digitsEnd + 1;
            } else {
                lf = Ascii.indexOf(in, q + 1, end, (byte) '\n');
                if (lf < 0) {
                    return end - q > 24 ? malformed(ERR_BULK) : INCOMPLETE;
                }
                if (Ascii.get(in, lf - 1) != '\r') {
                    return malformed(ERR_LINE);
                }
                length = Ascii.parseLong(in, q + 1, lf - 1 - (q + 1));
            }
            if (length == Ascii.NOT_A_NUMBER || length < 0 || length > MAX_REQUEST) {
                return malformed(ERR_BULK);
            }
            long data = lf + 1;
            if (data + length + 2 > end) {
                return INCOMPLETE;
            }
            if (Ascii.get(in, data + length) != '\r' || Ascii.get(in, data + length + 1) != '\n') {
                return malformed(ERR_LINE);
            }
            argAt[i] = data;
            argLength[i] = (int) length;
            q = data + length + 2;
        }
        if (q - p > MAX_REQUEST) {
            return malformed(ERR_TOO_LARGE);
        }
        argc = (int) Math.max(0, n);
        return q;
    }

    // What digitsLine found.
    private long digitsValue;
    private long digitsEnd;

    /**
     * The common case in one pass: 1 to 9 decimal digits and CR LF, all before {@code end}.
     * Anything else (signs, more digits, other bytes, a line not yet complete) returns false
     * and is left to the general path, which also tells errors from incomplete input.
     *
     * @return whether it matched; then {@link #digitsValue} is the number and {@link #digitsEnd}
     *         the position of the CR
     */
    private boolean digitsLine(MemorySegment in, long from, long end) {
        long v = 0;
        long i = from;
        long limit = Math.min(end, from + 9);
        while (i < limit) {
            int d = in.get(ValueLayout.JAVA_BYTE, i) - '0';
            if (d < 0 || d > 9) {
                break;
            }
            v = v * 10 + d;
            i++;
        }
        if (i == from || i + 1 >= end || in.get(ValueLayout.JAVA_BYTE, i) != '\r'
                || in.get(ValueLayout.JAVA_BYTE, i + 1) != '\n') {
            return false;
        }
        digitsValue = v;
        digitsEnd = i;
        return true;
    }

    private long parseInline(long p, long end) {
        MemorySegment in = this.in;
        long lf = Ascii.indexOf(in, p, end, (byte) '\n');
        if (lf < 0) {
            return INCOMPLETE;
        }
        if (lf + 1 - p > MAX_REQUEST) {
            return malformed(ERR_TOO_LARGE);
        }
        long lineEnd = lf > p && Ascii.get(in, lf - 1) == '\r' ? lf - 1 : lf;
        long i = p;
        while (i < lineEnd) {
            byte b = Ascii.get(in, i);
            if (b == ' ' || b == '\t') {
                i++;
                continue;
            }
            long start = i;
            while (i < lineEnd && Ascii.get(in, i) != ' ' && Ascii.get(in, i) != '\t') {
                i++;
            }
            if (argc == MAX_ARGS) {
                argc = 0;
                return malformed(ERR_TOO_MANY);
            }
            argAt[argc] = start;
            argLength[argc] = (int) (i - start);
            argc++;
        }
        return lf + 1;
    }

    private long malformed(MemorySegment reply) {
        malformed = reply;
        argc = 0;
        return MALFORMED;
    }

    // ---- commands ----

    private boolean is(byte[] keyword) {
        return Ascii.equalsIgnoreCase(in, argAt[0], argLength[0], keyword);
    }

    /** Which command the first argument names: one comparison for most, chosen by its length. */
    private int command() {
        switch (argLength[0]) {
            case 3:
                return is(GET) ? CMD_GET : is(SET) ? CMD_SET : is(DEL) ? CMD_DEL : UNKNOWN;
            case 4:
                return is(PING) ? CMD_PING : is(INCR) ? CMD_INCR : is(ECHO) ? CMD_ECHO : is(QUIT) ? CMD_QUIT : UNKNOWN;
            case 6:
                return is(EXISTS) ? CMD_EXISTS : is(CONFIG) ? CMD_CONFIG : UNKNOWN;
            case 7:
                return is(COMMAND) ? CMD_COMMAND : UNKNOWN;
            default:
                return UNKNOWN;
        }
    }

    /** The most bytes the reply to the parsed request can take. */
    private int replyBound(int command) {
        int bound = 128 + Math.min(argLength[0], 64);
        if (command == CMD_GET) {
            bound += KeyValueStore.VALUE_MAX;
        } else if ((command == CMD_ECHO || command == CMD_PING) && argc >= 2) {
            bound += argLength[1];
        } else if (command == CMD_CONFIG && argc >= 2) {
            bound += argLength[argc - 1];
        }
        // At most 128 + 64 + MAX_REQUEST: always below the output buffer's size, so an empty output fits any reply.
        return bound;
    }

    /** Executes the parsed request, appending its reply. @return whether the connection is to close */
    private boolean execute(MemorySegment c, int command) {
        MemorySegment in = this.in;
        switch (command) {
            case CMD_GET -> {
                if (argc != 2) {
                    return arity();
                }
                int slot = store.find(in, argAt[1], argLength[1]);
                if (slot < 0) {
                    append(NIL);
                } else {
                    bulk(store.memory(), store.valueOffset(slot), store.valueLength(slot));
                }
            }
            case CMD_SET -> {
                if (argc < 3) {
                    return arity();
                }
                if (argc > 3) {
                    append(ERR_SYNTAX);
                } else if (argLength[1] > KeyValueStore.KEY_MAX) {
                    append(ERR_KEY_TOO_LONG);
                } else if (argLength[2] > KeyValueStore.VALUE_MAX) {
                    append(ERR_VALUE_TOO_LONG);
                } else {
                    int slot = store.findOrAdd(in, argAt[1], argLength[1]);
                    if (slot < 0) {
                        append(ERR_FULL);
                    } else {
                        store.setValue(slot, in, argAt[2], argLength[2]);
                        append(OK);
                    }
                }
            }
            case CMD_PING -> {
                if (argc > 2) {
                    return arity();
                }
                if (argc == 1) {
                    append(PONG);
                } else {
                    bulk(in, argAt[1], argLength[1]);
                }
            }
            case CMD_INCR -> {
                if (argc != 2) {
                    return arity();
                }
                incr();
            }
            case CMD_DEL, CMD_EXISTS -> {
                if (argc < 2) {
                    return arity();
                }
                boolean delete = command == CMD_DEL;
                long count = 0;
                for (int i = 1; i < argc; i++) {
                    if (delete ? store.delete(in, argAt[i], argLength[i]) : store.find(in, argAt[i], argLength[i]) >= 0) {
                        count++;
                    }
                }
                integer(count);
            }
            case CMD_ECHO -> {
                if (argc != 2) {
                    return arity();
                }
                bulk(in, argAt[1], argLength[1]);
            }
            case CMD_COMMAND -> append(EMPTY_ARRAY); // no command table: enough for redis-cli and redis-benchmark
            case CMD_CONFIG -> configGet();
            case CMD_QUIT -> {
                append(OK);
                return true;
            }
            default -> {
                append(ERR_UNKNOWN);
                name(argAt[0], argLength[0]);
                append(QUOTE_END);
            }
        }
        return false;
    }

    private void incr() {
        if (argLength[1] > KeyValueStore.KEY_MAX) {
            append(ERR_KEY_TOO_LONG);
            return;
        }
        int slot = store.find(in, argAt[1], argLength[1]);
        long value = 0;
        if (slot >= 0) {
            value = Ascii.parseLong(store.memory(), store.valueOffset(slot), store.valueLength(slot));
            if (value == Ascii.NOT_A_NUMBER) {
                append(ERR_NOT_INTEGER);
                return;
            }
            if (value == Long.MAX_VALUE) {
                append(ERR_OVERFLOW);
                return;
            }
        } else {
            slot = store.findOrAdd(in, argAt[1], argLength[1]);
            if (slot < 0) {
                append(ERR_FULL);
                return;
            }
        }
        value++;
        store.setDecimal(slot, value);
        integer(value);
    }

    /** CONFIG GET name: a stub that reports {@code appendonly no} and an empty value for anything else. */
    private void configGet() {
        if (argc != 3 || !Ascii.equalsIgnoreCase(in, argAt[1], argLength[1], GET)) {
            append(EMPTY_ARRAY);
            return;
        }
        appendByte('*');
        appendDecimal(2);
        append(CRLF);
        bulk(in, argAt[2], argLength[2]);
        if (Ascii.equalsIgnoreCase(in, argAt[2], argLength[2], APPENDONLY)) {
            bulk(NO, 0, NO.byteSize());
        } else {
            bulk(NO, 0, 0);
        }
    }

    private boolean arity() {
        append(ERR_ARITY);
        name(argAt[0], argLength[0]);
        append(ERR_ARITY_END);
        return false;
    }

    /** The command's name, lower case, at most 64 bytes, control bytes shown as '?'. */
    private void name(long at, int length) {
        int n = Math.min(length, 64);
        for (int i = 0; i < n; i++) {
            byte b = in.get(ValueLayout.JAVA_BYTE, at + i);
            appendByte(b >= 'A' && b <= 'Z' ? b + 32 : (b < 0x20 || b == 0x7F || b == '\'') ? '?' : b);
        }
    }

    private void bulk(MemorySegment src, long at, long length) {
        appendByte('$');
        appendDecimal(length);
        append(CRLF);
        append(src, at, length);
        append(CRLF);
    }

    private void integer(long v) {
        appendByte(':');
        appendDecimal(v);
        append(CRLF);
    }

    @Override
    public void announce(java.io.PrintStream out) {
        super.announce(out);
        out.println(name() + ": limits: request " + MAX_REQUEST + " bytes, " + MAX_ARGS + " arguments, key "
                + KeyValueStore.KEY_MAX + " bytes, value " + KeyValueStore.VALUE_MAX + " bytes, " + maxKeys + " keys");
    }

    public static void main(String[] args) {
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] resp-server"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default: the fd limit minus 64)] [--max-keys N (default " + DEFAULT_MAX_KEYS + ")]"
                        + " [--idle-timeout SECONDS (default 0 = off)]",
                a -> new RespServer(Settings.from(a, DEFAULT_PORT), a.integer("max-keys", DEFAULT_MAX_KEYS, 1, 1 << 24)));
    }
}
