package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.internal.linux.Linux;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.ioatom.testing.TestResources;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Misuse gets a clear exception and leaves the poller usable: every backend. */
@Tag(Tags.KQUEUE_LAYOUT)
@Tag(Tags.SYSCALLS)
class PollerMisuseTest {
    @RegisterExtension
    final TestResources resources = new TestResources();
    private final Arena arena = resources.arena;
    private static final IoHandler NOTHING = (owner, events) -> { };

    private Poller open(PollerKind kind) throws IOException {
        return resources.poller(kind, 8);
    }

    @EveryBackend
    void addingTheSameAtomTwiceIsRejected(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        MemorySegment s = AppStruct.allocate(arena, 1, resources.pipe().readFd());
        poller.add(s, AppStruct.IO, READ, NOTHING);
        var e = assertThrows(IllegalStateException.class, () -> poller.add(s, AppStruct.IO, READ, NOTHING));
        assertTrue(e.getMessage().contains("already registered with this poller"), e.getMessage());
        assertEquals(1, poller.size());
        resources.assertUsable(poller);
    }

    @EveryBackend
    void addingAnAtomOfAnotherPollerIsRejected(PollerKind kind) throws IOException {
        Poller a = open(kind);
        Poller b = open(kind);
        MemorySegment s = AppStruct.allocate(arena, 1, resources.pipe().readFd());
        a.add(s, AppStruct.IO, READ, NOTHING);
        var e = assertThrows(IllegalStateException.class, () -> b.add(s, AppStruct.IO, READ, NOTHING));
        assertTrue(e.getMessage().contains("another poller"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> b.remove(s, AppStruct.IO));
        assertThrows(IllegalStateException.class, () -> b.set(s, AppStruct.IO, 0));
        resources.assertUsable(b);
    }

    @EveryBackend
    void sameFdThroughTwoAtomsIsRejected(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        int fd = resources.pipe().readFd();
        poller.add(AppStruct.allocate(arena, 1, fd), AppStruct.IO, READ, NOTHING);
        var e = assertThrows(IllegalStateException.class,
                () -> poller.add(AppStruct.allocate(arena, 2, fd), AppStruct.IO, READ, NOTHING));
        assertTrue(e.getMessage().contains("fd " + fd + " is already registered"), e.getMessage());
        resources.assertUsable(poller);
    }

    @EveryBackend
    void removeOrSetOfAnUnregisteredAtomIsRejected(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        MemorySegment s = AppStruct.allocate(arena, 1, resources.pipe().readFd());
        var e = assertThrows(IllegalStateException.class, () -> poller.remove(s, AppStruct.IO));
        assertTrue(e.getMessage().contains("not registered with this poller"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> poller.set(s, AppStruct.IO, READ));
        poller.add(s, AppStruct.IO, READ, NOTHING);
        poller.remove(s, AppStruct.IO);
        assertThrows(IllegalStateException.class, () -> poller.remove(s, AppStruct.IO), "double remove");
        resources.assertUsable(poller);
    }

    @EveryBackend
    void badAtomMemoryIsRejected(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        int fd = resources.pipe().readFd();
        MemorySegment small = arena.allocate(12);
        var e = assertThrows(IllegalArgumentException.class, () -> poller.add(small, READ, NOTHING));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        MemorySegment big = arena.allocate(64, 8);
        IoAtom.init(big, 4, fd);
        e = assertThrows(IllegalArgumentException.class, () -> poller.add(big, 2, READ, NOTHING));
        assertTrue(e.getMessage().contains("not 4-byte aligned"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> poller.add(big, -4, READ, NOTHING));
        assertThrows(IllegalArgumentException.class, () -> poller.add(big, 60, READ, NOTHING));
        MemorySegment atom = arena.allocate(IoAtom.LAYOUT);
        IoAtom.init(atom, fd);
        e = assertThrows(IllegalArgumentException.class, () -> poller.add(atom.asReadOnly(), READ, NOTHING));
        assertTrue(e.getMessage().contains("read-only"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> poller.add(MemorySegment.ofArray(new int[] {fd, 0, 0, 0}), READ, NOTHING));
        assertTrue(e.getMessage().contains("native"), e.getMessage());
        Arena closed = Arena.ofConfined();
        MemorySegment gone = closed.allocate(IoAtom.LAYOUT);
        IoAtom.init(gone, fd);
        closed.close();
        var ise = assertThrows(IllegalStateException.class, () -> poller.add(gone, READ, NOTHING));
        assertTrue(ise.getMessage().contains("arena is closed"), ise.getMessage());
        MemorySegment noFd = arena.allocate(IoAtom.LAYOUT);
        IoAtom.init(noFd, -1);
        assertThrows(IllegalArgumentException.class, () -> poller.add(noFd, READ, NOTHING));
        assertEquals(0, poller.size());
        resources.assertUsable(poller);
    }

    @EveryBackend
    void nullHandlerAndUnknownFlagsAreRejected(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        MemorySegment s = AppStruct.allocate(arena, 1, resources.pipe().readFd());
        assertThrows(NullPointerException.class, () -> poller.add(s, AppStruct.IO, READ, null));
        var e = assertThrows(IllegalArgumentException.class,
                () -> poller.add(s, AppStruct.IO, IoAtom.HUP, NOTHING));
        assertTrue(e.getMessage().contains("READ and/or WRITE"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> poller.add(s, AppStruct.IO, 64, NOTHING));
        poller.add(s, AppStruct.IO, READ, NOTHING);
        assertThrows(IllegalArgumentException.class, () -> poller.set(s, AppStruct.IO, READ | 16));
        assertEquals(READ, IoAtom.interest(s, AppStruct.IO));
        resources.assertUsable(poller);
    }

    @EveryBackend
    void aClosedDescriptorIsASyscallErrorNamingCallFdAndErrno(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe p = resources.pipe();
        int fd = p.readFd();
        p.closeRead();
        MemorySegment s = AppStruct.allocate(arena, 1, fd);
        if (kind == PollerKind.EPOLL) {
            var e = assertThrows(IoException.class, () -> poller.add(s, AppStruct.IO, READ, NOTHING));
            assertEquals("epoll_ctl(ADD, fd=" + fd + "): EBADF (Bad file descriptor)", e.getMessage());
            assertEquals("EBADF", e.errnoName());
            assertEquals(fd, e.fd());
            assertEquals("epoll_ctl", e.call());
            assertEquals(0, poller.size());
        } else if (kind == PollerKind.KQUEUE) {
            // add submits its changes at once, with EV_RECEIPT: the error is this fd's, now.
            var e = assertThrows(IoException.class, () -> poller.add(s, AppStruct.IO, READ, NOTHING));
            assertEquals("kevent(EV_ADD, fd=" + fd + "): EBADF (Bad file descriptor)", e.getMessage());
            assertEquals("EBADF", e.errnoName());
            assertEquals(fd, e.fd());
            assertEquals("kevent", e.call());
            assertEquals(0, poller.size());
            assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
        } else if (kind == PollerKind.IO_URING) {
            // add submits the poll request at once; a bad fd fails while it is submitted.
            var e = assertThrows(IoException.class, () -> poller.add(s, AppStruct.IO, READ, NOTHING));
            assertEquals("io_uring_enter(POLL_ADD, fd=" + fd + "): EBADF (Bad file descriptor)", e.getMessage());
            assertEquals("EBADF", e.errnoName());
            assertEquals(fd, e.fd());
            assertEquals(0, poller.size());
            assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
        } else if (kind == PollerKind.POLL) {
            // poll(2) has no registration call: a closed fd shows up as an ERROR event (POLLNVAL).
            poller.add(s, AppStruct.IO, READ, (owner, events) -> AppStruct.record(owner, events));
            assertEquals(1, poller.await(5000));
            poller.dispatch();
            assertTrue((AppStruct.lastEvents(s) & IoAtom.ERROR) != 0);
            poller.remove(s, AppStruct.IO);
        } else if (kind == PollerKind.SELECT) {
            poller.add(s, AppStruct.IO, READ, NOTHING);
            var e = assertThrows(IoException.class, () -> poller.await(0));
            assertTrue(e.getMessage().startsWith("pselect6(nfds="), e.getMessage());
            assertTrue(e.getMessage().endsWith("EBADF (Bad file descriptor)"), e.getMessage());
            poller.remove(s, AppStruct.IO);
        }
        resources.assertUsable(poller);
    }

    @EveryBackend
    void exceedingCapacityIsAClearException(PollerKind kind) throws IOException {
        Poller poller = Poller.open(kind, 2);
        resources.add(poller);
        poller.add(AppStruct.allocate(arena, 1, resources.pipe().readFd()), AppStruct.IO, READ, NOTHING);
        poller.add(AppStruct.allocate(arena, 2, resources.pipe().readFd()), AppStruct.IO, READ, NOTHING);
        var e = assertThrows(IllegalStateException.class,
                () -> poller.add(AppStruct.allocate(arena, 3, resources.pipe().readFd()), AppStruct.IO, READ, NOTHING));
        assertTrue(e.getMessage().contains("poller is full: 2 atoms"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Poller.open(kind, 0));
        assertThrows(IllegalArgumentException.class, () -> Poller.open(kind, Poller.MAX_CAPACITY + 1));
    }

    @EveryBackend
    void everyCallOnAClosedPollerIsRejected(PollerKind kind) throws IOException {
        Poller poller = Poller.open(kind, 4);
        MemorySegment s = AppStruct.allocate(arena, 1, resources.pipe().readFd());
        poller.add(s, AppStruct.IO, READ, NOTHING);
        poller.close();
        poller.close();
        assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
        for (var call : List.<org.junit.jupiter.api.function.Executable>of(() -> poller.await(0), poller::dispatch,
                () -> poller.add(s, AppStruct.IO, READ, NOTHING), () -> poller.set(s, AppStruct.IO, READ),
                () -> poller.remove(s, AppStruct.IO))) {
            assertEquals("poller is closed", assertThrows(IllegalStateException.class, call).getMessage());
        }
        poller.wakeup();
        Poller again = open(kind);
        again.add(s, AppStruct.IO, READ, NOTHING);
        assertEquals(1, again.size(), "an atom of a closed poller can join another");
    }

    @EveryBackend
    void reentrantDispatchOrAwaitFromAHandlerIsRejected(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe p = resources.pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        List<Exception> caught = new ArrayList<>();
        poller.add(s, AppStruct.IO, READ, (owner, events) -> {
            try {
                poller.dispatch();
            } catch (IllegalStateException e) {
                caught.add(e);
            }
            try {
                poller.await(0);
            } catch (IllegalStateException e) {
                caught.add(e);
            }
            p.drain();
        });
        p.write(1);
        poller.await(5000);
        poller.dispatch();
        assertEquals(2, caught.size());
        assertTrue(caught.get(0).getMessage().contains("not re-entrant"));
        assertTrue(caught.get(1).getMessage().contains("from a handler"));
        resources.assertUsable(poller);
    }

    @EveryBackend
    void atomWhoseArenaClosesWhileRegisteredIsDroppedNotCalled(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        TestPipe p = resources.pipe();
        Arena appArena = Arena.ofShared();
        MemorySegment s = AppStruct.allocate(appArena, 1, p.readFd());
        int[] calls = {0};
        poller.add(s, AppStruct.IO, READ, (owner, events) -> calls[0]++);
        p.write(1);
        appArena.close();
        poller.await(5000);
        poller.dispatch();
        assertEquals(0, calls[0], "no event delivered to memory that is gone");
        assertEquals(0, poller.size(), "the registration was dropped");
        resources.assertUsable(poller);
    }

    @EveryBackend
    void removeAfterTheArenaClosedFreesTheRegistration(PollerKind kind) throws IOException {
        Poller poller = open(kind);
        Arena appArena = Arena.ofShared();
        MemorySegment s = AppStruct.allocate(appArena, 1, resources.pipe().readFd());
        poller.add(s, AppStruct.IO, READ, NOTHING);
        appArena.close();
        poller.remove(s, AppStruct.IO);
        assertEquals(0, poller.size());
        resources.assertUsable(poller);
    }

    @Test
    void selectRefusesDescriptorsAtOrAboveFdSetSize() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(PollerKind.SELECT.isAvailable());
        Poller poller = open(PollerKind.SELECT);
        // The refusal looks at the number alone, before any system call: numbers that need not be
        // open keep this test independent of how many descriptors this process may hold.
        for (int fd : new int[] {Linux.FD_SETSIZE, Linux.FD_SETSIZE + 1, 1 << 20}) {
            MemorySegment s = AppStruct.allocate(arena, 1, fd);
            var e = assertThrows(IllegalArgumentException.class, () -> poller.add(s, AppStruct.IO, READ, NOTHING));
            assertEquals("fd " + fd + " is too large for select (FD_SETSIZE 1024); use epoll or poll", e.getMessage());
            assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
        }
        assertEquals(0, poller.size());
        resources.assertUsable(poller);
    }
}
