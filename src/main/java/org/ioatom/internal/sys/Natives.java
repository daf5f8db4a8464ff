package org.ioatom.internal.sys;

import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * errno capture for the C library calls that still use it: the kqueue backend's setup, teardown
 * and failure paths (Linux system calls go through {@link SyscallLinker} and need none).
 */
public final class Natives {
    private Natives() {}

    /** Layout of the segment that errno-capturing calls write into. */
    public static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();

    /** The option that makes a downcall capture errno. */
    public static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private static final long ERRNO_OFFSET =
            CAPTURE_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

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
        return SyscallLinker.rethrow(t);
    }
}
