package org.ioatom.samples;

import static org.ioatom.testing.Http.response;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.ioatom.samples.server.Settings;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Http.Response;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** http-server through java.net.http.HttpClient and through raw sockets. */
@Timeout(60)
class HttpServerTest {
    private SampleServer server;

    @BeforeEach
    void start() throws IOException {
        server = new HttpServer(Settings.loopback(PollerKind.ANY, 0)).start();
    }

    @AfterEach
    void stop() {
        server.stop();
        assertEquals(null, server.failure());
    }

    private static final String GET = "GET / HTTP/1.1\r\nHost: test\r\n\r\n";

    @Test
    void httpClientGets200And404AndReusesTheConnection() throws Exception {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        try {
            URI root = URI.create("http://127.0.0.1:" + server.port() + "/");
            for (int i = 0; i < 20; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(root).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("Hello, World!", r.body());
                assertEquals("13", r.headers().firstValue("content-length").orElseThrow());
            }
            HttpResponse<String> missing = client.send(HttpRequest.newBuilder(root.resolve("/missing?x=1"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(404, missing.statusCode());
            assertEquals(1, server.acceptedConnections(), "keep-alive: one connection for all 21 requests");
        } finally {
            client.close();
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send(GET + "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" + "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
                    + "GET /?q=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" + GET);
            Response a = response(c);
            assertEquals("HTTP/1.1 200 OK", a.statusLine());
            assertEquals("Hello, World!", a.body());
            assertEquals("text/plain", a.header("Content-Type"));
            assertTrue(a.header("Date").matches("\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT"), a.header("Date"));
            Response b = response(c);
            assertEquals(404, b.status());
            Response head = response(c, true);
            assertEquals(200, head.status());
            assertEquals("13", head.header("Content-Length"));
            Response last = response(c);
            assertEquals(200, last.status());
            assertEquals("close", last.header("Connection"));
            c.expectEnd(); // the request after Connection: close is not answered
        }
    }

    @Test
    void manyPipelinedRequestsInOneWrite() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send(GET.repeat(1000));
            for (int i = 0; i < 1000; i++) {
                assertEquals(200, response(c).status(), "response " + i);
            }
        }
    }

    @Test
    void malformedRequestsGet400AndAClose() throws IOException {
        String[] bad = {
                "garbage\r\n\r\n",
                "GET /\r\n\r\n",
                "GET / HTTP/1.x\r\nHost: a\r\n\r\n",
                "GET / HTTP/1.1\r\nHost a\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
                "GET / HTTP/1.1\r\n\r\n", // no Host
                "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
        };
        for (String request : bad) {
            try (RawClient c = new RawClient(server.port())) {
                c.send(request);
                Response r = response(c);
                assertEquals(400, r.status(), request);
                assertEquals("close", r.header("Connection"));
                c.expectEnd();
            }
        }
    }

    @Test
    void headersOverTheLimitGet431AndAClose() throws IOException {
        try (RawClient c = new RawClient(server.port()); RawClient other = new RawClient(server.port())) {
            StringBuilder request = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
            for (int i = 0; request.length() < 12_000; i++) {
                request.append("X-Filler-").append(i).append(": ").append("f".repeat(100)).append("\r\n");
            }
            c.send(request.append("\r\n").toString());
            Response r = response(c);
            assertEquals(431, r.status());
            assertEquals("close", r.header("Connection"));
            c.expectEnd();
            other.send(GET);
            assertEquals(200, response(other).status(), "others are still served");
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET /" + "a".repeat(9000) + " HTTP/1.1\r\nHost: a\r\n\r\n");
            assertEquals(414, response(c).status());
            c.expectEnd();
        }
    }

    @Test
    void http10ClosesUnlessItAsksForKeepAlive() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.0\r\n\r\n");
            Response r = response(c);
            assertEquals(200, r.status());
            assertEquals("close", r.header("Connection"));
            c.expectEnd();
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
            Response r = response(c);
            assertEquals("keep-alive", r.header("Connection"));
            c.send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals(404, response(c).status());
        }
    }

    @Test
    void otherMethodsGet405AndBodiesAreSkipped() throws IOException {
        try (RawClient c = new RawClient(server.port())) {
            c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world" + GET);
            Response r = response(c);
            assertEquals(405, r.status());
            assertEquals("GET, HEAD", r.header("Allow"));
            assertEquals(200, response(c).status(), "the body was skipped, the next request parsed");
            c.send("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + GET);
            assertEquals(405, response(c).status(), "after its chunked body");
            assertEquals(200, response(c).status());
            c.send("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
            assertEquals(501, response(c).status(), "a coding this server cannot undo");
            c.expectEnd();
        }
        try (RawClient c = new RawClient(server.port())) {
            c.send("GET / HTTP/2.0\r\nHost: a\r\n\r\n");
            assertEquals(505, response(c).status());
            c.expectEnd();
        }
    }

    @EveryBackend
    void worksOnEveryBackend(PollerKind kind) throws IOException {
        SampleServer s = new HttpServer(Settings.loopback(kind, 0)).start();
        try (RawClient c = new RawClient(s.port())) {
            c.send(GET + GET);
            assertEquals(200, response(c).status());
            assertEquals(200, response(c).status());
        } finally {
            s.stop();
        }
    }

    @Test
    void dateHeaderIsAnImfFixdate() {
        HttpDate d = new HttpDate();
        d.format(784111777L);
        assertEquals("Sun, 06 Nov 1994 08:49:37 GMT", d.text());
        d.format(951782400L);
        assertEquals("Tue, 29 Feb 2000 00:00:00 GMT", d.text());
        d.format(0);
        assertEquals("Thu, 01 Jan 1970 00:00:00 GMT", d.text());
    }
}
