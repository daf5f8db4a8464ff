package org.ioatom.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Which thread holds a poller, and how it closes: the poller's threading contract, apart from
 * what the poller does.
 *
 * <p>A call that touches the poller's state enters first and exits when done. Entering is one
 * compare-and-set of {@link #holder}, exiting one volatile write; together they order the
 * poller's plain fields between successive threads, so a loop can move from thread to thread.
 * A second thread that tries to enter while one holds the poller is refused at once with an
 * {@link IllegalStateException} naming the holder: nothing waits, nothing changes. The holder
 * may enter again through {@link #enter} (a handler calling {@code add}), but not through
 * {@link #enterTop} ({@code await} and {@code dispatch} do not nest).
 *
 * <p>{@link #close()} may come from any thread. The resources are released exactly once, by
 * the thread that holds the poller at that moment or that takes it free: if another thread is
 * inside (say blocked in a wait), close wakes it and returns, and that thread releases the
 * resources when it exits, when no system call of its own still uses them.
 */
public final class Ownership {
    private static final VarHandle HOLDER;
    private static final VarHandle CLOSED;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HOLDER = lookup.findVarHandle(Ownership.class, "holder", Thread.class);
            CLOSED = lookup.findVarHandle(Ownership.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Releases the poller's resources; run once, by a thread that holds the poller. */
    private final Runnable tearDown;
    /** Ends a wait of the holder; called by close() from another thread. */
    private final Runnable wakeHolder;
    /** The thread inside the poller, or null. */
    private volatile Thread holder;
    /** Set once by close(). */
    private volatile boolean closed;
    /** Written only by a thread that holds the poller. */
    private boolean tornDown;

    /**
     * Creates the protocol for one poller.
     *
     * @param tearDown   releases the poller's resources (called once, with the poller held)
     * @param wakeHolder makes the holder's wait return (called from close on another thread)
     */
    public Ownership(Runnable tearDown, Runnable wakeHolder) {
        this.tearDown = tearDown;
        this.wakeHolder = wakeHolder;
    }

    /** {@return whether close() was called} */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Throws if close() was called.
     *
     * @throws IllegalStateException "poller is closed"
     */
    public void checkOpen() {
        if (closed) {
            throw new IllegalStateException("poller is closed");
        }
    }

    /**
     * Enters for a call that may also come from a handler ({@code add}, {@code set},
     * {@code remove}).
     *
     * @param call the public method's name, for the message
     * @return true if entered here (pass it to {@link #exit}), false if this thread already held the poller
     * @throws IllegalStateException if another thread holds the poller
     */
    public boolean enter(String call) {
        Thread me = Thread.currentThread();
        if (holder == me) {
            // From a handler (the common case in a server): only this thread can change that,
            // so a plain read answers it without the locked compare-and-set.
            return false;
        }
        while (true) {
            if (HOLDER.compareAndSet(this, (Thread) null, me)) {
                return true;
            }
            Thread h = holder;
            if (h == me) {
                return false;
            }
            if (h != null) {
                throw inUse(call, h);
            }
            // Released between the two reads: try again.
        }
    }

    /**
     * Exits after {@link #enter}.
     *
     * @param entered what {@link #enter} returned
     */
    public void exit(boolean entered) {
        if (entered) {
            exitTop();
        }
    }

    /**
     * Enters for a call that must not nest ({@code await}, {@code dispatch}).
     *
     * @param call             the public method's name, for the message
     * @param reentrantMessage the message when the holder itself calls (from a handler)
     * @throws IllegalStateException if closed, if another thread holds the poller, or if this one does
     */
    public void enterTop(String call, String reentrantMessage) {
        checkOpen();
        Thread me = Thread.currentThread();
        while (!HOLDER.compareAndSet(this, (Thread) null, me)) {
            Thread h = holder;
            if (h == me) {
                throw new IllegalStateException(reentrantMessage);
            }
            if (h != null) {
                throw inUse(call, h);
            }
        }
        if (closed) {
            // close() ran between checkOpen and the claim, or left the teardown to us.
            exitTop();
            throw new IllegalStateException("poller is closed");
        }
    }

    /** Exits after {@link #enterTop}, finishing a close that another thread asked for meanwhile. */
    public void exitTop() {
        if (closed && !tornDown) {
            // Closed from another thread while this one held the poller: finish the close here,
            // now that no system call of this thread uses the poller's memory.
            tearDownOnce();
        }
        holder = null;
        if (closed && !tornDown) {
            finishCloseIfFree();
        }
    }

    /**
     * Marks the poller closed and releases its resources now or, if another thread holds it,
     * makes that thread do so on its way out. Idempotent; never waits.
     */
    public void close() {
        if (!CLOSED.compareAndSet(this, false, true)) {
            return;
        }
        Thread me = Thread.currentThread();
        if (HOLDER.compareAndSet(this, (Thread) null, me)) {
            try {
                tearDownOnce();
            } finally {
                holder = null;
            }
        } else if (holder == me) {
            // From a handler: the caller (dispatch) sees closed and stops after this handler.
            tearDownOnce();
        } else {
            // Another thread is inside; it sees closed on its way out (exitTop).
            wakeHolder.run();
            finishCloseIfFree();
        }
    }

    /** Called with the poller held. */
    private void tearDownOnce() {
        if (!tornDown) {
            tornDown = true;
            tearDown.run();
        }
    }

    /**
     * After close was requested: tears down if no thread holds the poller. Whoever releases the
     * poller last after {@code closed} was set gets here, so the teardown is never missed: an
     * exiting thread writes holder = null and then reads closed, close() writes closed and then
     * tries to claim (both volatile), so at least one of them sees the other.
     */
    private void finishCloseIfFree() {
        if (closed && HOLDER.compareAndSet(this, (Thread) null, Thread.currentThread())) {
            try {
                tearDownOnce();
            } finally {
                holder = null;
            }
        }
    }

    private IllegalStateException inUse(String call, Thread h) {
        if (closed) {
            return new IllegalStateException("poller is closed");
        }
        return new IllegalStateException(call + "() from thread \"" + Thread.currentThread().getName()
                + "\" while thread \"" + h.getName()
                + "\" is using the poller: a poller is used by one thread at a time (only wakeup() and close() "
                + "may be called from any thread)");
    }
}
