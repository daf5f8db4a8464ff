package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import org.ioatom.IoException;
import org.ioatom.PollerKind;
import org.ioatom.samples.server.SampleServer;
import org.ioatom.samples.server.Settings;
import org.ioatom.testing.EveryBackend;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.Timeout;

/**
 * A protocol hook that throws past the framework's own error handling (here the idle timer's
 * {@code timedOut}) reaches the loop as a {@code HandlerException} naming the connection: the
 * loop closes that connection and goes on serving the others.
 */
@Timeout(60)
class HandlerFailureTest {
    /** An echo server whose idle-timeout hook throws. */
    static final class ThrowingOnTimeout extends SampleServer {
        ThrowingOnTimeout(Settings settings) {
            super("throwing-server", settings, CHUNK / 2);
        }

        @Override
        protected int process(MemorySegment c, MemorySegment in, int start, int end) throws IoException {
            return emit(c, in, start, end - start) ? end : start;
        }

        @Override
        protected void timedOut(MemorySegment c) {
            throw new IllegalStateException("timedOut failed on purpose");
        }
    }

    @EveryBackend
    void aHandlerThatThrowsClosesItsConnectionAndTheLoopServesOn(PollerKind kind) throws Exception {
        SampleServer server = new ThrowingOnTimeout(Settings.loopback(kind, 0, 300)).start();
        try (RawClient idle = new RawClient(server.port())) {
            idle.send("x");
            assertEquals("x", idle.text(1));
            idle.expectEnd(); // its timer's hook threw: the loop closed it
            try (RawClient next = new RawClient(server.port())) {
                next.send("still serving");
                assertEquals("still serving", next.text(13));
            }
        } finally {
            server.stop();
        }
        assertNull(server.failure());
    }
}
