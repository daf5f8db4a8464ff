package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Executables;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;

/**
 * resp-server driven by clients nobody here wrote, on every backend: Debian's python3-redis (run
 * with Debian's python3), redis-cli and redis-benchmark (redis-tools). {@code .ci/run} installs
 * them; where one is missing its test is skipped and says why.
 */
@Timeout(120)
class RespClientLibrariesTest {
    /** Debian's python3 (not a python on PATH that may lack the Debian package). */
    private static final Path DEBIAN_PYTHON = Path.of("/usr/bin/python3");

    /** The python3-redis script: connect sequences, the commands with expiry, pipelines, errors. */
    private static final String PYTHON_SCRIPT = """
            import sys, time, redis
            port = int(sys.argv[1])
            # The connect sequences: the default one, and RESP2 asked for by name where the library has the option.
            r = redis.Redis(port=port, socket_timeout=10)
            try:
                r2 = redis.Redis(port=port, protocol=2, socket_timeout=10)
            except TypeError:  # python3-redis before 5.0 speaks RESP2 only and has no such option
                r2 = redis.Redis(port=port, socket_timeout=10)
            assert r.ping() is True
            assert r2.ping() is True
            hello = r.execute_command("HELLO", "2")
            assert hello[:4] == [b"server", b"redis", b"version", hello[3]] and hello[4:6] == [b"proto", 2], hello
            assert hello[8:] == [b"mode", b"standalone", b"role", b"master", b"modules", []], hello
            try:
                r.execute_command("HELLO", "3")
                raise AssertionError("HELLO 3 answered")
            except redis.ResponseError as e:
                assert str(e).startswith("NOPROTO") or "NOPROTO" in repr(e), repr(e)
            assert r.client_setname("checker") is True
            info = r.info()
            assert info["redis_version"].startswith("7.") and info["redis_mode"] == "standalone", info
            assert r.flushall() is True
            assert r.dbsize() == 0
            # Strings and options.
            assert r.set("k", "v") is True and r.get("k") == b"v"
            assert r.set("k", "w", nx=True) is None and r.get("k") == b"v"
            assert r.set("k", "w", xx=True, get=True) == b"v" and r.get("k") == b"w"
            assert r.set("absent", "x", xx=True) is None and r.exists("absent") == 0
            # Counters and many keys.
            assert r.incr("n") == 1 and r.incrby("n", 41) == 42 and r.decr("n") == 41 and r.decrby("n", 40) == 1
            assert r.mset({"a": "1", "b": "2"}) is True
            assert r.mget(["a", "b", "nope"]) == [b"1", b"2", None]
            assert r.delete("a", "nope") == 1 and r.exists("a", "b", "b") == 2
            try:
                r.incr("k")
                raise AssertionError("INCR of a string")
            except redis.ResponseError as e:
                assert str(e) == "value is not an integer or out of range", str(e)
            try:
                r.set("k", "v", ex=0)
                raise AssertionError("EX 0 accepted")
            except redis.ResponseError as e:
                assert str(e) == "invalid expire time in 'set' command", str(e)
            try:
                r.execute_command("LPUSH", "list", "x")
                raise AssertionError("LPUSH answered")
            except redis.ResponseError as e:
                assert str(e) == "unknown command 'LPUSH', with args beginning with: 'list' 'x' ", str(e)
            # Expiry: TTLs, and keys gone once their time passed.
            assert r.set("short", "v", px=200) is True
            assert 0 < r.pttl("short") <= 200
            assert r.set("ex", "v", ex=100) is True and r.ttl("ex") == 100
            assert r.expire("b", 1) is True and r.ttl("b") == 1
            assert r.pexpire("n", 150) is True
            assert r.persist("ex") is True and r.ttl("ex") == -1
            assert r.ttl("missing") == -2
            time.sleep(1.3)
            assert r.get("short") is None and r.get("b") is None and r.get("n") is None
            assert r.exists("short", "b", "n") == 0
            assert r.dbsize() == 2, r.dbsize()  # k and ex
            # Pipelines: without a transaction, and with one (MULTI/EXEC), many commands per write.
            p = r.pipeline(transaction=False)
            for i in range(200):
                p.set("p%d" % i, i).incr("p%d" % i)
            results = p.execute()
            assert results == [x for i in range(200) for x in (True, i + 1)], results[:6]
            p = r.pipeline()
            p.set("t", 1).incr("t").get("t").expire("t", 100).ttl("t").persist("t").mget("t", "p0")
            assert p.execute() == [True, 2, b"2", True, 100, True, [b"2", b"1"]]
            assert r2.get("t") == b"2"
            r.close()
            r2.close()
            print("ok")
            """;

