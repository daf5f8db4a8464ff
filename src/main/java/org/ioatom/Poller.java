package org.ioatom;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.ioatom.internal.Backend;
import org.ioatom.internal.Backends;
import org.ioatom.internal.ReadyBatch;
import org.ioatom.internal.Waker;

/**
 * Watches atoms for readiness and calls their handlers: IO Atom's {@code io_wait} and
 * {@code io_dispatch}, over epoll, kqueue, poll or select.
 *
 * <pre>{@code
 * try (Poller poller = Poller.open()) {          // -Dioatom.poller=any|epoll|kqueue|poll|select
 *     poller.add(conn, IO, IoAtom.READ, handler);
 *     while (running) {
 *         poller.await(1000);                     // gather events
 *         updateClock();                          // app state the handlers will see
 *         poller.dispatch();                      // call handlers
 *     }
 * }
 * }</pre>
 *
 * <h2>Edge-triggered contract</h2>
 * A condition is reported once per change: after READ, read until the call would block; after
 * WRITE, write until it would block or you run out of data. poll and select are level-triggered
 * underneath and may report a condition again (a spurious event, harmless); code written for
 * the edge-triggered contract runs unchanged on all four. Keep WRITE interest only while there is
 * unsent data: on poll and select a writable socket with WRITE interest makes every wait return
 * at once.
 *
 * <h2>Events</h2>
 * Handlers get a non-empty subset of READ, WRITE, HUP, ERROR. HUP and ERROR come with the
 * READ/WRITE bits the atom is registered for, so code that only looks at READ and WRITE still
 * meets the condition in its next read or write. An atom registered with no interest (0) gets
 * nothing.
 *
 * <h2>Changes during dispatch</h2>
 * Handlers may add, set and remove atoms, any atoms. An atom removed earlier in a batch never
 * gets its pending event; an atom added during a batch (even on a just-closed and reused file
 * descriptor, even in the same slot) is not called in that batch; after {@code set}, pending
 * events the atom no longer asks for are dropped.
 *
 * <h2>Failures</h2>
 * If a handler throws, {@code dispatch()} rethrows after consuming that one event; the rest of
 * the batch stays queued: the next {@code dispatch()} delivers it, and {@code await} returns at
 * once while any of it remains. Nothing is lost and the poller stays usable. System-call failures
 * are {@link IoException}s; misuse (double add, unknown atom, bad memory, closed poller) is an
 * {@link IllegalArgumentException} or {@link IllegalStateException} that leaves the poller as it
 * was.
 *
 * <h2>Memory</h2>
 * All memory is reserved at open: {@code await}, {@code dispatch}, {@code add}, {@code set} and
 * {@code remove} allocate nothing on the Java heap. Remove an atom before closing its file
 * descriptor or the arena of its memory (the poller drops registrations whose memory is gone
 * instead of calling their handler).
 *
 * <h2>Threads</h2>
 * A poller is used by one thread at a time. {@code await}, {@code dispatch}, {@code add},
 * {@code set} and {@code remove} each claim the poller for their duration (one atomic
 * compare-and-set, no allocation); handlers run inside {@code dispatch}, so they may call
 * {@code add}, {@code set}, {@code remove} and {@code close} freely. A call from a second thread
 * while another thread is inside one of those methods throws {@link IllegalStateException}
 * naming that thread, and changes nothing: it never waits and never corrupts the batch or the
 * slot table. Calls that do not overlap may come from different threads (claiming and releasing
 * the poller order them), so a loop can be handed from one thread to another.
 *
 * <p>{@link #wakeup()}, {@link #isOpen()} and {@link #close()} may be called from any thread.
 * {@code close()} from another thread while the polling thread is inside {@code await} or
 * {@code dispatch} marks the poller closed, wakes the wait and returns at once; the polling
 * thread releases the OS resources before its call returns: {@code await} then returns 0 and
 * {@code dispatch} stops after the running handler. The next call on the poller throws
 * {@link IllegalStateException} ("poller is closed"), so loops test {@link #isOpen()}. Nothing
 * is freed while a system call still uses it.
 */
