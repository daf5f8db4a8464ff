package org.ioatom.jextract;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.ioatom.jextract.Model.Array;
import org.ioatom.jextract.Model.CType;
import org.ioatom.jextract.Model.Constant;
import org.ioatom.jextract.Model.Field;
import org.ioatom.jextract.Model.Function;
import org.ioatom.jextract.Model.Param;
import org.ioatom.jextract.Model.Pointer;
import org.ioatom.jextract.Model.RecordDecl;
import org.ioatom.jextract.Model.RecordRef;
import org.ioatom.jextract.Model.Scalar;
import org.ioatom.jextract.Model.Syscall;

/**
 * Walks the translation unit of one argfile's header for one target and builds the {@link Model}
 * of the symbols it names. Anything named but not found, or found but not representable, is an
 * error: a binding that silently goes missing would only show up at run time.
 */
final class Extractor {

    private static final String MACRO_PREFIX = "ioatom_macro_";

    /**
     * glibc declares these variadic, but the system call takes fixed arguments: the wrapper
     * passes the variadic tail as these {@code long} parameters (the kernel reads full registers).
     */
    private static final Map<String, List<String>> VARIADIC_TAILS = Map.of(
            "fcntl", List.of("arg"),
            "prctl", List.of("arg2", "arg3", "arg4", "arg5"));

    private final LibClang clang;
    private final MemorySegment index;
    private final Options.Unit unit;
    private final String triple;
    private final List<String> clangArgs;
    private final List<String> problems = new ArrayList<>();

    // Declarations found at file scope in the header's translation unit, by name.
    private final Map<String, Cursor> functions = new HashMap<>();
    private final Map<String, Cursor> records = new HashMap<>();
    private final Map<String, Cursor> typedefs = new HashMap<>();
    private final Map<String, Cursor> enumConstants = new HashMap<>();
    private final Map<String, Cursor> enumOfConstant = new HashMap<>();
    private final Set<String> macros = new TreeSet<>();

    /** Records already converted, keyed by clang's canonical type spelling ("struct pollfd", "fd_set"). */
    private final Map<String, RecordDecl> recordsByType = new HashMap<>();
    private TranslationUnit translationUnit;

    Extractor(LibClang clang, MemorySegment index, Options.Unit unit, String triple, List<String> clangArgs) {
        this.clang = clang;
        this.index = index;
        this.unit = unit;
        this.triple = triple;
        this.clangArgs = clangArgs;
    }

    Model.Unit extract() {
        String header = unit.header.toAbsolutePath().normalize().toString();
        translationUnit = TranslationUnit.parse(clang, index, header, null, clangArgs);
        List<String> errors = translationUnit.errors();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("clang reported errors in " + header + " for " + triple + ":\n  "
                    + String.join("\n  ", errors));
        }
        collect(translationUnit.cursor());

        List<RecordDecl> recs = new ArrayList<>();
        for (String name : unit.structs) {
            RecordDecl r = record(name);
            if (r != null) {
                recs.add(r);
            }
        }
        List<Function> fns = new ArrayList<>();
        for (String name : unit.functions) {
            Function f = function(name);
            if (f != null && f.variadic()) {
                problems.add(name + " is variadic: not supported by --include-function");
            }
            fns.add(f);
        }
        List<Function> prototypes = new ArrayList<>();
        for (String libcName : unit.syscalls.values()) {
            prototypes.add(function(libcName));
        }

        // Enum constants straight from the AST; macros (SYS_* too) through a second translation unit.
        Map<String, Constant> constants = new HashMap<>();
        List<String> wantedMacros = new ArrayList<>();
        for (String name : unit.constants) {
            if (enumConstants.containsKey(name)) {
                constants.put(name, enumConstant(name));
            } else if (macros.contains(name)) {
                wantedMacros.add(name);
            } else {
                problems.add("no enum constant or object-like macro " + name);
            }
        }
        for (String name : unit.syscalls.keySet()) {
            if (macros.contains("SYS_" + name)) {
                wantedMacros.add("SYS_" + name);
            } else {
                problems.add("SYS_" + name + " is not defined for " + triple
                        + " (<sys/syscall.h>): this ABI has no system call " + name);
            }
        }
        evaluateMacros(header, wantedMacros, constants);
        translationUnit.close();

