package org.ioatom.perf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoHandler;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
import org.ioatom.internal.SelectBackend;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
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
 * Cost of one wait + dispatch that delivers R events out of N registered descriptors.
 *
 * <p>One benchmark operation = one {@code await(0)} + one {@code dispatch()} (ioatom), or one
 * {@code selectNow()} + a walk over the selected keys (java.nio), and each operation delivers
 * exactly {@code ready} events: the harness divides ns/op by R to report ns/event, and the
 * operation throws if a different number arrives.
 *
 * <p>How the R descriptors stay ready:
 * <ul>
 *   <li>ioatom: N eventfds (1 fd each, so 10 000 fit under the 20 000 fd limit); R of them get
 *       the value 1 written once and are never read, so they stay readable.
 *   <li>poll / select are level-triggered: the same R fds are reported by every wait; the
 *       handler only counts (a write into the app struct).
 *   <li>epoll is edge-triggered: a ready fd is reported once. To deliver R events per operation
 *       the handler re-arms its atom with {@code poller.set}, alternating the interest between
 *       READ and READ|WRITE; each change is an EPOLL_CTL_MOD, which re-reports a condition that
 *       already holds. So the epoll figure is wait + dispatch + one epoll_ctl per event, and the C
 *       reference (perf/c/dispatch.c, mode epoll-et-mod) does exactly the same system calls.
 *   <li>java.nio Selector (level-triggered epoll underneath) needs SelectableChannels: N
 *       DatagramChannels (1 fd each); the R ready ones are bound to 127.0.0.1 and hold one
 *       datagram they sent to themselves, never read. The others are unbound and never readable.
 * </ul>
 *
 * <p>Invalid combinations are refused in setup: select watches only fds below FD_SETSIZE (1024),
 * and N=1024 eventfds plus the JVM's own descriptors and the poller's waker go past it.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DispatchBenchmark {
    /** ioatom-epoll, ioatom-poll, ioatom-select, ioatom-io_uring, nio-iter, nio-consumer. */
    @Param({"ioatom-epoll"})
    public String impl;

    /** Ready descriptors: events per operation. */
    @Param({"64"})
    public int ready;

    /** Registered descriptors. */
    @Param({"1024"})
    public int registered;

    private static final long FLIP = IoAtom.SIZE;      // int: next interest toggle (epoll re-arm)
    private static final long CALLS = IoAtom.SIZE + 4; // int: handler calls
    private static final long STRUCT = IoAtom.SIZE + 8;

    private Arena arena;
    private Poller poller;
    private MemorySegment[] structs;
    private int[] fds;
    private IoHandler handler;

    private Selector selector;
    private DatagramChannel[] channels;
    private Consumer<SelectionKey> consumer;
    private long nioCalls;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        if (ready < 1 || ready > registered) {
            throw new IllegalArgumentException("need 1 <= ready <= registered, got " + ready + "/" + registered);
        }
        switch (impl) {
            case "ioatom-epoll" -> setupIoAtom(PollerKind.EPOLL);
            case "ioatom-poll" -> setupIoAtom(PollerKind.POLL);
            case "ioatom-io_uring" -> setupIoAtom(PollerKind.IO_URING);
            case "ioatom-select" -> {
                // N fds + the waker must all sit below FD_SETSIZE; checked again as fds are made.
                if (registered + 64 > SelectBackend.FD_SETSIZE) {
                    throw new IllegalArgumentException("invalid combination: select cannot watch " + registered
                            + " fds (FD_SETSIZE=" + SelectBackend.FD_SETSIZE + ")");
                }
                setupIoAtom(PollerKind.SELECT);
            }
            case "nio-iter", "nio-consumer" -> setupNio();
            default -> throw new IllegalArgumentException("unknown impl " + impl);
        }
        // One operation must deliver exactly R events; check it before measuring.
        for (int i = 0; i < 3; i++) {
            int got = switch (impl) {
                case "nio-iter" -> nioIter();
                case "nio-consumer" -> nioConsumer();
                default -> ioatom();
            };
            if (got != ready) {
                throw new IllegalStateException(impl + ": an operation delivered " + got + " events, expected " + ready);
            }
        }
    }

    private void setupIoAtom(PollerKind kind) throws IOException {
        arena = Arena.ofShared();
        poller = Poller.open(kind, registered);
        structs = new MemorySegment[registered];
        fds = new int[registered];
        MemorySegment one = arena.allocate(ValueLayout.JAVA_LONG);
        one.set(ValueLayout.JAVA_LONG, 0, 1L);
        // Edge-triggered backends report a held condition once: re-arm it with set (EPOLL_CTL_MOD,
        // or io_uring's poll update, which re-reports it too).
        boolean rearm = kind == PollerKind.EPOLL || kind == PollerKind.IO_URING;
        Poller p = poller;
        handler = rearm
                ? (owner, events) -> {
                    int flip = owner.get(ValueLayout.JAVA_INT, FLIP);
                    p.set(owner, 0, flip == 0 ? IoAtom.READ | IoAtom.WRITE : IoAtom.READ);
                    owner.set(ValueLayout.JAVA_INT, FLIP, flip ^ 1);
                    owner.set(ValueLayout.JAVA_INT, CALLS, owner.get(ValueLayout.JAVA_INT, CALLS) + 1);
                }
                : (owner, events) -> owner.set(ValueLayout.JAVA_INT, CALLS, owner.get(ValueLayout.JAVA_INT, CALLS) + 1);
        // Spread the ready ones over the registered ones.
        long stride = registered / ready;
        for (int i = 0; i < registered; i++) {
            int fd = Syscalls.eventfd2(0, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
            if (fd < 0) {
                throw new IoException("eventfd2", "#" + i, -1, -fd);
            }
            fds[i] = fd;
            if (kind == PollerKind.SELECT && fd >= SelectBackend.FD_SETSIZE) {
                throw new IllegalArgumentException("invalid combination: fd " + fd + " >= FD_SETSIZE");
            }
            if (i % stride == 0 && i / stride < ready) {
                long w = Syscalls.write(fd, one, 8);
                if (w != 8) {
                    throw new IoException("write", "eventfd", fd, (int) -w);
                }
            }
            MemorySegment s = arena.allocate(STRUCT, 8);
            IoAtom.init(s, fd);
            structs[i] = s;
            poller.add(s, IoAtom.READ, handler);
        }
    }

    private void setupNio() throws IOException {
        selector = Selector.open();
        channels = new DatagramChannel[registered];
        ByteBuffer b = ByteBuffer.allocateDirect(1);
        long stride = registered / ready;
        for (int i = 0; i < registered; i++) {
            DatagramChannel ch = DatagramChannel.open(StandardProtocolFamily.INET);
            ch.configureBlocking(false);
            if (i % stride == 0 && i / stride < ready) {
                ch.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                b.clear();
                b.put((byte) 1).flip();
                ch.send(b, ch.getLocalAddress());
            }
            ch.register(selector, SelectionKey.OP_READ, new int[1]);
            channels[i] = ch;
        }
        consumer = k -> ((int[]) k.attachment())[0]++;
        // Datagrams to self arrive asynchronously on loopback (normally at once); wait for all.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (selector.selectNow() < ready && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        selector.selectedKeys().clear();
    }

    // Allocation on the benchmark thread alone (JMH's -prof gc counts every thread of the JVM,
    // so at ~10^4 ops/s its own bookkeeping shows up as a few B/op). Per iteration; the last
    // iteration's figure is appended to -Dioatom.perf.allocFile at the end of the trial.
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    private long ops;
    private long bytesBefore;
    private long opsBefore;
    private long lastBytes = -1;
    private long lastOps;

    @Setup(Level.Iteration)
    public void iterationStart() {
        opsBefore = ops;
        bytesBefore = THREADS.getCurrentThreadAllocatedBytes();
    }

    @TearDown(Level.Iteration)
    public void iterationEnd() {
        lastBytes = THREADS.getCurrentThreadAllocatedBytes() - bytesBefore;
        lastOps = ops - opsBefore;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        String file = System.getProperty("ioatom.perf.allocFile");
        if (file != null && lastOps > 0) {
            java.nio.file.Files.writeString(java.nio.file.Path.of(file),
                    impl + "\t" + ready + "\t" + registered + "\t" + lastBytes + "\t" + lastOps + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        }
        if (poller != null) {
            poller.close();
            for (int fd : fds) {
                Syscalls.close(fd);
            }
            arena.close();
        }
        if (selector != null) {
            selector.close();
            for (DatagramChannel ch : channels) {
                ch.close();
            }
        }
    }

    @Benchmark
    public int ioatom() throws IOException {
        poller.await(0);
        int n = poller.dispatch();
        ops++;
        if (n != ready) {
            throw new IllegalStateException("delivered " + n + " events, expected " + ready);
        }
        return n;
    }

    @Benchmark
    public int nioIter() throws IOException {
        selector.selectNow();
        int n = 0;
        Iterator<SelectionKey> it = selector.selectedKeys().iterator();
        while (it.hasNext()) {
            SelectionKey k = it.next();
            it.remove();
            ((int[]) k.attachment())[0]++;
            n++;
        }
        ops++;
        if (n != ready) {
            throw new IllegalStateException("selected " + n + " keys, expected " + ready);
        }
        return n;
    }

    @Benchmark
    public int nioConsumer() throws IOException {
        int n = selector.selectNow(consumer);
        ops++;
        if (n != ready) {
            throw new IllegalStateException("selected " + n + " keys, expected " + ready);
        }
        return n;
    }
}
