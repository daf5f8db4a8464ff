package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * A poller opened for 100 000 atoms works at the scale this machine allows: a process here may
 * hold at most 20 000 fds, so 15 000 real eventfds are registered, all made ready, all delivered.
 */
class PollerCapacityTest {
    private static final int CAPACITY = 100_000;
    private static final int ATOMS = 15_000;

    @EveryBackend(except = PollerKind.SELECT)
    void aHundredThousandAtomPollerDeliversEveryReadyAtomAtTheFdLimitsScale(PollerKind kind) throws IOException {
        List<Integer> fds = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); Poller poller = Poller.open(kind, CAPACITY)) {
            assertEquals(CAPACITY, poller.capacity());
            MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
            one.set(ValueLayout.JAVA_LONG, 0, 1);
            MemorySegment sink = arena.allocate(ValueLayout.JAVA_LONG);
            try {
                MemorySegment[] structs = new MemorySegment[ATOMS];
                IoHandler drain = (owner, events) -> {
                    AppStruct.record(owner, events);
                    Syscalls.read(IoAtom.fd(owner, AppStruct.IO), sink, 8);
                };
                for (int i = 0; i < ATOMS; i++) {
                    int fd = Syscalls.eventfd2(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
                    assertTrue(fd >= 0, "eventfd " + i);
                    fds.add(fd);
                    structs[i] = AppStruct.allocate(arena, i, fd);
                    poller.add(structs[i], AppStruct.IO, IoAtom.READ, drain);
                }
                assertEquals(ATOMS, poller.size());
                for (int fd : fds) {
                    Syscalls.write(fd, one, 8);
                }
                long calls = 0;
                for (int round = 0; round < 100 && calls < ATOMS; round++) {
                    poller.await(5000);
                    calls += poller.dispatch();
                }
                assertEquals(ATOMS, calls, "every ready atom delivered once");
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
