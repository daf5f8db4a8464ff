package org.ioatom.samples.chat;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.Args;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.Settings;

/**
 * A line chat: every line a client sends goes, byte for byte, to every other client. The lines
 * are stored once, in one shared native ring ({@link ChatLog}); each client has a cursor in it
 * ({@link Member}); a client that falls more than {@code --max-pending} bytes behind is
 * disconnected, so memory stays bounded whatever clients do. {@code --loops N} runs N loop
 * threads ({@link ChatLoop}), each with its own poller and its own SO_REUSEPORT listener on the
 * same port, all on the one log.
 *
 * <pre>samples/run chat-server [--port 7000] [--max-line 4096] [--max-pending 1048576] [--idle-timeout 0] [--tick 0] [--loops 1]</pre>
 */
public final class ChatServer {
    static final int DEFAULT_PORT = 7000;
    static final String USAGE = "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] chat-server"
            + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
            + " [--max-connections N (default: the fd limit minus " + Settings.FD_RESERVE + ")]"
            + " [--idle-timeout SECONDS (default 0 = off)] [--max-line BYTES (default 4096)]"
            + " [--max-pending BYTES (default 1048576)] [--tick SECONDS (default 0 = off)] [--loops N (default 1)]";

    /**
     * @param maxLine    the longest line, not counting its {@code \n}
     * @param maxPending the most bytes a client may have yet to receive
     * @param tickNanos  period of the {@code * tick N} lines, 0 = none
     */
    record Options(Settings settings, int maxLine, long maxPending, long tickNanos, int loops) {
        PollerKind kind() {
            return settings.kind();
        }

        int maxConnections() {
            return settings.maxConnections();
        }

        long idleNanos() {
            return settings.idleTimeoutNanos();
        }

        int readBufferSize() {
            return Math.max(64 * 1024, 2 * (maxLine + 1));
        }

        /** The most log bytes a client may be behind (headers and lines): 2 × max-pending. */
        long maxBacklog() {
            return 2 * maxPending;
        }

        /** The log holds the longest backlog plus room for a record and a wrap. */
        long logCapacity() {
            return maxBacklog() + 2L * (ChatLog.HEADER + maxLine + 1) + 64;
        }

        static Options from(Args a) {
            Settings s = Settings.from(a, DEFAULT_PORT);
            int maxLine = a.integer("max-line", 4096, 1, 1 << 20);
            long maxPending = a.number("max-pending", 1 << 20, 1, 1L << 32);
            long tick = a.seconds("tick", 0);
            int loops = a.integer("loops", 1, 1, 64);
            return new Options(s, maxLine, maxPending, tick, loops);
        }
    }

    private final Options options;
    private final ChatLoop[] loops;
    private final Thread[] threads;
    private final Arena logArena = Arena.ofShared();
    private final ChatLog log;
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong ticksPosted = new AtomicLong();
    private final CountDownLatch ready;
    private final CountDownLatch done;
    private volatile boolean stopping;
    private volatile Throwable failure;
    private volatile int port;
    private Thread ticker;

    ChatServer(Options options) {
        this.options = options;
        loops = new ChatLoop[options.loops()];
        threads = new Thread[options.loops()];
        log = new ChatLog(logArena, options.logCapacity(), loops);
        ready = new CountDownLatch(options.loops());
        done = new CountDownLatch(options.loops());
    }

    Options options() {
        return options;
    }

    boolean isStopping() {
        return stopping;
    }

    /** @return whether one more connection is within {@code --max-connections} (all loops together) */
    boolean reserveConnection() {
        if (connections.incrementAndGet() > options.maxConnections()) {
            connections.decrementAndGet();
            return false;
        }
        return true;
    }

    void releaseConnection() {
        connections.decrementAndGet();
    }

    int openConnections() {
        return connections.get();
    }

    int port() {
        return port;
    }

    Throwable failure() {
        return failure;
    }

