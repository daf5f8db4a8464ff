package org.ioatom.internal;

import java.lang.foreign.Arena;
import org.ioatom.internal.sys.SyscallException;

/**
 * What each OS mechanism supplies to a {@code Poller}: register, modify and deregister a file
 * descriptor under a (slot, generation) token, wait for events into a {@link ReadyBatch}, and
 * close. Everything else (the slot table, stale-event checks, dispatch, handler failures,
 * thread ownership) lives once, above the backends. Interest and events are {@link EventBits}.
 *
 * <p>A backend owns native memory from the poller's arena and reports a failed system call as a
 * {@link SyscallException} naming the call, the fd and the errno. How it learns the errno is its
 * own business: the Linux backends' system calls return {@code -errno} (see
 * {@code SyscallLinker}), so they need no errno capture and allocate nothing; the kqueue backend
 * calls the C library without capture on the steady path and repeats a failed call with errno
 * capture to learn why (see {@link KqueueBackend}).
 */
public abstract class Backend {
    /** Native memory that lives as long as the poller. */
    protected final Arena arena;
    /** Where {@link #await} puts events. */
    protected final ReadyBatch ready;

    /**
     * Creates the backend's batch.
     *
     * @param arena     the poller's arena
     * @param batchSize the most events one wait gathers
     */
    protected Backend(Arena arena, int batchSize) {
        this.arena = arena;
        this.ready = new ReadyBatch(batchSize);
    }

    /**
     * Returns the batch this backend fills.
     *
     * @return the batch this backend fills
     */
    public final ReadyBatch ready() {
        return ready;
    }

    /**
     * Returns the mechanism's name as printed, e.g. {@code epoll}.
     *
     * @return the mechanism's name as printed, e.g. {@code epoll}
     */
    public abstract String name();

    /**
     * Makes room for per-slot state of slots {@code 0..slots-1}, called when the slot table has
     * grown, before a slot beyond the old size is registered (possibly from a handler, during a
     * dispatch). Idempotent; allocates only when the room is smaller. Backends without per-slot
     * state keep this default, which does nothing.
     *
     * @param slots the slot table's size now, the wake-up slot included
     */
    public void ensureSlots(int slots) {
    }

    /**
     * Rejects a descriptor this mechanism cannot watch, before the poller commits a slot.
     *
     * @param fd the descriptor
     */
    public void checkFd(int fd) {
    }

    /**
     * Starts watching {@code fd}.
     *
     * @param fd         the descriptor
     * @param slot       the registration slot
     * @param generation the slot's generation
     * @param interest   READ/WRITE bits, possibly 0
     * @throws SyscallException if the OS refuses
     */
    public abstract void register(int fd, int slot, int generation, int interest) throws SyscallException;

    /**
     * Changes what {@code fd} is watched for.
     *
     * @param fd         the descriptor
     * @param slot       the registration slot
     * @param generation the slot's generation
     * @param interest   READ/WRITE bits, possibly 0
     * @throws SyscallException if the OS refuses
     */
    public abstract void modify(int fd, int slot, int generation, int interest) throws SyscallException;

    /**
     * Stops watching {@code fd}. A descriptor the app already closed is not an error.
     *
     * @param fd   the descriptor
     * @param slot the registration slot
     * @throws SyscallException if the OS refuses for another reason
     */
    public abstract void deregister(int fd, int slot) throws SyscallException;

    /**
     * Waits for events and appends them to {@link #ready()} (which the caller cleared).
     *
     * @param timeoutNanos negative for no limit, 0 to return at once; never returns early but on
     *                     an event, a wake-up or EINTR (which returns with no events)
     * @throws SyscallException if the wait fails
     */
    public abstract void await(long timeoutNanos) throws SyscallException;

    /** Releases OS resources (not the arena, which the poller closes). */
    public abstract void close();
}
