package org.ioatom.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A small RESP (Redis protocol) client for the tests of resp-server. */
public final class Resp {
    private Resp() {}

    /** Encodes a command as a multibulk request. */
    public static String command(String... args) {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String a : args) {
            sb.append('$').append(a.getBytes(StandardCharsets.ISO_8859_1).length).append("\r\n").append(a).append("\r\n");
        }
        return sb.toString();
    }

    /** Reads one reply, rendered as text: +OK, -ERR ..., :1, $bulk, (nil), [a, b] for arrays. */
    public static String reply(RawClient c) throws IOException {
        String line = c.line();
        switch (line.charAt(0)) {
            case '+', '-', ':' -> {
                return line;
            }
            case '$' -> {
                int n = Integer.parseInt(line.substring(1));
                if (n < 0) {
                    return "(nil)";
                }
                String s = c.text(n);
                assertEquals("", c.line());
                return s;
            }
            case '*' -> {
                int n = Integer.parseInt(line.substring(1));
                List<String> items = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    items.add(reply(c));
                }
                return items.toString();
            }
            default -> throw new AssertionError("not a RESP reply: " + line);
        }
    }

    /** Sends one command and reads its reply. */
    public static String call(RawClient c, String... args) throws IOException {
        c.send(command(args));
        return reply(c);
    }
}
