package org.ioatom.jextract;

import java.util.ArrayList;
import java.util.List;

/**
 * What the generator extracted from clang for one argfile and one target, independent of
 * libclang (so the emitters never touch native memory). Every size, alignment, offset and value
 * in here was reported by clang for that target's triple.
 */
final class Model {

    private Model() {
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

    /** An integer; {@code unsigned} matters only for constant values. */
    record Scalar(long size, long align, boolean unsigned) implements CType {
        /** The Java integer of the same width. */
        String javaType() {
            return switch ((int) size) {
                case 1 -> "byte";
                case 2 -> "short";
                case 4 -> "int";
                case 8 -> "long";
                default -> throw new IllegalStateException("no Java integer of " + size + " bytes");
            };
        }

        /** The ValueLayout constant with that carrier. */
        String javaLayout() {
            return "JAVA_" + javaType().toUpperCase(java.util.Locale.ROOT);
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
     * A struct or union definition. {@code cName} is the C tag or the typedef name of an untagged
     * record ("epoll_event", "fd_set"); {@code cType} how C spells its type ("struct epoll_event").
     */
    static final class RecordDecl {
        final String cName;
        final String cType;
        final boolean union;
        final long size;
        final long align;
        final List<Field> fields = new ArrayList<>();

        RecordDecl(String cName, String cType, boolean union, long size, long align) {
            this.cName = cName;
            this.cType = cType;
            this.union = union;
            this.size = size;
            this.align = align;
        }
    }

    /** A named field at a byte offset reported by clang (clang_Cursor_getOffsetOfField / 8). */
    record Field(String name, CType type, long offset) {
    }

    record Param(String name, CType type, String cType) {
    }

    /** A C function's prototype; {@code variadic} only for documentation once its tail is fixed. */
    record Function(String name, CType result, String cResult, List<Param> params, boolean variadic) {
        /** The C prototype with the given parameter names, for documentation. */
        String cDeclaration() {
            StringBuilder sb = new StringBuilder(cResult).append(cResult.endsWith("*") ? "" : " ").append(name).append('(');
            for (int i = 0; i < params.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                String type = params.get(i).cType();
                sb.append(type).append(type.endsWith("*") ? "" : " ").append(params.get(i).name());
            }
            return sb.append(')').toString();
        }
    }

    /** A system call: its number on the target and the prototype of the C library's wrapper. */
    record Syscall(String name, long number, Function prototype, boolean raw) {
    }

    /** An enum constant or object-like macro with its value's two's complement bits. */
    record Constant(String name, Scalar type, long bits) {
    }

    /** Everything one argfile yields for one target; lists are in argfile order. */
    record Unit(Options.Unit options, List<Constant> constants, List<RecordDecl> records,
                List<Function> functions, List<Syscall> syscalls) {
    }
}