        List<Syscall> syscalls = new ArrayList<>();
        int i = 0;
        for (String name : unit.syscalls.keySet()) {
            Constant number = constants.get("SYS_" + name);
            Function prototype = prototypes.get(i++);
            if (number != null && prototype != null) {
                syscalls.add(new Syscall(name, number.bits(), prototype, unit.rawSyscalls.contains(name)));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException("cannot generate from " + unit.argfile + " for " + triple + ":\n  "
                    + String.join("\n  ", problems));
        }
        List<Constant> ordered = unit.constants.stream().map(constants::get).toList();
        return new Model.Unit(unit, ordered, recs, fns, syscalls);
    }

    /** Indexes the file-scope declarations; the first declaration of a name wins, as in C. */
    private void collect(Cursor root) {
        for (Cursor c : root.children()) {
            switch (c.kind()) {
                case LibClang.CURSOR_FUNCTION_DECL -> functions.putIfAbsent(c.spelling(), c);
                case LibClang.CURSOR_STRUCT_DECL, LibClang.CURSOR_UNION_DECL -> {
                    if (c.isDefinition() && !c.isUnnamed()) {
                        records.putIfAbsent(c.spelling(), c);
                    }
                }
                case LibClang.CURSOR_TYPEDEF_DECL -> typedefs.putIfAbsent(c.spelling(), c);
                case LibClang.CURSOR_ENUM_DECL -> {
                    for (Cursor k : c.children()) {
                        if (k.kind() == LibClang.CURSOR_ENUM_CONSTANT_DECL) {
                            enumConstants.putIfAbsent(k.spelling(), k);
                            enumOfConstant.putIfAbsent(k.spelling(), c);
                        }
                    }
                }
                case LibClang.CURSOR_MACRO_DEFINITION -> {
                    if (!c.isFunctionLikeMacro() && !c.isBuiltinMacro()) {
                        macros.add(c.spelling());
                    }
                }
                default -> {
                }
            }
        }
    }

    // ---------------------------------------------------------------- functions

