package org.ioatom.testing;

import java.util.Arrays;
import java.util.stream.Stream;
import org.ioatom.PollerKind;

/** The concrete poller kinds this machine offers: the parameter source of every behaviour suite. */
public final class Kinds {
    private Kinds() {}

    /** @return every available kind except ANY */
    public static Stream<PollerKind> available() {
        return Arrays.stream(PollerKind.values()).filter(k -> k != PollerKind.ANY && k.isAvailable());
    }
}
