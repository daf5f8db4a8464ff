package org.ioatom.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.internal.linux.Timespec;

/** A wait's timeout as the {@code struct timespec} that ppoll, pselect6 and epoll_pwait2 take. */
final class Timeouts {
    private Timeouts() {}

    /** What a backend allocates once to hold its timeouts. */
    static final MemoryLayout LAYOUT = Timespec.LAYOUT;

    /**
     * Writes a timeout in milliseconds into {@code timespec}.
     *
     * @param timespec a segment of {@link #LAYOUT}
     * @param millis   negative for no limit
     * @return {@code timespec}, or NULL (wait without limit) when {@code millis} is negative
     */
    static MemorySegment millis(MemorySegment timespec, int millis) {
        if (millis < 0) {
            return MemorySegment.NULL;
        }
        timespec.set(ValueLayout.JAVA_LONG, Timespec.TV_SEC_OFFSET, millis / 1000);
        timespec.set(ValueLayout.JAVA_LONG, Timespec.TV_NSEC_OFFSET, (millis % 1000) * 1_000_000L);
        return timespec;
    }
}
