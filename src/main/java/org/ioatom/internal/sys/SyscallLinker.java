package org.ioatom.internal.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;

/**
 * How ioatom enters the kernel: the one decision every system call goes through.
 *
 * <h2>Why not {@code captureCallState}</h2>
 * A C library call reports failure through the thread-local {@code errno}, which the JVM may
 * overwrite before Java code can read it, so FFM offers {@code Linker.Option.captureCallState}.
 * But every capturing call slices the capture segment it is given (a 40-byte object); only C2
 * removes that allocation, and only when the whole downcall inlines into one compilation. In a
 * real app (a helper nine frames below the loop, cold code running C1-compiled for hours, the
 * interpreter) every socket call would allocate. Repeating a failed call with capture to learn
 * its errno is not an option for {@code read}, {@code send} or {@code close}: the first failure
 * consumes the socket's error, and the repeat reports something else (EOF after ECONNRESET).
 *
 * <h2>Direct mode (the default)</h2>
 * At start-up ioatom writes one tiny stub per system call it uses into a page of its own
 * ({@link SyscallStubs} shows all of their code), then makes the page executable and read-only
 * (never writable and executable at once). A stub enters the kernel and returns the raw result,
 * {@code -errno} on failure, so the downcall is a plain, non-capturing one: no allocation in any
 * compiler mode, the exact errno, and no C library {@code errno} at all. On aarch64 no explicit
 * instruction-cache flush is needed: the page is written before it is ever executable, and the
 * kernel synchronises the caches when it maps a written page executable.
 *
 * <h2>libc mode (the fallback)</h2>
 * Where executable memory is refused (SELinux {@code execmem}, PaX, a seccomp filter), on an
 * architecture without stubs, or when {@value #MODE_PROPERTY}{@code =libc} asks for it, each
 * call goes to the C library function of the same signature with {@code captureCallState}, and
 * its {@code -1}/{@code errno} is turned into the same {@code -errno} result. Behaviour is the
 * same; a capturing call may then allocate 40 bytes outside C2-inlined code. {@link #mode()}
 * and {@link #directUnavailableReason()} say which mode runs and why.
 *
 * <p>Both modes give every handle the same type: the system call's Java signature returning
 * {@code long}, which is the result or {@code -errno}. The generated {@code Syscalls} class
 * holds those handles in {@code static final} fields and calls them with {@code invokeExact}.
 */
public final class SyscallLinker {
    private SyscallLinker() {}

    /** System property: {@code direct} (default) or {@code libc}. */
    public static final String MODE_PROPERTY = "ioatom.syscalls";

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Natives.CAPTURE_LAYOUT;
    private static final Linker.Option CAPTURE_ERRNO = Natives.CAPTURE_ERRNO;

    /** C library functions whose prototype is variadic: index of the first variadic argument. */
    private static final Map<String, Integer> VARIADIC = Map.of("fcntl", 2, "prctl", 1);

    /** Why direct mode is off, or null when it is on. Decided once per JVM. */
    private static final String DIRECT_UNAVAILABLE = directUnavailable();

    /** True when system calls go through ioatom's stubs; false for the C library fallback. */
    public static final boolean DIRECT = DIRECT_UNAVAILABLE == null;

    /**
     * {@return {@code direct} or {@code libc}}
     */
    public static String mode() {
        return DIRECT ? "direct" : "libc";
    }

    /**
     * {@return why system calls go through the C library, or null when they go direct}
     */
    public static String directUnavailableReason() {
        return DIRECT_UNAVAILABLE;
    }

    private static String directUnavailable() {
        String wanted = System.getProperty(MODE_PROPERTY, "direct").trim();
        if (wanted.equals("libc")) {
            return MODE_PROPERTY + "=libc";
        }
        if (!wanted.equals("direct")) {
            // A typo must not silently change how every call is made; say so where it is read.
            throw new IllegalArgumentException("invalid " + MODE_PROPERTY + " value '" + wanted
                    + "': expected direct or libc");
        }
        Platform p = Platform.current();
        if (p.os() != Platform.Os.LINUX || !SyscallStubs.supports(p.arch())) {
            return "no system-call stubs for " + p;
        }
        return null;
    }

