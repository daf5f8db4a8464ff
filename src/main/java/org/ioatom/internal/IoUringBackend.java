package org.ioatom.internal;

import static org.ioatom.internal.EventBits.ERROR;
import static org.ioatom.internal.EventBits.HUP;
import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;
import static org.ioatom.internal.linux.Linux.EPOLLERR;
import static org.ioatom.internal.linux.Linux.EPOLLET;
import static org.ioatom.internal.linux.Linux.EPOLLHUP;
import static org.ioatom.internal.linux.Linux.EPOLLIN;
import static org.ioatom.internal.linux.Linux.EPOLLOUT;
import static org.ioatom.internal.linux.Linux.EPOLLPRI;
import static org.ioatom.internal.linux.Linux.EPOLLRDHUP;
import static org.ioatom.internal.linux.Linux.IORING_CQE_F_MORE;
import static org.ioatom.internal.linux.Linux.IORING_ENTER_EXT_ARG;
import static org.ioatom.internal.linux.Linux.IORING_ENTER_GETEVENTS;
import static org.ioatom.internal.linux.Linux.IORING_FEAT_EXT_ARG;
import static org.ioatom.internal.linux.Linux.IORING_FEAT_NODROP;
import static org.ioatom.internal.linux.Linux.IORING_FEAT_SINGLE_MMAP;
import static org.ioatom.internal.linux.Linux.IORING_OFF_CQ_RING;
import static org.ioatom.internal.linux.Linux.IORING_OFF_SQES;
import static org.ioatom.internal.linux.Linux.IORING_OFF_SQ_RING;
import static org.ioatom.internal.linux.Linux.IORING_OP_POLL_ADD;
import static org.ioatom.internal.linux.Linux.IORING_OP_POLL_REMOVE;
import static org.ioatom.internal.linux.Linux.IORING_POLL_ADD_MULTI;
import static org.ioatom.internal.linux.Linux.IORING_POLL_UPDATE_EVENTS;
import static org.ioatom.internal.linux.Linux.IORING_SETUP_CQSIZE;
import static org.ioatom.internal.linux.Linux.IORING_SQ_CQ_OVERFLOW;
import static org.ioatom.internal.linux.Linux.MAP_POPULATE;
import static org.ioatom.internal.linux.Linux.MAP_SHARED;
import static org.ioatom.internal.linux.Linux.PROT_READ;
import static org.ioatom.internal.linux.Linux.PROT_WRITE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.IoCqringOffsets;
import org.ioatom.internal.linux.IoSqringOffsets;
import org.ioatom.internal.linux.IoUringCqe;
import org.ioatom.internal.linux.IoUringGeteventsArg;
import org.ioatom.internal.linux.IoUringParams;
import org.ioatom.internal.linux.IoUringSqe;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.linux.Timespec;
import org.ioatom.internal.sys.SyscallException;

