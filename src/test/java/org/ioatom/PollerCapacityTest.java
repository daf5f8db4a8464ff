package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Threads;

/**
 * A poller opened for 100 000 atoms works at the scale this process allows: up to 15 000 real
 * eventfds (fewer where the descriptor limit is lower: {@link Threads#descriptorsLeft}) are
 * registered, all made ready, all delivered.
 */
class PollerCapacityTest {
    private static final int CAPACITY = 100_000;
    private static final int MOST_ATOMS = 15_000;
    /** Below this the test would no longer show anything about a large poller: skipped instead. */
    private static final int FEWEST_ATOMS = 1_000;

    @EveryBackend(except = PollerKind.SELECT)
    void aHundredThousandAtomPollerDeliversEveryReadyAtomAtTheFdLimitsScale(PollerKind kind) throws IOException {
        int atoms = Math.min(MOST_ATOMS, Threads.descriptorsLeft(100));
        assumeTrue(atoms >= FEWEST_ATOMS, "this process may open only " + atoms + " more descriptors");
        List<Integer> fds = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); Poller poller = Poller.open(kind, CAPACITY)) {
            assertEquals(CAPACITY, poller.capacity());
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            MemorySegment sink = arena.allocate(ValueLayout.JAVA_LONG);
            try {
                MemorySegment[] structs = new MemorySegment[atoms];
                IoHandler drain = (owner, events) -> {
                    AppStruct.record(owner, events);
                    Syscalls.read(IoAtom.fd(owner, AppStruct.IO), sink, 8);
                };
                for (int i = 0; i < atoms; i++) {
                    int fd = Syscalls.eventfd2(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
                    assertTrue(fd >= 0, "eventfd " + i);
                    fds.add(fd);
                    structs[i] = AppStruct.allocate(arena, i, fd);
                    poller.add(structs[i], AppStruct.IO, IoAtom.READ, drain);
                }
                assertEquals(atoms, poller.size());
                for (int fd : fds) {
                    Syscalls.write(fd, one, 8);
                }
                long calls = 0;
                for (int round = 0; round < 100 && calls < atoms; round++) {
                    poller.await(5000);
                    calls += poller.dispatch();
                }
                assertEquals(atoms, calls, "every ready atom delivered once");
                for (MemorySegment s : structs) {
                    assertEquals(1, AppStruct.calls(s));
                    poller.remove(s, AppStruct.IO);
                }
                assertEquals(0, poller.size());
            } finally {
                for (int fd : fds) {
                    Syscalls.close(fd);
                }
            }
        }
    }
}
