package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import org.ioatom.internal.sys.Bindings;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.sys.Sys;
import org.ioatom.testing.KqueueEmulation;
import org.ioatom.testing.TestPipe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The kqueue emulation the Linux CI tests the backend against behaves as FreeBSD's kevent(2)
 * documents, for the subset it emulates: receipts, EV_ERROR per change, returning at once after
 * change errors, ENOENT/EBADF/EINVAL, EV_CLEAR against level-triggered, EV_DISABLE/EV_ENABLE,
 * EV_EOF, udata round trip, timeouts. Called directly through the bindings of the layout in use.
 * Runs on Linux, where kqueue is emulated; with {@code -Dioatom.kqueue.abi=macos} it checks the
 * 32-byte layout build of the emulation.
 */
@Timeout(30)
class KqueueEmulationTest {
    private static KqueueAbi abi;
    private static Bindings b;
    private static MethodHandle kqueue;
    private static MethodHandle kevent;
    private static short read;
    private static short write;
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
        assumeTrue(Platform.current().supported(), "the test's pipes use the Linux bindings");
        abi = KqueueAbi.load();
        b = abi.bindings();
        kqueue = Natives.downcall(abi.lookup(), b.descriptor("Kqueue", "kqueue"), "kqueue", true);
        kevent = Natives.downcall(abi.lookup(), b.descriptor("Kqueue", "kevent"), "kevent", true);
        read = (short) c("EVFILT_READ");
        write = (short) c("EVFILT_WRITE");
        size = b.sizeof("kevent");
    }

    private static int c(String name) {
        return b.intConstant("Kqueue", name);
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
        Sys.close(errno, kq);
        arena.close();
    }

    private void set(int i, int fd, short filter, int flags, long udata) {
        long base = i * size;
        changes.set(ValueLayout.JAVA_LONG, base + b.offset("kevent", "ident"), fd);
        changes.set(ValueLayout.JAVA_SHORT, base + b.offset("kevent", "filter"), filter);
        changes.set(ValueLayout.JAVA_SHORT, base + b.offset("kevent", "flags"), (short) flags);
        changes.set(ValueLayout.JAVA_INT, base + b.offset("kevent", "fflags"), 0);
        changes.set(ValueLayout.JAVA_LONG, base + b.offset("kevent", "data"), 0L);
        changes.set(ValueLayout.JAVA_LONG, base + b.offset("kevent", "udata"), udata);
    }

    /** kevent with {@code n} changes; timeoutMillis < 0 passes NULL. */
    private int call(int n, int nevents, long timeoutMillis) throws Throwable {
        MemorySegment ts = MemorySegment.NULL;
        if (timeoutMillis >= 0) {
            ts = arena.allocate(b.sizeof("timespec"), 8);
            ts.set(ValueLayout.JAVA_LONG, b.offset("timespec", "tv_sec"), timeoutMillis / 1000);
            ts.set(ValueLayout.JAVA_LONG, b.offset("timespec", "tv_nsec"), timeoutMillis % 1000 * 1_000_000);
        }
        return (int) kevent.invokeExact(errno, kq, changes, n, events, nevents, ts);
    }

    private int flags(int i) {
        return events.get(ValueLayout.JAVA_SHORT, i * size + b.offset("kevent", "flags")) & 0xFFFF;
    }

    private long data(int i) {
        return events.get(ValueLayout.JAVA_LONG, i * size + b.offset("kevent", "data"));
    }

    private long udata(int i) {
        return events.get(ValueLayout.JAVA_LONG, i * size + b.offset("kevent", "udata"));
    }

    private short filter(int i) {
        return events.get(ValueLayout.JAVA_SHORT, i * size + b.offset("kevent", "filter"));
    }

    @Test
    void receiptsReportEveryChangeInOrderAndConsumeNoEvent() throws Throwable {
        TestPipe p = new TestPipe(arena);
        p.write(3);
        set(0, p.readFd(), read, c("EV_ADD") | c("EV_CLEAR") | c("EV_RECEIPT"), 0x1234_5678_9ABC_DEF0L);
        set(1, p.readFd(), write, c("EV_DELETE") | c("EV_RECEIPT"), 7);
        assertEquals(2, call(2, 2, -1), "returns the receipts at once, even with no timeout");
        assertEquals(c("EV_ERROR"), flags(0) & c("EV_ERROR"));
        assertEquals(0, data(0), "success");
        assertEquals(0x1234_5678_9ABC_DEF0L, udata(0));
        assertEquals(c("ENOENT"), data(1), "deleting a knote that does not exist");
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
        set(0, fd, read, c("EV_ADD") | c("EV_CLEAR"), 1);
        set(1, good.readFd(), read, c("EV_ADD") | c("EV_CLEAR"), 2);
        long start = System.nanoTime();
        assertEquals(1, call(2, 8, -1), "only the error comes back, without waiting");
        assertTrue(System.nanoTime() - start < 5_000_000_000L);
        assertEquals(c("EV_ERROR"), flags(0));
        assertEquals(c("EBADF"), data(0));
        assertEquals(1, udata(0));
        good.write(1);
        assertEquals(1, call(0, 8, 1000), "the change after the failed one was applied");
        assertEquals(2, udata(0));
        set(0, good.readFd(), (short) -99, c("EV_ADD"), 3);
        assertEquals(1, call(1, 8, 0));
        assertEquals(c("EINVAL"), data(0), "a filter outside the subset");
        good.close();
        bad.close();
    }

    @Test
    void withNoRoomForTheErrorTheCallFails() throws Throwable {
        set(0, 1_000_000, read, c("EV_ADD"), 0);
        assertEquals(-1, call(1, 0, 0));
        assertEquals(c("EBADF"), Natives.errno(errno));
    }

    @Test
    void levelTriggeredWithoutClearDisableAndEnable() throws Throwable {
        TestPipe p = new TestPipe(arena);
        p.write(1);
        set(0, p.readFd(), read, c("EV_ADD"), 5);
        assertEquals(1, call(1, 8, 0));
        assertEquals(1, call(0, 8, 0), "without EV_CLEAR the condition is reported again");
        set(0, p.readFd(), read, c("EV_DISABLE"), 5);
        assertEquals(0, call(1, 8, 0), "disabled");
        set(0, p.readFd(), read, c("EV_ENABLE"), 5);
        assertEquals(1, call(1, 8, 0), "enabled again");
        p.close();
    }

    @Test
    void peerCloseIsEofAndAClosedFdDropsItsKnotes() throws Throwable {
        TestPipe p = new TestPipe(arena);
        int fd = p.readFd();
        set(0, fd, read, c("EV_ADD") | c("EV_CLEAR"), 9);
        assertEquals(0, call(1, 8, 0));
        p.closeWrite();
        assertEquals(1, call(0, 8, 1000));
        assertEquals(c("EV_EOF"), flags(0) & c("EV_EOF"));
        p.closeRead();
        set(0, fd, read, c("EV_DELETE"), 9);
        assertEquals(1, call(1, 8, 0));
        assertEquals(c("EBADF"), data(0), "the fd is closed");
        TestPipe q = new TestPipe(arena);
        assertEquals(fd, q.readFd(), "the number is reused");
        set(0, fd, read, c("EV_DELETE"), 9);
        assertEquals(1, call(1, 8, 0));
        assertEquals(c("ENOENT"), data(0), "the old knote went with the old file");
        q.close();
    }

    @Test
    void aTimeoutIsHonoured() throws Throwable {
        TestPipe p = new TestPipe(arena);
        set(0, p.readFd(), read, c("EV_ADD") | c("EV_CLEAR"), 1);
        long start = System.nanoTime();
        assertEquals(0, call(1, 8, 120));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms >= 100, "waited " + ms + " ms");
        p.close();
    }
}
