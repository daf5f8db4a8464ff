package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.ioatom.jextract.Model.Constant;
import org.ioatom.jextract.Model.Scalar;

/**
 * Emits a constants class ({@code Linux}, {@code Errno}): one compile-time constant per
 * --include-constant, in argfile order, with the Java integer type of its C type. The class
 * named {@link PerAbi#FLAG_CLASS} also holds the ABI flag. With --names-switch the class gets
 * {@code name(int)} and its values are written in decimal (codes); otherwise in hex (flags).
 */
final class ConstantsEmitter {

    private ConstantsEmitter() {
    }

    /**
     * @param className the class to write
     * @param units the argfile's extraction per ABI, or an empty map for the flag alone
     */
    static String emit(String pkg, String banner, String className, Map<String, Model.Unit> units) {
        boolean flagClass = className.equals(PerAbi.FLAG_CLASS);
        Options.Unit options = units.isEmpty() ? null : units.values().iterator().next().options();
        boolean decimal = options != null && options.namesSwitch;
        SourceWriter out = new SourceWriter();
        out.line("// " + banner);
        out.blank();
        out.line("package " + pkg + ";");
        out.blank();
        if (flagClass) {
            out.doc("The ABI this JVM runs on" + (options == null ? "" : ", and the constants of "
                    + SourceWriter.code(options.header.toString()) + " that ioatom uses") + ", as clang evaluates them.");
        } else {
            out.doc("Constants of " + SourceWriter.code(options.header.toString()) + ", as clang evaluates them.");
        }
        out.open("public final class " + className + " {");
        out.blank();
        out.open("private " + className + "() {");
        out.close("}");
        if (flagClass) {
            out.blank();
            out.doc("True on aarch64 (os.arch {@code aarch64} or {@code arm64}); false on x86_64 and anywhere else."
                    + " Every value that differs between the two Linux ABIs is selected by this flag.");
            out.line("public static final boolean " + PerAbi.FLAG + " = isAarch64(System.getProperty(\"os.arch\"));");
        }
        if (options != null) {
            out.blank();
            Map<String, Integer> values = new TreeMap<>();
            for (int i = 0; i < options.constants.size(); i++) {
                String name = null;
                String type = null;
                Map<String, String> byAbi = new LinkedHashMap<>();
                for (var e : units.entrySet()) {
                    Constant c = e.getValue().constants().get(i);
                    if (type != null && !type.equals(c.type().javaType())) {
                        throw new IllegalStateException(c.name() + " has a different C type width on " + e.getKey());
                    }
                    name = c.name();
                    type = c.type().javaType();
                    byAbi.put(e.getKey(), literal(c.type(), c.bits(), decimal));
                }
                String value = PerAbi.select(byAbi, flagClass, name);
                out.line("public static final " + type + " " + name + " = " + value + ";");
                if (options.namesSwitch) {
                    if (PerAbi.differ(byAbi) || !type.equals("int")) {
                        throw new IllegalStateException("--names-switch needs int constants equal on every ABI: " + name);
                    }
                    values.put(name, (int) units.values().iterator().next().constants().get(i).bits());
                }
            }
            if (options.namesSwitch) {
                namesSwitch(out, values, new ArrayList<>(options.preferredNames));
            }
        }
        if (flagClass) {
            out.blank();
            out.open("private static boolean isAarch64(String arch) {");
            out.line("return \"aarch64\".equals(arch) || \"arm64\".equals(arch);");
            out.close("}");
        }
        out.close("}");
        return out.toString();
    }

    /** {@code name(int)}: one case per value, naming the preferred alias, else the first alphabetically. */
    private static void namesSwitch(SourceWriter out, Map<String, Integer> values, List<String> preferred) {
        Map<Integer, String> names = new TreeMap<>();
        for (var e : values.entrySet()) { // alphabetical, so the first name seen wins unless preferred
            String current = names.get(e.getValue());
            if (current == null || (preferred.contains(e.getKey()) && !preferred.contains(current))) {
                names.put(e.getValue(), e.getKey());
            }
        }
        out.blank();
        out.doc("{@return the symbol of a value, e.g. {@code \"" + names.values().iterator().next()
                + "\"}, or null for an unknown one} Of aliases, " + String.join(", ", preferred)
                + " win; otherwise the first alphabetically.");
        out.open("public static String name(int value) {");
        out.open("return switch (value) {");
        for (String name : names.values()) {
            out.line("case " + name + " -> \"" + name + "\";");
        }
        out.line("default -> null;");
        out.close("};");
        out.close("}");
    }

    /** A Java literal with the C value's bits at the width of its type (EPOLLET: 0x80000000). */
    static String literal(Scalar type, long bits, boolean decimal) {
        return switch (type.javaType()) {
            case "long" -> (decimal ? Long.toString(bits) : "0x" + Long.toHexString(bits)) + "L";
            case "int" -> decimal ? Integer.toString((int) bits) : "0x" + Integer.toHexString((int) bits);
            case "short" -> "(short) " + (decimal ? Short.toString((short) bits) : "0x" + Integer.toHexString((int) bits & 0xffff));
            default -> "(byte) " + (decimal ? Byte.toString((byte) bits) : "0x" + Integer.toHexString((int) bits & 0xff));
        };
    }
}
