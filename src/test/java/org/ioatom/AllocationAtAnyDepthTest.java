package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.JitMode;
import org.ioatom.testing.Kinds;
import org.ioatom.testing.Threads;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Guarantees that every steady-state call of the public API allocates nothing on the Java heap
 * wherever an app makes it: {@code Poller.await} (timeout 0, and with events), {@code dispatch},
 * {@code add}, {@code set}, {@code remove}, {@code wakeup}; the timers' {@code schedule},
 * {@code scheduleAfter} (moving a scheduled timer), {@code cancel}, and a timer's expiry through
 * {@code await} and {@code dispatch}; {@code IoSocket.read} and
 * {@code write} (whole segment and range), {@code readv}, {@code writev}, {@code accept} (a
 * connection, and {@code NO_MORE}), {@code finishConnect} and {@code close}; UDP's
 * {@code IoDatagram.send} and {@code receive} (whole segment and range, IPv4 and IPv6, and a
 * receive with nothing there) with the sender's address read through {@code IoAddress}. Each is called
 * 1, 9, 17 and 24 frames below the loop that measures (distinct methods, so an optimising
 * compiler meets the call as deep in its inlining as in a real server, where the loop calls
 * {@code dispatch}, the handler, the connection, the parser...), on its success path and on its
 * would-block path (read of an empty socket, write to a full socket, accept with nothing
 * pending), for every poller kind available.
 *
 * <p>Measured with the thread's allocated-bytes counter over windows of many calls after a
 * warm-up: a window must count exactly 0 bytes. JIT activity (a late compilation, a
 * deoptimisation that materialises scalar-replaced objects) can land bytes on the thread once;
 * an allocation in the code under test lands in every window, so one clean window out of a few
 * passes. Every window is printed.
 *
 * <p>The same class runs in three JVMs (see pom.xml): the default one, one that compiles with
 * C1 only ({@code -XX:TieredStopAtLevel=1}) and one that interprets only ({@code -Xint}). C1
 * and the interpreter remove no allocation by escape analysis, so passing there means the
 * library allocates nothing, not that C2 happened to optimise it away. The would-block paths in
 * those two modes are asserted unless {@code -Dioatom.test.allocation.wouldBlockStrict=false}
 * (which only reports them); the target is 0 bytes everywhere.
 *
 * <p>Sockets are real TCP connections over loopback made with {@link IoSocket}; every
 * descriptor a case opens is closed after it.
 */
