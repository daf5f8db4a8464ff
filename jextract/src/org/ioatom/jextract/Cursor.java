package org.ioatom.jextract;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/** A CXCursor (held in the run's arena) with the few queries the generator makes of it. */
@SuppressWarnings("restricted")
record Cursor(LibClang clang, MemorySegment segment) {

    int kind() {
        try {
            return (int) clang.getCursorKind.invokeExact(segment);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    String spelling() {
        try {
            return clang.toJava((MemorySegment) clang.getCursorSpelling.invokeExact(clang.allocator, segment));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    ClangType type() {
        return type(clang.getCursorType);
    }

    /** For an enum declaration: the integer type its constants have. */
    ClangType enumIntegerType() {
        return type(clang.getEnumDeclIntegerType);
    }

    /** For a typedef declaration: the type it names. */
    ClangType typedefUnderlyingType() {
        return type(clang.getTypedefDeclUnderlyingType);
    }

    private ClangType type(MethodHandle getter) {
        try {
            return new ClangType(clang, (MemorySegment) getter.invokeExact(clang.allocator, segment));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    List<Cursor> children() {
        return clang.children(segment).stream().map(c -> new Cursor(clang, c)).toList();
    }

    boolean isDefinition() {
        return flag(clang.isCursorDefinition);
    }

    /**
     * True for a struct, union or enum declared without a tag. clang_Cursor_isAnonymous is false
     * for {@code typedef struct { ... } fd_set;} (the typedef names it for linkage), but its
     * spelling is empty.
     */
    boolean isUnnamed() {
        return flag(clang.cursorIsAnonymous) || spelling().isEmpty();
    }

    /** True for a C11 anonymous member: an untagged struct or union that declares no field name. */
    boolean isAnonymousMember() {
        return flag(clang.cursorIsAnonymousRecordDecl);
    }

    boolean isBitField() {
        return flag(clang.cursorIsBitField);
    }

    boolean isFunctionLikeMacro() {
        return flag(clang.cursorIsMacroFunctionLike);
    }

    boolean isBuiltinMacro() {
        return flag(clang.cursorIsMacroBuiltin);
    }

    private boolean flag(MethodHandle query) {
        try {
            return (int) query.invokeExact(segment) != 0;
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    /** For a field: its offset in bits from the start of the innermost enclosing record. */
    long fieldOffsetBits() {
        try {
            return (long) clang.cursorGetOffsetOfField.invokeExact(segment);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    /** For a function declaration: its parameter cursors (names come from these). */
    List<Cursor> arguments() {
        try {
            int n = (int) clang.cursorGetNumArguments.invokeExact(segment);
            Cursor[] args = new Cursor[Math.max(n, 0)];
            for (int i = 0; i < args.length; i++) {
                args[i] = new Cursor(clang, (MemorySegment) clang.cursorGetArgument.invokeExact(clang.allocator, segment, i));
            }
            return List.of(args);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    /** For an enum constant: its value, as a signed or unsigned 64-bit pattern. */
    long enumValue(boolean unsigned) {
        try {
            return unsigned
                    ? (long) clang.getEnumConstantDeclUnsignedValue.invokeExact(segment)
                    : (long) clang.getEnumConstantDeclValue.invokeExact(segment);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    /** The spellings of the tokens this cursor covers (used to recognise unexposed attributes). */
    List<String> tokens(MemorySegment translationUnit) {
        try {
            MemorySegment range = (MemorySegment) clang.getCursorExtent.invokeExact(clang.allocator, segment);
            MemorySegment tokensOut = clang.arena.allocate(ValueLayout.ADDRESS);
            MemorySegment countOut = clang.arena.allocate(ValueLayout.JAVA_INT);
            clang.tokenize.invokeExact(translationUnit, range, tokensOut, countOut);
            int count = countOut.get(ValueLayout.JAVA_INT, 0);
            MemorySegment tokens = tokensOut.get(ValueLayout.ADDRESS, 0)
                    .reinterpret(LibClang.CX_TOKEN.byteSize() * count);
            String[] result = new String[count];
            for (int i = 0; i < count; i++) {
                MemorySegment token = tokens.asSlice(i * LibClang.CX_TOKEN.byteSize(), LibClang.CX_TOKEN);
                result[i] = clang.toJava((MemorySegment) clang.getTokenSpelling.invokeExact(clang.allocator, translationUnit, token));
            }
            if (count > 0) {
                clang.disposeTokens.invokeExact(translationUnit, tokensOut.get(ValueLayout.ADDRESS, 0), count);
            }
            return List.of(result);
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    /** clang_Cursor_Evaluate: the integer value of a variable's initializer, or null. */
    Long evaluateInteger() {
        try {
            MemorySegment result = (MemorySegment) clang.cursorEvaluate.invokeExact(segment);
            if (result.equals(MemorySegment.NULL)) {
                return null;
            }
            try {
                if ((int) clang.evalResultGetKind.invokeExact(result) != LibClang.EVAL_INT) {
                    return null;
                }
                boolean unsigned = (int) clang.evalResultIsUnsignedInt.invokeExact(result) != 0;
                return unsigned
                        ? (long) clang.evalResultGetAsUnsigned.invokeExact(result)
                        : (long) clang.evalResultGetAsLongLong.invokeExact(result);
            } finally {
                clang.evalResultDispose.invokeExact(result);
            }
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    @Override
    public String toString() {
        return "cursor(kind " + kind() + ", " + spelling() + ")";
    }
}
