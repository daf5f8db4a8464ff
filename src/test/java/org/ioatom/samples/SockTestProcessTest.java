package org.ioatom.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import org.ioatom.testing.ChildJvm;
import org.ioatom.testing.RawClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** socktest as a separate JVM, the way samples/run starts it: output lines, echo, SIGTERM → exit 0. */
@Timeout(120)
class SockTestProcessTest {
    @Test
    void socktestEchoesReportsConnectionsAndExitsZeroOnSigterm() throws Exception {
        try (ChildJvm p = ChildJvm.start(null, List.of(), "SockTest", "--port", "0")) {
            Matcher using = p.expect("^Using (\\w+) to poll\\.$");
            assertNotNull(using.group(1));
            Matcher listening = p.expect("^Listening on port (\\d+), fd (\\d+)\\.$");
            int port = Integer.parseInt(listening.group(1));
            assertTrue(port > 0);
            int clientPort;
            try (RawClient c = new RawClient(port)) {
                clientPort = c.socket.getLocalPort();
                c.send("hello, socktest\n");
                assertEquals("hello, socktest\n", c.text(16));
                Matcher opened = p.expect("^connection opened from 127\\.0\\.0\\.1 port (\\d+) given fd (\\d+)$");
                assertEquals(clientPort, Integer.parseInt(opened.group(1)));
                String fd = opened.group(2);
                c.shutdownOutput();
                assertEquals(-1, c.read());
                p.expect("^connection closed by remote on fd " + fd + "$");
            }
            assertEquals(0, p.terminate(), "exit status after SIGTERM; output: " + p.output());
        }
    }
}
