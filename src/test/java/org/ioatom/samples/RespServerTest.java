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
            assertEquals("[appendonly, no]", Resp.call(c, "CONFIG", "GET", "appendonly"));
            assertEquals("[]", Resp.call(c, "CONFIG", "GET", "no-such-parameter"));
        }
    }

    @Test
    void badCommandsGetErrorsAndTheConnectionGoesOn() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("-ERR unknown command 'NoSuch', with args beginning with: ", Resp.call(c, "NoSuch"));
            assertEquals("-ERR unknown command 'x y', with args beginning with: 'a b' '' ", Resp.call(c, "x\ny", "a\rb", ""));
            assertEquals("-ERR unknown command 'lpush', with args beginning with: 'list' 'v' ", Resp.call(c, "lpush", "list", "v"));
            String longArgs = Resp.call(c, "nope", "a".repeat(100), "b".repeat(100), "c");
            assertEquals("-ERR unknown command 'nope', with args beginning with: '" + "a".repeat(100) + "' '" + "b".repeat(25) + "' ",
                    longArgs, "arguments are quoted up to 128 bytes, as redis does");
            assertEquals("-ERR wrong number of arguments for 'get' command", Resp.call(c, "GET"));
            assertEquals("-ERR wrong number of arguments for 'set' command", Resp.call(c, "set", "k"));
            assertEquals("-ERR wrong number of arguments for 'ping' command", Resp.call(c, "PING", "a", "b"));
            assertEquals("-ERR wrong number of arguments for 'mset' command", Resp.call(c, "MSET", "a", "1", "b"));
            assertEquals("-ERR wrong number of arguments for 'dbsize' command", Resp.call(c, "DBSIZE", "x"));
            assertEquals("-ERR wrong number of arguments for 'client|setname' command", Resp.call(c, "CLIENT", "SETNAME"));
            assertEquals("-ERR unknown subcommand 'nope'. Try CLIENT HELP.", Resp.call(c, "CLIENT", "nope"));
            assertEquals("-ERR unknown subcommand 'nope'. Try COMMAND HELP.", Resp.call(c, "COMMAND", "nope"));
            assertEquals("-ERR syntax error", Resp.call(c, "SET", "k", "v", "EX"));
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
    void setOptionsAnswerAsRedis7Does() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals("(nil)", Resp.call(c, "SET", "k", "1", "XX"));
            assertEquals("+OK", Resp.call(c, "SET", "k", "1", "NX"));
            assertEquals("(nil)", Resp.call(c, "SET", "k", "2", "nx"));
            assertEquals("1", Resp.call(c, "SET", "k", "3", "XX", "GET"));
            assertEquals("3", Resp.call(c, "SET", "k", "4", "NX", "GET"), "NX GET: the old value, nothing set");
            assertEquals("3", Resp.call(c, "GET", "k"));
            assertEquals("(nil)", Resp.call(c, "SET", "new", "v", "GET"));
            assertEquals("+OK", Resp.call(c, "SET", "k", "v", "EX", "100"));
            assertEquals(":100", Resp.call(c, "TTL", "k"));
            assertEquals("+OK", Resp.call(c, "SET", "k", "w", "KEEPTTL"));
            assertEquals(":100", Resp.call(c, "TTL", "k"));
            assertEquals("+OK", Resp.call(c, "SET", "k", "x"));
            assertEquals(":-1", Resp.call(c, "TTL", "k"), "a plain SET clears the expiry");
            assertEquals("+OK", Resp.call(c, "SET", "k", "v", "EX", "100000", "EX", "5"), "the last of the same kind wins");
            assertEquals(":5", Resp.call(c, "TTL", "k"));
            assertEquals("+OK", Resp.call(c, "SET", "k", "v", "EXAT", Long.toString(System.currentTimeMillis() / 1000 + 1000)));
            long ttl = Long.parseLong(Resp.call(c, "TTL", "k").substring(1));
            assertTrue(ttl >= 998 && ttl <= 1000, "TTL after EXAT: " + ttl);
            assertEquals("+OK", Resp.call(c, "SET", "gone", "v", "PXAT", "1"));
            assertEquals("(nil)", Resp.call(c, "GET", "gone"), "an absolute time already passed");
            String[][] errors = {
                    {"-ERR syntax error", "NX", "XX"},
                    {"-ERR syntax error", "XX", "NX"},
                    {"-ERR syntax error", "EX", "10", "PX", "100"},
                    {"-ERR syntax error", "KEEPTTL", "EX", "10"},
                    {"-ERR syntax error", "EX", "10", "KEEPTTL"},
                    {"-ERR syntax error", "PX"},
                    {"-ERR syntax error", "FOO"},
                    {"-ERR value is not an integer or out of range", "EX", "ten"},
                    {"-ERR value is not an integer or out of range", "EX", "+1"},
                    {"-ERR value is not an integer or out of range", "EX", "01"},
                    {"-ERR invalid expire time in 'set' command", "EX", "0"},
                    {"-ERR invalid expire time in 'set' command", "PX", "-5"},
                    {"-ERR invalid expire time in 'set' command", "EX", "9223372036854775"},
                    {"-ERR invalid expire time in 'set' command", "PX", "9223372036854775000"},
            };
            for (String[] e : errors) {
                String[] cmd = new String[3 + e.length - 1];
                cmd[0] = "SET";
                cmd[1] = "k";
                cmd[2] = "v";
                System.arraycopy(e, 1, cmd, 3, e.length - 1);
                assertEquals(e[0], Resp.call(c, cmd), String.join(" ", cmd));
            }
            assertEquals("v", Resp.call(c, "GET", "k"), "refused SETs changed nothing");
        }
    }

    @Test
    void countersExpiryAndManyKeysAnswerAsRedisDoes() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            assertEquals(":10", Resp.call(c, "INCRBY", "n", "10"));
            assertEquals(":7", Resp.call(c, "DECRBY", "n", "3"));
            assertEquals(":6", Resp.call(c, "DECR", "n"));
            assertEquals(":-4", Resp.call(c, "INCRBY", "n", "-10"));
            assertEquals("-ERR value is not an integer or out of range", Resp.call(c, "INCRBY", "n", "1.5"));
            assertEquals("-ERR decrement would overflow", Resp.call(c, "DECRBY", "n", "-9223372036854775808"));
            assertEquals("+OK", Resp.call(c, "SET", "min", "-9223372036854775808"));
            assertEquals("-ERR increment or decrement would overflow", Resp.call(c, "DECR", "min"));
            assertEquals(":-9223372036854775807", Resp.call(c, "INCR", "min"));
            assertEquals("+OK", Resp.call(c, "SET", "s", " 1"));
            assertEquals("-ERR value is not an integer or out of range", Resp.call(c, "INCR", "s"));
            assertEquals("+OK", Resp.call(c, "MSET", "a", "1", "b", "2", "a", "3"));
            assertEquals("[3, 2, (nil)]", Resp.call(c, "MGET", "a", "b", "c"));
            assertEquals(":-2", Resp.call(c, "TTL", "c"));
            assertEquals(":-1", Resp.call(c, "PTTL", "a"));
            assertEquals(":0", Resp.call(c, "EXPIRE", "c", "10"));
            assertEquals(":0", Resp.call(c, "EXPIRE", "a", "10", "XX"));
            assertEquals(":0", Resp.call(c, "EXPIRE", "a", "10", "GT"), "no expiry counts as infinite for GT");
            assertEquals(":1", Resp.call(c, "EXPIRE", "a", "10", "NX"));
            assertEquals(":0", Resp.call(c, "EXPIRE", "a", "20", "NX"));
            assertEquals(":1", Resp.call(c, "EXPIRE", "a", "20", "GT"));
            assertEquals(":0", Resp.call(c, "EXPIRE", "a", "30", "LT"));
            assertEquals(":20", Resp.call(c, "TTL", "a"));
            assertEquals(":1", Resp.call(c, "PEXPIRE", "a", "5000", "lt"));
            assertEquals(":5", Resp.call(c, "TTL", "a"));
            assertEquals("-ERR Unsupported option FOO", Resp.call(c, "EXPIRE", "a", "10", "FOO"));
            assertEquals("-ERR NX and XX, GT or LT options at the same time are not compatible",
                    Resp.call(c, "EXPIRE", "a", "10", "NX", "GT"));
            assertEquals("-ERR GT and LT options at the same time are not compatible", Resp.call(c, "EXPIRE", "a", "10", "GT", "LT"));
            assertEquals("-ERR value is not an integer or out of range", Resp.call(c, "EXPIRE", "a", "x"));
            assertEquals("-ERR invalid expire time in 'expire' command", Resp.call(c, "EXPIRE", "a", "9223372036854775807"));
            assertEquals("-ERR invalid expire time in 'pexpire' command", Resp.call(c, "PEXPIRE", "a", "9223372036854775807"));
            assertEquals(":1", Resp.call(c, "PERSIST", "a"));
            assertEquals(":0", Resp.call(c, "PERSIST", "a"));
            assertEquals(":-1", Resp.call(c, "TTL", "a"));
            assertEquals(":1", Resp.call(c, "EXPIRE", "b", "-1"), "a time in the past deletes");
            assertEquals(":0", Resp.call(c, "EXISTS", "b"));
            assertEquals(":4", Resp.call(c, "DBSIZE"));
            assertEquals("+OK", Resp.call(c, "FLUSHALL"));
            assertEquals(":0", Resp.call(c, "DBSIZE"));
            assertEquals("-ERR syntax error", Resp.call(c, "FLUSHALL", "LATER"));
            assertEquals("+OK", Resp.call(c, "SELECT", "0"));
            assertEquals("-ERR DB index is out of range", Resp.call(c, "SELECT", "1"));
        }
    }

    @EveryBackend
    void anExpiredKeyIsGoneForEveryCommandAndItsTimerFreesIt(PollerKind kind) throws Exception {
        SampleServer s = new RespServer(Settings.loopback(kind, 0), 100).start();
        try (RawClient c = new RawClient(s.port())) {
            assertEquals("+OK", Resp.call(c, "SET", "short", "v", "PX", "150"));
            assertEquals("+OK", Resp.call(c, "SET", "counter", "5", "PX", "150"));
            assertEquals("+OK", Resp.call(c, "MSET", "stays", "1"));
            assertEquals(":1", Resp.call(c, "PEXPIRE", "stays", "600000"));
            long pttl = Long.parseLong(Resp.call(c, "PTTL", "short").substring(1));
            assertTrue(pttl > 0 && pttl <= 150, "PTTL " + pttl);
            assertEquals(":3", Resp.call(c, "DBSIZE"));
            Thread.sleep(300);
            assertEquals("(nil)", Resp.call(c, "GET", "short"));
            assertEquals(":0", Resp.call(c, "EXISTS", "short", "counter"));
            assertEquals(":-2", Resp.call(c, "TTL", "short"));
            assertEquals(":1", Resp.call(c, "INCR", "counter"), "an expired counter starts again from 0");
            assertEquals(":-1", Resp.call(c, "TTL", "counter"));
            assertEquals(":2", Resp.call(c, "DBSIZE"), "the timer freed the expired key");
            String keyspace = Resp.call(c, "INFO", "keyspace");
            assertTrue(keyspace.contains("db0:keys=2,expires=1,avg_ttl=0"), keyspace);
            // A full store frees room as keys expire: 100 keys, then all of them expire.
            assertEquals("+OK", Resp.call(c, "FLUSHALL"));
            for (int i = 0; i < 100; i++) {
                assertEquals("+OK", Resp.call(c, "SET", "k" + i, "v", "PX", "100"));
            }
            assertEquals("-ERR store full", Resp.call(c, "SET", "one-more", "v"));
            Thread.sleep(250);
            assertEquals(":0", Resp.call(c, "DBSIZE"));
            assertEquals("+OK", Resp.call(c, "SET", "one-more", "v"));
        } finally {
            s.stop();
        }
    }

    @Test
    void helloClientCommandInfoAndConfigAnswerConnectSequences() throws IOException {
        try (RawClient c = new RawClient(server.port()); RawClient other = new RawClient(server.port())) {
            String hello = Resp.call(c, "HELLO", "2");
            assertTrue(hello.matches("\\[server, redis, version, 7\\.\\d+\\.\\d+, proto, :2, id, :\\d+, mode, standalone, role, master,"
                    + " modules, \\[]]"), hello);
            assertEquals(hello, Resp.call(c, "HELLO"), "no version: the current one, 2");
            assertTrue(Resp.call(c, "HELLO", "2", "AUTH", "default", "any", "SETNAME", "me").startsWith("[server, redis"));
            assertEquals("-NOPROTO unsupported protocol version", Resp.call(c, "HELLO", "3"));
            assertEquals("-NOPROTO unsupported protocol version", Resp.call(c, "HELLO", "1"));
            assertEquals("-ERR Protocol version is not an integer or out of range", Resp.call(c, "HELLO", "two"));
            assertEquals("-ERR Syntax error in HELLO option 'foo'", Resp.call(c, "HELLO", "2", "foo"));
            String id = Resp.call(c, "CLIENT", "ID");
            assertTrue(hello.contains("id, " + id + ","), hello + " / " + id);
            assertTrue(!Resp.call(other, "CLIENT", "ID").equals(id), "ids differ per connection");
            assertEquals("+OK", Resp.call(c, "CLIENT", "SETNAME", "my-app"));
            assertEquals("-ERR Client names cannot contain spaces, newlines or special characters.",
                    Resp.call(c, "CLIENT", "SETNAME", "my app"));
            assertEquals("+OK", Resp.call(c, "CLIENT", "SETINFO", "LIB-NAME", "redis-py"));
            assertEquals("+OK", Resp.call(c, "CLIENT", "SETINFO", "lib-ver", "4.3.4"));
            assertEquals("-ERR Unrecognized option 'lib-x'", Resp.call(c, "CLIENT", "SETINFO", "lib-x", "1"));
            int count = Integer.parseInt(Resp.call(c, "COMMAND", "COUNT").substring(1));
            c.send(Resp.command("COMMAND"));
            String table = reply(c);
            assertEquals(count, table.split("\\[\\w+, :-?\\d+, \\[").length - 1, table);
            assertTrue(table.contains("[get, :2, [+readonly, +fast], :1, :1, :1, [+@read, +@string, +@fast], [], [], []]"), table);
            assertEquals("[[set, :-3, [+write, +denyoom], :1, :1, :1, [+@write, +@string, +@slow], [], [], []], []]",
                    Resp.call(c, "COMMAND", "INFO", "set", "nosuch"));
            String docs = Resp.call(c, "COMMAND", "DOCS", "get", "nosuch");
            assertEquals("[get, [summary, Returns the string value of a key., since, 1.0.0, group, string]]", docs);
            String info = Resp.call(c, "INFO");
            assertTrue(info.startsWith("# Server\r\nredis_version:7."), info);
            for (String field : new String[] {"redis_mode:standalone", "tcp_port:" + server.port(), "connected_clients:2",
                    "# Clients", "# Memory", "# Persistence", "loading:0", "# Stats", "# Replication", "role:master", "# Keyspace"}) {
                assertTrue(info.contains(field), field + " in " + info);
            }
            assertTrue(Resp.call(c, "INFO", "server").endsWith("\r\n") && !Resp.call(c, "INFO", "server").contains("# Clients"));
            assertEquals("", Resp.call(c, "INFO", "nosuchsection"));
            assertEquals("[save, , appendonly, no]", Resp.call(c, "CONFIG", "GET", "save", "appendonly"));
        }
    }

    @Test
    void multiExecRunsTheQueuedCommandsTogether() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send(Resp.command("MULTI") + Resp.command("SET", "t", "1") + Resp.command("INCR", "t")
                    + Resp.command("INCR", "missing-is-0") + Resp.command("GET", "t") + Resp.command("EXEC"));
            assertEquals("+OK", reply(c));
            for (int i = 0; i < 4; i++) {
                assertEquals("+QUEUED", reply(c));
            }
            assertEquals("[+OK, :2, :1, 2]", reply(c));
            assertEquals("-ERR EXEC without MULTI", Resp.call(c, "EXEC"));
            assertEquals("-ERR DISCARD without MULTI", Resp.call(c, "DISCARD"));
            assertEquals("+OK", Resp.call(c, "MULTI"));
            assertEquals("-ERR MULTI calls can not be nested", Resp.call(c, "MULTI"));
            assertEquals("+QUEUED", Resp.call(c, "SET", "t", "x"));
            assertEquals("+OK", Resp.call(c, "DISCARD"));
            assertEquals("2", Resp.call(c, "GET", "t"), "discarded");
            assertEquals("+OK", Resp.call(c, "MULTI"));
            assertEquals("+QUEUED", Resp.call(c, "SET", "t", "y"));
            assertEquals("-ERR wrong number of arguments for 'get' command", Resp.call(c, "GET"));
            assertEquals("-EXECABORT Transaction discarded because of previous errors.", Resp.call(c, "EXEC"));
            assertEquals("2", Resp.call(c, "GET", "t"));
            assertEquals("+OK", Resp.call(c, "MULTI"));
            assertEquals("+QUEUED", Resp.call(c, "SET", "t", "abc"));
            assertEquals("+QUEUED", Resp.call(c, "INCR", "t"));
            assertEquals("[+OK, -ERR value is not an integer or out of range]", Resp.call(c, "EXEC"),
                    "an error while running is one of the replies, as in redis");
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

}
