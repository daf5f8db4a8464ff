package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Tags;
import org.ioatom.testing.Threads;
import org.junit.jupiter.api.Tag;
import org.openjdk.jol.info.GraphLayout;

/**
 * The poller's own heap grows only to a new high of registrations: once its tables have held
 * {@code n} atoms, holding {@code n} atoms again adds nothing to it (JOL).
 */
@Tag(Tags.KQUEUE_LAYOUT)
class PollerFootprintTest {
    /** Real eventfds, so fewer where the descriptor limit is lower ({@link Threads#descriptorsLeft}). */
    private static final int MOST_ATOMS = 10_000;
    /** Below this a constant footprint would show little: skipped instead. */
    private static final int FEWEST_ATOMS = 1_000;

    @EveryBackend(except = PollerKind.SELECT)
    void heapGraphDoesNotGrowAgainOnceTheTablesHaveHeldTenThousandAtoms(PollerKind kind) throws IOException {
        int atoms = Math.min(MOST_ATOMS, Threads.descriptorsLeft(100));
        assumeTrue(atoms >= FEWEST_ATOMS, "this process may open only " + atoms + " more descriptors");
        IoHandler handler = (owner, events) -> { };
        List<Integer> fds = new ArrayList<>();
        // A shared arena: a confined one references its owner thread, and with it half the JVM.
        try (Arena arena = Arena.ofShared(); Poller poller = Poller.open(kind, atoms)) {
            try {
                // Walk once first: JOL's own walk creates reflection caches reachable from the graph.
                GraphLayout.parseInstance(poller);
                long atOpen = GraphLayout.parseInstance(poller).totalSize();
                List<MemorySegment> structs = new ArrayList<>();
                for (int i = 0; i < atoms; i++) {
                    int fd = Syscalls.eventfd2(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
                    assertTrue(fd >= 0, "eventfd");
                    fds.add(fd);
                    structs.add(AppStruct.allocate(arena, i, fd));
                }
                // The tables grow to the first high of registrations, and not again after.
                for (MemorySegment s : structs) {
                    poller.add(s, AppStruct.IO, IoAtom.READ, handler);
                }
                for (MemorySegment s : structs) {
                    poller.remove(s, AppStruct.IO);
                }
                // Walk once first: JOL's own walk creates reflection caches reachable from the graph.
                GraphLayout.parseInstance(poller);
                GraphLayout emptyGraph = GraphLayout.parseInstance(poller);
                long empty = emptyGraph.totalSize();
                System.out.println(kind + ": poller heap " + atOpen + " B at open (capacity " + atoms + "), " + empty
                        + " B once its tables have held " + atoms + " atoms: " + (empty - atOpen) / atoms + " B per atom");
                for (MemorySegment s : structs) {
                    poller.add(s, AppStruct.IO, IoAtom.READ, handler);
                }
                assertEquals(atoms, poller.size());
                // JOL subtracts by address: a GC that moves the app's objects between the two walks
                // makes them look like the poller's. Walk again (a few times) before calling it growth.
                GraphLayout fullGraph = null;
                long full = -1;
                for (int attempt = 0; attempt < 5 && full != empty; attempt++) {
                    GraphLayout app = GraphLayout.parseInstance(structs.toArray(), handler);
                    fullGraph = GraphLayout.parseInstance(poller).subtract(app);
                    full = fullGraph.totalSize();
                }
                if (full != empty) {
                    System.out.println(emptyGraph.toFootprint());
                    System.out.println(fullGraph.toFootprint());
                }
                assertEquals(empty, full, "poller heap after holding " + atoms + " atoms vs. with "
                        + atoms + " atoms again, app objects excluded");
            } finally {
                for (int fd : fds) {
                    Syscalls.close(fd);
                }
            }
        }
    }
}
