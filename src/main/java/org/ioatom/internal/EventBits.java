package org.ioatom.internal;

/**
 * The event bits, declared once. {@code org.ioatom.IoAtom} publishes them as its READ, WRITE,
 * HUP and ERROR; backends translate OS flags to and from them. They live here because the
 * public package depends on this one, never the reverse.
 */
public final class EventBits {
    private EventBits() {}

    /** Ready to read, or the peer closed. */
    public static final int READ = 1;
    /** Ready to write. */
    public static final int WRITE = 2;
    /** The peer closed its side. */
    public static final int HUP = 4;
    /** An error is pending on the descriptor. */
    public static final int ERROR = 8;
    /** The bits an app may ask for. */
    public static final int INTEREST = READ | WRITE;
    /** The bits reported whatever the interest. */
    public static final int CONDITIONS = HUP | ERROR;
}
