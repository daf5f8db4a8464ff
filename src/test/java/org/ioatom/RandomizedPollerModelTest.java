package org.ioatom;

import static org.ioatom.IoAtom.ERROR;
import static org.ioatom.IoAtom.HUP;
import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.testing.AppStruct;
import org.ioatom.testing.EveryBackend;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded random sequences of add, set, remove, close-and-reuse of descriptors, pipe writes,
 * drains, end of stream and wake-ups, many of them performed inside handlers, checked against
 * a reference model of which handler may see which event:
 * <ul>
 * <li>a handler runs only for an atom registered at that moment (one removed earlier in the batch,
 *     or replaced by a new atom on a reused descriptor, never sees the old event);</li>
 * <li>an atom added after the wait that gathered a batch is not called in that batch;</li>
 * <li>no atom is called twice in one batch;</li>
 * <li>a handler gets a non-empty subset of its current interest plus HUP/ERROR; HUP and ERROR come
 *     with the whole interest; HUP only after the pipe's writer closed (never on select); ERROR
 *     never (the sequences do not misuse descriptors);</li>
 * <li>no lost wake-ups: an atom with READ interest and unread data (or end of stream), or WRITE
 *     interest and a new chance to write, is called within {@value #BOUND} await/dispatch rounds;</li>
 * <li>{@code dispatch()} returns the number of handler calls; {@code size()} the registered atoms.</li>
 * </ul>
 * Handlers follow the edge-triggered contract (read or write until the call would block), so
 * the same checks hold on the level-triggered backends.
 *
 * <p>System properties: {@code ioatom.test.seed} replays one sequence (the failure message
 * prints it), {@code ioatom.test.trace=true} prints its operations; {@code ioatom.test.sequences}
 * (default 5000) and {@code ioatom.test.budgetMillis} (default 15000, per backend) bound a run;
 * {@code ioatom.test.baseSeed} fixes the seeds of a whole run; {@code ioatom.test.kinds} (as for every
 * backend suite, see {@code Kinds}) runs one backend.
 */
@Timeout(180)
class RandomizedPollerModelTest {
    /** Rounds within which a due atom must be called. */
    static final int BOUND = 3;
    private static final int MAX_CHANNELS = 6;

    @EveryBackend
    void randomSequencesMatchTheModel(PollerKind kind) throws Exception {
        String replay = System.getProperty("ioatom.test.seed");
        boolean trace = Boolean.getBoolean("ioatom.test.trace");
        if (replay != null && !replay.isBlank()) {
            long seed = Long.decode(replay.trim());
            runOne(kind, seed, trace);
            System.out.println(kind + ": replayed seed " + hex(seed) + " without failure");
            return;
        }
        int sequences = Integer.getInteger("ioatom.test.sequences", 5000);
        long budget = Long.getLong("ioatom.test.budgetMillis", 15_000L);
        String base = System.getProperty("ioatom.test.baseSeed");
        long baseSeed = base != null ? Long.decode(base) : System.nanoTime() ^ 0x5DEECE66DL;
        long start = System.nanoTime();
        long[] totals = new long[3];
        int done = 0;
        SplittableRandom seeds = new SplittableRandom(baseSeed);
        while (done < sequences && (System.nanoTime() - start) / 1_000_000 < budget) {
            long seed = seeds.nextLong();
            Stats s = runOne(kind, seed, false);
            totals[0] += s.rounds;
            totals[1] += s.calls;
            totals[2] += s.ops;
            done++;
        }
        System.out.printf("%s: %d sequences, %d rounds, %d handler calls, %d operations in %d ms (base seed %s)%n",
                kind, done, totals[0], totals[1], totals[2], (System.nanoTime() - start) / 1_000_000, hex(baseSeed));
        if (done < Math.min(sequences, 200)) {
            throw new AssertionError("only " + done + " sequences fit in " + budget + " ms: machine overloaded?");
        }
    }

    private static Stats runOne(PollerKind kind, long seed, boolean trace) throws Exception {
        try (Run run = new Run(kind, seed, trace)) {
            run.execute();
            return run.stats;
        } catch (Throwable t) {
            throw new AssertionError(kind + " seed " + hex(seed) + ": " + t.getMessage()
                    + "\n  replay: mvn -q -B test -Dtest=RandomizedPollerModelTest -Dioatom.test.kinds=" + kind
                    + " -Dioatom.test.seed=" + hex(seed) + " -Dioatom.test.trace=true", t);
        }
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static final class Stats {
        long rounds;
        long calls;
        long ops;
    }

    /** Thrown by handlers on purpose. */
    static final class Planned extends IOException {
        private static final long serialVersionUID = 1L;

        Planned() {
            super("planned handler failure");
        }
    }

    /** One pipe; its atom sits on the read end (a reader) or on the write end (a writer). */
    static final class Channel {
        int rfd;
        int wfd;
        boolean writerSide;
        long unread;
        boolean writerClosed;
        boolean full;
        Atom atom;
        final int serial;

        Channel(int serial) {
            this.serial = serial;
        }

        int atomFd() {
            return writerSide ? wfd : rfd;
        }

        @Override
        public String toString() {
            return (writerSide ? "W" : "R") + serial + "(r" + rfd + ",w" + wfd + ")";
        }
    }

    /** One registration's struct, and what the model knows about it. */
    static final class Atom {
        final int serial;
        final MemorySegment seg;
        final Channel ch;
        boolean registered;
        int interest;
        int addedEpoch;
        int calledEpoch = -1;
        /** Epoch from which the atom is owed a call, or -1. */
        int dueSince = -1;
        /** A writer atom had a new chance to write since its last WRITE call. */
        boolean edge;

        Atom(int serial, MemorySegment seg, Channel ch) {
            this.serial = serial;
            this.seg = seg;
            this.ch = ch;
        }

        @Override
        public String toString() {
            return "atom" + serial + "@" + ch + "[" + IoAtom.toString(interest) + (registered ? "" : ",removed") + "]";
        }
    }

    static final class Run implements IoHandler, AutoCloseable {
        final PollerKind kind;
        final SplittableRandom rnd;
        final boolean trace;
        final Arena arena = Arena.ofConfined();
        final MemorySegment buf = arena.allocate(65536);
        final MemorySegment fdPair = arena.allocate(ValueLayout.JAVA_INT, 2);
        final Poller poller;
        final List<Channel> channels = new ArrayList<>();
        final List<Atom> atoms = new ArrayList<>();
        final Stats stats = new Stats();
        int channelSerial;
        int epoch;
        boolean calm;
        int callsThisDispatch;

        Run(PollerKind kind, long seed, boolean trace) throws IOException {
            this.kind = kind;
            this.rnd = new SplittableRandom(seed);
            this.trace = trace;
            this.poller = Poller.open(kind, 16);
        }

        void log(String what) {
            if (trace) {
                System.out.println("[epoch " + epoch + "] " + what);
            }
        }

        static void check(boolean ok, String what) {
            if (!ok) {
                throw new AssertionError(what);
            }
        }

        // ---- the sequence ----

        void execute() throws IOException {
            int initial = 1 + rnd.nextInt(MAX_CHANNELS);
            for (int i = 0; i < initial; i++) {
                Channel c = newChannel();
                if (rnd.nextInt(4) != 0) {
                    add(c);
                }
            }
            int rounds = 10 + rnd.nextInt(30);
            for (int r = 0; r < rounds; r++) {
                int ops = rnd.nextInt(4);
                for (int i = 0; i < ops; i++) {
                    randomOp(false);
                }
                round(rnd.nextInt(4) == 0);
            }
            // Quiesce: no more random operations; every due atom must be served within the bound.
            calm = true;
            for (int r = 0; r <= BOUND + 1; r++) {
                round(false);
            }
            for (Atom a : atoms) {
                check(!due(a), "lost wake-up: " + a + " still owed a call after quiescing (unread " + a.ch.unread
                        + ", writerClosed " + a.ch.writerClosed + ", full " + a.ch.full + ")");
            }
        }

        /** One await/dispatch round; {@code opsBetween}: operations between await and dispatch. */
        void round(boolean opsBetween) throws IOException {
            epoch++;
            stats.rounds++;
            for (Atom a : atoms) {
                if (due(a)) {
                    if (a.dueSince < 0) {
                        a.dueSince = epoch;
                    }
                    check(epoch - a.dueSince <= BOUND, "lost wake-up: " + a + " owed a call since epoch " + a.dueSince);
                } else {
                    a.dueSince = -1;
                }
            }
            int n = poller.await(0);
            log("await -> " + n);
            check(n >= 0 && n <= poller.size(), "await returned " + n + " with " + poller.size() + " atoms");
            if (opsBetween) {
                randomOp(false);
            }
            while (true) {
                callsThisDispatch = 0;
                try {
                    int calls = poller.dispatch();
                    check(calls == callsThisDispatch, "dispatch() returned " + calls + " but " + callsThisDispatch
                            + " handlers ran");
                    break;
                } catch (Planned e) {
                    log("dispatch threw the planned failure; dispatching the rest");
                }
            }
            int registered = 0;
            for (Atom a : atoms) {
                if (a.registered) {
                    registered++;
                    check(IoAtom.isRegistered(a.seg, AppStruct.IO), a + " registered but its atom says no");
                    check(IoAtom.interest(a.seg, AppStruct.IO) == a.interest, a + " atom shows other events");
                }
            }
            check(poller.size() == registered, "size() " + poller.size() + " but the model has " + registered);
        }

        boolean due(Atom a) {
            if (!a.registered) {
                return false;
            }
            Channel c = a.ch;
            if (c.writerSide) {
                return (a.interest & WRITE) != 0 && a.edge && !c.full;
            }
            return (a.interest & READ) != 0 && (c.unread > 0 || c.writerClosed);
        }

        // ---- the handler and the model's rules ----

        @Override
        public void onEvents(MemorySegment owner, int events) throws IOException {
            stats.calls++;
            callsThisDispatch++;
            int serial = (int) owner.get(ValueLayout.JAVA_LONG, AppStruct.ID);
            check(serial >= 0 && serial < atoms.size(), "handler got an unknown struct " + serial);
            Atom a = atoms.get(serial);
            log("call " + a + " " + IoAtom.toString(events));
            check(a.seg == owner, "handler got another segment than the one added");
            check(a.registered, "handler called for " + a + ", removed before its turn");
            check(a.addedEpoch < epoch, "handler called for " + a + ", added during this batch");
            check(a.calledEpoch != epoch, "handler called twice in one batch for " + a);
            a.calledEpoch = epoch;
            check(events != 0 && (events & ~0xF) == 0, "bad events " + events);
            check(a.interest != 0, a + " has no interest but was called");
            check((events & ~(a.interest | HUP | ERROR)) == 0,
                    a + " got " + IoAtom.toString(events) + ", outside its interest");
            if ((events & (HUP | ERROR)) != 0) {
                check((events & a.interest) == a.interest, "HUP/ERROR without the interest bits: "
                        + IoAtom.toString(events) + " for " + a);
            }
            check((events & ERROR) == 0, "ERROR on a healthy pipe: " + a);
            if ((events & HUP) != 0) {
                check(kind != PollerKind.SELECT, "select reported HUP");
                check(!a.ch.writerSide && a.ch.writerClosed, "HUP while the pipe's writer is open: " + a);
            }
            // The app's part: move data until the call would block.
            Channel c = a.ch;
            if (!c.writerSide && (events & READ) != 0) {
                a.dueSince = -1;
                if (drain(c)) {
                    log("  end of stream: remove and close " + c);
                    remove(a);
                    closeChannel(c);
                    return;
                }
            }
            if (c.writerSide && (events & WRITE) != 0) {
                a.dueSince = -1;
                a.edge = false;
                int choice = rnd.nextInt(calm ? 2 : 3);
                if (choice == 0) {
                    fill(c);
                } else if (choice == 1) {
                    set(a, 0);
                }
                // choice 2: nothing more to write now, interest kept (edge-triggered: no more WRITE)
            }
            if (!calm && rnd.nextInt(2) == 0) {
                int ops = 1 + rnd.nextInt(2);
                for (int i = 0; i < ops; i++) {
                    randomOp(true);
                }
                if (rnd.nextInt(20) == 0) {
                    log("  throw");
                    throw new Planned();
                }
            }
        }

        // ---- operations ----

        void randomOp(boolean inHandler) throws IOException {
            stats.ops++;
            switch (rnd.nextInt(10)) {
                case 0, 1 -> {
                    Channel c = pick(ch -> ch.atom == null);
                    if (c != null) {
                        add(c);
                    } else if (channels.size() < MAX_CHANNELS) {
                        add(newChannel());
                    }
                }
                case 2 -> {
                    Atom a = pickAtom();
                    if (a != null) {
                        remove(a);
                        if (rnd.nextInt(3) == 0) {
                            // The same struct, added again at once (a new registration).
                            reAdd(a);
                        }
                    }
                }
                case 3 -> {
                    Atom a = pickAtom();
                    if (a != null) {
                        set(a, randomInterest(a.ch));
                    }
                }
                case 4 -> {
                    Atom a = pickAtom();
                    if (a != null) {
                        reuse(a);
                    }
                }
                case 5, 6 -> {
                    Channel c = pick(ch -> !ch.writerSide && !ch.writerClosed);
                    if (c != null) {
                        int n = 1 + rnd.nextInt(200);
                        long w = Syscalls.write(c.wfd, buf, n);
                        check(w == n, "pipe write took " + w + " of " + n);
                        c.unread += n;
                        log("write " + n + " to " + c);
                    }
                }
                case 7 -> {
                    Channel c = pick(ch -> true);
                    if (c != null) {
                        log("drain " + c + " (not its handler)");
                        drain(c);
                    }
                }
                case 8 -> {
                    Channel c = pick(ch -> !ch.writerSide && !ch.writerClosed);
                    if (c != null && rnd.nextInt(3) == 0) {
                        log("close the writer of " + c);
                        Syscalls.close(c.wfd);
                        c.wfd = -1;
                        c.writerClosed = true;
                    }
                }
                default -> {
                    log("wakeup");
                    poller.wakeup();
                }
            }
        }

        Channel pick(java.util.function.Predicate<Channel> p) {
            List<Channel> ok = new ArrayList<>();
            for (Channel c : channels) {
                if (p.test(c)) {
                    ok.add(c);
                }
            }
            return ok.isEmpty() ? null : ok.get(rnd.nextInt(ok.size()));
        }

        Atom pickAtom() {
            Channel c = pick(ch -> ch.atom != null);
            return c == null ? null : c.atom;
        }

        int randomInterest(Channel c) {
            // READ on a pipe's write end and WRITE on its read end are never reported: they only
            // narrow or widen the interest, so that pending events must be dropped or kept.
            int main = c.writerSide ? WRITE : READ;
            int other = c.writerSide ? READ : WRITE;
            return switch (rnd.nextInt(6)) {
                case 0 -> 0;
                case 1 -> main | other;
                case 2 -> other;
                default -> main;
            };
        }

        Channel newChannel() throws IOException {
            int rc = Syscalls.pipe2(fdPair, Linux.O_NONBLOCK | Linux.O_CLOEXEC);
            if (rc < 0) {
                throw new IoException("pipe2", null, -1, -rc);
            }
            Channel c = new Channel(channelSerial++);
            c.rfd = fdPair.getAtIndex(ValueLayout.JAVA_INT, 0);
            c.wfd = fdPair.getAtIndex(ValueLayout.JAVA_INT, 1);
            c.writerSide = rnd.nextInt(4) == 0;
            channels.add(c);
            log("new channel " + c);
            return c;
        }

        void add(Channel c) throws IOException {
            MemorySegment seg = AppStruct.allocate(arena, atoms.size(), c.atomFd());
            Atom a = new Atom(atoms.size(), seg, c);
            atoms.add(a);
            register(a, randomInterest(c));
        }

        void reAdd(Atom a) throws IOException {
            if (a.ch.atom == null && channels.contains(a.ch)) {
                register(a, randomInterest(a.ch));
            }
        }

        void register(Atom a, int interest) throws IOException {
            log("add " + a + " with " + IoAtom.toString(interest));
            poller.add(a.seg, AppStruct.IO, interest, this);
            a.registered = true;
            a.interest = interest;
            a.addedEpoch = epoch;
            a.dueSince = -1;
            a.edge = a.ch.writerSide && (interest & WRITE) != 0 && !a.ch.full;
            a.ch.atom = a;
        }

        void set(Atom a, int interest) throws IOException {
            log("set " + a + " to " + IoAtom.toString(interest));
            poller.set(a.seg, AppStruct.IO, interest);
            if (a.ch.writerSide && (interest & WRITE) != 0 && (a.interest & WRITE) == 0 && !a.ch.full) {
                a.edge = true;
            }
            if (interest != a.interest) {
                a.dueSince = -1;
            }
            a.interest = interest;
        }

        void remove(Atom a) throws IOException {
            log("remove " + a);
            poller.remove(a.seg, AppStruct.IO);
            a.registered = false;
            a.dueSince = -1;
            a.ch.atom = null;
            check(!IoAtom.isRegistered(a.seg, AppStruct.IO), "removed atom still says registered");
        }

        /** Closes a channel's descriptors and registers a new atom on a new pipe, which likely reuses them. */
        void reuse(Atom a) throws IOException {
            Channel old = a.ch;
            if (rnd.nextBoolean()) {
                remove(a);
                closeChannel(old);
            } else {
                // Close first, remove right after: tolerated.
                log("close " + old + " before removing " + a);
                closeChannel(old);
                remove(a);
            }
            Channel c = newChannel();
            add(c);
            if (!c.writerSide && rnd.nextBoolean()) {
                Syscalls.write(c.wfd, buf, 1);
                c.unread += 1;
            }
        }

        void closeChannel(Channel c) {
            Syscalls.close(c.rfd);
            if (c.wfd >= 0) {
                Syscalls.close(c.wfd);
            }
            c.rfd = -1;
            c.wfd = -1;
            channels.remove(c);
        }

        /** Reads a channel until it would block; returns true at end of stream. */
        boolean drain(Channel c) {
            boolean wasFull = c.full;
            while (true) {
                long r = Syscalls.read(c.rfd, buf, buf.byteSize());
                if (r > 0) {
                    c.unread -= r;
                    continue;
                }
                check(c.writerSide || c.unread == 0, "drained " + c + " but " + c.unread + " bytes are missing");
                c.unread = 0;
                if (c.writerSide) {
                    c.full = false;
                    if (wasFull && c.atom != null) {
                        c.atom.edge = true;
                    }
                }
                return r == 0;
            }
        }

        void fill(Channel c) {
            long total = 0;
            long w;
            while ((w = Syscalls.write(c.wfd, buf, buf.byteSize())) > 0) {
                total += w;
            }
            c.full = true;
            log("  filled " + c + " with " + total + " bytes");
        }

        @Override
        public void close() {
            poller.close();
            for (Atom a : atoms) {
                check(!IoAtom.isRegistered(a.seg, AppStruct.IO), "close left " + a + " registered");
            }
            for (Channel c : new ArrayList<>(channels)) {
                closeChannel(c);
            }
            arena.close();
        }
    }
}
