package org.ioatom;

import static org.ioatom.internal.linux.Linux.AF_INET;
import static org.ioatom.internal.linux.Linux.AF_INET6;
import static org.ioatom.internal.linux.Linux.AF_UNIX;
import static org.ioatom.internal.linux.Linux.AT_FDCWD;
import static org.ioatom.internal.linux.Linux.AT_SYMLINK_NOFOLLOW;
import static org.ioatom.internal.linux.Linux.F_GETFL;
import static org.ioatom.internal.linux.Linux.F_SETFL;
import static org.ioatom.internal.linux.Linux.IPPROTO_IPV6;
import static org.ioatom.internal.linux.Linux.IPPROTO_TCP;
import static org.ioatom.internal.linux.Linux.IPV6_V6ONLY;
import static org.ioatom.internal.linux.Linux.MSG_NOSIGNAL;
import static org.ioatom.internal.linux.Linux.O_NONBLOCK;
import static org.ioatom.internal.linux.Linux.SHUT_WR;
import static org.ioatom.internal.linux.Linux.SOCK_CLOEXEC;
import static org.ioatom.internal.linux.Linux.SOCK_NONBLOCK;
import static org.ioatom.internal.linux.Linux.SOCK_STREAM;
import static org.ioatom.internal.linux.Linux.SOL_SOCKET;
import static org.ioatom.internal.linux.Linux.SOMAXCONN;
import static org.ioatom.internal.linux.Linux.STATX_TYPE;
import static org.ioatom.internal.linux.Linux.S_IFMT;
import static org.ioatom.internal.linux.Linux.S_IFSOCK;
import static org.ioatom.internal.linux.Linux.SO_ERROR;
import static org.ioatom.internal.linux.Linux.SO_KEEPALIVE;
import static org.ioatom.internal.linux.Linux.SO_LINGER;
import static org.ioatom.internal.linux.Linux.SO_RCVBUF;
import static org.ioatom.internal.linux.Linux.SO_REUSEADDR;
import static org.ioatom.internal.linux.Linux.SO_REUSEPORT;
import static org.ioatom.internal.linux.Linux.SO_SNDBUF;
import static org.ioatom.internal.linux.Linux.TCP_KEEPCNT;
import static org.ioatom.internal.linux.Linux.TCP_KEEPIDLE;
import static org.ioatom.internal.linux.Linux.TCP_KEEPINTVL;
import static org.ioatom.internal.linux.Linux.TCP_NODELAY;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Iovec;
import org.ioatom.internal.linux.Linger;
import org.ioatom.internal.linux.Msghdr;
import org.ioatom.internal.linux.SockaddrIn;
import org.ioatom.internal.linux.SockaddrIn6;
import org.ioatom.internal.linux.SockaddrStorage;
import org.ioatom.internal.linux.SockaddrUn;
import org.ioatom.internal.linux.Statx;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.Errnos;

/**
 * Non-blocking TCP and Unix domain stream sockets as plain file descriptors ({@link #listenUnix},
 * {@link #connectUnix}; UDP is {@link IoDatagram}): IO Atom's {@code io_socket_listen},
 * {@code io_socket_accept}, {@code io_socket_connect}, {@code io_read} and {@code io_write}.
 *
 * <p>Every socket this class creates is non-blocking and close-on-exec. Data moves between a
 * socket and native memory ({@link MemorySegment}s from the app's arenas) with one return
 * convention: the number of bytes moved, or {@link #WOULD_BLOCK}, or {@link #EOF}; a real error
 * throws {@link IoException}. Writes never raise SIGPIPE (MSG_NOSIGNAL): a vanished peer is an
 * {@code EPIPE} exception. A call interrupted by a signal (EINTR) is retried.
 *
 * <p>The data calls ({@code read}, {@code write}, {@code readv}, {@code writev}, {@code accept})
 * allocate nothing, in any compiler mode and at any call depth (see {@code SyscallLinker});
 * {@code finishConnect} and the option calls use a few bytes of native memory kept per thread,
 * made on the thread's first call, and allocate nothing after it.
 * Address strings are {@code host:port}, {@code [ipv6]:port} or a bare {@code port} (all IPv4
 * interfaces); host names resolve through {@link InetAddress} on the calling thread, which may
 * block on DNS: on an event loop, resolve elsewhere and pass an {@link InetSocketAddress}.
 *
 * <p>The option setters and getters ({@code setSendBufferSize}, {@code setKeepAlive},
 * {@code setLinger}, {@code setReusePort}, {@code setNoDelay}, {@code setNonBlocking}...) refuse
 * bad values with {@link IllegalArgumentException} before any system call, and name the call,
 * the option and the fd when the kernel refuses, e.g.
 * {@code setsockopt(SO_KEEPALIVE, fd=7): EBADF (Bad file descriptor)}.
 */
public final class IoSocket {
    private IoSocket() {}

    static {
        Errnos.preload();
    }

    /** Returned by the read calls at end of stream (the peer shut down its side). */
    public static final long EOF = -1;
    /** Returned by the data calls when the socket has no data or no room now: wait for the next event. */
    public static final long WOULD_BLOCK = -2;
    /**
     * Returned by {@link #accept(int)} when no connection is pending: the {@code int} twin of
     * {@link #WOULD_BLOCK} (same value), so no return value of the socket calls means two things.
     */
    public static final int NO_MORE = -2;
    /** Use the system's largest listen backlog (SOMAXCONN). */
    public static final int DEFAULT_BACKLOG = -1;

    /**
     * Opens a listening socket with SO_REUSEADDR and the system's default backlog.
     *
     * @param address {@code host:port}, {@code [::1]:port} or {@code port}; port 0 picks a free port
     * @return the listening fd; {@link #localPort(int)} tells the port
     * @throws IOException if the address does not resolve or a call fails
     */
    public static int listen(String address) throws IOException {
        return listen(address, DEFAULT_BACKLOG, false);
    }

    /**
     * Opens a listening socket with SO_REUSEADDR. A host name in {@code address} resolves on the
     * calling thread (see {@link #connect(String)}).
     *
     * @param address   {@code host:port}, {@code [::1]:port} or {@code port}; port 0 picks a free port
     * @param backlog   the accept queue length, or {@link #DEFAULT_BACKLOG} for SOMAXCONN
     * @param reusePort also set SO_REUSEPORT, so several listeners (one per loop) share the port
     * @return the listening fd
     * @throws IOException              if the address does not resolve or a call fails
     * @throws IllegalArgumentException if the address is malformed (a bad or out-of-range port,
     *                                  an IPv6 address without brackets) or the backlog negative
     *                                  (other than {@link #DEFAULT_BACKLOG})
     */
    public static int listen(String address, int backlog, boolean reusePort) throws IOException {
        checkBacklog(backlog);
        return listen(parse(address, true), backlog, reusePort);
    }

