package org.ioatom.internal;

import static org.ioatom.internal.EventBits.READ;
import static org.ioatom.internal.EventBits.WRITE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.FdSet;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.SyscallException;

/**
 * POSIX select(2), called as pselect6 (the system call both ABIs have). Level-triggered underneath, like poll. FD_SET and friends are macros no
 * binding can call, so the fd_set bits are set here: bit {@code fd % 8} of byte {@code fd / 8},
 * which is what the C macros produce on the little-endian platforms ioatom supports, whatever
 * the word size of {@code fd_set}. Descriptors at or above FD_SETSIZE would write past the set:
 * they are refused before registration.
 */
public final class SelectBackend extends Backend {
    /** 1024 on Linux. */
    public static final int FD_SETSIZE = Linux.FD_SETSIZE;
    private static final long SET_SIZE = FdSet.SIZE;

    private final MemorySegment wantRead;
    private final MemorySegment wantWrite;
    private final MemorySegment readySetRead;
    private final MemorySegment readySetWrite;
    /** The wait's timeout; the kernel writes the time left into it, so it is set before each wait. */
    private final MemorySegment timeout;
    /** slot + 1 per descriptor, 0 where none. */
    private final int[] slotPlusOne = new int[FD_SETSIZE];
    private final int[] generationOf = new int[FD_SETSIZE];
    private int maxFd = -1;

    /**
     * Reserves the fd sets.
     *
     * @param arena the poller's arena
     * @param slots the number of slots the poller has (including its own wake-up slot)
     */
    public SelectBackend(Arena arena, int slots) {
        super(arena, Math.min(slots, FD_SETSIZE));
        wantRead = arena.allocate(SET_SIZE, 8);
        wantWrite = arena.allocate(SET_SIZE, 8);
        readySetRead = arena.allocate(SET_SIZE, 8);
        readySetWrite = arena.allocate(SET_SIZE, 8);
        timeout = arena.allocate(Timeouts.LAYOUT);
    }

    @Override
    public String name() {
        return "select";
    }

    @Override
    public void checkFd(int fd) {
        if (fd >= FD_SETSIZE) {
            throw new IllegalArgumentException("fd " + fd + " is too large for select (FD_SETSIZE " + FD_SETSIZE
                    + "); use epoll or poll");
        }
    }

    @Override
    public void register(int fd, int slot, int generation, int interest) {
        checkFd(fd);
        slotPlusOne[fd] = slot + 1;
        generationOf[fd] = generation;
        maxFd = Math.max(maxFd, fd);
        apply(fd, interest);
    }

    @Override
    public void modify(int fd, int slot, int generation, int interest) {
        apply(fd, interest);
    }

    @Override
    public void deregister(int fd, int slot) {
        apply(fd, 0);
        slotPlusOne[fd] = 0;
        while (maxFd >= 0 && slotPlusOne[maxFd] == 0) {
            maxFd--;
        }
    }

    private void apply(int fd, int interest) {
        setBit(wantRead, fd, (interest & READ) != 0);
        setBit(wantWrite, fd, (interest & WRITE) != 0);
    }

    private static void setBit(MemorySegment set, int fd, boolean on) {
        long at = fd >>> 3;
        byte mask = (byte) (1 << (fd & 7));
        byte b = set.get(ValueLayout.JAVA_BYTE, at);
        set.set(ValueLayout.JAVA_BYTE, at, (byte) (on ? b | mask : b & ~mask));
    }

    @Override
    public void await(long timeoutNanos) throws SyscallException {
        int nfds = maxFd + 1;
        long used = ((long) nfds + 63) / 64 * 8;
        MemorySegment.copy(wantRead, 0, readySetRead, 0, used);
        MemorySegment.copy(wantWrite, 0, readySetWrite, 0, used);
        int n = Syscalls.pselect6(nfds, readySetRead, readySetWrite, MemorySegment.NULL,
                Timeouts.nanos(timeout, timeoutNanos), MemorySegment.NULL);
        if (n < 0) {
            if (n == -Errno.EINTR) {
                return;
            }
            throw new SyscallException("pselect6", "nfds=" + nfds, -1, -n);
        }
        for (long off = 0; off < used && n > 0; off += 8) {
            long r = readySetRead.get(ValueLayout.JAVA_LONG, off);
            long w = readySetWrite.get(ValueLayout.JAVA_LONG, off);
            long any = r | w;
            while (any != 0 && !ready.full()) {
                int bit = Long.numberOfTrailingZeros(any);
                long mask = 1L << bit;
                any &= ~mask;
                int fd = (int) (off * 8) + bit;
                int ev = ((r & mask) != 0 ? READ : 0) | ((w & mask) != 0 ? WRITE : 0);
                n -= Long.bitCount(ev);
                ready.add(slotPlusOne[fd] - 1, generationOf[fd], ev);
            }
        }
    }

    @Override
    public void close() {
        // Nothing but memory, which the poller's arena owns.
    }
}
