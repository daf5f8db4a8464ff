package org.ioatom.samples.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The leftover chunks: native buffers a connection holds only for what is left over (the
 * unprocessed end of its input, the output its socket did not take). Two sizes, {@value #LARGE}
 * and {@value #SMALL} bytes; each pool grows to the most chunks in use at once and reuses them
 * after that. A chunk id is {@code index << 1 | sizeClass} (class 0: large, 1: small).
 */
final class ChunkPool {
    /** Size of the large chunks (and of the loop's shared read and output buffers). */
    static final int LARGE = 64 * 1024;
    /** Size of the small chunks, for the common short leftover (the start of a request). */
    static final int SMALL = 2 * 1024;

    private final Arena arena;
    /** Bound of each pool: every connection holds at most one input and one output chunk. */
    private final int maxChunks;
    private final MemorySegment[][] chunks = new MemorySegment[2][];
    private final int[] count = new int[2];
    /** The free chunks of class k: {@code free[k][0, freeTop[k])}. */
    private final int[][] free = new int[2][];
    private final int[] freeTop = new int[2];
    // Read by tests from other threads.
    private volatile int inUse;
    private volatile int allocated;

    ChunkPool(Arena arena, int maxConnections) {
        this.arena = arena;
        this.maxChunks = 2 * maxConnections;
        for (int k = 0; k < 2; k++) {
            chunks[k] = new MemorySegment[Math.min(64, maxChunks)];
            free[k] = new int[chunks[k].length];
        }
    }

    /** @return the id of a free chunk that holds {@code length} bytes, the smallest such */
    int take(int length) {
        inUse++;
        int k = length <= SMALL ? 1 : 0;
        if (freeTop[k] > 0) {
            return free[k][--freeTop[k]];
        }
        int index = count[k]++;
        if (index == chunks[k].length) { // the tables grow by doubling, up to the bound
            int size = Math.min(2 * index, maxChunks);
            chunks[k] = Arrays.copyOf(chunks[k], size);
            free[k] = Arrays.copyOf(free[k], size);
        }
        chunks[k][index] = arena.allocate(k == 0 ? LARGE : SMALL, 64);
        allocated++;
        return index << 1 | k;
    }

    MemorySegment segment(int id) {
        return chunks[id & 1][id >>> 1];
    }

    void release(int id) {
        inUse--;
        int k = id & 1;
        free[k][freeTop[k]++] = id;
    }

    /** @return how many chunks connections hold now */
    int inUse() {
        return inUse;
    }

    /** @return how many chunks were ever allocated (the pools' size; they are reused) */
    int allocated() {
        return allocated;
    }
}
