package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import org.ioatom.testing.ChildJvm;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * echo-server as a child process with {@code ulimit -n 64}: more clients than it has descriptors
 * for. It must keep running, not spin on the listener that stays readable, keep serving the
 * connections it has, and accept the waiting ones once descriptors free up.
 */
@Timeout(60)
class AcceptEmfileProcessTest {
    static final int FD_LIMIT = 64;
    static final int CLIENTS = 100;
    /** Clients left open at the end: the JVM uses ~24 fds, so about 40 connections fit; these must. */
    static final int KEEP = 20;

    /** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux). */
    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        // after "pid (comm) ": state is field 3, utime 14, stime 15
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long openFds(long pid) throws IOException {
        try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return s.count();
        }
    }

    @Test
    void outOfDescriptorsOnAcceptPausesTheListenerWithoutSpinningAndAcceptsAgainWhenFdsFreeUp() throws Exception {
        // --max-connections above the fd limit: accept meets EMFILE.
        List<String> java = ChildJvm.command(null, List.of("-Xshare:auto"), "EchoServer", "--port", "0",
                "--max-connections", "1024");
        StringBuilder shell = new StringBuilder("ulimit -n " + FD_LIMIT + " && exec");
        for (String word : java) {
            shell.append(" '").append(word.replace("'", "'\\''")).append('\'');
        }
        List<RawClient> clients = new ArrayList<>();
        try (ChildJvm server = ChildJvm.start(List.of("bash", "-c", shell.toString()))) {
            Process p = server.process();
            try {
                Matcher listening = server.expect("Listening on port (\\d+)");
                int port = Integer.parseInt(listening.group(1));
                long baseline = openFds(p.pid());
                // More connections than descriptors: the kernel completes them all (backlog), the server runs out.
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(new RawClient(port));
                }
                server.expect("accept failed");
                assertTrue(p.isAlive(), "the server died: " + server.output());
                // Saturated: the listener stays readable; the loop must not spin on it.
                Thread.sleep(500);
                long t0 = System.nanoTime();
                long c0 = cpuTicks(p.pid());
                Thread.sleep(2000);
                long c1 = cpuTicks(p.pid());
                double seconds = (System.nanoTime() - t0) / 1e9;
                double coreShare = (c1 - c0) / 100.0 / seconds;
                System.out.printf("echo-server out of fds: %.3f CPU-seconds per second%n", coreShare);
                assertTrue(coreShare < 0.25, "the server burns " + coreShare + " of a core while out of descriptors");
                // The connections it has are still served.
                RawClient first = clients.get(0);
                first.send("still here\n");
                assertEquals("still here\n", first.text(11));
                // The last client waits in the backlog, unserved for now.
                RawClient last = clients.get(CLIENTS - 1);
                last.send("late\n");
                // Free descriptors: the server sees the closes, then accepts the waiting connections.
                for (int i = 0; i < CLIENTS - KEEP; i++) {
                    clients.get(i).close();
                }
                assertEquals("late\n", last.text(5), "a waiting connection served once fds freed up");
                for (int i = CLIENTS - KEEP; i < CLIENTS - 1; i++) {
                    RawClient c = clients.get(i);
                    String msg = "client " + i + "\n";
                    c.send(msg);
                    assertEquals(msg, c.text(msg.length()), "client " + i);
                }
                assertTrue(p.isAlive(), "the server died: " + server.output());
                for (RawClient c : clients) {
                    c.close();
                }
                long fds = openFds(p.pid());
                for (int i = 0; i < 500 && fds > baseline; i++) {
                    Thread.sleep(10);
                    fds = openFds(p.pid());
                }
                assertTrue(fds <= baseline, "the server has " + fds + " fds open, " + baseline + " when it started");
            } finally {
                for (RawClient c : clients) {
                    try {
                        c.close();
                    } catch (IOException e) {
                        // going anyway
                    }
                }
            }
            assertEquals(0, server.terminate(), "exit status after SIGTERM; output: " + server.output());
        }
    }
}
