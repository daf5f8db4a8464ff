package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.ioatom.internal.bsd.Kqueue;
import org.ioatom.internal.bsd.Kqueue.KeventAbi;
import org.ioatom.testing.Executables;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hand-written kqueue descriptions ({@link Kqueue}: the BSD headers do not exist on Linux, so
 * nothing can be generated) hold exactly the values that each OS documents. Every size, offset,
 * alignment, constant and signature is pinned here, and every constant the class declares must be
 * pinned.
 *
 * <p>Sources:
 * <ul>
 *   <li>FreeBSD: kevent(2) of FreeBSD 12 (Debian's freebsd-manpages 12.2, {@code man 2freebsd kevent}),
 *       which declares {@code struct kevent} with {@code uint64_t ext[4]}, and {@code sys/sys/event.h}
 *       of FreeBSD 12 to 14 for the values (EVFILT_READ (-1), EVFILT_WRITE (-2), EVFILT_USER (-11),
 *       EV_ADD 0x0001, EV_DELETE 0x0002, EV_ENABLE 0x0004, EV_DISABLE 0x0008, EV_CLEAR 0x0020,
 *       EV_RECEIPT 0x0040, EV_ERROR 0x4000, EV_EOF 0x8000);
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

    /** The constants of {@link Kqueue}, the same on both OSes. */
    private static final Map<String, Integer> CONSTANTS = new TreeMap<>(Map.ofEntries(
            Map.entry("EVFILT_READ", -1), Map.entry("EVFILT_WRITE", -2),
            Map.entry("EV_ADD", 0x0001), Map.entry("EV_DELETE", 0x0002), Map.entry("EV_ENABLE", 0x0004),
            Map.entry("EV_DISABLE", 0x0008), Map.entry("EV_CLEAR", 0x0020),
            Map.entry("EV_RECEIPT", 0x0040), Map.entry("EV_ERROR", 0x4000), Map.entry("EV_EOF", 0x8000),
            Map.entry("ENOENT", 2), Map.entry("EINTR", 4), Map.entry("EBADF", 9), Map.entry("EINVAL", 22)));

    /** Field offsets of struct kevent, in declaration order: the same on both. */
    private static final Map<String, Long> KEVENT_OFFSETS = Map.of(
            "ident", 0L, "filter", 8L, "flags", 10L, "fflags", 12L, "data", 16L, "udata", 24L);

    @Test
    void freebsdStructKeventIs64BytesWithExtAt32() {
        StructLayout l = Kqueue.KEVENT_FREEBSD;
        assertEquals(64, l.byteSize());
        assertEquals(8, l.byteAlignment());
        KEVENT_OFFSETS.forEach((field, offset) -> assertEquals(offset, l.byteOffset(groupElement(field)), field));
        assertEquals(32, l.byteOffset(groupElement("ext")));
        assertEquals(32, l.select(groupElement("ext")).byteSize(), "uint64_t ext[4]");
        assertEquals(List.of("ident", "filter", "flags", "fflags", "data", "udata", "ext"), names(l));
        assertEquals(KeventAbi.FREEBSD, KeventAbi.of("freebsd"));
        assertEquals(l, KeventAbi.FREEBSD.kevent());
        assertEquals(64, KeventAbi.FREEBSD.keventSize());
        assertEquals(-11, KeventAbi.FREEBSD.evfiltUser(), "EVFILT_USER");
    }

    @Test
    void macosStructKeventIs32BytesPackedTo4() {
        StructLayout l = Kqueue.KEVENT_MACOS;
        assertEquals(32, l.byteSize());
        assertEquals(4, l.byteAlignment(), "#pragma pack(4)");
        KEVENT_OFFSETS.forEach((field, offset) -> assertEquals(offset, l.byteOffset(groupElement(field)), field));
        assertEquals(List.of("ident", "filter", "flags", "fflags", "data", "udata"), names(l));
        assertEquals(KeventAbi.MACOS, KeventAbi.of("macos"));
        assertEquals(l, KeventAbi.MACOS.kevent());
        assertEquals(32, KeventAbi.MACOS.keventSize());
        assertEquals(-10, KeventAbi.MACOS.evfiltUser(), "EVFILT_USER");
    }

    @Test
    void theOffsetConstantsAreThoseOfBothLayouts() {
        for (StructLayout l : List.of(Kqueue.KEVENT_FREEBSD, Kqueue.KEVENT_MACOS)) {
            assertEquals(Kqueue.IDENT_OFFSET, l.byteOffset(groupElement("ident")));
            assertEquals(Kqueue.FILTER_OFFSET, l.byteOffset(groupElement("filter")));
            assertEquals(Kqueue.FLAGS_OFFSET, l.byteOffset(groupElement("flags")));
            assertEquals(Kqueue.FFLAGS_OFFSET, l.byteOffset(groupElement("fflags")));
            assertEquals(Kqueue.DATA_OFFSET, l.byteOffset(groupElement("data")));
            assertEquals(Kqueue.UDATA_OFFSET, l.byteOffset(groupElement("udata")));
        }
    }

    @Test
    void timespecIs16BytesOnBoth() {
        assertEquals(16, Kqueue.TIMESPEC.byteSize());
        assertEquals(Kqueue.TIMESPEC_SIZE, Kqueue.TIMESPEC.byteSize());
        assertEquals(0, Kqueue.TIMESPEC.byteOffset(groupElement("tv_sec")));
        assertEquals(8, Kqueue.TIMESPEC.byteOffset(groupElement("tv_nsec")));
        assertEquals(Kqueue.TV_SEC_OFFSET, Kqueue.TIMESPEC.byteOffset(groupElement("tv_sec")));
        assertEquals(Kqueue.TV_NSEC_OFFSET, Kqueue.TIMESPEC.byteOffset(groupElement("tv_nsec")));
    }

    @Test
    void everyConstantIsPinned() throws Exception {
        Map<String, Integer> declared = new TreeMap<>();
        for (Field f : Kqueue.class.getDeclaredFields()) {
            boolean constant = Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers())
                    && (f.getType() == int.class || f.getType() == short.class);
            if (constant) {
                declared.put(f.getName(), ((Number) f.get(null)).intValue());
            }
        }
        assertEquals(CONSTANTS, declared);
    }

    @Test
    void functionDescriptorsAreTheManPageSignatures() {
        // int kqueue(void); int kevent(int kq, const struct kevent *changelist, int nchanges,
        // struct kevent *eventlist, int nevents, const struct timespec *timeout); int close(int):
        // the same in both systems' man pages.
        assertEquals(FunctionDescriptor.of(JAVA_INT), Kqueue.KQUEUE_DESCRIPTOR);
        assertEquals(FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS),
                Kqueue.KEVENT_DESCRIPTOR);
        assertEquals(FunctionDescriptor.of(JAVA_INT, JAVA_INT), Kqueue.CLOSE_DESCRIPTOR);
        // int pipe(int fildes[2]); ssize_t read(int, void *, size_t); ssize_t write(int, const void *, size_t)
        FunctionDescriptor io = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
        assertEquals(FunctionDescriptor.of(JAVA_INT, ADDRESS), Kqueue.PIPE_DESCRIPTOR);
        assertEquals(io, Kqueue.READ_DESCRIPTOR);
        assertEquals(io, Kqueue.WRITE_DESCRIPTOR);
    }

    private static List<String> names(StructLayout l) {
        return l.memberLayouts().stream().map(m -> m.name().orElseThrow()).toList();
    }

    @Test
    void aCCompilerLaysTheDeclarationsOutAsPinned(@TempDir Path dir) throws Exception {
        Path gcc = Executables.onPath("gcc");
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
        for (KeventAbi abi : List.of(KeventAbi.FREEBSD, KeventAbi.MACOS)) {
            String s = abi.name() + "_kevent";
            StructLayout l = abi.kevent();
            assertEquals(facts.get(s + ".sizeof"), l.byteSize(), s + " size");
            assertEquals(facts.get(s + ".sizeof"), abi.keventSize(), s + " size");
            assertEquals(facts.get(s + ".alignof"), l.byteAlignment(), s + " alignment");
            for (String field : names(l)) {
                assertEquals(facts.get(s + "." + field), l.byteOffset(groupElement(field)), s + "." + field);
            }
        }
    }
}
