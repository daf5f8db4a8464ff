package org.ioatom;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.ioatom.internal.EventSource;
import org.ioatom.internal.Ownership;
import org.ioatom.internal.ReadyBatch;
import org.ioatom.internal.RequeueList;
import org.ioatom.internal.SlotTable;
import org.ioatom.internal.TaskRing;
import org.ioatom.internal.TimerQueue;
import org.ioatom.internal.sys.SyscallException;

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
 * If a handler, timer handler or task throws (an {@link IOException} or an unchecked exception),
 * {@code dispatch()} throws a {@link HandlerException} naming the atom (fd, owner) or timer or
 * task, with the original as cause, after consuming that one event; the rest of the batch stays queued: the next
 * {@code dispatch()} delivers it, and {@code await} returns at once while any of it remains.
 * Nothing is lost and the poller stays usable. System-call failures
 * are {@link IoException}s; misuse (double add, unknown atom, bad memory, closed poller) is an
 * {@link IllegalArgumentException} or {@link IllegalStateException} that leaves the poller as it
 * was.
 *
 * <h2>Memory</h2>
 * A poller's memory follows the most atoms (and timers) it has held at once, not its capacity:
 * its per-atom tables start with room for 64 and double when an {@code add} (or a timer's
 * {@code schedule}) needs more, never beyond the capacity, which stays the hard limit. Opening a
 * poller for a million atoms allocates under 80 KB of heap (mostly the event batch, capped at 4096
 * entries); 35 to 65 bytes of heap per atom come with the atoms, depending on the backend. Only
 * that growth allocates, and only the thread that holds the poller touches the tables: once
 * the tables have room, {@code await}, {@code dispatch}, {@code add}, {@code set} and
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
 *
 * <p>{@code await} blocks in a native call: on a virtual thread it pins the carrier thread for
 * the whole wait. Run polling loops on platform threads.
 */
public final class Poller implements AutoCloseable {
    /** Atoms a poller holds when no capacity is given. */
    public static final int DEFAULT_CAPACITY = 4096;
    /** The largest capacity {@link #open(PollerKind, int)} accepts. */
    public static final int MAX_CAPACITY = 1 << 24;
    /** Tasks that can wait for the loop at once (see {@link #execute}) when no task capacity is given. */
    public static final int DEFAULT_TASK_CAPACITY = 1024;

    private static final System.Logger LOG = System.getLogger("org.ioatom");
    private static final AtomicInteger IDS = new AtomicInteger();

    private final PollerKind kind;
    /** Written into registered atoms: tells this poller's atoms from another's. Never 0. */
    private final int id;
    private final SlotTable<IoHandler> slots;
    private final EventSource<IoHandler> source;
    /** {@code source}'s batch. */
    private final ReadyBatch ready;
    private final Ownership ownership;
    private final Timers timers;
    private final TaskRing tasks;
    private final RequeueList requeued;

