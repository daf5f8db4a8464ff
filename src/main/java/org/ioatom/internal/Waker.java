package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.ioatom.IoException;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.sys.Sys;

/**
 * A descriptor the poller registers like any atom, so that another thread can end a wait
 * ({@code Poller.wakeup()}) on every backend without backend-specific code.
 *
 * <p>On Linux it is an eventfd. Where ioatom has no Linux bindings (macOS, FreeBSD: kqueue is the
 * only backend there) it is a pipe, called through the kqueue binding package: {@code pipe()},
 * {@code read()}, {@code write()}, {@code close()}. The pipe is left blocking (no variadic
 * {@code fcntl} needed) and never blocks: at most one byte is ever unread, because a signal
 * writes only when no byte is pending and a drain reads only the byte it knows is there. Its
 * descriptors are not close-on-exec. The pipe path has run only on Linux, in tests, through the
 * kqueue emulation.
 */
public final class Waker {
    private final boolean pipe;
    /** The descriptor to register: the eventfd, or the pipe's read end. */
    private final int fd;
    /** Where signals are written: the eventfd, or the pipe's write end. */
    private final int writeFd;
    /** Pipe only: a byte was written and not yet drained. Guarded by this. */
    private boolean unread;
    /** 8 bytes holding 1, written by wakers; only ever read by the kernel, so threads may share it. */
    private final MemorySegment one;
    /** Scratch for draining, used only by the polling thread. */
    private final MemorySegment drainBuf;
    /** Errno capture for the polling thread's calls. */
    private final MemorySegment errno;
    /** Errno capture for wakers; its value is never read, so threads may share it. */
    private final MemorySegment wakerErrno;

    /**
     * Opens an eventfd on Linux, a pipe elsewhere.
     *
     * @param arena the poller's arena
     * @throws IoException if eventfd or pipe fails
     */
    public Waker(Arena arena) throws IoException {
        this(arena, !Platform.current().supported());
    }

    /**
     * A pipe-based waker on any platform with kqueue bindings: for tests of the pipe path on Linux.
     *
     * @param arena where its memory lives
     * @return a new waker
     * @throws IoException if pipe fails
     */
    public static Waker overPipe(Arena arena) throws IoException {
        return new Waker(arena, true);
    }

    private Waker(Arena arena, boolean pipe) throws IoException {
        this.pipe = pipe;
        errno = arena.allocate(Natives.CAPTURE_LAYOUT);
        wakerErrno = arena.allocate(Natives.CAPTURE_LAYOUT);
        one = arena.allocate(ValueLayout.JAVA_LONG);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
        drainBuf = arena.allocate(ValueLayout.JAVA_LONG);
        if (pipe) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            if (Pipes.pipe(errno, fds) < 0) {
                throw new IoException("pipe", null, -1, Natives.errno(errno));
            }
            fd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            writeFd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
        } else {
            fd = Sys.eventfd(errno, 0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
            if (fd < 0) {
                throw new IoException("eventfd", null, -1, Natives.errno(errno));
            }
            writeFd = fd;
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
        if (!pipe) {
            Sys.write(wakerErrno, fd, one, 8);
            return;
        }
        synchronized (this) {
            if (!unread && Pipes.write(wakerErrno, writeFd, one, 1) == 1) {
                unread = true;
            }
        }
    }

    /** Resets the descriptor to not readable. */
    public void drain() {
        if (!pipe) {
            Sys.read(errno, fd, drainBuf, 8);
            return;
        }
        synchronized (this) {
            if (unread && Pipes.read(errno, fd, drainBuf, 1) == 1) {
                unread = false;
            }
        }
    }

    /** Closes the descriptor(s). */
    public void close() {
        if (!pipe) {
            Sys.close(errno, fd);
            return;
        }
        Pipes.close(errno, fd);
        Pipes.close(errno, writeFd);
    }

    /** pipe, read, write and close from the kqueue bindings; initialised only when a pipe waker is made. */
    private static final class Pipes {
        private static final KqueueAbi ABI = KqueueAbi.load();
        private static final MethodHandle PIPE = handle("pipe");
        private static final MethodHandle READ = handle("read");
        private static final MethodHandle WRITE = handle("write");
        private static final MethodHandle CLOSE = handle("close");

        private static MethodHandle handle(String name) {
            return Natives.downcall(ABI.lookup(), ABI.bindings().descriptor(KqueueAbi.HEADER_CLASS, name), name, true);
        }

        static int pipe(MemorySegment errno, MemorySegment fds) {
            try {
                return (int) PIPE.invokeExact(errno, fds);
            } catch (Throwable t) {
                throw Natives.rethrow(t);
            }
        }

        static long read(MemorySegment errno, int fd, MemorySegment buf, long count) {
            try {
                return (long) READ.invokeExact(errno, fd, buf, count);
            } catch (Throwable t) {
                throw Natives.rethrow(t);
            }
        }

        static long write(MemorySegment errno, int fd, MemorySegment buf, long count) {
            try {
                return (long) WRITE.invokeExact(errno, fd, buf, count);
            } catch (Throwable t) {
                throw Natives.rethrow(t);
            }
        }

        static int close(MemorySegment errno, int fd) {
            try {
                return (int) CLOSE.invokeExact(errno, fd);
            } catch (Throwable t) {
                throw Natives.rethrow(t);
            }
        }

    }
}
