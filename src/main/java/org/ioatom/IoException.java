package org.ioatom;

import java.io.IOException;
import org.ioatom.internal.sys.Errnos;
import org.ioatom.internal.sys.SyscallException;

/**
 * A system call failed. The message names the call, its file descriptor and the errno symbol
 * and text, for example {@code epoll_ctl(ADD, fd=7): EBADF (Bad file descriptor)}.
 */
public class IoException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The call that failed, e.g. {@code epoll_ctl}. */
    private final String call;
    /** The file descriptor the call was about, or -1 when none. */
    private final int fd;
    /** The errno the call left. */
    private final int errno;

    /**
     * Describes a failed call.
     *
     * @param call   the system call, e.g. {@code "epoll_ctl"}
     * @param detail what else identifies the call, e.g. {@code "ADD"}, or {@code null}
     * @param fd     the file descriptor concerned, or -1 when none
     * @param errno  the errno the call left
     */
    public IoException(String call, String detail, int fd, int errno) {
        super(Errnos.describe(call, detail, fd, errno));
        this.call = call;
        this.fd = fd;
        this.errno = errno;
    }

    /**
     * The public form of an internal layer's failure: same call, fd, errno, message and stack
     * trace.
     */
    static IoException of(SyscallException e) {
        IoException io = new IoException(e.call(), e.detail(), e.fd(), e.errno());
        io.setStackTrace(e.getStackTrace());
        for (Throwable s : e.getSuppressed()) {
            io.addSuppressed(s);
        }
        return io;
    }

    /**
     * Returns the system call that failed, e.g. {@code epoll_ctl}.
     *
     * @return the system call that failed, e.g. {@code epoll_ctl}
     */
    public String call() {
        return call;
    }

    /**
     * Returns the file descriptor the call was about, or -1 when none.
     *
     * @return the file descriptor the call was about, or -1 when none
     */
    public int fd() {
        return fd;
    }

    /**
     * Returns the errno value the call left.
     *
     * @return the errno value the call left
     */
    public int errno() {
        return errno;
    }

    /**
     * Returns the errno symbol, e.g. {@code EBADF}.
     *
     * @return the errno symbol, e.g. {@code EBADF}
     */
    public String errnoName() {
        return Errnos.name(errno);
    }
}
