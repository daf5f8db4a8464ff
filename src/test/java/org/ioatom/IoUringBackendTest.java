package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.Kinds;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What only the io_uring backend has: selection by name, a refused ring as an unavailable kind
 * with its reason, CQ overflow, merged completions, and the file reference a poll request holds.
 * The shared contract runs on io_uring through {@code @EveryBackend} in the other suites.
 */
@Timeout(60)
class IoUringBackendTest {
    private static final String SIMULATE = "ioatom.io_uring.simulate";
    private static final String CQ_ENTRIES = "ioatom.io_uring.cqEntries";

    private final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;

    @AfterEach
    void tearDown() throws Exception {
        System.clearProperty(SIMULATE);
        System.clearProperty(CQ_ENTRIES);
        resources.close();
    }

    private static void assumeIoUring() {
        assumeTrue(PollerKind.IO_URING.isAvailable(), PollerKind.IO_URING.unavailableReason());
        assumeTrue(Kinds.available().anyMatch(k -> k == PollerKind.IO_URING), "io_uring is excluded by ioatom.test.kinds");
    }

    @Test
    void thePropertyNamesIoUringAndAnyStaysEpoll() throws IOException {
        assumeIoUring();
        assertEquals(PollerKind.IO_URING, PollerKind.parse("io_uring"));
        assertEquals("io_uring", PollerKind.IO_URING.toString());
        try (Poller p = Poller.open(PollerKind.IO_URING, 4)) {
            assertEquals("io_uring", p.name());
            assertEquals(PollerKind.IO_URING, p.kind());
        }
        assertEquals(PollerKind.EPOLL, PollerKind.ANY.resolve());
    }

    @Test
    void aRefusedRingMakesTheKindUnavailableWithTheReason() {
        String[][] cases = {
            {"EPERM", "io_uring is not available: io_uring_setup(): EPERM (Operation not permitted): refused by a"
                    + " seccomp filter"},
            {"ENOSYS", "io_uring is not available: io_uring_setup(): ENOSYS (Function not implemented): this kernel"
                    + " has no io_uring"},
            {"EINVAL", "io_uring is not available: io_uring_enter(): EINVAL (Invalid argument): this kernel has no"
                    + " multishot poll (IORING_POLL_ADD_MULTI, Linux 5.13)"},
            {"features", "io_uring is not available: the kernel lacks IORING_FEAT_NODROP (Linux 5.5) and"
                    + " IORING_FEAT_EXT_ARG (Linux 5.11)"},
        };
        for (String[] c : cases) {
            System.setProperty(SIMULATE, c[0]);
            String reason = PollerKind.IO_URING.unavailableReason();
            assertTrue(reason != null && reason.startsWith(c[1]), c[0] + ": " + reason);
            assertFalse(PollerKind.IO_URING.isAvailable());
            var e = assertThrows(UnsupportedOperationException.class, () -> Poller.open(PollerKind.IO_URING, 4));
            assertEquals(reason, e.getMessage());
            assertFalse(Kinds.available().anyMatch(k -> k == PollerKind.IO_URING));
            // The other kinds do not depend on it.
            assertEquals(PollerKind.EPOLL, PollerKind.ANY.resolve());
        }
    }

