package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;
import org.ioatom.testing.ChildJvm;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Executables;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * echo-server {@code --unix PATH} and {@code --udp}, driven by plain clients: python3's socket
 * module, netcat-openbsd ({@code nc -U}, {@code nc -u}) and Java's own channels; in process and
 * as the command line starts it, on every backend.
 */
@Timeout(120)
class EchoServerUnixUdpTest {
    @TempDir
    Path dir;

    private static void assumeOnPath(String program) {
        Assumptions.assumeTrue(Executables.onPath(program) != null,
                program + " is not installed (netcat-openbsd and python3 come with .ci/run); client skipped");
    }

    /** Runs a client program with {@code input} on its stdin; @return its stdout and stderr, after it ended. */
    private static String run(byte[] input, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(input);
        }
        assertTrue(p.waitFor(15, TimeUnit.SECONDS), "client " + List.of(command) + " did not end in 15 s");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    /** python3 connects to a Unix stream socket ("\0name" for an abstract one), sends, prints the echo. */
    private static String pythonUnix(String address, String message) throws IOException, InterruptedException {
        String script = "import socket,sys\n"
                + "a=sys.argv[1]\n"
                + "a='\\0'+a[1:] if a.startswith('@') else a\n"
                + "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
                + "s.settimeout(10)\n"
                + "s.connect(a)\n"
                + "m=sys.argv[2].encode()\n"
                + "s.sendall(m)\n"
                + "got=b''\n"
                + "while len(got)<len(m):\n"
                + "    d=s.recv(65536)\n"
                + "    if not d: break\n"
                + "    got+=d\n"
                + "sys.stdout.write(got.decode())\n";
        return run(new byte[0], "python3", "-c", script, address, message);
    }

    /** python3 sends one datagram and prints the reply and the port it came from. */
    private static String pythonUdp(int port, String message) throws IOException, InterruptedException {
        String script = "import socket,sys\n"
                + "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                + "s.settimeout(10)\n"
                + "s.sendto(sys.argv[2].encode(),('127.0.0.1',int(sys.argv[1])))\n"
                + "d,a=s.recvfrom(65536)\n"
                + "sys.stdout.write(d.decode()+' from '+str(a[1]))\n";
        return run(new byte[0], "python3", "-c", script, Integer.toString(port), message);
    }

