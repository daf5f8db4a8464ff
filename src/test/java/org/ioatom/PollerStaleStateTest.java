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
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Stale state and misuse in the middle of a batch: every backend. The reentrancy checks live in
 * {@link PollerMisuseTest}, the threading contract in {@link PollerThreadingTest}.
 */
@Timeout(60)
class PollerStaleStateTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    private Poller open(PollerKind kind) throws IOException {
        return resources.poller(kind, 16);
    }

    // ---- memory and poller closed mid-batch ----

    @EveryBackend
    void arenaClosedInAHandlerForAtomsLaterInTheSameBatchIsDroppedNotCalled(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        int n = 4;
        Arena[] arenas = new Arena[n];
        TestPipe[] pipes = new TestPipe[n];
        int[] calls = new int[n];
        IoHandler closeTheOthers = (owner, events) -> {
            int me = AppStruct.id(owner);
            calls[me]++;
            pipes[me].drain();
            for (int i = 0; i < n; i++) {
                if (i != me && arenas[i].scope().isAlive()) {
                    arenas[i].close();
                }
            }
        };
        for (int i = 0; i < n; i++) {
            arenas[i] = Arena.ofShared();
            pipes[i] = resources.pipe();
            poller.add(AppStruct.allocate(arenas[i], i, pipes[i].readFd()), AppStruct.IO, READ, closeTheOthers);
            pipes[i].write(1);
        }
        assertEquals(n, poller.await(5000));
        assertEquals(1, poller.dispatch(), "only the first handler runs; the others' memory is gone");
        assertEquals(1, java.util.Arrays.stream(calls).sum());
        assertEquals(1, poller.size(), "the dead registrations were dropped");
        // The dead atoms' fds are free for new atoms, which get events as usual.
        for (int i = 0; i < n; i++) {
            if (calls[i] == 0) {
                MemorySegment fresh = AppStruct.allocate(arena, 10 + i, pipes[i].readFd());
                poller.add(fresh, AppStruct.IO, READ, (owner, events) -> AppStruct.record(owner, events));
                pipes[i].write(1);
                for (int round = 0; round < 5 && AppStruct.calls(fresh) == 0; round++) {
                    poller.await(1000);
                    poller.dispatch();
                }
                assertEquals(1, AppStruct.calls(fresh), "a new atom on a dead atom's fd gets its event");
                poller.remove(fresh, AppStruct.IO);
            }
        }
        for (Arena a : arenas) {
            if (a.scope().isAlive()) {
                a.close();
            }
        }
        resources.assertUsable(poller);
    }

    @EveryBackend
    void pollerClosedFromAHandlerRejectsFurtherCallsAndLeavesTheFdsOpen(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        List<Exception> inHandler = new ArrayList<>();
        TestPipe[] pipes = new TestPipe[3];
        MemorySegment[] structs = new MemorySegment[3];
        IoHandler closeThenMisuse = (owner, events) -> {
            AppStruct.record(owner, events);
            poller.close();
            poller.close();
            poller.wakeup();
            for (MemorySegment s : structs) {
                try {
                    poller.set(s, AppStruct.IO, 0);
                } catch (IllegalStateException e) {
                    inHandler.add(e);
                }
            }
            try {
                poller.add(AppStruct.allocate(arena, 7, pipes[0].readFd()), AppStruct.IO, READ, (o, e) -> { });
            } catch (IllegalStateException e) {
                inHandler.add(e);
            }
        };
        for (int i = 0; i < 3; i++) {
            pipes[i] = resources.pipe();
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, closeThenMisuse);
            pipes[i].write(3);
        }
        assertEquals(3, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertEquals(4, inHandler.size());
        for (Exception e : inHandler) {
            assertEquals("poller is closed", e.getMessage());
        }
        assertEquals(0, poller.size());
        // The fds stay open, their data unread: another poller picks them up.
        try (Poller other = Poller.open(kind, 4)) {
            int[] got = {0};
            for (MemorySegment s : structs) {
                assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
                other.add(s, AppStruct.IO, READ, (owner, events) -> got[0] += (int) pipes[AppStruct.id(owner)].drain());
            }
            for (int round = 0; round < 5 && got[0] < 9; round++) {
                other.await(1000);
                other.dispatch();
            }
            assertEquals(9, got[0], "every byte is still there");
        }
    }

    @EveryBackend
    void handlerExceptionsMidBatchAndAgainOnTheNextDispatchLoseNothing(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        int n = 6;
        TestPipe[] pipes = new TestPipe[n];
        MemorySegment[] structs = new MemorySegment[n];
        int[] calls = new int[n];
        int[] victim = {-1};
        IoHandler handler = (owner, events) -> {
            int me = AppStruct.id(owner);
            calls[me]++;
            pipes[me].drain();
            int called = java.util.Arrays.stream(calls).sum();
            if (called == 1) {
                // The first handler removes an atom that has not run yet, then fails.
                for (int i = 0; i < n; i++) {
                    if (calls[i] == 0) {
                        victim[0] = i;
                        poller.remove(structs[i], AppStruct.IO);
                        break;
                    }
                }
                throw new IOException("first failure, from atom " + me);
            }
            if (called == 2) {
                throw new IllegalArgumentException("second failure (unchecked), from atom " + me);
            }
            if (called == 3) {
                throw new IOException("third failure, from atom " + me);
            }
        };
        for (int i = 0; i < n; i++) {
            pipes[i] = resources.pipe();
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, handler);
            pipes[i].write(1);
        }
        assertEquals(n, poller.await(5000));
        var first = assertThrows(HandlerException.class, poller::dispatch);
        assertTrue(first.getCause().getMessage().startsWith("first failure"), first.getMessage());
        assertEquals(HandlerException.Source.ATOM, first.source());
        int failed = IoAtom.fd(first.owner(), AppStruct.IO);
        assertEquals(failed, first.fd(), "the exception names the failed atom's fd");
        assertEquals(AppStruct.IO, first.atomOffset());
        // await returns at once with the rest of the batch (including the removed atom's stale entry).
        assertEquals(n - 1, poller.await(-1));
        var second = assertThrows(HandlerException.class, poller::dispatch);
        assertTrue(second.getCause() instanceof IllegalArgumentException, "unchecked exceptions are wrapped too");
        assertTrue(second.getCause().getMessage().startsWith("second failure"));
        var third = assertThrows(HandlerException.class, poller::dispatch);
        assertTrue(third.getCause().getMessage().startsWith("third failure"));
        assertEquals(n - 4, poller.dispatch(), "the rest of the batch, minus the removed atom");
        for (int i = 0; i < n; i++) {
            assertEquals(i == victim[0] ? 0 : 1, calls[i], "atom " + i + " (victim " + victim[0] + ")");
        }
        assertEquals(n - 1, poller.size());
        assertEquals(0, poller.await(0), "everything was drained; nothing is reported twice");
        resources.assertUsable(poller);
    }
}
