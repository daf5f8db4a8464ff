// Written by hand to match what jextract/generate would make from jextract/macos/kqueue.args (target x86_64-apple-macos and arm64-apple-macos, which share this layout).
// Neither OS's headers exist on Linux, so this was not generated: regenerate it on macOS with
// jextract (see jextract/README.md) and replace this file. Values: macOS <sys/event.h> (xnu bsd/sys/event.h, struct kevent under #pragma pack(4)) and kevent(2); <sys/errno.h>; <sys/_types/_timespec.h>.

package org.ioatom.internal.macos;

import java.lang.foreign.*;
import java.util.Objects;
import java.util.function.Consumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {@code struct timespec}: 16 bytes, aligned to 8, as macOS lays it out (written by hand to the
 * generated shape; see the note at the top of this file).
 */
@SuppressWarnings("restricted")
public class timespec {

    timespec() {
        // static members only; not private so that a typedef's class could extend this one
    }

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            Kqueue.C_LONG.withName("tv_sec"),
            Kqueue.C_LONG.withName("tv_nsec")
    ).withName("timespec");

    /** {@return the layout of {@code struct timespec}} */
    public static final GroupLayout layout() {
        return $LAYOUT;
    }

    private static final ValueLayout.OfLong tv_sec$LAYOUT = (ValueLayout.OfLong) $LAYOUT.select(groupElement("tv_sec"));

    /** {@return the layout of field {@code time_t tv_sec}} */
    public static final ValueLayout.OfLong tv_sec$layout() {
        return tv_sec$LAYOUT;
    }

    private static final long tv_sec$OFFSET = 0;

    /** {@return the offset of field {@code time_t tv_sec} in bytes, from the header} */
    public static final long tv_sec$offset() {
        return tv_sec$OFFSET;
    }

    /**
     * Getter for field {@code time_t tv_sec}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static long tv_sec(MemorySegment struct) {
        return struct.get(tv_sec$LAYOUT, tv_sec$OFFSET);
    }

    /**
     * Setter for field {@code time_t tv_sec}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void tv_sec(MemorySegment struct, long fieldValue) {
        struct.set(tv_sec$LAYOUT, tv_sec$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfLong tv_nsec$LAYOUT = (ValueLayout.OfLong) $LAYOUT.select(groupElement("tv_nsec"));

    /** {@return the layout of field {@code long tv_nsec}} */
    public static final ValueLayout.OfLong tv_nsec$layout() {
        return tv_nsec$LAYOUT;
    }

    private static final long tv_nsec$OFFSET = 8;

    /** {@return the offset of field {@code long tv_nsec} in bytes, from the header} */
    public static final long tv_nsec$offset() {
        return tv_nsec$OFFSET;
    }

    /**
     * Getter for field {@code long tv_nsec}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static long tv_nsec(MemorySegment struct) {
        return struct.get(tv_nsec$LAYOUT, tv_nsec$OFFSET);
    }

    /**
     * Setter for field {@code long tv_nsec}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void tv_nsec(MemorySegment struct, long fieldValue) {
        struct.set(tv_nsec$LAYOUT, tv_nsec$OFFSET, fieldValue);
    }

    /**
     * The element at index in an array of {@code struct timespec}.
     *
     * @param array the array
     * @param index the element's index
     * @return a slice of the array
     */
    public static MemorySegment asSlice(MemorySegment array, long index) {
        return array.asSlice(layout().byteSize() * index, layout().byteSize());
    }

    /** {@return the size of {@code struct timespec} in bytes: 16} */
    public static long sizeof() {
        return layout().byteSize();
    }

    /**
     * Allocates one {@code struct timespec}.
     *
     * @param allocator where to allocate
     * @return the new segment
     */
    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate(layout());
    }

    /**
     * Allocates an array of {@code struct timespec}.
     *
     * @param elementCount how many elements
     * @param allocator where to allocate
     * @return the new segment
     */
    public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {
        return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));
    }

    /**
     * Gives a native address the size of one {@code struct timespec}.
     *
     * @param addr the address
     * @param arena the arena the result belongs to
     * @param cleanup what to run when the arena closes, or null
     * @return the resized segment
     */
    public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {
        return reinterpret(addr, 1, arena, cleanup);
    }

    /**
     * Gives a native address the size of an array of {@code struct timespec}.
     *
     * @param addr the address
     * @param elementCount how many elements
     * @param arena the arena the result belongs to
     * @param cleanup what to run when the arena closes, or null
     * @return the resized segment
     */
    public static MemorySegment reinterpret(MemorySegment addr, long elementCount, Arena arena, Consumer<MemorySegment> cleanup) {
        return addr.reinterpret(layout().byteSize() * elementCount, arena, cleanup);
    }
}
