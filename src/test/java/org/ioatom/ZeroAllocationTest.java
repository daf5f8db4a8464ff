package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import org.ioatom.testing.CleanWindow;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.LoopTurn;
import org.ioatom.testing.Tags;
import org.junit.jupiter.api.Tag;

/**
 * After warm-up, await, dispatch, add, set and remove allocate nothing on the Java heap while
 * events flow: measured with the thread's allocated-bytes counter over 100 000 loop turns.
 */
@Tag(Tags.KQUEUE_LAYOUT)
class ZeroAllocationTest {
    private static final int ATOMS = 64;
    private static final int WARMUP = 50_000;
    private static final int MEASURED = 100_000;
    private static final int WINDOWS = 5;

    @EveryBackend
    void awaitDispatchAddSetRemoveAllocateNothingAfterWarmup(PollerKind kind) throws Throwable {
        try (Arena arena = Arena.ofConfined(); LoopTurn f = LoopTurn.overTestPipes(arena, kind, ATOMS)) {
            // Warm up through the very method that is measured, in slices, so that it is
            // compiled as a whole before measuring (no OSR compilation inside the window).
            for (int i = 0; i < WARMUP; i += 500) {
                f.turns(i, 500);
            }
            long handledBefore = f.handled();
            CleanWindow.Result windows = CleanWindow.measure(WINDOWS, w -> f.turns(w * MEASURED, MEASURED));
            System.out.println(kind + ": bytes allocated per window of " + MEASURED + " turns: " + windows);
            long handled = f.handled() - handledBefore;
            assertTrue(handled >= MEASURED, "events flowed: " + handled + " handler calls");
            assertTrue(windows.found(), kind + ": no window of " + MEASURED + " loop turns allocated 0 bytes: " + windows);
        }
    }
}
