package org.ioatom;

import static org.ioatom.IoAtom.HUP;
import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The poller contract, run against every backend this machine has. */
@Timeout(30)
@Tag(Tags.KQUEUE_LAYOUT)
@Tag(Tags.SYSCALLS)
class PollerBehaviourTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    private Poller open(PollerKind kind) throws IOException {
        return resources.poller(kind, 64);
    }

    private static final IoHandler RECORD = (owner, events) -> AppStruct.record(owner, events);

    /**
     * Waits, then dispatches until nothing more is ready, for at most 10 rounds: on the
     * level-triggered backends a condition nobody clears is reported on every round.
     */
    private static int drainPoller(Poller poller, long firstTimeout) throws IOException {
        int calls = 0;
        int n = poller.await(firstTimeout);
        for (int round = 0; n > 0 && round < 10; round++) {
            calls += poller.dispatch();
            n = poller.await(0);
        }
        return calls;
    }

    @EveryBackend
    void handlerReceivesTheVerySegmentThatWasAdded(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 42, pipe.readFd());
        MemorySegment[] seen = new MemorySegment[1];
        poller.add(conn, AppStruct.IO, READ, (owner, events) -> {
            seen[0] = owner;
            AppStruct.record(owner, events);
        });
        pipe.write(10);
        assertEquals(1, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertSame(conn, seen[0]);
        assertEquals(READ, AppStruct.lastEvents(conn));
        assertEquals(kind, poller.kind());
        assertEquals(kind.toString(), poller.name());
    }

    @EveryBackend
    void drainedDescriptorReportsNothingUntilNewDataArrives(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 1, pipe.readFd());
        poller.add(conn, AppStruct.IO, READ, (owner, events) -> {
            AppStruct.record(owner, events);
            pipe.drain();
        });
        pipe.write(100);
        assertEquals(1, drainPoller(poller, 5000));
        assertEquals(0, poller.await(0), "a drained pipe must not be reported again");
        pipe.write(1);
        assertEquals(1, drainPoller(poller, 5000), "new data after a drain must be reported");
        assertEquals(2, AppStruct.calls(conn));
    }

    @EveryBackend
    void writeInterestReportsWritableAndSetCanTurnItOff(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 1, pipe.writeFd());
        poller.add(conn, AppStruct.IO, WRITE, RECORD);
        assertEquals(1, poller.await(5000));
        poller.dispatch();
        assertEquals(WRITE, AppStruct.lastEvents(conn));
        poller.set(conn, AppStruct.IO, 0);
        assertEquals(0, IoAtom.interest(conn, AppStruct.IO));
        assertEquals(0, drainPoller(poller, 0), "no interest, no events");
        poller.set(conn, AppStruct.IO, WRITE);
        assertEquals(WRITE, IoAtom.interest(conn, AppStruct.IO));
        assertEquals(1, drainPoller(poller, 5000) > 0 ? 1 : 0, "re-enabled WRITE on a writable pipe reports");
    }

    @EveryBackend
    void fullPipeReportsWritableAgainOnceTheReaderMakesRoom(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 1, pipe.writeFd());
        pipe.fill();
        poller.add(conn, AppStruct.IO, WRITE, RECORD);
        assertEquals(0, poller.await(0), "a full pipe is not writable");
        pipe.drain();
        assertEquals(1, poller.await(5000));
        poller.dispatch();
        assertEquals(WRITE, AppStruct.lastEvents(conn));
    }

    @EveryBackend
    void peerCloseIsReportedAsReadableWithHupWhereTheOsSaysSo(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 1, pipe.readFd());
        poller.add(conn, AppStruct.IO, READ, RECORD);
        pipe.closeWrite();
        assertEquals(1, poller.await(5000));
        poller.dispatch();
        int ev = AppStruct.lastEvents(conn);
        assertTrue((ev & READ) != 0, "peer close must be readable, got " + IoAtom.toString(ev));
        if (kind != PollerKind.SELECT) {
            assertTrue((ev & HUP) != 0, "HUP expected from " + kind + ", got " + IoAtom.toString(ev));
        }
        assertEquals(-1, pipe.drain(), "reading after the peer closed gives end of stream");
    }

    @EveryBackend
    void atomRemovedEarlierInTheBatchNeverGetsItsPendingEvent(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe a = resources.pipe();
        TestPipe b = resources.pipe();
        MemorySegment sa = AppStruct.allocate(arena, 1, a.readFd());
        MemorySegment sb = AppStruct.allocate(arena, 2, b.readFd());
        IoHandler removeTheOther = (owner, events) -> {
            AppStruct.record(owner, events);
            MemorySegment other = owner == sa ? sb : sa;
            if (IoAtom.isRegistered(other, AppStruct.IO)) {
                poller.remove(other, AppStruct.IO);
            }
        };
        poller.add(sa, AppStruct.IO, READ, removeTheOther);
        poller.add(sb, AppStruct.IO, READ, removeTheOther);
        a.write(1);
        b.write(1);
        assertEquals(2, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertEquals(1, AppStruct.calls(sa) + AppStruct.calls(sb));
        assertEquals(1, poller.size());
    }

    @EveryBackend
    void newAtomOnAReusedDescriptorNeverGetsTheOldAtomsEvent(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe a = resources.pipe();
        TestPipe b = resources.pipe();
        MemorySegment sa = AppStruct.allocate(arena, 1, a.readFd());
        MemorySegment sb = AppStruct.allocate(arena, 2, b.readFd());
        MemorySegment[] replacement = new MemorySegment[1];
        TestPipe[] fresh = new TestPipe[1];
        int[] reusedFd = new int[1];
        IoHandler closeTheOtherAndReuseItsFd = (owner, events) -> {
            AppStruct.record(owner, events);
            if (replacement[0] != null) {
                return;
            }
            MemorySegment other = owner == sa ? sb : sa;
            TestPipe otherPipe = owner == sa ? b : a;
            int oldFd = IoAtom.fd(other, AppStruct.IO);
            poller.remove(other, AppStruct.IO);
            otherPipe.closeRead();
            try {
                fresh[0] = resources.pipe();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            reusedFd[0] = oldFd;
            replacement[0] = AppStruct.allocate(arena, 3, fresh[0].readFd());
            fresh[0].write(1);
            poller.add(replacement[0], AppStruct.IO, READ, RECORD);
        };
        poller.add(sa, AppStruct.IO, READ, closeTheOtherAndReuseItsFd);
        poller.add(sb, AppStruct.IO, READ, closeTheOtherAndReuseItsFd);
        a.write(1);
        b.write(1);
        assertEquals(2, poller.await(5000));
        assertEquals(1, poller.dispatch(), "only the first handler runs in this batch");
        assertEquals(reusedFd[0], fresh[0].readFd(), "the kernel reuses the lowest free fd");
        assertEquals(0, AppStruct.calls(replacement[0]), "the new atom must not see the old atom's event");
        poller.await(5000);
        poller.dispatch();
        assertEquals(1, AppStruct.calls(replacement[0]), "the new atom gets its own event in the next batch");
        assertEquals(READ, AppStruct.lastEvents(replacement[0]));
    }

    @EveryBackend
    void atomAddedDuringDispatchIsNotCalledInThatBatch(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe a = resources.pipe();
        TestPipe b = resources.pipe();
        b.write(1);
        MemorySegment sa = AppStruct.allocate(arena, 1, a.readFd());
        MemorySegment sb = AppStruct.allocate(arena, 2, b.readFd());
        poller.add(sa, AppStruct.IO, READ, (owner, events) -> {
            AppStruct.record(owner, events);
            if (!IoAtom.isRegistered(sb, AppStruct.IO)) {
                poller.add(sb, AppStruct.IO, READ, RECORD);
            }
        });
        a.write(1);
        assertEquals(1, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertEquals(0, AppStruct.calls(sb));
        assertEquals(1, poller.await(5000) > 0 ? 1 : 0);
        poller.dispatch();
        assertEquals(1, AppStruct.calls(sb));
    }

    @EveryBackend
    void setDuringDispatchDropsPendingEventsTheAtomNoLongerWants(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe a = resources.pipe();
        TestPipe b = resources.pipe();
        MemorySegment sa = AppStruct.allocate(arena, 1, a.readFd());
        MemorySegment sb = AppStruct.allocate(arena, 2, b.readFd());
        IoHandler pauseTheOther = (owner, events) -> {
            AppStruct.record(owner, events);
            poller.set(owner == sa ? sb : sa, AppStruct.IO, 0);
        };
        poller.add(sa, AppStruct.IO, READ, pauseTheOther);
        poller.add(sb, AppStruct.IO, READ, pauseTheOther);
        a.write(1);
        b.write(1);
        assertEquals(2, poller.await(5000));
        assertEquals(1, poller.dispatch());
    }

    @EveryBackend
    void stateChangedBetweenAwaitAndDispatchIsSeenByHandlers(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 1, pipe.readFd());
        long[] clock = {0};
        long[] seen = {-1};
        poller.add(conn, AppStruct.IO, READ, (owner, events) -> seen[0] = clock[0]);
        pipe.write(1);
        assertEquals(1, poller.await(5000));
        clock[0] = 7;
        poller.dispatch();
        assertEquals(7, seen[0]);
    }

    @EveryBackend
    void handlerExceptionLeavesTheRestOfTheBatchForTheNextDispatch(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        List<MemorySegment> structs = new ArrayList<>();
        boolean[] thrown = {false};
        IoHandler throwOnce = (owner, events) -> {
            AppStruct.record(owner, events);
            if (!thrown[0]) {
                thrown[0] = true;
                throw new IOException("handler failure");
            }
        };
        for (int i = 0; i < 3; i++) {
            TestPipe p = resources.pipe();
            MemorySegment s = AppStruct.allocate(arena, i, p.readFd());
            poller.add(s, AppStruct.IO, READ, throwOnce);
            structs.add(s);
            p.write(1);
        }
        assertEquals(3, poller.await(5000));
        HandlerException e = assertThrows(HandlerException.class, poller::dispatch);
        assertEquals("handler failure", e.getCause().getMessage());
        assertEquals(HandlerException.Source.ATOM, e.source());
        assertEquals(AppStruct.IO, e.atomOffset());
        assertEquals(IoAtom.fd(e.owner(), AppStruct.IO), e.fd());
        assertEquals(2, poller.await(60_000), "await returns the undelivered rest at once");
        assertEquals(2, poller.dispatch());
        for (MemorySegment s : structs) {
            assertEquals(1, AppStruct.calls(s), "every event delivered exactly once");
        }
    }

    @EveryBackend
    void wakeupFromAnotherThreadEndsAnUnboundedAwait(PollerKind kind) throws Exception {
        Poller poller = open(kind);
        CountDownLatch started = new CountDownLatch(1);
        Thread waker = new Thread(() -> {
            try {
                started.await();
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            poller.wakeup();
        });
        waker.start();
        started.countDown();
        assertEquals(0, poller.await(-1));
        waker.join();
        assertEquals(0, poller.await(0), "a consumed wake-up does not linger");
        poller.wakeup();
        poller.wakeup();
        assertEquals(0, poller.await(-1), "a wake-up before await makes it return");
        assertEquals(0, poller.dispatch());
    }

    @EveryBackend
    void closeFromAHandlerStopsTheBatch(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        IoHandler closeIt = (owner, events) -> {
            AppStruct.record(owner, events);
            poller.close();
        };
        List<MemorySegment> structs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TestPipe p = resources.pipe();
            MemorySegment s = AppStruct.allocate(arena, i, p.readFd());
            poller.add(s, AppStruct.IO, READ, closeIt);
            p.write(1);
            structs.add(s);
        }
        assertEquals(3, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertFalse(poller.isOpen());
        for (MemorySegment s : structs) {
            assertFalse(IoAtom.isRegistered(s, AppStruct.IO), "close unregisters every atom");
        }
        assertThrows(IllegalStateException.class, () -> poller.await(0));
    }

    @EveryBackend
    void removeThenAddAgainWorksAndIsReportedAgain(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe pipe = resources.pipe();
        MemorySegment conn = AppStruct.allocate(arena, 1, pipe.readFd());
        pipe.write(1);
        for (int i = 0; i < 3; i++) {
            poller.add(conn, AppStruct.IO, READ, RECORD);
            assertTrue(IoAtom.isRegistered(conn, AppStruct.IO));
            assertEquals(1, poller.await(5000));
            poller.dispatch();
            poller.remove(conn, AppStruct.IO);
            assertFalse(IoAtom.isRegistered(conn, AppStruct.IO));
            assertEquals(0, poller.size());
        }
        assertEquals(3, AppStruct.calls(conn));
    }

    @EveryBackend
    void manyAtomsAllDeliverTheirEvents(PollerKind kind) throws IOException {
        int n = kind == PollerKind.SELECT ? 200 : 2000;
        Poller poller = Poller.open(kind, n);
        resources.add(poller);
        List<TestPipe> pipes = new ArrayList<>();
        List<MemorySegment> structs = new ArrayList<>();
        IoHandler drain = (owner, events) -> {
            AppStruct.record(owner, events);
            pipes.get((int) owner.get(java.lang.foreign.ValueLayout.JAVA_LONG, AppStruct.ID)).drain();
        };
        for (int i = 0; i < n / 2; i++) {
            TestPipe p = resources.pipe();
            pipes.add(p);
            MemorySegment s = AppStruct.allocate(arena, i, p.readFd());
            structs.add(s);
            poller.add(s, AppStruct.IO, READ, drain);
        }
        for (TestPipe p : pipes) {
            p.write(3);
        }
        int calls = 0;
        for (int round = 0; round < 100 && calls < n / 2; round++) {
            poller.await(5000);
            calls += poller.dispatch();
        }
        assertEquals(n / 2, calls);
        for (MemorySegment s : structs) {
            assertEquals(1, AppStruct.calls(s));
        }
        assertEquals(n / 2, poller.size());
    }

    @EveryBackend
    void awaitWithATimeoutAndNothingReadyReturnsZero(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        long t0 = System.nanoTime();
        assertEquals(0, poller.await(20));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(15), "the wait lasted about its timeout");
        assertEquals(0, poller.dispatch());
    }
}
