package org.ioatom;

import static org.ioatom.internal.linux.Linux.AF_INET;
import static org.ioatom.internal.linux.Linux.AF_INET6;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import org.ioatom.internal.linux.SockaddrIn;
import org.ioatom.internal.linux.SockaddrIn6;
import org.ioatom.internal.linux.SockaddrStorage;

/**
 * An IPv4 or IPv6 socket address in native memory: a {@code struct sockaddr_storage} (128
 * bytes) that the app allocates once and reuses for every datagram, as the sender filled in by
 * {@link IoDatagram#receive(int, MemorySegment, MemorySegment)} or the target of
 * {@link IoDatagram#send(int, MemorySegment, MemorySegment)}. Like {@link IoAtom}, this class is
 * only static methods over the app's segment.
 *
 * <p>The getters ({@link #family}, {@link #port}, {@link #ipv4}, {@link #copyIpv6},
 * {@link #ipv6ScopeId}) and {@link #setIpv4(MemorySegment, int, int)} allocate nothing, so a
 * loop may read every peer's address. {@link #set(MemorySegment, InetSocketAddress)} and
 * {@link #toInetSocketAddress(MemorySegment)} go through {@link InetSocketAddress} and allocate:
 * call them at setup or for logs.
 *
 * <pre>{@code
 * MemorySegment peer = IoAddress.allocate(arena);          // once
 * MemorySegment buf = arena.allocate(2048);
 * long n = IoDatagram.receive(fd, buf, peer);              // in the READ handler
 * if (n >= 0 && IoAddress.family(peer) == IoAddress.IPV4) {
 *     int ip = IoAddress.ipv4(peer);                       // 127.0.0.1 is 0x7f000001
 *     int port = IoAddress.port(peer);
 * }
 * }</pre>
 *
 * <p>A socket bound to the IPv6 wildcard {@code [::]} also receives IPv4 datagrams; their
 * senders appear as IPv4-mapped IPv6 addresses ({@code ::ffff:a.b.c.d}, family {@link #IPV6}),
 * and sending back to that address reaches the IPv4 peer.
 */
public final class IoAddress {
    private IoAddress() {}

    /** The family of an IPv4 address (Linux's {@code AF_INET}). */
    public static final int IPV4 = AF_INET;
    /** The family of an IPv6 address (Linux's {@code AF_INET6}). */
    public static final int IPV6 = AF_INET6;
    /** The family of memory that holds no address yet (all zeros). */
    public static final int UNSPECIFIED = 0;

    /** {@code LAYOUT.byteSize()}: 128 bytes, {@code sizeof(struct sockaddr_storage)}. */
    public static final long SIZE = SockaddrStorage.SIZE;

