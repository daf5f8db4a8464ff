package org.ioatom.internal;

import static org.ioatom.internal.EventBits.ERROR;
import static org.ioatom.internal.EventBits.HUP;
import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
    void theWakeUpSlotHoldsTheWakeUpFdAndNeverAnAtom() {
        slots.reserve(9);
        assertEquals(SlotTable.WAKE_SLOT, slots.slotOfFd(9));
        assertFalse(slots.isLive(SlotTable.WAKE_SLOT, 0));
        assertFalse(slots.holds(SlotTable.WAKE_SLOT, memory, 0));
        for (int i = 0; i < slots.capacity(); i++) {
            assertNotEquals(SlotTable.WAKE_SLOT, slots.occupy(memory, 16L * (i % 4), "h", 10 + i, READ));
        }
        assertTrue(slots.isFull());
        assertEquals(SlotTable.WAKE_SLOT, slots.slotOfFd(9));
    }

    @Test
    void aLargeTableStartsSmallAndGrowsByDoublingToExactlyItsCapacity() {
        int capacity = 1000;
        SlotTable<String> large = new SlotTable<>(capacity);
        large.reserve(3);
        assertEquals(SlotTable.INITIAL_SLOTS, large.slotCount());
        for (int i = 0; i < capacity; i++) {
            int before = large.slotCount();
            int slot = large.nextFree();
            assertTrue(large.slotCount() == before || large.slotCount() == Math.min(2 * before, capacity + 1),
                    "grows by doubling: " + before + " -> " + large.slotCount());
            assertEquals(slot, large.occupy(memory, 0, "h" + i, 10 + i, READ));
        }
        assertEquals(capacity + 1, large.slotCount());
        assertTrue(large.isFull());
        assertEquals(SlotTable.WAKE_SLOT, large.slotOfFd(3), "the wake-up fd keeps its slot across growth");
        for (int fd = 10; fd < 10 + capacity; fd++) {
            int slot = large.slotOfFd(fd);
            assertEquals("h" + (fd - 10), large.handler(slot));
            assertTrue(large.isLive(slot, large.generation(slot)));
        }
    }

    @Test
    void anEntryGatheredBeforeGrowthIsJudgedAsWithoutGrowth() {
        SlotTable<String> table = new SlotTable<>(10_000);
        int freed = table.occupy(memory, 0, "freed", 7, READ);
        int kept = table.occupy(memory, 16, "kept", 8, READ);
        int staleGeneration = table.generation(freed);
        int liveGeneration = table.generation(kept);
        table.free(freed);
        for (int i = 0; i < 5_000; i++) {
            table.occupy(memory, 32, "filler", 100 + i, READ);
        }
        assertTrue(table.slotCount() > SlotTable.INITIAL_SLOTS);
        assertFalse(table.isLive(freed, staleGeneration), "the freed slot's old entry stays stale");
        assertEquals(0, table.deliverable(freed, staleGeneration, READ));
        assertEquals(READ, table.deliverable(kept, liveGeneration, READ));
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
