package org.ioatom;

import static org.ioatom.IoAtom.ERROR;
import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.ioatom.internal.PipeWaker;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.Kinds;
import org.ioatom.testing.Tags;
import org.ioatom.testing.TestPipe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What is particular to kqueue: the changelist (add synchronous, set/remove deferred to the
 * next wait, flushed when full), how a change error reaches the one fd it concerns, and where
 * kqueue comes from. Runs on the OS's kqueue or, on Linux, on the emulation Kinds builds.
 */
@Timeout(60)
@Tag(Tags.KQUEUE_LAYOUT)
class KqueueBackendTest {
    private final Arena arena = Arena.ofShared();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** Every event mask each atom (by AppStruct id) received, in order. */
    private final Map<Long, List<Integer>> seen = new HashMap<>();
    private final IoHandler record = (owner, events) -> {
        AppStruct.record(owner, events);
        seen.computeIfAbsent(owner.get(java.lang.foreign.ValueLayout.JAVA_LONG, AppStruct.ID), k -> new ArrayList<>())
                .add(events);
    };

    @BeforeAll
    static void needsKqueue() {
        assumeTrue(Kinds.available().anyMatch(k -> k == PollerKind.KQUEUE),
                "kqueue is not available here: " + PollerKind.KQUEUE.unavailableReason());
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        arena.close();
    }

    private Poller open(int capacity) throws IOException {
        Poller p = Poller.open(PollerKind.KQUEUE, capacity);
        closeables.add(p);
        assertEquals("kqueue", p.name());
        return p;
    }

    private TestPipe pipe() throws IOException {
        TestPipe p = new TestPipe(arena);
        closeables.add(p);
        return p;
    }

    /** Awaits and dispatches until a round brings nothing, at most {@code rounds} times. */
    private static void drain(Poller poller, int rounds) throws IOException {
        int n = poller.await(2000);
        for (int r = 0; n > 0 && r < rounds; r++) {
            poller.dispatch();
            n = poller.await(100);
        }
    }

    private int masks(long id) {
        int all = 0;
        for (int ev : seen.getOrDefault(id, List.of())) {
            all |= ev;
        }
        return all;
    }

    @Test
    void addOfABadFdThrowsForThatFdAndOtherAtomsKeepTheirEvents() throws IOException {
        Poller poller = open(8);
        TestPipe good = pipe();
        MemorySegment g = AppStruct.allocate(arena, 1, good.readFd());
        poller.add(g, AppStruct.IO, READ, record);
        good.write(1);
        TestPipe bad = pipe();
        int fd = bad.readFd();
        bad.closeRead();
        MemorySegment b = AppStruct.allocate(arena, 2, fd);
        var e = assertThrows(IoException.class, () -> poller.add(b, AppStruct.IO, READ | WRITE, record));
        assertEquals("kevent(EV_ADD, fd=" + fd + "): EBADF (Bad file descriptor)", e.getMessage());
        assertFalse(IoAtom.isRegistered(b, AppStruct.IO));
        assertEquals(1, poller.size());
        assertEquals(1, poller.await(2000), "the good atom's event was not consumed by add's receipts");
        poller.dispatch();
        assertEquals(READ, AppStruct.lastEvents(g));
    }

    @Test
    void aDeferredChangeThatFailsIsAnErrorForThatAtomOnly() throws IOException {
        Poller poller = open(8);
        TestPipe a = pipe();
        TestPipe b = pipe();
        MemorySegment sa = AppStruct.allocate(arena, 1, a.readFd());
        MemorySegment sb = AppStruct.allocate(arena, 2, b.readFd());
        poller.add(sa, AppStruct.IO, READ, record);
        poller.add(sb, AppStruct.IO, READ, record);
        // Misuse on purpose: close a's fd while registered, so the deferred change fails (EBADF).
        a.closeRead();
        poller.set(sa, AppStruct.IO, READ | WRITE);
        b.write(1);
        drain(poller, 5);
        assertTrue((masks(1) & ERROR) != 0, "the failed change reached its own atom: " + seen);
        assertEquals(READ, masks(2), "the other atom got its event, and no error: " + seen);
        poller.remove(sa, AppStruct.IO); // remove after close is tolerated (EBADF ignored)
        b.write(1);
        assertEquals(1, poller.await(2000));
        poller.dispatch();
        assertEquals(2, AppStruct.calls(sb));
    }

