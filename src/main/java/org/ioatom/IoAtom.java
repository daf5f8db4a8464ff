package org.ioatom;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

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
 *  | fd     | events | slot+1 | poller |
 *  +--------+--------+--------+--------+
 * </pre>
 * {@code fd} and {@code events} (the current interest) are the app's to read; the last two
 * words are the poller's bookkeeping (the registration slot, found in O(1), and which poller
 * holds it) and must not be written while the atom is registered.
 */
public final class IoAtom {
    private IoAtom() {}

    /** Ready to read, or the peer closed: read until the call would block. */
    public static final int READ = 1;
    /** Ready to write: write until the call would block. */
    public static final int WRITE = 2;
    /**
     * The peer closed its side (EPOLLRDHUP/EPOLLHUP, POLLHUP, EV_EOF). A hint: reading returns
     * the remaining data, then end-of-stream. Never reported by the select backend.
     */
    public static final int HUP = 4;
    /** An error is pending on the descriptor (EPOLLERR, POLLERR, EV_ERROR); the next call reports it. */
    public static final int ERROR = 8;

    /** The layout to embed: four {@code int}s, 16 bytes, 4-byte aligned. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_INT.withName("fd"),
            ValueLayout.JAVA_INT.withName("events"),
            ValueLayout.JAVA_INT.withName("slot"),
            ValueLayout.JAVA_INT.withName("poller"));

    /** {@code LAYOUT.byteSize()}. */
    public static final long SIZE = 16;

    static final long FD = 0;
    static final long EVENTS = 4;
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
        owner.set(ValueLayout.JAVA_INT, offset + EVENTS, 0);
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
     * Reads the events an atom is registered for.
     *
     * @param owner  the app's struct
     * @param offset the atom's offset inside it
     * @return the events the atom is registered for ({@link #READ}, {@link #WRITE}), 0 if none
     */
    public static int events(MemorySegment owner, long offset) {
        return owner.get(ValueLayout.JAVA_INT, offset + EVENTS);
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
