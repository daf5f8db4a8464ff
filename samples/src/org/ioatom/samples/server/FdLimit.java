package org.ioatom.samples.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's descriptor limit (soft RLIMIT_NOFILE), from {@code /proc/self/limits}. HotSpot
 * raises the soft limit to the hard one at start (-XX:+MaxFDLimit, the default), so this is what
 * the OS lets the server open. Where there is no {@code /proc} (macOS, FreeBSD) it answers
 * {@link #FALLBACK}.
 */
public final class FdLimit {
    private FdLimit() {}

    /** The limit assumed without {@code /proc/self/limits}: 1024 connections plus the reserve. */
    public static final long FALLBACK = 1024 + Settings.FD_RESERVE;

    private static volatile long cached = -1;

    /** @return the soft limit on open files ({@link #FALLBACK} when it cannot be read; a huge value for "unlimited") */
    public static long soft() {
        long v = cached;
        if (v < 0) {
            v = read();
            cached = v;
        }
        return v;
    }

    private static long read() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: the fallback
        }
        return FALLBACK;
    }
}
