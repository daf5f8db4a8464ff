package org.ioatom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.ioatom.internal.sys.KqueueAbi;
import org.ioatom.internal.sys.Platform;
import org.ioatom.testing.Kinds;
import org.ioatom.testing.Tags;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Which backend {@code Poller.open()} picks: the {@value PollerKind#PROPERTY} property, its
 * invalid values, and kqueue where neither the OS nor an emulation provides it.
 */
@Tag(Tags.KQUEUE_LAYOUT)
@Tag(Tags.SYSCALLS)
class PollerKindSelectionTest {
    /** Puts the poller property back as it was before the test: {@code old}, or unset. */
    private static void restore(String old) {
        if (old == null) {
            System.clearProperty(PollerKind.PROPERTY);
        } else {
            System.setProperty(PollerKind.PROPERTY, old);
        }
    }

    @Test
    void invalidPropertyValueListsTheValidOnes() {
        String old = System.getProperty(PollerKind.PROPERTY);
        System.setProperty(PollerKind.PROPERTY, "iouring");
        try {
            var e = assertThrows(IllegalArgumentException.class, Poller::open);
            assertEquals("invalid ioatom.poller value 'iouring': expected one of any, epoll, kqueue, poll, select,"
                    + " io_uring",
                    e.getMessage());
        } finally {
            restore(old);
        }
    }

    @Test
    void propertySelectsTheBackend() throws IOException {
        String old = System.getProperty(PollerKind.PROPERTY);
        try {
            for (PollerKind k : Kinds.available().toList()) {
                System.setProperty(PollerKind.PROPERTY, k.toString().toUpperCase());
                try (Poller p = Poller.open()) {
                    assertEquals(k, p.kind());
                }
            }
            System.setProperty(PollerKind.PROPERTY, "any");
            try (Poller p = Poller.open()) {
                assertEquals(PollerKind.ANY.resolve(), p.kind());
                assertEquals(Poller.DEFAULT_CAPACITY, p.capacity());
            }
        } finally {
            restore(old);
        }
    }

    @Test
    void kqueueWhereNeitherTheOsNorAnEmulationProvidesItIsAClearException() {
        // The decision itself, with the emulation property unset: this JVM may have the emulation
        // configured (Kinds does that), so the unavailable path is checked through the logic.
        var choice = KqueueAbi.choose(Platform.detect("Linux", "amd64"), null, null);
        assertFalse(choice.available());
        assertEquals("kqueue is not available on linux-x86_64: it exists on macOS and FreeBSD (to run the kqueue"
                + " backend over an emulation, set -Dioatom.kqueue.library=/path/to/library)", choice.unavailableReason());
        var e = assertThrows(UnsupportedOperationException.class, () -> KqueueAbi.load(choice));
        assertEquals(choice.unavailableReason(), e.getMessage());
        // Through the public API too, whenever this JVM has no emulation.
        if (KqueueAbi.chooseNow().available()) {
            assertTrue(PollerKind.KQUEUE.isAvailable(), "an emulation is configured: " + KqueueAbi.chooseNow());
        } else {
            assertFalse(PollerKind.KQUEUE.isAvailable());
            var open = assertThrows(UnsupportedOperationException.class, () -> Poller.open(PollerKind.KQUEUE, 4));
            assertTrue(open.getMessage().contains("kqueue is not available on linux-"), open.getMessage());
        }
        // epoll stays the first choice on Linux, emulation or not.
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertEquals(PollerKind.EPOLL, PollerKind.ANY.resolve());
        }
    }
}
