package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.ioatom.internal.sys.SyscallException;

/**
 * Where a poller's events come from: one {@link Backend}, the {@link SlotTable} its tokens
 * refer to, kept in step with it (a slot is taken only after the OS accepted the registration,
 * and freed even if the OS refuses to forget it; a backend's per-slot state grows with the table
 * before a new slot is registered), the wake-up descriptor in {@link SlotTable#WAKE_SLOT}, and
 * the native memory they share.
 *
 * <p>{@link #await} turns a wait into a batch of the app's live entries. Wake-ups are counted
 * here: several before a wait sees one cost one signal, and nothing touches the descriptor once
 * it is closed. {@link #wakeup()} and {@link #wakeForClose()} may come from any thread,
 * everything else from the thread that holds the poller (see {@link Ownership}).
 *
 * @param <H> the handler type the table stores
 */
public final class EventSource<H> {
    private static final System.Logger LOG = System.getLogger("org.ioatom");

    private final Arena arena;
    private final SlotTable<H> slots;
    private final Backend backend;
    private final Waker waker;
    private final Object wakeLock = new Object();
    /** Guarded by wakeLock: signalled and not yet drained. */
    private boolean wakePending;
    /** Guarded by wakeLock: the waker is closed, signal no more. */
    private boolean wakerClosed;
    /** Whether the last wait saw the wake-up descriptor; only the polling thread touches it. */
    private boolean woken;

    private EventSource(Arena arena, SlotTable<H> slots, Backend backend, Waker waker) {
        this.arena = arena;
        this.slots = slots;
        this.backend = backend;
        this.waker = waker;
    }

    /**
     * Opens a backend and its wake-up descriptor, in an arena of their own.
     *
     * @param <H>       the handler type
     * @param mechanism the OS mechanism
     * @param slots     a new slot table; its wake-up slot gets the wake-up descriptor
     * @return the source
     * @throws SyscallException              if the OS refuses
     * @throws UnsupportedOperationException if the mechanism is not available here
     */
    public static <H> EventSource<H> open(Mechanism mechanism, SlotTable<H> slots) throws SyscallException {
        Arena arena = Arena.ofShared();
        Backend b = null;
        Waker w = null;
        try {
            b = mechanism.open(arena, slots.maxSlotCount(), slots.slotCount());
            w = Waker.open(arena);
            b.register(w.fd(), SlotTable.WAKE_SLOT, 0, EventBits.READ);
            slots.reserve(w.fd());
            return new EventSource<>(arena, slots, b, w);
        } catch (SyscallException | RuntimeException e) {
            if (w != null) {
                w.close();
            }
            if (b != null) {
                b.close();
            }
            arena.close();
            throw e;
        }
    }

    /** {@return the mechanism's name, e.g. {@code epoll}} */
    public String name() {
        return backend.name();
    }

    /** {@return the batch that {@link #await} fills} */
    public ReadyBatch ready() {
        return backend.ready();
    }

    /**
     * Registers {@code fd} and then takes a slot for it.
     *
     * @param owner    the app's segment
     * @param offset   the atom's offset
     * @param handler  its handler
     * @param fd       the descriptor; the caller checked it is not registered and the table is not full
     * @param interest READ/WRITE bits
     * @return the slot
     * @throws SyscallException         if the OS refuses (no slot is taken)
     * @throws IllegalArgumentException if the mechanism cannot watch {@code fd}
     */
    public int register(MemorySegment owner, long offset, H handler, int fd, int interest) throws SyscallException {
        backend.checkFd(fd);
        int slot = slots.nextFree();
        // nextFree may have grown the table: the backend follows before the new slot is used.
        backend.ensureSlots(slots.slotCount());
        backend.register(fd, slot, slots.generation(slot), interest);
        return slots.occupy(owner, offset, handler, fd, interest);
    }

    /**
     * Changes a registration's interest; nothing changes if the OS refuses.
     *
     * @param slot     an occupied slot
     * @param interest READ/WRITE bits
     * @throws SyscallException if the OS refuses
     */
    public void modify(int slot, int interest) throws SyscallException {
        backend.modify(slots.fd(slot), slot, slots.generation(slot), interest);
        slots.setInterest(slot, interest);
    }

    /**
     * Ends a registration. The slot is freed even if the OS refuses.
     *
     * @param slot an occupied slot
     * @throws SyscallException if the OS refuses
     */
    public void deregister(int slot) throws SyscallException {
        try {
            backend.deregister(slots.fd(slot), slot);
        } finally {
            slots.free(slot);
        }
    }

    /**
     * Drops a registration whose memory's arena was closed while it was registered; logs
     * instead of throwing.
     *
     * @param slot an occupied slot
     */
    public void dropDead(int slot) {
        int fd = slots.fd(slot);
        try {
            deregister(slot);
        } catch (SyscallException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "deregistering fd " + fd + " of a dead atom failed", e);
        }
        LOG.log(System.Logger.Level.WARNING, "dropped the registration of fd " + fd
                + ": the arena of its atom was closed while registered (remove atoms before closing their arena)");
    }

    /**
     * Waits and leaves in {@link #ready()} only the entries of live, unpaused registrations
     * ({@link SlotTable#keep}); the wake-up descriptor's entry is consumed here.
     *
     * @param timeoutNanos negative for no limit
     * @return the entries kept
     * @throws SyscallException if the wait fails
     */
    public int await(long timeoutNanos) throws SyscallException {
        ReadyBatch ready = backend.ready();
        ready.clear();
        backend.await(timeoutNanos);
        woken = ready.retain(slots, SlotTable.WAKE_SLOT);
        if (woken) {
            synchronized (wakeLock) {
                if (!wakerClosed) {
                    waker.drain();
                }
                wakePending = false;
            }
        }
        return ready.count();
    }

    /**
     * Waits until there are live entries, a wake-up, or {@code deadline} has passed. A wait that
     * ends without any of those (EINTR, or only stale entries) is made again for the time left:
     * a signal never shortens it.
     *
     * @param deadline a {@link System#nanoTime()} value, or {@link Long#MAX_VALUE} for no limit
     * @return the entries kept, as for {@link #await}
     * @throws SyscallException if the wait fails
     */
    public int awaitUntil(long deadline) throws SyscallException {
        while (true) {
            long left = deadline == Long.MAX_VALUE ? -1 : Math.max(0, deadline - System.nanoTime());
            int kept = await(left);
            if (kept > 0 || woken || left == 0 || (left > 0 && System.nanoTime() >= deadline)) {
                return kept;
            }
        }
    }

    /** {@return whether the last {@link #await} was ended by {@link #wakeup()} (or a close)} */
    public boolean woken() {
        return woken;
    }

    /** Makes the current or next wait return; one signal until the wait drains it. */
    public void wakeup() {
        synchronized (wakeLock) {
            if (!wakePending && !wakerClosed) {
                wakePending = true;
                waker.signal();
            }
        }
    }

    /** Signals even when one is pending: close() must end the wait whatever state it is in. */
    public void wakeForClose() {
        synchronized (wakeLock) {
            if (!wakerClosed) {
                wakePending = true;
                waker.signal();
            }
        }
    }

    /** Forgets every registration and closes the backend, the wake-up descriptor and the memory. */
    public void close() {
        slots.clear();
        backend.close();
        synchronized (wakeLock) {
            wakerClosed = true;
            waker.close();
        }
        arena.close();
    }
}
