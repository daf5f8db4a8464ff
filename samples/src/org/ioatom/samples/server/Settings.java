package org.ioatom.samples.server;

import java.util.concurrent.TimeUnit;
import org.ioatom.Poller;
import org.ioatom.PollerKind;

/**
 * Host, port, poller kind, connection limit and idle timeout of a server.
 *
 * @param idleTimeoutNanos how long a connection may send nothing before it is closed; 0 = never
 */
public record Settings(String host, int port, PollerKind kind, int maxConnections, long idleTimeoutNanos) {
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    public Settings {
        if (idleTimeoutNanos < 0) {
            throw new IllegalArgumentException("idle timeout must be 0 (off) or more, got " + idleTimeoutNanos + " ns");
        }
    }

    /** No idle timeout. */
    public Settings(String host, int port, PollerKind kind, int maxConnections) {
        this(host, port, kind, maxConnections, 0);
    }

    /** Reads {@code --host}, {@code --port}, {@code --max-connections}, {@code --idle-timeout} (default off). */
    public static Settings from(Args args, int defaultPort) {
        return from(args, defaultPort, 0);
    }

    /** As {@link #from(Args, int)} with another default idle timeout; the kind comes from -Dioatom.poller. */
    public static Settings from(Args args, int defaultPort, long defaultIdleTimeoutNanos) {
        return new Settings(args.string("host", "127.0.0.1"),
                args.integer("port", defaultPort, 0, 65535),
                PollerKind.fromProperty(),
                args.integer("max-connections", DEFAULT_MAX_CONNECTIONS, 1, Poller.MAX_CAPACITY - 1),
                args.seconds("idle-timeout", defaultIdleTimeoutNanos));
    }

    /** 127.0.0.1, the given kind and port, the default connection limit, no idle timeout. */
    public static Settings loopback(PollerKind kind, int port) {
        return new Settings("127.0.0.1", port, kind, DEFAULT_MAX_CONNECTIONS);
    }

    /** This, with another idle timeout. */
    public Settings withIdleTimeout(long nanos) {
        return new Settings(host, port, kind, maxConnections, nanos);
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
