package org.ioatom.samples;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.ioatom.IoException;
import org.ioatom.Poller;
import org.ioatom.Timers;
import org.ioatom.samples.server.Ascii;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;

/**
 * A small Redis-protocol (RESP2) server: inline and multibulk requests, pipelining, and the
 * commands a redis user and the usual client libraries reach for first, with redis 7's replies
 * and error texts: GET, SET (NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL), MGET, MSET, DEL, EXISTS,
 * INCR, INCRBY, DECR, DECRBY, EXPIRE, PEXPIRE (NX, XX, GT, LT), TTL, PTTL, PERSIST, DBSIZE,
 * FLUSHALL, FLUSHDB, SELECT 0, PING, ECHO, QUIT, HELLO (protocol 2; 3 gets {@code -NOPROTO}),
 * CLIENT SETNAME/SETINFO/ID, COMMAND (COUNT, DOCS, INFO), INFO and CONFIG GET (a few
 * read-only parameters).
 *
 * <p>Keys and values live in a {@link KeyValueStore} in native memory, expiring keys on the
 * poller's timers; requests are parsed where they arrived, in the loop's shared read buffer, and
 * replies are written into the shared output buffer, so serving a request allocates nothing.
 *
 * <p>Limits: a request (command with all its arguments, as sent) of at most {@value #MAX_REQUEST}
 * bytes, at most {@value #MAX_ARGS} arguments, keys of {@value KeyValueStore#KEY_MAX} bytes and
 * values of {@value KeyValueStore#VALUE_MAX} bytes at most, {@code --max-keys} keys (default
 * {@value #DEFAULT_MAX_KEYS}), a reply of at most 64 KiB (a larger MGET gets an error). A
 * malformed request, an absurd length ({@code *} or {@code $} beyond these limits) or a request
 * larger than the limit gets {@code -ERR Protocol error: ...} and its connection is closed; a bad
 * command (unknown, wrong arity, bad option, too long a key) gets an {@code -ERR} reply and the
 * connection goes on. Inline requests are split on spaces and tabs (no quoting).
 */
public final class RespServer extends SampleServer {
    static final int DEFAULT_PORT = 6380;
    static final int MAX_REQUEST = 16 * 1024;
    static final int MAX_ARGS = 1024;
    static final int DEFAULT_MAX_KEYS = 40_000;
    /** The most keys --max-keys takes (each key may hold a timer, and the poller's timer table has a bound too). */
    static final int MAX_KEYS_LIMIT = 1 << 23;
    /** The version this server reports: the redis whose replies it follows. */
    static final String REDIS_VERSION = "7.2.0";

    // ---- the command table ----

    private static final int UNKNOWN = -1;
    private static final int CMD_GET = 0;
    private static final int CMD_SET = 1;
    private static final int CMD_MGET = 2;
    private static final int CMD_MSET = 3;
    private static final int CMD_DEL = 4;
    private static final int CMD_EXISTS = 5;
    private static final int CMD_INCR = 6;
    private static final int CMD_INCRBY = 7;
    private static final int CMD_DECR = 8;
    private static final int CMD_DECRBY = 9;
    private static final int CMD_EXPIRE = 10;
    private static final int CMD_PEXPIRE = 11;
    private static final int CMD_TTL = 12;
    private static final int CMD_PTTL = 13;
    private static final int CMD_PERSIST = 14;
    private static final int CMD_DBSIZE = 15;
    private static final int CMD_FLUSHALL = 16;
    private static final int CMD_FLUSHDB = 17;
    private static final int CMD_PING = 18;
    private static final int CMD_ECHO = 19;
    private static final int CMD_QUIT = 20;
    private static final int CMD_HELLO = 21;
    private static final int CMD_CLIENT = 22;
    private static final int CMD_COMMAND = 23;
    private static final int CMD_INFO = 24;
    private static final int CMD_CONFIG = 25;
    private static final int CMD_SELECT = 26;
    private static final int CMD_MULTI = 27;
    private static final int CMD_EXEC = 28;
    private static final int CMD_DISCARD = 29;

