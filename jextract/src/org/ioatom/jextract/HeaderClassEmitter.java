package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.List;

import org.ioatom.jextract.Model.Array;
import org.ioatom.jextract.Model.CType;
import org.ioatom.jextract.Model.Constant;
import org.ioatom.jextract.Model.FloatValue;
import org.ioatom.jextract.Model.Function;
import org.ioatom.jextract.Model.Header;
import org.ioatom.jextract.Model.IntValue;
import org.ioatom.jextract.Model.Param;
import org.ioatom.jextract.Model.Pointer;
import org.ioatom.jextract.Model.Prim;
import org.ioatom.jextract.Model.RecordRef;
import org.ioatom.jextract.Model.Scalar;
import org.ioatom.jextract.Model.Typedef;

/**
 * Emits the header class (LibC, Errno): C type layouts, one lazily initialised holder per
 * function, variadic invoker classes, typedef layouts and constants, in jextract 22's API shape.
 */
final class HeaderClassEmitter {

    private final Header header;
    private final SourceWriter out = new SourceWriter();
    private final String cls;

    HeaderClassEmitter(Header header) {
        this.header = header;
        this.cls = header.className();
    }

    /** Whether the class needs the C_* layouts and lookup helpers (a constants-only class does not). */
    static boolean needsRuntime(Header h) {
        return !h.functions().isEmpty() || !h.records().isEmpty() || !h.typedefs().isEmpty();
    }

    String emit(boolean needsAlign) {
        boolean runtime = needsRuntime(header);
        out.line("// " + header.banner());
        out.blank();
        out.line("package " + header.packageName() + ";");
        out.blank();
        if (runtime) {
            out.line("import java.lang.foreign.*;");
            out.line("import java.lang.invoke.MethodHandle;");
            out.blank();
        }
        out.line("/**");
        out.line(" * " + (runtime ? "Downcalls, C type layouts and constants" : "Constants") + " of " + SourceWriter.code(header.source())
                + ", as clang sees them for the target.");
        out.line(" */");
        if (runtime) {
            out.line("@SuppressWarnings(\"restricted\")");
        }
        out.open("public final class " + cls + " {");
        out.blank();
        out.open("private " + cls + "() {");
        out.line("// static members only");
        out.close("}");
        if (runtime) {
            layouts();
            lookup(needsAlign);
        }
        for (Function f : header.functions()) {
            if (f.variadic()) {
                variadic(f);
            } else {
                function(f);
            }
        }
        for (Typedef t : header.typedefs()) {
            typedef(t);
        }
        for (Constant c : header.constants()) {
            constant(c);
        }
        out.close("}");
        return out.toString();
    }

    // ------------------------------------------------------------ layouts and lookup

    private void layouts() {
        String[][] cNames = {
                {"BOOL", "_Bool"}, {"CHAR", "char"}, {"SHORT", "short"}, {"INT", "int"}, {"LONG_LONG", "long long"},
                {"FLOAT", "float"}, {"DOUBLE", "double"}, {"LONG", "long"}};
        for (String[] n : cNames) {
            Scalar s = header.prim(Prim.valueOf(n[0]));
            out.blank();
            out.doc("Layout of C " + SourceWriter.code(n[1]) + ": size " + s.size() + ", alignment " + s.align() + ".");
            out.line("public static final " + s.layoutType() + " " + s.prim().layoutConstant + " = ValueLayout."
                    + s.javaLayout() + realign(s.size(), s.align()) + ";");
        }
        Pointer p = header.pointer();
        out.blank();
        out.line("/**");
        out.line(" * Layout of a C pointer: size " + p.size() + ", alignment " + p.align() + ". Its target layout makes the");
        out.line(" * segments that downcalls return readable without a reinterpret.");
        out.line(" */");
        out.line("public static final AddressLayout C_POINTER = ValueLayout.ADDRESS" + realign(p.size(), p.align()));
        out.line("        .withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));");
    }

    /** FFM value layouts are aligned to their size on 64-bit JVMs; say so when C differs. */
    private static String realign(long size, long align) {
        return size == align ? "" : ".withByteAlignment(" + align + ")";
    }

