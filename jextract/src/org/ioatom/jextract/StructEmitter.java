package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.ioatom.jextract.Model.Array;
import org.ioatom.jextract.Model.CType;
import org.ioatom.jextract.Model.Field;
import org.ioatom.jextract.Model.Pointer;
import org.ioatom.jextract.Model.RecordDecl;
import org.ioatom.jextract.Model.RecordRef;
import org.ioatom.jextract.Model.Scalar;

/**
 * Emits one descriptor class per included struct: {@code LAYOUT}, {@code SIZE} and a
 * {@code <FIELD>_OFFSET} per field, each one expression over the ABIs ({@link PerAbi}). Where the
 * layouts differ, {@code LAYOUT_<ABI>} holds each and {@code LAYOUT} selects one.
 *
 * <p>The layout is rebuilt from clang's field offsets: explicit padding fills every gap and the
 * tail, nested records and arrays are inline members, and a field clang places below its natural
 * alignment (packed records) gets its alignment lowered, down through its members. The emitter
 * checks that what it writes adds up to clang's offsets and size.
 *
 * <p>An anonymous struct or union member (C11) is an unnamed member of the layout; its fields get
 * {@code <FIELD>_OFFSET}s of the enclosing struct, since C names them as the struct's own. A
 * flexible array member is a sequence of 0 elements.
 */
final class StructEmitter {

    private StructEmitter() {
    }

    /** @param byAbi the same struct as extracted for each ABI, in --target order */
    static String emit(String pkg, String banner, Map<String, RecordDecl> byAbi) {
        RecordDecl first = byAbi.values().iterator().next();
        String cls = JavaNames.className(first.cName);
        Map<String, String> layouts = new LinkedHashMap<>();
        Map<String, String> sizes = new LinkedHashMap<>();
        for (var e : byAbi.entrySet()) {
            RecordDecl r = e.getValue();
            if (!named(r, 0).stream().map(Field::name).toList().equals(named(first, 0).stream().map(Field::name).toList())) {
                throw new IllegalStateException(first.cType + " has other fields on " + e.getKey());
            }
            layouts.put(e.getKey(), String.join("\n", group(r, r.align)) + ".withName(\"" + r.cName + "\")");
            sizes.put(e.getKey(), Long.toString(r.size));
        }
        String layoutType = first.union ? "UnionLayout" : "StructLayout";

        SourceWriter out = new SourceWriter();
        out.line("// " + banner);
        out.blank();
        out.line("package " + pkg + ";");
        out.blank();
        out.line("import java.lang.foreign.MemoryLayout;");
        out.line("import java.lang.foreign." + layoutType + ";");
        out.line("import java.lang.foreign.ValueLayout;");
        out.blank();
        out.doc(description(byAbi));
        out.open("public final class " + cls + " {");
        out.blank();
        out.open("private " + cls + "() {");
        out.close("}");
        out.blank();
        if (PerAbi.differ(layouts)) {
            for (var e : layouts.entrySet()) {
                writeLayout(out, layoutType, "LAYOUT_" + JavaNames.upper(e.getKey()), e.getValue());
            }
            Map<String, String> names = new LinkedHashMap<>();
            layouts.keySet().forEach(abi -> names.put(abi, "LAYOUT_" + JavaNames.upper(abi)));
            out.line("public static final " + layoutType + " LAYOUT = " + PerAbi.select(names, false, first.cType) + ";");
        } else {
            writeLayout(out, layoutType, "LAYOUT", layouts.values().iterator().next());
        }
        out.line("public static final long SIZE = " + PerAbi.select(sizes, false, "sizeof(" + first.cType + ")") + ";");
        out.blank();
        List<Field> firstNamed = named(first, 0);
        for (int i = 0; i < firstNamed.size(); i++) {
            Map<String, String> offsets = new LinkedHashMap<>();
            for (var e : byAbi.entrySet()) {
                offsets.put(e.getKey(), Long.toString(named(e.getValue(), 0).get(i).offset()));
            }
            String name = firstNamed.get(i).name();
            out.line("public static final long " + JavaNames.upper(name) + "_OFFSET = "
                    + PerAbi.select(offsets, false, first.cType + "." + name) + ";");
        }
        out.close("}");
        return out.toString();
    }

    /**
     * The fields C code names directly in a record, with their offsets from its start: its named
     * fields and, in their place, those of its anonymous members (C11), recursively.
     */
    private static List<Field> named(RecordDecl r, long base) {
        List<Field> out = new ArrayList<>();
        for (Field f : r.fields) {
            if (f.name().isEmpty()) {
                out.addAll(named(((RecordRef) f.type()).decl(), base + f.offset()));
            } else {
                out.add(new Field(f.name(), f.type(), base + f.offset()));
            }
        }
        return out;
    }

    private static void writeLayout(SourceWriter out, String type, String name, String expression) {
        String[] lines = (expression + ";").split("\n");
        out.line("public static final " + type + " " + name + " = " + lines[0]);
        for (int i = 1; i < lines.length; i++) {
            out.line(lines[i]);
        }
        out.blank();
    }

