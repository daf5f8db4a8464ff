package org.ioatom;

import static org.ioatom.IoAtom.READ;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.Threads;

/**
 * A poller's tables follow the registrations it holds, not its capacity: opening one for a
 * million atoms costs little, the tables grow past their first size with every atom and timer
 * still served (also when a handler makes them grow in the middle of a dispatch), the capacity
 * is still the exact limit.
 */
class PollerTablesGrowTest {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Well past the tables' first size (64) on every kind; select watches fds below 1024 only. */
    private static int atomsFor(PollerKind kind, int wanted) {
        int atoms = Math.min(kind == PollerKind.SELECT ? 600 : wanted, Threads.descriptorsLeft(200));
        assumeTrue(atoms >= 300, "this process may open only " + atoms + " more descriptors");
        return atoms;
    }

    /** Eventfds: readable once written, drained by one 8-byte read. */
    private static final class EventFds implements AutoCloseable {
        final List<Integer> fds = new ArrayList<>();
        private final MemorySegment word;

        EventFds(Arena arena) {
            word = arena.allocate(8);
        }

        int open() {
            int fd = Syscalls.eventfd2(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
            assertTrue(fd >= 0, "eventfd2: " + fd);
            fds.add(fd);
            return fd;
        }

        void signal(int fd) {
            word.set(ValueLayout.JAVA_LONG, 0, 1);
            assertEquals(8, Syscalls.write(fd, word, 8));
        }

        void drain(int fd) {
            Syscalls.read(fd, word, 8);
        }

        void close(int fd) {
            fds.remove(Integer.valueOf(fd));
            Syscalls.close(fd);
        }

        @Override
        public void close() {
            for (int fd : fds) {
                Syscalls.close(fd);
            }
            fds.clear();
        }
    }

    @EveryBackend
    void openingAPollerForAMillionAtomsReservesLittleMemory(PollerKind kind) throws IOException {
        int capacity = 1 << 20;
        // The first open of a kind loads and initialises classes: not the poller's own memory.
        Poller.open(kind, capacity).close();
        THREADS.getCurrentThreadAllocatedBytes();
        long before = THREADS.getCurrentThreadAllocatedBytes();
        Poller poller = Poller.open(kind, capacity);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        try {
            System.out.println(kind + ": Poller.open(" + kind + ", " + capacity + ") allocated " + allocated
                    + " bytes of Java heap");
            assertEquals(capacity, poller.capacity());
            assertEquals(capacity, poller.timers().capacity());
            assertTrue(allocated < 1 << 20, kind + ": opening a poller for " + capacity + " atoms allocated "
                    + allocated + " bytes (at most 1 MiB expected: the tables start small)");
        } finally {
            poller.close();
        }
    }