    /**
     * The system calls of one generated class, linked in the mode this JVM runs in.
     *
     * @param numbers   system call numbers, one per call
     * @param libcNames the C library function of the same signature, one per call (the fallback)
     * @return the table to take handles from
     */
    public static Table table(int[] numbers, String[] libcNames) {
        if (numbers.length != libcNames.length) {
            throw new IllegalArgumentException(numbers.length + " numbers but " + libcNames.length + " names");
        }
        MemorySegment stubs = null;
        String refused = DIRECT_UNAVAILABLE;
        if (refused == null) {
            try {
                stubs = ExecutablePage.withStubs(Platform.current().arch(), numbers);
            } catch (IllegalStateException e) {
                refused = e.getMessage();
            }
        }
        return new Table(stubs, numbers.clone(), libcNames.clone(), refused);
    }

    /** Handles to one class's system calls; see {@link SyscallLinker#table}. */
    public static final class Table {
        private final MemorySegment stubs;
        private final int[] numbers;
        private final String[] libcNames;
        private final String refused;

        private Table(MemorySegment stubs, int[] numbers, String[] libcNames, String refused) {
            this.stubs = stubs;
            this.numbers = numbers;
            this.libcNames = libcNames;
            this.refused = refused;
        }

        /**
         * {@return whether this table's calls go through stubs} False if direct mode is off, or
         * if this table's page was refused (then {@link #refusedReason()} says why).
         */
        public boolean direct() {
            return stubs != null;
        }

        /** {@return why this table uses the C library, or null} */
        public String refusedReason() {
            return refused;
        }

        /**
         * A handle to system call {@code index}: the descriptor's Java signature, returning
         * {@code long} (the result, or {@code -errno}).
         *
         * @param index      the call's position in the table
         * @param descriptor the C signature (its return layout is replaced by {@code long})
         * @return the handle
         */
        @SuppressWarnings("restricted") // calling native code is what this module is for
        public MethodHandle handle(int index, FunctionDescriptor descriptor) {
            if (stubs != null) {
                MemorySegment stub = stubs.asSlice((long) index * SyscallStubs.STUB_BYTES, SyscallStubs.STUB_BYTES);
                return LINKER.downcallHandle(stub, descriptor.changeReturnLayout(JAVA_LONG));
            }
            return viaLibc(libcNames[index], numbers[index], descriptor);
        }
    }