    /** Starts the loops (the first one picks the port when 0 was asked for) and the ticker. @return this */
    ChatServer start() throws IOException {
        for (int i = 0; i < loops.length; i++) {
            int index = i;
            threads[i] = new Thread(() -> runLoop(index), "chat-server-loop-" + i);
            threads[i].start();
            await(ready, i);
            if (failure != null) {
                for (int never = i + 1; never < loops.length; never++) {
                    done.countDown(); // loops that will not start: nothing to wait for
                }
                stop();
                throw failure instanceof IOException io ? io : new IOException("chat-server failed to start: " + failure, failure);
            }
        }
        if (options.tickNanos() > 0) {
            ticker = new Thread(this::tick, "chat-server-ticker");
            ticker.setDaemon(true);
            ticker.start();
        }
        return this;
    }

    /** Waits until loop {@code index} is listening (or some loop failed). */
    private void await(CountDownLatch latch, int index) throws IOException {
        try {
            while (latch.getCount() > loops.length - index - 1 && failure == null) {
                latch.await(10, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting", e);
        }
    }

    private void runLoop(int index) {
        ChatLoop loop;
        try {
            loop = new ChatLoop(this, log, index);
            loops[index] = loop;
            int p = loop.listen(options.settings().host().indexOf(':') >= 0
                    ? "[" + options.settings().host() + "]:" + (index == 0 ? options.settings().port() : port)
                    : options.settings().host() + ":" + (index == 0 ? options.settings().port() : port), loops.length > 1);
            if (index == 0) {
                port = p;
            }
            log.publishLowest(index, log.head());
        } catch (Throwable t) {
            failure = t;
            ready.countDown();
            done.countDown();
            return;
        }
        ready.countDown();
        try {
            loop.run();
        } catch (Throwable t) {
            failure = t;
            System.err.println("chat-server: loop " + index + " failed: " + t);
            t.printStackTrace();
        } finally {
            loop.shutdown();
            done.countDown();
        }
    }

    /** The ticker thread: each period, hands loop 0 a task that appends the ticks posted so far. */
    private void tick() {
        ChatLoop first = loops[0];
        Runnable appendTicks = () -> first.appendTicks(ticksPosted);
        long next = System.nanoTime() + options.tickNanos();
        while (!stopping) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                try {
                    TimeUnit.NANOSECONDS.sleep(wait);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            next += options.tickNanos();
            ticksPosted.incrementAndGet();
            try {
                first.poller().execute(appendTicks); // a full ring: the next period's task catches up
            } catch (IllegalStateException e) {
                return; // the loop closed its poller
            }
        }
    }

    /** Says goodbye to every client (at most 2 s), closes everything, waits for the loops. Idempotent. */
    void stop() {
        stopping = true;
        for (ChatLoop l : loops) {
            if (l != null) {
                l.wakeup();
            }
        }
        try {
            if (!done.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("chat-server did not stop within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (logArena) {
            if (logArena.scope().isAlive()) {
                logArena.close();
            }
        }
    }

    void announce(PrintStream out) {
        out.println("chat-server: Listening on port " + port + " (" + loops[0].poller().name() + " poller, "
                + (loops.length == 1 ? "1 loop" : loops.length + " loops") + ", at most "
                + options.maxConnections() + " connections)");
        out.println(Settings.maxConnectionsLine(options.settings()));
    }

    public static void main(String[] argv) {
        Options options;
        try {
            Args args = new Args(USAGE, argv);
            if (args.help()) {
                System.out.println(USAGE);
                return;
            }
            options = Options.from(args);
            args.done();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(Launcher.USAGE);
            return;
        }
        ChatServer server = new ChatServer(options);
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            System.err.println("chat-server: cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        Launcher.exitOnSignal("chat-server", () -> {
            server.stop();
            return server.failure() == null ? 0 : 1;
        });
        server.announce(System.out);
        System.out.flush();
        try {
            // Only a failed loop ends by itself: then the others are stopped too, and the exit status is 1.
            while (!server.done.await(200, TimeUnit.MILLISECONDS)) {
                if (server.failure() != null) {
                    server.stop();
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Launcher.exitOnItsOwn(server.failure() == null ? 0 : 1);
    }
}
