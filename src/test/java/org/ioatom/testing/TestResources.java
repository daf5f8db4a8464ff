package org.ioatom.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.ioatom.IoAtom;
import org.ioatom.IoException;
import org.ioatom.IoSocket;
import org.ioatom.Poller;
import org.ioatom.PollerKind;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What one test opens, closed after it: pollers and pipes in reverse order, then socket fds, then
 * the shared arena. A test class registers one per test as
 * {@code @RegisterExtension final TestResources resources = new TestResources();} and JUnit closes
 * it after each test; code outside JUnit closes it itself.
 */
public final class TestResources implements AutoCloseable, AfterEachCallback {
    /** Memory for the test's structs; shared so that helper threads may touch it. */
    public final Arena arena = Arena.ofShared();
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<Integer> fds = new ArrayList<>();

    /** Opens a poller that is closed after the test. */
    public Poller poller(PollerKind kind, int capacity) throws IOException {
        return add(Poller.open(kind, capacity));
    }

    /** Opens a non-blocking pipe that is closed after the test. */
    public TestPipe pipe() throws IOException {
        return add(new TestPipe(arena));
    }

    /** Closes {@code c} after the test, before anything opened earlier. */
    public <T extends AutoCloseable> T add(T c) {
        closeables.add(c);
        return c;
    }

    /** Asserts that {@code poller} still works: a fresh atom on a new pipe gets its one event. */
    public void assertUsable(Poller poller) throws IOException {
        TestPipe p = pipe();
        MemorySegment s = AppStruct.allocate(arena, 99, p.readFd());
        poller.add(s, AppStruct.IO, IoAtom.READ, (owner, events) -> AppStruct.record(owner, events));
        p.write(1);
        assertEquals(1, poller.await(5000), "the fresh atom is ready");
        assertEquals(1, poller.dispatch());
        assertEquals(1, AppStruct.calls(s));
        assertEquals(IoAtom.READ, AppStruct.lastEvents(s));
        poller.remove(s, AppStruct.IO);
    }

    /** Closes socket {@code fd} after the test (unless {@link #forget forgotten}); returns it. */
    public int socket(int fd) {
        fds.add(fd);
        return fd;
    }

    /** The test closed {@code fd} itself: do not close it (or a reuse of its number) again. */
    public void forget(int fd) {
        fds.remove(Integer.valueOf(fd));
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        close();
    }

    @Override
    public void close() throws IOException {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("closing " + closeables.get(i), e);
            }
        }
        for (int fd : fds) {
            try {
                IoSocket.close(fd);
            } catch (IoException e) {
                // already closed by the test
            }
        }
        arena.close();
    }
}