    /** A function's prototype; a variadic one listed in {@link #VARIADIC_TAILS} gets its fixed tail. */
    private Function function(String name) {
        Cursor c = functions.get(name);
        if (c == null) {
            problems.add("no function " + name);
            return null;
        }
        ClangType type = c.type();
        List<Cursor> args = c.arguments();
        List<Param> params = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            ClangType t = type.argument(i);
            params.add(new Param(JavaNames.parameter(args.get(i).spelling(), i), parameterType(t, name), t.spelling()));
        }
        boolean variadic = type.isVariadic();
        if (variadic && VARIADIC_TAILS.containsKey(name)) {
            for (String extra : VARIADIC_TAILS.get(name)) {
                params.add(new Param(extra, new Scalar(8, 8, false), "long"));
            }
        } else if (variadic && !unit.functions.contains(name)) {
            problems.add(name + " is variadic: give its system call's fixed arguments in Extractor.VARIADIC_TAILS");
        }
        ClangType result = type.result();
        return new Function(name, type(result, name), result.spelling(), params, variadic);
    }

    /**
     * A parameter's type. Arrays decay to pointers; a transparent union (glibc's __SOCKADDR_ARG
     * under _GNU_SOURCE) is passed exactly like its first member, so it is bound as that member.
     */
    private CType parameterType(ClangType t, String where) {
        ClangType canonical = t.canonical();
        if (canonical.kind() == ClangType.CONSTANT_ARRAY || canonical.kind() == ClangType.INCOMPLETE_ARRAY) {
            return new Pointer(8, 8);
        }
        if (canonical.kind() == ClangType.RECORD && isTransparentUnion(canonical.declaration())) {
            for (Cursor member : canonical.declaration().children()) {
                if (member.kind() == LibClang.CURSOR_FIELD_DECL) {
                    return type(member.type(), where);
                }
            }
        }
        if (canonical.kind() == ClangType.RECORD) {
            problems.add(where + " takes " + t.spelling() + " by value: not supported");
            return new Model.Void();
        }
        return type(t, where);
    }

    /** libclang does not expose transparent_union: look for it among the attribute's tokens. */
    private boolean isTransparentUnion(Cursor decl) {
        if (decl.kind() != LibClang.CURSOR_UNION_DECL) {
            return false;
        }
        for (Cursor child : decl.children()) {
            if (child.kind() == LibClang.CURSOR_UNEXPOSED_ATTR) {
                for (String token : child.tokens(translationUnit.handle)) {
                    if (token.equals("transparent_union") || token.equals("__transparent_union__")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- types

    /** Converts a clang type to the model; {@code where} names the declaration for error messages. */
    private CType type(ClangType t, String where) {
        ClangType c = t.canonical();
        switch (c.kind()) {
            case ClangType.VOID:
                return new Model.Void();
            case ClangType.POINTER:
                return new Pointer(c.size(), c.alignment());
            case ClangType.ENUM:
                return type(c.declaration().enumIntegerType(), where);
            case ClangType.CONSTANT_ARRAY:
                return new Array(type(c.arrayElement(), where), c.arraySize());
            case ClangType.INCOMPLETE_ARRAY:
                return new Array(type(c.arrayElement(), where), 0);
            case ClangType.RECORD: {
                RecordDecl built = recordsByType.get(c.spelling());
                if (built == null) {
                    built = recordDecl(c.declaration(), c.spelling());
                }
                return new RecordRef(built);
            }
            default: {
                if (!isInteger(c.kind())) {
                    problems.add(where + ": C type " + t.spelling() + " is not an integer, pointer, array or record");
                    return new Model.Void();
                }
                return new Scalar(c.size(), c.alignment(), c.isUnsignedInteger());
            }
        }
    }

    private static boolean isInteger(int kind) {
        return switch (kind) {
            case ClangType.BOOL, ClangType.CHAR_U, ClangType.UCHAR, ClangType.CHAR_S, ClangType.SCHAR,
                 ClangType.SHORT, ClangType.USHORT, ClangType.INT, ClangType.UINT, ClangType.LONG,
                 ClangType.ULONG, ClangType.LONGLONG, ClangType.ULONGLONG -> true;
            default -> false;
        };
    }

    // ---------------------------------------------------------------- records

    /** An included struct, found by tag or, if untagged, by typedef name (fd_set). */
    private RecordDecl record(String name) {
        Cursor decl = records.get(name);
        if (decl == null) {
            Cursor td = typedefs.get(name);
            if (td != null) {
                ClangType target = td.typedefUnderlyingType().canonical();
                if (target.kind() == ClangType.RECORD && target.declaration().isUnnamed()) {
                    decl = target.declaration();
                }
            }
        }
        if (decl == null || decl.kind() != LibClang.CURSOR_STRUCT_DECL) {
            problems.add("no struct " + name + " (by tag, or an untagged struct by typedef name)");
            return null;
        }
        ClangType type = decl.type().canonical();
        RecordDecl built = recordsByType.get(type.spelling());
        return built != null ? built : recordDecl(decl, type.spelling());
    }

    /**
     * Converts a record definition with its fields. Records used by fields are converted on
     * demand (untagged ones too): they become members of the enclosing layout, not classes.
     */
    private RecordDecl recordDecl(Cursor decl, String typeSpelling) {
        boolean union = decl.kind() == LibClang.CURSOR_UNION_DECL;
        ClangType type = decl.type();
        String cName = decl.isUnnamed() ? describe(typeSpelling) : decl.spelling();
        String cType = decl.isUnnamed() ? cName : (union ? "union " : "struct ") + cName;
        RecordDecl r = new RecordDecl(cName, cType, union, type.size(), type.alignment());
        recordsByType.put(typeSpelling, r);
        for (Cursor f : decl.children()) {
            if (f.kind() == LibClang.CURSOR_STRUCT_DECL || f.kind() == LibClang.CURSOR_UNION_DECL) {
                // A named nested record is reached through the field that uses it; an anonymous
                // member (C11) has no field of its own, so it becomes an unnamed member here.
                if (f.isAnonymousMember()) {
                    ClangType anonType = f.type().canonical();
                    RecordDecl anon = recordDecl(f, anonType.spelling());
                    long offset = anonymousMemberOffset(type, anon, cType);
                    if (offset >= 0) {
                        r.fields.add(new Field("", new RecordRef(anon), offset));
                    }
                }
                continue;
            }
            if (f.kind() != LibClang.CURSOR_FIELD_DECL || f.spelling().isEmpty()) {
                continue;
            }
            String fname = f.spelling();
            if (f.isBitField()) {
                problems.add(cType + "." + fname + ": bit fields are not supported");
                continue;
            }
            long bits = f.fieldOffsetBits();
            if (bits < 0 || bits % 8 != 0) {
                problems.add(cType + "." + fname + ": clang gives no byte offset (" + bits + ")");
                continue;
            }
            r.fields.add(new Field(fname, type(f.type(), cType + "." + fname), bits / 8));
        }
        return r;
    }

    /**
     * Where an anonymous member starts in its record, in bytes: clang gives offsets of fields,
     * not of anonymous members, but resolves a field of the member by name from the enclosing
     * record, so the member starts at that field's offset there minus its offset in the member.
     */
    private long anonymousMemberOffset(ClangType enclosing, RecordDecl anon, String where) {
        long inner = 0;
        RecordDecl r = anon;
        while (true) {
            Field named = null;
            Field nested = null;
            for (Field f : r.fields) {
                if (!f.name().isEmpty()) {
                    named = f;
                    break;
                }
                if (nested == null) {
                    nested = f;
                }
            }
            if (named != null) {
                long bits = enclosing.offsetOfBits(named.name());
                if (bits < 0 || bits % 8 != 0) {
                    problems.add(where + ": clang gives no byte offset for " + named.name() + " (" + bits + ")");
                    return -1;
                }
                return bits / 8 - inner - named.offset();
            }
            if (nested == null) {
                problems.add(where + ": an anonymous member without named fields");
                return -1;
            }
            inner += nested.offset();
            r = ((RecordRef) nested.type()).decl();
        }
    }

    /** A type's C spelling without file paths (clang spells untagged records with their location). */
    private static String describe(String spelling) {
        return spelling.contains("(unnamed") || spelling.contains("(anonymous") ? "untagged record" : spelling;
    }

    // ---------------------------------------------------------------- constants

    private Constant enumConstant(String name) {
        Cursor k = enumConstants.get(name);
        ClangType intType = enumOfConstant.get(name).enumIntegerType();
        if (!(type(intType, name) instanceof Scalar s)) {
            return null;
        }
        return new Constant(name, s, k.enumValue(s.unsigned()));
    }

    /**
     * Macros have no type or value in the AST, so compile a second, in-memory translation unit
     * that includes the header and declares {@code __auto_type ioatom_macro_NAME = NAME;} per
     * macro, then let clang evaluate each initializer (its type is the macro's C type).
     */
    private void evaluateMacros(String header, List<String> wanted, Map<String, Constant> constants) {
        StringBuilder src = new StringBuilder("#include \"").append(header).append("\"\n");
        for (String m : wanted) {
            src.append("__auto_type ").append(MACRO_PREFIX).append(m).append(" = ").append(m).append(";\n");
        }
        Map<String, Cursor> vars = new HashMap<>();
        try (TranslationUnit macrosUnit = TranslationUnit.parse(clang, index, header + ".ioatom-macros.c",
                src.toString(), clangArgs)) {
            for (Cursor c : macrosUnit.cursor().children()) {
                if (c.kind() == LibClang.CURSOR_VAR_DECL) {
                    vars.put(c.spelling(), c);
                }
            }
            for (String m : wanted) {
                Cursor v = vars.get(MACRO_PREFIX + m);
                Long value = v == null ? null : v.evaluateInteger();
                ClangType t = v == null ? null : v.type().canonical();
                if (value == null || !isInteger(t.kind())) {
                    problems.add("macro " + m + " does not evaluate to an integer");
                    continue;
                }
                constants.put(m, new Constant(m, new Scalar(t.size(), t.alignment(), t.isUnsignedInteger()), value));
            }
        }
    }
}
