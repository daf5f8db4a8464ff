package org.ioatom.jextract;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line, in jextract's syntax (a subset of it) so that the argfiles under jextract/
 * also work with a real jextract. Options of our own are marked below; a real jextract has no
 * way to cross-compile, which is why {@code --clang-arg} exists.
 */
final class Options {

    String targetPackage;
    String headerClassName;
    Path output = Path.of(".");
    final List<Path> headers = new ArrayList<>();
    final List<String> clangArgs = new ArrayList<>();
    final Set<String> includeFunctions = new LinkedHashSet<>();
    final Set<String> includeConstants = new LinkedHashSet<>();
    final Set<String> includeStructs = new LinkedHashSet<>();
    final Set<String> includeUnions = new LinkedHashSet<>();
    final Set<String> includeTypedefs = new LinkedHashSet<>();
    /** The @argfiles as given, for the banner of every generated file. */
    final List<String> argfiles = new ArrayList<>();
    /** Ours: where libclang is (otherwise searched for in the usual Debian places). */
    Path libclang;

    static Options parse(List<String> commandLine) throws IOException {
        Options o = new Options();
        List<String> args = new ArrayList<>();
        for (String arg : commandLine) {
            if (arg.startsWith("@")) {
                o.argfiles.add(arg.substring(1));
                args.addAll(tokenize(Files.readString(Path.of(arg.substring(1)))));
            } else {
                args.add(arg);
            }
        }
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            // Options glued to their value, as C compilers accept them.
            if (a.startsWith("-I") && a.length() > 2) {
                o.clangArgs.add(a);
                continue;
            }
            if (a.startsWith("-D") && a.length() > 2) {
                o.clangArgs.add(a);
                continue;
            }
            switch (a) {
                case "-t", "--target-package" -> o.targetPackage = value(args, ++i, a);
                case "--header-class-name" -> o.headerClassName = value(args, ++i, a);
                case "--output" -> o.output = Path.of(value(args, ++i, a));
                case "-I", "--include-dir" -> o.clangArgs.add("-I" + value(args, ++i, a));
                case "-D" -> o.clangArgs.add("-D" + value(args, ++i, a));
                case "--include-function" -> o.includeFunctions.add(value(args, ++i, a));
                case "--include-constant" -> o.includeConstants.add(value(args, ++i, a));
                case "--include-struct" -> o.includeStructs.add(value(args, ++i, a));
                case "--include-union" -> o.includeUnions.add(value(args, ++i, a));
                case "--include-typedef" -> o.includeTypedefs.add(value(args, ++i, a));
                case "--clang-arg" -> o.clangArgs.add(value(args, ++i, a));  // ours
                case "--libclang" -> o.libclang = Path.of(value(args, ++i, a)); // ours
                default -> {
                    if (a.startsWith("-")) {
                        throw new IllegalArgumentException("unsupported option: " + a);
                    }
                    o.headers.add(Path.of(a));
                }
            }
        }
        if (o.headers.size() != 1) {
            throw new IllegalArgumentException("expected exactly one header file, got " + o.headers);
        }
        if (o.targetPackage == null) {
            throw new IllegalArgumentException("missing -t/--target-package");
        }
        if (o.headerClassName == null) {
            // jextract's default: the header's file name, minus .h, as a Java identifier.
            String file = o.headers.get(0).getFileName().toString().replaceFirst("\\.h$", "");
            o.headerClassName = file.replaceAll("[^A-Za-z0-9_$]", "_");
        }
        return o;
    }

    /** The -target given to clang, if any (for the banner; clang itself is the authority). */
    String targetTriple() {
        for (int i = 0; i < clangArgs.size(); i++) {
            String a = clangArgs.get(i);
            if ((a.equals("-target") || a.equals("--target")) && i + 1 < clangArgs.size()) {
                return clangArgs.get(i + 1);
            }
            if (a.startsWith("--target=")) {
                return a.substring("--target=".length());
            }
        }
        return null;
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