    /** A {@code struct sockaddr_storage}: 128 bytes, 8-byte aligned, the family in its first two. */
    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("family"),
            MemoryLayout.paddingLayout(SIZE - 2)).withByteAlignment(8).withName("sockaddr_storage");

    /**
     * Allocates an empty address (family {@link #UNSPECIFIED}) from {@code arena}.
     *
     * <pre>{@code
     * MemorySegment target = IoAddress.allocate(arena);
     * IoAddress.set(target, new InetSocketAddress(InetAddress.getLoopbackAddress(), 7007));
     * }</pre>
     *
     * @param arena where the memory comes from
     * @return {@link #SIZE} bytes of zeros, 8-byte aligned
     */
    public static MemorySegment allocate(Arena arena) {
        return arena.allocate(LAYOUT);
    }

    /**
     * Writes {@code address} into {@code addr}. Allocates (it reads the {@link InetAddress}):
     * set targets at setup, not per datagram.
     *
     * <pre>{@code
     * IoAddress.set(target, new InetSocketAddress(InetAddress.getByName("::1"), 9000));
     * }</pre>
     *
     * @param addr    an address segment of at least {@link #SIZE} bytes
     * @param address a resolved IPv4 or IPv6 socket address
     * @throws IllegalArgumentException if {@code address} is unresolved or {@code addr} too small
     */
    public static void set(MemorySegment addr, InetSocketAddress address) {
        check(addr);
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address " + address.getHostString() + ":" + address.getPort()
                    + " is unresolved: resolve it first (InetAddress.getByName, off the loop thread)");
        }
        addr.asSlice(0, SIZE).fill((byte) 0);
        short port = Short.reverseBytes((short) address.getPort());
        if (address.getAddress() instanceof Inet4Address v4) {
            addr.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_FAMILY_OFFSET, (short) AF_INET);
            addr.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_PORT_OFFSET, port);
            MemorySegment.copy(v4.getAddress(), 0, addr, ValueLayout.JAVA_BYTE, SockaddrIn.SIN_ADDR_OFFSET, 4);
        } else {
            Inet6Address v6 = (Inet6Address) address.getAddress();
            addr.set(ValueLayout.JAVA_SHORT, SockaddrIn6.SIN6_FAMILY_OFFSET, (short) AF_INET6);
            addr.set(ValueLayout.JAVA_SHORT, SockaddrIn6.SIN6_PORT_OFFSET, port);
            MemorySegment.copy(v6.getAddress(), 0, addr, ValueLayout.JAVA_BYTE, SockaddrIn6.SIN6_ADDR_OFFSET, 16);
            addr.set(ValueLayout.JAVA_INT, SockaddrIn6.SIN6_SCOPE_ID_OFFSET, v6.getScopeId());
        }
    }

    /**
     * Writes an IPv4 address and port into {@code addr}, without allocating.
     *
     * <pre>{@code
     * IoAddress.setIpv4(target, 0x7f000001, 7007); // 127.0.0.1:7007
     * }</pre>
     *
     * @param addr an address segment of at least {@link #SIZE} bytes
     * @param ip   the address, most significant byte first ({@code 10.0.0.1} is {@code 0x0a000001})
     * @param port 0 to 65535
     * @throws IllegalArgumentException if the port is out of range or {@code addr} too small
     */
    public static void setIpv4(MemorySegment addr, int ip, int port) {
        check(addr);
        checkPort(port);
        addr.set(ValueLayout.JAVA_LONG, 0, 0L);
        addr.set(ValueLayout.JAVA_LONG, 8, 0L);
        addr.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_FAMILY_OFFSET, (short) AF_INET);
        addr.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_PORT_OFFSET, Short.reverseBytes((short) port));
        addr.set(ValueLayout.JAVA_INT, SockaddrIn.SIN_ADDR_OFFSET, Integer.reverseBytes(ip));
    }

    /**
     * Sets the port of an IPv4 or IPv6 address, keeping the rest; allocates nothing.
     *
     * @param addr an address of family {@link #IPV4} or {@link #IPV6}
     * @param port 0 to 65535
     * @throws IllegalArgumentException if the port is out of range or {@code addr} holds no address
     */
    public static void setPort(MemorySegment addr, int port) {
        checkPort(port);
        addr.set(ValueLayout.JAVA_SHORT, portOffset(addr), Short.reverseBytes((short) port));
    }

    /**
     * Returns the address family.
     *
     * <pre>{@code
     * switch (IoAddress.family(peer)) {
     *     case IoAddress.IPV4 -> count4++;
     *     case IoAddress.IPV6 -> count6++;
     *     default -> { }
     * }
     * }</pre>
     *
     * @param addr an address segment of at least {@link #SIZE} bytes
     * @return {@link #IPV4}, {@link #IPV6}, {@link #UNSPECIFIED}, or another {@code AF_*} value the kernel wrote
     */
    public static int family(MemorySegment addr) {
        check(addr);
        return Short.toUnsignedInt(addr.get(ValueLayout.JAVA_SHORT, 0));
    }

    /**
     * Returns the port of an IPv4 or IPv6 address, in host order.
     *
     * <pre>{@code
     * int port = IoAddress.port(peer);  // e.g. 50123
     * }</pre>
     *
     * @param addr an address of family {@link #IPV4} or {@link #IPV6}
     * @return 0 to 65535
     * @throws IllegalArgumentException if {@code addr} holds no IPv4 or IPv6 address
     */
    public static int port(MemorySegment addr) {
        return Short.toUnsignedInt(Short.reverseBytes(addr.get(ValueLayout.JAVA_SHORT, portOffset(addr))));
    }

    /**
     * Returns an IPv4 address as an {@code int}, most significant byte first.
     *
     * <pre>{@code
     * int ip = IoAddress.ipv4(peer);
     * boolean loopback = (ip >>> 24) == 127;
     * }</pre>
     *
     * @param addr an address of family {@link #IPV4}
     * @return the address: {@code 127.0.0.1} is {@code 0x7f000001}
     * @throws IllegalArgumentException if the family is not {@link #IPV4}
     */
    public static int ipv4(MemorySegment addr) {
        requireFamily(addr, IPV4);
        return Integer.reverseBytes(addr.get(ValueLayout.JAVA_INT, SockaddrIn.SIN_ADDR_OFFSET));
    }

    /**
     * Copies the 16 bytes of an IPv6 address into the app's memory, network order.
     *
     * <pre>{@code
     * MemorySegment ip = arena.allocate(16);   // once
     * IoAddress.copyIpv6(peer, ip, 0);         // per datagram, allocates nothing
     * }</pre>
     *
     * @param addr   an address of family {@link #IPV6}
     * @param dst    where the bytes go
     * @param offset where in {@code dst}
     * @throws IllegalArgumentException  if the family is not {@link #IPV6}
     * @throws IndexOutOfBoundsException if 16 bytes do not fit in {@code dst} at {@code offset}
     */
    public static void copyIpv6(MemorySegment addr, MemorySegment dst, long offset) {
        requireFamily(addr, IPV6);
        MemorySegment.copy(addr, SockaddrIn6.SIN6_ADDR_OFFSET, dst, offset, 16);
    }

    /**
     * Returns the scope id of an IPv6 address (the interface index of a link-local address, else 0).
     *
     * @param addr an address of family {@link #IPV6}
     * @return the scope id
     * @throws IllegalArgumentException if the family is not {@link #IPV6}
     */
    public static int ipv6ScopeId(MemorySegment addr) {
        requireFamily(addr, IPV6);
        return addr.get(ValueLayout.JAVA_INT, SockaddrIn6.SIN6_SCOPE_ID_OFFSET);
    }

    /**
     * Returns the address as an {@link InetSocketAddress}. Allocates: for logs and setup.
     *
     * <pre>{@code
     * System.out.println("datagram from " + IoAddress.toInetSocketAddress(peer));
     * }</pre>
     *
     * @param addr an address of family {@link #IPV4} or {@link #IPV6}
     * @return the same address
     * @throws IllegalArgumentException if {@code addr} holds no IPv4 or IPv6 address
     */
    public static InetSocketAddress toInetSocketAddress(MemorySegment addr) {
        int port = port(addr);
        try {
            if (family(addr) == IPV4) {
                byte[] ip = addr.asSlice(SockaddrIn.SIN_ADDR_OFFSET, 4).toArray(ValueLayout.JAVA_BYTE);
                return new InetSocketAddress(InetAddress.getByAddress(ip), port);
            }
            byte[] ip = addr.asSlice(SockaddrIn6.SIN6_ADDR_OFFSET, 16).toArray(ValueLayout.JAVA_BYTE);
            return new InetSocketAddress(Inet6Address.getByAddress(null, ip, ipv6ScopeId(addr)), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("malformed address", e);
        }
    }

    /** The length the kernel expects for the address in {@code addr}; for {@link IoDatagram}. */
    static int length(MemorySegment addr) {
        int family = family(addr);
        if (family == IPV4) {
            return (int) SockaddrIn.SIZE;
        }
        if (family == IPV6) {
            return (int) SockaddrIn6.SIZE;
        }
        throw noAddress(family);
    }

    private static long portOffset(MemorySegment addr) {
        int family = family(addr);
        if (family == IPV4) {
            return SockaddrIn.SIN_PORT_OFFSET;
        }
        if (family == IPV6) {
            return SockaddrIn6.SIN6_PORT_OFFSET;
        }
        throw noAddress(family);
    }

    private static void requireFamily(MemorySegment addr, int family) {
        int actual = family(addr);
        if (actual != family) {
            throw new IllegalArgumentException("address family is " + name(actual) + ", not " + name(family));
        }
    }

    private static IllegalArgumentException noAddress(int family) {
        return new IllegalArgumentException("address holds no IPv4 or IPv6 address (family " + name(family)
                + "); fill it with IoAddress.set or a receive");
    }

    private static String name(int family) {
        return switch (family) {
            case IPV4 -> "IPV4";
            case IPV6 -> "IPV6";
            case UNSPECIFIED -> "UNSPECIFIED";
            default -> Integer.toString(family);
        };
    }

    private static void checkPort(int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0 to 65535: " + port);
        }
    }

    /** Rejects a segment that cannot hold a sockaddr_storage. */
    static void check(MemorySegment addr) {
        if (addr.byteSize() < SIZE) {
            throw new IllegalArgumentException("an address needs " + SIZE + " bytes (IoAddress.allocate), got "
                    + addr.byteSize());
        }
    }
}
