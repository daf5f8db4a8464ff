package org.ioatom.samples;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
import org.ioatom.TimerHandler;
import org.ioatom.samples.server.Args;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.Settings;

/**
 * Load generator and checker for echo servers. Opens C connections (non-blocking connects
 * through the poller), sends M messages of S bytes on each with up to D messages in flight per
 * connection, checks every echoed byte against the deterministic pattern it sent, and reports
 * throughput and round-trip latency percentiles. Exits 1 on any mismatch, early close, error or
 * time-out.
 *
 * <p>Byte {@code k} of connection {@code i}'s stream is {@code pattern[(k + 4099 i) mod 65521]},
 * a pseudo-random table in native memory: data is sent straight from the table and checked with
 * one vectorised comparison per read. Per connection there is one native struct (atom, counters,
 * the send times of the messages in flight) and a 16 KiB receive buffer; latencies go into a
 * preallocated histogram. After set-up nothing is allocated per message.
 *
 * <p>Connecting: each attempt may take {@code --connect-timeout} seconds; a connection whose
 * attempt times out or fails (refused, say) tries again up to {@code --connect-retries} times,
 * waiting 100 ms, 200 ms, 400 ms ... in between. One {@link IoTimer} in the connection's struct
 * serves both the attempt's deadline and the wait before the next.
 */
public final class EchoClient {
    private static final int PERIOD = 65521;
    private static final int CHUNK = 65536;
    private static final int STRIDE = 4099;
    private static final int RECEIVE_BUFFER = 16 * 1024;
    /** Extra time allowed after the duration for the messages in flight to come back. */
    private static final long GRACE_NANOS = 10_000_000_000L;
    private static final long DEFAULT_CONNECT_TIMEOUT_NANOS = 10_000_000_000L;

    /**
     * A connection's struct; the send times of the messages in flight (one {@code long} per
     * pipeline place) follow it, then the receive buffer, 64-byte aligned.
     */
    private static final StructLayout CONNECTION = MemoryLayout.structLayout(
            IoAtom.LAYOUT.withName("io"),
            ValueLayout.JAVA_INT.withName("index"),     // which connection: where its stream starts in the pattern
            ValueLayout.JAVA_INT.withName("state"),     // CONNECTING, OPEN, CLOSED
            ValueLayout.JAVA_LONG.withName("sent"),     // bytes sent
            ValueLayout.JAVA_LONG.withName("received"), // bytes received and checked
            ValueLayout.JAVA_LONG.withName("done"),     // messages fully echoed
            IoTimer.LAYOUT.withName("timer"),           // the connect attempt's deadline, or the end of the wait before the next
            ValueLayout.JAVA_INT.withName("attempts"),  // connect attempts that failed
            MemoryLayout.paddingLayout(4));
    private static final long IO = CONNECTION.byteOffset(groupElement("io"));
    private static final long INDEX = CONNECTION.byteOffset(groupElement("index"));
    private static final long STATE = CONNECTION.byteOffset(groupElement("state"));
    private static final long SENT = CONNECTION.byteOffset(groupElement("sent"));
    private static final long RECEIVED = CONNECTION.byteOffset(groupElement("received"));
    private static final long DONE = CONNECTION.byteOffset(groupElement("done"));
    private static final long TIMER = CONNECTION.byteOffset(groupElement("timer"));
    private static final long ATTEMPTS = CONNECTION.byteOffset(groupElement("attempts"));
    /** The wait before the first retry; it doubles for each one after. */
    private static final long FIRST_BACKOFF_NANOS = 100_000_000L;
    private static final long TIMES = CONNECTION.byteSize();

    private static final int CONNECTING = 1;
    private static final int OPEN = 2;
    private static final int CLOSED = 3;
    /** Waiting to try connecting again. */
    private static final int BACKING_OFF = 4;

