package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The loop toolkit allocates nothing when the app reuses its task objects: a hand-off
 * ({@code execute}) and the dispatch that runs it, and a {@code requeue} and the dispatch that
 * calls the handler again, each made 1, 9, 17 and 24 frames below the measuring loop; and the
 * producer side of a hand-off, measured on the producer's own thread. A window of calls must
 * count exactly 0 bytes on the thread's allocation counter; JIT activity may land bytes once, so
 * one clean window out of a few passes. Runs in the same three JVMs as
 * {@link AllocationAtAnyDepthTest} (default, C1 only, interpreter only), by its tags.
 */
@Tag("allocation")
@Tag("allocation-interpreter")
@Timeout(300)
class LoopToolkitAllocationTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final int[] DEPTHS = {1, 9, 17, 24};
    private static final int WINDOW = 2000;
    private static final int WINDOWS = 6;

    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    @FunctionalInterface
    interface Call {
        void run() throws IOException;
    }

    /** Calls {@code call} {@code depth} frames down. */
    private static void at(int depth, Call call) throws IOException {
        if (depth <= 1) {
            call.run();
        } else {
            at(depth - 1, call);
        }
    }

    /** Bytes of the cleanest of several windows of {@code WINDOW} calls at {@code depth}, after a warm-up. */
    private static long cleanestWindow(int depth, Call call) throws IOException {
        for (int i = 0; i < WINDOW; i++) {
            at(depth, call);
        }
        long best = Long.MAX_VALUE;
        long id = Thread.currentThread().threadId();
        for (int w = 0; w < WINDOWS && best != 0; w++) {
            long before = THREADS.getThreadAllocatedBytes(id);
            for (int i = 0; i < WINDOW; i++) {
                at(depth, call);
            }
            best = Math.min(best, THREADS.getThreadAllocatedBytes(id) - before);
        }
        return best;
    }

    /** {@code turn}, named {@code what}, allocates nothing at any of the DEPTHS. */
    private static void assertNothingAtEveryDepth(String what, PollerKind kind, Call turn) throws IOException {
        for (int depth : DEPTHS) {
            long bytes = cleanestWindow(depth, turn);
            System.out.printf("%s on %s at depth %d: %d B per %d turns%n", what, kind, depth, bytes, WINDOW);
            assertEquals(0, bytes, what + " turn at depth " + depth);
        }
    }

    @EveryBackend
    void handOffAndItsDispatchAllocateNothing(PollerKind kind) throws Exception {
        Poller p = Poller.open(kind, 16, 16, 64);
        resources.add(p);
        int[] ran = {0};
        Runnable task = () -> ran[0]++;
        Call turn = () -> {
            p.execute(task);
            p.await(0);
            p.dispatch();
        };
        assertNothingAtEveryDepth("execute+await+dispatch", kind, turn);
        assertTrue(ran[0] > 0);
    }

    @EveryBackend
    void requeueAndItsDispatchAllocateNothing(PollerKind kind) throws Exception {
        Poller p = Poller.open(kind, 16, 16, 64);
        resources.add(p);
        TestPipe pipe = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, pipe.readFd());
        int[] calls = {0};
        p.add(s, AppStruct.IO, IoAtom.READ, (owner, events) -> calls[0]++);
        Call turn = () -> {
            p.requeue(s, AppStruct.IO);
            p.await(0);
            p.dispatch();
        };
        assertNothingAtEveryDepth("requeue+await+dispatch", kind, turn);
        assertTrue(calls[0] > 0);
    }

    @EveryBackend
    void theProducerSideAllocatesNothing(PollerKind kind) throws Exception {
        Poller p = Poller.open(kind, 16, 16, 4096);
        resources.add(p);
        Runnable task = () -> { };
        long[] best = {Long.MAX_VALUE};
        Thread producer = new Thread(() -> {
            long id = Thread.currentThread().threadId();
            for (int w = 0; w < WINDOWS + 1 && best[0] != 0; w++) {
                long before = THREADS.getThreadAllocatedBytes(id);
                for (int i = 0; i < 1000; i++) {
                    while (!p.execute(task)) {
                        Thread.onSpinWait();
                    }
                }
                long bytes = THREADS.getThreadAllocatedBytes(id) - before;
                if (w > 0) {
                    best[0] = Math.min(best[0], bytes);
                }
            }
        }, "producer");
        producer.start();
        while (producer.isAlive()) {
            p.await(10);
            p.dispatch();
        }
        producer.join();
        System.out.printf("execute on the producer thread (%s): %d B per 1000 hand-offs%n", kind, best[0]);
        assertEquals(0, best[0], "producer side");
    }
}
