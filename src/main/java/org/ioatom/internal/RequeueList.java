package org.ioatom.internal;

import java.util.Arrays;

/**
 * Atoms whose handlers asked to be called again in the next dispatch, each with the slot
 * generation at the time of asking, so a removed atom (or a new atom in the same slot) is never
 * called for it. A slot is listed at most once: asking again replaces the generation, which keeps
 * the list within the slot count however often atoms come and go. The arrays start with the slot
 * table's size at open and grow with it, the first time a slot beyond them is requeued (so only
 * while a new high of registrations is reached, never in steady state); each operation is O(1) per
 * atom.
 */
public final class RequeueList {
    private int[] slots;
    private int[] generations;
    /** Per slot: 1 + its index in {@link #slots}, or 0 when not listed. */
    private int[] listedAt;
    private int count;

    /**
     * Reserves the arrays.
     *
     * @param slotCount how many slots the poller's table has at open
     */
    public RequeueList(int slotCount) {
        slots = new int[slotCount];
        generations = new int[slotCount];
        listedAt = new int[slotCount];
    }

    /** {@return how many requeues wait} */
    public int size() {
        return count;
    }

    /**
     * Lists a slot for the next round; a slot already listed keeps its place and takes the new
     * generation (an older request for the slot is stale anyway).
     *
     * @param slot       the atom's slot
     * @param generation its current generation
     */
    public void add(int slot, int generation) {
        if (slot >= listedAt.length) {
            grow(slot + 1);
        }
        int at = listedAt[slot];
        if (at != 0) {
            generations[at - 1] = generation;
            return;
        }
        slots[count] = slot;
        generations[count] = generation;
        count++;
        listedAt[slot] = count;
    }

    /**
     * Moves the requeues into a freshly gathered batch: an atom already in it gets its interest
     * bits merged into that entry (one call per dispatch), the others are appended while there is
     * room; what does not fit stays listed for the next round. Stale requeues are dropped here.
     *
     * @param batch the batch the last wait gathered (none of it dispatched yet)
     * @param table the slot table (generations and interest)
     * @param <H>   the table's handler type
     */
    public <H> void mergeInto(ReadyBatch batch, SlotTable<H> table) {
        if (count == 0) {
            return;
        }
        int gathered = batch.count();
        for (int i = 0; i < gathered; i++) {
            int slot = batch.slot(i);
            int at = slot < listedAt.length ? listedAt[slot] : 0;
            if (at != 0 && generations[at - 1] == batch.generation(i)) {
                batch.addEvents(i, table.interest(slot));
                slots[at - 1] = -1; // served by the gathered entry
                listedAt[slot] = 0;
            }
        }
        int kept = 0;
        for (int i = 0; i < count; i++) {
            int slot = slots[i];
            if (slot < 0) {
                continue;
            }
            int generation = generations[i];
            listedAt[slot] = 0;
            if (!table.isLive(slot, generation)) {
                continue;
            }
            if (!batch.full()) {
                batch.add(slot, generation, table.interest(slot));
            } else {
                slots[kept] = slot;
                generations[kept] = generation;
                kept++;
                listedAt[slot] = kept;
            }
        }
        count = kept;
    }

    /** Doubles the arrays (or more, to {@code least}); a slot is listed at most once, so all three keep one length. */
    private void grow(int least) {
        int length = Math.max(least, 2 * listedAt.length);
        slots = Arrays.copyOf(slots, length);
        generations = Arrays.copyOf(generations, length);
        listedAt = Arrays.copyOf(listedAt, length);
    }

    /** Forgets everything (at close). */
    public void clear() {
        for (int i = 0; i < count; i++) {
            if (slots[i] >= 0) {
                listedAt[slots[i]] = 0;
            }
        }
        count = 0;
    }
}
