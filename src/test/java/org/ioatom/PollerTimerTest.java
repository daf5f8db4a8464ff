package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.ioatom.testing.Threads;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Timers in the loop, on every backend: never early, cancel wins, order, periodic, failures. */
@Timeout(60)
class PollerTimerTest {
    /** An app struct with an id and two timers. */
    static final StructLayout APP = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("id"),
            IoTimer.LAYOUT.withName("first"),
            IoTimer.LAYOUT.withName("second"));
    static final long ID = APP.byteOffset(MemoryLayout.PathElement.groupElement("id"));
    static final long FIRST = APP.byteOffset(MemoryLayout.PathElement.groupElement("first"));
    static final long SECOND = APP.byteOffset(MemoryLayout.PathElement.groupElement("second"));

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    private Poller open(PollerKind kind) throws IOException {
        Poller p = Poller.open(kind, 16, 64);
        resources.add(p);
        return p;
    }

    private MemorySegment app(long id) {
        MemorySegment s = arena.allocate(APP);
        s.set(ValueLayout.JAVA_LONG, ID, id);
        return s;
    }

    /** Runs await + dispatch until {@code done} or the time is up. */
    private static void loopUntil(Poller p, java.util.function.BooleanSupplier done, long maxMillis) throws IOException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(maxMillis);
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            p.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
            p.dispatch();
        }
    }

    @EveryBackend
    void aTimerNeverRunsBeforeItsDeadlineAndAwaitWakesForIt(PollerKind kind) throws IOException {
        Poller p = open(kind);
        long[] ranAt = new long[1];
        MemorySegment s = app(1);
        long deadline = System.nanoTime() + 20 * MS;
        p.timers().schedule(s, FIRST, deadline, owner -> ranAt[0] = System.nanoTime());
        assertTrue(IoTimer.isScheduled(s, FIRST));
        assertEquals(deadline, IoTimer.deadline(s, FIRST));
        long start = System.nanoTime();
        int n = p.await(10_000); // must end at the deadline, not after 10 s
        assertEquals(1, n, "one timer due");
        assertTrue(System.nanoTime() - start < 5_000 * MS, "await ended for the deadline");
        assertEquals(1, p.dispatch());
        assertTrue(ranAt[0] >= deadline, "never early: ran " + (deadline - ranAt[0]) + " ns before its deadline");
        assertTrue(p.now() >= deadline, "loop time is past the deadline when the timer runs");
        assertFalse(IoTimer.isScheduled(s, FIRST));
    }

    @EveryBackend
    void aDelayCountsFromTheScheduleCallNotFromTheLoopTime(PollerKind kind) throws Exception {
        Poller p = open(kind);
        p.await(0); // loop time read now
        Thread.sleep(30); // the loop time is now 30 ms stale
        MemorySegment s = app(1);
        long before = System.nanoTime();
        long[] ranAt = new long[1];
        p.timers().scheduleAfter(s, FIRST, 20 * MS, owner -> ranAt[0] = System.nanoTime());
        assertTrue(IoTimer.deadline(s, FIRST) >= before + 20 * MS);
        loopUntil(p, () -> ranAt[0] != 0, 5000);
        assertTrue(ranAt[0] - before >= 20 * MS, "ran after " + (ranAt[0] - before) / 1000 + " us");
    }

    @EveryBackend
    void timersRunInDeadlineOrderThenScheduleOrder(PollerKind kind) throws IOException {
        Poller p = open(kind);
        List<Long> order = new ArrayList<>();
        TimerHandler record = owner -> order.add(owner.get(ValueLayout.JAVA_LONG, ID));
        long base = System.nanoTime();
        p.timers().schedule(app(3), FIRST, base + 3 * MS, record);
        p.timers().schedule(app(1), FIRST, base + MS, record);
        p.timers().schedule(app(2), FIRST, base + 3 * MS, record);
        p.timers().schedule(app(0), FIRST, base, record);
        loopUntil(p, () -> order.size() == 4, 5000);
        assertEquals(List.of(0L, 1L, 3L, 2L), order);
        assertEquals(0, p.timers().size());
    }

    @EveryBackend
    void aTimerCancelledEarlierInTheBatchNeverRunsEvenIfAlreadyDue(PollerKind kind) throws Exception {
        Poller p = open(kind);
        MemorySegment a = app(1);
        MemorySegment b = app(2);
        List<Long> ran = new ArrayList<>();
        long due = System.nanoTime();
        p.timers().schedule(a, FIRST, due, owner -> {
            ran.add(1L);
            assertTrue(p.timers().cancel(b, FIRST), "b was still scheduled");
        });
        p.timers().schedule(b, FIRST, due, owner -> ran.add(2L));
        Thread.sleep(2);
        assertEquals(2, p.await(0), "both due");
        p.dispatch();
        assertEquals(List.of(1L), ran);
        assertFalse(IoTimer.isScheduled(b, FIRST));
        assertFalse(p.timers().cancel(b, FIRST), "cancelling twice is a no-op");
    }

    @EveryBackend
    void aTimerScheduledDuringDispatchForNowRunsInTheNextDispatch(PollerKind kind) throws IOException {
        Poller p = open(kind);
        MemorySegment s = app(1);
        int[] runs = new int[2];
        p.timers().schedule(s, FIRST, System.nanoTime(), owner -> {
            runs[0]++;
            p.timers().schedule(owner, SECOND, System.nanoTime() - MS, o -> runs[1]++); // already past
        });
        p.await(0);
        assertEquals(1, p.dispatch());
        assertEquals(1, runs[0]);
        assertEquals(0, runs[1], "not in the dispatch that scheduled it");
        assertEquals(1, p.await(1000));
        assertEquals(1, p.dispatch());
        assertEquals(1, runs[1]);
    }

    @EveryBackend
    void aPeriodicTimerReschedulesItselfFromItsHandler(PollerKind kind) throws IOException {
        Poller p = open(kind);
        MemorySegment s = app(1);
        int[] ticks = new int[1];
        long start = System.nanoTime();
        TimerHandler[] tick = new TimerHandler[1];
        tick[0] = owner -> {
            ticks[0]++;
            if (ticks[0] < 5) {
                p.timers().schedule(owner, FIRST, IoTimer.deadline(owner, FIRST) + 2 * MS, tick[0]);
            }
        };
        p.timers().schedule(s, FIRST, start + 2 * MS, tick[0]);
        loopUntil(p, () -> ticks[0] == 5, 5000);
        assertEquals(5, ticks[0]);
        assertTrue(System.nanoTime() - start >= 10 * MS, "five periods of 2 ms");
        assertFalse(IoTimer.isScheduled(s, FIRST));
    }

    @EveryBackend
    void rescheduleMovesATimerAndCancelStopsIt(PollerKind kind) throws Exception {
        Poller p = open(kind);
        MemorySegment s = app(1);
        int[] runs = new int[1];
        TimerHandler h = owner -> runs[0]++;
        p.timers().scheduleAfter(s, FIRST, 0, h);
        p.timers().scheduleAfter(s, FIRST, TimeUnit.HOURS.toNanos(1), h); // moved far away
        assertEquals(1, p.timers().size());
        Thread.sleep(2);
        assertEquals(0, p.await(0));
        assertEquals(0, p.dispatch());
        assertTrue(p.timers().cancel(s, FIRST));
        assertEquals(0, p.timers().size());
        assertEquals(0, runs[0]);
    }

    @EveryBackend
    void aThrowingTimerHandlerKeepsTheRestOfTheBatch(PollerKind kind) throws Exception {
        Poller p = open(kind);
        List<Long> ran = new ArrayList<>();
        long due = System.nanoTime();
        p.timers().schedule(app(1), FIRST, due, owner -> {
            throw new IOException("boom");
        });
        p.timers().schedule(app(2), FIRST, due, owner -> ran.add(2L));
        Thread.sleep(2);
        p.await(0);
        HandlerException e = assertThrows(HandlerException.class, p::dispatch);
        assertEquals("boom", e.getCause().getMessage());
        assertEquals(HandlerException.Source.TIMER, e.source());
        assertEquals(-1, e.fd());
        assertEquals(1L, e.owner().get(ValueLayout.JAVA_LONG, ID));
        assertEquals(FIRST, e.atomOffset());
        assertEquals(List.of(), ran);
        assertEquals(1, p.await(10_000), "the rest is due at once");
        assertEquals(1, p.dispatch());
        assertEquals(List.of(2L), ran);
    }

    @EveryBackend
    void timersAndIoEventsShareADispatchIoFirst(PollerKind kind) throws IOException {
        Poller p = open(kind);
        TestPipe pipe = new TestPipe(arena);
        resources.add(pipe);
        List<String> order = new ArrayList<>();
        MemorySegment conn = app(1);
        MemorySegment atom = arena.allocate(IoAtom.LAYOUT);
        IoAtom.init(atom, pipe.readFd());
        p.add(atom, IoAtom.READ, (owner, events) -> {
            order.add("io");
            pipe.drain();
        });
        p.timers().schedule(conn, FIRST, System.nanoTime(), owner -> order.add("timer"));
        pipe.write(1);
        loopUntil(p, () -> order.size() == 2, 5000);
        assertEquals(List.of("io", "timer"), order);
        p.remove(atom);
    }

    @EveryBackend
    void aSignalDuringATimedAwaitDoesNotEndItEarly(PollerKind kind) throws Exception {
        Assumptions.assumeTrue(Threads.handlerInstalled(Threads.SIGPIPE),
                "the JVM has no SIGPIPE handler here (-Xrs?): no safe signal interrupts a wait");
        Poller p = open(kind);
        int[] tid = new int[1];
        Thread signaller = new Thread(() -> {
            try {
                while (tid[0] == 0) {
                    Thread.onSpinWait();
                }
                for (int i = 0; i < 10; i++) {
                    Thread.sleep(10);
                    Threads.tgkill(tid[0], Threads.SIGPIPE);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        signaller.start();
        tid[0] = Threads.gettid();
        long start = System.nanoTime();
        int n = p.await(300);
        long took = System.nanoTime() - start;
        signaller.join();
        assertEquals(0, n);
        assertTrue(took >= 300 * MS, "await(300) ended after " + took / 1_000_000 + " ms");
    }

    @EveryBackend
    void misuseIsAClearExceptionAndLeavesThePollerUsable(PollerKind kind) throws IOException {
        Poller p = Poller.open(kind, 4, 2);
        resources.add(p);
        Poller other = open(kind);
        MemorySegment a = app(1);
        MemorySegment b = app(2);
        MemorySegment c = app(3);
        TimerHandler nothing = owner -> { };
        p.timers().scheduleAfter(a, FIRST, TimeUnit.HOURS.toNanos(1), nothing);
        p.timers().scheduleAfter(b, FIRST, TimeUnit.HOURS.toNanos(1), nothing);
        var full = assertThrows(IllegalStateException.class,
                () -> p.timers().scheduleAfter(c, FIRST, TimeUnit.HOURS.toNanos(1), nothing));
        assertTrue(full.getMessage().startsWith("timer capacity 2 reached"), full.getMessage());
        var foreign = assertThrows(IllegalStateException.class, () -> other.timers().cancel(a, FIRST));
        assertEquals("timer is scheduled with another poller; cancel it there first", foreign.getMessage());
        assertThrows(NullPointerException.class, () -> p.timers().scheduleAfter(c, FIRST, 1, null));
        assertThrows(IllegalArgumentException.class, () -> p.timers().scheduleAfter(c, APP.byteSize() - 8, 1, nothing));
        assertTrue(p.timers().cancel(a, FIRST));
        p.timers().scheduleAfter(c, FIRST, TimeUnit.HOURS.toNanos(1), nothing);
        assertEquals(2, p.timers().size());
        p.close();
        assertThrows(IllegalStateException.class, () -> p.timers().scheduleAfter(a, FIRST, 1, nothing));
    }

    @EveryBackend
    void aTimerWhoseArenaClosedIsDroppedNotRun(PollerKind kind) throws Exception {
        Poller p = open(kind);
        int[] runs = new int[1];
        Arena gone = Arena.ofShared();
        MemorySegment g = gone.allocate(APP);
        p.timers().schedule(g, FIRST, System.nanoTime(), owner -> runs[0]++);
        p.timers().schedule(app(2), FIRST, System.nanoTime(), owner -> runs[0] += 10);
        gone.close();
        Thread.sleep(2);
        p.await(0);
        p.dispatch();
        assertEquals(10, runs[0]);
        assertEquals(0, p.timers().size());
    }

    @EveryBackend
    void theLoopTimeIsReadOncePerAwait(PollerKind kind) throws Exception {
        Poller p = open(kind);
        p.await(0);
        long t = p.now();
        Thread.sleep(5);
        assertEquals(t, p.now(), "unchanged until the next await");
        long[] seen = new long[1];
        p.timers().schedule(app(1), FIRST, System.nanoTime(), owner -> seen[0] = p.now());
        p.await(1000);
        assertTrue(p.now() > t);
        p.dispatch();
        assertEquals(p.now(), seen[0], "handlers see the loop time of the await before");
    }

    @EveryBackend
    void aMillionTimersCanBeScheduledAndCancelled(PollerKind kind) throws IOException {
        int n = 1_000_000;
        Poller p = Poller.open(kind, 4, n);
        resources.add(p);
        MemorySegment timers = arena.allocate(IoTimer.LAYOUT, n);
        TimerHandler nothing = owner -> { };
        long base = System.nanoTime() + TimeUnit.HOURS.toNanos(1);
        for (int i = 0; i < n; i++) {
            p.timers().schedule(timers, i * IoTimer.SIZE, base + (i * 7919L) % n, nothing);
        }
        assertEquals(n, p.timers().size());
        for (int i = 0; i < n; i += 2) {
            assertTrue(p.timers().cancel(timers, i * IoTimer.SIZE));
        }
        assertEquals(n / 2, p.timers().size());
    }
}