    @EveryBackend
    void thousandsOfAtomsPastTheFirstTableSizeAreEachDispatchedToTheirOwnAtom(PollerKind kind) throws IOException {
        try (Arena arena = Arena.ofConfined(); EventFds events = new EventFds(arena)) {
            int atoms = atomsFor(kind, 3000);
            MemorySegment[] structs = new MemorySegment[atoms];
            int[] calls = new int[atoms];
            int[] fdOf = new int[atoms];
            IoHandler handler = (owner, ev) -> {
                int id = (int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID);
                calls[id]++;
                events.drain(fdOf[id]);
            };
            try (Poller poller = Poller.open(kind, 100_000)) {
                for (int i = 0; i < atoms; i++) {
                    fdOf[i] = events.open();
                    structs[i] = AppStruct.allocate(arena, i, fdOf[i]);
                    poller.add(structs[i], AppStruct.IO, READ, handler);
                }
                assertEquals(atoms, poller.size());
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < atoms; i++) {
                        events.signal(fdOf[i]);
                    }
                    int total = 0;
                    for (int turn = 0; turn < 100 && total < atoms; turn++) {
                        poller.await(1000);
                        total += poller.dispatch();
                    }
                    assertEquals(atoms, total, "round " + round + ": one call per signalled atom");
                    for (int i = 0; i < atoms; i++) {
                        assertEquals(round + 1, calls[i], "atom " + i + " (fd " + fdOf[i] + ") in round " + round);
                    }
                }
                for (int i = 0; i < atoms; i++) {
                    poller.remove(structs[i], AppStruct.IO);
                }
                assertEquals(0, poller.size());
            }
        }
    }

    @EveryBackend
    void requeuedAtomsPastTheFirstTableSizeAreEachCalledOnceMore(PollerKind kind) throws IOException {
        try (Arena arena = Arena.ofConfined(); EventFds events = new EventFds(arena)) {
            int atoms = atomsFor(kind, 2000);
            MemorySegment[] structs = new MemorySegment[atoms];
            int[] calls = new int[atoms];
            int[] eventsSeen = new int[atoms];
            IoHandler handler = (owner, ev) -> {
                int id = (int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID);
                calls[id]++;
                eventsSeen[id] = ev;
            };
            try (Poller poller = Poller.open(kind, 100_000)) {
                for (int i = 0; i < atoms; i++) {
                    structs[i] = AppStruct.allocate(arena, i, events.open());
                    poller.add(structs[i], AppStruct.IO, READ, handler);
                }
                // Requeued from the loop thread, in the highest slots first: the list grows at once.
                for (int i = atoms - 1; i >= 0; i--) {
                    poller.requeue(structs[i], AppStruct.IO);
                }
                int total = 0;
                for (int turn = 0; turn < 100 && total < atoms; turn++) {
                    poller.await(0);
                    total += poller.dispatch();
                }
                assertEquals(atoms, total, "one call per requeued atom");
                for (int i = 0; i < atoms; i++) {
                    assertEquals(1, calls[i], "atom " + i);
                    assertEquals(READ, eventsSeen[i], "atom " + i + " gets its interest");
                }
            }
        }
    }

    @EveryBackend
    void tablesThatGrowDuringADispatchNeverDeliverAStaleOrNewEntryInThatBatch(PollerKind kind) throws IOException {
        try (Arena arena = Arena.ofConfined(); EventFds events = new EventFds(arena)) {
            // The first table has 63 atom slots: fill it, so the handler's first add must grow every table.
            int first = 63;
            int added = atomsFor(kind, 1000) - first;
            int total = first + added;
            MemorySegment[] structs = new MemorySegment[total];
            int[] fdOf = new int[total];
            int[] calls = new int[total];
            int[] victim = {-1};
            int[] dispatchNumber = {0};
            int[] callsInFirstDispatchOfLaterAtoms = {0};
            try (Poller poller = Poller.open(kind, 100_000)) {
                IoHandler[] handler = new IoHandler[1];
                handler[0] = (owner, ev) -> {
                    int id = (int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID);
                    calls[id]++;
                    events.drain(fdOf[id]);
                    if (id >= first && dispatchNumber[0] == 0) {
                        callsInFirstDispatchOfLaterAtoms[0]++;
                    }
                    if (victim[0] >= 0) {
                        return;
                    }
                    // The first handler called: remove an atom whose entry is still in this batch,
                    // close its fd, and add enough atoms (ready at once, the first on the reused fd
                    // number and in the freed slot) to grow the tables several times over.
                    for (int i = 0; i < first; i++) {
                        if (i != id && calls[i] == 0) {
                            victim[0] = i;
                            break;
                        }
                    }
                    try {
                        poller.remove(structs[victim[0]], AppStruct.IO);
                        events.close(fdOf[victim[0]]);
                        for (int i = first; i < total; i++) {
                            fdOf[i] = events.open();
                            events.signal(fdOf[i]);
                            structs[i] = AppStruct.allocate(arena, i, fdOf[i]);
                            poller.add(structs[i], AppStruct.IO, READ, handler[0]);
                        }
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                };
                for (int i = 0; i < first; i++) {
                    fdOf[i] = events.open();
                    structs[i] = AppStruct.allocate(arena, i, fdOf[i]);
                    poller.add(structs[i], AppStruct.IO, READ, handler[0]);
                    events.signal(fdOf[i]);
                }
                int gathered = poller.await(1000);
                assertEquals(first, gathered, "every first atom is ready in the one batch");
                int called = poller.dispatch();
                dispatchNumber[0]++;
                assertTrue(victim[0] >= 0, "a handler ran and grew the tables");
                assertEquals(first - 1, called, "every first atom but the removed one");
                assertEquals(0, calls[victim[0]], "the atom removed earlier in the batch got no event");
                assertEquals(0, callsInFirstDispatchOfLaterAtoms[0], "atoms added during the batch are not called in it");
                for (int i = 0; i < first; i++) {
                    assertEquals(i == victim[0] ? 0 : 1, calls[i], "first atom " + i);
                }
                assertEquals(total - 1, poller.size());
                int later = 0;
                for (int turn = 0; turn < 100 && later < added; turn++) {
                    poller.await(1000);
                    later += poller.dispatch();
                }
                assertEquals(added, later, "every atom added during the batch is called in the next ones");
                for (int i = first; i < total; i++) {
                    assertEquals(1, calls[i], "atom " + i + " added during the batch");
                }
            }
        }
    }

    @EveryBackend
    void capacityIsStillTheExactLimitOnceTheTablesHaveGrownToIt(PollerKind kind) throws IOException {
        int capacity = 100;
        try (Arena arena = Arena.ofConfined(); EventFds events = new EventFds(arena);
                Poller poller = Poller.open(kind, capacity, capacity)) {
            IoHandler handler = (owner, ev) -> { };
            MemorySegment[] structs = new MemorySegment[capacity];
            for (int i = 0; i < capacity; i++) {
                structs[i] = AppStruct.allocate(arena, i, events.open());
                poller.add(structs[i], AppStruct.IO, READ, handler);
            }
            assertEquals(capacity, poller.size());
            MemorySegment extra = AppStruct.allocate(arena, capacity, events.open());
            IllegalStateException full = assertThrows(IllegalStateException.class,
                    () -> poller.add(extra, AppStruct.IO, READ, handler));
            assertTrue(full.getMessage().startsWith("poller is full: 100 atoms"), full.getMessage());
            assertEquals(capacity, poller.size());
            poller.remove(structs[0], AppStruct.IO);
            poller.add(extra, AppStruct.IO, READ, handler);
            assertEquals(capacity, poller.size());

            MemorySegment timers = arena.allocate(IoTimer.SIZE * (capacity + 1), 8);
            TimerHandler onTimer = owner -> { };
            for (int i = 0; i < capacity; i++) {
                poller.timers().scheduleAfter(timers, IoTimer.SIZE * i, 1_000_000_000L, onTimer);
            }
            IllegalStateException noEntry = assertThrows(IllegalStateException.class,
                    () -> poller.timers().scheduleAfter(timers, IoTimer.SIZE * capacity, 1_000_000_000L, onTimer));
            assertTrue(noEntry.getMessage().startsWith("timer capacity 100 reached"), noEntry.getMessage());
            assertEquals(capacity, poller.timers().size());
            assertEquals(capacity, poller.timers().capacity());
        }
    }

    @EveryBackend
    void thousandsOfTimersPastTheFirstQueueSizeRunOnceEachInDeadlineOrder(PollerKind kind) throws IOException {
        int count = 3000;
        try (Arena arena = Arena.ofConfined(); Poller poller = Poller.open(kind, 16, 10_000)) {
            MemorySegment timers = arena.allocate(IoTimer.SIZE * count, 8);
            long base = System.nanoTime();
            long[] deadlineOf = new long[count];
            List<Integer> fired = new ArrayList<>();
            TimerHandler onTimer = owner -> fired.add((int) ((owner.address() - timers.address()) / IoTimer.SIZE));
            for (int i = 0; i < count; i++) {
                // Deadlines in a scrambled order, all within 2 ms, each distinct.
                deadlineOf[i] = base + 1000L * ((i * 7919L) % count);
                poller.timers().schedule(timers.asSlice(IoTimer.SIZE * i, IoTimer.SIZE), 0, deadlineOf[i], onTimer);
            }
            assertEquals(count, poller.timers().size());
            for (int turn = 0; turn < 1000 && fired.size() < count; turn++) {
                poller.await(100);
                poller.dispatch();
            }
            assertEquals(count, fired.size(), "every timer ran once");
            assertEquals(count, fired.stream().distinct().count(), "no timer ran twice");
            for (int i = 1; i < count; i++) {
                assertTrue(deadlineOf[fired.get(i - 1)] < deadlineOf[fired.get(i)], "deadline order at " + i);
            }
            assertEquals(0, poller.timers().size());
        }
    }
}
