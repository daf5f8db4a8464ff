package org.ioatom.internal;

import java.lang.foreign.Arena;
import org.ioatom.IoException;

/**
 * What each OS mechanism supplies to a {@code Poller}: register, modify and deregister a file
 * descriptor under a (slot, generation) token, and wait for events into a {@link ReadyBatch}.
 * Everything else (the slot table, stale-event checks, dispatch, handler failures) lives once,
 * in the poller. Interest is given in {@code IoAtom} bits (READ=1, WRITE=2).
 *
 * <p>A backend owns native memory from the poller's arena. Its system calls return the result or
 * {@code -errno} (see {@code SyscallLinker}), so no call needs errno capture and none allocates.
 */
public abstract class Backend {
    /** IoAtom.READ. */
    protected static final int READ = 1;
    /** IoAtom.WRITE. */
    protected static final int WRITE = 2;
    /** IoAtom.HUP. */
    protected static final int HUP = 4;
    /** IoAtom.ERROR. */
    protected static final int ERROR = 8;

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
     * @throws IoException if the OS refuses
     */
    public abstract void register(int fd, int slot, int generation, int interest) throws IoException;

    /**
     * Changes what {@code fd} is watched for.
     *
     * @param fd         the descriptor
     * @param slot       the registration slot
     * @param generation the slot's generation
     * @param interest   READ/WRITE bits, possibly 0
     * @throws IoException if the OS refuses
     */
    public abstract void modify(int fd, int slot, int generation, int interest) throws IoException;

    /**
     * Stops watching {@code fd}. A descriptor the app already closed is not an error.
     *
     * @param fd   the descriptor
     * @param slot the registration slot
     * @throws IoException if the OS refuses for another reason
     */
    public abstract void deregister(int fd, int slot) throws IoException;

    /**
     * Waits for events and appends them to {@link #ready()} (which the caller cleared).
     *
     * @param timeoutMillis negative for no limit, 0 to return at once
     * @throws IoException if the wait fails; EINTR is not a failure (returns with no events)
     */
    public abstract void await(int timeoutMillis) throws IoException;

    /** Releases OS resources (not the arena, which the poller closes). */
    public abstract void close();
}
