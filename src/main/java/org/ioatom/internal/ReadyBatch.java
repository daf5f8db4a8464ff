package org.ioatom.internal;

import java.util.Arrays;

/**
 * The events one wait gathered, as (slot, generation, events) entries in parallel arrays sized
 * at open; a backend whose batch follows its slot count makes it larger with {@link #growTo}. Keeping the generation beside the slot is what makes stale entries detectable:
 * freeing a slot bumps its generation, so its pending entries no longer match.
 *
 * <p>Only this class changes the batch: a backend appends ({@link #add}, {@link #addEvents}),
 * the poller filters it once per wait ({@link #retain}) and consumes it ({@link #next}).
 */
public final class ReadyBatch {
    /** Decides which gathered entries are still for someone. */
    @FunctionalInterface
    public interface EntryFilter {
        /**
         * Tells whether an entry stays in the batch.
         *
         * @param slot       the entry's slot
         * @param generation the slot's generation when the entry was gathered
         * @return true to keep it
         */
        boolean keep(int slot, int generation);
    }

    private int[] slots;
    private int[] generations;
    private int[] events;
    private int count;
    private int cursor;

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
     * Makes room for {@code capacity} entries, keeping the entries and the dispatch position (it
     * may happen during a dispatch, from a handler that registers an atom). Allocates only when
     * the batch is smaller.
     *
     * @param capacity the most entries one wait may gather from now on
     */
    public void growTo(int capacity) {
        if (capacity > slots.length) {
            slots = Arrays.copyOf(slots, capacity);
            generations = Arrays.copyOf(generations, capacity);
            events = Arrays.copyOf(events, capacity);
        }
    }

    /** {@return how many entries one wait may gather} */
    public int capacity() {
        return slots.length;
    }

    /** {@return how many entries the batch holds, dispatched or not} */
    public int count() {
        return count;
    }

    /** {@return how many entries are not dispatched yet} */
    public int remaining() {
        return count - cursor;
    }

    /** Starts a new batch. */
    public void clear() {
        count = 0;
        cursor = 0;
    }

    /** {@return whether the batch is full} */
    public boolean full() {
        return count == slots.length;
    }

    /**
     * Appends an entry; callers check {@link #full()} first.
     *
     * @param slot       the registration slot
     * @param generation the slot's generation when registered
     * @param ev         event bits ({@link EventBits})
     */
    public void add(int slot, int generation, int ev) {
        int i = count++;
        slots[i] = slot;
        generations[i] = generation;
        events[i] = ev;
    }

    /**
     * Adds event bits to an entry already in the batch (a backend that reports READ and WRITE
     * of one descriptor separately merges them).
     *
     * @param index the entry
     * @param ev    event bits to add
     */
    public void addEvents(int index, int ev) {
        events[index] |= ev;
    }

    /**
     * Keeps the entries {@code filter} accepts, in order, and drops every entry of
     * {@code signalSlot}, telling whether there was one.
     *
     * @param filter     says which entries stay
     * @param signalSlot a slot whose entries are consumed here (the poller's wake-up descriptor)
     * @return whether an entry of {@code signalSlot} was in the batch
     */
    public boolean retain(EntryFilter filter, int signalSlot) {
        boolean signalled = false;
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int slot = slots[i];
            if (slot == signalSlot) {
                signalled = true;
            } else if (filter.keep(slot, generations[i])) {
                slots[kept] = slot;
                generations[kept] = generations[i];
                events[kept] = events[i];
                kept++;
            }
        }
        count = kept;
        cursor = 0;
        return signalled;
    }

    /**
     * Takes the next entry to dispatch; callers check {@link #remaining()} first.
     *
     * @return the entry's index, for {@link #slot}, {@link #generation} and {@link #events}
     */
    public int next() {
        return cursor++;
    }

    /**
     * Returns an entry's slot.
     *
     * @param index the entry
     * @return its slot
     */
    public int slot(int index) {
        return slots[index];
    }

    /**
     * Returns an entry's generation.
     *
     * @param index the entry
     * @return the slot's generation when the entry was gathered
     */
    public int generation(int index) {
        return generations[index];
    }

    /**
     * Returns an entry's event bits.
     *
     * @param index the entry
     * @return its event bits
     */
    public int events(int index) {
        return events[index];
    }
}
