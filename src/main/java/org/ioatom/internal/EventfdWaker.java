package org.ioatom.internal;

import static org.ioatom.internal.linux.Linux.EFD_CLOEXEC;
import static org.ioatom.internal.linux.Linux.EFD_NONBLOCK;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.SyscallException;

/**
 * The Linux waker: a non-blocking eventfd. A signal adds 1 to its counter (a full counter fails
 * with EAGAIN, which still means "readable"), a drain reads the counter back to 0. Neither result
 * is looked at: both calls can only fail in ways that leave the descriptor as wanted.
 */
final class EventfdWaker implements Waker {
    private final int fd;
    /** 8 bytes holding 1, written by wakers; only ever read by the kernel, so threads may share it. */
    private final MemorySegment one;
    /** Scratch for draining, used only by the polling thread. */
    private final MemorySegment drainBuf;

    EventfdWaker(Arena arena) throws SyscallException {
        one = arena.allocate(ValueLayout.JAVA_LONG);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
        drainBuf = arena.allocate(ValueLayout.JAVA_LONG);
        int rc = Syscalls.eventfd2(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (rc < 0) {
            throw new SyscallException("eventfd2", null, -1, -rc);
        }
        fd = rc;
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void signal() {
        Syscalls.write(fd, one, 8);
    }

    @Override
    public void drain() {
        Syscalls.read(fd, drainBuf, 8);
    }

    @Override
    public void close() {
        Syscalls.close(fd);
    }
}
