package org.ioatom.samples;

import java.lang.foreign.MemorySegment;

/**
 * Echoes every byte back. Each connection is a native struct with a 16 KiB input and a
 * 16 KiB output buffer; a peer that sends without reading is stopped (no more reads from it)
 * once both are full, and resumed as its echoes drain.
 *
 * <pre>samples/run [-Dioatom.poller=KIND] echo-server [--port 7007] [--host 127.0.0.1] [--max-connections 1024]</pre>
 */
class EchoServer extends SampleServer {
    static final int DEFAULT_PORT = 7007;
    static final int BUFFER = 16 * 1024;

    EchoServer(String name, Settings settings) {
        super(name, settings, BUFFER, BUFFER);
    }

    EchoServer(Settings settings) {
        this("echo-server", settings);
    }

    @Override
    void process(MemorySegment c) {
        int start = inStart(c);
        int available = inEnd(c) - start;
        int room = outCapacity - outEnd(c);
        if (room < available && reserve(c, available)) {
            room = available;
        }
        int n = Math.min(available, room);
        if (n > 0) {
            append(c, c, IN + start, n);
            consume(c, start + n);
        }
    }

    public static void main(String[] args) {
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] echo-server"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default 1024)]",
                a -> new EchoServer(Settings.from(a, DEFAULT_PORT)));
    }
}
