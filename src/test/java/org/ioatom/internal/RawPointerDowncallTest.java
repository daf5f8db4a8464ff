package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import org.ioatom.internal.sys.Natives;
import org.ioatom.internal.sys.Sys;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The hand-written layer can declare a pointer argument of a generated signature as a plain
 * address (what {@code IoSocket}'s range reads and writes use), and refuses any other argument.
 */
class RawPointerDowncallTest {

    @BeforeAll
    static void onLinux() {
        assumeTrue(System.getProperty("os.name").equals("Linux"), "Linux bindings");
    }

    @Test
    void readAndWriteTakeAnAddressInsideASegment() throws Throwable {
        MethodHandle write = Natives.libcWithRawPointer(Sys.B, "write", 1, true);
        MethodHandle read = Natives.libcWithRawPointer(Sys.B, "read", 1, true);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = arena.allocate(Natives.CAPTURE_LAYOUT);
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertEquals(0, Sys.pipe2(errno, fds, 0));
            int readEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int writeEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            try {
                MemorySegment buf = arena.allocate(64);
                MemorySegment.copy("xxioatom".getBytes(StandardCharsets.US_ASCII), 0, buf, ValueLayout.JAVA_BYTE, 10, 8);
                // bytes 12..17 ("ioatom") without a slice
                assertEquals(6L, (long) write.invokeExact(errno, writeEnd, buf.address() + 12, 6L));
                assertEquals(6L, (long) read.invokeExact(errno, readEnd, buf.address() + 40, 16L));
                byte[] got = buf.asSlice(40, 6).toArray(ValueLayout.JAVA_BYTE);
                assertEquals("ioatom", new String(got, StandardCharsets.US_ASCII));
                // errno is captured as with the segment form
                assertEquals(-1L, (long) read.invokeExact(errno, -1, buf.address(), 1L));
                assertEquals(Sys.EBADF, Natives.errno(errno));
            } finally {
                Sys.close(errno, readEnd);
                Sys.close(errno, writeEnd);
            }
        }
    }

    @Test
    void onlyA64BitPointerArgumentCanBecomeAnAddress() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Natives.libcWithRawPointer(Sys.B, "read", 0, true));
        assertTrue(e.getMessage().startsWith("read: argument 0 is not a 64-bit pointer"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Natives.libcWithRawPointer(Sys.B, "read", 3, true));
    }
}
