package org.ioatom;

import static org.ioatom.IoAtom.ERROR;
import static org.ioatom.IoAtom.HUP;
import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.ioatom.internal.linux.Linger;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.ioatom.testing.Threads;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the OS throws at a poller: a signal interrupting the wait (EINTR), a peer that resets
 * the connection, writes to a vanished peer, and a half-closed connection. Every backend,
 * loopback only.
 *
 * <p>The signal: HotSpot installs a handler for SIGPIPE that ignores it (so that writes to
 * closed sockets do not kill the JVM). A SIGPIPE sent with tgkill to the thread blocked in
 * epoll_wait/poll/select therefore runs that handler and makes the call fail with EINTR (Linux
 * never restarts these calls, SA_RESTART or not), without disturbing the JVM. Signals whose
 * disposition is "ignore" (SIGURG, SIGWINCH by default) would not interrupt the call at all;
 * signals the JVM reserves (SIGUSR2, SIGSEGV, SIGQUIT) must not be used. The test checks in
 * /proc/self/status that the handler is installed and is skipped otherwise (e.g. under -Xrs).
 */
@Timeout(60)
@Tag(Tags.SYSCALLS)
class PollerOsFaultsTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    private Poller open(PollerKind kind) throws IOException {
        Poller p = Poller.open(kind, 16);
        resources.add(p);
        return p;
    }

    // ---- EINTR ----

    @EveryBackend
    void aSignalInterruptingAnUnboundedAwaitDoesNotEndItAndLosesNothing(PollerKind kind) throws Exception {
        Assumptions.assumeTrue(Threads.handlerInstalled(Threads.SIGPIPE),
                "the JVM has no SIGPIPE handler here (-Xrs?): no safe signal interrupts a wait");
        Poller poller = open(kind);
        TestPipe pipe = new TestPipe(arena);
        resources.add(pipe);
        AtomicInteger received = new AtomicInteger();
        AtomicInteger zeroReturns = new AtomicInteger();
        poller.add(AppStruct.allocate(arena, 1, pipe.readFd()), AppStruct.IO, READ,
                (owner, events) -> received.addAndGet((int) Math.max(pipe.drain(), 0)));
        int[] tid = {0};
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger phase = new AtomicInteger();
        Thread loop = new Thread(() -> {
            tid[0] = Threads.gettid();
            try {
                while (phase.get() < 2) {
                    if (poller.await(-1) == 0) {
                        zeroReturns.incrementAndGet();
                    }
                    poller.dispatch();
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "signalled-loop");
        loop.setDaemon(true);
        loop.start();
        while (tid[0] == 0) {
            Thread.sleep(1);
        }
        try {
            // 1. Nothing ready, nobody wakes it: signals interrupt the wait (EINTR), and the
            // poller waits on for the time left, here without limit. The thread wakes for each
            // signal (its voluntary context switches grow) but await does not return.
            Threads.awaitSleeping(tid[0]);
            long switches = Threads.voluntaryContextSwitches(tid[0]);
            for (int i = 0; i < 5; i++) {
                assertEquals(0, Threads.tgkill(tid[0], Threads.SIGPIPE));
                Thread.sleep(50);
            }
            Threads.awaitSleeping(tid[0]);
            assertTrue(Threads.voluntaryContextSwitches(tid[0]) > switches, "the signals woke the waiting thread");
            assertEquals(0, zeroReturns.get(), "await(-1) went on waiting after EINTR");
            // 2. Signals racing with data, in both orders: every byte is delivered.
            for (int i = 1; i <= 200; i++) {
                if ((i & 1) == 0) {
                    pipe.write(1);
                    Threads.tgkill(tid[0], Threads.SIGPIPE);
                } else {
                    Threads.tgkill(tid[0], Threads.SIGPIPE);
                    pipe.write(1);
                }
                long end = System.nanoTime() + 5_000_000_000L;
                while (received.get() < i && System.nanoTime() < end) {
                    Thread.onSpinWait();
                }
                if (received.get() < i) {
                    fail("byte " + i + " was not delivered within 5 s after a signal: lost wake-up");
                }
            }
        } finally {
            phase.set(2);
            poller.wakeup();
            loop.join(5000);
        }
        assertFalse(loop.isAlive());
        assertNull(failure.get(), () -> "the loop failed: " + failure.get());
        assertEquals(200, received.get());
        assertTrue(Threads.handlerInstalled(Threads.SIGPIPE), "the JVM's handler is untouched");
    }

    // ---- sockets ----

    /** SO_LINGER {on, 0 s}: close sends RST instead of FIN. IoSocket does not expose it. */
    private void lingerZero(int fd) throws Throwable {
        MemorySegment l = arena.allocate(Linger.LAYOUT);
        l.set(ValueLayout.JAVA_INT, Linger.L_ONOFF_OFFSET, 1);
        l.set(ValueLayout.JAVA_INT, Linger.L_LINGER_OFFSET, 0);
        assertEquals(0, Syscalls.setsockopt(fd, Linux.SOL_SOCKET, Linux.SO_LINGER, l, (int) Linger.SIZE),
                "setsockopt(SO_LINGER)");
    }

    /** A connected loopback pair: [client, server side], both non-blocking. */
    private int[] connectedPair() throws Exception {
        int listener = IoSocket.listen("127.0.0.1:0");
        resources.socket(listener);
        int client = IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener));
        resources.socket(client);
        int server = IoSocket.NO_MORE;
        long end = System.nanoTime() + 5_000_000_000L;
        while ((server = IoSocket.accept(listener)) == IoSocket.NO_MORE && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(server >= 0, "accepted");
        resources.socket(server);
        return new int[] {client, server};
    }

    /** Runs rounds until {@code done} or 10 s pass. */
    private static void loopUntil(Poller poller, java.util.function.BooleanSupplier done) throws IOException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!done.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "timed out");
            poller.await(100);
            poller.dispatch();
        }
    }

    private static void assertEventsWithin(int events, int interest) {
        assertTrue(events != 0 && (events & ~(interest | HUP | ERROR)) == 0, IoAtom.toString(events));
    }

    @EveryBackend
    void aPeerResetIsReportedAndTheReadSaysEconnreset(PollerKind kind) throws Throwable {
        Poller poller = open(kind);
        int[] pair = connectedPair();
        int client = pair[0];
        int server = pair[1];
        MemorySegment buf = arena.allocate(4096);
        List<String> outcomes = new ArrayList<>();
        int[] seen = {0};
        poller.add(AppStruct.allocate(arena, 1, server), AppStruct.IO, READ, (owner, events) -> {
            assertEventsWithin(events, READ);
            seen[0] |= events;
            try {
                long r;
                while ((r = IoSocket.read(server, buf)) > 0) {
                    outcomes.add("data");
                }
                if (r == IoSocket.WOULD_BLOCK) {
                    return; // not yet (a spurious report is allowed)
                }
                outcomes.add("EOF");
            } catch (IoException e) {
                outcomes.add(e.errnoName());
            }
            poller.remove(owner, AppStruct.IO);
        });
        lingerZero(client);
        IoSocket.close(client);
        resources.forget(client);
        loopUntil(poller, () -> poller.size() == 0);
        assertEquals(List.of("ECONNRESET"), outcomes, "the read after a reset fails with ECONNRESET");
        assertTrue((seen[0] & READ) != 0);
        if (kind != PollerKind.SELECT) {
            assertTrue((seen[0] & (HUP | ERROR)) != 0, "a reset is a HUP/ERROR: " + IoAtom.toString(seen[0]));
        }
        // After the reset was reported: end of stream, and writes fail with EPIPE (no signal).
        assertEquals(IoSocket.EOF, IoSocket.read(server, buf));
        IoException e = org.junit.jupiter.api.Assertions.assertThrows(IoException.class,
                () -> IoSocket.write(server, buf));
        assertEquals("EPIPE", e.errnoName(), e.getMessage());
    }

    @EveryBackend
    void writingToAVanishedPeerFailsWithEpipeOrEconnresetAndNoSignalKillsUs(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        int[] pair = connectedPair();
        int client = pair[0];
        int server = pair[1];
        IoSocket.close(server);
        resources.forget(server);
        MemorySegment chunk = arena.allocate(1024);
        List<String> failures = new ArrayList<>();
        int[] seen = {0};
        poller.add(AppStruct.allocate(arena, 1, client), AppStruct.IO, READ | WRITE, (owner, events) -> {
            assertEventsWithin(events, READ | WRITE);
            seen[0] |= events;
            try {
                while (IoSocket.write(client, chunk) > 0) {
                    // the first writes still succeed: the kernel learns of the closed peer from its RST
                }
            } catch (IoException e) {
                failures.add(e.errnoName());
                poller.remove(owner, AppStruct.IO);
            }
        });
        loopUntil(poller, () -> !failures.isEmpty());
        assertTrue(Set.of("EPIPE", "ECONNRESET").contains(failures.get(0)), failures.toString());
        // And again, now certainly EPIPE: the pending error was consumed.
        IoException again = org.junit.jupiter.api.Assertions.assertThrows(IoException.class,
                () -> IoSocket.write(client, chunk));
        assertEquals("EPIPE", again.errnoName());
    }

    @EveryBackend
    void halfCloseDeliversThePendingDataThenEndOfStreamAndTheOtherDirectionStillWorks(PollerKind kind)
            throws Exception {
        Poller poller = open(kind);
        int[] pair = connectedPair();
        int client = pair[0];
        int server = pair[1];
        int total = 300_000;
        MemorySegment out = arena.allocate(total);
        for (int i = 0; i < total; i++) {
            out.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
        }
        MemorySegment in = arena.allocate(total + 1);
        MemorySegment small = arena.allocate(64);
        long[] sent = {0};
        long[] got = {0};
        boolean[] serverEof = {false};
        boolean[] clientEof = {false};
        long[] replyGot = {0};
        MemorySegment cs = AppStruct.allocate(arena, 1, client);
        MemorySegment ss = AppStruct.allocate(arena, 2, server);
        // Client: send everything, then shut down its output; keep reading the reply.
        poller.add(cs, AppStruct.IO, READ | WRITE, (owner, events) -> {
            assertEventsWithin(events, IoAtom.interest(owner, AppStruct.IO));
            if ((events & WRITE) != 0 && sent[0] < total) {
                long w;
                while (sent[0] < total && (w = IoSocket.write(client, out.asSlice(sent[0]))) > 0) {
                    sent[0] += w;
                }
                if (sent[0] == total) {
                    IoSocket.shutdownOutput(client);
                    poller.set(owner, AppStruct.IO, READ);
                }
            }
            if ((events & READ) != 0) {
                long r;
                while ((r = IoSocket.read(client, small)) > 0) {
                    replyGot[0] += r;
                }
                if (r == IoSocket.EOF) {
                    clientEof[0] = true;
                    poller.remove(owner, AppStruct.IO);
                }
            }
        });
        // Server: read everything until end of stream, then reply and close.
        poller.add(ss, AppStruct.IO, READ, (owner, events) -> {
            assertEventsWithin(events, READ);
            long r;
            while ((r = IoSocket.read(server, in.asSlice(got[0]))) > 0) {
                got[0] += r;
            }
            if (r == IoSocket.EOF) {
                serverEof[0] = true;
                poller.remove(owner, AppStruct.IO);
                // The client only shut down its output: it still reads.
                assertEquals(5, IoSocket.write(server, small.asSlice(0, 5)));
                IoSocket.close(server);
                resources.forget(server);
            }
        });
        loopUntil(poller, () -> serverEof[0] && clientEof[0]);
        assertEquals(total, sent[0]);
        assertEquals(total, got[0], "every byte sent before the half-close arrived before end of stream");
        assertEquals(-1, in.asSlice(0, total).mismatch(out), "in order, intact");
        assertEquals(5, replyGot[0], "the reply after the half-close arrived");
    }
}