    /**
     * Opens a listening socket with SO_REUSEADDR on an address already resolved: nothing here
     * looks up a name.
     *
     * <pre>{@code
     * int fd = IoSocket.listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
     *         IoSocket.DEFAULT_BACKLOG, false);
     * }</pre>
     *
     * @param address   a resolved address; the wildcard {@code [::]} also accepts IPv4; port 0
     *                  picks a free port
     * @param backlog   the accept queue length, or {@link #DEFAULT_BACKLOG} for SOMAXCONN
     * @param reusePort also set SO_REUSEPORT, so several listeners (one per loop) share the port
     * @return the listening fd
     * @throws IoException              if a call fails
     * @throws IllegalArgumentException if {@code address} is unresolved or the backlog negative
     *                                  (other than {@link #DEFAULT_BACKLOG})
     */
    public static int listen(InetSocketAddress address, int backlog, boolean reusePort) throws IoException {
        InetSocketAddress sa = resolved(address);
        checkBacklog(backlog);
        Scratch s = Scratch.get();
        int len = encode(s, sa);
        int fd = open(sa);
        try {
            check(setIntOption(s, fd, SOL_SOCKET, SO_REUSEADDR, 1), "setsockopt", "SO_REUSEADDR", fd);
            if (reusePort) {
                check(setIntOption(s, fd, SOL_SOCKET, SO_REUSEPORT, 1), "setsockopt", "SO_REUSEPORT", fd);
            }
            if (sa.getAddress() instanceof Inet6Address && sa.getAddress().isAnyLocalAddress()) {
                // [::] listens on IPv4 too, whatever the system default.
                check(setIntOption(s, fd, IPPROTO_IPV6, IPV6_V6ONLY, 0), "setsockopt", "IPV6_V6ONLY", fd);
            }
            check(Syscalls.bind(fd, s.addr, len), "bind", sa.toString(), fd);
            check(Syscalls.listen(fd, backlog == DEFAULT_BACKLOG ? SOMAXCONN : backlog), "listen", null, fd);
            return fd;
        } catch (IoException | RuntimeException e) {
            Syscalls.close(fd);
            throw e;
        }
    }

    private static void checkBacklog(int backlog) {
        if (backlog < 0 && backlog != DEFAULT_BACKLOG) {
            throw new IllegalArgumentException("backlog must be 0 or more, or DEFAULT_BACKLOG: " + backlog);
        }
    }

    /**
     * Accepts one pending connection, non-blocking and close-on-exec. Call it until it returns
     * {@link #NO_MORE}: the listener's READ event is edge-triggered.
     *
     * @param listenFd a listening socket
     * @return the connection's fd, or {@link #NO_MORE}
     * @throws IoException on a real failure, e.g. EMFILE when the process is out of descriptors
     */
    public static int accept(int listenFd) throws IoException {
        while (true) {
            int fd = Syscalls.accept4(listenFd, MemorySegment.NULL, MemorySegment.NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                return fd;
            }
            int errno = -fd;
            if (errno == Errno.EAGAIN) {
                return NO_MORE;
            }
            // accept(2): a connection that failed before it was accepted; try the next one.
            if (errno != Errno.EINTR && errno != Errno.ECONNABORTED && errno != Errno.EPROTO) {
                throw new IoException("accept4", null, listenFd, errno);
            }
        }
    }

    /**
     * Starts a non-blocking connect. Register the fd for {@link IoAtom#WRITE}; when it is
     * reported, call {@link #finishConnect(int)}.
     *
     * <p>A host name resolves here, on the calling thread, through {@link InetAddress}: that may
     * block on DNS for seconds. On an event loop, pass a numeric address, or resolve the name on
     * another thread and call {@link #connect(InetSocketAddress)}.
     *
     * @param address {@code host:port} or {@code [ipv6]:port}
     * @return the socket's fd, connected or connecting
     * @throws IOException              if the address does not resolve or the connect fails at once
     * @throws IllegalArgumentException if the address is malformed (no port, a bad or out-of-range
     *                                  port, an IPv6 address without brackets)
     */
    public static int connect(String address) throws IOException {
        return connect(parse(address, false));
    }

    /**
     * Starts a non-blocking connect to an address already resolved: nothing here looks up a name,
     * so an event loop never waits for DNS. Register the fd for {@link IoAtom#WRITE}; when it is
     * reported, call {@link #finishConnect(int)}.
     *
     * <pre>{@code
     * // On a worker thread, where blocking on DNS is harmless:
     * InetSocketAddress target = new InetSocketAddress(InetAddress.getByName("example.org"), 443);
     * // On the loop:
     * int fd = IoSocket.connect(target);
     * poller.add(conn, IO, IoAtom.WRITE, handler);
     * }</pre>
     *
     * @param address a resolved address ({@code isUnresolved()} false)
     * @return the socket's fd, connected or connecting
     * @throws IoException              if the connect fails at once
     * @throws IllegalArgumentException if {@code address} is unresolved
     */
    public static int connect(InetSocketAddress address) throws IoException {
        InetSocketAddress sa = resolved(address);
        Scratch s = Scratch.get();
        int len = encode(s, sa);
        int fd = open(sa);
        int rc = Syscalls.connect(fd, s.addr, len);
        // EINTR: the connect goes on asynchronously; its result arrives like EINPROGRESS's.
        if (rc < 0 && rc != -Errno.EINPROGRESS && rc != -Errno.EINTR) {
            Syscalls.close(fd);
            throw new IoException("connect", sa.toString(), fd, -rc);
        }
        return fd;
    }

    // ---- Unix domain stream sockets ----

    /**
     * The longest Unix socket path in bytes (UTF-8): {@code sun_path} holds 108 bytes on Linux,
     * the terminating NUL included. An abstract name ({@code @name}) takes its leading NUL from
     * the same 108.
     */
    public static final int MAX_UNIX_PATH_BYTES = 107;

