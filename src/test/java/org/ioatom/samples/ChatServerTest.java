package org.ioatom.samples;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.ioatom.samples.ChatProcess.assertExit0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.ioatom.PollerKind;
import org.ioatom.samples.ChatProcess.Client;
import org.ioatom.testing.ChildJvm;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Executables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * chat-server as a separate JVM on every backend, driven by plain sockets (and, once, by nc,
 * python3 and chat-client): byte-exact fan-out in each sender's order, never back to the sender;
 * a client that never reads is disconnected while the others get every line; over-long lines,
 * idle timeout, ticks, and the goodbye on SIGTERM with exit status 0.
 */
@Timeout(180)
class ChatServerTest {
    private static final int CLIENTS = 8;
    private static final int LINES = 200;

    /** Line {@code j} of client {@code i}: varied lengths, every byte but '\n' (so also "* ", \r, 0x80-0xff). */
    static String line(int i, int j) {
        StringBuilder b = new StringBuilder();
        b.append(j % 17 == 0 ? "* " : "").append(i).append(' ').append(j).append(' ');
        int extra = (i * 31 + j * 7) % 300;
        for (int k = 0; k < extra; k++) {
            int c = (i + j + k * 13) % 255 + 1; // 1..255
            b.append((char) (c == '\n' ? '\r' : c));
        }
        return b.append('\n').toString();
    }

