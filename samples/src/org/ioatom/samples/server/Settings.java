package org.ioatom.samples.server;

import org.ioatom.Poller;
import org.ioatom.PollerKind;

/** Host, port, poller kind and connection limit of a server. */
public record Settings(String host, int port, PollerKind kind, int maxConnections) {
    public static final int DEFAULT_MAX_CONNECTIONS = 1024;

    /** Reads {@code --host}, {@code --port}, {@code --max-connections}; the kind comes from -Dioatom.poller. */
    public static Settings from(Args args, int defaultPort) {
        return new Settings(args.string("host", "127.0.0.1"),
                args.integer("port", defaultPort, 0, 65535),
                PollerKind.fromProperty(),
                args.integer("max-connections", DEFAULT_MAX_CONNECTIONS, 1, Poller.MAX_CAPACITY - 1));
    }

    /** 127.0.0.1, the given kind and port, the default connection limit. */
    public static Settings loopback(PollerKind kind, int port) {
        return new Settings("127.0.0.1", port, kind, DEFAULT_MAX_CONNECTIONS);
    }

    /** @return {@code host:port}, with brackets around an IPv6 host */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
}
