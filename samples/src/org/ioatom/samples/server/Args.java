package org.ioatom.samples.server;

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
            } else if (i + 1 < args.length) {
                options.put(a.substring(2), args[++i]);
            } else {
                throw new IllegalArgumentException("option " + a + " needs a value");
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

    public String string(String name, String otherwise) {
        String v = options.remove(name);
        return v == null ? otherwise : v;
    }

    public long number(String name, long otherwise, long min, long max) {
        String v = options.remove(name);
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

    /** Rejects options nobody asked for. */
    public void done() {
        if (!options.isEmpty()) {
            throw new IllegalArgumentException("unknown option --" + options.keySet().iterator().next());
        }
    }
}
