package org.ioatom.internal.sys;

import java.io.IOException;

/**
 * A system call failed, as the internal layers report it: the call, what else identifies it,
 * the file descriptor and the errno. The public API turns it into an {@code org.ioatom.IoException}
 * with the same message and stack trace, so that nothing in {@code org.ioatom.internal} depends
 * on the public package.
 */
public final class SyscallException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The call that failed, e.g. {@code epoll_ctl}. */
    private final String call;
    /** What else identifies the call, e.g. {@code ADD}, or null. */
    private final String detail;
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
    public SyscallException(String call, String detail, int fd, int errno) {
        super(Errnos.describe(call, detail, fd, errno));
        this.call = call;
        this.detail = detail;
        this.fd = fd;
        this.errno = errno;
    }

    /** {@return the system call that failed} */
    public String call() {
        return call;
    }

    /** {@return what else identifies the call, or null} */
    public String detail() {
        return detail;
    }

    /** {@return the file descriptor the call was about, or -1} */
    public int fd() {
        return fd;
    }

    /** {@return the errno the call left} */
    public int errno() {
        return errno;
    }
}
