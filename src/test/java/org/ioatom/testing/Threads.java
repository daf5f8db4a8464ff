package org.ioatom.testing;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Linux thread helpers for the fault tests, bound through the C library with FFM: the kernel
 * id of the calling thread, directed signals, and /proc views of threads and descriptors.
 */
// The library binds no thread calls, so the tests bind the two they need here; the test JVM
// grants native access (--enable-native-access=ALL-UNNAMED in pom.xml).
@SuppressWarnings("restricted")
public final class Threads {
    private Threads() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETTID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("gettid").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle TGKILL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("tgkill").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    /** SIGPIPE on Linux (x86_64 and aarch64). */
    public static final int SIGPIPE = 13;

    /** A thread body that may throw anything. */
    public interface Body {
        void run() throws Exception;
    }

    /** Starts {@code body} on a new daemon thread {@code name}; what it throws lands in {@code failure}. */
    public static Thread start(String name, AtomicReference<Throwable> failure, Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** @return the kernel thread id of the calling thread */
    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Sends {@code sig} to thread {@code tid} of this process; returns tgkill's result. */
    public static int tgkill(int tid, int sig) {
        try {
            return (int) TGKILL.invokeExact((int) ProcessHandle.current().pid(), tid, sig);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** @return whether this process has a handler installed for {@code sig} (SigCgt in /proc/self/status) */
    public static boolean handlerInstalled(int sig) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("SigCgt:")) {
                long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                return (mask & (1L << (sig - 1))) != 0;
            }
        }
        return false;
    }

    /** @return the state letter of thread {@code tid} (R, S, D, ...), or '?' if it is gone */
    public static char state(int tid) {
        try {
            String stat = Files.readString(Path.of("/proc/self/task/" + tid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            return '?';
        }
    }

    /** Waits (at most 5 s) until thread {@code tid} sleeps in the kernel, then a little longer. */
    public static void awaitSleeping(int tid) throws InterruptedException {
        long end = System.nanoTime() + 5_000_000_000L;
        while (state(tid) != 'S' && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        Thread.sleep(20);
    }

    /** @return the voluntary context switches of thread {@code tid} so far (from /proc), or -1 if it is gone */
    public static long voluntaryContextSwitches(int tid) throws IOException {
        Path status = Path.of("/proc/self/task/" + tid + "/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return -1;
    }

    /** @return this process's open descriptors and what each points to */
    public static Map<Integer, String> openFds() {
        Map<Integer, String> out = new TreeMap<>();
        try (var dir = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : (Iterable<Path>) dir::iterator) {
                try {
                    out.put(Integer.parseInt(p.getFileName().toString()), Files.readSymbolicLink(p).toString());
                } catch (IOException | NumberFormatException e) {
                    // closed while listing (e.g. the directory's own fd)
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /**
     * How many more descriptors this process may open, keeping {@code margin} in reserve: the soft
     * RLIMIT_NOFILE (which the JVM raises to the hard limit at start) minus those open now. Tests
     * that need thousands of descriptors size themselves with it instead of assuming a limit.
     */
    public static int descriptorsLeft(int margin) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    long limit = soft.equals("unlimited") ? Integer.MAX_VALUE : Long.parseLong(soft);
                    return (int) Math.max(0, Math.min(Integer.MAX_VALUE, limit - openFds().size() - margin));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no 'Max open files' line in /proc/self/limits");
    }

    /** @return the descriptors in {@code after} that were not in {@code before} (same number and target) */
    public static Map<Integer, String> added(Map<Integer, String> before, Map<Integer, String> after) {
        Map<Integer, String> out = new HashMap<>(after);
        before.forEach((fd, target) -> out.remove(fd, target));
        return out;
    }
}
