package org.ioatom.testing;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.PollerKind;

/**
 * What the socket tests do around the call they test: descriptors closed after the test (through
 * its {@link TestResources}), ASCII text in and out of native memory, and waits on a poller that
 * give up after {@link #WAIT_MS} with an assertion error instead of hanging.
 */
public final class Sockets {
    /** The longest any one wait lasts. */
    public static final long WAIT_MS = 5000;

    /** One try of a non-blocking call; its result, or the call's would-block value. */
    @FunctionalInterface
    public interface Attempt {
        long call() throws IOException;
    }

    private final TestResources resources;

    /** @param resources the test's resources: descriptors and memory belong to them */
    public Sockets(TestResources resources) {
        this.resources = resources;
    }

    /** Closes socket {@code fd} after the test; returns it. */
    public int track(int fd) {
        return resources.socket(fd);
    }

    /** {@code text} in ASCII, in native memory of the test's arena. */
    public MemorySegment bytes(String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        MemorySegment m = resources.arena.allocate(b.length);
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m;
    }

    /** The first {@code length} bytes of {@code buf} as ASCII text. */
    public static String text(MemorySegment buf, long length) {
        return new String(buf.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    /**
     * Waits (at most WAIT_MS) on a poller of {@code kind} until {@code fd} reports one of
     * {@code events}; returns what it reported.
     */
    public int waitFor(PollerKind kind, int fd, int events) throws IOException {
        try (Poller poller = Poller.open(kind, 4)) {
            MemorySegment s = AppStruct.allocate(resources.arena, 0, fd);
            poller.add(s, AppStruct.IO, events, AppStruct::record);
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
            while (AppStruct.calls(s) == 0 && System.nanoTime() < deadline) {
                poller.await(100);
                poller.dispatch();
            }
            poller.remove(s, AppStruct.IO);
            assertTrue(AppStruct.calls(s) > 0, "fd " + fd + " reported nothing in " + WAIT_MS + " ms");
            return AppStruct.lastEvents(s);
        }
    }

    /** Accepts one connection on {@code listenFd} (tracked), waiting for it on a poller of {@code kind}. */
    public int acceptOne(PollerKind kind, int listenFd) throws IOException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
        while (System.nanoTime() < deadline) {
            int fd = IoSocket.accept(listenFd);
            if (fd != IoSocket.NO_MORE) {
                return track(fd);
            }
            waitFor(kind, listenFd, READ);
        }
        return fail("no connection arrived");
    }

    /**
     * Completes the connection {@code client} started to {@code listenFd}: accepts its server
     * side, waits until the client is writable and finishes the connect. Returns [client, server].
     */
    public int[] connected(PollerKind kind, int listenFd, int client) throws IOException {
        int server = acceptOne(kind, listenFd);
        waitFor(kind, client, WRITE);
        IoSocket.finishConnect(client);
        return new int[] {client, server};
    }

    /**
     * Calls {@code attempt} until it returns anything but {@code wouldBlock}, waiting (at most
     * WAIT_MS in all) on a poller of {@code kind}, where {@code fd} was added for READ before the
     * first try, between tries. {@code missing} names what did not come, for the failure.
     */
    public long untilReady(PollerKind kind, int fd, long wouldBlock, String missing, Attempt attempt)
            throws IOException {
        try (Poller poller = Poller.open(kind, 4)) {
            MemorySegment s = AppStruct.allocate(resources.arena, 0, fd);
            poller.add(s, AppStruct.IO, READ, AppStruct::record);
            long deadline = System.nanoTime() + WAIT_MS * 1_000_000;
            while (System.nanoTime() < deadline) {
                long n = attempt.call();
                if (n != wouldBlock) {
                    return n;
                }
                poller.await(100);
                poller.dispatch();
            }
            throw new AssertionError(missing + " on fd " + fd + " within " + WAIT_MS + " ms");
        }
    }
}
