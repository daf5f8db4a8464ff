package org.ioatom.perf;

import java.util.Arrays;
import org.ioatom.samples.EchoClient;
import org.ioatom.samples.EchoServer;
import org.ioatom.samples.HttpServer;
import org.ioatom.samples.RespServer;

/**
 * Starts a sample by its {@code samples/run} name, for the perf scripts:
 * {@code Samples echo-server|echo-client|resp-server|http-server [OPTIONS]}. The samples are
 * compile-time references here, so a renamed or removed sample breaks the build, not a
 * benchmark run.
 */
public final class Samples {
    private Samples() {}

    public static void main(String[] args) {
        String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
        switch (args.length == 0 ? "" : args[0]) {
            case "echo-server" -> EchoServer.main(rest);
            case "echo-client" -> EchoClient.main(rest);
            case "resp-server" -> RespServer.main(rest);
            case "http-server" -> HttpServer.main(rest);
            default -> {
                System.err.println("usage: Samples echo-server|echo-client|resp-server|http-server [OPTIONS]");
                System.exit(2);
            }
        }
    }
}
