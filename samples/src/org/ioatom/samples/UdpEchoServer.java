package org.ioatom.samples;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.ioatom.IoAddress;
import org.ioatom.IoAtom;
import org.ioatom.IoDatagram;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.samples.server.Server;
import org.ioatom.samples.server.Settings;

/**
 * echo-server {@code --udp}: sends every datagram back to its sender, from one UDP socket on
 * one loop thread. The payload and the sender's address are received into native memory the
 * loop allocated once ({@link IoAddress}), and sent back from there: nothing is allocated per
 * datagram.
 *
 * <p>UDP keeps no connection, so there is no connection limit and no idle timeout. A reply the
 * socket's send buffer has no room for is dropped (counted), as a router would drop it: UDP
 * promises no delivery, and waiting would stall every other sender. A datagram longer than the
 * 64 KiB buffer cannot arrive over IPv4 (65 507 bytes at most); one that still did would be
 * reported truncated by {@link IoDatagram#receive} and is counted and not echoed.
 */
final class UdpEchoServer implements Server {
    /** Room for any UDP payload over IPv4 or IPv6 without jumbograms. */
    private static final int BUFFER = 65_536;

    private final Settings settings;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);
    private Thread thread;
    private volatile Poller poller;
    private volatile boolean stopping;
    private volatile int port = -1;
    private volatile Throwable failure;
    private volatile long echoed;
    private volatile long dropped;
    private volatile long truncated;

    UdpEchoServer(Settings settings) {
        this.settings = settings;
    }

    @Override
    public UdpEchoServer start() throws IOException {
        if (thread != null) {
            throw new IllegalStateException("echo-server already started");
        }
        thread = new Thread(this::run, "echo-server-udp-loop");
        thread.start();
        try {
            ready.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting echo-server", e);
        }
        Throwable f = failure;
        if (f != null) {
            join(30);
            if (f instanceof IOException io) {
                throw io;
            }
            throw new IllegalStateException("echo-server failed to start: " + f, f);
        }
        return this;
    }

    private void run() {
        int fd = -1;
        try (Arena arena = Arena.ofConfined(); Poller p = Poller.open(settings.kind(), 4)) {
            MemorySegment buf = arena.allocate(BUFFER, 64);
            MemorySegment peer = IoAddress.allocate(arena);
            MemorySegment atom = arena.allocate(IoAtom.LAYOUT);
            try {
                fd = IoDatagram.bind(settings.address());
                port = IoSocket.localPort(fd);
                IoAtom.init(atom, fd);
                IoHandler echo = (a, events) -> echoAll(IoAtom.fd(a), buf, peer);
                p.add(atom, IoAtom.READ, echo);
                poller = p;
            } catch (Throwable t) {
                failure = t;
                return;
            } finally {
                ready.countDown();
            }
            while (!stopping) {
                p.await(-1); // wakeup() ends it on stop
                p.dispatch();
            }
            p.remove(atom);
        } catch (Throwable t) {
            if (failure == null) {
                failure = t;
                System.err.println("echo-server: event loop failed: " + t);
            }
        } finally {
            if (fd >= 0) {
                try {
                    IoSocket.close(fd);
                } catch (IoException e) {
                    // nothing left to do about it
                }
            }
            ready.countDown(); // also when opening the poller failed
            done.countDown();
        }
    }

    /** Echoes every waiting datagram to its sender (edge-triggered: until the socket is empty). */
    private void echoAll(int fd, MemorySegment buf, MemorySegment peer) throws IoException {
        long n;
        while ((n = IoDatagram.receive(fd, buf, peer)) != IoDatagram.WOULD_BLOCK) {
            if (n > BUFFER) {
                truncated++;
            } else if (IoDatagram.send(fd, buf, 0, n, peer) == IoDatagram.WOULD_BLOCK) {
                dropped++;
            } else {
                echoed++;
            }
        }
    }

    @Override
    public void stop() {
        stopping = true;
        Poller p = poller;
        if (p != null) {
            p.wakeup();
        }
        join(30);
    }

    @Override
    public void join(long seconds) {
        try {
            if (!done.await(seconds, TimeUnit.SECONDS)) {
                throw new IllegalStateException("echo-server did not stop within " + seconds + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Prints exactly "Listening on port N (udp)". */
    @Override
    public void announce(PrintStream out) {
        out.println("Listening on port " + port + " (udp)");
    }

    @Override
    public String name() {
        return "echo-server";
    }

    @Override
    public boolean hasEnded() {
        return done.getCount() == 0;
    }

    @Override
    public Throwable failure() {
        return failure;
    }

    /** @return the UDP port (the real one when 0 was asked for) */
    int port() {
        return port;
    }

    /** @return datagrams sent back so far */
    long echoed() {
        return echoed;
    }

    /** @return replies dropped because the send buffer was full */
    long dropped() {
        return dropped;
    }

    /** @return datagrams larger than the buffer (not echoed) */
    long truncated() {
        return truncated;
    }
}