    /**
     * @param connectTimeoutNanos how long one connect attempt may take; 0 = no limit of its own
     * @param connectRetries      attempts after the first that fails or times out
     */
    record Options(String host, int port, int connections, long messages, int size, int pipeline,
                   long durationSeconds, PollerKind kind, long connectTimeoutNanos, int connectRetries) {
        Options {
            if (connections < 1 || messages < 1 || size < 1 || pipeline < 1 || durationSeconds < 1) {
                throw new IllegalArgumentException("connections, messages, size, pipeline and duration must be positive");
            }
            if (connectTimeoutNanos < 0 || connectRetries < 0 || connectRetries > 30) {
                throw new IllegalArgumentException("connect timeout must be 0 or more, connect retries 0 to 30");
            }
            if ((long) size * pipeline > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("size * pipeline must stay below 2 GiB");
            }
        }

        /** The default connect timeout, no retries. */
        Options(String host, int port, int connections, long messages, int size, int pipeline,
                long durationSeconds, PollerKind kind) {
            this(host, port, connections, messages, size, pipeline, durationSeconds, kind, DEFAULT_CONNECT_TIMEOUT_NANOS, 0);
        }
    }

    /** What a run did. */
    record Result(String pollerName, int connections, long messages, long bytes, double seconds,
                  Histogram latency, List<String> errors, long errorCount) {
        boolean ok() {
            return errorCount == 0;
        }

        double messagesPerSecond() {
            return messages / seconds;
        }

        double megabytesPerSecond() {
            return bytes / seconds / 1e6;
        }
    }

    private final Options o;
    private final Histogram latency = new Histogram();
    private final List<String> errors = new ArrayList<>();
    private final IoHandler handler = this::onEvents;
    private final TimerHandler connectTimedOut = this::connectTimedOut;
    private final TimerHandler retryConnect = this::connect;
    private String address;
    private long errorCount;
    private Poller poller;
    private MemorySegment pattern;
    private MemorySegment[] conns;
    private long receiveOffset;
    private int remaining;
    private boolean timeUp;

    private EchoClient(Options o) {
        this.o = o;
    }

    /** Runs the whole exchange on the calling thread. */
    static Result run(Options o) throws IOException {
        return new EchoClient(o).run();
    }

