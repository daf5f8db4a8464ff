package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.ioatom.PollerKind;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Executables;
import org.ioatom.testing.Http;
import org.ioatom.testing.RawClient;
import org.ioatom.testing.Resp;
import org.junit.jupiter.api.Timeout;

/**
 * resp-server and http-server started the way samples/run starts them, in their own JVM with
 * {@code -Dioatom.poller=KIND}, once per backend: the ready line names that poller, a client is
 * served (redis-cli and curl where installed, else a raw socket), SIGTERM ends them with status 0.
 */
@Timeout(120)
class SampleServersPerBackendProcessTest {

    /** Starts a sample server's class with -Dioatom.poller=kind (and the kqueue emulation's library, if configured). */
    private static Process start(String className, PollerKind kind, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String base = System.getProperty("ioatom.basedir", ".");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Dioatom.poller=" + kind));
        for (String property : new String[] {KqueueAbi.LIBRARY_PROPERTY, KqueueAbi.ABI_PROPERTY}) {
            String value = System.getProperty(property);
            if (value != null) {
                cmd.add("-D" + property + "=" + value);
            }
        }
        cmd.addAll(List.of("-cp", base + "/target/classes" + File.pathSeparator + base + "/target/test-classes",
                "org.ioatom.samples." + className));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static void stopAndExpectZero(Process p, List<String> seen) throws Exception {
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "no exit after SIGTERM; output: " + seen);
        assertEquals(0, p.exitValue(), "exit status after SIGTERM; output: " + seen);
    }

    @EveryBackend
    void respServerServesOnTheChosenBackend(PollerKind kind) throws Exception {
        Process p = start("RespServer", kind, "--port", "0", "--max-keys", "1000");
        List<String> seen = new ArrayList<>();
        try {
            BlockingQueue<String> out = SockTestProcessTest.lines(p);
            Matcher m = SockTestProcessTest.expect(out, "^resp-server: Listening on port (\\d+) \\((\\w+) poller", seen);
            assertEquals(kind.toString(), m.group(2));
            int port = Integer.parseInt(m.group(1));
            try (RawClient c = new RawClient(port)) {
                assertEquals("+OK", Resp.call(c, "SET", "k", "v", "PX", "100000"));
                assertEquals("v", Resp.call(c, "GET", "k"));
            }
            if (Executables.onPath("redis-cli") != null) {
                RespClientLibrariesTest.Result r = RespClientLibrariesTest.run(
                        List.of("redis-cli", "-p", Integer.toString(port), "incr", "n"), null, 20);
                assertEquals("1", r.output().strip());
            }
            stopAndExpectZero(p, seen);
        } finally {
            p.destroyForcibly();
        }
    }

    @EveryBackend
    void httpServerServesOnTheChosenBackend(PollerKind kind) throws Exception {
        Process p = start("HttpServer", kind, "--port", "0", "--max-body", "100");
        List<String> seen = new ArrayList<>();
        try {
            BlockingQueue<String> out = SockTestProcessTest.lines(p);
            Matcher m = SockTestProcessTest.expect(out, "^http-server: Listening on port (\\d+) \\((\\w+) poller", seen);
            assertEquals(kind.toString(), m.group(2));
            int port = Integer.parseInt(m.group(1));
            try (RawClient c = new RawClient(port)) {
                c.send("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                        + "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n");
                assertEquals(200, Http.response(c).status());
                assertEquals(413, Http.response(c).status());
                c.expectEnd();
            }
            if (Executables.onPath("curl") != null) {
                RespClientLibrariesTest.Result r = RespClientLibrariesTest.run(
                        List.of("curl", "-sS", "--max-time", "20", "http://127.0.0.1:" + port + "/"), null, 40);
                assertEquals("Hello, World!", r.output().strip());
            }
            stopAndExpectZero(p, seen);
        } finally {
            p.destroyForcibly();
        }
    }
}
