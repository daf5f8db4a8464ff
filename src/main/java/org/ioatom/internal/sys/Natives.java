package org.ioatom.internal.sys;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * The thin hand-written layer over the generated bindings: downcall handles that capture
 * {@code errno} (jextract does not generate those) and the capture-state layout.
 *
 * <p>Each caller keeps its handles in {@code static final} fields and invokes them with
 * {@code invokeExact}; the first argument of an errno-capturing handle is the capture segment,
 * which the caller owns (a poller keeps one for its lifetime).
 */
public final class Natives {
    private Natives() {}

    /** The platform linker. */
    public static final Linker LINKER = Linker.nativeLinker();

    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** Layout of the segment that errno-capturing calls write into. */
    public static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();

    private static final long ERRNO_OFFSET =
            CAPTURE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

    /** The C library's symbols. */
    public static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** A downcall to {@code name} in the C library, with the signature the bindings give. */
    public static MethodHandle libc(Bindings bindings, String name, boolean captureErrno) {
        return downcall(LIBC, bindings.descriptor(name), name, captureErrno);
    }

    /**
     * A downcall to {@code name} in the C library whose pointer argument at {@code argIndex} is
     * declared as a plain 64-bit address ({@code long}) instead of a segment. Both are passed
     * alike on the 64-bit ABIs ioatom supports; the point is that a range inside a segment can then
     * be passed as {@code segment.address() + offset}, with no slice object and no session
     * acquire per call. The caller checks the range and the segment's liveness first.
     */
    public static MethodHandle libcWithRawPointer(Bindings bindings, String name, int argIndex, boolean captureErrno) {
        FunctionDescriptor d = bindings.descriptor(name);
        List<MemoryLayout> args = new ArrayList<>(d.argumentLayouts());
        if (!(args.get(argIndex) instanceof AddressLayout a) || a.byteSize() != Long.BYTES) {
            throw new IllegalArgumentException(name + ": argument " + argIndex + " is not a 64-bit pointer: " + d);
        }
        args.set(argIndex, ValueLayout.JAVA_LONG);
        FunctionDescriptor raw = d.returnLayout()
                .map(r -> FunctionDescriptor.of(r, args.toArray(MemoryLayout[]::new)))
                .orElseGet(() -> FunctionDescriptor.ofVoid(args.toArray(MemoryLayout[]::new)));
        return downcall(LIBC, raw, name, captureErrno);
    }

    /** A downcall to {@code name} found through {@code lookup}. */
    @SuppressWarnings("restricted") // native access is what this module is for; apps grant it once
    public static MethodHandle downcall(SymbolLookup lookup, FunctionDescriptor descriptor, String name,
                                        boolean captureErrno) {
        MemorySegment address = lookup.find(name)
                .orElseThrow(() -> new UnsupportedOperationException("symbol " + name + " not found"));
        return captureErrno
                ? LINKER.downcallHandle(address, descriptor, CAPTURE_ERRNO)
                : LINKER.downcallHandle(address, descriptor);
    }

    /** The errno that the last capturing call stored in {@code capture}. */
    public static int errno(MemorySegment capture) {
        return capture.get(ValueLayout.JAVA_INT, ERRNO_OFFSET);
    }

    /**
     * Lets runtime exceptions from a downcall (closed or foreign-thread segments) through as
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
}
