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
 * {@code Connection: close} is honoured; HEAD gets the headers (Content-Length included) without
 * the body. Requests are parsed in the loop's shared native read buffer and responses assembled
 * from native constants, so serving allocates nothing.
 *
 * <p>Request bodies, framed by {@code Content-Length} or {@code Transfer-Encoding: chunked}
 * (chunk extensions and trailer fields included), are read and discarded; the response goes
 * out once the body has been read, so pipelined requests with bodies are answered in order. A
 * body larger than {@code --max-body} (default {@value #DEFAULT_MAX_BODY} bytes) gets 413 and a
 * close: at once when Content-Length says so, as soon as the chunks pass the limit otherwise.
 * {@code Expect: 100-continue} gets {@code HTTP/1.1 100 Continue} before the body is read, unless
 * the body is refused (413 straight away); another expectation gets 417.
 *
 * <p>Limits and answers: the request line plus headers must fit in {@value #MAX_HEAD} bytes,
 * else 431 (414 if even the request line does not fit) and the connection closes; a malformed
 * request gets 400 and a close, and so does a bad Content-Length, both Content-Length and
 * Transfer-Encoding, a Transfer-Encoding whose last coding is not chunked, a malformed chunk size
 * or chunk end; other codings before chunked get 501 and a close; methods other than GET and
 * HEAD get 405 (after their body); versions other than 1.0 and 1.1 get 505 and a close.
 *
 * <p>Timeouts: the request line and headers must arrive within the header timeout (default
 * {@value #DEFAULT_HEADER_TIMEOUT_SECONDS} s) from the request's first byte, else 408 and a close,
 * which bounds a slowloris peer; a connection that sends nothing for the idle timeout (default
 * {@value #DEFAULT_IDLE_TIMEOUT_SECONDS} s from the command line) is closed, silently between
 * requests, with 408 in the middle of one (head or body).
 */
public final class HttpServer extends SampleServer {
    static final int DEFAULT_PORT = 8080;
    static final int MAX_HEAD = 8 * 1024;
    static final int DEFAULT_IDLE_TIMEOUT_SECONDS = 75;
    static final int DEFAULT_HEADER_TIMEOUT_SECONDS = 60;
    static final long DEFAULT_MAX_BODY = 1024 * 1024;
    /** The largest --max-body: what the body counters in the connection state hold. */
    static final long MAX_BODY_LIMIT = 1L << 40;
    /** Upper bound of any response this server sends (a 100 Continue and a final response). */
    private static final int MAX_RESPONSE = 512;

    // The protocol's 16 bytes in the connection struct: the body state, then one more long.
    /**
     * Bits 56-63: the body mode ({@link #IDLE}, {@link #BODY}, the chunked modes); 48-55: the
     * pending response's status ({@link #STATUSES} index); bit 47: it answers HEAD; bit 46: the
     * connection closes after it; bit 45: the request was HTTP/1.0; 0-44: bytes left (of the
     * Content-Length body, or of the current chunk).
     */
    private static final long BODY_STATE = PROTOCOL_STATE;
    /** In a chunked body: its bytes so far. Otherwise: when the head in progress must be complete ({@link #now()} clock); 0 = none. */
    private static final long AUX = PROTOCOL_STATE + 8;
    private static final long LEFT_MASK = (1L << 45) - 1;
    private static final long HEAD_BIT = 1L << 47;
    private static final long CLOSE_BIT = 1L << 46;
    private static final long HTTP10_BIT = 1L << 45;
    // Body modes.
    private static final int IDLE = 0;        // between requests
    private static final int BODY = 1;        // Content-Length bytes left
    private static final int CHUNK_SIZE = 2;  // a chunk-size line is next
    private static final int CHUNK_DATA = 3;  // bytes of the current chunk left
    private static final int CHUNK_END = 4;   // the CRLF after a chunk's data is next
    private static final int TRAILERS = 5;    // trailer fields until an empty line
    /** The longest chunk-size line (with extensions) taken. */
    private static final int MAX_CHUNK_LINE = 4096;

    private static final byte[] GET = Ascii.keyword("GET");
    private static final byte[] HEAD = Ascii.keyword("HEAD");
    private static final byte[] HTTP_1_ = Ascii.keyword("HTTP/1.");
    private static final byte[] HTTP_ = Ascii.keyword("HTTP/");
    private static final byte[] CONNECTION = Ascii.keyword("connection");
    private static final byte[] CONTENT_LENGTH = Ascii.keyword("content-length");
    private static final byte[] TRANSFER_ENCODING = Ascii.keyword("transfer-encoding");
    private static final byte[] EXPECT = Ascii.keyword("expect");
    private static final byte[] CONTINUE_100 = Ascii.keyword("100-continue");
    private static final byte[] CHUNKED = Ascii.keyword("chunked");
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
    private static final Status NOT_IMPLEMENTED = Status.of("501 Not Implemented", "Transfer coding not supported\n", "", true);
    private static final Status REQUEST_TIMEOUT = Status.of("408 Request Timeout", "Request Timeout\n", "", true);
    private static final Status BAD_VERSION = Status.of("505 HTTP Version Not Supported", "HTTP Version Not Supported\n", "", true);
    private static final Status EXPECTATION_FAILED = Status.of("417 Expectation Failed", "Expectation Failed\n", "", true);
    /** The statuses a request with a body may end with, by the index kept in the connection state. */
    private static final Status[] STATUSES = {OK, NOT_FOUND, NOT_ALLOWED};

    private static final MemorySegment HEADERS = Ascii.constant("Server: ioatom\r\nContent-Type: text/plain\r\nDate: ");
    private static final MemorySegment CONTENT_LENGTH_HEADER = Ascii.constant("\r\nContent-Length: ");
    private static final MemorySegment CRLF = Ascii.constant("\r\n");
    private static final MemorySegment CONNECTION_CLOSE = Ascii.constant("Connection: close\r\n");
    private static final MemorySegment CONNECTION_KEEP_ALIVE = Ascii.constant("Connection: keep-alive\r\n");
    private static final MemorySegment CONTINUE = Ascii.constant("HTTP/1.1 100 Continue\r\n\r\n");

    private final HttpDate date = new HttpDate();
    /** 0 = no header timeout. */
    private final long headerTimeoutNanos;
    private final long maxBody;
    /** 413, with the limit in its body. */
    private final Status payloadTooLarge;

    /** The input of the request being handled. */
    private MemorySegment in;

    // What parsing one request found (the loop handles one request at a time).
    private boolean http10;
    private boolean wantsClose;
    private boolean wantsKeepAlive;
    private boolean hasHost;
    private long contentLength;

    /** With the default header timeout and body limit; the idle timeout is the settings'. */
    HttpServer(Settings settings) {
        this(settings, TimeUnit.SECONDS.toNanos(DEFAULT_HEADER_TIMEOUT_SECONDS));
    }

    /** @param headerTimeoutNanos how long a request's head may take from its first byte; 0 = no limit */
    HttpServer(Settings settings, long headerTimeoutNanos) {
        this(settings, headerTimeoutNanos, DEFAULT_MAX_BODY);
    }

    /** @param maxBody the largest request body taken, in bytes; a larger one gets 413 */
    HttpServer(Settings settings, long headerTimeoutNanos, long maxBody) {
        super("http-server", settings, MAX_HEAD);
        if (headerTimeoutNanos < 0) {
            throw new IllegalArgumentException("header timeout must be 0 (off) or more, got " + headerTimeoutNanos + " ns");
        }
        if (maxBody < 0 || maxBody > MAX_BODY_LIMIT) {
            throw new IllegalArgumentException("max body must be 0 to " + MAX_BODY_LIMIT + " bytes, got " + maxBody);
        }
        this.headerTimeoutNanos = headerTimeoutNanos;
        this.maxBody = maxBody;
        this.payloadTooLarge = Status.of("413 Content Too Large", "Content Too Large (limit " + maxBody + " bytes)\n", "", true);
    }

    // ---- the body state in the connection struct ----

    private static long state(MemorySegment c) {
        return c.get(ValueLayout.JAVA_LONG, BODY_STATE);
    }

    private static int mode(MemorySegment c) {
        return (int) (state(c) >>> 56);
    }

    private static long left(MemorySegment c) {
        return state(c) & LEFT_MASK;
    }

    private static void setMode(MemorySegment c, int mode, long left) {
        c.set(ValueLayout.JAVA_LONG, BODY_STATE, (state(c) & ~(0xFFL << 56) & ~LEFT_MASK) | (long) mode << 56 | left);
    }

    private static boolean chunked(int mode) {
        return mode >= CHUNK_SIZE;
    }

    @Override
    protected long requestDeadline(MemorySegment c) {
        long deadline = c.get(ValueLayout.JAVA_LONG, AUX);
        return deadline == 0 || chunked(mode(c)) ? Long.MAX_VALUE : deadline;
    }

    @Override
    protected void timedOut(MemorySegment c) throws IoException {
        // Between requests the close is silent; in the middle of one (head or body) it gets a 408.
        boolean midRequest = hasKeptInput(c) || mode(c) != IDLE || c.get(ValueLayout.JAVA_LONG, AUX) != 0;
        if (midRequest && reserve(c, MAX_RESPONSE)) {
            http10 = false;
            respond(c, REQUEST_TIMEOUT, false, true);
        }
    }

    @Override
    protected void inputOverflow(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        if (reserve(c, MAX_RESPONSE)) {
            this.in = in;
            http10 = false;
            if (mode(c) != IDLE) {
                respond(c, BAD_REQUEST, false, true); // a chunk-size line or trailer section without end
            } else {
                // No complete head within the limit: too large. 414 if not even the request line ended.
                boolean lineEnded = Ascii.indexOf(in, start, Math.min(end, start + MAX_HEAD), (byte) '\n') >= 0;
                respond(c, lineEnded ? TOO_LARGE : URI_TOO_LONG, false, false);
            }
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
        while (p < end && !isClosing(c)) {
            int mode = mode(c);
            if (mode != IDLE) {
                long next = body(c, mode, p, end);
                if (next < 0) {
                    break; // needs more input, or room for the response
                }
                answered |= mode(c) == IDLE;
                p = next;
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
        }
        this.in = null;
        if (isClosing(c)) {
            return end;
        }
        if (chunked(mode(c))) {
            return (int) p; // AUX counts the body
        }
        if (!incomplete) {
            c.set(ValueLayout.JAVA_LONG, AUX, 0);
        } else if (headerTimeoutNanos > 0 && (answered || c.get(ValueLayout.JAVA_LONG, AUX) == 0)) {
            // The head started in this input: its time runs from now.
            c.set(ValueLayout.JAVA_LONG, AUX, now() + headerTimeoutNanos);
            deadlineChanged(c);
        }
        return (int) p;
    }

    /**
     * Reads (and discards) body bytes at {@code p}; answers the request once its body is complete.
     *
     * @return the position after what it took, or -1 when it needs more input (or output room)
     *         before it can go on: the input from {@code p} is kept
     */
    private long body(MemorySegment c, int mode, long p, long end) throws IoException {
        MemorySegment in = this.in;
        switch (mode) {
            case BODY -> {
                long left = left(c);
                long take = Math.min(left, end - p);
                if (take == left) {
                    // The body's last byte: answer with it (once the output has room: till then it stays unread).
                    if (!reserve(c, MAX_RESPONSE)) {
                        return -1;
                    }
                    finish(c);
                    return p + take;
                }
                setMode(c, BODY, left - take);
                return p + take;
            }
            case CHUNK_DATA -> {
                long left = left(c);
                long take = Math.min(left, end - p);
                setMode(c, take == left ? CHUNK_END : CHUNK_DATA, left - take);
                return p + take;
            }
            case CHUNK_END -> {
                if (end - p < 2) {
                    return Ascii.get(in, p) == '\r' ? -1 : badChunk(c);
                }
                if (Ascii.get(in, p) != '\r' || Ascii.get(in, p + 1) != '\n') {
                    return badChunk(c);
                }
                setMode(c, CHUNK_SIZE, 0);
                return p + 2;
            }
            case CHUNK_SIZE -> {
                long lf = Ascii.indexOf(in, p, Math.min(end, p + MAX_CHUNK_LINE), (byte) '\n');
                if (lf < 0) {
                    return end - p >= MAX_CHUNK_LINE ? badChunk(c) : -1;
                }
                if (lf == p || Ascii.get(in, lf - 1) != '\r') {
                    return badChunk(c);
                }
                long lineEnd = lf - 1;
                long size = 0;
                long i = p;
                for (; i < lineEnd; i++) {
                    int d = hexDigit(Ascii.get(in, i));
                    if (d < 0) {
                        break;
                    }
                    if (size > (MAX_BODY_LIMIT >> 4)) {
                        size = Long.MAX_VALUE; // far beyond any limit: 413 below
                        continue;
                    }
                    size = size << 4 | d;
                }
                if (i == p || !chunkExtensions(i, lineEnd)) {
                    return badChunk(c);
                }
                long total = c.get(ValueLayout.JAVA_LONG, AUX);
                if (size > maxBody - total) {
                    if (!reserve(c, MAX_RESPONSE)) {
                        return -1;
                    }
                    fail(c, payloadTooLarge);
                    return end;
                }
                c.set(ValueLayout.JAVA_LONG, AUX, total + size);
                setMode(c, size == 0 ? TRAILERS : CHUNK_DATA, size);
                return lf + 1;
            }
            case TRAILERS -> {
                long lf = Ascii.indexOf(in, p, end, (byte) '\n');
                if (lf < 0) {
                    return -1;
                }
                long le = lineEnd(in, p, lf);
                if (le == p) {
                    // The end of the chunked body: answer.
                    if (!reserve(c, MAX_RESPONSE)) {
                        return -1;
                    }
                    c.set(ValueLayout.JAVA_LONG, AUX, 0);
                    finish(c);
                    return lf + 1;
                }
                long colon = p;
                while (colon < le && isTokenChar(Ascii.get(in, colon))) {
                    colon++;
                }
                if (colon == p || colon >= le || Ascii.get(in, colon) != ':') {
                    return badChunk(c);
                }
                return lf + 1; // a trailer field: discarded
            }
            default -> throw new IllegalStateException("body mode " + mode);
        }
    }

    /** Whether [from, to) after a chunk size is empty or chunk extensions: BWS ";" ..., no control bytes. */
    private boolean chunkExtensions(long from, long to) {
        long i = from;
        while (i < to && (Ascii.get(in, i) == ' ' || Ascii.get(in, i) == '\t')) {
            i++;
        }
        if (i == to) {
            return true;
        }
        if (Ascii.get(in, i) != ';') {
            return false;
        }
        for (; i < to; i++) {
            byte b = Ascii.get(in, i);
            if ((b < 0x20 && b != '\t') || b == 0x7F) {
                return false;
            }
        }
        return true;
    }

    private static int hexDigit(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        return -1;
    }

    /** A malformed chunked body: 400 and a close (once the output has room). */
    private long badChunk(MemorySegment c) throws IoException {
        if (!reserve(c, MAX_RESPONSE)) {
            return -1;
        }
        fail(c, BAD_REQUEST);
        return Long.MAX_VALUE; // process() stops: the connection is closing
    }

    /** The body is complete: send the response kept in the state. */
    private void finish(MemorySegment c) {
        long state = state(c);
        http10 = (state & HTTP10_BIT) != 0;
        boolean close = (state & CLOSE_BIT) != 0;
        respond(c, STATUSES[(int) (state >>> 48) & 0xFF], (state & HEAD_BIT) != 0, close);
        c.set(ValueLayout.JAVA_LONG, BODY_STATE, 0);
        if (close) {
            closeAfterReply(c);
        }
    }

    /**
     * Parses one request whose head starts at {@code p}; answers it now if it has no body, else
     * sets up the body state (the answer follows the body).
     *
     * @return the end of its head, or -1 if incomplete or answered with an error (closing)
     */
    private long request(MemorySegment c, long p, long end) {
        MemorySegment in = this.in;
        long lf = Ascii.indexOf(in, p, end, (byte) '\n');
        if (lf < 0) {
            return -1;
        }
        http10 = false;
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
        boolean isHttp10 = minor == '0';
        wantsClose = false;
        wantsKeepAlive = false;
        hasHost = false;
        contentLength = 0;
        boolean sawLength = false;
        boolean sawEncoding = false;
        boolean expectsContinue = false;
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
                if (sawEncoding || isHttp10) {
                    return fail(c, BAD_REQUEST); // one field only; HTTP/1.0 has no transfer codings
                }
                // The last coding must be chunked (else the body's length is unknown: 400); others before it: 501.
                long last = ve;
                while (last > v && Ascii.get(in, last - 1) != ',' && Ascii.get(in, last - 1) != ' ' && Ascii.get(in, last - 1) != '\t') {
                    last--;
                }
                if (!Ascii.equalsIgnoreCase(in, last, ve - last, CHUNKED)) {
                    return fail(c, BAD_REQUEST);
                }
                if (last != v) {
                    return fail(c, NOT_IMPLEMENTED);
                }
                sawEncoding = true;
            } else if (Ascii.equalsIgnoreCase(in, line, nameLength, EXPECT)) {
                if (!Ascii.equalsIgnoreCase(in, v, ve - v, CONTINUE_100)) {
                    return fail(c, EXPECTATION_FAILED);
                }
                expectsContinue = true;
            } else if (Ascii.equalsIgnoreCase(in, line, nameLength, HOST)) {
                if (hasHost) {
                    return fail(c, BAD_REQUEST);
                }
                hasHost = true;
            }
            line = lf + 1;
        }
        http10 = isHttp10;
        if (!http10 && !hasHost) {
            return fail(c, BAD_REQUEST); // RFC 9112 3.2: an HTTP/1.1 request without Host
        }
        if (sawLength && sawEncoding) {
            return fail(c, BAD_REQUEST); // RFC 9112 6.3: a smuggling attempt, or a broken client
        }
        if (sawLength && contentLength > maxBody) {
            return fail(c, payloadTooLarge); // refused before it is sent, when the client asked first
        }
        boolean close = http10 ? !wantsKeepAlive : wantsClose;
        boolean head = Ascii.equalsIgnoreCase(in, p, sp1 - p, HEAD);
        int status;
        if (!head && !Ascii.equalsIgnoreCase(in, p, sp1 - p, GET)) {
            status = 2; // NOT_ALLOWED
        } else {
            long targetLength = sp2 - target;
            boolean root = Ascii.get(in, target) == '/' && (targetLength == 1 || Ascii.get(in, target + 1) == '?');
            status = root ? 0 : 1;
        }
        if (!sawEncoding && contentLength == 0) {
            respond(c, STATUSES[status], head, close);
            if (close) {
                closeAfterReply(c);
            }
            return lf + 1;
        }
        if (expectsContinue && !http10) {
            append(CONTINUE); // go ahead: the body is read (and the response follows it)
        }
        c.set(ValueLayout.JAVA_LONG, BODY_STATE, (long) status << 48 | (head ? HEAD_BIT : 0) | (close ? CLOSE_BIT : 0)
                | (http10 ? HTTP10_BIT : 0));
        if (sawEncoding) {
            setMode(c, CHUNK_SIZE, 0);
            c.set(ValueLayout.JAVA_LONG, AUX, 0);
        } else {
            setMode(c, BODY, contentLength);
        }
        return lf + 1;
    }

    /** Answers with an error status and closes; the rest of the input is dropped. */
    private long fail(MemorySegment c, Status status) {
        respond(c, status, false, true);
        contentLength = 0;
        c.set(ValueLayout.JAVA_LONG, BODY_STATE, 0);
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
        out.println(name() + ": limits: request line and headers " + MAX_HEAD + " bytes, body " + maxBody + " bytes; header timeout "
                + (headerTimeoutNanos == 0 ? "off" : Settings.seconds(headerTimeoutNanos) + " s") + ", idle timeout "
                + (idleTimeoutNanos() == 0 ? "off" : Settings.seconds(idleTimeoutNanos()) + " s"));
    }

    public static void main(String[] args) {
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] http-server"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default: the fd limit minus 64)]"
                        + " [--idle-timeout SECONDS (default " + DEFAULT_IDLE_TIMEOUT_SECONDS + ", 0 = off)]"
                        + " [--header-timeout SECONDS (default " + DEFAULT_HEADER_TIMEOUT_SECONDS + ", 0 = off)]"
                        + " [--max-body BYTES (default " + DEFAULT_MAX_BODY + ", larger request bodies get 413)]",
                a -> new HttpServer(Settings.from(a, DEFAULT_PORT, TimeUnit.SECONDS.toNanos(DEFAULT_IDLE_TIMEOUT_SECONDS)),
                        a.seconds("header-timeout", TimeUnit.SECONDS.toNanos(DEFAULT_HEADER_TIMEOUT_SECONDS)),
                        a.number("max-body", DEFAULT_MAX_BODY, 0, MAX_BODY_LIMIT)));
    }
}
