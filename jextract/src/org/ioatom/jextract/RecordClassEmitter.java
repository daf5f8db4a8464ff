package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.List;

import org.ioatom.jextract.Model.Array;
import org.ioatom.jextract.Model.CType;
import org.ioatom.jextract.Model.Field;
import org.ioatom.jextract.Model.Header;
import org.ioatom.jextract.Model.Pointer;
import org.ioatom.jextract.Model.RecordDecl;
import org.ioatom.jextract.Model.RecordRef;
import org.ioatom.jextract.Model.Scalar;

/**
 * Emits one class per struct or union, in jextract 22's API shape: layout(), sizeof(), and per
 * field NAME$layout(), NAME$offset(), a getter and a setter.
 *
 * <p>The group layout is rebuilt from clang's field offsets: explicit padding fills every gap and
 * the tail, and a field clang places below its natural alignment (packed records) gets its
 * layout's alignment lowered to match. The emitter checks that the layout it writes adds up to
 * clang's offsets and size, so a mismatch fails generation rather than a program.
 */
final class RecordClassEmitter {

    private final Header header;
    private final String lib;
    private boolean usesAlign;

    RecordClassEmitter(Header header) {
        this.header = header;
        this.lib = header.className();
    }

    /** Whether some record needed the header class's align() helper. */
    boolean usesAlign() {
        return usesAlign;
    }

    String emit(RecordDecl r) {
        SourceWriter out = new SourceWriter();
        out.line("// " + header.banner());
        out.blank();
        out.line("package " + header.packageName() + ";");
        out.blank();
        out.line("import java.lang.foreign.*;");
        out.line("import java.util.Objects;");
        out.line("import java.util.function.Consumer;");
        out.blank();
        out.line("import static java.lang.foreign.MemoryLayout.PathElement.groupElement;");
        out.blank();
        body(out, r, false);
        return out.toString();
    }

    private void body(SourceWriter out, RecordDecl r, boolean nested) {
        String name = r.javaName;
        out.line("/**");
        out.line(" * " + SourceWriter.code(r.cName) + ": " + r.size + " bytes, aligned to " + r.align
                + ", as clang lays it out for the target.");
        out.line(" */");
        if (!nested) {
            out.line("@SuppressWarnings(\"restricted\")");
        }
        out.open("public " + (nested ? "static " : "") + "class " + name + " {");
        out.blank();
        out.open(name + "() {");
        out.line("// static members only; not private so that a typedef's class could extend this one");
        out.close("}");
        out.blank();
        groupLayout(out, r);
        out.blank();
        out.returns("the layout of " + SourceWriter.code(r.cName));
        out.open("public static final GroupLayout layout() {");
        out.line("return $LAYOUT;");
        out.close("}");
        for (Field f : r.fields) {
            field(out, r, f);
        }
        helpers(out, r);
        for (RecordDecl inner : r.nested()) {
            out.blank();
            body(out, inner, true);
        }
        out.close("}");
    }

    // ------------------------------------------------------------ layout

    /** The alignment a field has in C: its type's, unless the record or the offset forces less. */
    private static long fieldAlign(RecordDecl r, Field f) {
        long a = Math.min(f.type().align(), r.align);
        if (f.offset() != 0) {
            a = Math.min(a, Long.lowestOneBit(f.offset()));
        }
        return a;
    }

    /** The member layout of a value of type t whose alignment must be at most align. */
    private String memberLayout(CType t, long align) {
        return switch (t) {
            case Scalar s -> lib + "." + s.prim().layoutConstant + (align < s.align() ? ".withByteAlignment(" + align + ")" : "");
            case Pointer p -> lib + ".C_POINTER" + (align < p.align() ? ".withByteAlignment(" + align + ")" : "");
            case Array a -> "MemoryLayout.sequenceLayout(" + a.count() + ", " + memberLayout(a.element(), Math.min(align, a.align())) + ")";
            case RecordRef ref -> {
                String layout = ref.decl().qualifiedName() + ".layout()";
                if (align < ref.decl().align) {
                    usesAlign = true;
                    yield lib + ".align(" + layout + ", " + align + ")";
                }
                yield layout;
            }
            case Model.Void v -> throw new IllegalStateException("field of type void");
        };
    }

