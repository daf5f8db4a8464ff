package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.ioatom.jextract.Model.CType;
import org.ioatom.jextract.Model.Function;
import org.ioatom.jextract.Model.Param;
import org.ioatom.jextract.Model.Pointer;
import org.ioatom.jextract.Model.Scalar;
import org.ioatom.jextract.Model.Syscall;

/**
 * Emits {@code Syscalls} (--include-syscall: typed wrappers over handles that
 * {@code org.ioatom.internal.sys.SyscallLinker} makes, returning the result or -errno) and
 * {@code LibC} (--include-function: plain downcalls into the C library, each resolved on first
 * use). Java types follow the C prototype: 4-byte integers are {@code int}, 8-byte ones
 * {@code long}, pointers {@code MemorySegment} (or a {@code long} address in a *Raw wrapper).
 */
final class FunctionsEmitter {

    private static final String LINKER = "org.ioatom.internal.sys.SyscallLinker";

    private FunctionsEmitter() {
    }

    /** @param byAbi the system calls per ABI, in --target order, each list in argfile order */
    static String syscalls(String pkg, String banner, String source, Map<String, List<Syscall>> byAbi) {
        List<Syscall> first = byAbi.values().iterator().next();
        SourceWriter out = new SourceWriter();
        out.doc("The system calls ioatom makes, called directly: each wrapper returns what the call returns, or"
                + " -errno when it fails. The numbers are {@code SYS_*} of {@code <sys/syscall.h>} per ABI; the"
                + " Java types follow the C library's prototypes in " + SourceWriter.code(source) + ".");
        out.open("public final class Syscalls {");
        out.blank();
        out.open("private Syscalls() {");
        out.close("}");
        out.blank();
        out.line("// Syscall numbers.");
        List<String> numbers = new ArrayList<>();
        List<String> libcNames = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) {
            if (first.get(i).prototype().result() instanceof Model.Void) {
                throw new IllegalStateException(first.get(i).name() + ": a void C function cannot report -errno");
            }
            Map<String, String> byAbiNumber = new LinkedHashMap<>();
            for (var e : byAbi.entrySet()) {
                Syscall s = e.getValue().get(i);
                byAbiNumber.put(e.getKey(), Long.toString(s.number()));
                if (!signature(s.prototype(), false).equals(signature(first.get(i).prototype(), false))) {
                    throw new IllegalStateException(s.prototype().name() + " has other Java types on " + e.getKey());
                }
            }
            String name = first.get(i).name();
            out.line("public static final int NR_" + name + " = " + PerAbi.select(byAbiNumber, false, "SYS_" + name) + ";");
            numbers.add("NR_" + name);
            libcNames.add("\"" + first.get(i).prototype().name() + "\"");
        }
        out.blank();
        out.line("private static final SyscallLinker.Table TABLE = SyscallLinker.table(");
        wrapped(out, "new int[] {", numbers, "},");
        wrapped(out, "new String[] {", libcNames, "});");
        out.blank();
        for (int i = 0; i < first.size(); i++) {
            Syscall s = first.get(i);
            out.line("private static final MethodHandle " + JavaNames.upper(s.name()) + " = TABLE.handle(" + i + ", "
                    + descriptor(s.prototype(), false) + ");");
            if (s.raw()) {
                out.line("private static final MethodHandle " + JavaNames.upper(s.name()) + "_RAW = TABLE.handle(" + i
                        + ", " + descriptor(s.prototype(), true) + ");");
            }
        }
        for (Syscall s : first) {
            Function f = s.prototype();
            String via = s.name().equals(f.name()) ? "" : " (system call " + s.name() + ")";
            String tail = f.variadic() ? ", its variadic tail passed as fixed {@code long} arguments" : "";
            out.blank();
            out.doc(SourceWriter.code(f.cDeclaration()) + via + tail + ": what it returns, or -errno.");
            wrapper(out, s.name(), JavaNames.upper(s.name()), f, false);
            if (s.raw()) {
                out.blank();
                out.doc("{@link #" + s.name() + "} with every pointer passed as a {@code long} address, to name a range"
                        + " inside a segment without slicing it: what it returns, or -errno.");
                wrapper(out, s.name() + "Raw", JavaNames.upper(s.name()) + "_RAW", f, true);
            }
        }
        out.close("}");
        return withImports(pkg, banner, out.toString());
    }

    /** An array initializer, wrapped before 110 columns. */
    private static void wrapped(SourceWriter out, String open, List<String> items, String close) {
        StringBuilder line = new StringBuilder("        " + open);
        boolean fresh = true;
        for (int i = 0; i < items.size(); i++) {
            String item = items.get(i) + (i + 1 < items.size() ? "," : close);
            if (!fresh && line.length() + 5 + 1 + item.length() > 110) {
                out.line(line.toString());
                line = new StringBuilder("                ");
                fresh = true;
            }
            line.append(fresh ? "" : " ").append(item);
            fresh = false;
        }
        out.line(line.toString());
    }

    private static void wrapper(SourceWriter out, String method, String handle, Function f, boolean raw) {
        boolean intResult = f.result() instanceof Scalar s && s.size() == 4;
        List<String> args = new ArrayList<>();
        for (Param p : f.params()) {
            args.add(p.name());
        }
        out.open("public static " + (intResult ? "int" : "long") + " " + method + "(" + signature(f, raw) + ") {");
        out.open("try {");
        out.line("return " + (intResult ? "(int) " : "") + "(long) " + handle + ".invokeExact(" + String.join(", ", args) + ");");
        out.close("} catch (Throwable t) {");
        out.line("    throw SyscallLinker.rethrow(t);");
        out.line("}");
        out.close("}");
    }

    /** @param byAbi the functions per ABI, in --target order, each list in argfile order */
    static String libc(String pkg, String banner, String source, Map<String, List<Function>> byAbi) {
        List<Function> first = byAbi.values().iterator().next();
        for (var e : byAbi.entrySet()) {
            for (int i = 0; i < first.size(); i++) {
                if (!descriptor(e.getValue().get(i), false).equals(descriptor(first.get(i), false))) {
                    throw new IllegalStateException(first.get(i).name() + " has other Java types on " + e.getKey());
                }
            }
        }
        SourceWriter out = new SourceWriter();
        out.doc("Plain downcalls into the C library (no errno capture), declared in " + SourceWriter.code(source)
                + ". Each handle is made on first use, so a missing symbol fails only its own function.");
        out.open("public final class LibC {");
        out.blank();
        out.open("private LibC() {");
        out.close("}");
        for (Function f : first) {
            String holder = JavaNames.className(f.name()) + "Handle";
            String ret = javaType(f.result(), false, f.name());
            List<String> args = new ArrayList<>();
            for (Param p : f.params()) {
                args.add(p.name());
            }
            out.blank();
            String pointerNote = f.result() instanceof Pointer ? " The result is a zero-length segment: reinterpret it to read it." : "";
            out.doc(SourceWriter.code(f.cDeclaration()) + "." + pointerNote);
            out.open("public static " + ret + " " + f.name() + "(" + signature(f, false) + ") {");
            out.open("try {");
            String call = holder + ".HANDLE.invokeExact(" + String.join(", ", args) + ");";
            out.line(ret.equals("void") ? call : "return (" + ret + ") " + call);
            out.close("} catch (Throwable t) {");
            out.line("    throw SyscallLinker.rethrow(t);");
            out.line("}");
            out.close("}");
            out.blank();
            out.line("@SuppressWarnings(\"restricted\")");
            out.open("private static final class " + holder + " {");
            out.line("static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(");
            out.line("        Linker.nativeLinker().defaultLookup().find(\"" + f.name() + "\")");
            out.line("                .orElseThrow(() -> new UnsatisfiedLinkError(\"no " + f.name() + " in the C library\")),");
            out.line("        " + descriptor(f, false) + ");");
            out.close("}");
        }
        out.close("}");
        return withImports(pkg, banner, out.toString());
    }

    /** Banner, package and the imports the class body uses, in front of the body. */
    private static String withImports(String pkg, String banner, String body) {
        StringBuilder sb = new StringBuilder("// ").append(banner).append("\n\npackage ").append(pkg).append(";\n\n");
        for (String group : List.of("java.lang.foreign.FunctionDescriptor java.lang.foreign.Linker"
                + " java.lang.foreign.MemorySegment java.lang.invoke.MethodHandle", LINKER,
                "static java.lang.foreign.ValueLayout.ADDRESS static java.lang.foreign.ValueLayout.JAVA_INT"
                + " static java.lang.foreign.ValueLayout.JAVA_LONG")) {
            boolean any = false;
            for (String name : group.replace("static ", "static_").split(" ")) {
                String simple = name.substring(name.lastIndexOf('.') + 1);
                if (java.util.regex.Pattern.compile("\\b" + simple + "\\b").matcher(body).find()) {
                    sb.append("import ").append(name.replace("static_", "static ")).append(";\n");
                    any = true;
                }
            }
            if (any) {
                sb.append('\n');
            }
        }
        return sb.append(body).toString();
    }

    /** The Java parameter list; {@code raw} turns pointers into {@code long} addresses. */
    private static String signature(Function f, boolean raw) {
        List<String> params = new ArrayList<>();
        for (Param p : f.params()) {
            params.add(javaType(p.type(), raw, f.name()) + " " + p.name());
        }
        return String.join(", ", params);
    }

    private static String descriptor(Function f, boolean raw) {
        List<String> layouts = new ArrayList<>();
        for (Param p : f.params()) {
            layouts.add(layout(p.type(), raw, f.name()));
        }
        if (f.result() instanceof Model.Void) {
            return "FunctionDescriptor.ofVoid(" + String.join(", ", layouts) + ")";
        }
        layouts.addFirst(layout(f.result(), false, f.name()));
        return "FunctionDescriptor.of(" + String.join(", ", layouts) + ")";
    }

    private static String javaType(CType t, boolean raw, String where) {
        return switch (t) {
            case Scalar s when s.size() == 4 || s.size() == 8 -> s.javaType();
            case Pointer p -> raw ? "long" : "MemorySegment";
            case Model.Void v -> "void";
            default -> throw new IllegalStateException(where + ": no Java type for " + t);
        };
    }

    private static String layout(CType t, boolean raw, String where) {
        return switch (javaType(t, raw, where)) {
            case "int" -> "JAVA_INT";
            case "long" -> "JAVA_LONG";
            case "MemorySegment" -> "ADDRESS";
            default -> throw new IllegalStateException(where + ": void has no layout");
        };
    }
}