/**
 * Linux io_uring as a readiness mechanism: every registered fd has one multishot
 * {@code IORING_OP_POLL_ADD} request in the ring, which posts a completion (CQE) per wake-up of
 * the fd, edge-triggered like epoll with EPOLLET. No I/O goes through the ring; the app reads and
 * writes as with epoll.
 *
 * <h2>Tokens</h2>
 * A request's user_data is {@code generation << 32 | op << 30 | slot}, as kqueue's udata: a CQE
 * for a slot that was freed (or reused) since is recognisably stale, and CQEs of the control
 * requests ({@code set}'s poll update, {@code remove}'s poll remove) are told apart by op.
 *
 * <h2>When changes reach the kernel</h2>
 * <ul>
 *   <li>{@code add} is synchronous, as for kqueue: the queued SQEs and the new poll are submitted
 *       at once. A poll on a bad fd fails while it is submitted, so its CQE is in the ring when
 *       {@code io_uring_enter} returns: {@code add} finds it, neutralises it and throws
 *       {@code io_uring_enter(POLL_ADD, fd=7): EBADF (Bad file descriptor)}. Only if the CQ ring
 *       is full of unread CQEs can that CQE wait in the kernel's overflow list; then the failure
 *       reaches the atom's handler as an ERROR event at the next wait.</li>
 *   <li>{@code set} (a poll update, {@code IORING_POLL_UPDATE_EVENTS}, which re-reports a
 *       condition that already holds, as EPOLL_CTL_MOD does) and {@code remove} (a poll remove)
 *       are queued and go to the kernel with the next wait's {@code io_uring_enter}: one system
 *       call per loop turn. A full submission queue is submitted on the spot.</li>
 *   <li>A multishot poll that ends (a CQE without {@code IORING_CQE_F_MORE}: the kernel could
 *       not keep it, e.g. when the CQ ring was full, or cancelled it) is armed again with the current
 *       interest at the next wait, after the app handled the batch: a new poll reports what holds
 *       when it is armed, so a condition the app left unread is reported once more then (harmless
 *       for handlers that read until EAGAIN, as edge-triggered handlers must). -ECANCELED and
 *       -ENOENT of updates and removes, and -EALREADY of removes, mean the poll had already ended
 *       or was ending; the re-arm path covers them. An update answered -EALREADY came while the kernel
 *       was completing the poll, which kept its old events: it is repeated at the next wait.</li>
 * </ul>
 *
 * <h2>File references</h2>
 * A poll request holds a reference to the fd's file. An fd the app closes while registered
 * stays open in the kernel (the peer sees no close, the port stays bound) until {@code remove}
 * reaches the kernel with the next wait, or the poller closes. epoll drops a closed fd by
 * itself; io_uring does not.
 *
 * <h2>Memory ordering</h2>
 * The rings are shared with the kernel: the CQ tail and SQ head are read with acquire
 * semantics, the CQ head and SQ tail written with release semantics ({@link VarHandle}
 * getAcquire/setRelease on the mapped segments), as the kernel's io_uring ABI requires. Nothing
 * is allocated per call: the rings, SQEs and the wait's argument are made at open (the rings
 * sized by the poller's capacity, capped at {@link #MAX_SQ} and {@link #MAX_CQ}); the per-slot
 * arrays start with the slot table's size at open and follow it as it grows
 * ({@link #ensureSlots}, outside steady state).
 */
public final class IoUringBackend extends Backend {
    /** Test seam: the CQ ring's size (and the SQ ring's at most), to exercise CQ overflow. */
    static final String CQ_ENTRIES_PROPERTY = "ioatom.io_uring.cqEntries";

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    /** user_data bits 30-31: what a request is. */
    private static final int OP_POLL = 0;
    private static final int OP_UPDATE = 1;
    private static final int OP_REMOVE = 2;
    private static final int SLOT_MASK = (1 << 30) - 1;
    /** user_data written over a CQE this backend already handled: never a real token (op 3). */
    private static final long HANDLED = -1L;

    /** Most SQEs queued before they are submitted on the spot. */
    private static final int MAX_SQ = 1024;
    /** Most CQEs the ring holds; more wait in the kernel's overflow list (IORING_FEAT_NODROP). */
    private static final int MAX_CQ = 16384;
    /** Most events one wait returns; more stay in the ring for the next wait. */
    static final int MAX_BATCH = 4096;

    private static final System.Logger LOG = System.getLogger("org.ioatom");

    private final int ringFd;
    private final MemorySegment sqRing;
    private final MemorySegment cqRing;
    private final MemorySegment sqes;
    private final long sqRingSize;
    private final long cqRingSize;
    private final long sqesSize;
    private final boolean singleMmap;

    private final long sqHeadAt;
    private final long sqTailAt;
    private final long sqFlagsAt;
    private final int sqMask;
    private final int sqEntries;
    private final long cqHeadAt;
    private final long cqTailAt;
    private final long cqesAt;
    private final int cqMask;
    private final int cqEntries;
    /** Our copies of the indexes only this side advances. */
    private int sqTail;
    private int cqHead;

    /** The wait's io_uring_getevents_arg and its timespec. */
    private final MemorySegment waitArg;
    private final MemorySegment timeout;

