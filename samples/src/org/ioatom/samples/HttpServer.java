package org.ioatom.samples;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.ioatom.IoException;
import org.ioatom.samples.server.Ascii;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;

/**
 * A minimal HTTP/1.1 server: {@code GET /} answers {@code 200 Hello, World!}, any other path
 * 404; persistent connections and pipelining; HTTP/1.0 closes unless it asks for keep-alive;
 * {@code Connection: close} is honoured. Requests are parsed in the loop's shared native read
 * buffer and responses assembled from native constants, so serving allocates nothing.
 *
 * <p>Limits and answers: the request line plus headers must fit in {@value #MAX_HEAD} bytes,
 * else 431 (414 if even the request line does not fit) and the connection closes; a malformed
 * request gets 400 and a close; methods other than GET and HEAD get 405; request bodies (by
 * Content-Length) are read and discarded; Transfer-Encoding gets 501 and a close; versions other
 * than 1.0 and 1.1 get 505 and a close.
 *
 * <p>Timeouts: the request line and headers must arrive within the header timeout (default
 * {@value #DEFAULT_HEADER_TIMEOUT_SECONDS} s) from the request's first byte, else 408 and a close,
 * which bounds a slowloris peer; a connection that sends nothing for the idle timeout (default
 * {@value #DEFAULT_IDLE_TIMEOUT_SECONDS} s from the command line) is closed, silently between
 * requests, with 408 in the middle of one.
 */
public final class HttpServer extends SampleServer {
    static final int DEFAULT_PORT = 8080;
    static final int MAX_HEAD = 8 * 1024;
    static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 75;
    static final int DEFAULT_HEADER_TIMEOUT_SECONDS = 60;
    /** Upper bound of any response this server sends. */
    private static final int MAX_RESPONSE = 512;
    /** Bytes of the protocol's state in the connection struct: the request body still to skip. */
    private static final long BODY_LEFT = PROTOCOL_STATE;
    /** When the head of the request in progress must be complete ({@link #now()} clock); 0 = no head in progress. */
    private static final long HEAD_DEADLINE = PROTOCOL_STATE + 8;

    private static final byte[] GET = Ascii.keyword("GET");
    private static final byte[] HEAD = Ascii.keyword("HEAD");
    private static final byte[] HTTP_1_ = Ascii.keyword("HTTP/1.");
    private static final byte[] HTTP_ = Ascii.keyword("HTTP/");
    private static final byte[] CONNECTION = Ascii.keyword("connection");
    private static final byte[] CONTENT_LENGTH = Ascii.keyword("content-length");
    private static final byte[] TRANSFER_ENCODING = Ascii.keyword("transfer-encoding");
    private static final byte[] HOST = Ascii.keyword("host");
    private static final byte[] CLOSE = Ascii.keyword("close");
    private static final byte[] KEEP_ALIVE = Ascii.keyword("keep-alive");

    /** A status line, body and whether the connection closes after it. */
    private record Status(MemorySegment line, MemorySegment body, MemorySegment extra, boolean closes) {
        static Status of(String line, String body, String extra, boolean closes) {
            return new Status(Ascii.constant("HTTP/1.1 " + line + "\r\n"), Ascii.constant(body), Ascii.constant(extra), closes);
        }
    }

    private static final Status OK = Status.of("200 OK", "Hello, World!", "", false);
    private static final Status NOT_FOUND = Status.of("404 Not Found", "Not Found\n", "", false);
    private static final Status NOT_ALLOWED = Status.of("405 Method Not Allowed", "Method Not Allowed\n", "Allow: GET, HEAD\r\n", false);
    private static final Status BAD_REQUEST = Status.of("400 Bad Request", "Bad Request\n", "", true);
    private static final Status URI_TOO_LONG = Status.of("414 URI Too Long", "URI Too Long\n", "", true);
    private static final Status TOO_LARGE = Status.of("431 Request Header Fields Too Large",
            "Request Header Fields Too Large (limit " + MAX_HEAD + " bytes)\n", "", true);
    private static final Status NOT_IMPLEMENTED = Status.of("501 Not Implemented", "Transfer-Encoding is not supported\n", "", true);
    private static final Status REQUEST_TIMEOUT = Status.of("408 Request Timeout", "Request Timeout\n", "", true);
    private static final Status BAD_VERSION = Status.of("505 HTTP Version Not Supported", "HTTP Version Not Supported\n", "", true);

