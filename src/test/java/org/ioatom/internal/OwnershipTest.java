package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The poller's threading contract on its own, without a poller: who may enter, who is refused
 * and with what message, and that the resources are released exactly once by a thread that
 * holds the poller, whoever calls close.
 */
@Timeout(60)
class OwnershipTest {
    private final AtomicInteger tearDowns = new AtomicInteger();
    private final AtomicReference<Thread> tearDownThread = new AtomicReference<>();
    private final AtomicInteger wakes = new AtomicInteger();
    private final Ownership ownership = new Ownership(() -> {
        tearDowns.incrementAndGet();
        tearDownThread.set(Thread.currentThread());
    }, wakes::incrementAndGet);

    /** A thread that enters at the top level and stays inside until released. */
    private final class Holder {
        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch leave = new CountDownLatch(1);
        final Thread thread;

        Holder(String name) throws InterruptedException {
            thread = new Thread(() -> {
                ownership.enterTop("await", "nested");
                try {
                    inside.countDown();
                    leave.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    ownership.exitTop();
                }
            }, name);
            thread.start();
            assertTrue(inside.await(10, TimeUnit.SECONDS), "holder entered");
        }

        void leave() throws InterruptedException {
            leave.countDown();
            thread.join(10_000);
            assertFalse(thread.isAlive(), "holder left");
        }
    }

    @Test
    void aSecondThreadIsRefusedAtOnceNamingTheHolder() throws Exception {
        Holder holder = new Holder("loop-1");
        try {
            var e = assertThrows(IllegalStateException.class, () -> ownership.enter("add"));
            assertTrue(e.getMessage().startsWith("add() from thread \"" + Thread.currentThread().getName()
                    + "\" while thread \"loop-1\" is using the poller"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> ownership.enterTop("dispatch", "nested"));
            assertTrue(e.getMessage().startsWith("dispatch() from thread"), e.getMessage());
        } finally {
            holder.leave();
        }
        assertTrue(ownership.enter("add"), "free again once the holder left");
        ownership.exit(true);
        assertEquals(0, tearDowns.get());
    }

    @Test
    void theHolderMayEnterAgainButTopLevelCallsDoNotNest() {
        ownership.enterTop("dispatch", "dispatch() is not re-entrant");
        try {
            assertFalse(ownership.enter("add"), "a handler's add runs inside the holder's claim");
            ownership.exit(false);
            var e = assertThrows(IllegalStateException.class, () -> ownership.enterTop("await", "await() from a handler"));
            assertEquals("await() from a handler", e.getMessage());
        } finally {
            ownership.exitTop();
        }
    }

    @Test
    void exitingAfterANestedEnterKeepsThePollerHeld() throws Exception {
        ownership.enterTop("dispatch", "nested");
        try {
            ownership.exit(ownership.enter("set"));
            AtomicReference<Throwable> refused = new AtomicReference<>();
            Thread other = new Thread(() -> refused.set(assertThrows(IllegalStateException.class,
                    () -> ownership.enter("remove"))));
            other.start();
            other.join(10_000);
            assertTrue(refused.get().getMessage().startsWith("remove() from thread"), refused.get().getMessage());
        } finally {
            ownership.exitTop();
        }
    }

    @Test
    void callsThatDoNotOverlapMayComeFromDifferentThreads() throws Exception {
        for (int i = 0; i < 3; i++) {
            Thread t = new Thread(() -> {
                ownership.enterTop("await", "nested");
                ownership.exitTop();
            });
            t.start();
            t.join(10_000);
        }
        assertTrue(ownership.enter("add"));
        ownership.exit(true);
    }

    @Test
    void closeWithNobodyInsideTearsDownAtOnceAndOnlyOnce() {
        ownership.close();
        ownership.close();
        assertEquals(1, tearDowns.get());
        assertSame(Thread.currentThread(), tearDownThread.get());
        assertEquals(0, wakes.get(), "nobody to wake");
        assertTrue(ownership.isClosed());
        var e = assertThrows(IllegalStateException.class, ownership::checkOpen);
        assertEquals("poller is closed", e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> ownership.enterTop("await", "nested"));
        assertEquals("poller is closed", e.getMessage());
    }

    @Test
    void closeFromTheHolderItselfTearsDownAtOnce() {
        ownership.enterTop("dispatch", "nested");
        try {
            ownership.close(); // a handler closing the poller
            assertEquals(1, tearDowns.get());
        } finally {
            ownership.exitTop();
        }
        assertEquals(1, tearDowns.get(), "not again on the way out");
        assertEquals(0, wakes.get());
    }

    @Test
    void closeFromAnotherThreadWakesTheHolderWhichTearsDownOnItsWayOut() throws Exception {
        Holder holder = new Holder("loop-2");
        ownership.close();
        assertEquals(1, wakes.get(), "the holder's wait is ended");
        assertEquals(0, tearDowns.get(), "nothing is freed while the holder may still use it");
        assertTrue(ownership.isClosed());
        var e = assertThrows(IllegalStateException.class, () -> ownership.enter("add"));
        assertEquals("poller is closed", e.getMessage(), "a refusal after close says closed, not busy");
        holder.leave();
        assertEquals(1, tearDowns.get());
        assertSame(holder.thread, tearDownThread.get());
    }

    @Test
    void closeRacingTheHoldersExitTearsDownExactlyOnce() throws Exception {
        for (int round = 0; round < 2_000; round++) {
            AtomicInteger count = new AtomicInteger();
            Ownership o = new Ownership(count::incrementAndGet, () -> { });
            CyclicBarrier start = new CyclicBarrier(2);
            Thread loop = new Thread(() -> {
                try {
                    o.enterTop("await", "nested");
                    start.await();
                    o.exitTop();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            loop.start();
            start.await();
            o.close();
            loop.join(10_000);
            assertEquals(1, count.get(), "round " + round);
        }
    }
}
