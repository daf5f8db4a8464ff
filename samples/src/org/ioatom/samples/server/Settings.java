package org.ioatom.samples.server;

import java.util.concurrent.TimeUnit;
import org.ioatom.Poller;
import org.ioatom.PollerKind;

/**
 * Host, port, poller kind, connection limit and idle timeout of a server.
 *
 * @param idleTimeoutNanos how long a connection may send nothing before it is closed; 0 = never
 */
public record Settings(String host, int port, PollerKind kind, int maxConnections, long idleTimeoutNanos,
                       boolean maxConnectionsGiven) {
    /** The limit of {@link #loopback} settings (tests). */
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;
    /** Descriptors kept for the JVM, the listener and the poller when the limit comes from the fd limit. */
    public static final int FD_RESERVE = 64;
    /** select watches only fds below this. */
    public static final int FD_SETSIZE = 1024;

    public Settings {
        if (idleTimeoutNanos < 0) {
            throw new IllegalArgumentException("idle timeout must be 0 (off) or more, got " + idleTimeoutNanos + " ns");
        }
    }

    /** No idle timeout. */
    public Settings(String host, int port, PollerKind kind, int maxConnections) {
        this(host, port, kind, maxConnections, 0);
    }

    /** A limit given explicitly. */
    public Settings(String host, int port, PollerKind kind, int maxConnections, long idleTimeoutNanos) {
        this(host, port, kind, maxConnections, idleTimeoutNanos, true);
    }

    /**
     * The default connection limit: what the OS lets this process open, the soft RLIMIT_NOFILE
     * (the JVM raised it to the hard limit at start), minus {@link #FD_RESERVE}; for select,
     * {@link #FD_SETSIZE} (it cannot watch higher fds). At most {@code Poller.MAX_CAPACITY - 1}.
     */
    public static int defaultMaxConnections(PollerKind kind) {
        if (kind == PollerKind.SELECT) {
            return FD_SETSIZE;
        }
        long limit = FdLimit.soft();
        return (int) Math.max(1, Math.min(limit - FD_RESERVE, Poller.MAX_CAPACITY - 1));
    }

    /** The line servers print after their banner: the connection limit and where it comes from. */
    public static String maxConnectionsLine(Settings s) {
        String why;
        if (s.maxConnectionsGiven()) {
            why = "--max-connections";
        } else if (s.kind() == PollerKind.SELECT) {
            why = "select watches fds below FD_SETSIZE " + FD_SETSIZE;
        } else {
            long limit = FdLimit.soft();
            why = limit - FD_RESERVE > Poller.MAX_CAPACITY - 1
                    ? "fd limit " + limit + ", capped at the poller's " + (Poller.MAX_CAPACITY - 1)
                    : "fd limit " + limit + " minus " + FD_RESERVE + " reserved";
        }
        return "Max connections: " + s.maxConnections() + " (" + why + ")";
    }

    /** Reads {@code --host}, {@code --port}, {@code --max-connections}, {@code --idle-timeout} (default off). */
    public static Settings from(Args args, int defaultPort) {
        return from(args, defaultPort, 0);
    }

    /** As {@link #from(Args, int)} with another default idle timeout; the kind comes from -Dioatom.poller. */
    public static Settings from(Args args, int defaultPort, long defaultIdleTimeoutNanos) {
        PollerKind kind = PollerKind.fromProperty();
        String host = args.string("host", "127.0.0.1");
        int port = args.integer("port", defaultPort, 0, 65535);
        int given = args.integer("max-connections", -1, 1, Poller.MAX_CAPACITY - 1);
        long idle = args.seconds("idle-timeout", defaultIdleTimeoutNanos);
        return new Settings(host, port, kind, given > 0 ? given : defaultMaxConnections(kind), idle, given > 0);
    }

    /** 127.0.0.1, the given kind and port, the default connection limit, no idle timeout. */
    public static Settings loopback(PollerKind kind, int port) {
        return new Settings("127.0.0.1", port, kind, DEFAULT_MAX_CONNECTIONS);
    }

    /** This, with another idle timeout. */
    public Settings withIdleTimeout(long nanos) {
        return new Settings(host, port, kind, maxConnections, nanos, maxConnectionsGiven);
    }

    /** 127.0.0.1, the given kind and port, the default connection limit and an idle timeout in milliseconds. */
    public static Settings loopback(PollerKind kind, int port, long idleTimeoutMillis) {
        return loopback(kind, port).withIdleTimeout(TimeUnit.MILLISECONDS.toNanos(idleTimeoutMillis));
    }

    /** @return {@code host:port}, with brackets around an IPv6 host */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** Seconds for humans: {@code 75}, {@code 0.5}. */
    public static String seconds(long nanos) {
        return java.math.BigDecimal.valueOf(nanos, 9).stripTrailingZeros().toPlainString();
    }
}