    @Test
    void aTinyCompletionQueueThatOverflowsLosesNoEvent() throws IOException {
        assumeIoUring();
        System.setProperty(CQ_ENTRIES, "2");
        int n = 40;
        Poller poller = resources.poller(PollerKind.IO_URING, n);
        System.clearProperty(CQ_ENTRIES);
        TestPipe[] pipes = new TestPipe[n];
        MemorySegment[] atoms = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            pipes[i] = resources.pipe();
            atoms[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            TestPipe mine = pipes[i];
            // Reads until EAGAIN, as edge-triggered handlers must: a poll the kernel ended when
            // the ring was full is armed again and would report data still unread once more.
            poller.add(atoms[i], AppStruct.IO, READ, (owner, events) -> {
                AppStruct.record(owner, events);
                mine.drain();
            });
        }
        // 40 completions for a CQ ring of 2: all but two wait in the kernel's overflow list.
        for (TestPipe p : pipes) {
            assertEquals(1, p.write(1));
        }
        int seen = 0;
        for (int turn = 0; turn < 100 && seen < n; turn++) {
            poller.await(1000);
            seen += poller.dispatch();
        }
        for (int i = 0; i < n; i++) {
            assertEquals(1, AppStruct.calls(atoms[i]), "atom " + i + " reported once");
            assertEquals(READ, AppStruct.lastEvents(atoms[i]));
        }
        assertEquals(n, seen);
        assertEquals(0, poller.await(0), "nothing more: each wake-up was reported once");
        // The ring still works, with new wake-ups after the overflow.
        pipes[7].write(1);
        assertEquals(1, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertEquals(2, AppStruct.calls(atoms[7]));
    }

    @Test
    void severalCompletionsForOneAtomInOneWaitAreOneHandlerCall() throws IOException {
        assumeIoUring();
        Poller poller = resources.poller(PollerKind.IO_URING, 4);
        TestPipe p = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        poller.add(s, AppStruct.IO, READ, (owner, events) -> AppStruct.record(owner, events));
        // Three wake-ups: the multishot poll posts a CQE for each before the wait reads them.
        for (int i = 0; i < 3; i++) {
            assertEquals(1, p.write(1));
        }
        poller.set(s, AppStruct.IO, READ | WRITE); // the update's own completion comes in the same wait
        assertEquals(1, poller.await(5000));
        assertEquals(1, poller.dispatch());
        assertEquals(1, AppStruct.calls(s));
        assertEquals(READ, AppStruct.lastEvents(s) & READ);
        assertEquals(0, poller.await(0));
    }

    @Test
    void aDescriptorClosedWhileRegisteredStaysOpenInTheKernelUntilRemoved() throws IOException {
        assumeIoUring();
        Poller poller = resources.poller(PollerKind.IO_URING, 4);
        TestPipe p = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.writeFd());
        poller.add(s, AppStruct.IO, WRITE, (owner, events) -> AppStruct.record(owner, events));
        assertEquals(1, poller.await(5000)); // writable
        poller.dispatch();
        p.closeWrite(); // misuse on purpose: closed without remove
        MemorySegment buf = arena.allocate(8);
        // The poll request still holds the write end: the reader sees no end of stream.
        assertEquals(-Errno.EAGAIN, Syscalls.read(p.readFd(), buf, 1));
        poller.remove(s, AppStruct.IO); // queued; the next wait submits it
        assertEquals(-Errno.EAGAIN, Syscalls.read(p.readFd(), buf, 1));
        assertEquals(0, poller.await(0));
        assertEquals(0L, Syscalls.read(p.readFd(), buf, 1), "end of stream once the remove reached the kernel");
        assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, 0));
        resources.assertUsable(poller);
    }

    /**
     * The handler of a connection whose peer ended pauses its atom, removes it and closes the
     * socket, all before one wait. The kernel re-arms an updated poll after a remove submitted in
     * the same call went by, so the backend removes it again when the update reports: the socket
     * is released (the peer sees the close) within two waits, never held by a forgotten poll.
     */
    @Test
    void aPollUpdatedThenRemovedBeforeOneWaitIsRemovedAndTheSocketReleased() throws Exception {
        assumeIoUring();
        Poller poller = resources.poller(PollerKind.IO_URING, 4);
        int listener = resources.socket(IoSocket.listen("127.0.0.1:0"));
        int client = resources.socket(IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener)));
        int server = IoSocket.NO_MORE;
        for (long end = System.nanoTime() + 5_000_000_000L; server == IoSocket.NO_MORE && System.nanoTime() < end; ) {
            server = IoSocket.accept(listener);
        }
        assertTrue(server >= 0, "accepted");
        int accepted = server;
        MemorySegment buf = arena.allocate(64);
        MemorySegment s = AppStruct.allocate(arena, 1, accepted);
        poller.add(s, AppStruct.IO, READ, (owner, events) -> {
            if (IoSocket.read(accepted, buf) == IoSocket.EOF) {
                poller.set(owner, AppStruct.IO, 0);
                poller.remove(owner, AppStruct.IO);
                IoSocket.close(accepted);
            }
        });
        IoSocket.shutdownOutput(client);
        assertEquals(1, poller.await(5000));
        assertEquals(1, poller.dispatch());
        long got = IoSocket.WOULD_BLOCK;
        for (int wait = 0; wait < 2 && got != IoSocket.EOF; wait++) {
            poller.await(0);
            Thread.sleep(10);
            got = IoSocket.read(client, buf);
        }
        assertEquals(IoSocket.EOF, got, "the peer sees the close: no poll holds the socket");
        resources.assertUsable(poller);
    }
}
