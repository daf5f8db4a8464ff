package org.ioatom.perf;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.agrona.DeadlineTimerWheel;
import org.ioatom.IoTimer;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
import org.ioatom.TimerHandler;
import org.ioatom.Timers;
import org.ioatom.internal.TimerQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One timer scheduled and cancelled, or scheduled and expired, while {@code live} others are
 * scheduled (1 000 to 1 000 000, deadlines spread over the hour after the next one, so none
 * expires during a run): ioatom's poller timers (a 4-ary heap), Agrona's
 * {@code DeadlineTimerWheel}, Netty's {@code HashedWheelTimer} and the JDK's
 * {@code ScheduledThreadPoolExecutor}. Run with {@code -prof gc}.
 *
 * <p>Each implementation has its own state, so a trial builds only the timers it measures (no
 * peer's thread runs during another's trial).
 *
 * <p>Expiry: ioatom schedules for a deadline already passed, then {@code await(0)} (one
 * epoll_pwait2 system call, no wait) and {@code dispatch()} run it; Agrona's wheel is polled
 * with the current time until the timer has expired. Netty's and the JDK's timers expire on
 * their own threads (a hand-off between threads, not comparable), so only their schedule +
 * cancel is measured. {@code ioatomQueueScheduleExpire} is the same expiry on ioatom's internal
 * heap alone (no system call, no dispatch): what the heap costs next to Agrona's wheel.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TimerBenchmark {
    private static final long HOUR = TimeUnit.HOURS.toNanos(1);

    /** ioatom: {@code live} IoTimers in one native array, and one more that the benchmark moves. */
    @State(Scope.Thread)
    public static class IoatomTimers {
        @Param({"1000", "100000", "1000000"})
        public int live;

        Arena arena;
        Poller poller;
        Timers timers;
        MemorySegment extra;
        /** The poller's heap on its own, holding the same deadlines (for the heap-only expiry). */
        TimerQueue<TimerHandler> queue;
        int fired;
        final TimerHandler count = owner -> fired++;
        final SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp() throws IOException {
            arena = Arena.ofConfined();
            poller = Poller.open(PollerKind.EPOLL, 16, live + 1);
            timers = poller.timers();
            MemorySegment all = arena.allocate(IoTimer.LAYOUT, live);
            extra = arena.allocate(IoTimer.LAYOUT);
            MemorySegment alsoQueued = arena.allocate(IoTimer.LAYOUT, live);
            queue = new TimerQueue<>(Integer.MAX_VALUE, live + 1);
            long base = System.nanoTime() + HOUR;
            for (int i = 0; i < live; i++) {
                long deadline = base + random.nextLong(HOUR);
                timers.schedule(all, i * IoTimer.SIZE, deadline, count);
                queue.schedule(alsoQueued, i * IoTimer.SIZE, deadline, count);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            if (timers.size() != live) {
                throw new IllegalStateException("live timers changed: " + timers.size());
            }
            poller.close();
            arena.close();
        }
    }

    /** Agrona: a wheel of 1024 ticks of 1 ms (2^20 ns), as for a server's timeouts. */
    @State(Scope.Thread)
    public static class AgronaTimers {
        @Param({"1000", "100000", "1000000"})
        public int live;

        DeadlineTimerWheel wheel;
        int fired;
        final DeadlineTimerWheel.TimerHandler count = (unit, now, id) -> {
            fired++;
            return true;
        };
        final SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp() {
            wheel = new DeadlineTimerWheel(TimeUnit.NANOSECONDS, System.nanoTime(), 1 << 20, 1024);
            long base = System.nanoTime() + HOUR;
            for (int i = 0; i < live; i++) {
                wheel.scheduleTimer(base + random.nextLong(HOUR));
            }
        }
    }

    /** Netty: the default wheel (512 ticks of 100 ms, its own worker thread). */
    @State(Scope.Thread)
    public static class NettyTimers {
        @Param({"1000", "100000", "1000000"})
        public int live;

        HashedWheelTimer timer;
        final TimerTask nothing = t -> { };
        final SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp() {
            timer = new HashedWheelTimer();
            for (int i = 0; i < live; i++) {
                timer.newTimeout(nothing, 3600 + random.nextLong(3600), TimeUnit.SECONDS);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            timer.stop();
        }
    }

    /** JDK: one thread, cancelled tasks removed from the queue at once (else they pile up). */
    @State(Scope.Thread)
    public static class JdkTimers {
        @Param({"1000", "100000", "1000000"})
        public int live;

        ScheduledThreadPoolExecutor executor;
        final Runnable nothing = () -> { };
        final SplittableRandom random = new SplittableRandom(7);

        @Setup(Level.Trial)
        public void setUp() {
            executor = new ScheduledThreadPoolExecutor(1);
            executor.setRemoveOnCancelPolicy(true);
            for (int i = 0; i < live; i++) {
                executor.schedule(nothing, 3600 + random.nextLong(3600), TimeUnit.SECONDS);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            executor.shutdownNow();
        }
    }

    @Benchmark
    public boolean ioatomScheduleCancel(IoatomTimers s) {
        s.timers.schedule(s.extra, 0, System.nanoTime() + HOUR + s.random.nextLong(HOUR), s.count);
        return s.timers.cancel(s.extra, 0);
    }

    @Benchmark
    public int ioatomScheduleExpire(IoatomTimers s) throws IOException {
        s.timers.schedule(s.extra, 0, System.nanoTime(), s.count);
        s.poller.await(0);
        return s.poller.dispatch();
    }

    @Benchmark
    public boolean ioatomQueueScheduleExpire(IoatomTimers s) {
        long now = System.nanoTime();
        s.queue.schedule(s.extra, 0, now, s.count);
        return s.queue.pollDue(now);
    }

    @Benchmark
    public boolean agronaScheduleCancel(AgronaTimers s) {
        long id = s.wheel.scheduleTimer(System.nanoTime() + HOUR + s.random.nextLong(HOUR));
        return s.wheel.cancelTimer(id);
    }

    @Benchmark
    public int agronaScheduleExpire(AgronaTimers s) {
        long now = System.nanoTime();
        s.wheel.scheduleTimer(now);
        int before = s.fired;
        // poll advances at most one tick per call: poll until this timer has run.
        while (s.fired == before) {
            s.wheel.poll(System.nanoTime(), s.count, Integer.MAX_VALUE);
        }
        return s.fired;
    }

    @Benchmark
    public boolean nettyScheduleCancel(NettyTimers s) {
        Timeout t = s.timer.newTimeout(s.nothing, 3600 + s.random.nextLong(3600), TimeUnit.SECONDS);
        return t.cancel();
    }

    @Benchmark
    public boolean jdkScheduleCancel(JdkTimers s) {
        ScheduledFuture<?> f = s.executor.schedule(s.nothing, 3600 + s.random.nextLong(3600), TimeUnit.SECONDS);
        return f.cancel(false);
    }
}
