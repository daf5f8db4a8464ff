package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.JitMode;
import org.junit.jupiter.api.Tag;

/**
 * Growth is the only allocation: once a poller's tables have held {@value #ATOMS} atoms and
 * {@value #ATOMS} timers (several doublings past their first size), adding, changing, waiting
 * for, dispatching and removing that many atoms again, and scheduling, moving and cancelling
 * that many timers, allocates 0 bytes. Measured with the thread's allocated-bytes counter over
 * windows of whole cycles; one clean window out of a few passes (JIT activity can land bytes on
 * the thread once, an allocation in the code under test lands in every window). Runs in the
 * default, C1-only and interpreter-only JVMs (see pom.xml).
 */
@Tag("allocation")
@Tag("allocation-interpreter")
class GrownTablesAllocationTest {
    private static final int ATOMS = 300;
    private static final int WINDOWS = 5;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private static final class Fixture implements IoHandler, TimerHandler {
        final Poller poller;
        final int[] fds = new int[ATOMS];
        final MemorySegment[] structs = new MemorySegment[ATOMS];
        final MemorySegment timers;
        final MemorySegment word;
        long handled;

        Fixture(Arena arena, PollerKind kind) throws IOException {
            poller = Poller.open(kind, 4 * ATOMS, 4 * ATOMS);
            timers = arena.allocate(IoTimer.SIZE * ATOMS, 8);
            word = arena.allocate(8);
            word.set(ValueLayout.JAVA_LONG, 0, 1);
            for (int i = 0; i < ATOMS; i++) {
                fds[i] = Syscalls.eventfd2(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
                assertTrue(fds[i] >= 0, "eventfd2");
                structs[i] = AppStruct.allocate(arena, i, fds[i]);
            }
        }

        @Override
        public void onEvents(MemorySegment owner, int events) {
            handled++;
            Syscalls.read(fds[(int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID)], word, 8);
        }

        @Override
        public void onTimer(MemorySegment owner) {
            handled++;
        }

        /** Every atom and timer comes and goes once, with events on a few atoms in between. */
        void cycle(int c) throws IOException {
            for (int i = 0; i < ATOMS; i++) {
                poller.add(structs[i], AppStruct.IO, READ, this);
                poller.timers().scheduleAfter(timers, IoTimer.SIZE * i, 1_000_000_000L + i, this);
            }
            for (int i = 0; i < ATOMS; i += 37) {
                poller.set(structs[(i + c) % ATOMS], AppStruct.IO, READ | WRITE);
                poller.set(structs[(i + c) % ATOMS], AppStruct.IO, READ);
                poller.timers().scheduleAfter(timers, IoTimer.SIZE * i, 2_000_000_000L, this);
                word.set(ValueLayout.JAVA_LONG, 0, 1);
                Syscalls.write(fds[(i + c) % ATOMS], word, 8);
            }
            poller.timers().scheduleAfter(timers, 0, 0, this);
            poller.await(1000);
            poller.dispatch();
            for (int i = 0; i < ATOMS; i++) {
                poller.remove(structs[i], AppStruct.IO);
                poller.timers().cancel(timers, IoTimer.SIZE * i);
            }
        }

        void close() {
            poller.close();
            for (int fd : fds) {
                Syscalls.close(fd);
            }
        }
    }

    @EveryBackend
    void aFullCycleOfAtomsAndTimersAllocatesNothingOnceTheTablesHaveGrown(PollerKind kind) throws IOException {
        JitMode mode = JitMode.current();
        int warmup = mode == JitMode.INTERPRETER ? 4 : mode == JitMode.C1 ? 400 : 1500;
        int measured = mode == JitMode.INTERPRETER ? 4 : 100;
        try (Arena arena = Arena.ofConfined()) {
            Fixture f = new Fixture(arena, kind);
            try {
                // Warm up through the measured method, in slices, so it is compiled as a whole.
                for (int c = 0; c < warmup; c += 4) {
                    runCycles(f, c, 4);
                }
                THREADS.getCurrentThreadAllocatedBytes();
                long[] windows = new long[WINDOWS];
                int clean = -1;
                int done = 0;
                long handledBefore = f.handled;
                for (int w = 0; w < WINDOWS && clean < 0; w++, done++) {
                    long before = THREADS.getCurrentThreadAllocatedBytes();
                    runCycles(f, w * measured, measured);
                    windows[w] = THREADS.getCurrentThreadAllocatedBytes() - before;
                    if (windows[w] == 0) {
                        clean = w;
                    }
                }
                System.out.println(kind + " [" + mode.description() + "]: bytes allocated per window of " + measured
                        + " cycles of " + ATOMS + " atoms and timers: " + Arrays.toString(Arrays.copyOf(windows, done)));
                assertTrue(f.handled - handledBefore >= (long) measured * (ATOMS / 37), "events and timers flowed");
                assertEquals(0, f.poller.size());
                assertTrue(clean >= 0, kind + ": no window of " + measured + " cycles allocated 0 bytes: "
                        + Arrays.toString(windows));
            } finally {
                f.close();
            }
        }
    }

    private static void runCycles(Fixture f, int from, int count) throws IOException {
        for (int c = from; c < from + count; c++) {
            f.cycle(c);
        }
    }
}
