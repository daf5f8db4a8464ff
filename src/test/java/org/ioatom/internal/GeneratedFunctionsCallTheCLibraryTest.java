package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import org.ioatom.internal.linux.EpollEvent;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.LibC;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Pollfd;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.linux.Timespec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The generated Syscalls wrappers reach the kernel with the right signatures on this host: each
 * test makes real system calls through them and checks what comes back (the result, or -errno).
 */
class GeneratedFunctionsCallTheCLibraryTest {

    @BeforeAll
    static void onLinuxX86_64OrAarch64() {
        assumeTrue(System.getProperty("os.name").equals("Linux")
                        && Set.of("amd64", "x86_64", "aarch64", "arm64").contains(System.getProperty("os.arch")),
                "the generated bindings are for Linux on x86_64 and aarch64");
    }

    @Test
    void getpidReturnsThisProcess() {
        assertEquals(ProcessHandle.current().pid(), Syscalls.getpid());
    }

    @Test
    void closingAnInvalidDescriptorReturnsMinusEbadf() {
        assertEquals(-Errno.EBADF, Syscalls.close(-1));
    }

    @Test
    void bytesWrittenToAPipeComeOutOfIt() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertEquals(0, Syscalls.pipe2(fds, Linux.O_CLOEXEC | Linux.O_NONBLOCK));
            int readEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int writeEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            try {
                MemorySegment out = arena.allocateFrom("ioatom", StandardCharsets.US_ASCII);
                assertEquals(7L, Syscalls.write(writeEnd, out, out.byteSize()));
                MemorySegment in = arena.allocate(16);
                assertEquals(7L, Syscalls.read(readEnd, in, in.byteSize()));
                assertEquals("ioatom", in.getString(0, StandardCharsets.US_ASCII));
                assertEquals(-Errno.EAGAIN, Syscalls.read(readEnd, in, in.byteSize()), "empty non-blocking pipe");

                // fcntl is variadic in C; the wrapper takes its argument as a long.
                int flags = Syscalls.fcntl(readEnd, Linux.F_GETFL, 0);
                assertTrue(flags >= 0 && (flags & Linux.O_NONBLOCK) != 0, "O_NONBLOCK set by pipe2");
                assertEquals(0, Syscalls.fcntl(readEnd, Linux.F_SETFL, flags & ~Linux.O_NONBLOCK));
                assertEquals(0, Syscalls.fcntl(readEnd, Linux.F_GETFL, 0) & Linux.O_NONBLOCK);
            } finally {
                assertEquals(0, Syscalls.close(readEnd));
                assertEquals(0, Syscalls.close(writeEnd));
            }
        }
    }

    @Test
    void epollCarriesA64BitTokenThroughTheEventLayout() {
        // On x86_64 epoll_event is packed: data.u64 sits at offset 4, which LAYOUT's lowered alignment allows.
        ValueLayout.OfLong u64 = (ValueLayout.OfLong) EpollEvent.LAYOUT.select(
                MemoryLayout.PathElement.groupElement("data"), MemoryLayout.PathElement.groupElement("u64"));
        try (Arena arena = Arena.ofConfined()) {
            int epfd = Syscalls.epoll_create1(Linux.EPOLL_CLOEXEC);
            int efd = Syscalls.eventfd2(0, Linux.EFD_CLOEXEC | Linux.EFD_NONBLOCK);
            assertTrue(epfd >= 0 && efd >= 0, "epoll_create1 and eventfd2");
            try {
                MemorySegment event = arena.allocate(EpollEvent.LAYOUT);
                event.set(ValueLayout.JAVA_INT, EpollEvent.EVENTS_OFFSET, Linux.EPOLLIN | Linux.EPOLLET);
                event.set(u64, EpollEvent.DATA_OFFSET, 0x1234_5678_9abc_def0L);
                assertEquals(0, Syscalls.epoll_ctl(epfd, Linux.EPOLL_CTL_ADD, efd, event));
                assertEquals(-Errno.EEXIST, Syscalls.epoll_ctl(epfd, Linux.EPOLL_CTL_ADD, efd, event));

                MemorySegment ready = arena.allocate(EpollEvent.LAYOUT, 2);
                assertEquals(0, Syscalls.epoll_pwait(epfd, ready, 2, 0, MemorySegment.NULL), "nothing written yet");
                assertEquals(8L, Syscalls.write(efd, arena.allocateFrom(ValueLayout.JAVA_LONG, 1L), 8));
                assertEquals(1, Syscalls.epoll_pwait(epfd, ready, 2, 1000, MemorySegment.NULL));
                assertTrue((ready.get(ValueLayout.JAVA_INT, EpollEvent.EVENTS_OFFSET) & Linux.EPOLLIN) != 0);
                assertEquals(0x1234_5678_9abc_def0L, ready.get(u64, EpollEvent.DATA_OFFSET));

                MemorySegment poll = arena.allocate(Pollfd.LAYOUT);
                poll.set(ValueLayout.JAVA_INT, Pollfd.FD_OFFSET, efd);
                poll.set(ValueLayout.JAVA_SHORT, Pollfd.EVENTS_OFFSET, (short) Linux.POLLIN);
                assertEquals(1, Syscalls.ppoll(poll, 1, MemorySegment.NULL, MemorySegment.NULL));
                assertEquals(Linux.POLLIN, poll.get(ValueLayout.JAVA_SHORT, Pollfd.REVENTS_OFFSET) & Linux.POLLIN);
            } finally {
                assertEquals(0, Syscalls.close(efd));
                assertEquals(0, Syscalls.close(epfd));
            }
        }
    }

    @Test
    void clockGettimeFillsATimespec() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ts = arena.allocate(Timespec.LAYOUT);
            assertEquals(0, Syscalls.clock_gettime(Linux.CLOCK_MONOTONIC, ts));
            long nanos = ts.get(ValueLayout.JAVA_LONG, Timespec.TV_NSEC_OFFSET);
            assertTrue(nanos >= 0 && nanos < 1_000_000_000L, "tv_nsec " + nanos);
            assertEquals(-Errno.EINVAL, Syscalls.clock_gettime(-1000, ts));
        }
    }

    @Test
    @SuppressWarnings("restricted")
    void strerrorDescribesEbadf() {
        MemorySegment message = LibC.strerror(Errno.EBADF).reinterpret(256);
        assertEquals("Bad file descriptor", message.getString(0));
    }
}