public final class Poller implements AutoCloseable {
    /** Atoms a poller holds when no capacity is given. */
    public static final int DEFAULT_CAPACITY = 4096;
    /** The largest capacity {@link #open(PollerKind, int)} accepts. */
    public static final int MAX_CAPACITY = 1 << 24;

    private static final System.Logger LOG = System.getLogger("org.ioatom");
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final long FD = IoAtom.FD;
    private static final long EVENTS = IoAtom.EVENTS;
    private static final long SLOT = IoAtom.SLOT;
    private static final long POLLER = IoAtom.POLLER;
    private static final int INTEREST_BITS = IoAtom.READ | IoAtom.WRITE;
    private static final int CONDITION_BITS = IoAtom.HUP | IoAtom.ERROR;

    private final PollerKind kind;
    private final int capacity;
    /** Written into registered atoms: tells this poller's atoms from another's. Never 0. */
    private final int id;
    private final Arena arena;
    private final Backend backend;
    private final ReadyBatch ready;
    private final Waker waker;
    /** The slot after the app's slots, registered for the waker's fd. */
    private final int wakerSlot;
    private final Object wakeLock = new Object();
    private boolean wakePending;

    // The slot table: one entry per registration, reserved at open.
    private final MemorySegment[] owners;
    private final long[] offsets;
    private final IoHandler[] handlers;
    private final int[] fds;
    private final int[] interests;
    /** Bumped when a slot is freed, so events gathered for the old registration are stale. */
    private final int[] generations;
    private final int[] freeSlots;
    private int freeTop;
    private int size;
    /**
     * slot + 1 for each registered fd, 0 where none. Sized at open for fds up to capacity + 1024,
     * it grows (allocates) only when a larger fd is first registered.
     */
    private int[] slotByFd;

    private volatile boolean closed;
    /** Set by whoever releases the OS resources, while holding the poller (see {@link #busy}). */
    private boolean tornDown;
    /** Guarded by wakeLock: the waker's fd is closed, signal no more. */
    private boolean wakerClosed;
    /**
     * The thread inside await, dispatch, add, set, remove or the teardown, or null. Claimed with
     * a compare-and-set, released with a volatile write; both order the poller's plain fields
     * between successive threads.
     */
    private volatile Thread busy;
    private static final VarHandle BUSY;

