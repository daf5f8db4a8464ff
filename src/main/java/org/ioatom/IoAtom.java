package org.ioatom;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.Objects;
import org.ioatom.internal.EventBits;

/**
 * An atom: the 16 bytes that tie a file descriptor to a poller. Apps embed it in their own
 * native structs and hand the poller the enclosing segment plus the atom's offset; the
 * handler gets that same segment back, so no lookup or allocation stands between an event
 * and the app's state.
 *
 * <pre>{@code
 * static final StructLayout CONN = MemoryLayout.structLayout(
 *         IoAtom.LAYOUT.withName("io"),
 *         ValueLayout.JAVA_INT.withName("bytesIn"),
 *         ValueLayout.JAVA_INT.withName("bytesOut"));
 * static final long IO = CONN.byteOffset(MemoryLayout.PathElement.groupElement("io"));
 *
 * MemorySegment conn = arena.allocate(CONN);
 * IoAtom.init(conn, IO, fd);
 * poller.add(conn, IO, IoAtom.READ | IoAtom.WRITE, handler);
 * }</pre>
 *
 * <pre>
 *  0        4        8        12       16
 *  +--------+--------+--------+--------+
 *  | fd     |interest| slot+1 | poller |
 *  +--------+--------+--------+--------+
 * </pre>
 * {@code fd} and {@code interest} (what the atom is registered for) are the app's to read; the last two
 * words are the poller's bookkeeping (the registration slot, found in O(1), and which poller
 * holds it) and must not be written while the atom is registered.
 */
public final class IoAtom {
    private IoAtom() {}

    /** Ready to read, or the peer closed: read until the call would block. */
    public static final int READ = EventBits.READ;
    /** Ready to write: write until the call would block. */
    public static final int WRITE = EventBits.WRITE;
    /**
     * The peer closed its side (EPOLLRDHUP/EPOLLHUP, POLLHUP, EV_EOF). A hint: reading returns
     * the remaining data, then end-of-stream. Never reported by the select backend.
     */
    public static final int HUP = EventBits.HUP;
    /** An error is pending on the descriptor (EPOLLERR, POLLERR, EV_ERROR); the next call reports it. */
    public static final int ERROR = EventBits.ERROR;

    /** The layout to embed: four {@code int}s, 16 bytes, 4-byte aligned. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("fd"),
            ValueLayout.JAVA_INT.withName("interest"),
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_INT.withName("poller"));

    /** {@code LAYOUT.byteSize()}. */
    public static final long SIZE = 16;

    static final long FD = 0;
    static final long INTEREST = 4;
    static final long SLOT = 8;
    static final long POLLER = 12;

    /**
     * Prepares an atom at offset 0 of {@code atom} for {@code fd}.
     *
     * @param atom the memory of the atom (at least {@link #SIZE} bytes)
     * @param fd   the file descriptor, which should be in non-blocking mode
     */
    public static void init(MemorySegment atom, int fd) {
        init(atom, 0, fd);
    }

    /**
     * Prepares the atom at {@code offset} of {@code owner} for {@code fd}. Must not be called on
     * a registered atom.
     *
     * @param owner  the app's struct
     * @param offset the atom's offset inside it
     * @param fd     the file descriptor, which should be in non-blocking mode
     */
    public static void init(MemorySegment owner, long offset, int fd) {
        if (owner.get(ValueLayout.JAVA_INT, offset + POLLER) != 0) {
            throw new IllegalStateException("atom (fd=" + fd(owner, offset) + ") is registered with a poller; "
                    + "remove it before init");
        }
        owner.set(ValueLayout.JAVA_INT, offset + FD, fd);
        owner.set(ValueLayout.JAVA_INT, offset + INTEREST, 0);
        owner.set(ValueLayout.JAVA_INT, offset + SLOT, 0);
    }

    /**
     * Reads the fd of an atom at offset 0.
     *
     * @param atom the memory of an atom at offset 0
     * @return the atom's file descriptor
     */
    public static int fd(MemorySegment atom) {
        return fd(atom, 0);
    }

