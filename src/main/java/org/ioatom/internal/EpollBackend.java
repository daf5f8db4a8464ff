package org.ioatom.internal;

import static org.ioatom.internal.EventBits.ERROR;
import static org.ioatom.internal.EventBits.HUP;
import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;
import static org.ioatom.internal.linux.Linux.EPOLLERR;
import static org.ioatom.internal.linux.Linux.EPOLLET;
import static org.ioatom.internal.linux.Linux.EPOLLHUP;
import static org.ioatom.internal.linux.Linux.EPOLLIN;
import static org.ioatom.internal.linux.Linux.EPOLLOUT;
import static org.ioatom.internal.linux.Linux.EPOLLPRI;
import static org.ioatom.internal.linux.Linux.EPOLLRDHUP;
import static org.ioatom.internal.linux.Linux.EPOLL_CLOEXEC;
import static org.ioatom.internal.linux.Linux.EPOLL_CTL_ADD;
import static org.ioatom.internal.linux.Linux.EPOLL_CTL_DEL;
import static org.ioatom.internal.linux.Linux.EPOLL_CTL_MOD;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.internal.linux.EpollEvent;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.SyscallException;

/**
 * Linux epoll, edge-triggered. epoll_data carries the token {@code generation << 32 | slot},
 * so an event finds its registration without a map and an event for a slot that was freed
 * (or reused) since the wait is recognisably stale. The event layout is the ABI's
 * ({@link EpollEvent}: 12 bytes on x86_64, 16 on aarch64).
 */
public final class EpollBackend extends Backend {
    private static final long EVENT_SIZE = EpollEvent.SIZE;
    private static final long EVENTS_OFFSET = EpollEvent.EVENTS_OFFSET;
    private static final long DATA_OFFSET = EpollEvent.DATA_OFFSET;

    /** Most events one wait returns; more stay queued in the kernel for the next wait. */
    static final int MAX_BATCH = 4096;

    private final int epfd;
    private final MemorySegment eventArray;
    private final MemorySegment ctlEvent;
    /** The wait's timeout for epoll_pwait2. */
    private final MemorySegment timeout;
    /**
     * Whether epoll_pwait2 (nanosecond timeouts, Linux 5.11) works here; cleared for good by
     * the first ENOSYS or EPERM, after which waits use epoll_pwait's milliseconds, rounded up.
     */
    private static volatile boolean pwait2 = true;
    private final int batch;

    /**
     * Opens an epoll instance and its event array.
     *
     * @param arena    the poller's arena
     * @param capacity the most atoms the poller holds
     * @throws SyscallException if epoll_create1 fails
     */
    public EpollBackend(Arena arena, int capacity) throws SyscallException {
        super(arena, Math.min(capacity, MAX_BATCH));
        batch = ready.capacity();
        eventArray = arena.allocate(EVENT_SIZE * batch, 8);
        ctlEvent = arena.allocate(EVENT_SIZE, 8);
        timeout = arena.allocate(Timeouts.LAYOUT);
        int fd = Syscalls.epoll_create1(EPOLL_CLOEXEC);
        if (fd < 0) {
            throw new SyscallException("epoll_create1", null, -1, -fd);
        }
        epfd = fd;
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public void register(int fd, int slot, int generation, int interest) throws SyscallException {
        ctl(EPOLL_CTL_ADD, "ADD", fd, slot, generation, interest);
    }

    @Override
    public void modify(int fd, int slot, int generation, int interest) throws SyscallException {
        ctl(EPOLL_CTL_MOD, "MOD", fd, slot, generation, interest);
    }

    @Override
    public void deregister(int fd, int slot) throws SyscallException {
        int rc = Syscalls.epoll_ctl(epfd, EPOLL_CTL_DEL, fd, ctlEvent);
        // Closing an fd removes it from the interest list: remove-after-close is not an error.
        if (rc < 0 && rc != -Errno.EBADF && rc != -Errno.ENOENT) {
            throw new SyscallException("epoll_ctl", "DEL", fd, -rc);
        }
    }

    private void ctl(int op, String opName, int fd, int slot, int generation, int interest) throws SyscallException {
        int ev = EPOLLET;
        if ((interest & READ) != 0) {
            ev |= EPOLLIN | EPOLLRDHUP;
        }
        if ((interest & WRITE) != 0) {
            ev |= EPOLLOUT;
        }
        ctlEvent.set(ValueLayout.JAVA_INT, EVENTS_OFFSET, ev);
        ctlEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, ((long) generation << 32) | (slot & 0xFFFF_FFFFL));
        int rc = Syscalls.epoll_ctl(epfd, op, fd, ctlEvent);
        if (rc < 0) {
            throw new SyscallException("epoll_ctl", opName, fd, -rc);
        }
    }

    @Override
    public void await(long timeoutNanos) throws SyscallException {
        int n;
        if (pwait2) {
            n = Syscalls.epoll_pwait2(epfd, eventArray, batch, Timeouts.nanos(timeout, timeoutNanos), MemorySegment.NULL);
            if (n == -Errno.ENOSYS || n == -Errno.EPERM) {
                // Before Linux 5.11, or refused by a seccomp filter that predates it: whole milliseconds.
                pwait2 = false;
                n = Syscalls.epoll_pwait(epfd, eventArray, batch, Timeouts.millisRoundedUp(timeoutNanos), MemorySegment.NULL);
            }
        } else {
            n = Syscalls.epoll_pwait(epfd, eventArray, batch, Timeouts.millisRoundedUp(timeoutNanos), MemorySegment.NULL);
        }
        if (n < 0) {
            if (n == -Errno.EINTR) {
                return;
            }
            throw new SyscallException(pwait2 ? "epoll_pwait2" : "epoll_pwait", null, epfd, -n);
        }
        for (int i = 0; i < n; i++) {
            long base = i * EVENT_SIZE;
            int ev = eventArray.get(ValueLayout.JAVA_INT, base + EVENTS_OFFSET);
            long token = eventArray.get(ValueLayout.JAVA_LONG_UNALIGNED, base + DATA_OFFSET);
            ready.add((int) token, (int) (token >>> 32), translate(ev));
        }
    }

    private static int translate(int ev) {
        int out = 0;
        if ((ev & (EPOLLIN | EPOLLPRI)) != 0) {
            out |= READ;
        }
        if ((ev & EPOLLOUT) != 0) {
            out |= WRITE;
        }
        if ((ev & (EPOLLRDHUP | EPOLLHUP)) != 0) {
            out |= HUP;
        }
        if ((ev & EPOLLERR) != 0) {
            out |= ERROR;
        }
        return out;
    }

    @Override
    public void close() {
        Syscalls.close(epfd);
    }
}
