package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.ioatom.testing.Threads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;

/**
 * Stale state and misuse in the middle of a batch, and the threading contract: every backend.
 * The reentrancy checks live in {@link PollerMisuseTest}.
 */
@Timeout(60)
class PollerStaleStateTest {
    private final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    @AfterEach
    void tearDown() throws Exception {
        resources.close();
    }

    private Poller open(PollerKind kind) throws IOException {
        return resources.poller(kind, 16);
    }

    private TestPipe pipe() throws IOException {
        return resources.pipe();
    }

    private static int id(MemorySegment owner) {
        return (int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID);
    }

    private void assertUsable(Poller poller) throws IOException {
        TestPipe p = pipe();
        MemorySegment s = AppStruct.allocate(arena, 99, p.readFd());
        poller.add(s, AppStruct.IO, READ, (owner, events) -> AppStruct.record(owner, events));
        p.write(1);
        assertTrue(poller.await(5000) >= 1);
        poller.dispatch();
        assertEquals(1, AppStruct.calls(s));
        poller.remove(s, AppStruct.IO);
    }

    // ---- memory and poller closed mid-batch ----

    @EveryBackend
    void arenaClosedInAHandlerForAtomsLaterInTheSameBatchIsDroppedNotCalled(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        int n = 4;
        Arena[] arenas = new Arena[n];
        TestPipe[] pipes = new TestPipe[n];
        int[] calls = new int[n];
        IoHandler closeTheOthers = (owner, events) -> {
            int me = id(owner);
            calls[me]++;
            pipes[me].drain();
            for (int i = 0; i < n; i++) {
                if (i != me && arenas[i].scope().isAlive()) {
                    arenas[i].close();
                }
            }
        };
        for (int i = 0; i < n; i++) {
            arenas[i] = Arena.ofShared();
            pipes[i] = pipe();
            poller.add(AppStruct.allocate(arenas[i], i, pipes[i].readFd()), AppStruct.IO, READ, closeTheOthers);
            pipes[i].write(1);
        }
        assertEquals(n, poller.await(5000));
        assertEquals(1, poller.dispatch(), "only the first handler runs; the others' memory is gone");
        assertEquals(1, java.util.Arrays.stream(calls).sum());
        assertEquals(1, poller.size(), "the dead registrations were dropped");
        // The dead atoms' fds are free for new atoms, which get events as usual.
        for (int i = 0; i < n; i++) {
            if (calls[i] == 0) {
                MemorySegment fresh = AppStruct.allocate(arena, 10 + i, pipes[i].readFd());
                poller.add(fresh, AppStruct.IO, READ, (owner, events) -> AppStruct.record(owner, events));
                pipes[i].write(1);
                for (int round = 0; round < 5 && AppStruct.calls(fresh) == 0; round++) {
                    poller.await(1000);
                    poller.dispatch();
                }
                assertTrue(AppStruct.calls(fresh) >= 1, "a new atom on a dead atom's fd gets its events");
                poller.remove(fresh, AppStruct.IO);
            }
        }
        for (Arena a : arenas) {
            if (a.scope().isAlive()) {
                a.close();
            }
        }
        assertUsable(poller);
    }

    @EveryBackend
    void pollerClosedFromAHandlerRejectsFurtherCallsAndLeavesTheFdsOpen(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        List<Exception> inHandler = new ArrayList<>();
        TestPipe[] pipes = new TestPipe[3];
        MemorySegment[] structs = new MemorySegment[3];
        IoHandler closeThenMisuse = (owner, events) -> {
            AppStruct.record(owner, events);
            poller.close();
            poller.close();
            poller.wakeup();
            for (MemorySegment s : structs) {
                try {
                    poller.set(s, AppStruct.IO, 0);
                } catch (IllegalStateException e) {
                    inHandler.add(e);
                }
            }
            try {
                poller.add(AppStruct.allocate(arena, 7, pipes[0].readFd()), AppStruct.IO, READ, (o, e) -> { });
            } catch (IllegalStateException e) {
                inHandler.add(e);
            }
        };
        for (int i = 0; i < 3; i++) {
            pipes[i] = pipe();
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, closeThenMisuse);
            pipes[i].write(3);
        }
        assertEquals(3, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertEquals(4, inHandler.size());
        for (Exception e : inHandler) {
            assertEquals("poller is closed", e.getMessage());
        }
        assertEquals(0, poller.size());
        // The fds stay open, their data unread: another poller picks them up.
        try (Poller other = Poller.open(kind, 4)) {
            int[] got = {0};
            for (MemorySegment s : structs) {
                assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
                other.add(s, AppStruct.IO, READ, (owner, events) -> got[0] += (int) pipes[id(owner)].drain());
            }
            for (int round = 0; round < 5 && got[0] < 9; round++) {
                other.await(1000);
                other.dispatch();
            }
            assertEquals(9, got[0], "every byte is still there");
        }
    }