    @EveryBackend
    void debianPythonRedisDrivesIt(PollerKind kind) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(DEBIAN_PYTHON), DEBIAN_PYTHON + " is missing (apt-get install python3-redis)");
        Assumptions.assumeTrue(run(List.of(DEBIAN_PYTHON.toString(), "-c", "import redis"), null, 30).exit() == 0,
                "python3-redis is not installed (apt-get install python3-redis)");
        SampleServer s = new RespServer(Settings.loopback(kind, 0), 1000).start();
        try {
            Result r = run(List.of(DEBIAN_PYTHON.toString(), "-", Integer.toString(s.port())), PYTHON_SCRIPT, 60);
            assertEquals(0, r.exit(), r.output());
            assertEquals("ok", r.output().strip());
        } finally {
            s.stop();
        }
        assertEquals(null, s.failure());
    }

    @EveryBackend
    void redisCliTalksToIt(PollerKind kind) throws Exception {
        Assumptions.assumeTrue(Executables.onPath("redis-cli") != null, "redis-cli is not on PATH (apt-get install redis-tools)");
        SampleServer s = new RespServer(Settings.loopback(kind, 0), 1000).start();
        try {
            String port = Integer.toString(s.port());
            assertEquals("PONG", cli(port, "ping"));
            assertEquals("OK", cli(port, "set", "cli-key", "cli value", "EX", "100"));
            assertEquals("100", cli(port, "ttl", "cli-key"));
            assertEquals("cli value", cli(port, "get", "cli-key"));
            assertEquals("1", cli(port, "incr", "counter"));
            assertEquals("11", cli(port, "incrby", "counter", "10"));
            assertEquals("OK", cli(port, "mset", "x", "1", "y", "2"));
            assertEquals("1\n2\n", cli(port, "mget", "x", "y", "z") + "\n");
            assertEquals("1", cli(port, "del", "cli-key"));
            assertEquals("", cli(port, "get", "cli-key"));
            assertEquals("3", cli(port, "dbsize"));
            assertEquals("ERR unknown command 'nosuchcommand', with args beginning with: 'a'", cli(port, "nosuchcommand", "a")); // stripped
            assertTrue(cli(port, "info", "server").contains("redis_version:7."));
            // Several commands through stdin on one connection, as a script would.
            Result piped = run(List.of("redis-cli", "-p", port), "set p 1\nincr p\nexpire p 50\nttl p\nquit\n", 20);
            assertEquals("OK\n2\n1\n50", piped.output().strip()); // redis-cli ends at quit without printing its reply
        } finally {
            s.stop();
        }
        assertEquals(null, s.failure());
    }

    @EveryBackend
    void redisBenchmarkRunsAndAnUnknownCommandEndsItWithAnErrorNotAHang(PollerKind kind) throws Exception {
        Assumptions.assumeTrue(Executables.onPath("redis-benchmark") != null,
                "redis-benchmark is not on PATH (apt-get install redis-tools)");
        SampleServer s = new RespServer(Settings.loopback(kind, 0), 10_000).start();
        try {
            String port = Integer.toString(s.port());
            Result r = run(List.of("redis-benchmark", "-p", port, "-c", "20", "-t", "set,get,incr,mset,lpush", "-n", "2000", "-q"),
                    null, 90);
            String out = r.output();
            for (String test : new String[] {"SET: ", "GET: ", "INCR: "}) {
                assertTrue(out.contains(test), test + " in " + out);
            }
            // LPUSH does not exist here: redis-benchmark gets the error reply and stops, as it does with redis.
            assertTrue(out.contains("Error from server: ERR unknown command 'LPUSH', with args beginning with: 'mylist'"), out);
            Result mset = run(List.of("redis-benchmark", "-p", port, "-c", "20", "-t", "mset", "-n", "2000", "-q"), null, 90);
            assertEquals(0, mset.exit(), mset.output());
            assertTrue(mset.output().contains("MSET (10 keys): "), mset.output());
        } finally {
            s.stop();
        }
        assertEquals(null, s.failure());
    }

    private static String cli(String port, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-p", port));
        cmd.addAll(List.of(args));
        Result r = run(cmd, null, 20);
        assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r.output());
        return r.output().strip();
    }

    record Result(int exit, String output) {}

    /** Runs a program with stdin {@code input} (or none), at most {@code seconds}; stdout and stderr together. */
    static Result run(List<String> cmd, String input, long seconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(reading output failed: " + e + ")";
            }
        });
        try (OutputStream stdin = p.getOutputStream()) {
            if (input != null) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
        }
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish within " + seconds + " s; output: "
                    + out.getNow("(none yet)"));
        }
        return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS));
    }
}
