package org.ioatom.samples.server;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.ioatom.samples.server.Connection.CLOSING;
import static org.ioatom.samples.server.Connection.LINGER;
import static org.ioatom.samples.server.Connection.NO_CHUNK;
import static org.ioatom.samples.server.Connection.PARTIAL;
import static org.ioatom.samples.server.Connection.PEER_EOF;
import static org.ioatom.samples.server.Connection.QUEUED;
import static org.ioatom.samples.server.Connection.TIMED_OUT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.TimerHandler;
import org.ioatom.Timers;

/**
 * Moves one connection's bytes: read into the loop's shared read buffer (after the
 * connection's kept input), let the protocol process them, write the replies, keep what is
 * left over, set the interest the connection's state calls for, and close it, lingering when
 * the server closes first.
 *
 * <h2>Edge-triggered discipline</h2>
 * A call reads until {@code WOULD_BLOCK}, with one exception: on a READ event without HUP, a
 * read that returns less than the free room ends the call (it emptied the socket's receive
 * queue, and the poller reports any later arrival as a new event). A connection that keeps
 * moving data yields after {@value #MAX_ROUNDS} rounds: it asks {@link Poller#requeue} for
 * another call in the next dispatch (flag {@link Connection#QUEUED}), so one busy peer cannot
 * starve the others and, with data possibly left in the socket, no readiness edge is lost.
 *
 * <h2>Timeouts</h2>
 * Each connection has one {@link IoTimer} ({@link Connection#TIMER}). While it is open the timer
 * runs at the earlier of the idle deadline (last input + idle timeout) and the protocol's
 * {@link SampleServer#requestDeadline}. Input only records the loop time in the struct: the
 * timer is not moved per read; when it runs early because of later input it is scheduled again
 * for the new deadline (one extra run per idle period of a busy connection, instead of a heap
 * update per read). Once the server closes a connection the same timer bounds the close: the
 * lingering read, or the sending of the last reply.
 */
final class ConnectionService {
    /** Data-moving rounds per event before a busy connection yields to the others. */
    private static final int MAX_ROUNDS = 32;
    /** How long a connection closed by the server keeps reading (and discarding) what the peer still sends. */
    private static final long LINGER_NANOS = 2_000_000_000L;

    private final SampleServer server;
    private final Poller poller;
    private final ConnectionTable connections;
    private final ChunkPool chunks;
    private final Output output;
    /** The shared read buffer: the input being processed is in it. */
    private final MemorySegment readBuffer;
    private final IoHandler handler = this::serve;
    private final TimerHandler timerHandler = this::onTimer;
    private final Timers timers;
    /** 0 = no idle timeout. */
    private final long idleNanos;

    ConnectionService(SampleServer server, Poller poller, ConnectionTable connections, ChunkPool chunks,
                      Output output, Arena arena, long idleNanos) {
        this.server = server;
        this.poller = poller;
        this.timers = poller.timers();
        this.idleNanos = idleNanos;
        this.connections = connections;
        this.chunks = chunks;
        this.output = output;
        this.readBuffer = arena.allocate(ChunkPool.LARGE, 64);
    }

    /** The handler to register connections' atoms with. */
    IoHandler handler() {
        return handler;
    }

    /** A connection was accepted and registered: its idle time starts now. */
    void opened(MemorySegment c) {
        Connection.setLastInput(c, poller.now());
        armTimer(c);
    }

    /** @return the earliest of the connection's idle deadline and the protocol's request deadline */
    private long nextDeadline(MemorySegment c) {
        long idle = idleNanos == 0 ? Long.MAX_VALUE : Connection.lastInput(c) + idleNanos;
        return Math.min(idle, server.requestDeadline(c));
    }

    /** Makes sure the timer runs no later than the connection's next deadline (it may run earlier). */
    void armTimer(MemorySegment c) {
        if (Connection.has(c, CLOSING | LINGER | TIMED_OUT)) {
            return; // the timer bounds the close now
        }
        long next = nextDeadline(c);
        if (next != Long.MAX_VALUE && (!IoTimer.isScheduled(c, Connection.TIMER) || IoTimer.deadline(c, Connection.TIMER) > next)) {
            timers.schedule(c, Connection.TIMER, next, timerHandler);
        }
    }

