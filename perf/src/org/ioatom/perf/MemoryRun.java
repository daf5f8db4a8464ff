package org.ioatom.perf;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.ioatom.IoAtom;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
import org.openjdk.jol.info.GraphLayout;

/**
 * Memory per connection of one I/O library with N idle accepted TCP connections, each
 * registered for READ: ioatom (epoll poller), java.nio (Selector) or Netty (native epoll).
 *
 * <p>The N client ends live in a separate process ({@code perf/c/conn_hold}), so the server JVM
 * holds only its N accepted sockets. Three snapshots:
 * <ol>
 *   <li>S0: before any library object exists;
 *   <li>S1: library open and listening, no connection;
 *   <li>S2: N connections accepted and registered.
 * </ol>
 * At S1 and S2: the retained heap of the library's object graph (JOL {@code GraphLayout}) and the
 * JVM's Native Memory Tracking summary (needs {@code -XX:NativeMemoryTracking=summary}), read
 * in-process through the DiagnosticCommand MBean. Heap roots: ioatom: the {@link Poller}; NIO:
 * the Selector and the ServerSocketChannel (the keys and channels hang off the Selector;
 * attachments are null); Netty: the EventLoopGroup and the server channel (the child channels,
 * their pipelines, configs and unsafe objects hang off the event loop's channel map).
 *
 * <p>ioatom's application side, as an application would embed it: one native array of N 16-byte
 * {@link IoAtom}s (allocated at the first accept, so it falls between S1 and S2), one shared
 * handler, atoms registered with {@code add(owner, offset, ...)}.
 *
 * <p>Appends one TSV line per measured quantity to OUT: impl, n, quantity, s0, s1, s2.
 *
 * <p>Usage: {@code MemoryRun ioatom|nio|netty N CONN_HOLD_BINARY OUT.tsv}
 */
public final class MemoryRun {
    private MemoryRun() {}

    /** One library's server side. */
    interface Server extends AutoCloseable {
        int port() throws IOException;

        /** Runs the accept loop for about {@code millis} (or just waits, when the library has its own thread). */
        void pump(long millis) throws IOException;

        int connections();

        Object[] roots();

        @Override
        void close() throws IOException;
    }

