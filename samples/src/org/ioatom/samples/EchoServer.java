package org.ioatom.samples;

import java.lang.foreign.MemorySegment;
import org.ioatom.IoException;
import org.ioatom.samples.server.Launcher;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;

/**
 * Echoes every byte back. Up to 64 KiB are read at a time into the loop's shared read buffer
 * and written back from there, without a copy; only what the socket does not take is copied
 * into a chunk of the connection's own, and the connection is not read from until that is sent.
 *
 * <pre>samples/run [-Dioatom.poller=KIND] echo-server [--port 7007] [--host 127.0.0.1] [--max-connections N] [--loops N]</pre>
 */
public final class EchoServer extends SampleServer {
    static final int DEFAULT_PORT = 7007;

    EchoServer(Settings settings) {
        super("echo-server", settings, CHUNK / 2); // every byte is consumed at once: no request limit applies
    }

    @Override
    protected int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
        return emit(c, in, start, end - start) ? end : start;
    }

    public static void main(String[] args) {
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] echo-server"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default: the fd limit minus 64)] [--idle-timeout SECONDS (default 0 = off)]",
                a -> new EchoServer(Settings.from(a, DEFAULT_PORT)));
    }
}
