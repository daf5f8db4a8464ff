package org.ioatom.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.ioatom.PollerKind;

/**
 * A sample in its own JVM, started the way samples/run starts it (the build's classes, native
 * access granted, C1 and the serial collector for a quick start), its stdout and stderr read as
 * lines on a daemon thread. The test JVM's {@code ioatom.*} system properties go along, so that
 * the kqueue backend runs on the same emulation in the child. Every wait is bounded: output lines
 * {@value #EXPECT_SECONDS} s, the exit {@value #EXIT_SECONDS} s; {@link #close} kills what is left.
 */
public final class ChildJvm implements AutoCloseable {
    /** How long {@link #expect} waits for a matching line. */
    public static final int EXPECT_SECONDS = 20;
    /** How long {@link #terminate} and {@link #awaitExit} wait for the exit. */
    public static final int EXIT_SECONDS = 30;

    /** What a child printed by the time it exited, and its exit status. */
    public record Exit(int status, String output) {}

    private final Process process;
    private final String name;
    private final BlockingQueue<String> output = new LinkedBlockingQueue<>();
    /** Lines already taken from {@link #output}, in order. */
    private final List<String> seen = new ArrayList<>();
    private final Thread reader;
    private int port = -1;
    private String banner;

    private ChildJvm(Process process, String name) {
        this.process = process;
        this.name = name;
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                }
            } catch (IOException e) {
                output.add("(reading output failed: " + e + ")");
            }
        }, "output of " + name);
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * The java command that runs sample {@code sampleClass} (relative to org.ioatom.samples, e.g.
     * {@code "chat.ChatServer"}) with {@code jvmOptions}, then {@code args}.
     *
     * @param kind the backend, passed as {@code -Dioatom.poller}; null for the sample's default
     */
    public static List<String> command(PollerKind kind, List<String> jvmOptions, String sampleClass, String... args) {
        String java = ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java");
        String base = System.getProperty("ioatom.basedir", ".");
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1"));
        for (String property : System.getProperties().stringPropertyNames()) {
            if (property.startsWith("ioatom.") && !property.equals(PollerKind.PROPERTY)) {
                cmd.add("-D" + property + "=" + System.getProperty(property));
            }
        }
        if (kind != null) {
            cmd.add("-D" + PollerKind.PROPERTY + "=" + kind);
        }
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", base + "/target/classes" + File.pathSeparator + base + "/target/test-classes",
                "org.ioatom.samples." + sampleClass));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Starts sample {@code sampleClass} as {@link #command} spells it; does not wait for anything. */
    public static ChildJvm start(PollerKind kind, List<String> jvmOptions, String sampleClass, String... args)
            throws IOException {
        return start(command(kind, jvmOptions, sampleClass, args));
    }

    /** Starts {@code command} (a {@link #command} perhaps wrapped, e.g. in a shell that sets limits). */
    public static ChildJvm start(List<String> command) throws IOException {
        String name = String.join(" ", command.subList(Math.max(0, command.size() - 4), command.size()));
        return new ChildJvm(new ProcessBuilder(command).redirectErrorStream(true).start(), name);
    }

    /**
     * Starts a server sample and waits for its "Listening on port N" line: {@link #port} and
     * {@link #banner} then hold what it said. Kills the child if the line does not come.
     */
    public static ChildJvm startServer(PollerKind kind, List<String> jvmOptions, String sampleClass, String... args)
            throws IOException, InterruptedException {
        ChildJvm child = start(kind, jvmOptions, sampleClass, args);
        try {
            Matcher m = child.expect("Listening on port (\\d+)");
            child.port = Integer.parseInt(m.group(1));
            child.banner = child.seen.get(child.seen.size() - 1);
        } catch (Throwable t) {
            child.close();
            throw t;
        }
        return child;
    }

    public Process process() {
        return process;
    }

    /** The port of the "Listening on port N" line {@link #startServer} waited for. */
    public int port() {
        return port;
    }

    /** The whole "Listening on port N" line. */
    public String banner() {
        return banner;
    }

    /** The lines {@link #expect} went through so far, matching or not. */
    public List<String> seen() {
        return seen;
    }

    /** Everything printed so far, for failure messages: the lines seen, then those not read yet. */
    public String output() {
        return seen + "" + output;
    }

    /** The next output line matching {@code regex} (found anywhere in it), waiting 20 s at most. */
    public Matcher expect(String regex) throws InterruptedException {
        Pattern pattern = Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(EXPECT_SECONDS);
        while (System.nanoTime() < deadline) {
            String line = output.poll(100, TimeUnit.MILLISECONDS);
            if (line == null) {
                continue;
            }
            seen.add(line);
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m;
            }
        }
        throw new AssertionError("no line matching '" + regex + "' in " + EXPECT_SECONDS + " s; output so far: " + seen);
    }

    /** Sends SIGTERM and returns the exit status; fails if the child is still running 30 s later. */
    public int terminate() throws InterruptedException {
        process.destroy();
        assertTrue(process.waitFor(EXIT_SECONDS, TimeUnit.SECONDS),
                name + ": no exit " + EXIT_SECONDS + " s after SIGTERM; output: " + output());
        return process.exitValue();
    }

    /** Waits for the child to end by itself (30 s at most); returns its status and all it printed. */
    public Exit awaitExit() throws InterruptedException {
        assertTrue(process.waitFor(EXIT_SECONDS, TimeUnit.SECONDS), name + ": no exit in " + EXIT_SECONDS + " s; output: "
                + output());
        reader.join(TimeUnit.SECONDS.toMillis(EXPECT_SECONDS)); // the rest of the output, up to the end of the pipe
        output.drainTo(seen);
        StringBuilder all = new StringBuilder();
        for (String line : seen) {
            all.append(line).append('\n');
        }
        return new Exit(process.exitValue(), all.toString());
    }

    /** Kills the child if it still runs. */
    @Override
    public void close() {
        process.destroyForcibly();
    }
}
