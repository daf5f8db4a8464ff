package org.ioatom.internal;

/**
 * Atoms whose handlers asked to be called again in the next dispatch, with the slot generation
 * at the time of asking, so a removed atom (or a new atom in the same slot) is never called for
 * it. Arrays sized once at open; each operation is O(1) per atom.
 */
public final class RequeueList {
    private final int[] slots;
    private final int[] generations;
    /** Per slot: 1 + the generation requeued in this round's list, or 0 when not listed. */
    private final long[] listed;
    private int count;

    /**
     * Reserves the arrays.
     *
     * @param slotCount how many slots the poller has
     */
    public RequeueList(int slotCount) {
        slots = new int[slotCount];
        generations = new int[slotCount];
        listed = new long[slotCount];
    }

    /** {@return how many requeues wait} */
    public int size() {
        return count;
    }

    /**
     * Lists a slot once per round.
     *
     * @param slot       the atom's slot
     * @param generation its current generation
     */
    public void add(int slot, int generation) {
        long mark = 1L + (generation & 0xFFFF_FFFFL);
        if (listed[slot] == mark) {
            return;
        }
        listed[slot] = mark;
        slots[count] = slot;
        generations[count] = generation;
        count++;
    }

    /**
     * Moves the requeues into a freshly gathered batch: an atom already in it gets its interest
     * bits merged into that entry (one call per dispatch), the others are appended while there is
     * room; what does not fit stays listed for the next round. Stale requeues are dropped here or
     * by the dispatch's generation check.
     *
     * @param batch the batch the last wait gathered
     * @param table the slot table (generations and interest)
     */
    public <H> void mergeInto(ReadyBatch batch, SlotTable<H> table) {
        if (count == 0) {
            return;
        }
        int gathered = batch.count();
        for (int i = 0; i < gathered; i++) {
            int slot = batch.slot(i);
            if (slot < listed.length && listed[slot] == 1L + (batch.generation(i) & 0xFFFF_FFFFL)) {
                batch.addEvents(i, table.interest(slot));
                listed[slot] = 0;
            }
        }
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int slot = slots[i];
            int generation = generations[i];
            if (listed[slot] != 1L + (generation & 0xFFFF_FFFFL)) {
                continue; // merged above
            }
            if (!table.isLive(slot, generation)) {
                listed[slot] = 0;
            } else if (!batch.full()) {
                batch.add(slot, generation, table.interest(slot));
                listed[slot] = 0;
            } else {
                slots[kept] = slot;
                generations[kept] = generation;
                kept++;
            }
        }
        count = kept;
    }

    /** Forgets everything (at close). */
    public void clear() {
        for (int i = 0; i < count; i++) {
            listed[slots[i]] = 0;
        }
        count = 0;
    }
}
