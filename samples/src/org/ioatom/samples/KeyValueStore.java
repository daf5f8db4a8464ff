package org.ioatom.samples;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.TimerHandler;
import org.ioatom.Timers;
import org.ioatom.samples.server.Ascii;

/**
 * resp-server's store: fixed entries in native memory and a hash index over them, with key
 * expiry on the poller's timers. Lookups and updates compare and copy bytes between native
 * segments and allocate nothing.
 *
 * <h2>Layout</h2>
 * Entries ({@link #ENTRY}, 624 bytes each) sit in one table and never move: a new key takes a
 * free entry (a free list, threaded through the entries), a deleted one goes back on it. The
 * index is an open-addressing table (linear probing, backward-shift deletion) of 8-byte cells,
 * {@code entry + 1} (0: empty) and the key's hash; deletion shifts cells, never entries. That is
 * what lets each entry hold an {@link IoTimer} that stays scheduled while other keys come and go.
 *
 * <h2>Expiry</h2>
 * A key with an expiry has its deadline ({@link System#nanoTime()} clock) in its entry and the
 * entry's timer scheduled for it; no other object exists per key. Every access checks the
 * deadline first, so a key whose timer has not run yet is already gone for every command; the
 * timer then frees the entry soon after the deadline (the loop runs due timers after each wait).
 * The timer's owner segment is the entry's page of {@value #PAGE} entries (one slice per page,
 * made at start): the handler looks at that page only, for entries whose deadline passed and
 * whose timer is no longer scheduled.
 *
 * <h2>Several loops</h2>
 * With {@code --loops N} the loops share one store ({@link #shareBetweenLoops}), so every
 * connection sees one keyspace: the callers serialise on the store's monitor, and the keys'
 * timers all live on the poller of the loop that made the store (a poller belongs to one thread).
 * Another loop that changes a key's deadline only writes it into the entry (every access checks
 * it, so the key's visible state is right at once) and lists the entry for the timer loop, which
 * brings the timer in line in its next dispatch ({@link Poller#execute}); an entry whose timer
 * may still be scheduled there is freed by the timer loop too, never reused before.
 *
 * <p>Memory, all reserved at start: {@code maxKeys} entries of {@link #ENTRY} bytes, an index of
 * the next power of two above {@code maxKeys / 0.75} cells of 8 bytes, and the poller's timer
 * table (about 52 bytes per key). Keys up to {@value #KEY_MAX} bytes, values up to
 * {@value #VALUE_MAX}.
 */
final class KeyValueStore {
    static final int KEY_MAX = 64;
    static final int VALUE_MAX = 512;
    /** Entries per timer owner segment: what an expiry handler looks through. */
    static final int PAGE = 32;

    static final StructLayout SLOT = MemoryLayout.structLayout(
            IoTimer.LAYOUT.withName("timer"),            // runs at expireAt while the key has an expiry
            ValueLayout.JAVA_LONG.withName("expireAt"),  // System.nanoTime() deadline; 0: no expiry
            ValueLayout.JAVA_INT.withName("keyLength"),  // key length + 1; 0: the entry is free
            ValueLayout.JAVA_INT.withName("valueLength"),
            ValueLayout.JAVA_INT.withName("hash"),
            ValueLayout.JAVA_INT.withName("nextFree"),   // while free: the next free entry, or -1
            MemoryLayout.sequenceLayout(KEY_MAX, ValueLayout.JAVA_BYTE).withName("key"),
            MemoryLayout.sequenceLayout(VALUE_MAX, ValueLayout.JAVA_BYTE).withName("value"));
    private static final long TIMER = SLOT.byteOffset(groupElement("timer"));
    private static final long EXPIRE_AT = SLOT.byteOffset(groupElement("expireAt"));
    private static final long KEY_LEN = SLOT.byteOffset(groupElement("keyLength"));
    private static final long VALUE_LEN = SLOT.byteOffset(groupElement("valueLength"));
    private static final long HASH = SLOT.byteOffset(groupElement("hash"));
    private static final long NEXT_FREE = SLOT.byteOffset(groupElement("nextFree"));
    private static final long KEY = SLOT.byteOffset(groupElement("key"));
    private static final long VALUE = SLOT.byteOffset(groupElement("value"));
    static final long ENTRY = SLOT.byteSize();

