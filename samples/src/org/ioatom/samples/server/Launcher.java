package org.ioatom.samples.server;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntSupplier;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;

/**
 * The {@code main} of every sample server: parse options, start, print the ready line, serve
 * until SIGINT or SIGTERM, then close everything and exit 0.
 *
 * <p>Signals arrive through a shutdown hook (the JDK's signal API is internal): the hook stops
 * the event loop through {@code Poller.wakeup()}, waits until every connection, the listener
 * and the poller are closed, writes the flight recordings the user asked for
 * ({@code -XX:StartFlightRecording=...,filename=...}: halting skips the JVM's own dump), and
 * halts with status 0 (a JVM ended by a signal would otherwise exit with 128 + the signal number).
 */
public final class Launcher {
    private Launcher() {}

    /** Exit status for bad options. */
    public static final int USAGE = 2;

    private static volatile boolean exiting;

    /** What every server's usage ends with. */
    static final String LOOPS_USAGE = " [--loops N (default 1)]";

    /**
     * Parses the options, starts the server, prints the banner and the connection limit, serves
     * until SIGINT or SIGTERM. With {@code --loops N}, N servers made by {@code create} from the
     * same options each run a loop thread with its own poller and its own SO_REUSEPORT listener
     * on the one port (the kernel spreads new connections across them); {@code --max-connections}
     * counts them all. Servers that are not connection servers (echo-server --udp) and Unix sockets run one loop.
     */
    public static void serve(String[] argv, String usage, Function<Args, ? extends Server> create) {
        String fullUsage = usage + LOOPS_USAGE;
        List<Server> servers = new ArrayList<>();
        int loops;
        try {
            Args args = new Args(fullUsage, argv);
            if (args.help()) {
                System.out.println(fullUsage);
                return;
            }
            loops = args.integer("loops", 1, 1, 64);
            Server server = create.apply(args);
            if (loops > 1 && !(server instanceof SampleServer s && s.unixPath() == null)) {
                throw new IllegalArgumentException("--loops: several loops share a TCP port; this server runs one loop");
            }
            servers.add(server);
            args.done();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(fullUsage);
            System.exit(USAGE);
            return;
        }
        Server first = servers.get(0);
        AtomicInteger budget = loops > 1 ? new AtomicInteger() : null;
        try {
            if (first instanceof SampleServer s) {
                s.shareLoops(loops, budget);
            }
            first.start();
            for (int i = 1; i < loops; i++) {
                // The same options, on the port the first one got (it matters for --port 0).
                String[] again = Arrays.copyOf(argv, argv.length + 1);
                again[argv.length] = "--port=" + ((SampleServer) first).port();
                Args args = new Args(fullUsage, again);
                args.integer("loops", 1, 1, 64);
                SampleServer next = (SampleServer) create.apply(args);
                args.done();
                servers.add(next);
                next.shareLoops(loops, budget).start();
            }
        } catch (Exception e) {
            System.err.println(first.name() + ": cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        exitOnSignal(first.name(), () -> {
            int status = 0;
            for (Server s : servers) {
                s.stop();
                status |= s.failure() == null ? 0 : 1;
            }
            return status;
        });
        first.announce(System.out);
        if (first instanceof SampleServer s) {
            System.out.println(Settings.maxConnectionsLine(s.settings()));
        }
        System.out.flush();
        // Only a failed loop ends by itself; then the server exits 1.
        while (true) {
            for (Server s : servers) {
                if (s.hasEnded()) {
                    exitOnItsOwn(s.failure() == null ? 0 : 1);
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * On SIGINT or SIGTERM: runs {@code stop} (which closes everything and says the exit status),
     * prints "NAME: stopped", writes the flight recordings, halts with that status.
     */
    public static void exitOnSignal(String name, IntSupplier stop) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (exiting) {
                return; // main is exiting on its own; let it
            }
            int status = stop.getAsInt();
            System.out.println(name + ": stopped");
            System.out.flush();
            System.err.flush();
            dumpFlightRecordings();
            Runtime.getRuntime().halt(status);
        }, name + "-shutdown"));
    }

    /** Exits from main (not from a signal): the JVM's own shutdown writes the recordings. */
    public static void exitOnItsOwn(int status) {
        exiting = true;
        System.exit(status);
    }

    /**
     * Writes the flight recordings that have a file to go to ({@code halt} skips the JVM's own
     * dump at exit). JFR's own shutdown hook runs at the same time as ours and may be writing
     * them already: wait for it (at most 10 s), then stop what still runs, which writes it.
     * Does nothing when JFR never started.
     */
    public static void dumpFlightRecordings() {
        try {
            if (!FlightRecorder.isInitialized()) {
                return;
            }
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("JFR Shutdown Hook") && t != Thread.currentThread()) {
                    t.join(10_000);
                }
            }
            for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
                if (r.getState() == RecordingState.RUNNING && r.getDestination() != null) {
                    r.stop();
                }
            }
        } catch (RuntimeException | LinkageError e) {
            System.err.println("could not write the flight recording: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
