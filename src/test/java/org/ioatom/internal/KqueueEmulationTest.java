package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.ioatom.internal.bsd.Kqueue;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.KqueueEmulation;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kqueue emulation the Linux CI tests the backend against behaves as FreeBSD's kevent(2)
 * documents, for the subset it emulates: receipts, EV_ERROR per change, returning at once after
 * change errors, ENOENT/EBADF/EINVAL, EV_CLEAR against level-triggered, EV_DISABLE/EV_ENABLE,
 * EV_EOF, udata round trip, timeouts. Called directly, with {@link Kqueue}'s layout in use.
 * Runs on Linux, where kqueue is emulated; with {@code -Dioatom.kqueue.abi=macos} it checks the
 * 32-byte layout build of the emulation.
 */
@Timeout(30)
@Tag(Tags.KQUEUE_LAYOUT)
class KqueueEmulationTest {
    private static MethodHandle kqueue;
    private static MethodHandle kevent;
    private static final short read = Kqueue.EVFILT_READ;
    private static final short write = Kqueue.EVFILT_WRITE;
    private static long size;

    private final Arena arena = Arena.ofConfined();
    private MemorySegment errno;
    private MemorySegment changes;
    private MemorySegment events;
    private int kq;

    @BeforeAll
    static void emulation() {
        KqueueEmulation.configure();
        assumeTrue(KqueueAbi.chooseNow().available(), "no kqueue here: " + KqueueAbi.chooseNow().unavailableReason());
        assumeTrue(Platform.current().hasLinuxBindings(), "the test's pipes use the Linux bindings");
        KqueueAbi abi = KqueueAbi.load();
        kqueue = abi.downcallCapturingErrno("kqueue", Kqueue.KQUEUE_DESCRIPTOR);
        kevent = abi.downcallCapturingErrno("kevent", Kqueue.KEVENT_DESCRIPTOR);
        size = abi.keventAbi().keventSize();
    }

    @BeforeEach
    void open() throws Throwable {
        errno = arena.allocate(Natives.CAPTURE_LAYOUT);
        changes = arena.allocate(size * 8, 8);
        events = arena.allocate(size * 8, 8);
        kq = (int) kqueue.invokeExact(errno);
        assertTrue(kq >= 0);
    }

    @AfterEach
    void close() {
        Syscalls.close(kq);
        arena.close();
    }

    private void set(int i, int fd, short filter, int flags, long udata) {
        long base = i * size;
        changes.set(ValueLayout.JAVA_LONG, base + Kqueue.IDENT_OFFSET, fd);
        changes.set(ValueLayout.JAVA_SHORT, base + Kqueue.FILTER_OFFSET, filter);
        changes.set(ValueLayout.JAVA_SHORT, base + Kqueue.FLAGS_OFFSET, (short) flags);
        changes.set(ValueLayout.JAVA_INT, base + Kqueue.FFLAGS_OFFSET, 0);
        changes.set(ValueLayout.JAVA_LONG, base + Kqueue.DATA_OFFSET, 0L);
        changes.set(ValueLayout.JAVA_LONG, base + Kqueue.UDATA_OFFSET, udata);
    }

    /** kevent with {@code n} changes; timeoutMillis < 0 passes NULL. */
    private int call(int n, int nevents, long timeoutMillis) throws Throwable {
        MemorySegment ts = MemorySegment.NULL;
        if (timeoutMillis >= 0) {
            ts = arena.allocate(Kqueue.TIMESPEC_SIZE, 8);
            ts.set(ValueLayout.JAVA_LONG, Kqueue.TV_SEC_OFFSET, timeoutMillis / 1000);
            ts.set(ValueLayout.JAVA_LONG, Kqueue.TV_NSEC_OFFSET, timeoutMillis % 1000 * 1_000_000);
        }
        return (int) kevent.invokeExact(errno, kq, changes, n, events, nevents, ts);
    }

    private int flags(int i) {
        return events.get(ValueLayout.JAVA_SHORT, i * size + Kqueue.FLAGS_OFFSET) & 0xFFFF;
    }

    private long data(int i) {
        return events.get(ValueLayout.JAVA_LONG, i * size + Kqueue.DATA_OFFSET);
    }

    private long udata(int i) {
        return events.get(ValueLayout.JAVA_LONG, i * size + Kqueue.UDATA_OFFSET);
    }

    private short filter(int i) {
        return events.get(ValueLayout.JAVA_SHORT, i * size + Kqueue.FILTER_OFFSET);
    }

