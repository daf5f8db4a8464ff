package org.ioatom.samples;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.ioatom.samples.ChatProcess.assertExit0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.FdLimit;
import org.ioatom.testing.ChildJvm;
import org.ioatom.testing.EveryBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every server sample shares at launch, each started as its own JVM: bad options give the
 * usage and status 2; the default connection limit comes from the fd limit and is printed after
 * the banner, and more than 1024 clients are served with it; {@code --loops 2} serves one port
 * from two loops; a flight recording asked for is written on SIGTERM, with exit status 0.
 */
@Timeout(300)
class SampleLaunchTest {
    /** Sample class, and options that make it listen on any free port. */
    private static final String[] SERVERS = {"SockTest", "EchoServer", "RespServer", "HttpServer", "chat.ChatServer"};

    /** Runs sample {@code className} with {@code args} to its end (bounded by ChildJvm). */
    private static ChildJvm.Exit run(String className, String... args) throws IOException, InterruptedException {
        try (ChildJvm p = ChildJvm.start(null, List.of(), className, args)) {
            return p.awaitExit();
        }
    }

    @Test
    void everyServerAnswersUnknownOptionsAndBadValuesWithItsUsageAndStatus2() throws Exception {
        List<String[]> bad = List.of(
                new String[] {"--no-such-option", "1"},
                new String[] {"--port", "x"},
                new String[] {"--port", "70000"},
                new String[] {"--max-connections", "0"},
                new String[] {"--idle-timeout", "-1"},
                new String[] {"--port"},
                new String[] {"stray"});
        for (String server : SERVERS) {
            List<String[]> cases = new ArrayList<>(bad);
            if (!server.equals("SockTest")) {
                cases.add(new String[] {"--loops", "0"});
                cases.add(new String[] {"--loops", "two"});
            }
            if (server.equals("chat.ChatServer")) {
                cases.add(new String[] {"--max-line", "0"});
                cases.add(new String[] {"--max-pending", "-5"});
                cases.add(new String[] {"--tick", "soon"});
            }
            for (String[] args : cases) {
                ChildJvm.Exit exit = run(server, args);
                String out = exit.output();
                assertEquals(2, exit.status(), server + " " + String.join(" ", args) + ": " + out);
                assertTrue(out.contains("usage: samples/run"), server + " " + String.join(" ", args) + " printed no usage: " + out);
            }
        }
    }

    /** The line after the banner: the limit is the fd limit (which the JVM raised to the hard limit) minus 64. */
    @Test
    void theDefaultConnectionLimitIsTheFdLimitMinus64PrintedAfterTheBanner() throws Exception {
        long fdLimit = FdLimit.soft();
        String expected = "Max connections: " + (fdLimit - 64) + " (fd limit " + fdLimit + " minus 64 reserved)";
        for (String server : SERVERS) {
            try (ChildJvm p = ChildJvm.startServer(PollerKind.EPOLL, List.of(), server, "--port", "0")) {
                p.expect("^" + java.util.regex.Pattern.quote(expected) + "$");
                assertExit0(p);
            }
        }
        try (ChildJvm p = ChildJvm.startServer(PollerKind.SELECT, List.of(), "EchoServer", "--port", "0")) {
            p.expect("^Max connections: 1024 \\(select watches fds below FD_SETSIZE 1024\\)$");
            assertExit0(p);
        }
        try (ChildJvm p = ChildJvm.startServer(PollerKind.EPOLL, List.of(), "chat.ChatServer", "--port", "0", "--max-connections", "10")) {
            p.expect("^Max connections: 10 \\(--max-connections\\)$");
            assertExit0(p);
        }
    }

