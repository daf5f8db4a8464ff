package org.ioatom.samples;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.PollerKind;

/**
 * What every sample server shares: one poller loop on its own thread, a listener, and a pool of
 * connection structs in native memory, each embedding an {@link IoAtom} and fixed input and
 * output buffers. A subclass supplies the protocol: {@link #process} turns bytes of input into
 * bytes of output.
 *
 * <h2>The connection struct</h2>
 * <pre>
 *   0  io        IoAtom (16 bytes)
 *  16  slot      int: index in the pool
 *  20  flags     int: OPEN, PEER_EOF, CLOSING, LINGER
 *  24  inStart   int: first unprocessed input byte
 *  28  inEnd     int: end of input read so far
 *  32  outStart  int: first unsent output byte
 *  36  outEnd    int: end of output queued
 *  40  deadline  long: when a lingering close gives up (ms)
 *  48  user      16 bytes for the protocol
 *  64  in        byte[inCapacity]
 *  ..  out       byte[outCapacity]
 * </pre>
 *
 * <h2>Back-pressure</h2>
 * Input is read only while the input buffer has room; the protocol consumes input only while
 * the output buffer has room for the reply; output is written until the socket would block.
 * So a peer that does not read fills its output buffer, then its input buffer, and then the
 * server stops reading from it (READ interest off) until its output drains: nothing is dropped
 * and nothing grows. WRITE interest is on only while output is pending.
 *
 * <p>Structs are allocated on first use and then recycled: after warm-up, serving requests
 * allocates nothing on the Java heap.
 */
abstract class SampleServer {
    /** Where things are in a connection struct. */
    static final long IO = 0;
    private static final long SLOT = 16;
    private static final long FLAGS = 20;
    private static final long IN_START = 24;
    private static final long IN_END = 28;
    private static final long OUT_START = 32;
    private static final long OUT_END = 36;
    private static final long DEADLINE = 40;
    /** 16 bytes the protocol may use; zero when a connection opens. */
    static final long USER = 48;
    /** Offset of the input buffer. */
    static final long IN = 64;

    private static final int OPEN = 1;
    private static final int PEER_EOF = 2;
    private static final int CLOSING = 4;
    private static final int LINGER = 8;
    /** On the run queue: it used up its rounds and continues after the current batch. */
    private static final int QUEUED = 16;

    /** Loop turns between looks at the clock and at stop requests. */
    private static final int TICK_MS = 500;
    /** Data-moving rounds per event before a busy connection yields to the others. */
    private static final int MAX_ROUNDS = 32;
    /** How long a connection closed by the server keeps reading (and discarding) what the peer still sends. */
    private static final int LINGER_MS = 2000;

    /** Host, port, poller kind and connection limit of a server. */
    record Settings(String host, int port, PollerKind kind, int maxConnections) {
        static final int DEFAULT_MAX_CONNECTIONS = 1024;

        /** Reads {@code --host}, {@code --port}, {@code --max-connections}; the kind comes from -Dioatom.poller. */
        static Settings from(Args args, int defaultPort) {
            return new Settings(args.string("host", "127.0.0.1"),
                    args.integer("port", defaultPort, 0, 65535),
                    PollerKind.fromProperty(),
                    args.integer("max-connections", DEFAULT_MAX_CONNECTIONS, 1, Poller.MAX_CAPACITY - 1));
        }

        static Settings loopback(PollerKind kind, int port) {
            return new Settings("127.0.0.1", port, kind, DEFAULT_MAX_CONNECTIONS);
        }