    private static final MemorySegment HEADERS = Ascii.constant("Server: ioatom\r\nContent-Type: text/plain\r\nDate: ");
    private static final MemorySegment CONTENT_LENGTH_HEADER = Ascii.constant("\r\nContent-Length: ");
    private static final MemorySegment CRLF = Ascii.constant("\r\n");
    private static final MemorySegment CONNECTION_CLOSE = Ascii.constant("Connection: close\r\n");
    private static final MemorySegment CONNECTION_KEEP_ALIVE = Ascii.constant("Connection: keep-alive\r\n");

    private final HttpDate date = new HttpDate();
    /** 0 = no header timeout. */
    private final long headerTimeoutNanos;

    /** The input of the request being handled. */
    private MemorySegment in;

    // What parsing one request found (the loop handles one request at a time).
    private boolean http10;
    private boolean wantsClose;
    private boolean wantsKeepAlive;
    private boolean hasHost;
    private long contentLength;

    /** With the default header timeout; the idle timeout is the settings'. */
    HttpServer(Settings settings) {
        this(settings, TimeUnit.SECONDS.toNanos(DEFAULT_HEADER_TIMEOUT_SECONDS));
    }

    /** @param headerTimeoutNanos how long a request's head may take from its first byte; 0 = no limit */
    HttpServer(Settings settings, long headerTimeoutNanos) {
        super("http-server", settings, MAX_HEAD);
        if (headerTimeoutNanos < 0) {
            throw new IllegalArgumentException("header timeout must be 0 (off) or more, got " + headerTimeoutNanos + " ns");
        }
        this.headerTimeoutNanos = headerTimeoutNanos;
    }

    @Override
    protected long requestDeadline(MemorySegment c) {
        long deadline = c.get(ValueLayout.JAVA_LONG, HEAD_DEADLINE);
        return deadline == 0 ? Long.MAX_VALUE : deadline;
    }

    @Override
    protected void timedOut(MemorySegment c) throws IoException {
        // Between requests the close is silent; in the middle of one (head or body) it gets a 408.
        boolean midRequest = hasKeptInput(c) || c.get(ValueLayout.JAVA_LONG, BODY_LEFT) > 0
                || c.get(ValueLayout.JAVA_LONG, HEAD_DEADLINE) != 0;
        if (midRequest && reserve(c, MAX_RESPONSE)) {
            respond(c, REQUEST_TIMEOUT, false, true);
        }
    }

    @Override
    protected void inputOverflow(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        // No complete head within the limit: too large. 414 if not even the request line ended.
        boolean lineEnded = Ascii.indexOf(in, start, Math.min(end, start + MAX_HEAD), (byte) '\n') >= 0;
        if (reserve(c, MAX_RESPONSE)) {
            this.in = in;
            respond(c, lineEnded ? TOO_LARGE : URI_TOO_LONG, false, false);
            this.in = null;
        }
        closeAfterReply(c);
    }