    /** The connection's timer ran: a deadline passed, or it ran early and goes again. */
    private void onTimer(MemorySegment c) {
        if (Connection.has(c, LINGER | TIMED_OUT)) {
            close(c); // the lingering read, or sending the last reply, took too long
            return;
        }
        long next = nextDeadline(c);
        if (poller.now() < next) {
            if (next != Long.MAX_VALUE) {
                timers.schedule(c, Connection.TIMER, next, timerHandler); // input came since it was set
            }
            return;
        }
        if (Connection.has(c, CLOSING)) {
            close(c); // its last reply waits for a peer that neither reads nor sends
            return;
        }
        Connection.addFlags(c, TIMED_OUT);
        try {
            output.clear();
            server.timedOut(c);
            output.flush(c);
        } catch (IoException e) {
            fail(c, e);
            return;
        }
        SampleServer.closeAfterReply(c);
        timers.scheduleAfter(c, Connection.TIMER, LINGER_NANOS, timerHandler); // bounds sending the reply
        serve(c, 0);
    }

    /** The handler of every connection's atom, also when a requeued connection goes on (flag QUEUED). */
    void serve(MemorySegment c, int events) {
        int fd = Connection.fd(c);
        if (Connection.has(c, QUEUED)) {
            // A requeued call: events is only the interest, not a fresh report; read until WOULD_BLOCK.
            Connection.clearFlags(c, QUEUED);
            events = 0;
        }
        try {
            if (Connection.has(c, LINGER)) {
                discard(c, fd);
                return;
            }
            // A read that returns less than it asked for emptied the socket at that moment, and
            // the poller reports any later arrival as a new READ event. That holds only when this
            // call is for a READ event that did not also report the peer's end of stream (a FIN
            // already queued behind the data would bring no new event): then one short read
            // ends the round, else reading goes on until WOULD_BLOCK.
            boolean shortReadEnds = (events & (IoAtom.READ | IoAtom.HUP)) == IoAtom.READ;
            boolean yielded = false;
            for (int rounds = 0; ; rounds++) {
                if (rounds == MAX_ROUNDS) {
                    yielded = true;
                    break;
                }
                // 1. Send what the socket refused before; nothing else happens until it is gone.
                if (Connection.hasPendingOutput(c) && !output.sendPending(c)) {
                    break; // wait for WRITE
                }
                int flags = Connection.flags(c);
                if ((flags & CLOSING) != 0) {
                    finish(c, fd);
                    return;
                }
                // 2. Input left over while output was blocked may hold complete requests.
                int kept = Connection.inLength(c);
                if (kept > 0 && (flags & PARTIAL) == 0) {
                    handle(c, 0);
                    continue;
                }
                if ((flags & PEER_EOF) != 0) {
                    // Nothing more will come and nothing more can be made of what is here.
                    SampleServer.closeAfterReply(c);
                    continue;
                }
                // 3. Read after the kept input (an incomplete request, shorter than the limit).
                int room = ChunkPool.LARGE - kept;
                long n = IoSocket.read(fd, readBuffer, kept, room);
                if (n == IoSocket.WOULD_BLOCK) {
                    break;
                }
                if (n == IoSocket.EOF) {
                    Connection.addFlags(c, PEER_EOF);
                    server.peerClosed(c, fd);
                    continue;
                }
                Connection.setLastInput(c, poller.now());
                handle(c, (int) n);
                if (n < room && shortReadEnds && !Connection.has(c, CLOSING)) {
                    break;
                }
            }
            watch(c, yielded);
            if (yielded) {
                // Let the other connections have a turn; this one goes on in the next dispatch
                // (with data possibly left in the socket, no new event would come for it).
                Connection.addFlags(c, QUEUED);
                poller.requeue(c, Connection.IO);
            }
        } catch (IoException e) {
            fail(c, e);
        } catch (IOException | RuntimeException e) {
            System.err.println(server.name() + ": closing fd " + fd + " after an unexpected error: " + e);
            e.printStackTrace();
            close(c);
        }
    }