    private void lookup(boolean needsAlign) {
        out.blank();
        out.line("// The loader's libraries first, then the C library the JVM itself links against.");
        out.line("static final SymbolLookup SYMBOL_LOOKUP = SymbolLookup.loaderLookup()");
        out.line("        .or(Linker.nativeLinker().defaultLookup());");
        out.blank();
        out.line("// Called from the holder classes only, so a symbol this OS lacks fails just the");
        out.line("// function that needs it, when it is first used.");
        out.open("static MemorySegment findOrThrow(String symbol) {");
        out.line("return SYMBOL_LOOKUP.find(symbol)");
        out.line("        .orElseThrow(() -> new UnsatisfiedLinkError(\"unresolved symbol: \" + symbol));");
        out.close("}");
        if (needsAlign) {
            out.blank();
            out.line("// Packed C records hold members below their natural alignment. A group layout cannot be");
            out.line("// less aligned than its members, so this rebuilds a layout with every alignment capped.");
            out.open("static MemoryLayout align(MemoryLayout layout, long byteAlignment) {");
            out.open("MemoryLayout capped = switch (layout) {");
            out.line("case PaddingLayout padding -> padding;");
            out.line("case ValueLayout value -> value.withByteAlignment(Math.min(value.byteAlignment(), byteAlignment));");
            out.line("case SequenceLayout sequence -> MemoryLayout.sequenceLayout(sequence.elementCount(),");
            out.line("        align(sequence.elementLayout(), byteAlignment));");
            out.line("case StructLayout struct -> MemoryLayout.structLayout(alignMembers(struct, byteAlignment));");
            out.line("case UnionLayout union -> MemoryLayout.unionLayout(alignMembers(union, byteAlignment));");
            out.close("};");
            out.line("capped = capped.withByteAlignment(Math.min(layout.byteAlignment(), byteAlignment));");
            out.line("return layout.name().map(capped::withName).orElse(capped);");
            out.close("}");
            out.blank();
            out.open("private static MemoryLayout[] alignMembers(GroupLayout group, long byteAlignment) {");
            out.line("return group.memberLayouts().stream()");
            out.line("        .map(member -> align(member, byteAlignment))");
            out.line("        .toArray(MemoryLayout[]::new);");
            out.close("}");
        }
    }

    // ------------------------------------------------------------ functions

    /** The layout expression for a C type in a function descriptor or typedef. */
    String layout(CType t) {
        return switch (t) {
            case Scalar s -> cls + "." + s.prim().layoutConstant;
            case Pointer p -> cls + ".C_POINTER";
            case Array a -> cls + ".C_POINTER"; // only reachable for parameters, where arrays decay
            case RecordRef r -> r.decl().qualifiedName() + ".layout()";
            case Model.Void v -> throw new IllegalStateException("void has no layout");
        };
    }

    static String javaType(CType t) {
        return switch (t) {
            case Scalar s -> s.javaType();
            case Model.Void v -> "void";
            default -> "MemorySegment";
        };
    }

    private String descriptor(Function f, List<Param> params) {
        List<String> args = new ArrayList<>();
        for (Param p : params) {
            args.add(layout(p.type()));
        }
        if (f.result() instanceof Model.Void) {
            return "FunctionDescriptor.ofVoid(" + String.join(", ", args) + ")";
        }
        args.add(0, layout(f.result()));
        return "FunctionDescriptor.of(" + String.join(", ", args) + ")";
    }

    private static String javaName(String c) {
        return JavaNames.identifier(c);
    }

