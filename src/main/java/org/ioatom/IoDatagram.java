package org.ioatom;

import static org.ioatom.internal.linux.Linux.AF_INET;
import static org.ioatom.internal.linux.Linux.AF_INET6;
import static org.ioatom.internal.linux.Linux.IPPROTO_IPV6;
import static org.ioatom.internal.linux.Linux.IPV6_V6ONLY;
import static org.ioatom.internal.linux.Linux.MSG_TRUNC;
import static org.ioatom.internal.linux.Linux.SOCK_CLOEXEC;
import static org.ioatom.internal.linux.Linux.SOCK_DGRAM;
import static org.ioatom.internal.linux.Linux.SOCK_NONBLOCK;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Objects;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.Errnos;

/**
 * Non-blocking UDP sockets as plain file descriptors: bind, then send datagrams to and receive
 * them from IPv4 and IPv6 addresses held in native memory ({@link IoAddress}).
 *
 * <p>Register the fd for {@link IoAtom#READ} and, on the event, call {@link #receive} until it
 * returns {@link #WOULD_BLOCK}. Each call moves one whole datagram. The result of a receive is
 * the datagram's real length, even when the buffer was smaller: a result larger than the buffer
 * means the datagram was <b>truncated</b> (the buffer holds its first bytes, the rest is lost),
 * never silently. A datagram of 0 bytes is a result of 0; UDP has no end of stream.
 *
 * <pre>{@code
 * int fd = IoDatagram.bind("127.0.0.1:9000");
 * MemorySegment buf = arena.allocate(2048);
 * MemorySegment peer = IoAddress.allocate(arena);
 * // in the READ handler: echo every datagram to its sender
 * long n;
 * while ((n = IoDatagram.receive(fd, buf, peer)) != IoDatagram.WOULD_BLOCK) {
 *     if (n > buf.byteSize()) {
 *         truncated++;                       // only buf.byteSize() bytes of it arrived
 *         continue;
 *     }
 *     IoDatagram.send(fd, buf, 0, n, peer);  // WOULD_BLOCK: the send buffer is full, drop it
 * }
 * }</pre>
 *
 * <p>{@code receive}, {@code send} and their range forms allocate nothing after the thread's
 * first call, in any compiler mode and at any call depth. A call interrupted by a signal (EINTR)
 * is retried; a real error is an {@link IoException} naming the call and fd, e.g.
 * {@code sendto(fd=7): EMSGSIZE (Message too long)}. Close the socket with
 * {@link IoSocket#close(int)}; {@link IoSocket#localPort(int)} tells the port it is bound to.
 *
 * <p>No batch calls ({@code recvmmsg}/{@code sendmmsg}): they were not measured, so they are not
 * offered (see {@code perf/RESULTS.md}, "UDP: no batch calls").
 */
public final class IoDatagram {
    private IoDatagram() {}

    static {
        Errnos.preload();
    }

    /** Returned by the calls when the socket has no datagram or no room now: wait for the next event. */
    public static final long WOULD_BLOCK = IoSocket.WOULD_BLOCK;

    /** The largest UDP payload over IPv4 (65 535 less the IPv4 and UDP headers). */
    public static final int MAX_IPV4_PAYLOAD = 65_507;

    /**
     * Opens a UDP socket bound to {@code address}: {@code host:port}, {@code [ipv6]:port} or a
     * bare {@code port} (all IPv4 interfaces). A host name resolves on the calling thread (see
     * {@link IoSocket#connect(String)}).
     *
     * <pre>{@code
     * int server = IoDatagram.bind("0.0.0.0:9000");
     * int client = IoDatagram.bind("127.0.0.1:0");   // a client: any free port
     * }</pre>
     *
     * @param address the local address; port 0 picks a free port ({@link IoSocket#localPort(int)})
     * @return the socket's fd, non-blocking and close-on-exec
     * @throws IOException              if the address does not resolve or a call fails
     * @throws IllegalArgumentException if the address is malformed
     */
    public static int bind(String address) throws IOException {
        return bind(IoSocket.parse(address, true));
    }

