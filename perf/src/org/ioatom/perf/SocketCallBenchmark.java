package org.ioatom.perf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.ioatom.IoAtom;
import org.ioatom.IoHandler;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
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
 * The cost and the allocation of single library calls, through the public API only: a 64-byte
 * write and read over a loopback TCP pair, a read that would block, and one loop turn
 * ({@code wakeup}, {@code await(0)}, {@code set}, {@code dispatch}). Run with {@code -prof gc}
 * to see bytes per operation, once as is (C2) and once with
 * {@code -jvmArgsAppend -XX:TieredStopAtLevel=1} (C1 only):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp CP org.openjdk.jmh.Main SocketCallBenchmark -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SocketCallBenchmark {

    /** The poller for {@link #loopTurn}: any backend name PollerKind accepts. */
    @Param({"epoll"})
    public String poller;

    private Arena arena;
    private int listener;
    private int client;
    private int server;
    private MemorySegment buf;
    private Poller loop;
    private MemorySegment atom;
    private int flip;

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        arena = Arena.ofShared();
        buf = arena.allocate(64);
        listener = IoSocket.listen("127.0.0.1:0");
        client = IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener));
        long end = System.nanoTime() + 5_000_000_000L;
        while ((server = IoSocket.accept(listener)) == IoSocket.NO_MORE) {
            if (System.nanoTime() > end) {
                throw new IllegalStateException("loopback connect did not complete");
            }
            Thread.sleep(1);
        }
        IoSocket.finishConnect(client);
        loop = Poller.open(PollerKind.valueOf(poller.toUpperCase(java.util.Locale.ROOT)), 16);
        atom = arena.allocate(IoAtom.LAYOUT);
        IoAtom.init(atom, server);
        IoHandler nothing = (owner, events) -> { };
        loop.add(atom, 0, IoAtom.READ, nothing);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        loop.remove(atom, 0);
        loop.close();
        IoSocket.close(client);
        IoSocket.close(server);
        IoSocket.close(listener);
        arena.close();
    }

    /** One 64-byte write on one end and the read of it on the other. */
    @Benchmark
    public long writeThenRead() throws IOException {
        long w = IoSocket.write(client, buf);
        long r = IoSocket.read(server, buf);
        if (w != 64 || r != 64) {
            throw new IllegalStateException("wrote " + w + ", read " + r);
        }
        return r;
    }

    /** A read of an empty socket: {@code WOULD_BLOCK}. */
    @Benchmark
    public long readWouldBlock() throws IOException {
        long r = IoSocket.read(server, buf);
        if (r != IoSocket.WOULD_BLOCK) {
            throw new IllegalStateException("read " + r);
        }
        return r;
    }

    /** wakeup, await(0), set (interest flips between READ and READ|WRITE), dispatch. */
    @Benchmark
    public int loopTurn() throws IOException {
        loop.wakeup();
        int n = loop.await(0);
        flip ^= 1;
        loop.set(atom, 0, flip == 0 ? IoAtom.READ : IoAtom.READ | IoAtom.WRITE);
        loop.dispatch();
        return n;
    }
}
