package org.ioatom.jextract;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** A CXType (held in the run's arena) with the queries the generator makes of it. */
record ClangType(LibClang clang, MemorySegment segment) {

    // CXTypeKind values from clang-c/Index.h
    static final int INVALID = 0, VOID = 2, BOOL = 3, CHAR_U = 4, UCHAR = 5, CHAR16 = 6, CHAR32 = 7,
            USHORT = 8, UINT = 9, ULONG = 10, ULONGLONG = 11, UINT128 = 12, CHAR_S = 13, SCHAR = 14,
            WCHAR = 15, SHORT = 16, INT = 17, LONG = 18, LONGLONG = 19, INT128 = 20, FLOAT = 21,
            DOUBLE = 22, LONGDOUBLE = 23, POINTER = 101, RECORD = 105, ENUM = 106, TYPEDEF = 107,
            FUNCTION_NO_PROTO = 110, FUNCTION_PROTO = 111, CONSTANT_ARRAY = 112, INCOMPLETE_ARRAY = 114,
            ELABORATED = 119;

    int kind() {
        return segment.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
    }

    String spelling() {
        try {
            return clang.toJava((MemorySegment) clang.getTypeSpelling.invokeExact(clang.allocator, segment));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    ClangType canonical() {
        return derived(clang.getCanonicalType);
    }

    ClangType arrayElement() {
        return derived(clang.getArrayElementType);
    }

    ClangType result() {
        return derived(clang.getResultType);
    }

    private ClangType derived(MethodHandle getter) {
        try {
            return new ClangType(clang, (MemorySegment) getter.invokeExact(clang.allocator, segment));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    ClangType argument(int index) {
        try {
            return new ClangType(clang, (MemorySegment) clang.getArgType.invokeExact(clang.allocator, segment, index));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    boolean isVariadic() {
        return intQuery(clang.isFunctionTypeVariadic) != 0;
    }

    private int intQuery(MethodHandle query) {
        try {
            return (int) query.invokeExact(segment);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    long arraySize() {
        return longQuery(clang.getArraySize);
    }

    /** Size in bytes as the target ABI lays it out (negative: incomplete or dependent). */
    long size() {
        return longQuery(clang.typeGetSizeOf);
    }

    /** Alignment in bytes as the target ABI lays it out. */
    long alignment() {
        return longQuery(clang.typeGetAlignOf);
    }

    /**
     * Offset in bits of the field {@code name} of this record type, also when the field belongs
     * to an anonymous member (clang resolves it through the member); negative if there is none.
     */
    long offsetOfBits(String name) {
        try (java.lang.foreign.Arena local = java.lang.foreign.Arena.ofConfined()) {
            return (long) clang.typeGetOffsetOf.invokeExact(segment, local.allocateFrom(name));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    private long longQuery(MethodHandle query) {
        try {
            return (long) query.invokeExact(segment);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    Cursor declaration() {
        try {
            return new Cursor(clang, (MemorySegment) clang.getTypeDeclaration.invokeExact(clang.allocator, segment));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    boolean isUnsignedInteger() {
        int k = kind();
        return k == BOOL || k == CHAR_U || k == UCHAR || k == CHAR16 || k == CHAR32 || k == USHORT
                || k == UINT || k == ULONG || k == ULONGLONG || k == UINT128;
    }

    @Override
    public String toString() {
        return spelling();
    }
}
