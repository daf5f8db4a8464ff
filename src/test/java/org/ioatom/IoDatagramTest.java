package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Sockets;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * UDP through {@link IoDatagram} and {@link IoAddress}: IPv4 and IPv6 round trips, the sender's
 * address read from native memory, truncation reported, empty datagrams, and clear errors.
 */
@Timeout(60)
@Tag(Tags.SYSCALLS)
class IoDatagramTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;
    private final Sockets net = new Sockets(resources);

    /** Receives one datagram, waiting on a poller of {@code kind} while none is there. */
    private long receiveOne(PollerKind kind, int fd, MemorySegment buf, MemorySegment from) throws IOException {
        return net.untilReady(kind, fd, IoDatagram.WOULD_BLOCK, "no datagram", () -> IoDatagram.receive(fd, buf, from));
    }

    private static boolean ipv6LoopbackWorks() {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("::1"), 0))) {
            return s.isBound();
        } catch (IOException e) {
            return false;
        }
    }

    @EveryBackend
    void anIpv4RoundTripCarriesThePayloadAndTheSendersAddress(PollerKind kind) throws IOException {
        int server = net.track(IoDatagram.bind("127.0.0.1:0"));
        int client = net.track(IoDatagram.bind("127.0.0.1:0"));
        MemorySegment target = IoAddress.allocate(arena);
        IoAddress.set(target, new InetSocketAddress(InetAddress.getByName("127.0.0.1"), IoSocket.localPort(server)));
        assertEquals(4, IoDatagram.send(client, net.bytes("ping"), target));

        MemorySegment buf = arena.allocate(64);
        MemorySegment peer = IoAddress.allocate(arena);
        assertEquals(4, receiveOne(kind, server, buf, peer));
        assertEquals("ping", Sockets.text(buf, 4));
        assertEquals(IoAddress.IPV4, IoAddress.family(peer));
        assertEquals(IoSocket.localPort(client), IoAddress.port(peer));
        assertEquals(0x7f000001, IoAddress.ipv4(peer));
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), IoSocket.localPort(client)),
                IoAddress.toInetSocketAddress(peer));

        // Back to the sender, from the address just received.
        assertEquals(4, IoDatagram.send(server, buf, 0, 4, peer));
        MemorySegment from = IoAddress.allocate(arena);
        MemorySegment reply = arena.allocate(64);
        assertEquals(4, receiveOne(kind, client, reply, from));
        assertEquals("ping", Sockets.text(reply, 4));
        assertEquals(IoSocket.localPort(server), IoAddress.port(from));
        assertEquals(IoDatagram.WOULD_BLOCK, IoDatagram.receive(client, reply, from), "one datagram, received once");
    }

    @EveryBackend
    void anIpv6RoundTripCarriesThePayloadAndTheSendersAddress(PollerKind kind) throws IOException {
        Assumptions.assumeTrue(ipv6LoopbackWorks(), "IPv6 loopback [::1] is not available on this machine");
        int server = net.track(IoDatagram.bind("[::1]:0"));
        int client = net.track(IoDatagram.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0)));
        MemorySegment target = IoAddress.allocate(arena);
        IoAddress.set(target, new InetSocketAddress(InetAddress.getByName("::1"), IoSocket.localPort(server)));
        assertEquals(IoAddress.IPV6, IoAddress.family(target));
        assertEquals(5, IoDatagram.send(client, net.bytes("hello"), target));

        MemorySegment buf = arena.allocate(64);
        MemorySegment peer = IoAddress.allocate(arena);
        assertEquals(5, receiveOne(kind, server, buf, peer));
        assertEquals("hello", Sockets.text(buf, 5));
        assertEquals(IoAddress.IPV6, IoAddress.family(peer));
        assertEquals(IoSocket.localPort(client), IoAddress.port(peer));
        MemorySegment ip = arena.allocate(20);
        IoAddress.copyIpv6(peer, ip, 4);
        assertArrayEquals(InetAddress.getByName("::1").getAddress(), ip.asSlice(4, 16).toArray(ValueLayout.JAVA_BYTE));
        assertEquals(0, IoAddress.ipv6ScopeId(peer));
        IllegalArgumentException notV4 = assertThrows(IllegalArgumentException.class, () -> IoAddress.ipv4(peer));
        assertTrue(notV4.getMessage().contains("IPV6, not IPV4"), notV4.getMessage());

        assertEquals(5, IoDatagram.send(server, buf, 0, 5, peer));
        MemorySegment reply = arena.allocate(64);
        assertEquals(5, receiveOne(kind, client, reply, MemorySegment.NULL));
        assertEquals("hello", Sockets.text(reply, 5));
    }

    @EveryBackend
    void theIpv6WildcardReceivesIpv4AsAMappedAddressAndAnswersIt(PollerKind kind) throws IOException {
        Assumptions.assumeTrue(ipv6LoopbackWorks(), "IPv6 is not available on this machine");
        int server = net.track(IoDatagram.bind("[::]:0"));
        try (DatagramChannel client = DatagramChannel.open()) {
            client.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            client.send(ByteBuffer.wrap("v4".getBytes(StandardCharsets.US_ASCII)),
                    new InetSocketAddress(InetAddress.getByName("127.0.0.1"), IoSocket.localPort(server)));
            MemorySegment buf = arena.allocate(64);
            MemorySegment peer = IoAddress.allocate(arena);
            assertEquals(2, receiveOne(kind, server, buf, peer));
            assertEquals(IoAddress.IPV6, IoAddress.family(peer));
            MemorySegment ip = arena.allocate(16);
            IoAddress.copyIpv6(peer, ip, 0);
            assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 127, 0, 0, 1},
                    ip.toArray(ValueLayout.JAVA_BYTE), "::ffff:127.0.0.1");
            assertEquals(2, IoDatagram.send(server, buf, 0, 2, peer));
            ByteBuffer in = ByteBuffer.allocate(8);
            client.receive(in);
            assertEquals("v4", new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
        }
    }

    @EveryBackend
    void aJavaDatagramChannelAndIoDatagramTalk(PollerKind kind) throws IOException {
        int server = net.track(IoDatagram.bind("127.0.0.1:0"));
        try (DatagramChannel client = DatagramChannel.open()) {
            client.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            client.send(ByteBuffer.wrap("from java".getBytes(StandardCharsets.US_ASCII)),
                    new InetSocketAddress(InetAddress.getByName("127.0.0.1"), IoSocket.localPort(server)));
            MemorySegment buf = arena.allocate(64);
            MemorySegment peer = IoAddress.allocate(arena);
            assertEquals(9, receiveOne(kind, server, buf, peer));
            assertEquals(((InetSocketAddress) client.getLocalAddress()).getPort(), IoAddress.port(peer));
            IoDatagram.send(server, buf, 0, 9, peer);
            ByteBuffer in = ByteBuffer.allocate(64);
            SocketAddress from = client.receive(in);
            assertEquals("from java", new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
            assertEquals(IoSocket.localPort(server), ((InetSocketAddress) from).getPort());
        }
    }

    @EveryBackend
    void aDatagramLargerThanTheBufferIsReportedWithItsRealLength(PollerKind kind) throws IOException {
        int server = net.track(IoDatagram.bind("127.0.0.1:0"));
        int client = net.track(IoDatagram.bind("127.0.0.1:0"));
        MemorySegment target = IoAddress.allocate(arena);
        IoAddress.setIpv4(target, 0x7f000001, IoSocket.localPort(server));
        MemorySegment big = arena.allocate(1000);
        for (int i = 0; i < 1000; i++) {
            big.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
        assertEquals(1000, IoDatagram.send(client, big, target));
        assertEquals(3, IoDatagram.send(client, net.bytes("end"), target));

        MemorySegment small = arena.allocate(10);
        MemorySegment peer = IoAddress.allocate(arena);
        long n = receiveOne(kind, server, small, peer);
        assertEquals(1000, n, "the real length, more than the 10-byte buffer: truncated");
        for (int i = 0; i < 10; i++) {
            assertEquals((byte) i, small.get(ValueLayout.JAVA_BYTE, i));
        }
        assertEquals(IoSocket.localPort(client), IoAddress.port(peer));
        // The rest of the truncated datagram is gone: the next receive gets the next datagram.
        MemorySegment buf = arena.allocate(64);
        assertEquals(3, receiveOne(kind, server, buf, peer));
        assertEquals("end", Sockets.text(buf, 3));
        // The range form reports the same way.
        assertEquals(1000, IoDatagram.send(client, big, target));
        assertEquals(1000, receiveOneRange(kind, server, buf, 8, 16, peer));
        assertEquals((byte) 15, buf.get(ValueLayout.JAVA_BYTE, 8 + 15));
    }

    private long receiveOneRange(PollerKind kind, int fd, MemorySegment buf, long offset, long length,
                                 MemorySegment from) throws IOException {
        return net.untilReady(kind, fd, IoDatagram.WOULD_BLOCK, "no datagram",
                () -> IoDatagram.receive(fd, buf, offset, length, from));
    }

    @EveryBackend
    void anEmptyDatagramIsZeroBytesNotEndOfStreamAndAnEmptySocketWouldBlock(PollerKind kind) throws IOException {
        int server = net.track(IoDatagram.bind("127.0.0.1:0"));
        int client = net.track(IoDatagram.bind("127.0.0.1:0"));
        MemorySegment buf = arena.allocate(16);
        MemorySegment peer = IoAddress.allocate(arena);
        assertEquals(IoDatagram.WOULD_BLOCK, IoDatagram.receive(server, buf, peer));
        MemorySegment target = IoAddress.allocate(arena);
        IoAddress.setIpv4(target, 0x7f000001, IoSocket.localPort(server));
        assertEquals(0, IoDatagram.send(client, arena.allocate(0), target));
        assertEquals(0, receiveOne(kind, server, buf, peer));
        assertEquals(IoSocket.localPort(client), IoAddress.port(peer));
        assertEquals(IoDatagram.WOULD_BLOCK, IoDatagram.receive(server, buf, peer));
    }

    @EveryBackend
    void failuresNameTheCallTheFdAndTheErrno(PollerKind kind) throws IOException {
        int v4 = net.track(IoDatagram.bind("127.0.0.1:0"));
        MemorySegment v6target = IoAddress.allocate(arena);
        IoAddress.set(v6target, new InetSocketAddress(InetAddress.getByName("::1"), 9));
        IoException af = assertThrows(IoException.class, () -> IoDatagram.send(v4, net.bytes("x"), v6target));
        assertEquals("sendto(fd=" + v4 + "): EAFNOSUPPORT (Address family not supported by protocol)", af.getMessage());

        MemorySegment target = IoAddress.allocate(arena);
        IoAddress.setIpv4(target, 0x7f000001, 9);
        IoException tooBig = assertThrows(IoException.class,
                () -> IoDatagram.send(v4, arena.allocate(IoDatagram.MAX_IPV4_PAYLOAD + 1), target));
        assertEquals("EMSGSIZE", tooBig.errnoName(), tooBig.getMessage());

        int taken = IoSocket.localPort(v4);
        IoException inUse = assertThrows(IoException.class, () -> net.track(IoDatagram.bind("127.0.0.1:" + taken)));
        assertEquals("bind", inUse.call());
        assertEquals("EADDRINUSE", inUse.errnoName());

        int closed = IoDatagram.bind("127.0.0.1:0");
        IoSocket.close(closed);
        IoException badFd = assertThrows(IoException.class,
                () -> IoDatagram.receive(closed, arena.allocate(8), IoAddress.allocate(arena)));
        assertEquals("recvfrom(fd=" + closed + "): EBADF (Bad file descriptor)", badFd.getMessage());

        // Misuse is refused before any system call.
        IllegalArgumentException unset = assertThrows(IllegalArgumentException.class,
                () -> IoDatagram.send(v4, net.bytes("x"), IoAddress.allocate(arena)));
        assertTrue(unset.getMessage().contains("holds no IPv4 or IPv6 address"), unset.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IoDatagram.receive(v4, arena.allocate(8), arena.allocate(16)));
        assertThrows(IllegalArgumentException.class,
                () -> IoDatagram.receive(v4, MemorySegment.ofArray(new byte[8]), MemorySegment.NULL));
        assertThrows(IndexOutOfBoundsException.class, () -> IoDatagram.send(v4, arena.allocate(8), 4, 8, target));
        assertThrows(IllegalArgumentException.class, () -> IoAddress.setIpv4(target, 1, 65536));
        assertThrows(IllegalArgumentException.class, () -> IoDatagram.bind(InetSocketAddress.createUnresolved("localhost", 0)));
    }
}
