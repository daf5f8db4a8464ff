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
 * small connection structs in native memory, each embedding an {@link IoAtom}. A subclass
 * supplies the protocol: {@link #process} turns bytes of input into bytes of output.
 *
 * <h2>Buffers</h2>
 * The loop owns one {@value #CHUNK}-byte read buffer and one {@value #CHUNK}-byte output buffer,
 * shared by all connections: a connection's data is read into the read buffer, processed there,
 * and its replies are assembled in the output buffer and written at once (or, for an echo,
 * written straight from the read buffer). A connection keeps bytes of its own only for what is
 * left over: the unprocessed end of its input (an incomplete request, or requests that waited
 * for output room) and the output its socket did not take. Those live in chunks of
 * {@value #SMALL_CHUNK} bytes (when they fit) or {@value #CHUNK} bytes, from pools that grow to
 * the largest number in use at once and are reused after that; an idle connection holds none.
 *
 * <h2>The connection struct</h2>
 * <pre>
 *   0  io        IoAtom (16 bytes)
 *  16  slot      int: index in the pool
 *  20  flags     int: OPEN, PEER_EOF, CLOSING, LINGER, QUEUED, PARTIAL
 *  24  inChunk   int: chunk holding unprocessed input, or -1
 *  28  inLength  int: bytes of unprocessed input at the start of that chunk
 *  32  outChunk  int: chunk holding unsent output, or -1
 *  36  outStart  int: first unsent byte in it
 *  40  outEnd    int: end of the unsent bytes
 *  44  (unused)
 *  48  user      16 bytes for the protocol
 *  64  deadline  long: when a lingering close gives up (ms)
 *  72
 * </pre>
 *
 * <h2>Back-pressure</h2>
 * A connection with unsent output is not read from (READ interest off, WRITE on) until that
 * output is gone; the protocol consumes input only while replies can be sent. So a peer that
 * does not read costs at most one chunk of output and one chunk of input (64 KiB each), the server stops
 * reading from it, and nothing is dropped. WRITE interest is on only while output is pending.
 *
 * <p>Structs and chunks are allocated on first use and then recycled: after warm-up, serving
 * requests allocates nothing on the Java heap.
 */
abstract class SampleServer {
    /** Where things are in a connection struct. */
    static final long IO = 0;
    private static final long SLOT = 16;
    private static final long FLAGS = 20;
    private static final long IN_CHUNK = 24;
    private static final long IN_LENGTH = 28;
    private static final long OUT_CHUNK = 32;
    private static final long OUT_START = 36;
    private static final long OUT_END = 40;
    /** 16 bytes the protocol may use; zero when a connection opens. */
    static final long USER = 48;
    private static final long DEADLINE = 64;
    private static final long STRUCT_SIZE = 72;

    /** Size of the shared read and output buffers and of the large leftover chunks. */
    static final int CHUNK = 64 * 1024;
    /** Size of the small leftover chunks, for the common short leftover (the start of a request). */
    static final int SMALL_CHUNK = 2 * 1024;

    private static final int OPEN = 1;
    private static final int PEER_EOF = 2;
    private static final int CLOSING = 4;
    private static final int LINGER = 8;
    /** On the run queue: it used up its rounds and continues after the current batch. */
    private static final int QUEUED = 16;
    /** The unprocessed input is an incomplete request: only more input can make it useful. */
    private static final int PARTIAL = 32;

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
    /** The largest incomplete request a connection may hold; more gets {@link #inputOverflow}. */
    private final int requestLimit;
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
    /** The shared read buffer: the input being processed is in it. */
    private MemorySegment readBuffer;
    /** The shared output buffer: replies of the connection being processed, {@code [0, outLength)}. */
    private MemorySegment outBuffer;
    private int outLength;
    /**
     * Leftover chunks by size class (0: {@value #CHUNK} bytes, 1: {@value #SMALL_CHUNK} bytes),
     * allocated on first need; the free ones of class k are on the stack
     * {@code freeChunks[k][0, freeChunkTop[k])}. A chunk id is {@code index << 1 | class}.
     */
    private final MemorySegment[][] chunks = new MemorySegment[2][];
    private final int[] chunkCount = new int[2];
    private final int[][] freeChunks = new int[2][];
    private final int[] freeChunkTop = new int[2];
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
    private volatile int chunksInUse;
    private volatile int chunksAllocated;
    private volatile long acceptedConnections;
    private volatile int port = -1;
    private volatile String pollerName;
    private volatile Throwable failure;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);

    /**
     * @param requestLimit the largest incomplete request a connection may keep (at most
     *                     {@value #CHUNK} / 2); a longer one gets {@link #inputOverflow}
     */
    SampleServer(String name, Settings settings, int requestLimit) {
        if (requestLimit < 1 || requestLimit > CHUNK / 2) {
            throw new IllegalArgumentException("request limit " + requestLimit + " not in 1.." + CHUNK / 2);
        }
        this.name = name;
        this.settings = settings;
        this.requestLimit = requestLimit;
    }

    /** @return bytes of native memory of one connection struct (leftover chunks not counted) */
    static long connectionStructBytes() {
        return STRUCT_SIZE;
    }

    /** @return how many leftover chunks (of either size) connections hold now */
    final int chunksInUse() {
        return chunksInUse;
    }

    /** @return how many leftover chunks (of either size) were ever allocated (the pools' size; they are reused) */
    final int chunksAllocated() {
        return chunksAllocated;
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
            readBuffer = arena.allocate(CHUNK, 64);
            outBuffer = arena.allocate(CHUNK, 64);
            // Each connection holds at most one input and one output chunk; the tables grow (by
            // doubling, up to that bound) only when the pool does.
            for (int k = 0; k < 2; k++) {
                chunks[k] = new MemorySegment[Math.min(64, 2 * settings.maxConnections())];
                freeChunks[k] = new int[chunks[k].length];
            }
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
     * Consumes complete requests from {@code in[start, end)} (the shared read buffer, which holds
     * the connection's leftover input followed by what was just read) and queues their replies
     * with {@link #reserve} and the {@code append} methods (or {@link #emit}). Stops at an
     * incomplete request, when {@link #reserve} or {@link #emit} refuses (the socket is full: the
     * rest waits until it drained), or after {@link #closeAfterReply}.
     *
     * @return the end of the input consumed; what follows is kept for the next call
     */
    abstract int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException;

    /**
     * The connection holds an incomplete request of at least the request limit, {@code in[start,
     * end)}, and no output is pending: the request is larger than this server accepts. Reply and
     * {@link #closeAfterReply}; the default just closes.
     */
    void inputOverflow(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        closeAfterReply(c);
    }

    // ---- output, for the protocols ----

    static int flags(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, FLAGS);
    }

    private static void setFlags(MemorySegment c, int flags) {
        c.set(ValueLayout.JAVA_INT, FLAGS, flags);
    }

    private static boolean hasPendingOutput(MemorySegment c) {
        return c.get(ValueLayout.JAVA_INT, OUT_CHUNK) >= 0;
    }

    /**
     * Makes room for {@code bytes} (at most {@value #CHUNK}) more output in the shared output
     * buffer, writing what it holds to the socket if needed.
     *
     * @return whether there is room now; false when the socket did not take everything (then
     *         stop: the rest is kept and sent before this connection is read again)
     */
    final boolean reserve(MemorySegment c, int bytes) throws IoException {
        if (hasPendingOutput(c)) {
            return false;
        }
        if (CHUNK - outLength >= bytes) {
            return true;
        }
        return flush(c) && CHUNK - outLength >= bytes;
    }

    /** Appends bytes (room must have been reserved). */
    final void append(MemorySegment src, long offset, long length) {
        MemorySegment.copy(src, offset, outBuffer, outLength, length);
        outLength += (int) length;
    }

    final void append(MemorySegment constant) {
        append(constant, 0, constant.byteSize());
    }

    final void appendByte(int b) {
        outBuffer.set(ValueLayout.JAVA_BYTE, outLength, (byte) b);
        outLength++;
    }

    final void appendDecimal(long v) {
        outLength += Ascii.putLong(outBuffer, outLength, v);
    }

    /**
     * Sends {@code length} (at most {@value #CHUNK}) bytes of {@code src} after the output
     * queued so far, without copying them into the output buffer; what the socket does not take
     * is kept.
     *
     * @return whether the bytes were taken; false if earlier output is still pending (then stop)
     */
    final boolean emit(MemorySegment c, MemorySegment src, long offset, int length) throws IoException {
        if (!flush(c)) {
            return false;
        }
        long n = IoSocket.write(IoAtom.fd(c, IO), src, offset, length);
        int sent = n > 0 ? (int) n : 0;
        if (sent < length) {
            keepOutput(c, src, offset + sent, length - sent);
        }
        return true;
    }

    /**
     * Writes the output buffer to the socket; what the socket does not take moves to the
     * connection's output chunk.
     *
     * @return whether everything was sent (or nothing was queued) and no output is pending
     */
    private boolean flush(MemorySegment c) throws IoException {
        if (hasPendingOutput(c)) {
            return false;
        }
        int length = outLength;
        if (length == 0) {
            return true;
        }
        long n = IoSocket.write(IoAtom.fd(c, IO), outBuffer, 0, length);
        int sent = n > 0 ? (int) n : 0;
        outLength = 0;
        if (sent == length) {
            return true;
        }
        keepOutput(c, outBuffer, sent, length - sent);
        return false;
    }

    private void keepOutput(MemorySegment c, MemorySegment src, long offset, int length) {
        int chunk = takeChunk(length);
        MemorySegment.copy(src, offset, chunk(chunk), 0, length);
        c.set(ValueLayout.JAVA_INT, OUT_CHUNK, chunk);
        c.set(ValueLayout.JAVA_INT, OUT_START, 0);
        c.set(ValueLayout.JAVA_INT, OUT_END, length);
    }

    /** @return the id of a free chunk that holds {@code length} bytes, the smallest such */
    private int takeChunk(int length) {
        chunksInUse++;
        int k = length <= SMALL_CHUNK ? 1 : 0;
        if (freeChunkTop[k] > 0) {
            return freeChunks[k][--freeChunkTop[k]];
        }
        int index = chunkCount[k]++;
        if (index == chunks[k].length) {
            int size = Math.min(2 * index, 2 * settings.maxConnections());
            chunks[k] = java.util.Arrays.copyOf(chunks[k], size);
            freeChunks[k] = java.util.Arrays.copyOf(freeChunks[k], size);
        }
        chunks[k][index] = arena.allocate(k == 0 ? CHUNK : SMALL_CHUNK, 64);
        chunksAllocated++;
        return index << 1 | k;
    }

    private MemorySegment chunk(int id) {
        return chunks[id & 1][id >>> 1];
    }

    private void releaseChunk(int id) {
        chunksInUse--;
        int k = id & 1;
        freeChunks[k][freeChunkTop[k]++] = id;
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
                c = arena.allocate(STRUCT_SIZE, 8);
                connections[slot] = c;
                highWater = Math.max(highWater, slot + 1);
            }
            c.set(ValueLayout.JAVA_INT, SLOT, slot);
            setFlags(c, OPEN);
            c.set(ValueLayout.JAVA_INT, IN_CHUNK, -1);
            c.set(ValueLayout.JAVA_INT, IN_LENGTH, 0);
            c.set(ValueLayout.JAVA_INT, OUT_CHUNK, -1);
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
                if (hasPendingOutput(c) && !sendPending(c, fd)) {
                    break; // wait for WRITE
                }
                int flags = flags(c);
                if ((flags & CLOSING) != 0) {
                    finish(c, fd);
                    return;
                }
                // 2. Input left over while output was blocked may hold complete requests.
                int kept = c.get(ValueLayout.JAVA_INT, IN_LENGTH);
                if (kept > 0 && (flags & PARTIAL) == 0) {
                    handle(c, 0);
                    continue;
                }
                if ((flags & PEER_EOF) != 0) {
                    // Nothing more will come and nothing more can be made of what is here.
                    closeAfterReply(c);
                    continue;
                }
                // 3. Read after the kept input (an incomplete request, shorter than the limit).
                int room = CHUNK - kept;
                long n = IoSocket.read(fd, readBuffer, kept, room);
                if (n == IoSocket.WOULD_BLOCK) {
                    break;
                }
                if (n == IoSocket.EOF) {
                    setFlags(c, flags | PEER_EOF);
                    peerClosed(c, fd);
                    continue;
                }
                handle(c, (int) n);
                if (n < room && shortReadEnds && (flags(c) & CLOSING) == 0) {
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

    /**
     * Processes the kept input followed by {@code n} bytes just read into the read buffer after
     * it, sends the replies, and keeps what was not consumed.
     */
    private void handle(MemorySegment c, int n) throws IoException {
        int kept = c.get(ValueLayout.JAVA_INT, IN_LENGTH);
        if (kept > 0) {
            int chunk = c.get(ValueLayout.JAVA_INT, IN_CHUNK);
            MemorySegment.copy(chunk(chunk), 0, readBuffer, 0, kept);
            releaseChunk(chunk);
            c.set(ValueLayout.JAVA_INT, IN_CHUNK, -1);
            c.set(ValueLayout.JAVA_INT, IN_LENGTH, 0);
        }
        int end = kept + n;
        outLength = 0;
        int consumed = process(c, readBuffer, 0, end);
        boolean sent = flush(c);
        int flags = flags(c) & ~PARTIAL;
        setFlags(c, flags);
        if ((flags & CLOSING) != 0 || consumed == end) {
            return; // a closing connection drops the rest of its input
        }
        if (sent && end - consumed >= requestLimit) {
            // An incomplete request that long will never be accepted.
            inputOverflow(c, readBuffer, consumed, end);
            flush(c);
            closeAfterReply(c);
            return;
        }
        int chunk = takeChunk(end - consumed);
        MemorySegment.copy(readBuffer, consumed, chunk(chunk), 0, end - consumed);
        c.set(ValueLayout.JAVA_INT, IN_CHUNK, chunk);
        c.set(ValueLayout.JAVA_INT, IN_LENGTH, end - consumed);
        if (sent) {
            setFlags(c, flags | PARTIAL); // stopped at an incomplete request, not for want of output room
        }
    }

    /** Writes the connection's kept output. @return whether all of it is gone */
    private boolean sendPending(MemorySegment c, int fd) throws IoException {
        int chunk = c.get(ValueLayout.JAVA_INT, OUT_CHUNK);
        int start = c.get(ValueLayout.JAVA_INT, OUT_START);
        int end = c.get(ValueLayout.JAVA_INT, OUT_END);
        long n = IoSocket.write(fd, chunk(chunk), start, end - start);
        if (n > 0) {
            start += (int) n;
        }
        if (start == end) {
            releaseChunk(chunk);
            c.set(ValueLayout.JAVA_INT, OUT_CHUNK, -1);
            return true;
        }
        c.set(ValueLayout.JAVA_INT, OUT_START, start);
        return false;
    }

    /** Sets the interest the connection's state calls for: WRITE while output is pending, else READ while more can come. */
    private void watch(MemorySegment c) throws IOException {
        int want;
        if (hasPendingOutput(c)) {
            want = WRITE;
        } else if ((flags(c) & (PEER_EOF | CLOSING)) == 0) {
            want = READ;
        } else {
            want = 0;
        }
        poller.set(c, IO, want);
    }

    /** All output is sent and the connection is to close. */
    private void finish(MemorySegment c, int fd) throws IOException {
        dropInput(c);
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
        poller.set(c, IO, READ);
        discard(c, fd);
    }

    private void dropInput(MemorySegment c) {
        int chunk = c.get(ValueLayout.JAVA_INT, IN_CHUNK);
        if (chunk >= 0) {
            releaseChunk(chunk);
            c.set(ValueLayout.JAVA_INT, IN_CHUNK, -1);
            c.set(ValueLayout.JAVA_INT, IN_LENGTH, 0);
        }
    }

    private void discard(MemorySegment c, int fd) throws IOException {
        for (int i = 0; i < 64; i++) {
            long n = IoSocket.read(fd, readBuffer, 0, CHUNK);
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

    /** Closes a connection now and recycles its struct and chunks. */
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
        dropInput(c);
        int out = c.get(ValueLayout.JAVA_INT, OUT_CHUNK);
        if (out >= 0) {
            releaseChunk(out);
            c.set(ValueLayout.JAVA_INT, OUT_CHUNK, -1);
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
