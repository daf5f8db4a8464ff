package org.ioatom.samples;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import org.ioatom.samples.server.Ascii;

/**
 * A fixed-size hash table in native memory for {@link RespServer}: open addressing with linear
 * probing and backward-shift deletion (no tombstones). Keys and values are copied into fixed
 * slots, so lookups and updates compare and copy bytes between native segments and allocate
 * nothing.
 *
 * <p>Limits: keys up to {@value #KEY_MAX} bytes, values up to {@value #VALUE_MAX} bytes, and
 * at most {@code maxKeys} keys (the table has the next power of two above {@code maxKeys / 0.75}
 * slots of {@link #ENTRY} (592) bytes each, all reserved at start).
 *
 * <p>A slot is {@link #SLOT}: {@code keyLength + 1} (0 = empty), {@code valueLength}, the
 * hash, then the key and value bytes.
 */
final class KeyValueStore {
    static final int KEY_MAX = 64;
    static final int VALUE_MAX = 512;
    static final StructLayout SLOT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("keyLength"), // key length + 1; 0: the slot is empty
            ValueLayout.JAVA_INT.withName("valueLength"),
            ValueLayout.JAVA_INT.withName("hash"),
            MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(KEY_MAX, ValueLayout.JAVA_BYTE).withName("key"),
            MemoryLayout.sequenceLayout(VALUE_MAX, ValueLayout.JAVA_BYTE).withName("value"));
    private static final long KEY_LEN = SLOT.byteOffset(groupElement("keyLength"));
    private static final long VALUE_LEN = SLOT.byteOffset(groupElement("valueLength"));
    private static final long HASH = SLOT.byteOffset(groupElement("hash"));
    private static final long KEY = SLOT.byteOffset(groupElement("key"));
    private static final long VALUE = SLOT.byteOffset(groupElement("value"));
    static final long ENTRY = SLOT.byteSize();

    private final MemorySegment table;
    private final int mask;
    private final int maxKeys;
    private int size;

    KeyValueStore(Arena arena, int maxKeys) {
        if (maxKeys < 1 || maxKeys > (1 << 24)) {
            throw new IllegalArgumentException("maxKeys must be 1 to " + (1 << 24) + ", got " + maxKeys);
        }
        long wanted = (long) Math.ceil(maxKeys / 0.75) + 1;
        int slots = Integer.highestOneBit((int) Math.min(wanted, 1 << 30));
        if (slots < wanted) {
            slots <<= 1;
        }
        this.mask = slots - 1;
        this.maxKeys = maxKeys;
        this.table = arena.allocate(slots * ENTRY, 8);
    }

    int size() {
        return size;
    }

    int maxKeys() {
        return maxKeys;
    }

    /** FNV-1a over the key, spread so that linear probing sees well-mixed low bits. */
    static int hash(MemorySegment src, long offset, int length) {
        int h = 0x811C9DC5;
        for (int i = 0; i < length; i++) {
            h ^= src.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFF;
            h *= 0x01000193;
        }
        h ^= h >>> 16;
        h *= 0x7FEB352D;
        h ^= h >>> 15;
        return h;
    }

    private long base(int slot) {
        return (long) slot * ENTRY;
    }

    private boolean empty(int slot) {
        return table.get(ValueLayout.JAVA_INT, base(slot) + KEY_LEN) == 0;
    }

    private boolean matches(int slot, int hash, MemorySegment src, long offset, int length) {
        long b = base(slot);
        return table.get(ValueLayout.JAVA_INT, b + HASH) == hash
                && table.get(ValueLayout.JAVA_INT, b + KEY_LEN) == length + 1
                && MemorySegment.mismatch(table, b + KEY, b + KEY + length, src, offset, offset + length) < 0;
    }

    /** @return the slot holding the key, or -1 */
    int find(MemorySegment src, long offset, int length) {
        if (length > KEY_MAX) {
            return -1;
        }
        int hash = hash(src, offset, length);
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            if (empty(i)) {
                return -1;
            }
            if (matches(i, hash, src, offset, length)) {
                return i;
            }
        }
    }

    /**
     * Finds the key's slot, claiming an empty one (with an empty value) if the key is new.
     *
     * @return the slot, or -1 if the key is new and the store holds {@code maxKeys} keys already
     */
    int findOrAdd(MemorySegment src, long offset, int length) {
        if (length > KEY_MAX) {
            throw new IllegalArgumentException("key longer than " + KEY_MAX + " bytes");
        }
        int hash = hash(src, offset, length);
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            if (empty(i)) {
                if (size == maxKeys) {
                    return -1;
                }
                long b = base(i);
                table.set(ValueLayout.JAVA_INT, b + KEY_LEN, length + 1);
                table.set(ValueLayout.JAVA_INT, b + VALUE_LEN, 0);
                table.set(ValueLayout.JAVA_INT, b + HASH, hash);
                MemorySegment.copy(src, offset, table, b + KEY, length);
                size++;
                return i;
            }
            if (matches(i, hash, src, offset, length)) {
                return i;
            }
        }
    }

    MemorySegment memory() {
        return table;
    }

    long valueOffset(int slot) {
        return base(slot) + VALUE;
    }

    int valueLength(int slot) {
        return table.get(ValueLayout.JAVA_INT, base(slot) + VALUE_LEN);
    }

    void setValue(int slot, MemorySegment src, long offset, int length) {
        if (length > VALUE_MAX) {
            throw new IllegalArgumentException("value longer than " + VALUE_MAX + " bytes");
        }
        long b = base(slot);
        MemorySegment.copy(src, offset, table, b + VALUE, length);
        table.set(ValueLayout.JAVA_INT, b + VALUE_LEN, length);
    }

    /** Sets the value to the decimal text of {@code v}. */
    void setDecimal(int slot, long v) {
        long b = base(slot);
        int n = Ascii.putLong(table, b + VALUE, v);
        table.set(ValueLayout.JAVA_INT, b + VALUE_LEN, n);
    }

    /** @return whether the key was there */
    boolean delete(MemorySegment src, long offset, int length) {
        int slot = find(src, offset, length);
        if (slot < 0) {
            return false;
        }
        // Backward-shift: pull later entries of the probe run into the hole where they belong.
        int hole = slot;
        for (int j = (hole + 1) & mask; !empty(j); j = (j + 1) & mask) {
            int home = table.get(ValueLayout.JAVA_INT, base(j) + HASH) & mask;
            // j may move into the hole if its home is not in the cyclic range (hole, j].
            boolean homeAfterHole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!homeAfterHole) {
                MemorySegment.copy(table, base(j), table, base(hole), ENTRY);
                hole = j;
            }
        }
        table.set(ValueLayout.JAVA_INT, base(hole) + KEY_LEN, 0);
        size--;
        return true;
    }
}
