package org.ioatom.samples.chat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Input chunks of a loop's members, in two sizes: small (a partial line, at most the line
 * limit) and large (a read buffer's worth, for complete lines the full log made wait). Allocated
 * on first use, then reused; a member holds at most one, and only while it has sent part of a
 * line. A chunk id is {@code index << 1 | sizeClass}.
 */
final class Chunks {
    private final Arena arena;
    private final long[] sizes;
    private final MemorySegment[][] chunks = {new MemorySegment[16], new MemorySegment[16]};
    private final int[] count = new int[2];
    private final int[][] free = {new int[16], new int[16]};
    private final int[] freeTop = new int[2];

    Chunks(Arena arena, int small, int large) {
        this.arena = arena;
        this.sizes = new long[] {small, large};
    }

    /** @return a chunk of at least {@code length} bytes */
    int take(int length) {
        int k = length <= sizes[0] ? 0 : 1;
        if (freeTop[k] > 0) {
            return free[k][--freeTop[k]];
        }
        int index = count[k]++;
        if (index == chunks[k].length) {
            chunks[k] = Arrays.copyOf(chunks[k], 2 * index);
            free[k] = Arrays.copyOf(free[k], 2 * index);
        }
        chunks[k][index] = arena.allocate(sizes[k], 8);
        return index << 1 | k;
    }

    MemorySegment segment(int id) {
        return chunks[id & 1][id >>> 1];
    }

    void release(int id) {
        int k = id & 1;
        free[k][freeTop[k]++] = id;
    }
}