    /** Per slot: whether registered, its generation, fd and interest, and whether a poll is armed. */
    private boolean[] live;
    private int[] generationOf;
    private int[] fdOf;
    private int[] interestOf;
    private boolean[] armed;
    /**
     * Slots whose poll ended, or whose update came while the kernel was completing the poll
     * (-EALREADY), to bring up to date at the next wait; and whether a slot is among them.
     */
    private int[] catchUp;
    private int catchUpCount;
    private boolean[] catchUpPending;
    /** Per slot: the wait in which it got a ready entry, and that entry's index (for merging). */
    private int[] seenWait;
    private int[] seenIndex;
    private int wait;
    /** Whether a multishot poll CQE with IORING_CQE_F_MORE was seen (the availability probe asks). */
    private boolean sawMultishot;

    /**
     * Sets up a ring and maps it.
     *
     * @param arena    the poller's arena
     * @param maxSlots the most slots the poller's table may grow to, including its wake-up slot
     * @param slots    the slots its table has at open
     * @throws SyscallException              if io_uring_setup or mmap fails
     * @throws UnsupportedOperationException if the kernel lacks a feature this backend needs
     */
    @SuppressWarnings("restricted") // the rings are the kernel's memory, mapped here
    public IoUringBackend(Arena arena, int maxSlots, int slots) throws SyscallException {
        super(arena, Math.min(maxSlots, MAX_BATCH));
        int cqWanted = Math.min(MAX_CQ, ceilPow2(Math.max(8, 2 * maxSlots)));
        int sqWanted = Math.min(MAX_SQ, ceilPow2(Math.max(4, maxSlots)));
        String seam = System.getProperty(CQ_ENTRIES_PROPERTY);
        if (seam != null) {
            cqWanted = Integer.parseInt(seam.trim());
            sqWanted = Math.min(sqWanted, cqWanted);
        }
        MemorySegment params = arena.allocate(IoUringParams.LAYOUT);
        params.set(ValueLayout.JAVA_INT, IoUringParams.FLAGS_OFFSET, IORING_SETUP_CQSIZE);
        params.set(ValueLayout.JAVA_INT, IoUringParams.CQ_ENTRIES_OFFSET, cqWanted);
        int fd = Syscalls.io_uring_setup(sqWanted, params);
        if (fd < 0) {
            throw new SyscallException("io_uring_setup", null, -1, -fd);
        }
        ringFd = fd;
        int features = params.get(ValueLayout.JAVA_INT, IoUringParams.FEATURES_OFFSET);
        String missing = missingFeatures(features);
        if (missing != null) {
            Syscalls.close(fd);
            throw new UnsupportedOperationException("io_uring is not available: the kernel lacks " + missing);
        }
        sqEntries = params.get(ValueLayout.JAVA_INT, IoUringParams.SQ_ENTRIES_OFFSET);
        cqEntries = params.get(ValueLayout.JAVA_INT, IoUringParams.CQ_ENTRIES_OFFSET);
        long sq = IoUringParams.SQ_OFF_OFFSET;
        long cq = IoUringParams.CQ_OFF_OFFSET;
        int sqArray = params.get(ValueLayout.JAVA_INT, sq + IoSqringOffsets.ARRAY_OFFSET);
        int cqes = params.get(ValueLayout.JAVA_INT, cq + IoCqringOffsets.CQES_OFFSET);
        long sqSize = sqArray + 4L * sqEntries;
        long cqSize = cqes + IoUringCqe.SIZE * cqEntries;
        singleMmap = (features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (singleMmap) {
            sqSize = cqSize = Math.max(sqSize, cqSize);
        }
        sqRingSize = sqSize;
        cqRingSize = cqSize;
        sqesSize = IoUringSqe.SIZE * sqEntries;
        long sqAddr = map(fd, sqSize, IORING_OFF_SQ_RING);
        long cqAddr = singleMmap || failed(sqAddr) ? sqAddr : map(fd, cqSize, IORING_OFF_CQ_RING);
        long sqesAddr = failed(cqAddr) ? cqAddr : map(fd, sqesSize, IORING_OFF_SQES);
        if (failed(sqesAddr)) {
            String what = failed(sqAddr) ? "SQ ring" : failed(cqAddr) ? "CQ ring" : "SQEs";
            int errno = (int) -(failed(sqAddr) ? sqAddr : failed(cqAddr) ? cqAddr : sqesAddr);
            if (!failed(sqAddr)) {
                Syscalls.munmap(MemorySegment.ofAddress(sqAddr), sqSize);
            }
            if (!singleMmap && !failed(sqAddr) && !failed(cqAddr)) {
                Syscalls.munmap(MemorySegment.ofAddress(cqAddr), cqSize);
            }
            Syscalls.close(fd);
            throw new SyscallException("mmap", what, fd, errno);
        }
        sqRing = MemorySegment.ofAddress(sqAddr).reinterpret(sqSize);
        cqRing = MemorySegment.ofAddress(cqAddr).reinterpret(cqSize);
        sqes = MemorySegment.ofAddress(sqesAddr).reinterpret(sqesSize);

        sqHeadAt = params.get(ValueLayout.JAVA_INT, sq + IoSqringOffsets.HEAD_OFFSET);
        sqTailAt = params.get(ValueLayout.JAVA_INT, sq + IoSqringOffsets.TAIL_OFFSET);
        sqFlagsAt = params.get(ValueLayout.JAVA_INT, sq + IoSqringOffsets.FLAGS_OFFSET);
        sqMask = sqRing.get(ValueLayout.JAVA_INT, params.get(ValueLayout.JAVA_INT, sq + IoSqringOffsets.RING_MASK_OFFSET));
        cqHeadAt = params.get(ValueLayout.JAVA_INT, cq + IoCqringOffsets.HEAD_OFFSET);
        cqTailAt = params.get(ValueLayout.JAVA_INT, cq + IoCqringOffsets.TAIL_OFFSET);
        cqesAt = cqes;
        cqMask = cqRing.get(ValueLayout.JAVA_INT, params.get(ValueLayout.JAVA_INT, cq + IoCqringOffsets.RING_MASK_OFFSET));
        // SQE i always sits at index i of the SQ array: the ring is filled in order.
        for (int i = 0; i < sqEntries; i++) {
            sqRing.set(ValueLayout.JAVA_INT, sqArray + 4L * i, i);
        }
        sqTail = (int) INT.getAcquire(sqRing, sqTailAt);
        cqHead = (int) INT.getAcquire(cqRing, cqHeadAt);

        waitArg = arena.allocate(IoUringGeteventsArg.LAYOUT);
        timeout = arena.allocate(Timespec.LAYOUT);
        waitArg.set(ValueLayout.JAVA_LONG, IoUringGeteventsArg.TS_OFFSET, timeout.address());
        live = new boolean[slots];
        generationOf = new int[slots];
        fdOf = new int[slots];
        interestOf = new int[slots];
        armed = new boolean[slots];
        seenWait = new int[slots];
        seenIndex = new int[slots];
        catchUp = new int[slots];
        catchUpPending = new boolean[slots];
    }

    /** The features this backend cannot do without, as words, or null when all are there. */
    static String missingFeatures(int features) {
        StringBuilder missing = new StringBuilder();
        if ((features & IORING_FEAT_NODROP) == 0) {
            missing.append("IORING_FEAT_NODROP (Linux 5.5)");
        }
        if ((features & IORING_FEAT_EXT_ARG) == 0) {
            missing.append(missing.isEmpty() ? "" : " and ").append("IORING_FEAT_EXT_ARG (Linux 5.11)");
        }
        return missing.isEmpty() ? null : missing.toString();
    }

    private static int ceilPow2(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /** Maps a part of the ring: its address, or -errno. */
    private static long map(int fd, long size, long offset) {
        return Syscalls.mmap(MemorySegment.NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
    }

    private static boolean failed(long mmapResult) {
        return mmapResult < 0 && mmapResult > -4096;
    }

    @Override
    public String name() {
        return "io_uring";
    }

    @Override
    public void ensureSlots(int slots) {
        if (slots <= live.length) {
            return;
        }
        live = Arrays.copyOf(live, slots);
        generationOf = Arrays.copyOf(generationOf, slots);
        fdOf = Arrays.copyOf(fdOf, slots);
        interestOf = Arrays.copyOf(interestOf, slots);
        armed = Arrays.copyOf(armed, slots);
        seenWait = Arrays.copyOf(seenWait, slots);
        seenIndex = Arrays.copyOf(seenIndex, slots);
        catchUp = Arrays.copyOf(catchUp, slots);
        catchUpPending = Arrays.copyOf(catchUpPending, slots);
    }

    /** {@return whether a multishot poll reported with IORING_CQE_F_MORE since open} */
    boolean sawMultishot() {
        return sawMultishot;
    }

    private static long token(int slot, int generation, int op) {
        return ((long) generation << 32) | ((long) op << 30) | slot;
    }

    private static int pollMask(int interest) {
        int ev = EPOLLET;
        if ((interest & READ) != 0) {
            ev |= EPOLLIN | EPOLLRDHUP;
        }
        if ((interest & WRITE) != 0) {
            ev |= EPOLLOUT;
        }
        return ev;
    }

    @Override
    public void register(int fd, int slot, int generation, int interest) throws SyscallException {
        long token = token(slot, generation, OP_POLL);
        catchUpPending[slot] = false;
        live[slot] = true;
        generationOf[slot] = generation;
        fdOf[slot] = fd;
        interestOf[slot] = interest;
        armed[slot] = true;
        int error;
        try {
            queuePollAdd(fd, interest, token);
            submitNow();
            error = takeFailure(token);
        } catch (SyscallException | RuntimeException e) {
            live[slot] = false;
            armed[slot] = false;
            throw e;
        }
        if (error != 0) {
            live[slot] = false;
            armed[slot] = false;
            throw new SyscallException("io_uring_enter", "POLL_ADD", fd, error);
        }
    }

    @Override
    public void modify(int fd, int slot, int generation, int interest) throws SyscallException {
        interestOf[slot] = interest;
        if (!armed[slot]) {
            armed[slot] = true;
            queuePollAdd(fd, interest, token(slot, generation, OP_POLL));
            return;
        }
        queueUpdate(slot, generation, interest);
    }

    private void queueUpdate(int slot, int generation, int interest) throws SyscallException {
        long base = nextSqe();
        sqes.set(ValueLayout.JAVA_BYTE, base + IoUringSqe.OPCODE_OFFSET, (byte) IORING_OP_POLL_REMOVE);
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.FD_OFFSET, -1);
        sqes.set(ValueLayout.JAVA_LONG, base + IoUringSqe.ADDR_OFFSET, token(slot, generation, OP_POLL));
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.LEN_OFFSET, IORING_POLL_UPDATE_EVENTS | IORING_POLL_ADD_MULTI);
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.POLL32_EVENTS_OFFSET, pollMask(interest));
        sqes.set(ValueLayout.JAVA_LONG, base + IoUringSqe.USER_DATA_OFFSET, token(slot, generation, OP_UPDATE));
        publish();
    }

