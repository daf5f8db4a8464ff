package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.SockaddrIn;
import org.ioatom.internal.linux.Syscalls;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The *Raw wrappers take each pointer as a plain address, so a range inside a segment can be
 * passed without slicing it (what IoSocket's range reads and writes use).
 */
class RawPointerDowncallTest {

    @BeforeAll
    static void onLinux() {
        assumeTrue(System.getProperty("os.name").equals("Linux"), "Linux bindings");
    }

    @Test
    void readRawFillsAnAddressInsideASegment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertEquals(0, Syscalls.pipe2(fds, Linux.O_CLOEXEC));
            int readEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int writeEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            try {
                assertEquals(6L, Syscalls.write(writeEnd, arena.allocateFrom("ioatom", StandardCharsets.US_ASCII), 6));
                MemorySegment buf = arena.allocate(64);
                assertEquals(6L, Syscalls.readRaw(readEnd, buf.address() + 40, 16));
                assertEquals("ioatom", new String(buf.asSlice(40, 6).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII));
                assertEquals(0, buf.get(ValueLayout.JAVA_BYTE, 39), "nothing before the address");
                assertEquals(-Errno.EBADF, Syscalls.readRaw(-1, buf.address(), 1), "errno as with the segment form");
            } finally {
                Syscalls.close(readEnd);
                Syscalls.close(writeEnd);
            }
        }
    }

    @Test
    void sendtoRawSendsARangeToARawSocketAddress() {
        try (Arena arena = Arena.ofConfined()) {
            int fd = Syscalls.socket(Linux.AF_INET, Linux.SOCK_DGRAM | Linux.SOCK_CLOEXEC, 0);
            assertTrue(fd >= 0, "socket: " + fd);
            try {
                MemorySegment address = arena.allocate(SockaddrIn.LAYOUT);
                address.set(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_FAMILY_OFFSET, (short) Linux.AF_INET);
                address.asSlice(SockaddrIn.SIN_ADDR_OFFSET, 4).copyFrom(MemorySegment.ofArray(new byte[] {127, 0, 0, 1}));
                assertEquals(0, Syscalls.bind(fd, address, (int) SockaddrIn.SIZE));
                MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) SockaddrIn.SIZE);
                assertEquals(0, Syscalls.getsockname(fd, address, length));
                assertTrue(address.get(ValueLayout.JAVA_SHORT, SockaddrIn.SIN_PORT_OFFSET) != 0, "a port was assigned");

                MemorySegment buf = arena.allocate(64);
                MemorySegment.copy("xxioatom".getBytes(StandardCharsets.US_ASCII), 0, buf, ValueLayout.JAVA_BYTE, 10, 8);
                // bytes 12..17 ("ioatom") to ourselves, without a slice
                assertEquals(6L, Syscalls.sendtoRaw(fd, buf.address() + 12, 6, 0, address.address(), (int) SockaddrIn.SIZE));
                MemorySegment in = arena.allocate(64);
                assertEquals(6L, Syscalls.recvfrom(fd, in, in.byteSize(), Linux.MSG_DONTWAIT, MemorySegment.NULL, MemorySegment.NULL));
                assertEquals("ioatom", in.getString(0, StandardCharsets.US_ASCII));
            } finally {
                assertEquals(0, Syscalls.close(fd));
            }
        }
    }
}