    /** name, arity (redis's: negative = at least), flags, first key, last key, key step, ACL categories, group, summary. */
    private static final String[][] TABLE = {
            {"get", "2", "readonly fast", "1", "1", "1", "@read @string @fast", "string", "Returns the string value of a key."},
            {"set", "-3", "write denyoom", "1", "1", "1", "@write @string @slow", "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist."},
            {"mget", "-2", "readonly fast", "1", "-1", "1", "@read @string @fast", "string", "Atomically returns the string values of one or more keys."},
            {"mset", "-3", "write denyoom", "1", "-1", "2", "@write @string @slow", "string", "Atomically creates or modifies the string values of one or more keys."},
            {"del", "-2", "write", "1", "-1", "1", "@keyspace @write @slow", "generic", "Deletes one or more keys."},
            {"exists", "-2", "readonly fast", "1", "-1", "1", "@keyspace @read @fast", "generic", "Determines whether one or more keys exist."},
            {"incr", "2", "write denyoom fast", "1", "1", "1", "@write @string @fast", "string", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."},
            {"incrby", "3", "write denyoom fast", "1", "1", "1", "@write @string @fast", "string", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist."},
            {"decr", "2", "write denyoom fast", "1", "1", "1", "@write @string @fast", "string", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist."},
            {"decrby", "3", "write denyoom fast", "1", "1", "1", "@write @string @fast", "string", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist."},
            {"expire", "-3", "write fast", "1", "1", "1", "@keyspace @write @fast", "generic", "Sets the expiration time of a key in seconds."},
            {"pexpire", "-3", "write fast", "1", "1", "1", "@keyspace @write @fast", "generic", "Sets the expiration time of a key in milliseconds."},
            {"ttl", "2", "readonly fast", "1", "1", "1", "@keyspace @read @fast", "generic", "Returns the expiration time in seconds of a key."},
            {"pttl", "2", "readonly fast", "1", "1", "1", "@keyspace @read @fast", "generic", "Returns the expiration time in milliseconds of a key."},
            {"persist", "2", "write fast", "1", "1", "1", "@keyspace @write @fast", "generic", "Removes the expiration time of a key."},
            {"dbsize", "1", "readonly fast", "0", "0", "0", "@keyspace @read @fast", "server", "Returns the number of keys in the database."},
            {"flushall", "-1", "write", "0", "0", "0", "@keyspace @write @slow @dangerous", "server", "Removes all keys from all databases."},
            {"flushdb", "-1", "write", "0", "0", "0", "@keyspace @write @slow @dangerous", "server", "Remove all keys from the current database."},
            {"ping", "-1", "fast", "0", "0", "0", "@fast @connection", "connection", "Returns the server's liveliness response."},
            {"echo", "2", "fast", "0", "0", "0", "@fast @connection", "connection", "Returns the given string."},
            {"quit", "-1", "noscript loading stale fast no_auth allow_busy", "0", "0", "0", "@fast @connection", "connection", "Closes the connection."},
            {"hello", "-1", "noscript loading stale fast no_auth allow_busy", "0", "0", "0", "@fast @connection", "connection", "Handshakes with the Redis server."},
            {"client", "-2", "", "0", "0", "0", "@slow", "connection", "A container for client connection commands."},
            {"command", "-1", "loading stale", "0", "0", "0", "@slow @connection", "server", "Returns detailed information about all commands."},
            {"info", "-1", "loading stale", "0", "0", "0", "@slow @dangerous", "server", "Returns information and statistics about the server."},
            {"config", "-2", "", "0", "0", "0", "@slow", "server", "A container for server configuration commands."},
            {"select", "2", "loading stale fast", "0", "0", "0", "@keyspace @fast", "connection", "Changes the selected database."},
            {"multi", "1", "noscript loading stale fast allow_busy", "0", "0", "0", "@fast @transaction", "transactions", "Starts a transaction."},
            {"exec", "1", "noscript loading stale skip_slowlog", "0", "0", "0", "@slow @transaction", "transactions", "Executes all commands in a transaction."},
            {"discard", "1", "noscript loading stale fast allow_busy", "0", "0", "0", "@fast @transaction", "transactions", "Discards a transaction."},
    };
    private static final int COMMANDS = TABLE.length;
    private static final byte[][] KEYWORDS = new byte[COMMANDS][];
    private static final int[] ARITY = new int[COMMANDS];
    private static final MemorySegment[] NAMES = new MemorySegment[COMMANDS];
    /** Each command's COMMAND INFO entry, and its COMMAND DOCS pair. */
    private static final MemorySegment[] INFO_ENTRY = new MemorySegment[COMMANDS];
    private static final MemorySegment[] DOCS_ENTRY = new MemorySegment[COMMANDS];
    private static final MemorySegment ALL_INFO;
    private static final MemorySegment ALL_DOCS;

    static {
        StringBuilder all = new StringBuilder("*" + COMMANDS + "\r\n");
        StringBuilder docs = new StringBuilder("*" + 2 * COMMANDS + "\r\n");
        for (int i = 0; i < COMMANDS; i++) {
            String[] t = TABLE[i];
            KEYWORDS[i] = Ascii.keyword(t[0]);
            ARITY[i] = Integer.parseInt(t[1]);
            NAMES[i] = Ascii.constant(t[0]);
            StringBuilder e = new StringBuilder("*10\r\n").append(bulkText(t[0])).append(':').append(t[1]).append("\r\n");
            String[] flags = t[2].isEmpty() ? new String[0] : t[2].split(" ");
            e.append('*').append(flags.length).append("\r\n");
            for (String f : flags) {
                e.append('+').append(f).append("\r\n");
            }
            e.append(':').append(t[3]).append("\r\n:").append(t[4]).append("\r\n:").append(t[5]).append("\r\n");
            String[] categories = t[6].split(" ");
            e.append('*').append(categories.length).append("\r\n");
            for (String c : categories) {
                e.append('+').append(c).append("\r\n");
            }
            e.append("*0\r\n*0\r\n*0\r\n"); // tips, key specifications, subcommands
            INFO_ENTRY[i] = Ascii.constant(e.toString());
            all.append(e);
            String doc = bulkText(t[0]) + "*6\r\n" + bulkText("summary") + bulkText(t[8]) + bulkText("since")
                    + bulkText("1.0.0") + bulkText("group") + bulkText(t[7]);
            DOCS_ENTRY[i] = Ascii.constant(doc);
            docs.append(doc);
        }
        ALL_INFO = Ascii.constant(all.toString());
        ALL_DOCS = Ascii.constant(docs.toString());
    }

    private static String bulkText(String s) {
        return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
    }

    // ---- keywords of options and subcommands ----

    private static final byte[] NX = Ascii.keyword("nx");
    private static final byte[] XX = Ascii.keyword("xx");
    private static final byte[] GT = Ascii.keyword("gt");
    private static final byte[] LT = Ascii.keyword("lt");
    private static final byte[] GET = Ascii.keyword("get");
    private static final byte[] EX = Ascii.keyword("ex");
    private static final byte[] PX = Ascii.keyword("px");
    private static final byte[] EXAT = Ascii.keyword("exat");
    private static final byte[] PXAT = Ascii.keyword("pxat");
    private static final byte[] KEEPTTL = Ascii.keyword("keepttl");
    private static final byte[] ASYNC = Ascii.keyword("async");
    private static final byte[] SYNC = Ascii.keyword("sync");
    private static final byte[] AUTH = Ascii.keyword("auth");
    private static final byte[] SETNAME = Ascii.keyword("setname");
    private static final byte[] SETINFO = Ascii.keyword("setinfo");
    private static final byte[] ID = Ascii.keyword("id");
    private static final byte[] LIB_NAME = Ascii.keyword("lib-name");
    private static final byte[] LIB_VER = Ascii.keyword("lib-ver");
    private static final byte[] DEFAULT = Ascii.keyword("default");
    private static final byte[] COUNT = Ascii.keyword("count");
    private static final byte[] DOCS = Ascii.keyword("docs");
    private static final byte[] INFO = Ascii.keyword("info");
    private static final byte[] ALL = Ascii.keyword("all");
    private static final byte[] EVERYTHING = Ascii.keyword("everything");
    private static final byte[] DEFAULT_SECTION = Ascii.keyword("default");
    /** CONFIG GET parameters answered, and their values. */
    private static final byte[][] CONFIG_NAMES = {Ascii.keyword("save"), Ascii.keyword("appendonly"), Ascii.keyword("databases")};
    private static final MemorySegment[] CONFIG_REPLIES = {
            Ascii.constant(bulkText("save") + bulkText("")), Ascii.constant(bulkText("appendonly") + bulkText("no")),
            Ascii.constant(bulkText("databases") + bulkText("1"))};

    // ---- replies ----

    private static final MemorySegment PONG = Ascii.constant("+PONG\r\n");
    private static final MemorySegment OK = Ascii.constant("+OK\r\n");
    private static final MemorySegment NIL = Ascii.constant("$-1\r\n");
    private static final MemorySegment NIL_ARRAY = Ascii.constant("*-1\r\n");
    private static final MemorySegment EMPTY_ARRAY = Ascii.constant("*0\r\n");
    private static final MemorySegment CRLF = Ascii.constant("\r\n");
    private static final MemorySegment ZERO = Ascii.constant(":0\r\n");
    private static final MemorySegment ONE = Ascii.constant(":1\r\n");
    private static final MemorySegment HELLO_START = Ascii.constant("*14\r\n" + bulkText("server") + bulkText("redis")
            + bulkText("version") + bulkText(REDIS_VERSION) + bulkText("proto") + ":2\r\n" + bulkText("id") + ":");
    private static final MemorySegment HELLO_END = Ascii.constant("\r\n" + bulkText("mode") + bulkText("standalone")
            + bulkText("role") + bulkText("master") + bulkText("modules") + "*0\r\n");
    private static final MemorySegment ERR_UNKNOWN = Ascii.constant("-ERR unknown command '");
    private static final MemorySegment ERR_UNKNOWN_ARGS = Ascii.constant("', with args beginning with: ");
    private static final MemorySegment ERR_SUBCOMMAND = Ascii.constant("-ERR unknown subcommand '");
    private static final MemorySegment ERR_SUBCOMMAND_END = Ascii.constant("'. Try ");
    private static final MemorySegment HELP_END = Ascii.constant(" HELP.\r\n");
    private static final MemorySegment ERR_ARITY = Ascii.constant("-ERR wrong number of arguments for '");
    private static final MemorySegment ERR_ARITY_END = Ascii.constant("' command\r\n");
    private static final MemorySegment ERR_EXPIRE = Ascii.constant("-ERR invalid expire time in '");
    private static final MemorySegment ERR_SYNTAX = Ascii.constant("-ERR syntax error\r\n");
    private static final MemorySegment ERR_NOT_INTEGER = Ascii.constant("-ERR value is not an integer or out of range\r\n");
    private static final MemorySegment ERR_OVERFLOW = Ascii.constant("-ERR increment or decrement would overflow\r\n");
    private static final MemorySegment ERR_DECREMENT = Ascii.constant("-ERR decrement would overflow\r\n");
    private static final MemorySegment ERR_UNSUPPORTED_OPTION = Ascii.constant("-ERR Unsupported option ");
    private static final MemorySegment ERR_NX_AND = Ascii.constant("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
    private static final MemorySegment ERR_GT_AND_LT = Ascii.constant("-ERR GT and LT options at the same time are not compatible\r\n");
    private static final MemorySegment ERR_NOPROTO = Ascii.constant("-NOPROTO unsupported protocol version\r\n");
    private static final MemorySegment ERR_PROTOVER = Ascii.constant("-ERR Protocol version is not an integer or out of range\r\n");
    private static final MemorySegment ERR_HELLO_OPTION = Ascii.constant("-ERR Syntax error in HELLO option '");
    private static final MemorySegment ERR_WRONGPASS = Ascii.constant("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    private static final MemorySegment ERR_CLIENT_NAME = Ascii.constant("-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    private static final MemorySegment ERR_UNRECOGNIZED = Ascii.constant("-ERR Unrecognized option '");
    private static final MemorySegment ERR_LIB_CHARS = Ascii.constant(" cannot contain spaces, newlines or special characters.\r\n");
    private static final MemorySegment ERR_DB_INDEX = Ascii.constant("-ERR invalid DB index\r\n");
    private static final MemorySegment ERR_DB_RANGE = Ascii.constant("-ERR DB index is out of range\r\n");
    private static final MemorySegment QUEUED = Ascii.constant("+QUEUED\r\n");
    private static final MemorySegment ERR_NESTED = Ascii.constant("-ERR MULTI calls can not be nested\r\n");
    private static final MemorySegment ERR_EXEC_WITHOUT = Ascii.constant("-ERR EXEC without MULTI\r\n");
    private static final MemorySegment ERR_DISCARD_WITHOUT = Ascii.constant("-ERR DISCARD without MULTI\r\n");
    private static final MemorySegment ERR_EXECABORT =
            Ascii.constant("-EXECABORT Transaction discarded because of previous errors.\r\n");
    private static final MemorySegment ERR_TX_TOO_LARGE = Ascii.constant("-ERR transaction too large (limit "
            + MAX_REQUEST + " bytes of commands, " + CHUNK / 1024 + " KiB of replies)\r\n");
    private static final MemorySegment QUOTE_END = Ascii.constant("'\r\n");
    private static final MemorySegment ERR_KEY_TOO_LONG =
            Ascii.constant("-ERR key too long (limit " + KeyValueStore.KEY_MAX + " bytes)\r\n");
    private static final MemorySegment ERR_VALUE_TOO_LONG =
            Ascii.constant("-ERR value too long (limit " + KeyValueStore.VALUE_MAX + " bytes)\r\n");
    private static final MemorySegment ERR_FULL = Ascii.constant("-ERR store full\r\n");
    private static final MemorySegment ERR_REPLY_TOO_LARGE =
            Ascii.constant("-ERR reply too large (limit " + CHUNK + " bytes)\r\n");
    private static final MemorySegment ERR_MULTIBULK = Ascii.constant("-ERR Protocol error: invalid multibulk length\r\n");
    private static final MemorySegment ERR_BULK = Ascii.constant("-ERR Protocol error: invalid bulk length\r\n");
    private static final MemorySegment ERR_DOLLAR = Ascii.constant("-ERR Protocol error: expected '$'\r\n");
    private static final MemorySegment ERR_LINE = Ascii.constant("-ERR Protocol error: expected CR LF\r\n");
    private static final MemorySegment ERR_TOO_MANY =
            Ascii.constant("-ERR Protocol error: too many arguments (limit " + MAX_ARGS + ")\r\n");
    private static final MemorySegment ERR_TOO_LARGE =
            Ascii.constant("-ERR Protocol error: request too large (limit " + MAX_REQUEST + " bytes)\r\n");
    private static final MemorySegment CLIENT_UPPER = Ascii.constant("CLIENT");
    private static final MemorySegment COMMAND_UPPER = Ascii.constant("COMMAND");
    private static final MemorySegment CONFIG_UPPER = Ascii.constant("CONFIG");
    private static final MemorySegment SET_NAME = Ascii.constant("set");
    private static final MemorySegment EXPIRE_NAME = Ascii.constant("expire");
    private static final MemorySegment PEXPIRE_NAME = Ascii.constant("pexpire");
    private static final MemorySegment CLIENT_SETNAME = Ascii.constant("client|setname");
    private static final MemorySegment CLIENT_SETINFO = Ascii.constant("client|setinfo");
    private static final MemorySegment CLIENT_ID = Ascii.constant("client|id");
    private static final MemorySegment COMMAND_COUNT = Ascii.constant("command|count");
    private static final MemorySegment CONFIG_GET = Ascii.constant("config|get");

    // INFO: section names (upper case for matching) and the fixed parts of their text.
    private static final byte[][] SECTIONS = {Ascii.keyword("server"), Ascii.keyword("clients"), Ascii.keyword("memory"),
            Ascii.keyword("persistence"), Ascii.keyword("stats"), Ascii.keyword("replication"), Ascii.keyword("keyspace")};
    private static final MemorySegment INFO_SERVER = Ascii.constant("# Server\r\nredis_version:" + REDIS_VERSION
            + "\r\nredis_mode:standalone\r\nos:" + System.getProperty("os.name") + " " + System.getProperty("os.version")
            + " " + System.getProperty("os.arch") + "\r\narch_bits:64\r\nmultiplexing_api:");
    private static final MemorySegment INFO_PROCESS_ID = Ascii.constant("\r\nprocess_id:" + ProcessHandle.current().pid()
            + "\r\ntcp_port:");
    private static final MemorySegment INFO_UPTIME = Ascii.constant("\r\nuptime_in_seconds:");
    private static final MemorySegment INFO_UPTIME_DAYS = Ascii.constant("\r\nuptime_in_days:");
    private static final MemorySegment INFO_CLIENTS = Ascii.constant("# Clients\r\nconnected_clients:");
    private static final MemorySegment INFO_MEMORY = Ascii.constant("# Memory\r\nused_memory:");
    private static final MemorySegment INFO_MEMORY_END = Ascii.constant("\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n");
    private static final MemorySegment INFO_PERSISTENCE = Ascii.constant(
            "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:0\r\nrdb_bgsave_in_progress:0\r\naof_enabled:0\r\n");
    private static final MemorySegment INFO_STATS = Ascii.constant("# Stats\r\ntotal_connections_received:");
    private static final MemorySegment INFO_COMMANDS = Ascii.constant("\r\ntotal_commands_processed:");
    private static final MemorySegment INFO_EXPIRED = Ascii.constant("\r\nexpired_keys:");
    private static final MemorySegment INFO_REPLICATION = Ascii.constant("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n");
    private static final MemorySegment INFO_KEYSPACE = Ascii.constant("# Keyspace\r\n");
    private static final MemorySegment INFO_DB0 = Ascii.constant("db0:keys=");
    private static final MemorySegment INFO_EXPIRES = Ascii.constant(",expires=");
    private static final MemorySegment INFO_AVG_TTL = Ascii.constant(",avg_ttl=0\r\n");
    /** Room for the INFO text: its fixed parts and a few numbers. */
    private static final int INFO_MAX = 2048;

    /** parse() results besides a position. */
    private static final long INCOMPLETE = -1;
    private static final long MALFORMED = -2;
    /** Where a connection's client id is, in its protocol state. */
    private static final long CLIENT_ID_STATE = PROTOCOL_STATE;
    /** Where its transaction buffer (index + 1; 0: not in MULTI) is, in its protocol state. */
    private static final long TX_STATE = PROTOCOL_STATE + 8;
    // A transaction buffer: a header, then the queued requests as they arrived.
    private static final long TX_USED = 0;        // bytes of queued requests
    private static final long TX_COUNT = 4;       // how many
    private static final long TX_BOUND = 8;       // the sum of their reply bounds
    private static final long TX_DIRTY = 12;      // 1: a queued command was refused, EXEC aborts
    private static final long TX_DATA = 16;
    private static final int TX_BYTES = (int) TX_DATA + MAX_REQUEST;
    /** The most reply bytes a transaction may need: EXEC's whole reply must fit the output buffer. */
    private static final int TX_MAX_BOUND = CHUNK - 64;

    private final int maxKeys;
    /** The store the loops of one server share (with {@code --loops N}); each loop's RespServer holds the same one. */
    private final SharedStore shared;
    private KeyValueStore store;
    /** With several loops: the store, whose monitor every loop holds while it runs commands; null with one loop. */
    private Object storeLock;
    private Arena arena;
    /** Transaction buffers, made on first use and recycled: a connection holds one between MULTI and EXEC. */
    private MemorySegment[] txBuffers = new MemorySegment[4];
    private int txCount;
    private int[] txFree = new int[4];
    private int txFreeTop;
    /** The request being executed: where it starts and ends in {@link #in}. */
    private long requestStart;
    private long requestEnd;
    private MemorySegment info;
    private MemorySegment multiplexingApi;
    private long startNanos;
    private long nextClientId;
    private long commandsProcessed;
    // The request being handled: its input segment and its arguments (offsets in it).
    private MemorySegment in;
    private final long[] argAt = new long[MAX_ARGS];
    private final int[] argLength = new int[MAX_ARGS];
    private int argc;
    private MemorySegment malformed;
    /** What parseInteger() found. */
    private long parsed;

    /**
     * One keyspace for all loops of a server: made by the loop that opens first (its poller keeps
     * the keys' timers), in memory of its own that the last loop to close frees.
     */
    static final class SharedStore {
        private KeyValueStore store;
        private Arena arena;
        private int users;

        synchronized KeyValueStore join(int maxKeys, Timers timers, Poller poller) {
            if (store == null) {
                arena = Arena.ofShared();
                store = new KeyValueStore(arena, maxKeys, timers);
                store.shareBetweenLoops(poller);
            }
            users++;
            return store;
        }

        synchronized void leave() {
            if (--users == 0) {
                store = null;
                arena.close();
                arena = null;
            }
        }
    }

    RespServer(Settings settings, int maxKeys) {
        this(settings, maxKeys, new SharedStore());
    }

    /**
     * @param shared the store to share with the server's other loops (one per server, given to every loop's instance)
     */
    RespServer(Settings settings, int maxKeys, SharedStore shared) {
        super("resp-server", settings, MAX_REQUEST);
        if (maxKeys < 1 || maxKeys > MAX_KEYS_LIMIT) {
            throw new IllegalArgumentException("maxKeys must be 1 to " + MAX_KEYS_LIMIT + ", got " + maxKeys);
        }
        this.maxKeys = maxKeys;
        this.shared = shared;
    }

    @Override
    protected int protocolTimers() {
        return maxKeys; // one per key with an expiry
    }

    @Override
    protected void opened(Arena arena) {
        if (loops() > 1) {
            store = shared.join(maxKeys, timers(), loopPoller());
            storeLock = store;
        } else {
            store = new KeyValueStore(arena, maxKeys, timers());
        }
        this.arena = arena;
        info = arena.allocate(INFO_MAX);
        startNanos = System.nanoTime();
    }

    @Override
    protected void listening(int fd) {
        multiplexingApi = Ascii.constant(pollerName());
    }

    @Override
    protected void closed() {
        if (storeLock != null) {
            shared.leave();
            storeLock = null;
        }
        store = null;
        arena = null;
    }

    @Override
    protected void connectionClosing(MemorySegment c) {
        endTransaction(c);
    }

    @Override
    protected void connectionOpened(MemorySegment c, int fd) {
        c.set(ValueLayout.JAVA_LONG, CLIENT_ID_STATE, ++nextClientId);
    }

    /** @return how many keys the store holds now (for tests, on the loop thread or after stop) */
    int keyCount() {
        return store == null ? 0 : store.size();
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
        Object lock = storeLock;
        if (lock != null) {
            synchronized (lock) { // several loops share the store
                return processRequests(c, in, start, end);
            }
        }
        return processRequests(c, in, start, end);
    }

    private int processRequests(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
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
                if (!reserve(c, command == CMD_EXEC ? execBound(c) : replyBound(command))) {
                    break; // the socket is full: the rest waits until it drained
                }
                requestStart = p;
                requestEnd = next;
                p = next;
                commandsProcessed++;
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

    private boolean arg(int i, byte[] keyword) {
        return Ascii.equalsIgnoreCase(in, argAt[i], argLength[i], keyword);
    }

    /** Which command the first argument names. */
    private int command() {
        return lookup(0);
    }

    /** The most bytes the reply to the parsed request can take (at most {@link #CHUNK}). */
    private int replyBound(int command) {
        int bound = 512;
        switch (command) {
            case CMD_GET, CMD_SET -> bound += KeyValueStore.VALUE_MAX;
            case CMD_ECHO, CMD_PING -> bound += argc >= 2 ? argLength[1] : 0;
            case CMD_COMMAND -> bound += (int) Math.max(ALL_INFO.byteSize(), ALL_DOCS.byteSize());
            case CMD_INFO -> bound += INFO_MAX + 16;
            case CMD_CONFIG -> bound += 32 * argc;
            case CMD_MGET -> bound += (argc - 1) * (KeyValueStore.VALUE_MAX + 16);
            default -> { }
        }
        // The largest are far below the output buffer (MGET, the exception, answers what fits).
        return Math.min(bound, CHUNK);
    }

    /** Executes the parsed request, appending its reply. @return whether the connection is to close */
    private boolean execute(MemorySegment c, int command) {
        boolean queue = c.get(ValueLayout.JAVA_INT, TX_STATE) != 0
                && command != CMD_EXEC && command != CMD_DISCARD && command != CMD_MULTI && command != CMD_QUIT;
        if (command == UNKNOWN) {
            unknownCommand();
            if (queue) {
                txBuffer(c).set(ValueLayout.JAVA_INT, TX_DIRTY, 1);
            }
            return false;
        }
        int arity = ARITY[command];
        if ((arity > 0 && argc != arity) || argc < -arity) {
            if (queue) {
                txBuffer(c).set(ValueLayout.JAVA_INT, TX_DIRTY, 1);
            }
            return arity(NAMES[command]);
        }
        if (queue) {
            enqueue(c, command);
            return false;
        }
        switch (command) {
            case CMD_GET -> {
                int slot = store.find(in, argAt[1], argLength[1]);
                if (slot < 0) {
                    append(NIL);
                } else {
                    bulk(store.memory(), store.valueOffset(slot), store.valueLength(slot));
                }
            }
            case CMD_SET -> set();
            case CMD_MGET -> mget();
            case CMD_MSET -> mset();
            case CMD_DEL, CMD_EXISTS -> {
                boolean delete = command == CMD_DEL;
                long count = 0;
                for (int i = 1; i < argc; i++) {
                    if (delete ? store.delete(in, argAt[i], argLength[i]) : store.find(in, argAt[i], argLength[i]) >= 0) {
                        count++;
                    }
                }
                integer(count);
            }
            case CMD_INCR -> incrBy(1);
            case CMD_DECR -> incrBy(-1);
            case CMD_INCRBY, CMD_DECRBY -> {
                if (!parseInteger(2)) {
                    append(ERR_NOT_INTEGER);
                } else if (command == CMD_DECRBY && parsed == Long.MIN_VALUE) {
                    append(ERR_DECREMENT);
                } else {
                    incrBy(command == CMD_DECRBY ? -parsed : parsed);
                }
            }
            case CMD_EXPIRE -> expire(EXPIRE_NAME, 1000);
            case CMD_PEXPIRE -> expire(PEXPIRE_NAME, 1);
            case CMD_TTL, CMD_PTTL -> {
                int slot = store.find(in, argAt[1], argLength[1]);
                if (slot < 0) {
                    integer(-2);
                } else if (store.expireAt(slot) == 0) {
                    integer(-1);
                } else {
                    long ms = remainingMillis(store.expireAt(slot));
                    integer(command == CMD_PTTL ? ms : (ms + 500) / 1000);
                }
            }
            case CMD_PERSIST -> {
                int slot = store.find(in, argAt[1], argLength[1]);
                append(slot >= 0 && store.persist(slot) ? ONE : ZERO);
            }
            case CMD_DBSIZE -> integer(store.size());
            case CMD_FLUSHALL, CMD_FLUSHDB -> {
                if (argc > 2 || (argc == 2 && !arg(1, ASYNC) && !arg(1, SYNC))) {
                    append(ERR_SYNTAX);
                } else {
                    store.clear();
                    append(OK);
                }
            }
            case CMD_PING -> {
                if (argc > 2) {
                    return arity(NAMES[command]);
                }
                if (argc == 1) {
                    append(PONG);
                } else {
                    bulk(in, argAt[1], argLength[1]);
                }
            }
            case CMD_ECHO -> bulk(in, argAt[1], argLength[1]);
            case CMD_QUIT -> {
                append(OK);
                return true;
            }
            case CMD_HELLO -> hello(c);
            case CMD_CLIENT -> client(c);
            case CMD_COMMAND -> commandCommand();
            case CMD_INFO -> info();
            case CMD_CONFIG -> config();
            case CMD_SELECT -> {
                if (!parseInteger(1) || parsed < Integer.MIN_VALUE || parsed > Integer.MAX_VALUE) {
                    append(ERR_DB_INDEX);
                } else {
                    append(parsed == 0 ? OK : ERR_DB_RANGE);
                }
            }
            case CMD_MULTI -> {
                if (c.get(ValueLayout.JAVA_INT, TX_STATE) != 0) {
                    append(ERR_NESTED);
                } else {
                    beginTransaction(c);
                    append(OK);
                }
            }
            case CMD_EXEC -> exec(c);
            case CMD_DISCARD -> {
                if (c.get(ValueLayout.JAVA_INT, TX_STATE) == 0) {
                    append(ERR_DISCARD_WITHOUT);
                } else {
                    endTransaction(c);
                    append(OK);
                }
            }
            default -> throw new IllegalStateException("command " + command + " has no case");
        }
        return false;
    }

    // ---- transactions ----

    private MemorySegment txBuffer(MemorySegment c) {
        return txBuffers[c.get(ValueLayout.JAVA_INT, TX_STATE) - 1];
    }

    private void beginTransaction(MemorySegment c) {
        int id;
        if (txFreeTop > 0) {
            id = txFree[--txFreeTop];
        } else {
            id = txCount++;
            if (id == txBuffers.length) { // grows while warming up; reused after that
                txBuffers = java.util.Arrays.copyOf(txBuffers, 2 * id);
                txFree = java.util.Arrays.copyOf(txFree, 2 * id);
            }
            txBuffers[id] = arena.allocate(TX_BYTES, 8);
        }
        txBuffers[id].asSlice(0, TX_DATA).fill((byte) 0);
        c.set(ValueLayout.JAVA_INT, TX_STATE, id + 1);
    }

    /** Leaves the transaction, if any, and recycles its buffer. */
    private void endTransaction(MemorySegment c) {
        int tx = c.get(ValueLayout.JAVA_INT, TX_STATE);
        if (tx != 0) {
            txFree[txFreeTop++] = tx - 1;
            c.set(ValueLayout.JAVA_INT, TX_STATE, 0);
        }
    }

    /** Queues the request between MULTI and EXEC, as it arrived, with its reply bound. */
    private void enqueue(MemorySegment c, int command) {
        MemorySegment tx = txBuffer(c);
        int used = tx.get(ValueLayout.JAVA_INT, TX_USED);
        int bound = tx.get(ValueLayout.JAVA_INT, TX_BOUND) + replyBound(command);
        int length = (int) (requestEnd - requestStart);
        if (used + length > MAX_REQUEST || bound > TX_MAX_BOUND) {
            tx.set(ValueLayout.JAVA_INT, TX_DIRTY, 1);
            append(ERR_TX_TOO_LARGE);
            return;
        }
        MemorySegment.copy(in, requestStart, tx, TX_DATA + used, length);
        tx.set(ValueLayout.JAVA_INT, TX_USED, used + length);
        tx.set(ValueLayout.JAVA_INT, TX_COUNT, tx.get(ValueLayout.JAVA_INT, TX_COUNT) + 1);
        tx.set(ValueLayout.JAVA_INT, TX_BOUND, bound);
        append(QUEUED);
    }

    /** The room EXEC's reply needs: its queued commands' bounds. */
    private int execBound(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, TX_STATE) == 0 ? 256 : 64 + txBuffer(c).get(ValueLayout.JAVA_INT, TX_BOUND);
    }

    /** Runs the queued commands one after the other (nothing else runs meanwhile) and answers with their replies. */
    private void exec(MemorySegment c) {
        if (c.get(ValueLayout.JAVA_INT, TX_STATE) == 0) {
            append(ERR_EXEC_WITHOUT);
            return;
        }
        MemorySegment tx = txBuffer(c);
        if (tx.get(ValueLayout.JAVA_INT, TX_DIRTY) != 0) {
            endTransaction(c);
            append(ERR_EXECABORT);
            return;
        }
        endTransaction(c); // the buffer is read below, before anything can take it again
        int count = tx.get(ValueLayout.JAVA_INT, TX_COUNT);
        long end = TX_DATA + tx.get(ValueLayout.JAVA_INT, TX_USED);
        header('*', count);
        MemorySegment outer = in;
        in = tx;
        long p = TX_DATA;
        while (p < end) {
            long next = parse(p, end); // queued requests were whole and well-formed
            execute(c, command());
            p = next;
        }
        in = outer;
    }

    /** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL], as redis 7 takes them. */
    private void set() {
        final int nx = 1;
        final int xx = 2;
        final int get = 4;
        final int keepTtl = 8;
        final int ex = 16;
        final int px = 32;
        final int exat = 64;
        final int pxat = 128;
        int flags = 0;
        int expireArg = -1;
        for (int j = 3; j < argc; j++) {
            boolean next = j + 1 < argc;
            if (arg(j, NX) && (flags & xx) == 0) {
                flags |= nx;
            } else if (arg(j, XX) && (flags & nx) == 0) {
                flags |= xx;
            } else if (arg(j, GET)) {
                flags |= get;
            } else if (arg(j, KEEPTTL) && (flags & (ex | px | exat | pxat)) == 0) {
                flags |= keepTtl;
            } else if (arg(j, EX) && (flags & (keepTtl | px | exat | pxat)) == 0 && next) {
                flags |= ex;
                expireArg = ++j;
            } else if (arg(j, PX) && (flags & (keepTtl | ex | exat | pxat)) == 0 && next) {
                flags |= px;
                expireArg = ++j;
            } else if (arg(j, EXAT) && (flags & (keepTtl | ex | px | pxat)) == 0 && next) {
                flags |= exat;
                expireArg = ++j;
            } else if (arg(j, PXAT) && (flags & (keepTtl | ex | px | exat)) == 0 && next) {
                flags |= pxat;
                expireArg = ++j;
            } else {
                append(ERR_SYNTAX);
                return;
            }
        }
        long deadline = 0; // System.nanoTime() deadline; 0: none
        boolean pastDeadline = false;
        if (expireArg > 0) {
            if (!parseInteger(expireArg)) {
                append(ERR_NOT_INTEGER);
                return;
            }
            boolean seconds = (flags & (ex | exat)) != 0;
            long when = parsed;
            if (when <= 0 || (seconds && when > Long.MAX_VALUE / 1000)) {
                expireTimeError(SET_NAME);
                return;
            }
            if (seconds) {
                when *= 1000;
            }
            long nowMs = System.currentTimeMillis();
            if ((flags & (ex | px)) != 0) {
                if (when > Long.MAX_VALUE - nowMs) {
                    expireTimeError(SET_NAME);
                    return;
                }
                when += nowMs;
            }
            deadline = deadlineOf(when - nowMs);
            pastDeadline = when <= nowMs;
        }
        if (argLength[1] > KeyValueStore.KEY_MAX) {
            append(ERR_KEY_TOO_LONG);
            return;
        }
        if (argLength[2] > KeyValueStore.VALUE_MAX) {
            append(ERR_VALUE_TOO_LONG);
            return;
        }
        int slot = store.find(in, argAt[1], argLength[1]);
        if ((flags & get) != 0) {
            if (slot < 0) {
                append(NIL);
            } else {
                bulk(store.memory(), store.valueOffset(slot), store.valueLength(slot));
            }
        }
        if (((flags & nx) != 0 && slot >= 0) || ((flags & xx) != 0 && slot < 0)) {
            if ((flags & get) == 0) {
                append(NIL);
            }
            return;
        }
        if (slot < 0) {
            slot = store.findOrAdd(in, argAt[1], argLength[1]);
            if (slot < 0) {
                if ((flags & get) == 0) {
                    append(ERR_FULL);
                }
                return;
            }
        }
        store.setValue(slot, in, argAt[2], argLength[2]);
        if (pastDeadline) {
            store.remove(slot); // an absolute time already passed: set, and gone at once
        } else if (deadline != 0) {
            store.expireAt(slot, deadline);
        } else if ((flags & keepTtl) == 0) {
            store.persist(slot);
        }
        if ((flags & get) == 0) {
            append(OK);
        }
    }

    private void mget() {
        int keys = argc - 1;
        if (replyBound(CMD_MGET) == CHUNK) {
            // The bound says it might not fit: count exactly.
            long bytes = 16;
            for (int i = 1; i < argc; i++) {
                int slot = store.find(in, argAt[i], argLength[i]);
                bytes += slot < 0 ? NIL.byteSize() : store.valueLength(slot) + 16;
            }
            if (bytes > CHUNK - 512) {
                append(ERR_REPLY_TOO_LARGE);
                return;
            }
        }
        header('*', keys);
        for (int i = 1; i < argc; i++) {
            int slot = store.find(in, argAt[i], argLength[i]);
            if (slot < 0) {
                append(NIL);
            } else {
                bulk(store.memory(), store.valueOffset(slot), store.valueLength(slot));
            }
        }
    }

    private void mset() {
        if (argc % 2 == 0) {
            arity(NAMES[CMD_MSET]);
            return;
        }
        for (int i = 1; i < argc; i += 2) {
            if (argLength[i] > KeyValueStore.KEY_MAX) {
                append(ERR_KEY_TOO_LONG);
                return;
            }
            if (argLength[i + 1] > KeyValueStore.VALUE_MAX) {
                append(ERR_VALUE_TOO_LONG);
                return;
            }
        }
        for (int i = 1; i < argc; i += 2) {
            int slot = store.findOrAdd(in, argAt[i], argLength[i]);
            if (slot < 0) {
                append(ERR_FULL);
                return;
            }
            store.setValue(slot, in, argAt[i + 1], argLength[i + 1]);
            store.persist(slot);
        }
        append(OK);
    }

    /** INCR, DECR, INCRBY, DECRBY: adds {@code by} to the key's integer value (0 if it is new); keeps its expiry. */
    private void incrBy(long by) {
        if (argLength[1] > KeyValueStore.KEY_MAX) {
            append(ERR_KEY_TOO_LONG);
            return;
        }
        int slot = store.find(in, argAt[1], argLength[1]);
        long value = 0;
        if (slot >= 0) {
            if (!parseInteger(store.memory(), store.valueOffset(slot), store.valueLength(slot))) {
                append(ERR_NOT_INTEGER);
                return;
            }
            value = parsed;
        }
        if ((by < 0 && value < 0 && by < Long.MIN_VALUE - value) || (by > 0 && value > 0 && by > Long.MAX_VALUE - value)) {
            append(ERR_OVERFLOW);
            return;
        }
        if (slot < 0) {
            slot = store.findOrAdd(in, argAt[1], argLength[1]);
            if (slot < 0) {
                append(ERR_FULL);
                return;
            }
        }
        value += by;
        store.setDecimal(slot, value);
        integer(value);
    }

    /** EXPIRE / PEXPIRE key time [NX | XX | GT | LT], as redis 7 answers them. */
    private void expire(MemorySegment name, long unitMillis) {
        boolean nx = false;
        boolean xx = false;
        boolean gt = false;
        boolean lt = false;
        for (int j = 3; j < argc; j++) {
            if (arg(j, NX)) {
                nx = true;
            } else if (arg(j, XX)) {
                xx = true;
            } else if (arg(j, GT)) {
                gt = true;
            } else if (arg(j, LT)) {
                lt = true;
            } else {
                append(ERR_UNSUPPORTED_OPTION);
                sanitized(argAt[j], argLength[j], 128);
                append(CRLF);
                return;
            }
        }
        if (nx && (xx || gt || lt)) {
            append(ERR_NX_AND);
            return;
        }
        if (gt && lt) {
            append(ERR_GT_AND_LT);
            return;
        }
        if (!parseInteger(2)) {
            append(ERR_NOT_INTEGER);
            return;
        }
        long when = parsed;
        if (unitMillis == 1000) {
            if (when > Long.MAX_VALUE / 1000 || when < Long.MIN_VALUE / 1000) {
                expireTimeError(name);
                return;
            }
            when *= 1000;
        }
        long nowMs = System.currentTimeMillis();
        if (when > Long.MAX_VALUE - nowMs) {
            expireTimeError(name);
            return;
        }
        when += nowMs;
        int slot = store.find(in, argAt[1], argLength[1]);
        if (slot < 0) {
            append(ZERO);
            return;
        }
        long current = store.expireAt(slot) == 0 ? -1 : nowMs + remainingMillis(store.expireAt(slot));
        if ((nx && current != -1) || (xx && current == -1) || (gt && (current == -1 || when <= current))
                || (lt && current != -1 && when >= current)) {
            append(ZERO);
            return;
        }
        if (when <= nowMs) {
            store.remove(slot);
        } else {
            store.expireAt(slot, deadlineOf(when - nowMs));
        }
        append(ONE);
    }

    /** @return the {@link System#nanoTime()} deadline {@code ms} from now (saturated; never 0) */
    private static long deadlineOf(long ms) {
        long now = System.nanoTime();
        long nanos = ms > (Long.MAX_VALUE - Math.max(now, 0)) / 1_000_000 ? Long.MAX_VALUE - Math.max(now, 0) : ms * 1_000_000;
        long deadline = now + nanos;
        return deadline == 0 ? 1 : deadline;
    }

    /** @return milliseconds until the deadline, rounded up, at least 0 */
    private static long remainingMillis(long deadline) {
        long nanos = deadline - System.nanoTime();
        return nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
    }

    private void expireTimeError(MemorySegment name) {
        append(ERR_EXPIRE);
        append(name);
        append(ERR_ARITY_END);
    }

    /** HELLO [protover [AUTH username password] [SETNAME clientname]]: protocol 2 only. */
    private void hello(MemorySegment c) {
        int j = 1;
        if (argc >= 2) {
            if (!parseInteger(1)) {
                append(ERR_PROTOVER);
                return;
            }
            if (parsed != 2) {
                append(ERR_NOPROTO); // 3 too: this server speaks RESP2 only
                return;
            }
            j = 2;
        }
        for (; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg(j, AUTH) && more >= 2) {
                if (!arg(j + 1, DEFAULT)) {
                    append(ERR_WRONGPASS); // the only user is "default", without a password
                    return;
                }
                j += 2;
            } else if (arg(j, SETNAME) && more >= 1) {
                if (!validName(j + 1)) {
                    append(ERR_CLIENT_NAME);
                    return;
                }
                j++;
            } else {
                append(ERR_HELLO_OPTION);
                sanitized(argAt[j], argLength[j], 128);
                append(QUOTE_END);
                return;
            }
        }
        append(HELLO_START);
        appendDecimal(c.get(ValueLayout.JAVA_LONG, CLIENT_ID_STATE));
        append(HELLO_END);
    }

    /** CLIENT SETNAME / SETINFO / ID. Names are checked, not kept. */
    private void client(MemorySegment c) {
        if (arg(1, SETNAME)) {
            if (argc != 3) {
                arity(CLIENT_SETNAME);
            } else {
                append(validName(2) ? OK : ERR_CLIENT_NAME);
            }
        } else if (arg(1, SETINFO)) {
            if (argc != 4) {
                arity(CLIENT_SETINFO);
            } else if (!arg(2, LIB_NAME) && !arg(2, LIB_VER)) {
                append(ERR_UNRECOGNIZED);
                sanitized(argAt[2], argLength[2], 128);
                append(QUOTE_END);
            } else if (!validName(3)) {
                appendByte('-');
                appendByte('E');
                appendByte('R');
                appendByte('R');
                appendByte(' ');
                sanitized(argAt[2], argLength[2], 128);
                append(ERR_LIB_CHARS);
            } else {
                append(OK);
            }
        } else if (arg(1, ID)) {
            if (argc != 2) {
                arity(CLIENT_ID);
            } else {
                integer(c.get(ValueLayout.JAVA_LONG, CLIENT_ID_STATE));
            }
        } else {
            unknownSubcommand(CLIENT_UPPER);
        }
    }

    /** A client name: printable ASCII without spaces (redis's rule). */
    private boolean validName(int i) {
        for (int k = 0; k < argLength[i]; k++) {
            byte b = Ascii.get(in, argAt[i] + k);
            if (b < '!' || b > '~') {
                return false;
            }
        }
        return true;
    }

    /** COMMAND, COMMAND COUNT, COMMAND DOCS [name ...], COMMAND INFO [name ...]. */
    private void commandCommand() {
        if (argc == 1) {
            append(ALL_INFO);
        } else if (arg(1, COUNT)) {
            if (argc != 2) {
                arity(COMMAND_COUNT);
            } else {
                integer(COMMANDS);
            }
        } else if (arg(1, DOCS)) {
            if (argc == 2) {
                append(ALL_DOCS);
                return;
            }
            int known = 0;
            for (int i = 2; i < argc; i++) {
                known += lookup(i) >= 0 ? 1 : 0;
            }
            header('*', 2L * known);
            for (int i = 2; i < argc; i++) {
                int k = lookup(i);
                if (k >= 0) {
                    append(DOCS_ENTRY[k]);
                }
            }
        } else if (arg(1, INFO)) {
            if (argc == 2) {
                append(ALL_INFO);
                return;
            }
            header('*', argc - 2);
            for (int i = 2; i < argc; i++) {
                int k = lookup(i);
                append(k >= 0 ? INFO_ENTRY[k] : NIL_ARRAY);
            }
        } else {
            unknownSubcommand(COMMAND_UPPER);
        }
    }

    /** @return the command argument {@code i} names, or {@link #UNKNOWN} */
    private int lookup(int i) {
        for (int k = 0; k < COMMANDS; k++) {
            if (arg(i, KEYWORDS[k])) {
                return k;
            }
        }
        return UNKNOWN;
    }

    /** CONFIG GET parameter [parameter ...]: a few read-only answers; unknown parameters are left out, as redis does. */
    private void config() {
        if (!arg(1, GET)) {
            unknownSubcommand(CONFIG_UPPER);
            return;
        }
        if (argc < 3) {
            arity(CONFIG_GET);
            return;
        }
        int found = 0;
        for (int i = 2; i < argc; i++) {
            found += configIndex(i) >= 0 ? 1 : 0;
        }
        header('*', 2L * found);
        for (int i = 2; i < argc; i++) {
            int k = configIndex(i);
            if (k >= 0) {
                append(CONFIG_REPLIES[k]);
            }
        }
    }

    private int configIndex(int i) {
        for (int k = 0; k < CONFIG_NAMES.length; k++) {
            if (arg(i, CONFIG_NAMES[k])) {
                return k;
            }
        }
        return -1;
    }

    /** INFO [section ...]: server, clients, memory, persistence, stats, replication, keyspace. */
    private void info() {
        int wanted = 0;
        if (argc == 1) {
            wanted = (1 << SECTIONS.length) - 1;
        }
        for (int i = 1; i < argc; i++) {
            if (arg(i, ALL) || arg(i, EVERYTHING) || arg(i, DEFAULT_SECTION)) {
                wanted = (1 << SECTIONS.length) - 1;
            }
            for (int s = 0; s < SECTIONS.length; s++) {
                if (arg(i, SECTIONS[s])) {
                    wanted |= 1 << s;
                }
            }
        }
        infoLength = 0;
        for (int s = 0; s < SECTIONS.length; s++) {
            if ((wanted & 1 << s) == 0) {
                continue;
            }
            if (infoLength > 0) {
                infoAppend(CRLF);
            }
            switch (s) {
                case 0 -> {
                    infoAppend(INFO_SERVER);
                    infoAppend(multiplexingApi);
                    infoAppend(INFO_PROCESS_ID);
                    infoDecimal(port());
                    long up = (System.nanoTime() - startNanos) / 1_000_000_000L;
                    infoAppend(INFO_UPTIME);
                    infoDecimal(up);
                    infoAppend(INFO_UPTIME_DAYS);
                    infoDecimal(up / 86_400);
                    infoAppend(CRLF);
                }
                case 1 -> {
                    infoAppend(INFO_CLIENTS);
                    infoDecimal(openConnections());
                    infoAppend(CRLF);
                }
                case 2 -> {
                    infoAppend(INFO_MEMORY);
                    infoDecimal(store.nativeBytes());
                    infoAppend(INFO_MEMORY_END);
                }
                case 3 -> infoAppend(INFO_PERSISTENCE);
                case 4 -> {
                    infoAppend(INFO_STATS);
                    infoDecimal(acceptedConnections());
                    infoAppend(INFO_COMMANDS);
                    infoDecimal(commandsProcessed);
                    infoAppend(INFO_EXPIRED);
                    infoDecimal(store.expiredKeys());
                    infoAppend(CRLF);
                }
                case 5 -> infoAppend(INFO_REPLICATION);
                default -> {
                    infoAppend(INFO_KEYSPACE);
                    if (store.size() > 0) {
                        infoAppend(INFO_DB0);
                        infoDecimal(store.size());
                        infoAppend(INFO_EXPIRES);
                        infoDecimal(store.expiring());
                        infoAppend(INFO_AVG_TTL);
                    }
                }
            }
        }
        bulk(info, 0, infoLength);
    }

    private int infoLength;

    private void infoAppend(MemorySegment text) {
        MemorySegment.copy(text, 0, info, infoLength, text.byteSize());
        infoLength += (int) text.byteSize();
    }

    private void infoDecimal(long v) {
        infoLength += Ascii.putLong(info, infoLength, v);
    }

    /**
     * Parses argument {@code i} as redis parses integers: optional '-', no '+', no leading
     * zeros, no spaces, within a long.
     *
     * @return whether it is one; then it is in {@link #parsed}
     */
    private boolean parseInteger(int i) {
        return parseInteger(in, argAt[i], argLength[i]);
    }

    private boolean parseInteger(MemorySegment m, long at, int length) {
        if (length == 0 || length > 20) {
            return false;
        }
        if (length == 1 && Ascii.get(m, at) == '0') {
            parsed = 0;
            return true;
        }
        long p = at;
        long end = at + length;
        boolean negative = Ascii.get(m, p) == '-';
        if (negative) {
            p++;
            if (p == end) {
                return false;
            }
        }
        byte first = Ascii.get(m, p);
        if (first < '1' || first > '9') {
            return false;
        }
        // Accumulate negatively: the negative range is one larger.
        long v = 0;
        for (; p < end; p++) {
            int d = Ascii.get(m, p) - '0';
            if (d < 0 || d > 9 || v < (Long.MIN_VALUE + d) / 10) {
                return false;
            }
            v = v * 10 - d;
        }
        if (!negative && v == Long.MIN_VALUE) {
            return false;
        }
        parsed = negative ? v : -v;
        return true;
    }

    /** {@code -ERR unknown command 'NAME', with args beginning with: 'arg' 'arg' }, as redis words it. */
    private void unknownCommand() {
        append(ERR_UNKNOWN);
        sanitized(argAt[0], argLength[0], 128);
        append(ERR_UNKNOWN_ARGS);
        int written = 0;
        for (int i = 1; i < argc && written < 128; i++) {
            int n = Math.min(argLength[i], 128 - written);
            appendByte('\'');
            sanitized(argAt[i], n, n);
            appendByte('\'');
            appendByte(' ');
            written += n + 3;
        }
        append(CRLF);
    }

    private void unknownSubcommand(MemorySegment container) {
        append(ERR_SUBCOMMAND);
        sanitized(argAt[1], argLength[1], 128);
        append(ERR_SUBCOMMAND_END);
        append(container);
        append(HELP_END);
    }

    /** Up to {@code max} bytes of the input, CR and LF turned into spaces (an error line must stay one line). */
    private void sanitized(long at, int length, int max) {
        int n = Math.min(length, max);
        for (int i = 0; i < n; i++) {
            byte b = in.get(ValueLayout.JAVA_BYTE, at + i);
            appendByte(b == '\r' || b == '\n' ? ' ' : b);
        }
    }

    private boolean arity(MemorySegment name) {
        append(ERR_ARITY);
        append(name);
        append(ERR_ARITY_END);
        return false;
    }

    private void bulk(MemorySegment src, long at, long length) {
        header('$', length);
        append(src, at, length);
        append(CRLF);
    }

    private void integer(long v) {
        header(':', v);
    }

    /** A RESP line of a type byte and a decimal: {@code *n}, {@code $n}, {@code :n}. */
    private void header(char type, long n) {
        appendByte(type);
        appendDecimal(n);
        append(CRLF);
    }

    @Override
    public void announce(java.io.PrintStream out) {
        super.announce(out);
        out.println(name() + ": limits: request " + MAX_REQUEST + " bytes, " + MAX_ARGS + " arguments, key "
                + KeyValueStore.KEY_MAX + " bytes, value " + KeyValueStore.VALUE_MAX + " bytes, " + maxKeys + " keys ("
                + (maxKeys * KeyValueStore.ENTRY + (1L << 20) - 1) / (1L << 20) + " MiB reserved)");
    }

    public static void main(String[] args) {
        SharedStore keyspace = new SharedStore(); // the loops' one keyspace
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] resp-server"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default: the fd limit minus 64)] [--max-keys N (default " + DEFAULT_MAX_KEYS
                        + ", at most " + MAX_KEYS_LIMIT + "; " + KeyValueStore.ENTRY + " bytes each, reserved at start)]"
                        + " [--idle-timeout SECONDS (default 0 = off)]",
                a -> new RespServer(Settings.from(a, DEFAULT_PORT), a.integer("max-keys", DEFAULT_MAX_KEYS, 1, MAX_KEYS_LIMIT), keyspace));
    }
}
