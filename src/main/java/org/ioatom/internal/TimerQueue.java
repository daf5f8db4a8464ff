package org.ioatom.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The poller's timers: a 4-ary min-heap of deadlines over a table of entries. The arrays start at
 * {@link #INITIAL_ENTRIES} entries and double when a timer finds no free entry, up to the
 * capacity: memory follows the most timers scheduled at once. Once they have grown that far,
 * scheduling, cancelling and expiring allocate nothing.
 *
 * <p>The app's timer struct ({@link #LAYOUT}, embedded like an atom) holds the deadline, the
 * entry it occupies (+1, so zeroed memory means "not scheduled") and the id of the poller that
 * holds it. Entries never move; the heap moves entry numbers, so a sift touches only these
 * arrays, never the app's memory. Equal deadlines run in the order they were scheduled.
 *
 * <p>Cost: schedule, reschedule, cancel and expiry are O(log n) (log base 4: about 10 levels at
 * a million timers); the next deadline is O(1).
 *
 * @param <H> the handler type (the poller's public {@code TimerHandler})
 */
public final class TimerQueue<H> {
    /** The struct apps embed: deadline (ns), entry+1, poller id. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("deadline"),
            ValueLayout.JAVA_INT.withName("entry"),
            ValueLayout.JAVA_INT.withName("poller"));
    /** Offset of the deadline in {@link #LAYOUT}. */
    public static final long DEADLINE = 0;
    /** Offset of entry+1 in {@link #LAYOUT}. */
    public static final long ENTRY = 8;
    /** Offset of the poller id in {@link #LAYOUT}. */
    public static final long POLLER = 12;

    private static final int ARITY = 4;
    /** Entries a queue starts with (fewer if its capacity is smaller). */
    public static final int INITIAL_ENTRIES = 64;
    private static final System.Logger LOG = System.getLogger("org.ioatom");

    private final int pollerId;
    private final int capacity;
    // Per entry (stable index, from the free stack).
    private MemorySegment[] owners;
    private long[] offsets;
    /** owner.address() + offset of each entry: tells the struct an entry belongs to. */
    private long[] addresses;
    private Object[] handlers;
    /** Heap position of each entry, -1 when free. */
    private int[] positions;
    private int[] free;
    private int freeTop;
    // Per heap position.
    private int[] heap;
    private long[] keys;
    private long[] order;
    private int size;
    private long nextOrder;

    private MemorySegment firedOwner;
    private long firedOffset;
    private H firedHandler;

    /**
     * Makes a queue for up to {@code capacity} scheduled timers, with room for
     * {@link #INITIAL_ENTRIES} at first.
     *
     * @param pollerId the id written into scheduled structs (never 0)
     * @param capacity the most timers scheduled at once
     */
    public TimerQueue(int pollerId, int capacity) {
        this.pollerId = pollerId;
        this.capacity = capacity;
        int entries = Math.min(capacity, INITIAL_ENTRIES);
        owners = new MemorySegment[entries];
        offsets = new long[entries];
        addresses = new long[entries];
        handlers = new Object[entries];
        positions = new int[entries];
        free = new int[entries];
        heap = new int[entries];
        keys = new long[entries];
        order = new long[entries];
        pushFree(0, entries);
    }

    /** Doubles the arrays (at most to the capacity) and lists the new entries as free. */
    private void grow() {
        int old = heap.length;
        int entries = (int) Math.min(Math.max(2L * old, INITIAL_ENTRIES), capacity);
        owners = Arrays.copyOf(owners, entries);
        offsets = Arrays.copyOf(offsets, entries);
        addresses = Arrays.copyOf(addresses, entries);
        handlers = Arrays.copyOf(handlers, entries);
        positions = Arrays.copyOf(positions, entries);
        free = Arrays.copyOf(free, entries);
        heap = Arrays.copyOf(heap, entries);
        keys = Arrays.copyOf(keys, entries);
        order = Arrays.copyOf(order, entries);
        pushFree(old, entries);
    }

    /** Lists entries {@code from..to-1} as free, the lowest on top (taken first). */
    private void pushFree(int from, int to) {
        for (int e = to - 1; e >= from; e--) {
            positions[e] = -1;
            free[freeTop++] = e;
        }
    }

    /** {@return how many timers are scheduled} */
    public int size() {
        return size;
    }

    /** {@return the most timers that can be scheduled at once} */
    public int capacity() {
        return capacity;
    }

    /** {@return how many timers the arrays have room for now (they grow up to {@link #capacity()})} */
    public int entries() {
        return heap.length;
    }

    /** {@return the earliest deadline, or {@link Long#MAX_VALUE} when none is scheduled} */
    public long nextDeadline() {
        return size == 0 ? Long.MAX_VALUE : keys[0];
    }

    /**
     * Schedules the timer at {@code offset} of {@code owner}, or moves it if this queue holds it.
     *
     * @param owner    the app's struct
     * @param offset   the timer's offset in it
     * @param deadline a {@link System#nanoTime()} value
     * @param handler  what to call when it is due
     * @throws IllegalStateException if another poller holds it, or every entry is in use
     */
    public void schedule(MemorySegment owner, long offset, long deadline, H handler) {
        int holder = owner.get(ValueLayout.JAVA_INT, offset + POLLER);
        if (holder != 0) {
            int e = entryOf(owner, offset, holder);
            owner.set(ValueLayout.JAVA_LONG, offset + DEADLINE, deadline);
            owners[e] = owner;
            handlers[e] = handler;
            int at = positions[e];
            keys[at] = deadline;
            order[at] = nextOrder++;
            if (!siftUp(at)) {
                siftDown(at);
            }
            return;
        }
        if (freeTop == 0 && heap.length == capacity) {
            throw new IllegalStateException("timer capacity " + capacity() + " reached: cancel timers or open the "
                    + "poller with a larger timer capacity");
        }
        // Write the struct first: a closed arena throws here, before anything changed.
        owner.set(ValueLayout.JAVA_LONG, offset + DEADLINE, deadline);
        if (freeTop == 0) {
            grow();
        }
        int e = free[--freeTop];
        owner.set(ValueLayout.JAVA_INT, offset + ENTRY, e + 1);
        owner.set(ValueLayout.JAVA_INT, offset + POLLER, pollerId);
        owners[e] = owner;
        offsets[e] = offset;
        addresses[e] = owner.address() + offset;
        handlers[e] = handler;
        int at = size++;
        heap[at] = e;
        keys[at] = deadline;
        order[at] = nextOrder++;
        positions[e] = at;
        siftUp(at);
    }

    /**
     * Cancels the timer at {@code offset} of {@code owner}.
     *
     * @param owner  the app's struct
     * @param offset the timer's offset in it
     * @return true if it was scheduled here, false if it was not scheduled
     * @throws IllegalStateException if another poller holds it
     */
    public boolean cancel(MemorySegment owner, long offset) {
        int holder = owner.get(ValueLayout.JAVA_INT, offset + POLLER);
        if (holder == 0) {
            return false;
        }
        int e = entryOf(owner, offset, holder);
        untag(owner, offset);
        unlink(e);
        return true;
    }

    /**
     * Takes the earliest timer if its deadline is at or before {@code now}: unscheduled, its
     * owner and handler in {@link #firedOwner()} and {@link #firedHandler()}. A timer whose
     * memory was freed (its arena closed) is dropped with a warning and the next one is tried.
     *
     * @param now the loop time
     * @return whether a timer was taken
     */
    @SuppressWarnings("unchecked")
    public boolean pollDue(long now) {
        while (size > 0 && keys[0] <= now) {
            int e = heap[0];
            MemorySegment owner = owners[e];
            long offset = offsets[e];
            H handler = (H) handlers[e];
            unlink(e);
            if (!owner.scope().isAlive()) {
                LOG.log(System.Logger.Level.WARNING, "dropped a timer whose memory was freed before it ran"
                        + " (cancel timers before closing their arena)");
                continue;
            }
            untag(owner, offset);
            firedOwner = owner;
            firedOffset = offset;
            firedHandler = handler;
            return true;
        }
        return false;
    }

    /** {@return the owner of the timer {@link #pollDue} took last} */
    public MemorySegment firedOwner() {
        return firedOwner;
    }

    /** {@return where the timer {@link #pollDue} took last sits in its owner} */
    public long firedOffset() {
        return firedOffset;
    }

    /** {@return the handler of the timer {@link #pollDue} took last} */
    public H firedHandler() {
        return firedHandler;
    }

    /**
     * Counts the timers due at {@code now}: the heap's top nodes with deadlines at or before it
     * (a node is due only if its parent is), so the cost is proportional to the answer.
     *
     * @param now the loop time
     * @return how many timers have a deadline at or before {@code now}
     */
    public int countDue(long now) {
        return countDue(0, now);
    }

    private int countDue(int at, long now) {
        if (at >= size || keys[at] > now) {
            return 0;
        }
        int n = 1;
        int first = at * ARITY + 1;
        for (int c = first; c < first + ARITY && c < size; c++) {
            n += countDue(c, now);
        }
        return n;
    }

    /**
     * Forgets every timer (the poller is closing), marking their structs unscheduled where the
     * memory is still reachable from this thread.
     */
    public void clear() {
        while (size > 0) {
            int e = heap[0];
            MemorySegment owner = owners[e];
            long offset = offsets[e];
            unlink(e);
            try {
                if (owner.scope().isAlive()) {
                    untag(owner, offset);
                }
            } catch (RuntimeException confinedElsewhere) {
                // Memory confined to another thread: its struct keeps the old tag.
            }
        }
        firedOwner = null;
        firedHandler = null;
    }

    /** Marks the app's struct unscheduled (all-zero bookkeeping, as freshly allocated memory). */
    private static void untag(MemorySegment owner, long offset) {
        owner.set(ValueLayout.JAVA_INT, offset + ENTRY, 0);
        owner.set(ValueLayout.JAVA_INT, offset + POLLER, 0);
    }

    private int entryOf(MemorySegment owner, long offset, int holder) {
        if (holder != pollerId) {
            throw new IllegalStateException("timer is scheduled with another poller; cancel it there first");
        }
        int e = owner.get(ValueLayout.JAVA_INT, offset + ENTRY) - 1;
        if (e < 0 || e >= positions.length || positions[e] < 0 || addresses[e] != owner.address() + offset) {
            throw new IllegalStateException("timer memory does not match what was scheduled: it was overwritten"
                    + " or copied while scheduled");
        }
        return e;
    }

    /** Removes entry {@code e} from the heap and frees it. */
    private void unlink(int e) {
        int at = positions[e];
        int last = --size;
        if (at != last) {
            move(last, at);
            if (!siftUp(at)) {
                siftDown(at);
            }
        }
        positions[e] = -1;
        owners[e] = null;
        handlers[e] = null;
        free[freeTop++] = e;
    }

    private boolean before(int i, int j) {
        return keys[i] < keys[j] || (keys[i] == keys[j] && order[i] < order[j]);
    }

    private void move(int from, int to) {
        int e = heap[from];
        heap[to] = e;
        keys[to] = keys[from];
        order[to] = order[from];
        positions[e] = to;
    }

    private void swap(int i, int j) {
        int e = heap[i];
        long k = keys[i];
        long o = order[i];
        move(j, i);
        heap[j] = e;
        keys[j] = k;
        order[j] = o;
        positions[e] = j;
    }

    /** @return whether the element moved */
    private boolean siftUp(int at) {
        int start = at;
        while (at > 0) {
            int parent = (at - 1) / ARITY;
            if (!before(at, parent)) {
                break;
            }
            swap(at, parent);
            at = parent;
        }
        return at != start;
    }

    private void siftDown(int at) {
        while (true) {
            int first = at * ARITY + 1;
            if (first >= size) {
                return;
            }
            int best = first;
            int end = Math.min(first + ARITY, size);
            for (int c = first + 1; c < end; c++) {
                if (before(c, best)) {
                    best = c;
                }
            }
            if (!before(best, at)) {
                return;
            }
            swap(at, best);
            at = best;
        }
    }
}
