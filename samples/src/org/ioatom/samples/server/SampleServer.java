package org.ioatom.samples.server;

import static org.ioatom.samples.server.Connection.CLOSING;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.Timers;

/**
 * What every sample server shares: one poller loop on its own thread, a listener, and small
 * connection structs in native memory ({@link Connection}), each embedding an {@link IoAtom}.
 * A subclass supplies the protocol: {@link #process} turns bytes of input into bytes of output.
 *
 * <p>The parts, one job each: this class is what a protocol implements and calls, and the
 * server's start and stop; {@link EventLoop} runs the loop thread (poller, listener, accepting,
 * shutdown); {@link ConnectionService} moves each connection's bytes (read, process,
 * write, close); {@link ConnectionTable} holds the structs ({@link Connection}), {@link Output}
 * the shared output buffer and pending output, {@link ChunkPool} the leftover chunks;
 * {@link Launcher} is the {@code main} of every
 * server.
 *
 * <h2>Buffers</h2>
 * The loop owns one read buffer and one output buffer ({@value ChunkPool#LARGE} bytes each),
 * shared by all connections: a connection's data is read into the read buffer, processed there,
 * and its replies are assembled in the output buffer and written at once (or, for an echo,
 * written straight from the read buffer). A connection keeps bytes of its own only for what is
 * left over, in chunks from the {@link ChunkPool}; an idle connection holds none.
 *
 * <h2>Back-pressure</h2>
 * A connection with unsent output is not read from (READ interest off, WRITE on) until that
 * output is gone; the protocol consumes input only while replies can be sent. So a peer that
 * does not read costs at most one chunk of output and one of input, the server stops reading
 * from it, and nothing is dropped. WRITE interest is on only while output is pending.
 *
 * <p>Structs and chunks are allocated on first use and then recycled: after warm-up, serving
 * requests allocates nothing on the Java heap.
 *
 * <h2>Timeouts</h2>
 * With an idle timeout ({@link Settings#idleTimeoutNanos()}), a connection whose peer sent
 * nothing for that long is closed (what the server sends does not count); a protocol may add a
 * deadline of its own ({@link #requestDeadline}) and say a last word ({@link #timedOut}). Both
 * run on one {@link org.ioatom.IoTimer} in the connection struct: no allocation, no scan.
 */
public abstract class SampleServer implements Server {
    /** Size of the shared read and output buffers and of the large leftover chunks. */
    protected static final int CHUNK = ChunkPool.LARGE;
    /** Where the protocol's own 16 bytes are in a connection struct; zero when a connection opens. */
    protected static final long PROTOCOL_STATE = Connection.PROTOCOL;

    private final String name;
    private final Settings settings;
    /** The largest incomplete request a connection may hold; more gets {@link #inputOverflow}. */
    private final int requestLimit;
    /** The Unix socket listened on, or null for TCP. */
    private final String unixPath;
    /** The loop's output buffer, for the protocol's calls (on the loop thread). */
    private Output output;
    /** The loop's connections, for the protocol's timer calls (on the loop thread). */
    private ConnectionService service;

    private Thread thread;
    private volatile Poller poller;
    private volatile ChunkPool chunks;
    private volatile boolean stopping;
    private volatile int openConnections;
    private volatile long acceptedConnections;
    private volatile int port = -1;
    private volatile String pollerName;
    private volatile Throwable failure;
    private final CountDownLatch ready = new CountDownLatch(1);
    /** How many loops serve the port (SO_REUSEPORT when more than one). */
    private int loops = 1;
    /** With several loops: the connections open in all of them, against the limit; null with one. */
    private AtomicInteger sharedConnections;
    private final CountDownLatch done = new CountDownLatch(1);

    /**
     * @param requestLimit the largest incomplete request a connection may keep (at most
     *                     {@value #CHUNK} / 2); a longer one gets {@link #inputOverflow}
     */
    protected SampleServer(String name, Settings settings, int requestLimit) {
        this(name, settings, requestLimit, null);
    }