    /**
     * The C library fallback: {@code name} with errno captured, adapted to return
     * {@code result == -1 ? -errno : result}, with the capture segment taken per thread.
     */
    @SuppressWarnings("restricted")
    private static MethodHandle viaLibc(String name, int number, FunctionDescriptor descriptor) {
        if (descriptor.returnLayout().orElseThrow() instanceof AddressLayout) {
            // A pointer result (mmap) comes back as its address, like the stub's raw register.
            descriptor = descriptor.changeReturnLayout(JAVA_LONG);
        }
        MemorySegment address = LINKER.defaultLookup().find(name).orElse(null);
        MethodHandle raw;
        if (address == null) {
            // No C library function (io_uring_setup, io_uring_enter): the C library's generic
            // syscall(number, ...), the number bound here; it reports failure as -1 and errno too.
            MemorySegment generic = LINKER.defaultLookup().find("syscall")
                    .orElseThrow(() -> new UnsupportedOperationException("C library function " + name
                            + " not found, nor syscall()"));
            FunctionDescriptor withNumber = descriptor.insertArgumentLayouts(0, JAVA_LONG)
                    .changeReturnLayout(JAVA_LONG);
            MethodHandle numbered = LINKER.downcallHandle(generic, withNumber, CAPTURE_ERRNO,
                    Linker.Option.firstVariadicArg(1));
            raw = MethodHandles.insertArguments(numbered, 1, (long) number);
        } else {
            Integer firstVariadic = VARIADIC.get(name);
            raw = firstVariadic == null
                    ? LINKER.downcallHandle(address, descriptor, CAPTURE_ERRNO)
                    : LINKER.downcallHandle(address, descriptor, CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
        }
        // (capture, args...) -> long
        MethodHandle asLong = raw.asType(raw.type().changeReturnType(long.class));
        // (capture, args..., capture) -> long: the result and the capture segment go to RESULT
        MethodHandle withResult = MethodHandles.collectArguments(RESULT, 0, asLong);
        int n = asLong.type().parameterCount();
        int[] reorder = new int[n + 1];
        for (int i = 0; i < n; i++) {
            reorder[i] = i;
        }
        reorder[n] = 0;
        MethodHandle sameCapture = MethodHandles.permuteArguments(withResult, asLong.type(), reorder);
        // (args...) -> long, the capture segment being this thread's
        return MethodHandles.foldArguments(sameCapture, THREAD_CAPTURE);
    }

    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    private static final MethodHandle RESULT;
    private static final MethodHandle THREAD_CAPTURE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            RESULT = lookup.findStatic(SyscallLinker.class, "result",
                    MethodType.methodType(long.class, long.class, MemorySegment.class));
            THREAD_CAPTURE = lookup.findStatic(SyscallLinker.class, "threadCapture",
                    MethodType.methodType(MemorySegment.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // through RESULT
    private static long result(long result, MemorySegment capture) {
        return result == -1 ? -Natives.errno(capture) : result;
    }

    @SuppressWarnings("unused") // through THREAD_CAPTURE
    private static MemorySegment threadCapture() {
        return CAPTURE.get();
    }

    /**
     * Lets runtime exceptions from a downcall (a closed or foreign-thread segment) through as
     * they are; a checked throwable cannot come from a downcall handle.
     *
     * @param t what the handle threw
     * @return never returns normally
     */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("unexpected checked exception from a downcall", t);
    }

    /**
     * One anonymous page holding stubs: written while it is read-write, then switched to
     * read-execute. Setup only; its own calls go through the C library with errno captured.
     */
    static final class ExecutablePage {
        private ExecutablePage() {}

        // Identical on x86_64 and aarch64 Linux (asm-generic/mman-common.h).
        private static final int PROT_READ = 1;
        private static final int PROT_WRITE = 2;
        private static final int PROT_EXEC = 4;
        private static final int MAP_PRIVATE = 2;
        private static final int MAP_ANONYMOUS = 0x20;

        private static final MethodHandle MMAP = libc("mmap",
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        private static final MethodHandle MPROTECT = libc("mprotect",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        private static final MethodHandle MUNMAP = libc("munmap",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

        @SuppressWarnings("restricted")
        private static MethodHandle libc(String name, FunctionDescriptor d) {
            return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d, CAPTURE_ERRNO);
        }

        /**
         * Maps a page, writes the stubs, makes it read-execute.
         *
         * @return the page, sized to the stubs, never unmapped (the handles live as long as the JVM)
         * @throws IllegalStateException with the reason if the OS refuses
         */
        @SuppressWarnings("restricted") // the page is ours and sized exactly
        static MemorySegment withStubs(String arch, int[] numbers) {
            long size = Math.max(1, (long) numbers.length * SyscallStubs.STUB_BYTES);
            long length = (size + 0xffff) & ~0xffffL; // whole pages for 4 KiB to 64 KiB page sizes
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
                MemorySegment page = (MemorySegment) MMAP.invokeExact(capture, MemorySegment.NULL, length,
                        PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
                if (page.address() == -1L) {
                    throw refused("mmap(PROT_READ|PROT_WRITE)", capture);
                }
                page = page.reinterpret(length);
                for (int i = 0; i < numbers.length; i++) {
                    MemorySegment.copy(SyscallStubs.encode(arch, numbers[i]), 0, page,
                            JAVA_BYTE, (long) i * SyscallStubs.STUB_BYTES,
                            SyscallStubs.STUB_BYTES);
                }
                if ((int) MPROTECT.invokeExact(capture, page, length, PROT_READ | PROT_EXEC) != 0) {
                    IllegalStateException e = refused("mprotect(PROT_READ|PROT_EXEC)", capture);
                    int ignored = (int) MUNMAP.invokeExact(capture, page, length);
                    throw e;
                }
                return page.asSlice(0, size);
            } catch (IllegalStateException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("executable memory for system-call stubs: " + t, t);
            }
        }

        private static IllegalStateException refused(String call, MemorySegment capture) {
            int errno = Natives.errno(capture);
            return new IllegalStateException("executable memory for system-call stubs refused: " + call + ": "
                    + Errnos.name(errno) + " (" + Errnos.text(errno) + ")");
        }
    }
}