    /**
     * Processes the kept input followed by {@code n} bytes just read into the read buffer after
     * it, sends the replies, and keeps what was not consumed.
     */
    private void handle(MemorySegment c, int n) throws IoException {
        int kept = Connection.inLength(c);
        if (kept > 0) {
            int chunk = Connection.inChunk(c);
            MemorySegment.copy(chunks.segment(chunk), 0, readBuffer, 0, kept);
            chunks.release(chunk);
            Connection.setInput(c, NO_CHUNK, 0);
        }
        int end = kept + n;
        output.clear();
        int consumed = server.process(c, readBuffer, 0, end);
        boolean sent = output.flush(c);
        Connection.clearFlags(c, PARTIAL);
        if (Connection.has(c, CLOSING) || consumed == end) {
            return; // a closing connection drops the rest of its input
        }
        if (sent && end - consumed >= server.requestLimit()) {
            // An incomplete request that long will never be accepted.
            server.inputOverflow(c, readBuffer, consumed, end);
            output.flush(c);
            SampleServer.closeAfterReply(c);
            return;
        }
        int chunk = chunks.take(end - consumed);
        MemorySegment.copy(readBuffer, consumed, chunks.segment(chunk), 0, end - consumed);
        Connection.setInput(c, chunk, end - consumed);
        if (sent) {
            Connection.addFlags(c, PARTIAL); // stopped at an incomplete request, not for want of output room
        }
    }

    /**
     * Sets the interest the connection's state calls for: WRITE while output is pending, else
     * READ while more can come, or while it yielded (a requeued atom is called only with some
     * interest; a spurious READ report at end of stream is harmless).
     */
    private void watch(MemorySegment c, boolean yielded) throws IOException {
        int want;
        if (Connection.hasPendingOutput(c)) {
            want = WRITE;
        } else if (yielded || !Connection.has(c, PEER_EOF | CLOSING)) {
            want = READ;
        } else {
            want = 0;
        }
        poller.set(c, Connection.IO, want);
    }

    /** All output is sent and the connection is to close. */
    private void finish(MemorySegment c, int fd) throws IOException {
        dropInput(c);
        if (Connection.has(c, PEER_EOF)) {
            close(c);
            return;
        }
        // The peer may still be sending: closing now with unread input would reset the
        // connection and could destroy the reply in flight. Shut our side, read and discard
        // until the peer closes too or the deadline passes.
        IoSocket.shutdownOutput(fd);
        Connection.addFlags(c, LINGER);
        timers.scheduleAfter(c, Connection.TIMER, LINGER_NANOS, timerHandler);
        poller.set(c, Connection.IO, READ);
        discard(c, fd);
    }

    private void dropInput(MemorySegment c) {
        int chunk = Connection.inChunk(c);
        if (chunk != NO_CHUNK) {
            chunks.release(chunk);
            Connection.setInput(c, NO_CHUNK, 0);
        }
    }

    private void discard(MemorySegment c, int fd) throws IOException {
        for (int i = 0; i < 64; i++) {
            long n = IoSocket.read(fd, readBuffer, 0, ChunkPool.LARGE);
            if (n == IoSocket.WOULD_BLOCK) {
                return;
            }
            if (n == IoSocket.EOF) {
                close(c);
                return;
            }
        }
        close(c); // still sending after all that: give up on it
    }

    /** Reports a connection's system error to the protocol and closes it. */
    void fail(MemorySegment c, IoException e) {
        server.connectionFailed(c, Connection.fd(c), e);
        close(c);
    }

    /** Closes a connection now and recycles its struct and chunks. */
    void close(MemorySegment c) {
        int fd = Connection.fd(c);
        try {
            if (IoAtom.isRegistered(c, Connection.IO)) {
                poller.remove(c, Connection.IO);
            }
        } catch (IOException | RuntimeException e) {
            // the fd is closed below either way
        }
        try {
            timers.cancel(c, Connection.TIMER); // before the struct is recycled
        } catch (RuntimeException e) {
            // the poller is closed: it forgot every timer
        }
        SampleServer.quietClose(fd); // a pending requeue is dropped with the registration
        dropInput(c);
        output.drop(c);
        server.connectionClosing(c);
        connections.free(c);
        server.connectionClosed();
    }
}
