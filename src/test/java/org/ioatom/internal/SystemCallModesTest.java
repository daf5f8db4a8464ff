package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.SyscallLinker;
import org.ioatom.testing.Tags;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The two ways ioatom enters the kernel give the same results: the default run uses the stubs,
 * the build's second run ({@code -Dioatom.syscalls=libc}) the C library with captured errno.
 */
@Tag(Tags.SYSCALLS)
class SystemCallModesTest {

    private static final boolean LIBC_WANTED = "libc".equals(System.getProperty(SyscallLinker.MODE_PROPERTY));

    @Test
    void theModeIsTheOneAskedFor() {
        if (LIBC_WANTED) {
            assertEquals("libc", SyscallLinker.mode());
            assertEquals("ioatom.syscalls=libc", SyscallLinker.directUnavailableReason());
        } else {
            assertEquals("direct", SyscallLinker.mode(), "x86_64 Linux has stubs: " + SyscallLinker.directUnavailableReason());
            assertNull(SyscallLinker.directUnavailableReason());
        }
    }

    @Test
    void failuresComeBackAsNegatedErrno() {
        assertEquals(-Errno.EBADF, Syscalls.close(-1));
        assertEquals(-Errno.EBADF, Syscalls.read(-1, MemorySegment.NULL, 0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(8);
            assertEquals(-Errno.EBADF, Syscalls.readRaw(12345, buf.address(), 8));
            int[] pipe = openPipe(arena);
            assertEquals(-Errno.ENOTSOCK, Syscalls.sendto(pipe[1], buf, 1, Linux.MSG_NOSIGNAL, MemorySegment.NULL, 0));
            Syscalls.close(pipe[0]);
            Syscalls.close(pipe[1]);
        }
    }

    @Test
    void resultsComeBackAsTheyAre() {
        assertEquals(ProcessHandle.current().pid(), Syscalls.getpid());
        try (Arena arena = Arena.ofConfined()) {
            int[] fds = openPipe(arena);
            MemorySegment buf = arena.allocate(8);
            assertEquals(-Errno.EAGAIN, Syscalls.read(fds[0], buf, 8), "empty non-blocking pipe");
            buf.set(ValueLayout.JAVA_LONG, 0, 0x0102030405060708L);
            assertEquals(8, Syscalls.write(fds[1], buf, 8));
            buf.fill((byte) 0);
            assertEquals(8, Syscalls.read(fds[0], buf, 8));
            assertEquals(0x0102030405060708L, buf.get(ValueLayout.JAVA_LONG, 0));
            assertEquals(0, Syscalls.close(fds[0]));
            assertEquals(0, Syscalls.close(fds[1]));
        }
    }

    @Test
    void anUnknownModeIsRefusedWithTheValueNamed() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "-Dioatom.syscalls=fast", "-cp", System.getProperty("java.class.path"),
                UseSyscalls.class.getName())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("invalid ioatom.syscalls value 'fast': expected direct or libc"), out);
    }

    /** Main class of the child JVM above: reports what using a system call did. */
    public static final class UseSyscalls {
        public static void main(String[] args) {
            try {
                Syscalls.getpid();
                System.out.println("no error");
            } catch (Throwable t) {
                for (Throwable c = t; c != null; c = c.getCause()) {
                    System.out.println(c);
                }
                System.exit(1);
            }
        }
    }

    private static int[] openPipe(Arena arena) {
        MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
        int rc = Syscalls.pipe2(fds, Linux.O_NONBLOCK | Linux.O_CLOEXEC);
        assertEquals(0, rc);
        return new int[] {fds.getAtIndex(ValueLayout.JAVA_INT, 0), fds.getAtIndex(ValueLayout.JAVA_INT, 1)};
    }
}
