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
 * The same sequences schedule, move, cancel and expire timers (in the loop, between await and
 * dispatch, inside I/O handlers and inside timer handlers; some timers reschedule themselves each
 * time they run, some handlers throw), and the model predicts exactly which timers run in each
 * dispatch and in which order. Deadlines are chosen so that real time cannot change the answer:
 * an hour before the poller opened (due at every await), an hour or more after it (never due in a
 * run), or {@code scheduleAfter(0)} (whose deadline is read back from the timer). The rules:
 * <ul>
 * <li>a dispatch calls the I/O handlers first, then the timers whose deadline is at or before the
 *     loop time ({@link Poller#now()}), one at a time, earliest deadline first, equal deadlines in
 *     the order they were scheduled (a move counts as a new schedule); no timer runs early, none
 *     twice, each with the handler it was last scheduled with, unscheduled before it runs;</li>
 * <li>a timer cancelled or moved by an earlier handler of the dispatch does not run in it;</li>
 * <li>a deadline already passed, scheduled during a dispatch, becomes loop time + 1 ns: the timer
 *     runs in the next dispatch (so a timer that reschedules itself runs once per dispatch);</li>
 * <li>a timer handler that throws ends the dispatch; the timers still due run in the next one;</li>
 * <li>after a dispatch that returned normally no timer is due; {@code await} counts the due timers
 *     in its result; {@code Timers.size()}, {@code IoTimer.isScheduled} and {@code IoTimer.deadline}
 *     match the model; closing the poller unschedules every timer.</li>
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
    private static final int TIMERS = 6;
    private static final long HOUR = 3_600_000_000_000L;

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
        long[] totals = new long[4];
        int done = 0;
        SplittableRandom seeds = new SplittableRandom(baseSeed);
        while (done < sequences && (System.nanoTime() - start) / 1_000_000 < budget) {
            long seed = seeds.nextLong();
            Stats s = runOne(kind, seed, false);
            totals[0] += s.rounds;
            totals[1] += s.calls;
            totals[2] += s.ops;
            totals[3] += s.timerCalls;
            done++;
        }
        System.out.printf("%s: %d sequences, %d rounds, %d handler calls (%d of them timers), %d operations in %d ms"
                + " (base seed %s)%n", kind, done, totals[0], totals[1], totals[3], totals[2],
                (System.nanoTime() - start) / 1_000_000, hex(baseSeed));
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
        long timerCalls;
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

    /** One timer's struct (an id, then the {@link IoTimer}), and what the model knows about it. */
    static final class Timer {
        static final long AT = 8;
        final int serial;
        final MemorySegment seg;
        /** Reschedules itself each time it runs, for a deadline already passed (so: the next dispatch). */
        final boolean periodic;
        boolean scheduled;
        long deadline;
        /** Schedule calls so far when it was last scheduled: breaks ties between equal deadlines. */
        long order;
        /** Which of the run's handlers it was last scheduled with. */
        int handler;

        Timer(int serial, MemorySegment seg, boolean periodic) {
            this.serial = serial;
            this.seg = seg;
            this.periodic = periodic;
        }

        @Override
        public String toString() {
            return "timer" + serial + (periodic ? "(periodic)" : "") + (scheduled ? "" : "[unscheduled]");
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
        final List<Timer> timers = new ArrayList<>();
        /** Two handlers, so that the model can tell which one a timer was last scheduled with. */
        final TimerHandler[] timerHandlers = {owner -> onTimer(owner, 0), owner -> onTimer(owner, 1)};
        /** Due at every await: an hour before the poller opened. */
        final long past;
        /** Never due during a run: an hour after the poller opened. */
        final long future;
        long schedules;
        /** Inside dispatch(): handlers run, passed deadlines move to loop time + 1. */
        boolean dispatching;
        /** A timer handler ran in the current dispatch() call: no I/O handler may follow. */
        boolean timerRan;

        Run(PollerKind kind, long seed, boolean trace) throws IOException {
            this.kind = kind;
            this.rnd = new SplittableRandom(seed);
            this.trace = trace;
            this.poller = Poller.open(kind, 16);
            past = poller.now() - HOUR;
            future = poller.now() + HOUR;
            for (int i = 0; i < TIMERS; i++) {
                MemorySegment seg = arena.allocate(Timer.AT + IoTimer.SIZE, 8);
                seg.set(ValueLayout.JAVA_LONG, 0, i);
                timers.add(new Timer(i, seg, rnd.nextInt(4) == 0));
            }
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
            for (Timer t : timers) {
                if (t.periodic || rnd.nextBoolean()) {
                    scheduleTimer(t);
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
            long now = poller.now();
            int dueTimers = 0;
            for (Timer t : timers) {
                if (t.scheduled && t.deadline <= now) {
                    dueTimers++;
                }
            }
            log("await -> " + n + " (" + dueTimers + " timers due)");
            check(n - dueTimers >= 0 && n - dueTimers <= poller.size(), "await returned " + n + " with "
                    + poller.size() + " atoms and " + dueTimers + " timers due");
            if (opsBetween) {
                randomOp(false);
            }
            while (true) {
                callsThisDispatch = 0;
                timerRan = false;
                dispatching = true;
                try {
                    int calls = poller.dispatch();
                    check(calls == callsThisDispatch, "dispatch() returned " + calls + " but " + callsThisDispatch
                            + " handlers ran");
                    break;
                } catch (HandlerException e) {
                    if (!(e.getCause() instanceof Planned)) {
                        throw e;
                    }
                    check(e.source() == HandlerException.Source.ATOM ? e.fd() == IoAtom.fd(e.owner(), e.atomOffset())
                            : e.fd() == -1, "the failure names " + e.source() + " fd " + e.fd());
                    log("dispatch threw the planned failure (" + e.source() + "); dispatching the rest");
                } finally {
                    dispatching = false;
                }
            }
            check(poller.now() == now, "the loop time changed during dispatch");
            for (Timer t : timers) {
                check(!t.scheduled || t.deadline > now, t + " was due (deadline " + (t.deadline - now)
                        + " ns from the loop time) but dispatch did not run it");
            }
            int scheduled = 0;
            for (Timer t : timers) {
                check(IoTimer.isScheduled(t.seg, Timer.AT) == t.scheduled, t + ": its struct says otherwise");
                if (t.scheduled) {
                    scheduled++;
                    check(IoTimer.deadline(t.seg, Timer.AT) == t.deadline, t + ": its deadline differs from the model's");
                }
            }
            check(poller.timers().size() == scheduled, "timers().size() " + poller.timers().size()
                    + " but the model has " + scheduled);
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
            check(!timerRan, "I/O handler called for " + a + " after a timer handler in the same dispatch");
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
            switch (rnd.nextInt(13)) {
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
                case 10, 11 -> scheduleTimer(timers.get(rnd.nextInt(TIMERS)));
                case 12 -> cancelTimer(timers.get(rnd.nextInt(TIMERS)));
                default -> {
                    log("wakeup");
                    poller.wakeup();
                }
            }
        }

        // ---- timers: operations, the handler and the model's rules ----

        /** Schedules or moves {@code t} for a random deadline with a random handler; the model follows. */
        void scheduleTimer(Timer t) {
            int handler = rnd.nextInt(2);
            long now = poller.now();
            long expected;
            String how;
            long before = System.nanoTime();
            switch (rnd.nextInt(t.periodic ? 2 : 5)) {
                case 0, 1 -> {
                    // Passed: due at the next await; during dispatch, loop time + 1. Few values: ties.
                    long d = past + rnd.nextInt(3);
                    poller.timers().schedule(t.seg, Timer.AT, d, timerHandlers[handler]);
                    expected = dispatching && d <= now ? now + 1 : d;
                    how = "passed deadline " + (d - past);
                }
                case 2, 3 -> {
                    long d = future + rnd.nextInt(3);
                    poller.timers().schedule(t.seg, Timer.AT, d, timerHandlers[handler]);
                    expected = d;
                    how = "far deadline " + (d - future);
                }
                default -> {
                    long delay = rnd.nextBoolean() ? 0 : 2 * HOUR;
                    poller.timers().scheduleAfter(t.seg, Timer.AT, delay, timerHandlers[handler]);
                    long after = System.nanoTime();
                    expected = IoTimer.deadline(t.seg, Timer.AT);
                    check(expected >= before + delay && expected <= after + delay, "scheduleAfter(" + delay
                            + ") set a deadline " + (expected - before) + " ns after the call began");
                    how = "scheduleAfter(" + delay + ")";
                }
            }
            log("schedule " + t + ": " + how + (t.scheduled ? " (moves it)" : "") + ", handler " + handler
                    + (expected == now + 1 ? ", at loop time + 1" : ""));
            check(IoTimer.isScheduled(t.seg, Timer.AT), t + " not scheduled after schedule");
            check(IoTimer.deadline(t.seg, Timer.AT) == expected, t + ": deadline " + IoTimer.deadline(t.seg, Timer.AT)
                    + ", the model expects " + expected + " (loop time " + now + ")");
            t.scheduled = true;
            t.deadline = expected;
            t.order = schedules++;
            t.handler = handler;
        }

        void cancelTimer(Timer t) {
            log("cancel " + t);
            boolean was = poller.timers().cancel(t.seg, Timer.AT);
            check(was == t.scheduled, "cancel returned " + was + " for " + t);
            check(!IoTimer.isScheduled(t.seg, Timer.AT), t + " still scheduled after cancel");
            t.scheduled = false;
        }

        /** The timer the model says runs next in this dispatch, or null. */
        Timer nextDue() {
            long now = poller.now();
            Timer next = null;
            for (Timer t : timers) {
                if (t.scheduled && t.deadline <= now && (next == null || t.deadline < next.deadline
                        || (t.deadline == next.deadline && t.order < next.order))) {
                    next = t;
                }
            }
            return next;
        }

        void onTimer(MemorySegment owner, int handler) throws IOException {
            stats.calls++;
            stats.timerCalls++;
            callsThisDispatch++;
            int serial = (int) owner.get(ValueLayout.JAVA_LONG, 0);
            check(serial >= 0 && serial < TIMERS, "timer handler got an unknown struct " + serial);
            Timer t = timers.get(serial);
            log("timer " + t + ", handler " + handler);
            check(t.seg == owner, "timer handler got another segment than the one scheduled");
            check(dispatching, t + " ran outside dispatch");
            check(t.scheduled, t + " ran but was not scheduled (cancelled, or already run)");
            check(t.deadline <= poller.now(), t + " ran early: deadline " + (t.deadline - poller.now())
                    + " ns after the loop time");
            Timer expected = nextDue();
            check(expected == t, t + " ran, but the model's next due timer is " + expected);
            check(t.handler == handler, t + " ran with handler " + handler + ", scheduled with " + t.handler);
            check(!IoTimer.isScheduled(owner, Timer.AT), t + " still scheduled while its handler runs");
            t.scheduled = false;
            timerRan = true;
            if (t.periodic) {
                scheduleTimer(t);
            }
            if (!calm && rnd.nextInt(2) == 0) {
                int ops = 1 + rnd.nextInt(3);
                for (int i = 0; i < ops; i++) {
                    randomOp(true);
                }
            }
            if (!calm && rnd.nextInt(10) == 0) {
                log("  throw");
                throw new Planned();
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
            for (Timer t : timers) {
                check(!IoTimer.isScheduled(t.seg, Timer.AT), "close left " + t + " scheduled");
            }
            for (Channel c : new ArrayList<>(channels)) {
                closeChannel(c);
            }
            arena.close();
        }
    }
}
