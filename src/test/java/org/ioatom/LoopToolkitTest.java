package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hand-off (execute), requeue and failure context, on every backend. */
@Timeout(120)
class LoopToolkitTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    private Poller open(PollerKind kind, int taskCapacity) throws IOException {
        Poller p = Poller.open(kind, 16, 16, taskCapacity);
        resources.add(p);
        return p;
    }

    @EveryBackend
    void aHandedOffTaskWakesTheWaitAndRunsInDispatch(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        List<String> ran = new ArrayList<>();
        Thread producer = new Thread(() -> {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            }
            assertTrue(p.execute(() -> ran.add("a")));
            assertTrue(p.execute(() -> ran.add("b")));
        });
        producer.start();
        long start = System.nanoTime();
        while (ran.size() < 2 && System.nanoTime() - start < 10_000_000_000L) {
            p.await(-1);
            p.dispatch();
        }
        producer.join();
        assertEquals(List.of("a", "b"), ran);
    }

    @EveryBackend
    void awaitOnlyLooksWhileTasksWait(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        int[] ran = {0};
        assertTrue(p.execute(() -> ran[0]++));
        long start = System.nanoTime();
        assertEquals(1, p.await(-1));
        assertTrue(System.nanoTime() - start < 5_000_000_000L);
        assertEquals(1, p.dispatch());
        assertEquals(1, ran[0]);
        assertEquals(0, p.await(0), "no task left");
    }

    @EveryBackend
    void aFullRingRefusesAndACloseRejects(PollerKind kind) throws Exception {
        Poller p = open(kind, 4);
        Runnable task = () -> { };
        for (int i = 0; i < 4; i++) {
            assertTrue(p.execute(task));
        }
        assertFalse(p.execute(task), "full: refused at once");
        p.await(0);
        assertEquals(4, p.dispatch());
        assertTrue(p.execute(task));
        p.close();
        var e = assertThrows(IllegalStateException.class, () -> p.execute(task));
        assertEquals("poller is closed", e.getMessage());
        assertThrows(NullPointerException.class, () -> open(kind, 4).execute(null));
    }

    @EveryBackend
    void aThrowingTaskIsWrappedAndTheRestStaysQueued(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        List<Integer> ran = new ArrayList<>();
        p.execute(() -> ran.add(1));
        p.execute(() -> {
            throw new IllegalStateException("task failure");
        });
        p.execute(() -> ran.add(3));
        p.await(0);
        HandlerException e = assertThrows(HandlerException.class, p::dispatch);
        assertEquals(HandlerException.Source.TASK, e.source());
        assertEquals(-1, e.fd());
        assertEquals(null, e.owner());
        assertEquals("task failure", e.getCause().getMessage());
        assertEquals(List.of(1), ran);
        assertEquals(1, p.await(10_000), "the rest is pending: await returns at once");
        assertEquals(1, p.dispatch());
        assertEquals(List.of(1, 3), ran);
    }

    /** Four producers x 100k tasks through a ring of 256: nothing lost, nothing twice, each producer's order kept. */
    @EveryBackend
    void racingProducersLoseNothing(PollerKind kind) throws Exception {
        int producers = 4;
        int perProducer = 100_000;
        Poller p = open(kind, 256);
        long[] next = new long[producers];
        long[] errors = {0};
        Thread[] threads = new Thread[producers];
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < producers; t++) {
            int id = t;
            // One reusable task per producer and sequence number: a task records what it carries.
            threads[t] = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perProducer; i++) {
                    int seq = i;
                    Runnable task = () -> {
                        if (next[id] != seq) {
                            errors[0]++;
                        }
                        next[id] = seq + 1;
                    };
                    while (!p.execute(task)) {
                        Thread.onSpinWait();
                    }
                }
            }, "producer-" + t);
            threads[t].start();
        }
        go.countDown();
        long total = (long) producers * perProducer;
        long ran = 0;
        long start = System.nanoTime();
        while (ran < total && System.nanoTime() - start < 90_000_000_000L) {
            p.await(100);
            ran += p.dispatch();
        }
        for (Thread t : threads) {
            t.join();
        }
        System.out.printf("hand-off stress on %s: %d tasks in %d ms%n", kind, ran,
                (System.nanoTime() - start) / 1_000_000);
        assertEquals(total, ran, "every task ran once");
        assertEquals(0, errors[0], "per-producer order");
        for (int t = 0; t < producers; t++) {
            assertEquals(perProducer, next[t]);
        }
    }

    @EveryBackend
    void aRequeuedAtomIsCalledAgainOnceAndAwaitDoesNotWait(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        TestPipe pipe = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, pipe.readFd());
        int[] calls = {0};
        int[] lastEvents = {0};
        p.add(s, AppStruct.IO, READ, (owner, events) -> {
            calls[0]++;
            lastEvents[0] = events;
            if (calls[0] == 1) {
                p.requeue(owner, AppStruct.IO);
                p.requeue(owner, AppStruct.IO); // twice: still one call
            }
        });
        pipe.write(1);
        assertEquals(1, p.await(5000));
        assertEquals(1, p.dispatch());
        long start = System.nanoTime();
        assertEquals(1, p.await(-1), "requeued: await returns at once");
        assertTrue(System.nanoTime() - start < 5_000_000_000L);
        assertEquals(1, p.dispatch());
        assertEquals(2, calls[0]);
        assertEquals(READ, lastEvents[0] & READ);
    }

    @EveryBackend
    void aRequeueMergesWithARealEvent(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        TestPipe pipe = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, pipe.readFd());
        int[] calls = {0};
        p.add(s, AppStruct.IO, READ, (owner, events) -> calls[0]++);
        p.requeue(s, AppStruct.IO);
        pipe.write(1);
        Thread.sleep(20);
        assertEquals(1, p.await(5000), "one entry for the atom");
        assertEquals(1, p.dispatch());
        assertEquals(1, calls[0]);
    }

    @EveryBackend
    void aRemovedOrReplacedAtomIsNotCalledForAnOldRequeue(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        TestPipe pipe = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, pipe.readFd());
        int[] calls = {0};
        IoHandler h = (owner, events) -> calls[0]++;
        p.add(s, AppStruct.IO, READ, h);
        p.requeue(s, AppStruct.IO);
        p.remove(s, AppStruct.IO);
        p.await(0);
        assertEquals(0, p.dispatch());
        // Re-added in the same slot: the old request is not for it.
        p.add(s, AppStruct.IO, READ, h);
        p.requeue(s, AppStruct.IO);
        p.remove(s, AppStruct.IO);
        p.add(s, AppStruct.IO, READ, h);
        p.await(0);
        assertEquals(0, p.dispatch());
        assertEquals(0, calls[0]);
        MemorySegment stranger = AppStruct.allocate(arena, 2, pipe.writeFd());
        assertThrows(IllegalStateException.class, () -> p.requeue(stranger, AppStruct.IO));
    }

    /** Requeue, remove and add again many times in one round: the list stays within the slot count. */
    @EveryBackend
    void requeueChurnWithinOneRoundStaysBoundedAndCallsOnlyTheLiveAtom(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        TestPipe pipe = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, pipe.readFd());
        int[] calls = {0};
        IoHandler h = (owner, events) -> calls[0]++;
        for (int i = 0; i < 1000; i++) {
            p.add(s, AppStruct.IO, READ, h);
            p.requeue(s, AppStruct.IO);
            p.remove(s, AppStruct.IO);
        }
        p.add(s, AppStruct.IO, READ, h);
        p.requeue(s, AppStruct.IO);
        assertEquals(1, p.await(0));
        assertEquals(1, p.dispatch(), "only the live registration's request");
        assertEquals(1, calls[0]);
        assertEquals(0, p.await(0), "served: nothing left");
    }

    /** The failure names the atom that was called, even if its handler removed it and its slot was refilled. */
    @EveryBackend
    void aHandlerFailureNamesTheCalledAtomEvenAfterItRemovedItself(PollerKind kind) throws Exception {
        Poller p = open(kind, 8);
        TestPipe first = resources.pipe();
        TestPipe second = resources.pipe();
        MemorySegment a = AppStruct.allocate(arena, 1, first.readFd());
        MemorySegment b = AppStruct.allocate(arena, 2, second.readFd());
        p.add(a, AppStruct.IO, READ, (owner, events) -> {
            p.remove(owner, AppStruct.IO);
            p.add(b, AppStruct.IO, READ, (o, ev) -> { });   // likely the freed slot
            throw new IOException("after removing itself");
        });
        first.write(1);
        assertEquals(1, p.await(5000));
        HandlerException e = assertThrows(HandlerException.class, p::dispatch);
        assertEquals(HandlerException.Source.ATOM, e.source());
        assertEquals(first.readFd(), e.fd());
        assertTrue(e.owner() == a, "the very segment the handler got");
        assertEquals(AppStruct.IO, e.atomOffset());
        assertEquals("after removing itself", e.getCause().getMessage());
        assertTrue(e.getMessage().contains("fd=" + first.readFd()), e.getMessage());
    }
}