    private Poller(PollerKind kind, int capacity, int timerCapacity, int taskCapacity) throws IoException {
        this.kind = kind;
        int id;
        do {
            id = IDS.incrementAndGet();
        } while (id == 0);
        this.id = id;
        slots = new SlotTable<>(capacity);
        try {
            source = EventSource.open(kind.mechanism(), slots);
        } catch (SyscallException e) {
            throw IoException.of(e);
        }
        ready = source.ready();
        tasks = new TaskRing(taskCapacity);
        requeued = new RequeueList(slots.slotCount());
        ownership = new Ownership(this::tearDown, source::wakeForClose);
        timers = new Timers(ownership, new TimerQueue<>(id, timerCapacity));
        LOG.log(System.Logger.Level.DEBUG, "opened {0} poller #{1}, capacity {2}", source.name(), id, capacity);
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
     * @param capacity how many atoms it can hold at once, 1 to {@link #MAX_CAPACITY}: a limit, not a
     *                 reservation (memory follows the atoms held, see Memory above)
     * @return a new poller
     * @throws IoException                   if the OS refuses
     * @throws IllegalArgumentException      if {@code capacity} is outside 1 to {@link #MAX_CAPACITY}
     * @throws NullPointerException          if {@code kind} is null
     * @throws UnsupportedOperationException if the kind is not available here (the message says why)
     */
    public static Poller open(PollerKind kind, int capacity) throws IoException {
        return open(kind, capacity, capacity);
    }

    /**
     * Opens a poller of the given kind with room for {@code capacity} atoms and
     * {@code timerCapacity} scheduled timers (see {@link Timers}).
     *
     * @param kind          the mechanism, or {@link PollerKind#ANY} for the best available
     * @param capacity      how many atoms it can hold at once, 1 to {@link #MAX_CAPACITY}
     * @param timerCapacity how many timers can be scheduled at once, 0 to {@link #MAX_CAPACITY}
     * @return a new poller
     * @throws IoException                   if the OS refuses
     * @throws IllegalArgumentException      if a capacity is out of range
     * @throws NullPointerException          if {@code kind} is null
     * @throws UnsupportedOperationException if the kind is not available here (the message says why)
     */
    public static Poller open(PollerKind kind, int capacity, int timerCapacity) throws IoException {
        return open(kind, capacity, timerCapacity, DEFAULT_TASK_CAPACITY);
    }

    /**
     * Opens a poller of the given kind with room for {@code capacity} atoms, {@code timerCapacity}
     * scheduled timers and {@code taskCapacity} tasks waiting for the loop (see {@link #execute};
     * rounded up to a power of two).
     *
     * @param kind          the mechanism, or {@link PollerKind#ANY} for the best available
     * @param capacity      how many atoms it can hold at once, 1 to {@link #MAX_CAPACITY}
     * @param timerCapacity how many timers can be scheduled at once, 0 to {@link #MAX_CAPACITY}
     * @param taskCapacity  how many handed-off tasks can wait at once, 1 to {@link #MAX_CAPACITY}
     * @return a new poller
     * @throws IoException                   if the OS refuses
     * @throws IllegalArgumentException      if a capacity is out of range
     * @throws NullPointerException          if {@code kind} is null
     * @throws UnsupportedOperationException if the kind is not available here (the message says why)
     */
    public static Poller open(PollerKind kind, int capacity, int timerCapacity, int taskCapacity) throws IoException {
        Objects.requireNonNull(kind, "kind");
        if (taskCapacity < 1 || taskCapacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("task capacity must be 1 to " + MAX_CAPACITY + ", got " + taskCapacity);
        }
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be 1 to " + MAX_CAPACITY + ", got " + capacity);
        }
        if (timerCapacity < 0 || timerCapacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("timer capacity must be 0 to " + MAX_CAPACITY + ", got " + timerCapacity);
        }
        return new Poller(kind.resolve(), capacity, timerCapacity, taskCapacity);
    }

    /** {@return the mechanism in use (never {@link PollerKind#ANY})} */
    public PollerKind kind() {
        return kind;
    }

    /** {@return the mechanism's name, e.g. {@code epoll}, as in "Using epoll to poll."} */
    public String name() {
        return source.name();
    }

    /** {@return how many atoms this poller can hold} */
    public int capacity() {
        return slots.capacity();
    }

    /** {@return this poller's timers} */
    public Timers timers() {
        return timers;
    }

    /**
     * {@return the loop time: {@link System#nanoTime()} read once when the last {@link #await}
     * returned (at open before the first)} Handlers of one dispatch all see the same value.
     */
    public long now() {
        return timers.now;
    }

    /** {@return how many atoms are registered} */
    public int size() {
        return slots.size();
    }

    /** {@return false once {@link #close()} was called} */
    public boolean isOpen() {
        return !ownership.isClosed();
    }

    /**
     * Registers the atom at offset 0 of {@code atom}; see {@link #add(MemorySegment, long, int, IoHandler)}.
     *
     * @param atom     memory starting with an initialised {@link IoAtom}
     * @param interest {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0
     * @param handler  called with {@code atom} when events arrive
     * @throws IOException if the OS refuses
     */
    public void add(MemorySegment atom, int interest, IoHandler handler) throws IOException {
        add(atom, 0, interest, handler);
    }

    /**
     * Registers the atom at {@code offset} of {@code owner}: from now on its events reach
     * {@code handler}, which receives {@code owner} itself.
     *
     * @param owner    the app's struct, native and writable
     * @param offset   where the {@link IoAtom} (initialised with {@link IoAtom#init}) sits in it, 4-byte aligned
     * @param interest {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0 to register silently
     * @param handler  called with {@code owner} when events arrive
     * @throws IoException              if the OS refuses (e.g. a closed fd: EBADF)
     * @throws IllegalStateException    if the atom is already registered, the fd is registered through another
     *                                  atom, the poller is full (holds {@link #capacity()} atoms) or closed
     * @throws IllegalArgumentException for bad memory, flags or an fd this mechanism cannot watch
     */
    public void add(MemorySegment owner, long offset, int interest, IoHandler handler) throws IOException {
        boolean entered = ownership.enter("add");
        try {
            addHeld(owner, offset, interest, handler);
        } catch (SyscallException e) {
            throw IoException.of(e);
        } finally {
            ownership.exit(entered);
        }
    }

    private void addHeld(MemorySegment owner, long offset, int interest, IoHandler handler) throws IOException {
        ownership.checkOpen();
        Objects.requireNonNull(handler, "handler");
        IoAtom.checkMemory(owner, offset);
        IoAtom.checkInterest(interest);
        int fd = IoAtom.unregisteredFd(owner, offset, id);
        if (slots.isFull()) {
            throw new IllegalStateException("poller is full: " + slots.capacity() + " atoms (set a larger capacity in "
                    + "Poller.open(kind, capacity))");
        }
        int existing = slots.slotOfFd(fd);
        if (existing >= 0 && existing != SlotTable.WAKE_SLOT && !slots.owner(existing).scope().isAlive()) {
            source.dropDead(existing);
        } else if (existing >= 0) {
            throw new IllegalStateException("fd " + fd + " is already registered through another atom "
                    + "(remove an atom before closing its fd)");
        }
        int slot = source.register(owner, offset, handler, fd, interest);
        IoAtom.tag(owner, offset, interest, slot + 1, id);
    }

    /**
     * Changes what the atom at offset 0 of {@code atom} is watched for; see
     * {@link #set(MemorySegment, long, int)}.
     *
     * @param atom     memory starting with a registered {@link IoAtom}
     * @param interest {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0
     * @throws IOException if the OS refuses
     */
    public void set(MemorySegment atom, int interest) throws IOException {
        set(atom, 0, interest);
    }

    /**
     * Changes what a registered atom is watched for. Setting the current interest again costs
     * no system call. With epoll, enabling a condition that already holds reports it again.
     *
     * @param owner    the app's struct, as given to {@code add}
     * @param offset   where the atom sits in it
     * @param interest {@link IoAtom#READ} and/or {@link IoAtom#WRITE}, or 0 to pause the atom
     * @throws IoException              if the OS refuses
     * @throws IllegalStateException    if the atom is not registered with this poller
     * @throws IllegalArgumentException for bad memory or flags
     */
    public void set(MemorySegment owner, long offset, int interest) throws IOException {
        boolean entered = ownership.enter("set");
        try {
            setHeld(owner, offset, interest);
        } catch (SyscallException e) {
            throw IoException.of(e);
        } finally {
            ownership.exit(entered);
        }
    }

    private void setHeld(MemorySegment owner, long offset, int interest) throws IOException {
        ownership.checkOpen();
        IoAtom.checkMemory(owner, offset);
        IoAtom.checkInterest(interest);
        int slot = slotOf(owner, offset);
        if (slots.interest(slot) == interest) {
            return;
        }
        source.modify(slot, interest);
        owner.set(ValueLayout.JAVA_INT, offset + IoAtom.INTEREST, interest);
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
     * @throws IoException           if the OS refuses (the atom is unregistered all the same)
     * @throws IllegalStateException if the atom is not registered with this poller
     */
    public void remove(MemorySegment owner, long offset) throws IOException {
        boolean entered = ownership.enter("remove");
        try {
            removeHeld(owner, offset);
        } catch (SyscallException e) {
            throw IoException.of(e);
        } finally {
            ownership.exit(entered);
        }
    }

    private void removeHeld(MemorySegment owner, long offset) throws IOException {
        ownership.checkOpen();
        Objects.requireNonNull(owner, "owner");
        if (!owner.scope().isAlive()) {
            // The atom's memory is gone, so its slot number cannot be read: find it by identity.
            int slot = slots.find(owner, offset);
            if (slot < 0) {
                throw new IllegalStateException("atom memory's arena is closed and it is not registered with this poller");
            }
            source.dropDead(slot);
            return;
        }
        IoAtom.checkMemory(owner, offset);
        int slot = slotOf(owner, offset);
        try {
            source.deregister(slot);
        } finally {
            IoAtom.tag(owner, offset, 0, 0, 0);
        }
    }

    /**
     * Waits until an atom has events, a timer is due, the timeout passes, or {@link #wakeup()} is
     * called, and gathers the events for {@link #dispatch()}. A signal (EINTR) does not end the
     * wait early: it goes on for the time left. If a previous batch is not fully dispatched (a
     * handler threw), returns at once with what remains.
     *
     * @param timeoutMillis the longest wait: negative for no limit, 0 to only look
     * @return how many atoms have events plus how many timers are due: 0 after a timeout or a wake-up
     * @throws IoException           if the wait fails
     * @throws IllegalStateException if called from a handler, while another thread uses the poller, or
     *                               after close
     */
    public int await(long timeoutMillis) throws IOException {
        ownership.enterTop("await", "await() called from a handler; return from the handler instead");
        try {
            return awaitHeld(timeoutMillis);
        } catch (SyscallException e) {
            throw IoException.of(e);
        } finally {
            ownership.exitTop();
        }
    }

    private int awaitHeld(long timeoutMillis) throws IOException {
        long start = System.nanoTime();
        if (ready.remaining() > 0) {
            timers.now = start;
            return ready.remaining() + timers.due() + (tasks.hasPending() ? 1 : 0);
        }
        // Deadlines compare as plain longs: System.nanoTime() is CLOCK_MONOTONIC here, time since boot.
        // With a timer already due, the wait only looks (timeout 0), so I/O that is ready joins the batch.
        long next = timers.nextDeadline();
        // Tasks or requeued atoms waiting: only look, so the loop goes on to dispatch them.
        boolean pending = tasks.hasPending() || requeued.size() > 0;
        long end = next <= start || pending ? start
                : timeoutMillis < 0 ? Long.MAX_VALUE : start + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        source.awaitUntil(Math.min(next, end));
        timers.now = System.nanoTime();
        if (ownership.isClosed()) {
            // Closed by another thread during the wait: the batch is not for anyone any more.
            ready.clear();
            return 0;
        }
        requeued.mergeInto(ready, slots);
        return ready.count() + timers.due() + (tasks.hasPending() ? 1 : 0);
    }

    /**
     * Calls the handler of every atom with events gathered by the last {@link #await}. State
     * the app changed since then is what the handlers see.
     *
     * @return how many handlers were called
     * @throws HandlerException     wrapping what a handler, timer handler or task threw (checked or
     *                               unchecked), naming the atom or timer; that event is consumed, the rest of the batch waits for the next dispatch
     * @throws IllegalStateException if called from a handler, while another thread uses the poller, or
     *                               after close
     */
    public int dispatch() throws IOException {
        ownership.enterTop("dispatch", "dispatch() is not re-entrant: it was called from a handler");
        int calls = 0;
        timers.dispatching = true;
        try {
            while (ready.remaining() > 0 && !ownership.isClosed()) {
                int i = ready.next();
                int slot = ready.slot(i);
                int ev = slots.deliverable(slot, ready.generation(i), ready.events(i));
                if (ev == 0) {
                    continue;
                }
                MemorySegment owner = slots.owner(slot);
                if (!owner.scope().isAlive()) {
                    source.dropDead(slot);
                    continue;
                }
                calls++;
                // Read before the call: the handler may remove its atom and free (or refill) the slot.
                int fd = slots.fd(slot);
                long offset = slots.offset(slot);
                try {
                    slots.handler(slot).onEvents(owner, ev);
                } catch (IOException | RuntimeException e) {
                    throw new HandlerException(HandlerException.Source.ATOM, fd, owner, offset, e);
                }
            }
            calls += timers.runDue();
            calls += runTasks();
        } finally {
            timers.dispatching = false;
            ownership.exitTop();
        }
        return calls;
    }

    /**
     * Runs the tasks handed off before this point, at most one ring's worth, so that producers
     * that never stop cannot keep dispatch from returning.
     */
    private int runTasks() throws HandlerException {
        tasks.startDrain();
        int calls = 0;
        for (int n = tasks.capacity(); n > 0 && !ownership.isClosed(); n--) {
            Runnable task = tasks.poll();
            if (task == null) {
                break;
            }
            calls++;
            try {
                task.run();
            } catch (RuntimeException e) {
                throw new HandlerException(HandlerException.Source.TASK, -1, null, -1, e);
            }
        }
        return calls;
    }

    /**
     * Hands a task to the polling thread: it runs in a later {@link #dispatch()}, after that
     * dispatch's I/O handlers and timers, in the order this thread handed off its tasks (tasks of
     * different threads interleave). Safe from any thread, including the polling thread and
     * handlers. Allocates nothing: the task's reference waits in a ring reserved at open
     * ({@link #DEFAULT_TASK_CAPACITY}, or the capacity given to
     * {@link #open(PollerKind, int, int, int)}), so reuse task objects to hand off without garbage.
     * The first task after the loop last drained wakes the wait ({@link #wakeup()}); the tasks
     * that follow before the loop drains add no wake-up of their own.
     *
     * <p>A full ring refuses the task at once and returns false: the call never waits, so it cannot
     * deadlock with a loop that is itself blocked on the caller; retry later, drop, or push back, as
     * the app sees fit. A task that throws is handled like a throwing handler: {@code dispatch}
     * throws a {@link HandlerException} (source {@code TASK}, the task's exception as cause) and the
     * tasks after it stay queued for the next dispatch. Tasks still waiting when the poller closes
     * never run.
     *
     * <pre>{@code
     * final class Broadcast implements Runnable {       // reused: handing it off allocates nothing
     *     volatile String line;
     *     public void run() { room.sendToAll(line); }    // on the polling thread
     * }
     * if (!poller.execute(broadcast)) {
     *     // ring full: the loop is behind; retry later or shed load
     * }
     * }</pre>
     *
     * @param task what to run on the polling thread
     * @return true if queued, false if the ring is full
     * @throws IllegalStateException if the poller is closed
     * @throws NullPointerException  if {@code task} is null
     */
    public boolean execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        ownership.checkOpen();
        int queued = tasks.offer(task);
        if (queued == 1) {
            source.wakeup();
        }
        return queued >= 0;
    }

    /**
     * Asks for the handler of the atom at offset 0 of {@code atom} to be called again; see
     * {@link #requeue(MemorySegment, long)}.
     *
     * @param atom memory starting with a registered {@link IoAtom}
     */
    public void requeue(MemorySegment atom) {
        requeue(atom, 0);
    }

    /**
     * Asks for a registered atom's handler to be called again in the next dispatch, as if its
     * conditions were reported again: for a handler that stops before the call would block
     * (fairness: so one busy connection does not starve the others) and, the poller being
     * edge-triggered, would otherwise get no new event. The call receives the atom's current
     * interest bits (READ and/or WRITE). The next {@link #await} returns at once while requeued
     * atoms wait.
     *
     * <p>O(1) and allocation-free. One call per dispatch per atom: requeuing again before the next
     * dispatch changes nothing, and events the next wait gathers for the atom are merged into that
     * one call. Stale-safe: an atom removed before the next dispatch is not called, and an atom
     * added later in the same slot is not called for this request. A paused atom (interest 0) is
     * not called.
     *
     * <pre>{@code
     * IoHandler handler = (conn, events) -> {
     *     for (int i = 0; i < 16; i++) {                // at most 16 messages per turn
     *         if (!readOneMessage(conn)) {
     *             return;                               // would block: the next edge comes as an event
     *         }
     *     }
     *     poller.requeue(conn, ATOM_OFFSET);            // more may be buffered: come back next round
     * };
     * }</pre>
     *
     * @param owner  the app's struct, as given to {@code add}
     * @param offset where the atom sits in it
     * @throws IllegalStateException    if the atom is not registered with this poller, the poller is closed,
     *                                  or another thread is using it
     * @throws IllegalArgumentException for bad memory
     */
    public void requeue(MemorySegment owner, long offset) {
        boolean entered = ownership.enter("requeue");
        try {
            ownership.checkOpen();
            IoAtom.checkMemory(owner, offset);
            int slot = slotOf(owner, offset);
            requeued.add(slot, slots.generation(slot));
        } finally {
            ownership.exit(entered);
        }
    }

    /**
     * Makes a current or the next {@link #await} return. Safe from any thread, including while
     * the poller is closing; several calls before the wait wakes count as one.
     */
    public void wakeup() {
        if (!ownership.isClosed()) {
            source.wakeup();
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
        ownership.close();
    }

    /** Run once by {@link Ownership}, with the poller held. */
    private void tearDown() {
        for (int slot = SlotTable.WAKE_SLOT + 1; slot < slots.slotCount(); slot++) {
            MemorySegment owner = slots.owner(slot);
            if (owner != null) {
                try {
                    if (owner.scope().isAlive()) {
                        IoAtom.tag(owner, slots.offset(slot), IoAtom.interest(owner, slots.offset(slot)), 0, 0);
                    }
                } catch (RuntimeException e) {
                    // Memory confined to another thread: the tag stays, the registration is gone anyway.
                }
            }
        }
        // From a handler too: after this, dispatch() reads only Java arrays.
        timers.clear();
        tasks.clear();
        requeued.clear();
        source.close();
    }

    @Override
    public String toString() {
        return "Poller[" + kind + " #" + id + ", " + slots.size() + "/" + slots.capacity() + " atoms"
                + (ownership.isClosed() ? ", closed" : "") + "]";
    }

    /** The slot of a registered atom, or an exception that says why it is not registered here. */
    private int slotOf(MemorySegment owner, long offset) {
        int slot = IoAtom.taggedSlot(owner, offset, id);
        if (!slots.holds(slot, owner, offset)) {
            throw new IllegalStateException("atom (fd=" + IoAtom.fd(owner, offset) + ") is not registered with this poller");
        }
        return slot;
    }
}