    /** The class comment: the C type, its size per ABI, and for a packed record why it is smaller. */
    private static String description(Map<String, RecordDecl> byAbi) {
        RecordDecl first = byAbi.values().iterator().next();
        StringBuilder sb = new StringBuilder(SourceWriter.code(first.cType)).append(", as clang lays it out: ");
        if (byAbi.values().stream().allMatch(r -> r.size == first.size && r.align == first.align)) {
            sb.append(first.size).append(" bytes, aligned to ").append(first.align).append('.');
        } else {
            List<String> parts = new ArrayList<>();
            byAbi.forEach((abi, r) -> parts.add(r.size + " bytes aligned to " + r.align + " on " + abi));
            sb.append(String.join(", ", parts)).append('.');
        }
        byAbi.forEach((abi, r) -> {
            for (Field f : r.fields) {
                if (f.offset() % f.type().align() != 0) {
                    sb.append(" On ").append(abi).append(" the C headers pack it: ").append(f.name())
                            .append(" sits at offset ").append(f.offset()).append(", below its natural alignment of ")
                            .append(f.type().align()).append(", so the layout lowers the alignment of its members.");
                }
            }
        });
        return sb.toString();
    }

    // ------------------------------------------------------------ layout expressions

    /**
     * A record's group layout as lines of Java (members indented relative to the first line),
     * every member's alignment capped at {@code cap}.
     */
    private static List<String> group(RecordDecl r, long cap) {
        long align = Math.min(r.align, cap);
        List<List<String>> members = new ArrayList<>();
        long cursor = 0;
        long maxAlign = 1;
        long maxSize = 0;
        for (Field f : r.fields) {
            long fieldAlign = Math.min(Math.min(f.type().align(), align), f.offset() == 0 ? align : Long.lowestOneBit(f.offset()));
            if (r.union) {
                if (f.offset() != 0) {
                    throw new IllegalStateException(r.cType + "." + f.name() + " at offset " + f.offset() + " in a union");
                }
            } else {
                if (f.offset() < cursor) {
                    throw new IllegalStateException(r.cType + "." + f.name() + " overlaps the previous field");
                }
                if (f.offset() > cursor) {
                    members.add(List.of("MemoryLayout.paddingLayout(" + (f.offset() - cursor) + ")"));
                }
                cursor = f.offset() + f.type().size();
            }
            maxSize = Math.max(maxSize, f.type().size());
            maxAlign = Math.max(maxAlign, fieldAlign);
            List<String> member = new ArrayList<>(member(f.type(), fieldAlign, r.cType + "." + f.name()));
            if (!f.name().isEmpty()) { // an anonymous member stays unnamed, as in C
                member.set(member.size() - 1, member.getLast() + ".withName(\"" + f.name() + "\")");
            }
            members.add(member);
        }
        long end = r.union ? maxSize : cursor;
        if (end > r.size) {
            throw new IllegalStateException(r.cType + ": fields end at " + end + ", beyond clang's size " + r.size);
        }
        if (end < r.size) {
            // Tail padding; a union gets it as a member as long as the whole union.
            members.add(List.of("MemoryLayout.paddingLayout(" + (r.union ? r.size : r.size - end) + ")"));
        }
        if (align < maxAlign) {
            throw new IllegalStateException(r.cType + ": members more aligned than the record");
        }
        List<String> lines = new ArrayList<>();
        lines.add("MemoryLayout." + (r.union ? "union" : "struct") + "Layout(");
        for (int i = 0; i < members.size(); i++) {
            List<String> m = members.get(i);
            for (int j = 0; j < m.size(); j++) {
                String text = "        " + m.get(j);
                if (j == m.size() - 1) {
                    text += i + 1 < members.size() ? "," : ")" + (align > maxAlign ? ".withByteAlignment(" + align + ")" : "");
                }
                lines.add(text);
            }
        }
        return lines;
    }

    /** The member layout of a value of type t whose alignment must be at most align. */
    private static List<String> member(CType t, long align, String where) {
        return switch (t) {
            case Scalar s -> List.of("ValueLayout." + s.javaLayout() + realign(s.size(), Math.min(align, s.align())));
            case Pointer p -> List.of("ValueLayout.ADDRESS" + realign(p.size(), Math.min(align, p.align())));
            case Array a -> {
                // count 0: a flexible array member (or GNU zero-length array), an empty sequence
                // that marks where trailing data begins and takes no room.
                List<String> element = new ArrayList<>(member(a.element(), Math.min(align, a.align()), where));
                element.set(0, "MemoryLayout.sequenceLayout(" + a.count() + ", " + element.getFirst());
                element.set(element.size() - 1, element.getLast() + ")");
                yield element;
            }
            case RecordRef ref -> group(ref.decl(), align);
            case Model.Void v -> throw new IllegalStateException(where + ": field of type void");
        };
    }

    /** FFM value layouts are aligned to their size; say so where C aligns them less. */
    private static String realign(long size, long align) {
        return size == align ? "" : ".withByteAlignment(" + align + ")";
    }
}
