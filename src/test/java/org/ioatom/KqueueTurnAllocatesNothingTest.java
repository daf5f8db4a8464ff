package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import org.ioatom.internal.PipeWaker;
import org.ioatom.testing.CleanWindow;
import org.ioatom.testing.Kinds;
import org.ioatom.testing.LoopTurn;
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

    /** ZeroAllocationTest's turn, with the pipe traffic through the non-capturing downcalls. */
    private static LoopTurn kqueueTurn(Arena arena) throws IOException {
        MemorySegment buf = arena.allocate(4096);
        return new LoopTurn(arena, PollerKind.KQUEUE, ATOMS) {
            @Override
            protected void write(TestPipe pipe, int bytes) {
                long w;
                try {
                    w = (long) WRITE_NO_ERRNO.invokeExact(pipe.writeFd(), buf, (long) bytes);
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
                if (w != bytes) {
                    throw new AssertionError("write to pipe fd " + pipe.writeFd() + " took " + w);
                }
            }

            @Override
            protected void drain(TestPipe pipe) {
                try {
                    while ((long) READ_NO_ERRNO.invokeExact(pipe.readFd(), buf, buf.byteSize()) > 0) {
                        // drain: the pipes are non-blocking, so this ends with -1 (EAGAIN)
                    }
                } catch (Throwable t) {
                    throw new AssertionError(t);
                }
            }
        };
    }

    @Test
    void aKqueueLoopTurnAllocatesNothing() throws Throwable {
        assumeTrue(Kinds.available().anyMatch(k -> k == PollerKind.KQUEUE),
                "kqueue is not available here: " + PollerKind.KQUEUE.unavailableReason());
        String mode = System.getProperty("java.vm.info") + " " + ManagementFactory.getRuntimeMXBean().getInputArguments()
                .stream().filter(a -> a.startsWith("-XX:TieredStopAtLevel") || a.equals("-Xint")).toList();
        try (Arena arena = Arena.ofShared(); LoopTurn f = kqueueTurn(arena)) {
            for (int i = 0; i < WARMUP; i += 500) {
                f.turns(i, 500);
            }
            long handledBefore = f.handled();
            CleanWindow.Result windows = CleanWindow.measure(WINDOWS, w -> f.turns(WARMUP + w * MEASURED, MEASURED));
            System.out.println("kqueue (" + mode + "): bytes allocated per window of " + MEASURED + " turns: " + windows);
            assertTrue(f.handled() - handledBefore >= MEASURED, "events flowed: " + (f.handled() - handledBefore));
            assertTrue(windows.found(), "kqueue (" + mode + "): no window of " + MEASURED
                    + " loop turns allocated 0 bytes: " + windows);
            assertEquals(0, windows.bytes()[windows.clean()]);
        }
    }

    @Test
    void thePipeWakersSignalAndDrainAllocateNothing() throws Throwable {
        assumeTrue(Kinds.available().anyMatch(k -> k == PollerKind.KQUEUE),
                "kqueue is not available here: " + PollerKind.KQUEUE.unavailableReason());
        try (Arena arena = Arena.ofShared()) {
            PipeWaker waker = PipeWaker.open(arena);
            try {
                for (int i = 0; i < WARMUP; i++) {
                    waker.signal();
                    waker.signal();
                    waker.drain();
                }
                CleanWindow.Result windows = CleanWindow.measure(WINDOWS, w -> {
                    for (int i = 0; i < MEASURED; i++) {
                        waker.signal();
                        waker.signal(); // already awake: writes nothing
                        waker.drain();
                    }
                });
                System.out.println("pipe waker: bytes allocated per window of " + MEASURED + " signal+signal+drain: "
                        + windows);
                assertTrue(windows.found(), "no window of the pipe waker allocated 0 bytes: " + windows);
            } finally {
                waker.close();
            }
        }
    }
}
