package org.ioatom.internal.bsd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * What ioatom's kqueue backend and pipe waker need from FreeBSD's and macOS's headers: constants,
 * {@code struct kevent} for both ABIs, {@code struct timespec}, and the signatures of
 * {@code kqueue}, {@code kevent}, {@code pipe}, {@code read}, {@code write} and {@code close}.
 *
 * <p>Written by hand (those headers do not exist on Linux, so nothing can be generated here), from
 * FreeBSD 12+ {@code sys/sys/event.h}, {@code sys/sys/errno.h} and kevent(2), and from xnu's
 * {@code bsd/sys/event.h} and {@code bsd/sys/errno.h}. {@code KqueueBindingsPinnedTest} pins every
 * value and compiles both struct declarations with gcc. Both OSes' x86_64 and arm64/aarch64 ABIs
 * are LP64 and lay these out alike; 32-bit systems are not supported.
 *
 * <p>Everything below is the same on both OSes except what {@link KeventAbi} holds: the size and
 * alignment of {@code struct kevent} (FreeBSD appends {@code uint64_t ext[4]}; macOS packs the
 * struct to 4) and {@code EVFILT_USER}. The fields ioatom reads sit at the same offsets in both.
 */
public final class Kqueue {
    private Kqueue() {}

    // Filters (struct kevent.filter, a short). Equal on both OSes.
    /** Readable, or a listening socket has a connection. */
    public static final short EVFILT_READ = -1;
    /** Writable. */
    public static final short EVFILT_WRITE = -2;

    // Flags (struct kevent.flags, an unsigned short: stored with a cast, read with & 0xFFFF). Equal on both OSes.
    /** Add the knote, or modify it if it exists. */
    public static final int EV_ADD = 0x0001;
    /** Remove the knote. */
    public static final int EV_DELETE = 0x0002;
    /** Report the knote's events. */
    public static final int EV_ENABLE = 0x0004;
    /** Keep the knote but report nothing. */
    public static final int EV_DISABLE = 0x0008;
    /** Edge-triggered: reset the state once the event is returned. */
    public static final int EV_CLEAR = 0x0020;
    /** Return every change as an EV_ERROR entry (data 0 on success) and do not wait. */
    public static final int EV_RECEIPT = 0x0040;
    /** Output: a change's result, with its errno in data. */
    public static final int EV_ERROR = 0x4000;
    /** Output: end of file; for sockets, a pending error is in fflags. */
    public static final int EV_EOF = 0x8000;

    // errno values. Equal on both OSes.
    /** No such file or directory: deleting a knote that does not exist. */
    public static final int ENOENT = 2;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Bad file descriptor. */
    public static final int EBADF = 9;
    /** Invalid argument. */
    public static final int EINVAL = 22;

    /**
     * FreeBSD 12+ {@code struct kevent}: 64 bytes, aligned to 8.
     * {@code uintptr_t ident; short filter; unsigned short flags; unsigned int fflags;
     * int64_t data; void *udata; uint64_t ext[4];}
     */
    public static final StructLayout KEVENT_FREEBSD = MemoryLayout.structLayout(
            JAVA_LONG.withName("ident"),
            JAVA_SHORT.withName("filter"),
            JAVA_SHORT.withName("flags"),
            JAVA_INT.withName("fflags"),
            JAVA_LONG.withName("data"),
            ADDRESS.withName("udata"),
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("ext")).withName("kevent");

    /**
     * macOS {@code struct kevent}, declared under {@code #pragma pack(4)}: 32 bytes, aligned to 4.
     * {@code uintptr_t ident; int16_t filter; uint16_t flags; uint32_t fflags; intptr_t data;
     * void *udata;}
     */
    public static final StructLayout KEVENT_MACOS = MemoryLayout.structLayout(
            JAVA_LONG.withByteAlignment(4).withName("ident"),
            JAVA_SHORT.withName("filter"),
            JAVA_SHORT.withName("flags"),
            JAVA_INT.withName("fflags"),
            JAVA_LONG.withByteAlignment(4).withName("data"),
            ADDRESS.withByteAlignment(4).withName("udata")).withName("kevent");

