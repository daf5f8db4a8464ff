// Written by hand to match what jextract/generate would make from jextract/macos/kqueue.args (target x86_64-apple-macos and arm64-apple-macos, which share this layout).
// Neither OS's headers exist on Linux, so this was not generated: regenerate it on macOS with
// jextract (see jextract/README.md) and replace this file. Values: macOS <sys/event.h> (xnu bsd/sys/event.h, struct kevent under #pragma pack(4)) and kevent(2); <sys/errno.h>; <sys/_types/_timespec.h>.

package org.ioatom.internal.macos;

import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;

/**
 * Downcalls, C type layouts and constants of {@code jextract/macos/ioatom_macos.h}, as macOS's headers define them
 * (written by hand to the generated shape; see the note at the top of this file).
 */
@SuppressWarnings("restricted")
public final class Kqueue {

    private Kqueue() {
        // static members only
    }

    /** Layout of C {@code _Bool}: size 1, alignment 1. */
    public static final ValueLayout.OfBoolean C_BOOL = ValueLayout.JAVA_BOOLEAN;

    /** Layout of C {@code char}: size 1, alignment 1. */
    public static final ValueLayout.OfByte C_CHAR = ValueLayout.JAVA_BYTE;

    /** Layout of C {@code short}: size 2, alignment 2. */
    public static final ValueLayout.OfShort C_SHORT = ValueLayout.JAVA_SHORT;

    /** Layout of C {@code int}: size 4, alignment 4. */
    public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;

    /** Layout of C {@code long long}: size 8, alignment 8. */
    public static final ValueLayout.OfLong C_LONG_LONG = ValueLayout.JAVA_LONG;

    /** Layout of C {@code float}: size 4, alignment 4. */
    public static final ValueLayout.OfFloat C_FLOAT = ValueLayout.JAVA_FLOAT;

    /** Layout of C {@code double}: size 8, alignment 8. */
    public static final ValueLayout.OfDouble C_DOUBLE = ValueLayout.JAVA_DOUBLE;

    /** Layout of C {@code long}: size 8, alignment 8. */
    public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;

    /**
     * Layout of a C pointer: size 8, alignment 8. Its target layout makes the
     * segments that downcalls return readable without a reinterpret.
     */
    public static final AddressLayout C_POINTER = ValueLayout.ADDRESS
            .withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    // The loader's libraries first, then the C library the JVM itself links against.
    static final SymbolLookup SYMBOL_LOOKUP = SymbolLookup.loaderLookup()
            .or(Linker.nativeLinker().defaultLookup());

    // Called from the holder classes only, so a symbol this OS lacks fails just the
    // function that needs it, when it is first used.
    static MemorySegment findOrThrow(String symbol) {
        return SYMBOL_LOOKUP.find(symbol)
                .orElseThrow(() -> new UnsatisfiedLinkError("unresolved symbol: " + symbol));
    }

    private static final class close {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(Kqueue.C_INT, Kqueue.C_INT);
        static final MemorySegment ADDR = Kqueue.findOrThrow("close");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    /** {@return the function descriptor of {@code int close(int fd)}} */
    public static FunctionDescriptor close$descriptor() {
        return close.DESC;
    }

    /** {@return the downcall method handle of {@code int close(int fd)}} */
    public static MethodHandle close$handle() {
        return close.HANDLE;
    }

    /** {@return the address of {@code int close(int fd)}} */
    public static MemorySegment close$address() {
        return close.ADDR;
    }

    /**
     * Calls {@code int close(int fd)}.
     *
     * @param fd C {@code int fd}
     * @return what the C function returns
     */
    public static int close(int fd) {
        var mh$ = close.HANDLE;
        try {
            return (int) mh$.invokeExact(fd);
        } catch (Throwable ex$) {
            throw new AssertionError("unexpected exception from a native call", ex$);
        }
    }

    private static final class kevent {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(Kqueue.C_INT, Kqueue.C_INT, Kqueue.C_POINTER, Kqueue.C_INT, Kqueue.C_POINTER, Kqueue.C_INT, Kqueue.C_POINTER);
        static final MemorySegment ADDR = Kqueue.findOrThrow("kevent");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    /** {@return the function descriptor of {@code int kevent(int kq, const struct kevent * changelist, int nchanges, struct kevent * eventlist, int nevents, const struct timespec * timeout)}} */
    public static FunctionDescriptor kevent$descriptor() {
        return kevent.DESC;
    }

    /** {@return the downcall method handle of {@code int kevent(int kq, const struct kevent * changelist, int nchanges, struct kevent * eventlist, int nevents, const struct timespec * timeout)}} */
    public static MethodHandle kevent$handle() {
        return kevent.HANDLE;
    }

    /** {@return the address of {@code int kevent(int kq, const struct kevent * changelist, int nchanges, struct kevent * eventlist, int nevents, const struct timespec * timeout)}} */
    public static MemorySegment kevent$address() {
        return kevent.ADDR;
    }