        String address() {
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private final String name;
    private final Settings settings;
    /** Capacity of each connection's input buffer. */
    final int inCapacity;
    /** Capacity of each connection's output buffer. */
    final int outCapacity;
    /** Offset of the output buffer in a connection struct. */
    final long out;
    private final long structSize;
    private final IoHandler connectionHandler = this::service;
    private final IoHandler listenerHandler = this::accept;

    // Owned by the loop thread once started.
    private Arena arena;
    private Poller poller;
    private int listenFd = -1;
    private MemorySegment listener;
    private MemorySegment[] connections;
    private int[] freeSlots;
    private int freeTop;
    private int highWater;
    /** Slots of connections that yielded, to be serviced again before the next wait. */
    private int[] runQueue;
    private int queued;
    /** While the queue is being run: the entry being serviced, and the end of the entries of this pass. */
    private int runCursor = -1;
    private int runLimit;
    private long listenerPausedUntil;
    private long nextTick;
    private long rejected;
    private long nextRejectReport;

    private Thread thread;
    private volatile boolean stopping;
    private volatile int openConnections;
    private volatile long acceptedConnections;
    private volatile int port = -1;
    private volatile String pollerName;
    private volatile Throwable failure;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    SampleServer(String name, Settings settings, int inCapacity, int outCapacity) {
        this.name = name;
        this.settings = settings;
        this.inCapacity = inCapacity;
        this.outCapacity = outCapacity;
        this.out = IN + inCapacity;
        this.structSize = (out + outCapacity + 7) & ~7L;
    }

    // ---- life cycle ----

    /**
     * Opens the poller and the listener on a new thread and serves from it.
     *
     * @return this, once listening
     * @throws IOException what opening the poller or the listener threw
     */
    final SampleServer start() throws IOException {
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

    /** @return the port the server listens on (the real one when 0 was asked for) */
    final int port() {
        return port;
    }

    /** @return the poller mechanism in use, e.g. {@code epoll} */
    final String pollerName() {
        return pollerName;
    }

    final String name() {
        return name;
    }

    /** @return how many connections are open now */
    final int openConnections() {
        return openConnections;
    }

    /** @return the id of the thread that runs the event loop (for allocation measurements) */
    final long loopThreadId() {
        return thread.threadId();
    }

    /** @return how many connections were accepted (and registered) since start */
    final long acceptedConnections() {
        return acceptedConnections;
    }

    /** @return why the loop stopped on its own, or null */
    final Throwable failure() {
        return failure;
    }

    /** Stops serving, closes every connection, the listener and the poller; waits for all that. Idempotent. */
    final void stop() {
        stopping = true;
        Poller p = poller;
        if (p != null) {
            p.wakeup();
        }
        join();
    }

    /** Waits (at most 30 s) until the loop has ended (after {@link #stop()} or a failure). */
    final void join() {
        join(30);
    }

    /** Waits until the loop has ended, at most {@code seconds}. */
    final void join(long seconds) {
        try {
            if (!done.await(seconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " did not stop within " + seconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Prints the ready line; it contains "Listening on port N". */
    void announce(PrintStream out) {
        out.println(name + ": Listening on port " + port + " (" + pollerName + " poller, at most "
                + settings.maxConnections() + " connections)");
    }

    private void run() {
        try {
            arena = Arena.ofConfined();
            poller = Poller.open(settings.kind(), settings.maxConnections() + 1);
            pollerName = poller.name();
            connections = new MemorySegment[settings.maxConnections()];
            freeSlots = new int[settings.maxConnections()];
            for (int i = 0; i < freeSlots.length; i++) {
                freeSlots[i] = freeSlots.length - 1 - i;
            }
            freeTop = freeSlots.length;
            // Pending entries are at most one per connection; during a pass the processed ones stay until its end.
            runQueue = new int[2 * settings.maxConnections()];
            opened(arena);
            listenFd = IoSocket.listen(settings.address());
            listener = arena.allocate(IoAtom.LAYOUT);
            IoAtom.init(listener, listenFd);
            poller.add(listener, READ, listenerHandler);
            port = IoSocket.localPort(listenFd);
            listening(listenFd);
        } catch (Throwable t) {
            failure = t;
            shutdown();
            ready.countDown();
            done.countDown();
            return;
        }
        ready.countDown();
        try {
            loop();
        } catch (Throwable t) {
            failure = t;
            System.err.println(name + ": event loop failed: " + t);
            t.printStackTrace();
        } finally {
            shutdown();
            done.countDown();
        }
    }

    private void loop() throws IOException {
        while (!stopping) {
            poller.await(queued > 0 ? 0 : TICK_MS);
            poller.dispatch();
            runQueued();
            long now = System.currentTimeMillis();
            if (now >= nextTick) {
                nextTick = now + TICK_MS;
                tick(now);
            }
        }
    }

    /** Closes whatever is open, on the loop thread (or on the starting thread after a failed start). */
    private void shutdown() {
        if (connections != null) {
            for (int i = 0; i < highWater; i++) {
                MemorySegment c = connections[i];
                if (c != null && (flags(c) & OPEN) != 0) {
                    close(c);
                }
            }
        }
        if (listenFd >= 0) {
            try {
                if (listener != null && IoAtom.isRegistered(listener, 0)) {
                    poller.remove(listener);
                }
            } catch (IOException | RuntimeException e) {
                // closing anyway
            }
            quietClose(listenFd);
            listenFd = -1;
        }
        if (poller != null) {
            poller.close();
        }
        try {
            closed();
        } finally {
            if (arena != null) {
                arena.close();
            }
        }
    }

    // ---- hooks ----

    /** Called on the loop thread before listening: allocate shared native state from {@code arena}. */
    void opened(Arena arena) {}

    /** The listener is open and registered. */
    void listening(int fd) {}

    /** Called on the loop thread after everything was closed, before the arena goes. */
    void closed() {}

    /** A connection was accepted (its struct is initialised and registered for READ). */
    void connectionOpened(MemorySegment c, int fd) throws IOException {}

    /** The peer closed its sending side (read returned end of stream). */
    void peerClosed(MemorySegment c, int fd) {}

    /** A connection failed with a system error; it is closed next. */
    void connectionFailed(MemorySegment c, int fd, IoException e) {}

    /**
     * Consumes complete requests from the input, {@code [inStart(c), inEnd(c))}, and appends
     * their replies to the output; stops at an incomplete request or when the output has no
     * room for the next reply (it is called again once output drained). Advances the input
     * with {@link #consume}.
     */
    abstract void process(MemorySegment c);

    /**
     * The input buffer is full, holds no complete request, and there is no output to wait for:
     * the request is larger than this server accepts. Reply (the output is empty) and
     * {@link #closeAfterReply}; the default just closes.
     */
    void inputOverflow(MemorySegment c) {
        closeAfterReply(c);
    }

    // ---- buffers, for the protocols ----

    static int flags(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, FLAGS);
    }

    private static void setFlags(MemorySegment c, int flags) {
        c.set(ValueLayout.JAVA_INT, FLAGS, flags);
    }

    static int inStart(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, IN_START);
    }

    static int inEnd(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, IN_END);
    }

    /** Marks input up to {@code newStart} (an index into the input buffer) as processed. */
    static void consume(MemorySegment c, int newStart) {
        c.set(ValueLayout.JAVA_INT, IN_START, newStart);
    }

    static int outStart(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, OUT_START);
    }

    static int outEnd(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, OUT_END);
    }

    /**
     * Makes room for {@code bytes} more output, moving unsent output to the front if that helps.
     *
     * @return whether there is room now
     */
    final boolean reserve(MemorySegment c, int bytes) {
        int end = outEnd(c);
        if (outCapacity - end >= bytes) {
            return true;
        }
        int start = outStart(c);
        if (start > 0 && outCapacity - (end - start) >= bytes) {
            MemorySegment.copy(c, out + start, c, out, end - start);
            c.set(ValueLayout.JAVA_INT, OUT_START, 0);
            c.set(ValueLayout.JAVA_INT, OUT_END, end - start);
            return true;
        }
        return false;
    }

    /** Appends bytes (room must have been reserved). */
    final void append(MemorySegment c, MemorySegment src, long offset, long length) {
        int end = outEnd(c);
        MemorySegment.copy(src, offset, c, out + end, length);
        c.set(ValueLayout.JAVA_INT, OUT_END, end + (int) length);
    }

    final void append(MemorySegment c, MemorySegment constant) {
        append(c, constant, 0, constant.byteSize());
    }

    final void appendByte(MemorySegment c, int b) {
        int end = outEnd(c);
        c.set(ValueLayout.JAVA_BYTE, out + end, (byte) b);
        c.set(ValueLayout.JAVA_INT, OUT_END, end + 1);
    }

    final void appendDecimal(MemorySegment c, long v) {
        int end = outEnd(c);
        int n = Ascii.putLong(c, out + end, v);
        c.set(ValueLayout.JAVA_INT, OUT_END, end + n);
    }

    /** @return whether the connection closes once its output is sent */
    static boolean isClosing(MemorySegment c) {
        return (flags(c) & CLOSING) != 0;
    }

    /** Stops reading and processing; once the output queued so far is sent, the connection closes. */
    static void closeAfterReply(MemorySegment c) {
        setFlags(c, flags(c) | CLOSING);
    }

    // ---- accepting ----

    private void accept(MemorySegment l, int events) throws IOException {
        while (true) {
            int fd;
            try {
                fd = IoSocket.accept(listenFd);
            } catch (IoException e) {
                // Out of descriptors (EMFILE/ENFILE) or the like: stop accepting for a moment
                // instead of spinning on a listener that stays readable.
                System.err.println(name + ": accept failed, pausing for 1 s: " + e.getMessage());
                poller.set(listener, 0);
                listenerPausedUntil = System.currentTimeMillis() + 1000;
                return;
            }
            if (fd == IoSocket.NO_MORE) {
                return;
            }
            if (freeTop == 0) {
                quietClose(fd);
                reportRejected();
                continue;
            }
            int slot = freeSlots[--freeTop];
            MemorySegment c = connections[slot];
            if (c == null) {
                c = arena.allocate(structSize, 8);
                connections[slot] = c;
                highWater = Math.max(highWater, slot + 1);
            }
            c.set(ValueLayout.JAVA_INT, SLOT, slot);
            setFlags(c, OPEN);
            c.set(ValueLayout.JAVA_INT, IN_START, 0);
            c.set(ValueLayout.JAVA_INT, IN_END, 0);
            c.set(ValueLayout.JAVA_INT, OUT_START, 0);
            c.set(ValueLayout.JAVA_INT, OUT_END, 0);
            c.set(ValueLayout.JAVA_LONG, DEADLINE, 0);
            c.set(ValueLayout.JAVA_LONG, USER, 0);
            c.set(ValueLayout.JAVA_LONG, USER + 8, 0);
            IoAtom.init(c, IO, fd);
            try {
                poller.add(c, IO, READ, connectionHandler);
            } catch (IllegalArgumentException | IllegalStateException e) {
                // e.g. select and an fd >= FD_SETSIZE
                System.err.println(name + ": cannot watch fd " + fd + ", closing it: " + e.getMessage());
                setFlags(c, 0);
                freeSlots[freeTop++] = slot;
                quietClose(fd);
                continue;
            }
            openConnections++;
            acceptedConnections++;
            try {
                IoSocket.setNoDelay(fd, true);
                connectionOpened(c, fd);
            } catch (IoException e) {
                fail(c, e);
            }
        }
    }

    private void reportRejected() {
        rejected++;
        long now = System.currentTimeMillis();
        if (now >= nextRejectReport) {
            nextRejectReport = now + 1000;
            System.err.println(name + ": connection limit (" + settings.maxConnections() + ") reached; "
                    + rejected + " connection(s) refused so far");
        }
    }

    /**
     * Services once more each connection that yielded before this point; those that yield
     * again during the pass are appended and wait for the next turn of the loop.
     */
    private void runQueued() {
        runLimit = queued;
        for (runCursor = 0; runCursor < runLimit; runCursor++) {
            MemorySegment c = connections[runQueue[runCursor]];
            int flags = flags(c);
            if ((flags & QUEUED) != 0) {
                setFlags(c, flags & ~QUEUED);
                service(c, 0);
            }
        }
        System.arraycopy(runQueue, runLimit, runQueue, 0, queued - runLimit);
        queued -= runLimit;
        runCursor = -1;
        runLimit = 0;
    }

    /** Takes a closing connection's pending entry off the run queue (its slot may be reused at once). */
    private void dequeue(int slot) {
        for (int i = queued - 1; i > runCursor; i--) {
            if (runQueue[i] == slot) {
                System.arraycopy(runQueue, i + 1, runQueue, i, queued - i - 1);
                queued--;
                if (i < runLimit) {
                    runLimit--;
                }
                return;
            }
        }
    }

    private void tick(long now) throws IOException {
        if (listenerPausedUntil != 0 && now >= listenerPausedUntil) {
            listenerPausedUntil = 0;
            poller.set(listener, READ);
        }
        for (int i = 0; i < highWater; i++) {
            MemorySegment c = connections[i];
            if (c != null && (flags(c) & LINGER) != 0 && now >= c.get(ValueLayout.JAVA_LONG, DEADLINE)) {
                close(c);
            }
        }
    }

    // ---- serving a connection ----

    private void service(MemorySegment c, int events) {
        int fd = IoAtom.fd(c, IO);
        try {
            if ((flags(c) & LINGER) != 0) {
                discard(c, fd);
                return;
            }
            boolean yielded = false;
            for (int rounds = 0; ; rounds++) {
                if (rounds == MAX_ROUNDS) {
                    yielded = true;
                    break;
                }
                boolean progress = false;
                // 1. Send what is queued.
                int os = outStart(c);
                int oe = outEnd(c);
                if (oe > os) {
                    long n = IoSocket.write(fd, c, out + os, oe - os);
                    if (n > 0) {
                        progress = true;
                        os += (int) n;
                        if (os == oe) {
                            os = 0;
                            oe = 0;
                            c.set(ValueLayout.JAVA_INT, OUT_END, 0);
                        }
                        c.set(ValueLayout.JAVA_INT, OUT_START, os);
                    }
                }
                int flags = flags(c);
                if ((flags & CLOSING) != 0) {
                    if (oe == 0) {
                        finish(c, fd);
                        return;
                    }
                    if (progress) {
                        continue;
                    }
                    break; // wait for WRITE
                }
                // 2. Turn input into output.
                boolean processed = false;
                int is = inStart(c);
                int ie = inEnd(c);
                if (ie > is) {
                    int outBefore = outEnd(c);
                    process(c);
                    int isAfter = inStart(c);
                    processed = isAfter != is || outEnd(c) != outBefore;
                    if (isAfter == ie) {
                        consume(c, 0);
                        c.set(ValueLayout.JAVA_INT, IN_END, 0);
                    }
                    if (processed) {
                        continue; // send it (or close) before reading more
                    }
                }
                boolean outputIdle = outEnd(c) == 0;
                // 3. Read more, if there is room.
                flags = flags(c);
                if ((flags & PEER_EOF) != 0) {
                    if (outputIdle || inEnd(c) == inStart(c)) {
                        // Nothing more will come and nothing more can be made of what is here.
                        closeAfterReply(c);
                        continue;
                    }
                } else {
                    is = inStart(c);
                    ie = inEnd(c);
                    if (ie == inCapacity && is > 0) {
                        MemorySegment.copy(c, IN + is, c, IN, ie - is);
                        ie -= is;
                        is = 0;
                        consume(c, 0);
                        c.set(ValueLayout.JAVA_INT, IN_END, ie);
                    }
                    if (ie < inCapacity) {
                        long n = IoSocket.read(fd, c, IN + ie, inCapacity - ie);
                        if (n > 0) {
                            c.set(ValueLayout.JAVA_INT, IN_END, ie + (int) n);
                            progress = true;
                        } else if (n == IoSocket.EOF) {
                            setFlags(c, flags | PEER_EOF);
                            peerClosed(c, fd);
                            progress = true;
                        }
                    } else if (outputIdle) {
                        inputOverflow(c);
                        if ((flags(c) & CLOSING) == 0) {
                            closeAfterReply(c);
                        }
                        progress = true;
                    }
                }
                if (!progress) {
                    break;
                }
            }
            if (yielded && (flags(c) & QUEUED) == 0) {
                // Let the other connections have a turn; this one goes on after the batch
                // (with data possibly left in the socket, no new event would come for it).
                setFlags(c, flags(c) | QUEUED);
                runQueue[queued++] = c.get(ValueLayout.JAVA_INT, SLOT);
            }
            watch(c);
        } catch (IoException e) {
            fail(c, e);
        } catch (IOException | RuntimeException e) {
            System.err.println(name + ": closing fd " + fd + " after an unexpected error: " + e);
            e.printStackTrace();
            close(c);
        }
    }

    /** Sets the interest the connection's state calls for: READ while there is room for input and more can come, WRITE while output is pending. */
    private void watch(MemorySegment c) throws IOException {
        int flags = flags(c);
        int want = 0;
        if ((flags & (PEER_EOF | CLOSING)) == 0 && inEnd(c) < inCapacity) {
            want |= READ;
        }
        if (outEnd(c) > outStart(c)) {
            want |= WRITE;
        }
        poller.set(c, IO, want);
    }

    /** All output is sent and the connection is to close. */
    private void finish(MemorySegment c, int fd) throws IOException {
        if ((flags(c) & PEER_EOF) != 0) {
            close(c);
            return;
        }
        // The peer may still be sending: closing now with unread input would reset the
        // connection and could destroy the reply in flight. Shut our side, read and discard
        // until the peer closes too or the deadline passes.
        IoSocket.shutdownOutput(fd);
        setFlags(c, flags(c) | LINGER);
        c.set(ValueLayout.JAVA_LONG, DEADLINE, System.currentTimeMillis() + LINGER_MS);
        consume(c, 0);
        c.set(ValueLayout.JAVA_INT, IN_END, 0);
        poller.set(c, IO, READ);
        discard(c, fd);
    }

    private void discard(MemorySegment c, int fd) throws IOException {
        for (int i = 0; i < 64; i++) {
            long n = IoSocket.read(fd, c, IN, inCapacity);
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

    private void fail(MemorySegment c, IoException e) {
        connectionFailed(c, IoAtom.fd(c, IO), e);
        close(c);
    }

    /** Closes a connection now and recycles its struct. */
    final void close(MemorySegment c) {
        int fd = IoAtom.fd(c, IO);
        try {
            if (IoAtom.isRegistered(c, IO)) {
                poller.remove(c, IO);
            }
        } catch (IOException | RuntimeException e) {
            // the fd is closed below either way
        }
        quietClose(fd);
        int slot = c.get(ValueLayout.JAVA_INT, SLOT);
        if ((flags(c) & QUEUED) != 0) {
            dequeue(slot);
        }
        setFlags(c, 0);
        freeSlots[freeTop++] = slot;
        openConnections--;
    }

    private static void quietClose(int fd) {
        try {
            IoSocket.close(fd);
        } catch (IoException e) {
            // nothing left to do about it
        }
    }
}
