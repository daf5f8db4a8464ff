package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.ioatom.samples.server.Settings;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Http;
import org.ioatom.testing.RawClient;
import org.ioatom.testing.Resp;
import org.ioatom.testing.Threads;
import org.ioatom.testing.WriteStall;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile and careless peers against the in-process sample servers, on every backend: each test
 * bounded in time, loopback only. After each, a fresh client is served correctly and the
 * process's socket descriptors return to what they were before the clients came.
 */
@Timeout(60)
class AdversarialPeersTest {
    private static final String GET = "GET / HTTP/1.1\r\nHost: adv\r\n\r\n";

    /** Socket descriptors of this process, by number and target. */
    static Map<Integer, String> sockets() {
        Map<Integer, String> fds = Threads.openFds();
        fds.values().removeIf(t -> !t.startsWith("socket:"));
        return fds;
    }

    /**
     * The socket descriptors open before the adversaries come: taken after one plain and one NIO
     * client went through {@code port} and closed, so that sockets the JDK opens lazily on
     * first use are part of it.
     */
    static Map<Integer, String> baseline(int port) throws IOException {
        try (RawClient c = new RawClient(port); SocketChannel ch = SocketChannel.open(new InetSocketAddress("127.0.0.1", port))) {
            c.socket.getLocalPort();
            ch.isConnected();
        }
        return sockets();
    }

