package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.ioatom.internal.PipeWaker;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.Kinds;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A kqueue poller's loop turn (await with events, dispatch, set, remove, add), and the pipe
 * waker's signal and drain, allocate nothing in whatever compiler mode this JVM runs: also with C1 only ({@code -XX:TieredStopAtLevel=1}) and
 * interpreted ({@code -Xint}), where an errno-capturing downcall allocates on every call. Run it
 * in those modes with {@code -Dioatom.test.argLine=-XX:TieredStopAtLevel=1} (or {@code -Xint}).
 *
 * <p>The test's own pipe traffic goes through non-capturing downcalls of its own, so that what is
 * measured is the poller's: {@link TestPipe}'s calls capture errno and would allocate here.
 */
@Timeout(300)
@Tag(Tags.KQUEUE_LAYOUT)
class KqueueTurnAllocatesNothingTest {
    private static final int ATOMS = 32;
    private static final boolean INTERPRETED = System.getProperty("java.vm.info", "").contains("interpreted");
    private static final int WARMUP = INTERPRETED ? 2_000 : 30_000;
    private static final int MEASURED = INTERPRETED ? 5_000 : 50_000;
    private static final int WINDOWS = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle WRITE_NO_ERRNO = libc("write");
    private static final MethodHandle READ_NO_ERRNO = libc("read");

    @SuppressWarnings("restricted")
    private static MethodHandle libc(String name) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    private static final class Fixture implements IoHandler {
        final TestPipe[] pipes = new TestPipe[ATOMS];
        final MemorySegment[] structs = new MemorySegment[ATOMS];
        final MemorySegment buf;
        final Poller poller;
        long handled;

        Fixture(Arena arena) throws Exception {
            buf = arena.allocate(4096);
            poller = Poller.open(PollerKind.KQUEUE, ATOMS * 2);
            for (int i = 0; i < ATOMS; i++) {
                pipes[i] = new TestPipe(arena);
                structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
                poller.add(structs[i], AppStruct.IO, READ, this);
            }
        }

        @Override
        public void onEvents(MemorySegment owner, int events) {
            handled++;
            int fd = pipes[(int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID)].readFd();
            try {
                while ((long) READ_NO_ERRNO.invokeExact(fd, buf, buf.byteSize()) > 0) {
                    // drain: the pipes are non-blocking, so this ends with -1 (EAGAIN)
                }
            } catch (Throwable t) {
                throw new AssertionError(t);
            }
        }

        void write(int atom, long n) throws Throwable {
            long w = (long) WRITE_NO_ERRNO.invokeExact(pipes[atom].writeFd(), buf, n);
            if (w != n) {
                throw new AssertionError("write to pipe " + atom + " took " + w);
            }
        }

        /** As ZeroAllocationTest's turn: two atoms get data, one changes interest, one is re-added. */
        void turn(int i) throws Throwable {
            write(i % ATOMS, 1);
            write((i * 7 + 3) % ATOMS, 2);
            poller.await(1000);
            poller.dispatch();
            MemorySegment toggled = structs[(i * 13 + 5) % ATOMS];
            poller.set(toggled, AppStruct.IO, (i & 1) == 0 ? READ | WRITE : READ);
            poller.set(toggled, AppStruct.IO, READ);
            MemorySegment readded = structs[(i * 5 + 1) % ATOMS];
            poller.remove(readded, AppStruct.IO);
            poller.add(readded, AppStruct.IO, READ, this);
        }

        void close() {
            poller.close();
            for (TestPipe p : pipes) {
                p.close();
            }
        }
    }

    private static void turns(Fixture f, int from, int count) throws Throwable {
        for (int i = from; i < from + count; i++) {
            f.turn(i);
        }
    }

    @Test
    void aKqueueLoopTurnAllocatesNothing() throws Throwable {
        assumeTrue(Kinds.available().anyMatch(k -> k == PollerKind.KQUEUE),
                "kqueue is not available here: " + PollerKind.KQUEUE.unavailableReason());
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String mode = System.getProperty("java.vm.info") + " " + ManagementFactory.getRuntimeMXBean().getInputArguments()
                .stream().filter(a -> a.startsWith("-XX:TieredStopAtLevel") || a.equals("-Xint")).toList();
        try (Arena arena = Arena.ofShared()) {
            Fixture f = new Fixture(arena);
            try {
                for (int i = 0; i < WARMUP; i += 500) {
                    turns(f, i, 500);
                }
                threads.getCurrentThreadAllocatedBytes();
                long[] windows = new long[WINDOWS];
                int clean = -1;
                int measured = 0;
                long handledBefore = f.handled;
                for (int w = 0; w < WINDOWS && clean < 0; w++, measured++) {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    turns(f, WARMUP + w * MEASURED, MEASURED);
                    windows[w] = threads.getCurrentThreadAllocatedBytes() - before;
                    if (windows[w] == 0) {
                        clean = w;
                    }
                }
                System.out.println("kqueue (" + mode + "): bytes allocated per window of " + MEASURED + " turns: "
                        + Arrays.toString(Arrays.copyOf(windows, measured)));
                assertTrue(f.handled - handledBefore >= MEASURED, "events flowed: " + (f.handled - handledBefore));
                assertTrue(clean >= 0, "kqueue (" + mode + "): no window of " + MEASURED
                        + " loop turns allocated 0 bytes: " + Arrays.toString(windows));
                assertEquals(0, windows[clean]);
            } finally {
                f.close();
            }
        }
    }

    @Test
    void thePipeWakersSignalAndDrainAllocateNothing() throws Throwable {
        assumeTrue(Kinds.available().anyMatch(k -> k == PollerKind.KQUEUE),
                "kqueue is not available here: " + PollerKind.KQUEUE.unavailableReason());
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Arena arena = Arena.ofShared()) {
            PipeWaker waker = PipeWaker.open(arena);
            try {
                for (int i = 0; i < WARMUP; i++) {
                    waker.signal();
                    waker.signal();
                    waker.drain();
                }
                threads.getCurrentThreadAllocatedBytes();
                long[] windows = new long[WINDOWS];
                boolean clean = false;
                int measured = 0;
                for (int w = 0; w < WINDOWS && !clean; w++, measured++) {
                    long before = threads.getCurrentThreadAllocatedBytes();
                    for (int i = 0; i < MEASURED; i++) {
                        waker.signal();
                        waker.signal(); // already awake: writes nothing
                        waker.drain();
                    }
                    windows[w] = threads.getCurrentThreadAllocatedBytes() - before;
                    clean = windows[w] == 0;
                }
                System.out.println("pipe waker: bytes allocated per window of " + MEASURED + " signal+signal+drain: "
                        + Arrays.toString(Arrays.copyOf(windows, measured)));
                assertTrue(clean, "no window of the pipe waker allocated 0 bytes: " + Arrays.toString(windows));
            } finally {
                waker.close();
            }
        }
    }
}
