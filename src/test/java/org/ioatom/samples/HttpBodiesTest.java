package org.ioatom.samples;

import static org.ioatom.testing.Http.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Executables;
import org.ioatom.testing.Http.Response;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * http-server's request bodies (Content-Length and chunked), 100-continue, the body limit and
 * the framing errors, through raw sockets and through curl, on every backend.
 */
@Timeout(120)
class HttpBodiesTest {
    private static final String GET = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
    private static final long MAX_BODY = 1000;

    @TempDir
    Path dir;

    private static SampleServer start(PollerKind kind) throws IOException {
        return new HttpServer(Settings.loopback(kind, 0), TimeUnit.SECONDS.toNanos(60), MAX_BODY).start();
    }

    private static void stop(SampleServer s) {
        s.stop();
        assertNull(s.failure());
    }

    @EveryBackend
    void bodiesAreReadAndDiscardedAndPipelinedRequestsAnsweredInOrder(PollerKind kind) throws IOException {
        SampleServer s = start(kind);
        try (RawClient c = new RawClient(s.port())) {
            String chunked = "PUT /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5;name=value;flag\r\nhello\r\n"
                    + "1A ; ext=\"quoted; thing\"\r\n" + "GET / HTTP/1.1\r\n\r\nabcdefgh" + "\r\n" // 26 bytes that look like a request
                    + "0\r\nX-Checksum: 1234\r\nX-Other: a\r\n\r\n";
            c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 27\r\n\r\nGET /x HTTP/1.1\r\nHost: t\r\n\r\n"
                    + GET
                    + chunked
                    + "GET /?with-body HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody"
                    + "HEAD / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                    + "GET /missing HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
            assertEquals(405, response(c).status(), "POST with a body that looks like a request");
            assertEquals(200, response(c).status());
            assertEquals(405, response(c).status(), "PUT with a chunked body, extensions and trailers");
            Response withBody = response(c);
            assertEquals(200, withBody.status());
            assertEquals("Hello, World!", withBody.body());
            Response head = response(c, true);
            assertEquals(200, head.status());
            assertEquals("13", head.header("Content-Length"));
            assertEquals(404, response(c).status(), "an empty chunked body");
            // Byte by byte: every split of chunk lines, data, CRLFs and trailers.
            byte[] slow = (chunked + GET).getBytes(StandardCharsets.ISO_8859_1);
            for (byte b : slow) {
                c.send(new byte[] {b});
            }
            assertEquals(405, response(c).status());
            assertEquals(200, response(c).status());
            // A body larger than the buffers, in pieces, then the next request.
            StringBuilder big = new StringBuilder("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
            for (int i = 0; i < 9; i++) {
                big.append("64\r\n").append("x".repeat(100)).append("\r\n");
            }
            c.send(big.append("0\r\n\r\n").append(GET).toString());
            assertEquals(200, response(c).status());
            assertEquals(200, response(c).status());
        } finally {
            stop(s);
        }
    }

    @EveryBackend
    void expect100ContinueGetsContinueBeforeTheBodyUnlessTheBodyIsRefused(PollerKind kind) throws IOException {
        SampleServer s = start(kind);
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            assertEquals("HTTP/1.1 100 Continue", c.line());
            assertEquals("", c.line());
            c.send("hello");
            assertEquals(200, response(c).status(), "the response follows the body");
            c.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-Continue\r\nTransfer-Encoding: chunked\r\n\r\n");
            assertEquals("HTTP/1.1 100 Continue", c.line());
            assertEquals("", c.line());
            c.send("3\r\nabc\r\n0\r\n\r\n");
            assertEquals(405, response(c).status());
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n\r\n");
            Response r = response(c);
            assertEquals("HTTP/1.1 413 Content Too Large", r.statusLine(), "refused at once: no 100 Continue");
            assertEquals("close", r.header("Connection"));
            c.expectEnd();
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\n\r\n");
            assertEquals(417, response(c).status());
            c.expectEnd();
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok");
            Response r = response(c);
            assertEquals("HTTP/1.1 200 OK", r.statusLine(), "no 100 Continue for an HTTP/1.0 client");
            c.expectEnd();
        } finally {
            stop(s);
        }
    }

