package org.ioatom.perf;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ioatom.samples.EchoServer;

/**
 * Soak test for echo-server: starts it as a child JVM, keeps {@code --connections} connections
 * busy for {@code --minutes}, each sending messages of random size (one in flight) and checking
 * every echoed byte, and closing and reopening after a random number of messages (the server
 * allows twice as many connections: a reconnect may arrive before it has seen the close). Samples the
 * server's open fds, VmRSS, heap used (jcmd GC.heap_info) and GC counts (jstat) at start, middle and end, and prints
 * a Markdown report. Exits 1 on any mismatch, unexpected close or server failure.
 *
 * <pre>
 * perf/soak [--connections 10000] [--minutes 5] [--max-size 4096] [--poller epoll] [--seed 1]
 * </pre>
 */
public final class Soak {
    private Soak() {}

    /** One client connection: the message in flight and how far it got. */
    static final class Conn {
        SocketChannel ch;
        long seed;
        int size;
        int sent;
        int received;
        int messagesLeft;
        ByteBuffer out;
        ByteBuffer in;
    }

    static byte expected(long seed, int i) {
        long x = (seed + i) * 0x9E3779B97F4A7C15L;
        return (byte) (x ^ (x >>> 29));
    }

    public static void main(String[] args) throws Exception {
        int connections = 10_000;
        double minutes = 5;
        int maxSize = 4096;
        String poller = "epoll";
        long seed = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--connections" -> connections = Integer.parseInt(args[++i]);
                case "--minutes" -> minutes = Double.parseDouble(args[++i]);
                case "--max-size" -> maxSize = Integer.parseInt(args[++i]);
                case "--poller" -> poller = args[++i];
                case "--seed" -> seed = Long.parseLong(args[++i]);
                default -> {
                    System.err.println("usage: Soak [--connections N] [--minutes M] [--max-size B] [--poller K] [--seed S]");
                    System.exit(2);
                }
            }
        }
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String cp = System.getProperty("java.class.path");
        Path gcLog = Files.createTempFile("soak-gc", ".log");
        List<String> cmd = List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-Xlog:gc:file=" + gcLog, "-Dioatom.poller=" + poller, "-cp", cp,
                EchoServer.class.getName(), "--port", "0", "--max-connections", String.valueOf(2 * connections + 16));
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader serverOut = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String ready = serverOut.readLine();
        Matcher m = ready == null ? null : Pattern.compile("Listening on port (\\d+)").matcher(ready);
        if (m == null || !m.find()) {
            System.err.println("server did not start: " + ready);
            server.destroyForcibly();
            System.exit(1);
        }
        int port = Integer.parseInt(m.group(1));
        List<String> serverLines = new ArrayList<>();
        Thread drain = new Thread(() -> {
            try {
                for (String l; (l = serverOut.readLine()) != null; ) {
                    synchronized (serverLines) {
                        if (serverLines.size() < 100) {
                            serverLines.add(l);
                        }
                    }
                }
            } catch (IOException e) {
                // server gone
            }
        });
        drain.setDaemon(true);
        drain.start();

        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        SplittableRandom random = new SplittableRandom(seed);
        Selector selector = Selector.open();
        Conn[] conns = new Conn[connections];
        long messages = 0;
        long bytes = 0;
        long reconnects = 0;
        long failures = 0;
        List<String> samples = new ArrayList<>();
        samples.add("| when | elapsed s | server fds | VmRSS | heap used | young GCs | full GCs | messages | bytes verified | reconnects |");
        samples.add("|---|---|---|---|---|---|---|---|---|---|");
        String date = Instant.now().toString();

        for (int i = 0; i < connections; i++) {
            conns[i] = new Conn();
            conns[i].out = ByteBuffer.allocateDirect(maxSize);
            conns[i].in = ByteBuffer.allocateDirect(maxSize);
            open(conns[i], selector, address, random, maxSize);
        }
        long start = System.nanoTime();
        long end = start + (long) (minutes * 60e9);
        long middle = start + (end - start) / 2;
        boolean sampledStart = false;
        boolean sampledMiddle = false;
        while (System.nanoTime() < end && failures == 0) {
            if (!sampledStart && System.nanoTime() - start > TimeUnit.SECONDS.toNanos(5)) {
                sampledStart = true;
                samples.add(sample("start", start, server.pid(), messages, bytes, reconnects));
            }
            if (!sampledMiddle && System.nanoTime() > middle) {
                sampledMiddle = true;
                samples.add(sample("middle", start, server.pid(), messages, bytes, reconnects));
            }
            if (!server.isAlive()) {
                System.err.println("server died");
                failures++;
                break;
            }
            selector.select(100);
            Iterator<SelectionKey> it = selector.selectedKeys().iterator();
            while (it.hasNext()) {
                SelectionKey k = it.next();
                it.remove();
                Conn c = (Conn) k.attachment();
                try {
                    if (k.isConnectable()) {
                        c.ch.finishConnect();
                        k.interestOps(SelectionKey.OP_WRITE);
                        continue;
                    }
                    if (k.isWritable()) {
                        c.ch.write(c.out);
                        if (!c.out.hasRemaining()) {
                            k.interestOps(SelectionKey.OP_READ);
                        }
                    }
                    if (k.isReadable()) {
                        int n = c.ch.read(c.in);
                        if (n < 0) {
                            System.err.println("unexpected end of stream after " + c.received + " of " + c.size);
                            failures++;
                            continue;
                        }
                        for (int i = c.received; i < c.in.position(); i++) {
                            if (c.in.get(i) != expected(c.seed, i)) {
                                System.err.println("byte " + i + " of a " + c.size + "-byte message differs");
                                failures++;
                            }
                        }
                        c.received = c.in.position();
                        if (c.received == c.size) {
                            messages++;
                            bytes += c.size;
                            if (--c.messagesLeft == 0) {
                                k.cancel();
                                c.ch.close();
                                reconnects++;
                                open(c, selector, address, random, maxSize);
                            } else {
                                next(c, random, maxSize);
                                k.interestOps(SelectionKey.OP_WRITE);
                            }
                        }
                    }
                } catch (IOException e) {
                    System.err.println("connection failed: " + e);
                    failures++;
                }
            }
        }
        samples.add(sample("end", start, server.pid(), messages, bytes, reconnects));
        for (Conn c : conns) {
            c.ch.close();
        }
        selector.close();
        Thread.sleep(3000); // the server notices the closes
        samples.add(sample("after all clients closed (+3 s)", start, server.pid(), messages, bytes, reconnects));
        server.destroy();
        boolean exited = server.waitFor(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;

        System.out.println("## Soak run " + date);
        System.out.println();
        System.out.printf("connections %d, minutes %.2f, max message %d bytes, poller %s, seed %d%n%n",
                connections, minutes, maxSize, poller, seed);
        samples.forEach(System.out::println);
        System.out.println();
        System.out.printf("messages %d, bytes verified %d, reconnects %d, failures %d, %.0f messages/s%n",
                messages, bytes, reconnects, failures, messages / seconds);
        System.out.println("server exit status after SIGTERM: " + (exited ? server.exitValue() : "did not exit"));
        List<String> gc = Files.readAllLines(gcLog);
        System.out.println("server GC log lines: " + gc.size() + (gc.isEmpty() ? "" : "; last: " + gc.get(gc.size() - 1)));
        synchronized (serverLines) {
            System.out.println("server output lines: " + serverLines.size() + (serverLines.isEmpty() ? "" : " " + serverLines));
        }
        System.exit(failures == 0 && exited && server.exitValue() == 0 ? 0 : 1);
    }

    private static void open(Conn c, Selector selector, InetSocketAddress address, SplittableRandom random, int maxSize)
            throws IOException {
        c.ch = SocketChannel.open();
        c.ch.configureBlocking(false);
        c.ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
        c.messagesLeft = 1 + random.nextInt(200);
        next(c, random, maxSize);
        if (c.ch.connect(address)) {
            c.ch.register(selector, SelectionKey.OP_WRITE, c);
        } else {
            c.ch.register(selector, SelectionKey.OP_CONNECT, c);
        }
    }

    private static void next(Conn c, SplittableRandom random, int maxSize) {
        c.seed = random.nextLong();
        c.size = 1 + random.nextInt(maxSize);
        c.sent = 0;
        c.received = 0;
        c.out.clear();
        for (int i = 0; i < c.size; i++) {
            c.out.put(i, expected(c.seed, i));
        }
        c.out.limit(c.size);
        c.in.clear();
        c.in.limit(c.size);
    }

    private static String sample(String when, long start, long pid, long messages, long bytes, long reconnects) {
        long fds;
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            fds = s.count();
        } catch (IOException e) {
            fds = -1;
        }
        String rss = "?";
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    rss = l.substring(6).strip();
                }
            }
        } catch (IOException e) {
            // gone
        }
        String heap = "?";
        String ygc = "?";
        String fgc = "?";
        try {
            String jstat = new File(System.getProperty("java.home"), "bin/jstat").getPath();
            Process p = new ProcessBuilder(jstat, "-gc", String.valueOf(pid)).redirectErrorStream(true).start();
            List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            p.waitFor(20, TimeUnit.SECONDS);
            if (lines.size() >= 2) {
                String[] h = lines.get(0).trim().split("\\s+");
                String[] v = lines.get(1).trim().split("\\s+");
                for (int i = 0; i < h.length && i < v.length; i++) {
                    switch (h[i]) {
                        case "YGC" -> ygc = v[i];
                        case "FGC" -> fgc = v[i];
                        default -> { }
                    }
                }
            }
            // jstat's eden figure is only refreshed at GCs on recent JDKs: take "used" from GC.heap_info.
            String jcmd = new File(System.getProperty("java.home"), "bin/jcmd").getPath();
            Process q = new ProcessBuilder(jcmd, String.valueOf(pid), "GC.heap_info").redirectErrorStream(true).start();
            String info = new String(q.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            q.waitFor(20, TimeUnit.SECONDS);
            Matcher used = Pattern.compile("(?m)^\\S.*total \\d+K, used (\\d+)K").matcher(info);
            long kb = 0;
            while (used.find()) {
                kb += Long.parseLong(used.group(1));
            }
            heap = String.format("%.1f MiB", kb / 1024.0);
        } catch (IOException | InterruptedException | RuntimeException e) {
            heap = "jstat/jcmd failed: " + e;
        }
        return String.format("| %s | %.0f | %d | %s | %s | %s | %s | %d | %d | %d |", when,
                (System.nanoTime() - start) / 1e9, fds, rss, heap, ygc, fgc, messages, bytes, reconnects);
    }
}
