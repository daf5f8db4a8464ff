package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.ioatom.IoException;
import org.ioatom.internal.sys.Bindings;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.Sys;

/**
 * Linux epoll, edge-triggered. epoll_data carries the token {@code generation << 32 | slot},
 * so an event finds its registration without a map and an event for a slot that was freed
 * (or reused) since the wait is recognisably stale.
 */
public final class EpollBackend extends Backend {
    private static final Bindings B = Sys.B;
    private static final int EPOLLIN = B.intConstant("EPOLLIN");
    private static final int EPOLLPRI = B.intConstant("EPOLLPRI");
    private static final int EPOLLOUT = B.intConstant("EPOLLOUT");
    private static final int EPOLLERR = B.intConstant("EPOLLERR");
    private static final int EPOLLHUP = B.intConstant("EPOLLHUP");
    private static final int EPOLLRDHUP = B.intConstant("EPOLLRDHUP");
    private static final int EPOLLET = B.intConstant("EPOLLET");
    private static final int EPOLL_CTL_ADD = B.intConstant("EPOLL_CTL_ADD");
    private static final int EPOLL_CTL_MOD = B.intConstant("EPOLL_CTL_MOD");
    private static final int EPOLL_CTL_DEL = B.intConstant("EPOLL_CTL_DEL");
    private static final int EPOLL_CLOEXEC = B.intConstant("EPOLL_CLOEXEC");
    /** 12 on x86_64 (packed), 16 on aarch64. */
    private static final long EVENT_SIZE = B.sizeof("epoll_event");
    private static final long EVENTS_OFFSET = B.offset("epoll_event", "events");
    private static final long DATA_OFFSET = B.offset("epoll_event", "data");

    private static final MethodHandle EPOLL_CREATE1 = Natives.libc(B, "epoll_create1", true);
    private static final MethodHandle EPOLL_CTL = Natives.libc(B, "epoll_ctl", true);
    private static final MethodHandle EPOLL_WAIT = Natives.libc(B, "epoll_wait", false);
    private static final MethodHandle EPOLL_WAIT_ERRNO = Natives.libc(B, "epoll_wait", true);

    /** Most events one epoll_wait returns; more stay queued in the kernel for the next wait. */
    static final int MAX_BATCH = 4096;

    private final int epfd;
    private final MemorySegment eventArray;
    private final MemorySegment ctlEvent;
    private final int batch;

    /**
     * Opens an epoll instance and its event array.
     *
     * @param arena    the poller's arena
     * @param capacity the most atoms the poller holds
     * @throws IoException if epoll_create1 fails
     */
    public EpollBackend(Arena arena, int capacity) throws IoException {
        super(arena, Math.min(capacity, MAX_BATCH));
        batch = ready.capacity();
        eventArray = arena.allocate(EVENT_SIZE * batch, 8);
        ctlEvent = arena.allocate(EVENT_SIZE, 8);
        int fd;
        try {
            fd = (int) EPOLL_CREATE1.invokeExact(errno, EPOLL_CLOEXEC);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
        if (fd < 0) {
            throw new IoException("epoll_create1", null, -1, lastErrno());
        }
        epfd = fd;
    }

    @Override
    public String name() {
        return "epoll";
    }

    @Override
    public void register(int fd, int slot, int generation, int interest) throws IoException {
        ctl(EPOLL_CTL_ADD, "ADD", fd, slot, generation, interest);
    }

    @Override
    public void modify(int fd, int slot, int generation, int interest) throws IoException {
        ctl(EPOLL_CTL_MOD, "MOD", fd, slot, generation, interest);
    }

    @Override
    public void deregister(int fd, int slot) throws IoException {
        int rc = ctlCall(EPOLL_CTL_DEL, fd);
        // Closing an fd removes it from the interest list: remove-after-close is not an error.
        if (rc < 0 && lastErrno() != Sys.EBADF && lastErrno() != Sys.ENOENT) {
            throw new IoException("epoll_ctl", "DEL", fd, lastErrno());
        }
    }

    private void ctl(int op, String opName, int fd, int slot, int generation, int interest) throws IoException {
        int ev = EPOLLET;
        if ((interest & READ) != 0) {
            ev |= EPOLLIN | EPOLLRDHUP;
        }
        if ((interest & WRITE) != 0) {
            ev |= EPOLLOUT;
        }
        ctlEvent.set(ValueLayout.JAVA_INT, EVENTS_OFFSET, ev);
        ctlEvent.set(ValueLayout.JAVA_LONG_UNALIGNED, DATA_OFFSET, ((long) generation << 32) | (slot & 0xFFFF_FFFFL));
        if (ctlCall(op, fd) < 0) {
            throw new IoException("epoll_ctl", opName, fd, lastErrno());
        }
    }

    private int ctlCall(int op, int fd) {
        try {
            return (int) EPOLL_CTL.invokeExact(errno, epfd, op, fd, ctlEvent);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    @Override
    public void await(int timeoutMillis) throws IoException {
        int n;
        try {
            n = (int) EPOLL_WAIT.invokeExact(epfd, eventArray, batch, timeoutMillis);
            if (n < 0) {
                // See Backend: the failure path alone captures errno, by asking again at once.
                n = (int) EPOLL_WAIT_ERRNO.invokeExact(errno, epfd, eventArray, batch, 0);
            }
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
        if (n < 0) {
            if (lastErrno() == Sys.EINTR) {
                return;
            }
            throw new IoException("epoll_wait", null, epfd, lastErrno());
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
        Sys.close(errno, epfd);
    }
}
