package org.ioatom.samples.server;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.samples.server.Connection.OPEN;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import org.ioatom.HandlerException;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.TimerHandler;

/**
 * The loop thread's world: the arena, the poller, the listener and the connections with their
 * buffers. It accepts, runs {@code await} / {@code dispatch}, and closes
 * everything at the end. Used by the loop thread only. The wait has no timeout: the poller's
 * timers (idle and request deadlines, lingering closes, the accept pause) and
 * {@link Poller#wakeup()} (stop) end it.
 *
 * <p>Out of descriptors (EMFILE/ENFILE on accept): READ comes off the listener's atom and a
 * timer puts it back 1 s later ({@link #ACCEPT_PAUSE_NANOS}), so the loop does not spin on a
 * listener that stays readable; the waiting connections stay in the kernel's accept queue
 * meanwhile.
 */
final class EventLoop {
    /** How long accepting pauses after a failed accept (out of descriptors). */
    private static final long ACCEPT_PAUSE_NANOS = 1_000_000_000L;
    /** The listener's struct: its atom and the timer that ends an accept pause. */
    private static final StructLayout LISTENER = MemoryLayout.structLayout(
            IoAtom.LAYOUT.withName("io"), IoTimer.LAYOUT.withName("pause"));
    private static final long LISTENER_PAUSE = LISTENER.byteOffset(MemoryLayout.PathElement.groupElement("pause"));

    private final SampleServer server;
    private final Settings settings;
    private final Arena arena;
    private final Poller poller;
    private final ConnectionTable connections;
    private final ChunkPool chunks;
    private final Output output;
    private final ConnectionService service;
    private final IoHandler listenerHandler = this::accept;
    private final TimerHandler resumeAccepting = this::resumeAccepting;
    private int listenFd = -1;
    private MemorySegment listener;
    private long rejected;
    private long nextRejectReport;

    /** Opens the arena and the poller and reserves the connections' memory. */
    EventLoop(SampleServer server, Settings settings) throws IOException {
        this.server = server;
        this.settings = settings;
        arena = Arena.ofConfined();
        try {
            // A timer per connection, one for the listener, and the protocol's own.
            int timerCapacity = Math.min(Poller.MAX_CAPACITY, settings.maxConnections() + 1 + server.protocolTimers());
            poller = Poller.open(settings.kind(), settings.maxConnections() + 1, timerCapacity);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        connections = new ConnectionTable(arena, settings.maxConnections());
        chunks = new ChunkPool(arena, settings.maxConnections());
        output = new Output(arena, chunks);
        service = new ConnectionService(server, poller, connections, chunks, output, arena,
                settings.idleTimeoutNanos());
    }

    Poller poller() {
        return poller;
    }

    ChunkPool chunks() {
        return chunks;
    }

    Output output() {
        return output;
    }

    ConnectionService service() {
        return service;
    }

    /** Lets the protocol allocate its state, then opens and registers the listener. @return the port, 0 on a Unix socket */
    int listen() throws IOException {
        server.opened(arena);
        String unixPath = server.unixPath();
        listenFd = unixPath != null ? IoSocket.listenUnix(unixPath)
                : IoSocket.listen(settings.address(), IoSocket.DEFAULT_BACKLOG, server.reusePort());
        listener = arena.allocate(LISTENER);
        IoAtom.init(listener, listenFd);
        poller.add(listener, READ, listenerHandler);
        int port = unixPath != null ? 0 : IoSocket.localPort(listenFd);
        server.listening(listenFd);
        return port;
    }

    /** Serves until the server is stopping. */
    void run() throws IOException {
        while (!server.isStopping()) {
            poller.await(-1); // no limit: timers, requeued connections and wakeup() end the wait
            try {
                poller.dispatch();
            } catch (HandlerException e) {
                handlerFailed(e);
            }
        }
    }

    /**
     * A handler, timer or task threw past its own error handling: the connection it names is
     * closed and the loop goes on; a failure of the listener's code or of a task ends the loop.
     */
    private void handlerFailed(HandlerException e) throws HandlerException {
        MemorySegment owner = e.owner();
        if (owner == null || owner.address() == listener.address() || owner.byteSize() != Connection.LAYOUT.byteSize()
                || !Connection.has(owner, OPEN)) {
            throw e;
        }
        System.err.println(server.name() + ": closing fd " + Connection.fd(owner) + ": " + e.getMessage());
        service.close(owner);
    }

    /** The accept pause is over: READ goes back on the listener. */
    private void resumeAccepting(MemorySegment l) throws IOException {
        poller.set(l, READ);
    }

    /** Closes every connection, the listener, the poller and (after the protocol's hook) the arena. */
    void shutdown() {
        for (int i = 0; i < connections.highWater(); i++) {
            MemorySegment c = connections.get(i);
            if (c != null && Connection.has(c, OPEN)) {
                service.close(c);
            }
        }
        if (listenFd >= 0) {
            try {
                if (IoAtom.isRegistered(listener, 0)) {
                    poller.remove(listener);
                }
            } catch (IOException | RuntimeException e) {
                // closing anyway
            }
            SampleServer.quietClose(listenFd);
            listenFd = -1;
        }
        poller.close();
        try {
            server.closed();
        } finally {
            arena.close();
        }
    }

    private void accept(MemorySegment l, int events) throws IOException {
        while (true) {
            int fd;
            try {
                fd = IoSocket.accept(listenFd);
            } catch (IoException e) {
                System.err.println(server.name() + ": accept failed, pausing for 1 s: " + e.getMessage());
                poller.set(listener, 0);
                poller.timers().scheduleAfter(listener, LISTENER_PAUSE, ACCEPT_PAUSE_NANOS, resumeAccepting);
                return;
            }
            if (fd == IoSocket.NO_MORE) {
                return;
            }
            boolean reserved = server.reserveConnection();
            MemorySegment c = reserved ? connections.open(fd) : null;
            if (c == null) {
                if (reserved) {
                    server.releaseConnection();
                }
                SampleServer.quietClose(fd);
                reportRejected();
                continue;
            }
            try {
                poller.add(c, Connection.IO, READ, service.handler());
            } catch (IllegalArgumentException | IllegalStateException e) {
                // e.g. select and an fd >= FD_SETSIZE
                System.err.println(server.name() + ": cannot watch fd " + fd + ", closing it: " + e.getMessage());
                connections.free(c);
                SampleServer.quietClose(fd);
                server.releaseConnection();
                continue;
            }
            server.connectionAccepted();
            service.opened(c);
            try {
                if (server.unixPath() == null) {
                    IoSocket.setNoDelay(fd, true); // a TCP option: Unix sockets have no Nagle delay
                }
                server.connectionOpened(c, fd);
            } catch (IoException e) {
                service.fail(c, e);
            }
        }
    }

    private void reportRejected() {
        rejected++;
        long now = System.currentTimeMillis();
        if (now >= nextRejectReport) {
            nextRejectReport = now + 1000;
            System.err.println(server.name() + ": connection limit (" + settings.maxConnections() + ") reached; "
                    + rejected + " connection(s) refused so far");
        }
    }
}
