package org.ioatom;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Runs when a timer's deadline has passed. Called from {@link Poller#dispatch()} on the polling
 * thread, after the timer was unscheduled, so the handler may schedule it again (a periodic
 * timer) or let it go.
 */
@FunctionalInterface
public interface TimerHandler {
    /**
     * Handles an expired timer.
     *
     * @param owner the very segment passed to {@link Timers#schedule}: the app's struct
     * @throws IOException to abandon the rest of the batch; {@link Poller#dispatch()} throws it wrapped
     *                     in a {@link HandlerException}
     *                     and the timers and events not yet run stay queued
     */
    void onTimer(MemorySegment owner) throws IOException;
}
