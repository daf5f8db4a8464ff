package org.ioatom.internal.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Socket calls, constants and struct offsets for {@code IoSocket}, read from the current
 * platform's bindings when first used (so merely referencing {@code IoSocket} never fails).
 */
public final class Net {
    private Net() {}

    private static final Bindings B = Sys.B;

    /** Address families. */
    public static final int AF_INET = B.intConstant("AF_INET");
    /** Address families. */
    public static final int AF_INET6 = B.intConstant("AF_INET6");
    /** socket(2) type and flags. */
    public static final int SOCK_STREAM = B.intConstant("SOCK_STREAM");
    /** socket(2) type and flags. */
    public static final int SOCK_NONBLOCK = B.intConstant("SOCK_NONBLOCK");
    /** socket(2) type and flags. */
    public static final int SOCK_CLOEXEC = B.intConstant("SOCK_CLOEXEC");
    /** Socket options. */
    public static final int SOL_SOCKET = B.intConstant("SOL_SOCKET");
    /** Socket options. */
    public static final int SO_REUSEADDR = B.intConstant("SO_REUSEADDR");
    /** Socket options. */
    public static final int SO_REUSEPORT = B.intConstant("SO_REUSEPORT");
    /** Socket options. */
    public static final int SO_ERROR = B.intConstant("SO_ERROR");
    /** Socket options. */
    public static final int IPPROTO_TCP = B.intConstant("IPPROTO_TCP");
    /** Socket options. */
    public static final int TCP_NODELAY = B.intConstant("TCP_NODELAY");
    /** Socket options. */
    public static final int IPPROTO_IPV6 = B.intConstant("IPPROTO_IPV6");
    /** Socket options. */
    public static final int IPV6_V6ONLY = B.intConstant("IPV6_V6ONLY");
    /** Default listen backlog. */
    public static final int SOMAXCONN = B.intConstant("SOMAXCONN");
    /** shutdown(2) how. */
    public static final int SHUT_WR = B.intConstant("SHUT_WR");
    /** send flag: no SIGPIPE on a closed peer. */
    public static final int MSG_NOSIGNAL = B.intConstant("MSG_NOSIGNAL");
    /** errno values accept(2) documents as transient for the next connection. */
    public static final int ECONNABORTED = B.intConstant("ECONNABORTED");
    /** errno values accept(2) documents as transient for the next connection. */
    public static final int EPROTO = B.intConstant("EPROTO");

    /** struct sockaddr_in. */
    public static final long SIN_SIZE = B.sizeof("sockaddr_in");
    /** struct sockaddr_in. */
    public static final long SIN_FAMILY = B.offset("sockaddr_in", "sin_family");
    /** struct sockaddr_in. */
    public static final long SIN_PORT = B.offset("sockaddr_in", "sin_port");
    /** struct sockaddr_in. */
    public static final long SIN_ADDR = B.offset("sockaddr_in", "sin_addr");
    /** struct sockaddr_in6. */
    public static final long SIN6_SIZE = B.sizeof("sockaddr_in6");
    /** struct sockaddr_in6. */
    public static final long SIN6_FAMILY = B.offset("sockaddr_in6", "sin6_family");
    /** struct sockaddr_in6. */
    public static final long SIN6_PORT = B.offset("sockaddr_in6", "sin6_port");
    /** struct sockaddr_in6. */
    public static final long SIN6_ADDR = B.offset("sockaddr_in6", "sin6_addr");
    /** struct sockaddr_in6. */
    public static final long SIN6_SCOPE_ID = B.offset("sockaddr_in6", "sin6_scope_id");
    /** struct sockaddr_storage. */
    public static final long STORAGE_SIZE = B.sizeof("sockaddr_storage");
    /** struct iovec. */
    public static final long IOVEC_SIZE = B.sizeof("iovec");
    /** struct iovec. */
    public static final long IOV_BASE = B.offset("iovec", "iov_base");
    /** struct iovec. */
    public static final long IOV_LEN = B.offset("iovec", "iov_len");
    /** struct msghdr. */
    public static final long MSGHDR_SIZE = B.sizeof("msghdr");
    /** struct msghdr. */
    public static final long MSG_IOV = B.offset("msghdr", "msg_iov");
    /** struct msghdr. */
    public static final long MSG_IOVLEN = B.offset("msghdr", "msg_iovlen");

