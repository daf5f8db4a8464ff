package org.ioatom.samples;

import static org.ioatom.testing.Http.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;
import org.ioatom.testing.ChildJvm;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Http.Response;
import org.ioatom.testing.RawClient;
import org.ioatom.testing.Resp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The samples' timeouts on the poller's timers: the idle timeout (echo-server, resp-server,
 * http-server, socktest), http-server's 408 and header timeout, echo-client's connect timeout.
 * Timings are checked with generous upper bounds (2 shared cores) and strict lower ones (a timer
 * never runs early).
 */
@Timeout(120)
class SampleTimeoutsTest {
    private static final long IDLE_MS = 600;

    private static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** Reads until the server closes; @return the time of the close, or throws after 10 s. */
    private static long awaitEnd(RawClient c) throws IOException {
        c.expectEnd();
        return System.nanoTime();
    }

    /**
     * A client that sends a message every {@code IDLE_MS / 3} for {@code 3 * IDLE_MS}, each answered,
     * is still served at the end.
     */
    private static void staysOpenWhileSending(RawClient c, String message, RoundTrip roundTrip) throws Exception {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3 * IDLE_MS);
        int sent = 0;
        while (System.nanoTime() < end) {
            roundTrip.run(c, message);
            sent++;
            Thread.sleep(IDLE_MS / 3);
        }
        roundTrip.run(c, message); // still open after 3 timeouts
        assertTrue(sent >= 6, "only " + sent + " messages sent");
    }

    @FunctionalInterface
    interface RoundTrip {
        void run(RawClient c, String message) throws IOException;
    }

    /** The idle client sends once, receives its answer, then only waits: closed ~IDLE_MS after it sent. */
    private static void idleClientIsClosedActiveOneIsNot(SampleServer s, String message, RoundTrip roundTrip) throws Exception {
        try (RawClient idle = new RawClient(s.port()); RawClient active = new RawClient(s.port())) {
            long sentAt = System.nanoTime();
            roundTrip.run(idle, message);
            CompletableFuture<Long> closedAt = CompletableFuture.supplyAsync(() -> {
                try {
                    return awaitEnd(idle);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            staysOpenWhileSending(active, message, roundTrip);
            long idleFor = TimeUnit.NANOSECONDS.toMillis(closedAt.get(10, TimeUnit.SECONDS) - sentAt);
            assertTrue(idleFor >= IDLE_MS && idleFor < IDLE_MS + 1500,
                    "the idle connection closed " + idleFor + " ms after its last byte, timeout " + IDLE_MS + " ms");
        } finally {
            s.stop();
        }
        assertNull(s.failure());
        assertEquals(0, s.openConnections());
    }

    @EveryBackend
    void echoServerClosesAnIdleConnectionAfterTheIdleTimeoutButNotAnActiveOne(PollerKind kind) throws Exception {
        SampleServer s = new EchoServer(Settings.loopback(kind, 0, IDLE_MS)).start();
        idleClientIsClosedActiveOneIsNot(s, "ping", (c, m) -> {
            c.send(m);
            assertEquals(m, c.text(m.length()));
        });
    }

    @EveryBackend
    void respServerClosesAnIdleConnectionAfterTheIdleTimeoutButNotAnActiveOne(PollerKind kind) throws Exception {
        SampleServer s = new RespServer(Settings.loopback(kind, 0, IDLE_MS), 100).start();
        idleClientIsClosedActiveOneIsNot(s, Resp.command("PING"), (c, m) -> {
            c.send(m);
            assertEquals("+PONG", c.line());
        });
    }

    @EveryBackend
    void httpServerClosesAnIdleKeepAliveConnectionSilentlyButNotAnActiveOne(PollerKind kind) throws Exception {
        SampleServer s = new HttpServer(Settings.loopback(kind, 0, IDLE_MS)).start();
        idleClientIsClosedActiveOneIsNot(s, "GET / HTTP/1.1\r\nHost: t\r\n\r\n", (c, m) -> {
            c.send(m);
            assertEquals(200, response(c).status());
        });
    }

    /**
     * The server sending to a peer is not activity. The peer sends one 64 KiB batch, then only
     * receives, slowly (~50 KB/s, a 4 KiB receive buffer): echo-server is still delivering the
     * echo after the idle timeout has passed, yet the connection is closed: the end of stream (or
     * a reset) comes right after the data, not an idle period after the server's last send.
     */
    @EveryBackend
    void aPeerThatOnlyReceivesIsClosedAlthoughTheServerIsStillSendingToIt(PollerKind kind) throws Exception {
        SampleServer s = new EchoServer(Settings.loopback(kind, 0, IDLE_MS)).start();
        try (Socket peer = new Socket()) {
            peer.setReceiveBufferSize(4096);
            peer.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), s.port()), 10_000);
            peer.setSoTimeout(10_000);
            byte[] batch = new byte[64 * 1024];
            long sentAt = System.nanoTime();
            peer.getOutputStream().write(batch);
            long received = 0;
            long lastDataAt = sentAt;
            long closedAt;
            byte[] buffer = new byte[512];
            try {
                while (true) {
                    int n = peer.getInputStream().read(buffer);
                    if (n < 0) {
                        break;
                    }
                    received += n;
                    lastDataAt = System.nanoTime();
                    Thread.sleep(10);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("not closed; " + received + " bytes received", e);
            } catch (IOException reset) {
                // closed while its input was unread: a reset
            }
            closedAt = System.nanoTime();
            long dataFor = TimeUnit.NANOSECONDS.toMillis(lastDataAt - sentAt);
            long closedAfter = TimeUnit.NANOSECONDS.toMillis(closedAt - sentAt);
            long closedAfterData = TimeUnit.NANOSECONDS.toMillis(closedAt - lastDataAt);
            assertTrue(dataFor >= IDLE_MS / 2, "the echo stopped " + dataFor + " ms after the send");
            assertTrue(closedAfter >= IDLE_MS, "closed " + closedAfter + " ms after the peer's only send");
            assertTrue(closedAfterData < IDLE_MS, "closed " + closedAfterData + " ms after the last echoed byte ("
                    + received + " bytes): the server's sending counted as activity");
        } finally {
            s.stop();
        }
        assertNull(s.failure());
    }

    @EveryBackend
    void httpIdleTimeoutInTheMiddleOfARequestAnswers408AndCloses(PollerKind kind) throws Exception {
        SampleServer s = new HttpServer(Settings.loopback(kind, 0, IDLE_MS)).start();
        try (RawClient head = new RawClient(s.port()); RawClient body = new RawClient(s.port())) {
            long start = System.nanoTime();
            head.send("GET / HTTP/1.1\r\nHost: t\r\n"); // the head never ends
            body.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"); // 7 bytes of body missing
            Response a = response(head);
            assertEquals("HTTP/1.1 408 Request Timeout", a.statusLine());
            assertEquals("close", a.header("Connection"));
            head.expectEnd();
            Response b = response(body);
            assertEquals(408, b.status());
            body.expectEnd();
            long took = millisSince(start);
            assertTrue(took >= IDLE_MS && took < IDLE_MS + 2000, "408 after " + took + " ms");
            assertAFreshClientIsServed(s);
        } finally {
            s.stop();
        }
        assertNull(s.failure());
    }

    /**
     * A slowloris peer (one byte every 100 ms, never finishing its head) is bounded by the header
     * timeout: 408 and a close ~1 s after its first byte, although the idle timeout (0.6 s) never
     * fires for it; a well-behaved client is served meanwhile.
     */
    @EveryBackend
    void headerTimeoutBoundsASlowlorisPeerWith408AndClose(PollerKind kind) throws Exception {
        SampleServer s = new HttpServer(Settings.loopback(kind, 0, IDLE_MS), TimeUnit.SECONDS.toNanos(1)).start();
        try (RawClient slow = new RawClient(s.port()); RawClient other = new RawClient(s.port())) {
            byte[] endless = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ".getBytes(StandardCharsets.ISO_8859_1);
            long start = System.nanoTime();
            CompletableFuture<Integer> dribbled = CompletableFuture.supplyAsync(() -> {
                int i = 0;
                try {
                    while (i < 100) {
                        slow.socket.getOutputStream().write(i < endless.length ? endless[i] : 'a');
                        i++;
                        Thread.sleep(100);
                    }
                } catch (IOException | InterruptedException e) {
                    // the server closed
                }
                return i;
            });
            other.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, response(other).status());
            Response r = response(slow);
            assertEquals(408, r.status());
            long at = millisSince(start);
            slow.expectEnd();
            long closed = millisSince(start);
            assertTrue(at >= 1000 && at < 2500, "408 after " + at + " ms, header timeout 1 s");
            assertTrue(closed < 4500, "closed after " + closed + " ms"); // at worst after the 2 s linger
            slow.shutdownOutput(); // the dribbler stops at the next write
            int bytes = dribbled.get(10, TimeUnit.SECONDS);
            assertTrue(bytes < 40, bytes + " bytes dribbled");
            assertAFreshClientIsServed(s); // `other` may have idled out meanwhile
        } finally {
            s.stop();
        }
        assertNull(s.failure());
    }

    /** http-server {@code s} answers a new client's GET with 200. */
    private static void assertAFreshClientIsServed(SampleServer s) throws IOException {
        try (RawClient fresh = new RawClient(s.port())) {
            fresh.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
            assertEquals(200, response(fresh).status());
        }
    }

    // ---- as processes: socktest, echo-client, the options ----

    @EveryBackend
    void socktestClosesAnIdleConnectionButNotAnActiveOne(PollerKind kind) throws Exception {
        try (ChildJvm p = ChildJvm.start(kind, List.of(), "SockTest", "--port", "0", "--idle-timeout", "0.6")) {
            Matcher listening = p.expect("^Listening on port (\\d+), fd (\\d+)\\.$");
            int port = Integer.parseInt(listening.group(1));
            try (RawClient idle = new RawClient(port); RawClient active = new RawClient(port)) {
                long sentAt = System.nanoTime();
                idle.send("hello");
                assertEquals("hello", idle.text(5));
                CompletableFuture<Long> closedAt = CompletableFuture.supplyAsync(() -> {
                    try {
                        return awaitEnd(idle);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                staysOpenWhileSending(active, "x", (c, m) -> {
                    c.send(m);
                    assertEquals(m, c.text(1));
                });
                long idleFor = TimeUnit.NANOSECONDS.toMillis(closedAt.get(10, TimeUnit.SECONDS) - sentAt);
                assertTrue(idleFor >= IDLE_MS && idleFor < IDLE_MS + 1500, "closed after " + idleFor + " ms");
                p.expect("^connection idle for 0\\.6 s, closing fd \\d+$");
            }
            assertEquals(0, p.terminate(), "output: " + p.output());
        }
    }

    /**
     * A listener whose accept queue is full (it never accepts): Linux drops further SYNs, so a
     * connect stays in progress. echo-client gives each attempt 0.3 s, retries twice (after
     * 100 ms and 200 ms), then prints that it timed out and exits 1.
     */
    @EveryBackend
    void echoClientConnectTimeoutWithRetriesPrintsTimedOutAndExits1(PollerKind kind) throws Exception {
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            boolean isFull = false;
            for (int i = 0; i < 20 && !isFull; i++) {
                Socket f = new Socket();
                fillers.add(f);
                try {
                    f.connect(full.getLocalSocketAddress(), 300);
                } catch (SocketTimeoutException e) {
                    isFull = true;
                }
            }
            assertTrue(isFull, "could not fill the accept queue");
            long start = System.nanoTime();
            try (ChildJvm p = ChildJvm.start(kind, List.of(), "EchoClient", "--port", String.valueOf(full.getLocalPort()),
                    "--connections", "1", "--messages", "1", "--connect-timeout", "0.3", "--connect-retries", "2")) {
                ChildJvm.Exit exit = p.awaitExit();
                String output = exit.output();
                long took = millisSince(start);
                assertEquals(1, exit.status(), output);
                assertTrue(output.contains("timed out"), output);
                assertTrue(output.contains("connect timed out after 0.3 s (attempt 3 of 3)"), output);
                assertTrue(took >= 3 * 300 + 100 + 200, "exited after " + took + " ms");
            }
        } finally {
            for (Socket f : fillers) {
                f.close();
            }
        }
    }

    /** Runs sample {@code className} to its end: its exit status, a newline, then its output. */
    private static String run(String className, String... args) throws Exception {
        try (ChildJvm p = ChildJvm.start(PollerKind.ANY, List.of(), className, args)) {
            ChildJvm.Exit exit = p.awaitExit();
            return exit.status() + "\n" + exit.output();
        }
    }

    @Test
    void helpListsTheTimeoutOptionsAndBadValuesExit2() throws Exception {
        for (String sample : List.of("SockTest", "EchoServer", "RespServer", "HttpServer")) {
            String help = run(sample, "--help");
            assertTrue(help.startsWith("0\n") && help.contains("--idle-timeout SECONDS"), help);
            String bad = run(sample, "--port", "0", "--idle-timeout", "soon");
            assertTrue(bad.startsWith("2\n") && bad.contains("--idle-timeout") && bad.contains("usage:"), bad);
        }
        assertTrue(run("HttpServer", "--help").contains("--header-timeout SECONDS (default 60"));
        assertTrue(run("HttpServer", "--help").contains("--idle-timeout SECONDS (default 75"));
        assertTrue(run("HttpServer", "--port", "0", "--header-timeout", "-1").startsWith("2\n"));
        String client = run("EchoClient", "--help");
        assertTrue(client.contains("--connect-timeout SECONDS") && client.contains("--connect-retries N"), client);
        assertTrue(run("EchoClient", "--connect-retries", "x").startsWith("2\n"));
        assertTrue(run("EchoClient", "--connect-timeout", "1e3").startsWith("2\n"));
    }
}
