package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.ioatom.internal.sys.Bindings;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.testing.KqueueEmulation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hand-written kqueue bindings ({@code src/main/handwritten}, which cannot be generated on
 * Linux) hold exactly the values that each OS documents. Every size, offset, alignment and
 * constant is pinned here, and every constant the classes declare must be pinned.
 *
 * <p>Sources:
 * <ul>
 *   <li>FreeBSD: kevent(2) of FreeBSD 12 (Debian's freebsd-manpages 12.2, {@code man 2freebsd kevent}),
 *       which declares {@code struct kevent} with {@code uint64_t ext[4]}, and {@code sys/sys/event.h}
 *       of FreeBSD 12 to 14 for the values (EVFILT_READ (-1), EVFILT_WRITE (-2), EVFILT_USER (-11),
 *       EV_ADD 0x0001, EV_DELETE 0x0002, EV_ENABLE 0x0004, EV_DISABLE 0x0008, EV_ONESHOT 0x0010,
 *       EV_CLEAR 0x0020, EV_RECEIPT 0x0040, EV_DISPATCH 0x0080, EV_ERROR 0x4000, EV_EOF 0x8000);
 *       errno values from {@code sys/sys/errno.h} (ENOENT 2, EINTR 4, EBADF 9, EINVAL 22).</li>
 *   <li>macOS: {@code bsd/sys/event.h} of xnu, where {@code struct kevent} (uintptr_t ident, int16_t
 *       filter, uint16_t flags, uint32_t fflags, intptr_t data, void *udata) sits under
 *       {@code #pragma pack(4)}: 32 bytes, aligned to 4 on LP64. Same EV_* and EVFILT_READ/WRITE
 *       values as FreeBSD; EVFILT_USER is (-10). errno values from {@code bsd/sys/errno.h} (the same
 *       four numbers).</li>
 * </ul>
 * Offsets follow from those declarations under the LP64 C ABI (x86_64 and arm64/aarch64 agree);
 * {@link #aCCompilerLaysTheDeclarationsOutAsPinned} checks that with gcc. Note the two ABIs differ
 * in the size and alignment of {@code struct kevent} and in EVFILT_USER, not in the flags.
 */
class KqueueBindingsPinnedTest {

    private static final Map<String, Integer> FREEBSD_CONSTANTS = new TreeMap<>(Map.ofEntries(
            Map.entry("EVFILT_READ", -1), Map.entry("EVFILT_WRITE", -2), Map.entry("EVFILT_USER", -11),
            Map.entry("EV_ADD", 0x0001), Map.entry("EV_DELETE", 0x0002), Map.entry("EV_ENABLE", 0x0004),
            Map.entry("EV_DISABLE", 0x0008), Map.entry("EV_ONESHOT", 0x0010), Map.entry("EV_CLEAR", 0x0020),
            Map.entry("EV_RECEIPT", 0x0040), Map.entry("EV_DISPATCH", 0x0080), Map.entry("EV_ERROR", 0x4000),
            Map.entry("EV_EOF", 0x8000),
            Map.entry("ENOENT", 2), Map.entry("EINTR", 4), Map.entry("EBADF", 9), Map.entry("EINVAL", 22)));

    private static final Map<String, Integer> MACOS_CONSTANTS = new TreeMap<>(FREEBSD_CONSTANTS);

    static {
        MACOS_CONSTANTS.put("EVFILT_USER", -10);
    }

    /** Field offsets of struct kevent, in declaration order. */
    private static final Map<String, Long> KEVENT_OFFSETS = Map.of(
            "ident", 0L, "filter", 8L, "flags", 10L, "fflags", 12L, "data", 16L, "udata", 24L);

    private static final Bindings FREEBSD = Bindings.of("org.ioatom.internal.freebsd");
    private static final Bindings MACOS = Bindings.of("org.ioatom.internal.macos");

    @Test
    void freebsdStructKeventIs64BytesWithExtAt32() {
        assertEquals(64, FREEBSD.sizeof("kevent"));
        assertEquals(8, layout("freebsd", "kevent").byteAlignment());
        KEVENT_OFFSETS.forEach((field, offset) -> assertEquals(offset, FREEBSD.offset("kevent", field), field));
        assertEquals(32, FREEBSD.offset("kevent", "ext"));
        assertEquals(32, org.ioatom.internal.freebsd.kevent.ext$layout().byteSize(), "uint64_t ext[4]");
        assertEquals(List.of("ident", "filter", "flags", "fflags", "data", "udata", "ext"), names("freebsd"));
    }

    @Test
    void macosStructKeventIs32BytesPackedTo4() {
        assertEquals(32, MACOS.sizeof("kevent"));
        assertEquals(4, layout("macos", "kevent").byteAlignment(), "#pragma pack(4)");
        KEVENT_OFFSETS.forEach((field, offset) -> assertEquals(offset, MACOS.offset("kevent", field), field));
        assertEquals(List.of("ident", "filter", "flags", "fflags", "data", "udata"), names("macos"));
    }

    @Test
    void timespecIs16BytesOnBoth() {
        for (Bindings b : List.of(FREEBSD, MACOS)) {
            assertEquals(16, b.sizeof("timespec"), b.packageName());
            assertEquals(0, b.offset("timespec", "tv_sec"), b.packageName());
            assertEquals(8, b.offset("timespec", "tv_nsec"), b.packageName());
        }
    }

    @Test
    void everyConstantIsPinned() throws Exception {
        assertConstants(FREEBSD, FREEBSD_CONSTANTS);
        assertConstants(MACOS, MACOS_CONSTANTS);
    }

    @Test
    void functionDescriptorsAreTheManPageSignatures() {
        // jextract's shape resolves a function's symbol when its descriptor is first read, so this
        // needs kqueue and kevent somewhere: the emulation on Linux.
        KqueueEmulation.configure();
        assumeTrue(KqueueAbi.chooseNow().available(), "no kqueue here: " + KqueueAbi.chooseNow().unavailableReason());
        KqueueAbi.load();
        // int kqueue(void); int kevent(int kq, const struct kevent *changelist, int nchanges,
        // struct kevent *eventlist, int nevents, const struct timespec *timeout); int close(int):
        // the same in both systems' man pages.
        FunctionDescriptor kqueue = FunctionDescriptor.of(JAVA_INT);
        FunctionDescriptor kevent = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        FunctionDescriptor close = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        // int pipe(int fildes[2]); ssize_t read(int, void *, size_t); ssize_t write(int, const void *, size_t)
        FunctionDescriptor pipe = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor io = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
        for (Bindings b : List.of(FREEBSD, MACOS)) {
            assertEquals(pipe, plain(b.descriptor("Kqueue", "pipe")), b.packageName());
            assertEquals(io, plain(b.descriptor("Kqueue", "read")), b.packageName());
            assertEquals(io, plain(b.descriptor("Kqueue", "write")), b.packageName());
            assertEquals(kqueue, plain(b.descriptor("Kqueue", "kqueue")), b.packageName());
            assertEquals(kevent, plain(b.descriptor("Kqueue", "kevent")), b.packageName());
            assertEquals(close, plain(b.descriptor("Kqueue", "close")), b.packageName());
        }
    }

    /** The descriptor without names and pointer target layouts. */
    private static FunctionDescriptor plain(FunctionDescriptor d) {
        MemoryLayout[] args = d.argumentLayouts().stream().map(KqueueBindingsPinnedTest::plain).toArray(MemoryLayout[]::new);
        return FunctionDescriptor.of(plain(d.returnLayout().orElseThrow()), args);
    }

    private static MemoryLayout plain(MemoryLayout l) {
        MemoryLayout m = l instanceof AddressLayout a ? a.withoutTargetLayout() : l;
        return m.withoutName();
    }

    private static void assertConstants(Bindings b, Map<String, Integer> pinned) throws Exception {
        Class<?> header = b.headerClass("Kqueue");
        TreeSet<String> declared = new TreeSet<>();
        for (Method m : header.getDeclaredMethods()) {
            if (Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers())
                    && m.getParameterCount() == 0 && m.getReturnType() == int.class
                    && m.getName().equals(m.getName().toUpperCase(java.util.Locale.ROOT))) { // not kqueue()
                declared.add(m.getName());
                assertEquals(pinned.get(m.getName()), (Integer) m.invoke(null), b.packageName() + "." + m.getName());
            }
        }
        assertEquals(pinned.keySet(), declared, b.packageName() + ": constants declared vs pinned");
    }

    private static GroupLayout layout(String pkg, String struct) {
        try {
            return (GroupLayout) Class.forName("org.ioatom.internal." + pkg + "." + struct).getMethod("layout").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> names(String pkg) {
        return layout(pkg, "kevent").memberLayouts().stream().map(l -> l.name().orElseThrow()).toList();
    }

    @Test
    void aCCompilerLaysTheDeclarationsOutAsPinned(@TempDir Path dir) throws Exception {
        Path gcc = NativeToolchain.onPath("gcc");
        assumeTrue(gcc != null, "gcc is not installed: the declarations cannot be compiled here");
        // The man pages' declarations, compiled for this LP64 machine.
        String c = """
                #include <stddef.h>
                #include <stdint.h>
                #include <stdio.h>
                struct freebsd_kevent { uintptr_t ident; short filter; unsigned short flags; unsigned int fflags;
                                        int64_t data; void *udata; uint64_t ext[4]; };
                #pragma pack(4)
                struct macos_kevent { uintptr_t ident; int16_t filter; uint16_t flags; uint32_t fflags;
                                      intptr_t data; void *udata; };
                #pragma pack()
                #define P(s, f) printf("%s.%s %zu\\n", #s, #f, offsetof(struct s, f))
                int main(void) {
                    printf("freebsd_kevent.sizeof %zu\\nfreebsd_kevent.alignof %zu\\n",
                           sizeof(struct freebsd_kevent), _Alignof(struct freebsd_kevent));
                    printf("macos_kevent.sizeof %zu\\nmacos_kevent.alignof %zu\\n",
                           sizeof(struct macos_kevent), _Alignof(struct macos_kevent));
                    P(freebsd_kevent, ident); P(freebsd_kevent, filter); P(freebsd_kevent, flags);
                    P(freebsd_kevent, fflags); P(freebsd_kevent, data); P(freebsd_kevent, udata);
                    P(freebsd_kevent, ext);
                    P(macos_kevent, ident); P(macos_kevent, filter); P(macos_kevent, flags);
                    P(macos_kevent, fflags); P(macos_kevent, data); P(macos_kevent, udata);
                    return 0;
                }
                """;
        Files.writeString(dir.resolve("kevent.c"), c);
        NativeToolchain.run(dir, gcc.toString(), "-std=gnu11", "-o", "kevent", "kevent.c");
        Map<String, Long> facts = new TreeMap<>();
        for (String line : NativeToolchain.lines(NativeToolchain.run(dir, dir.resolve("kevent").toString()))) {
            String[] kv = line.split(" ");
            facts.put(kv[0], Long.parseLong(kv[1]));
        }
        for (var abi : Map.of("freebsd", FREEBSD, "macos", MACOS).entrySet()) {
            String s = abi.getKey() + "_kevent";
            Bindings b = abi.getValue();
            assertEquals(facts.get(s + ".sizeof"), b.sizeof("kevent"), s + " size");
            assertEquals(facts.get(s + ".alignof"), layout(abi.getKey(), "kevent").byteAlignment(), s + " alignment");
            for (String field : names(abi.getKey())) {
                assertEquals(facts.get(s + "." + field), b.offset("kevent", field), s + "." + field);
            }
        }
    }
}