    private static final MethodHandle SOCKET = Natives.libc(B, "socket", true);
    private static final MethodHandle BIND = Natives.libc(B, "bind", true);
    private static final MethodHandle LISTEN = Natives.libc(B, "listen", true);
    private static final MethodHandle ACCEPT4 = Natives.libc(B, "accept4", true);
    private static final MethodHandle CONNECT = Natives.libc(B, "connect", true);
    private static final MethodHandle SETSOCKOPT = Natives.libc(B, "setsockopt", true);
    private static final MethodHandle GETSOCKOPT = Natives.libc(B, "getsockopt", true);
    private static final MethodHandle GETSOCKNAME = Natives.libc(B, "getsockname", true);
    private static final MethodHandle GETPEERNAME = Natives.libc(B, "getpeername", true);
    private static final MethodHandle SHUTDOWN = Natives.libc(B, "shutdown", true);
    private static final MethodHandle SEND = Natives.libc(B, "send", true);
    private static final MethodHandle READV = Natives.libc(B, "readv", true);
    private static final MethodHandle SENDMSG = Natives.libc(B, "sendmsg", true);
    /** read(2) and send(2) taking the buffer as an address: ranges of a segment without a slice. */
    private static final MethodHandle READ_AT = Natives.libcWithRawPointer(B, "read", 1, true);
    private static final MethodHandle SEND_AT = Natives.libcWithRawPointer(B, "send", 1, true);

    /** Per-thread scratch memory for socket calls; allocated once per thread. */
    public static final class Scratch {
        /** errno capture. */
        public final MemorySegment errno;
        /** A sockaddr_storage. */
        public final MemorySegment addr;
        /** A socklen_t, or an int option value. */
        public final MemorySegment len;
        /** An int option value. */
        public final MemorySegment intValue;
        /** A msghdr for sendmsg. */
        public final MemorySegment msghdr;