    @Test
    void aFullChangelistIsFlushedAndAFailureInItReachesOnlyItsAtom() throws IOException {
        int atoms = 200; // more changes than the changelist holds (128): set() must flush on the spot
        Poller poller = open(atoms);
        TestPipe[] pipes = new TestPipe[atoms];
        MemorySegment[] s = new MemorySegment[atoms];
        for (int i = 0; i < atoms; i++) {
            pipes[i] = pipe();
            // Watch the write ends: an empty pipe is writable, so WRITE interest is reported at once.
            s[i] = AppStruct.allocate(arena, i, pipes[i].writeFd());
            poller.add(s[i], AppStruct.IO, 0, record);
        }
        // Misuse on purpose, to make changes fail: atom 50's change is in the first 128, which the
        // 129th set() flushes on the spot; atom 150's goes to the kernel with the next wait.
        java.util.Set<Integer> broken = java.util.Set.of(50, 150);
        for (int i : broken) {
            pipes[i].closeWrite();
        }
        for (int i = 0; i < atoms; i++) {
            poller.set(s[i], AppStruct.IO, WRITE);
        }
        drain(poller, 10);
        for (int i = 0; i < atoms; i++) {
            if (broken.contains(i)) {
                assertTrue((masks(i) & ERROR) != 0, "atom " + i + " gets its error: " + seen.get((long) i));
            } else {
                assertEquals(WRITE, masks(i), "atom " + i + ": " + seen.get((long) i));
            }
        }
        for (int i : broken) {
            poller.remove(s[i], AppStruct.IO);
        }
        assertEquals(atoms - 2, poller.size());
    }

    @Test
    void aDeferredDeleteNeverRemovesALaterRegistrationOfTheSameFdNumber() throws IOException {
        Poller poller = open(8);
        TestPipe old = pipe();
        int fd = old.readFd();
        MemorySegment so = AppStruct.allocate(arena, 1, fd);
        poller.add(so, AppStruct.IO, READ, record);
        poller.remove(so, AppStruct.IO); // EV_DELETE waits in the changelist
        old.closeRead();
        TestPipe fresh = pipe();
        assertEquals(fd, fresh.readFd(), "the kernel reuses the lowest free fd");
        MemorySegment sf = AppStruct.allocate(arena, 2, fresh.readFd());
        poller.add(sf, AppStruct.IO, READ, record); // submits the old delete first, then the add
        fresh.write(1);
        assertEquals(1, poller.await(2000), "the new registration is alive");
        poller.dispatch();
        assertEquals(READ, AppStruct.lastEvents(sf));
        assertEquals(0, AppStruct.calls(so));
        // Deferred delete, close, reuse by an fd nobody registers: the delete's ENOENT is ignored.
        poller.remove(sf, AppStruct.IO);
        fresh.closeRead();
        TestPipe other = pipe();
        other.write(1);
        assertEquals(0, poller.await(50));
    }

    @Test
    void readAndWriteOfOneFdArriveInOneCall() throws IOException {
        Poller poller = open(8);
        int fd = Syscalls.eventfd2(1, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC); // readable and writable
        assertTrue(fd >= 0);
        closeables.add(() -> Syscalls.close(fd));
        MemorySegment s = AppStruct.allocate(arena, 1, fd);
        poller.add(s, AppStruct.IO, READ | WRITE, record);
        assertEquals(1, poller.await(2000), "two knotes, one ready entry");
        assertEquals(1, poller.dispatch());
        assertEquals(READ | WRITE, AppStruct.lastEvents(s));
    }