    /**
     * Calls {@code int kevent(int kq, const struct kevent * changelist, int nchanges, struct kevent * eventlist, int nevents, const struct timespec * timeout)}.
     *
     * @param kq C {@code int kq}
     * @param changelist C {@code const struct kevent * changelist}
     * @param nchanges C {@code int nchanges}
     * @param eventlist C {@code struct kevent * eventlist}
     * @param nevents C {@code int nevents}
     * @param timeout C {@code const struct timespec * timeout}
     * @return what the C function returns
     */
    public static int kevent(int kq, MemorySegment changelist, int nchanges, MemorySegment eventlist, int nevents, MemorySegment timeout) {
        var mh$ = kevent.HANDLE;
        try {
            return (int) mh$.invokeExact(kq, changelist, nchanges, eventlist, nevents, timeout);
        } catch (Throwable ex$) {
            throw new AssertionError("unexpected exception from a native call", ex$);
        }
    }

    private static final class kqueue {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(Kqueue.C_INT);
        static final MemorySegment ADDR = Kqueue.findOrThrow("kqueue");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    /** {@return the function descriptor of {@code int kqueue(void)}} */
    public static FunctionDescriptor kqueue$descriptor() {
        return kqueue.DESC;
    }

    /** {@return the downcall method handle of {@code int kqueue(void)}} */
    public static MethodHandle kqueue$handle() {
        return kqueue.HANDLE;
    }

    /** {@return the address of {@code int kqueue(void)}} */
    public static MemorySegment kqueue$address() {
        return kqueue.ADDR;
    }

    /**
     * Calls {@code int kqueue(void)}.
     *
     * @return what the C function returns
     */
    public static int kqueue() {
        var mh$ = kqueue.HANDLE;
        try {
            return (int) mh$.invokeExact();
        } catch (Throwable ex$) {
            throw new AssertionError("unexpected exception from a native call", ex$);
        }
    }

    private static final class pipe {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(Kqueue.C_INT, Kqueue.C_POINTER);
        static final MemorySegment ADDR = Kqueue.findOrThrow("pipe");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    /** {@return the function descriptor of {@code int pipe(int fildes[2])}} */
    public static FunctionDescriptor pipe$descriptor() {
        return pipe.DESC;
    }

    /** {@return the downcall method handle of {@code int pipe(int fildes[2])}} */
    public static MethodHandle pipe$handle() {
        return pipe.HANDLE;
    }

    /** {@return the address of {@code int pipe(int fildes[2])}} */
    public static MemorySegment pipe$address() {
        return pipe.ADDR;
    }

    /**
     * Calls {@code int pipe(int fildes[2])}.
     *
     * @param fildes C {@code int fildes[2]}
     * @return what the C function returns
     */
    public static int pipe(MemorySegment fildes) {
        var mh$ = pipe.HANDLE;
        try {
            return (int) mh$.invokeExact(fildes);
        } catch (Throwable ex$) {
            throw new AssertionError("unexpected exception from a native call", ex$);
        }
    }

    private static final class read {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(Kqueue.C_LONG, Kqueue.C_INT, Kqueue.C_POINTER, Kqueue.C_LONG);
        static final MemorySegment ADDR = Kqueue.findOrThrow("read");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    /** {@return the function descriptor of {@code ssize_t read(int fd, void * buf, size_t nbytes)}} */
    public static FunctionDescriptor read$descriptor() {
        return read.DESC;
    }

    /** {@return the downcall method handle of {@code ssize_t read(int fd, void * buf, size_t nbytes)}} */
    public static MethodHandle read$handle() {
        return read.HANDLE;
    }

    /** {@return the address of {@code ssize_t read(int fd, void * buf, size_t nbytes)}} */
    public static MemorySegment read$address() {
        return read.ADDR;
    }

    /**
     * Calls {@code ssize_t read(int fd, void * buf, size_t nbytes)}.
     *
     * @param fd C {@code int fd}
     * @param buf C {@code void * buf}
     * @param nbytes C {@code size_t nbytes}
     * @return what the C function returns
     */
    public static long read(int fd, MemorySegment buf, long nbytes) {
        var mh$ = read.HANDLE;
        try {
            return (long) mh$.invokeExact(fd, buf, nbytes);
        } catch (Throwable ex$) {
            throw new AssertionError("unexpected exception from a native call", ex$);
        }
    }

    private static final class write {
        static final FunctionDescriptor DESC = FunctionDescriptor.of(Kqueue.C_LONG, Kqueue.C_INT, Kqueue.C_POINTER, Kqueue.C_LONG);
        static final MemorySegment ADDR = Kqueue.findOrThrow("write");
        static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);
    }

