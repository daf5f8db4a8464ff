package org.ioatom.internal;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.SequenceLayout;
import java.lang.foreign.StructLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.ioatom.testing.Executables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The generated classes agree with a C compiler that shares nothing with the generator (gcc, not
 * clang): size, alignment and every member offset and size of every struct, each
 * {@code *_OFFSET}, every constant of Linux and Errno, and every system call number.
 *
 * <p>Both ABIs are checked on any host ({@link GeneratedBindings} initializes the classes as each
 * ABI would). x86_64 by running a program gcc compiled on this machine; aarch64 programs cannot run
 * here, so its values become {@code _Static_assert}s that the cross compiler must accept. Without
 * a cross compiler the aarch64 values are still held to known LP64 ABI facts.
 */
class GeneratedLayoutsMatchTheCCompilerTest {

    /** One fact: a C expression and what the Java bindings say it is. */
    record Check(String what, String cExpression, long javaValue) {
    }

    private static final GeneratedBindings X86_64 = GeneratedBindings.X86_64;
    private static final GeneratedBindings AARCH64 = GeneratedBindings.AARCH64;

    @Test
    void x86_64BindingsMatchWhatGccComputesOnThisMachine(@TempDir Path dir) throws Exception {
        Path gcc = Executables.onPath("gcc");
        assumeTrue(gcc != null, "gcc is not installed: the generated layouts cannot be compared with C here");
        assumeTrue(System.getProperty("os.arch").equals("amd64"),
                "not an x86_64 machine: the x86_64 program cannot run here");

        List<Check> checks = checks(X86_64);
        StringBuilder c = new StringBuilder(prologue());
        c.append("int main(void) {\n");
        for (Check check : checks) {
            c.append("    printf(\"%lld\\n\", ").append(check.cExpression()).append(");\n");
        }
        c.append("    return 0;\n}\n");
        Files.writeString(dir.resolve("facts.c"), c);
        NativeToolchain.run(dir, gcc.toString(), "-std=gnu11", "-o", "facts", "facts.c");
        List<String> printed = NativeToolchain.lines(NativeToolchain.run(dir, dir.resolve("facts").toString()));

        assertEquals(checks.size(), printed.size(), "one line per check");
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < checks.size(); i++) {
            long cValue = Long.parseLong(printed.get(i));
            if (cValue != checks.get(i).javaValue()) {
                mismatches.add(checks.get(i).what() + ": C says " + cValue + ", Java " + checks.get(i).javaValue());
            }
        }
        assertTrue(mismatches.isEmpty(), "x86_64 bindings differ from gcc:\n  " + String.join("\n  ", mismatches));
        assertTrue(checks.size() > 300, "compared " + checks.size() + " facts");
    }

    @Test
    void aarch64BindingsSatisfyStaticAssertsCompiledByTheCrossCompiler(@TempDir Path dir) throws Exception {
        Path gcc = Executables.onPath("aarch64-linux-gnu-gcc");
        assumeTrue(gcc != null, "aarch64-linux-gnu-gcc is not installed (apt-get install gcc-aarch64-linux-gnu):"
                + " the aarch64 bindings are checked against known ABI facts only");

        StringBuilder c = new StringBuilder(prologue());
        List<Check> checks = checks(AARCH64);
        for (Check check : checks) {
            c.append("_Static_assert(").append(check.cExpression()).append(" == ").append(cLiteral(check.javaValue()))
                    .append(", \"").append(check.what().replace("\"", "'")).append(" is ").append(check.javaValue())
                    .append(" in the aarch64 bindings\");\n");
        }
        Files.writeString(dir.resolve("facts.c"), c);
        // Compiles only if every assertion holds; the error names the ones that do not.
        NativeToolchain.run(dir, gcc.toString(), "-std=gnu11", "-c", "-o", "facts.o", "facts.c");
        assertTrue(checks.size() > 300, "asserted " + checks.size() + " facts");
    }

    @Test
    void aarch64BindingsMatchTheKnownLp64Abi() {
        // glibc packs struct epoll_event on x86_64 only; elsewhere data is 8-aligned.
        assertEquals(16L, AARCH64.layout("EpollEvent").byteSize());
        assertEquals(8L, AARCH64.field("EpollEvent", "DATA_OFFSET"));
        assertEquals(8L, AARCH64.layout("EpollEvent").byteAlignment());
        assertEquals(12L, X86_64.layout("EpollEvent").byteSize());
        assertEquals(4L, X86_64.field("EpollEvent", "DATA_OFFSET"));
        assertEquals(1L, X86_64.layout("EpollEvent").byteAlignment());
        for (GeneratedBindings b : List.of(X86_64, AARCH64)) {
            assertEquals(8L, b.field("Pollfd", "SIZE"));
            assertEquals(16L, b.field("SockaddrIn", "SIZE"));
            assertEquals(28L, b.field("SockaddrIn6", "SIZE"));
            assertEquals(128L, b.field("SockaddrStorage", "SIZE"));
            assertEquals(110L, b.field("SockaddrUn", "SIZE"));
            assertEquals(16L, b.field("Iovec", "SIZE"));
            assertEquals(56L, b.field("Msghdr", "SIZE"));
            assertEquals(128L, b.field("FdSet", "SIZE"));
            assertEquals(16L, b.field("Timespec", "SIZE"));
            // io_uring's structs are the kernel's fixed ABI, the same on every 64-bit architecture.
            assertEquals(64L, b.field("IoUringSqe", "SIZE"));
            assertEquals(16L, b.field("IoUringCqe", "SIZE"));
            assertEquals(120L, b.field("IoUringParams", "SIZE"));
            assertEquals(28L, b.field("IoUringSqe", "POLL32_EVENTS_OFFSET"));
            assertEquals(32L, b.field("IoUringSqe", "USER_DATA_OFFSET"));
            assertEquals(48L, b.field("IoUringSqe", "ADDR3_OFFSET"));
            assertEquals(16L, b.field("IoUringCqe", "BIG_CQE_OFFSET"));
        }
        Map<String, Number> arm = AARCH64.numbers("Linux", "[A-Z][A-Z0-9_]*");
        assertEquals(Integer.MIN_VALUE, arm.get("EPOLLET"), "EPOLLET is 1u << 31, kept as the same 32 bits");
        assertEquals(04000, arm.get("O_NONBLOCK"));
        assertEquals(04000, arm.get("SOCK_NONBLOCK"));
        assertEquals(1024, arm.get("FD_SETSIZE"));
        // The generic syscall table of arm64 against x86_64's historical one.
        assertEquals(63, AARCH64.field("Syscalls", "NR_read"));
        assertEquals(0, X86_64.field("Syscalls", "NR_read"));
        assertEquals(19, AARCH64.field("Syscalls", "NR_eventfd2"));
        assertEquals(290, X86_64.field("Syscalls", "NR_eventfd2"));
    }

    @Test
    void everyStructHasItsDescriptorClassAndEveryOffsetAgreesWithItsLayout() {
        for (GeneratedBindings b : List.of(X86_64, AARCH64)) {
            assertEquals(List.copyOf(new java.util.TreeSet<>(GeneratedBindings.STRUCTS.keySet())), b.structClasses(),
                    "the struct classes of " + b);
            for (String struct : GeneratedBindings.STRUCTS.keySet()) {
                StructLayout layout = b.layout(struct);
                assertEquals(layout.byteSize(), b.field(struct, "SIZE"), b + ": " + struct + ".SIZE");
                Map<String, Number> offsets = b.numbers(struct, ".*_OFFSET");
                var members = b.memberPaths(struct);
                assertEquals(members.size(), offsets.size(), b + ": one *_OFFSET per member of " + struct);
                for (String member : members.keySet()) {
                    assertEquals(layout.byteOffset(members.get(member)),
                            offsets.get(member.toUpperCase(Locale.ROOT) + "_OFFSET"), b + ": " + struct + "." + member);
                }
            }
        }
        // Where the ABIs differ, each layout is there under its own name and LAYOUT is the host's.
        assertEquals(X86_64.field("EpollEvent", "LAYOUT_X86_64"), X86_64.field("EpollEvent", "LAYOUT"));
        assertEquals(AARCH64.field("EpollEvent", "LAYOUT_AARCH64"), AARCH64.field("EpollEvent", "LAYOUT"));
    }

    // ------------------------------------------------------------------ the facts compared

    private static String prologue() {
        Path linux = GeneratedBindings.basedir().resolve("jextract/linux");
        // The binding headers first: they define _GNU_SOURCE, which must precede every system header.
        return "#include \"" + linux.resolve("ioatom_linux.h") + "\"\n"
                + "#include \"" + linux.resolve("errno_linux.h") + "\"\n"
                + "#include <stddef.h>\n#include <stdio.h>\n";
    }

    /** Everything the generated classes of one ABI claim about C. */
    static List<Check> checks(GeneratedBindings b) {
        List<Check> checks = new ArrayList<>();
        for (var e : GeneratedBindings.STRUCTS.entrySet()) {
            String struct = e.getKey();
            String c = e.getValue();
            StructLayout layout = b.layout(struct);
            checks.add(new Check(struct + ".SIZE", "(long long) sizeof(" + c + ")", ((Number) b.field(struct, "SIZE")).longValue()));
            checks.add(new Check("_Alignof(" + c + ")", "(long long) _Alignof(" + c + ")", layout.byteAlignment()));
            for (var member : b.memberPaths(struct).entrySet()) {
                String name = member.getKey();
                checks.add(new Check(struct + ".LAYOUT offset of " + name,
                        "(long long) offsetof(" + c + ", " + name + ")", layout.byteOffset(member.getValue())));
                MemoryLayout selected = layout.select(member.getValue());
                // sizeof is not defined for a flexible array member (big_cqe[]); its offset is checked.
                if (!(selected instanceof SequenceLayout seq && seq.elementCount() == 0)) {
                    checks.add(new Check("sizeof(" + c + "." + name + ")",
                            "(long long) sizeof(((" + c + " *) 0)->" + name + ")", selected.byteSize()));
                }
            }
            for (var offset : b.numbers(struct, ".*_OFFSET").entrySet()) {
                String member = offset.getKey().substring(0, offset.getKey().length() - "_OFFSET".length())
                        .toLowerCase(Locale.ROOT);
                checks.add(new Check(struct + "." + offset.getKey(), "(long long) offsetof(" + c + ", " + member + ")",
                        offset.getValue().longValue()));
            }
        }
        for (String constants : List.of("Linux", "Errno")) {
            for (var e : b.numbers(constants, "[A-Z][A-Z0-9_]*").entrySet()) {
                // An int constant holds the C value's low 32 bits (EPOLLET is 1u << 31).
                String cast = e.getValue() instanceof Integer ? "(long long) (int) " : "(long long) ";
                checks.add(new Check(constants + "." + e.getKey(), cast + "(" + e.getKey() + ")", e.getValue().longValue()));
            }
        }
        for (var e : b.numbers("Syscalls", "NR_.*").entrySet()) {
            String sys = "SYS_" + e.getKey().substring("NR_".length());
            checks.add(new Check("Syscalls." + e.getKey(), "(long long) " + sys, e.getValue().longValue()));
        }
        return checks;
    }

    private static String cLiteral(long value) {
        return value == Long.MIN_VALUE ? "(-9223372036854775807LL - 1)" : value + "LL";
    }
}