    @EveryBackend
    void bodiesOverTheLimitGet413AndAClose(PollerKind kind) throws IOException {
        SampleServer s = start(kind);
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: " + MAX_BODY + "\r\n\r\n" + "x".repeat((int) MAX_BODY) + GET);
            assertEquals(200, response(c).status(), "a body of exactly the limit");
            assertEquals(200, response(c).status());
            c.send("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: " + (MAX_BODY + 1) + "\r\n\r\n");
            Response r = response(c);
            assertEquals(413, r.status());
            assertEquals("Content Too Large (limit " + MAX_BODY + " bytes)\n", r.body());
            assertEquals("close", r.header("Connection"));
            c.expectEnd();
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + "x".repeat(600) + "\r\n");
            c.send("258\r\n"); // 600 more: past the limit
            Response r = response(c);
            assertEquals(413, r.status());
            assertEquals("close", r.header("Connection"));
            c.expectEnd();
        }
        try (RawClient c = new RawClient(s.port())) {
            c.send("GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n");
            assertEquals(413, response(c).status(), "a chunk size beyond any number");
            c.expectEnd();
        } finally {
            stop(s);
        }
    }

    @EveryBackend
    void badFramingGets400AndAClose(PollerKind kind) throws IOException {
        String chunkedHead = "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
        String[] bad = {
                chunkedHead + "zz\r\n",
                chunkedHead + "-1\r\n",
                chunkedHead + " 5\r\nhello\r\n0\r\n\r\n",
                chunkedHead + "5 x\r\nhello\r\n0\r\n\r\n",
                chunkedHead + "\r\n",
                chunkedHead + "5\nhello\r\n0\r\n\r\n",
                chunkedHead + "5\r\nhelloXX0\r\n\r\n",
                chunkedHead + "0\r\nnot a trailer\r\n\r\n",
                chunkedHead + "1".repeat(5000),
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello",
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!",
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                "GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        };
        SampleServer s = start(kind);
        try {
            for (String request : bad) {
                try (RawClient c = new RawClient(s.port())) {
                    c.send(request);
                    Response r = response(c);
                    assertEquals(400, r.status(), request);
                    assertEquals("close", r.header("Connection"), request);
                    c.expectEnd();
                }
            }
        } finally {
            stop(s);
        }
    }

    @EveryBackend
    void curlGetsKeepAliveHeadBodiesChunkedUploads100ContinueAnd413(PollerKind kind) throws Exception {
        Assumptions.assumeTrue(Executables.onPath("curl") != null, "curl is not on PATH (apt-get install curl)");
        SampleServer s = start(kind);
        try {
            String url = "http://127.0.0.1:" + s.port() + "/";
            Path small = Files.writeString(dir.resolve("small"), "x".repeat(600));
            Path big = Files.writeString(dir.resolve("big"), "y".repeat(5000));
            // Three requests on one connection: keep-alive.
            assertEquals("200 1\n404 0\n200 0", curl("-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                    "-w", "%{http_code} %{num_connects}\\n", url, url + "missing", url + "?q=1"));
            String head = curl("-I", url);
            assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n") && head.contains("\r\nContent-Length: 13"), head);
            assertEquals("Hello, World!", curl(url));
            assertEquals("HTTP/1.0 client: 200 close", curl("--http1.0", "-o", "/dev/null",
                    "-w", "HTTP/1.0 client: %{http_code} %header{connection}", url));
            assertEquals("200 close", curl("-H", "Connection: close", "-o", "/dev/null", "-w", "%{http_code} %header{connection}", url));
            // A body by Content-Length, then a chunked one, each followed by a request on the same connection.
            assertEquals("200 1\n200 0", curl("-X", "GET", "--data-binary", "@" + small, "-o", "/dev/null",
                    "-w", "%{http_code} %{num_connects}\\n", url, "--next", "-o", "/dev/null",
                    "-w", "%{http_code} %{num_connects}\\n", url));
            assertEquals("405 1\n200 0", curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + small, "-o", "/dev/null",
                    "-w", "%{http_code} %{num_connects}\\n", url, "--next", "-o", "/dev/null",
                    "-w", "%{http_code} %{num_connects}\\n", url));
            // Expect: 100-continue: curl sends the body once it got the 100.
            String verbose = curl("-v", "-X", "GET", "-H", "Expect: 100-continue", "--expect100-timeout", "30",
                    "--data-binary", "@" + small, "-o", "/dev/null", url);
            assertTrue(verbose.contains("< HTTP/1.1 100 Continue") && verbose.contains("< HTTP/1.1 200 OK"), verbose);
            // Over the limit: 413, before the body when curl waits for 100-continue.
            String refused = curl("-v", "-X", "GET", "-H", "Expect: 100-continue", "--expect100-timeout", "30",
                    "--data-binary", "@" + big, "-o", "/dev/null", url);
            assertTrue(refused.contains("< HTTP/1.1 413 Content Too Large") && !refused.contains("100 Continue"), refused);
            assertEquals("413", curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + big, "-o", "/dev/null",
                    "-w", "%{http_code}", url));
        } finally {
            stop(s);
        }
    }

    /** Runs curl (bounded), returns what it printed (stdout, and stderr for -v). */
    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20"));
        cmd.addAll(List.of(args));
        RespClientLibrariesTest.Result r = RespClientLibrariesTest.run(cmd, null, 40);
        assertEquals(0, r.exit(), String.join(" ", cmd) + ": " + r.output());
        return r.output().strip();
    }
}
