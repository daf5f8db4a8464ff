package org.ioatom.internal;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.ioatom.internal.linux.Errno;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.linux.Syscalls;
import org.ioatom.internal.sys.Platform;
import org.ioatom.internal.sys.SyscallException;

/**
 * Whether io_uring works here, found out once per JVM by trying what the backend does: set up a
 * ring, arm a multishot poll on a ready eventfd and wait for its completion, which must carry
 * {@code IORING_CQE_F_MORE}. A kernel before 5.13 refuses the multishot poll (EINVAL); a seccomp
 * filter or {@code kernel.io_uring_disabled} refuses the setup (EPERM); a kernel without io_uring
 * has no such system call (ENOSYS). The answer is a reason string, never an exception.
 *
 * <p>{@value #SIMULATE_PROPERTY}{@code =EPERM} (or {@code ENOSYS}, {@code EINVAL}, or
 * {@code features}) makes the answer what the kernel would have said with that refusal, read at
 * every ask: a seam for tests of the refused path on a machine where io_uring works.
 */
final class IoUringProbe {
    private IoUringProbe() {}

    /** Test seam: pretend the kernel refused with this errno name, or lacked features. */
    static final String SIMULATE_PROPERTY = "ioatom.io_uring.simulate";

    private static final class Once {
        static final String REASON = probe();
    }

    /** {@return why io_uring cannot be used here, or null} */
    static String unavailableReason() {
        String simulated = System.getProperty(SIMULATE_PROPERTY);
        if (simulated != null && !simulated.isBlank()) {
            return simulated(simulated.trim());
        }
        return Once.REASON;
    }

    private static String simulated(String what) {
        return switch (what) {
            case "EPERM" -> refused("io_uring_setup", Errno.EPERM);
            case "ENOSYS" -> refused("io_uring_setup", Errno.ENOSYS);
            case "EINVAL" -> refused("io_uring_enter", Errno.EINVAL);
            case "features" -> "io_uring is not available: the kernel lacks "
                    + IoUringBackend.missingFeatures(0);
            default -> "io_uring is not available: invalid " + SIMULATE_PROPERTY + " value '" + what
                    + "': expected EPERM, ENOSYS, EINVAL or features";
        };
    }

    /** The reason for a refusal with this errno, saying what usually causes it. */
    static String refused(String call, int errno) {
        String failure = new SyscallException(call, null, -1, errno).getMessage();
        String why = switch (errno) {
            case Errno.EPERM -> "refused by a seccomp filter (containers often block io_uring) or by sysctl"
                    + " kernel.io_uring_disabled" + disabledSetting();
            case Errno.ENOSYS -> "this kernel has no io_uring (before Linux 5.1, or built without CONFIG_IO_URING)";
            case Errno.EINVAL -> "this kernel has no multishot poll (IORING_POLL_ADD_MULTI, Linux 5.13)";
            default -> "the kernel refused it";
        };
        return "io_uring is not available: " + failure + ": " + why;
    }

    private static String disabledSetting() {
        try {
            String v = Files.readString(Path.of("/proc/sys/kernel/io_uring_disabled")).trim();
            return " (it is " + v + " here)";
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }

    private static String probe() {
        try {
            if (!Platform.current().hasLinuxBindings()) {
                return "io_uring is not available: " + Platform.current().unsupportedReason();
            }
            if (Platform.current().os() != Platform.Os.LINUX) {
                return "io_uring is not available on " + Platform.current() + ": it is Linux-only";
            }
            return tryRing();
        } catch (UnsupportedOperationException e) {
            return e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            return "io_uring is not available: probing it failed: " + e;
        }
    }

    private static String tryRing() {
        try (Arena arena = Arena.ofConfined()) {
            int efd = Syscalls.eventfd2(1, Linux.EFD_NONBLOCK | Linux.EFD_CLOEXEC);
            if (efd < 0) {
                return "io_uring is not available: the probe's eventfd failed: "
                        + new SyscallException("eventfd2", null, -1, -efd).getMessage();
            }
            try {
                IoUringBackend ring;
                try {
                    ring = new IoUringBackend(arena, 2, 2);
                } catch (SyscallException e) {
                    return refused(e.call(), e.errno());
                }
                try {
                    ring.register(efd, 0, 0, EventBits.READ);
                    ring.ready().clear();
                    ring.await(1_000_000_000L);
                    if (!ring.sawMultishot()) {
                        return "io_uring is not available: a multishot poll on a ready eventfd did not report"
                                + " with IORING_CQE_F_MORE (needs Linux 5.13)";
                    }
                    return null;
                } catch (SyscallException e) {
                    return refused(e.call(), e.errno());
                } finally {
                    ring.close();
                }
            } finally {
                Syscalls.close(efd);
            }
        }
    }
}