@Tag("allocation")
@Tag("allocation-interpreter")
@Timeout(120)
class AllocationAtAnyDepthTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Frames between the measuring loop and the frame that makes the call. */
    private static final int[] DEPTHS = {1, 9, 17, 24};

    private static final boolean WOULD_BLOCK_STRICT =
            Boolean.parseBoolean(System.getProperty("ioatom.test.allocation.wouldBlockStrict", "true"));

    /** Calls per invocation of a loop method: small, so that the loop is compiled whole, not on stack replacement. */
    private static final int SLICE = 100;

    /** Measured windows that may be repeated because the kernel let calls take the other path. */
    private static final int MAX_DISCARDED = 5;

    enum Outcome { SUCCESS, WOULD_BLOCK }

    // Which body the chain ends in (a switch on an int keeps every call a direct static call, as
    // in an app, rather than a virtual call per scenario).
    private static final int NOTHING = 0;
    private static final int READ = 1;
    private static final int READ_RANGE = 2;
    private static final int READV = 3;
    private static final int WRITE = 4;
    private static final int WRITE_RANGE = 5;
    private static final int WRITEV = 6;
    private static final int ACCEPT = 7;
    private static final int FINISH_CONNECT = 8;
    private static final int CLOSE = 9;
    private static final int AWAIT_NOW = 10;
    private static final int SET = 11;
    private static final int ADD_REMOVE = 12;
    private static final int WAKEUP_AWAIT = 13;
    private static final int EVENT_TURN = 14;
    private static final int TIMER_SCHEDULE_CANCEL = 15;
    private static final int TIMER_MOVE = 16;
    private static final int TIMER_EXPIRE = 17;
    private static final int UDP_ROUND_TRIP_V4 = 18;
    private static final int UDP_ROUND_TRIP_V6 = 19;
    private static final int UDP_RECEIVE = 20;

    /**
     * One measured body.
     *
     * @param call    what is called, for messages
     * @param op      which body makes the call
     * @param outcome the path every call must take
     * @param scarce  every call uses up a prepared connection or descriptor: smaller windows
     * @param steps   the calls of a body that makes several, each measured on its own too
     */
    record Scenario(String call, int op, Outcome outcome, boolean scarce, String... steps) {
        @Override
        public String toString() {
            return call + " [" + outcome + "]";
        }
    }

    private static final List<Scenario> SOCKET_SCENARIOS = List.of(
            new Scenario("nothing (the harness itself)", NOTHING, Outcome.SUCCESS, false),
            new Scenario("IoSocket.read(fd, buf)", READ, Outcome.SUCCESS, false),
            new Scenario("IoSocket.read(fd, buf)", READ, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.read(fd, buf, off, len)", READ_RANGE, Outcome.SUCCESS, false),
            new Scenario("IoSocket.read(fd, buf, off, len)", READ_RANGE, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.readv", READV, Outcome.SUCCESS, false),
            new Scenario("IoSocket.readv", READV, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.write(fd, buf)", WRITE, Outcome.SUCCESS, false),
            new Scenario("IoSocket.write(fd, buf)", WRITE, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.write(fd, buf, off, len)", WRITE_RANGE, Outcome.SUCCESS, false),
            new Scenario("IoSocket.write(fd, buf, off, len)", WRITE_RANGE, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.writev", WRITEV, Outcome.SUCCESS, false),
            new Scenario("IoSocket.writev", WRITEV, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.accept", ACCEPT, Outcome.SUCCESS, true),
            new Scenario("IoSocket.accept (NO_MORE)", ACCEPT, Outcome.WOULD_BLOCK, false),
            new Scenario("IoSocket.finishConnect", FINISH_CONNECT, Outcome.SUCCESS, false),
            new Scenario("IoSocket.close", CLOSE, Outcome.SUCCESS, true),
            new Scenario("IoDatagram.send + receive (IPv4) + IoAddress.port, ipv4", UDP_ROUND_TRIP_V4, Outcome.SUCCESS,
                    false, "send", "receive", "peer address"),
            new Scenario("IoDatagram.send + receive, range forms (IPv6) + IoAddress.port, copyIpv6", UDP_ROUND_TRIP_V6,
                    Outcome.SUCCESS, false, "send", "receive", "peer address"),
            new Scenario("IoDatagram.receive (nothing there)", UDP_RECEIVE, Outcome.WOULD_BLOCK, false));

    private static final List<Scenario> POLLER_SCENARIOS = List.of(
            new Scenario("Poller.await(0), nothing ready", AWAIT_NOW, Outcome.SUCCESS, false),
            new Scenario("Poller.set (interest toggled)", SET, Outcome.SUCCESS, false),
            new Scenario("Poller.add + remove", ADD_REMOVE, Outcome.SUCCESS, false, "add", "remove"),
            new Scenario("Poller.wakeup + await(1000)", WAKEUP_AWAIT, Outcome.SUCCESS, false, "wakeup", "await"),
            new Scenario("Poller.set(+WRITE) + await(1000) with events + dispatch + set(-WRITE)", EVENT_TURN,
                    Outcome.SUCCESS, false, "set", "await", "dispatch", "set"),
            new Scenario("Timers.schedule + cancel", TIMER_SCHEDULE_CANCEL, Outcome.SUCCESS, false,
                    "schedule", "cancel"),
            new Scenario("Timers.scheduleAfter (moves a scheduled timer)", TIMER_MOVE, Outcome.SUCCESS, false),
            new Scenario("Timers.schedule (due) + await(0) + dispatch (runs it)", TIMER_EXPIRE, Outcome.SUCCESS, false,
                    "schedule", "await", "dispatch"));

    /** Window sizes: the interpreter is slow, C2 needs a long warm-up. */
    private record Sizes(int calls, int scarceCalls, int warmupWindows, int scarceWarmupWindows, int maxWindows) {
        static Sizes of(JitMode mode) {
            return switch (mode) {
                case C2 -> new Sizes(10_000, 200, 6, 10, 4);
                case C1 -> new Sizes(2_000, 100, 3, 3, 3);
                case INTERPRETER -> new Sizes(200, 20, 1, 1, 3);
            };
        }
    }

    private static Map<Integer, String> fdsBefore;

    @BeforeAll
    static void noteOpenDescriptors() {
        fdsBefore = Files.isDirectory(Path.of("/proc/self/fd")) ? Threads.openFds() : null;
    }

    /** Every case closes what it opened (sockets it accepted and connected included). */
    @AfterAll
    static void noDescriptorLeaked() {
        if (fdsBefore != null) {
            Map<Integer, String> leaked = Threads.added(fdsBefore, Threads.openFds());
            leaked.values().removeIf(target -> !target.startsWith("socket:"));
            assertTrue(leaked.isEmpty(), "sockets left open: " + leaked);
        }
    }

    static Stream<Arguments> socketCases() {
        return SOCKET_SCENARIOS.stream().flatMap(s -> IntStream.of(DEPTHS).mapToObj(d -> Arguments.of(s, d)));
    }

    static Stream<Arguments> pollerCases() {
        return Kinds.available().flatMap(k -> POLLER_SCENARIOS.stream()
                .flatMap(s -> IntStream.of(DEPTHS).mapToObj(d -> Arguments.of(k, s, d))));
    }

    @ParameterizedTest(name = "{0} at depth {1}")
    @MethodSource("socketCases")
    void socketCallAllocatesNothing(Scenario scenario, int depth) throws Throwable {
        try (Fixture f = new Fixture(null)) {
            Assumptions.assumeTrue(scenario.op() != UDP_ROUND_TRIP_V6 || f.udpServer6 >= 0,
                    "IPv6 loopback [::1] is not available on this machine");
            measure("-", scenario, depth, f);
        }
    }

    @ParameterizedTest(name = "{0}: {1} at depth {2}")
    @MethodSource("pollerCases")
    void pollerCallAllocatesNothing(PollerKind kind, Scenario scenario, int depth) throws Throwable {
        try (Fixture f = new Fixture(kind)) {
            measure(kind.toString(), scenario, depth, f);
        }
    }

    // ---- the fixture ----

    /** A connected pair over loopback, its listener, memory, and a poller when the case needs one. */
    private static final class Fixture implements IoHandler, TimerHandler, AutoCloseable {
        final Arena arena = Arena.ofConfined();
        final int listener;
        final int client;
        final int server;
        /** The whole-segment calls move 4 bytes. */
        final MemorySegment small = arena.allocate(4);
        /** The range and vector calls move 4 bytes of it. */
        final MemorySegment buf = arena.allocate(16);
        final MemorySegment iov = arena.allocate(IoSocket.iovecSize() * 2, 8);
        /** For filling and draining, outside the windows. */
        final MemorySegment bulk = arena.allocate(65536);
        /** The client's atom, in an app struct: registered for READ while the case runs. */
        final MemorySegment atom;
        /** The server's atom, registered only by the add + remove body. */
        final MemorySegment spare;
        /** A timer in an app struct (after a long, as apps embed it), for the timer bodies. */
        final MemorySegment timerOwner = arena.allocate(8 + IoTimer.SIZE, 8);
        final Poller poller;
        /** UDP pairs over 127.0.0.1 and [::1] (-1 where IPv6 is missing), their targets, the peer address read back. */
        final int udpServer4;
        final int udpClient4;
        final int udpServer6;
        final int udpClient6;
        final int udpClientPort4;
        final int udpClientPort6;
        final MemorySegment udpTarget4 = IoAddress.allocate(arena);
        final MemorySegment udpTarget6 = IoAddress.allocate(arena);
        final MemorySegment udpPeer = IoAddress.allocate(arena);
        final MemorySegment ipv6Copy = arena.allocate(16);

        int op;
        boolean expectWouldBlock;
        /** Descriptors prepared for close, or gathered by accept (-1 where none); fdCount of them are used. */
        int[] fds = new int[0];
        int fdCount;
        /** Connecting ends of the connections prepared for accept (-1 where none). */
        int[] peers = new int[0];
        final long[] stepBytes = new long[4];
        long lastMark;
        boolean toggle;
        long handled;
        boolean probe;
        int probedDepth;

        Fixture(PollerKind kind) throws IOException {
            int l = -1;
            int c = -1;
            int s = -1;
            Poller p = null;
            try {
                l = IoSocket.listen("127.0.0.1:0");
                c = IoSocket.connect("127.0.0.1:" + IoSocket.localPort(l));
                s = acceptOne(l);
                // accept returns once the handshake is complete, so the client is connected.
                IoSocket.finishConnect(c);
                p = kind == null ? null : Poller.open(kind, 8);
            } catch (IOException | RuntimeException e) {
                for (int fd : new int[] {s, c, l}) {
                    closeQuietly(fd);
                }
                arena.close();
                throw e;
            }
            listener = l;
            client = c;
            server = s;
            poller = p;
            udpServer4 = IoDatagram.bind("127.0.0.1:0");
            udpClient4 = IoDatagram.bind("127.0.0.1:0");
            udpClientPort4 = IoSocket.localPort(udpClient4);
            IoAddress.setIpv4(udpTarget4, 0x7f000001, IoSocket.localPort(udpServer4));
            int s6 = -1;
            int c6 = -1;
            try {
                s6 = IoDatagram.bind("[::1]:0");
                c6 = IoDatagram.bind("[::1]:0");
                IoAddress.set(udpTarget6, new java.net.InetSocketAddress(java.net.InetAddress.getByName("::1"),
                        IoSocket.localPort(s6)));
            } catch (IoException e) {
                closeQuietly(s6);
                closeQuietly(c6);
                s6 = -1;
                c6 = -1;
            }
            udpServer6 = s6;
            udpClient6 = c6;
            udpClientPort6 = c6 < 0 ? -1 : IoSocket.localPort(c6);
            atom = AppStruct.allocate(arena, 0, client);
            spare = AppStruct.allocate(arena, 1, server);
            IoSocket.iovec(iov, 0, buf, 0, 2);
            IoSocket.iovec(iov, 1, buf, 8, 2);
            if (poller != null) {
                poller.add(atom, AppStruct.IO, IoAtom.READ, this);
            }
        }

        @Override
        public void onEvents(MemorySegment owner, int events) {
            handled++;
        }

        @Override
        public void onTimer(MemorySegment owner) {
            handled++;
        }

        /**
         * Ends step {@code step} of a multi-call body (-1 starts the first): its bytes are added to
         * that step's count, for the per-call figures. The window's total is counted apart.
         */
        void mark(int step) {
            long now = THREADS.getCurrentThreadAllocatedBytes();
            if (step >= 0) {
                stepBytes[step] += now - lastMark;
            }
            lastMark = now;
        }

        int outcome(long result) {
            return (expectWouldBlock ? result == IoSocket.WOULD_BLOCK : result > 0) ? 1 : 0;
        }

        /** Sets up what every call of the next window needs. Allocates; not measured. */
        void prepare(Scenario sc, int calls) throws IOException, InterruptedException {
            closeExtras();
            fdCount = 0;
            Arrays.fill(stepBytes, 0);
            switch (sc.op()) {
                case TIMER_SCHEDULE_CANCEL, TIMER_EXPIRE -> poller.timers().cancel(timerOwner, TIMER);
                case TIMER_MOVE -> {
                    if (!IoTimer.isScheduled(timerOwner, TIMER)) {
                        poller.timers().scheduleAfter(timerOwner, TIMER, HOUR, this);
                    }
                }
                case UDP_ROUND_TRIP_V4, UDP_ROUND_TRIP_V6, UDP_RECEIVE -> {
                    // A datagram a failed window left behind would be received in the next.
                    drainDatagrams(udpServer4);
                    drainDatagrams(udpServer6);
                }
                case READ, READ_RANGE, READV -> {
                    if (!expectWouldBlock) {
                        writeUntilBlocked(client);
                    }
                }
                case WRITE, WRITE_RANGE, WRITEV -> {
                    if (expectWouldBlock) {
                        fill(client);
                    } else {
                        drain(server);
                    }
                }
                case ACCEPT -> {
                    fds = unused(calls);
                    if (!expectWouldBlock) {
                        peers = unused(calls);
                        String to = "127.0.0.1:" + IoSocket.localPort(listener);
                        for (int i = 0; i < calls; i++) {
                            peers[i] = IoSocket.connect(to);
                        }
                        // Let the handshakes complete (they run in the kernel, on loopback in microseconds).
                        Thread.sleep(20);
                    }
                }
                case CLOSE -> {
                    fds = unused(calls);
                    String to = "127.0.0.1:" + IoSocket.localPort(listener);
                    for (int i = 0; i + 1 < calls; i += 2) {
                        fds[i + 1] = IoSocket.connect(to);
                        // The accepted end is closed first: its side keeps the TIME_WAIT, so the
                        // client ports stay free for the next connections.
                        fds[i] = acceptOne(listener);
                    }
                }
                default -> {
                    // nothing to prepare
                }
            }
        }

        /** Closes the descriptors a window gathered or left (all of them, after a failure too). */
        void closeExtras() {
            for (int[] list : new int[][] {fds, peers}) {
                for (int i = 0; i < list.length; i++) {
                    closeQuietly(list[i]);
                    list[i] = -1;
                }
            }
        }

        private static int[] unused(int n) {
            int[] a = new int[n];
            Arrays.fill(a, -1);
            return a;
        }

        /**
         * Writes until the socket would block, in large then in small writes (Linux appends a small
         * write to the last queued packet while it has room, even with the send buffer full).
         *
         * @return bytes written
         */
        long writeUntilBlocked(int fd) throws IOException {
            long moved = 0;
            long n;
            while ((n = IoSocket.write(fd, bulk)) > 0) {
                moved += n;
            }
            while ((n = IoSocket.write(fd, small)) > 0) {
                moved += n;
            }
            return moved;
        }

        /**
         * Fills the socket until writes would block and stay blocked: the kernel makes room for a
         * while after the first refusal (delayed ACKs, a growing send buffer), so a fill counts only
         * after two quiet passes 50 ms apart. A socket still full from the last window needs no wait.
         */
        void fill(int fd) throws IOException, InterruptedException {
            int quietPasses = writeUntilBlocked(fd) == 0 ? 2 : 0;
            while (quietPasses < 2) {
                Thread.sleep(50);
                quietPasses = writeUntilBlocked(fd) == 0 ? quietPasses + 1 : 0;
            }
        }

        void drainDatagrams(int fd) throws IOException {
            if (fd >= 0) {
                while (IoDatagram.receive(fd, bulk, MemorySegment.NULL) != IoDatagram.WOULD_BLOCK) {
                    // dropped
                }
            }
        }

        /** Reads until nothing more arrives. */
        void drain(int fd) throws IOException, InterruptedException {
            boolean moved = true;
            while (moved) {
                moved = false;
                while (IoSocket.read(fd, bulk) > 0) {
                    moved = true;
                }
                Thread.sleep(2);
            }
        }

        @Override
        public void close() {
            if (poller != null) {
                poller.close();
            }
            closeExtras();
            closeQuietly(server);
            closeQuietly(client);
            closeQuietly(listener);
            for (int fd : new int[] {udpServer4, udpClient4, udpServer6, udpClient6}) {
                closeQuietly(fd);
            }
            arena.close();
        }
    }

    /** Where the timer sits in {@code Fixture.timerOwner}. */
    private static final long TIMER = 8;
    private static final long HOUR = 3_600_000_000_000L;

    private static int acceptOne(int listener) throws IOException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (true) {
            int fd = IoSocket.accept(listener);
            if (fd >= 0) {
                return fd;
            }
            if (System.nanoTime() > end) {
                throw new IllegalStateException("no connection to accept after 5 s");
            }
            Thread.onSpinWait();
        }
    }

    private static void closeQuietly(int fd) {
        if (fd >= 0) {
            try {
                IoSocket.close(fd);
            } catch (IoException e) {
                // already closed
            }
        }
    }

    // ---- measuring ----

    private static void measure(String kind, Scenario sc, int depth, Fixture f) throws Throwable {
        JitMode mode = JitMode.current();
        Sizes sizes = Sizes.of(mode);
        int calls = sc.scarce() ? sizes.scarceCalls() : sizes.calls();
        int slice = Math.min(SLICE, calls);

        ChainCopy chain = new ChainCopy();
        // The depth is real: count the frames once.
        f.op = NOTHING;
        f.probe = true;
        chain.run(depth, f, 1);
        f.probe = false;
        assertEquals(depth, f.probedDepth, "frames between the loop and the call");

        f.op = sc.op();
        f.expectWouldBlock = sc.outcome() == Outcome.WOULD_BLOCK;
        int warmups = sc.scarce() ? sizes.scarceWarmupWindows() : sizes.warmupWindows();
        for (int w = 0; w < warmups; w++) {
            f.prepare(sc, calls);
            runWindow(chain, depth, f, calls, slice);
            f.closeExtras();
        }
        // The counter's own first call allocates: warm it too.
        THREADS.getCurrentThreadAllocatedBytes();

        long[] windows = new long[sizes.maxWindows()];
        long[] steps = new long[sc.steps().length];
        int measured = 0;
        int clean = -1;
        // A window where the kernel let some calls take the other path (a write finding room in a
        // socket filled a moment ago) measured something else: it is discarded and repeated.
        List<String> discarded = new ArrayList<>();
        long handledBefore = f.handled;
        while (measured < windows.length && clean < 0) {
            f.prepare(sc, calls);
            long handledAtStart = f.handled;
            long before = THREADS.getCurrentThreadAllocatedBytes();
            int ok = runWindow(chain, depth, f, calls, slice);
            long after = THREADS.getCurrentThreadAllocatedBytes();
            f.closeExtras();
            if (ok != calls) {
                discarded.add(ok + "/" + calls + " on the path: " + (after - before) + " B");
                handledBefore += f.handled - handledAtStart;
                assertTrue(discarded.size() <= MAX_DISCARDED, () -> sc + ": the " + sc.outcome()
                        + " path could not be set up for a whole window; windows discarded: " + discarded);
                continue;
            }
            windows[measured] = after - before;
            System.arraycopy(f.stepBytes, 0, steps, 0, steps.length);
            if (windows[measured] == 0) {
                clean = measured;
            }
            measured++;
        }
        if (sc.op() == EVENT_TURN || sc.op() == TIMER_EXPIRE) {
            assertEquals((long) calls * measured, f.handled - handledBefore, "handler calls");
        }

        long[] seen = Arrays.copyOf(windows, measured);
        long last = seen[measured - 1];
        StringBuilder perStep = new StringBuilder();
        for (int i = 0; i < steps.length; i++) {
            perStep.append(i == 0 ? " (" : ", ").append(sc.steps()[i]).append(' ').append(perCall(steps[i], calls));
        }
        if (steps.length > 0) {
            perStep.append(')');
        }
        boolean asserted = sc.outcome() == Outcome.SUCCESS || mode == JitMode.C2 || WOULD_BLOCK_STRICT;
        String line = String.format(Locale.ROOT, "[allocation] %s | %s | depth %2d | %s | %s B/call%s | windows of %d calls: %s B%s%s",
                mode, kind, depth, sc, perCall(last, calls), perStep, calls, Arrays.toString(seen),
                discarded.isEmpty() ? "" : " | discarded (off the path): " + discarded,
                asserted ? "" : " | not asserted (-Dioatom.test.allocation.wouldBlockStrict=false)");
        System.out.println(line);
        if (asserted) {
            assertTrue(clean >= 0, mode.description() + ", " + kind + ", depth " + depth + ": " + sc
                    + " allocated in every window of " + calls + " calls: " + Arrays.toString(seen) + " bytes"
                    + (steps.length > 0 ? "; last window per call" + perStep : ""));
        }
    }

    private static String perCall(long bytes, int calls) {
        return String.format(Locale.ROOT, "%.1f", (double) bytes / calls);
    }

    /** Runs {@code calls} calls in slices; returns how many took the expected path. */
    private static int runWindow(ChainCopy chain, int depth, Fixture f, int calls, int slice) throws Throwable {
        int ok = 0;
        for (int done = 0; done < calls; done += slice) {
            ok += chain.run(depth, f, slice);
        }
        return ok;
    }

    /** Frames from the body that makes the call up to (not including) the loop. */
    static int depthBelowLoop() {
        // The chain is a hidden class: its frames are shown only on request.
        long frames = StackWalker.getInstance(StackWalker.Option.SHOW_HIDDEN_FRAMES).walk(s -> s
                .dropWhile(fr -> !fr.getMethodName().endsWith("Body"))
                .takeWhile(fr -> !fr.getMethodName().startsWith("loopAtDepth"))
                .count());
        return (int) frames;
    }

    /**
     * A fresh copy of {@link Chain} for one case: its own methods, so its own profiles and compiled
     * code, as if the case were the only app in the JVM. Without it, one shared chain would carry
     * every case's calls: its type and branch profiles and its compiled size would shape how the
     * JIT inlines the next case, which no app sees.
     */
    private static final class ChainCopy {
        private final MethodHandle[] loops = new MethodHandle[DEPTHS.length];

        ChainCopy() throws IOException, ReflectiveOperationException {
            byte[] bytes;
            try (var in = Chain.class.getResourceAsStream(Chain.class.getName().replace("org.ioatom.", "") + ".class")) {
                bytes = in.readAllBytes();
            }
            MethodHandles.Lookup copy = MethodHandles.lookup()
                    .defineHiddenClass(bytes, true, MethodHandles.Lookup.ClassOption.NESTMATE);
            MethodType loop = MethodType.methodType(int.class, Fixture.class, int.class);
            for (int i = 0; i < DEPTHS.length; i++) {
                loops[i] = copy.findStatic(copy.lookupClass(), "loopAtDepth" + DEPTHS[i], loop);
            }
        }

        int run(int depth, Fixture f, int calls) throws Throwable {
            for (int i = 0; i < DEPTHS.length; i++) {
                if (DEPTHS[i] == depth) {
                    return (int) loops[i].invokeExact(f, calls);
                }
            }
            throw new IllegalArgumentException("no loop for depth " + depth);
        }
    }

    /**
     * The app's event loop with a call chain below it, down to the body that calls the API.
     * Depth D: the loop calls d(D-2), ..., d1 calls dispatch, dispatch calls the body, the body
     * calls the API: D frames between the loop and the call. Distinct small methods, so that the
     * JIT meets the call as deep in its inlining as in a server (loop, dispatch, handler,
     * connection, parser...). Loaded once per case as a hidden class ({@link ChainCopy}).
     */
    static final class Chain {
        private Chain() {}

        // ---- the loops ----

        /** The loop itself picks the body (a switch, not a frame). */
        static int loopAtDepth1(Fixture f, int calls) throws IOException {
            int ok = 0;
            for (int i = 0; i < calls; i++) {
                switch (f.op) {
                    case NOTHING -> ok += nothingBody(f);
                    case READ -> ok += readBody(f);
                    case READ_RANGE -> ok += readRangeBody(f);
                    case READV -> ok += readvBody(f);
                    case WRITE -> ok += writeBody(f);
                    case WRITE_RANGE -> ok += writeRangeBody(f);
                    case WRITEV -> ok += writevBody(f);
                    case ACCEPT -> ok += acceptBody(f);
                    case FINISH_CONNECT -> ok += finishConnectBody(f);
                    case CLOSE -> ok += closeBody(f);
                    case AWAIT_NOW -> ok += awaitNowBody(f);
                    case SET -> ok += setBody(f);
                    case ADD_REMOVE -> ok += addRemoveBody(f);
                    case WAKEUP_AWAIT -> ok += wakeupAwaitBody(f);
                    case EVENT_TURN -> ok += eventTurnBody(f);
                    case TIMER_SCHEDULE_CANCEL -> ok += timerScheduleCancelBody(f);
                    case TIMER_MOVE -> ok += timerMoveBody(f);
                    case TIMER_EXPIRE -> ok += timerExpireBody(f);
                    case UDP_ROUND_TRIP_V4 -> ok += udpRoundTripV4Body(f);
                    case UDP_ROUND_TRIP_V6 -> ok += udpRoundTripV6Body(f);
                    case UDP_RECEIVE -> ok += udpReceiveBody(f);
                    default -> throw new IllegalStateException("unknown op");
                }
            }
            return ok;
        }

        static int loopAtDepth9(Fixture f, int calls) throws IOException {
            int ok = 0;
            for (int i = 0; i < calls; i++) {
                ok += d7(f);
            }
            return ok;
        }

        static int loopAtDepth17(Fixture f, int calls) throws IOException {
            int ok = 0;
            for (int i = 0; i < calls; i++) {
                ok += d15(f);
            }
            return ok;
        }

        static int loopAtDepth24(Fixture f, int calls) throws IOException {
            int ok = 0;
            for (int i = 0; i < calls; i++) {
                ok += d22(f);
            }
            return ok;
        }

        /** Picks the body: small, as an app's dispatch on a connection's state. */
        static int dispatch(Fixture f) throws IOException {
            switch (f.op) {
                case NOTHING: return nothingBody(f);
                case READ: return readBody(f);
                case READ_RANGE: return readRangeBody(f);
                case READV: return readvBody(f);
                case WRITE: return writeBody(f);
                case WRITE_RANGE: return writeRangeBody(f);
                case WRITEV: return writevBody(f);
                case ACCEPT: return acceptBody(f);
                case FINISH_CONNECT: return finishConnectBody(f);
                case CLOSE: return closeBody(f);
                case AWAIT_NOW: return awaitNowBody(f);
                case SET: return setBody(f);
                case ADD_REMOVE: return addRemoveBody(f);
                case WAKEUP_AWAIT: return wakeupAwaitBody(f);
                case EVENT_TURN: return eventTurnBody(f);
                case TIMER_SCHEDULE_CANCEL: return timerScheduleCancelBody(f);
                case TIMER_MOVE: return timerMoveBody(f);
                case TIMER_EXPIRE: return timerExpireBody(f);
                case UDP_ROUND_TRIP_V4: return udpRoundTripV4Body(f);
                case UDP_ROUND_TRIP_V6: return udpRoundTripV6Body(f);
                case UDP_RECEIVE: return udpReceiveBody(f);
                default: throw new IllegalStateException("unknown op");
            }
        }

        // ---- the bodies: one API call each (or one short sequence); 1 if it took the expected path ----

        static int nothingBody(Fixture f) {
            if (f.probe) {
                f.probedDepth = depthBelowLoop();
            }
            return 1;
        }

        static int readBody(Fixture f) throws IOException {
            return f.outcome(IoSocket.read(f.server, f.small));
        }

        static int readRangeBody(Fixture f) throws IOException {
            return f.outcome(IoSocket.read(f.server, f.buf, 4, 4));
        }

        static int readvBody(Fixture f) throws IOException {
            return f.outcome(IoSocket.readv(f.server, f.iov, 2));
        }

        static int writeBody(Fixture f) throws IOException {
            return f.outcome(IoSocket.write(f.client, f.small));
        }

        static int writeRangeBody(Fixture f) throws IOException {
            return f.outcome(IoSocket.write(f.client, f.buf, 4, 4));
        }

        static int writevBody(Fixture f) throws IOException {
            return f.outcome(IoSocket.writev(f.client, f.iov, 2));
        }

        static int acceptBody(Fixture f) throws IOException {
            int fd = IoSocket.accept(f.listener);
            if (fd >= 0) {
                f.fds[f.fdCount++] = fd;
            }
            return (f.expectWouldBlock ? fd == IoSocket.NO_MORE : fd >= 0) ? 1 : 0;
        }

        static int finishConnectBody(Fixture f) throws IOException {
            IoSocket.finishConnect(f.client);
            return 1;
        }

        static int closeBody(Fixture f) throws IOException {
            int fd = f.fds[f.fdCount];
            f.fds[f.fdCount++] = -1;
            IoSocket.close(fd);
            return 1;
        }

        static int awaitNowBody(Fixture f) throws IOException {
            return f.poller.await(0) == 0 ? 1 : 0;
        }

        static int setBody(Fixture f) throws IOException {
            f.toggle = !f.toggle;
            f.poller.set(f.atom, AppStruct.IO, f.toggle ? IoAtom.READ | IoAtom.WRITE : IoAtom.READ);
            return 1;
        }

        static int addRemoveBody(Fixture f) throws IOException {
            Poller p = f.poller;
            f.mark(-1);
            p.add(f.spare, AppStruct.IO, IoAtom.READ, f);
            f.mark(0);
            p.remove(f.spare, AppStruct.IO);
            f.mark(1);
            return 1;
        }

        static int wakeupAwaitBody(Fixture f) throws IOException {
            Poller p = f.poller;
            f.mark(-1);
            p.wakeup();
            f.mark(0);
            int n = p.await(1000);
            f.mark(1);
            return n == 0 ? 1 : 0;
        }

        static int eventTurnBody(Fixture f) throws IOException {
            Poller p = f.poller;
            f.mark(-1);
            p.set(f.atom, AppStruct.IO, IoAtom.READ | IoAtom.WRITE);
            f.mark(0);
            int n = p.await(1000);
            f.mark(1);
            int called = p.dispatch();
            f.mark(2);
            p.set(f.atom, AppStruct.IO, IoAtom.READ);
            f.mark(3);
            return n == 1 && called == 1 ? 1 : 0;
        }

        static int timerScheduleCancelBody(Fixture f) {
            Timers t = f.poller.timers();
            f.mark(-1);
            t.schedule(f.timerOwner, TIMER, f.poller.now() + HOUR, f);
            f.mark(0);
            boolean cancelled = t.cancel(f.timerOwner, TIMER);
            f.mark(1);
            return cancelled ? 1 : 0;
        }

        static int timerMoveBody(Fixture f) {
            f.toggle = !f.toggle;
            f.poller.timers().scheduleAfter(f.timerOwner, TIMER, f.toggle ? HOUR : 2 * HOUR, f);
            return f.poller.timers().size() == 1 ? 1 : 0;
        }

        static int timerExpireBody(Fixture f) throws IOException {
            Poller p = f.poller;
            f.mark(-1);
            p.timers().schedule(f.timerOwner, TIMER, p.now(), f);
            f.mark(0);
            int n = p.await(0);
            f.mark(1);
            int called = p.dispatch();
            f.mark(2);
            return n == 1 && called == 1 ? 1 : 0;
        }

        static int udpRoundTripV4Body(Fixture f) throws IOException {
            f.mark(-1);
            long sent = IoDatagram.send(f.udpClient4, f.small, f.udpTarget4);
            f.mark(0);
            long n = IoDatagram.WOULD_BLOCK;
            // Loopback delivers within the send, nearly always; a few more tries cover the rest.
            for (int i = 0; i < 1000 && n == IoDatagram.WOULD_BLOCK; i++) {
                n = IoDatagram.receive(f.udpServer4, f.small, f.udpPeer);
            }
            f.mark(1);
            boolean peer = IoAddress.port(f.udpPeer) == f.udpClientPort4 && IoAddress.ipv4(f.udpPeer) == 0x7f000001;
            f.mark(2);
            return sent == 4 && n == 4 && peer ? 1 : 0;
        }

        static int udpRoundTripV6Body(Fixture f) throws IOException {
            f.mark(-1);
            long sent = IoDatagram.send(f.udpClient6, f.buf, 0, 4, f.udpTarget6);
            f.mark(0);
            long n = IoDatagram.WOULD_BLOCK;
            for (int i = 0; i < 1000 && n == IoDatagram.WOULD_BLOCK; i++) {
                n = IoDatagram.receive(f.udpServer6, f.buf, 8, 8, f.udpPeer);
            }
            f.mark(1);
            IoAddress.copyIpv6(f.udpPeer, f.ipv6Copy, 0);
            boolean peer = IoAddress.port(f.udpPeer) == f.udpClientPort6 && f.ipv6Copy.get(ValueLayout.JAVA_BYTE, 15) == 1;
            f.mark(2);
            return sent == 4 && n == 4 && peer ? 1 : 0;
        }

        static int udpReceiveBody(Fixture f) throws IOException {
            return f.outcome(IoDatagram.receive(f.udpServer4, f.small, f.udpPeer));
        }

        // ---- the call chain: distinct methods, each a frame of its own to the JIT ----

        static int d1(Fixture f) throws IOException {
            return dispatch(f);
        }

        static int d2(Fixture f) throws IOException {
            return d1(f);
        }

        static int d3(Fixture f) throws IOException {
            return d2(f);
        }

        static int d4(Fixture f) throws IOException {
            return d3(f);
        }

        static int d5(Fixture f) throws IOException {
            return d4(f);
        }

        static int d6(Fixture f) throws IOException {
            return d5(f);
        }

        static int d7(Fixture f) throws IOException {
            return d6(f);
        }

        static int d8(Fixture f) throws IOException {
            return d7(f);
        }

        static int d9(Fixture f) throws IOException {
            return d8(f);
        }

        static int d10(Fixture f) throws IOException {
            return d9(f);
        }

        static int d11(Fixture f) throws IOException {
            return d10(f);
        }

        static int d12(Fixture f) throws IOException {
            return d11(f);
        }

        static int d13(Fixture f) throws IOException {
            return d12(f);
        }

        static int d14(Fixture f) throws IOException {
            return d13(f);
        }

        static int d15(Fixture f) throws IOException {
            return d14(f);
        }

        static int d16(Fixture f) throws IOException {
            return d15(f);
        }

        static int d17(Fixture f) throws IOException {
            return d16(f);
        }

        static int d18(Fixture f) throws IOException {
            return d17(f);
        }

        static int d19(Fixture f) throws IOException {
            return d18(f);
        }

        static int d20(Fixture f) throws IOException {
            return d19(f);
        }

        static int d21(Fixture f) throws IOException {
            return d20(f);
        }

        static int d22(Fixture f) throws IOException {
            return d21(f);
        }
    }
}