    @Test
    void receiptsReportEveryChangeInOrderAndConsumeNoEvent() throws Throwable {
        TestPipe p = new TestPipe(arena);
        p.write(3);
        set(0, p.readFd(), read, Kqueue.EV_ADD | Kqueue.EV_CLEAR | Kqueue.EV_RECEIPT, 0x1234_5678_9ABC_DEF0L);
        set(1, p.readFd(), write, Kqueue.EV_DELETE | Kqueue.EV_RECEIPT, 7);
        assertEquals(2, call(2, 2, -1), "returns the receipts at once, even with no timeout");
        assertEquals(Kqueue.EV_ERROR, flags(0) & Kqueue.EV_ERROR);
        assertEquals(0, data(0), "success");
        assertEquals(0x1234_5678_9ABC_DEF0L, udata(0));
        assertEquals(Kqueue.ENOENT, data(1), "deleting a knote that does not exist");
        assertEquals(1, call(0, 8, 1000), "the readable pipe was not consumed by the receipts");
        assertEquals(read, filter(0));
        assertEquals(3, data(0), "FIONREAD");
        assertEquals(0x1234_5678_9ABC_DEF0L, udata(0), "udata round trip, all 64 bits");
        assertEquals(0, call(0, 8, 0), "EV_CLEAR: reported once until new data");
        p.write(1);
        assertEquals(1, call(0, 8, 0));
        p.close();
    }

    @Test
    void aFailedChangeIsAnErrorEntryAndTheCallDoesNotWait() throws Throwable {
        TestPipe good = new TestPipe(arena);
        TestPipe bad = new TestPipe(arena);
        int fd = bad.readFd();
        bad.closeRead();
        set(0, fd, read, Kqueue.EV_ADD | Kqueue.EV_CLEAR, 1);
        set(1, good.readFd(), read, Kqueue.EV_ADD | Kqueue.EV_CLEAR, 2);
        // No timeout: a call that waited would hang (and fail by the class's @Timeout).
        assertEquals(1, call(2, 8, -1), "only the error comes back, without waiting");
        assertEquals(Kqueue.EV_ERROR, flags(0));
        assertEquals(Kqueue.EBADF, data(0));
        assertEquals(1, udata(0));
        good.write(1);
        assertEquals(1, call(0, 8, 1000), "the change after the failed one was applied");
        assertEquals(2, udata(0));
        set(0, good.readFd(), (short) -99, Kqueue.EV_ADD, 3);
        assertEquals(1, call(1, 8, 0));
        assertEquals(Kqueue.EINVAL, data(0), "a filter outside the subset");
        good.close();
        bad.close();
    }

    @Test
    void withNoRoomForTheErrorTheCallFails() throws Throwable {
        set(0, 1_000_000, read, Kqueue.EV_ADD, 0);
        assertEquals(-1, call(1, 0, 0));
        assertEquals(Kqueue.EBADF, Natives.errno(errno));
    }

    @Test
    void levelTriggeredWithoutClearDisableAndEnable() throws Throwable {
        TestPipe p = new TestPipe(arena);
        p.write(1);
        set(0, p.readFd(), read, Kqueue.EV_ADD, 5);
        assertEquals(1, call(1, 8, 0));
        assertEquals(1, call(0, 8, 0), "without EV_CLEAR the condition is reported again");
        set(0, p.readFd(), read, Kqueue.EV_DISABLE, 5);
        assertEquals(0, call(1, 8, 0), "disabled");
        set(0, p.readFd(), read, Kqueue.EV_ENABLE, 5);
        assertEquals(1, call(1, 8, 0), "enabled again");
        p.close();
    }

    @Test
    void peerCloseIsEofAndAClosedFdDropsItsKnotes() throws Throwable {
        TestPipe p = new TestPipe(arena);
        int fd = p.readFd();
        set(0, fd, read, Kqueue.EV_ADD | Kqueue.EV_CLEAR, 9);
        assertEquals(0, call(1, 8, 0));
        p.closeWrite();
        assertEquals(1, call(0, 8, 1000));
        assertEquals(Kqueue.EV_EOF, flags(0) & Kqueue.EV_EOF);
        p.closeRead();
        set(0, fd, read, Kqueue.EV_DELETE, 9);
        assertEquals(1, call(1, 8, 0));
        assertEquals(Kqueue.EBADF, data(0), "the fd is closed");
        TestPipe q = new TestPipe(arena);
        assertEquals(fd, q.readFd(), "the number is reused");
        set(0, fd, read, Kqueue.EV_DELETE, 9);
        assertEquals(1, call(1, 8, 0));
        assertEquals(Kqueue.ENOENT, data(0), "the old knote went with the old file");
        q.close();
    }

    @Test
    void aTimeoutIsHonoured() throws Throwable {
        TestPipe p = new TestPipe(arena);
        set(0, p.readFd(), read, Kqueue.EV_ADD | Kqueue.EV_CLEAR, 1);
        long start = System.nanoTime();
        assertEquals(0, call(1, 8, 120));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms >= 100, "waited " + ms + " ms");
        p.close();
    }
}
