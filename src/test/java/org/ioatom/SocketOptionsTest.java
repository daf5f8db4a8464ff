package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Sockets;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.function.Executable;

/**
 * Socket options read back through getsockopt or seen in behaviour, O_NONBLOCK on descriptors
 * the app made, connect and listen to a resolved address, and the refusals: bad values before
 * any system call, kernel failures naming call, option and fd.
 */
@Timeout(60)
@Tag(Tags.SYSCALLS)
class SocketOptionsTest {
    /** A descriptor number no test opens. */
    private static final int NOT_OPEN = 19_999;

    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;
    private final Sockets net = new Sockets(resources);

    /** A connected loopback pair, [client, server], made with the resolved-address calls. */
    private int[] pair(PollerKind kind) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        int listener = net.track(IoSocket.listen(new InetSocketAddress(loopback, 0), IoSocket.DEFAULT_BACKLOG, false));
        int client = net.track(IoSocket.connect(new InetSocketAddress(loopback, IoSocket.localPort(listener))));
        return net.connected(kind, listener, client);
    }

    /** A pipe made blocking, as an app or a parent process might hand one over: [read end, write end]. */
    private int[] blockingPipe() throws IoException {
        MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
        int rc = Syscalls.pipe2(fds, Linux.O_CLOEXEC);
        if (rc < 0) {
            throw new IoException("pipe2", null, -1, -rc);
        }
        return new int[] {net.track(fds.getAtIndex(ValueLayout.JAVA_INT, 0)), net.track(fds.getAtIndex(ValueLayout.JAVA_INT, 1))};
    }

    // ---- round trips ----

    @Test
    void bufferSizesReadBackAsTheKernelsDoubledFigure() throws IOException {
        int fd = pair(PollerKind.ANY)[0];
        // 32 KiB: above the kernel's minimum and below every default cap (net.core.wmem_max and
        // rmem_max, 208 KiB by default), so the figure read back is exactly doubled.
        int asked = 32 * 1024;
        IoSocket.setSendBufferSize(fd, asked);
        assertEquals(2 * asked, IoSocket.sendBufferSize(fd));
        IoSocket.setReceiveBufferSize(fd, asked);
        assertEquals(2 * asked, IoSocket.receiveBufferSize(fd));
        IoSocket.setSendBufferSize(fd, asked / 2);
        assertEquals(asked, IoSocket.sendBufferSize(fd));
        // Far above the cap: clamped, not refused.
        IoSocket.setSendBufferSize(fd, Integer.MAX_VALUE);
        assertTrue(IoSocket.sendBufferSize(fd) > 0, "clamped to the system's maximum");
    }

    @Test
    void keepAliveTimingReadsBackAndTurningItOffKeepsTheTiming() throws IOException {
        int fd = pair(PollerKind.ANY)[0];
        assertFalse(IoSocket.keepAlive(fd), "off by default");
        IoSocket.setKeepAlive(fd, 60, 10, 5);
        assertTrue(IoSocket.keepAlive(fd));
        assertEquals(60, IoSocket.keepAliveIdle(fd));
        assertEquals(10, IoSocket.keepAliveInterval(fd));
        assertEquals(5, IoSocket.keepAliveProbes(fd));
        IoSocket.setKeepAlive(fd, false);
        assertFalse(IoSocket.keepAlive(fd));
        assertEquals(60, IoSocket.keepAliveIdle(fd));
        IoSocket.setKeepAlive(fd, true);
        assertTrue(IoSocket.keepAlive(fd));
        IoSocket.setKeepAlive(fd, 1, 1, 1);
        assertEquals(1, IoSocket.keepAliveIdle(fd));
        IoSocket.setKeepAlive(fd, IoSocket.MAX_KEEPALIVE_SECONDS, IoSocket.MAX_KEEPALIVE_SECONDS,
                IoSocket.MAX_KEEPALIVE_PROBES);
        assertEquals(IoSocket.MAX_KEEPALIVE_SECONDS, IoSocket.keepAliveIdle(fd));
        assertEquals(IoSocket.MAX_KEEPALIVE_SECONDS, IoSocket.keepAliveInterval(fd));
        assertEquals(IoSocket.MAX_KEEPALIVE_PROBES, IoSocket.keepAliveProbes(fd));
    }

    @Test
    void lingerReadsBackOffAsMinusOne() throws IOException {
        int fd = pair(PollerKind.ANY)[0];
        assertEquals(-1, IoSocket.linger(fd), "off by default");
        IoSocket.setLinger(fd, true, 7);
        assertEquals(7, IoSocket.linger(fd));
        IoSocket.setLinger(fd, true, 0);
        assertEquals(0, IoSocket.linger(fd));
        IoSocket.setLinger(fd, false, 0);
        assertEquals(-1, IoSocket.linger(fd));
    }

    @Test
    void noDelayAndReusePortReadBack() throws IOException {
        int fd = pair(PollerKind.ANY)[0];
        IoSocket.setNoDelay(fd, true);
        assertTrue(IoSocket.noDelay(fd));
        IoSocket.setNoDelay(fd, false);
        assertFalse(IoSocket.noDelay(fd));
        assertFalse(IoSocket.reusePort(fd));
        IoSocket.setReusePort(fd, true);
        assertTrue(IoSocket.reusePort(fd));
        IoSocket.setReusePort(fd, false);
        assertFalse(IoSocket.reusePort(fd));
    }

    @Test
    void listenOnAResolvedAddressWithReusePortSharesThePort() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        int first = net.track(IoSocket.listen(new InetSocketAddress(loopback, 0), 16, true));
        assertTrue(IoSocket.reusePort(first));
        assertEquals(loopback, IoSocket.localAddress(first).getAddress());
        int port = IoSocket.localPort(first);
        int second = net.track(IoSocket.listen(new InetSocketAddress(loopback, port), 16, true));
        assertEquals(port, IoSocket.localPort(second));
        IoException e = assertThrows(IoException.class,
                () -> net.track(IoSocket.listen(new InetSocketAddress(loopback, port), 16, false)));
        assertEquals("EADDRINUSE", e.errnoName(), e.getMessage());
    }

    // ---- behaviour ----

    @EveryBackend
    void lingerZeroMakesCloseResetThePeer(PollerKind kind) throws IOException {
        int[] p = pair(kind);
        IoSocket.setLinger(p[0], true, 0);
        IoSocket.close(p[0]);
        resources.forget(p[0]);
        net.waitFor(kind, p[1], READ);
        IoException e = assertThrows(IoException.class, () -> IoSocket.read(p[1], arena.allocate(16)));
        assertEquals("ECONNRESET", e.errnoName(), e.getMessage());
        assertEquals("read(fd=" + p[1] + "): ECONNRESET (Connection reset by peer)", e.getMessage());
    }

    @EveryBackend
    void aPipeMadeNonBlockingReportsWouldBlockAndWorksInThePoller(PollerKind kind) throws IOException {
        int[] pipe = blockingPipe();
        int accessMode = Syscalls.fcntl(pipe[0], Linux.F_GETFL, 0) & 3;
        assertFalse(IoSocket.isNonBlocking(pipe[0]));
        IoSocket.setNonBlocking(pipe[0]);
        IoSocket.setNonBlocking(pipe[0]); // again: no change, no failure
        assertTrue(IoSocket.isNonBlocking(pipe[0]));
        assertEquals(accessMode, Syscalls.fcntl(pipe[0], Linux.F_GETFL, 0) & 3, "other flags kept");
        assertFalse(IoSocket.isNonBlocking(pipe[1]), "the other end is a separate file description");

        MemorySegment buf = arena.allocate(16);
        // Would hang the test (its @Timeout) if the flag had not taken.
        assertEquals(IoSocket.WOULD_BLOCK, IoSocket.read(pipe[0], buf));
        MemorySegment hello = arena.allocate(5);
        hello.fill((byte) 'h');
        assertEquals(5, Syscalls.write(pipe[1], hello, 5));
        net.waitFor(kind, pipe[0], READ);
        assertEquals(5, IoSocket.read(pipe[0], buf));
        assertEquals(IoSocket.WOULD_BLOCK, IoSocket.read(pipe[0], buf));
    }

    @Test
    void anEventfdMadeNonBlockingReportsWouldBlock() throws IOException {
        int efd = Syscalls.eventfd2(0, Linux.EFD_CLOEXEC);
        assertTrue(efd >= 0, "eventfd2: " + efd);
        net.track(efd);
        assertFalse(IoSocket.isNonBlocking(efd));
        IoSocket.setNonBlocking(efd);
        assertTrue(IoSocket.isNonBlocking(efd));
        assertEquals(IoSocket.WOULD_BLOCK, IoSocket.read(efd, arena.allocate(8)));
    }

    @EveryBackend
    void connectToAResolvedAddressCompletesThroughAWriteEvent(PollerKind kind) throws IOException {
        int listener = net.track(IoSocket.listen("127.0.0.1:0"));
        InetSocketAddress target = new InetSocketAddress(InetAddress.getLoopbackAddress(), IoSocket.localPort(listener));
        int client = net.track(IoSocket.connect(target));
        assertTrue(IoSocket.isNonBlocking(client));
        int server = net.acceptOne(kind, listener);
        net.waitFor(kind, client, WRITE);
        IoSocket.finishConnect(client);
        assertEquals(target, IoSocket.peerAddress(client));
        assertEquals(IoSocket.localAddress(client), IoSocket.peerAddress(server));
    }

    // ---- refusals ----

    @Test
    void unresolvedAddressesAreRefusedBeforeAnyLookup() {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("example.invalid", 80);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IoSocket.connect(unresolved));
        assertEquals("address example.invalid:80 is unresolved: resolve it first (InetAddress.getByName, off the loop thread)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IoSocket.listen(unresolved, IoSocket.DEFAULT_BACKLOG, false));
        assertEquals("address example.invalid:80 is unresolved: resolve it first (InetAddress.getByName, off the loop thread)",
                e.getMessage());
        assertThrows(NullPointerException.class, () -> IoSocket.connect((InetSocketAddress) null));
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        e = assertThrows(IllegalArgumentException.class, () -> IoSocket.listen(loopback, -2, false));
        assertEquals("backlog must be 0 or more, or DEFAULT_BACKLOG: -2", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IoSocket.listen("127.0.0.1:0", -5, false));
        assertEquals("backlog must be 0 or more, or DEFAULT_BACKLOG: -5", e.getMessage());
    }

    @Test
    void badValuesAreRefusedBeforeAnySystemCall() {
        // NOT_OPEN: a system call would fail with EBADF; the argument check comes first.
        refused("send buffer size must be more than 0: -1", () -> IoSocket.setSendBufferSize(NOT_OPEN, -1));
        refused("send buffer size must be more than 0: 0", () -> IoSocket.setSendBufferSize(NOT_OPEN, 0));
        refused("receive buffer size must be more than 0: -4096", () -> IoSocket.setReceiveBufferSize(NOT_OPEN, -4096));
        refused("keep-alive idle seconds must be 1 to 32767: 0", () -> IoSocket.setKeepAlive(NOT_OPEN, 0, 10, 5));
        refused("keep-alive idle seconds must be 1 to 32767: -1", () -> IoSocket.setKeepAlive(NOT_OPEN, -1, 10, 5));
        refused("keep-alive idle seconds must be 1 to 32767: 32768", () -> IoSocket.setKeepAlive(NOT_OPEN, 32768, 10, 5));
        refused("keep-alive interval seconds must be 1 to 32767: 0", () -> IoSocket.setKeepAlive(NOT_OPEN, 60, 0, 5));
        refused("keep-alive probes must be 1 to 127: 0", () -> IoSocket.setKeepAlive(NOT_OPEN, 60, 10, 0));
        refused("keep-alive probes must be 1 to 127: 128", () -> IoSocket.setKeepAlive(NOT_OPEN, 60, 10, 128));
        refused("linger seconds must be 0 or more: -1", () -> IoSocket.setLinger(NOT_OPEN, true, -1));
        refused("linger seconds must be 0 or more: -1", () -> IoSocket.setLinger(NOT_OPEN, false, -1));
    }

    @Test
    void aRefusedKeepAliveSetsNothing() throws IOException {
        int fd = pair(PollerKind.ANY)[0];
        int idle = IoSocket.keepAliveIdle(fd);
        assertThrows(IllegalArgumentException.class, () -> IoSocket.setKeepAlive(fd, 30, 10, 0));
        assertFalse(IoSocket.keepAlive(fd));
        assertEquals(idle, IoSocket.keepAliveIdle(fd));
    }

    private static void refused(String message, Executable call) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
    }

    @Test
    void kernelFailuresNameTheCallTheOptionAndTheFd() throws IOException {
        badFd("setsockopt(SO_SNDBUF, fd=19999)", () -> IoSocket.setSendBufferSize(NOT_OPEN, 4096));
        badFd("getsockopt(SO_SNDBUF, fd=19999)", () -> IoSocket.sendBufferSize(NOT_OPEN));
        badFd("setsockopt(SO_RCVBUF, fd=19999)", () -> IoSocket.setReceiveBufferSize(NOT_OPEN, 4096));
        badFd("getsockopt(SO_RCVBUF, fd=19999)", () -> IoSocket.receiveBufferSize(NOT_OPEN));
        badFd("setsockopt(SO_KEEPALIVE, fd=19999)", () -> IoSocket.setKeepAlive(NOT_OPEN, true));
        badFd("getsockopt(SO_KEEPALIVE, fd=19999)", () -> IoSocket.keepAlive(NOT_OPEN));
        badFd("setsockopt(TCP_KEEPIDLE, fd=19999)", () -> IoSocket.setKeepAlive(NOT_OPEN, 60, 10, 5));
        badFd("getsockopt(TCP_KEEPIDLE, fd=19999)", () -> IoSocket.keepAliveIdle(NOT_OPEN));
        badFd("getsockopt(TCP_KEEPINTVL, fd=19999)", () -> IoSocket.keepAliveInterval(NOT_OPEN));
        badFd("getsockopt(TCP_KEEPCNT, fd=19999)", () -> IoSocket.keepAliveProbes(NOT_OPEN));
        badFd("setsockopt(SO_LINGER, fd=19999)", () -> IoSocket.setLinger(NOT_OPEN, true, 0));
        badFd("getsockopt(SO_LINGER, fd=19999)", () -> IoSocket.linger(NOT_OPEN));
        badFd("setsockopt(TCP_NODELAY, fd=19999)", () -> IoSocket.setNoDelay(NOT_OPEN, true));
        badFd("getsockopt(TCP_NODELAY, fd=19999)", () -> IoSocket.noDelay(NOT_OPEN));
        badFd("setsockopt(SO_REUSEPORT, fd=19999)", () -> IoSocket.setReusePort(NOT_OPEN, true));
        badFd("getsockopt(SO_REUSEPORT, fd=19999)", () -> IoSocket.reusePort(NOT_OPEN));
        badFd("fcntl(F_GETFL, fd=19999)", () -> IoSocket.setNonBlocking(NOT_OPEN));
        badFd("fcntl(F_GETFL, fd=19999)", () -> IoSocket.isNonBlocking(NOT_OPEN));

        // A socket option on a pipe: the kernel's answer, named the same way.
        int readEnd = blockingPipe()[0];
        IoException e = assertThrows(IoException.class, () -> IoSocket.setKeepAlive(readEnd, true));
        assertEquals("setsockopt(SO_KEEPALIVE, fd=" + readEnd + "): ENOTSOCK (Socket operation on non-socket)",
                e.getMessage());
        assertEquals(readEnd, e.fd());
    }

    private static void badFd(String callAndFd, Executable call) {
        IoException e = assertThrows(IoException.class, call);
        assertEquals(callAndFd + ": EBADF (Bad file descriptor)", e.getMessage());
        assertEquals(NOT_OPEN, e.fd());
    }
}
