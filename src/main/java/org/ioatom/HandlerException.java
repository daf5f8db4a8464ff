package org.ioatom;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * A handler, timer handler or handed-off task threw inside {@link Poller#dispatch()}. Tells
 * which one: the atom's file descriptor and owner for an {@link IoHandler}, the owner (fd -1)
 * for a {@link TimerHandler}, neither (fd -1, owner null) for a task given to
 * {@link Poller#execute}. {@link #getCause()} is what the handler threw, checked or unchecked
 * ({@link Error}s are not wrapped: they pass through as they are).
 *
 * <pre>{@code
 * try {
 *     poller.dispatch();
 * } catch (HandlerException e) {
 *     log("handler for fd " + e.fd() + " failed", e.getCause());
 *     if (e.owner() != null && e.fd() >= 0) {
 *         poller.remove(e.owner(), e.atomOffset());
 *         closeConnection(e.owner());
 *     }
 * }
 * }</pre>
 */
public final class HandlerException extends IOException {
    private static final long serialVersionUID = 1L;

    /** What kind of code failed. */
    public enum Source {
        /** An {@link IoHandler}. */
        ATOM,
        /** A {@link TimerHandler}. */
        TIMER,
        /** A task given to {@link Poller#execute}. */
        TASK
    }

    /** Which kind of code threw. */
    private final Source source;
    /** The atom's file descriptor, or -1. */
    private final int fd;
    /** The handler's segment; not serialized (native memory means nothing in another process). */
    private final transient MemorySegment owner;
    /** Where the atom or timer sits in the owner, or -1. */
    private final long atomOffset;

    HandlerException(Source source, int fd, MemorySegment owner, long atomOffset, Throwable cause) {
        super(describe(source, fd, cause), cause);
        this.source = source;
        this.fd = fd;
        this.owner = owner;
        this.atomOffset = atomOffset;
    }

    private static String describe(Source source, int fd, Throwable cause) {
        String who = switch (source) {
            case ATOM -> "handler of atom fd=" + fd;
            case TIMER -> "timer handler";
            case TASK -> "handed-off task";
        };
        return who + " threw " + cause;
    }

    /** {@return which kind of code threw} */
    public Source source() {
        return source;
    }

    /** {@return the failed atom's file descriptor, or -1 for a timer or task} */
    public int fd() {
        return fd;
    }

    /** {@return the segment the handler was called with (the atom's or timer's owner), or null for a task} */
    public MemorySegment owner() {
        return owner;
    }

    /** {@return where the atom or timer sits in {@link #owner()}, or -1 for a task} */
    public long atomOffset() {
        return atomOffset;
    }
}
