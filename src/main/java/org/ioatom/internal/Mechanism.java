package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.util.Locale;
import org.ioatom.internal.sys.Errnos;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.sys.SyscallException;

/**
 * The OS mechanisms a backend exists for, whether each is available here, and opening its
 * backend. The public {@code PollerKind} names one of these; this enum does not know it.
 */
public enum Mechanism {
    /** Linux epoll. */
    EPOLL,
    /** BSD/macOS kqueue. */
    KQUEUE,
    /** POSIX poll(2). */
    POLL,
    /** POSIX select(2). */
    SELECT,
    /** Linux io_uring, multishot poll requests (Linux 5.13+). */
    IO_URING;

    /** {@return the lower-case name, e.g. {@code epoll}} */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Says why this mechanism cannot be used on this platform. Never throws.
     *
     * @return why it cannot be used here, or {@code null}
     */
    public String unavailableReason() {
        if (this == KQUEUE) {
            // Decided by the OS or a configured kqueue library, not by the Linux bindings.
            return KqueueAbi.unavailableReason();
        }
        if (this == IO_URING) {
            // Found out once by trying (a seccomp filter, a sysctl or an old kernel may refuse).
            return IoUringProbe.unavailableReason();
        }
        Platform p = Platform.current();
        if (!p.hasLinuxBindings()) {
            return label() + " is not available: " + p.unsupportedReason();
        }
        return this == EPOLL && p.os() != Platform.Os.LINUX ? "epoll is not available on " + p + ": it is Linux-only"
                : null;
    }

    /**
     * Opens this mechanism's backend.
     *
     * @param arena    the poller's arena
     * @param maxSlots the most slots the poller's table may grow to, including its wake-up slot: for
     *                 sizes a backend fixes at open (event batches, rings), each capped
     * @param slots    the slots the table has at open: per-slot state starts with this many and
     *                 follows {@link Backend#ensureSlots}
     * @return the backend
     * @throws SyscallException              if the OS refuses
     * @throws UnsupportedOperationException if the mechanism is not available here (the message says why)
     */
    public Backend open(Arena arena, int maxSlots, int slots) throws SyscallException {
        Errnos.preload();
        if (this == KQUEUE) {
            // Loads (once per JVM) what the OS or the library properties name, or throws
            // UnsupportedOperationException with the reason, before the backend class initialises.
            KqueueAbi.load();
            return new KqueueBackend(arena, maxSlots, slots);
        }
        String reason = unavailableReason();
        if (reason != null) {
            throw new UnsupportedOperationException(reason);
        }
        return switch (this) {
            case EPOLL -> new EpollBackend(arena, maxSlots);
            case POLL -> new PollBackend(arena, slots);
            case SELECT -> new SelectBackend(arena, maxSlots);
            case IO_URING -> new IoUringBackend(arena, maxSlots, slots);
            case KQUEUE -> throw new AssertionError("opened above");
        };
    }
}
