package org.ioatom.jextract;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** One parsed translation unit: clang_parseTranslationUnit2 plus its diagnostics. */
final class TranslationUnit implements AutoCloseable {

    final LibClang clang;
    final MemorySegment handle;

    private TranslationUnit(LibClang clang, MemorySegment handle) {
        this.clang = clang;
        this.handle = handle;
    }

    /**
     * Parses {@code sourceFile} with {@code args}. When {@code contents} is not null the file is
     * not read from disk: libclang gets it as a CXUnsavedFile, which is how the synthetic macro
     * declarations are compiled without writing anything.
     */
    static TranslationUnit parse(LibClang clang, MemorySegment index, String sourceFile, String contents,
                                 List<String> args) {
        var arena = clang.arena;
        MemorySegment argv = arena.allocate(ValueLayout.ADDRESS, Math.max(1, args.size()));
        for (int i = 0; i < args.size(); i++) {
            argv.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(args.get(i)));
        }
        MemorySegment unsaved = MemorySegment.NULL;
        int unsavedCount = 0;
        if (contents != null) {
            MemorySegment bytes = arena.allocateFrom(contents);
            unsaved = arena.allocate(LibClang.CX_UNSAVED_FILE);
            unsaved.set(ValueLayout.ADDRESS, 0, arena.allocateFrom(sourceFile));
            unsaved.set(ValueLayout.ADDRESS, 8, bytes);
            unsaved.set(ValueLayout.JAVA_LONG, 16, bytes.byteSize() - 1); // without the NUL
            unsavedCount = 1;
        }
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        int options = LibClang.TU_DETAILED_PREPROCESSING_RECORD | LibClang.TU_SKIP_FUNCTION_BODIES;
        try {
            int error = (int) clang.parseTranslationUnit2.invokeExact(index, arena.allocateFrom(sourceFile),
                    argv, args.size(), unsaved, unsavedCount, options, out);
            clang.signals.restore();
            if (error != 0) {
                throw new IllegalStateException("libclang could not parse " + sourceFile + " (CXErrorCode " + error
                        + ") with arguments " + args);
            }
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
        return new TranslationUnit(clang, out.get(ValueLayout.ADDRESS, 0));
    }

    /** Formatted diagnostics of at least error severity. */
    List<String> errors() {
        List<String> result = new ArrayList<>();
        try {
            int n = (int) clang.getNumDiagnostics.invokeExact(handle);
            int display = (int) clang.defaultDiagnosticDisplayOptions.invokeExact();
            for (int i = 0; i < n; i++) {
                MemorySegment d = (MemorySegment) clang.getDiagnostic.invokeExact(handle, i);
                if ((int) clang.getDiagnosticSeverity.invokeExact(d) >= LibClang.DIAGNOSTIC_ERROR) {
                    result.add(clang.toJava((MemorySegment) clang.formatDiagnostic.invokeExact(clang.allocator, d, display)));
                }
                clang.disposeDiagnostic.invokeExact(d);
            }
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
        return result;
    }

    Cursor cursor() {
        try {
            return new Cursor(clang, (MemorySegment) clang.getTranslationUnitCursor.invokeExact(clang.allocator, handle));
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }

    @Override
    public void close() {
        try {
            clang.disposeTranslationUnit.invokeExact(handle);
            clang.signals.restore();
        } catch (Throwable t) {
            throw LibClang.rethrow(t);
        }
    }
}
