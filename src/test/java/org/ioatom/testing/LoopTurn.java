package org.ioatom.testing;

import static org.ioatom.IoAtom.READ;
import static org.ioatom.IoAtom.WRITE;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.ioatom.IoHandler;
import org.ioatom.Poller;
import org.ioatom.PollerKind;

/**
 * The loop turn the allocation tests measure, over a poller with one atom per pipe: data arrives
 * on two atoms (their handlers drain them), one atom changes interest and back, one is removed and
 * added again. Everything is created up front, so a turn itself need allocate nothing. How bytes
 * go into and out of the pipes is the subclass's: {@link TestPipe}'s own calls, or calls that do
 * not capture errno where the test must measure the poller alone.
 */
public abstract class LoopTurn implements IoHandler, AutoCloseable {
    private final int atoms;
    private final TestPipe[] pipes;
    private final MemorySegment[] structs;
    private final Poller poller;
    private long handled;

    /** Opens a poller of {@code kind} and {@code atoms} pipes, each read end added for READ. */
    protected LoopTurn(Arena arena, PollerKind kind, int atoms) throws IOException {
        this.atoms = atoms;
        pipes = new TestPipe[atoms];
        structs = new MemorySegment[atoms];
        poller = Poller.open(kind, atoms * 2);
        for (int i = 0; i < atoms; i++) {
            pipes[i] = new TestPipe(arena);
            structs[i] = AppStruct.allocate(arena, i, pipes[i].readFd());
            poller.add(structs[i], AppStruct.IO, READ, this);
        }
    }

    /** A turn whose pipe traffic goes through {@link TestPipe#write} and {@link TestPipe#drain}. */
    public static LoopTurn overTestPipes(Arena arena, PollerKind kind, int atoms) throws IOException {
        return new LoopTurn(arena, kind, atoms) {
            @Override
            protected void write(TestPipe pipe, int bytes) {
                pipe.write(bytes);
            }

            @Override
            protected void drain(TestPipe pipe) {
                pipe.drain();
            }
        };
    }

    /** Puts {@code bytes} bytes into {@code pipe}. */
    protected abstract void write(TestPipe pipe, int bytes);

    /** Reads {@code pipe} until it is empty. */
    protected abstract void drain(TestPipe pipe);

    @Override
    public final void onEvents(MemorySegment owner, int events) {
        handled++;
        drain(pipes[AppStruct.id(owner)]);
    }

    /** @return the handler calls so far */
    public final long handled() {
        return handled;
    }

    /** Turn {@code i}: which atoms get data, change interest and are re-added follows from it. */
    public final void turn(int i) throws IOException {
        write(pipes[i % atoms], 1);
        write(pipes[(i * 7 + 3) % atoms], 2);
        poller.await(1000);
        poller.dispatch();
        MemorySegment toggled = structs[(i * 13 + 5) % atoms];
        poller.set(toggled, AppStruct.IO, (i & 1) == 0 ? READ | WRITE : READ);
        poller.set(toggled, AppStruct.IO, READ);
        MemorySegment readded = structs[(i * 5 + 1) % atoms];
        poller.remove(readded, AppStruct.IO);
        poller.add(readded, AppStruct.IO, READ, this);
    }

    /** Turns {@code from} to {@code from + count - 1}. */
    public final void turns(int from, int count) throws IOException {
        for (int i = from; i < from + count; i++) {
            turn(i);
        }
    }

    /** Closes the poller, then the pipes. */
    @Override
    public void close() {
        poller.close();
        for (TestPipe p : pipes) {
            p.close();
        }
    }
}
