package org.ioatom;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Receives the events of one atom. Called from {@link Poller#dispatch()} on the polling thread.
 *
 * <p>The handler must move data until the call would block (read or write to exhaustion): the
 * poller is edge-triggered and reports a condition once, not once per {@code wait}.
 */
@FunctionalInterface
public interface IoHandler {
    /**
     * Handles the events of one atom.
     *
     * @param owner  the very segment that was passed to {@link Poller#add}: the app's own struct,
     *               with the atom at the offset it was added with
     * @param events a non-empty set of {@link IoAtom#READ}, {@link IoAtom#WRITE},
     *               {@link IoAtom#HUP}, {@link IoAtom#ERROR}
     * @throws IOException to end this dispatch early: {@link Poller#dispatch()} throws it wrapped in a
     *                     {@link HandlerException} (an unchecked exception alike) after consuming only this event; the rest of
     *                     the batch stays queued for the next {@code dispatch()}, so nothing is lost
     */
    void onEvents(MemorySegment owner, int events) throws IOException;
}
