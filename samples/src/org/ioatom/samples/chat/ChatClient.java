package org.ioatom.samples.chat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.ioatom.samples.server.Args;
import org.ioatom.samples.server.Launcher;

/**
 * chat-server's terminal client: stdin's lines to the server, the server's lines to stdout.
 * On stdin's end it shuts down its sending side and exits once the server closes, or 2 s later.
 * Exits 0 when the server closed the connection (or the 2 s passed), 1 on an error.
 *
 * <p>It uses blocking {@code java.net} streams on two threads, not a poller: stdin may be a
 * regular file, which epoll refuses, and a client of one connection has nothing to multiplex.
 */
public final class ChatClient {
    static final String USAGE = "usage: samples/run chat-client [--host H (default 127.0.0.1)] [--port P (default "
            + ChatServer.DEFAULT_PORT + ")]";
    private static final long LINGER_MILLIS = 2000;

    public static void main(String[] argv) throws InterruptedException {
        String host;
        int port;
        try {
            Args args = new Args(USAGE, argv);
            if (args.help()) {
                System.out.println(USAGE);
                return;
            }
            host = args.string("host", "127.0.0.1");
            port = args.integer("port", ChatServer.DEFAULT_PORT, 1, 65535);
            args.done();
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(USAGE);
            System.exit(Launcher.USAGE);
            return;
        }
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), 10_000);
        } catch (IOException e) {
            System.err.println("chat-client: cannot connect to " + host + ":" + port + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        Thread receiver = new Thread(() -> copyToStdout(socket), "chat-client-receiver");
        receiver.setDaemon(true);
        receiver.start();
        try (InputStream stdin = System.in) {
            OutputStream out = socket.getOutputStream();
            byte[] buf = new byte[8192];
            int n;
            while ((n = stdin.read(buf)) > 0) {
                out.write(buf, 0, n);
            }
            socket.shutdownOutput();
        } catch (IOException e) {
            if (receiver.isAlive()) {
                System.err.println("chat-client: sending failed: " + e.getMessage());
            }
        }
        receiver.join(receiver.isAlive() ? TimeUnit.MILLISECONDS.toMillis(LINGER_MILLIS) : 1);
        System.out.flush();
        System.exit(0);
    }

    private static void copyToStdout(Socket socket) {
        try (InputStream in = socket.getInputStream()) {
            byte[] buf = new byte[8192];
            int n;
            while ((n = in.read(buf)) > 0) {
                System.out.write(buf, 0, n);
                System.out.flush();
            }
        } catch (IOException e) {
            System.err.println("chat-client: " + e.getMessage());
        }
        System.out.flush();
        System.exit(0); // the server closed: done, whatever stdin still holds
    }
}
