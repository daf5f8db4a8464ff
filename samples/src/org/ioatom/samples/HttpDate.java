package org.ioatom.samples;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.ioatom.samples.server.Ascii;

/**
 * The HTTP Date header value (IMF-fixdate, e.g. {@code Sun, 06 Nov 1994 08:49:37 GMT}) in native
 * memory, recomputed without allocation when the second changes.
 */
final class HttpDate {
    static final int LENGTH = 29;
    private static final byte[] DAYS = "SunMonTueWedThuFriSat".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final MemorySegment text = Arena.ofAuto().allocate(LENGTH);
    private long second = Long.MIN_VALUE;

    /** @return the current date's text, {@link #LENGTH} bytes */
    MemorySegment now() {
        long s = Math.floorDiv(System.currentTimeMillis(), 1000);
        if (s != second) {
            second = s;
            format(s);
        }
        return text;
    }

    /** Formats seconds since 1970 (days to civil date after Howard Hinnant's public-domain algorithm). */
    void format(long epochSecond) {
        long days = Math.floorDiv(epochSecond, 86400);
        int secs = Math.floorMod(epochSecond, 86400);
        int weekday = Math.floorMod(days + 4, 7); // 1970-01-01 was a Thursday
        long z = days + 719468;
        long era = Math.floorDiv(z, 146097);
        long doe = z - era * 146097;
        long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        int day = (int) (doy - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
        int i = 0;
        for (int k = 0; k < 3; k++) {
            put(i++, DAYS[weekday * 3 + k]);
        }
        put(i++, (byte) ',');
        put(i++, (byte) ' ');
        i = two(i, day);
        put(i++, (byte) ' ');
        for (int k = 0; k < 3; k++) {
            put(i++, MONTHS[(month - 1) * 3 + k]);
        }
        put(i++, (byte) ' ');
        i = two(i, (int) (year / 100));
        i = two(i, (int) (year % 100));
        put(i++, (byte) ' ');
        i = two(i, secs / 3600);
        put(i++, (byte) ':');
        i = two(i, secs / 60 % 60);
        put(i++, (byte) ':');
        i = two(i, secs % 60);
        put(i++, (byte) ' ');
        put(i++, (byte) 'G');
        put(i++, (byte) 'M');
        put(i, (byte) 'T');
    }

    private int two(int at, int v) {
        put(at, (byte) ('0' + v / 10));
        put(at + 1, (byte) ('0' + v % 10));
        return at + 2;
    }

    private void put(int at, byte b) {
        text.set(ValueLayout.JAVA_BYTE, at, b);
    }

    /** The current text (for tests). */
    String text() {
        return Ascii.text(text, 0, LENGTH);
    }
}
