package org.ioatom.samples;

/**
 * Counts of non-negative values (nanoseconds) in log-linear buckets, preallocated: recording
 * allocates nothing. Values below 64 have a bucket each; above, each power of two is split
 * into 32 buckets, so a reported percentile is within about 3% of the true value.
 */
final class Histogram {
    private static final int SUB_BITS = 5;
    private static final int SUB = 1 << SUB_BITS;
    private static final int LINEAR = 2 * SUB;
    /** Enough buckets for any positive long. */
    private static final int BUCKETS = LINEAR + (63 - (SUB_BITS + 1)) * SUB;

    private final long[] counts = new long[BUCKETS];
    private long total;
    private long max;

    void record(long value) {
        long v = Math.max(0, value);
        counts[index(v)]++;
        total++;
        if (v > max) {
            max = v;
        }
    }

    /** Adds another histogram's counts to this one. */
    void add(Histogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        max = Math.max(max, other.max);
    }

    long count() {
        return total;
    }

    long max() {
        return max;
    }

    private static int index(long v) {
        if (v < LINEAR) {
            return (int) v;
        }
        int msb = 63 - Long.numberOfLeadingZeros(v);
        int shift = msb - SUB_BITS;
        return LINEAR + (msb - SUB_BITS - 1) * SUB + (int) ((v >>> shift) - SUB);
    }

    /** The largest value that falls in bucket {@code i}. */
    private static long upperBound(int i) {
        if (i < LINEAR) {
            return i;
        }
        int k = i - LINEAR;
        int msb = k / SUB + SUB_BITS + 1;
        int shift = msb - SUB_BITS;
        long lower = ((long) (k % SUB + SUB)) << shift;
        return lower + (1L << shift) - 1;
    }

    /**
     * @param fraction e.g. 0.99
     * @return the value at that quantile (a bucket's upper bound, at most the maximum), 0 if empty
     */
    long percentile(double fraction) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(fraction * total));
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(upperBound(i), max);
            }
        }
        return max;
    }
}