        Scratch(Arena arena) {
            errno = arena.allocate(Natives.CAPTURE_LAYOUT);
            addr = arena.allocate(STORAGE_SIZE, 8);
            len = arena.allocate(ValueLayout.JAVA_INT);
            intValue = arena.allocate(ValueLayout.JAVA_INT);
            msghdr = arena.allocate(MSGHDR_SIZE, 8);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(() -> new Scratch(Arena.ofAuto()));

    /**
     * Returns this thread's scratch memory.
     *
     * @return this thread's scratch memory
     */
    public static Scratch scratch() {
        return SCRATCH.get();
    }

    /** socket(2). @param s scratch @param domain AF_* @param type SOCK_* @return fd or -1 */
    public static int socket(Scratch s, int domain, int type) {
        try {
            return (int) SOCKET.invokeExact(s.errno, domain, type, 0);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** bind(2) to the address in {@code s.addr}. @param s scratch @param fd socket @param len address length @return 0 or -1 */
    public static int bind(Scratch s, int fd, int len) {
        try {
            return (int) BIND.invokeExact(s.errno, fd, s.addr, len);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** listen(2). @param s scratch @param fd socket @param backlog queue length @return 0 or -1 */
    public static int listen(Scratch s, int fd, int backlog) {
        try {
            return (int) LISTEN.invokeExact(s.errno, fd, backlog);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** accept4(2) without the peer address. @param s scratch @param fd listener @param flags SOCK_* @return fd or -1 */
    public static int accept4(Scratch s, int fd, int flags) {
        try {
            return (int) ACCEPT4.invokeExact(s.errno, fd, MemorySegment.NULL, MemorySegment.NULL, flags);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** connect(2) to the address in {@code s.addr}. @param s scratch @param fd socket @param len address length @return 0 or -1 */
    public static int connect(Scratch s, int fd, int len) {
        try {
            return (int) CONNECT.invokeExact(s.errno, fd, s.addr, len);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** setsockopt(2) with an int value. @param s scratch @param fd socket @param level level @param name option @param value value @return 0 or -1 */
    public static int setIntOption(Scratch s, int fd, int level, int name, int value) {
        s.intValue.set(ValueLayout.JAVA_INT, 0, value);
        try {
            return (int) SETSOCKOPT.invokeExact(s.errno, fd, level, name, s.intValue, 4);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** getsockopt(2) of an int value into {@code s.intValue}. @param s scratch @param fd socket @param level level @param name option @return 0 or -1 */
    public static int getIntOption(Scratch s, int fd, int level, int name) {
        s.len.set(ValueLayout.JAVA_INT, 0, 4);
        try {
            return (int) GETSOCKOPT.invokeExact(s.errno, fd, level, name, s.intValue, s.len);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** getsockname(2)/getpeername(2) into {@code s.addr}. @param s scratch @param fd socket @param peer which end @return 0 or -1 */
    public static int name(Scratch s, int fd, boolean peer) {
        s.len.set(ValueLayout.JAVA_INT, 0, (int) STORAGE_SIZE);
        try {
            return peer
                    ? (int) GETPEERNAME.invokeExact(s.errno, fd, s.addr, s.len)
                    : (int) GETSOCKNAME.invokeExact(s.errno, fd, s.addr, s.len);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** shutdown(2). @param s scratch @param fd socket @param how SHUT_* @return 0 or -1 */
    public static int shutdown(Scratch s, int fd, int how) {
        try {
            return (int) SHUTDOWN.invokeExact(s.errno, fd, how);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** send(2). @param s scratch @param fd socket @param buf data @param len bytes @param flags MSG_* @return bytes or -1 */
    public static long send(Scratch s, int fd, MemorySegment buf, long len, int flags) {
        try {
            return (long) SEND.invokeExact(s.errno, fd, buf, len, flags);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** readv(2). @param s scratch @param fd socket @param iov iovec array @param count entries @return bytes or -1 */
    public static long readv(Scratch s, int fd, MemorySegment iov, int count) {
        try {
            return (long) READV.invokeExact(s.errno, fd, iov, count);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /**
     * read(2) into native memory at {@code address}, which the caller checked.
     *
     * @param s       scratch
     * @param fd      descriptor
     * @param address start of the range
     * @param length  bytes
     * @return bytes read, 0 at end of stream, or -1
     */
    public static long readAt(Scratch s, int fd, long address, long length) {
        try {
            return (long) READ_AT.invokeExact(s.errno, fd, address, length);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /**
     * send(2) from native memory at {@code address}, which the caller checked.
     *
     * @param s       scratch
     * @param fd      socket
     * @param address start of the range
     * @param length  bytes
     * @param flags   MSG_*
     * @return bytes sent or -1
     */
    public static long sendAt(Scratch s, int fd, long address, long length, int flags) {
        try {
            return (long) SEND_AT.invokeExact(s.errno, fd, address, length, flags);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }

    /** sendmsg(2) of an iovec array, no address. @param s scratch @param fd socket @param iov iovec array @param count entries @param flags MSG_* @return bytes or -1 */
    public static long sendmsg(Scratch s, int fd, MemorySegment iov, int count, int flags) {
        MemorySegment m = s.msghdr;
        m.fill((byte) 0);
        m.set(ValueLayout.ADDRESS, MSG_IOV, iov);
        m.set(ValueLayout.JAVA_LONG, MSG_IOVLEN, count);
        try {
            return (long) SENDMSG.invokeExact(s.errno, fd, m, flags);
        } catch (Throwable t) {
            throw Natives.rethrow(t);
        }
    }
}
