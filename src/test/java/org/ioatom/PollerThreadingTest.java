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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.ioatom.testing.Threads;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The threading contract of Poller's class comment, through the public API on every backend: one
 * thread at a time uses a poller (overlapping calls from a second thread are rejected and change
 * nothing), {@code wakeup()} and {@code close()} may come from any thread at any time, and a close
 * from another thread wakes a blocked {@code await} and stops a running {@code dispatch} after the
 * current handler.
 */
@Timeout(60)
class PollerThreadingTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    private Poller open(PollerKind kind) throws IOException {
        return resources.poller(kind, 16);
    }

    @EveryBackend
    void aSecondThreadIsRejectedWhileTheFirstIsInsideDispatch(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        TestPipe p = resources.pipe();
        TestPipe other = resources.pipe();
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
        Thread loop = Threads.start("loop-thread", failure, () -> {
            assertEquals(1, poller.await(5000));
            assertEquals(1, poller.dispatch());
        });
        assertTrue(inHandler.await(10, TimeUnit.SECONDS));
        List<IllegalStateException> rejected = new ArrayList<>();
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.await(0)));
        rejected.add(assertThrows(IllegalStateException.class, poller::dispatch));
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.set(o, AppStruct.IO, 0)));
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.remove(o, AppStruct.IO)));
        MemorySegment third = AppStruct.allocate(arena, 3, resources.pipe().readFd());
        rejected.add(assertThrows(IllegalStateException.class, () -> poller.add(third, AppStruct.IO, READ, (x, y) -> { })));
        for (IllegalStateException e : rejected) {
            assertTrue(e.getMessage().contains("while thread \"loop-thread\" is using the poller"), e.getMessage());
        }
        assertEquals(READ, IoAtom.interest(o, AppStruct.IO), "the rejected set changed nothing");
        assertFalse(IoAtom.isRegistered(third, AppStruct.IO), "the rejected add changed nothing");
        assertEquals(2, poller.size());
        poller.wakeup(); // any thread, any time
        release.countDown();
        loop.join(10_000);
        assertNull(failure.get());
        assertEquals(1, AppStruct.calls(s));
        // Calls that do not overlap may come from another thread: the loop is handed back here.
        resources.assertUsable(poller);
    }

    @EveryBackend
    void addFromAnotherThreadWhileTheLoopIsBlockedInAwaitIsRejected(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        TestPipe p = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] returned = {-1};
        Thread loop = Threads.start("blocked-loop", failure, () -> {
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
            long r = pipes[AppStruct.id(owner)].drain();
            bytes[AppStruct.id(owner)] += Math.max(r, 0);
        };
        for (int i = 0; i < n; i++) {
            pipes[i] = resources.pipe();
            poller.add(AppStruct.allocate(arena, i, pipes[i].readFd()), AppStruct.IO, READ, h);
        }
        long deadline = System.nanoTime() + 1_000_000_000L;
        AtomicLong written = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] rejections = new int[2];
        Thread[] threads = new Thread[2];
        for (int t = 0; t < 2; t++) {
            int me = t;
            threads[t] = Threads.start("poller-user-" + t, failure, () -> {
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
        // Wake-ups of the last writes may still be pending for atoms drained above, outside the
        // poller: epoll, poll and select look at the fd again when they report and drop them, but
        // io_uring posted its completions at wake-up time and reports them (the handler then
        // reads nothing). One turn takes them, so that the check below counts only its own atom.
        poller.await(0);
        poller.dispatch();
        resources.assertUsable(poller);
    }

    @EveryBackend
    void closeFromAnotherThreadWhileAwaitIsBlockedWakesItAndFreesEverything(PollerKind kind) throws Exception {
        int woken = 0;
        for (int iteration = 0; iteration < 30; iteration++) {
            Map<Integer, String> before = Threads.openFds();
            Poller poller = Poller.open(kind, 8);
            Map<Integer, String> own = Threads.added(before, Threads.openFds());
            own.values().removeIf(target -> !target.startsWith("anon_inode:")); // epoll, eventfd
            TestPipe p = resources.pipe();
            MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
            poller.add(s, AppStruct.IO, READ, (owner, events) -> fail("nothing was written"));
            int[] tid = {0};
            CountDownLatch started = new CountDownLatch(1);
            AtomicReference<Object> outcome = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread waiter = Threads.start("waiter", failure, () -> {
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
                assertTrue(closed.await(10, TimeUnit.SECONDS),
                        "close from another thread waited for the running handler");
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
            pipes[i] = resources.pipe();
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, h);
            pipes[i].write(1);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int[] dispatched = {-1};
        Thread loop = Threads.start("loop", failure, () -> {
            assertEquals(n, poller.await(5000));
            dispatched[0] = poller.dispatch();
        });
        assertTrue(inHandler.await(10, TimeUnit.SECONDS));
        // The handler waits for this close to return: a close that waited for the loop would make
        // the handler's own assertion fail (closed.await times out), so no clock is needed here.
        poller.close();
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
                threads.add(Threads.start("waker-" + t, failure, () -> {
                    go.await();
                    for (int i = 0; i < 2000; i++) {
                        poller.wakeup();
                    }
                }));
            }
            threads.add(Threads.start("looper", failure, () -> {
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