    /**
     * Opens a listening Unix domain stream socket with the system's default backlog; see
     * {@link #listenUnix(String, int)}.
     *
     * <pre>{@code
     * int listener = IoSocket.listenUnix("/run/myapp/app.sock");
     * int abstractListener = IoSocket.listenUnix("@myapp");   // Linux's abstract namespace
     * }</pre>
     *
     * @param path a filesystem path, or {@code @name} for an abstract name
     * @return the listening fd
     * @throws IoException              if a call fails, or the path is in use or taken by another file
     * @throws IllegalArgumentException if the path is empty, holds a NUL or is longer than
     *                                  {@value #MAX_UNIX_PATH_BYTES} bytes
     */
    public static int listenUnix(String path) throws IoException {
        return listenUnix(path, DEFAULT_BACKLOG);
    }

    /**
     * Opens a listening Unix domain stream socket (non-blocking, close-on-exec) on a filesystem
     * path or, written {@code @name}, on a name in Linux's abstract namespace (no file; it goes
     * away with the last socket). Accept with {@link #accept(int)}; the connections use the same
     * calls as TCP ({@link #read(int, MemorySegment)}, {@link #write(int, MemorySegment)},
     * {@link #shutdownOutput}, {@link #close}...), but not the TCP options.
     *
     * <p>A socket file left by a server that is gone (stale) is removed first: when the path is
     * taken, this call connects to it; if nobody accepts (ECONNREFUSED) it unlinks the file and
     * binds again. If a server does accept there, it refuses with
     * {@code bind(PATH: another server accepts on it, fd=N): EADDRINUSE (Address already in use)}
     * and leaves that server alone (it sees one connection, the probe, that ends at once). A file at the path that is not a socket (a regular file, a
     * directory, a symbolic link) is never deleted: that is an {@code EADDRINUSE} exception too,
     * saying so. The file this call creates stays after {@link #close}: the next listen on the
     * path removes it, or the app unlinks it.
     *
     * <pre>{@code
     * int listener = IoSocket.listenUnix("/tmp/echo.sock", 128);
     * poller.add(listenerStruct, IO, IoAtom.READ, (l, ev) -> {
     *     int fd;
     *     while ((fd = IoSocket.accept(listener)) != IoSocket.NO_MORE) {
     *         // register fd for READ, then IoSocket.read / IoSocket.write as with TCP
     *     }
     * });
     * }</pre>
     *
     * @param path    a filesystem path (UTF-8 bytes, at most {@value #MAX_UNIX_PATH_BYTES}), or
     *                {@code @name} for an abstract name (at most {@value #MAX_UNIX_PATH_BYTES}
     *                bytes after the {@code @})
     * @param backlog the accept queue length, or {@link #DEFAULT_BACKLOG} for SOMAXCONN
     * @return the listening fd
     * @throws IoException              if a call fails (the message names it, the path and the
     *                                  errno), or the path is in use or taken by another file
     * @throws IllegalArgumentException if the path is empty, holds a NUL, is too long for
     *                                  {@code sun_path}, or the backlog is negative (other than
     *                                  {@link #DEFAULT_BACKLOG})
     */
    public static int listenUnix(String path, int backlog) throws IoException {
        checkBacklog(backlog);
        try (Arena arena = Arena.ofConfined()) {
            UnixAddress ua = UnixAddress.of(arena, path);
            int fd = openUnix();
            try {
                int rc = Syscalls.bind(fd, ua.sockaddr, ua.length);
                if (rc == -Errno.EADDRINUSE && ua.file != null) {
                    removeStaleSocket(arena, ua, path, fd);
                    rc = Syscalls.bind(fd, ua.sockaddr, ua.length);
                }
                check(rc, "bind", path, fd);
                check(Syscalls.listen(fd, backlog == DEFAULT_BACKLOG ? SOMAXCONN : backlog), "listen", path, fd);
                return fd;
            } catch (IoException | RuntimeException e) {
                Syscalls.close(fd);
                throw e;
            }
        }
    }

    /**
     * Connects a non-blocking Unix domain stream socket to a filesystem path or an abstract name
     * ({@code @name}). Unlike TCP the connect completes at once (or fails): the fd is ready for
     * {@link #read(int, MemorySegment)} and {@link #write(int, MemorySegment)}.
     *
     * <pre>{@code
     * int fd = IoSocket.connectUnix("/tmp/echo.sock");
     * IoSocket.write(fd, request);
     * }</pre>
     *
     * @param path a filesystem path, or {@code @name} for an abstract name
     * @return the connected socket's fd
     * @throws IoException              if the connect fails, e.g. {@code connect(/tmp/x.sock):
     *                                  ECONNREFUSED} (no server), ENOENT (no such file), EAGAIN
     *                                  (the server's accept queue is full: try again later)
     * @throws IllegalArgumentException if the path is empty, holds a NUL or is too long for {@code sun_path}
     */
    public static int connectUnix(String path) throws IoException {
        try (Arena arena = Arena.ofConfined()) {
            UnixAddress ua = UnixAddress.of(arena, path);
            int fd = openUnix();
            int rc;
            do {
                rc = Syscalls.connect(fd, ua.sockaddr, ua.length);
            } while (rc == -Errno.EINTR);
            if (rc < 0 && rc != -Errno.EINPROGRESS) {
                Syscalls.close(fd);
                throw new IoException("connect", path, fd, -rc);
            }
            return fd;
        }
    }

