package org.ioatom;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import org.ioatom.internal.TimerQueue;

/**
 * A timer: 16 bytes that apps embed in their own native structs, like an {@link IoAtom}, and
 * hand to {@link Timers#schedule} with the enclosing segment and the timer's offset. When the
 * deadline passes, {@link Poller#dispatch()} calls the {@link TimerHandler} with that same
 * segment. A struct may hold several timers (an idle timeout and a write deadline, say).
 *
 * <pre>{@code
 * static final StructLayout CONN = MemoryLayout.structLayout(
 *         IoAtom.LAYOUT.withName("io"),
 *         IoTimer.LAYOUT.withName("idle"));
 * static final long IDLE = CONN.byteOffset(MemoryLayout.PathElement.groupElement("idle"));
 *
 * poller.timers().scheduleAfter(conn, IDLE, TimeUnit.SECONDS.toNanos(30), owner -> close(owner));
 * }</pre>
 *
 * <pre>
 *  0                 8        12       16
 *  +--------+--------+--------+--------+
 *  | deadline (ns)   | entry+1| poller |
 *  +--------+--------+--------+--------+
 * </pre>
 * {@code deadline} is on the {@link System#nanoTime()} clock (Linux's {@code CLOCK_MONOTONIC});
 * the last two words are the poller's bookkeeping. Memory that is all zeros is an unscheduled
 * timer, so {@code arena.allocate} needs no init call.
 */
public final class IoTimer {
    private IoTimer() {}

    /** The layout to embed: a {@code long} and two {@code int}s, 16 bytes, 8-byte aligned. */
    public static final StructLayout LAYOUT = TimerQueue.LAYOUT;

    /** {@code LAYOUT.byteSize()}. */
    public static final long SIZE = 16;

    /** Rejects memory a timer cannot live in, before anything is written. */
    static void checkMemory(MemorySegment owner, long offset) {
        Objects.requireNonNull(owner, "owner");
        if (!owner.isNative()) {
            throw new IllegalArgumentException("timer memory must be native (allocated from an Arena), not a heap segment");
        }
        if (owner.isReadOnly()) {
            throw new IllegalArgumentException("timer memory is read-only");
        }
        if (offset < 0 || offset > owner.byteSize() - SIZE) {
            throw new IllegalArgumentException("a timer (" + SIZE + " bytes) at offset " + offset
                    + " does not fit in a segment of " + owner.byteSize() + " bytes");
        }
        if (((owner.address() + offset) & 7) != 0) {
            throw new IllegalArgumentException("timer at address 0x" + Long.toHexString(owner.address() + offset)
                    + " is not 8-byte aligned");
        }
    }

    /**
     * Returns whether the timer at {@code offset} of {@code owner} is scheduled with a poller.
     *
     * @param owner  the app's struct
     * @param offset the timer's offset inside it
     * @return true from {@code schedule} until it runs or is cancelled
     */
    public static boolean isScheduled(MemorySegment owner, long offset) {
        return owner.get(ValueLayout.JAVA_INT, offset + TimerQueue.POLLER) != 0;
    }

    /**
     * Returns the deadline the timer was last scheduled for.
     *
     * @param owner  the app's struct
     * @param offset the timer's offset inside it
     * @return a {@link System#nanoTime()} value; meaningful while {@link #isScheduled} is true
     */
    public static long deadline(MemorySegment owner, long offset) {
        return owner.get(ValueLayout.JAVA_LONG, offset + TimerQueue.DEADLINE);
    }
}