    @EveryBackend
    void handlerExceptionsMidBatchAndAgainOnTheNextDispatchLoseNothing(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        int n = 6;
        TestPipe[] pipes = new TestPipe[n];
        MemorySegment[] structs = new MemorySegment[n];
        int[] calls = new int[n];
        int[] victim = {-1};
        IoHandler handler = (owner, events) -> {
            int me = id(owner);
            calls[me]++;
            pipes[me].drain();
            int called = java.util.Arrays.stream(calls).sum();
            if (called == 1) {
                // The first handler removes an atom that has not run yet, then fails.
                for (int i = 0; i < n; i++) {
                    if (calls[i] == 0) {
                        victim[0] = i;
                        poller.remove(structs[i], AppStruct.IO);
                        break;
                    }
                }
                throw new IOException("first failure, from atom " + me);
            }
            if (called == 2) {
                throw new IllegalArgumentException("second failure (unchecked), from atom " + me);
            }
            if (called == 3) {
                throw new IOException("third failure, from atom " + me);
            }
        };
        for (int i = 0; i < n; i++) {
            pipes[i] = pipe();
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, handler);
            pipes[i].write(1);
        }
        assertEquals(n, poller.await(5000));
        var first = assertThrows(IOException.class, poller::dispatch);
        assertTrue(first.getMessage().startsWith("first failure"), first.getMessage());
        // await returns at once with the rest of the batch (including the removed atom's stale entry).
        assertEquals(n - 1, poller.await(-1));
        var second = assertThrows(IllegalArgumentException.class, poller::dispatch);
        assertTrue(second.getMessage().startsWith("second failure"));
        var third = assertThrows(IOException.class, poller::dispatch);
        assertTrue(third.getMessage().startsWith("third failure"));
        assertEquals(n - 4, poller.dispatch(), "the rest of the batch, minus the removed atom");
        for (int i = 0; i < n; i++) {
            assertEquals(i == victim[0] ? 0 : 1, calls[i], "atom " + i + " (victim " + victim[0] + ")");
        }
        assertEquals(n - 1, poller.size());
        assertEquals(0, poller.await(0), "everything was drained; nothing is reported twice");
        assertUsable(poller);
    }

    // ---- threads ----

    /** Runs {@code body} on a new thread; returns the thread and a slot for what it threw. */
    private static Thread start(String name, AtomicReference<Throwable> failure, ThrowingRunnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @EveryBackend
    void aSecondThreadIsRejectedWhileTheFirstIsInsideDispatch(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        TestPipe p = pipe();
        TestPipe other = pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        MemorySegment o = AppStruct.allocate(arena, 2, other.readFd());
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        poller.add(s, AppStruct.IO, READ, (owner, events) -> {
            AppStruct.record(owner, events);
            p.drain();
            inHandler.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        poller.add(o, AppStruct.IO, READ, (owner, events) -> { });
        p.write(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread loop = start("loop-thread", failure, () -> {
            assertEquals(1, poller.await(5000));
            assertEquals(1, poller.dispatch());
        });
        assertTrue(inHandler.await(10, TimeUnit.SECONDS));
        List<IllegalStateException> rejected = new ArrayList<>();
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.await(0)));
        rejected.add(assertThrows(IllegalStateException.class, poller::dispatch));
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.set(o, AppStruct.IO, 0)));
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.remove(o, AppStruct.IO)));
        MemorySegment third = AppStruct.allocate(arena, 3, pipe().readFd());
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.add(third, AppStruct.IO, READ, (x, y) -> { })));
        for (IllegalStateException e : rejected) {
            assertTrue(e.getMessage().contains("while thread \"loop-thread\" is using the poller"), e.getMessage());
        }
        assertEquals(READ, IoAtom.events(o, AppStruct.IO), "the rejected set changed nothing");
        assertFalse(IoAtom.isRegistered(third, AppStruct.IO), "the rejected add changed nothing");
        assertEquals(2, poller.size());
        poller.wakeup(); // any thread, any time
        release.countDown();
        loop.join(10_000);
        assertNull(failure.get());
        assertEquals(1, AppStruct.calls(s));
        // Calls that do not overlap may come from another thread: the loop is handed back here.
        assertUsable(poller);
    }

    @EveryBackend
    void addFromAnotherThreadWhileTheLoopIsBlockedInAwaitIsRejected(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        TestPipe p = pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] returned = {-1};
        Thread loop = start("blocked-loop", failure, () -> {
            while (true) {
                try {
                    returned[0] = poller.await(-1);
                    return;
                } catch (IllegalStateException e) {
                    // This thread lost the race to the add below, which had the poller: try again.
                    assertTrue(e.getMessage().contains("is using the poller"), e.getMessage());
                }
            }
        });
        IllegalStateException rejected = null;
        String call = "add";
        long end = System.nanoTime() + 10_000_000_000L;
        while (rejected == null && System.nanoTime() < end) {
            try {
                call = "add";
                poller.add(s, AppStruct.IO, READ, (owner, events) -> { });
                call = "remove";
                poller.remove(s, AppStruct.IO); // the loop was not in await yet: undo, try again
                Thread.sleep(1);
            } catch (IllegalStateException e) {
                rejected = e;
            }
        }
        assertTrue(rejected != null, "add/remove was never rejected while the loop was blocked");
        assertTrue(rejected.getMessage().contains(call + "() from thread \"" + Thread.currentThread().getName()
                + "\" while thread \"blocked-loop\" is using the poller"), rejected.getMessage());
        boolean addRejected = call.equals("add");
        assertEquals(!addRejected, IoAtom.isRegistered(s, AppStruct.IO), "the rejected call changed nothing");
        assertEquals(addRejected ? 0 : 1, poller.size());
        poller.wakeup(); // the way in: wake the loop, which registers on its own thread
        loop.join(10_000);
        assertFalse(loop.isAlive());
        assertNull(failure.get());
        assertEquals(0, returned[0]);
        if (!addRejected) {
            poller.remove(s, AppStruct.IO); // the loop has returned: this thread may use the poller now
        }
        assertEquals(0, poller.size());
    }

    @EveryBackend
    void twoThreadsHammeringAwaitAndDispatchNeverCorruptTheBatch(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        int n = 4;
        TestPipe[] pipes = new TestPipe[n];
        long[] bytes = new long[n];
        IoHandler h = (owner, events) -> {
            long r = pipes[id(owner)].drain();
            bytes[id(owner)] += Math.max(r, 0);
        };
        for (int i = 0; i < n; i++) {
            pipes[i] = pipe();
            poller.add(AppStruct.allocate(arena, i, pipes[i].readFd()), AppStruct.IO, READ, h);
        }
        long deadline = System.nanoTime() + 1_000_000_000L;
        java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] rejections = new int[2];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int me = t;
            threads[t] = start("poller-user-" + t, failure, () -> {
                while (System.nanoTime() < deadline) {
                    try {
                        written.addAndGet(Math.max(pipes[ThreadLocalRandom.current().nextInt(n)].write(1), 0));
                        poller.await(1);
                        poller.dispatch();
                    } catch (IllegalStateException e) {
                        if (!e.getMessage().contains("is using the poller")) {
                            throw e;
                        }
                        rejections[me]++;
                    }
                }
            });
        }
        for (Thread t : threads) {
            t.join(20_000);
        }
        assertNull(failure.get(), () -> "unexpected failure: " + failure.get());
        // Whatever interleaving happened, the poller is intact and nothing written is lost.
        long read = 0;
        for (int i = 0; i < n; i++) {
            read += bytes[i] + Math.max(pipes[i].drain(), 0);
        }
        assertTrue(written.get() > 0);
        assertEquals(written.get(), read, "every byte written was read once");
        assertEquals(n, poller.size());
        assertUsable(poller);
    }

    @EveryBackend
    void closeFromAnotherThreadWhileAwaitIsBlockedWakesItAndFreesEverything(PollerKind kind) throws Exception {
        int woken = 0;
        for (int iteration = 0; iteration < 30; iteration++) {
            Map<Integer, String> before = Threads.openFds();
            Poller poller = Poller.open(kind, 8);
            Map<Integer, String> own = Threads.added(before, Threads.openFds());
            own.values().removeIf(target -> !target.startsWith("anon_inode:")); // epoll, eventfd
            TestPipe p = pipe();
            MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
            poller.add(s, AppStruct.IO, READ, (owner, events) -> fail("nothing was written"));
            int[] tid = {0};
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread waiter = start("waiter", failure, () -> {
                tid[0] = Threads.gettid();
                started.countDown();
                try {
                    outcome.set(poller.await(-1));
                } catch (IllegalStateException e) {
                    outcome.set(e.getMessage());
                }
            });
            started.await();
            if (iteration % 3 != 0) {
                Threads.awaitSleeping(tid[0]);
            } else if (iteration % 2 == 0) {
                Thread.onSpinWait(); // race the close against the claim
            }
            poller.close();
            waiter.join(10_000);
            assertFalse(waiter.isAlive(), "await(-1) must end when another thread closes the poller");
            assertNull(failure.get(), () -> "await threw " + failure.get());
            Object r = outcome.get();
            if (Integer.valueOf(0).equals(r)) {
                woken++;
            } else {
                assertEquals("poller is closed", r, "await either was woken (0) or found the poller closed");
            }
            assertFalse(poller.isOpen());
            assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
            Map<Integer, String> now = Threads.openFds();
            own.forEach((fd, target) -> assertFalse(target.equals(now.get(fd)),
                    "the poller's fd " + fd + " (" + target + ") was closed"));
            var e = assertThrows(IllegalStateException.class, () -> poller.await(0));
            assertEquals("poller is closed", e.getMessage());
            poller.close();
            poller.wakeup();
        }
        assertTrue(woken > 0, "at least one close hit a blocked await");
    }

    @EveryBackend
    void closeFromAnotherThreadDuringDispatchStopsAfterTheRunningHandler(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        int n = 3;
        TestPipe[] pipes = new TestPipe[n];
        MemorySegment[] structs = new MemorySegment[n];
        int[] calls = {0};
        CountDownLatch inHandler = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        List<String> afterClose = new ArrayList<>();
        IoHandler h = (owner, events) -> {
            calls[0]++;
            inHandler.countDown();
            try {
                assertTrue(closed.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            // The memory of the poller is still there: the close waits for this thread.
            try {
                poller.set(owner, AppStruct.IO, 0);
            } catch (IllegalStateException e) {
                afterClose.add(e.getMessage());
            }
        };
        for (int i = 0; i < n; i++) {
            pipes[i] = pipe();
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, h);
            pipes[i].write(1);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] dispatched = {-1};
        Thread loop = start("loop", failure, () -> {
            assertEquals(n, poller.await(5000));
            dispatched[0] = poller.dispatch();
        });
        assertTrue(inHandler.await(10, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        poller.close();
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "close from another thread does not wait for the loop");
        assertFalse(poller.isOpen());
        closed.countDown();
        loop.join(10_000);
        assertNull(failure.get());
        assertEquals(1, dispatched[0], "dispatch stopped after the running handler");
        assertEquals(List.of("poller is closed"), afterClose);
        for (MemorySegment s : structs) {
            assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
        }
    }

    @EveryBackend
    void wakeupFromManyThreadsRacingCloseNeverFails(PollerKind kind) throws Exception {
        for (int iteration = 0; iteration < 20; iteration++) {
            Poller poller = Poller.open(kind, 4);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch go = new CountDownLatch(1);
            Set<Thread> threads = new HashSet<>();
            for (int t = 0; t < 3; t++) {
                threads.add(start("waker-" + t, failure, () -> {
                    go.await();
                    for (int i = 0; i < 2000; i++) {
                        poller.wakeup();
                    }
                }));
            }
            threads.add(start("looper", failure, () -> {
                go.await();
                try {
                    while (true) {
                        poller.await(-1);
                        poller.dispatch();
                    }
                } catch (IllegalStateException e) {
                    assertEquals("poller is closed", e.getMessage());
                }
            }));
            go.countDown();
            if (iteration % 2 == 0) {
                Thread.sleep(1);
            }
            poller.close();
            for (Thread t : threads) {
                t.join(10_000);
                assertFalse(t.isAlive(), t.getName() + " finished");
            }
            assertNull(failure.get(), () -> "failure: " + failure.get());
        }
    }
}