    /** Writes the $LAYOUT field: members and padding in offset order, as clang placed them. */
    private void groupLayout(SourceWriter out, RecordDecl r) {
        List<String> members = new ArrayList<>();
        long cursor = 0;
        long maxAlign = 1;
        long maxSize = 0;
        for (Field f : r.fields) {
            long align = fieldAlign(r, f);
            if (r.union) {
                if (f.offset() != 0) {
                    throw new IllegalStateException(r.cName + "." + f.name() + " at offset " + f.offset() + " in a union");
                }
            } else {
                if (f.offset() < cursor) {
                    throw new IllegalStateException(r.cName + "." + f.name() + " overlaps the previous field");
                }
                if (f.offset() > cursor) {
                    members.add("MemoryLayout.paddingLayout(" + (f.offset() - cursor) + ")");
                }
                cursor = f.offset() + f.type().size();
            }
            maxSize = Math.max(maxSize, f.type().size());
            maxAlign = Math.max(maxAlign, align);
            members.add(memberLayout(f.type(), align) + ".withName(\"" + f.name() + "\")");
        }
        long end = r.union ? maxSize : cursor;
        if (end > r.size) {
            throw new IllegalStateException(r.cName + ": fields end at " + end + ", beyond clang's size " + r.size);
        }
        if (end < r.size) {
            // Trailing padding; a union gets it as a member as long as the whole union.
            members.add("MemoryLayout.paddingLayout(" + (r.union ? r.size : r.size - end) + ")");
        }
        out.line("private static final GroupLayout $LAYOUT = MemoryLayout." + (r.union ? "union" : "struct") + "Layout(");
        for (int i = 0; i < members.size(); i++) {
            out.line("        " + members.get(i) + (i + 1 < members.size() ? "," : ""));
        }
        StringBuilder suffix = new StringBuilder(")");
        if (r.enclosing == null) {
            suffix.append(".withName(\"").append(r.javaName).append("\")");
        }
        if (r.align > maxAlign) {
            suffix.append(".withByteAlignment(").append(r.align).append(")");
        } else if (r.align < maxAlign) {
            throw new IllegalStateException(r.cName + ": members more aligned than the record");
        }
        out.line(suffix + ";");
    }

    // ------------------------------------------------------------ fields

    private void field(SourceWriter out, RecordDecl r, Field f) {
        String n = f.name();
        String id = JavaNames.identifier(n);
        String doc = SourceWriter.code(f.cType() + " " + n);
        String layoutType = switch (f.type()) {
            case Scalar s -> s.layoutType();
            case Pointer p -> "AddressLayout";
            case Array a -> "SequenceLayout";
            default -> "GroupLayout";
        };
        out.blank();
        out.line("private static final " + layoutType + " " + n + "$LAYOUT = (" + layoutType + ") $LAYOUT.select(groupElement(\"" + n + "\"));");
        out.blank();
        out.returns("the layout of field " + doc);
        out.open("public static final " + layoutType + " " + n + "$layout() {");
        out.line("return " + n + "$LAYOUT;");
        out.close("}");
        out.blank();
        out.line("private static final long " + n + "$OFFSET = " + f.offset() + ";");
        out.blank();
        out.returns("the offset of field " + doc + " in bytes, from clang");
        out.open("public static final long " + n + "$offset() {");
        out.line("return " + n + "$OFFSET;");
        out.close("}");
        switch (f.type()) {
            case Scalar s -> scalarAccessors(out, n, id, s.javaType(), doc);
            case Pointer p -> scalarAccessors(out, n, id, "MemorySegment", doc);
            case Array a -> {
                sliceAccessors(out, n, id, doc);
                arrayAccessors(out, n, id, a, doc);
            }
            default -> sliceAccessors(out, n, id, doc);
        }
    }

