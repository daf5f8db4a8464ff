package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.testing.JitMode;
import org.ioatom.samples.server.Settings;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.PollerKind;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Http;
import org.ioatom.testing.RawClient;
import org.ioatom.testing.Resp;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;

/**
 * Once warm, the servers' event loop threads allocate nothing while serving: the loop thread's
 * allocated-bytes counter must stand still over a window of {@value #WINDOW} request batches.
 * How long the JIT takes to get there depends on the machine (about 20 000 batches on a busy
 * 2-core box), so windows are measured one after another until one allocates nothing, within a
 * time budget; the test fails if none does, and reports every window's count. Every backend
 * available here is checked (the serving code is the same on all of them).
 *
 * <p>Tagged {@code allocation}: the build runs it a second time in a JVM that compiles with C1
 * only ({@code -XX:TieredStopAtLevel=1}), where no allocation is removed by escape analysis. C1
 * compiles within a few thousand calls, so there the budget is {@value #C1_BUDGET_SECONDS} s.
 *
 * <p>The servers run with an idle timeout of {@value #IDLE_TIMEOUT_MS} ms, shorter than most
 * windows: the busy connection's timer runs during the windows and is scheduled again (input
 * only records the time), so the timers' path is measured too.
 */
@Tag("allocation")
@Timeout(240)
class ServingAllocationTest {
    private static final int WINDOW = 500;
    private static final long IDLE_TIMEOUT_MS = 500;
    private static final long C2_BUDGET_SECONDS = 50;
    private static final long C1_BUDGET_SECONDS = 3;
    private static final int MIN_WINDOWS = 3;
    private static final long BUDGET_NANOS =
            (JitMode.current() == JitMode.C2 ? C2_BUDGET_SECONDS : C1_BUDGET_SECONDS) * 1_000_000_000L;

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @FunctionalInterface
    interface Batch {
        void run() throws IOException;
    }

    private static void assertEventuallyAllocatesNothing(SampleServer server, Batch batch) throws IOException {
        List<Long> windows = new ArrayList<>();
        long deadline = System.nanoTime() + BUDGET_NANOS;
        // At least MIN_WINDOWS windows whatever the budget: on a loaded machine one window can take
        // the whole budget, and the first one may still see a class load or compilation land.
        while (windows.size() < MIN_WINDOWS || System.nanoTime() < deadline) {
            long before = THREADS.getThreadAllocatedBytes(server.loopThreadId());
            for (int i = 0; i < WINDOW; i++) {
                batch.run();
            }
            long allocated = THREADS.getThreadAllocatedBytes(server.loopThreadId()) - before;
            windows.add(allocated);
            if (allocated == 0) {
                break;
            }
        }
        System.out.println("[allocation] " + JitMode.current() + " | " + server.name() + " | " + windows.size()
                + " windows of " + WINDOW + " batches, loop thread bytes: " + windows);
        assertEquals(0, windows.get(windows.size() - 1), JitMode.current().description() + ", " + server.name()
                + ": bytes allocated by the loop thread per window of "
                + WINDOW + " batches, window after window: " + windows);
    }

    @EveryBackend
    void echoServingAllocatesNothing(PollerKind kind) throws IOException {
        SampleServer s = new EchoServer(Settings.loopback(kind, 0, IDLE_TIMEOUT_MS)).start();
        try (RawClient c = new RawClient(s.port())) {
            byte[] data = "0123456789abcdef".repeat(256).getBytes(StandardCharsets.ISO_8859_1); // 4 KiB
            assertEventuallyAllocatesNothing(s, () -> {
                c.send(data);
                c.bytes(data.length);
            });
        } finally {
            s.stop();
        }
    }

    @EveryBackend
    void respServingAllocatesNothing(PollerKind kind) throws IOException {
        SampleServer s = new RespServer(Settings.loopback(kind, 0, IDLE_TIMEOUT_MS), 1000).start();
        try (RawClient c = new RawClient(s.port())) {
            // Keys with an expiry too: SET EX moves the key's timer, DEL cancels one, SET PX schedules one.
            byte[] batch = (Resp.command("SET", "key", "value") + Resp.command("GET", "key")
                    + Resp.command("DEL", "other") + Resp.command("INCR", "n") + "PING\r\n"
                    + Resp.command("SET", "timed", "v", "EX", "600") + Resp.command("PEXPIRE", "key", "600000")
                    + Resp.command("TTL", "timed") + Resp.command("SET", "other", "v", "PX", "600000")
                    + Resp.command("MSET", "a", "1", "b", "2") + Resp.command("MGET", "a", "b", "key")
                    + Resp.command("INCRBY", "n", "5") + Resp.command("EXISTS", "a", "timed"))
                    .repeat(10).getBytes(StandardCharsets.ISO_8859_1);
            assertEventuallyAllocatesNothing(s, () -> {
                c.send(batch);
                for (int i = 0; i < 130; i++) {
                    Resp.reply(c);
                }
            });
        } finally {
            s.stop();
        }
    }

    @EveryBackend
    void httpServingAllocatesNothing(PollerKind kind) throws IOException {
        SampleServer s = new HttpServer(Settings.loopback(kind, 0, IDLE_TIMEOUT_MS)).start();
        try (RawClient c = new RawClient(s.port())) {
            // Mostly bodiless requests, and one body of each framing (read and discarded, then answered).
            byte[] batch = (("GET / HTTP/1.1\r\nHost: test\r\nUser-Agent: allocation-test\r\n\r\n"
                    + "GET /missing HTTP/1.1\r\nHost: test\r\n\r\n").repeat(8)
                    + "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello"
                    + "PUT / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1);
            assertEventuallyAllocatesNothing(s, () -> {
                c.send(batch);
                for (int i = 0; i < 18; i++) {
                    Http.response(c);
                }
            });
        } finally {
            s.stop();
        }
    }
}
