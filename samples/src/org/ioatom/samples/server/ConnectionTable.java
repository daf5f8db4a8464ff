package org.ioatom.samples.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The connection structs by slot. A struct is allocated on its slot's first use and recycled
 * after that; free slots are a stack, so a busy server keeps reusing the same few.
 */
final class ConnectionTable {
    private final Arena arena;
    private final MemorySegment[] structs;
    private final int[] freeSlots;
    private int freeTop;
    /** One past the highest slot ever used. */
    private int highWater;

    ConnectionTable(Arena arena, int maxConnections) {
        this.arena = arena;
        structs = new MemorySegment[maxConnections];
        freeSlots = new int[maxConnections];
        for (int i = 0; i < maxConnections; i++) {
            freeSlots[i] = maxConnections - 1 - i;
        }
        freeTop = maxConnections;
    }

    /** @return an initialised struct for a new connection on {@code fd}, or null when the table is full */
    MemorySegment open(int fd) {
        if (freeTop == 0) {
            return null;
        }
        int slot = freeSlots[--freeTop];
        MemorySegment c = structs[slot];
        if (c == null) {
            c = arena.allocate(Connection.LAYOUT);
            structs[slot] = c;
            highWater = Math.max(highWater, slot + 1);
        }
        Connection.init(c, slot, fd);
        return c;
    }

    /** Returns the slot of a connection that is closed (or never got registered). */
    void free(MemorySegment c) {
        Connection.setFlags(c, 0);
        freeSlots[freeTop++] = Connection.slot(c);
    }

    MemorySegment get(int slot) {
        return structs[slot];
    }

    /** @return one past the highest slot ever used: the range to scan for open connections */
    int highWater() {
        return highWater;
    }
}