    public static void main(String[] args) throws Exception {
        String impl = args[0];
        int n = Integer.parseInt(args[1]);
        String holder = args[2];
        Path out = Path.of(args[3]);

        Map<String, Long> nmt0 = nmt();
        try (Server s = open(impl, n)) {
            // JOL's first walk creates reflection caches that the graph can reach: walk once first.
            GraphLayout.parseInstance(s.roots());
            s.pump(50);
            System.gc();
            GraphLayout g1 = GraphLayout.parseInstance(s.roots());
            Map<String, Long> nmt1 = nmt();

            Process p = new ProcessBuilder(holder, Integer.toString(s.port()), Integer.toString(n), "120")
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (s.connections() < n && System.nanoTime() < deadline && p.isAlive()) {
                s.pump(20);
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
            String line = s.connections() >= n ? r.readLine() : null;
            if (s.connections() < n || line == null || !line.startsWith("connected")) {
                p.destroy();
                throw new IllegalStateException(impl + ": only " + s.connections() + " of " + n
                        + " connections accepted; holder said " + line);
            }
            s.pump(200); // settle
            System.gc();
            GraphLayout g2 = GraphLayout.parseInstance(s.roots());
            Map<String, Long> nmt2 = nmt();
            p.getOutputStream().close(); // the holder exits and resets its connections
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();

            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND))) {
                w.printf(Locale.ROOT, "%s\t%d\theap_graph\t%s\t%d\t%d%n", impl, n, "NA", g1.totalSize(), g2.totalSize());
                w.printf(Locale.ROOT, "%s\t%d\theap_objects\t%s\t%d\t%d%n", impl, n, "NA", g1.totalCount(), g2.totalCount());
                for (String k : nmt2.keySet()) {
                    w.printf(Locale.ROOT, "%s\t%d\tnmt:%s\t%d\t%d\t%d%n", impl, n, k, nmt0.getOrDefault(k, 0L),
                            nmt1.getOrDefault(k, 0L), nmt2.get(k));
                }
            }
            // What grew, by class (for the log).
            System.out.println("== " + impl + ": heap graph growth from 0 to " + n + " connections, by class");
            System.out.println(g2.subtract(g1).toFootprint());
        }
    }

    // ---- Native Memory Tracking, read in-process ----

    private static final Pattern CATEGORY =
            Pattern.compile("^-\\s+(.+?) \\(reserved=(\\d+)(KB)?, committed=(\\d+)(KB)?");
    private static final Pattern TOTAL = Pattern.compile("^Total: reserved=(\\d+)(KB)?, committed=(\\d+)(KB)?");

    /** Committed bytes per NMT category ("total" for the sum), from {@code VM.native_memory summary}. */
    static Map<String, Long> nmt() throws Exception {
        String text = nmtText("scale=1");
        if (text.contains("nvalid") || !text.contains("Total")) {
            text = nmtText("scale=KB");
        }
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            Matcher t = TOTAL.matcher(line.trim());
            if (t.find()) {
                m.put("total", Long.parseLong(t.group(3)) * (t.group(4) != null ? 1024 : 1));
            }
            Matcher c = CATEGORY.matcher(line.trim());
            if (c.find()) {
                m.put(c.group(1), Long.parseLong(c.group(4)) * (c.group(5) != null ? 1024 : 1));
            }
        }
        if (m.isEmpty()) {
            throw new IllegalStateException("no NMT summary (run with -XX:NativeMemoryTracking=summary): " + text);
        }
        return m;
    }

    private static String nmtText(String scale) throws Exception {
        return (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                new Object[] {new String[] {"summary", scale}}, new String[] {String[].class.getName()});
    }

    // ---- the three servers ----

    static Server open(String impl, int n) throws Exception {
        return switch (impl) {
            case "ioatom" -> new IoAtomServer(n);
            case "nio" -> new NioServer();
            case "netty" -> new NettyServer();
            default -> throw new IllegalArgumentException("unknown impl " + impl);
        };
    }

    /** ioatom epoll: listener and connections on one poller, driven by this thread. */
    static final class IoAtomServer implements Server {
        private final int max;
        private final Poller poller;
        private final Arena arena = Arena.ofShared();
        private final int listenFd;
        private final MemorySegment listenAtom;
        private MemorySegment atoms; // the application's N atoms, allocated at the first accept
        private int count;
        private final IoHandler idle = (owner, events) -> { };

        IoAtomServer(int n) throws IOException {
            max = n;
            poller = Poller.open(PollerKind.EPOLL, n + 16);
            listenFd = IoSocket.listen("127.0.0.1:0");
            listenAtom = arena.allocate(IoAtom.SIZE, 8);
            IoAtom.init(listenAtom, listenFd);
            poller.add(listenAtom, IoAtom.READ, (owner, events) -> {
                int fd;
                while ((fd = IoSocket.accept(listenFd)) != IoSocket.NO_MORE) {
                    if (atoms == null) {
                        atoms = arena.allocate(IoAtom.SIZE * max, 8);
                    }
                    if (count == max) {
                        IoSocket.close(fd);
                        continue;
                    }
                    long off = IoAtom.SIZE * count++;
                    IoAtom.init(atoms, off, fd);
                    poller.add(atoms, off, IoAtom.READ, idle);
                }
            });
        }

        @Override
        public int port() throws IOException {
            return IoSocket.localPort(listenFd);
        }

        @Override
        public void pump(long millis) throws IOException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            do {
                poller.await(Math.max(1, millis / 4));
                poller.dispatch();
            } while (System.nanoTime() < end);
        }

        @Override
        public int connections() {
            return count;
        }

        @Override
        public Object[] roots() {
            return new Object[] {poller};
        }

        @Override
        public void close() throws IOException {
            poller.close();
            for (int i = 0; i < count; i++) {
                IoSocket.close(IoAtom.fd(atoms, IoAtom.SIZE * i));
            }
            IoSocket.close(listenFd);
            arena.close();
        }
    }

    /** java.nio Selector: listener and connections on one selector, driven by this thread. */
    static final class NioServer implements Server {
        private final Selector selector;
        private final ServerSocketChannel server;
        private int count;

        NioServer() throws IOException {
            selector = Selector.open();
            server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
            server.configureBlocking(false);
            server.register(selector, SelectionKey.OP_ACCEPT);
        }

        @Override
        public int port() throws IOException {
            return ((InetSocketAddress) server.getLocalAddress()).getPort();
        }

        @Override
        public void pump(long millis) throws IOException {
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            do {
                selector.select(key -> {
                    try {
                        SocketChannel ch;
                        while ((ch = server.accept()) != null) {
                            ch.configureBlocking(false);
                            ch.register(selector, SelectionKey.OP_READ);
                            count++;
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, Math.max(1, millis / 4));
            } while (System.nanoTime() < end);
        }

        @Override
        public int connections() {
            return count;
        }

        @Override
        public Object[] roots() {
            return new Object[] {selector, server};
        }

        @Override
        public void close() throws IOException {
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
            selector.close();
        }
    }

    /** Netty native epoll: one event loop accepting and serving, as in NettyEchoServer. */
    static final class NettyServer implements Server {
        @ChannelHandler.Sharable
        static final class Idle extends ChannelInboundHandlerAdapter {
            @Override
            public void exceptionCaught(io.netty.channel.ChannelHandlerContext ctx, Throwable cause) {
                ctx.close(); // the holder resets its connections when it exits
            }
        }

        private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);
        private final Channel server;
        private final AtomicInteger count = new AtomicInteger();

        NettyServer() throws InterruptedException {
            Idle idle = new Idle();
            server = new ServerBootstrap()
                    .group(group)
                    .channel(EpollServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .childHandler(new ChannelInitializer<EpollSocketChannel>() {
                        @Override
                        protected void initChannel(EpollSocketChannel ch) {
                            ch.pipeline().addLast(idle);
                            count.incrementAndGet();
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        }

        @Override
        public int port() {
            return ((InetSocketAddress) server.localAddress()).getPort();
        }

        @Override
        public void pump(long millis) {
            try {
                Thread.sleep(millis);
                // let the event loop finish what it is doing (registration runs there)
                group.submit(() -> { }).get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public int connections() {
            return count.get();
        }

        @Override
        public Object[] roots() {
            return new Object[] {group, server};
        }

        @Override
        public void close() throws IOException {
            try {
                group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while the Netty event loop shut down");
            }
        }
    }
}
