package org.ioatom.internal;

import static org.ioatom.internal.EventBits.ERROR;
import static org.ioatom.internal.EventBits.HUP;
import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;
import static org.ioatom.internal.bsd.Kqueue.DATA_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.EBADF;
import static org.ioatom.internal.bsd.Kqueue.EINTR;
import static org.ioatom.internal.bsd.Kqueue.ENOENT;
import static org.ioatom.internal.bsd.Kqueue.EVFILT_READ;
import static org.ioatom.internal.bsd.Kqueue.EVFILT_WRITE;
import static org.ioatom.internal.bsd.Kqueue.EV_ADD;
import static org.ioatom.internal.bsd.Kqueue.EV_CLEAR;
import static org.ioatom.internal.bsd.Kqueue.EV_DELETE;
import static org.ioatom.internal.bsd.Kqueue.EV_DISABLE;
import static org.ioatom.internal.bsd.Kqueue.EV_ENABLE;
import static org.ioatom.internal.bsd.Kqueue.EV_EOF;
import static org.ioatom.internal.bsd.Kqueue.EV_ERROR;
import static org.ioatom.internal.bsd.Kqueue.EV_RECEIPT;
import static org.ioatom.internal.bsd.Kqueue.FFLAGS_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.FILTER_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.FLAGS_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.IDENT_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.TIMESPEC_SIZE;
import static org.ioatom.internal.bsd.Kqueue.TV_NSEC_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.TV_SEC_OFFSET;
import static org.ioatom.internal.bsd.Kqueue.UDATA_OFFSET;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import org.ioatom.internal.bsd.Kqueue;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.SyscallException;

/**
 * BSD/macOS kqueue, edge-triggered: every knote is added with {@code EV_CLEAR}. Each fd has an
 * {@code EVFILT_READ} knote from {@code add} on (disabled while READ is not wanted, so that
 * {@code add} always asks the kernel about the fd), and an {@code EVFILT_WRITE} knote from the
 * first time WRITE is wanted. {@code EV_EOF} is reported as HUP (and ERROR when the kernel puts a
 * socket error in {@code fflags}). udata carries the same token as epoll's data,
 * {@code generation << 32 | slot}, so stale events are recognised by the poller as for epoll.
 * When READ and WRITE of one fd come back in one wait, they are merged into one entry.
 *
 * <h2>The changelist</h2>
 * <ul>
 *   <li>{@code add} is synchronous: the pending changelist and the new knotes go to the kernel
 *       at once, every change marked {@code EV_RECEIPT}, with an eventlist exactly as long as the
 *       changelist: each change gets its own result and the receipts leave no room for an event,
 *       so no pending event is consumed. A failure of the new fd throws a {@link SyscallException}
 *       naming {@code kevent}, the fd and the errno ({@code kevent(EV_ADD, fd=7): EBADF (...)});
 *       IO Atom users expect add to fail for a bad fd.</li>
 *   <li>{@code set} and {@code remove} only append to the changelist, which the next
 *       {@code await} submits in the same kevent call as the wait: one system call per loop
 *       turn. When the changelist is full it is flushed on the spot, with receipts as above.</li>
 *   <li>A failed deferred change is reported to that fd only: as an ERROR event to its atom's
 *       handler (at the wait that submitted it, or the next wait if it failed in a flush). A
 *       failed {@code EV_DELETE} with ENOENT or EBADF is not an error: the app closed the fd and
 *       the kernel dropped its knotes. Other fds' events are unaffected: when the kernel returns
 *       only change errors (it skips the wait then), the wait is repeated without changes.</li>
 *   <li>Deferred deletes cannot hit a later registration on a reused fd number: the only way to
 *       register an fd is {@code add}, which submits every earlier change first, in order, so an
 *       old {@code EV_DELETE} for the number always reaches the kernel before the new
 *       {@code EV_ADD}.</li>
 * </ul>
 *
 * <h2>errno only on failure</h2>
 * Without C2 (a C1-only or interpreted JVM, or a call site C2 did not inline whole) every
 * errno-capturing downcall allocates: the FFM runtime slices the capture segment per call. So
 * {@code kevent} is called through a handle that does not capture, and errno is learnt only when
 * it returns -1, by asking again through a capturing handle with no changes and a zero timeout:
 * <ul>
 *   <li>That repeat is harmless. Without changes it alters nothing; with a zero timeout it does not
 *       wait; in the synchronous path it is also given no room for events, so it consumes none.</li>
 *   <li>Nothing is lost by not retrying the changes. kevent applies the changelist before it waits,
 *       and a change that fails comes back in the eventlist as an {@code EV_ERROR} entry when there
 *       is room (there always is: every call gives room for every change; with {@code EV_RECEIPT}
 *       every change comes back that way), after which the kernel returns at once instead of
 *       waiting. So a -1 means either the call as a whole was refused (a bad kqueue descriptor:
 *       the repeat fails alike and yields the errno) or the wait was interrupted (EINTR) after
 *       every change was applied. In the second case the repeat succeeds and its events are used,
 *       as if the first call had returned them.</li>
 *   <li>A synchronous flush cannot be interrupted (with receipts the kernel does not wait), but if
 *       its repeat succeeds anyway the changelist is submitted once more through the capturing
 *       handle: re-adding, re-enabling or re-disabling a knote is idempotent and a repeated delete
 *       gives ENOENT, which deletes ignore.</li>
 * </ul>
 * Only {@code kqueue()} (open) and {@code close()} capture errno every time.
 *
 * <p>All native memory (changelist, eventlist, timespecs) is reserved at open, the eventlist sized
 * by the poller's capacity but never beyond {@link #MAX_BATCH}; the per-slot arrays start with the
 * slot table's size at open and follow it as it grows ({@link #ensureSlots}, outside steady
 * state); the handles are {@code static final} and called with {@code invokeExact}: nothing is
 * allocated per call except on failure paths. Where kqueue comes from (the OS or an emulation) and
 * which layout it has is decided by {@link KqueueAbi}; the layouts and constants are
 * {@link Kqueue}'s.
 */
