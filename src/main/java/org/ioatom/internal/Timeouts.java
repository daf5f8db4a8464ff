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
     * Writes a timeout in nanoseconds into {@code timespec}.
     *
     * @param timespec a segment of {@link #LAYOUT}
     * @param nanos    negative for no limit
     * @return {@code timespec}, or NULL (wait without limit) when {@code nanos} is negative
     */
    static MemorySegment nanos(MemorySegment timespec, long nanos) {
        if (nanos < 0) {
            return MemorySegment.NULL;
        }
        timespec.set(ValueLayout.JAVA_LONG, Timespec.TV_SEC_OFFSET, nanos / 1_000_000_000L);
        timespec.set(ValueLayout.JAVA_LONG, Timespec.TV_NSEC_OFFSET, nanos % 1_000_000_000L);
        return timespec;
    }

    /**
     * A timeout in whole milliseconds for the calls that take no finer one, rounded up so that
     * the wait never ends before the time asked.
     *
     * @param nanos negative for no limit
     * @return -1 for no limit, else the milliseconds, at most {@link Integer#MAX_VALUE}
     */
    static int millisRoundedUp(long nanos) {
        if (nanos < 0) {
            return -1;
        }
        return (int) Math.min(Integer.MAX_VALUE, (nanos + 999_999) / 1_000_000);
    }
}
