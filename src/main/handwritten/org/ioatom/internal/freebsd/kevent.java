// Written by hand to match what jextract/generate would make from jextract/freebsd/kqueue.args (target x86_64-unknown-freebsd and aarch64-unknown-freebsd, which share this layout).
// Neither OS's headers exist on Linux, so this was not generated: regenerate it on FreeBSD with
// jextract (see jextract/README.md) and replace this file. Values: FreeBSD 12+ <sys/event.h> and kevent(2); <errno.h>; <sys/_timespec.h>.

package org.ioatom.internal.freebsd;

import java.lang.foreign.*;
import java.util.Objects;
import java.util.function.Consumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {@code struct kevent}: 64 bytes, aligned to 8, as FreeBSD lays it out (written by hand to the
 * generated shape; see the note at the top of this file).
 */
@SuppressWarnings("restricted")
public class kevent {

    kevent() {
        // static members only; not private so that a typedef's class could extend this one
    }

    private static final GroupLayout $LAYOUT = MemoryLayout.structLayout(
            Kqueue.C_LONG.withName("ident"),
            Kqueue.C_SHORT.withName("filter"),
            Kqueue.C_SHORT.withName("flags"),
            Kqueue.C_INT.withName("fflags"),
            Kqueue.C_LONG.withName("data"),
            Kqueue.C_POINTER.withName("udata"),
            MemoryLayout.sequenceLayout(4, Kqueue.C_LONG).withName("ext")
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

    /** {@return the layout of field {@code short filter}} */
    public static final ValueLayout.OfShort filter$layout() {
        return filter$LAYOUT;
    }

    private static final long filter$OFFSET = 8;

    /** {@return the offset of field {@code short filter} in bytes, from the header} */
    public static final long filter$offset() {
        return filter$OFFSET;
    }

    /**
     * Getter for field {@code short filter}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static short filter(MemorySegment struct) {
        return struct.get(filter$LAYOUT, filter$OFFSET);
    }

    /**
     * Setter for field {@code short filter}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void filter(MemorySegment struct, short fieldValue) {
        struct.set(filter$LAYOUT, filter$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfShort flags$LAYOUT = (ValueLayout.OfShort) $LAYOUT.select(groupElement("flags"));

    /** {@return the layout of field {@code unsigned short flags}} */
    public static final ValueLayout.OfShort flags$layout() {
        return flags$LAYOUT;
    }

    private static final long flags$OFFSET = 10;

    /** {@return the offset of field {@code unsigned short flags} in bytes, from the header} */
    public static final long flags$offset() {
        return flags$OFFSET;
    }

    /**
     * Getter for field {@code unsigned short flags}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static short flags(MemorySegment struct) {
        return struct.get(flags$LAYOUT, flags$OFFSET);
    }

    /**
     * Setter for field {@code unsigned short flags}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void flags(MemorySegment struct, short fieldValue) {
        struct.set(flags$LAYOUT, flags$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfInt fflags$LAYOUT = (ValueLayout.OfInt) $LAYOUT.select(groupElement("fflags"));

    /** {@return the layout of field {@code unsigned int fflags}} */
    public static final ValueLayout.OfInt fflags$layout() {
        return fflags$LAYOUT;
    }

    private static final long fflags$OFFSET = 12;

    /** {@return the offset of field {@code unsigned int fflags} in bytes, from the header} */
    public static final long fflags$offset() {
        return fflags$OFFSET;
    }

    /**
     * Getter for field {@code unsigned int fflags}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static int fflags(MemorySegment struct) {
        return struct.get(fflags$LAYOUT, fflags$OFFSET);
    }

    /**
     * Setter for field {@code unsigned int fflags}.
     *
     * @param struct the struct
     * @param fieldValue the new value
     */
    public static void fflags(MemorySegment struct, int fieldValue) {
        struct.set(fflags$LAYOUT, fflags$OFFSET, fieldValue);
    }

    private static final ValueLayout.OfLong data$LAYOUT = (ValueLayout.OfLong) $LAYOUT.select(groupElement("data"));

    /** {@return the layout of field {@code __int64_t data}} */
    public static final ValueLayout.OfLong data$layout() {
        return data$LAYOUT;
    }

    private static final long data$OFFSET = 16;

    /** {@return the offset of field {@code __int64_t data} in bytes, from the header} */
    public static final long data$offset() {
        return data$OFFSET;
    }

    /**
     * Getter for field {@code __int64_t data}.
     *
     * @param struct the struct
     * @return the field's value
     */
    public static long data(MemorySegment struct) {
        return struct.get(data$LAYOUT, data$OFFSET);
    }

    /**
     * Setter for field {@code __int64_t data}.
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

    private static final SequenceLayout ext$LAYOUT = (SequenceLayout) $LAYOUT.select(groupElement("ext"));

    /** {@return the layout of field {@code __uint64_t[4] ext}} */
    public static final SequenceLayout ext$layout() {
        return ext$LAYOUT;
    }

    private static final long ext$OFFSET = 32;

    /** {@return the offset of field {@code __uint64_t[4] ext} in bytes, from the header} */
    public static final long ext$offset() {
        return ext$OFFSET;
    }

    /**
     * Getter for field {@code __uint64_t[4] ext}.
     *
     * @param struct the struct
     * @return a slice of the struct, not a copy
     */
    public static MemorySegment ext(MemorySegment struct) {
        return struct.asSlice(ext$OFFSET, ext$LAYOUT.byteSize());
    }

    /**
     * Setter for field {@code __uint64_t[4] ext}: copies the field's size in bytes.
     *
     * @param struct the struct
     * @param fieldValue the bytes to copy
     */
    public static void ext(MemorySegment struct, MemorySegment fieldValue) {
        MemorySegment.copy(fieldValue, 0L, struct, ext$OFFSET, ext$LAYOUT.byteSize());
    }

    private static final long[] ext$DIMS = { 4L };

    /** {@return the dimensions of array field {@code __uint64_t[4] ext}} */
    public static long[] ext$dimensions() {
        return ext$DIMS.clone();
    }

    private static final ValueLayout.OfLong ext$ELEMENT = (ValueLayout.OfLong) ext$LAYOUT.select(MemoryLayout.PathElement.sequenceElement());

    /**
     * Getter for one element of array field {@code __uint64_t[4] ext}.
     *
     * @param struct the struct
     * @param index0 index in dimension 0 (of 4)
     * @return the element's value
     */
    public static long ext(MemorySegment struct, long index0) {
        return struct.get(ext$ELEMENT, ext$OFFSET + Objects.checkIndex(index0, 4L) * 8L);
    }

    /**
     * Setter for one element of array field {@code __uint64_t[4] ext}.
     *
     * @param struct the struct
     * @param index0 index in dimension 0 (of 4)
     * @param fieldValue the new value
     */
    public static void ext(MemorySegment struct, long index0, long fieldValue) {
        struct.set(ext$ELEMENT, ext$OFFSET + Objects.checkIndex(index0, 4L) * 8L, fieldValue);
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

    /** {@return the size of {@code struct kevent} in bytes: 64} */
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
