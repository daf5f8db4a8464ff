package org.ioatom.internal;

import static org.ioatom.internal.EventBits.ERROR;
import static org.ioatom.internal.EventBits.HUP;
import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;
import static org.ioatom.internal.linux.Linux.POLLERR;
import static org.ioatom.internal.linux.Linux.POLLHUP;
import static org.ioatom.internal.linux.Linux.POLLIN;
import static org.ioatom.internal.linux.Linux.POLLNVAL;
import static org.ioatom.internal.linux.Linux.POLLOUT;
import static org.ioatom.internal.linux.Linux.POLLPRI;
import static org.ioatom.internal.linux.Linux.POLLRDHUP;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Pollfd;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.SyscallException;

/**
 * POSIX poll(2). Level-triggered underneath: a condition is reported again on every wait until
 * the app clears it, which the edge-triggered contract permits (a spurious repeat, never a
 * lost wake-up). The pollfd array is dense: removing swaps the last entry into the hole, and
 * revents are read into the ready batch right after poll returns, so a removal can never leave a
 * stale revents behind for a later entry.
 *
 * <p>The pollfd array, the per-entry arrays and the batch have room for the slot table's current
 * size and follow it as it grows ({@link #ensureSlots}). A grown pollfd array comes from the
 * poller's arena like the first; the smaller ones it replaces stay there until the poller closes
 * (together at most as large as the current one).
 */
public final class PollBackend extends Backend {
    private static final long POLLFD_SIZE = Pollfd.SIZE;
    private static final long FD_OFFSET = Pollfd.FD_OFFSET;
    private static final long EVENTS_OFFSET = Pollfd.EVENTS_OFFSET;
    private static final long REVENTS_OFFSET = Pollfd.REVENTS_OFFSET;

    private MemorySegment pollfds;
    /** The wait's timeout, rewritten before each ppoll. */
    private final MemorySegment timeout;
    /** Slot and generation of each pollfd entry. */
    private int[] slotAt;
    private int[] generationAt;
    /** pollfd index of each slot. */
    private int[] indexOf;
    private int count;

    /**
     * Reserves the pollfd array for the slots the table has at open.
     *
     * @param arena the poller's arena
     * @param slots the number of slots the poller's table has at open (including its own wake-up slot)
     */
    public PollBackend(Arena arena, int slots) {
        super(arena, slots);
        pollfds = arena.allocate(POLLFD_SIZE * slots, 8);
        timeout = arena.allocate(Timeouts.LAYOUT);
        slotAt = new int[slots];
        generationAt = new int[slots];
        indexOf = new int[slots];
    }

    @Override
    public String name() {
        return "poll";
    }

    @Override
    public void ensureSlots(int slots) {
        if (slots <= indexOf.length) {
            return;
        }
        MemorySegment larger = arena.allocate(POLLFD_SIZE * slots, 8);
        MemorySegment.copy(pollfds, 0, larger, 0, POLLFD_SIZE * count);
        pollfds = larger;
        slotAt = Arrays.copyOf(slotAt, slots);
        generationAt = Arrays.copyOf(generationAt, slots);
        indexOf = Arrays.copyOf(indexOf, slots);
        ready.growTo(slots);
    }

    @Override
    public void register(int fd, int slot, int generation, int interest) {
        int i = count++;
        long base = i * POLLFD_SIZE;
        pollfds.set(ValueLayout.JAVA_INT, base + FD_OFFSET, watched(fd, interest));
        pollfds.set(ValueLayout.JAVA_SHORT, base + EVENTS_OFFSET, toPoll(interest));
        pollfds.set(ValueLayout.JAVA_SHORT, base + REVENTS_OFFSET, (short) 0);
        slotAt[i] = slot;
        generationAt[i] = generation;
        indexOf[slot] = i;
    }

    @Override
    public void modify(int fd, int slot, int generation, int interest) {
        int i = indexOf[slot];
        pollfds.set(ValueLayout.JAVA_INT, i * POLLFD_SIZE + FD_OFFSET, watched(fd, interest));
        pollfds.set(ValueLayout.JAVA_SHORT, i * POLLFD_SIZE + EVENTS_OFFSET, toPoll(interest));
        generationAt[i] = generation;
    }

    @Override
    public void deregister(int fd, int slot) {
        int i = indexOf[slot];
        int last = --count;
        if (i != last) {
            MemorySegment.copy(pollfds, last * POLLFD_SIZE, pollfds, i * POLLFD_SIZE, POLLFD_SIZE);
            slotAt[i] = slotAt[last];
            generationAt[i] = generationAt[last];
            indexOf[slotAt[i]] = i;
        }
    }

    /**
     * The pollfd's fd: negative (~fd) for an atom with no interest, which poll(2) then skips.
     * With events 0 alone it would still report POLLHUP/POLLERR, on every wait.
     */
    private static int watched(int fd, int interest) {
        return interest == 0 ? ~fd : fd;
    }

    private static short toPoll(int interest) {
        int ev = 0;
        if ((interest & READ) != 0) {
            ev |= POLLIN | POLLRDHUP;
        }
        if ((interest & WRITE) != 0) {
            ev |= POLLOUT;
        }
        return (short) ev;
    }

    @Override
    public void await(long timeoutNanos) throws SyscallException {
        int n = Syscalls.ppoll(pollfds, count, Timeouts.nanos(timeout, timeoutNanos), MemorySegment.NULL);
        if (n < 0) {
            if (n == -Errno.EINTR) {
                return;
            }
            throw new SyscallException("ppoll", "nfds=" + count, -1, -n);
        }
        for (int i = 0; i < count && n > 0 && !ready.full(); i++) {
            int rev = pollfds.get(ValueLayout.JAVA_SHORT, i * POLLFD_SIZE + REVENTS_OFFSET);
            if (rev != 0) {
                n--;
                ready.add(slotAt[i], generationAt[i], translate(rev));
            }
        }
    }

    private static int translate(int rev) {
        int out = 0;
        if ((rev & (POLLIN | POLLPRI)) != 0) {
            out |= READ;
        }
        if ((rev & POLLOUT) != 0) {
            out |= WRITE;
        }
        if ((rev & (POLLHUP | POLLRDHUP)) != 0) {
            out |= HUP;
        }
        if ((rev & (POLLERR | POLLNVAL)) != 0) {
            out |= ERROR;
        }
        return out;
    }

    @Override
    public void close() {
        // Nothing but memory, which the poller's arena owns.
    }
}
