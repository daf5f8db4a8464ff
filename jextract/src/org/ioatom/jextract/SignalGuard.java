package org.ioatom.jextract;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * libclang (LLVM's crash recovery and its stack-trace-on-signal support) installs handlers for
 * SIGSEGV and friends. The JVM relies on SIGSEGV for its own purposes (safepoint polls, implicit
 * null checks) and aborts when a foreign handler gets the signal first. This keeps a copy of
 * every signal disposition as the JVM set it and puts it back after each libclang call that may
 * install handlers. (Running under the JDK's libjsig.so would also work, but needs LD_PRELOAD.)
 */
@SuppressWarnings("restricted")
final class SignalGuard {

    /** Larger than struct sigaction on any Linux ABI (152 bytes on x86_64 and aarch64). */
    private static final long SIGACTION_SIZE = 256;
    private static final int SIGNALS = 31;

    private final MethodHandle sigaction;
    private final MemorySegment saved;

    SignalGuard(Arena arena) {
        Linker linker = Linker.nativeLinker();
        sigaction = linker.downcallHandle(linker.defaultLookup().find("sigaction").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        saved = arena.allocate(SIGACTION_SIZE * (SIGNALS + 1));
        try {
            for (int sig = 1; sig <= SIGNALS; sig++) {
                int rc = (int) sigaction.invokeExact(sig, MemorySegment.NULL, slot(sig));
                assert rc == 0 || sig == 9 || sig == 19;
            }
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    private MemorySegment slot(int sig) {
        return saved.asSlice(sig * SIGACTION_SIZE, SIGACTION_SIZE);
    }

    /** Puts back the JVM's signal handlers. */
    void restore() {
        try {
            for (int sig = 1; sig <= SIGNALS; sig++) {
                if (sig == 9 || sig == 19) {
                    continue; // SIGKILL and SIGSTOP cannot be caught
                }
                int rc = (int) sigaction.invokeExact(sig, slot(sig), MemorySegment.NULL);
                if (rc != 0) {
                    throw new IllegalStateException("sigaction(" + sig + ") failed");
                }
            }
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }
}
