package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.junit.jupiter.api.Timeout;

/**
 * An atom paused with {@code set(atom, 0)} gets nothing, and it does not make {@code await}
 * report events either, even when its descriptor has a condition that the OS reports
 * regardless of interest (a hang-up): otherwise a loop with a paused atom would never sleep.
 */
@Timeout(30)
class PausedAtomTest {
    @EveryBackend
    void aPausedAtomOnAHungUpDescriptorDoesNotWakeTheWait(PollerKind kind) throws IOException {
        try (Arena arena = Arena.ofConfined(); Poller poller = Poller.open(kind, 8); TestPipe pipe = new TestPipe(arena)) {
            MemorySegment conn = AppStruct.allocate(arena, 1, pipe.readFd());
            poller.add(conn, AppStruct.IO, READ, AppStruct::record);
            poller.set(conn, AppStruct.IO, 0);
            pipe.closeWrite(); // POLLHUP / EPOLLHUP on the read end from now on
            for (int round = 0; round < 3; round++) {
                assertEquals(0, poller.await(20), kind + ": round " + round + ": a paused atom was reported");
                assertEquals(0, poller.dispatch());
            }
            assertEquals(0, AppStruct.calls(conn));
            poller.remove(conn, AppStruct.IO);
        }
    }
}