    @Override
    protected int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        this.in = in;
        long p = start;
        boolean answered = false; // a request was answered: the next one starts in this input
        boolean incomplete = false; // stopped at the incomplete head of a request
        while (p < end) {
            long bodyLeft = c.get(ValueLayout.JAVA_LONG, BODY_LEFT);
            if (bodyLeft > 0) {
                long skip = Math.min(bodyLeft, end - p);
                p += skip;
                c.set(ValueLayout.JAVA_LONG, BODY_LEFT, bodyLeft - skip);
                continue;
            }
            byte first = Ascii.get(in, p);
            if (first == '\r' || first == '\n') {
                p++; // empty lines before a request are ignored (RFC 9112, 2.2)
                continue;
            }
            if (!reserve(c, MAX_RESPONSE)) {
                break; // the socket is full: the rest waits until it drained
            }
            long next = request(c, p, end);
            if (next < 0) {
                if (isClosing(c)) {
                    p = end; // answered with an error: the rest is dropped
                } else {
                    incomplete = true;
                }
                break; // incomplete, or closing
            }
            answered = true;
            p = next;
            c.set(ValueLayout.JAVA_LONG, BODY_LEFT, contentLength);
            if (isClosing(c)) {
                break;
            }
        }
        this.in = null;
        if (!incomplete) {
            c.set(ValueLayout.JAVA_LONG, HEAD_DEADLINE, 0);
        } else if (headerTimeoutNanos > 0 && (answered || c.get(ValueLayout.JAVA_LONG, HEAD_DEADLINE) == 0)) {
            // The head started in this input: its time runs from now.
            c.set(ValueLayout.JAVA_LONG, HEAD_DEADLINE, now() + headerTimeoutNanos);
            deadlineChanged(c);
        }
        return (int) p;
    }

    /**
     * Parses and answers one request whose head starts at {@code p}.
     *
     * @return the end of its head, or -1 if incomplete or answered with an error (closing)
     */
    private long request(MemorySegment c, long p, long end) {
        MemorySegment in = this.in;
        long lf = Ascii.indexOf(in, p, end, (byte) '\n');
        if (lf < 0) {
            return -1;
        }
        if (lf + 1 - p > MAX_HEAD) {
            return fail(c, URI_TOO_LONG); // the request line alone exceeds the limit
        }
        // Request line: method SP target SP version
        long lineEnd = lineEnd(in, p, lf);
        long sp1 = p;
        while (sp1 < lineEnd && isTokenChar(Ascii.get(in, sp1))) {
            sp1++;
        }
        if (sp1 == p || sp1 >= lineEnd || Ascii.get(in, sp1) != ' ') {
            return fail(c, BAD_REQUEST);
        }
        long target = sp1 + 1;
        long sp2 = target;
        while (sp2 < lineEnd && Ascii.get(in, sp2) > ' ' && Ascii.get(in, sp2) != 0x7F) {
            sp2++;
        }
        if (sp2 == target || sp2 >= lineEnd || Ascii.get(in, sp2) != ' ') {
            return fail(c, BAD_REQUEST);
        }
        long version = sp2 + 1;
        long versionLength = lineEnd - version;
        if (versionLength != 8 || !Ascii.startsWithIgnoreCase(in, version, versionLength, HTTP_)) {
            return fail(c, BAD_REQUEST);
        }
        byte major = Ascii.get(in, version + 5);
        byte dot = Ascii.get(in, version + 6);
        byte minor = Ascii.get(in, version + 7);
        if (!isDigit(major) || dot != '.' || !isDigit(minor)) {
            return fail(c, BAD_REQUEST);
        }
        if (!Ascii.startsWithIgnoreCase(in, version, versionLength, HTTP_1_) || minor > '1') {
            return fail(c, BAD_VERSION);
        }
        http10 = minor == '0';
        wantsClose = false;
        wantsKeepAlive = false;
        hasHost = false;
        contentLength = 0;
        boolean sawLength = false;
        // Header fields until an empty line.
        long line = lf + 1;
        while (true) {
            lf = Ascii.indexOf(in, line, end, (byte) '\n');
            if (lf < 0) {
                return -1;
            }
            if (lf + 1 - p > MAX_HEAD) {
                return fail(c, TOO_LARGE);
            }
            long le = lineEnd(in, line, lf);
            if (le == line) {
                break;
            }
            byte b = Ascii.get(in, line);
            if (b == ' ' || b == '\t') {
                return fail(c, BAD_REQUEST); // obsolete line folding
            }
            long colon = line;
            while (colon < le && isTokenChar(Ascii.get(in, colon))) {
                colon++;
            }
            if (colon == line || colon >= le || Ascii.get(in, colon) != ':') {
                return fail(c, BAD_REQUEST);
            }
            long v = colon + 1;
            long ve = le;
            while (v < ve && (Ascii.get(in, v) == ' ' || Ascii.get(in, v) == '\t')) {
                v++;
            }
            while (ve > v && (Ascii.get(in, ve - 1) == ' ' || Ascii.get(in, ve - 1) == '\t')) {
                ve--;
            }
            long nameLength = colon - line;
            if (Ascii.equalsIgnoreCase(in, line, nameLength, CONNECTION)) {
                connectionTokens(v, ve);
            } else if (Ascii.equalsIgnoreCase(in, line, nameLength, CONTENT_LENGTH)) {
                long n = Ascii.parseLong(in, v, ve - v);
                if (n < 0 || !isDigit(Ascii.get(in, v)) || (sawLength && n != contentLength)) {
                    return fail(c, BAD_REQUEST);
                }
                sawLength = true;
                contentLength = n;
            } else if (Ascii.equalsIgnoreCase(in, line, nameLength, TRANSFER_ENCODING)) {
                return fail(c, NOT_IMPLEMENTED);
            } else if (Ascii.equalsIgnoreCase(in, line, nameLength, HOST)) {
                if (hasHost) {
                    return fail(c, BAD_REQUEST);
                }
                hasHost = true;
            }
            line = lf + 1;
        }
        if (!http10 && !hasHost) {
            return fail(c, BAD_REQUEST); // RFC 9112 3.2: an HTTP/1.1 request without Host
        }
        boolean close = http10 ? !wantsKeepAlive : wantsClose;
        boolean head = Ascii.equalsIgnoreCase(in, p, sp1 - p, HEAD);
        Status status;
        if (!head && !Ascii.equalsIgnoreCase(in, p, sp1 - p, GET)) {
            status = NOT_ALLOWED;
        } else {
            long targetLength = sp2 - target;
            boolean root = Ascii.get(in, target) == '/' && (targetLength == 1 || Ascii.get(in, target + 1) == '?');
            status = root ? OK : NOT_FOUND;
        }
        respond(c, status, head, close);
        if (close) {
            closeAfterReply(c);
        }
        return lf + 1;
    }

    /** Answers with an error status and closes; the rest of the input is dropped. */
    private long fail(MemorySegment c, Status status) {
        respond(c, status, false, true);
        contentLength = 0;
        closeAfterReply(c);
        return -1;
    }

    /** Appends a response (room for {@link #MAX_RESPONSE} bytes was reserved). */
    private void respond(MemorySegment c, Status status, boolean head, boolean close) {
        append(status.line());
        append(HEADERS);
        append(date.now(), 0, HttpDate.LENGTH);
        append(CONTENT_LENGTH_HEADER);
        appendDecimal(status.body().byteSize());
        append(CRLF);
        append(status.extra());
        if (close || status.closes()) {
            append(CONNECTION_CLOSE);
            closeAfterReply(c);
        } else if (http10) {
            append(CONNECTION_KEEP_ALIVE);
        }
        append(CRLF);
        if (!head) {
            append(status.body());
        }
    }

    private void connectionTokens(long v, long ve) {
        MemorySegment in = this.in;
        long i = v;
        while (i < ve) {
            while (i < ve && (Ascii.get(in, i) == ' ' || Ascii.get(in, i) == '\t' || Ascii.get(in, i) == ',')) {
                i++;
            }
            long start = i;
            while (i < ve && Ascii.get(in, i) != ',' && Ascii.get(in, i) != ' ' && Ascii.get(in, i) != '\t') {
                i++;
            }
            if (Ascii.equalsIgnoreCase(in, start, i - start, CLOSE)) {
                wantsClose = true;
            } else if (Ascii.equalsIgnoreCase(in, start, i - start, KEEP_ALIVE)) {
                wantsKeepAlive = true;
            }
        }
    }

    private static long lineEnd(MemorySegment c, long start, long lf) {
        return lf > start && Ascii.get(c, lf - 1) == '\r' ? lf - 1 : lf;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    /** RFC 9110 tchar. */
    private static boolean isTokenChar(byte b) {
        if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || isDigit(b)) {
            return true;
        }
        return switch (b) {
            case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~' -> true;
            default -> false;
        };
    }

    @Override
    public void announce(java.io.PrintStream out) {
        super.announce(out);
        out.println(name() + ": limits: request line and headers " + MAX_HEAD + " bytes; header timeout "
                + (headerTimeoutNanos == 0 ? "off" : Settings.seconds(headerTimeoutNanos) + " s") + ", idle timeout "
                + (idleTimeoutNanos() == 0 ? "off" : Settings.seconds(idleTimeoutNanos()) + " s"));
    }

    public static void main(String[] args) {
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] http-server"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default: the fd limit minus 64)]"
                        + " [--idle-timeout SECONDS (default " + DEFAULT_IDLE_TIMEOUT_SECONDS + ", 0 = off)]"
                        + " [--header-timeout SECONDS (default " + DEFAULT_HEADER_TIMEOUT_SECONDS + ", 0 = off)]",
                a -> new HttpServer(Settings.from(a, DEFAULT_PORT, TimeUnit.SECONDS.toNanos(DEFAULT_IDLE_TIMEOUT_SECONDS)),
                        a.seconds("header-timeout", TimeUnit.SECONDS.toNanos(DEFAULT_HEADER_TIMEOUT_SECONDS))));
    }
}
