package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** socktest as a separate JVM, the way samples/run starts it: output lines, echo, SIGTERM → exit 0. */
@Timeout(120)
class SockTestProcessTest {
    /** Starts a sample class in a new JVM with the build's classes; stdout and stderr merged. */
    static Process startSample(String className, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String base = System.getProperty("ioatom.basedir", ".");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", base + "/target/classes" + File.pathSeparator + base + "/target/test-classes",
                "org.ioatom.samples." + className));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Collects a process's output lines on a daemon thread. */
    static BlockingQueue<String> lines(Process p) {
        BlockingQueue<String> q = new LinkedBlockingQueue<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    q.add(line);
                }
            } catch (IOException e) {
                q.add("(reading output failed: " + e + ")");
            }
        });
        t.setDaemon(true);
        t.start();
        return q;
    }

    /** The next line matching {@code regex}, waiting at most 20 s in all; other lines are kept in {@code seen}. */
    static Matcher expect(BlockingQueue<String> q, String regex, List<String> seen) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            String line = q.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            seen.add(line);
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m;
            }
        }
        throw new AssertionError("no line matching '" + regex + "' in 20 s; output so far: " + seen);
    }

    @Test
    void socktestEchoesReportsConnectionsAndExitsZeroOnSigterm() throws Exception {
        Process p = startSample("SockTest", "--port", "0");
        List<String> seen = new ArrayList<>();
        try {
            BlockingQueue<String> out = lines(p);
            Matcher using = expect(out, "^Using (\\w+) to poll\\.$", seen);
            assertNotNull(using.group(1));
            Matcher listening = expect(out, "^Listening on port (\\d+), fd (\\d+)\\.$", seen);
            int port = Integer.parseInt(listening.group(1));
            assertTrue(port > 0);
            int clientPort;
            try (RawClient c = new RawClient(port)) {
                clientPort = c.socket.getLocalPort();
                c.send("hello, socktest\n");
                assertEquals("hello, socktest\n", c.text(16));
                Matcher opened = expect(out, "^connection opened from 127\\.0\\.0\\.1 port (\\d+) given fd (\\d+)$", seen);
                assertEquals(clientPort, Integer.parseInt(opened.group(1)));
                String fd = opened.group(2);
                c.shutdownOutput();
                assertEquals(-1, c.read());
                expect(out, "^connection closed by remote on fd " + fd + "$", seen);
            }
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "socktest did not exit after SIGTERM");
            assertEquals(0, p.exitValue(), "exit status after SIGTERM; output: " + seen);
        } finally {
            p.destroyForcibly();
        }
    }
}