    /** Every client sends its lines while all read; each gets every other client's lines, exactly, in order. */
    private static void fanOut(PollerKind kind, String... serverArgs) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind, serverArgs)) {
            List<Client> clients = new ArrayList<>();
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(new Client(server.port()).reading());
                }
                ChatProcess.joinAll(clients);
                List<Future<?>> sent = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    int sender = i;
                    sent.add(pool.submit(() -> {
                        StringBuilder all = new StringBuilder();
                        for (int j = 0; j < LINES; j++) {
                            all.append(line(sender, j));
                            if (j % 20 == 19) { // in bursts: several lines per write, and lines split across writes
                                String text = all.toString();
                                int cut = text.length() / 2 + sender;
                                clients.get(sender).send(text.substring(0, cut));
                                clients.get(sender).send(text.substring(cut));
                                all.setLength(0);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : sent) {
                    f.get(60, TimeUnit.SECONDS);
                }
                for (int r = 0; r < CLIENTS; r++) {
                    int[] next = new int[CLIENTS];
                    for (int n = 0; n < (CLIENTS - 1) * LINES; n++) {
                        String got = clients.get(r).chatLine();
                        int sender = senderOf(got);
                        assertTrue(sender != r, "client " + r + " got its own line back: " + got);
                        assertEquals(line(sender, next[sender]), got, "client " + r + ", line " + next[sender] + " of client " + sender);
                        next[sender]++;
                    }
                }
                for (Client c : clients) {
                    c.close();
                }
                assertExit0(server);
            } finally {
                pool.shutdownNow();
                for (Client c : clients) {
                    c.close();
                }
            }
        }
    }

    private static int senderOf(String line) {
        String s = line.startsWith("* ") ? line.substring(2) : line;
        return Integer.parseInt(s.substring(0, s.indexOf(' ')));
    }

    @EveryBackend
    void everyLineReachesEveryOtherClientByteForByteInItsSendersOrder(PollerKind kind) throws Exception {
        fanOut(kind);
    }

    @EveryBackend
    void withTwoLoopsEveryLineReachesEveryOtherClientInOrder(PollerKind kind) throws Exception {
        fanOut(kind, "--loops", "2");
    }

    /**
     * A client that never reads (a 4 KiB receive buffer) is disconnected once more than
     * --max-pending bytes (1 MiB) wait for it beyond what the kernel's buffers hold; the reading
     * client gets all 12 MB, in order (the talker stays within 512 KiB of it: a reader slower than
     * a talker for a whole --max-pending is disconnected too, by design).
     */
    @EveryBackend
    void aClientThatNeverReadsIsDisconnectedWhileTheOthersGetEveryLine(PollerKind kind) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind, "--max-pending", "1048576");
             Client talker = new Client(server.port()).reading();
             Client reader = new Client(server.port()).reading();
             Client stuck = new Client(server.port(), 4096)) {
            ChatProcess.joinAll(List.of(reader, talker));
            // stuck joins too: its line reaching the reader proves it is a member
            for (int attempt = 0; attempt < 100; attempt++) {
                stuck.send("join stuck\n");
                String l = reader.lines.poll(200, TimeUnit.MILLISECONDS);
                if ("join stuck\n".equals(l)) {
                    break;
                }
            }
            String payload = "x".repeat(1000);
            int count = 12000;
            Future<?> sending = Executors.newSingleThreadExecutor().submit(() -> {
                // Paced by the reader (at most 512 KiB ahead of it), as people chat: only the
                // client that never reads falls behind.
                StringBuilder b = new StringBuilder();
                long sentBytes = 0;
                for (int j = 0; j < count; j++) {
                    b.append(j).append(' ').append(payload).append('\n');
                    if (j % 100 == 99) {
                        talker.send(b.toString());
                        sentBytes += b.length();
                        b.setLength(0);
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        while (reader.received < sentBytes - 512 * 1024 && System.nanoTime() < deadline) {
                            Thread.sleep(1);
                        }
                    }
                }
                return null;
            });
            for (int j = 0; j < count; j++) {
                assertEquals(j + " " + payload + "\n", reader.chatLine(), () -> "server output: " + server.output());
            }
            sending.get(60, TimeUnit.SECONDS);
            // The stuck client was cut off: reading what its buffers hold ends, short of everything.
            long got = 0;
            InputStream in = stuck.socket.getInputStream();
            stuck.socket.setSoTimeout(20_000);
            byte[] buf = new byte[65536];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    got += n;
                }
            } catch (IOException e) {
                // reset: cut off too
            }
            assertTrue(got < (long) count * 1005, "the client that never read got all " + got + " bytes");
            talker.send("still here\n");
            assertEquals("still here\n", reader.chatLine());
            assertExit0(server);
        }
    }

    @EveryBackend
    void aLineOverMaxLineGetsAnErrorAndACloseWhileOthersChatOn(PollerKind kind) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind, "--max-line", "100");
             Client a = new Client(server.port()).reading();
             Client b = new Client(server.port()).reading()) {
            ChatProcess.joinAll(List.of(a, b));
            String longest = "y".repeat(100) + "\n";
            a.send(longest);
            assertEquals(longest, b.chatLine());
            a.send("z".repeat(101) + "\n");
            assertEquals("* error: line too long\n", a.chatLine());
            a.expectEnd();
            b.send("after\n");
            // b is not disturbed: it can still talk to a newcomer
            try (Client c = new Client(server.port()).reading()) {
                ChatProcess.joinAll(List.of(c, b));
                b.send("hello c\n");
                assertEquals("hello c\n", c.chatLine());
            }
            assertTrue(a.lines.isEmpty(), "more after the error: " + a.lines);
            assertExit0(server);
        }
    }

    @EveryBackend
    void anUnterminatedLastLineAtEndOfStreamIsDropped(PollerKind kind) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind);
             Client a = new Client(server.port()).reading();
             Client b = new Client(server.port()).reading()) {
            ChatProcess.joinAll(List.of(a, b));
            a.send("complete\npartial");
            a.socket.shutdownOutput();
            a.expectEnd();
            assertEquals("complete\n", b.chatLine());
            b.send("next\n");
            try (Client c = new Client(server.port()).reading()) {
                ChatProcess.joinAll(List.of(c, b));
                b.send("only this\n");
                assertEquals("only this\n", c.chatLine());
            }
            assertTrue(b.lines.isEmpty() || b.lines.stream().allMatch(l -> l.startsWith("join ")), "b got " + b.lines);
            assertExit0(server);
        }
    }

    @EveryBackend
    void aClientThatSendsNothingForTheIdleTimeoutIsToldAndClosed(PollerKind kind) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind, "--idle-timeout", "0.5");
             Client idle = new Client(server.port()).reading()) {
            long start = System.nanoTime();
            assertEquals("* idle timeout\n", idle.line());
            idle.expectEnd();
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(450), "closed before the timeout");
            assertExit0(server);
        }
    }

    @EveryBackend
    void ticksFromAnotherThreadReachEveryClientNumberedFromOne(PollerKind kind) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind, "--tick", "0.2", "--loops", "2");
             Client a = new Client(server.port()).reading();
             Client b = new Client(server.port()).reading()) {
            int first = tickNumber(a.line());
            assertTrue(first >= 1);
            assertEquals("* tick " + (first + 1) + "\n", a.line());
            assertEquals("* tick " + (first + 2) + "\n", a.line());
            int other = tickNumber(b.line());
            assertEquals("* tick " + (other + 1) + "\n", b.line());
            assertExit0(server);
        }
    }

    private static int tickNumber(String line) {
        assertTrue(line.matches("\\* tick \\d+\n"), line);
        return Integer.parseInt(line.substring(7, line.length() - 1));
    }

    @EveryBackend
    void onSigtermEveryClientIsToldAndTheServerExitsZero(PollerKind kind) throws Exception {
        try (ChildJvm server = ChatProcess.chat(kind, "--loops", "2")) {
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                clients.add(new Client(server.port()).reading());
            }
            ChatProcess.joinAll(clients);
            assertExit0(server);
            for (Client c : clients) {
                assertEquals("* server shutting down\n", c.chatLine());
                c.expectEnd();
                c.close();
            }
        }
    }

    /** nc sends lines from its stdin; python3 receives them; chat-client sends its stdin and prints what comes. */
    @Test
    void ncPython3AndChatClientTalkThroughTheServer() throws Exception {
        Path nc = Executables.onPath("nc");
        Path python = Executables.onPath("python3");
        assertTrue(nc != null && python != null, "this test needs nc (netcat-openbsd) and python3");
        try (ChildJvm server = ChatProcess.chat(null);
             Client watcher = new Client(server.port()).reading()) {
            String script = "import socket,sys\n"
                    + "s=socket.create_connection(('127.0.0.1'," + server.port() + "))\n"
                    + "s.sendall(b'join py\\n')\n"
                    + "f=s.makefile('rb')\n"
                    + "while True:\n"
                    + "    l=f.readline()\n"
                    + "    if not l: break\n"
                    + "    sys.stdout.buffer.write(l); sys.stdout.flush()\n"
                    + "    if l==b'bye from nc\\n': break\n";
            Process py = new ProcessBuilder(python.toString(), "-c", script).redirectErrorStream(true).start();
            try {
                assertEquals("join py\n", watcher.line()); // python3 is a member
                Process ncp = new ProcessBuilder(nc.toString(), "-N", "127.0.0.1", String.valueOf(server.port()))
                        .redirectErrorStream(true).start();
                ncp.getOutputStream().write("hello from nc\n* not the server\nbye from nc\n".getBytes(ISO_8859_1));
                ncp.getOutputStream().close();
                assertEquals("hello from nc\n", watcher.chatLine());
                assertEquals("* not the server\n", watcher.chatLine());
                assertEquals("bye from nc\n", watcher.chatLine());
                assertTrue(py.waitFor(20, TimeUnit.SECONDS), "python3 did not get the lines");
                assertEquals("hello from nc\n* not the server\nbye from nc\n", new String(py.getInputStream().readAllBytes(), ISO_8859_1));
                ncp.destroy();

                // chat-client: its stdin to the others, the others' lines to its stdout; stdin's end ends it.
                Process client = new ProcessBuilder(ChildJvm.command(null, List.of(), "chat.ChatClient",
                        "--host", "127.0.0.1", "--port", String.valueOf(server.port()))).start();
                client.getOutputStream().write("join client\n".getBytes(ISO_8859_1));
                client.getOutputStream().flush();
                assertEquals("join client\n", watcher.line());
                watcher.send("to the client\n");
                BufferedReader printed = new BufferedReader(new InputStreamReader(client.getInputStream(), ISO_8859_1));
                assertEquals("to the client", printed.readLine());
                client.getOutputStream().write("from the client\n".getBytes(ISO_8859_1));
                client.getOutputStream().close(); // stdin's end: shuts down its sending side
                assertEquals("from the client\n", watcher.chatLine());
                assertTrue(client.waitFor(20, TimeUnit.SECONDS), "chat-client did not exit after stdin's end");
                assertEquals(0, client.exitValue());
                assertEquals(null, printed.readLine());
            } finally {
                py.destroyForcibly();
            }
            assertExit0(server);
        }
    }

    @Test
    void aFlightRecordingAskedForIsWrittenOnSigterm(@TempDir Path dir) throws Exception {
        Path jfr = dir.resolve("chat.jfr");
        try (ChildJvm server = ChildJvm.startServer(null, List.of("-XX:StartFlightRecording=filename=" + jfr),
                "chat.ChatServer", "--port", "0")) {
            assertExit0(server);
        }
        assertTrue(Files.size(jfr) > 0, "empty " + jfr);
        assertFalse(Files.notExists(jfr));
    }
}
