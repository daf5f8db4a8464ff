package org.ioatom.samples;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.ioatom.PollerKind;
import org.ioatom.testing.ChildJvm;

/**
 * The chat sample's test helpers: the server started in its own JVM ({@link ChildJvm}), chat
 * clients made of plain sockets, and the join handshake that makes every client a member first.
 */
final class ChatProcess {
    private ChatProcess() {}

    /** Starts chat-server on any free port with {@code args}, waiting for its "Listening on port N" line. */
    static ChildJvm chat(PollerKind kind, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--port", "0"));
        all.addAll(List.of(args));
        return ChildJvm.startServer(kind, List.of(), "chat.ChatServer", all.toArray(String[]::new));
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

    /** SIGTERM ends {@code p} with exit status 0. */
    static void assertExit0(ChildJvm p) throws InterruptedException {
        assertEquals(0, p.terminate(), "exit status after SIGTERM; output: " + p.output());
    }
}
