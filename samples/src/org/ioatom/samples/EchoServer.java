package org.ioatom.samples;

import java.lang.foreign.MemorySegment;
import org.ioatom.IoException;
import org.ioatom.samples.server.Args;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Server;
import org.ioatom.samples.server.Settings;

/**
 * Echoes every byte back. Up to 64 KiB are read at a time into the loop's shared read buffer
 * and written back from there, without a copy; only what the socket does not take is copied
 * into a chunk of the connection's own, and the connection is not read from until that is sent.
 *
 * <pre>samples/run [-Dioatom.poller=KIND] echo-server [--port 7007] [--host 127.0.0.1] [--max-connections N] [--loops N]
 * samples/run echo-server --unix /tmp/echo.sock     # only on that Unix socket (or --unix @name: abstract)
 * samples/run echo-server --udp [--port 7007]       # datagrams, each echoed to its sender ({@link UdpEchoServer})</pre>
 */
public final class EchoServer extends SampleServer {
    static final int DEFAULT_PORT = 7007;

    EchoServer(Settings settings) {
        this(settings, null);
    }

    /** @param unixPath listen only on this Unix socket ({@code @name}: abstract); null for TCP */
    EchoServer(Settings settings, String unixPath) {
        super("echo-server", settings, CHUNK / 2, unixPath); // every byte is consumed at once: no request limit applies
    }

    @Override
    protected int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        return emit(c, in, start, end - start) ? end : start;
    }

    static final String USAGE = "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] echo-server"
            + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
            + " [--max-connections N (default: the fd limit minus 64)] [--idle-timeout SECONDS (default 0 = off)]"
            + " [--unix PATH (listen only on this Unix socket; @NAME: abstract) | --udp (echo datagrams on --port)]";

    public static void main(String[] args) {
        Launcher.serve(args, USAGE, EchoServer::create);
    }

    /** The server the options ask for: TCP, a Unix socket ({@code --unix PATH}) or UDP ({@code --udp}). */
    static Server create(Args a) {
        String unixPath = a.string("unix", null);
        boolean udp = a.flag("udp");
        if (unixPath != null && udp) {
            throw new IllegalArgumentException("--unix and --udp exclude each other (the Unix socket is a stream socket)");
        }
        if (unixPath != null) {
            refuse(a, "host", "--unix: it listens only on the Unix socket");
            refuse(a, "port", "--unix: it listens only on the Unix socket");
            refuse(a, "loops", "--unix: one loop accepts on the Unix socket");
            return new EchoServer(Settings.from(a, DEFAULT_PORT), unixPath);
        }
        if (udp) {
            refuse(a, "max-connections", "--udp: UDP has no connections");
            refuse(a, "idle-timeout", "--udp: UDP has no connections");
            refuse(a, "loops", "--udp: one loop serves the datagrams");
            return new UdpEchoServer(Settings.from(a, DEFAULT_PORT));
        }
        return new EchoServer(Settings.from(a, DEFAULT_PORT));
    }

    private static void refuse(Args a, String option, String why) {
        if (a.string(option, null) != null) {
            throw new IllegalArgumentException("--" + option + " has no meaning with " + why);
        }
    }
}
