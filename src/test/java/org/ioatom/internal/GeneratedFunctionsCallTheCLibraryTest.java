package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

import org.ioatom.internal.linux.x86_64.LibC;
import org.ioatom.internal.linux.x86_64.epoll_data;
import org.ioatom.internal.linux.x86_64.epoll_event;
import org.ioatom.internal.linux.x86_64.pollfd;
import org.ioatom.internal.linux.x86_64.sockaddr_in;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The generated x86_64 wrappers reach the real C library with the right signatures: each test
 * makes real system calls through them and checks what comes back.
 */
class GeneratedFunctionsCallTheCLibraryTest {

    @BeforeAll
    static void onX86_64Linux() {
        assumeTrue(System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64"),
                "the x86_64 Linux bindings can only be called on x86_64 Linux");
    }

    @Test
    void getpidReturnsThisProcess() {
        assertEquals(ProcessHandle.current().pid(), LibC.getpid());
    }

    @Test
    void bytesWrittenToAPipeComeOutOfIt() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertEquals(0, LibC.pipe2(fds, LibC.O_CLOEXEC() | LibC.O_NONBLOCK()));
            int readEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int writeEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            try {
                MemorySegment out = arena.allocateFrom("ioatom", StandardCharsets.US_ASCII);
                assertEquals(7L, LibC.write(writeEnd, out, out.byteSize()));
                MemorySegment in = arena.allocate(16);
                assertEquals(7L, LibC.read(readEnd, in, in.byteSize()));
                assertEquals("ioatom", in.getString(0, StandardCharsets.US_ASCII));

                // Empty non-blocking pipe: -1 (errno EAGAIN, which these wrappers do not capture).
                assertEquals(-1L, LibC.read(readEnd, in, in.byteSize()));

                // The variadic fcntl: F_GETFL takes no third argument.
                int flags = LibC.fcntl.makeInvoker().apply(readEnd, LibC.F_GETFL());
                assertTrue((flags & LibC.O_NONBLOCK()) != 0, "O_NONBLOCK set by pipe2");
                int fdFlags = LibC.fcntl.makeInvoker().apply(readEnd, LibC.F_GETFD());
                assertEquals(LibC.FD_CLOEXEC(), fdFlags & LibC.FD_CLOEXEC());
                LibC.fcntl setfl = LibC.fcntl.makeInvoker(LibC.C_INT);
                assertEquals(0, setfl.apply(readEnd, LibC.F_SETFL(), flags & ~LibC.O_NONBLOCK()));
                assertEquals(0, LibC.fcntl.makeInvoker().apply(readEnd, LibC.F_GETFL()) & LibC.O_NONBLOCK());
            } finally {
                assertEquals(0, LibC.close(readEnd));
                assertEquals(0, LibC.close(writeEnd));
            }
        }
    }

    @Test
    void epollReportsAReadablePipeWithTheRegisteredData() {
        try (Arena arena = Arena.ofConfined()) {
            int epfd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC());
            assertTrue(epfd >= 0, "epoll_create1");
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertEquals(0, LibC.pipe2(fds, LibC.O_CLOEXEC()));
            int readEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int writeEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            try {
                MemorySegment event = epoll_event.allocate(arena);
                epoll_event.events(event, LibC.EPOLLIN() | LibC.EPOLLET());
                epoll_data.fd(epoll_event.data(event), readEnd);
                assertEquals(0, LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_ADD(), readEnd, event));

                MemorySegment ready = epoll_event.allocateArray(4, arena);
                assertEquals(0, LibC.epoll_wait(epfd, ready, 4, 0), "nothing written yet");
                MemorySegment one = arena.allocateFrom("x", StandardCharsets.US_ASCII);
                assertEquals(1L, LibC.write(writeEnd, one, 1));
                assertEquals(1, LibC.epoll_wait(epfd, ready, 4, 1000));
                MemorySegment first = epoll_event.asSlice(ready, 0);
                assertTrue((epoll_event.events(first) & LibC.EPOLLIN()) != 0);
                assertEquals(readEnd, epoll_data.fd(epoll_event.data(first)));
                // Edge-triggered: no new edge, no new event.
                assertEquals(0, LibC.epoll_wait(epfd, ready, 4, 0));

                MemorySegment poll = pollfd.allocate(arena);
                pollfd.fd(poll, readEnd);
                pollfd.events(poll, (short) LibC.POLLIN());
                assertEquals(1, LibC.poll(poll, 1L, 0));
                assertEquals(LibC.POLLIN(), pollfd.revents(poll) & LibC.POLLIN());
            } finally {
                assertEquals(0, LibC.close(readEnd));
                assertEquals(0, LibC.close(writeEnd));
                assertEquals(0, LibC.close(epfd));
            }
        }
    }

    @Test
    void aPackedEpollEventCarriesA64BitTokenThroughItsOwnLayout() {
        // On x86_64 epoll_event is packed: data sits at offset 4, so its u64 is not 8-aligned.
        // epoll_data.u64(slice) would insist on 8-byte alignment; epoll_event's layout knows better.
        ValueLayout.OfLong u64 = (ValueLayout.OfLong) epoll_event.layout().select(
                MemoryLayout.PathElement.groupElement("data"), MemoryLayout.PathElement.groupElement("u64"));
        assertEquals(1L, u64.byteAlignment());
        try (Arena arena = Arena.ofConfined()) {
            int epfd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC());
            int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC() | LibC.EFD_NONBLOCK());
            assertTrue(epfd >= 0 && efd >= 0, "epoll_create1 and eventfd");
            try {
                MemorySegment event = epoll_event.allocate(arena);
                epoll_event.events(event, LibC.EPOLLIN());
                event.set(u64, epoll_event.data$offset(), 0x1234_5678_9abc_def0L);
                assertEquals(0, LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_ADD(), efd, event));
                MemorySegment one = arena.allocateFrom(ValueLayout.JAVA_LONG, 1L);
                assertEquals(8L, LibC.write(efd, one, 8));

                MemorySegment ready = epoll_event.allocateArray(2, arena);
                assertEquals(1, LibC.epoll_wait(epfd, ready, 2, 1000));
                assertEquals(0x1234_5678_9abc_def0L, ready.get(u64, epoll_event.data$offset()));
            } finally {
                assertEquals(0, LibC.close(efd));
                assertEquals(0, LibC.close(epfd));
            }
        }
    }

    @Test
    void strerrorDescribesEbadf() {
        MemorySegment message = LibC.strerror(LibC.EBADF());
        assertEquals("Bad file descriptor", message.getString(0));
    }

    @Test
    void inetPtonAndNtopRoundTripAnAddressInASockaddrIn() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment address = sockaddr_in.allocate(arena);
            sockaddr_in.sin_family(address, (short) LibC.AF_INET());
            assertEquals(1, LibC.inet_pton(LibC.AF_INET(), arena.allocateFrom("127.0.0.1"), sockaddr_in.sin_addr(address)));
            MemorySegment text = arena.allocate(LibC.INET_ADDRSTRLEN());
            MemorySegment result = LibC.inet_ntop(LibC.AF_INET(), sockaddr_in.sin_addr(address), text, LibC.INET_ADDRSTRLEN());
            assertEquals(text.address(), result.address());
            assertEquals("127.0.0.1", text.getString(0));

            int socket = LibC.socket(LibC.AF_INET(), LibC.SOCK_STREAM() | LibC.SOCK_CLOEXEC(), 0);
            assertTrue(socket >= 0, "socket");
            try {
                // Port 0: the kernel picks one; bind passes the sockaddr by pointer.
                assertEquals(0, LibC.bind(socket, address, (int) sockaddr_in.sizeof()));
                MemorySegment bound = sockaddr_in.allocate(arena);
                MemorySegment length = arena.allocateFrom(ValueLayout.JAVA_INT, (int) sockaddr_in.sizeof());
                assertEquals(0, LibC.getsockname(socket, bound, length));
                assertEquals(LibC.AF_INET(), sockaddr_in.sin_family(bound));
                assertTrue(sockaddr_in.sin_port(bound) != 0, "an ephemeral port was assigned");
            } finally {
                assertEquals(0, LibC.close(socket));
            }
        }
    }
}