    private static void scalarAccessors(SourceWriter out, String n, String id, String javaType, String doc) {
        out.blank();
        out.javadoc("Getter for field " + doc + ".", List.of("struct the struct"), "the field's value");
        out.open("public static " + javaType + " " + id + "(MemorySegment struct) {");
        out.line("return struct.get(" + n + "$LAYOUT, " + n + "$OFFSET);");
        out.close("}");
        out.blank();
        out.javadoc("Setter for field " + doc + ".", List.of("struct the struct", "fieldValue the new value"), null);
        out.open("public static void " + id + "(MemorySegment struct, " + javaType + " fieldValue) {");
        out.line("struct.set(" + n + "$LAYOUT, " + n + "$OFFSET, fieldValue);");
        out.close("}");
    }

    private static void sliceAccessors(SourceWriter out, String n, String id, String doc) {
        out.blank();
        out.javadoc("Getter for field " + doc + ".", List.of("struct the struct"), "a slice of the struct, not a copy");
        out.open("public static MemorySegment " + id + "(MemorySegment struct) {");
        out.line("return struct.asSlice(" + n + "$OFFSET, " + n + "$LAYOUT.byteSize());");
        out.close("}");
        out.blank();
        out.javadoc("Setter for field " + doc + ": copies the field's size in bytes.", List.of("struct the struct", "fieldValue the bytes to copy"), null);
        out.open("public static void " + id + "(MemorySegment struct, MemorySegment fieldValue) {");
        out.line("MemorySegment.copy(fieldValue, 0L, struct, " + n + "$OFFSET, " + n + "$LAYOUT.byteSize());");
        out.close("}");
    }

    /** Element access by index for arrays; strides come from clang's element sizes. */
    private static void arrayAccessors(SourceWriter out, String n, String id, Array a, String doc) {
        List<Long> dims = new ArrayList<>();
        CType leaf = a;
        while (leaf instanceof Array inner) {
            dims.add(inner.count());
            leaf = inner.element();
        }
        List<String> dimText = dims.stream().map(d -> d + "L").toList();
        out.blank();
        out.line("private static final long[] " + n + "$DIMS = { " + String.join(", ", dimText) + " };");
        out.blank();
        out.returns("the dimensions of array field " + doc);
        out.open("public static long[] " + n + "$dimensions() {");
        out.line("return " + n + "$DIMS.clone();");
        out.close("}");

        List<String> params = new ArrayList<>();
        StringBuilder offset = new StringBuilder(n + "$OFFSET");
        long stride = leaf.size();
        for (int i = dims.size() - 1; i >= 0; i--) {
            params.add(0, "long index" + i);
            offset.append(" + Objects.checkIndex(index").append(i).append(", ").append(dims.get(i)).append("L) * ")
                    .append(stride).append("L");
            stride *= dims.get(i);
        }
        String indexParams = String.join(", ", params);
        List<String> indexDocs = new ArrayList<>();
        indexDocs.add("struct the struct");
        for (int i = 0; i < dims.size(); i++) {
            indexDocs.add("index" + i + " index in dimension " + i + " (of " + dims.get(i) + ")");
        }
        String elementLayoutType = switch (leaf) {
            case Scalar s -> s.layoutType();
            case Pointer p -> "AddressLayout";
            default -> null;
        };
        if (elementLayoutType == null) {
            out.blank();
            out.javadoc("Getter for one element of array field " + doc + ".", indexDocs, "a slice of the struct, not a copy");
            out.open("public static MemorySegment " + id + "(MemorySegment struct, " + indexParams + ") {");
            out.line("return struct.asSlice(" + offset + ", " + leaf.size() + "L);");
            out.close("}");
            return;
        }
        String javaType = leaf instanceof Scalar s ? s.javaType() : "MemorySegment";
        String select = "MemoryLayout.PathElement.sequenceElement()";
        String path = String.join(", ", java.util.Collections.nCopies(dims.size(), select));
        out.blank();
        out.line("private static final " + elementLayoutType + " " + n + "$ELEMENT = (" + elementLayoutType + ") "
                + n + "$LAYOUT.select(" + path + ");");
        out.blank();
        out.javadoc("Getter for one element of array field " + doc + ".", indexDocs, "the element's value");
        out.open("public static " + javaType + " " + id + "(MemorySegment struct, " + indexParams + ") {");
        out.line("return struct.get(" + n + "$ELEMENT, " + offset + ");");
        out.close("}");
        out.blank();
        List<String> setterDocs = new ArrayList<>(indexDocs);
        setterDocs.add("fieldValue the new value");
        out.javadoc("Setter for one element of array field " + doc + ".", setterDocs, null);
        out.open("public static void " + id + "(MemorySegment struct, " + indexParams + ", " + javaType + " fieldValue) {");
        out.line("struct.set(" + n + "$ELEMENT, " + offset + ", fieldValue);");
        out.close("}");
    }