    /** An index cell: entry + 1 (0 = empty), then the key's hash. */
    private static final long CELL = 8;

    private final MemorySegment table;
    private final MemorySegment index;
    private final MemorySegment[] pages;
    private final int mask;
    private final int maxKeys;
    private final Timers timers;
    private final TimerHandler expire = this::expirePage;
    private int size;
    /** Keys with an expiry. */
    private int expiring;
    /** Keys removed because their deadline passed, since start. */
    private long expiredKeys;
    /** Entries below this were handed out at some point; the ones above were never used. */
    private int highWater;
    private int freeHead = -1;

    // With several loops (see shareBetweenLoops): null / unused with one.
    /** The thread whose poller holds the timers; null: every call comes from it. */
    private Thread timerThread;
    private Poller timerPoller;
    /** Entries whose timer the timer loop must bring in line: a ring of at most maxKeys, each entry once. */
    private int[] pendingSlots;
    private boolean[] pending;
    /** Entries out of the index whose timer may still be scheduled: the timer loop frees them. */
    private boolean[] retiring;
    private int pendingHead;
    private int pendingCount;
    private boolean drainPosted;
    private final Runnable drainPending = this::drainPending;

    /**
     * @param timers where the keys' timers go; it must have room for {@code maxKeys} of them
     */
    KeyValueStore(Arena arena, int maxKeys, Timers timers) {
        if (maxKeys < 1 || maxKeys > (1 << 24)) {
            throw new IllegalArgumentException("maxKeys must be 1 to " + (1 << 24) + ", got " + maxKeys);
        }
        long wanted = (long) Math.ceil(maxKeys / 0.75) + 1;
        int cells = Integer.highestOneBit((int) Math.min(wanted, 1 << 30));
        if (cells < wanted) {
            cells <<= 1;
        }
        this.mask = cells - 1;
        this.maxKeys = maxKeys;
        this.timers = timers;
        this.table = arena.allocate(maxKeys * ENTRY, 8);
        this.index = arena.allocate(cells * CELL, 8);
        this.pages = new MemorySegment[(maxKeys + PAGE - 1) / PAGE];
        for (int p = 0; p < pages.length; p++) {
            long start = p * PAGE * ENTRY;
            pages[p] = table.asSlice(start, Math.min(PAGE * ENTRY, table.byteSize() - start));
        }
    }

    /**
     * Makes this store one that several loops share: called once, on the thread of the loop whose
     * poller holds the timers given to the constructor, before other loops use the store. From then
     * on every caller holds the store's monitor.
     *
     * @param poller that loop's poller, for the hand-offs of the other loops
     */
    void shareBetweenLoops(Poller poller) {
        timerThread = Thread.currentThread();
        timerPoller = poller;
        pendingSlots = new int[maxKeys];
        pending = new boolean[maxKeys];
        retiring = new boolean[maxKeys];
    }

    /** @return whether this thread may use the timers directly */
    private boolean onTimerLoop() {
        return timerThread == null || Thread.currentThread() == timerThread;
    }

    /** Another loop: lists an entry whose timer the timer loop must bring in line, and wakes that loop once. */
    private void post(int slot) {
        if (!pending[slot]) {
            pending[slot] = true;
            pendingSlots[(pendingHead + pendingCount) % maxKeys] = slot;
            pendingCount++;
        }
        if (!drainPosted) {
            try {
                drainPosted = timerPoller.execute(drainPending);
            } catch (IllegalStateException stopping) {
                // the timer loop is closing: the process is stopping, deadlines still hold on access
            }
        }
    }

