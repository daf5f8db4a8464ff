package org.ioatom.samples.server;

import java.util.function.Function;

/**
 * The {@code main} of every sample server: parse options, start, print the ready line, serve
 * until SIGINT or SIGTERM, then close everything and exit 0.
 *
 * <p>Signals arrive through a shutdown hook (the JDK's signal API is internal): the hook stops
 * the event loop through {@code Poller.wakeup()}, waits until every connection, the listener
 * and the poller are closed, and halts with status 0 (a JVM ended by a signal would otherwise
 * exit with 128 + the signal number).
 */
public final class Launcher {
    private Launcher() {}

    /** Exit status for bad options. */
    public static final int USAGE = 2;

    private static volatile boolean exiting;

    public static void serve(String[] argv, String usage, Function<Args, ? extends Server> create) {
        Server server;
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
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (exiting) {
                return; // main is exiting on its own; let it
            }
            server.stop();
            System.out.println(server.name() + ": stopped");
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(server.failure() == null ? 0 : 1);
        }, server.name() + "-shutdown"));
        server.announce(System.out);
        System.out.flush();
        server.join(Long.MAX_VALUE);
        // Only a failed loop ends by itself.
        exiting = true;
        System.exit(server.failure() == null ? 0 : 1);
    }
}
