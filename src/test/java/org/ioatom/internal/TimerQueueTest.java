package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The timer heap on its own: order, cancel, reschedule and misuse, against a sorted-map model. */
class TimerQueueTest {
    private static final long SIZE = TimerQueue.LAYOUT.byteSize();

    @Test
    void timersComeOutInDeadlineOrderAndEqualDeadlinesInScheduleOrder() {
        try (Arena arena = Arena.ofConfined()) {
            TimerQueue<String> q = new TimerQueue<>(7, 8);
            MemorySegment timers = arena.allocate(SIZE * 4, 8);
            q.schedule(timers, 0, 30, "a");
            q.schedule(timers, SIZE, 10, "b");
            q.schedule(timers, 2 * SIZE, 30, "c");
            q.schedule(timers, 3 * SIZE, 20, "d");
            assertEquals(10, q.nextDeadline());
            assertFalse(q.pollDue(9));
            StringBuilder fired = new StringBuilder();
            while (q.pollDue(30)) {
                fired.append(q.firedHandler());
            }
            assertEquals("bdac", fired.toString());
            assertEquals(0, q.size());
            for (int i = 0; i < 4; i++) {
                assertEquals(0, timers.get(ValueLayout.JAVA_INT, i * SIZE + TimerQueue.POLLER), "unscheduled " + i);
            }
        }
    }

    @Test
    void matchesASortedModelUnderRandomScheduleCancelRescheduleAndExpiry() {
        Random random = new Random(42);
        int n = 500;
        try (Arena arena = Arena.ofConfined()) {
            TimerQueue<Integer> q = new TimerQueue<>(3, n);
            MemorySegment timers = arena.allocate(SIZE * n, 8);
            TreeMap<Long, Integer> model = new TreeMap<>(); // (deadline << 20 | seq) -> timer
            long[] keyOf = new long[n];
            long seq = 0;
            long now = 0;
            for (int step = 0; step < 200_000; step++) {
                int t = random.nextInt(n);
                long off = t * SIZE;
                switch (random.nextInt(4)) {
                    case 0, 1 -> {
                        long deadline = now + random.nextInt(1000);
                        q.schedule(timers, off, deadline, t);
                        if (keyOf[t] != 0) {
                            model.remove(keyOf[t]);
                        }
                        keyOf[t] = (deadline << 20 | (seq++ & 0xFFFFF)) + 1;
                        model.put(keyOf[t], t);
                    }
                    case 2 -> {
                        boolean was = q.cancel(timers, off);
                        assertEquals(keyOf[t] != 0, was);
                        if (keyOf[t] != 0) {
                            model.remove(keyOf[t]);
                            keyOf[t] = 0;
                        }
                    }
                    default -> {
                        now += random.nextInt(50);
                        while (q.pollDue(now)) {
                            int fired = q.firedHandler();
                            var first = model.firstEntry();
                            assertEquals(first.getValue(), fired, "step " + step);
                            assertTrue(((first.getKey() - 1) >> 20) <= now, "never early");
                            model.pollFirstEntry();
                            keyOf[fired] = 0;
                            assertEquals(timers.address(), q.firedOwner().address());
                        }
                        if (!model.isEmpty()) {
                            assertTrue(((model.firstKey() - 1) >> 20) > now, "a due timer was left behind");
                        }
                    }
                }
                assertEquals(model.size(), q.size());
                if (seq >= 0xFFFFF) {
                    break; // the model's sequence field is 20 bits
                }
            }
        }
    }

    @Test
    void misuseIsRefusedAndChangesNothing() {
        try (Arena arena = Arena.ofConfined()) {
            TimerQueue<String> q = new TimerQueue<>(1, 1);
            TimerQueue<String> other = new TimerQueue<>(2, 1);
            MemorySegment a = arena.allocate(SIZE * 2, 8);
            q.schedule(a, 0, 5, "a");
            var full = assertThrows(IllegalStateException.class, () -> q.schedule(a, SIZE, 5, "b"));
            assertTrue(full.getMessage().startsWith("timer capacity 1 reached"), full.getMessage());
            var foreign = assertThrows(IllegalStateException.class, () -> other.cancel(a, 0));
            assertEquals("timer is scheduled with another poller; cancel it there first", foreign.getMessage());
            a.set(ValueLayout.JAVA_INT, TimerQueue.ENTRY, 99); // corrupted by the app
            var corrupt = assertThrows(IllegalStateException.class, () -> q.cancel(a, 0));
            assertTrue(corrupt.getMessage().startsWith("timer memory does not match"), corrupt.getMessage());
            a.set(ValueLayout.JAVA_INT, TimerQueue.ENTRY, 1);
            assertTrue(q.cancel(a, 0));
            assertFalse(q.cancel(a, 0));
            assertEquals(0, q.size());
        }
    }

    @Test
    void aTimerWhoseArenaClosedIsDroppedNotRun() {
        TimerQueue<String> q = new TimerQueue<>(1, 4);
        Arena gone = Arena.ofConfined();
        q.schedule(gone.allocate(SIZE, 8), 0, 1, "gone");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment kept = arena.allocate(SIZE, 8);
            q.schedule(kept, 0, 2, "kept");
            gone.close();
            assertTrue(q.pollDue(10));
            assertEquals("kept", q.firedHandler());
            assertEquals(0, q.size());
        }
    }
}
