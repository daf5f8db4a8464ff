package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.ioatom.samples.server.Settings;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Http;
import org.ioatom.testing.RawClient;
import org.ioatom.testing.Resp;
import org.ioatom.testing.WriteStall;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The servers read into one shared buffer per loop; a connection holds memory of its own (a
 * 64 KiB chunk) only for input it could not process yet and output its socket did not take.
 * These tests pin that down: idle connections hold nothing, a peer that pipelines without
 * reading holds at most one input and one output chunk while the server stops reading from it,
 * and every reply still arrives, in order, once it reads.
 */
@Timeout(120)
class LeftoverChunksTest {
    @Test
    void theConnectionStructIsSmall() {
        assertEquals(88, SampleServer.connectionStructBytes());
    }

    @EveryBackend
    void aRespPeerThatPipelinesWithoutReadingHoldsAtMostTwoChunksAndGetsEveryReply(PollerKind kind) throws Exception {
        SampleServer server = new RespServer(Settings.loopback(kind, 0), 1000).start();
        try {
            try (SocketChannel peer = SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port()))) {
                // ECHO of 200 bytes: a 207-byte reply to a 225-byte request, numbered so order shows.
                peer.configureBlocking(false);
                long sent = 0;
                WriteStall stall = new WriteStall();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                ByteBuffer pending = ByteBuffer.allocate(0);
                int maxInUse = 0;
                while (true) {
                    assertTrue(System.nanoTime() < deadline, "the peer could still send after " + sent + " requests");
                    if (!pending.hasRemaining()) {
                        pending = ByteBuffer.wrap(Resp.command("ECHO", payload(sent)).getBytes(StandardCharsets.ISO_8859_1));
                        sent++;
                    }
                    int n = peer.write(pending);
                    maxInUse = Math.max(maxInUse, server.chunksInUse());
                    if (stall.after(n)) {
                        break;
                    }
                }
                maxInUse = Math.max(maxInUse, server.chunksInUse());
                assertTrue(maxInUse <= 2, "one connection held " + maxInUse + " chunks");
                // Read the reply to every request sent whole, in order (the last one may be cut short).
                long whole = pending.hasRemaining() ? sent - 1 : sent;
                peer.configureBlocking(true);
                peer.socket().setSoTimeout(10_000);
                var in = peer.socket().getInputStream();
                for (long i = 0; i < whole; i++) {
                    String expected = "$200\r\n" + payload(i) + "\r\n";
                    byte[] got = in.readNBytes(expected.length());
                    assertEquals(expected, new String(got, StandardCharsets.ISO_8859_1), "reply " + i + " of " + whole);
                }
                System.out.printf("%s: %d pipelined requests before the server stopped reading; at most %d chunks held%n",
                        kind, whole, maxInUse);
            }
            EchoServerTest.awaitNoConnections(server);
            assertEquals(0, server.chunksInUse(), "chunks still held after the connection closed");
        } finally {
            server.stop();
        }
        assertNull(server.failure());
    }

    private static String payload(long i) {
        String n = Long.toString(i);
        return n + "x".repeat(200 - n.length());
    }

    @Test
    void manyIdleConnectionsHoldNoChunks() throws IOException, InterruptedException {
        SampleServer server = new HttpServer(Settings.loopback(PollerKind.ANY, 0)).start();
        RawClient[] clients = new RawClient[300];
        try {
            for (int i = 0; i < clients.length; i++) {
                clients[i] = new RawClient(server.port());
                clients[i].send("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHo"); // one whole request, one begun
            }
            for (RawClient c : clients) {
                assertEquals(200, Http.response(c).status());
            }
            // Each connection holds its incomplete request: the one thing that needs memory of its own.
            assertEquals(clients.length, server.chunksInUse());
            for (RawClient c : clients) {
                c.send("st: a\r\n\r\n");
            }
            for (RawClient c : clients) {
                assertEquals(200, Http.response(c).status());
            }
            assertEquals(0, server.chunksInUse(), "idle connections hold no chunks");
        } finally {
            for (RawClient c : clients) {
                if (c != null) {
                    c.close();
                }
            }
            server.stop();
        }
    }
}
