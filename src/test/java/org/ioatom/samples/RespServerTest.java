package org.ioatom.samples;

import static org.ioatom.testing.Resp.command;
import static org.ioatom.testing.Resp.reply;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.ioatom.samples.server.Settings;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Executables;
import org.ioatom.testing.RawClient;
import org.ioatom.testing.Resp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** resp-server through a small RESP client, and through redis-cli where it is installed. */
@Timeout(60)
class RespServerTest {
    private SampleServer server;

    @BeforeEach
    void start() throws IOException {
        server = new RespServer(Settings.loopback(PollerKind.ANY, 0), 1000).start();
    }

    @AfterEach
    void stop() {
        server.stop();
        assertEquals(null, server.failure());
    }

    @Test
    void commandsBehaveLikeRedis() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("+PONG", Resp.call(c, "PING"));
            assertEquals("hi there", Resp.call(c, "ping", "hi there"));
            assertEquals("echo me", Resp.call(c, "ECHO", "echo me"));
            assertEquals("(nil)", Resp.call(c, "GET", "k"));
            assertEquals("+OK", Resp.call(c, "SET", "k", "v1"));
            assertEquals("v1", Resp.call(c, "get", "k"));
            assertEquals("+OK", Resp.call(c, "SeT", "k", "a value with spaces\r\nand CRLF"));
            assertEquals("a value with spaces\r\nand CRLF", Resp.call(c, "GET", "k"));
            assertEquals("+OK", Resp.call(c, "SET", "", "empty key"));
            assertEquals("empty key", Resp.call(c, "GET", ""));
            assertEquals(":2", Resp.call(c, "EXISTS", "k", "", "missing"));
            assertEquals(":3", Resp.call(c, "EXISTS", "k", "k", ""));
            assertEquals(":1", Resp.call(c, "INCR", "n"));
            assertEquals(":2", Resp.call(c, "INCR", "n"));
            assertEquals("2", Resp.call(c, "GET", "n"));
            assertEquals("+OK", Resp.call(c, "SET", "m", "-10"));
            assertEquals(":-9", Resp.call(c, "INCR", "m"));
            assertEquals("+OK", Resp.call(c, "SET", "big", Long.toString(Long.MAX_VALUE)));
            assertEquals("-ERR increment or decrement would overflow", Resp.call(c, "INCR", "big"));
            assertEquals("-ERR value is not an integer or out of range", Resp.call(c, "INCR", "k"));
            assertEquals(":2", Resp.call(c, "DEL", "k", "n", "missing"));
            assertEquals(":0", Resp.call(c, "EXISTS", "k", "n"));
            assertEquals("[]", Resp.call(c, "COMMAND", "DOCS"));
            assertEquals("[appendonly, no]", Resp.call(c, "CONFIG", "GET", "appendonly"));
        }
    }

    @Test
    void badCommandsGetErrorsAndTheConnectionGoesOn() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("-ERR unknown command 'flushall'", Resp.call(c, "FLUSHALL"));
            assertEquals("-ERR unknown command 'x?y'", Resp.call(c, "x\ny"));
            assertEquals("-ERR wrong number of arguments for 'get' command", Resp.call(c, "GET"));
            assertEquals("-ERR wrong number of arguments for 'set' command", Resp.call(c, "set", "k"));
            assertEquals("-ERR syntax error", Resp.call(c, "SET", "k", "v", "EX", "10"));
            assertEquals("-ERR key too long (limit 64 bytes)", Resp.call(c, "SET", "k".repeat(65), "v"));
            assertEquals("-ERR value too long (limit 512 bytes)", Resp.call(c, "SET", "k", "v".repeat(513)));
            assertEquals("(nil)", Resp.call(c, "GET", "k".repeat(65)));
            assertEquals("+PONG", Resp.call(c, "PING"));
        }
    }

    @Test
    void inlineCommandsWork() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send("PING\r\n");
            assertEquals("+PONG", reply(c));
            c.send("set  greeting\thello\r\nGET greeting\n\r\n");
            assertEquals("+OK", reply(c));
            assertEquals("hello", reply(c));
            c.send("ping\r\n");
            assertEquals("+PONG", reply(c), "empty lines are skipped");
        }
    }

    @Test
    void pipelinedCommandsAreAnsweredInOrder() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 2000; i++) {
                batch.append(i % 2 == 0 ? command("SET", "key" + (i % 50), "value" + i) : command("GET", "key" + ((i - 1) % 50)));
            }
            batch.append("PING\r\n");
            c.send(batch.toString());
            for (int i = 0; i < 2000; i++) {
                assertEquals(i % 2 == 0 ? "+OK" : "value" + (i - 1), reply(c), "reply " + i);
            }
            assertEquals("+PONG", reply(c));
        }
    }

    @Test
    void aClientThatSendsWithoutReadingIsThrottledNotDropped() throws Exception {
        try (RawClient c = new RawClient(server.port())) {
            int count = 150_000; // 2.1 MB of replies, far beyond the buffers
            byte[] pings = "PING\r\n".repeat(count).getBytes(StandardCharsets.ISO_8859_1);
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    c.send(pings);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            byte[] expected = "+PONG\r\n".repeat(count).getBytes(StandardCharsets.ISO_8859_1);
            byte[] got = c.bytes(expected.length);
            writer.get(30, TimeUnit.SECONDS);
            assertTrue(java.util.Arrays.equals(expected, got), "replies differ");
        }
    }

    @Test
    void anAbsurdBulkLengthClosesOnlyThatConnection() throws IOException {
        try (RawClient bad = new RawClient(server.port()); RawClient good = new RawClient(server.port())) {
            assertEquals("+OK", Resp.call(good, "SET", "still", "here"));
            bad.send("*2\r\n$3\r\nGET\r\n$99999999999\r\n");
            assertEquals("-ERR Protocol error: invalid bulk length", reply(bad));
            bad.expectEnd();
            assertEquals("here", Resp.call(good, "GET", "still"));
        }
        try (RawClient bad = new RawClient(server.port()); RawClient good = new RawClient(server.port())) {
            bad.send("*99999999999\r\n");
            assertEquals("-ERR Protocol error: too many arguments (limit 1024)", reply(bad));
            bad.expectEnd();
            assertEquals("+PONG", Resp.call(good, "PING"));
        }
    }

    @Test
    void malformedRequestsGetAProtocolErrorAndAClose() throws IOException {
        String[][] cases = {
                {"*1\r\n+PING\r\n", "-ERR Protocol error: expected '$'"},
                {"*x\r\n", "-ERR Protocol error: invalid multibulk length"},
                {"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length"},
                {"*1\r\n$4\r\nPINGxx", "-ERR Protocol error: expected CR LF"},
        };
        for (String[] k : cases) {
            try (RawClient bad = new RawClient(server.port())) {
                bad.send(k[0]);
                assertEquals(k[1], reply(bad), k[0]);
                bad.expectEnd();
            }
        }
    }

    @Test
    void aRequestAboveTheSizeLimitIsRefusedAndClosed() throws IOException {
        try (RawClient bad = new RawClient(server.port()); RawClient good = new RawClient(server.port())) {
            String big = "x".repeat(10_000);
            bad.send(command("ECHO", big, big)); // 20 kB: within the bulk limit, beyond the request limit
            assertEquals("-ERR Protocol error: request too large (limit 16384 bytes)", reply(bad));
            bad.expectEnd();
            String fits = "y".repeat(16_000);
            assertEquals(fits, Resp.call(good, "ECHO", fits));
        }
    }

    @Test
    void quitSaysOkAndCloses() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send(command("QUIT") + command("PING"));
            assertEquals("+OK", reply(c));
            c.expectEnd();
        }
    }

    @EveryBackend
    void worksOnEveryBackend(PollerKind kind) throws IOException {
        SampleServer s = new RespServer(Settings.loopback(kind, 0), 100).start();
        try (RawClient c = new RawClient(s.port())) {
            c.send(command("SET", "a", "1") + command("INCR", "a") + command("GET", "a") + "PING\r\n");
            assertEquals("+OK", reply(c));
            assertEquals(":2", reply(c));
            assertEquals("2", reply(c));
            assertEquals("+PONG", reply(c));
        } finally {
            s.stop();
        }
    }

    @Test
    void redisCliTalksToIt() throws Exception {
        Assumptions.assumeTrue(Executables.onPath("redis-cli") != null,
                "redis-cli is not on PATH (apt-get install redis-tools)");
        String port = Integer.toString(server.port());
        assertEquals("PONG", run("redis-cli", "-p", port, "ping"));
        assertEquals("OK", run("redis-cli", "-p", port, "set", "cli-key", "cli value"));
        assertEquals("cli value", run("redis-cli", "-p", port, "get", "cli-key"));
        assertEquals("1", run("redis-cli", "-p", port, "incr", "counter"));
        assertEquals("1", run("redis-cli", "-p", port, "del", "cli-key"));
        assertEquals("", run("redis-cli", "-p", port, "get", "cli-key"));
        assertTrue(run("redis-cli", "-p", port, "nosuchcommand").startsWith("ERR unknown command"));
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "redis-cli did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
