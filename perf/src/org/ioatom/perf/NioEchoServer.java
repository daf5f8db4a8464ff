package org.ioatom.perf;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * Echo server on java.nio's Selector, one thread, written the way a careful NIO program is:
 * one direct buffer per connection, read until 0, write back, OP_WRITE only while output is
 * blocked (reading pauses meanwhile). The java.nio peer of ioatom's echo-server in perf/run.
 *
 * <p>Usage: {@code NioEchoServer PORT} (127.0.0.1 only)
 */
public final class NioEchoServer {
    private NioEchoServer() {}

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        Selector selector = Selector.open();
        ServerSocketChannel server = ServerSocketChannel.open();
        server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
        server.configureBlocking(false);
        server.register(selector, SelectionKey.OP_ACCEPT);
        System.out.println("nio echo server listening on 127.0.0.1:" + port);
        while (true) {
            selector.select(key -> {
                try {
                    if (key.isAcceptable()) {
                        SocketChannel ch;
                        while ((ch = server.accept()) != null) {
                            ch.configureBlocking(false);
                            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                            ch.register(selector, SelectionKey.OP_READ, ByteBuffer.allocateDirect(65536));
                        }
                        return;
                    }
                    serve(key);
                } catch (IOException e) {
                    close(key);
                }
            });
        }
    }

    private static void serve(SelectionKey key) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        ByteBuffer buf = (ByteBuffer) key.attachment();
        while (true) {
            if (buf.position() != 0 || buf.limit() != buf.capacity()) { // output pending: buf is in read mode
                ch.write(buf);
                if (buf.hasRemaining()) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    return;
                }
                buf.clear();
                key.interestOps(SelectionKey.OP_READ);
            }
            int n = ch.read(buf);
            if (n < 0) {
                close(key);
                return;
            }
            if (n == 0) {
                return;
            }
            buf.flip();
        }
    }

    private static void close(SelectionKey key) {
        key.cancel();
        try {
            key.channel().close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
