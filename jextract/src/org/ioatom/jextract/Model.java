package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.List;

/**
 * What the generator extracted from clang for one target, independent of libclang (so the
 * emitters never touch native memory). Every size, alignment, offset and value in here was
 * reported by clang for the requested target triple.
 */
final class Model {

    private Model() {
    }

    /** The C scalar kinds jextract gives a layout constant in the header class. */
    enum Prim {
        BOOL("C_BOOL"), CHAR("C_CHAR"), SHORT("C_SHORT"), INT("C_INT"), LONG("C_LONG"),
        LONG_LONG("C_LONG_LONG"), FLOAT("C_FLOAT"), DOUBLE("C_DOUBLE");

        final String layoutConstant;

        Prim(String layoutConstant) {
            this.layoutConstant = layoutConstant;
        }
    }

    /** A C type as far as Java needs to know it. size and align are the target's, in bytes. */
    sealed interface CType permits Void, Scalar, Pointer, Array, RecordRef {
        long size();

        long align();
    }

    record Void() implements CType {
        @Override
        public long size() {
            return 0;
        }

        @Override
        public long align() {
            return 1;
        }
    }

    /** An integer or floating point scalar; {@code unsigned} matters only for constant values. */
    record Scalar(Prim prim, long size, long align, boolean unsigned) implements CType {
        /** The Java carrier: integers by width (C long is int on an LLP64 target), floats by kind. */
        String javaType() {
            return switch (prim) {
                case BOOL -> "boolean";
                case FLOAT -> "float";
                case DOUBLE -> "double";
                default -> switch ((int) size) {
                    case 1 -> "byte";
                    case 2 -> "short";
                    case 4 -> "int";
                    case 8 -> "long";
                    default -> throw new IllegalStateException("no Java integer of " + size + " bytes");
                };
            };
        }

        /** The ValueLayout constant in java.lang.foreign.ValueLayout with this carrier. */
        String javaLayout() {
            return switch (javaType()) {
                case "boolean" -> "JAVA_BOOLEAN";
                case "byte" -> "JAVA_BYTE";
                case "short" -> "JAVA_SHORT";
                case "int" -> "JAVA_INT";
                case "long" -> "JAVA_LONG";
                case "float" -> "JAVA_FLOAT";
                default -> "JAVA_DOUBLE";
            };
        }

        /** The ValueLayout subtype of {@link #javaLayout()}, e.g. {@code ValueLayout.OfInt}. */
        String layoutType() {
            String t = javaType();
            return "ValueLayout.Of" + Character.toUpperCase(t.charAt(0)) + t.substring(1);
        }
    }

    record Pointer(long size, long align) implements CType {
    }

    /** A fixed-size array; count 0 stands for a flexible array member. */
    record Array(CType element, long count) implements CType {
        @Override
        public long size() {
            return element.size() * count;
        }

        @Override
        public long align() {
            return element.align();
        }
    }

    record RecordRef(RecordDecl decl) implements CType {
        @Override
        public long size() {
            return decl.size;
        }

        @Override
        public long align() {
            return decl.align;
        }
    }

    /**
     * A struct or union definition. {@code javaName} is the C tag, the typedef name of an untagged
     * record, or for an untagged record used by a named field, the field name (then it is emitted
     * as a nested class of {@code enclosing}).
     */
    static final class RecordDecl {
        final String javaName;
        final String cName;
        final boolean union;
        final long size;
        final long align;
        final RecordDecl enclosing;
        final List<Field> fields = new ArrayList<>();

        RecordDecl(String javaName, String cName, boolean union, long size, long align, RecordDecl enclosing) {
            this.javaName = javaName;
            this.cName = cName;
            this.union = union;
            this.size = size;
            this.align = align;
            this.enclosing = enclosing;
        }

        /** How Java code in the same package names this class. */
        String qualifiedName() {
            return enclosing == null ? javaName : enclosing.qualifiedName() + "." + javaName;
        }

        /** Records nested in this one because a field's type is an untagged struct or union. */
        List<RecordDecl> nested() {
            List<RecordDecl> result = new ArrayList<>();
            for (Field f : fields) {
                CType t = f.type;
                while (t instanceof Array a) {
                    t = a.element();
                }
                if (t instanceof RecordRef r && r.decl().enclosing == this) {
                    result.add(r.decl());
                }
            }
            return result;
        }
    }

    /** A named field at a byte offset reported by clang (clang_Cursor_getOffsetOfField / 8). */
    record Field(String name, CType type, long offset, String cType) {
    }

    record Param(String name, CType type, String cType) {
    }

    record Function(String name, CType result, String cResult, List<Param> params, boolean variadic) {
        /** The C prototype, for documentation. */
        String cDeclaration() {
            StringBuilder sb = new StringBuilder(cResult).append(' ').append(name).append('(');
            for (int i = 0; i < params.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append(params.get(i).cType()).append(' ').append(params.get(i).name());
            }
            if (variadic) {
                sb.append(params.isEmpty() ? "..." : ", ...");
            }
            return sb.append(')').toString();
        }
    }

    sealed interface ConstantValue permits IntValue, FloatValue {
    }

    /** The value's two's complement bits (getAsUnsigned or getAsLongLong). */
    record IntValue(long bits) implements ConstantValue {
    }

    record FloatValue(double value) implements ConstantValue {
    }

    /** An enum constant or object-like macro; {@code origin} says which, for documentation. */
    record Constant(String name, Scalar type, ConstantValue value, String cType, String origin) {
    }

    /** A typedef of a scalar or pointer type: jextract gives it a layout constant. */
    record Typedef(String name, CType type, String cType) {
    }

    /**
     * Everything to emit for one argfile and target.
     *
     * @param source the header file, as named on the command line
     * @param prims the layout of every {@link Prim} on the target, from clang
     * @param pointer the target's pointer size and alignment, from clang
     */
    record Header(String className, String packageName, String banner, String source,
                  List<Scalar> prims, Pointer pointer,
                  List<Function> functions, List<RecordDecl> records,
                  List<Constant> constants, List<Typedef> typedefs) {

        Scalar prim(Prim p) {
            return prims.stream().filter(s -> s.prim() == p).findFirst().orElseThrow();
        }
    }
}
