// Written by hand to match what jextract/generate would make from jextract/macos/kqueue.args (target x86_64-apple-macos and arm64-apple-macos, which share this layout).
// Neither OS's headers exist on Linux, so this was not generated: regenerate it on macOS with
// jextract (see jextract/README.md) and replace this file. Values: macOS <sys/event.h> (xnu bsd/sys/event.h, struct kevent under #pragma pack(4)) and kevent(2); <sys/errno.h>; <sys/_types/_timespec.h>.

package org.ioatom.internal.macos;

import java.lang.foreign.*;
import java.util.Objects;
import java.util.function.Consumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {@code struct kevent}: 32 bytes, aligned to 4, as macOS lays it out (written by hand to the
 * generated shape; see the note at the top of this file).
 */
@SuppressWarnings("restricted")
public class kevent {

    kevent() {
        // static members only; not private so that a typedef's class could extend this one
    }

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            Kqueue.C_LONG.withByteAlignment(4).withName("ident"),
            Kqueue.C_SHORT.withName("filter"),
            Kqueue.C_SHORT.withName("flags"),
            Kqueue.C_INT.withName("fflags"),
            Kqueue.C_LONG.withByteAlignment(4).withName("data"),
            Kqueue.C_POINTER.withByteAlignment(4).withName("udata")
    ).withName("kevent");

    /** {@return the layout of {@code struct kevent}} */
    public static final GroupLayout layout() {
        return $LAYOUT;
    }

    private static final ValueLayout.OfLong ident$LAYOUT = (ValueLayout.OfLong) $LAYOUT.select(groupElement("ident"));

    /** {@return the layout of field {@code uintptr_t ident}} */
    public static final ValueLayout.OfLong ident$layout() {
        return ident$LAYOUT;
    }

    private static final long ident$OFFSET = 0;

    /** {@return the offset of field {@code uintptr_t ident} in bytes, from the header} */
    public static final long ident$offset() {
        return ident$OFFSET;
    }

    /**
     * Getter for field {@code uintptr_t ident}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static long ident(MemorySegment struct) {
        return struct.get(ident$LAYOUT, ident$OFFSET);
    }

    /**
     * Setter for field {@code uintptr_t ident}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void ident(MemorySegment struct, long fieldValue) {
        struct.set(ident$LAYOUT, ident$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfShort filter$LAYOUT = (ValueLayout.OfShort) $LAYOUT.select(groupElement("filter"));

    /** {@return the layout of field {@code int16_t filter}} */
    public static final ValueLayout.OfShort filter$layout() {
        return filter$LAYOUT;
    }

    private static final long filter$OFFSET = 8;

    /** {@return the offset of field {@code int16_t filter} in bytes, from the header} */
    public static final long filter$offset() {
        return filter$OFFSET;
    }

    /**
     * Getter for field {@code int16_t filter}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static short filter(MemorySegment struct) {
        return struct.get(filter$LAYOUT, filter$OFFSET);
    }

    /**
     * Setter for field {@code int16_t filter}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void filter(MemorySegment struct, short fieldValue) {
        struct.set(filter$LAYOUT, filter$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfShort flags$LAYOUT = (ValueLayout.OfShort) $LAYOUT.select(groupElement("flags"));

    /** {@return the layout of field {@code uint16_t flags}} */
    public static final ValueLayout.OfShort flags$layout() {
        return flags$LAYOUT;
    }

    private static final long flags$OFFSET = 10;

    /** {@return the offset of field {@code uint16_t flags} in bytes, from the header} */
    public static final long flags$offset() {
        return flags$OFFSET;
    }

    /**
     * Getter for field {@code uint16_t flags}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static short flags(MemorySegment struct) {
        return struct.get(flags$LAYOUT, flags$OFFSET);
    }

    /**
     * Setter for field {@code uint16_t flags}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void flags(MemorySegment struct, short fieldValue) {
        struct.set(flags$LAYOUT, flags$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfInt fflags$LAYOUT = (ValueLayout.OfInt) $LAYOUT.select(groupElement("fflags"));

    /** {@return the layout of field {@code uint32_t fflags}} */
    public static final ValueLayout.OfInt fflags$layout() {
        return fflags$LAYOUT;
    }

    private static final long fflags$OFFSET = 12;

    /** {@return the offset of field {@code uint32_t fflags} in bytes, from the header} */
    public static final long fflags$offset() {
        return fflags$OFFSET;
    }

    /**
     * Getter for field {@code uint32_t fflags}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static int fflags(MemorySegment struct) {
        return struct.get(fflags$LAYOUT, fflags$OFFSET);
    }

    /**
     * Setter for field {@code uint32_t fflags}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void fflags(MemorySegment struct, int fieldValue) {
        struct.set(fflags$LAYOUT, fflags$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfLong data$LAYOUT = (ValueLayout.OfLong) $LAYOUT.select(groupElement("data"));

    /** {@return the layout of field {@code intptr_t data}} */
    public static final ValueLayout.OfLong data$layout() {
        return data$LAYOUT;
    }

    private static final long data$OFFSET = 16;

    /** {@return the offset of field {@code intptr_t data} in bytes, from the header} */
    public static final long data$offset() {
        return data$OFFSET;
    }

    /**
     * Getter for field {@code intptr_t data}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static long data(MemorySegment struct) {
        return struct.get(data$LAYOUT, data$OFFSET);
    }

    /**
     * Setter for field {@code intptr_t data}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void data(MemorySegment struct, long fieldValue) {
        struct.set(data$LAYOUT, data$OFFSET, fieldValue);
    }

    private static final AddressLayout udata$LAYOUT = (AddressLayout) $LAYOUT.select(groupElement("udata"));

    /** {@return the layout of field {@code void *udata}} */
    public static final AddressLayout udata$layout() {
        return udata$LAYOUT;
    }

    private static final long udata$OFFSET = 24;

    /** {@return the offset of field {@code void *udata} in bytes, from the header} */
    public static final long udata$offset() {
        return udata$OFFSET;
    }

    /**
     * Getter for field {@code void *udata}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static MemorySegment udata(MemorySegment struct) {
        return struct.get(udata$LAYOUT, udata$OFFSET);
    }

    /**
     * Setter for field {@code void *udata}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void udata(MemorySegment struct, MemorySegment fieldValue) {
        struct.set(udata$LAYOUT, udata$OFFSET, fieldValue);
    }

    /**
     * The element at index in an array of {@code struct kevent}.
     *
     * @param array the array
     * @param index the element's index
     * @return a slice of the array
     */
    public static MemorySegment asSlice(MemorySegment array, long index) {
        return array.asSlice(layout().byteSize() * index, layout().byteSize());
    }

    /** {@return the size of {@code struct kevent} in bytes: 32} */
    public static long sizeof() {
        return layout().byteSize();
    }

    /**
     * Allocates one {@code struct kevent}.
     *
     * @param allocator where to allocate
     * @return the new segment
     */
    public static MemorySegment allocate(SegmentAllocator allocator) {
        return allocator.allocate(layout());
    }

    /**
     * Allocates an array of {@code struct kevent}.
     *
     * @param elementCount how many elements
     * @param allocator where to allocate
     * @return the new segment
     */
    public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {
        return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));
    }

    /**
     * Gives a native address the size of one {@code struct kevent}.
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
     * Gives a native address the size of an array of {@code struct kevent}.
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
