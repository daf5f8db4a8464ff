package org.ioatom.samples.server;

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

    public static void serve(String[] argv, String usage, Function<Args, SampleServer> create) {
        SampleServer server;
        try {
            Args args = new Args(usage, argv);
            if (args.help()) {
                System.out.println(usage);
                return;
            }
            server = create.apply(args);
            args.done();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(usage);
            System.exit(USAGE);
            return;
        }
        try {
            server.start();
        } catch (Exception e) {
            System.err.println(server.name() + ": cannot start: " + e.getMessage());
            System.exit(1);
            return;
        }
        exitOnSignal(server.name(), () -> {
            server.stop();
            return server.failure() == null ? 0 : 1;
        });
        server.announce(System.out);
        System.out.println(Settings.maxConnectionsLine(server.settings()));
        System.out.flush();
        server.join(Long.MAX_VALUE);
        exitOnItsOwn(server.failure() == null ? 0 : 1); // only a failed loop ends by itself
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
     * Stops every running flight recording that has a file to go to, which writes it there
     * ({@code halt} would skip the JVM's own dump at exit). Does nothing when JFR never started.
     */
    static void dumpFlightRecordings() {
        try {
            if (!FlightRecorder.isInitialized()) {
                return;
            }
            for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
                if (r.getState() == RecordingState.RUNNING && r.getDestination() != null) {
                    r.stop();
                }
            }
        } catch (RuntimeException | LinkageError e) {
            System.err.println("could not write the flight recording: " + e);
        }
    }
}
