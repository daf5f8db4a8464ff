package org.ioatom.samples.server;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Command-line options of the samples: {@code --name value} or {@code --name=value}. Each
 * getter takes its option out; {@link #done()} then rejects whatever nobody asked for.
 */
public final class Args {
    private final String usage;
    private final Map<String, String> options = new LinkedHashMap<>();
    private final boolean help;

    public Args(String usage, String... args) {
        this.usage = usage;
        boolean h = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                h = true;
                continue;
            }
            if (!a.startsWith("--") || a.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            int eq = a.indexOf('=');
            if (eq > 0) {
                options.put(a.substring(2, eq), a.substring(eq + 1));
            } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                options.put(a.substring(2), args[++i]);
            } else {
                // No value follows: a flag (--udp), or an option missing its value (said when asked for).
                options.put(a.substring(2), FLAG);
            }
        }
        help = h;
    }

    public boolean help() {
        return help;
    }

    public String usage() {
        return usage;
    }

    /** The value of an option given without one: a flag. Compared by identity. */
    private static final String FLAG = new String("");

    /** Takes option {@code name} out; null when absent; refuses a flag where a value is needed. */
    private String value(String name) {
        String v = options.remove(name);
        if (v == FLAG) {
            throw new IllegalArgumentException("option --" + name + " needs a value");
        }
        return v;
    }

    public String string(String name, String otherwise) {
        String v = value(name);
        return v == null ? otherwise : v;
    }

    /** Whether flag {@code --name} (an option without a value) was given. */
    public boolean flag(String name) {
        String v = options.remove(name);
        if (v != null && v != FLAG) {
            throw new IllegalArgumentException("--" + name + " takes no value, got '" + v + "'");
        }
        return v != null;
    }

    public long number(String name, long otherwise, long min, long max) {
        String v = value(name);
        if (v == null) {
            return otherwise;
        }
        long n;
        try {
            n = Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " needs a number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException("--" + name + " must be " + min + " to " + max + ", got " + n);
        }
        return n;
    }

    public int integer(String name, int otherwise, int min, int max) {
        return (int) number(name, otherwise, min, max);
    }

    /** The most seconds a duration option takes: a day. */
    public static final long MAX_SECONDS = 24 * 3600;

    /**
     * A duration in seconds with an optional fraction ({@code 30}, {@code 0.5}), as nanoseconds.
     *
     * @param otherwiseNanos the value when the option is absent
     */
    public long seconds(String name, long otherwiseNanos) {
        String v = value(name);
        return v == null ? otherwiseNanos : parseSeconds(name, v);
    }

    /** Parses {@code DIGITS[.DIGITS]} seconds, 0 to {@link #MAX_SECONDS}, into nanoseconds (rounded to the nearest). */
    public static long parseSeconds(String name, String v) {
        if (!v.matches("[0-9]{1,9}(\\.[0-9]{1,9})?|\\.[0-9]{1,9}")) {
            throw new IllegalArgumentException("--" + name + " needs seconds (e.g. 30 or 0.5), got '" + v + "'");
        }
        BigDecimal nanos = new BigDecimal(v).movePointRight(9);
        if (nanos.compareTo(BigDecimal.valueOf(MAX_SECONDS * 1_000_000_000L)) > 0) {
            throw new IllegalArgumentException("--" + name + " must be 0 to " + MAX_SECONDS + " seconds, got " + v);
        }
        return nanos.setScale(0, RoundingMode.HALF_UP).longValueExact();
    }

    /** Rejects options nobody asked for. */
    public void done() {
        if (!options.isEmpty()) {
            throw new IllegalArgumentException("unknown option --" + options.keySet().iterator().next());
        }
    }
}
