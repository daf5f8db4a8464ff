package org.ioatom.samples.server;

import java.io.IOException;
import java.io.PrintStream;

/**
 * What {@link Launcher} runs: a server that starts on a thread of its own, announces itself,
 * and stops on request. {@link SampleServer} (the connection servers) and the UDP echo server
 * are the two kinds.
 */
public interface Server {
    /** Opens what the server listens on and serves from its own thread; returns once listening. */
    Server start() throws IOException;

    /** Stops serving and closes everything; waits for that. Idempotent. */
    void stop();

    /** Waits until the server's thread has ended, at most {@code seconds}. */
    void join(long seconds);

    /** Prints the ready line. */
    void announce(PrintStream out);

    /** @return the program's name, e.g. {@code echo-server} */
    String name();

    /** @return whether the server's thread has ended (stopped, or failed on its own) */
    boolean hasEnded();

    /** @return why the server stopped on its own, or null */
    Throwable failure();
}