    // Offsets in struct kevent: the same in both layouts.
    /** {@code uintptr_t ident}: the fd. */
    public static final long IDENT_OFFSET = 0;
    /** {@code short filter}. */
    public static final long FILTER_OFFSET = 8;
    /** {@code unsigned short flags}. */
    public static final long FLAGS_OFFSET = 10;
    /** {@code unsigned int fflags}. */
    public static final long FFLAGS_OFFSET = 12;
    /** {@code int64_t data} (FreeBSD) / {@code intptr_t data} (macOS): 8 bytes on both. */
    public static final long DATA_OFFSET = 16;
    /** {@code void *udata}: ioatom keeps a 64-bit token there, never a pointer. */
    public static final long UDATA_OFFSET = 24;

    /** {@code struct timespec}: {@code time_t tv_sec; long tv_nsec;}, 16 bytes on both. */
    public static final StructLayout TIMESPEC = MemoryLayout.structLayout(
            JAVA_LONG.withName("tv_sec"),
            JAVA_LONG.withName("tv_nsec")).withName("timespec");
    /** Size of {@code struct timespec}. */
    public static final long TIMESPEC_SIZE = 16;
    /** {@code time_t tv_sec}. */
    public static final long TV_SEC_OFFSET = 0;
    /** {@code long tv_nsec}. */
    public static final long TV_NSEC_OFFSET = 8;

    /** {@code int kqueue(void)}. */
    public static final FunctionDescriptor KQUEUE_DESCRIPTOR = FunctionDescriptor.of(JAVA_INT);
    /**
     * {@code int kevent(int kq, const struct kevent *changelist, int nchanges,
     * struct kevent *eventlist, int nevents, const struct timespec *timeout)}.
     */
    public static final FunctionDescriptor KEVENT_DESCRIPTOR =
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
    /** {@code int pipe(int fildes[2])}. */
    public static final FunctionDescriptor PIPE_DESCRIPTOR = FunctionDescriptor.of(JAVA_INT, ADDRESS);
    /** {@code ssize_t read(int fd, void *buf, size_t nbytes)}. */
    public static final FunctionDescriptor READ_DESCRIPTOR = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    /** {@code ssize_t write(int fd, const void *buf, size_t nbytes)}. */
    public static final FunctionDescriptor WRITE_DESCRIPTOR = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    /** {@code int close(int fd)}. */
    public static final FunctionDescriptor CLOSE_DESCRIPTOR = FunctionDescriptor.of(JAVA_INT, JAVA_INT);

    /**
     * Everything that differs between the two kqueue ABIs, chosen once by name.
     *
     * @param name        {@code freebsd} or {@code macos}
     * @param kevent      the layout of {@code struct kevent}
     * @param keventSize  its size in bytes: the stride of changelists and eventlists
     * @param evfiltUser  {@code EVFILT_USER} (-11 on FreeBSD, -10 on macOS); ioatom's waker is a
     *                    pipe, so this is not used yet, but it is the one filter value that differs
     */
    public record KeventAbi(String name, StructLayout kevent, long keventSize, short evfiltUser) {
        /** FreeBSD 12 and newer. */
        public static final KeventAbi FREEBSD = new KeventAbi("freebsd", KEVENT_FREEBSD, 64, (short) -11);
        /** macOS. */
        public static final KeventAbi MACOS = new KeventAbi("macos", KEVENT_MACOS, 32, (short) -10);

        /**
         * Checks that the size agrees with the layout.
         *
         * @param name       the ABI's name
         * @param kevent     its struct kevent
         * @param keventSize the struct's size
         * @param evfiltUser its EVFILT_USER
         */
        public KeventAbi {
            if (kevent.byteSize() != keventSize) {
                throw new IllegalArgumentException(name + ": struct kevent is " + kevent.byteSize() + " bytes, not " + keventSize);
            }
        }

        /**
         * The ABI of a name.
         *
         * @param name {@code freebsd} or {@code macos}
         * @return its ABI
         * @throws IllegalArgumentException for any other name
         */
        public static KeventAbi of(String name) {
            return switch (name) {
                case "freebsd" -> FREEBSD;
                case "macos" -> MACOS;
                default -> throw new IllegalArgumentException("no kqueue ABI named " + name + ": expected freebsd or macos");
            };
        }
    }
}