    private void function(Function f) {
        String name = f.name();
        String doc = SourceWriter.code(f.cDeclaration());
        out.blank();
        out.open("private static final class " + name + " {");
        out.line("static final FunctionDescriptor DESC = " + descriptor(f, f.params()) + ";");
        out.line("static final MemorySegment ADDR = " + cls + ".findOrThrow(\"" + name + "\");");
        out.line("static final MethodHandle HANDLE = Linker.nativeLinker().downcallHandle(ADDR, DESC);");
        out.close("}");
        out.blank();
        out.returns("the function descriptor of " + doc);
        out.open("public static FunctionDescriptor " + name + "$descriptor() {");
        out.line("return " + name + ".DESC;");
        out.close("}");
        out.blank();
        out.returns("the downcall method handle of " + doc);
        out.open("public static MethodHandle " + name + "$handle() {");
        out.line("return " + name + ".HANDLE;");
        out.close("}");
        out.blank();
        out.returns("the address of " + doc);
        out.open("public static MemorySegment " + name + "$address() {");
        out.line("return " + name + ".ADDR;");
        out.close("}");

        boolean byValueResult = f.result() instanceof RecordRef;
        List<String> decl = new ArrayList<>();
        List<String> call = new ArrayList<>();
        List<String> paramDocs = new ArrayList<>();
        if (byValueResult) {
            decl.add("SegmentAllocator allocator");
            call.add("allocator");
            paramDocs.add("allocator where to allocate the returned struct");
        }
        for (Param p : f.params()) {
            decl.add(javaType(p.type()) + " " + javaName(p.name()));
            call.add(javaName(p.name()));
            paramDocs.add(javaName(p.name()) + " C " + SourceWriter.code(p.cType() + " " + p.name()));
        }
        String ret = javaType(f.result());
        out.blank();
        out.javadoc("Calls " + doc + ".", paramDocs, ret.equals("void") ? null : "what the C function returns");
        out.open("public static " + ret + " " + name + "(" + String.join(", ", decl) + ") {");
        out.line("var mh$ = " + name + ".HANDLE;");
        out.open("try {");
        String invoke = "mh$.invokeExact(" + String.join(", ", call) + ");";
        out.line(ret.equals("void") ? invoke : "return (" + ret + ") " + invoke);
        out.close("} catch (Throwable ex$) {");
        out.indentedThrow();
        out.line("}");
        out.close("}");
    }

    private void variadic(Function f) {
        String name = f.name();
        String doc = SourceWriter.code(f.cDeclaration());
        String ret = javaType(f.result());
        out.blank();
        out.line("/**");
        out.line(" * Invoker of the variadic " + doc + ": {@link #makeInvoker} fixes the");
        out.line(" * layouts of the variadic arguments (as promoted by C), {@link #apply} calls it.");
        out.line(" */");
        out.open("public static final class " + name + " {");
        out.line("private static final FunctionDescriptor BASE_DESC = " + descriptor(f, f.params()) + ";");
        out.line("private static final MemorySegment ADDR = " + cls + ".findOrThrow(\"" + name + "\");");
        out.blank();
        out.line("private final MethodHandle handle;");
        out.line("private final FunctionDescriptor descriptor;");
        out.line("private final MethodHandle spreader;");
        out.blank();
        out.open("private " + name + "(MethodHandle handle, FunctionDescriptor descriptor, MethodHandle spreader) {");
        out.line("this.handle = handle;");
        out.line("this.descriptor = descriptor;");
        out.line("this.spreader = spreader;");
        out.close("}");
        out.blank();
        out.line("/**");
        out.line(" * An invoker for one combination of variadic argument layouts.");
        out.line(" *");
        out.line(" * @param variadicLayouts the layouts of the arguments after the fixed ones");
        out.line(" * @return the invoker");
        out.line(" */");
        out.open("public static " + name + " makeInvoker(MemoryLayout... variadicLayouts) {");
        out.line("FunctionDescriptor desc$ = BASE_DESC.appendArgumentLayouts(variadicLayouts);");
        out.line("Linker.Option firstVariadic$ = Linker.Option.firstVariadicArg(BASE_DESC.argumentLayouts().size());");
        out.line("MethodHandle mh$ = Linker.nativeLinker().downcallHandle(ADDR, desc$, firstVariadic$);");
        out.line("return new " + name + "(mh$, desc$, mh$.asSpreader(Object[].class, variadicLayouts.length));");
        out.close("}");
        out.blank();
        out.returns("the address of " + doc);
        out.open("public static MemorySegment address() {");
        out.line("return ADDR;");
        out.close("}");
        out.blank();
        out.returns("the downcall handle of this invoker, with the variadic arguments as separate parameters");
        out.open("public MethodHandle handle() {");
        out.line("return handle;");
        out.close("}");
        out.blank();
        out.returns("the function descriptor of this invoker, variadic layouts included");
        out.open("public FunctionDescriptor descriptor() {");
        out.line("return descriptor;");
        out.close("}");

        List<String> decl = new ArrayList<>();
        List<String> call = new ArrayList<>();
        for (Param p : f.params()) {
            decl.add(javaType(p.type()) + " " + javaName(p.name()));
            call.add(javaName(p.name()));
        }
        String rest = "x" + f.params().size();
        decl.add("Object... " + rest);
        call.add(rest);
        out.blank();
        out.line("/**");
        out.line(" * Calls " + doc + ".");
        out.line(" *");
        for (Param p : f.params()) {
            out.line(" * @param " + javaName(p.name()) + " C " + SourceWriter.code(p.cType() + " " + p.name()));
        }
        out.line(" * @param " + rest + " the variadic arguments, matching the layouts given to makeInvoker");
        if (!ret.equals("void")) {
            out.line(" * @return what the C function returns");
        }
        out.line(" */");
        out.open("public " + ret + " apply(" + String.join(", ", decl) + ") {");
        out.open("try {");
        String invoke = "spreader.invokeExact(" + String.join(", ", call) + ");";
        out.line(ret.equals("void") ? invoke : "return (" + ret + ") " + invoke);
        out.close("} catch (IllegalArgumentException | ClassCastException ex$) {");
        out.line("    throw ex$; // the variadic arguments do not match the layouts");
        out.line("} catch (Throwable ex$) {");
        out.indentedThrow();
        out.line("}");
        out.close("}");
        out.close("}");
    }

