package org.ioatom.testing;

import java.util.concurrent.TimeUnit;

/**
 * Tells a test that writes without reading, on a non-blocking channel, when the server stopped
 * reading: its writes have taken nothing for 500 ms in a row.
 */
public final class WriteStall {
    private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private long stalledSince;

    /**
     * Notes a write that took {@code written} bytes. A refused write before the 500 ms are up
     * sleeps 10 ms, so that the loop does not spin.
     *
     * @return true once writes have taken nothing for 500 ms
     */
    public boolean after(int written) throws InterruptedException {
        if (written > 0) {
            stalledSince = 0;
        } else if (stalledSince == 0) {
            stalledSince = System.nanoTime();
        } else if (System.nanoTime() - stalledSince > STALL_NANOS) {
            return true;
        } else {
            Thread.sleep(10);
        }
        return false;
    }
}
