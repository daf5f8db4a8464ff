package org.ioatom.internal.sys;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.LibC;

/**
 * errno numbers to their symbols ({@code EBADF}) and texts ({@code Bad file descriptor}).
 * Used only to build exception messages, never on a path that succeeds.
 */
public final class Errnos {
    private Errnos() {}

    private static final ConcurrentHashMap<Integer, String> TEXTS = new ConcurrentHashMap<>();

    /**
     * Loads the classes and the text that error paths need, while the process can still open
     * files: an error message must not depend on class loading when the error is EMFILE.
     */
    public static void preload() {
        name(Errno.EBADF);
        text(Errno.EBADF);
        text(Errno.EMFILE);
    }

    /**
     * Builds the message of a failed call, e.g. {@code epoll_ctl(ADD, fd=7): EBADF (Bad file descriptor)}.
     *
     * @param call   the system call
     * @param detail what else identifies the call, or null
     * @param fd     the file descriptor concerned, or -1 when none
     * @param errno  the errno the call left
     * @return the message
     */
    public static String describe(String call, String detail, int fd, int errno) {
        StringBuilder sb = new StringBuilder(call).append('(');
        if (detail != null) {
            sb.append(detail);
        }
        if (fd >= 0) {
            sb.append(detail != null ? ", " : "").append("fd=").append(fd);
        }
        return sb.append("): ").append(name(errno)).append(" (").append(text(errno)).append(')').toString();
    }

    /** The symbol for {@code errno}, e.g. {@code EBADF}; {@code errno <n>} if unknown. */
    public static String name(int errno) {
        // The table holds Linux's numbers; elsewhere (kqueue on a BSD) the number is all we know.
        String name = Platform.current().hasLinuxBindings() ? Errno.name(errno) : null;
        return name != null ? name : "errno " + errno;
    }

    /** strerror(errno), cached per value. */
    public static String text(int errno) {
        return TEXTS.computeIfAbsent(errno, Errnos::strerror);
    }

    @SuppressWarnings("restricted") // strerror returns a NUL-terminated static string
    private static String strerror(int errno) {
        try {
            MemorySegment s = LibC.strerror(errno);
            return s.equals(MemorySegment.NULL) ? "Unknown error " + errno : s.reinterpret(1024).getString(0);
        } catch (RuntimeException | LinkageError e) {
            // Even a failed class load (EMFILE) must still leave a message to report.
            return "Unknown error " + errno;
        }
    }
}
