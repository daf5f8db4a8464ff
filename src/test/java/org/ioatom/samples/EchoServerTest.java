package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.ioatom.samples.server.Settings;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** echo-server and echo-client together, on every backend; and echo-server against plain Java sockets. */
@Timeout(120)
class EchoServerTest {
    /** Waits (at most 10 s) until the server has closed all its connections. */
    static void awaitNoConnections(SampleServer server) throws InterruptedException {
        for (int i = 0; i < 1000 && server.openConnections() > 0; i++) {
            Thread.sleep(10);
        }
        assertEquals(0, server.openConnections(), "connections still open on the server");
    }

    @EveryBackend
    void hundredConnectionsEchoSeveralMegabytesByteExact(PollerKind kind) throws Exception {
        SampleServer server = new EchoServer(Settings.loopback(kind, 0)).start();
        try {
            EchoClient.Options o = new EchoClient.Options("127.0.0.1", server.port(), 100, 50, 1000, 4, 60, kind);
            EchoClient.Result r = EchoClient.run(o);
            assertTrue(r.ok(), () -> EchoClient.format(r, o));
            assertEquals(5_000, r.messages());
            assertEquals(5_000_000, r.bytes(), "bytes echoed and verified");
            assertEquals(5_000, r.latency().count());
            assertEquals(kind.toString(), r.pollerName());
            assertEquals(100, server.acceptedConnections());
            awaitNoConnections(server);
        } finally {
            server.stop();
        }
        assertEquals(null, server.failure());
    }

    @EveryBackend
    void largeMessagesWithDeepPipelinesGoThroughTheBackPressurePath(PollerKind kind) throws Exception {
        SampleServer server = new EchoServer(Settings.loopback(kind, 0)).start();
        try {
            // 1 MB messages, two in flight: far more than the server's 32 KiB per connection.
            EchoClient.Options o = new EchoClient.Options("127.0.0.1", server.port(), 3, 4, 1_000_000, 2, 60, kind);
            EchoClient.Result r = EchoClient.run(o);
            assertTrue(r.ok(), () -> EchoClient.format(r, o));
            assertEquals(12_000_000, r.bytes());
            awaitNoConnections(server);
        } finally {
            server.stop();
        }
    }

    @EveryBackend
    void aPeerThatDoesNotReadIsPausedAndLosesNothingWhileOthersAreServed(PollerKind kind) throws Exception {
        SampleServer server = new EchoServer(Settings.loopback(kind, 0)).start();
        try (RawClient slow = new RawClient(server.port()); RawClient other = new RawClient(server.port())) {
            byte[] data = new byte[4 << 20];
            new Random(42).nextBytes(data);
            // Write 4 MiB without reading: the writes block once the server stops reading.
            OutputStream out = slow.socket.getOutputStream();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    out.write(data);
                    out.flush();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            // Meanwhile another connection is served normally, many times.
            for (int i = 0; i < 50; i++) {
                other.send("ping " + i + "\n");
                assertEquals("ping " + i + "\n", other.text(("ping " + i + "\n").length()));
            }
            // Now read everything back: every byte, in order.
            InputStream in = slow.socket.getInputStream();
            byte[] back = in.readNBytes(data.length);
            writer.get(30, TimeUnit.SECONDS);
            assertArrayEquals(data, back);
        } finally {
            server.stop();
        }
    }

    @Test
    void halfCloseGetsEverythingEchoedThenTheServerCloses() throws Exception {
        SampleServer server = new EchoServer(Settings.loopback(PollerKind.ANY, 0)).start();
        try (RawClient c = new RawClient(server.port())) {
            c.send("last words before the end");
            c.shutdownOutput();
            assertEquals("last words before the end", c.rest());
            awaitNoConnections(server);
        } finally {
            server.stop();
        }
    }

    @Test
    void stopClosesOpenConnectionsAndTheListener() throws Exception {
        SampleServer server = new EchoServer(Settings.loopback(PollerKind.ANY, 0)).start();
        int port = server.port();
        try (RawClient c = new RawClient(port)) {
            c.send("x");
            assertEquals("x", c.text(1));
            server.stop();
            c.expectEnd();
        }
        assertEquals(0, server.openConnections());
        assertThrows(IOException.class, () -> new RawClient(port).close(), "listener closed");
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAndTheOthersServed() throws Exception {
        SampleServer server = new EchoServer(new Settings("127.0.0.1", 0, PollerKind.ANY, 2)).start();
        try (RawClient a = new RawClient(server.port()); RawClient b = new RawClient(server.port())) {
            a.send("a");
            assertEquals("a", a.text(1));
            b.send("b");
            assertEquals("b", b.text(1));
            try (RawClient refused = new RawClient(server.port())) {
                refused.expectEnd();
            }
            a.send("still here");
            assertEquals("still here", a.text(10));
            assertEquals(2, server.acceptedConnections());
        } finally {
            server.stop();
        }
    }

    @Test
    void histogramPercentilesAreWithinTheBucketResolution() {
        Histogram h = new Histogram();
        for (int i = 1; i <= 100_000; i++) {
            h.record(i * 1000L);
        }
        assertEquals(100_000, h.count());
        assertEquals(100_000_000L, h.max());
        assertEquals(50_000_000, h.percentile(0.5), 50_000_000 * 0.04);
        assertEquals(99_000_000, h.percentile(0.99), 99_000_000 * 0.04);
        assertEquals(99_900_000, h.percentile(0.999), 99_900_000 * 0.04);
        assertEquals(100_000_000L, h.percentile(1.0));
        Histogram small = new Histogram();
        small.record(3);
        assertEquals(3, small.percentile(0.5));
    }

    private static void assertThrows(Class<? extends Throwable> type, org.junit.jupiter.api.function.Executable e, String what) {
        org.junit.jupiter.api.Assertions.assertThrows(type, e, what);
    }
}
