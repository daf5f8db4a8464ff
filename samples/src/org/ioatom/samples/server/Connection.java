package org.ioatom.samples.server;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import org.ioatom.IoAtom;
import org.ioatom.IoTimer;

/**
 * The native struct of one connection, with the {@link IoAtom} embedded first, and its field
 * accessors. Offsets come from {@link #LAYOUT}; none is typed by hand.
 */
final class Connection {
    private Connection() {}

    /** A chunk id meaning "no chunk". */
    static final int NO_CHUNK = -1;

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            IoAtom.LAYOUT.withName("io"),
            JAVA_INT.withName("slot"),      // index in the connection table
            JAVA_INT.withName("flags"),     // OPEN, PEER_EOF, CLOSING, LINGER, QUEUED, PARTIAL, TIMED_OUT
            JAVA_INT.withName("inChunk"),   // leftover chunk holding unprocessed input, or NO_CHUNK
            JAVA_INT.withName("inLength"),  // bytes of unprocessed input at the start of that chunk
            JAVA_INT.withName("outChunk"),  // leftover chunk holding unsent output, or NO_CHUNK
            JAVA_INT.withName("outStart"),  // first unsent byte in it
            JAVA_INT.withName("outEnd"),    // end of the unsent bytes
            MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(2, JAVA_LONG).withName("protocol"), // the protocol's own state
            IoTimer.LAYOUT.withName("timer"), // idle / request deadline, then the lingering close's
            JAVA_LONG.withName("lastInput")); // loop time (ns) of the last read that returned bytes

    static final long IO = LAYOUT.byteOffset(groupElement("io"));
    static final long SLOT = LAYOUT.byteOffset(groupElement("slot"));
    static final long FLAGS = LAYOUT.byteOffset(groupElement("flags"));
    static final long IN_CHUNK = LAYOUT.byteOffset(groupElement("inChunk"));
    static final long IN_LENGTH = LAYOUT.byteOffset(groupElement("inLength"));
    static final long OUT_CHUNK = LAYOUT.byteOffset(groupElement("outChunk"));
    static final long OUT_START = LAYOUT.byteOffset(groupElement("outStart"));
    static final long OUT_END = LAYOUT.byteOffset(groupElement("outEnd"));
    static final long PROTOCOL = LAYOUT.byteOffset(groupElement("protocol"));
    static final long PROTOCOL_SIZE = LAYOUT.select(groupElement("protocol")).byteSize();
    static final long TIMER = LAYOUT.byteOffset(groupElement("timer"));
    static final long LAST_INPUT = LAYOUT.byteOffset(groupElement("lastInput"));

    // Flags.
    static final int OPEN = 1;
    static final int PEER_EOF = 2;
    /** Close once the output queued so far is sent; process nothing more. */
    static final int CLOSING = 4;
    /** Closed by the server: reading and discarding what the peer still sends, until the timer runs. */
    static final int LINGER = 8;
    /** Requeued ({@code Poller.requeue}): it used up its rounds and continues in the next dispatch. */
    static final int QUEUED = 16;
    /** The unprocessed input is an incomplete request: only more input can make it useful. */
    static final int PARTIAL = 32;
    /** Its idle or request deadline passed: it is closing, and its timer now bounds that close. */
    static final int TIMED_OUT = 64;

    /** Prepares a struct for a newly accepted connection on {@code fd} in table slot {@code slot}. */
    static void init(MemorySegment c, int slot, int fd) {
        IoAtom.init(c, IO, fd);
        c.set(JAVA_INT, SLOT, slot);
        setFlags(c, OPEN);
        setInput(c, NO_CHUNK, 0);
        setOutput(c, NO_CHUNK, 0, 0);
        for (long at = PROTOCOL; at < PROTOCOL + PROTOCOL_SIZE; at += JAVA_LONG.byteSize()) {
            c.set(JAVA_LONG, at, 0);
        }
        setLastInput(c, 0);
    }

    static int fd(MemorySegment c) {
        return IoAtom.fd(c, IO);
    }

    static int slot(MemorySegment c) {
        return c.get(JAVA_INT, SLOT);
    }

    static int flags(MemorySegment c) {
        return c.get(JAVA_INT, FLAGS);
    }

    static boolean has(MemorySegment c, int flag) {
        return (flags(c) & flag) != 0;
    }

    static void setFlags(MemorySegment c, int flags) {
        c.set(JAVA_INT, FLAGS, flags);
    }

    static void addFlags(MemorySegment c, int flags) {
        setFlags(c, flags(c) | flags);
    }

    static void clearFlags(MemorySegment c, int flags) {
        setFlags(c, flags(c) & ~flags);
    }

    static int inChunk(MemorySegment c) {
        return c.get(JAVA_INT, IN_CHUNK);
    }

    static int inLength(MemorySegment c) {
        return c.get(JAVA_INT, IN_LENGTH);
    }

    static void setInput(MemorySegment c, int chunk, int length) {
        c.set(JAVA_INT, IN_CHUNK, chunk);
        c.set(JAVA_INT, IN_LENGTH, length);
    }

    static int outChunk(MemorySegment c) {
        return c.get(JAVA_INT, OUT_CHUNK);
    }

    static boolean hasPendingOutput(MemorySegment c) {
        return outChunk(c) != NO_CHUNK;
    }

    static int outStart(MemorySegment c) {
        return c.get(JAVA_INT, OUT_START);
    }

    static int outEnd(MemorySegment c) {
        return c.get(JAVA_INT, OUT_END);
    }

    static void setOutput(MemorySegment c, int chunk, int start, int end) {
        c.set(JAVA_INT, OUT_CHUNK, chunk);
        c.set(JAVA_INT, OUT_START, start);
        c.set(JAVA_INT, OUT_END, end);
    }

    static void setOutStart(MemorySegment c, int start) {
        c.set(JAVA_INT, OUT_START, start);
    }

    static long lastInput(MemorySegment c) {
        return c.get(JAVA_LONG, LAST_INPUT);
    }

    static void setLastInput(MemorySegment c, long nanos) {
        c.set(JAVA_LONG, LAST_INPUT, nanos);
    }
}
