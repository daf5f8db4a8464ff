package org.ioatom.internal.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;

/**
 * THROWAWAY STUB, to be replaced by the real SyscallLinker on merge: makes each handle a plain
 * C library downcall that captures errno and returns the result, or -errno when the call failed
 * (-1, or MAP_FAILED for a pointer result). Slow (an arena per call); for testing the generated
 * Syscalls only.
 */
public final class SyscallLinker {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    /** glibc's variadic wrappers: the index of their first variadic argument. */
    private static final Map<String, Integer> VARIADIC = Map.of("fcntl", 2, "prctl", 1);
    private static final MethodHandle CALL;

    static {
        try {
            CALL = MethodHandles.lookup().findStatic(SyscallLinker.class, "call",
                    MethodType.methodType(long.class, MethodHandle.class, Object[].class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private SyscallLinker() {
    }

    /** The system calls of one generated class: their numbers and the C library's names for them. */
    public static Table table(int[] numbers, String[] libcNames) {
        return new Table(libcNames.clone());
    }

    /** See {@link #table}. */
    public static final class Table {
        private final String[] libcNames;

        private Table(String[] libcNames) {
            this.libcNames = libcNames;
        }

        /** A handle of the descriptor's Java type with a {@code long} result: the result, or -errno. */
        @SuppressWarnings("restricted")
        public MethodHandle handle(int index, FunctionDescriptor descriptor) {
            String name = libcNames[index];
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("no " + name + " in the C library"));
            // Raw (long) pointer arguments are passed as ADDRESS to the C function.
            MemoryLayout[] args = descriptor.argumentLayouts().toArray(MemoryLayout[]::new);
            FunctionDescriptor c = descriptor.returnLayout().map(r -> FunctionDescriptor.of(r, args))
                    .orElseGet(() -> FunctionDescriptor.ofVoid(args));
            Linker.Option capture = Linker.Option.captureCallState("errno");
            MethodHandle downcall = VARIADIC.containsKey(name)
                    ? LINKER.downcallHandle(symbol, c, capture, Linker.Option.firstVariadicArg(VARIADIC.get(name)))
                    : LINKER.downcallHandle(symbol, c, capture);
            MethodType type = descriptor.toMethodType().changeReturnType(long.class);
            return MethodHandles.insertArguments(CALL, 0, downcall)
                    .asCollector(Object[].class, type.parameterCount())
                    .asType(type);
        }
    }

    private static long call(MethodHandle downcall, Object[] args) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            Object[] all = new Object[args.length + 1];
            all[0] = state;
            System.arraycopy(args, 0, all, 1, args.length);
            Object result = downcall.invokeWithArguments(all);
            long value = switch (result) {
                case MemorySegment s -> s.address();
                case Integer i -> i.longValue();
                case Long l -> l.longValue();
                default -> throw new IllegalStateException("unexpected result " + result);
            };
            if (value == -1) {
                int errno = state.get(ValueLayout.JAVA_INT, CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno")));
                return -errno;
            }
            return value;
        }
    }

    /** Rethrows what a handle threw: unchecked as it is, anything else wrapped. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException("unexpected exception from a system call", t);
    }
}
