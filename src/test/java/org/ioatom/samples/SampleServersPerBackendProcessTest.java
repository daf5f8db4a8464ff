package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.regex.Matcher;
import org.ioatom.PollerKind;
import org.ioatom.testing.ChildJvm;
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

    private static void stopAndExpectZero(ChildJvm p) throws Exception {
        assertEquals(0, p.terminate(), "exit status after SIGTERM; output: " + p.output());
    }

    @EveryBackend
    void respServerServesOnTheChosenBackend(PollerKind kind) throws Exception {
        try (ChildJvm p = ChildJvm.start(kind, List.of(), "RespServer", "--port", "0", "--max-keys", "1000")) {
            Matcher m = p.expect("^resp-server: Listening on port (\\d+) \\((\\w+) poller");
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
            stopAndExpectZero(p);
        }
    }

    @EveryBackend
    void httpServerServesOnTheChosenBackend(PollerKind kind) throws Exception {
        try (ChildJvm p = ChildJvm.start(kind, List.of(), "HttpServer", "--port", "0", "--max-body", "100")) {
            Matcher m = p.expect("^http-server: Listening on port (\\d+) \\((\\w+) poller");
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
            stopAndExpectZero(p);
        }
    }
}