    private static String javaUnix(String path, String message) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            ch.write(ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
            ByteBuffer in = ByteBuffer.allocate(message.length());
            while (in.hasRemaining() && ch.read(in) >= 0) {
                // blocking: until the whole echo is in
            }
            return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8);
        }
    }

    @EveryBackend
    void unixPathEchoServerEchoesToPythonNetcatAndJavaClients(PollerKind kind) throws Exception {
        String path = dir.resolve("echo.sock").toString();
        SampleServer s = new EchoServer(Settings.loopback(kind, 0), path).start();
        try {
            assertEquals(path, s.unixPath());
            assertEquals("from java", javaUnix(path, "from java"));
            assumeOnPath("python3");
            assertEquals("from python", pythonUnix(path, "from python"));
            assumeOnPath("nc");
            assertEquals("from nc\n", run("from nc\n".getBytes(StandardCharsets.UTF_8), "nc", "-q1", "-U", path));
        } finally {
            s.stop();
        }
        assertNull(s.failure());
        assertEquals(0, s.openConnections());
    }

    @EveryBackend
    void abstractUnixEchoServerEchoesToPythonAndNetcat(PollerKind kind) throws Exception {
        assumeOnPath("python3");
        String name = "@ioatom-echo-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        SampleServer s = new EchoServer(Settings.loopback(kind, 0), name).start();
        try {
            assertEquals("abstract", pythonUnix(name, "abstract"));
            assumeOnPath("nc");
            assertEquals("nc abstract\n", run("nc abstract\n".getBytes(StandardCharsets.UTF_8), "nc", "-q1", "-U", name));
        } finally {
            s.stop();
        }
        assertNull(s.failure());
    }

    @EveryBackend
    void theIdleTimeoutClosesAnIdleUnixConnection(PollerKind kind) throws Exception {
        String path = dir.resolve("idle.sock").toString();
        SampleServer s = new EchoServer(Settings.loopback(kind, 0, 300), path).start();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            ch.write(ByteBuffer.wrap(new byte[] {'x'}));
            ByteBuffer in = ByteBuffer.allocate(16);
            assertEquals(1, ch.read(in), "the echo");
            long start = System.nanoTime();
            assertEquals(-1, ch.read(in), "closed by the server once idle"); // blocks until then
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(ms < 10_000, "closed after " + ms + " ms");
        } finally {
            s.stop();
        }
        assertNull(s.failure());
    }

    @EveryBackend
    void udpEchoServerSendsEveryDatagramBackToItsSender(PollerKind kind) throws Exception {
        UdpEchoServer s = new UdpEchoServer(Settings.loopback(kind, 0)).start();
        try {
            int port = s.port();
            try (DatagramChannel ch = DatagramChannel.open()) {
                ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                InetSocketAddress server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
                for (int i = 0; i < 20; i++) {
                    String m = "datagram " + i;
                    ch.send(ByteBuffer.wrap(m.getBytes(StandardCharsets.UTF_8)), server);
                    ByteBuffer in = ByteBuffer.allocate(64);
                    assertEquals(server, ch.receive(in));
                    assertEquals(m, new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
                }
                // An empty datagram comes back empty.
                ch.send(ByteBuffer.allocate(0), server);
                ByteBuffer in = ByteBuffer.allocate(8);
                assertEquals(server, ch.receive(in));
                assertEquals(0, in.position());
            }
            assumeOnPath("python3");
            assertEquals("from python from " + port, pythonUdp(port, "from python"));
            assumeOnPath("nc");
            assertEquals("from nc\n", run("from nc\n".getBytes(StandardCharsets.UTF_8),
                    "nc", "-u", "-w1", "127.0.0.1", Integer.toString(port)));
        } finally {
            s.stop();
        }
        assertNull(s.failure());
        assertTrue(s.echoed() >= 22, "echoed " + s.echoed());
    }

    // ---- the command line, as samples/run starts it ----

    private static ChildJvm startEchoServer(PollerKind kind, String... args) throws IOException {
        return ChildJvm.start(kind, List.of(), "EchoServer", args);
    }

    /** Runs echo-server with {@code args} to its end (bounded by ChildJvm). */
    private static ChildJvm.Exit runEchoServer(String... args) throws IOException, InterruptedException {
        try (ChildJvm p = startEchoServer(PollerKind.ANY, args)) {
            return p.awaitExit();
        }
    }

    private static void stopWithSigterm(ChildJvm p) throws InterruptedException {
        assertEquals(0, p.terminate(), "exit status after SIGTERM; output " + p.output());
    }

    @EveryBackend
    void theUnixCommandLinePrintsItsPathEchoesToNetcatAndExitsZero(PollerKind kind) throws Exception {
        assumeOnPath("nc");
        String path = dir.resolve("cli.sock").toString();
        Files.writeString(dir.resolve("unrelated"), "x"); // the directory may hold other files
        try (ChildJvm p = startEchoServer(kind, "--unix", path)) {
            p.expect("^Listening on unix socket " + Pattern.quote(path) + "$");
            assertEquals(List.of("Listening on unix socket " + path), p.seen(), "the ready line, exactly");
            assertEquals("over the command line\n",
                    run("over the command line\n".getBytes(StandardCharsets.UTF_8), "nc", "-q1", "-U", path));
            stopWithSigterm(p);
        }
        // A second server on the same path after the first stopped: the stale file is removed.
        try (ChildJvm again = startEchoServer(kind, "--unix", path)) {
            again.expect("^Listening on unix socket ");
            assertEquals("again\n", run("again\n".getBytes(StandardCharsets.UTF_8), "nc", "-q1", "-U", path));
            stopWithSigterm(again);
        }
    }

    @EveryBackend
    void theUdpCommandLinePrintsItsPortEchoesToNetcatAndExitsZero(PollerKind kind) throws Exception {
        assumeOnPath("nc");
        try (ChildJvm p = startEchoServer(kind, "--udp", "--port", "0")) {
            Matcher m = p.expect("^Listening on port (\\d+) \\(udp\\)$");
            int port = Integer.parseInt(m.group(1));
            assertTrue(port > 0, "port " + port);
            assertEquals(1, p.seen().size(), "the ready line comes first: " + p.seen());
            assertEquals("one datagram\n", run("one datagram\n".getBytes(StandardCharsets.UTF_8),
                    "nc", "-u", "-w1", "127.0.0.1", Integer.toString(port)));
            stopWithSigterm(p);
        }
    }

    @Test
    void meaninglessCombinationsAreRefusedWithUsageAndStatus2() throws Exception {
        String[][] refused = {
            {"--unix", dir.resolve("a.sock").toString(), "--udp"},
            {"--udp", "--unix", dir.resolve("a.sock").toString()},
            {"--unix", dir.resolve("a.sock").toString(), "--port", "7000"},
            {"--udp", "--idle-timeout", "5"},
            {"--udp", "--max-connections", "10"},
            {"--udp", "yes"},
            {"--unix"},
        };
        for (String[] args : refused) {
            ChildJvm.Exit exit = runEchoServer(args);
            String out = exit.output();
            assertEquals(2, exit.status(), List.of(args) + ": " + out);
            assertTrue(out.contains("usage: samples/run"), List.of(args) + ": " + out);
        }
        assertTrue(Files.notExists(dir.resolve("a.sock")), "nothing was created");
    }

    @Test
    void aUnixPathWhereAnotherServerListensIsRefusedAndThatServerKeepsServing() throws Exception {
        String path = dir.resolve("taken.sock").toString();
        SampleServer first = new EchoServer(Settings.loopback(PollerKind.ANY, 0), path).start();
        try {
            ChildJvm.Exit exit = runEchoServer("--unix", path);
            String out = exit.output();
            assertEquals(1, exit.status(), out);
            assertTrue(out.contains("another server accepts on it") && out.contains("EADDRINUSE"), out);
            assertEquals("still here", javaUnix(path, "still here"));
        } finally {
            first.stop();
        }
    }
}
