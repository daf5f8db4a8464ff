package org.ioatom.internal;

import static org.ioatom.internal.EventBits.ERROR;
import static org.ioatom.internal.EventBits.HUP;
import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * The slot table's one liveness check and what it lets through, on their own: the same answers
 * serve the filtering after a wait ({@code keep}) and dispatch ({@code deliverable}).
 */
class SlotTableTest {
    private final SlotTable<String> slots = new SlotTable<>(4);
    private final MemorySegment memory = Arena.ofAuto().allocate(64);

    @Test
    void freeingASlotMakesTheEntriesGatheredForItStaleEvenWhenTheSlotIsTakenAgain() {
        int slot = slots.occupy(memory, 0, "first", 7, READ);
        int gathered = slots.generation(slot);
        assertTrue(slots.isLive(slot, gathered));
        slots.free(slot);
        assertFalse(slots.isLive(slot, gathered));
        int again = slots.occupy(memory, 16, "second", 7, READ);
        assertEquals(slot, again, "the freed slot is the next one taken");
        assertFalse(slots.isLive(again, gathered), "the old entry is not the new registration's");
        assertFalse(slots.keep(again, gathered));
        assertEquals(0, slots.deliverable(again, gathered, READ));
        assertTrue(slots.isLive(again, slots.generation(again)));
    }

    @Test
    void hangUpAndErrorComeWithTheWholeInterestAndNothingOutsideIt() {
        int slot = slots.occupy(memory, 0, "h", 7, READ);
        int g = slots.generation(slot);
        assertEquals(READ, slots.deliverable(slot, g, READ | WRITE), "WRITE was not asked for");
        assertEquals(READ | HUP, slots.deliverable(slot, g, HUP));
        assertEquals(READ | ERROR, slots.deliverable(slot, g, ERROR));
        assertEquals(0, slots.deliverable(slot, g, WRITE));
    }

    @Test
    void aPausedAtomIsLiveButItsEntriesAreNeitherKeptNorDelivered() {
        int slot = slots.occupy(memory, 0, "h", 7, READ);
        int g = slots.generation(slot);
        slots.setInterest(slot, 0);
        assertTrue(slots.isLive(slot, g));
        assertFalse(slots.keep(slot, g));
        assertEquals(0, slots.deliverable(slot, g, READ | HUP | ERROR));
    }

    @Test
    void theReservedSlotHoldsTheWakeUpFdAndNeverAnAtom() {
        slots.reserve(9);
        assertEquals(slots.reservedSlot(), slots.slotOfFd(9));
        assertFalse(slots.isLive(slots.reservedSlot(), 0));
        assertFalse(slots.holds(slots.reservedSlot(), memory, 0));
        for (int i = 0; i < slots.capacity(); i++) {
            assertTrue(slots.occupy(memory, 16L * (i % 4), "h", 10 + i, READ) < slots.reservedSlot());
        }
        assertTrue(slots.isFull());
    }

    @Test
    void anAtomIsFoundByItsAddressWhateverSegmentObjectDescribesIt() {
        int slot = slots.occupy(memory, 16, "h", 7, READ);
        assertTrue(slots.holds(slot, memory.asSlice(16), 0));
        assertFalse(slots.holds(slot, memory, 0));
        assertFalse(slots.holds(-1, memory, 16));
        assertEquals(slot, slots.find(memory, 16));
        assertEquals(7, slots.fd(slot));
        assertEquals(slot, slots.slotOfFd(7));
        slots.free(slot);
        assertEquals(-1, slots.slotOfFd(7));
        assertEquals(-1, slots.find(memory, 16));
    }
}