    /**
     * @param unixPath listen on this Unix domain socket ({@code @name}: abstract) instead of
     *                 the settings' host and port; null for TCP
     */
    protected SampleServer(String name, Settings settings, int requestLimit, String unixPath) {
        if (requestLimit < 1 || requestLimit > CHUNK / 2) {
            throw new IllegalArgumentException("request limit " + requestLimit + " not in 1.." + CHUNK / 2);
        }
        this.name = name;
        this.settings = settings;
        this.requestLimit = requestLimit;
        this.unixPath = unixPath;
    }

    // ---- life cycle, and what tests and tools look at ----

    /**
     * Opens the poller and the listener on a new thread and serves from it.
     *
     * @return this, once listening
     * @throws IOException what opening the poller or the listener threw
     */
    public final SampleServer start() throws IOException {
        if (thread != null) {
            throw new IllegalStateException(name + " already started");
        }
        thread = new Thread(this::run, name + "-loop");
        thread.start();
        try {
            ready.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + name, e);
        }
        Throwable f = failure;
        if (f != null) {
            join();
            if (f instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException(name + " failed to start: " + f, f);
        }
        return this;
    }

    /**
     * Makes this server one of {@code loops} that serve the same port, each with its own
     * SO_REUSEPORT listener, counting their connections in {@code connections} against the one
     * limit. Before {@link #start()}.
     *
     * @return this
     */
    public final SampleServer shareLoops(int loops, AtomicInteger connections) {
        if (thread != null) {
            throw new IllegalStateException(name + " already started");
        }
        this.loops = loops;
        this.sharedConnections = loops > 1 ? connections : null;
        return this;
    }

    /** @return how many loops serve this server's port (1 unless {@code --loops} asked for more) */
    protected final int loops() {
        return loops;
    }

    /** @return this loop's poller, for hand-offs from other loops ({@link Poller#execute}); null before start */
    protected final Poller loopPoller() {
        return poller;
    }

    /** @return whether the listener is opened with SO_REUSEPORT (several loops on one port) */
    final boolean reusePort() {
        return loops > 1;
    }

    /** @return whether one more connection fits the limit shared by all loops (always, with one loop: its table is the limit) */
    final boolean reserveConnection() {
        AtomicInteger shared = sharedConnections;
        if (shared == null) {
            return true;
        }
        if (shared.incrementAndGet() > settings.maxConnections()) {
            shared.decrementAndGet();
            return false;
        }
        return true;
    }

    /** Gives back what {@link #reserveConnection()} took. */
    final void releaseConnection() {
        AtomicInteger shared = sharedConnections;
        if (shared != null) {
            shared.decrementAndGet();
        }
    }

    /** @return whether the loop has ended (stopped, or failed) */
    @Override
    public final boolean hasEnded() {
        return done.getCount() == 0;
    }

    /** Stops serving, closes every connection, the listener and the poller; waits for all that. Idempotent. */
    public final void stop() {
        stopping = true;
        Poller p = poller;
        if (p != null) {
            p.wakeup();
        }
        join();
    }

    /** Waits (at most 30 s) until the loop has ended (after {@link #stop()} or a failure). */
    public final void join() {
        join(30);
    }

