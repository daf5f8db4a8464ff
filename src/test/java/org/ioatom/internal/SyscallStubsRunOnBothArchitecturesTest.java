package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.ioatom.internal.sys.SyscallStubs;
import org.ioatom.testing.Executables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stub bytes {@link SyscallStubs} emits, executed outside the JVM by a small C program: on
 * this x86_64 machine directly, and for aarch64 under qemu-user. The program maps the bytes the
 * way ioatom does (written read-write, then switched to read-execute), calls each stub as a C
 * function, and prints the raw results; the C side checks that its own {@code SYS_*} numbers
 * are the ones the stubs were encoded with.
 */
class SyscallStubsRunOnBothArchitecturesTest {

    /** System calls the program exercises, with their numbers per architecture. */
    private static Map<String, int[]> calls() {
        Map<String, int[]> m = new LinkedHashMap<>();
        // name            x86_64  aarch64
        m.put("getpid", new int[] {39, 172});
        m.put("close", new int[] {3, 57});
        m.put("pipe2", new int[] {293, 59});
        m.put("write", new int[] {1, 64});
        m.put("read", new int[] {0, 63});
        m.put("sendto", new int[] {44, 206});
        return m;
    }

    private static final String PROGRAM = """
            #define _GNU_SOURCE
            #include <errno.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/mman.h>
            #include <sys/syscall.h>
            #include <unistd.h>

            typedef long (*fn0)(void);
            typedef long (*fn1)(long);
            typedef long (*fn2)(long, long);
            typedef long (*fn3)(long, long, long);
            typedef long (*fn6)(long, long, long, long, long, long);

            int main(void) {
                size_t size = sizeof(stubs);
                unsigned char *page = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (page == MAP_FAILED) { perror("mmap"); return 2; }
                memcpy(page, stubs, size);
                if (mprotect(page, 65536, PROT_READ | PROT_EXEC) != 0) { perror("mprotect"); return 2; }
                fn0 p_getpid = (fn0) (page + AT_getpid);
                fn1 p_close = (fn1) (page + AT_close);
                fn2 p_pipe2 = (fn2) (page + AT_pipe2);
                fn3 p_write = (fn3) (page + AT_write);
                fn3 p_read = (fn3) (page + AT_read);
                fn6 p_sendto = (fn6) (page + AT_sendto);
                int fds[2];
                char buf[8] = {0};
                printf("getpid %d\\n", p_getpid() == (long) getpid());
                printf("close(-1) %ld\\n", p_close(-1));
                printf("pipe2 %ld\\n", p_pipe2((long) fds, O_NONBLOCK | O_CLOEXEC));
                printf("read empty %ld\\n", p_read(fds[0], (long) buf, sizeof buf));
                printf("write %ld\\n", p_write(fds[1], (long) "hey", 3));
                printf("read %ld %s\\n", p_read(fds[0], (long) buf, sizeof buf), buf);
                printf("sendto pipe %ld\\n", p_sendto(fds[1], (long) "x", 1, 0, 0, 0));
                printf("close %ld %ld\\n", p_close(fds[0]), p_close(fds[1]));
                printf("EBADF %d EAGAIN %d ENOTSOCK %d\\n", EBADF, EAGAIN, ENOTSOCK);
                return 0;
            }
            """;

    private static String source(String arch) {
        int column = arch.equals("x86_64") ? 0 : 1;
        StringBuilder c = new StringBuilder("#include <sys/syscall.h>\n");
        StringBuilder bytes = new StringBuilder("static const unsigned char stubs[] = {\n");
        int index = 0;
        for (Map.Entry<String, int[]> e : calls().entrySet()) {
            int number = e.getValue()[column];
            c.append("_Static_assert(SYS_").append(e.getKey()).append(" == ").append(number)
                    .append(", \"SYS_").append(e.getKey()).append("\");\n");
            c.append("#define AT_").append(e.getKey()).append(' ').append(index * SyscallStubs.STUB_BYTES).append('\n');
            bytes.append("   ");
            for (byte b : SyscallStubs.encode(arch, number)) {
                bytes.append(String.format(" 0x%02x,", b & 0xff));
            }
            bytes.append('\n');
            index++;
        }
        return c.append(bytes).append("};\n").append(PROGRAM).toString();
    }

    private static final List<String> EXPECTED = List.of(
            "getpid 1",
            "close(-1) -9",
            "pipe2 0",
            "read empty -11",
            "write 3",
            "read 3 hey",
            "sendto pipe -88",
            "close 0 0",
            "EBADF 9 EAGAIN 11 ENOTSOCK 88");

    /** Tools the aarch64 run needs; CI installs them, elsewhere their absence skips the run. */
    private static void requireTool(String name) {
        boolean ci = "true".equals(System.getenv("CI"));
        if (Executables.onPath(name) == null && ci) {
            throw new AssertionError(name + " is missing in CI (.ci/run installs it)");
        }
        assumeTrue(Executables.onPath(name) != null, name + " not installed");
    }

    @Test
    void x86_64StubsReturnResultsAndNegatedErrno(@TempDir Path dir) throws Exception {
        assumeTrue(System.getProperty("os.arch").equals("amd64"), "runs natively on x86_64 only");
        requireTool("gcc");
        Files.writeString(dir.resolve("stubs.c"), source("x86_64"));
        NativeToolchain.run(dir, "gcc", "-O1", "-o", "stubs", "stubs.c");
        assertEquals(EXPECTED, NativeToolchain.lines(NativeToolchain.run(dir, dir.resolve("stubs").toString())));
    }

    @Test
    void aarch64StubsReturnResultsAndNegatedErrnoUnderQemu(@TempDir Path dir) throws Exception {
        requireTool("aarch64-linux-gnu-gcc");
        requireTool("qemu-aarch64-static");
        Files.writeString(dir.resolve("stubs.c"), source("aarch64"));
        NativeToolchain.run(dir, "aarch64-linux-gnu-gcc", "-O1", "-static", "-o", "stubs", "stubs.c");
        assertEquals(EXPECTED, NativeToolchain.lines(
                NativeToolchain.run(dir, "qemu-aarch64-static", dir.resolve("stubs").toString())));
    }

    @Test
    void numbersOutOfRangeAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SyscallStubs.encode("aarch64", 0x10000));
        assertThrows(IllegalArgumentException.class, () -> SyscallStubs.encode("x86_64", -1));
        assertThrows(IllegalArgumentException.class, () -> SyscallStubs.encode("riscv64", 1));
    }
}
