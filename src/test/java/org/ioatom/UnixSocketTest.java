package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Sockets;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unix domain stream sockets through {@link IoSocket#listenUnix} and {@link IoSocket#connectUnix}:
 * on a path and in the abstract namespace, the same data calls as TCP, stale socket files
 * removed, a live server or a foreign file never disturbed, and clear errors.
 */
@Timeout(60)
@Tag(Tags.SYSCALLS)
class UnixSocketTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;
    private final Sockets net = new Sockets(resources);

    @TempDir
    Path dir;

    /** Reads what {@code fd} has until {@code n} bytes or end of stream, waiting on the poller. */
    private String readText(PollerKind kind, int fd, int n) throws IOException {
        MemorySegment buf = arena.allocate(n);
        long got = 0;
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (got < n && System.nanoTime() < deadline) {
            long r = IoSocket.read(fd, buf, got, n - got);
            if (r == IoSocket.WOULD_BLOCK) {
                net.waitFor(kind, fd, READ);
            } else if (r == IoSocket.EOF) {
                break;
            } else {
                got += r;
            }
        }
        return Sockets.text(buf, got);
    }

    private long readUntilEnd(PollerKind kind, int fd) throws IOException {
        MemorySegment buf = arena.allocate(64);
        long deadline = System.nanoTime() + Sockets.WAIT_MS * 1_000_000;
        while (System.nanoTime() < deadline) {
            long r = IoSocket.read(fd, buf);
            if (r == IoSocket.WOULD_BLOCK) {
                net.waitFor(kind, fd, READ);
            } else {
                return r;
            }
        }
        return fail("neither data nor end of stream within " + Sockets.WAIT_MS + " ms");
    }

    /** A connection over {@code path}: both directions, then the client's half-close reaches the server as EOF. */
    private void exchange(PollerKind kind, String path, int listener) throws IOException {
        int client = net.track(IoSocket.connectUnix(path));
        int server = net.acceptOne(kind, listener);
        assertEquals(5, IoSocket.write(client, net.bytes("hello")));
        assertEquals("hello", readText(kind, server, 5));
        assertEquals(6, IoSocket.write(server, net.bytes("world!")));
        assertEquals("world!", readText(kind, client, 6));
        assertEquals(IoSocket.WOULD_BLOCK, IoSocket.read(server, arena.allocate(8)), "nothing more yet");
        IoSocket.shutdownOutput(client);
        assertEquals(IoSocket.EOF, readUntilEnd(kind, server));
    }

    private static boolean isSocket(Path p) throws IOException {
        return Files.readAttributes(p, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
    }

    @EveryBackend
    void aPathSocketAcceptsConnectsAndMovesBytesBothWaysThenEndOfStream(PollerKind kind) throws IOException {
        Path path = dir.resolve("echo.sock");
        int listener = net.track(IoSocket.listenUnix(path.toString()));
        assertTrue(isSocket(path), "a socket file at " + path);
        exchange(kind, path.toString(), listener);
    }

    @EveryBackend
    void aJavaUnixDomainClientReachesAPathSocket(PollerKind kind) throws IOException {
        Path path = dir.resolve("java.sock");
        int listener = net.track(IoSocket.listenUnix(path.toString(), 16));
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            int server = net.acceptOne(kind, listener);
            ch.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
            assertEquals("ping", readText(kind, server, 4));
            assertEquals(4, IoSocket.write(server, net.bytes("pong")));
            ByteBuffer in = ByteBuffer.allocate(4);
            while (in.hasRemaining() && ch.read(in) >= 0) {
                // blocking channel: reads until the 4 bytes are in
            }
            assertEquals("pong", new String(in.array(), StandardCharsets.US_ASCII));
        }
    }

    @EveryBackend
    void anAbstractNameWorksAndLeavesNoFile(PollerKind kind) throws IOException {
        String name = "@ioatom-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        int listener = net.track(IoSocket.listenUnix(name));
        exchange(kind, name, listener);
        assertFalse(Files.exists(Path.of(name)), "no file named " + name + " in the working directory");
        IoException e = assertThrows(IoException.class, () -> net.track(IoSocket.listenUnix(name)));
        assertEquals("bind", e.call());
        assertEquals("EADDRINUSE", e.errnoName(), e.getMessage());
    }

    @EveryBackend
    void aStaleSocketFileIsRemovedAndTheNewServerAccepts(PollerKind kind) throws IOException {
        Path path = dir.resolve("stale.sock");
        int old = IoSocket.listenUnix(path.toString());
        IoSocket.close(old); // the file stays: a server that died
        assertTrue(isSocket(path), "the stale socket file is left");
        IoException refused = assertThrows(IoException.class, () -> net.track(IoSocket.connectUnix(path.toString())));
        assertEquals("ECONNREFUSED", refused.errnoName(), refused.getMessage());

        int listener = net.track(IoSocket.listenUnix(path.toString()));
        exchange(kind, path.toString(), listener);
    }

    @EveryBackend
    void aPathWhereAServerAcceptsIsRefusedAndThatServerKeepsWorking(PollerKind kind) throws IOException {
        Path path = dir.resolve("busy.sock");
        int first = net.track(IoSocket.listenUnix(path.toString()));
        IoException e = assertThrows(IoException.class, () -> net.track(IoSocket.listenUnix(path.toString())));
        assertEquals("bind", e.call());
        assertEquals("EADDRINUSE", e.errnoName());
        assertTrue(e.getMessage().startsWith("bind(" + path + ": another server accepts on it, fd="), e.getMessage());
        assertTrue(isSocket(path), "the live server's file is still there");
        // The probe was a real connection: the live server accepts it and reads its end at once.
        int probe = net.acceptOne(kind, first);
        assertEquals(IoSocket.EOF, readUntilEnd(kind, probe));
        exchange(kind, path.toString(), first);
    }

    @EveryBackend
    void aFileThatIsNotASocketIsLeftInPlaceAndRefused(PollerKind kind) throws IOException {
        Path path = dir.resolve("notes.txt");
        Files.writeString(path, "keep me");
        IoException e = assertThrows(IoException.class, () -> net.track(IoSocket.listenUnix(path.toString())));
        assertEquals("EADDRINUSE", e.errnoName());
        assertTrue(e.getMessage().contains(path + ": exists and is not a socket, left in place"), e.getMessage());
        assertEquals("keep me", Files.readString(path));

        Path sub = Files.createDirectory(dir.resolve("a-directory"));
        assertThrows(IoException.class, () -> net.track(IoSocket.listenUnix(sub.toString())));
        assertTrue(Files.isDirectory(sub));

        Path target = dir.resolve("target.sock");
        IoSocket.close(IoSocket.listenUnix(target.toString())); // a stale socket behind a symbolic link
        Path link = Files.createSymbolicLink(dir.resolve("link.sock"), target);
        IoException viaLink = assertThrows(IoException.class, () -> net.track(IoSocket.listenUnix(link.toString())));
        assertTrue(viaLink.getMessage().contains("not a socket"), viaLink.getMessage());
        assertTrue(Files.isSymbolicLink(link), "the link is left");
    }

    @EveryBackend
    void pathsUpToSunPathsSizeWorkAndLongerOnesAreIllegalArguments(PollerKind kind) throws IOException {
        String base = dir.toString() + "/";
        String longest = base + "s".repeat(IoSocket.MAX_UNIX_PATH_BYTES - base.length());
        assertEquals(107, longest.length());
        int listener = net.track(IoSocket.listenUnix(longest));
        exchange(kind, longest, listener);

        String tooLong = longest + "x";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IoSocket.listenUnix(tooLong));
        assertTrue(e.getMessage().contains("108 bytes") && e.getMessage().contains("at most 107"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IoSocket.connectUnix(tooLong));
        // Multi-byte characters count as their UTF-8 bytes.
        String wide = base + "é".repeat((IoSocket.MAX_UNIX_PATH_BYTES - base.length()) / 2 + 1);
        assertThrows(IllegalArgumentException.class, () -> IoSocket.listenUnix(wide));

        String abstractLongest = "@" + "a".repeat(107);
        int abstractListener = net.track(IoSocket.listenUnix(abstractLongest));
        exchange(kind, abstractLongest, abstractListener);
        assertThrows(IllegalArgumentException.class, () -> IoSocket.listenUnix(abstractLongest + "a"));

        assertThrows(IllegalArgumentException.class, () -> IoSocket.listenUnix(""));
        assertThrows(IllegalArgumentException.class, () -> IoSocket.listenUnix("@"));
        assertThrows(IllegalArgumentException.class, () -> IoSocket.listenUnix(base + "a\0b"));
    }

    @EveryBackend
    void failuresNameTheCallTheFdAndTheErrno(PollerKind kind) throws IOException {
        Path missing = dir.resolve("nobody-here.sock");
        IoException e = assertThrows(IoException.class, () -> net.track(IoSocket.connectUnix(missing.toString())));
        assertEquals("connect", e.call());
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.fd() >= 0, "the socket's fd is named");
        assertEquals("connect(" + missing + ", fd=" + e.fd() + "): ENOENT (No such file or directory)", e.getMessage());

        IoException noDir = assertThrows(IoException.class,
                () -> net.track(IoSocket.listenUnix(dir.resolve("no/such/dir.sock").toString())));
        assertEquals("bind", noDir.call());
        assertEquals("ENOENT", noDir.errnoName(), noDir.getMessage());

        Path path = dir.resolve("closed.sock");
        int listener = IoSocket.listenUnix(path.toString());
        int client = IoSocket.connectUnix(path.toString());
        IoSocket.close(client);
        IoException read = assertThrows(IoException.class, () -> IoSocket.read(client, arena.allocate(4)));
        assertEquals("read(fd=" + client + "): EBADF (Bad file descriptor)", read.getMessage());
        IoSocket.close(listener);
    }
}
