package org.ioatom.samples;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ioatom.PollerKind;

/**
 * A sample server in its own JVM, started the way samples/run starts it, on a given backend
 * (the test JVM's {@code ioatom.*} properties go along, so kqueue runs on its emulation), and
 * chat clients made of plain sockets. Helpers for the sample process tests.
 */
final class ChatProcess implements AutoCloseable {
    final Process process;
    final BlockingQueue<String> output = new LinkedBlockingQueue<>();
    final List<String> seen = new ArrayList<>();
    int port;
    /** The "Listening on port" line. */
    String banner;

    private ChatProcess(Process process) {
        this.process = process;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException e) {
                output.add("(reading output failed: " + e + ")");
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** The java command for a sample class, with the build's classes, the given JVM options, then args. */
    static List<String> command(PollerKind kind, List<String> jvmOptions, String className, String... args) {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String base = System.getProperty("ioatom.basedir", ".");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1"));
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith("ioatom.") && !name.equals("ioatom.poller")) {
                cmd.add("-D" + name + "=" + System.getProperty(name));
            }
        }
        if (kind != null) {
            cmd.add("-Dioatom.poller=" + kind);
        }
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", base + "/target/classes" + File.pathSeparator + base + "/target/test-classes",
                "org.ioatom.samples." + className));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts a server sample and waits for its "Listening on port N" line. */
    static ChatProcess start(PollerKind kind, List<String> jvmOptions, String className, String... args) throws Exception {
        ChatProcess p = new ChatProcess(new ProcessBuilder(command(kind, jvmOptions, className, args))
                .redirectErrorStream(true).start());
        try {
            Matcher m = p.expect("Listening on port (\\d+)");
            p.port = Integer.parseInt(m.group(1));
            p.banner = p.seen.get(p.seen.size() - 1);
        } catch (Throwable t) {
            p.close();
            throw t;
        }
        return p;
    }

    static ChatProcess chat(PollerKind kind, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--port", "0"));
        all.addAll(List.of(args));
        return start(kind, List.of(), "chat.ChatServer", all.toArray(String[]::new));
    }

    /** The next output line matching {@code regex} (20 s at most). */
    Matcher expect(String regex) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String line = output.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            seen.add(line);
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m;
            }
        }
        throw new AssertionError("no line matching '" + regex + "' in 20 s; output so far: " + seen);
    }

    /** SIGTERM, then the exit status (30 s at most). */
    int terminate() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "no exit 30 s after SIGTERM; output: " + seen + output);
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }

    /** A chat client: a socket and a thread that splits what arrives into lines (bytes as ISO-8859-1, '\n' kept). */
    static final class Client implements AutoCloseable {
        final Socket socket;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        /** Set once the server closed (or reset) the connection. */
        volatile boolean ended;
        volatile long received;

        Client(int port) throws IOException {
            this(port, 0);
        }

        /** @param receiveBuffer SO_RCVBUF to set before connecting, 0 for the default */
        Client(int port, int receiveBuffer) throws IOException {
            socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
            socket.setTcpNoDelay(true);
        }

        /** Starts reading lines on a daemon thread. @return this */
        Client reading() {
            Thread t = new Thread(() -> {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                try (InputStream in = socket.getInputStream()) {
                    byte[] buf = new byte[65536];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        received += n;
                        for (int i = 0; i < n; i++) {
                            line.write(buf[i]);
                            if (buf[i] == '\n') {
                                lines.add(line.toString(ISO_8859_1));
                                line.reset();
                            }
                        }
                    }
                } catch (IOException e) {
                    // reset by the server: ended too
                }
                if (line.size() > 0) {
                    lines.add(line.toString(ISO_8859_1)); // unterminated end: visible to the checks
                }
                ended = true;
            });
            t.setDaemon(true);
            t.start();
            return this;
        }

        void send(String text) throws IOException {
            socket.getOutputStream().write(text.getBytes(ISO_8859_1));
        }

        /** The next line, or an assertion error after 20 s. */
        String line() throws InterruptedException {
            String l = lines.poll(20, TimeUnit.SECONDS);
            if (l == null) {
                throw new AssertionError("no line within 20 s");
            }
            return l;
        }

        /** The next line that is not a join line of {@link #joinAll}. */
        String chatLine() throws InterruptedException {
            while (true) {
                String l = line();
                if (!l.startsWith("join ")) {
                    return l;
                }
            }
        }

        /** Waits until the server closed the connection, with nothing more than {@code lines} seen before. */
        void expectEnd() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!ended && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertTrue(ended, "the server did not close the connection within 20 s");
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /**
     * Makes sure every client is a member (accepted by the server) before the traffic starts:
     * each sends "join K" until the first client received it (the first one being a member
     * is proven by receiving anything). Receivers skip these lines ({@link Client#chatLine}).
     */
    static void joinAll(List<Client> clients) throws Exception {
        Client first = clients.get(0);
        for (int k = 1; k < clients.size(); k++) {
            String join = "join " + k + "\n";
            boolean seen = false;
            for (int attempt = 0; attempt < 100 && !seen; attempt++) {
                clients.get(k).send(join);
                long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                while (!seen && System.nanoTime() < deadline) {
                    String l = first.lines.poll(10, TimeUnit.MILLISECONDS);
                    seen = join.equals(l);
                }
            }
            assertTrue(seen, "client " + k + " never joined");
        }
        // The first client's own join: the others must see it before the traffic starts too.
        for (int attempt = 0; ; attempt++) {
            first.send("join 0\n");
            boolean all = true;
            for (int k = 1; k < clients.size(); k++) {
                all &= drainUntil(clients.get(k), "join 0\n");
            }
            if (all) {
                break;
            }
            assertTrue(attempt < 100, "client 0 never joined");
        }
        for (Client c : clients) {
            c.lines.clear(); // (a late duplicate join is skipped by chatLine)
        }
    }

    private static boolean drainUntil(Client c, String line) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        while (System.nanoTime() < deadline) {
            String l = c.lines.poll(10, TimeUnit.MILLISECONDS);
            if (line.equals(l)) {
                return true;
            }
        }
        return false;
    }

    static void assertExit0(ChatProcess p) throws InterruptedException {
        assertEquals(0, p.terminate(), "exit status after SIGTERM; output: " + p.seen + p.output);
    }
}
