package org.ioatom.samples.server;

import java.util.function.IntConsumer;

/**
 * Connections that yielded after using up their rounds, by table slot: the loop serves them
 * again after the batch, without sleeping in {@code await}, so one busy peer cannot starve the
 * others and no readiness edge is lost. At most one entry per connection is pending; during a
 * pass the entries served stay until its end.
 */
final class RunQueue {
    private final int[] slots;
    private int size;
    /** During a pass: the entry being served, and the end of the entries of this pass. */
    private int cursor = -1;
    private int passEnd;

    RunQueue(int maxConnections) {
        slots = new int[2 * maxConnections];
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(int slot) {
        slots[size++] = slot;
    }

    /** Takes a closing connection's pending entry off the queue (its slot may be reused at once). */
    void remove(int slot) {
        for (int i = size - 1; i > cursor; i--) {
            if (slots[i] == slot) {
                System.arraycopy(slots, i + 1, slots, i, size - i - 1);
                size--;
                if (i < passEnd) {
                    passEnd--;
                }
                return;
            }
        }
    }

    /** Serves each entry queued before this call; those added meanwhile wait for the next pass. */
    void runPass(IntConsumer serve) {
        passEnd = size;
        for (cursor = 0; cursor < passEnd; cursor++) {
            serve.accept(slots[cursor]);
        }
        System.arraycopy(slots, passEnd, slots, 0, size - passEnd);
        size -= passEnd;
        cursor = -1;
        passEnd = 0;
    }
}