    /** The timer loop, from its dispatch: brings the listed entries' timers in line with the entries. */
    private void drainPending() {
        synchronized (this) {
            drainPosted = false;
            while (pendingCount > 0) {
                int slot = pendingSlots[pendingHead];
                pendingHead = (pendingHead + 1) % maxKeys;
                pendingCount--;
                pending[slot] = false;
                long b = base(slot);
                long at = table.get(ValueLayout.JAVA_LONG, b + EXPIRE_AT);
                if (retiring[slot]) {
                    cancelTimer(slot);
                    retiring[slot] = false;
                    free(slot);
                } else if (table.get(ValueLayout.JAVA_INT, b + KEY_LEN) != 0 && at != 0) {
                    timers.schedule(owner(slot), timerOffset(slot), at, expire);
                } else {
                    cancelTimer(slot);
                }
            }
        }
    }

    /** The timer loop: cancels the entry's timer if it is scheduled. */
    private void cancelTimer(int slot) {
        if (IoTimer.isScheduled(owner(slot), timerOffset(slot))) {
            timers.cancel(owner(slot), timerOffset(slot));
        }
    }

    /**
     * Gives back an entry that left the index: on the timer loop its timer is cancelled and it is
     * free at once; on another loop an entry whose timer may be scheduled is retired, and the
     * timer loop frees it.
     */
    private void release(int slot) {
        if (onTimerLoop()) {
            cancelTimer(slot);
            free(slot);
        } else if (IoTimer.isScheduled(owner(slot), timerOffset(slot)) || pending[slot]) {
            retiring[slot] = true;
            post(slot);
        } else {
            free(slot);
        }
    }

    private void free(int slot) {
        table.set(ValueLayout.JAVA_INT, base(slot) + NEXT_FREE, freeHead);
        freeHead = slot;
    }

    /** @return bytes of native memory the store reserved (entries and index) */
    long nativeBytes() {
        return table.byteSize() + index.byteSize();
    }

    /** @return how many keys are stored (including any whose deadline passed a moment ago and whose timer is due) */
    int size() {
        return size;
    }

    /** @return how many stored keys have an expiry */
    int expiring() {
        return expiring;
    }

    /** @return how many keys were removed because their deadline passed, since start */
    long expiredKeys() {
        return expiredKeys;
    }

    int maxKeys() {
        return maxKeys;
    }

