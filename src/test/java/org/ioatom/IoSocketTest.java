package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Sockets;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The socket helpers on loopback: addresses, accept, connect, the data calls and their failures. */
@Timeout(60)
@Tag(Tags.SYSCALLS)
class IoSocketTest {
    private static final MemorySegment SPARE = Arena.global().allocate(128);

    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;
    private final Sockets net = new Sockets(resources);

    private void forget(int fd) {
        resources.forget(fd);
    }

    /** A connected loopback pair: [client, server]. */
    private int[] pair() throws IOException {
        int listener = net.track(IoSocket.listen("127.0.0.1:0"));
        int client = net.track(IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener)));
        return net.connected(PollerKind.ANY, listener, client);
    }

    /** Reads exactly {@code n} bytes into {@code buf}, waiting for data as needed. */
    private void readFully(int fd, MemorySegment buf, long n) throws IOException {
        long got = 0;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (got < n && System.nanoTime() < deadline) {
            long r = IoSocket.read(fd, buf, got, n - got);
            if (r == IoSocket.WOULD_BLOCK) {
                net.waitFor(PollerKind.ANY, fd, READ);
            } else {
                assertTrue(r > 0, "unexpected end of stream after " + got + " of " + n + " bytes");
                got += r;
            }
        }
        assertEquals(n, got, "bytes read");
    }

    // ---- listen ----

    @Test
    void listensOnIpv4LoopbackWithAnEphemeralPort() throws IOException {
        int fd = net.track(IoSocket.listen("127.0.0.1:0"));
        InetSocketAddress local = IoSocket.localAddress(fd);
        assertEquals(InetAddress.getByName("127.0.0.1"), local.getAddress());
        assertTrue(local.getPort() > 0, "port " + local.getPort());
        assertEquals(local.getPort(), IoSocket.localPort(fd));
        try (Socket s = new Socket("127.0.0.1", local.getPort())) {
            int conn = net.acceptOne(PollerKind.ANY, fd);
            assertEquals(s.getLocalPort(), IoSocket.peerAddress(conn).getPort());
            assertEquals(InetAddress.getByName("127.0.0.1"), IoSocket.peerAddress(conn).getAddress());
        }
    }

    @Test
    void listensOnIpv6Loopback() throws IOException {
        Assumptions.assumeTrue(ipv6LoopbackWorks(), "IPv6 loopback [::1] is not available on this machine");
        int fd = net.track(IoSocket.listen("[::1]:0"));
        InetSocketAddress local = IoSocket.localAddress(fd);
        assertEquals(InetAddress.getByName("::1"), local.getAddress());
        try (Socket s = new Socket("::1", local.getPort())) {
            int conn = net.acceptOne(PollerKind.ANY, fd);
            assertEquals(s.getLocalPort(), IoSocket.peerAddress(conn).getPort());
        }
        // and a non-blocking connect over IPv6
        int client = net.track(IoSocket.connect("[::1]:" + local.getPort()));
        net.waitFor(PollerKind.ANY, client, WRITE);
        IoSocket.finishConnect(client);
        net.acceptOne(PollerKind.ANY, fd);
    }

    private static boolean ipv6LoopbackWorks() {
        try (ServerSocket ss = new ServerSocket()) {
            ss.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aBarePortListensOnAllIpv4Interfaces() throws IOException {
        int fd = net.track(IoSocket.listen("0"));
        InetSocketAddress local = IoSocket.localAddress(fd);
        assertTrue(local.getAddress().isAnyLocalAddress(), "bound to " + local);
        try (Socket s = new Socket("127.0.0.1", local.getPort())) {
            int conn = net.acceptOne(PollerKind.ANY, fd);
            assertEquals(s.getLocalPort(), IoSocket.peerAddress(conn).getPort());
        }
    }

    @Test
    void reusePortLetsTwoListenersShareAPortAndWithoutItBindFails() throws IOException {
        int first = net.track(IoSocket.listen("127.0.0.1:0", IoSocket.DEFAULT_BACKLOG, true));
        int port = IoSocket.localPort(first);
        int second = net.track(IoSocket.listen("127.0.0.1:" + port, IoSocket.DEFAULT_BACKLOG, true));
        assertEquals(port, IoSocket.localPort(second));
        IoException e = assertThrows(IoException.class, () -> net.track(IoSocket.listen("127.0.0.1:" + port)));
        assertEquals("EADDRINUSE", e.errnoName(), e.getMessage());
        assertTrue(e.getMessage().startsWith("bind("), e.getMessage());
        // Connections reach one listener or the other, each exactly once.
        int accepted = 0;
        List<Socket> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                clients.add(new Socket("127.0.0.1", port));
            }
            long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
            while (accepted < 8 && System.nanoTime() < deadline) {
                for (int l : new int[] {first, second}) {
                    int c;
                    while ((c = IoSocket.accept(l)) != IoSocket.NO_MORE) {
                        net.track(c);
                        accepted++;
                    }
                }
                Thread.onSpinWait();
            }
        } finally {
            for (Socket s : clients) {
                s.close();
            }
        }
        assertEquals(8, accepted);
    }

    @Test
    void badAddressesAreRefusedWithAMessage() {
        assertEquals("port out of range in '127.0.0.1:70000'",
                assertThrows(IllegalArgumentException.class, () -> IoSocket.listen("127.0.0.1:70000")).getMessage());
        assertEquals("bad address '1234': expected host:port",
                assertThrows(IllegalArgumentException.class, () -> IoSocket.connect("1234")).getMessage());
        assertEquals("bad address '::1:80': write IPv6 addresses as [addr]:port",
                assertThrows(IllegalArgumentException.class, () -> IoSocket.connect("::1:80")).getMessage());
        assertEquals("bad address '[::1]80': expected [ipv6]:port",
                assertThrows(IllegalArgumentException.class, () -> IoSocket.listen("[::1]80")).getMessage());
        assertEquals("bad port in 'localhost:http'",
                assertThrows(IllegalArgumentException.class, () -> IoSocket.connect("localhost:http")).getMessage());
    }

    // ---- accept ----

    @Test
    void acceptReturnsEveryPendingConnectionThenNoMore() throws IOException {
        int listener = net.track(IoSocket.listen("127.0.0.1:0"));
        int port = IoSocket.localPort(listener);
        assertEquals(IoSocket.NO_MORE, IoSocket.accept(listener), "nothing pending yet");
        List<Socket> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                clients.add(new Socket("127.0.0.1", port));
            }
            int accepted = 0;
            long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
            while (accepted < 5 && System.nanoTime() < deadline) {
                net.waitFor(PollerKind.ANY, listener, READ);
                int c;
                while ((c = IoSocket.accept(listener)) != IoSocket.NO_MORE) {
                    net.track(c);
                    accepted++;
                }
            }
            assertEquals(5, accepted);
            assertEquals(IoSocket.NO_MORE, IoSocket.accept(listener));
        } finally {
            for (Socket s : clients) {
                s.close();
            }
        }
    }

    // ---- connect ----

    @EveryBackend
    void nonBlockingConnectCompletesThroughAWriteEvent(PollerKind kind) throws IOException {
        int listener = net.track(IoSocket.listen("127.0.0.1:0"));
        int client = net.track(IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener)));
        int events = net.waitFor(kind, client, WRITE);
        assertTrue((events & WRITE) != 0, "reported " + IoAtom.toString(events));
        IoSocket.finishConnect(client);
        int server = net.acceptOne(PollerKind.ANY, listener);
        assertEquals(IoSocket.localPort(client), IoSocket.peerAddress(server).getPort());
    }

    @EveryBackend
    void connectToAClosedPortFailsInFinishConnectWithEconnrefused(PollerKind kind) throws IOException {
        int probe = IoSocket.listen("127.0.0.1:0");
        int port = IoSocket.localPort(probe);
        IoSocket.close(probe);
        int client = net.track(IoSocket.connect("127.0.0.1:" + port));
        net.waitFor(kind, client, WRITE);
        IoException e = assertThrows(IoException.class, () -> IoSocket.finishConnect(client));
        assertEquals("ECONNREFUSED", e.errnoName());
        assertTrue(e.getMessage().contains("ECONNREFUSED") && e.getMessage().contains("fd=" + client),
                e.getMessage());
    }

    // ---- data ----

    @Test
    void readAndWriteRoundTripAndReadWouldBlockWhenEmpty() throws IOException {
        int[] p = pair();
        MemorySegment buf = arena.allocate(64);
        assertEquals(IoSocket.WOULD_BLOCK, IoSocket.read(p[1], buf));
        assertEquals(5, IoSocket.write(p[0], net.bytes("hello")));
        readFully(p[1], buf, 5);
        assertEquals("hello", Sockets.text(buf, 5));
        // the other way, with the range forms
        MemorySegment out = net.bytes("xxworldxx");
        assertEquals(5, IoSocket.write(p[1], out, 2, 5));
        MemorySegment in = arena.allocate(16);
        long got = 0;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (got < 5 && System.nanoTime() < deadline) {
            long r = IoSocket.read(p[0], in, 3 + got, 5 - got);
            if (r == IoSocket.WOULD_BLOCK) {
                net.waitFor(PollerKind.ANY, p[0], READ);
            } else {
                got += r;
            }
        }
        assertEquals("world", Sockets.text(in.asSlice(3), 5));
        assertEquals(0, IoSocket.read(p[0], in, 0, 0), "an empty range reads nothing");
        assertEquals(0, IoSocket.write(p[0], in, 0, 0), "an empty range writes nothing");
    }

    @Test
    void rangeFormsCheckTheirBounds() throws IOException {
        int[] p = pair();
        MemorySegment buf = arena.allocate(8);
        assertThrows(IndexOutOfBoundsException.class, () -> IoSocket.read(p[0], buf, 4, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> IoSocket.write(p[0], buf, -1, 2));
        assertThrows(IllegalArgumentException.class, () -> IoSocket.write(p[0], MemorySegment.ofArray(new byte[4]), 0, 4));
        assertThrows(IllegalArgumentException.class, () -> IoSocket.read(p[0], buf.asReadOnly(), 0, 4));
        MemorySegment iov = arena.allocate(IoSocket.iovecSize(), 8);
        assertThrows(IndexOutOfBoundsException.class, () -> IoSocket.iovec(iov, 0, buf, 6, 3));
    }

    @Test
    void readvAndWritevRoundTripAcrossSeveralBuffers() throws IOException {
        int[] p = pair();
        MemorySegment iov = arena.allocate(IoSocket.iovecSize() * 3, 8);
        IoSocket.iovec(iov, 0, net.bytes("one,"));
        IoSocket.iovec(iov, 1, net.bytes("two,"));
        MemorySegment third = net.bytes("..three..");
        IoSocket.iovec(iov, 2, third, 2, 5);
        assertEquals(13, IoSocket.writev(p[0], iov, 3));

        MemorySegment a = arena.allocate(3);
        MemorySegment b = arena.allocate(6);
        MemorySegment c = arena.allocate(16);
        MemorySegment in = arena.allocate(IoSocket.iovecSize() * 3, 8);
        IoSocket.iovec(in, 0, a);
        IoSocket.iovec(in, 1, b);
        IoSocket.iovec(in, 2, c, 4, 12);
        net.waitFor(PollerKind.ANY, p[1], READ);
        long got = IoSocket.readv(p[1], in, 3);
        // loopback delivers one sendmsg as one segment: all 13 bytes are there
        assertEquals(13, got);
        assertEquals("one", Sockets.text(a, 3));
        assertEquals(",two,t", Sockets.text(b, 6));
        assertEquals("hree", Sockets.text(c.asSlice(4), 4));
        assertEquals(IoSocket.WOULD_BLOCK, IoSocket.readv(p[1], in, 3));
    }

    @Test
    void readReturnsEofAfterThePeerShutsDownOutput() throws IOException {
        int[] p = pair();
        IoSocket.write(p[0], net.bytes("last words"));
        IoSocket.shutdownOutput(p[0]);
        MemorySegment buf = arena.allocate(64);
        readFully(p[1], buf, 10);
        assertEquals("last words", Sockets.text(buf, 10));
        net.waitFor(PollerKind.ANY, p[1], READ);
        assertEquals(IoSocket.EOF, IoSocket.read(p[1], buf));
        assertEquals(IoSocket.EOF, IoSocket.read(p[1], buf, 0, 8));
        MemorySegment iov = arena.allocate(IoSocket.iovecSize(), 8);
        IoSocket.iovec(iov, 0, buf);
        assertEquals(IoSocket.EOF, IoSocket.readv(p[1], iov, 1));
        // the other direction still works after a half close
        assertEquals(2, IoSocket.write(p[1], net.bytes("ok")));
        readFully(p[0], buf, 2);
        assertEquals("ok", Sockets.text(buf, 2));
    }

    @Test
    void writingToAClosedPeerThrowsEpipeOrEconnresetWithoutKillingTheJvm() throws IOException {
        int[] p = pair();
        // Data the peer never read makes its close send a reset.
        IoSocket.write(p[0], net.bytes("unread"));
        net.waitFor(PollerKind.ANY, p[1], READ);
        IoSocket.close(p[1]);
        forget(p[1]);
        MemorySegment chunk = arena.allocate(4096);
        IoException failure = null;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        for (int i = 0; i < 10_000 && failure == null && System.nanoTime() < deadline; i++) {
            try {
                if (i % 2 == 0) {
                    IoSocket.write(p[0], chunk);
                } else {
                    MemorySegment iov = arena.allocate(IoSocket.iovecSize(), 8);
                    IoSocket.iovec(iov, 0, chunk);
                    IoSocket.writev(p[0], iov, 1);
                }
                Thread.sleep(1);
            } catch (IoException e) {
                failure = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(e);
            }
        }
        assertTrue(failure != null, "writes to a closed peer never failed");
        assertTrue(Set.of("EPIPE", "ECONNRESET").contains(failure.errnoName()), failure.getMessage());
        assertTrue(failure.getMessage().contains("fd=" + p[0]), failure.getMessage());
        // Still alive, and a second write fails the same way instead of raising SIGPIPE.
        IoException again = assertThrows(IoException.class, () -> IoSocket.write(p[0], chunk, 0, 16));
        assertEquals("EPIPE", again.errnoName(), again.getMessage());
    }

    @Test
    void failuresNameTheCallTheFdAndTheErrno() {
        int notOpen = 19_999;
        IoException e = assertThrows(IoException.class, () -> IoSocket.read(notOpen, arena.allocate(4)));
        assertEquals("read(fd=19999): EBADF (Bad file descriptor)", e.getMessage());
        e = assertThrows(IoException.class, () -> IoSocket.write(notOpen, arena.allocate(4)));
        assertEquals("sendto(fd=19999): EBADF (Bad file descriptor)", e.getMessage());
        e = assertThrows(IoException.class, () -> IoSocket.read(notOpen, arena.allocate(8), 2, 4));
        assertEquals("read(fd=19999): EBADF (Bad file descriptor)", e.getMessage());
        e = assertThrows(IoException.class, () -> IoSocket.write(notOpen, arena.allocate(8), 2, 4));
        assertEquals("sendto(fd=19999): EBADF (Bad file descriptor)", e.getMessage());
        e = assertThrows(IoException.class, () -> IoSocket.accept(notOpen));
        assertTrue(e.getMessage().startsWith("accept4(fd=19999): EBADF"), e.getMessage());
        e = assertThrows(IoException.class, () -> IoSocket.setNoDelay(notOpen, true));
        assertEquals("setsockopt(TCP_NODELAY, fd=19999): EBADF (Bad file descriptor)", e.getMessage());
    }

    @Test
    void socketOptionsAndCloseWork() throws IOException {
        int[] p = pair();
        IoSocket.setNoDelay(p[0], true);
        IoSocket.setNoDelay(p[0], false);
        assertNotEquals(IoSocket.localPort(p[0]), IoSocket.localPort(p[1]));
        IoSocket.close(p[0]);
        forget(p[0]);
        assertThrows(IoException.class, () -> IoSocket.close(p[0]));
    }

    @Test
    void interoperatesWithJavaSockets() throws IOException {
        int listener = net.track(IoSocket.listen("127.0.0.1:0"));
        try (Socket s = new Socket("127.0.0.1", IoSocket.localPort(listener))) {
            int conn = net.acceptOne(PollerKind.ANY, listener);
            byte[] payload = new byte[200_000];
            for (int i = 0; i < payload.length; i++) {
                payload[i] = (byte) (i * 31 + (i >>> 9));
            }
            MemorySegment src = arena.allocate(payload.length);
            MemorySegment.copy(payload, 0, src, ValueLayout.JAVA_BYTE, 0, payload.length);
            // Write all of it non-blocking while the Java side reads on another thread.
            byte[] received = new byte[payload.length];
            Thread reader = Thread.ofPlatform().start(() -> {
                try (InputStream in = s.getInputStream()) {
                    int off = 0;
                    while (off < received.length) {
                        int r = in.read(received, off, received.length - off);
                        if (r < 0) {
                            break;
                        }
                        off += r;
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long sent = 0;
            long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
            while (sent < payload.length && System.nanoTime() < deadline) {
                long w = IoSocket.write(conn, src, sent, payload.length - sent);
                if (w == IoSocket.WOULD_BLOCK) {
                    net.waitFor(PollerKind.ANY, conn, WRITE);
                } else {
                    sent += w;
                }
            }
            assertEquals(payload.length, sent);
            try {
                reader.join(Sockets.WAIT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            assertArrayEquals(payload, received);
        }
    }

    // ---- allocation ----

    @Test
    @Tag(Tags.ALLOCATION) // the direct system-call mode's promise; the libc fallback may allocate (README)
    void dataCallsAndAcceptAllocateNothingAfterWarmup() throws IOException {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int listener = net.track(IoSocket.listen("127.0.0.1:0"));
        int client = net.track(IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener)));
        int server = net.acceptOne(PollerKind.ANY, listener);
        net.waitFor(PollerKind.ANY, client, WRITE);
        IoSocket.finishConnect(client);
        // Small writes back to back: without TCP_NODELAY, Nagle holds each for a delayed ACK.
        IoSocket.setNoDelay(client, true);
        IoSocket.setNoDelay(server, true);

        MemorySegment msg = arena.allocate(64);
        msg.fill((byte) 7);
        MemorySegment half = arena.allocate(32);
        MemorySegment in = arena.allocate(64);
        MemorySegment iovOut = arena.allocate(IoSocket.iovecSize() * 2, 8);
        MemorySegment iovIn = arena.allocate(IoSocket.iovecSize() * 2, 8);
        IoSocket.iovec(iovOut, 0, msg);
        IoSocket.iovec(iovOut, 1, half);
        MemorySegment in2 = arena.allocate(96);
        IoSocket.iovec(iovIn, 0, in2, 0, 40);
        IoSocket.iovec(iovIn, 1, in2, 40, 56);
        long[] counters = new long[1];

        Runnable turn = () -> {
            try {
                counters[0] += turn(client, server, listener, msg, in, iovOut, iovIn);
            } catch (IoException e) {
                throw new IllegalStateException(e);
            }
        };
        for (int i = 0; i < 30_000; i++) {
            turn.run();
        }
        long moved = counters[0];
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            turn.run();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        moved = counters[0] - moved;
        assertEquals(100_000L * 2 * (64 + 96 + 64 + 96), moved, "bytes written plus bytes read");
        assertEquals(0, allocated, "bytes allocated over 100 000 turns of read/write/readv/writev/accept");
    }

    /**
     * One turn: each call once. Every read asks for exactly the bytes outstanding, so a read that
     * finds only part of them (or none yet) leaves nothing behind for the next one.
     */
    private static long turn(int client, int server, int listener, MemorySegment msg, MemorySegment in,
                             MemorySegment iovOut, MemorySegment iovIn) throws IoException {
        long moved = 0;
        moved += IoSocket.write(client, msg);
        moved += drain(server, in, 64);
        moved += IoSocket.writev(server, iovOut, 2);
        moved += drainv(client, iovIn, 96);
        moved += IoSocket.write(server, msg, 0, 64);
        moved += drainRange(client, SPARE, 64);
        moved += IoSocket.writev(client, iovOut, 2);
        moved += drainv(server, iovIn, 96);
        if (IoSocket.accept(listener) != IoSocket.NO_MORE) {
            throw new IllegalStateException("unexpected connection");
        }
        return moved;
    }

    /** Reads {@code want} bytes with read(fd, buf), {@code in} being exactly that big, for at most 5 s. */
    private static long drain(int fd, MemorySegment in, long want) throws IoException {
        long got = 0;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (got < want && System.nanoTime() < deadline) {
            long r = got == 0 ? IoSocket.read(fd, in) : IoSocket.read(fd, in, got, want - got);
            if (r > 0) {
                got += r;
            }
        }
        return got;
    }

    private static long drainRange(int fd, MemorySegment in, long want) throws IoException {
        long got = 0;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (got < want && System.nanoTime() < deadline) {
            long r = IoSocket.read(fd, in, 8, want - got);
            if (r > 0) {
                got += r;
            }
        }
        return got;
    }

    /** Reads {@code want} bytes with readv; the iovec array covers exactly that many. */
    private static long drainv(int fd, MemorySegment iov, long want) throws IoException {
        long r = 0;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (r <= 0 && System.nanoTime() < deadline) {
            r = IoSocket.readv(fd, iov, 2);
        }
        long got = Math.max(r, 0);
        // The rest, if the data came in pieces (rare on loopback).
        while (got < want && System.nanoTime() < deadline) {
            long more = IoSocket.read(fd, SPARE, 0, want - got);
            if (more > 0) {
                got += more;
            }
        }
        return got;
    }
}
