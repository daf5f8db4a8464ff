package org.ioatom.internal.sys;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Calls and constants every backend and the socket helpers share, for the current platform.
 * Each wrapper returns the raw C result (-1 on failure, errno left in the capture segment) and
 * allocates nothing; callers turn failures into {@code IoException}s.
 */
public final class Sys {
    private Sys() {}

    /** The current platform's bindings. */
    public static final Bindings B = Bindings.current();

    /** errno values the library reacts to. */
    public static final int EINTR = B.intConstant("EINTR");
    /** Would block. */
    public static final int EAGAIN = B.intConstant("EAGAIN");
    /** Would block (alias on Linux). */
    public static final int EWOULDBLOCK = B.intConstant("EWOULDBLOCK");
    /** Bad file descriptor. */
    public static final int EBADF = B.intConstant("EBADF");
    /** No such entry. */
    public static final int ENOENT = B.intConstant("ENOENT");
    /** Connection in progress. */
    public static final int EINPROGRESS = B.intConstant("EINPROGRESS");
    /** eventfd flags. */
    public static final int EFD_NONBLOCK = B.intConstant("EFD_NONBLOCK");
    /** eventfd flags. */
    public static final int EFD_CLOEXEC = B.intConstant("EFD_CLOEXEC");
    /** open/pipe2 flags. */
    public static final int O_NONBLOCK = B.intConstant("O_NONBLOCK");
    /** open/pipe2 flags. */
    public static final int O_CLOEXEC = B.intConstant("O_CLOEXEC");

    private static final MethodHandle CLOSE = Natives.libc(B, "close", true);
    private static final MethodHandle READ = Natives.libc(B, "read", true);
    private static final MethodHandle WRITE = Natives.libc(B, "write", true);
    private static final MethodHandle EVENTFD = Natives.libc(B, "eventfd", true);
    private static final MethodHandle PIPE2 = Natives.libc(B, "pipe2", true);

    static {
        Errnos.preload();
    }

    /**
     * Returns whether {@code errno} means "try again later".
     *
     * @return whether {@code errno} means "try again later"
     */
    public static boolean wouldBlock(int errno) {
        return errno == EAGAIN || errno == EWOULDBLOCK;
    }

    /**
     * close(2).
     *
     * @param errno capture segment
     * @param fd    descriptor
     * @return 0 or -1
     */
    public static int close(MemorySegment errno, int fd) {
        try {
            return (int) CLOSE.invokeExact(errno, fd);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /**
     * read(2).
     *
     * @param errno capture segment
     * @param fd    descriptor
     * @param buf   destination
     * @param count bytes at most
     * @return bytes read, 0 at end of stream, or -1
     */
    public static long read(MemorySegment errno, int fd, MemorySegment buf, long count) {
        try {
            return (long) READ.invokeExact(errno, fd, buf, count);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /**
     * write(2).
     *
     * @param errno capture segment
     * @param fd    descriptor
     * @param buf   source
     * @param count bytes at most
     * @return bytes written or -1
     */
    public static long write(MemorySegment errno, int fd, MemorySegment buf, long count) {
        try {
            return (long) WRITE.invokeExact(errno, fd, buf, count);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /**
     * eventfd(2).
     *
     * @param errno   capture segment
     * @param initval initial counter
     * @param flags   EFD_* flags
     * @return descriptor or -1
     */
    public static int eventfd(MemorySegment errno, int initval, int flags) {
        try {
            return (int) EVENTFD.invokeExact(errno, initval, flags);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /**
     * pipe2(2).
     *
     * @param errno capture segment
     * @param fds   two ints: read end, write end
     * @param flags O_NONBLOCK, O_CLOEXEC
     * @return 0 or -1
     */
    public static int pipe2(MemorySegment errno, MemorySegment fds, int flags) {
        try {
            return (int) PIPE2.invokeExact(errno, fds, flags);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

}
