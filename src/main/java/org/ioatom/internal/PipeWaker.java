package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.ioatom.internal.bsd.Kqueue;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.SyscallException;

/**
 * The waker where ioatom has no Linux bindings (macOS, FreeBSD: kqueue is the only backend there):
 * a pipe whose read end the poller registers. {@code pipe()}, {@code read()}, {@code write()} and
 * {@code close()} come from where {@link KqueueAbi} finds kqueue's C library.
 *
 * <p>The pipe is left blocking (no variadic {@code fcntl} needed) and never blocks: at most one
 * byte is ever unread, because a signal writes only when no byte is pending and a drain reads only
 * the byte it knows is there. Its descriptors are not close-on-exec.
 *
 * <p>{@code read} and {@code write} do not capture errno, so signalling and draining allocate
 * nothing in any compiler mode; their failures need no errno: a write that does not take the byte
 * leaves {@code unread} false (the next signal tries again), a read that gets nothing leaves it true.
 * Only {@code pipe} (setup) and {@code close} (teardown) capture.
 *
 * <p>This has run only on Linux, in tests, through the kqueue emulation's library lookup.
 */
public final class PipeWaker implements Waker {
    private static final KqueueAbi ABI = KqueueAbi.load();
    private static final MethodHandle PIPE = ABI.downcallCapturingErrno("pipe", Kqueue.PIPE_DESCRIPTOR);
    private static final MethodHandle READ = ABI.downcall("read", Kqueue.READ_DESCRIPTOR);
    private static final MethodHandle WRITE = ABI.downcall("write", Kqueue.WRITE_DESCRIPTOR);
    private static final MethodHandle CLOSE = ABI.downcallCapturingErrno("close", Kqueue.CLOSE_DESCRIPTOR);

    private static final System.Logger LOG = System.getLogger("org.ioatom");

    /** The pipe's read end: the descriptor to register. */
    private final int fd;
    /** The pipe's write end, where signals go. */
    private final int writeFd;
    /** A byte was written and not yet drained. Guarded by this. */
    private boolean unread;
    /** One byte to write; only ever read by the kernel, so threads may share it. */
    private final MemorySegment one;
    /** Scratch for draining, used only by the polling thread. */
    private final MemorySegment drainBuf;
    /** Errno capture for pipe and close. */
    private final MemorySegment errno;

    private PipeWaker(Arena arena) throws SyscallException {
        errno = arena.allocate(Natives.CAPTURE_LAYOUT);
        one = arena.allocate(ValueLayout.JAVA_LONG);
        one.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        drainBuf = arena.allocate(ValueLayout.JAVA_LONG);
        MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
        int rc;
        try {
            rc = (int) PIPE.invokeExact(errno, fds);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
        if (rc < 0) {
            throw new SyscallException("pipe", null, -1, Natives.errno(errno));
        }
        fd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
        writeFd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
    }

    /**
     * Opens a pipe waker wherever kqueue's C library is found (on Linux, a configured kqueue library).
     *
     * @param arena where its memory lives; shared, as any thread may signal
     * @return the waker
     * @throws SyscallException if pipe fails
     * @throws UnsupportedOperationException if kqueue (and so this waker's C library) is not available
     */
    public static PipeWaker open(Arena arena) throws SyscallException {
        return new PipeWaker(arena);
    }

    /** {@return the descriptor to register for READ: the pipe's read end} */
    @Override
    public int fd() {
        return fd;
    }

    /** Makes the descriptor readable. Safe from any thread; a byte already unread means already awake. */
    @Override
    public void signal() {
        synchronized (this) {
            if (!unread && write(writeFd, one) == 1) {
                unread = true;
            }
        }
    }

    /** Resets the descriptor to not readable; only the polling thread calls it. */
    @Override
    public void drain() {
        synchronized (this) {
            if (unread && read(fd, drainBuf) == 1) {
                unread = false;
            }
        }
    }

    /** Closes both ends. */
    @Override
    public void close() {
        close(fd);
        close(writeFd);
    }

    private static long write(int fd, MemorySegment buf) {
        try {
            return (long) WRITE.invokeExact(fd, buf, 1L);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    private static long read(int fd, MemorySegment buf) {
        try {
            return (long) READ.invokeExact(fd, buf, 1L);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    private void close(int descriptor) {
        int rc;
        try {
            rc = (int) CLOSE.invokeExact(errno, descriptor);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
        if (rc < 0) {
            LOG.log(System.Logger.Level.DEBUG, "closing waker pipe fd " + descriptor + " failed: errno "
                    + Natives.errno(errno));
        }
    }
}