    /** Waits (at most 5 s: the servers linger up to 2 s) until no socket beyond {@code before} is open. */
    static void awaitSocketsBackTo(Map<Integer, String> before) throws InterruptedException {
        Map<Integer, String> extra = Map.of();
        for (int i = 0; i < 500; i++) {
            extra = Threads.added(before, sockets());
            if (extra.isEmpty()) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError(extra.size() + " socket(s) still open beyond the baseline: " + extra);
    }

    static void assertHttpServes(int port) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.send(GET);
            assertEquals(200, Http.response(c).status());
        }
    }

    static void assertRespServes(int port, String key) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.send(Resp.command("SET", key, "v-" + key));
            assertEquals("+OK", Resp.reply(c));
            c.send(Resp.command("GET", key));
            assertEquals("v-" + key, Resp.reply(c));
        }
    }

    static void assertEchoServes(int port) throws IOException {
        try (RawClient c = new RawClient(port)) {
            c.send("fresh\n");
            assertEquals("fresh\n", c.text(6));
        }
    }

    /** Reads whatever the server sends until it closes, resets, or stays silent for 10 s; returns the text. */
    static String drainUntilClosed(RawClient c) {
        StringBuilder sb = new StringBuilder();
        try {
            for (int b; (b = c.read()) >= 0 && sb.length() < 1 << 20; ) {
                sb.append((char) b);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server neither closed nor answered within 10 s; got: " + sb, e);
        } catch (IOException e) {
            // reset: closed as well
        }
        return sb.toString();
    }

    /**
     * Sends {@code request} and ends the sending side (the server may close first: that is fine),
     * then returns what the server answered until it closed.
     */
    static String answerTo(RawClient bad, byte[] request) {
        try {
            bad.send(request);
            bad.shutdownOutput();
        } catch (IOException e) {
            // closed on us while sending
        }
        return drainUntilClosed(bad);
    }

    // ---- slowloris ----

    @EveryBackend
    void slowlorisOnHttpDoesNotDelayOthersAndIsAnsweredWhenComplete(PollerKind kind) throws Exception {
        SampleServer server = new HttpServer(Settings.loopback(kind, 0)).start();
        try {
            Map<Integer, String> before = baseline(server.port());
            try (RawClient slow = new RawClient(server.port()); RawClient good = new RawClient(server.port())) {
                // In lockstep, no clock: one byte of the slow request, then a whole request of the
                // good client, answered while the slow one is still incomplete.
                byte[] request = GET.getBytes(StandardCharsets.ISO_8859_1);
                for (byte b : request) {
                    slow.send(new byte[] {b});
                    good.send(GET);
                    assertEquals(200, Http.response(good).status());
                }
                assertEquals(200, Http.response(slow).status(), "the slow request, once complete");
            }
            assertHttpServes(server.port());
            awaitSocketsBackTo(before);
        } finally {
            server.stop();
        }
        assertNull(server.failure());
    }

    @EveryBackend
    void slowlorisOnRespDoesNotDelayOthersAndIsAnsweredWhenComplete(PollerKind kind) throws Exception {
        SampleServer server = new RespServer(Settings.loopback(kind, 0), 1000).start();
        try {
            Map<Integer, String> before = baseline(server.port());
            try (RawClient slow = new RawClient(server.port()); RawClient good = new RawClient(server.port())) {
                // In lockstep, no clock: one byte of the slow request, then whole requests of the
                // good client, answered while the slow one is still incomplete.
                byte[] request = Resp.command("SET", "slow", "loris").getBytes(StandardCharsets.ISO_8859_1);
                for (int i = 0; i < request.length; i++) {
                    slow.send(new byte[] {request[i]});
                    String v = "value-" + i;
                    good.send(Resp.command("SET", "good", v) + Resp.command("GET", "good"));
                    assertEquals("+OK", Resp.reply(good));
                    assertEquals(v, Resp.reply(good));
                }
                assertEquals("+OK", Resp.reply(slow), "the slow request, once complete");
                slow.send(Resp.command("GET", "slow"));
                assertEquals("loris", Resp.reply(slow));
            }
            assertRespServes(server.port(), "after");
            awaitSocketsBackTo(before);
        } finally {
            server.stop();
        }
        assertNull(server.failure());
    }

    // ---- a peer that never reads ----

    static byte pattern(long i) {
        return (byte) (i * 131 + (i >>> 9));
    }

    @EveryBackend
    void aPeerThatNeverReadsIsThrottledTheLoopAllocatesNothingAndNoByteIsLost(PollerKind kind) throws Exception {
        SampleServer server = new EchoServer(Settings.loopback(kind, 0)).start();
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try {
            Map<Integer, String> before = baseline(server.port());
            try (SocketChannel hog = SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port()));
                    RawClient good = new RawClient(server.port())) {
                assertEchoServes(server.port()); // warm-up of the paths used below
                hog.configureBlocking(false);
                ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
                long written = 0;
                WriteStall stall = new WriteStall();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                // Write without reading until writes have been refused for 500 ms: the server stopped reading.
                while (true) {
                    assertTrue(System.nanoTime() < deadline, "the peer could still send after " + written + " bytes");
                    chunk.clear();
                    for (int i = 0; i < chunk.capacity(); i++) {
                        chunk.put(i, pattern(written + i));
                    }
                    int n = hog.write(chunk); // the unwritten tail is rewritten with the right positions next turn
                    written += n;
                    if (stall.after(n)) {
                        break;
                    }
                }
                // Bounded: the socket buffers of both directions plus one 64 KiB chunk of unsent echo
                // (loopback autotuning allows a few MiB).
                assertTrue(written < 64L << 20, "the server took " + written + " bytes from a peer that never reads");
                assertTrue(server.chunksInUse() <= 1, "an echo connection keeps at most one chunk, of output; in use: "
                        + server.chunksInUse());
                // While it is stalled the others are served, and the loop allocates (next to) nothing.
                long allocated0 = threads.getThreadAllocatedBytes(server.loopThreadId());
                for (int i = 0; i < 200; i++) {
                    String msg = "ping " + i + "\n";
                    good.send(msg);
                    assertEquals(msg, good.text(msg.length()));
                }
                Thread.sleep(1000);
                long allocated = threads.getThreadAllocatedBytes(server.loopThreadId()) - allocated0;
                System.out.printf("%s: non-reading peer stalled after %d bytes; loop thread allocated %d bytes meanwhile%n",
                        kind, written, allocated);
                assertTrue(allocated < 64 * 1024, "loop thread allocated " + allocated + " bytes while a peer stalled");
                // Now read everything back: every byte, in order.
                hog.configureBlocking(true);
                hog.socket().setSoTimeout(10_000);
                ByteBuffer in = ByteBuffer.allocate(64 * 1024);
                long read = 0;
                while (read < written) {
                    in.clear();
                    if (written - read < in.capacity()) {
                        in.limit((int) (written - read));
                    }
                    int n = hog.read(in);
                    assertTrue(n > 0, "end of stream after " + read + " of " + written + " bytes");
                    for (int i = 0; i < n; i++) {
                        if (in.get(i) != pattern(read + i)) {
                            throw new AssertionError("byte " + (read + i) + " differs");
                        }
                    }
                    read += n;
                }
            }
            assertEchoServes(server.port());
            awaitSocketsBackTo(before);
            assertEquals(0, server.chunksInUse(), "chunks still held after every connection closed");
        } finally {
            server.stop();
        }
        assertNull(server.failure());
    }

    // ---- many connections ----

    @EveryBackend(except = {PollerKind.SELECT, PollerKind.KQUEUE})
    void fourThousandSimultaneousConnectionsEachGetTheirEcho(PollerKind kind) throws Exception {
        int count = 4000;
        SampleServer server = new EchoServer(new Settings("127.0.0.1", 0, kind, count + 100)).start();
        try {
            Map<Integer, String> before = baseline(server.port());
            List<SocketChannel> clients = new ArrayList<>(count);
            try {
                for (int i = 0; i < count; i++) {
                    clients.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port())));
                }
                for (int i = 0; i < count; i++) {
                    ByteBuffer b = ByteBuffer.allocate(8).putLong(0, 0x5EED_0000_0000L + i);
                    while (b.hasRemaining()) {
                        clients.get(i).write(b);
                    }
                }
                for (int i = 0; i < count; i++) {
                    SocketChannel c = clients.get(i);
                    c.socket().setSoTimeout(10_000);
                    var in = c.socket().getInputStream();
                    byte[] got = in.readNBytes(8);
                    assertEquals(8, got.length, "connection " + i + " ended early");
                    assertEquals(0x5EED_0000_0000L + i, ByteBuffer.wrap(got).getLong(), "connection " + i);
                }
                assertEquals(count, server.openConnections());
                assertEquals(0, server.chunksInUse(), "idle connections hold no buffer chunks");
                System.out.printf("%s: %d connections served with %d leftover chunks ever allocated%n",
                        kind, count, server.chunksAllocated());
            } finally {
                for (SocketChannel c : clients) {
                    c.close();
                }
            }
            EchoServerTest.awaitNoConnections(server);
            assertEchoServes(server.port());
            awaitSocketsBackTo(before);
        } finally {
            server.stop();
        }
        assertNull(server.failure());
    }

    // ---- garbage and oversized requests ----

    @EveryBackend
    void randomBinaryGarbageGetsAnErrorOrACloseAndOthersAreServed(PollerKind kind) throws Exception {
        SampleServer http = new HttpServer(Settings.loopback(kind, 0)).start();
        SampleServer resp = new RespServer(Settings.loopback(kind, 0), 1000).start();
        try {
            Map<Integer, String> before = baseline(http.port());
            Random random = new Random(0xBAD_5EEDL);
            for (int round = 0; round < 5; round++) {
                for (SampleServer s : List.of(http, resp)) {
                    try (RawClient bad = new RawClient(s.port()); RawClient good = new RawClient(s.port())) {
                        byte[] garbage = new byte[1 + random.nextInt(64 * 1024)];
                        random.nextBytes(garbage);
                        garbage[0] = (byte) (0x80 | garbage[0]); // never a plausible first byte
                        // answerTo ends the sending side: resp answers garbage lines with errors and waits for more
                        String answer = answerTo(bad, garbage);
                        if (s == http) {
                            assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 4"), "http answered " + answer);
                            good.send(GET);
                            assertEquals(200, Http.response(good).status());
                        } else {
                            assertTrue(answer.isEmpty() || answer.startsWith("-ERR"), "resp answered " + answer);
                            good.send("PING\r\n");
                            assertEquals("+PONG", Resp.reply(good));
                        }
                    }
                }
            }
            assertHttpServes(http.port());
            assertRespServes(resp.port(), "fresh");
            awaitSocketsBackTo(before);
        } finally {
            http.stop();
            resp.stop();
        }
        assertNull(http.failure());
        assertNull(resp.failure());
    }

    @EveryBackend
    void oversizedRespBulkLengthsAndHttpHeadersAreRefusedAndTheServersGoOn(PollerKind kind) throws Exception {
        SampleServer http = new HttpServer(Settings.loopback(kind, 0)).start();
        SampleServer resp = new RespServer(Settings.loopback(kind, 0), 1000).start();
        try {
            Map<Integer, String> before = baseline(http.port());
            String[] respCases = {
                    "*2\r\n$3\r\nGET\r\n$2147483648\r\n",
                    "*2\r\n$3\r\nGET\r\n$-7\r\n",
                    "*1\r\n$9223372036854775807\r\n",
                    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n" + "x".repeat(200_000),
            };
            for (String request : respCases) {
                try (RawClient bad = new RawClient(resp.port()); RawClient good = new RawClient(resp.port())) {
                    good.send("PING\r\n");
                    assertEquals("+PONG", Resp.reply(good));
                    String answer = answerTo(bad, request.getBytes(StandardCharsets.ISO_8859_1));
                    assertTrue(answer.startsWith("-ERR"), "for " + request.substring(0, Math.min(40, request.length()))
                            + ": " + answer);
                    good.send("PING\r\n");
                    assertEquals("+PONG", Resp.reply(good));
                }
            }
            // Each refusal is an answer, then a close: a silent close fails here. (The answer stays
            // readable even when the server's close resets the connection, since Linux delivers
            // what was queued before the reset.)
            Map<String, String> httpCases = Map.of(
                    "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "a".repeat(64 * 1024) + "\r\n\r\n",
                    "HTTP/1.1 431 ",
                    "GET / HTTP/1.1\r\n" + "X-Many: b\r\n".repeat(5000) + "\r\n",
                    "HTTP/1.1 431 ",
                    "GET /" + "p".repeat(100_000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
                    "HTTP/1.1 414 ",
                    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n",
                    "HTTP/1.1 400 ");
            for (var refusal : httpCases.entrySet()) {
                String request = refusal.getKey();
                try (RawClient bad = new RawClient(http.port()); RawClient good = new RawClient(http.port())) {
                    String answer = answerTo(bad, request.getBytes(StandardCharsets.ISO_8859_1));
                    assertTrue(answer.startsWith(refusal.getValue()), "for " + request.substring(0, 40)
                            + ": expected " + refusal.getValue() + "..., got '" + answer + "'");
                    good.send(GET);
                    assertEquals(200, Http.response(good).status());
                }
            }
            assertHttpServes(http.port());
            assertRespServes(resp.port(), "fresh");
            awaitSocketsBackTo(before);
        } finally {
            http.stop();
            resp.stop();
        }
        assertNull(http.failure());
        assertNull(resp.failure());
    }
}
