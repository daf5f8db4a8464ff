package org.ioatom.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A blocking loopback client for the sample servers' tests: every read gives up after 10 s.
 * {@link Resp} and {@link Http} read replies through it.
 */
public final class RawClient implements AutoCloseable {
    public static final int TIMEOUT_MS = 10_000;

    /** The underlying socket, for tests that need its streams or options. */
    public final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawClient(int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
        socket.setSoTimeout(TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public RawClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Reads one byte; -1 at end of stream. */
    public int read() throws IOException {
        return in.read();
    }

    /** Reads a line ending in CRLF (returned without it). */
    public String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("end of stream after '" + sb + "'");
            }
            if (b == '\n' && !sb.isEmpty() && sb.charAt(sb.length() - 1) == '\r') {
                sb.setLength(sb.length() - 1);
                return sb.toString();
            }
            sb.append((char) b);
        }
    }

    public byte[] bytes(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException("end of stream after " + b.length + " of " + n + " bytes");
        }
        return b;
    }

    public String text(int n) throws IOException {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    /** Reads everything until the server closes (at most 10 s without data). */
    public String rest() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Asserts that the server closes the connection next (nothing more arrives). */
    public void expectEnd() throws IOException {
        try {
            assertEquals(-1, in.read(), "expected the server to close the connection");
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server did not close the connection within " + TIMEOUT_MS + " ms", e);
        }
    }

    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