    /** Waits until the loop has ended, at most {@code seconds}. */
    public final void join(long seconds) {
        try {
            if (!done.await(seconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " did not stop within " + seconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Prints the ready line; on TCP its first line starts with "NAME: Listening on port N" (tools
     * wait for it), on a Unix socket it is exactly "Listening on unix socket PATH".
     */
    public void announce(PrintStream out) {
        if (unixPath != null) {
            out.println("Listening on unix socket " + unixPath);
            return;
        }
        out.println(name + ": Listening on port " + port + " (" + pollerName + " poller, "
                + (loops > 1 ? loops + " loops, " : "") + "at most " + settings.maxConnections() + " connections)");
    }

    public final String name() {
        return name;
    }

    /** @return host, port, poller kind, connection limit, idle timeout */
    public final Settings settings() {
        return settings;
    }

    /** @return the Unix socket the server listens on, or null when it listens on TCP */
    public final String unixPath() {
        return unixPath;
    }

    /** @return the port the server listens on (the real one when 0 was asked for) */
    public final int port() {
        return port;
    }

    /** @return the poller mechanism in use, e.g. {@code epoll} */
    public final String pollerName() {
        return pollerName;
    }

    /** @return why the loop stopped on its own, or null */
    public final Throwable failure() {
        return failure;
    }

    /** @return how many connections are open now */
    public final int openConnections() {
        return openConnections;
    }

    /** @return how many connections were accepted (and registered) since start */
    public final long acceptedConnections() {
        return acceptedConnections;
    }

    /** @return the id of the thread that runs the event loop (for allocation measurements) */
    public final long loopThreadId() {
        return thread.threadId();
    }

    /** @return how many leftover chunks (of either size) connections hold now */
    public final int chunksInUse() {
        ChunkPool c = chunks;
        return c == null ? 0 : c.inUse();
    }

    /** @return how many leftover chunks were ever allocated (the pools' size; they are reused) */
    public final int chunksAllocated() {
        ChunkPool c = chunks;
        return c == null ? 0 : c.allocated();
    }

    /** @return bytes of native memory of one connection struct (leftover chunks not counted) */
    public static long connectionStructBytes() {
        return Connection.LAYOUT.byteSize();
    }

    // ---- the protocol's part ----

    /** Called on the loop thread before listening: allocate shared native state from {@code arena}. */
    protected void opened(Arena arena) {}

    /** The listener is open and registered. */
    protected void listening(int fd) {}

    /** Called on the loop thread after everything was closed, before the arena goes. */
    protected void closed() {}

    /** A connection was accepted (its struct is initialised and registered for READ). */
    protected void connectionOpened(MemorySegment c, int fd) throws IOException {}

    /** The peer closed its sending side (read returned end of stream). */
    protected void peerClosed(MemorySegment c, int fd) {}

    /** A connection failed with a system error; it is closed next. */
    protected void connectionFailed(MemorySegment c, int fd, IoException e) {}

    /** The connection is being closed (for any reason); its struct is recycled right after: release what it holds. */
    protected void connectionClosing(MemorySegment c) {}

    /**
     * Consumes complete requests from {@code in[start, end)} (the shared read buffer, which holds
     * the connection's leftover input followed by what was just read) and queues their replies
     * with {@link #reserve} and the {@code append} methods (or {@link #emit}). Stops at an
     * incomplete request, when {@link #reserve} or {@link #emit} refuses (the socket is full: the
     * rest waits until it drained), or after {@link #closeAfterReply}.
     *
     * @return the end of the input consumed; what follows is kept for the next call
     */
    protected abstract int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException;

    /**
     * The connection holds an incomplete request of at least the request limit, {@code in[start,
     * end)}, and no output is pending: the request is larger than this server accepts. Reply and
     * {@link #closeAfterReply}; the default just closes.
     */
    protected void inputOverflow(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        closeAfterReply(c);
    }

    /**
     * The connection's idle timeout or its {@link #requestDeadline} passed. Called before the
     * connection closes; may queue a last reply ({@link #reserve}, {@code append}), which is sent
     * (if the socket takes it within the linger time) before the close. The default says nothing.
     */
    protected void timedOut(MemorySegment c) throws IoException {}

    /**
     * A protocol's own deadline for the connection (say, for a request to arrive whole), on the
     * {@link #now()} clock; {@link Long#MAX_VALUE} for none, the default. The loop asks for it
     * when the connection's timer runs; after setting an earlier one, call {@link #deadlineChanged}.
     */
    protected long requestDeadline(MemorySegment c) {
        return Long.MAX_VALUE;
    }

    /** The protocol's {@link #requestDeadline} moved earlier: the connection's timer runs by then. */
    protected final void deadlineChanged(MemorySegment c) {
        service.armTimer(c);
    }

    /** @return the loop time ({@link Poller#now()}, {@link System#nanoTime()} read once per wait) */
    protected final long now() {
        return poller.now();
    }

    /**
     * Timers the protocol schedules on the loop's poller besides the connections' own (say, one
     * per stored key with an expiry): the poller reserves room for that many more. Asked once,
     * on the loop thread, before {@link #opened}. The default is none.
     */
    protected int protocolTimers() {
        return 0;
    }

    /** @return the loop's timers, for the protocol's own (on the loop thread, from {@link #opened} on) */
    protected final Timers timers() {
        return poller.timers();
    }

    /** @return whether the connection keeps unprocessed input (the start of a request) */
    protected static boolean hasKeptInput(MemorySegment c) {
        return Connection.inLength(c) > 0;
    }

    /** @return the idle timeout in nanoseconds, 0 for none */
    protected final long idleTimeoutNanos() {
        return settings.idleTimeoutNanos();
    }

    /**
     * Makes room for {@code bytes} (at most {@value #CHUNK}) more output in the shared output
     * buffer, writing what it holds to the socket if needed.
     *
     * @return whether there is room now; false when the socket did not take everything (then
     *         stop: the rest is kept and sent before this connection is read again)
     */
    protected final boolean reserve(MemorySegment c, int bytes) throws IoException {
        return output.reserve(c, bytes);
    }

    /** Appends bytes (room must have been reserved). */
    protected final void append(MemorySegment src, long offset, long length) {
        output.append(src, offset, length);
    }

    protected final void append(MemorySegment constant) {
        output.append(constant, 0, constant.byteSize());
    }

    protected final void appendByte(int b) {
        output.appendByte(b);
    }

    protected final void appendDecimal(long v) {
        output.appendDecimal(v);
    }

    /**
     * Sends {@code length} (at most {@value #CHUNK}) bytes of {@code src} after the output
     * queued so far, without copying them into the output buffer; what the socket does not take
     * is kept.
     *
     * @return whether the bytes were taken; false if earlier output is still pending (then stop)
     */
    protected final boolean emit(MemorySegment c, MemorySegment src, long offset, int length) throws IoException {
        return output.emit(c, src, offset, length);
    }

    /** @return whether the connection closes once its output is sent */
    protected static boolean isClosing(MemorySegment c) {
        return Connection.has(c, CLOSING);
    }

    /** Stops reading and processing; once the output queued so far is sent, the connection closes. */
    protected static void closeAfterReply(MemorySegment c) {
        Connection.addFlags(c, CLOSING);
    }

    // ---- the loop thread ----

    private void run() {
        EventLoop loop = null;
        try {
            loop = new EventLoop(this, settings);
            output = loop.output();
            service = loop.service();
            chunks = loop.chunks();
            poller = loop.poller();
            pollerName = poller.name();
            port = loop.listen();
        } catch (Throwable t) {
            failure = t;
            if (loop != null) {
                loop.shutdown();
            }
            ready.countDown();
            done.countDown();
            return;
        }
        ready.countDown();
        try {
            loop.run();
        } catch (Throwable t) {
            failure = t;
            System.err.println(name + ": event loop failed: " + t);
            t.printStackTrace();
        } finally {
            loop.shutdown();
            done.countDown();
        }
    }

    final boolean isStopping() {
        return stopping;
    }

    /** A connection was accepted and registered (on the loop thread). */
    final void connectionAccepted() {
        openConnections++;
        acceptedConnections++;
    }

    /** The largest incomplete request a connection may hold. */
    final int requestLimit() {
        return requestLimit;
    }

    /** A connection was closed (on the loop thread). */
    final void connectionClosed() {
        openConnections--;
        releaseConnection();
    }

    static void quietClose(int fd) {
        try {
            IoSocket.close(fd);
        } catch (IoException e) {
            // nothing left to do about it
        }
    }
}