    private static int openUnix() throws IoException {
        int fd = Syscalls.socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IoException("socket", "AF_UNIX", -1, -fd);
        }
        return fd;
    }

    /**
     * The path is taken: removes it if it is a socket nobody accepts on; otherwise throws.
     * (Between the probe and the unlink another server could bind there: the caller's second bind
     * then fails with EADDRINUSE, as it should.)
     */
    private static void removeStaleSocket(Arena arena, UnixAddress ua, String path, int fd) throws IoException {
        MemorySegment stat = arena.allocate(Statx.LAYOUT);
        int rc = Syscalls.statx(AT_FDCWD, ua.file, AT_SYMLINK_NOFOLLOW, STATX_TYPE, stat);
        if (rc == -Errno.ENOENT) {
            return; // gone meanwhile: bind again
        }
        check(rc, "statx", path, -1);
        int type = Short.toUnsignedInt(stat.get(ValueLayout.JAVA_SHORT, Statx.STX_MODE_OFFSET)) & S_IFMT;
        if (type != S_IFSOCK) {
            throw new IoException("bind", path + ": exists and is not a socket, left in place", fd, Errno.EADDRINUSE);
        }
        int probe = openUnix();
        try {
            int connected;
            do {
                connected = Syscalls.connect(probe, ua.sockaddr, ua.length);
            } while (connected == -Errno.EINTR);
            // EAGAIN: a server is there, its accept queue full.
            if (connected == 0 || connected == -Errno.EAGAIN || connected == -Errno.EINPROGRESS) {
                throw new IoException("bind", path + ": another server accepts on it", fd, Errno.EADDRINUSE);
            }
            if (connected != -Errno.ECONNREFUSED) {
                throw new IoException("connect", path + " (probing for a server)", probe, -connected);
            }
        } finally {
            Syscalls.close(probe);
        }
        int unlinked = Syscalls.unlinkat(AT_FDCWD, ua.file, 0);
        if (unlinked < 0 && unlinked != -Errno.ENOENT) {
            throw new IoException("unlinkat", path + " (a stale socket)", -1, -unlinked);
        }
    }

    /** A {@code struct sockaddr_un} in native memory. */
    private record UnixAddress(MemorySegment sockaddr, int length, MemorySegment file) {
        /**
         * Encodes {@code path}: {@code @name} as an abstract name (sun_path[0] = 0, then the name,
         * no terminator: the length says where it ends), anything else as a NUL-terminated path.
         *
         * @return the address; {@code file} is the NUL-terminated path, null for an abstract name
         */
        static UnixAddress of(Arena arena, String path) {
            Objects.requireNonNull(path, "path");
            boolean isAbstract = path.startsWith("@");
            byte[] name = (isAbstract ? path.substring(1) : path).getBytes(StandardCharsets.UTF_8);
            if (name.length == 0) {
                throw new IllegalArgumentException(isAbstract ? "empty abstract socket name '@'" : "empty Unix socket path");
            }
            for (byte b : name) {
                if (b == 0) {
                    throw new IllegalArgumentException("Unix socket path contains a NUL byte");
                }
            }
            if (name.length > MAX_UNIX_PATH_BYTES) {
                throw new IllegalArgumentException("Unix socket " + (isAbstract ? "abstract name" : "path") + " is "
                        + name.length + " bytes (UTF-8); sun_path holds at most " + MAX_UNIX_PATH_BYTES
                        + (isAbstract ? " after its leading NUL: '" : " plus the terminating NUL: '") + path + "'");
            }
            MemorySegment sa = arena.allocate(SockaddrUn.LAYOUT);
            sa.set(ValueLayout.JAVA_SHORT, SockaddrUn.SUN_FAMILY_OFFSET, (short) AF_UNIX);
            long at = SockaddrUn.SUN_PATH_OFFSET + (isAbstract ? 1 : 0);
            MemorySegment.copy(name, 0, sa, ValueLayout.JAVA_BYTE, at, name.length);
            if (isAbstract) {
                return new UnixAddress(sa, (int) (at + name.length), null);
            }
            // The NUL that the zeroed allocation left after the path ends it.
            return new UnixAddress(sa, (int) (at + name.length + 1), sa.asSlice(at, name.length + 1));
        }
    }

    /** {@code address}, checked to be resolved; nothing on this path looks a name up. */
    private static InetSocketAddress resolved(InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address " + address.getHostString() + ":" + address.getPort()
                    + " is unresolved: resolve it first (InetAddress.getByName, off the loop thread)");
        }
        return address;
    }

    /**
     * Completes a connect started by {@link #connect(String)} or {@link #connect(InetSocketAddress)}
     * once its fd reported WRITE.
     *
     * @param fd the connecting socket
     * @throws IoException naming the reason the connection failed, e.g. ECONNREFUSED
     */
    public static void finishConnect(int fd) throws IoException {
        Scratch s = Scratch.get();
        s.len.set(ValueLayout.JAVA_INT, 0, 4);
        check(Syscalls.getsockopt(fd, SOL_SOCKET, SO_ERROR, s.intValue, s.len), "getsockopt", "SO_ERROR", fd);
        int error = s.intValue.get(ValueLayout.JAVA_INT, 0);
        if (error != 0) {
            throw new IoException("connect", null, fd, error);
        }
    }

    /**
     * Reads into {@code buf}, at most its size.
     *
     * @param fd  a socket
     * @param buf native memory to fill
     * @return bytes read (more than 0 unless {@code buf} is empty), {@link #EOF} or {@link #WOULD_BLOCK}
     * @throws IoException on a real failure, e.g. ECONNRESET
     */
    public static long read(int fd, MemorySegment buf) throws IoException {
        long r;
        do {
            r = received(Syscalls.read(fd, buf, buf.byteSize()), buf.byteSize() == 0, "read", fd);
        } while (r == RETRY);
        return r;
    }

    /**
     * Writes from {@code buf}, at most its size, without SIGPIPE.
     *
     * @param fd  a socket
     * @param buf native memory to send
     * @return bytes written (possibly fewer than asked), or {@link #WOULD_BLOCK}
     * @throws IoException on a real failure, e.g. EPIPE or ECONNRESET when the peer is gone
     */
    public static long write(int fd, MemorySegment buf) throws IoException {
        long r;
        do {
            r = sent(Syscalls.sendto(fd, buf, buf.byteSize(), MSG_NOSIGNAL, MemorySegment.NULL, 0), "sendto", fd);
        } while (r == RETRY);
        return r;
    }

    /**
     * Reads into {@code length} bytes of {@code buf} from {@code offset}: {@link #read(int, MemorySegment)}
     * for a range, without the slice object that {@code buf.asSlice(offset, length)} would allocate.
     * {@code buf} must stay alive during the call (mind shared arenas closed by another thread).
     *
     * @param fd     a socket
     * @param buf    native, writable memory
     * @param offset where the range starts in {@code buf}
     * @param length the range's size, the most to read
     * @return bytes read (more than 0 unless {@code length} is 0), {@link #EOF} or {@link #WOULD_BLOCK}
     * @throws IoException               on a real failure, e.g. ECONNRESET
     * @throws IndexOutOfBoundsException if the range does not fit in {@code buf}
     * @throws IllegalArgumentException  if {@code buf} is a heap or read-only segment
     */
    public static long read(int fd, MemorySegment buf, long offset, long length) throws IoException {
        if (buf.isReadOnly()) {
            throw new IllegalArgumentException("cannot read into a read-only segment");
        }
        long address = rangeAddress(buf, offset, length);
        long r;
        do {
            r = received(Syscalls.readRaw(fd, address, length), length == 0, "read", fd);
        } while (r == RETRY);
        return r;
    }

    /**
     * Writes {@code length} bytes of {@code buf} from {@code offset}, without SIGPIPE:
     * {@link #write(int, MemorySegment)} for a range, without allocating a slice.
     * {@code buf} must stay alive during the call.
     *
     * @param fd     a socket
     * @param buf    native memory
     * @param offset where the range starts in {@code buf}
     * @param length the range's size, the most to write
     * @return bytes written (possibly fewer than asked), or {@link #WOULD_BLOCK}
     * @throws IoException               on a real failure, e.g. EPIPE or ECONNRESET when the peer is gone
     * @throws IndexOutOfBoundsException if the range does not fit in {@code buf}
     * @throws IllegalArgumentException  if {@code buf} is a heap segment
     */
    public static long write(int fd, MemorySegment buf, long offset, long length) throws IoException {
        long address = rangeAddress(buf, offset, length);
        long r;
        do {
            r = sent(Syscalls.sendtoRaw(fd, address, length, MSG_NOSIGNAL, 0L, 0), "sendto", fd);
        } while (r == RETRY);
        return r;
    }

    /** Internal: the call was interrupted (EINTR) and is to be made again. */
    private static final long RETRY = -3;

    /** The result of a read call: bytes, EOF when nothing came back for a non-empty request, or a failure. */
    private static long received(long n, boolean emptyRequest, String call, int fd) throws IoException {
        if (n > 0) {
            return n;
        }
        if (n == 0) {
            return emptyRequest ? 0 : EOF;
        }
        return failure(-n, call, fd);
    }

    /** The result of a write call: bytes, or a failure. */
    private static long sent(long n, String call, int fd) throws IoException {
        return n >= 0 ? n : failure(-n, call, fd);
    }

    /** A failed data call: WOULD_BLOCK, RETRY on EINTR (only then), or the exception naming call, fd and errno. */
    private static long failure(long errno, String call, int fd) throws IoException {
        if (errno == Errno.EAGAIN) {
            return WOULD_BLOCK;
        }
        if (errno == Errno.EINTR) {
            return RETRY;
        }
        throw new IoException(call, null, fd, (int) errno);
    }

    /** The address of a checked range of native memory (allocates nothing on success). */
    private static long rangeAddress(MemorySegment buf, long offset, long length) {
        Objects.checkFromIndexSize(offset, length, buf.byteSize());
        if (!buf.isNative()) {
            throw new IllegalArgumentException("buffer must be native memory (allocated from an Arena), not a heap segment");
        }
        if (!buf.scope().isAlive()) {
            throw new IllegalStateException("buffer's arena is closed");
        }
        return buf.address() + offset;
    }

    /**
     * Reads into several buffers in one call.
     *
     * @param fd    a socket
     * @param iov   an array of {@code struct iovec} filled with {@link #iovec}
     * @param count how many entries of {@code iov} to use
     * @return bytes read, {@link #EOF} or {@link #WOULD_BLOCK}
     * @throws IoException on a real failure
     */
    public static long readv(int fd, MemorySegment iov, int count) throws IoException {
        long r;
        do {
            r = received(Syscalls.readv(fd, iov, count), count == 0, "readv", fd);
        } while (r == RETRY);
        return r;
    }

    /**
     * Writes several buffers in one call (sendmsg with MSG_NOSIGNAL).
     *
     * @param fd    a socket
     * @param iov   an array of {@code struct iovec} filled with {@link #iovec}
     * @param count how many entries of {@code iov} to use
     * @return bytes written, or {@link #WOULD_BLOCK}
     * @throws IoException on a real failure
     */
    public static long writev(int fd, MemorySegment iov, int count) throws IoException {
        MemorySegment m = Scratch.get().msghdr;
        m.set(ValueLayout.ADDRESS, Msghdr.MSG_IOV_OFFSET, iov);
        m.set(ValueLayout.JAVA_LONG, Msghdr.MSG_IOVLEN_OFFSET, count);
        long r;
        do {
            r = sent(Syscalls.sendmsg(fd, m, MSG_NOSIGNAL), "sendmsg", fd);
        } while (r == RETRY);
        return r;
    }

    /**
     * Returns {@code sizeof(struct iovec)}, to size an iovec array.
     *
     * @return {@code sizeof(struct iovec)}, to size an iovec array
     */
    public static long iovecSize() {
        return Iovec.SIZE;
    }

    /**
     * Points entry {@code index} of an iovec array at {@code buf}.
     *
     * @param iov   the array, at least {@code (index + 1) * iovecSize()} bytes, 8-byte aligned
     * @param index the entry
     * @param buf   native memory the entry describes
     */
    public static void iovec(MemorySegment iov, int index, MemorySegment buf) {
        long base = index * Iovec.SIZE;
        iov.set(ValueLayout.ADDRESS, base + Iovec.IOV_BASE_OFFSET, buf);
        iov.set(ValueLayout.JAVA_LONG, base + Iovec.IOV_LEN_OFFSET, buf.byteSize());
    }

    /**
     * Points entry {@code index} of an iovec array at {@code length} bytes of {@code buf} from
     * {@code offset}, without allocating a slice. {@code buf} must stay alive while the entry is used.
     *
     * @param iov    the array, at least {@code (index + 1) * iovecSize()} bytes, 8-byte aligned
     * @param index  the entry
     * @param buf    native memory
     * @param offset where the range starts in {@code buf}
     * @param length the range's size
     * @throws IndexOutOfBoundsException if the range does not fit in {@code buf}
     * @throws IllegalArgumentException  if {@code buf} is a heap segment
     */
    public static void iovec(MemorySegment iov, int index, MemorySegment buf, long offset, long length) {
        long address = rangeAddress(buf, offset, length);
        long base = index * Iovec.SIZE;
        iov.set(ValueLayout.JAVA_LONG, base + Iovec.IOV_BASE_OFFSET, address);
        iov.set(ValueLayout.JAVA_LONG, base + Iovec.IOV_LEN_OFFSET, length);
    }

    // ---- options ----

    /** Linux's ceiling for TCP_KEEPIDLE and TCP_KEEPINTVL (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL), in seconds. */
    public static final int MAX_KEEPALIVE_SECONDS = 32767;
    /** Linux's ceiling for TCP_KEEPCNT (MAX_TCP_KEEPCNT), in probes. */
    public static final int MAX_KEEPALIVE_PROBES = 127;

    /**
     * Sets TCP_NODELAY (turns Nagle's algorithm off or on).
     *
     * @param fd a TCP socket
     * @param on true to send small writes at once
     * @throws IoException if setsockopt fails
     */
    public static void setNoDelay(int fd, boolean on) throws IoException {
        setInt(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", on ? 1 : 0);
    }

    /**
     * Returns whether TCP_NODELAY is on.
     *
     * @param fd a TCP socket
     * @return true if small writes go out at once
     * @throws IoException if getsockopt fails
     */
    public static boolean noDelay(int fd) throws IoException {
        return getInt(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY") != 0;
    }

    /**
     * Sets the send buffer size (SO_SNDBUF). Linux doubles the value to leave room for its own
     * bookkeeping, caps it at {@code net.core.wmem_max} (before doubling) and enforces a small
     * minimum, so {@link #sendBufferSize(int)} returns the kernel's figure, not {@code bytes}.
     * Setting it turns off the kernel's automatic tuning of this buffer for the socket.
     *
     * <pre>{@code
     * IoSocket.setSendBufferSize(fd, 256 * 1024);
     * int actual = IoSocket.sendBufferSize(fd); // 524288 if wmem_max allows it
     * }</pre>
     *
     * @param fd    a socket
     * @param bytes the size asked for, more than 0
     * @throws IllegalArgumentException if {@code bytes} is 0 or negative
     * @throws IoException              if setsockopt fails
     */
    public static void setSendBufferSize(int fd, int bytes) throws IoException {
        setInt(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", positive(bytes, "send buffer size"));
    }

    /**
     * Returns the send buffer size the kernel uses (SO_SNDBUF): after
     * {@link #setSendBufferSize(int, int)}, twice the value set (within the system's limits).
     *
     * @param fd a socket
     * @return the kernel's send buffer size in bytes
     * @throws IoException if getsockopt fails
     */
    public static int sendBufferSize(int fd) throws IoException {
        return getInt(fd, SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF");
    }

    /**
     * Sets the receive buffer size (SO_RCVBUF). As with {@link #setSendBufferSize(int, int)},
     * Linux doubles the value (capped by {@code net.core.rmem_max} before doubling) and
     * {@link #receiveBufferSize(int)} returns the kernel's figure. For a large TCP window, set it
     * before {@code listen} or {@code connect}: the window scale is agreed in the handshake.
     *
     * @param fd    a socket
     * @param bytes the size asked for, more than 0
     * @throws IllegalArgumentException if {@code bytes} is 0 or negative
     * @throws IoException              if setsockopt fails
     */
    public static void setReceiveBufferSize(int fd, int bytes) throws IoException {
        setInt(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", positive(bytes, "receive buffer size"));
    }

    /**
     * Returns the receive buffer size the kernel uses (SO_RCVBUF): after
     * {@link #setReceiveBufferSize(int, int)}, twice the value set (within the system's limits).
     *
     * @param fd a socket
     * @return the kernel's receive buffer size in bytes
     * @throws IoException if getsockopt fails
     */
    public static int receiveBufferSize(int fd) throws IoException {
        return getInt(fd, SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF");
    }

    /**
     * Turns TCP keep-alive (SO_KEEPALIVE) on or off, keeping the current idle time, interval and
     * probe count (the system's {@code net.ipv4.tcp_keepalive_*} unless set).
     *
     * @param fd a TCP socket
     * @param on true to probe an idle connection
     * @throws IoException if setsockopt fails
     */
    public static void setKeepAlive(int fd, boolean on) throws IoException {
        setInt(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", on ? 1 : 0);
    }

    /**
     * Turns TCP keep-alive on with its timing: after {@code idleSeconds} without traffic the
     * kernel sends a probe every {@code intervalSeconds}; after {@code probes} unanswered probes
     * it drops the connection, and the next read or write fails with ETIMEDOUT.
     *
     * <pre>{@code
     * // A dead peer is noticed after about 60 + 5 * 10 = 110 s of silence.
     * IoSocket.setKeepAlive(fd, 60, 10, 5);
     * }</pre>
     *
     * @param fd              a TCP socket
     * @param idleSeconds     silence before the first probe (TCP_KEEPIDLE), 1 to {@value #MAX_KEEPALIVE_SECONDS}
     * @param intervalSeconds time between probes (TCP_KEEPINTVL), 1 to {@value #MAX_KEEPALIVE_SECONDS}
     * @param probes          unanswered probes before the connection is dropped (TCP_KEEPCNT), 1 to
     *                        {@value #MAX_KEEPALIVE_PROBES}
     * @throws IllegalArgumentException if a value is out of its range (nothing is set then)
     * @throws IoException              if setsockopt fails; the message names the option
     */
    public static void setKeepAlive(int fd, int idleSeconds, int intervalSeconds, int probes) throws IoException {
        inRange(idleSeconds, 1, MAX_KEEPALIVE_SECONDS, "keep-alive idle seconds");
        inRange(intervalSeconds, 1, MAX_KEEPALIVE_SECONDS, "keep-alive interval seconds");
        inRange(probes, 1, MAX_KEEPALIVE_PROBES, "keep-alive probes");
        // Timing first: keep-alive goes on with the values asked for, never with the old ones.
        setInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", idleSeconds);
        setInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", intervalSeconds);
        setInt(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", probes);
        setInt(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 1);
    }

    /**
     * Returns whether keep-alive (SO_KEEPALIVE) is on.
     *
     * @param fd a socket
     * @return true if the kernel probes idle connections
     * @throws IoException if getsockopt fails
     */
    public static boolean keepAlive(int fd) throws IoException {
        return getInt(fd, SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE") != 0;
    }

    /**
     * Returns the keep-alive idle time (TCP_KEEPIDLE).
     *
     * @param fd a TCP socket
     * @return seconds of silence before the first probe
     * @throws IoException if getsockopt fails
     */
    public static int keepAliveIdle(int fd) throws IoException {
        return getInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE");
    }

    /**
     * Returns the keep-alive probe interval (TCP_KEEPINTVL).
     *
     * @param fd a TCP socket
     * @return seconds between probes
     * @throws IoException if getsockopt fails
     */
    public static int keepAliveInterval(int fd) throws IoException {
        return getInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL");
    }

    /**
     * Returns the keep-alive probe count (TCP_KEEPCNT).
     *
     * @param fd a TCP socket
     * @return unanswered probes before the connection is dropped
     * @throws IoException if getsockopt fails
     */
    public static int keepAliveProbes(int fd) throws IoException {
        return getInt(fd, IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT");
    }

    /**
     * Sets SO_LINGER, what {@link #close(int)} does with data not yet sent.
     * <ul>
     *   <li>off (the default): close returns at once; the kernel goes on sending in the
     *       background and ends the connection with FIN.</li>
     *   <li>on, {@code seconds == 0}: close discards unsent data and resets the connection: the
     *       peer gets an RST (its next read or write fails with ECONNRESET) and this side skips
     *       TIME_WAIT. Use it to drop abusive or broken clients, not for ordinary closes.</li>
     *   <li>on, {@code seconds > 0}: close waits up to that long for unsent data to be sent and
     *       acknowledged. Linux waits even on a non-blocking socket, so on an event loop this
     *       stalls the loop: prefer {@link #shutdownOutput(int)} and reading to EOF.</li>
     * </ul>
     *
     * <pre>{@code
     * IoSocket.setLinger(fd, true, 0); // abortive close
     * IoSocket.close(fd);              // the peer sees ECONNRESET
     * }</pre>
     *
     * @param fd      a socket
     * @param on      whether to linger
     * @param seconds how long to linger, 0 or more (ignored by the kernel when {@code on} is false)
     * @throws IllegalArgumentException if {@code seconds} is negative
     * @throws IoException              if setsockopt fails
     */
    public static void setLinger(int fd, boolean on, int seconds) throws IoException {
        if (seconds < 0) {
            throw new IllegalArgumentException("linger seconds must be 0 or more: " + seconds);
        }
        MemorySegment l = Scratch.get().linger;
        l.set(ValueLayout.JAVA_INT, Linger.L_ONOFF_OFFSET, on ? 1 : 0);
        l.set(ValueLayout.JAVA_INT, Linger.L_LINGER_OFFSET, seconds);
        check(Syscalls.setsockopt(fd, SOL_SOCKET, SO_LINGER, l, (int) Linger.SIZE), "setsockopt", "SO_LINGER", fd);
    }

    /**
     * Returns the SO_LINGER setting.
     *
     * @param fd a socket
     * @return the linger time in seconds when lingering is on (0: close resets), or -1 when off
     * @throws IoException if getsockopt fails
     */
    public static int linger(int fd) throws IoException {
        Scratch s = Scratch.get();
        s.len.set(ValueLayout.JAVA_INT, 0, (int) Linger.SIZE);
        check(Syscalls.getsockopt(fd, SOL_SOCKET, SO_LINGER, s.linger, s.len), "getsockopt", "SO_LINGER", fd);
        return s.linger.get(ValueLayout.JAVA_INT, Linger.L_ONOFF_OFFSET) != 0
                ? s.linger.get(ValueLayout.JAVA_INT, Linger.L_LINGER_OFFSET) : -1;
    }

    /**
     * Sets SO_REUSEPORT on a socket the app created, before it binds: sockets of the same user
     * that all set it may bind the same address and port, and the kernel spreads incoming
     * connections among the listeners (one per loop). {@link #listen(String, int, boolean)} sets
     * it itself when asked.
     *
     * @param fd a socket, not yet bound
     * @param on whether to share the port
     * @throws IoException if setsockopt fails
     */
    public static void setReusePort(int fd, boolean on) throws IoException {
        setInt(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", on ? 1 : 0);
    }

    /**
     * Returns whether SO_REUSEPORT is on.
     *
     * @param fd a socket
     * @return true if the socket may share its port
     * @throws IoException if getsockopt fails
     */
    public static boolean reusePort(int fd) throws IoException {
        return getInt(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT") != 0;
    }

    /**
     * Makes any descriptor non-blocking (O_NONBLOCK through fcntl), keeping its other status
     * flags: a pipe, stdin, an eventfd or socket the app created. An edge-triggered poller needs
     * it: a handler reads until {@link #WOULD_BLOCK}, and a blocking descriptor would stop the loop
     * there instead. The flag belongs to the open file description, so every descriptor sharing
     * it (after {@code dup} or {@code fork}, e.g. a terminal's stdin shared with the shell) turns
     * non-blocking too.
     *
     * <pre>{@code
     * IoSocket.setNonBlocking(pipeReadFd);
     * long n = IoSocket.read(pipeReadFd, buf); // WOULD_BLOCK instead of waiting when empty
     * }</pre>
     *
     * @param fd an open descriptor
     * @throws IoException if fcntl fails, e.g. {@code fcntl(F_GETFL, fd=7): EBADF (Bad file descriptor)}
     */
    public static void setNonBlocking(int fd) throws IoException {
        int flags = fileStatusFlags(fd);
        if ((flags & O_NONBLOCK) == 0) {
            check(Syscalls.fcntl(fd, F_SETFL, flags | O_NONBLOCK), "fcntl", "F_SETFL", fd);
        }
    }

    /**
     * Returns whether a descriptor is non-blocking (O_NONBLOCK).
     *
     * @param fd an open descriptor
     * @return true if its calls return EAGAIN instead of waiting
     * @throws IoException if fcntl fails
     */
    public static boolean isNonBlocking(int fd) throws IoException {
        return (fileStatusFlags(fd) & O_NONBLOCK) != 0;
    }

    private static int fileStatusFlags(int fd) throws IoException {
        int flags = Syscalls.fcntl(fd, F_GETFL, 0);
        check(flags, "fcntl", "F_GETFL", fd);
        return flags;
    }

    private static void setInt(int fd, int level, int name, String option, int value) throws IoException {
        check(setIntOption(Scratch.get(), fd, level, name, value), "setsockopt", option, fd);
    }

    private static int getInt(int fd, int level, int name, String option) throws IoException {
        Scratch s = Scratch.get();
        s.len.set(ValueLayout.JAVA_INT, 0, 4);
        check(Syscalls.getsockopt(fd, level, name, s.intValue, s.len), "getsockopt", option, fd);
        return s.intValue.get(ValueLayout.JAVA_INT, 0);
    }

    private static int positive(int value, String what) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be more than 0: " + value);
        }
        return value;
    }

    private static void inRange(int value, int min, int max, String what) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be " + min + " to " + max + ": " + value);
        }
    }

    /**
     * Shuts down the sending side (the peer reads end of stream once the data sent so far arrives).
     *
     * @param fd a connected socket
     * @throws IoException if shutdown fails
     */
    public static void shutdownOutput(int fd) throws IoException {
        check(Syscalls.shutdown(fd, SHUT_WR), "shutdown", "SHUT_WR", fd);
    }

    /**
     * Closes a descriptor. Remove its atom from the poller first.
     *
     * @param fd the descriptor
     * @throws IoException if close fails (the descriptor is released all the same, except on EBADF)
     */
    public static void close(int fd) throws IoException {
        // Linux releases the fd even when close reports EINTR: never retry.
        check(Syscalls.close(fd), "close", null, fd);
    }

    /**
     * Returns the local port of a bound socket.
     *
     * @param fd a bound socket
     * @return the local port
     * @throws IoException if getsockname fails
     */
    public static int localPort(int fd) throws IoException {
        return address(fd, false).getPort();
    }

    /**
     * Returns the local address of a bound socket.
     *
     * @param fd a bound socket
     * @return its local address (allocates: for logs and setup)
     * @throws IoException if getsockname fails
     */
    public static InetSocketAddress localAddress(int fd) throws IoException {
        return address(fd, false);
    }

    /**
     * Returns the peer address of a connected socket.
     *
     * @param fd a connected socket
     * @return the peer's address (allocates: for logs and setup)
     * @throws IoException if getpeername fails
     */
    public static InetSocketAddress peerAddress(int fd) throws IoException {
        return address(fd, true);
    }

    private static InetSocketAddress address(int fd, boolean peer) throws IoException {
        Scratch s = Scratch.get();
        MemorySegment a = s.addr;
        s.len.set(ValueLayout.JAVA_INT, 0, (int) SockaddrStorage.SIZE);
        check(peer ? Syscalls.getpeername(fd, a, s.len) : Syscalls.getsockname(fd, a, s.len),
                peer ? "getpeername" : "getsockname", null, fd);
        int family = Short.toUnsignedInt(a.get(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_FAMILY_OFFSET));
        try {
            if (family == AF_INET) {
                byte[] ip = a.asSlice(SockaddrIn.SIN_ADDR_OFFSET, 4).toArray(ValueLayout.JAVA_BYTE);
                return new InetSocketAddress(InetAddress.getByAddress(ip), port(a, SockaddrIn.SIN_PORT_OFFSET));
            }
            byte[] ip = a.asSlice(SockaddrIn6.SIN6_ADDR_OFFSET, 16).toArray(ValueLayout.JAVA_BYTE);
            int scope = a.get(ValueLayout.JAVA_INT, SockaddrIn6.SIN6_SCOPE_ID_OFFSET);
            return new InetSocketAddress(Inet6Address.getByAddress(null, ip, scope),
                    port(a, SockaddrIn6.SIN6_PORT_OFFSET));
        } catch (UnknownHostException e) {
            throw new IllegalStateException("kernel returned a malformed address", e);
        }
    }

    private static int port(MemorySegment a, long offset) {
        return Short.toUnsignedInt(Short.reverseBytes(a.get(ValueLayout.JAVA_SHORT, offset)));
    }

    // ---- addresses ----

    /**
     * Parses {@code host:port}, {@code [v6]:port} or {@code port}.
     *
     * @param address   the text
     * @param forListen whether a bare port (meaning all IPv4 interfaces) is allowed
     */
    static InetSocketAddress parse(String address, boolean forListen) throws UnknownHostException {
        String a = address.trim();
        String host;
        String port;
        if (a.startsWith("[")) {
            int end = a.indexOf("]:");
            if (end < 0) {
                throw new IllegalArgumentException("bad address '" + address + "': expected [ipv6]:port");
            }
            host = a.substring(1, end);
            port = a.substring(end + 2);
        } else if (a.indexOf(':') >= 0) {
            int colon = a.lastIndexOf(':');
            if (a.indexOf(':') != colon) {
                throw new IllegalArgumentException("bad address '" + address + "': write IPv6 addresses as [addr]:port");
            }
            host = a.substring(0, colon);
            port = a.substring(colon + 1);
        } else if (forListen) {
            host = "0.0.0.0";
            port = a;
        } else {
            throw new IllegalArgumentException("bad address '" + address + "': expected host:port");
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + address + "'");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("port out of range in '" + address + "'");
        }
        return new InetSocketAddress(InetAddress.getByName(host), p);
    }

    private static int open(InetSocketAddress sa) throws IoException {
        int family = sa.getAddress() instanceof Inet4Address ? AF_INET : AF_INET6;
        int fd = Syscalls.socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IoException("socket", family == AF_INET ? "AF_INET" : "AF_INET6", -1, -fd);
        }
        return fd;
    }

    /** Writes {@code sa} into the scratch sockaddr; returns its length. */
    private static int encode(Scratch s, InetSocketAddress sa) {
        MemorySegment a = s.addr;
        a.fill((byte) 0);
        short port = Short.reverseBytes((short) sa.getPort());
        if (sa.getAddress() instanceof Inet4Address v4) {
            a.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_FAMILY_OFFSET, (short) AF_INET);
            a.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_PORT_OFFSET, port);
            MemorySegment.copy(v4.getAddress(), 0, a, ValueLayout.JAVA_BYTE, SockaddrIn.SIN_ADDR_OFFSET, 4);
            return (int) SockaddrIn.SIZE;
        }
        Inet6Address v6 = (Inet6Address) sa.getAddress();
        a.set(ValueLayout.JAVA_SHORT, SockaddrIn6.SIN6_FAMILY_OFFSET, (short) AF_INET6);
        a.set(ValueLayout.JAVA_SHORT, SockaddrIn6.SIN6_PORT_OFFSET, port);
        MemorySegment.copy(v6.getAddress(), 0, a, ValueLayout.JAVA_BYTE, SockaddrIn6.SIN6_ADDR_OFFSET, 16);
        a.set(ValueLayout.JAVA_INT, SockaddrIn6.SIN6_SCOPE_ID_OFFSET, v6.getScopeId());
        return (int) SockaddrIn6.SIZE;
    }

    private static int setIntOption(Scratch s, int fd, int level, int name, int value) {
        s.intValue.set(ValueLayout.JAVA_INT, 0, value);
        return Syscalls.setsockopt(fd, level, name, s.intValue, 4);
    }

    private static void check(int rc, String call, String detail, int fd) throws IoException {
        if (rc < 0) {
            throw new IoException(call, detail, fd, -rc);
        }
    }

    /** Native memory for the calls that take pointers to small values; one per thread, made on first use. */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(() -> new Scratch(Arena.ofAuto()));

        /** A sockaddr_storage. */
        final MemorySegment addr;
        /** A socklen_t. */
        final MemorySegment len;
        /** An int option value. */
        final MemorySegment intValue;
        /** A msghdr for sendmsg; only its iov fields are ever set, the rest stays zero. */
        final MemorySegment msghdr;
        /** A struct linger. */
        final MemorySegment linger;

        private Scratch(Arena arena) {
            addr = arena.allocate(SockaddrStorage.LAYOUT);
            len = arena.allocate(ValueLayout.JAVA_INT);
            intValue = arena.allocate(ValueLayout.JAVA_INT);
            msghdr = arena.allocate(Msghdr.LAYOUT);
            linger = arena.allocate(Linger.LAYOUT);
        }

        static Scratch get() {
            return PER_THREAD.get();
        }
    }
}
