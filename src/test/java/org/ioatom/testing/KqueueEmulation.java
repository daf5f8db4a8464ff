package org.ioatom.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Platform;

/**
 * Builds the kqueue emulation ({@code src/test/c/kqueue_emulation.c}, kqueue()/kevent() over
 * epoll) with gcc into {@code target/kqueue-emulation/} once per JVM, and points the kqueue
 * backend at it through {@link KqueueAbi#LIBRARY_PROPERTY}, so that every backend-parameterized
 * suite runs against kqueue on Linux too.
 *
 * <p>The layout is {@code -Dioatom.kqueue.abi} ({@code freebsd}, the default, or {@code macos},
 * which compiles the emulation with {@code -DMACOS_LAYOUT}). {@code -Dioatom.test.kqueue=off}
 * leaves kqueue out; a library already named by the property is used as it is. Without gcc the
 * kqueue backend is left out of the run, with a printed reason.
 */
public final class KqueueEmulation {
    private KqueueEmulation() {}

    /** What {@link #configure()} did, for messages: the library path or why there is none. */
    private static String outcome;

    /**
     * Builds and configures the emulation unless the OS has kqueue, it is switched off, or a
     * library is already configured. Idempotent. A missing gcc or source only leaves kqueue out
     * of the run (with the reason returned and printed).
     *
     * @return what was done
     * @throws IllegalStateException if gcc fails on the emulation: a broken emulation fails the run
     */
    public static synchronized String configure() {
        if (outcome == null) {
            outcome = build();
            System.err.println("[ioatom tests] kqueue: " + outcome);
        }
        return outcome;
    }

    private static String build() {
        if (System.getProperty(KqueueAbi.LIBRARY_PROPERTY) != null) {
            return "using " + System.getProperty(KqueueAbi.LIBRARY_PROPERTY) + " as configured";
        }
        Platform p = Platform.current();
        if (p.os() == Platform.Os.MACOS || p.os() == Platform.Os.FREEBSD) {
            return "the OS provides it";
        }
        if ("off".equalsIgnoreCase(System.getProperty("ioatom.test.kqueue", ""))) {
            return "left out (-Dioatom.test.kqueue=off)";
        }
        String abi = System.getProperty(KqueueAbi.ABI_PROPERTY, "freebsd").trim().toLowerCase(java.util.Locale.ROOT);
        Path gcc = Executables.onPath("gcc");
        if (gcc == null) {
            return "not tested in this run: gcc is not installed, so the emulation cannot be built";
        }
        Path base = Path.of(System.getProperty("ioatom.basedir", System.getProperty("user.dir")));
        Path source = base.resolve("src/test/c/kqueue_emulation.c");
        if (!Files.isRegularFile(source)) {
            return "not tested in this run: " + source + " is missing";
        }
        try {
            Path dir = Files.createDirectories(base.resolve("target/kqueue-emulation"));
            Path lib = dir.resolve("libkqueue_emulation_" + abi + ".so");
            Path tmp = Files.createTempFile(dir, "build-", ".so");
            Path log = dir.resolve("gcc-" + abi + ".log");
            List<String> cmd = new java.util.ArrayList<>(List.of(gcc.toString(), "-std=gnu11", "-O2", "-g",
                    "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"));
            if (abi.equals("macos")) {
                cmd.add("-DMACOS_LAYOUT");
            }
            cmd.addAll(List.of("-o", tmp.toString(), source.toString(), "-lpthread"));
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!proc.waitFor(120, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                return "not tested in this run: gcc timed out";
            }
            if (proc.exitValue() != 0) {
                // A broken emulation is a test failure, not a reason to skip: fail loudly.
                throw new IllegalStateException("building the kqueue emulation failed: " + String.join(" ", cmd)
                        + "\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            Files.move(tmp, lib, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            System.setProperty(KqueueAbi.LIBRARY_PROPERTY, lib.toString());
            System.setProperty(KqueueAbi.ABI_PROPERTY, abi);
            return "emulated over epoll by " + lib + " (" + abi + " layout)";
        } catch (IOException e) {
            throw new IllegalStateException("building the kqueue emulation failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "not tested in this run: interrupted while building the emulation";
        }
    }
}
