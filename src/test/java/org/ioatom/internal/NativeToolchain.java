package org.ioatom.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs C compilers for the tests that compare generated bindings with C ({@code Executables} finds them). */
final class NativeToolchain {

    private NativeToolchain() {
    }

    /** Runs a command; returns its standard output, or fails the test with everything it printed. */
    static String run(Path workDir, String... command) throws IOException, InterruptedException {
        Path log = workDir.resolve("command.log");
        Process p = new ProcessBuilder(command).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + output);
        }
        return output;
    }

    static List<String> lines(String text) {
        List<String> result = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                result.add(line.strip());
            }
        }
        return result;
    }
}