    /**
     * Opens a UDP socket bound to an address already resolved. The IPv6 wildcard {@code [::]}
     * receives IPv4 datagrams too.
     *
     * <pre>{@code
     * int fd = IoDatagram.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
     * }</pre>
     *
     * @param address a resolved address; port 0 picks a free port
     * @return the socket's fd, non-blocking and close-on-exec
     * @throws IoException              if a call fails, e.g. {@code bind(127.0.0.1:9000, fd=7): EADDRINUSE ...}
     * @throws IllegalArgumentException if {@code address} is unresolved
     */
    public static int bind(InetSocketAddress address) throws IoException {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address " + address.getHostString() + ":" + address.getPort()
                    + " is unresolved: resolve it first (InetAddress.getByName, off the loop thread)");
        }
        boolean v4 = address.getAddress() instanceof Inet4Address;
        int fd = Syscalls.socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IoException("socket", v4 ? "AF_INET, SOCK_DGRAM" : "AF_INET6, SOCK_DGRAM", -1, -fd);
        }
        try (Arena arena = Arena.ofConfined()) {
            if (address.getAddress() instanceof Inet6Address && address.getAddress().isAnyLocalAddress()) {
                MemorySegment zero = arena.allocate(ValueLayout.JAVA_INT);
                int rc = Syscalls.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, zero, 4);
                if (rc < 0) {
                    throw new IoException("setsockopt", "IPV6_V6ONLY", fd, -rc);
                }
            }
            MemorySegment addr = IoAddress.allocate(arena);
            IoAddress.set(addr, address);
            int rc = Syscalls.bind(fd, addr, IoAddress.length(addr));
            if (rc < 0) {
                throw new IoException("bind", address.toString(), fd, -rc);
            }
            return fd;
        } catch (IoException | RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    /**
     * Receives one datagram into {@code buf} and its sender's address into {@code from}.
     *
     * <pre>{@code
     * long n = IoDatagram.receive(fd, buf, peer);
     * if (n == IoDatagram.WOULD_BLOCK) return;          // drained: wait for the next READ
     * boolean truncated = n > buf.byteSize();           // only buf.byteSize() bytes were kept
     * }</pre>
     *
     * @param fd   a UDP socket
     * @param buf  native memory for the payload
     * @param from an {@link IoAddress} segment for the sender, or {@link MemorySegment#NULL} to skip it
     * @return the datagram's full length (0 or more; more than {@code buf.byteSize()} when it was
     *         truncated), or {@link #WOULD_BLOCK}
     * @throws IoException              on a real failure, e.g. EBADF
     * @throws IllegalArgumentException if {@code from} is smaller than {@link IoAddress#SIZE} or
     *                                  either segment is not native memory
     */
    public static long receive(int fd, MemorySegment buf, MemorySegment from) throws IoException {
        return receive(fd, buf, 0, buf.byteSize(), from);
    }

    /**
     * Receives one datagram into {@code length} bytes of {@code buf} from {@code offset}, without
     * the slice object that {@code buf.asSlice} would allocate; otherwise as
     * {@link #receive(int, MemorySegment, MemorySegment)}.
     *
     * <pre>{@code
     * long n = IoDatagram.receive(fd, buf, 8, 1024, peer);  // payload after an 8-byte header of ours
     * boolean truncated = n > 1024;
     * }</pre>
     *
     * @param fd     a UDP socket
     * @param buf    native, writable memory
     * @param offset where the range starts in {@code buf}
     * @param length the range's size, the most to keep
     * @param from   an {@link IoAddress} segment for the sender, or {@link MemorySegment#NULL}
     * @return the datagram's full length (more than {@code length} when it was truncated), or {@link #WOULD_BLOCK}
     * @throws IoException               on a real failure
     * @throws IndexOutOfBoundsException if the range does not fit in {@code buf}
     * @throws IllegalArgumentException  if a segment is not native, {@code buf} read-only, or
     *                                   {@code from} too small
     */
    public static long receive(int fd, MemorySegment buf, long offset, long length, MemorySegment from)
            throws IoException {
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("cannot receive into a read-only segment");
        }
        long address = rangeAddress(buf, offset, length);
        long fromAddress = 0;
        long lengthAddress = 0;
        if (from.address() != 0 || from.byteSize() != 0) {
            fromAddress = addressOf(from);
            MemorySegment len = SOCKLEN.get();
            len.set(ValueLayout.JAVA_INT, 0, (int) IoAddress.SIZE);
            lengthAddress = len.address();
        }
        while (true) {
            // MSG_TRUNC: the result is the datagram's real length, so truncation shows.
            long n = Syscalls.recvfromRaw(fd, address, length, MSG_TRUNC, fromAddress, lengthAddress);
            if (n >= 0) {
                return n;
            }
            if (n == -Errno.EAGAIN) {
                return WOULD_BLOCK;
            }
            if (n != -Errno.EINTR) {
                throw new IoException("recvfrom", null, fd, (int) -n);
            }
        }
    }

    /**
     * Sends {@code buf} as one datagram to {@code to}.
     *
     * <pre>{@code
     * MemorySegment target = IoAddress.allocate(arena);
     * IoAddress.set(target, new InetSocketAddress(InetAddress.getLoopbackAddress(), 9000)); // once
     * long n = IoDatagram.send(fd, message, target);
     * }</pre>
     *
     * @param fd  a UDP socket
     * @param buf native memory, the whole payload
     * @param to  an {@link IoAddress} holding an IPv4 or IPv6 address
     * @return bytes sent (the whole datagram), or {@link #WOULD_BLOCK} if the send buffer is full
     * @throws IoException              on a real failure, e.g. EMSGSIZE for a datagram too large,
     *                                  EAFNOSUPPORT for an IPv6 target on an IPv4 socket
     * @throws IllegalArgumentException if {@code to} holds no address or a segment is not native
     */
    public static long send(int fd, MemorySegment buf, MemorySegment to) throws IoException {
        return send(fd, buf, 0, buf.byteSize(), to);
    }

    /**
     * Sends {@code length} bytes of {@code buf} from {@code offset} as one datagram to {@code to},
     * without allocating a slice; otherwise as {@link #send(int, MemorySegment, MemorySegment)}.
     *
     * <pre>{@code
     * IoDatagram.send(fd, buf, 0, n, peer);   // echo what was just received back to its sender
     * }</pre>
     *
     * @param fd     a UDP socket
     * @param buf    native memory
     * @param offset where the payload starts in {@code buf}
     * @param length the payload's size
     * @param to     an {@link IoAddress} holding an IPv4 or IPv6 address
     * @return bytes sent, or {@link #WOULD_BLOCK}
     * @throws IoException               on a real failure
     * @throws IndexOutOfBoundsException if the range does not fit in {@code buf}
     * @throws IllegalArgumentException  if {@code to} holds no address or a segment is not native
     */
    public static long send(int fd, MemorySegment buf, long offset, long length, MemorySegment to)
            throws IoException {
        long address = rangeAddress(buf, offset, length);
        int toLength = IoAddress.length(to);
        long toAddress = addressOf(to);
        while (true) {
            long n = Syscalls.sendtoRaw(fd, address, length, 0, toAddress, toLength);
            if (n >= 0) {
                return n;
            }
            if (n == -Errno.EAGAIN) {
                return WOULD_BLOCK;
            }
            if (n != -Errno.EINTR) {
                throw new IoException("sendto", null, fd, (int) -n);
            }
        }
    }

    /** A socklen_t per thread, for recvfrom's in/out address length. */
    private static final ThreadLocal<MemorySegment> SOCKLEN =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(ValueLayout.JAVA_INT));

    private static long addressOf(MemorySegment addr) {
        IoAddress.check(addr);
        return rangeAddress(addr, 0, IoAddress.SIZE);
    }

    /** The address of a checked range of native memory (allocates nothing on success). */
    private static long rangeAddress(MemorySegment buf, long offset, long length) {
        Objects.checkFromIndexSize(offset, length, buf.byteSize());
        if (!buf.isNative()) {
            throw new IllegalArgumentException("memory must be native (allocated from an Arena), not a heap segment");
        }
        if (!buf.scope().isAlive()) {
            throw new IllegalStateException("memory's arena is closed");
        }
        return buf.address() + offset;
    }
}