    /** With the default limit, 1100 clients at once are all served (the old default stopped at 1024). */
    @Test
    void withDefaultsMoreThan1024ClientsAreServedAtOnce() throws Exception {
        assumeTrue(FdLimit.soft() >= 2 * 1100 + 200, "the fd limit is too low for 1100 clients in one test JVM");
        for (String server : new String[] {"SockTest", "EchoServer", "chat.ChatServer"}) {
            try (ChildJvm p = ChildJvm.startServer(PollerKind.EPOLL, List.of(), server, "--port", "0")) {
                List<Socket> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < 1100; i++) {
                        clients.add(connect(p.port()));
                    }
                    if (server.equals("chat.ChatServer")) {
                        // The last client's line reaches the first: both are members, and so is everyone accepted in between.
                        Socket first = clients.get(0);
                        Socket last = clients.get(clients.size() - 1);
                        String line = "from the last\n";
                        String got = "";
                        for (int attempt = 0; attempt < 50 && !got.equals(line); attempt++) {
                            last.getOutputStream().write(line.getBytes(ISO_8859_1));
                            first.setSoTimeout(200);
                            got = readLineOrEmpty(first);
                        }
                        assertEquals(line, got);
                    } else {
                        for (int i = 0; i < clients.size(); i++) {
                            String m = "client " + i + "\n";
                            clients.get(i).getOutputStream().write(m.getBytes(ISO_8859_1));
                            assertEquals(m, new String(clients.get(i).getInputStream().readNBytes(m.length()), ISO_8859_1), server);
                        }
                    }
                } finally {
                    for (Socket s : clients) {
                        s.close();
                    }
                }
                assertExit0(p);
            }
        }
    }

    private static String readLineOrEmpty(Socket s) throws IOException {
        StringBuilder b = new StringBuilder();
        InputStream in = s.getInputStream();
        try {
            int c;
            while ((c = in.read()) >= 0) {
                b.append((char) c);
                if (c == '\n') {
                    break;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return "";
        }
        return b.toString();
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10_000);
        s.setSoTimeout(20_000);
        return s;
    }

    /** echo, resp and http with --loops 2: two loops listen on the one port and every client is served. */
    @EveryBackend
    void withTwoLoopsEchoRespAndHttpServeEveryClientOnOnePort(PollerKind kind) throws Exception {
        String[][] servers = {
            {"EchoServer", "ping\n", "ping\n"},
            {"RespServer", "*1\r\n$4\r\nPING\r\n", "+PONG\r\n"},
            {"HttpServer", "GET / HTTP/1.1\r\nHost: t\r\n\r\n", "HTTP/1.1 200"},
        };
        for (String[] s : servers) {
            try (ChildJvm p = ChildJvm.startServer(kind, List.of(), s[0], "--port", "0", "--loops", "2")) {
                assertTrue(p.banner().contains(", 2 loops, "), p.banner());
                List<Socket> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < 16; i++) {
                        clients.add(connect(p.port()));
                    }
                    for (Socket c : clients) {
                        c.getOutputStream().write(s[1].getBytes(ISO_8859_1));
                        String got = new String(c.getInputStream().readNBytes(s[2].length()), ISO_8859_1);
                        assertEquals(s[2], got, s[0]);
                    }
                } finally {
                    for (Socket c : clients) {
                        c.close();
                    }
                }
                assertExit0(p);
            }
        }
    }

    /** One RESP reply to an inline command: a status/error/integer line, or a bulk string's line and payload. */
    private static String call(Socket s, String inline) throws IOException {
        s.getOutputStream().write((inline + "\r\n").getBytes(ISO_8859_1));
        var in = s.getInputStream();
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("closed after " + line);
            }
            line.append((char) b);
        }
        String head = line.toString().strip();
        if (head.startsWith("$") && !head.equals("$-1")) {
            return new String(in.readNBytes(Integer.parseInt(head.substring(1)) + 2), ISO_8859_1).strip();
        }
        return head;
    }

    /**
     * resp-server with --loops 2 keeps one keyspace: keys set on one connection are seen from every
     * other (the kernel spreads 16 connections over both loops), and keys given a deadline, deleted
     * or flushed from either loop are gone for all and their entries reused.
     */
    @EveryBackend
    void respServerWithTwoLoopsKeepsOneKeyspaceWithExpiry(PollerKind kind) throws Exception {
        try (ChildJvm p = ChildJvm.startServer(kind, List.of(), "RespServer", "--port", "0", "--loops", "2", "--max-keys", "64")) {
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 16; i++) {
                    clients.add(connect(p.port()));
                }
                for (int i = 0; i < 16; i++) {
                    assertEquals("+OK", call(clients.get(i), "SET k" + i + " v" + i));
                    assertEquals("+OK", call(clients.get(i), "SET e" + i + " x PX 300"));
                    assertEquals("+OK", call(clients.get(i), "SET d" + i + " x EX 1000"));
                }
                for (Socket c : clients) {
                    for (int i = 0; i < 16; i++) {
                        assertEquals("v" + i, call(c, "GET k" + i), "every connection sees every key");
                    }
                }
                for (int i = 0; i < 16; i++) {
                    // deleted from another connection than the one that set its deadline
                    assertEquals(":1", call(clients.get((i + 1) % 16), "DEL d" + i));
                }
                Thread.sleep(700);
                // The e* keys' timers ran (DBSIZE counts entries, which only the timers free unasked).
                assertEquals(":16", call(clients.get(3), "DBSIZE"));
                for (int i = 0; i < 16; i++) {
                    assertEquals("$-1", call(clients.get(i), "GET e" + i));
                }
                // 64 entries: the freed ones are reused
                for (int i = 0; i < 48; i++) {
                    assertEquals("+OK", call(clients.get(i % 16), "SET n" + i + " y EX 1000"));
                }
                assertEquals(":64", call(clients.get(5), "DBSIZE"));
                assertEquals("+OK", call(clients.get(7), "FLUSHALL"));
                assertEquals(":0", call(clients.get(8), "DBSIZE"));
                Thread.sleep(200); // the timer loop frees the flushed entries that had timers
                for (int i = 0; i < 64; i++) {
                    assertEquals("+OK", call(clients.get(i % 16), "SET m" + i + " z"), "entry " + i + " after FLUSHALL");
                }
                assertEquals("z", call(clients.get(0), "GET m63"));
            } finally {
                for (Socket c : clients) {
                    c.close();
                }
            }
            assertExit0(p);
        }
    }

    /** -XX:StartFlightRecording=...,filename=... is written although the shutdown hook halts the JVM. */
    @Test
    void aFlightRecordingAskedForIsWrittenOnSigtermAndTheExitStatusIs0(@TempDir Path dir) throws Exception {
        for (String server : new String[] {"SockTest", "EchoServer", "RespServer", "HttpServer"}) {
            Path jfr = dir.resolve(server + ".jfr");
            try (ChildJvm p = ChildJvm.startServer(null, List.of("-XX:StartFlightRecording=filename=" + jfr), server, "--port", "0")) {
                assertExit0(p);
            }
            assertTrue(Files.exists(jfr) && Files.size(jfr) > 0, server + ": no recording in " + jfr);
        }
    }
}
