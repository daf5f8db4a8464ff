package org.ioatom.testing;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.ioatom.PollerKind;

/**
 * The concrete poller kinds this machine offers: what {@link EveryBackend} runs a test on.
 * On Linux that includes kqueue, run over the epoll-based emulation that {@link KqueueEmulation}
 * builds before anything asks (unless gcc is missing, which it prints).
 *
 * <p>{@code -Dioatom.test.kinds=kqueue,epoll} restricts the run to the named kinds (the build uses
 * it to run the suites a second time, kqueue only, with the macOS layout).
 */
public final class Kinds {
    private Kinds() {}

    static {
        KqueueEmulation.configure();
    }

    /** @return every available kind except ANY */
    public static Stream<PollerKind> available() {
        String only = System.getProperty("ioatom.test.kinds", "").trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(PollerKind.values())
                .filter(k -> k != PollerKind.ANY && k.isAvailable())
                .filter(k -> only.isEmpty() || Arrays.asList(only.split("\\s*,\\s*")).contains(k.toString()));
    }
}