    @Override
    public void deregister(int fd, int slot) throws SyscallException {
        boolean wasArmed = armed[slot];
        catchUpPending[slot] = false;
        live[slot] = false;
        armed[slot] = false;
        if (wasArmed) {
            queueRemove(slot, generationOf[slot]);
        }
    }

    /** Queues the removal of a registration's poll (it goes to the kernel with the next wait). */
    private void queueRemove(int slot, int generation) throws SyscallException {
        long base = nextSqe();
        sqes.set(ValueLayout.JAVA_BYTE, base + IoUringSqe.OPCODE_OFFSET, (byte) IORING_OP_POLL_REMOVE);
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.FD_OFFSET, -1);
        sqes.set(ValueLayout.JAVA_LONG, base + IoUringSqe.ADDR_OFFSET, token(slot, generation, OP_POLL));
        sqes.set(ValueLayout.JAVA_LONG, base + IoUringSqe.USER_DATA_OFFSET, token(slot, generation, OP_REMOVE));
        publish();
    }

    private void queuePollAdd(int fd, int interest, long token) throws SyscallException {
        long base = nextSqe();
        sqes.set(ValueLayout.JAVA_BYTE, base + IoUringSqe.OPCODE_OFFSET, (byte) IORING_OP_POLL_ADD);
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.FD_OFFSET, fd);
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.LEN_OFFSET, IORING_POLL_ADD_MULTI);
        sqes.set(ValueLayout.JAVA_INT, base + IoUringSqe.POLL32_EVENTS_OFFSET, pollMask(interest));
        sqes.set(ValueLayout.JAVA_LONG, base + IoUringSqe.USER_DATA_OFFSET, token);
        publish();
    }

    /** The offset of a zeroed SQE at the tail, submitting the queue first when it is full. */
    private long nextSqe() throws SyscallException {
        if (queued() == sqEntries) {
            submitNow();
            if (queued() == sqEntries) {
                throw new SyscallException("io_uring_enter", "submit", ringFd, Errno.EBUSY);
            }
        }
        long base = (long) (sqTail & sqMask) * IoUringSqe.SIZE;
        for (long i = 0; i < IoUringSqe.SIZE; i += 8) {
            sqes.set(ValueLayout.JAVA_LONG, base + i, 0L);
        }
        return base;
    }

    /** Makes the SQE written at the tail visible to the kernel. */
    private void publish() {
        sqTail++;
        INT.setRelease(sqRing, sqTailAt, sqTail);
    }

    /** SQEs written and not yet consumed by the kernel. */
    private int queued() {
        return sqTail - (int) INT.getAcquire(sqRing, sqHeadAt);
    }

    /** Submits the queue without waiting; failures the kernel posts as CQEs stay in the CQ ring. */
    private void submitNow() throws SyscallException {
        int n = queued();
        if (n == 0) {
            return;
        }
        // GETEVENTS with min_complete 0 does not wait, but runs deferred work, so that a request
        // that failed while submitted has its CQE in the ring when this returns.
        int rc = Syscalls.io_uring_enter(ringFd, n, 0, IORING_ENTER_GETEVENTS, MemorySegment.NULL, 0);
        if (rc < 0 && rc != -Errno.EINTR && rc != -Errno.EBUSY && rc != -Errno.EAGAIN) {
            throw new SyscallException("io_uring_enter", "submit", ringFd, -rc);
        }
    }

    /**
     * Finds a failed CQE of {@code token} among the CQEs not yet read, marks it handled so the
     * next wait skips it, and returns its errno; 0 if there is none.
     */
    private int takeFailure(long token) {
        int tail = (int) INT.getAcquire(cqRing, cqTailAt);
        for (int head = cqHead; head != tail; head++) {
            long base = cqesAt + (long) (head & cqMask) * IoUringCqe.SIZE;
            if (cqRing.get(ValueLayout.JAVA_LONG, base + IoUringCqe.USER_DATA_OFFSET) == token) {
                int res = cqRing.get(ValueLayout.JAVA_INT, base + IoUringCqe.RES_OFFSET);
                if (res < 0) {
                    cqRing.set(ValueLayout.JAVA_LONG, base + IoUringCqe.USER_DATA_OFFSET, HANDLED);
                    return -res;
                }
            }
        }
        return 0;
    }

    @Override
    public void await(long timeoutNanos) throws SyscallException {
        if (++wait == 0) {
            Arrays.fill(seenWait, 0);
            wait = 1;
        }
        catchUp();
        MemorySegment ts = Timeouts.nanos(timeout, timeoutNanos);
        waitArg.set(ValueLayout.JAVA_LONG, IoUringGeteventsArg.TS_OFFSET, ts.address());
        int minComplete = timeoutNanos == 0 ? 0 : 1;
        int rc = Syscalls.io_uring_enter(ringFd, queued(), minComplete, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                waitArg, IoUringGeteventsArg.SIZE);
        if (rc < 0 && rc != -Errno.EINTR && rc != -Errno.ETIME && rc != -Errno.EBUSY && rc != -Errno.EAGAIN) {
            throw new SyscallException("io_uring_enter", null, ringFd, -rc);
        }
        reap();
        // CQEs the ring had no room for wait in the kernel's overflow list (IORING_FEAT_NODROP);
        // an enter with GETEVENTS moves them into the ring, which reap() has just emptied.
        for (int round = 0; round < 64 && overflowed() && !ready.full(); round++) {
            rc = Syscalls.io_uring_enter(ringFd, 0, 0, IORING_ENTER_GETEVENTS, MemorySegment.NULL, 0);
            if (rc < 0 && rc != -Errno.EINTR && rc != -Errno.EBUSY && rc != -Errno.EAGAIN) {
                throw new SyscallException("io_uring_enter", "GETEVENTS", ringFd, -rc);
            }
            reap();
        }
    }

    private boolean overflowed() {
        return ((int) INT.getAcquire(sqRing, sqFlagsAt) & IORING_SQ_CQ_OVERFLOW) != 0;
    }

    /** Reads the CQ ring into the batch, merging per slot; stops early when the batch is full. */
    private void reap() throws SyscallException {
        int tail = (int) INT.getAcquire(cqRing, cqTailAt);
        int head = cqHead;
        while (head != tail) {
            long base = cqesAt + (long) (head & cqMask) * IoUringCqe.SIZE;
            long userData = cqRing.get(ValueLayout.JAVA_LONG, base + IoUringCqe.USER_DATA_OFFSET);
            int res = cqRing.get(ValueLayout.JAVA_INT, base + IoUringCqe.RES_OFFSET);
            int flags = cqRing.get(ValueLayout.JAVA_INT, base + IoUringCqe.FLAGS_OFFSET);
            if (!complete(userData, res, flags)) {
                break; // the batch is full: this CQE and the rest stay for the next wait
            }
            head++;
        }
        cqHead = head;
        INT.setRelease(cqRing, cqHeadAt, head);
    }

    /** Handles one CQE; false (and nothing done) if it needs a batch entry and there is no room. */
    private boolean complete(long userData, int res, int flags) throws SyscallException {
        if (userData == HANDLED) {
            return true;
        }
        int slot = (int) userData & SLOT_MASK;
        int generation = (int) (userData >>> 32);
        int op = (int) (userData >>> 30) & 3;
        if (op == OP_UPDATE && res == -Errno.EALREADY && current(slot, generation)) {
            // The poll was being completed when the update came and kept its old events: update
            // it again at the next wait (if it ended meanwhile, that wait arms it anew instead).
            later(slot);
            return true;
        }
        if (op == OP_UPDATE && res >= 0 && !current(slot, generation)) {
            // The kernel re-arms an updated poll after the update's own submission, so a remove
            // submitted with it (set, then remove, before one wait) can miss the poll and leave it
            // armed, holding the descriptor's file open: remove it again now that it is there.
            queueRemove(slot, generation);
            return true;
        }
        if (op == OP_REMOVE || op == OP_UPDATE) {
            // 0: done. -ENOENT/-EALREADY: the poll had ended or was ending (its own CQE re-arms
            // or is stale). Anything else is unexpected for this slot.
            if (res < 0 && res != -Errno.ENOENT && res != -Errno.EALREADY && res != -Errno.ECANCELED) {
                if (op == OP_UPDATE && current(slot, generation)) {
                    return report(slot, generation, ERROR);
                }
                LOG.log(System.Logger.Level.WARNING, "io_uring poll " + (op == OP_UPDATE ? "update" : "remove")
                        + " failed", new SyscallException("io_uring_enter", op == OP_UPDATE ? "POLL_UPDATE" : "POLL_REMOVE",
                        slot < fdOf.length ? fdOf[slot] : -1, -res));
            }
            return true;
        }
        if (!current(slot, generation)) {
            if ((flags & IORING_CQE_F_MORE) != 0) {
                queueRemove(slot, generation); // a removed registration's poll still armed: see above
            }
            return true; // removed (its -ECANCELED), or a reused slot's old poll: stale
        }
        boolean more = (flags & IORING_CQE_F_MORE) != 0;
        int ev;
        if (res >= 0) {
            ev = translate(res, interestOf[slot]);
            if (more) {
                sawMultishot = true;
            }
        } else if (res == -Errno.ECANCELED) {
            ev = 0; // cancelled by the kernel, not by us: armed again below
        } else {
            ev = ERROR;
        }
        if (ev != 0 && !canReport(slot, generation)) {
            return false;
        }
        if (!more) {
            armed[slot] = false;
            if (res >= 0 || res == -Errno.ECANCELED) {
                // Armed again at the next wait, after the app handled this batch: a new poll
                // reports what holds when it is armed, and by then the app has read.
                later(slot);
            }
        }
        return ev == 0 || report(slot, generation, ev);
    }

    /** Marks a slot for {@link #catchUp} at the next wait: its poll is armed or updated to the current interest. */
    private void later(int slot) {
        if (!catchUpPending[slot]) {
            catchUpPending[slot] = true;
            catchUp[catchUpCount++] = slot;
        }
    }

    /** Arms the polls that ended and repeats the updates that came too late, with the current interest. */
    private void catchUp() throws SyscallException {
        for (int i = 0; i < catchUpCount; i++) {
            int slot = catchUp[i];
            if (!catchUpPending[slot] || !live[slot]) {
                continue; // removed, or registered anew, since: nothing to catch up
            }
            catchUpPending[slot] = false;
            if (!armed[slot]) {
                armed[slot] = true;
                queuePollAdd(fdOf[slot], interestOf[slot], token(slot, generationOf[slot], OP_POLL));
            } else {
                queueUpdate(slot, generationOf[slot], interestOf[slot]);
            }
        }
        catchUpCount = 0;
    }

    private boolean current(int slot, int generation) {
        return slot < live.length && live[slot] && generationOf[slot] == generation;
    }

    private boolean canReport(int slot, int generation) {
        return (seenWait[slot] == wait && ready.generation(seenIndex[slot]) == generation) || !ready.full();
    }

    /** Adds events for a slot to the batch, or to the slot's entry if this wait already has one. */
    private boolean report(int slot, int generation, int ev) {
        if (seenWait[slot] == wait && ready.generation(seenIndex[slot]) == generation) {
            ready.addEvents(seenIndex[slot], ev);
            return true;
        }
        if (ready.full()) {
            return false;
        }
        seenWait[slot] = wait;
        seenIndex[slot] = ready.count();
        ready.add(slot, generation, ev);
        return true;
    }

    /** The poll mask of a CQE as event bits; a half-close counts as HUP only where READ is wanted, as for epoll. */
    private static int translate(int mask, int interest) {
        int out = 0;
        if ((mask & (EPOLLIN | EPOLLPRI)) != 0 && (interest & READ) != 0) {
            out |= READ;
        }
        if ((mask & EPOLLOUT) != 0 && (interest & WRITE) != 0) {
            out |= WRITE;
        }
        if ((mask & EPOLLHUP) != 0 || ((mask & EPOLLRDHUP) != 0 && (interest & READ) != 0)) {
            out |= HUP;
        }
        if ((mask & EPOLLERR) != 0) {
            out |= ERROR;
        }
        return out;
    }

    @Override
    public void close() {
        Syscalls.munmap(sqRing, sqRingSize);
        if (!singleMmap) {
            Syscalls.munmap(cqRing, cqRingSize);
        }
        Syscalls.munmap(sqes, sqesSize);
        // Closing the ring cancels every poll and drops the file references they hold.
        Syscalls.close(ringFd);
    }
}
