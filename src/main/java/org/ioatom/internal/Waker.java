package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.IoException;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.Sys;

/**
 * A descriptor the poller registers like any atom, so that another thread can end a wait
 * ({@code Poller.wakeup()}) on every backend without backend-specific code.
 *
 * <p>This is the Linux one, an eventfd. Where ioatom has no Linux bindings (macOS, FreeBSD) the
 * waker is a pipe: {@link PipeWaker}.
 */
public final class Waker {
    /** The eventfd. */
    private final int fd;
    /** 8 bytes holding 1, written by wakers; only ever read by the kernel, so threads may share it. */
    private final MemorySegment one;
    /** Scratch for draining, used only by the polling thread. */
    private final MemorySegment drainBuf;
    /** Errno capture for the polling thread's calls. */
    private final MemorySegment errno;
    /** Errno capture for wakers; its value is never read, so threads may share it. */
    private final MemorySegment wakerErrno;

    /**
     * Opens an eventfd.
     *
     * @param arena the poller's arena
     * @throws IoException if eventfd fails
     */
    public Waker(Arena arena) throws IoException {
        errno = arena.allocate(Natives.CAPTURE_LAYOUT);
        wakerErrno = arena.allocate(Natives.CAPTURE_LAYOUT);
        one = arena.allocate(ValueLayout.JAVA_LONG);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
        drainBuf = arena.allocate(ValueLayout.JAVA_LONG);
        fd = Sys.eventfd(errno, 0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
        if (fd < 0) {
            throw new IoException("eventfd", null, -1, Natives.errno(errno));
        }
    }

    /**
     * Returns the descriptor to register for READ.
     *
     * @return the descriptor to register for READ
     */
    public int fd() {
        return fd;
    }

    /** Makes the descriptor readable. Safe from any thread; a full counter already means "awake". */
    public void signal() {
        Sys.write(wakerErrno, fd, one, 8);
    }

    /** Resets the descriptor to not readable. */
    public void drain() {
        Sys.read(errno, fd, drainBuf, 8);
    }

    /** Closes the descriptor. */
    public void close() {
        Sys.close(errno, fd);
    }
}
