package org.ioatom.samples.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.IoException;
import org.ioatom.IoSocket;

/**
 * The loop's one output buffer, shared by all connections, and each connection's pending
 * output. A protocol assembles the replies to one read in the buffer, which is then written
 * with one call; what the socket does not take moves to a leftover chunk of the connection's
 * own, and the connection produces nothing more until that is sent.
 */
final class Output {
    private final ChunkPool chunks;
    private final MemorySegment buffer;
    /** The replies of the connection being processed: {@code buffer[0, length)}. */
    private int length;

    Output(Arena arena, ChunkPool chunks) {
        this.chunks = chunks;
        this.buffer = arena.allocate(ChunkPool.LARGE, 64);
    }

    /** Starts on a connection's replies (nothing of another connection's is left in the buffer). */
    void clear() {
        length = 0;
    }

    /** See {@link SampleServer#reserve}. */
    boolean reserve(MemorySegment c, int bytes) throws IoException {
        if (Connection.hasPendingOutput(c)) {
            return false;
        }
        if (ChunkPool.LARGE - length >= bytes) {
            return true;
        }
        return flush(c) && ChunkPool.LARGE - length >= bytes;
    }

    void append(MemorySegment src, long offset, long bytes) {
        MemorySegment.copy(src, offset, buffer, length, bytes);
        length += (int) bytes;
    }

    void appendByte(int b) {
        buffer.set(ValueLayout.JAVA_BYTE, length, (byte) b);
        length++;
    }

    void appendDecimal(long v) {
        length += Ascii.putLong(buffer, length, v);
    }

    /** See {@link SampleServer#emit}. */
    boolean emit(MemorySegment c, MemorySegment src, long offset, int bytes) throws IoException {
        if (!flush(c)) {
            return false;
        }
        long n = IoSocket.write(Connection.fd(c), src, offset, bytes);
        int sent = n > 0 ? (int) n : 0;
        if (sent < bytes) {
            keep(c, src, offset + sent, bytes - sent);
        }
        return true;
    }

    /**
     * Writes the buffer to the connection's socket; what the socket does not take becomes the
     * connection's pending output.
     *
     * @return whether everything was sent (or nothing was queued) and no output is pending
     */
    boolean flush(MemorySegment c) throws IoException {
        if (Connection.hasPendingOutput(c)) {
            return false;
        }
        int bytes = length;
        if (bytes == 0) {
            return true;
        }
        long n = IoSocket.write(Connection.fd(c), buffer, 0, bytes);
        int sent = n > 0 ? (int) n : 0;
        length = 0;
        if (sent == bytes) {
            return true;
        }
        keep(c, buffer, sent, bytes - sent);
        return false;
    }

    /** Writes the connection's pending output. @return whether all of it is gone */
    boolean sendPending(MemorySegment c) throws IoException {
        int chunk = Connection.outChunk(c);
        int start = Connection.outStart(c);
        int end = Connection.outEnd(c);
        long n = IoSocket.write(Connection.fd(c), chunks.segment(chunk), start, end - start);
        if (n > 0) {
            start += (int) n;
        }
        if (start == end) {
            drop(c);
            return true;
        }
        Connection.setOutStart(c, start);
        return false;
    }

    /** Forgets the connection's pending output, if any (it is closing). */
    void drop(MemorySegment c) {
        int chunk = Connection.outChunk(c);
        if (chunk != Connection.NO_CHUNK) {
            chunks.release(chunk);
            Connection.setOutput(c, Connection.NO_CHUNK, 0, 0);
        }
    }

    private void keep(MemorySegment c, MemorySegment src, long offset, int bytes) {
        int chunk = chunks.take(bytes);
        MemorySegment.copy(src, offset, chunks.segment(chunk), 0, bytes);
        Connection.setOutput(c, chunk, 0, bytes);
    }
}
