package org.ioatom;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.ioatom.internal.Mechanism;

/**
 * The OS mechanisms a {@link Poller} can use. Asking whether one is available never fails, on
 * any OS.
 */
public enum PollerKind {
    /** The best available: epoll on Linux, kqueue on macOS and FreeBSD, else poll, else select. */
    ANY(null),
    /** Linux epoll, edge-triggered (EPOLLET). */
    EPOLL(Mechanism.EPOLL),
    /** BSD/macOS kqueue, edge-triggered (EV_CLEAR). */
    KQUEUE(Mechanism.KQUEUE),
    /** POSIX poll(2): level-triggered underneath, same contract for the app. */
    POLL(Mechanism.POLL),
    /** POSIX select(2): level-triggered underneath; file descriptors must be below FD_SETSIZE (1024). */
    SELECT(Mechanism.SELECT),
    /**
     * Linux io_uring (5.13+): one multishot poll request per descriptor, edge-triggered like
     * EPOLL. Never chosen by {@link #ANY}; where a kernel, seccomp filter or sysctl refuses it,
     * {@link #unavailableReason()} says so.
     */
    IO_URING(Mechanism.IO_URING);

    /** The backend's mechanism; null for ANY. */
    private final Mechanism mechanism;

    PollerKind(Mechanism mechanism) {
        this.mechanism = mechanism;
    }

    /** The system property that {@link Poller#open()} reads. */
    public static final String PROPERTY = "ioatom.poller";

    /**
     * Tells whether this kind can be opened here.
     *
     * @return whether this kind can be opened here; {@link #ANY} is available when any kind is
     */
    public boolean isAvailable() {
        return unavailableReason() == null;
    }

    /**
     * Says why this kind cannot be opened here.
     *
     * @return why this kind cannot be opened here, or {@code null} when it can
     */
    public String unavailableReason() {
        if (this == ANY) {
            return Arrays.stream(values()).anyMatch(k -> k != ANY && k.isAvailable())
                    ? null : Mechanism.SELECT.unavailableReason();
        }
        return mechanism.unavailableReason();
    }

    /**
     * Resolves {@link #ANY} to the best available kind; any other kind resolves to itself.
     *
     * @return a concrete kind
     * @throws UnsupportedOperationException if nothing is available on this platform
     */
    public PollerKind resolve() {
        if (this != ANY) {
            return this;
        }
        for (PollerKind k : new PollerKind[] {EPOLL, KQUEUE, POLL, SELECT}) {
            if (k.isAvailable()) {
                return k;
            }
        }
        throw new UnsupportedOperationException("no poller is available: " + Mechanism.SELECT.unavailableReason());
    }

    /** The mechanism of a concrete kind (not ANY); for {@link Poller}. */
    Mechanism mechanism() {
        return mechanism;
    }

    /**
     * Parses a property value: {@code any}, {@code epoll}, {@code kqueue}, {@code poll},
     * {@code select} or {@code io_uring}, in any case.
     *
     * @param value the text to parse
     * @return the kind it names
     * @throws IllegalArgumentException naming the valid values
     */
    public static PollerKind parse(String value) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        for (PollerKind k : values()) {
            if (k.name().equals(v)) {
                return k;
            }
        }
        throw new IllegalArgumentException("invalid " + PROPERTY + " value '" + value + "': expected one of "
                + Arrays.stream(values()).map(k -> k.name().toLowerCase(Locale.ROOT))
                        .collect(Collectors.joining(", ")));
    }

    /**
     * Reads the kind named by the system property.
     *
     * @return the kind named by the {@value #PROPERTY} system property, {@link #ANY} if unset
     * @throws IllegalArgumentException if the property holds an invalid value
     */
    public static PollerKind fromProperty() {
        String v = System.getProperty(PROPERTY);
        return v == null || v.isBlank() ? ANY : parse(v);
    }

    /**
     * Returns the lower-case name, as the property spells it.
     *
     * @return the lower-case name, as the property spells it
     */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
