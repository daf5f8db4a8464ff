package org.ioatom.internal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A bounded queue of task references from any number of threads to the one polling thread,
 * reserved at open: offering and taking allocate nothing.
 *
 * <p>Each cell carries a sequence number that says whose turn it is: a producer claims the next
 * position with a compare-and-set of {@link #tail}, stores the task and then publishes it by
 * advancing the cell's sequence; the consumer takes a cell only once it is published, and frees it
 * for the producer one lap later by advancing the sequence again. A producer's tasks therefore come
 * out in the order it offered them. Offering to a full ring fails at once instead of waiting.
 *
 * <p>Wake-ups are coalesced: {@link #offer} reports whether the loop must be woken, which is the
 * case only for the first task since the consumer last {@linkplain #startDrain() started draining}.
 */
public final class TaskRing {
    private final int mask;
    private final AtomicLongArray sequences;
    private final AtomicReferenceArray<Runnable> cells;
    private final AtomicLong tail = new AtomicLong();
    /** Written by the consumer only. */
    private long head;
    /** Set by the producer that must wake the loop; cleared by the consumer before it drains. */
    private final java.util.concurrent.atomic.AtomicBoolean wakePending = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Reserves the ring.
     *
     * @param capacity the most tasks waiting at once, rounded up to a power of two (at least 1)
     */
    public TaskRing(int capacity) {
        int size = Integer.highestOneBit(Math.max(1, capacity - 1)) << 1;
        if (capacity <= 1) {
            size = 1;
        }
        mask = size - 1;
        sequences = new AtomicLongArray(size);
        cells = new AtomicReferenceArray<>(size);
        for (int i = 0; i < size; i++) {
            sequences.set(i, i);
        }
    }

    /** {@return how many tasks can wait at once} */
    public int capacity() {
        return mask + 1;
    }

    /**
     * Appends a task; any thread.
     *
     * @param task the task
     * @return 1 if queued and the loop must be woken, 0 if queued (a wake-up is already on its way), -1 if full
     */
    public int offer(Runnable task) {
        long pos = tail.get();
        while (true) {
            int cell = (int) pos & mask;
            long seq = sequences.get(cell);
            long lag = seq - pos;
            if (lag == 0) {
                if (tail.compareAndSet(pos, pos + 1)) {
                    cells.setPlain(cell, task);
                    sequences.set(cell, pos + 1); // publishes the task (volatile write after the plain one)
                    return wakePending.compareAndSet(false, true) ? 1 : 0;
                }
                pos = tail.get();
            } else if (lag < 0) {
                return -1; // the consumer has not freed this cell yet: full
            } else {
                pos = tail.get();
            }
        }
    }

    /** Consumer: called before draining, so that tasks offered from now on wake the next wait. */
    public void startDrain() {
        wakePending.set(false);
    }

    /**
     * Consumer: takes the next published task.
     *
     * @return the task, or null if none is published
     */
    public Runnable poll() {
        int cell = (int) head & mask;
        if (sequences.get(cell) != head + 1) {
            return null;
        }
        Runnable task = cells.getPlain(cell);
        cells.setPlain(cell, null);
        sequences.set(cell, head + mask + 1); // frees the cell for the producer one lap later
        head++;
        return task;
    }

    /** {@return whether a task is published and not taken (consumer's view)} */
    public boolean hasPending() {
        return sequences.get((int) head & mask) == head + 1;
    }

    /** Consumer: drops every waiting task (at close). */
    public void clear() {
        while (poll() != null) {
            // dropped
        }
    }
}
