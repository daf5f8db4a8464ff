package org.ioatom.jextract;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The bindings generator: reads the @argfiles under jextract/, asks libclang for the named
 * declarations once per target ABI, and writes one merged set of Java classes where every
 * per-ABI difference is a {@code Linux.AARCH64 ? ... : ...} expression. Run it as a source
 * program on JDK 22 or later (see jextract/generate):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED jextract/src/org/ioatom/jextract/Main.java \
 *     -t PACKAGE --output DIR --target ABI=TRIPLE... [--clang-arg ARG]... [--libclang PATH] @ARGFILE...
 * </pre>
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0 || args[0].equals("--help")) {
            System.err.println("usage: Main -t PACKAGE --output DIR --target ABI=TRIPLE... [--clang-arg ARG]..."
                    + " [--libclang PATH] @ARGFILE...");
            System.exit(args.length == 0 ? 2 : 0);
        }
        try {
            run(Options.parse(List.of(args)));
        } catch (IllegalArgumentException | IllegalStateException e) {
            System.err.println("jextract/generate: " + e.getMessage());
            System.exit(1);
        }
    }

    static void run(Options options) throws IOException {
        Path libclangPath = options.libclang != null ? options.libclang : findLibclang();
        Optional<Path> resourceDir = resourceDir(libclangPath);
        // units.get(i): the extraction of argfile i, per ABI in --target order.
        List<Map<String, Model.Unit>> units = new ArrayList<>();
        for (int i = 0; i < options.units.size(); i++) {
            units.add(new LinkedHashMap<>());
        }
        try (Arena arena = Arena.ofConfined()) {
            LibClang clang = new LibClang(libclangPath, arena);
            MemorySegment index;
            try {
                index = (MemorySegment) clang.createIndex.invokeExact(0, 0);
                clang.signals.restore();
            } catch (Throwable t) {
                throw LibClang.rethrow(t);
            }
            for (Options.Target target : options.targets) {
                List<String> clangArgs = new ArrayList<>();
                // libclang looks for its own headers (stddef.h, ...) next to the binary it was
                // loaded from; through a symlink it can miss them, so name them explicitly.
                resourceDir.ifPresent(dir -> {
                    clangArgs.add("-resource-dir");
                    clangArgs.add(dir.toString());
                });
                clangArgs.addAll(List.of("-target", target.triple(), "-nostdlibinc"));
                clangArgs.addAll(systemIncludes(target.triple()));
                clangArgs.addAll(options.clangArgs);
                for (int i = 0; i < options.units.size(); i++) {
                    Options.Unit unit = options.units.get(i);
                    units.get(i).put(target.abi(), new Extractor(clang, index, unit, target.triple(), clangArgs).extract());
                }
            }
            try {
                clang.disposeIndex.invokeExact(index);
            } catch (Throwable t) {
                throw LibClang.rethrow(t);
            }
        }
        write(options, units);
    }

    /**
     * The system headers of a Linux target: a cross sysroot (/usr/TRIPLE/include, Debian's
     * libc6-dev-*-cross) if there is one, else the host's multiarch layout. Naming them (with
     * -nostdlibinc) keeps /usr/local/include and the host's headers out of a cross build.
     */
    static List<String> systemIncludes(String triple) {
        if (Files.isDirectory(Path.of("/usr", triple, "include"))) {
            return List.of("-isystem", "/usr/" + triple + "/include");
        }
        if (Files.isDirectory(Path.of("/usr/include", triple))) {
            return List.of("-isystem", "/usr/include/" + triple, "-isystem", "/usr/include");
        }
        throw new IllegalStateException("no C headers for " + triple
                + ": install libc6-dev (host) or the matching libc6-dev-*-cross package");
    }

    private static void write(Options options, List<Map<String, Model.Unit>> units) throws IOException {
        Path dir = options.output.resolve(options.targetPackage.replace('.', '/'));
        Files.createDirectories(dir);
        String pkg = options.targetPackage;
        List<String> triples = options.targets.stream().map(t -> t.abi() + " (" + t.triple() + ")").toList();
        boolean flagWritten = false;
        for (Map<String, Model.Unit> byAbi : units) {
            Options.Unit unit = byAbi.values().iterator().next().options();
            String banner = "Generated by jextract/generate from " + unit.argfile + " for "
                    + String.join(" and ", triples) + ". Do not edit.";
            flagWritten |= unit.constantsClass.equals(PerAbi.FLAG_CLASS);
            writeFile(dir, unit.constantsClass, ConstantsEmitter.emit(pkg, banner, unit.constantsClass, byAbi));
            for (int i = 0; i < unit.structs.size(); i++) {
                Map<String, Model.RecordDecl> records = new LinkedHashMap<>();
                for (var e : byAbi.entrySet()) {
                    records.put(e.getKey(), e.getValue().records().get(i));
                }
                String cls = JavaNames.className(records.values().iterator().next().cName);
                writeFile(dir, cls, StructEmitter.emit(pkg, banner, records));
            }
            if (!unit.syscalls.isEmpty()) {
                Map<String, List<Model.Syscall>> syscalls = new LinkedHashMap<>();
                byAbi.forEach((abi, u) -> syscalls.put(abi, u.syscalls()));
                writeFile(dir, "Syscalls", FunctionsEmitter.syscalls(pkg, banner, unit.header.toString(), syscalls));
            }
            if (!unit.functions.isEmpty()) {
                Map<String, List<Model.Function>> functions = new LinkedHashMap<>();
                byAbi.forEach((abi, u) -> functions.put(abi, u.functions()));
                writeFile(dir, "LibC", FunctionsEmitter.libc(pkg, banner, unit.header.toString(), functions));
            }
        }
        if (!flagWritten) {
            String banner = "Generated by jextract/generate for " + String.join(" and ", triples) + ". Do not edit.";
            writeFile(dir, PerAbi.FLAG_CLASS, ConstantsEmitter.emit(pkg, banner, PerAbi.FLAG_CLASS, Map.of()));
        }
    }

    private static void writeFile(Path dir, String className, String text) throws IOException {
        Path file = dir.resolve(className + ".java");
        if (Files.exists(file)) {
            throw new IllegalStateException(file + " would be written twice: two argfiles generate the same class");
        }
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** The newest libclang in Debian's usual places, when --libclang is not given. */
    static Path findLibclang() throws IOException {
        List<Path> candidates = new ArrayList<>();
        Path lib = Path.of("/usr/lib");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> dirs = Files.list(lib)) {
                dirs.filter(d -> d.getFileName().toString().startsWith("llvm-"))
                        .map(d -> d.resolve("lib/libclang.so.1"))
                        .filter(Files::exists)
                        .forEach(candidates::add);
            }
        }
        return candidates.stream()
                .max(Comparator.comparingInt(Main::llvmVersion))
                .orElseThrow(() -> new IllegalStateException(
                        "no libclang found under /usr/lib/llvm-*/lib: install libclang-14-dev or pass --libclang"));
    }

    private static int llvmVersion(Path libclang) {
        String dir = libclang.getParent().getParent().getFileName().toString();
        try {
            return Integer.parseInt(dir.substring("llvm-".length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** LLVM_DIR/lib/clang/VERSION next to the real libclang, if it holds the builtin headers. */
    static Optional<Path> resourceDir(Path libclang) throws IOException {
        Path clangDir = libclang.toRealPath().getParent().resolve("clang");
        if (!Files.isDirectory(clangDir)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(clangDir)) {
            return versions.filter(v -> Files.exists(v.resolve("include/stddef.h")))
                    .max(Comparator.comparing(v -> v.getFileName().toString()));
        }
    }
}