    static {
        try {
            BUSY = MethodHandles.lookup().findVarHandle(Poller.class, "busy", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Poller(PollerKind kind, int capacity) throws IoException {
        this.kind = kind;
        this.capacity = capacity;
        int id;
        do {
            id = IDS.incrementAndGet();
        } while (id == 0);
        this.id = id;
        int slots = capacity + 1;
        owners = new MemorySegment[slots];
        offsets = new long[slots];
        handlers = new IoHandler[slots];
        fds = new int[slots];
        interests = new int[slots];
        generations = new int[slots];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeTop = capacity;
        slotByFd = new int[capacity + 1024];
        wakerSlot = capacity;
        arena = Arena.ofShared();
        Backend b = null;
        Waker w = null;
        try {
            b = Backends.open(kind, arena, slots);
            w = Waker.open(arena);
            b.register(w.fd(), wakerSlot, 0, IoAtom.READ);
            mapFd(w.fd(), wakerSlot);
        } catch (IoException | RuntimeException e) {
            if (w != null) {
                w.close();
            }
            if (b != null) {
                b.close();
            }
            arena.close();
            throw e;
        }
        backend = b;
        waker = w;
        ready = b.ready();
        LOG.log(System.Logger.Level.DEBUG, "opened {0} poller #{1}, capacity {2}", b.name(), id, capacity);
    }

    /**
     * Opens a poller of the kind named by {@code -Dioatom.poller} (default {@code any}) with
     * {@link #DEFAULT_CAPACITY}.
     *
     * @return a new poller
     * @throws IoException              if the OS refuses
     * @throws IllegalArgumentException if the property names no kind (the message lists them)
     * @throws UnsupportedOperationException if the kind is not available on this OS
     */
    public static Poller open() throws IoException {
        return open(PollerKind.fromProperty(), DEFAULT_CAPACITY);
    }

    /**
     * Opens a poller of the given kind with room for {@code capacity} atoms.
     *
     * @param kind     the mechanism, or {@link PollerKind#ANY} for the best available
     * @param capacity how many atoms it can hold at once, 1 to {@link #MAX_CAPACITY}
     * @return a new poller
     * @throws IoException                   if the OS refuses
     * @throws UnsupportedOperationException if the kind is not available here (the message says why)
     */
    public static Poller open(PollerKind kind, int capacity) throws IoException {
        Objects.requireNonNull(kind, "kind");
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be 1 to " + MAX_CAPACITY + ", got " + capacity);
        }
        return new Poller(kind.resolve(), capacity);
    }

    /**
     * Returns the mechanism in use (never {@link PollerKind#ANY}).
     *
     * @return the mechanism in use (never {@link PollerKind#ANY})
     */
    public PollerKind kind() {
        return kind;
    }

    /**
     * Returns the mechanism's name, e.g. {@code epoll}, as in "Using epoll to poll.".
     *
     * @return the mechanism's name, e.g. {@code epoll}, as in "Using epoll to poll."
     */
    public String name() {
        return backend.name();
    }

    /**
     * Returns how many atoms this poller can hold.
     *
     * @return how many atoms this poller can hold
     */
    public int capacity() {
        return capacity;
    }

    /**
     * Returns how many atoms are registered.
     *
     * @return how many atoms are registered
     */
    public int size() {
        return size;
    }

    /**
     * Returns false once {@link #close()} was called.
     *
     * @return false once {@link #close()} was called
     */
    public boolean isOpen() {
        return !closed;
    }

    /**
     * Registers the atom at offset 0 of {@code atom}; see {@link #add(MemorySegment, long, int, IoHandler)}.
     *
     * @param atom    memory starting with an initialised {@link IoAtom}
     * @param events  {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0
     * @param handler called with {@code atom} when events arrive
     * @throws IOException if the OS refuses
     */
    public void add(MemorySegment atom, int events, IoHandler handler) throws IOException {
        add(atom, 0, events, handler);
    }

    /**
     * Registers the atom at {@code offset} of {@code owner}: from now on its events reach
     * {@code handler}, which receives {@code owner} itself.
     *
     * @param owner   the app's struct, native and writable
     * @param offset  where the {@link IoAtom} (initialised with {@link IoAtom#init}) sits in it, 4-byte aligned
     * @param events  {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0 to register silently
     * @param handler called with {@code owner} when events arrive
     * @throws IoException              if the OS refuses (e.g. a closed fd: EBADF)
     * @throws IllegalStateException    if the atom is already registered, the fd is registered through another
     *                                  atom, the poller is full or closed
     * @throws IllegalArgumentException for bad memory, flags or an fd this mechanism cannot watch
     */
    public void add(MemorySegment owner, long offset, int events, IoHandler handler) throws IOException {
        boolean claimed = claim("add");
        try {
            addClaimed(owner, offset, events, handler);
        } finally {
            release(claimed);
        }
    }

    private void addClaimed(MemorySegment owner, long offset, int events, IoHandler handler) throws IOException {
        checkOpen();
        Objects.requireNonNull(handler, "handler");
        checkAtom(owner, offset);
        checkEvents(events);
        int fd = owner.get(ValueLayout.JAVA_INT, offset + FD);
        if (fd < 0) {
            throw new IllegalArgumentException("atom has no file descriptor (fd=" + fd + "); call IoAtom.init first");
        }
        int tag = owner.get(ValueLayout.JAVA_INT, offset + POLLER);
        if (tag != 0) {
            throw new IllegalStateException("atom (fd=" + fd + ") is already registered with "
                    + (tag == id ? "this poller" : "another poller") + "; remove it first");
        }
        if (size == capacity) {
            throw new IllegalStateException("poller is full: " + capacity + " atoms (set a larger capacity in "
                    + "Poller.open(kind, capacity))");
        }
        int existing = slotOf(fd);
        if (existing >= 0 && !owners[existing].scope().isAlive()) {
            dropDead(existing);
            existing = -1;
        }
        if (existing >= 0) {
            throw new IllegalStateException("fd " + fd + " is already registered through another atom "
                    + "(remove an atom before closing its fd)");
        }
        backend.checkFd(fd);
        int slot = freeSlots[--freeTop];
        try {
            backend.register(fd, slot, generations[slot], events);
        } catch (IoException | RuntimeException e) {
            freeTop++;
            throw e;
        }
        owners[slot] = owner;
        offsets[slot] = offset;
        handlers[slot] = handler;
        fds[slot] = fd;
        interests[slot] = events;
        mapFd(fd, slot);
        size++;
        owner.set(ValueLayout.JAVA_INT, offset + EVENTS, events);
        owner.set(ValueLayout.JAVA_INT, offset + SLOT, slot + 1);
        owner.set(ValueLayout.JAVA_INT, offset + POLLER, id);
    }

    /**
     * Changes what the atom at offset 0 of {@code atom} is watched for; see
     * {@link #set(MemorySegment, long, int)}.
     *
     * @param atom   memory starting with a registered {@link IoAtom}
     * @param events {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0
     * @throws IOException if the OS refuses
     */
    public void set(MemorySegment atom, int events) throws IOException {
        set(atom, 0, events);
    }

    /**
     * Changes what a registered atom is watched for. Setting the current interest again costs
     * no system call. With epoll, enabling a condition that already holds reports it again.
     *
     * @param owner  the app's struct, as given to {@code add}
     * @param offset where the atom sits in it
     * @param events {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0 to pause the atom
     * @throws IoException           if the OS refuses
     * @throws IllegalStateException if the atom is not registered with this poller
     */
    public void set(MemorySegment owner, long offset, int events) throws IOException {
        boolean claimed = claim("set");
        try {
            setClaimed(owner, offset, events);
        } finally {
            release(claimed);
        }
    }

    private void setClaimed(MemorySegment owner, long offset, int events) throws IOException {
        checkOpen();
        checkAtom(owner, offset);
        checkEvents(events);
        int slot = slotOf(owner, offset);
        if (interests[slot] == events) {
            return;
        }
        backend.modify(fds[slot], slot, generations[slot], events);
        interests[slot] = events;
        owner.set(ValueLayout.JAVA_INT, offset + EVENTS, events);
    }

    /**
     * Unregisters the atom at offset 0 of {@code atom}; see {@link #remove(MemorySegment, long)}.
     *
     * @param atom memory starting with a registered {@link IoAtom}
     * @throws IOException if the OS refuses
     */
    public void remove(MemorySegment atom) throws IOException {
        remove(atom, 0);
    }

    /**
     * Unregisters an atom: its handler is not called again, not even for events already
     * gathered. Call it before closing the atom's fd. Removing after the fd was closed is
     * tolerated.
     *
     * @param owner  the app's struct, as given to {@code add}
     * @param offset where the atom sits in it
     * @throws IoException           if the OS refuses
     * @throws IllegalStateException if the atom is not registered with this poller
     */
    public void remove(MemorySegment owner, long offset) throws IOException {
        boolean claimed = claim("remove");
        try {
            removeClaimed(owner, offset);
        } finally {
            release(claimed);
        }
    }

    private void removeClaimed(MemorySegment owner, long offset) throws IOException {
        checkOpen();
        Objects.requireNonNull(owner, "owner");
        if (!owner.scope().isAlive()) {
            removeDead(owner, offset);
            return;
        }
        checkAtom(owner, offset);
        int slot = slotOf(owner, offset);
        try {
            backend.deregister(fds[slot], slot);
        } finally {
            free(slot);
            owner.set(ValueLayout.JAVA_INT, offset + EVENTS, 0);
            owner.set(ValueLayout.JAVA_INT, offset + SLOT, 0);
            owner.set(ValueLayout.JAVA_INT, offset + POLLER, 0);
        }
    }

    /**
     * Waits until an atom has events, the timeout passes, or {@link #wakeup()} is called, and
     * gathers the events for {@link #dispatch()}. If a previous batch is not fully dispatched
     * (a handler threw), returns at once with what remains.
     *
     * @param timeoutMillis the longest wait: negative for no limit, 0 to only look
     * @return how many atoms have events: 0 after a timeout, a wake-up or an interrupted system call (EINTR)
     * @throws IoException           if the wait fails
     * @throws IllegalStateException if called from a handler, while another thread uses the poller, or
     *                               after close
     */
    public int await(long timeoutMillis) throws IOException {
        claimTop("await() called from a handler; return from the handler instead", "await");
        try {
            return awaitClaimed(timeoutMillis);
        } finally {
            releaseTop();
        }
    }

    private int awaitClaimed(long timeoutMillis) throws IOException {
        if (ready.cursor < ready.count) {
            return ready.count - ready.cursor;
        }
        ready.clear();
        backend.await(timeoutMillis < 0 ? -1 : (int) Math.min(timeoutMillis, Integer.MAX_VALUE));
        // Take out of the batch the waker's entry, entries already stale (a backend that
        // defers deregistration, like kqueue, can still report an atom removed before this
        // wait) and those of paused atoms (a hang-up or an error is reported whatever the
        // interest); what is left is the app's.
        int kept = 0;
        for (int i = 0; i < ready.count; i++) {
            int slot = ready.slots[i];
            if (slot == wakerSlot) {
                clearWakeup();
            } else if (owners[slot] != null && generations[slot] == ready.generations[i]
                    && interests[slot] != 0) {
                ready.slots[kept] = ready.slots[i];
                ready.generations[kept] = ready.generations[i];
                ready.events[kept] = ready.events[i];
                kept++;
            }
        }
        ready.count = kept;
        if (closed) {
            // Closed by another thread during the wait: the batch is not for anyone any more.
            ready.clear();
            return 0;
        }
        return kept;
    }

    /**
     * Calls the handler of every atom with events gathered by the last {@link #await}. State
     * the app changed since then is what the handlers see.
     *
     * @return how many handlers were called
     * @throws IOException           what a handler threw; the rest of the batch waits for the next dispatch
     * @throws IllegalStateException if called from a handler, while another thread uses the poller, or
     *                               after close
     */
    public int dispatch() throws IOException {
        claimTop("dispatch() is not re-entrant: it was called from a handler", "dispatch");
        int calls = 0;
        try {
            ReadyBatch r = ready;
            while (r.cursor < r.count && !closed) {
                int i = r.cursor++;
                int slot = r.slots[i];
                if (generations[slot] != r.generations[i] || owners[slot] == null) {
                    continue;
                }
                int interest = interests[slot];
                int ev = r.events[i];
                if ((ev & CONDITION_BITS) != 0) {
                    ev |= interest;
                }
                ev &= interest | CONDITION_BITS;
                if (interest == 0 || ev == 0) {
                    continue;
                }
                MemorySegment owner = owners[slot];
                if (!owner.scope().isAlive()) {
                    dropDead(slot);
                    continue;
                }
                calls++;
                handlers[slot].onEvents(owner, ev);
            }
        } finally {
            releaseTop();
        }
        return calls;
    }

    /**
     * Makes a current or the next {@link #await} return. Safe from any thread, including while
     * the poller is closing; several calls before the wait wakes count as one.
     */
    public void wakeup() {
        synchronized (wakeLock) {
            if (!wakePending && !closed) {
                wakePending = true;
                waker.signal();
            }
        }
    }

    /** Ends a wait of the thread that holds the poller, for close(): even after closed is set. */
    private void wakeForClose() {
        synchronized (wakeLock) {
            if (!wakerClosed) {
                wakePending = true;
                waker.signal();
            }
        }
    }

    private void clearWakeup() {
        synchronized (wakeLock) {
            if (!wakerClosed) {
                waker.drain();
            }
            wakePending = false;
        }
    }

    /**
     * Closes the poller and its OS resources. Registered atoms are marked unregistered (where
     * their memory is still alive); their fds stay open. Idempotent. May be called from a
     * handler: dispatch stops after that handler returns. May be called from any thread: if
     * another thread is inside {@code await} or {@code dispatch}, that thread is woken and
     * releases the resources before its call returns (see the class comment, Threads).
     */
    @Override
    public void close() {
        synchronized (wakeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        Thread me = Thread.currentThread();
        if (BUSY.compareAndSet(this, (Thread) null, me)) {
            try {
                tearDown();
            } finally {
                busy = null;
            }
        } else if (busy == me) {
            // From a handler: dispatch reads only Java arrays after this.
            tearDown();
        } else {
            // Another thread is inside the poller; it sees closed on its way out (releaseTop).
            wakeForClose();
            finishCloseIfFree();
        }
    }

    /** Called with the poller held. Releases everything once. */
    private void tearDown() {
        if (tornDown) {
            return;
        }
        tornDown = true;
        for (int slot = 0; slot < capacity; slot++) {
            MemorySegment owner = owners[slot];
            if (owner != null) {
                try {
                    if (owner.scope().isAlive()) {
                        owner.set(ValueLayout.JAVA_INT, offsets[slot] + SLOT, 0);
                        owner.set(ValueLayout.JAVA_INT, offsets[slot] + POLLER, 0);
                    }
                } catch (RuntimeException e) {
                    // Memory confined to another thread: the tag stays, the registration is gone anyway.
                }
            }
        }
        Arrays.fill(owners, null);
        Arrays.fill(handlers, null);
        size = 0;
        backend.close();
        synchronized (wakeLock) {
            wakerClosed = true;
            waker.close();
        }
        // From a handler too: after this, dispatch() reads only Java arrays.
        arena.close();
    }

    /**
     * After close was requested: tears down if no thread holds the poller. Whoever releases the
     * poller last after {@code closed} was set gets here, so the teardown is never missed: a
     * releasing thread writes busy = null and then reads closed, close() writes closed and then
     * tries to claim (both volatile), so at least one of them sees the other.
     */
    private void finishCloseIfFree() {
        if (closed && BUSY.compareAndSet(this, (Thread) null, Thread.currentThread())) {
            try {
                tearDown();
            } finally {
                busy = null;
            }
        }
    }

    // ---- confinement ----

    /**
     * Claims the poller for add, set or remove.
     *
     * @return true if claimed here (release it), false if this thread already holds it (a handler)
     */
    private boolean claim(String call) {
        Thread me = Thread.currentThread();
        if (busy == me) {
            // Called from a handler (the common case in a server): only this thread can change
            // that, so a plain read answers it without the locked compare-and-set.
            return false;
        }
        while (true) {
            if (BUSY.compareAndSet(this, (Thread) null, me)) {
                return true;
            }
            Thread holder = busy;
            if (holder == me) {
                return false;
            }
            if (holder != null) {
                throw inUse(call, holder);
            }
            // Released between the two reads: try again.
        }
    }

    private void release(boolean claimed) {
        if (claimed) {
            releaseTop();
        }
    }

    /** Claims the poller for await or dispatch, which must not nest. */
    private void claimTop(String reentrantMessage, String call) {
        checkOpen();
        Thread me = Thread.currentThread();
        while (!BUSY.compareAndSet(this, (Thread) null, me)) {
            Thread holder = busy;
            if (holder == me) {
                throw new IllegalStateException(reentrantMessage);
            }
            if (holder != null) {
                throw inUse(call, holder);
            }
        }
        if (closed) {
            // close() ran between checkOpen and the claim, or left the teardown to us.
            releaseTop();
            throw new IllegalStateException("poller is closed");
        }
    }

    private void releaseTop() {
        if (closed && !tornDown) {
            // Closed from another thread while this one held the poller: finish the close here,
            // now that no system call of this thread uses the poller's memory.
            tearDown();
        }
        busy = null;
        if (closed && !tornDown) {
            finishCloseIfFree();
        }
    }

    private IllegalStateException inUse(String call, Thread holder) {
        if (closed) {
            return new IllegalStateException("poller is closed");
        }
        return new IllegalStateException(call + "() from thread \"" + Thread.currentThread().getName()
                + "\" while thread \"" + holder.getName()
                + "\" is using the poller: a poller is used by one thread at a time (only wakeup() and close() "
                + "may be called from any thread)");
    }

    @Override
    public String toString() {
        return "Poller[" + kind + " #" + id + ", " + size + "/" + capacity + " atoms" + (closed ? ", closed" : "") + "]";
    }

    // ---- slot table ----

    private int slotOf(int fd) {
        return fd < slotByFd.length ? slotByFd[fd] - 1 : -1;
    }

    private void mapFd(int fd, int slot) {
        if (fd >= slotByFd.length) {
            slotByFd = Arrays.copyOf(slotByFd, Math.max(fd + 1, slotByFd.length * 2));
        }
        slotByFd[fd] = slot + 1;
    }

    /** The slot of a registered atom, or an exception that says why it is not registered here. */
    private int slotOf(MemorySegment owner, long offset) {
        int tag = owner.get(ValueLayout.JAVA_INT, offset + POLLER);
        int slot = owner.get(ValueLayout.JAVA_INT, offset + SLOT) - 1;
        if (tag != id || slot < 0 || slot >= capacity || owners[slot] == null
                || owners[slot].address() + offsets[slot] != owner.address() + offset) {
            throw new IllegalStateException("atom (fd=" + owner.get(ValueLayout.JAVA_INT, offset + FD)
                    + ") is not registered with this poller");
        }
        return slot;
    }

    private void free(int slot) {
        generations[slot]++;
        int fd = fds[slot];
        if (fd < slotByFd.length && slotByFd[fd] == slot + 1) {
            slotByFd[fd] = 0;
        }
        owners[slot] = null;
        handlers[slot] = null;
        fds[slot] = -1;
        interests[slot] = 0;
        freeSlots[freeTop++] = slot;
        size--;
    }

    /** Drops a registration whose memory's arena was closed while it was registered. */
    private void dropDead(int slot) {
        int fd = fds[slot];
        try {
            backend.deregister(fd, slot);
        } catch (IoException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "deregistering fd " + fd + " of a dead atom failed", e);
        } finally {
            free(slot);
        }
        LOG.log(System.Logger.Level.WARNING, "dropped the registration of fd " + fd
                + ": the arena of its atom was closed while registered (remove atoms before closing their arena)");
    }

    private void removeDead(MemorySegment owner, long offset) {
        // The atom's memory is gone, so its slot number cannot be read: find it by identity.
        for (int slot = 0; slot < capacity; slot++) {
            if (owners[slot] == owner && offsets[slot] == offset) {
                dropDead(slot);
                return;
            }
        }
        throw new IllegalStateException("atom memory's arena is closed and it is not registered with this poller");
    }

    // ---- checks (allocation only on the failure paths) ----

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("poller is closed");
        }
    }

    private static void checkEvents(int events) {
        if ((events & ~INTEREST_BITS) != 0) {
            throw new IllegalArgumentException("events must be READ and/or WRITE (or 0), got " + IoAtom.toString(events));
        }
    }

    private static void checkAtom(MemorySegment owner, long offset) {
        Objects.requireNonNull(owner, "owner");
        if (!owner.isNative()) {
            throw new IllegalArgumentException("atom memory must be native (allocated from an Arena), not a heap segment");
        }
        if (owner.isReadOnly()) {
            throw new IllegalArgumentException("atom memory is read-only");
        }
        if (offset < 0 || offset > owner.byteSize() - IoAtom.SIZE) {
            throw new IllegalArgumentException("an atom (" + IoAtom.SIZE + " bytes) at offset " + offset
                    + " does not fit in a segment of " + owner.byteSize() + " bytes");
        }
        if (((owner.address() + offset) & 3) != 0) {
            throw new IllegalArgumentException("atom at address 0x" + Long.toHexString(owner.address() + offset)
                    + " is not 4-byte aligned");
        }
        if (!owner.scope().isAlive()) {
            throw new IllegalStateException("atom memory's arena is closed");
        }
    }
}
