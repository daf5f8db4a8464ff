package org.ioatom.jextract;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM downcalls into the libclang C API (clang-c/Index.h): only the functions the
 * generator needs. libclang passes CXCursor, CXType, CXString and CXSourceRange by value, so
 * those structs are described here and every downcall returning one takes a SegmentAllocator.
 *
 * <p>Everything is bound to one confined arena that lives as long as the generator run.
 */
@SuppressWarnings("restricted") // the generator runs with --enable-native-access
final class LibClang {

    // --- C struct layouts from clang-c/Index.h and clang-c/CXString.h (LP64) ---
    static final StructLayout CX_STRING = MemoryLayout.structLayout(
            ADDRESS.withName("data"), JAVA_INT.withName("private_flags"), MemoryLayout.paddingLayout(4));
    static final StructLayout CX_CURSOR = MemoryLayout.structLayout(
            JAVA_INT.withName("kind"), JAVA_INT.withName("xdata"),
            MemoryLayout.sequenceLayout(3, ADDRESS).withName("data"));
    static final StructLayout CX_TYPE = MemoryLayout.structLayout(
            JAVA_INT.withName("kind"), MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(2, ADDRESS).withName("data"));
    static final StructLayout CX_SOURCE_RANGE = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(2, ADDRESS).withName("ptr_data"),
            JAVA_INT.withName("begin_int_data"), JAVA_INT.withName("end_int_data"));
    static final StructLayout CX_TOKEN = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(4, JAVA_INT).withName("int_data"), ADDRESS.withName("ptr_data"));
    static final StructLayout CX_UNSAVED_FILE = MemoryLayout.structLayout(
            ADDRESS.withName("Filename"), ADDRESS.withName("Contents"), JAVA_LONG.withName("Length"));

    // --- enum values used by the generator ---
    static final int CURSOR_STRUCT_DECL = 2;
    static final int CURSOR_UNION_DECL = 3;
    static final int CURSOR_ENUM_DECL = 5;
    static final int CURSOR_FIELD_DECL = 6;
    static final int CURSOR_ENUM_CONSTANT_DECL = 7;
    static final int CURSOR_FUNCTION_DECL = 8;
    static final int CURSOR_VAR_DECL = 9;
    static final int CURSOR_TYPEDEF_DECL = 20;
    static final int CURSOR_UNEXPOSED_ATTR = 400;
    static final int CURSOR_MACRO_DEFINITION = 501;

    static final int TU_DETAILED_PREPROCESSING_RECORD = 0x01;
    static final int TU_SKIP_FUNCTION_BODIES = 0x40;

    static final int EVAL_INT = 1;

    static final int DIAGNOSTIC_ERROR = 3;

    private static final AddressLayout C_POINTER = ADDRESS;
    private static final Linker LINKER = Linker.nativeLinker();

    final Arena arena;
    /** Restores the JVM's signal handlers after libclang calls that may replace them. */
    final SignalGuard signals;
    /** The arena typed as invokeExact expects it for by-value struct results. */
    final SegmentAllocator allocator;
    private final SymbolLookup lookup;

    final MethodHandle createIndex, disposeIndex, parseTranslationUnit2, disposeTranslationUnit,
            getNumDiagnostics, getDiagnostic, formatDiagnostic, defaultDiagnosticDisplayOptions,
            getDiagnosticSeverity, disposeDiagnostic,
            getTranslationUnitCursor, visitChildren, getCursorKind, getCursorSpelling, getCursorType,
            getCursorExtent, isCursorDefinition, cursorIsAnonymous, cursorIsAnonymousRecordDecl, cursorIsBitField,
            cursorGetOffsetOfField, cursorGetNumArguments, cursorGetArgument,
            getEnumConstantDeclValue, getEnumConstantDeclUnsignedValue, getEnumDeclIntegerType,
            getTypedefDeclUnderlyingType, cursorIsMacroFunctionLike, cursorIsMacroBuiltin,
            getTypeSpelling, getCanonicalType, getArrayElementType, getArraySize,
            getTypeDeclaration, getResultType, getArgType, isFunctionTypeVariadic,
            typeGetSizeOf, typeGetAlignOf, typeGetOffsetOf,
            cursorEvaluate, evalResultGetKind, evalResultIsUnsignedInt, evalResultGetAsUnsigned,
            evalResultGetAsLongLong, evalResultDispose,
            tokenize, getTokenSpelling, disposeTokens,
            getCString, disposeString;

    /** The visitor upcall: every call appends a copy of the child cursor to {@link #sink}. */
    private final MemorySegment visitorStub;
    private List<MemorySegment> sink;

    LibClang(Path library, Arena arena) {
        this.arena = arena;
        this.allocator = arena;
        signals = new SignalGuard(arena);
        this.lookup = SymbolLookup.libraryLookup(library, arena);

        createIndex = fn("clang_createIndex", C_POINTER, JAVA_INT, JAVA_INT);
        disposeIndex = fnVoid("clang_disposeIndex", C_POINTER);
        parseTranslationUnit2 = fn("clang_parseTranslationUnit2", JAVA_INT,
                C_POINTER, C_POINTER, C_POINTER, JAVA_INT, C_POINTER, JAVA_INT, JAVA_INT, C_POINTER);
        disposeTranslationUnit = fnVoid("clang_disposeTranslationUnit", C_POINTER);
        getNumDiagnostics = fn("clang_getNumDiagnostics", JAVA_INT, C_POINTER);
        getDiagnostic = fn("clang_getDiagnostic", C_POINTER, C_POINTER, JAVA_INT);
        formatDiagnostic = fn("clang_formatDiagnostic", CX_STRING, C_POINTER, JAVA_INT);
        defaultDiagnosticDisplayOptions = fn("clang_defaultDiagnosticDisplayOptions", JAVA_INT);
        getDiagnosticSeverity = fn("clang_getDiagnosticSeverity", JAVA_INT, C_POINTER);
        disposeDiagnostic = fnVoid("clang_disposeDiagnostic", C_POINTER);

        getTranslationUnitCursor = fn("clang_getTranslationUnitCursor", CX_CURSOR, C_POINTER);
        visitChildren = fn("clang_visitChildren", JAVA_INT, CX_CURSOR, C_POINTER, C_POINTER);
        getCursorKind = fn("clang_getCursorKind", JAVA_INT, CX_CURSOR);
        getCursorSpelling = fn("clang_getCursorSpelling", CX_STRING, CX_CURSOR);
        getCursorType = fn("clang_getCursorType", CX_TYPE, CX_CURSOR);
        getCursorExtent = fn("clang_getCursorExtent", CX_SOURCE_RANGE, CX_CURSOR);
        isCursorDefinition = fn("clang_isCursorDefinition", JAVA_INT, CX_CURSOR);
        cursorIsAnonymous = fn("clang_Cursor_isAnonymous", JAVA_INT, CX_CURSOR);
        cursorIsAnonymousRecordDecl = fn("clang_Cursor_isAnonymousRecordDecl", JAVA_INT, CX_CURSOR);
        cursorIsBitField = fn("clang_Cursor_isBitField", JAVA_INT, CX_CURSOR);
        cursorGetOffsetOfField = fn("clang_Cursor_getOffsetOfField", JAVA_LONG, CX_CURSOR);
        cursorGetNumArguments = fn("clang_Cursor_getNumArguments", JAVA_INT, CX_CURSOR);
        cursorGetArgument = fn("clang_Cursor_getArgument", CX_CURSOR, CX_CURSOR, JAVA_INT);
        getEnumConstantDeclValue = fn("clang_getEnumConstantDeclValue", JAVA_LONG, CX_CURSOR);
        getEnumConstantDeclUnsignedValue = fn("clang_getEnumConstantDeclUnsignedValue", JAVA_LONG, CX_CURSOR);
        getEnumDeclIntegerType = fn("clang_getEnumDeclIntegerType", CX_TYPE, CX_CURSOR);
        getTypedefDeclUnderlyingType = fn("clang_getTypedefDeclUnderlyingType", CX_TYPE, CX_CURSOR);
        cursorIsMacroFunctionLike = fn("clang_Cursor_isMacroFunctionLike", JAVA_INT, CX_CURSOR);
        cursorIsMacroBuiltin = fn("clang_Cursor_isMacroBuiltin", JAVA_INT, CX_CURSOR);

        getTypeSpelling = fn("clang_getTypeSpelling", CX_STRING, CX_TYPE);
        getCanonicalType = fn("clang_getCanonicalType", CX_TYPE, CX_TYPE);
        getArrayElementType = fn("clang_getArrayElementType", CX_TYPE, CX_TYPE);
        getArraySize = fn("clang_getArraySize", JAVA_LONG, CX_TYPE);
        getTypeDeclaration = fn("clang_getTypeDeclaration", CX_CURSOR, CX_TYPE);
        getResultType = fn("clang_getResultType", CX_TYPE, CX_TYPE);
        getArgType = fn("clang_getArgType", CX_TYPE, CX_TYPE, JAVA_INT);
        isFunctionTypeVariadic = fn("clang_isFunctionTypeVariadic", JAVA_INT, CX_TYPE);
        typeGetSizeOf = fn("clang_Type_getSizeOf", JAVA_LONG, CX_TYPE);
        typeGetAlignOf = fn("clang_Type_getAlignOf", JAVA_LONG, CX_TYPE);
        typeGetOffsetOf = fn("clang_Type_getOffsetOf", JAVA_LONG, CX_TYPE, C_POINTER);

        cursorEvaluate = fn("clang_Cursor_Evaluate", C_POINTER, CX_CURSOR);
        evalResultGetKind = fn("clang_EvalResult_getKind", JAVA_INT, C_POINTER);
        evalResultIsUnsignedInt = fn("clang_EvalResult_isUnsignedInt", JAVA_INT, C_POINTER);
        evalResultGetAsUnsigned = fn("clang_EvalResult_getAsUnsigned", JAVA_LONG, C_POINTER);
        evalResultGetAsLongLong = fn("clang_EvalResult_getAsLongLong", JAVA_LONG, C_POINTER);
        evalResultDispose = fnVoid("clang_EvalResult_dispose", C_POINTER);

        tokenize = fnVoid("clang_tokenize", C_POINTER, CX_SOURCE_RANGE, C_POINTER, C_POINTER);
        getTokenSpelling = fn("clang_getTokenSpelling", CX_STRING, C_POINTER, CX_TOKEN);
        disposeTokens = fnVoid("clang_disposeTokens", C_POINTER, C_POINTER, JAVA_INT);

        getCString = fn("clang_getCString", C_POINTER, CX_STRING);
        disposeString = fnVoid("clang_disposeString", CX_STRING);

        try {
            MethodHandle visit = MethodHandles.lookup().findVirtual(LibClang.class, "visit",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class));
            visitorStub = LINKER.upcallStub(visit.bindTo(this),
                    FunctionDescriptor.of(JAVA_INT, CX_CURSOR, CX_CURSOR, C_POINTER), arena);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private MethodHandle fn(String name, MemoryLayout result, MemoryLayout... args) {
        return LINKER.downcallHandle(symbol(name), FunctionDescriptor.of(result, args));
    }

    private MethodHandle fnVoid(String name, MemoryLayout... args) {
        return LINKER.downcallHandle(symbol(name), FunctionDescriptor.ofVoid(args));
    }

    private MemorySegment symbol(String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException("libclang lacks " + name));
    }

    /** CXChildVisit_Continue: libclang calls us once per direct child, never recursing for us. */
    private int visit(MemorySegment cursor, MemorySegment parent, MemorySegment clientData) {
        // The cursor argument is only valid during the upcall: keep a copy.
        sink.add(arena.allocate(CX_CURSOR).copyFrom(cursor));
        return 1;
    }

    /** The direct children of a cursor, in source order. */
    List<MemorySegment> children(MemorySegment cursor) {
        List<MemorySegment> saved = sink;
        List<MemorySegment> result = new ArrayList<>();
        sink = result;
        try {
            int unused = (int) visitChildren.invokeExact(cursor, visitorStub, MemorySegment.NULL);
            assert unused >= 0;
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            sink = saved;
        }
        return result;
    }

    /** Converts a CXString to a Java string and disposes it. */
    String toJava(MemorySegment cxString) {
        try {
            MemorySegment chars = (MemorySegment) getCString.invokeExact(cxString);
            String s = chars.equals(MemorySegment.NULL) ? "" : chars.reinterpret(Long.MAX_VALUE).getString(0);
            disposeString.invokeExact(cxString);
            return s;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
