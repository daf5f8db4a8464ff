package org.ioatom.samples;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoSocket;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.PollerKind;

/**
 * IO Atom's socktest: an echo server that reports its connections. One file on the public API
 * alone ({@link Poller}, {@link IoAtom}, {@link IoTimer}, {@link IoSocket}), its loop on the main
 * thread like the C original's. SIGINT or SIGTERM prints "socktest: stopped" and exits 0. With
 * {@code --idle-timeout}, a connection that sends nothing for that long is closed: one timer in
 * its struct, moved on each read.
 */
public final class SockTest {
    static final int DEFAULT_PORT = 21314;
    static final String USAGE = "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] socktest"
            + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
            + " [--max-connections N (default: the fd limit minus 64)] [--idle-timeout SECONDS (default 0 = off)]";

    /** One connection, as in socktest.c: the atom embedded first, then the bytes being echoed. */
    static final StructLayout CONNECTION = MemoryLayout.structLayout(
            IoAtom.LAYOUT.withName("io"),
            IoTimer.LAYOUT.withName("idle"), // closes the connection once the peer sent nothing for the idle timeout
            JAVA_INT.withName("start"), // first byte of data not yet written back
            JAVA_INT.withName("end"),   // end of the bytes read into data
            MemoryLayout.sequenceLayout(16 * 1024, JAVA_BYTE).withName("data"));
    static final long IO = CONNECTION.byteOffset(groupElement("io"));
    static final long IDLE = CONNECTION.byteOffset(groupElement("idle"));
    static final long START = CONNECTION.byteOffset(groupElement("start"));
    static final long END = CONNECTION.byteOffset(groupElement("end"));
    static final long DATA = CONNECTION.byteOffset(groupElement("data"));

    /** The listener: its atom, and the timer that ends a pause in accepting. */
    static final StructLayout LISTENER = MemoryLayout.structLayout(IoAtom.LAYOUT.withName("io"), IoTimer.LAYOUT.withName("pause"));
    static final long PAUSE = LISTENER.byteOffset(groupElement("pause"));

    private static Poller poller; // like socktest.c's globals
    private static long idleNanos; // 0 = no idle timeout
    private static volatile boolean stopping; // set by the shutdown hook, which waits for loopDone
    private static final CompletableFuture<Void> loopDone = new CompletableFuture<>();

