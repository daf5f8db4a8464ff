package org.ioatom.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the external programs some tests use (gcc, the aarch64 cross gcc, redis-cli). */
public final class Executables {
    private Executables() {}

    /** @return the path of executable {@code name} on PATH, or null if there is none */
    public static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
