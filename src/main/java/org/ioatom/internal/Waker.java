package org.ioatom.internal;

import java.lang.foreign.Arena;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.sys.SyscallException;

/**
 * A descriptor the poller registers like any atom, so that another thread can end a wait
 * ({@code Poller.wakeup()}) on every backend without backend-specific code: an eventfd on Linux
 * ({@link EventfdWaker}), a pipe where ioatom has no Linux bindings ({@link PipeWaker}).
 */
public interface Waker {
    /**
     * Opens the waker this platform uses.
     *
     * @param arena the poller's arena
     * @return an eventfd waker on Linux, a pipe waker elsewhere
     * @throws SyscallException if the OS refuses
     */
    static Waker open(Arena arena) throws SyscallException {
        return Platform.current().hasLinuxBindings() ? new EventfdWaker(arena) : PipeWaker.open(arena);
    }

    /** {@return the descriptor to register for READ} */
    int fd();

    /** Makes the descriptor readable. Safe from any thread; already readable means already awake. */
    void signal();

    /** Resets the descriptor to not readable; only the polling thread calls it. */
    void drain();

    /** Closes the descriptor(s). */
    void close();
}
