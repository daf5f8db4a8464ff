package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
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
        server = new RespServer(SampleServer.Settings.loopback(PollerKind.ANY, 0), 1000).start();
    }

    @AfterEach
    void stop() {
        server.stop();
        assertEquals(null, server.failure());
    }

    /** Encodes a command as a multibulk request. */
    static String command(String... args) {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            sb.append('$').append(a.getBytes(StandardCharsets.ISO_8859_1).length).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString();
    }

    /** Reads one reply, rendered as text: +OK, -ERR ..., :1, $bulk, (nil), [a, b] for arrays. */
    static String reply(RawClient c) throws IOException {
        String line = c.line();
        switch (line.charAt(0)) {
            case '+', '-', ':' -> {
                return line;
            }
            case '$' -> {
                int n = Integer.parseInt(line.substring(1));
                if (n < 0) {
                    return "(nil)";
                }
                String s = c.text(n);
                assertEquals("", c.line());
                return s;
            }
            case '*' -> {
                int n = Integer.parseInt(line.substring(1));
                List<String> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(reply(c));
                }
                return items.toString();
            }
            default -> throw new AssertionError("not a RESP reply: " + line);
        }
    }

    private String call(RawClient c, String... args) throws IOException {
        c.send(command(args));
        return reply(c);
    }

    @Test
    void commandsBehaveLikeRedis() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("+PONG", call(c, "PING"));
            assertEquals("hi there", call(c, "ping", "hi there"));
            assertEquals("echo me", call(c, "ECHO", "echo me"));
            assertEquals("(nil)", call(c, "GET", "k"));
            assertEquals("+OK", call(c, "SET", "k", "v1"));
            assertEquals("v1", call(c, "get", "k"));
            assertEquals("+OK", call(c, "SeT", "k", "a value with spaces\r\nand CRLF"));
            assertEquals("a value with spaces\r\nand CRLF", call(c, "GET", "k"));
            assertEquals("+OK", call(c, "SET", "", "empty key"));
            assertEquals("empty key", call(c, "GET", ""));
            assertEquals(":2", call(c, "EXISTS", "k", "", "missing"));
            assertEquals(":3", call(c, "EXISTS", "k", "k", ""));
            assertEquals(":1", call(c, "INCR", "n"));
            assertEquals(":2", call(c, "INCR", "n"));
            assertEquals("2", call(c, "GET", "n"));
            assertEquals("+OK", call(c, "SET", "m", "-10"));
            assertEquals(":-9", call(c, "INCR", "m"));
            assertEquals("+OK", call(c, "SET", "big", Long.toString(Long.MAX_VALUE)));
            assertEquals("-ERR increment or decrement would overflow", call(c, "INCR", "big"));
            assertEquals("-ERR value is not an integer or out of range", call(c, "INCR", "k"));
            assertEquals(":2", call(c, "DEL", "k", "n", "missing"));
            assertEquals(":0", call(c, "EXISTS", "k", "n"));
            assertEquals("[]", call(c, "COMMAND", "DOCS"));
            assertEquals("[appendonly, no]", call(c, "CONFIG", "GET", "appendonly"));
        }
    }

    @Test
    void badCommandsGetErrorsAndTheConnectionGoesOn() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("-ERR unknown command 'flushall'", call(c, "FLUSHALL"));
            assertEquals("-ERR unknown command 'x?y'", call(c, "x\ny"));
            assertEquals("-ERR wrong number of arguments for 'get' command", call(c, "GET"));
            assertEquals("-ERR wrong number of arguments for 'set' command", call(c, "set", "k"));
            assertEquals("-ERR syntax error", call(c, "SET", "k", "v", "EX", "10"));
            assertEquals("-ERR key too long (limit 64 bytes)", call(c, "SET", "k".repeat(65), "v"));
            assertEquals("-ERR value too long (limit 512 bytes)", call(c, "SET", "k", "v".repeat(513)));
            assertEquals("(nil)", call(c, "GET", "k".repeat(65)));
            assertEquals("+PONG", call(c, "PING"));
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
            assertEquals("+OK", call(good, "SET", "still", "here"));
            bad.send("*2\r\n$3\r\nGET\r\n$99999999999\r\n");
            assertEquals("-ERR Protocol error: invalid bulk length", reply(bad));
            bad.expectEnd();
            assertEquals("here", call(good, "GET", "still"));
        }
        try (RawClient bad = new RawClient(server.port()); RawClient good = new RawClient(server.port())) {
            bad.send("*99999999999\r\n");
            assertEquals("-ERR Protocol error: too many arguments (limit 1024)", reply(bad));
            bad.expectEnd();
            assertEquals("+PONG", call(good, "PING"));
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
            assertEquals(fits, call(good, "ECHO", fits));
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
        SampleServer s = new RespServer(SampleServer.Settings.loopback(kind, 0), 100).start();
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
        Assumptions.assumeTrue(onPath("redis-cli"), "redis-cli is not on PATH (apt-get install redis-tools)");
        String port = Integer.toString(server.port());
        assertEquals("PONG", run("redis-cli", "-p", port, "ping"));
        assertEquals("OK", run("redis-cli", "-p", port, "set", "cli-key", "cli value"));
        assertEquals("cli value", run("redis-cli", "-p", port, "get", "cli-key"));
        assertEquals("1", run("redis-cli", "-p", port, "incr", "counter"));
        assertEquals("1", run("redis-cli", "-p", port, "del", "cli-key"));
        assertEquals("", run("redis-cli", "-p", port, "get", "cli-key"));
        assertTrue(run("redis-cli", "-p", port, "nosuchcommand").startsWith("ERR unknown command"));
    }

    static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (new java.io.File(dir, tool).canExecute()) {
                return true;
            }
        }
        return false;
    }

    private static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "redis-cli did not finish");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }

    @Test
    void storeAgreesWithAHashMapThroughRandomSetsAndDeletes() {
        try (Arena arena = Arena.ofConfined()) {
            KeyValueStore store = new KeyValueStore(arena, 300);
            MemorySegment buf = arena.allocate(64);
            Map<String, String> model = new HashMap<>();
            Random random = new Random(7);
            for (int i = 0; i < 50_000; i++) {
                String key = "k" + random.nextInt(400);
                int keyLength = put(buf, 0, key);
                if (random.nextInt(3) == 0) {
                    assertEquals(model.remove(key) != null, store.delete(buf, 0, keyLength), key);
                } else {
                    String value = "v" + i;
                    int slot = store.findOrAdd(buf, 0, keyLength);
                    if (slot < 0) {
                        assertEquals(300, model.size(), "full only at the limit");
                        assertTrue(!model.containsKey(key));
                        continue;
                    }
                    int valueLength = put(buf, 32, value);
                    store.setValue(slot, buf, 32, valueLength);
                    model.put(key, value);
                }
                assertEquals(model.size(), store.size());
            }
            for (int k = 0; k < 400; k++) {
                String key = "k" + k;
                int keyLength = put(buf, 0, key);
                int slot = store.find(buf, 0, keyLength);
                String expected = model.get(key);
                if (expected == null) {
                    assertEquals(-1, slot, key);
                } else {
                    assertTrue(slot >= 0, key);
                    assertEquals(expected, Ascii.text(store.memory(), store.valueOffset(slot), store.valueLength(slot)));
                }
            }
        }
    }

    private static int put(MemorySegment buf, long at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, at, b.length);
        return b.length;
    }
}
