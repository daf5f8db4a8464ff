package org.ioatom.jextract;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line: output options, the ABIs to generate for, and one {@link Unit} per @argfile.
 * Argfiles use jextract's syntax ({@code #} comments, one option per line) and a few options of
 * our own (--include-syscall, --include-syscall-raw, --names-switch, --prefer-name).
 */
final class Options {

    /** One argfile: a header, the class its constants go to, and the symbols to take from it. */
    static final class Unit {
        final String argfile;
        Path header;
        String constantsClass;
        final Set<String> constants = new LinkedHashSet<>();
        final Set<String> structs = new LinkedHashSet<>();
        final Set<String> functions = new LinkedHashSet<>();
        /** Syscall name (SYS_name) to the C library function whose prototype gives the Java types. */
        final Map<String, String> syscalls = new LinkedHashMap<>();
        /** Syscalls that also get a wrapper taking every pointer as a raw address. */
        final Set<String> rawSyscalls = new LinkedHashSet<>();
        /** Whether the constants class gets {@code name(int)}, a switch from value to name. */
        boolean namesSwitch;
        /** Names that win over their aliases in {@code name(int)}; otherwise the first alphabetically. */
        final Set<String> preferredNames = new LinkedHashSet<>();

        Unit(String argfile) {
            this.argfile = argfile;
        }
    }

    /** An ABI name used in the generated code (x86_64, aarch64) and its clang target triple. */
    record Target(String abi, String triple) {
    }

    String targetPackage;
    Path output = Path.of(".");
    final List<Target> targets = new ArrayList<>();
    final List<String> clangArgs = new ArrayList<>();
    final List<Unit> units = new ArrayList<>();
    /** Where libclang is (otherwise searched for in the usual Debian places). */
    Path libclang;

    static Options parse(List<String> args) throws IOException {
        Options o = new Options();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-t", "--target-package" -> o.targetPackage = value(args, ++i, a);
                case "--output" -> o.output = Path.of(value(args, ++i, a));
                case "--target" -> {
                    String v = value(args, ++i, a);
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--target wants ABI=TRIPLE, got " + v);
                    }
                    o.targets.add(new Target(v.substring(0, eq), v.substring(eq + 1)));
                }
                case "--clang-arg" -> o.clangArgs.add(value(args, ++i, a));
                case "--libclang" -> o.libclang = Path.of(value(args, ++i, a));
                default -> {
                    if (!a.startsWith("@")) {
                        throw new IllegalArgumentException("unsupported option: " + a + " (symbols belong in an @argfile)");
                    }
                    o.units.add(unit(a.substring(1)));
                }
            }
        }
        if (o.targetPackage == null) {
            throw new IllegalArgumentException("missing -t/--target-package");
        }
        if (o.targets.isEmpty()) {
            throw new IllegalArgumentException("missing --target ABI=TRIPLE");
        }
        if (o.units.isEmpty()) {
            throw new IllegalArgumentException("no @argfile given");
        }
        return o;
    }

    private static Unit unit(String argfile) throws IOException {
        Unit u = new Unit(argfile);
        List<String> args = tokenize(Files.readString(Path.of(argfile)));
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--header-class-name" -> u.constantsClass = value(args, ++i, a);
                case "--include-constant" -> u.constants.add(value(args, ++i, a));
                case "--include-struct" -> u.structs.add(value(args, ++i, a));
                case "--include-function" -> u.functions.add(value(args, ++i, a));
                case "--include-syscall" -> {
                    String v = value(args, ++i, a);
                    int eq = v.indexOf('=');
                    u.syscalls.put(eq < 0 ? v : v.substring(0, eq), eq < 0 ? v : v.substring(eq + 1));
                }
                case "--include-syscall-raw" -> u.rawSyscalls.add(value(args, ++i, a));
                case "--names-switch" -> u.namesSwitch = true;
                case "--prefer-name" -> u.preferredNames.add(value(args, ++i, a));
                default -> {
                    if (a.startsWith("-") || u.header != null) {
                        throw new IllegalArgumentException(argfile + ": unsupported option or second header: " + a);
                    }
                    u.header = Path.of(a);
                }
            }
        }
        if (u.header == null || u.constantsClass == null) {
            throw new IllegalArgumentException(argfile + ": needs a header file and --header-class-name");
        }
        for (String raw : u.rawSyscalls) {
            if (!u.syscalls.containsKey(raw)) {
                throw new IllegalArgumentException(argfile + ": --include-syscall-raw " + raw + " without --include-syscall " + raw);
            }
        }
        return u;
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args.get(i);
    }

    /**
     * Splits an argfile the way javac and jextract do: whitespace separates, single or double
     * quotes group, and '#' at the start of a token comments out the rest of the line.
     */
    static List<String> tokenize(String text) {
        List<String> tokens = new ArrayList<>();
        StringBuilder current = null;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    current.append(c);
                }
            } else if (c == '"' || c == '\'') {
                if (current == null) {
                    current = new StringBuilder();
                }
                quote = c;
            } else if (Character.isWhitespace(c)) {
                if (current != null) {
                    tokens.add(current.toString());
                    current = null;
                }
            } else if (c == '#' && current == null) {
                while (i < text.length() && text.charAt(i) != '\n') {
                    i++;
                }
            } else {
                if (current == null) {
                    current = new StringBuilder();
                }
                current.append(c);
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unterminated quote in argfile");
        }
        if (current != null) {
            tokens.add(current.toString());
        }
        return tokens;
    }
}