    @Test
    void registeringWithNoInterestStillChecksTheFdAndReportsNothing() throws IOException {
        Poller poller = open(8);
        TestPipe p = pipe();
        p.write(1);
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        poller.add(s, AppStruct.IO, 0, record);
        assertEquals(0, poller.await(50));
        poller.set(s, AppStruct.IO, READ);
        assertEquals(1, poller.await(2000), "enabling READ reports data that is already there");
        poller.dispatch();
        assertEquals(READ, AppStruct.lastEvents(s));
        TestPipe q = pipe();
        int fd = q.readFd();
        q.closeRead();
        assertThrows(IoException.class, () -> poller.add(AppStruct.allocate(arena, 2, fd), AppStruct.IO, 0, record));
    }

    /** The emulation's fault injection (see src/test/c/kqueue_emulation.c); skips where kqueue is the OS's. */
    @SuppressWarnings("restricted")
    private static MethodHandle emulationHook(String name, FunctionDescriptor descriptor) {
        KqueueAbi abi = KqueueAbi.load();
        assumeTrue(abi.library() != null, "kqueue is the OS's here: no fault injection");
        var lookup = SymbolLookup.libraryLookup(abi.library(), Arena.global());
        return Linker.nativeLinker().downcallHandle(lookup.find(name).orElseThrow(), descriptor);
    }

