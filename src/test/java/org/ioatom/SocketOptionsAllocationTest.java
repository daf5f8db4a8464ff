package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The option setters and getters and {@code setNonBlocking}, called over and over after the
 * thread's first call, allocate nothing (ThreadMXBean's per-thread count). Runs in the default
 * and the C1-only JVMs (tag {@code allocation}); the C library mode may allocate (README).
 */
@Timeout(120)
@Tag(Tags.ALLOCATION)
class SocketOptionsAllocationTest {
    private static final int WARMUP = 30_000;
    private static final int MEASURED = 50_000;

    @RegisterExtension
    final TestResources resources = new TestResources();

    /** One round of every option call; returns a sum of what the getters read, so none is dead code. */
    private static long round(int fd, int pipeFd, int i) throws IoException {
        long seen = 0;
        IoSocket.setSendBufferSize(fd, 16_384 + (i & 1024));
        seen += IoSocket.sendBufferSize(fd);
        IoSocket.setReceiveBufferSize(fd, 16_384 + (i & 1024));
        seen += IoSocket.receiveBufferSize(fd);
        IoSocket.setKeepAlive(fd, 60 + (i & 7), 10, 5);
        seen += IoSocket.keepAliveIdle(fd) + IoSocket.keepAliveInterval(fd) + IoSocket.keepAliveProbes(fd);
        IoSocket.setKeepAlive(fd, (i & 1) == 0);
        seen += IoSocket.keepAlive(fd) ? 1 : 0;
        IoSocket.setLinger(fd, true, i & 3);
        seen += IoSocket.linger(fd);
        IoSocket.setLinger(fd, false, 0);
        IoSocket.setNoDelay(fd, (i & 1) == 0);
        seen += IoSocket.noDelay(fd) ? 1 : 0;
        IoSocket.setReusePort(fd, (i & 1) == 0);
        seen += IoSocket.reusePort(fd) ? 1 : 0;
        IoSocket.setNonBlocking(pipeFd);
        seen += IoSocket.isNonBlocking(pipeFd) ? 1 : 0;
        return seen;
    }

    @Test
    void optionCallsAllocateNothingAfterWarmup() throws IOException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int fd = connectedSocket();
        TestPipe pipe = resources.pipe();

        long seen = 0;
        for (int i = 0; i < WARMUP; i++) {
            seen += round(fd, pipe.readFd(), i);
        }
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < MEASURED; i++) {
            seen += round(fd, pipe.readFd(), i);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(seen > 0);
        assertEquals(0, allocated, "bytes allocated over " + MEASURED + " rounds of every option setter and getter");
    }

    /** A connected TCP socket: the keep-alive timing options apply to TCP only. */
    private int connectedSocket() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        int listener = resources.socket(IoSocket.listen(new InetSocketAddress(loopback, 0), IoSocket.DEFAULT_BACKLOG, false));
        int client = resources.socket(IoSocket.connect(new InetSocketAddress(loopback, IoSocket.localPort(listener))));
        try (Poller poller = Poller.open(PollerKind.ANY, 4)) {
            MemorySegment s = AppStruct.allocate(resources.arena, 0, listener);
            poller.add(s, AppStruct.IO, READ, AppStruct::record);
            poller.await(5000);
            poller.remove(s, AppStruct.IO);
            MemorySegment c = AppStruct.allocate(resources.arena, 1, client);
            poller.add(c, AppStruct.IO, WRITE, AppStruct::record);
            poller.await(5000);
            poller.remove(c, AppStruct.IO);
        }
        int server = IoSocket.accept(listener);
        assertTrue(server >= 0, "the connection arrived");
        resources.socket(server);
        IoSocket.finishConnect(client);
        return client;
    }
}
