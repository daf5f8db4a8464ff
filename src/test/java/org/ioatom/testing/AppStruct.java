package org.ioatom.testing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import org.ioatom.IoAtom;

/** An app struct with the atom embedded at a non-zero offset, as real apps do. */
public final class AppStruct {
    private AppStruct() {}

    public static final StructLayout LAYOUT = MemoryLayout.structLayout(
            ValueLayout.JAVA_LONG.withName("id"),
            IoAtom.LAYOUT.withName("io"),
            ValueLayout.JAVA_INT.withName("calls"),
            ValueLayout.JAVA_INT.withName("lastEvents"));
    public static final long IO = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("io"));
    public static final long CALLS = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("calls"));
    public static final long LAST = LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("lastEvents"));
    public static final long ID = 0;

    public static MemorySegment allocate(Arena arena, long id, int fd) {
        MemorySegment s = arena.allocate(LAYOUT);
        s.set(ValueLayout.JAVA_LONG, ID, id);
        IoAtom.init(s, IO, fd);
        return s;
    }

    /** @return the id the struct was allocated with */
    public static int id(MemorySegment s) {
        return (int) s.get(ValueLayout.JAVA_LONG, ID);
    }

    public static int calls(MemorySegment s) {
        return s.get(ValueLayout.JAVA_INT, CALLS);
    }

    public static int lastEvents(MemorySegment s) {
        return s.get(ValueLayout.JAVA_INT, LAST);
    }

    /** Records a handler call in the struct itself. */
    public static void record(MemorySegment s, int events) {
        s.set(ValueLayout.JAVA_INT, CALLS, calls(s) + 1);
        s.set(ValueLayout.JAVA_INT, LAST, events);
    }
}
