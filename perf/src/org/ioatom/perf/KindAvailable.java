package org.ioatom.perf;

import org.ioatom.PollerKind;

/**
 * {@code KindAvailable KIND}: exit status 0 when that poller kind works here, else 1 with the
 * reason on stderr. perf/servers uses it to decide whether to measure the io_uring backend.
 */
public final class KindAvailable {
    private KindAvailable() {}

    public static void main(String[] args) {
        PollerKind kind = PollerKind.valueOf(args[0].toUpperCase(java.util.Locale.ROOT));
        if (!kind.isAvailable()) {
            System.err.println(kind + ": " + kind.unavailableReason());
            System.exit(1);
        }
    }
}
