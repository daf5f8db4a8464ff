package org.ioatom.testing;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Reads HTTP/1.1 responses of http-server from a {@link RawClient}. */
public final class Http {
    private Http() {}

    /** A response read from a raw socket. */
    public record Response(String statusLine, Map<String, String> headers, String body) {
        public int status() {
            return Integer.parseInt(statusLine.split(" ")[1]);
        }

        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** Reads one response; {@code head}: the answer to a HEAD request, whose body is not sent. */
    public static Response response(RawClient c, boolean head) throws IOException {
        String status = c.line();
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line = c.line(); !line.isEmpty(); line = c.line()) {
            int colon = line.indexOf(':');
            headers.put(line.substring(0, colon).toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
        }
        int length = Integer.parseInt(headers.get("content-length"));
        return new Response(status, headers, head ? "" : c.text(length));
    }

    /** Reads one response with its body. */
    public static Response response(RawClient c) throws IOException {
        return response(c, false);
    }
}