    private Result run() throws IOException {
        long structSize = TIMES + ValueLayout.JAVA_LONG.byteSize() * o.pipeline();
        receiveOffset = (structSize + 63) & ~63L;
        long start;
        long end;
        try (Arena arena = Arena.ofConfined(); Poller p = Poller.open(o.kind(), o.connections() + 1, o.connections())) {
            poller = p;
            pattern = arena.allocate(PERIOD + CHUNK, 64);
            long x = 0x9E3779B97F4A7C15L;
            for (int i = 0; i < PERIOD; i++) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
                pattern.set(ValueLayout.JAVA_BYTE, i, (byte) (x >>> 32));
            }
            // The table repeats after PERIOD, so that any CHUNK bytes from an offset below PERIOD are contiguous.
            for (int i = PERIOD; i < PERIOD + CHUNK; i++) {
                pattern.set(ValueLayout.JAVA_BYTE, i, pattern.get(ValueLayout.JAVA_BYTE, i - PERIOD));
            }
            conns = new MemorySegment[o.connections()];
            address = (o.host().indexOf(':') >= 0 ? "[" + o.host() + "]" : o.host()) + ":" + o.port();
            start = System.nanoTime();
            long deadline = start + o.durationSeconds() * 1_000_000_000L;
            for (int i = 0; i < conns.length; i++) {
                MemorySegment c = arena.allocate(receiveOffset + RECEIVE_BUFFER, 64);
                conns[i] = c;
                c.set(ValueLayout.JAVA_INT, INDEX, i);
                remaining++;
                connect(c);
            }
            while (remaining > 0) {
                long now = System.nanoTime();
                if (!timeUp && now - deadline >= 0) {
                    timeUp = true;
                    for (MemorySegment c : conns) {
                        if (state(c) == OPEN && finished(c)) {
                            close(c);
                        }
                    }
                    continue;
                }
                if (now - (deadline + GRACE_NANOS) >= 0) {
                    for (MemorySegment c : conns) {
                        if (state(c) != CLOSED) {
                            fail(c, "timed out with " + (sent(c) - received(c)) + " bytes not echoed");
                        }
                    }
                    break;
                }
                poller.await(100);
                poller.dispatch();
            }
            end = System.nanoTime();
            for (MemorySegment c : conns) {
                if (state(c) != CLOSED) {
                    close(c);
                }
            }
            long messages = 0;
            long bytes = 0;
            for (MemorySegment c : conns) {
                messages += c.get(ValueLayout.JAVA_LONG, DONE);
                bytes += received(c);
            }
            return new Result(p.name(), o.connections(), messages, bytes, Math.max(1e-9, (end - start) / 1e9),
                    latency, List.copyOf(errors), errorCount);
        }
    }

    /** Starts a non-blocking connect attempt, with its deadline. */
    private void connect(MemorySegment c) {
        int fd;
        try {
            fd = IoSocket.connect(address);
        } catch (IOException e) {
            connectFailed(c, e.getMessage());
            return;
        }
        IoAtom.init(c, IO, fd);
        c.set(ValueLayout.JAVA_INT, STATE, CONNECTING);
        try {
            poller.add(c, IO, WRITE, handler);
        } catch (IOException | IllegalArgumentException | IllegalStateException e) {
            fail(c, e.getMessage()); // no room in the poller (or select's fd limit): retrying would not help
            return;
        }
        if (o.connectTimeoutNanos() > 0) {
            poller.timers().scheduleAfter(c, TIMER, o.connectTimeoutNanos(), connectTimedOut);
        }
    }

    private void connectTimedOut(MemorySegment c) {
        connectFailed(c, "connect timed out after " + Settings.seconds(o.connectTimeoutNanos()) + " s");
    }

    /** A connect attempt failed: try again after the backoff, or give the connection up. */
    private void connectFailed(MemorySegment c, String why) {
        if (state(c) == CONNECTING) {
            unwatchAndClose(c);
        }
        int attempts = c.get(ValueLayout.JAVA_INT, ATTEMPTS) + 1;
        c.set(ValueLayout.JAVA_INT, ATTEMPTS, attempts);
        if (attempts <= o.connectRetries()) {
            c.set(ValueLayout.JAVA_INT, STATE, BACKING_OFF);
            poller.timers().scheduleAfter(c, TIMER, FIRST_BACKOFF_NANOS << (attempts - 1), retryConnect);
            return;
        }
        c.set(ValueLayout.JAVA_INT, STATE, CLOSED);
        remaining--;
        error("connection " + c.get(ValueLayout.JAVA_INT, INDEX) + ": " + why
                + (attempts > 1 ? " (attempt " + attempts + " of " + attempts + ")" : ""));
    }

    private static int state(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, STATE);
    }

    private static long sent(MemorySegment c) {
        return c.get(ValueLayout.JAVA_LONG, SENT);
    }

    private static long received(MemorySegment c) {
        return c.get(ValueLayout.JAVA_LONG, RECEIVED);
    }

    /** Everything this connection will send has been sent and echoed. */
    private boolean finished(MemorySegment c) {
        long done = c.get(ValueLayout.JAVA_LONG, DONE);
        if (done == o.messages()) {
            return true;
        }
        long sent = sent(c);
        return timeUp && received(c) == sent && sent % o.size() == 0;
    }

    private void onEvents(MemorySegment c, int events) {
        int fd = IoAtom.fd(c, IO);
        try {
            if (state(c) == CONNECTING) {
                try {
                    IoSocket.finishConnect(fd);
                } catch (IoException e) {
                    poller.timers().cancel(c, TIMER);
                    connectFailed(c, e.getMessage());
                    return;
                }
                poller.timers().cancel(c, TIMER);
                IoSocket.setNoDelay(fd, true);
                c.set(ValueLayout.JAVA_INT, STATE, OPEN);
            }
            boolean blocked;
            while (true) {
                blocked = send(c, fd);
                int r = receive(c, fd);
                if (r < 0) {
                    return; // closed
                }
                if (r == 0) {
                    break;
                }
            }
            poller.set(c, IO, blocked ? READ | WRITE : READ);
        } catch (IOException e) {
            fail(c, e.getMessage());
        }
    }

    /**
     * Sends as much as the pipeline allows.
     *
     * @return true if the socket would block with data still to send
     */
    private boolean send(MemorySegment c, int fd) throws IoException {
        long size = o.size();
        long sent = sent(c);
        long done = c.get(ValueLayout.JAVA_LONG, DONE);
        long limitMessages = Math.min(o.messages(), done + o.pipeline());
        if (timeUp) {
            limitMessages = Math.min(limitMessages, (sent + size - 1) / size); // only finish a started message
        }
        long limit = limitMessages * size;
        long base = (long) c.get(ValueLayout.JAVA_INT, INDEX) * STRIDE;
        try {
            while (sent < limit) {
                long length = Math.min(limit - sent, CHUNK);
                long now = System.nanoTime();
                // Stamp every message that starts in this write (a partial write restamps the rest next time).
                for (long m = (sent + size - 1) / size; m * size < sent + length; m++) {
                    c.set(ValueLayout.JAVA_LONG, sendTime(m), now);
                }
                long n = IoSocket.write(fd, pattern, (sent + base) % PERIOD, length);
                if (n == IoSocket.WOULD_BLOCK) {
                    return true;
                }
                sent += n;
            }
            return false;
        } finally {
            c.set(ValueLayout.JAVA_LONG, SENT, sent);
        }
    }

    /**
     * Reads and checks until the socket would block.
     *
     * @return 1 if anything arrived, 0 if nothing, -1 if the connection is closed now
     */
    private int receive(MemorySegment c, int fd) throws IoException {
        int result = 0;
        long size = o.size();
        long base = (long) c.get(ValueLayout.JAVA_INT, INDEX) * STRIDE;
        while (true) {
            long n = IoSocket.read(fd, c, receiveOffset, RECEIVE_BUFFER);
            if (n == IoSocket.WOULD_BLOCK) {
                return result;
            }
            long received = received(c);
            long sent = sent(c);
            if (n == IoSocket.EOF) {
                fail(c, "server closed the connection after echoing " + received + " of " + sent + " bytes");
                return -1;
            }
            if (received + n > sent) {
                fail(c, "received " + (received + n) + " bytes but sent only " + sent);
                return -1;
            }
            long from = (received + base) % PERIOD;
            long bad = MemorySegment.mismatch(c, receiveOffset, receiveOffset + n, pattern, from, from + n);
            if (bad >= 0) {
                fail(c, "echoed byte " + (received + bad) + " is " + c.get(ValueLayout.JAVA_BYTE, receiveOffset + bad)
                        + ", sent " + pattern.get(ValueLayout.JAVA_BYTE, from + bad));
                return -1;
            }
            long now = System.nanoTime();
            long done = c.get(ValueLayout.JAVA_LONG, DONE);
            long nowDone = (received + n) / size;
            for (long m = done; m < nowDone; m++) {
                latency.record(now - c.get(ValueLayout.JAVA_LONG, sendTime(m)));
            }
            c.set(ValueLayout.JAVA_LONG, RECEIVED, received + n);
            c.set(ValueLayout.JAVA_LONG, DONE, nowDone);
            result = 1;
            if (finished(c)) {
                close(c);
                return -1;
            }
        }
    }

    private void error(String message) {
        errorCount++;
        if (errors.size() < 20) {
            errors.add(message);
        }
    }

    private void fail(MemorySegment c, String message) {
        error("connection " + c.get(ValueLayout.JAVA_INT, INDEX) + " (fd " + IoAtom.fd(c, IO) + "): " + message);
        close(c);
    }

    private void close(MemorySegment c) {
        int state = state(c);
        if (state == CLOSED) {
            return;
        }
        c.set(ValueLayout.JAVA_INT, STATE, CLOSED);
        remaining--;
        poller.timers().cancel(c, TIMER);
        if (state != BACKING_OFF) {
            unwatchAndClose(c);
        }
    }

    /** Takes the connection's socket out of the poller and closes it. */
    private void unwatchAndClose(MemorySegment c) {
        try {
            if (IoAtom.isRegistered(c, IO)) {
                poller.remove(c, IO);
            }
        } catch (IOException | RuntimeException e) {
            // closing anyway
        }
        quietClose(IoAtom.fd(c, IO));
    }

    private static void quietClose(int fd) {
        try {
            IoSocket.close(fd);
        } catch (IoException e) {
            // nothing to do
        }
    }

    static String format(Result r, Options o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "echo-client: %d messages (%d bytes) echoed and verified in %.3f s over %d connections%n",
                r.messages(), r.bytes(), r.seconds(), r.connections()));
        sb.append(String.format(Locale.ROOT, "echo-client: throughput %.0f msgs/s, %.2f MB/s each way%n",
                r.messagesPerSecond(), r.megabytesPerSecond()));
        Histogram h = r.latency();
        sb.append(String.format(Locale.ROOT, "echo-client: round trip p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms (%d samples)%n",
                h.percentile(0.50) / 1e6, h.percentile(0.99) / 1e6, h.percentile(0.999) / 1e6, h.max() / 1e6, h.count()));
        if (!r.ok()) {
            sb.append("echo-client: FAILED with ").append(r.errorCount()).append(" error(s):").append(System.lineSeparator());
            for (String e : r.errors()) {
                sb.append("  ").append(e).append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    /** Where message {@code m}'s send time is kept: its place in the pipeline. */
    private long sendTime(long m) {
        return TIMES + ValueLayout.JAVA_LONG.byteSize() * (m % o.pipeline());
    }

    public static void main(String[] argv) {
        String usage = "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] echo-client [--host 127.0.0.1]"
                + " [--port " + EchoServer.DEFAULT_PORT + "] [--connections 10] [--messages 10000 (per connection)]"
                + " [--size 64 (bytes)] [--pipeline 1 (messages in flight per connection)] [--duration-seconds 60]"
                + " [--connect-timeout SECONDS (per attempt, default 10, 0 = none)]"
                + " [--connect-retries N (default 0; waits 100 ms, 200 ms, ... between attempts)]";
        Options o;
        try {
            Args a = new Args(usage, argv);
            if (a.help()) {
                System.out.println(usage);
                return;
            }
            o = new Options(a.string("host", "127.0.0.1"), a.integer("port", EchoServer.DEFAULT_PORT, 1, 65535),
                    a.integer("connections", 10, 1, Poller.MAX_CAPACITY - 1),
                    a.number("messages", 10_000, 1, Long.MAX_VALUE / (1 << 30)),
                    a.integer("size", 64, 1, 1 << 30), a.integer("pipeline", 1, 1, 1 << 20),
                    a.number("duration-seconds", 60, 1, 365L * 24 * 3600), PollerKind.fromProperty(),
                    a.seconds("connect-timeout", DEFAULT_CONNECT_TIMEOUT_NANOS), a.integer("connect-retries", 0, 0, 30));
            a.done();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(usage);
            System.exit(Launcher.USAGE);
            return;
        }
        System.out.printf(Locale.ROOT, "echo-client: %d connections to %s port %d, %d messages of %d bytes each, pipeline %d, at most %d s%n",
                o.connections(), o.host(), o.port(), o.messages(), o.size(), o.pipeline(), o.durationSeconds());
        Result r;
        try {
            r = run(o);
        } catch (IOException | RuntimeException e) {
            System.err.println("echo-client: " + e);
            System.exit(1);
            return;
        }
        System.out.print(format(r, o));
        System.out.flush();
        System.exit(r.ok() ? 0 : 1);
    }
}