    /** {@return the function descriptor of {@code ssize_t write(int fd, const void * buf, size_t nbytes)}} */
    public static FunctionDescriptor write$descriptor() {
        return write.DESC;
    }

    /** {@return the downcall method handle of {@code ssize_t write(int fd, const void * buf, size_t nbytes)}} */
    public static MethodHandle write$handle() {
        return write.HANDLE;
    }

    /** {@return the address of {@code ssize_t write(int fd, const void * buf, size_t nbytes)}} */
    public static MemorySegment write$address() {
        return write.ADDR;
    }

    /**
     * Calls {@code ssize_t write(int fd, const void * buf, size_t nbytes)}.
     *
     * @param fd C {@code int fd}
     * @param buf C {@code const void * buf}
     * @param nbytes C {@code size_t nbytes}
     * @return what the C function returns
     */
    public static long write(int fd, MemorySegment buf, long nbytes) {
        var mh$ = write.HANDLE;
        try {
            return (long) mh$.invokeExact(fd, buf, nbytes);
        } catch (Throwable ex$) {
            throw new AssertionError("unexpected exception from a native call", ex$);
        }
    }

    private static final int EBADF = 9;

    /** {@return the C macro {@code EBADF} of type {@code int}: {@code 9} in the header} */
    public static int EBADF() {
        return EBADF;
    }

    private static final int EINTR = 4;

    /** {@return the C macro {@code EINTR} of type {@code int}: {@code 4} in the header} */
    public static int EINTR() {
        return EINTR;
    }

    private static final int EINVAL = 22;

    /** {@return the C macro {@code EINVAL} of type {@code int}: {@code 22} in the header} */
    public static int EINVAL() {
        return EINVAL;
    }

    private static final int ENOENT = 2;

    /** {@return the C macro {@code ENOENT} of type {@code int}: {@code 2} in the header} */
    public static int ENOENT() {
        return ENOENT;
    }

    private static final int EVFILT_READ = -1;

    /** {@return the C macro {@code EVFILT_READ} of type {@code int}: {@code (-1)} in the header} */
    public static int EVFILT_READ() {
        return EVFILT_READ;
    }

    private static final int EVFILT_USER = -10;

    /** {@return the C macro {@code EVFILT_USER} of type {@code int}: {@code (-10)} in the header} */
    public static int EVFILT_USER() {
        return EVFILT_USER;
    }

    private static final int EVFILT_WRITE = -2;

    /** {@return the C macro {@code EVFILT_WRITE} of type {@code int}: {@code (-2)} in the header} */
    public static int EVFILT_WRITE() {
        return EVFILT_WRITE;
    }

    private static final int EV_ADD = 1;

    /** {@return the C macro {@code EV_ADD} of type {@code int}: {@code 0x0001} in the header} */
    public static int EV_ADD() {
        return EV_ADD;
    }

    private static final int EV_CLEAR = 32;

    /** {@return the C macro {@code EV_CLEAR} of type {@code int}: {@code 0x0020} in the header} */
    public static int EV_CLEAR() {
        return EV_CLEAR;
    }

    private static final int EV_DELETE = 2;

    /** {@return the C macro {@code EV_DELETE} of type {@code int}: {@code 0x0002} in the header} */
    public static int EV_DELETE() {
        return EV_DELETE;
    }

    private static final int EV_DISABLE = 8;

    /** {@return the C macro {@code EV_DISABLE} of type {@code int}: {@code 0x0008} in the header} */
    public static int EV_DISABLE() {
        return EV_DISABLE;
    }

    private static final int EV_DISPATCH = 128;

    /** {@return the C macro {@code EV_DISPATCH} of type {@code int}: {@code 0x0080} in the header} */
    public static int EV_DISPATCH() {
        return EV_DISPATCH;
    }

    private static final int EV_ENABLE = 4;

    /** {@return the C macro {@code EV_ENABLE} of type {@code int}: {@code 0x0004} in the header} */
    public static int EV_ENABLE() {
        return EV_ENABLE;
    }

    private static final int EV_EOF = 32768;

    /** {@return the C macro {@code EV_EOF} of type {@code int}: {@code 0x8000} in the header} */
    public static int EV_EOF() {
        return EV_EOF;
    }

    private static final int EV_ERROR = 16384;

    /** {@return the C macro {@code EV_ERROR} of type {@code int}: {@code 0x4000} in the header} */
    public static int EV_ERROR() {
        return EV_ERROR;
    }

    private static final int EV_ONESHOT = 16;

    /** {@return the C macro {@code EV_ONESHOT} of type {@code int}: {@code 0x0010} in the header} */
    public static int EV_ONESHOT() {
        return EV_ONESHOT;
    }

    private static final int EV_RECEIPT = 64;

    /** {@return the C macro {@code EV_RECEIPT} of type {@code int}: {@code 0x0040} in the header} */
    public static int EV_RECEIPT() {
        return EV_RECEIPT;
    }
}
