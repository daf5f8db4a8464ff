package org.ioatom.samples;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import org.ioatom.IoException;
import org.ioatom.IoSocket;

/**
 * IO Atom's socktest in Java: an echo server that reports what happens to its connections.
 *
 * <pre>
 * $ samples/run socktest
 * Using epoll to poll.
 * Listening on port 21314, fd 5.
 * connection opened from 127.0.0.1 port 51234 given fd 7
 * connection closed by remote on fd 7
 * </pre>
 */
final class SockTest extends EchoServer {
    static final int DEFAULT_PORT = 21314;

    private final PrintStream log;
    private int listenFd;

    SockTest(Settings settings, PrintStream log) {
        super("socktest", settings);
        this.log = log;
    }

    @Override
    void announce(PrintStream out) {
        out.println("Using " + pollerName() + " to poll.");
        out.println("Listening on port " + port() + ", fd " + listenFd + ".");
    }

    @Override
    void listening(int fd) {
        listenFd = fd;
    }

    @Override
    void connectionOpened(MemorySegment c, int fd) throws IoException {
        InetSocketAddress peer = IoSocket.peerAddress(fd);
        log.println("connection opened from " + peer.getAddress().getHostAddress() + " port " + peer.getPort()
                + " given fd " + fd);
    }

    @Override
    void peerClosed(MemorySegment c, int fd) {
        log.println("connection closed by remote on fd " + fd);
    }

    @Override
    void connectionFailed(MemorySegment c, int fd, IoException e) {
        log.println("connection error on fd " + fd + ": " + e.getMessage());
    }

    public static void main(String[] args) {
        Launcher.serve(args, "usage: samples/run [-Dioatom.poller=any|epoll|poll|select] socktest"
                        + " [--port N (default " + DEFAULT_PORT + ", 0 = any free)] [--host ADDR (default 127.0.0.1)]"
                        + " [--max-connections N (default 1024)]",
                a -> new SockTest(Settings.from(a, DEFAULT_PORT), System.out));
    }
}
