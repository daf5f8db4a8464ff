package org.ioatom.internal;

/**
 * The events one {@code wait} gathered, as (slot, generation, events) triples in parallel
 * arrays sized once at open. A backend appends; the poller dispatches from {@link #cursor}.
 * Keeping the generation beside the slot is what makes stale entries detectable: removing an
 * atom bumps its slot's generation, so its pending entries no longer match.
 */
public final class ReadyBatch {
    /** Slot of each entry. */
    public final int[] slots;
    /** Generation of the slot when the entry was gathered. */
    public final int[] generations;
    /** {@code IoAtom} event bits of each entry. */
    public final int[] events;
    /** Entries gathered. */
    public int count;
    /** Next entry to dispatch. */
    public int cursor;

    /**
     * Reserves the arrays.
     *
     * @param capacity the most entries one wait may gather
     */
    public ReadyBatch(int capacity) {
        slots = new int[capacity];
        generations = new int[capacity];
        events = new int[capacity];
    }

    /**
     * Returns how many entries one wait may gather.
     *
     * @return how many entries one wait may gather
     */
    public int capacity() {
        return slots.length;
    }

    /** Starts a new batch. */
    public void clear() {
        count = 0;
        cursor = 0;
    }

    /**
     * Returns whether the batch is full.
     *
     * @return whether the batch is full
     */
    public boolean full() {
        return count == slots.length;
    }

    /**
     * Appends an entry; callers check {@link #full()} first.
     *
     * @param slot       the registration slot
     * @param generation the slot's generation when registered
     * @param ev         {@code IoAtom} event bits
     */
    public void add(int slot, int generation, int ev) {
        int i = count++;
        slots[i] = slot;
        generations[i] = generation;
        events[i] = ev;
    }
}
