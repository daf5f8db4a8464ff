package org.ioatom.samples.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The connection structs by slot. A struct is allocated on its slot's first use and recycled
 * after that; freed slots are a stack, so a busy server keeps reusing the same few. The tables
 * grow by doubling up to the connection limit: a limit of a million (from a large fd limit)
 * costs nothing until that many connections come.
 */
final class ConnectionTable {
    private static final int INITIAL = 64;
    private final Arena arena;
    private final int maxConnections;
    private MemorySegment[] structs;
    private int[] freeSlots;
    private int freeTop;
    /** One past the highest slot ever used. */
    private int highWater;

    ConnectionTable(Arena arena, int maxConnections) {
        this.arena = arena;
        this.maxConnections = maxConnections;
        structs = new MemorySegment[Math.min(INITIAL, maxConnections)];
        freeSlots = new int[structs.length];
    }

    /** @return an initialised struct for a new connection on {@code fd}, or null when the table is full */
    MemorySegment open(int fd) {
        int slot;
        if (freeTop > 0) {
            slot = freeSlots[--freeTop];
        } else if (highWater < maxConnections) {
            slot = highWater++;
            if (slot == structs.length) {
                int size = (int) Math.min(2L * slot, maxConnections);
                structs = Arrays.copyOf(structs, size);
                freeSlots = Arrays.copyOf(freeSlots, size);
            }
        } else {
            return null;
        }
        MemorySegment c = structs[slot];
        if (c == null) {
            c = arena.allocate(Connection.LAYOUT);
            structs[slot] = c;
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
