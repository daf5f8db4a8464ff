package org.ioatom;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's embedding example, compiled and run so that it cannot rot. */
@Timeout(30)
class ReadmeExampleTest {
    // README example: begin
    static final StructLayout CONN = MemoryLayout.structLayout(   // the app's struct:
            IoAtom.LAYOUT.withName("io"),                           //   { io_atom io;
            JAVA_LONG.withName("bytes"));                           //     long bytes; }
    static final long IO = CONN.byteOffset(groupElement("io"));
    static final long BYTES = CONN.byteOffset(groupElement("bytes"));

    static long countBytes(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined(); Poller poller = Poller.open()) {
            MemorySegment buf = arena.allocate(4096);
            MemorySegment conn = arena.allocate(CONN);
            IoAtom.init(conn, IO, fd);
            poller.add(conn, IO, IoAtom.READ, (c, events) -> {
                long n;
                while ((n = IoSocket.read(IoAtom.fd(c, IO), buf)) > 0) {   // read to exhaustion
                    c.set(JAVA_LONG, BYTES, c.get(JAVA_LONG, BYTES) + n);
                }
                if (n == IoSocket.EOF) {
                    poller.remove(c, IO);
                }
            });
            while (poller.size() > 0) {
                poller.await(1000);      // gather events
                /* update app state here: handlers only run in dispatch() */
                poller.dispatch();       // call handlers
            }
            return conn.get(JAVA_LONG, BYTES);
        }
    }
    // README example: end

    @Test
    void countsEveryByteAPeerSendsUntilItCloses() throws IOException {
        int listener = IoSocket.listen("127.0.0.1:0");
        int client = IoSocket.connect("127.0.0.1:" + IoSocket.localPort(listener));
        int server;
        while ((server = IoSocket.accept(listener)) == IoSocket.NO_MORE) {
            Thread.onSpinWait();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(10_000);
            long sent = 0;
            while (sent < data.byteSize()) {
                long n = IoSocket.write(client, data.asSlice(sent));
                if (n > 0) {
                    sent += n;
                }
            }
            IoSocket.close(client);
            assertEquals(10_000, countBytes(server));
        } finally {
            IoSocket.close(server);
            IoSocket.close(listener);
        }
    }
}