    /** The next {@code count} kevent calls of this thread fail with {@code errno}, changing nothing. */
    private static void refuseKevents(int count, int errno) throws Throwable {
        emulationHook("kqueue_emulation_refuse_calls", FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT))
                .invokeExact(count, errno);
    }

    /** The next {@code count} waits of this thread fail with EINTR once their changes are applied. */
    private static void interruptWaits(int count) throws Throwable {
        emulationHook("kqueue_emulation_interrupt_waits", FunctionDescriptor.ofVoid(JAVA_INT)).invokeExact(count);
    }

    @Test
    void anInterruptedWaitHasAppliedItsChangesAndWaitsOn() throws Throwable {
        Poller poller = open(8);
        TestPipe p = pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        poller.add(s, AppStruct.IO, 0, record);
        p.write(1);
        poller.set(s, AppStruct.IO, READ); // deferred: goes to the kernel with the wait
        interruptWaits(1);
        assertEquals(1, poller.await(5000), "the change was applied before the interruption, and its event"
                + " comes from the repeat that learns errno");
        poller.dispatch();
        assertEquals(READ, AppStruct.lastEvents(s));
        interruptWaits(1);
        // EINTR does not end await: with nothing ready the wait goes on for the time left (only
        // the lower bound is checked, so a slow machine cannot fail it).
        long start = System.nanoTime();
        assertEquals(0, poller.await(100), "interrupted with nothing ready: no events, no exception");
        assertTrue(System.nanoTime() - start >= 100_000_000L, "the interrupted wait went on until its timeout");
        p.write(1);
        assertEquals(1, poller.await(2000), "the next wait works");
    }

    @Test
    void aKeventRefusedAsAWholeThrowsWithItsErrnoAndATransientRefusalIsRetried() throws Throwable {
        Poller poller = open(8);
        TestPipe p = pipe();
        MemorySegment s = AppStruct.allocate(arena, 1, p.readFd());
        // The wait: the call and the capturing repeat are both refused.
        refuseKevents(2, 9);
        var e = assertThrows(IoException.class, () -> poller.await(0));
        assertTrue(e.getMessage().matches("kevent\\(fd=\\d+\\): EBADF \\(Bad file descriptor\\)"), e.getMessage());
        // add's synchronous flush: likewise.
        refuseKevents(2, 9);
        e = assertThrows(IoException.class, () -> poller.add(s, AppStruct.IO, READ, record));
        assertTrue(e.getMessage().matches("kevent\\(changes, fd=\\d+\\): EBADF \\(Bad file descriptor\\)"),
                e.getMessage());
        assertFalse(IoAtom.isRegistered(s, AppStruct.IO));
        // Refused once only: the repeat succeeds, so the changes are submitted again and add works.
        refuseKevents(1, 4);
        poller.add(s, AppStruct.IO, READ, record);
        p.write(1);
        assertEquals(1, poller.await(2000));
        poller.dispatch();
        assertEquals(READ, AppStruct.lastEvents(s));
        // A wait refused once: the repeat (zero timeout, capturing) returns what is ready.
        p.write(1);
        refuseKevents(1, 4);
        assertEquals(1, poller.await(2000));
    }

    @Test
    void thePipeWakerUsedOnMacosAndFreebsdWakesAWaitAndNeverBlocks() throws Exception {
        Poller poller = open(8);
        PipeWaker waker = PipeWaker.open(arena); // pipe(), read(), write() from kqueue's C library
        closeables.add(waker::close);
        MemorySegment s = AppStruct.allocate(arena, 1, waker.fd());
        poller.add(s, AppStruct.IO, READ, (owner, events) -> {
            record.onEvents(owner, events);
            waker.drain();
        });
        waker.drain(); // nothing unread: returns at once on a blocking pipe
        assertEquals(0, poller.await(0));
        Thread other = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            waker.signal();
        });
        other.start();
        assertEquals(1, poller.await(-1), "woken from another thread");
        poller.dispatch();
        other.join();
        assertEquals(0, poller.await(100), "drained: no new edge");
        waker.signal();
        waker.signal(); // a byte is already unread: writes nothing more
        assertEquals(1, poller.await(2000));
        poller.dispatch();
        assertEquals(0, poller.await(100), "the one unread byte was drained: nothing left to report");
        assertEquals(2, AppStruct.calls(s));
    }

    @Test
    void whereKqueueComesFromIsDecidedInOnePlace() {
        Platform linux = Platform.detect("Linux", "amd64");
        assertFalse(KqueueAbi.choose(linux, null, null).available());
        assertEquals("kqueue is not available: invalid ioatom.kqueue.abi value 'netbsd': expected freebsd or macos",
                KqueueAbi.choose(linux, "/x", "netbsd").unavailableReason());
        assertEquals("kqueue is not available: ioatom.kqueue.library=/no/such/lib.so names no file",
                KqueueAbi.choose(linux, "/no/such/lib.so", null).unavailableReason());
        String lib = KqueueAbi.chooseNow().library() != null ? KqueueAbi.chooseNow().library().toString() : null;
        if (lib != null) {
            var emulated = KqueueAbi.choose(linux, lib, null);
            assertEquals("freebsd", emulated.abi(), "an emulation defaults to the FreeBSD layout");
            assertEquals(Path.of(lib), emulated.library());
            assertEquals("macos", KqueueAbi.choose(linux, lib, "MacOS").abi());
        }
        var mac = KqueueAbi.choose(Platform.detect("Mac OS X", "aarch64"), null, null);
        assertEquals("macos", mac.abi());
        assertEquals(32, mac.keventAbi().keventSize());
        assertEquals(null, mac.library(), "the OS C library");
        var bsd = KqueueAbi.choose(Platform.detect("FreeBSD", "amd64"), null, null);
        assertEquals("freebsd", bsd.abi());
        assertEquals(64, bsd.keventAbi().keventSize());
        assertTrue(bsd.available());
        assertEquals("kqueue is not available on freebsd-i386: ioatom's kqueue bindings are for 64-bit x86_64 and"
                + " aarch64 only", KqueueAbi.choose(Platform.detect("FreeBSD", "i386"), null, null).unavailableReason());
        assertTrue(KqueueAbi.choose(Platform.detect("FreeBSD", "amd64"), null, "macos").unavailableReason()
                .contains("does not match this OS (freebsd)"));
    }
}
