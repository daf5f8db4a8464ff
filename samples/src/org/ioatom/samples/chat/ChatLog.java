package org.ioatom.samples.chat;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The recent lines of the whole server, once, in one native ring that every loop appends to and
 * every client reads from with a cursor of its own: a line sent to a thousand clients is stored
 * once, and a client costs a cursor, not a copy.
 *
 * <p>A record is an 8-byte header ({@code int} length of the line, {@code int} sender id) and the
 * line's bytes, never split by the ring's end: a record that does not fit there leaves a wrap
 * marker (length -1, or fewer than 8 bytes left) and goes to the start. Positions are absolute
 * byte counts since the start (a {@code long} never wraps); the byte of position {@code p} is at
 * {@code p % capacity}.
 *
 * <p>Threads: appends come from the loops (and their tasks) under this object's lock; readers
 * read without it, only records before {@link #head()}, which is published after the bytes. A
 * writer never overwrites a byte some client may still need: each loop publishes the lowest
 * cursor of its clients ({@link #publishLowest}) after each pass, and an append that would
 * overwrite a byte at or after the lowest published cursor fails instead (the caller retries
 * after the slow client was served or disconnected).
 */
final class ChatLog {
    /** Sender id of the lines the server itself writes (ticks): delivered to everyone. */
    static final int SERVER = -1;
    static final int HEADER = 8;
    private static final int WRAP = -1;

    private final MemorySegment ring;
    private final long capacity;
    /** Per loop: the lowest cursor of its clients, or the head it last saw when it has none. */
    private final AtomicLongArray lowest;
    private final ChatLoop[] loops;
    /** End of the last complete record. */
    private volatile long head;
    /** Bytes of line payload appended since the start (for the clients' pending counts). */
    private volatile long payloadHead;
    /** How many appends failed for want of room: a change asks every loop to publish its lowest cursor again. */
    private volatile long roomWanted;

    ChatLog(Arena arena, long capacity, ChatLoop[] loops) {
        this.ring = arena.allocate(capacity, 64);
        this.capacity = capacity;
        this.loops = loops;
        this.lowest = new AtomicLongArray(loops.length);
    }

    long head() {
        return head;
    }

    long payloadHead() {
        return payloadHead;
    }

    long roomWanted() {
        return roomWanted;
    }

    long capacity() {
        return capacity;
    }

    MemorySegment ring() {
        return ring;
    }

    void publishLowest(int loop, long position) {
        lowest.set(loop, position);
    }

    /**
     * Appends one line ({@code src[offset, offset + length)}, its {@code \n} included) from
     * {@code sender}.
     *
     * @return false when the ring has no room without overwriting what a client still needs
     */
    boolean append(MemorySegment src, long offset, int length, int sender) {
        synchronized (this) {
            long h = head;
            long at = h % capacity;
            long skip = capacity - at < HEADER + length ? capacity - at : 0;
            long end = h + skip + HEADER + length;
            long floor = Long.MAX_VALUE;
            for (int i = 0; i < loops.length; i++) {
                floor = Math.min(floor, lowest.get(i));
            }
            if (end - floor > capacity) {
                roomWanted = roomWanted + 1;
                return false;
            }
            if (skip > 0) {
                if (skip >= 4) {
                    ring.set(JAVA_INT_UNALIGNED, at, WRAP);
                }
                at = 0;
            }
            ring.set(JAVA_INT_UNALIGNED, at, length);
            ring.set(JAVA_INT_UNALIGNED, at + 4, sender);
            MemorySegment.copy(src, offset, ring, at + HEADER, length);
            payloadHead = payloadHead + length;
            head = end; // publishes the bytes above
        }
        return true;
    }

    /**
     * @return how many bytes from position {@code p} to the next record (0 when a record starts at
     *         {@code p}; positive at a wrap)
     */
    long wrapAt(long p) {
        long at = p % capacity;
        if (capacity - at < HEADER || ring.get(JAVA_INT_UNALIGNED, at) == WRAP) {
            return capacity - at;
        }
        return 0;
    }

    /** The length of the record starting at {@code p} (not a wrap). */
    int length(long p) {
        return ring.get(JAVA_INT_UNALIGNED, p % capacity);
    }

    int sender(long p) {
        return ring.get(JAVA_INT_UNALIGNED, p % capacity + 4);
    }

    /** Where the line of the record at {@code p} starts in {@link #ring()}. */
    long lineOffset(long p) {
        return p % capacity + HEADER;
    }

    /** Wakes every loop but {@code except} (-1: all), to deliver what was appended or retry an append. */
    void wakeLoops(int except) {
        for (int i = 0; i < loops.length; i++) {
            if (i != except && loops[i] != null) {
                loops[i].wakeup();
            }
        }
    }
}
