package org.ioatom.internal;

import java.lang.foreign.Arena;
import org.ioatom.IoException;
import org.ioatom.PollerKind;
import org.ioatom.internal.sys.Errnos;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Platform;

/** Which backends exist on this platform, and opening them. */
public final class Backends {
    private Backends() {}

    /**
     * Says why a kind cannot be used on this platform.
     *
     * @param kind a concrete kind (not ANY)
     * @return why it cannot be used here, or {@code null}
     */
    public static String unavailableReason(PollerKind kind) {
        if (kind == PollerKind.KQUEUE) {
            // Decided by the OS or a configured emulation, not by the Linux bindings.
            return KqueueAbi.unavailableReason();
        }
        Platform p = Platform.current();
        if (!p.supported()) {
            return kind + " is not available: " + p.unsupportedReason();
        }
        return switch (kind) {
            case EPOLL -> p.os() == Platform.Os.LINUX ? null : "epoll is not available on " + p + ": it is Linux-only";
            case POLL, SELECT -> null;
            case KQUEUE -> throw new AssertionError("handled above");
            case ANY -> throw new IllegalArgumentException("ANY is not a concrete kind");
        };
    }

    /**
     * Opens a backend.
     *
     * @param kind  a concrete, available kind
     * @param arena the poller's arena
     * @param slots slots the poller has, including its wake-up slot
     * @return the backend
     * @throws IoException if the OS refuses
     */
    public static Backend open(PollerKind kind, Arena arena, int slots) throws IoException {
        Errnos.preload();
        if (kind == PollerKind.KQUEUE) {
            // Loads (once per JVM) what the OS or the emulation properties name, or throws
            // UnsupportedOperationException with the reason, before the backend class initialises.
            KqueueAbi.load();
            return new KqueueBackend(arena, slots);
        }
        String reason = unavailableReason(kind);
        if (reason != null) {
            throw new UnsupportedOperationException(reason);
        }
        return switch (kind) {
            case EPOLL -> new EpollBackend(arena, slots);
            case POLL -> new PollBackend(arena, slots);
            case SELECT -> new SelectBackend(arena, slots);
            case KQUEUE, ANY -> throw new UnsupportedOperationException(kind + " cannot be opened here");
        };
    }
}