public final class KqueueBackend extends Backend {
    private static final KqueueAbi ABI = KqueueAbi.load();

    /** 64 bytes on FreeBSD 12+, 32 on macOS: the stride of the changelist and the eventlist. */
    private static final long KEVENT_SIZE = ABI.keventAbi().keventSize();

    private static final MethodHandle KQUEUE = ABI.downcallCapturingErrno("kqueue", Kqueue.KQUEUE_DESCRIPTOR);
    /** The one used on success paths: allocates nothing. */
    private static final MethodHandle KEVENT = ABI.downcall("kevent", Kqueue.KEVENT_DESCRIPTOR);
    /** Only after KEVENT returned -1, to learn errno. */
    private static final MethodHandle KEVENT_CAPTURING = ABI.downcallCapturingErrno("kevent", Kqueue.KEVENT_DESCRIPTOR);
    private static final MethodHandle CLOSE = ABI.downcallCapturingErrno("close", Kqueue.CLOSE_DESCRIPTOR);

    /** Changes the changelist holds before it is flushed on the spot. */
    static final int MAX_CHANGES = 128;
    /** Most events one wait returns; more stay queued in the kernel for the next wait. */
    static final int MAX_BATCH = 4096;

    /** udata bits 30-31: what a change was for, so its EV_ERROR can be told apart. */
    private static final int OP_WATCH = 0;
    private static final int OP_DELETE = 1;
    private static final int SLOT_MASK = (1 << 30) - 1;
    /** Passed to {@link #flush} when none of the changes is the caller's: no token has bit 31 set. */
    private static final long NOBODY = -1L;
    /** Knote bits of {@link #knotes}. */
    private static final byte K_READ = 1;
    private static final byte K_WRITE = 2;

    private static final System.Logger LOG = System.getLogger("org.ioatom");

    private final int kq;
    private final MemorySegment changes;
    private final MemorySegment events;
    private final MemorySegment timeout;
    private final MemorySegment zeroTimeout;
    private final int eventCapacity;
    private int nchanges;

    /** Per slot: which knotes exist in the kernel (K_READ, K_WRITE). */
    private byte[] knotes;
    /** Per slot: the interest currently enabled. */
    private byte[] enabled;
    /** Per slot: the wait in which it got a ready entry, and that entry's index (for merging). */
    private int[] seenWait;
    private int[] seenIndex;
    private int wait;
    /** Where the capturing calls (open, close, failure paths) leave errno; from the poller's arena. */
    private final MemorySegment errno;

    /** Per slot: errno of a deferred change that failed in a flush, not yet reported; and for which generation. */
    private int[] failedErrno;
    private int[] failedGeneration;
    private int failedCount;