    // ------------------------------------------------------------ helpers

    private static void helpers(SourceWriter out, RecordDecl r) {
        out.blank();
        out.line("/**");
        out.line(" * The element at index in an array of " + SourceWriter.code(r.cName) + ".");
        out.line(" *");
        out.line(" * @param array the array");
        out.line(" * @param index the element's index");
        out.line(" * @return a slice of the array");
        out.line(" */");
        out.open("public static MemorySegment asSlice(MemorySegment array, long index) {");
        out.line("return array.asSlice(layout().byteSize() * index, layout().byteSize());");
        out.close("}");
        out.blank();
        out.returns("the size of " + SourceWriter.code(r.cName) + " in bytes: " + r.size);
        out.open("public static long sizeof() {");
        out.line("return layout().byteSize();");
        out.close("}");
        out.blank();
        out.line("/**");
        out.line(" * Allocates one " + SourceWriter.code(r.cName) + ".");
        out.line(" *");
        out.line(" * @param allocator where to allocate");
        out.line(" * @return the new segment");
        out.line(" */");
        out.open("public static MemorySegment allocate(SegmentAllocator allocator) {");
        out.line("return allocator.allocate(layout());");
        out.close("}");
        out.blank();
        out.line("/**");
        out.line(" * Allocates an array of " + SourceWriter.code(r.cName) + ".");
        out.line(" *");
        out.line(" * @param elementCount how many elements");
        out.line(" * @param allocator where to allocate");
        out.line(" * @return the new segment");
        out.line(" */");
        out.open("public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {");
        out.line("return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));");
        out.close("}");
        out.blank();
        out.line("/**");
        out.line(" * Gives a native address the size of one " + SourceWriter.code(r.cName) + ".");
        out.line(" *");
        out.line(" * @param addr the address");
        out.line(" * @param arena the arena the result belongs to");
        out.line(" * @param cleanup what to run when the arena closes, or null");
        out.line(" * @return the resized segment");
        out.line(" */");
        out.open("public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {");
        out.line("return reinterpret(addr, 1, arena, cleanup);");
        out.close("}");
        out.blank();
        out.line("/**");
        out.line(" * Gives a native address the size of an array of " + SourceWriter.code(r.cName) + ".");
        out.line(" *");
        out.line(" * @param addr the address");
        out.line(" * @param elementCount how many elements");
        out.line(" * @param arena the arena the result belongs to");
        out.line(" * @param cleanup what to run when the arena closes, or null");
        out.line(" * @return the resized segment");
        out.line(" */");
        out.open("public static MemorySegment reinterpret(MemorySegment addr, long elementCount, Arena arena, Consumer<MemorySegment> cleanup) {");
        out.line("return addr.reinterpret(layout().byteSize() * elementCount, arena, cleanup);");
        out.close("}");
    }
}
