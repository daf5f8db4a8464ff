package org.ioatom.samples.server;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Byte helpers for parsing and formatting in native memory. None of them allocates: the
 * samples parse requests where they arrived and write replies straight into output buffers.
 */
public final class Ascii {
    private Ascii() {}

    /** Longest decimal text of a long: "-9223372036854775808". */
    public static final int MAX_LONG_DIGITS = 20;

    /** A constant in native memory (for copying into output buffers). */
    public static MemorySegment constant(String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        MemorySegment m = Arena.global().allocate(Math.max(1, b.length));
        MemorySegment.copy(b, 0, m, ValueLayout.JAVA_BYTE, 0, b.length);
        return m.asSlice(0, b.length);
    }

    /** The upper-case ASCII bytes of a keyword, for {@link #equalsIgnoreCase}. */
    public static byte[] keyword(String text) {
        return text.toUpperCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
    }

    public static byte get(MemorySegment m, long at) {
        return m.get(ValueLayout.JAVA_BYTE, at);
    }

    /** @return the offset of the first {@code b} in [from, to), or -1 */
    public static long indexOf(MemorySegment m, long from, long to, byte b) {
        for (long i = from; i < to; i++) {
            if (m.get(ValueLayout.JAVA_BYTE, i) == b) {
                return i;
            }
        }
        return -1;
    }

    public static byte upper(byte b) {
        return b >= 'a' && b <= 'z' ? (byte) (b - 32) : b;
    }

    /** Whether the {@code len} bytes at {@code at} spell {@code upperKeyword}, ignoring ASCII case. */
    public static boolean equalsIgnoreCase(MemorySegment m, long at, long len, byte[] upperKeyword) {
        if (len != upperKeyword.length) {
            return false;
        }
        for (int i = 0; i < upperKeyword.length; i++) {
            if (upper(m.get(ValueLayout.JAVA_BYTE, at + i)) != upperKeyword[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether the bytes at {@code at} start with {@code upperKeyword}, ignoring ASCII case. */
    public static boolean startsWithIgnoreCase(MemorySegment m, long at, long len, byte[] upperKeyword) {
        return len >= upperKeyword.length && equalsIgnoreCase(m, at, upperKeyword.length, upperKeyword);
    }

    /** Sentinel of {@link #parseLong}: not a valid number (no real value can be, see there). */
    public static final long NOT_A_NUMBER = Long.MIN_VALUE;

    /**
     * Parses an optionally signed decimal of {@code len} bytes. Long.MIN_VALUE itself is reported
     * as {@link #NOT_A_NUMBER}: the samples never need it.
     *
     * @return the value, or {@link #NOT_A_NUMBER} for empty text, other bytes or overflow
     */
    public static long parseLong(MemorySegment m, long at, long len) {
        if (len <= 0 || len > MAX_LONG_DIGITS) {
            return NOT_A_NUMBER;
        }
        long i = at;
        long end = at + len;
        boolean negative = false;
        byte first = m.get(ValueLayout.JAVA_BYTE, i);
        if (first == '-' || first == '+') {
            negative = first == '-';
            i++;
            if (i == end) {
                return NOT_A_NUMBER;
            }
        }
        long v = 0;
        for (; i < end; i++) {
            int d = m.get(ValueLayout.JAVA_BYTE, i) - '0';
            if (d < 0 || d > 9) {
                return NOT_A_NUMBER;
            }
            if (v > (Long.MAX_VALUE - d) / 10) {
                return NOT_A_NUMBER;
            }
            v = v * 10 + d;
        }
        return negative ? -v : v;
    }

    /**
     * Writes {@code v} in decimal at {@code at}.
     *
     * @return the number of bytes written, at most {@link #MAX_LONG_DIGITS}
     */
    public static int putLong(MemorySegment m, long at, long v) {
        if (v == Long.MIN_VALUE) {
            MemorySegment.copy(MIN_LONG, 0, m, at, MIN_LONG.byteSize());
            return (int) MIN_LONG.byteSize();
        }
        int n = 0;
        if (v < 0) {
            m.set(ValueLayout.JAVA_BYTE, at, (byte) '-');
            n = 1;
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        for (int i = digits - 1; i >= 0; i--) {
            m.set(ValueLayout.JAVA_BYTE, at + n + i, (byte) ('0' + v % 10));
            v /= 10;
        }
        return n + digits;
    }

    private static final MemorySegment MIN_LONG = constant(Long.toString(Long.MIN_VALUE));

    /** Reads the bytes at [at, at+len) as text, for messages (allocates). */
    public static String text(MemorySegment m, long at, long len) {
        byte[] b = new byte[(int) len];
        MemorySegment.copy(m, ValueLayout.JAVA_BYTE, at, b, 0, b.length);
        return new String(b, StandardCharsets.ISO_8859_1);
    }
}