    /**
     * A multiplicative hash over the key, eight bytes per step (keys are mostly 8 to 40 bytes;
     * a byte-at-a-time hash cost a few percent of a pipelined GET's CPU), mixed at the end so
     * that linear probing sees well-spread low bits.
     */
    static int hash(MemorySegment src, long offset, int length) {
        long h = 0x9E3779B97F4A7C15L ^ length;
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            h = Long.rotateLeft((h ^ src.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + i)) * 0xC2B2AE3D27D4EB4FL, 29);
        }
        if (i < length) {
            long tail = 0;
            for (int shift = 0; i < length; i++, shift += 8) {
                tail |= (src.get(ValueLayout.JAVA_BYTE, offset + i) & 0xFFL) << shift;
            }
            h = Long.rotateLeft((h ^ tail) * 0xC2B2AE3D27D4EB4FL, 29);
        }
        h ^= h >>> 32;
        h *= 0xD6E8FEB86659FD93L;
        h ^= h >>> 32;
        return (int) h;
    }

    private static long base(int slot) {
        return (long) slot * ENTRY;
    }

    private int cellSlot(int cell) {
        return index.get(ValueLayout.JAVA_INT, cell * CELL) - 1;
    }

    private int cellHash(int cell) {
        return index.get(ValueLayout.JAVA_INT, cell * CELL + 4);
    }

    private void setCell(int cell, int slot, int hash) {
        index.set(ValueLayout.JAVA_INT, cell * CELL, slot + 1);
        index.set(ValueLayout.JAVA_INT, cell * CELL + 4, hash);
    }

    private boolean matches(int slot, MemorySegment src, long offset, int length) {
        long b = base(slot);
        return table.get(ValueLayout.JAVA_INT, b + KEY_LEN) == length + 1
                && MemorySegment.mismatch(table, b + KEY, b + KEY + length, src, offset, offset + length) < 0;
    }

    /** @return the index cell holding the key, or -1 (expired keys included) */
    private int cellOf(int hash, MemorySegment src, long offset, int length) {
        for (int i = hash & mask; ; i = (i + 1) & mask) {
            int slot = cellSlot(i);
            if (slot < 0) {
                return -1;
            }
            if (cellHash(i) == hash && matches(slot, src, offset, length)) {
                return i;
            }
        }
    }

    /** @return whether the entry's deadline has passed (its timer may not have run yet) */
    private boolean expired(int slot) {
        long at = table.get(ValueLayout.JAVA_LONG, base(slot) + EXPIRE_AT);
        return at != 0 && at <= System.nanoTime();
    }

    /** @return the entry holding the key, or -1 if there is none or its deadline passed (then it goes now) */
    int find(MemorySegment src, long offset, int length) {
        if (length > KEY_MAX) {
            return -1;
        }
        int cell = cellOf(hash(src, offset, length), src, offset, length);
        if (cell < 0) {
            return -1;
        }
        int slot = cellSlot(cell);
        if (expired(slot)) {
            expiredKeys++;
            removeAt(cell, slot);
            return -1;
        }
        return slot;
    }

    /**
     * Finds the key's entry, taking a free one (empty value, no expiry) if the key is new.
     *
     * @return the entry, or -1 if the key is new and the store holds {@code maxKeys} keys already
     */
    int findOrAdd(MemorySegment src, long offset, int length) {
        if (length > KEY_MAX) {
            throw new IllegalArgumentException("key longer than " + KEY_MAX + " bytes");
        }
        int slot = find(src, offset, length);
        if (slot >= 0) {
            return slot;
        }
        if (size == maxKeys) {
            return -1;
        }
        int hash = hash(src, offset, length);
        int cell = hash & mask;
        while (cellSlot(cell) >= 0) {
            cell = (cell + 1) & mask;
        }
        if (freeHead < 0 && highWater == maxKeys) {
            return -1; // several loops: entries still wait for the timer loop to free them
        }
        if (freeHead >= 0) {
            slot = freeHead;
            freeHead = table.get(ValueLayout.JAVA_INT, base(slot) + NEXT_FREE);
        } else {
            slot = highWater++;
        }
        long b = base(slot);
        table.set(ValueLayout.JAVA_INT, b + KEY_LEN, length + 1);
        table.set(ValueLayout.JAVA_INT, b + VALUE_LEN, 0);
        table.set(ValueLayout.JAVA_INT, b + HASH, hash);
        table.set(ValueLayout.JAVA_LONG, b + EXPIRE_AT, 0);
        MemorySegment.copy(src, offset, table, b + KEY, length);
        setCell(cell, slot, hash);
        size++;
        return slot;
    }

    /** @return whether the key was there (and had not expired) */
    boolean delete(MemorySegment src, long offset, int length) {
        if (length > KEY_MAX) {
            return false;
        }
        int cell = cellOf(hash(src, offset, length), src, offset, length);
        if (cell < 0) {
            return false;
        }
        int slot = cellSlot(cell);
        boolean live = !expired(slot);
        if (!live) {
            expiredKeys++;
        }
        removeAt(cell, slot);
        return live;
    }

    /** Takes the entry in index cell {@code cell} out: its timer, its cell (backward shift), and it goes on the free list. */
    private void removeAt(int cell, int slot) {
        long b = base(slot);
        if (table.get(ValueLayout.JAVA_LONG, b + EXPIRE_AT) != 0) {
            expiring--;
            table.set(ValueLayout.JAVA_LONG, b + EXPIRE_AT, 0);
        }
        table.set(ValueLayout.JAVA_INT, b + KEY_LEN, 0);
        release(slot);
        size--;
        // Backward shift: pull later cells of the probe run into the hole where they belong.
        int hole = cell;
        for (int j = (hole + 1) & mask; cellSlot(j) >= 0; j = (j + 1) & mask) {
            int home = cellHash(j) & mask;
            // j may move into the hole if its home is not in the cyclic range (hole, j].
            boolean homeAfterHole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (!homeAfterHole) {
                index.set(ValueLayout.JAVA_LONG, hole * CELL, index.get(ValueLayout.JAVA_LONG, j * CELL));
                hole = j;
            }
        }
        index.set(ValueLayout.JAVA_LONG, hole * CELL, 0);
    }

    /** Removes the entry of a live key (found with {@link #find}). */
    void remove(int slot) {
        long b = base(slot);
        int length = table.get(ValueLayout.JAVA_INT, b + KEY_LEN) - 1;
        int cell = cellOf(table.get(ValueLayout.JAVA_INT, b + HASH), table, b + KEY, length);
        removeAt(cell, slot);
    }

    // ---- expiry ----

    private MemorySegment owner(int slot) {
        return pages[slot / PAGE];
    }

    private static long timerOffset(int slot) {
        return base(slot % PAGE) + TIMER;
    }

    /** @return the key's deadline ({@link System#nanoTime()} clock), or 0 if it has none */
    long expireAt(int slot) {
        return table.get(ValueLayout.JAVA_LONG, base(slot) + EXPIRE_AT);
    }

    /**
     * Gives the key a deadline (moving its timer if it had one).
     *
     * @param nanos a {@link System#nanoTime()} value in the future, not 0
     */
    void expireAt(int slot, long nanos) {
        long b = base(slot);
        if (table.get(ValueLayout.JAVA_LONG, b + EXPIRE_AT) == 0) {
            expiring++;
        }
        table.set(ValueLayout.JAVA_LONG, b + EXPIRE_AT, nanos);
        if (onTimerLoop()) {
            timers.schedule(owner(slot), timerOffset(slot), nanos, expire);
        } else {
            post(slot);
        }
    }

    /** Takes the key's deadline away. @return whether it had one */
    boolean persist(int slot) {
        long b = base(slot);
        if (table.get(ValueLayout.JAVA_LONG, b + EXPIRE_AT) == 0) {
            return false;
        }
        table.set(ValueLayout.JAVA_LONG, b + EXPIRE_AT, 0);
        expiring--;
        if (onTimerLoop()) {
            timers.cancel(owner(slot), timerOffset(slot));
        } else {
            post(slot);
        }
        return true;
    }

    /** A key's timer ran: free the entries of its page whose deadline passed and whose timer is done. */
    private void expirePage(MemorySegment page) {
        synchronized (this) { // other loops may be using the store
            int first = (int) ((page.address() - table.address()) / ENTRY);
            int end = Math.min(first + PAGE, highWater);
            for (int slot = first; slot < end; slot++) {
                long b = base(slot);
                if (table.get(ValueLayout.JAVA_INT, b + KEY_LEN) != 0 && expired(slot)
                        && !IoTimer.isScheduled(page, timerOffset(slot))) {
                    expiredKeys++;
                    remove(slot);
                }
            }
        }
    }

    /** Removes every key and cancels every timer (FLUSHALL): the one operation that walks all entries. */
    void clear() {
        if (timerThread != null) {
            clearShared();
            return;
        }
        for (int slot = 0; slot < highWater; slot++) {
            cancelTimer(slot);
        }
        index.fill((byte) 0);
        size = 0;
        expiring = 0;
        highWater = 0;
        freeHead = -1;
    }

    /** FLUSHALL with several loops: entries whose timer may be scheduled on the timer loop are freed by it. */
    private void clearShared() {
        for (int slot = 0; slot < highWater; slot++) {
            long b = base(slot);
            if (table.get(ValueLayout.JAVA_INT, b + KEY_LEN) == 0) {
                continue; // free, or already waiting for the timer loop
            }
            table.set(ValueLayout.JAVA_LONG, b + EXPIRE_AT, 0);
            table.set(ValueLayout.JAVA_INT, b + KEY_LEN, 0);
            release(slot);
        }
        index.fill((byte) 0);
        size = 0;
        expiring = 0;
    }

    // ---- values ----

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
}