    // ------------------------------------------------------------ typedefs and constants

    private void typedef(Typedef t) {
        String type = switch (t.type()) {
            case Scalar s -> s.layoutType();
            case Pointer p -> "AddressLayout";
            default -> throw new IllegalStateException("typedef " + t.name() + " of " + t.type() + " is not supported");
        };
        out.blank();
        out.doc("Layout of C typedef " + SourceWriter.code(t.name()) + " (" + SourceWriter.code(t.cType()) + ").");
        out.line("public static final " + type + " " + t.name() + " = " + layout(t.type()) + ";");
    }

    private void constant(Constant c) {
        Scalar s = c.type();
        String type = s.javaType();
        String literal = switch (c.value()) {
            case IntValue i -> intLiteral(s, i.bits());
            case FloatValue f -> type.equals("float") ? Float.toString((float) f.value()) + "f" : Double.toString(f.value());
        };
        out.blank();
        out.line("private static final " + type + " " + c.name() + " = " + literal + ";");
        out.blank();
        out.returns("the C " + c.origin() + " " + SourceWriter.code(c.name()) + " of type " + SourceWriter.code(c.cType())
                + ", as clang evaluates it");
        out.open("public static " + type + " " + c.name() + "() {");
        out.line("return " + c.name() + ";");
        out.close("}");
    }

    /**
     * A Java literal with the same bits as the C value. An unsigned C value that does not fit the
     * signed Java type keeps its C spelling under a narrowing cast, e.g. {@code (int) 2147483648L}.
     */
    static String intLiteral(Scalar s, long bits) {
        String type = s.javaType();
        long size = s.size();
        long truncated = size >= 8 ? bits : (bits << (64 - 8 * size)) >> (64 - 8 * size);
        boolean wraps = s.unsigned() && truncated < 0;
        return switch (type) {
            case "long" -> wraps ? "0x" + Long.toHexString(truncated) + "L" : truncated + "L";
            case "boolean" -> truncated != 0 ? "true" : "false";
            case "int" -> wraps ? "(int) " + (truncated & 0xFFFFFFFFL) + "L" : Long.toString(truncated);
            default -> wraps ? "(" + type + ") " + (truncated & ((1L << (8 * size)) - 1))
                    : "(" + type + ") " + truncated;
        };
    }
}
