package org.ioatom.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The generated struct layouts, type layouts and constants agree with a C compiler that shares
 * nothing with the generator (gcc, not clang): sizes, alignments and field offsets of every
 * generated record, sizes of every C_* layout and typedef, and the value of every constant.
 *
 * <p>x86_64 is checked by running a program gcc compiled on this machine; aarch64 programs cannot
 * run here, so the aarch64 bindings become {@code _Static_assert}s that the cross compiler must
 * accept. Without a cross compiler the aarch64 bindings are still held to known LP64 ABI facts.
 */
class GeneratedLayoutsMatchTheCCompilerTest {

    /** One fact: a C expression and what the Java bindings say it is. */
    record Check(String what, String cExpression, long javaValue) {
    }

    private static final GeneratedBindings X86_64 = new GeneratedBindings("x86_64");
    private static final GeneratedBindings AARCH64 = new GeneratedBindings("aarch64");

    @Test
    void x86_64BindingsMatchWhatGccComputesOnThisMachine(@TempDir Path dir) throws Exception {
        Path gcc = NativeToolchain.onPath("gcc");
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
        assertTrue(checks.size() > 150, "compared " + checks.size() + " facts");
    }

    @Test
    void aarch64BindingsSatisfyStaticAssertsCompiledByTheCrossCompiler(@TempDir Path dir) throws Exception {
        Path gcc = NativeToolchain.onPath("aarch64-linux-gnu-gcc");
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
        assertTrue(checks.size() > 150, "asserted " + checks.size() + " facts");
    }

    @Test
    void aarch64BindingsMatchTheKnownLp64Abi() {
        // glibc packs struct epoll_event on x86_64 only; elsewhere data is 8-aligned.
        assertEquals(16L, AARCH64.layout("epoll_event").byteSize());
        assertEquals(8L, AARCH64.layout("epoll_event").byteOffset(groupElement("data")));
        assertEquals(8L, AARCH64.layout("epoll_event").byteAlignment());
        assertEquals(12L, X86_64.layout("epoll_event").byteSize());
        assertEquals(4L, X86_64.layout("epoll_event").byteOffset(groupElement("data")));
        assertEquals(1L, X86_64.layout("epoll_event").byteAlignment());
        for (GeneratedBindings b : List.of(X86_64, AARCH64)) {
            assertEquals(8L, b.layout("pollfd").byteSize());
            assertEquals(16L, b.layout("sockaddr_in").byteSize());
            assertEquals(28L, b.layout("sockaddr_in6").byteSize());
            assertEquals(128L, b.layout("sockaddr_storage").byteSize());
            assertEquals(16L, b.layout("iovec").byteSize());
            assertEquals(56L, b.layout("msghdr").byteSize());
            assertEquals(128L, b.layout("fd_set").byteSize());
            assertEquals(8L, b.layout("epoll_data").byteSize());
        }
        Map<String, Number> arm = AARCH64.constants("LibC");
        assertEquals(Integer.MIN_VALUE, arm.get("EPOLLET"), "EPOLLET is 1u << 31, kept as the same 32 bits");
        assertEquals(04000, arm.get("O_NONBLOCK"));
        assertEquals(04000, arm.get("SOCK_NONBLOCK"));
        assertEquals(11, arm.get("EAGAIN"));
        assertEquals(1024, arm.get("FD_SETSIZE"));
    }

    @Test
    void everyFieldOffsetAgreesWithTheGroupLayout() {
        for (GeneratedBindings b : List.of(X86_64, AARCH64)) {
            for (String record : GeneratedBindings.RECORDS.keySet()) {
                GroupLayout layout = b.layout(record);
                Class<?> type = b.type(record);
                assertEquals(layout.byteSize(), (long) GeneratedBindings.call(type, "sizeof"), record + ".sizeof()");
                for (String field : b.fieldNames(record)) {
                    long offset = (long) GeneratedBindings.call(type, field + "$offset");
                    assertEquals(layout.byteOffset(groupElement(field)), offset, b.packageName + "." + record + "." + field);
                    MemoryLayout fieldLayout = (MemoryLayout) GeneratedBindings.call(type, field + "$layout");
                    assertEquals(layout.select(groupElement(field)), fieldLayout, record + "." + field + "$layout()");
                }
            }
        }
    }

    // ------------------------------------------------------------------ the facts compared

    private static String prologue() {
        Path linux = GeneratedBindings.basedir().resolve("jextract/linux");
        // The binding headers first: they define _GNU_SOURCE, which must precede every system header.
        return "#include \"" + linux.resolve("ioatom_linux.h") + "\"\n"
                + "#include \"" + linux.resolve("errno_linux.h") + "\"\n"
                + "#include <stddef.h>\n#include <stdio.h>\n";
    }

    /** Everything the generated classes of one architecture claim about C. */
    static List<Check> checks(GeneratedBindings b) {
        List<Check> checks = new ArrayList<>();
        for (var e : GeneratedBindings.RECORDS.entrySet()) {
            String record = e.getKey();
            String c = e.getValue();
            GroupLayout layout = b.layout(record);
            checks.add(new Check("sizeof(" + c + ")", "(long long) sizeof(" + c + ")", layout.byteSize()));
            checks.add(new Check("_Alignof(" + c + ")", "(long long) _Alignof(" + c + ")", layout.byteAlignment()));
            for (String field : b.fieldNames(record)) {
                long offset = (long) GeneratedBindings.call(b.type(record), field + "$offset");
                checks.add(new Check("offsetof(" + c + ", " + field + ")",
                        "(long long) offsetof(" + c + ", " + field + ")", offset));
                checks.add(new Check("sizeof(" + c + "." + field + ")",
                        "(long long) sizeof(((" + c + " *) 0)->" + field + ")",
                        layout.select(groupElement(field)).byteSize()));
            }
        }
        for (var e : GeneratedBindings.C_LAYOUTS.entrySet()) {
            MemoryLayout layout = (MemoryLayout) field(b.type("LibC"), e.getKey());
            checks.add(new Check("sizeof(" + e.getValue() + ")", "(long long) sizeof(" + e.getValue() + ")", layout.byteSize()));
            checks.add(new Check("_Alignof(" + e.getValue() + ")", "(long long) _Alignof(" + e.getValue() + ")",
                    layout.byteAlignment()));
        }
        for (var e : b.typedefLayouts("LibC").entrySet()) {
            if (!e.getKey().startsWith("C_")) {
                ValueLayout layout = e.getValue();
                checks.add(new Check("sizeof(" + e.getKey() + ")", "(long long) sizeof(" + e.getKey() + ")", layout.byteSize()));
            }
        }
        for (String header : List.of("LibC", "Errno")) {
            for (var e : b.constants(header).entrySet()) {
                // An int constant holds the C value's low 32 bits (EPOLLET is 1u << 31).
                String cast = e.getValue() instanceof Integer ? "(long long) (int) " : "(long long) ";
                checks.add(new Check(header + "." + e.getKey(), cast + "(" + e.getKey() + ")", e.getValue().longValue()));
            }
        }
        return checks;
    }

    private static Object field(Class<?> type, String name) {
        try {
            return type.getField(name).get(null);
        } catch (ReflectiveOperationException e) {
            fail(type.getSimpleName() + "." + name, e);
            return null;
        }
    }

    private static String cLiteral(long value) {
        return value == Long.MIN_VALUE ? "(-9223372036854775807LL - 1)" : value + "LL";
    }
}
