package org.ioatom.testing;

import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Measures windows of warmed-up work with the thread's allocated-bytes counter until one allocates
 * 0 bytes. JIT activity (a late compilation, a deoptimisation that materialises scalar-replaced
 * objects) can land a few bytes on the thread once; an allocation in the code under test lands in
 * every window. So steady state is one clean window, and none in {@code maxWindows} is a failure.
 */
public final class CleanWindow {
    private CleanWindow() {}

    /** One window of work; {@code window} counts from 0. */
    @FunctionalInterface
    public interface Work {
        void run(int window) throws Throwable;
    }

    /**
     * @param bytes what each window measured allocated, in order, up to the clean one
     * @param clean the index of the first window that allocated 0 bytes, -1 if none did
     */
    public record Result(long[] bytes, int clean) {
        /** @return whether a window allocated 0 bytes */
        public boolean found() {
            return clean >= 0;
        }

        /** @return the bytes per window, e.g. {@code [48, 0]} */
        @Override
        public String toString() {
            return Arrays.toString(bytes);
        }
    }

    /** Runs windows of {@code work} (at most {@code maxWindows}) until one allocates nothing. */
    public static Result measure(int maxWindows, Work work) throws Throwable {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.getCurrentThreadAllocatedBytes(); // the counter's own first call allocates: warm it
        long[] windows = new long[maxWindows];
        int clean = -1;
        int measured = 0;
        for (int w = 0; w < maxWindows && clean < 0; w++, measured++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            work.run(w);
            windows[w] = threads.getCurrentThreadAllocatedBytes() - before;
            if (windows[w] == 0) {
                clean = w;
            }
        }
        return new Result(Arrays.copyOf(windows, measured), clean);
    }
}