    /**
     * Reads the fd of an atom.
     *
     * @param owner  the app's struct
     * @param offset the atom's offset inside it
     * @return the atom's file descriptor
     */
    public static int fd(MemorySegment owner, long offset) {
        return owner.get(ValueLayout.JAVA_INT, offset + FD);
    }

    /**
     * Reads what an atom is registered for: the interest last given to {@code add} or
     * {@code set}, not the events that arrived.
     *
     * @param owner  the app's struct
     * @param offset the atom's offset inside it
     * @return {@link #READ} and/or {@link #WRITE}, 0 if none or not registered
     */
    public static int interest(MemorySegment owner, long offset) {
        return owner.get(ValueLayout.JAVA_INT, offset + INTEREST);
    }

    /**
     * Tells whether an atom is registered.
     *
     * @param owner  the app's struct
     * @param offset the atom's offset inside it
     * @return whether the atom is registered with an open poller
     */
    public static boolean isRegistered(MemorySegment owner, long offset) {
        return owner.get(ValueLayout.JAVA_INT, offset + POLLER) != 0;
    }

    /** Rejects memory that cannot hold a registered atom; for {@link Poller}. */
    static void checkMemory(MemorySegment owner, long offset) {
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

    /** Rejects interest bits other than READ and WRITE; for {@link Poller}. */
    static void checkInterest(int interest) {
        if ((interest & ~EventBits.INTEREST) != 0) {
            throw new IllegalArgumentException("events must be READ and/or WRITE (or 0), got " + toString(interest));
        }
    }

    /** The fd of an atom about to be added; rejects one without an fd or already registered. */
    static int unregisteredFd(MemorySegment owner, long offset, int pollerId) {
        int fd = fd(owner, offset);
        if (fd < 0) {
            throw new IllegalArgumentException("atom has no file descriptor (fd=" + fd + "); call IoAtom.init first");
        }
        int tag = owner.get(ValueLayout.JAVA_INT, offset + POLLER);
        if (tag != 0) {
            throw new IllegalStateException("atom (fd=" + fd + ") is already registered with "
                    + (tag == pollerId ? "this poller" : "another poller") + "; remove it first");
        }
        return fd;
    }

    /** The slot an atom says it holds in poller {@code pollerId}, or -1 when it names another. */
    static int taggedSlot(MemorySegment owner, long offset, int pollerId) {
        return owner.get(ValueLayout.JAVA_INT, offset + POLLER) == pollerId
                ? owner.get(ValueLayout.JAVA_INT, offset + SLOT) - 1 : -1;
    }

    /** Writes the poller's words of an atom (and its interest); all zero when it leaves the poller. */
    static void tag(MemorySegment owner, long offset, int interest, int slotPlusOne, int pollerId) {
        owner.set(ValueLayout.JAVA_INT, offset + INTEREST, interest);
        owner.set(ValueLayout.JAVA_INT, offset + SLOT, slotPlusOne);
        owner.set(ValueLayout.JAVA_INT, offset + POLLER, pollerId);
    }

    /**
     * Names a set of event bits, e.g. {@code READ|HUP}. Allocates: for logs and messages only.
     *
     * @param events bits of {@link #READ}, {@link #WRITE}, {@link #HUP}, {@link #ERROR}
     * @return the names joined by {@code |}, or {@code 0}
     */
    public static String toString(int events) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"READ", "WRITE", "HUP", "ERROR"};
        for (int i = 0; i < names.length; i++) {
            if ((events & (1 << i)) != 0) {
                sb.append(sb.isEmpty() ? "" : "|").append(names[i]);
            }
        }
        int unknown = events & ~0xF;
        if (unknown != 0) {
            sb.append(sb.isEmpty() ? "" : "|").append("0x").append(Integer.toHexString(unknown));
        }
        return sb.isEmpty() ? "0" : sb.toString();
    }
}
