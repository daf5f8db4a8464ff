package org.ioatom;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import org.ioatom.internal.Ownership;
import org.ioatom.internal.TimerQueue;

/**
 * A poller's timers ({@link Poller#timers()}): deadlines on the {@link System#nanoTime()} clock
 * for {@link IoTimer}s embedded in the app's own structs. Capacity is fixed when the poller opens
 * ({@link Poller#open(PollerKind, int, int)}); the queue's memory follows the most timers
 * scheduled at once (room for 64, doubled when a {@code schedule} needs more). Apart from that
 * growth, scheduling, cancelling and expiring allocate nothing and cost O(log n) (a 4-ary heap:
 * about 10 levels at a million timers).
 *
 * <pre>{@code
 * Timers timers = poller.timers();
 * timers.scheduleAfter(conn, IDLE, TimeUnit.SECONDS.toNanos(30), owner -> closeIdle(owner));
 * ...
 * timers.scheduleAfter(conn, IDLE, TimeUnit.SECONDS.toNanos(30), idleHandler); // activity: moves it
 * timers.cancel(conn, IDLE);                                                    // before freeing conn
 * }</pre>
 *
 * <h2>When timers run</h2>
 * {@link Poller#await} returns at the earliest of: events, its own timeout, the next deadline,
 * {@link Poller#wakeup()}; a signal (EINTR) does not end it early, the wait goes on for the time
 * left. {@link Poller#dispatch()} first calls the I/O handlers of the batch, then the timers whose
 * deadline is at or before the loop time ({@link Poller#now()}, read once per {@code await}),
 * earliest deadline first, equal deadlines in the order they were scheduled. So a handler that
 * sees activity in the same batch can still push an idle timer back before it runs.
 *
 * <ul>
 *   <li><b>Never early.</b> A timer runs only once {@code System.nanoTime()} has passed its
 *       deadline. How late: the wait's granularity (nanoseconds for epoll through
 *       {@code epoll_pwait2}, poll, select and kqueue; whole milliseconds rounded up on kernels
 *       before 5.11), plus the kernel's timer slack (the thread's slack, 50 µs by default, or
 *       0.1 % of the wait when that is larger, at most 100 ms), plus scheduling delay and the
 *       handlers that run first.</li>
 *   <li><b>Cancel wins.</b> A timer cancelled (or moved later) by an earlier handler of the same
 *       dispatch does not run, even if it was already due.</li>
 *   <li>A timer scheduled during a dispatch for a deadline already passed runs in the next
 *       dispatch, not in this one (its deadline becomes the loop time + 1 ns), so a handler that
 *       reschedules itself for "now" cannot starve the loop.</li>
 *   <li>A timer is unscheduled before its handler runs: the handler may schedule it again
 *       (periodic timers) or free its memory.</li>
 *   <li>A handler that throws ends the dispatch like a throwing I/O handler: that timer is
 *       consumed, the ones not yet run stay due, and the next {@code await} returns at once.</li>
 *   <li>A timer whose memory's arena was closed while it was scheduled is dropped with a warning
 *       when it comes due (cancel timers before freeing their memory).</li>
 * </ul>
 *
 * <p>Like the rest of the poller, timers belong to the thread that holds it: call these methods
 * from the loop thread or from handlers; another thread hands work to the loop instead.
 */
public final class Timers {
    private final Ownership ownership;
    private final TimerQueue<TimerHandler> queue;
    /** Loop time: read once per await. */
    long now;
    /** True while dispatch runs handlers: deadlines already passed move to now + 1. */
    boolean dispatching;

    Timers(Ownership ownership, TimerQueue<TimerHandler> queue) {
        this.ownership = ownership;
        this.queue = queue;
        this.now = System.nanoTime();
    }

    /**
     * Schedules the timer at {@code offset} of {@code owner} for an absolute deadline, or moves
     * it there if it is already scheduled with this poller.
     *
     * @param owner         the app's struct, native and writable
     * @param offset        where the {@link IoTimer} sits in it, 8-byte aligned
     * @param deadlineNanos a {@link System#nanoTime()} value
     * @param handler       called with {@code owner} once the deadline has passed
     * @throws IllegalStateException    if every timer entry is in use, the timer is scheduled with
     *                                  another poller, another thread holds the poller, or it is closed
     * @throws IllegalArgumentException if the memory is not native and writable, or the timer does
     *                                  not fit or is misaligned
     * @throws NullPointerException     if {@code owner} or {@code handler} is null
     */
    public void schedule(MemorySegment owner, long offset, long deadlineNanos, TimerHandler handler) {
        Objects.requireNonNull(handler, "handler");
        boolean entered = ownership.enter("schedule");
        try {
            ownership.checkOpen();
            IoTimer.checkMemory(owner, offset);
            long deadline = dispatching && deadlineNanos <= now ? now + 1 : deadlineNanos;
            queue.schedule(owner, offset, deadline, handler);
        } finally {
            ownership.exit(entered);
        }
    }

    /**
     * Schedules the timer {@code delayNanos} from now: from the time of this call, not from the
     * loop time, which may be stale.
     *
     * @param owner      the app's struct
     * @param offset     where the {@link IoTimer} sits in it
     * @param delayNanos 0 or more
     * @param handler    called with {@code owner} once the delay has passed
     * @throws IllegalArgumentException if {@code delayNanos} is negative (and see {@link #schedule})
     */
    public void scheduleAfter(MemorySegment owner, long offset, long delayNanos, TimerHandler handler) {
        if (delayNanos < 0) {
            throw new IllegalArgumentException("delay must be 0 or more, got " + delayNanos);
        }
        long start = System.nanoTime();
        long deadline = start + delayNanos;
        schedule(owner, offset, deadline < start ? Long.MAX_VALUE : deadline, handler); // saturates
    }

    /**
     * Cancels the timer at {@code offset} of {@code owner}.
     *
     * @param owner  the app's struct
     * @param offset where the {@link IoTimer} sits in it
     * @return true if it was scheduled (it will not run), false if it was not scheduled
     * @throws IllegalStateException if it is scheduled with another poller, another thread holds
     *                               the poller, or it is closed
     */
    public boolean cancel(MemorySegment owner, long offset) {
        boolean entered = ownership.enter("cancel");
        try {
            ownership.checkOpen();
            IoTimer.checkMemory(owner, offset);
            return queue.cancel(owner, offset);
        } finally {
            ownership.exit(entered);
        }
    }

    /** {@return how many timers are scheduled} */
    public int size() {
        return queue.size();
    }

    /** {@return the most timers that can be scheduled at once} */
    public int capacity() {
        return queue.capacity();
    }

    /** {@return how many timers are due at the loop time} */
    int due() {
        return queue.countDue(now);
    }

    /** {@return the earliest deadline, or {@link Long#MAX_VALUE}} */
    long nextDeadline() {
        return queue.nextDeadline();
    }

    /**
     * Runs the timers due at the loop time, one at a time, until none is due, the poller closes,
     * or a handler throws.
     *
     * @return how many handlers were called
     * @throws HandlerException wrapping what a handler threw
     */
    int runDue() throws IOException {
        int calls = 0;
        while (!ownership.isClosed() && queue.pollDue(now)) {
            MemorySegment owner = queue.firedOwner();
            TimerHandler handler = queue.firedHandler();
            calls++;
            try {
                handler.onTimer(owner);
            } catch (IOException | RuntimeException e) {
                throw new HandlerException(HandlerException.Source.TIMER, -1, owner, queue.firedOffset(), e);
            }
        }
        return calls;
    }

    /** Forgets every timer (the poller is closing). */
    void clear() {
        queue.clear();
    }
}
