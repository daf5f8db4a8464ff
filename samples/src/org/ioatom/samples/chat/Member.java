package org.ioatom.samples.chat;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import org.ioatom.IoAtom;
import org.ioatom.IoTimer;

/**
 * One chat client's connection: a native struct with the {@link IoAtom} first and the
 * {@link IoTimer} beside it. Its place in the shared {@link ChatLog} is a cursor; its only
 * buffer is an input chunk, held while it has sent part of a line.
 */
final class Member {
    private Member() {}

    static final int NO_CHUNK = -1;

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            IoAtom.LAYOUT.withName("io"),
            IoTimer.LAYOUT.withName("timer"),  // idle deadline; once closing, the bound of the close
            JAVA_INT.withName("slot"),         // index in the loop's table
            JAVA_INT.withName("flags"),
            JAVA_INT.withName("id"),           // sender id of its lines in the log: loop << 24 | slot
            JAVA_INT.withName("inChunk"),      // chunk holding unprocessed input, or NO_CHUNK
            JAVA_INT.withName("inLength"),     // bytes of it
            JAVA_INT.withName("sent"),         // bytes of the record at the cursor already sent
            JAVA_INT.withName("notice"),       // the last line the server sends it before closing
            JAVA_INT.withName("noticeSent"),   // bytes of that line sent
            JAVA_LONG.withName("cursor"),      // log position of the next record to deliver
            JAVA_LONG.withName("payloadAtCursor"), // log payload bytes before the cursor
            JAVA_LONG.withName("closeAt"),     // closing: the log position to deliver up to
            JAVA_LONG.withName("lastInput"));  // loop time of its last input

    static final long IO = LAYOUT.byteOffset(groupElement("io"));
    static final long TIMER = LAYOUT.byteOffset(groupElement("timer"));
    private static final long SLOT = LAYOUT.byteOffset(groupElement("slot"));
    private static final long FLAGS = LAYOUT.byteOffset(groupElement("flags"));
    private static final long ID = LAYOUT.byteOffset(groupElement("id"));
    private static final long IN_CHUNK = LAYOUT.byteOffset(groupElement("inChunk"));
    private static final long IN_LENGTH = LAYOUT.byteOffset(groupElement("inLength"));
    private static final long SENT = LAYOUT.byteOffset(groupElement("sent"));
    private static final long NOTICE = LAYOUT.byteOffset(groupElement("notice"));
    private static final long NOTICE_SENT = LAYOUT.byteOffset(groupElement("noticeSent"));
    private static final long CURSOR = LAYOUT.byteOffset(groupElement("cursor"));
    private static final long PAYLOAD_AT_CURSOR = LAYOUT.byteOffset(groupElement("payloadAtCursor"));
    private static final long CLOSE_AT = LAYOUT.byteOffset(groupElement("closeAt"));
    private static final long LAST_INPUT = LAYOUT.byteOffset(groupElement("lastInput"));

    // Flags.
    static final int OPEN = 1;
    /** Its socket refused output: WRITE interest, no reading until the backlog is gone. */
    static final int BLOCKED = 2;
    /** Delivering up to closeAt, then the notice, then lingering; reads nothing more. */
    static final int CLOSING = 4;
    /** Notice sent, sending side shut: reading and discarding until the peer closes or the timer runs. */
    static final int LINGER = 8;
    /** The peer shut its sending side: closes as soon as its backlog is delivered. */
    static final int PEER_EOF = 32;
    /** Its input holds complete lines the log had no room for. */
    static final int STALLED = 64;

    static void init(MemorySegment m, int slot, int id, int fd) {
        m.fill((byte) 0);
        IoAtom.init(m, IO, fd);
        m.set(JAVA_INT, SLOT, slot);
        m.set(JAVA_INT, FLAGS, OPEN);
        m.set(JAVA_INT, ID, id);
        m.set(JAVA_INT, IN_CHUNK, NO_CHUNK);
    }

    static int fd(MemorySegment m) {
        return IoAtom.fd(m, IO);
    }

    static int slot(MemorySegment m) {
        return m.get(JAVA_INT, SLOT);
    }

    static int id(MemorySegment m) {
        return m.get(JAVA_INT, ID);
    }

    static boolean has(MemorySegment m, int flag) {
        return (m.get(JAVA_INT, FLAGS) & flag) != 0;
    }

    static void add(MemorySegment m, int flag) {
        m.set(JAVA_INT, FLAGS, m.get(JAVA_INT, FLAGS) | flag);
    }

    static void clear(MemorySegment m, int flag) {
        m.set(JAVA_INT, FLAGS, m.get(JAVA_INT, FLAGS) & ~flag);
    }

    static void setFlags(MemorySegment m, int flags) {
        m.set(JAVA_INT, FLAGS, flags);
    }

    static int inChunk(MemorySegment m) {
        return m.get(JAVA_INT, IN_CHUNK);
    }

    static int inLength(MemorySegment m) {
        return m.get(JAVA_INT, IN_LENGTH);
    }

    static void setInput(MemorySegment m, int chunk, int length) {
        m.set(JAVA_INT, IN_CHUNK, chunk);
        m.set(JAVA_INT, IN_LENGTH, length);
    }

    static int sent(MemorySegment m) {
        return m.get(JAVA_INT, SENT);
    }

    static void setSent(MemorySegment m, int sent) {
        m.set(JAVA_INT, SENT, sent);
    }

    static int notice(MemorySegment m) {
        return m.get(JAVA_INT, NOTICE);
    }

    static int noticeSent(MemorySegment m) {
        return m.get(JAVA_INT, NOTICE_SENT);
    }

    static void setNotice(MemorySegment m, int notice, int sent) {
        m.set(JAVA_INT, NOTICE, notice);
        m.set(JAVA_INT, NOTICE_SENT, sent);
    }

    static long cursor(MemorySegment m) {
        return m.get(JAVA_LONG, CURSOR);
    }

    static long payloadAtCursor(MemorySegment m) {
        return m.get(JAVA_LONG, PAYLOAD_AT_CURSOR);
    }

    static void setCursor(MemorySegment m, long cursor, long payloadAtCursor) {
        m.set(JAVA_LONG, CURSOR, cursor);
        m.set(JAVA_LONG, PAYLOAD_AT_CURSOR, payloadAtCursor);
    }

    static long closeAt(MemorySegment m) {
        return m.get(JAVA_LONG, CLOSE_AT);
    }

    static void setCloseAt(MemorySegment m, long at) {
        m.set(JAVA_LONG, CLOSE_AT, at);
    }

    static long lastInput(MemorySegment m) {
        return m.get(JAVA_LONG, LAST_INPUT);
    }

    static void setLastInput(MemorySegment m, long nanos) {
        m.set(JAVA_LONG, LAST_INPUT, nanos);
    }
}