    public static void main(String[] argv) {
        Map<String, String> options = new HashMap<>(Map.of("host", "127.0.0.1")); // --name value, --name=value
        String address;
        PollerKind kind;
        int maxConnections;
        String limitReason;
        try {
            for (int i = 0; i < argv.length; i++) {
                String a = argv[i];
                int eq = a.indexOf('=');
                if (a.equals("-h") || a.equals("--help")) {
                    System.out.println(USAGE);
                    return;
                } else if (!a.startsWith("--") || a.length() == 2 || (eq < 0 && i + 1 == argv.length)) {
                    throw new IllegalArgumentException(a.startsWith("--") && a.length() > 2
                            ? "option " + a + " needs a value" : "unexpected argument '" + a + "'");
                }
                options.put(a.substring(2, eq < 0 ? a.length() : eq), eq < 0 ? argv[++i] : a.substring(eq + 1));
            }
            String host = options.remove("host");
            int port = number(options.remove("port"), "port", DEFAULT_PORT, 0, 65535);
            String given = options.remove("max-connections");
            kind = PollerKind.fromProperty();
            maxConnections = number(given, "max-connections", defaultMaxConnections(kind), 1, Poller.MAX_CAPACITY - 1);
            limitReason = given != null ? "--max-connections" : kind == PollerKind.SELECT
                    ? "select watches fds below FD_SETSIZE 1024"
                    : "fd limit " + fdLimit() + " minus " + FD_RESERVE + " reserved";
            String idle = options.remove("idle-timeout");
            idleNanos = idle == null ? 0 : seconds(idle, "idle-timeout");
            if (!options.isEmpty()) {
                throw new IllegalArgumentException("unknown option --" + options.keySet().iterator().next());
            }
            address = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        boolean started = false;
        try (Poller p = Poller.open(kind, maxConnections + 1, maxConnections + 1)) {
            poller = p; // its capacity bounds the connections: one more is refused by poller.add
            int listenFd = IoSocket.listen(address);
            MemorySegment listener = Arena.ofAuto().allocate(LISTENER);
            IoAtom.init(listener, listenFd);
            poller.add(listener, IoAtom.READ, SockTest::accept);
            Runtime.getRuntime().addShutdownHook(new Thread(SockTest::stop, "socktest-shutdown"));
            started = true;
            System.out.println("Using " + poller.name() + " to poll.");
            System.out.println("Listening on port " + IoSocket.localPort(listenFd) + ", fd " + listenFd + ".");
            System.out.println("Max connections: " + maxConnections + " (" + limitReason + ")");
            while (!stopping) {
                poller.await(-1); // no limit: events, timers and the shutdown hook's wakeup() end it
                poller.dispatch();
            }
        } catch (IOException | RuntimeException e) {
            System.err.println(started ? "socktest: event loop failed: " + e : "socktest: cannot start: " + e.getMessage());
        } finally {
            loopDone.complete(null); // the poller is closed; the sockets close as the process exits
        }
        System.exit(stopping ? 0 : 1);
    }

    private static int number(String value, String name, int otherwise, int min, int max) {
        String digits = value == null ? String.valueOf(otherwise) : value.replace("_", "");
        int n = digits.matches("[0-9]{1,9}") ? Integer.parseInt(digits) : -1;
        if (n < min || n > max) {
            throw new IllegalArgumentException("--" + name + " must be " + min + " to " + max + ", got '" + value + "'");
        }
        return n;
    }

    /** {@code 30} or {@code 0.5} seconds (at most a day) as nanoseconds. */
    private static long seconds(String value, String name) {
        if (!value.matches("[0-9]{1,5}(\\.[0-9]{1,9})?|\\.[0-9]{1,9}") || Double.parseDouble(value) > 86_400) {
            throw new IllegalArgumentException("--" + name + " needs 0 to 86400 seconds (e.g. 30 or 0.5), got '" + value + "'");
        }
        return Math.round(Double.parseDouble(value) * 1e9);
    }

    /** The shutdown hook (SIGINT, SIGTERM): stop the loop, wait for it, exit 0 rather than 128 + signal. */
    private static void stop() {
        if (!loopDone.isDone()) { // else main is exiting on its own
            stopping = true;
            poller.wakeup();
            loopDone.join();
            System.out.println("socktest: stopped");
            System.out.flush();
            org.ioatom.samples.server.Launcher.dumpFlightRecordings(); // halt skips the JVM's own dump
            Runtime.getRuntime().halt(0);
        }
    }

    /** Descriptors kept for the JVM, the listener and the poller. */
    static final int FD_RESERVE = 64;

    /**
     * The default limit: the soft RLIMIT_NOFILE (which the JVM raised to the hard limit at
     * start) minus {@link #FD_RESERVE}; for select 1024, FD_SETSIZE.
     */
    static int defaultMaxConnections(PollerKind kind) {
        return kind == PollerKind.SELECT ? 1024 : (int) Math.max(1, Math.min(fdLimit() - FD_RESERVE, Poller.MAX_CAPACITY - 1));
    }

    /** The soft limit on open files, from /proc/self/limits; 1024 + the reserve where there is none (macOS). */
    static long fdLimit() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring(14).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Integer.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc
        }
        return 1024 + FD_RESERVE;
    }

    /** The listener is readable: accept every pending connection (the event is edge-triggered). */
    private static void accept(MemorySegment l, int events) throws IOException {
        while (true) {
            int fd;
            try {
                fd = IoSocket.accept(IoAtom.fd(l));
            } catch (IoException e) { // out of descriptors (EMFILE) or the like: pause instead of spinning
                System.err.println("socktest: accept failed, pausing for 1 s: " + e.getMessage());
                poller.set(l, 0);
                poller.timers().scheduleAfter(l, PAUSE, 1_000_000_000L, listener -> poller.set(listener, IoAtom.READ));
                return;
            }
            if (fd == IoSocket.NO_MORE) {
                return;
            }
            // socktest.c mallocs; this is zeroed memory the GC frees once the poller has let go of it.
            MemorySegment c = Arena.ofAuto().allocate(CONNECTION);
            IoAtom.init(c, IO, fd);
            try {
                poller.add(c, IO, IoAtom.READ, SockTest::echo);
                if (idleNanos > 0) {
                    poller.timers().scheduleAfter(c, IDLE, idleNanos, SockTest::idle);
                }
                IoSocket.setNoDelay(fd, true);
                var peer = IoSocket.peerAddress(fd);
                System.out.println("connection opened from " + peer.getAddress().getHostAddress() + " port "
                        + peer.getPort() + " given fd " + fd);
            } catch (IoException e) {
                System.out.println("connection error on fd " + fd + ": " + e.getMessage());
                close(c, fd);
            } catch (IllegalArgumentException | IllegalStateException e) { // poller full, or select and fd >= 1024
                System.err.println("socktest: cannot watch fd " + fd + ", closing it: " + e.getMessage());
                IoSocket.close(fd);
            }
        }
    }

    /**
     * socktest.c's connection_proc: echo until the socket would block. While the peer does not
     * take its echo, wait for WRITE alone: nothing more is read from a peer that does not read.
     */
    private static void echo(MemorySegment c, int events) throws IOException {
        int fd = IoAtom.fd(c, IO);
        try {
            boolean waitedToWrite = c.get(JAVA_INT, START) < c.get(JAVA_INT, END);
            long n;
            do {
                int start = c.get(JAVA_INT, START);
                int end = c.get(JAVA_INT, END);
                if (start < end) {
                    n = IoSocket.write(fd, c, DATA + start, end - start);
                    c.set(JAVA_INT, START, start + (int) Math.max(n, 0));
                } else if ((n = IoSocket.read(fd, c, DATA, CONNECTION.byteSize() - DATA)) == IoSocket.EOF) {
                    System.out.println("connection closed by remote on fd " + fd);
                    close(c, fd);
                    return;
                } else {
                    c.set(JAVA_INT, START, 0);
                    c.set(JAVA_INT, END, (int) Math.max(n, 0));
                    if (n > 0 && idleNanos > 0) { // the peer sent something: its idle time starts again
                        poller.timers().scheduleAfter(c, IDLE, idleNanos, SockTest::idle);
                    }
                }
            } while (n != IoSocket.WOULD_BLOCK);
            boolean waitsToWrite = c.get(JAVA_INT, START) < c.get(JAVA_INT, END);
            if (waitsToWrite != waitedToWrite) {
                poller.set(c, IO, waitsToWrite ? IoAtom.WRITE : IoAtom.READ);
            }
        } catch (IoException e) {
            System.out.println("connection error on fd " + fd + ": " + e.getMessage());
            close(c, fd);
        }
    }

    /** The peer sent nothing for the idle timeout (what we sent it does not count). */
    private static void idle(MemorySegment c) throws IOException {
        int fd = IoAtom.fd(c, IO);
        System.out.println("connection idle for " + idleNanos / 1e9 + " s, closing fd " + fd);
        close(c, fd);
    }

    private static void close(MemorySegment c, int fd) throws IOException {
        if (IoAtom.isRegistered(c, IO)) { // not when poller.add failed
            poller.remove(c, IO);
        }
        poller.timers().cancel(c, IDLE); // before the GC may free the struct
        IoSocket.close(fd);
    }
}