    /**
     * Opens a kqueue and reserves the changelist, eventlist and per-slot state.
     *
     * @param arena    the poller's arena
     * @param maxSlots the most slots the poller's table may grow to, including its wake-up slot
     * @param slots    the slots its table has at open
     * @throws SyscallException if kqueue() fails
     */
    public KqueueBackend(Arena arena, int maxSlots, int slots) throws SyscallException {
        super(arena, eventCapacity(maxSlots));
        errno = arena.allocate(Natives.CAPTURE_LAYOUT);
        eventCapacity = ready.capacity();
        changes = arena.allocate(KEVENT_SIZE * MAX_CHANGES, 8);
        events = arena.allocate(KEVENT_SIZE * eventCapacity, 8);
        timeout = arena.allocate(TIMESPEC_SIZE, 8);
        zeroTimeout = arena.allocate(TIMESPEC_SIZE, 8);
        knotes = new byte[slots];
        enabled = new byte[slots];
        seenWait = new int[slots];
        seenIndex = new int[slots];
        failedErrno = new int[slots];
        failedGeneration = new int[slots];
        int fd;
        try {
            fd = (int) KQUEUE.invokeExact(errno);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
        if (fd < 0) {
            throw new SyscallException("kqueue", null, -1, lastErrno());
        }
        kq = fd;
    }

    /** Room for every change of a full changelist to come back as an error, beside events. */
    private static int eventCapacity(int slots) {
        return Math.max(2 * MAX_CHANGES, Math.min(2 * slots, MAX_BATCH));
    }

    @Override
    public String name() {
        return "kqueue";
    }

    @Override
    public void ensureSlots(int slots) {
        if (slots <= knotes.length) {
            return;
        }
        knotes = Arrays.copyOf(knotes, slots);
        enabled = Arrays.copyOf(enabled, slots);
        seenWait = Arrays.copyOf(seenWait, slots);
        seenIndex = Arrays.copyOf(seenIndex, slots);
        failedErrno = Arrays.copyOf(failedErrno, slots);
        failedGeneration = Arrays.copyOf(failedGeneration, slots);
    }

    private static long token(int slot, int generation, int op) {
        return ((long) generation << 32) | ((long) op << 30) | slot;
    }

    @Override
    public void register(int fd, int slot, int generation, int interest) throws SyscallException {
        long token = token(slot, generation, OP_WATCH);
        if (nchanges + 2 > MAX_CHANGES) {
            flush(NOBODY);
        }
        append(fd, EVFILT_READ, EV_ADD | EV_CLEAR | ((interest & READ) != 0 ? EV_ENABLE : EV_DISABLE), token);
        if ((interest & WRITE) != 0) {
            append(fd, EVFILT_WRITE, EV_ADD | EV_CLEAR | EV_ENABLE, token);
        }
        int error = flush(token);
        if (error != 0) {
            // Undo the half that may have succeeded; failures here (ENOENT) are expected.
            long undo = token(slot, 0, OP_DELETE);
            append(fd, EVFILT_READ, EV_DELETE, undo);
            append(fd, EVFILT_WRITE, EV_DELETE, undo);
            flush(NOBODY);
            throw new SyscallException("kevent", "EV_ADD", fd, error);
        }
        knotes[slot] = (byte) (K_READ | ((interest & WRITE) != 0 ? K_WRITE : 0));
        enabled[slot] = (byte) interest;
        clearFailure(slot);
    }

    @Override
    public void modify(int fd, int slot, int generation, int interest) throws SyscallException {
        long token = token(slot, generation, OP_WATCH);
        int changed = enabled[slot] ^ interest;
        if ((changed & READ) != 0) {
            append(fd, EVFILT_READ, (interest & READ) != 0 ? EV_ADD | EV_CLEAR | EV_ENABLE : EV_DISABLE, token);
        }
        if ((changed & WRITE) != 0) {
            // Turning a filter on re-adds it, which makes the kernel look at the fd again: a
            // condition that already holds is reported, as epoll does on EPOLL_CTL_MOD.
            append(fd, EVFILT_WRITE, (interest & WRITE) != 0 ? EV_ADD | EV_CLEAR | EV_ENABLE : EV_DISABLE, token);
            if ((interest & WRITE) != 0) {
                knotes[slot] |= K_WRITE;
            }
        }
        enabled[slot] = (byte) interest;
    }

    @Override
    public void deregister(int fd, int slot) throws SyscallException {
        int k = knotes[slot];
        knotes[slot] = 0;
        enabled[slot] = 0;
        clearFailure(slot);
        long token = token(slot, 0, OP_DELETE);
        if ((k & K_READ) != 0) {
            append(fd, EVFILT_READ, EV_DELETE, token);
        }
        if ((k & K_WRITE) != 0) {
            append(fd, EVFILT_WRITE, EV_DELETE, token);
        }
    }

    /** Adds one change to the changelist, flushing it first when full. */
    private void append(int fd, short filter, int flags, long udata) throws SyscallException {
        if (nchanges == MAX_CHANGES) {
            flush(NOBODY);
        }
        long base = nchanges * KEVENT_SIZE;
        changes.set(ValueLayout.JAVA_LONG, base + IDENT_OFFSET, fd);
        changes.set(ValueLayout.JAVA_SHORT, base + FILTER_OFFSET, filter);
        changes.set(ValueLayout.JAVA_SHORT, base + FLAGS_OFFSET, (short) flags);
        changes.set(ValueLayout.JAVA_INT, base + FFLAGS_OFFSET, 0);
        changes.set(ValueLayout.JAVA_LONG, base + DATA_OFFSET, 0L);
        changes.set(ValueLayout.JAVA_LONG, base + UDATA_OFFSET, udata);
        nchanges++;
    }

    /**
     * Submits the changelist now, each change with EV_RECEIPT, without waiting and without
     * consuming events. Failures of changes whose udata is {@code mine} are returned (the first
     * errno); others are recorded for their slot and reported by the next wait.
     *
     * @param mine the token of the caller's own changes, or {@link #NOBODY}
     * @return the first errno of the caller's changes, or 0
     */
    private int flush(long mine) throws SyscallException {
        int n = nchanges;
        if (n == 0) {
            return 0;
        }
        for (int i = 0; i < n; i++) {
            long at = i * KEVENT_SIZE + FLAGS_OFFSET;
            changes.set(ValueLayout.JAVA_SHORT, at, (short) (changes.get(ValueLayout.JAVA_SHORT, at) | EV_RECEIPT));
        }
        nchanges = 0;
        int r = kevent(n, n, zeroTimeout);
        if (r < 0) {
            // Learn errno without touching anything: no changes, no room for events, no wait.
            if (keventCapturing(0, 0, zeroTimeout) < 0) {
                throw new SyscallException("kevent", "changes", kq, lastErrno());
            }
            // The kqueue is fine and the failure did not last: submit the changes again, capturing.
            r = keventCapturing(n, n, zeroTimeout);
            if (r < 0) {
                throw new SyscallException("kevent", "changes", kq, lastErrno());
            }
        }
        int result = 0;
        for (int i = 0; i < r; i++) {
            long base = i * KEVENT_SIZE;
            int flags = events.get(ValueLayout.JAVA_SHORT, base + FLAGS_OFFSET) & 0xFFFF;
            int error = (int) events.get(ValueLayout.JAVA_LONG, base + DATA_OFFSET);
            if ((flags & EV_ERROR) == 0 || error == 0) {
                continue;
            }
            long udata = events.get(ValueLayout.JAVA_LONG, base + UDATA_OFFSET);
            if (udata == mine) {
                if (result == 0) {
                    result = error;
                }
            } else {
                changeFailed(base, udata, error, false);
            }
        }
        return result;
    }

    /** A change that is not the caller's own failed: report it to its fd's atom, or ignore it. */
    private void changeFailed(long base, long udata, int error, boolean inWait) {
        int slot = (int) udata & SLOT_MASK;
        int generation = (int) (udata >>> 32);
        int op = (int) (udata >>> 30) & 3;
        if (op == OP_DELETE) {
            if (error != ENOENT && error != EBADF) {
                int fd = (int) events.get(ValueLayout.JAVA_LONG, base + IDENT_OFFSET);
                LOG.log(System.Logger.Level.WARNING, "removing fd " + fd + " from kqueue failed",
                        new SyscallException("kevent", "EV_DELETE", fd, error));
            }
            return;
        }
        if (slot >= knotes.length) {
            return;
        }
        if (inWait) {
            merge(slot, generation, ERROR);
        } else {
            if (failedErrno[slot] == 0) {
                failedCount++;
            }
            failedErrno[slot] = error;
            failedGeneration[slot] = generation;
        }
    }

    private void clearFailure(int slot) {
        if (failedErrno[slot] != 0) {
            failedErrno[slot] = 0;
            failedCount--;
        }
    }

    @Override
    public void await(long timeoutNanos) throws SyscallException {
        if (++wait == 0) {
            Arrays.fill(seenWait, 0);
            wait = 1;
        }
        int room = eventCapacity;
        if (failedCount > 0) {
            reportFailures(eventCapacity - MAX_CHANGES);
            room -= ready.count();
            if (ready.count() > 0) {
                timeoutNanos = 0;
            }
        }
        MemorySegment ts = MemorySegment.NULL;
        if (timeoutNanos >= 0) {
            timeout.set(ValueLayout.JAVA_LONG, TV_SEC_OFFSET, timeoutNanos / 1_000_000_000L);
            timeout.set(ValueLayout.JAVA_LONG, TV_NSEC_OFFSET, timeoutNanos % 1_000_000_000L);
            ts = timeout;
        }
        int n = nchanges;
        nchanges = 0;
        int got = submitAndWait(n, room, ts);
        if (gather(got) && ready.count() == 0) {
            // The kernel returned change errors only and skipped the wait: wait now.
            gather(submitAndWait(0, room, ts));
        }
    }

    /**
     * Submits {@code n} changes and waits, without errno capture; on -1 asks again with capture,
     * no changes and a zero timeout (see the class comment).
     *
     * @return the entries in the eventlist; 0 when interrupted with nothing ready
     */
    private int submitAndWait(int n, int room, MemorySegment ts) throws SyscallException {
        int got = kevent(n, room, ts);
        if (got >= 0) {
            return got;
        }
        got = keventCapturing(0, room, zeroTimeout);
        if (got >= 0) {
            return got; // the first call was interrupted; these are the events ready now
        }
        if (lastErrno() == EINTR) {
            return 0;
        }
        throw new SyscallException("kevent", null, kq, lastErrno());
    }

    /** Reads {@code got} entries of the eventlist into the ready batch; true if any was a change error. */
    private boolean gather(int got) {
        boolean changeErrors = false;
        for (int i = 0; i < got; i++) {
            long base = i * KEVENT_SIZE;
            int flags = events.get(ValueLayout.JAVA_SHORT, base + FLAGS_OFFSET) & 0xFFFF;
            long udata = events.get(ValueLayout.JAVA_LONG, base + UDATA_OFFSET);
            if ((flags & EV_ERROR) != 0) {
                int error = (int) events.get(ValueLayout.JAVA_LONG, base + DATA_OFFSET);
                if (error != 0) {
                    changeErrors = true;
                    changeFailed(base, udata, error, true);
                }
                continue;
            }
            short filter = events.get(ValueLayout.JAVA_SHORT, base + FILTER_OFFSET);
            int ev = filter == EVFILT_READ ? READ : filter == EVFILT_WRITE ? WRITE : 0;
            if ((flags & EV_EOF) != 0) {
                ev |= HUP;
                if (events.get(ValueLayout.JAVA_INT, base + FFLAGS_OFFSET) != 0) {
                    ev |= ERROR; // a socket error, in fflags with EV_EOF
                }
            }
            merge((int) udata & SLOT_MASK, (int) (udata >>> 32), ev);
        }
        return changeErrors;
    }

    /** Adds events for a slot to the batch, or to the slot's entry if this wait already has one. */
    private void merge(int slot, int generation, int ev) {
        if (seenWait[slot] == wait && ready.generation(seenIndex[slot]) == generation) {
            ready.addEvents(seenIndex[slot], ev);
        } else if (!ready.full()) {
            seenWait[slot] = wait;
            seenIndex[slot] = ready.count();
            ready.add(slot, generation, ev);
        }
    }

    /** Moves deferred-change failures recorded by flushes into the batch as ERROR events. */
    private void reportFailures(int limit) {
        for (int slot = 0; slot < failedErrno.length && failedCount > 0 && ready.count() < limit; slot++) {
            if (failedErrno[slot] != 0) {
                merge(slot, failedGeneration[slot], ERROR);
                failedErrno[slot] = 0;
                failedCount--;
            }
        }
    }

    /** kevent from the changelist's first {@code nchanges} entries into {@link #events}, without errno capture. */
    private int kevent(int nchanges, int nevents, MemorySegment ts) {
        try {
            return (int) KEVENT.invokeExact(kq, changes, nchanges, events, nevents, ts);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** The same, capturing errno into {@link #errno}: failure paths only. */
    private int keventCapturing(int nchanges, int nevents, MemorySegment ts) {
        try {
            return (int) KEVENT_CAPTURING.invokeExact(errno, kq, changes, nchanges, events, nevents, ts);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** The errno the last capturing call left. */
    private int lastErrno() {
        return Natives.errno(errno);
    }

    @Override
    public void close() {
        try {
            int rc = (int) CLOSE.invokeExact(errno, kq);
            if (rc < 0) {
                LOG.log(System.Logger.Level.DEBUG, "closing kqueue fd " + kq + " failed: errno " + lastErrno());
            }
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

}
