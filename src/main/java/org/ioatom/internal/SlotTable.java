package org.ioatom.internal;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The poller's registrations, one slot each: the app's memory and the atom's offset in it, the
 * handler, the fd, the interest, and a generation that is bumped when the slot is freed. Slot
 * {@link #WAKE_SLOT} (0) holds the poller's own wake-up descriptor; slots {@code 1..capacity}
 * are the app's.
 *
 * <p>The arrays start at {@link #INITIAL_SLOTS} slots and double when a registration finds no
 * free slot, up to {@code capacity + 1}: memory follows the most registrations held at once,
 * not the capacity. Growth copies every slot as it is (generations included), so an entry
 * gathered before it is judged exactly as it would have been without it.
 *
 * <p>{@link #isLive} is the one answer to "is this gathered entry still for its registration":
 * both the filtering after a wait ({@link #keep}) and dispatch ({@link #deliverable}) ask it.
 * Nothing here allocates except growth: {@link #nextFree}/{@link #occupy} when every slot is
 * taken, and an fd beyond the fd index's current size. Only the thread that holds the poller
 * touches the arrays (growth replaces them); other threads read nothing here but
 * {@link #size()} and {@link #capacity()}.
 *
 * @param <H> the handler type
 */
public final class SlotTable<H> implements ReadyBatch.EntryFilter {
    /** The slot of the poller's wake-up descriptor, never an atom's. */
    public static final int WAKE_SLOT = 0;
    /**
     * Slots (the wake-up slot included) a table starts with: enough that small pollers never grow,
     * little enough (a few KiB) that a poller opened for a million atoms costs nothing until they come.
     */
    public static final int INITIAL_SLOTS = 64;

    private final int capacity;
    private MemorySegment[] owners;
    private long[] offsets;
    private Object[] handlers;
    private int[] fds;
    private int[] interests;
    /** Bumped when a slot is freed, so entries gathered for the old registration are stale. */
    private int[] generations;
    private int[] freeSlots;
    private int freeTop;
    private int size;
    /** slot + 1 for each registered fd, 0 where none; grows (allocates) when a larger fd is first registered. */
    private int[] slotByFd;

    /**
     * Makes a table that may hold {@code capacity} atoms, with room for {@link #INITIAL_SLOTS} slots at first.
     *
     * @param capacity the app's slots (one more holds the wake-up descriptor)
     */
    public SlotTable(int capacity) {
        this.capacity = capacity;
        int slots = Math.min(capacity + 1, INITIAL_SLOTS);
        owners = new MemorySegment[slots];
        offsets = new long[slots];
        handlers = new Object[slots];
        fds = new int[slots];
        interests = new int[slots];
        generations = new int[slots];
        freeSlots = new int[slots];
        pushFree(1, slots);
        slotByFd = new int[1024];
    }

    /** {@return how many registrations the app may hold} */
    public int capacity() {
        return capacity;
    }

    /** {@return the slots the table has now, the wake-up slot included: a backend must handle each} */
    public int slotCount() {
        return owners.length;
    }

    /** {@return the most slots the table may grow to, the wake-up slot included} */
    public int maxSlotCount() {
        return capacity + 1;
    }

    /** {@return how many registrations the table holds} */
    public int size() {
        return size;
    }

    /** {@return whether every app slot is taken} */
    public boolean isFull() {
        return size == capacity;
    }

    /**
     * Records the wake-up descriptor's fd in {@link #WAKE_SLOT}, so no atom can claim that fd.
     *
     * @param fd the wake-up descriptor
     */
    public void reserve(int fd) {
        fds[WAKE_SLOT] = fd;
        mapFd(fd, WAKE_SLOT);
    }

    /**
     * Tells whether an entry gathered for {@code slot} at {@code generation} still belongs to a
     * registration: the slot is occupied and was not freed since.
     *
     * @param slot       the entry's slot
     * @param generation the slot's generation when the entry was gathered
     * @return whether the registration is the same one
     */
    public boolean isLive(int slot, int generation) {
        return owners[slot] != null && generations[slot] == generation;
    }

    /** Keeps an entry after a wait if it is live and its atom is not paused (interest 0). */
    @Override
    public boolean keep(int slot, int generation) {
        return isLive(slot, generation) && interests[slot] != 0;
    }

    /**
     * The events to hand to a handler for a gathered entry: the reported bits the atom still
     * asks for, with HUP and ERROR widened to its READ/WRITE interest; 0 when the entry is
     * stale or nothing is left to deliver.
     *
     * @param slot       the entry's slot
     * @param generation the slot's generation when the entry was gathered
     * @param events     the reported bits
     * @return the bits to deliver, or 0
     */
    public int deliverable(int slot, int generation, int events) {
        if (!isLive(slot, generation)) {
            return 0;
        }
        int interest = interests[slot];
        if ((events & EventBits.CONDITIONS) != 0) {
            events |= interest;
        }
        return interest == 0 ? 0 : events & (interest | EventBits.CONDITIONS);
    }

    /**
     * Returns the slot registered for an fd.
     *
     * @param fd a descriptor
     * @return its slot, or -1 if none
     */
    public int slotOfFd(int fd) {
        return fd < slotByFd.length ? slotByFd[fd] - 1 : -1;
    }

    /**
     * Finds a registration by its memory's identity (for memory whose arena is closed, whose
     * slot number can no longer be read). Linear: only for that rare path.
     *
     * @param owner  the app's segment, as registered
     * @param offset the atom's offset
     * @return the slot, or -1
     */
    public int find(MemorySegment owner, long offset) {
        for (int slot = 1; slot < owners.length; slot++) {
            if (owners[slot] == owner && offsets[slot] == offset) {
                return slot;
            }
        }
        return -1;
    }

    /**
     * Tells whether {@code slot} is an app slot that holds the atom at {@code offset} of
     * {@code owner} (the same address, whatever segment object describes it).
     *
     * @param slot   a slot number read from the atom, possibly garbage
     * @param owner  the app's segment
     * @param offset the atom's offset
     * @return whether that slot holds that atom
     */
    public boolean holds(int slot, MemorySegment owner, long offset) {
        return slot > WAKE_SLOT && slot < owners.length && owners[slot] != null
                && owners[slot].address() + offsets[slot] == owner.address() + offset;
    }

    /**
     * Returns the slot {@link #occupy} will take next, growing the table first if every slot is
     * taken (callers check {@link #isFull()} first). A backend that keeps per-slot state must then
     * make room for {@link #slotCount()} slots before it registers the slot.
     *
     * @return the next free slot
     */
    public int nextFree() {
        if (freeTop == 0) {
            grow();
        }
        return freeSlots[freeTop - 1];
    }

    /**
     * Takes the slot {@link #nextFree()} named for a registration.
     *
     * @param owner    the app's segment
     * @param offset   the atom's offset
     * @param handler  its handler
     * @param fd       its descriptor
     * @param interest READ/WRITE bits
     * @return the slot
     */
    public int occupy(MemorySegment owner, long offset, H handler, int fd, int interest) {
        if (freeTop == 0) {
            grow();
        }
        int slot = freeSlots[--freeTop];
        owners[slot] = owner;
        offsets[slot] = offset;
        handlers[slot] = handler;
        fds[slot] = fd;
        interests[slot] = interest;
        mapFd(fd, slot);
        size++;
        return slot;
    }

    /**
     * Frees a slot: its generation moves on, so entries already gathered for it are stale.
     *
     * @param slot an occupied app slot
     */
    public void free(int slot) {
        generations[slot]++;
        int fd = fds[slot];
        if (fd < slotByFd.length && slotByFd[fd] == slot + 1) {
            slotByFd[fd] = 0;
        }
        owners[slot] = null;
        handlers[slot] = null;
        fds[slot] = -1;
        interests[slot] = 0;
        freeSlots[freeTop++] = slot;
        size--;
    }

    /** Forgets every registration (the poller is closing). */
    public void clear() {
        Arrays.fill(owners, null);
        Arrays.fill(handlers, null);
        size = 0;
    }

    /**
     * Returns a slot's segment.
     *
     * @param slot a slot
     * @return the app's segment, or null if the slot is free
     */
    public MemorySegment owner(int slot) {
        return owners[slot];
    }

    /**
     * Returns a slot's atom offset.
     *
     * @param slot an occupied slot
     * @return the atom's offset in its segment
     */
    public long offset(int slot) {
        return offsets[slot];
    }

    /**
     * Returns a slot's handler.
     *
     * @param slot an occupied slot
     * @return the handler given to {@link #occupy}
     */
    @SuppressWarnings("unchecked") // only occupy() stores here, and it takes an H
    public H handler(int slot) {
        return (H) handlers[slot];
    }

    /**
     * Returns a slot's descriptor.
     *
     * @param slot an occupied slot
     * @return its fd
     */
    public int fd(int slot) {
        return fds[slot];
    }

    /**
     * Returns a slot's interest.
     *
     * @param slot an occupied slot
     * @return READ/WRITE bits, possibly 0
     */
    public int interest(int slot) {
        return interests[slot];
    }

    /**
     * Changes a slot's interest (after the backend accepted it).
     *
     * @param slot     an occupied slot
     * @param interest READ/WRITE bits, possibly 0
     */
    public void setInterest(int slot, int interest) {
        interests[slot] = interest;
    }

    /**
     * Returns a slot's generation.
     *
     * @param slot a slot
     * @return its generation, the second half of the token a backend carries
     */
    public int generation(int slot) {
        return generations[slot];
    }

    /** Doubles the arrays (at most to capacity + 1) and lists the new slots as free. */
    private void grow() {
        int old = owners.length;
        if (old > capacity) {
            throw new IllegalStateException("slot table is full: " + capacity + " atoms");
        }
        int slots = (int) Math.min(2L * old, capacity + 1L);
        owners = Arrays.copyOf(owners, slots);
        offsets = Arrays.copyOf(offsets, slots);
        handlers = Arrays.copyOf(handlers, slots);
        fds = Arrays.copyOf(fds, slots);
        interests = Arrays.copyOf(interests, slots);
        generations = Arrays.copyOf(generations, slots);
        freeSlots = Arrays.copyOf(freeSlots, slots);
        pushFree(old, slots);
    }

    /** Lists slots {@code from..to-1} as free, the lowest on top (taken first). */
    private void pushFree(int from, int to) {
        for (int slot = to - 1; slot >= from; slot--) {
            freeSlots[freeTop++] = slot;
        }
    }

    private void mapFd(int fd, int slot) {
        if (fd >= slotByFd.length) {
            slotByFd = Arrays.copyOf(slotByFd, Math.max(fd + 1, slotByFd.length * 2));
        }
        slotByFd[fd] = slot + 1;
    }
}
