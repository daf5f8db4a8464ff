package org.ioatom.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.IoException;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;

/** A non-blocking pipe for tests; its calls allocate nothing, so allocation tests can use it. */
public final class TestPipe implements AutoCloseable {
    private final MemorySegment buf;
    private int readFd;
    private int writeFd;

    /**
     * @param arena where the pipe's scratch memory lives
     * @throws IoException if pipe2 fails
     */
    public TestPipe(Arena arena) throws IoException {
        buf = arena.allocate(65536);
        MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
        int rc = Syscalls.pipe2(fds, Linux.O_NONBLOCK | Linux.O_CLOEXEC);
        if (rc < 0) {
            throw new IoException("pipe2", null, -1, -rc);
        }
        readFd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
        writeFd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
    }

    public int readFd() {
        return readFd;
    }

    public int writeFd() {
        return writeFd;
    }

    /** Writes {@code n} bytes (at most 64 KiB); returns what the pipe took. */
    public long write(int n) {
        return Syscalls.write(writeFd, buf, n);
    }

    /** Reads until the pipe would block; returns the bytes read, -1 at end of stream if nothing came first. */
    public long drain() {
        long total = 0;
        while (true) {
            long r = Syscalls.read(readFd, buf, buf.byteSize());
            if (r > 0) {
                total += r;
            } else if (r == 0) {
                return total == 0 ? -1 : total;
            } else {
                return total;
            }
        }
    }

    /** Fills the pipe until write would block; returns bytes written. */
    public long fill() {
        long total = 0;
        long w;
        while ((w = Syscalls.write(writeFd, buf, buf.byteSize())) > 0) {
            total += w;
        }
        return total;
    }

    public void closeWrite() {
        if (writeFd >= 0) {
            Syscalls.close(writeFd);
            writeFd = -1;
        }
    }

    public void closeRead() {
        if (readFd >= 0) {
            Syscalls.close(readFd);
            readFd = -1;
        }
    }

    @Override
    public void close() {
        closeRead();
        closeWrite();
    }
}
