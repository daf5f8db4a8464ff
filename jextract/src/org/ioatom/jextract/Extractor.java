package org.ioatom.jextract;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.ioatom.jextract.Model.Array;
import org.ioatom.jextract.Model.CType;
import org.ioatom.jextract.Model.Constant;
import org.ioatom.jextract.Model.ConstantValue;
import org.ioatom.jextract.Model.Field;
import org.ioatom.jextract.Model.Function;
import org.ioatom.jextract.Model.Param;
import org.ioatom.jextract.Model.Pointer;
import org.ioatom.jextract.Model.Prim;
import org.ioatom.jextract.Model.RecordDecl;
import org.ioatom.jextract.Model.RecordRef;
import org.ioatom.jextract.Model.Scalar;
import org.ioatom.jextract.Model.Typedef;

/**
 * Walks the translation unit of a header and builds the {@link Model} of the symbols the
 * --include-* options name. Anything named but not found, or found but not representable, is an
 * error: a binding that silently goes missing would only show up at run time.
 */
final class Extractor {

    private static final String MACRO_PREFIX = "ioatom_macro_";
    private static final String PROBE_PREFIX = "ioatom_probe_";

    private final LibClang clang;
    private final MemorySegment index;
    private final Options options;
    private final List<String> clangArgs;
    private final List<String> problems = new ArrayList<>();

    // Declarations found at file scope in the header's translation unit, by name.
    private final Map<String, Cursor> functions = new HashMap<>();
    private final Map<String, Cursor> records = new HashMap<>();
    private final Map<String, Cursor> typedefs = new HashMap<>();
    private final Map<String, Cursor> enumConstants = new HashMap<>();
    private final Map<String, Cursor> enumOfConstant = new HashMap<>();
    private final Set<String> macros = new TreeSet<>();

    /** Records already converted, keyed by Java name, so each is built once. */
    private final Map<String, RecordDecl> builtRecords = new LinkedHashMap<>();
    /** The same records keyed by clang's canonical type spelling ("struct pollfd", "fd_set"). */
    private final Map<String, RecordDecl> recordsByType = new HashMap<>();
    private TranslationUnit unit;

    Extractor(LibClang clang, MemorySegment index, Options options, List<String> clangArgs) {
        this.clang = clang;
        this.index = index;
        this.options = options;
        this.clangArgs = clangArgs;
    }

    Model.Header extract(String banner) {
        String header = options.headers.get(0).toAbsolutePath().normalize().toString();
        unit = TranslationUnit.parse(clang, index, header, null, clangArgs);
        List<String> errors = unit.errors();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("clang reported errors in " + header + ":\n  " + String.join("\n  ", errors));
        }
        collect(unit.cursor());

        for (String name : options.includeStructs) {
            record(name, false);
        }
        for (String name : options.includeUnions) {
            record(name, true);
        }
        List<Typedef> tds = new ArrayList<>();
        for (String name : options.includeTypedefs) {
            Typedef t = typedef(name);
            if (t != null) {
                tds.add(t);
            }
        }
        // Functions last: a struct passed by value must already be built.
        List<Function> fns = new ArrayList<>();
        for (String name : options.includeFunctions) {
            Cursor c = functions.get(name);
            if (c == null) {
                problems.add("no function " + name);
            } else {
                fns.add(function(c));
            }
        }

        // Constants: enum constants straight from the AST, macros through a second translation unit.
        List<Constant> constants = new ArrayList<>();
        List<String> wantedMacros = new ArrayList<>();
        for (String name : options.includeConstants) {
            if (enumConstants.containsKey(name)) {
                constants.add(enumConstant(name));
            } else if (macros.contains(name)) {
                wantedMacros.add(name);
            } else {
                problems.add("no enum constant or object-like macro " + name);
            }
        }
        List<Scalar> prims = new ArrayList<>();
        Pointer[] pointer = new Pointer[1];
        evaluateMacrosAndProbes(header, wantedMacros, constants, prims, pointer);
        unit.close();

        if (!problems.isEmpty()) {
            throw new IllegalStateException("cannot generate " + options.headerClassName + ":\n  "
                    + String.join("\n  ", problems));
        }
        fns.sort(Comparator.comparing(Function::name));
        constants.sort(Comparator.comparing(Constant::name));
        tds.sort(Comparator.comparing(Typedef::name));
        List<RecordDecl> recs = new ArrayList<>(builtRecords.values());
        recs.sort(Comparator.comparing(r -> r.javaName));
        return new Model.Header(options.headerClassName, options.targetPackage, banner,
                options.headers.get(0).toString(), prims, pointer[0],
                fns, recs, constants, tds);
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

    private Function function(Cursor c) {
        ClangType type = c.type();
        List<Cursor> args = c.arguments();
        List<Param> params = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String name = args.get(i).spelling();
            ClangType t = type.argument(i);
            params.add(new Param(name.isEmpty() ? "x" + i : name, parameterType(t, c.spelling()), t.spelling()));
        }
        ClangType result = type.result();
        return new Function(c.spelling(), type(result, c.spelling()), result.spelling(), params, type.isVariadic());
    }

    /**
     * A parameter's type. Arrays decay to pointers; a transparent union (glibc's __SOCKADDR_ARG
     * under _GNU_SOURCE) is passed exactly like its first member, so it is bound as that member.
     */
    private CType parameterType(ClangType t, String where) {
        ClangType canonical = t.canonical();
        if (canonical.kind() == ClangType.CONSTANT_ARRAY || canonical.kind() == ClangType.INCOMPLETE_ARRAY) {
            return pointer(canonical);
        }
        if (canonical.kind() == ClangType.RECORD && isTransparentUnion(canonical.declaration())) {
            for (Cursor member : canonical.declaration().children()) {
                if (member.kind() == LibClang.CURSOR_FIELD_DECL) {
                    return type(member.type(), where);
                }
            }
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
                for (String token : child.tokens(unit.handle)) {
                    if (token.equals("transparent_union") || token.equals("__transparent_union__")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- types

    private Pointer pointer(ClangType t) {
        // Sized from clang's pointer type so that an ILP32 target would come out right too.
        return new Pointer(t.kind() == ClangType.POINTER ? t.size() : 8, t.kind() == ClangType.POINTER ? t.alignment() : 8);
    }

    /** Converts a clang type to the model; {@code where} names the declaration for error messages. */
    private CType type(ClangType t, String where) {
        ClangType c = t.canonical();
        switch (c.kind()) {
            case ClangType.VOID:
                return new Model.Void();
            case ClangType.POINTER:
                return pointer(c);
            case ClangType.ENUM:
                return type(c.declaration().enumIntegerType(), where);
            case ClangType.CONSTANT_ARRAY:
                return new Array(type(c.arrayElement(), where), c.arraySize());
            case ClangType.INCOMPLETE_ARRAY:
                return new Array(type(c.arrayElement(), where), 0);
            case ClangType.RECORD: {
                RecordDecl built = recordsByType.get(c.spelling());
                if (built == null) {
                    problems.add(where + " uses " + c.spelling() + " by value: include it with --include-struct,"
                            + " --include-union or (if untagged) --include-typedef");
                    return new Model.Void();
                }
                return new RecordRef(built);
            }
            default: {
                Prim p = prim(c.kind());
                if (p == null) {
                    problems.add(where + ": C type " + t.spelling() + " has no Java equivalent here");
                    return new Model.Void();
                }
                return new Scalar(p, c.size(), c.alignment(), c.isUnsignedInteger());
            }
        }
    }

    private static Prim prim(int kind) {
        return switch (kind) {
            case ClangType.BOOL -> Prim.BOOL;
            case ClangType.CHAR_U, ClangType.UCHAR, ClangType.CHAR_S, ClangType.SCHAR -> Prim.CHAR;
            case ClangType.SHORT, ClangType.USHORT -> Prim.SHORT;
            case ClangType.INT, ClangType.UINT -> Prim.INT;
            case ClangType.LONG, ClangType.ULONG -> Prim.LONG;
            case ClangType.LONGLONG, ClangType.ULONGLONG -> Prim.LONG_LONG;
            case ClangType.FLOAT -> Prim.FLOAT;
            case ClangType.DOUBLE -> Prim.DOUBLE;
            default -> null;
        };
    }

    // ---------------------------------------------------------------- records

    /** Builds an included struct or union, found by tag or, if untagged, by typedef name. */
    private void record(String name, boolean union) {
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
        if (decl == null) {
            problems.add("no " + (union ? "union " : "struct ") + name);
            return;
        }
        if ((decl.kind() == LibClang.CURSOR_UNION_DECL) != union) {
            problems.add(name + " is a " + (union ? "struct" : "union") + ": use --include-" + (union ? "struct" : "union"));
            return;
        }
        recordDecl(decl, name, null);
    }

    /**
     * Converts a record definition. Records used by value are converted first (callers include
     * them; see {@link #type}), so the order of --include options must not matter: retry lazily.
     */
    private RecordDecl recordDecl(Cursor decl, String javaName, RecordDecl enclosing) {
        if (enclosing == null && builtRecords.containsKey(javaName)) {
            return builtRecords.get(javaName);
        }
        boolean union = decl.kind() == LibClang.CURSOR_UNION_DECL;
        ClangType type = decl.type();
        String kind = union ? "union" : "struct";
        String cName = enclosing != null ? "untagged " + kind + " of field " + enclosing.cName + "." + javaName
                : decl.isUnnamed() ? javaName : kind + " " + decl.spelling();
        RecordDecl r = new RecordDecl(javaName, cName, union, type.size(), type.alignment(), enclosing);
        for (Cursor f : decl.children()) {
            if (f.kind() == LibClang.CURSOR_STRUCT_DECL || f.kind() == LibClang.CURSOR_UNION_DECL) {
                if (f.isAnonymousMember()) {
                    problems.add(cName + ": anonymous struct/union members are not supported");
                }
                continue;
            }
            if (f.kind() != LibClang.CURSOR_FIELD_DECL) {
                continue;
            }
            String fname = f.spelling();
            if (f.isBitField()) {
                problems.add(cName + "." + fname + ": bit fields are not supported");
                continue;
            }
            long bits = f.fieldOffsetBits();
            if (bits < 0 || bits % 8 != 0) {
                problems.add(cName + "." + fname + ": clang gives no byte offset (" + bits + ")");
                continue;
            }
            ClangType ft = f.type();
            r.fields.add(new Field(fname, fieldType(ft, r, fname, cName + "." + fname), bits / 8, describe(ft)));
        }
        if (enclosing == null) {
            builtRecords.put(javaName, r);
            recordsByType.put(type.canonical().spelling(), r);
        }
        return r;
    }

    /** A field's type: untagged records become nested classes; tagged ones are built on demand. */
    private CType fieldType(ClangType t, RecordDecl owner, String fieldName, String where) {
        ClangType c = t.canonical();
        if (c.kind() == ClangType.CONSTANT_ARRAY) {
            return new Array(fieldType(c.arrayElement(), owner, fieldName, where), c.arraySize());
        }
        if (c.kind() == ClangType.RECORD && !recordsByType.containsKey(c.spelling())) {
            Cursor decl = c.declaration();
            boolean union = decl.kind() == LibClang.CURSOR_UNION_DECL;
            String spelling = c.spelling();
            if (decl.isUnnamed() && (spelling.contains("(unnamed") || spelling.contains("(anonymous"))) {
                // Untagged and without a typedef name: a class nested in the owner, named after the field.
                return new RecordRef(recordDecl(decl, fieldName, owner));
            }
            // A tagged record, or an untagged one named by a typedef (fd_set): build it first if included.
            String name = decl.isUnnamed() ? spelling : decl.spelling();
            boolean included = (union ? options.includeUnions : options.includeStructs).contains(name)
                    || (decl.isUnnamed() && options.includeTypedefs.contains(name));
            if (included) {
                recordDecl(decl, name, null);
            }
        }
        return type(t, where);
    }

    /** A type's C spelling without file paths (clang spells untagged records with their location). */
    private static String describe(ClangType t) {
        String s = t.spelling();
        return s.contains("(unnamed") || s.contains("(anonymous") ? "untagged record" : s;
    }

    // ---------------------------------------------------------------- typedefs

    private Typedef typedef(String name) {
        Cursor td = typedefs.get(name);
        if (td == null) {
            problems.add("no typedef " + name);
            return null;
        }
        ClangType target = td.typedefUnderlyingType();
        ClangType c = target.canonical();
        if (c.kind() == ClangType.RECORD) {
            if (c.declaration().isUnnamed()) {
                // jextract names an untagged struct after its typedef: a class, not a layout constant.
                record(name, c.declaration().kind() == LibClang.CURSOR_UNION_DECL);
                return null;
            }
            problems.add("typedef " + name + " names a tagged record: include the record itself instead");
            return null;
        }
        return new Typedef(name, type(target, "typedef " + name), target.spelling());
    }

    // ---------------------------------------------------------------- constants

    private Constant enumConstant(String name) {
        Cursor k = enumConstants.get(name);
        ClangType intType = enumOfConstant.get(name).enumIntegerType();
        CType t = type(intType, name);
        if (!(t instanceof Scalar s)) {
            problems.add(name + ": enum of non-integer type");
            return null;
        }
        long bits = k.enumValue(s.unsigned());
        return new Constant(name, s, new Model.IntValue(bits), intType.canonical().spelling(), "enum constant");
    }

    /**
     * Macros have no type or value in the AST, so do what jextract does: compile a second,
     * in-memory translation unit that includes the header and declares
     * {@code __auto_type ioatom_macro_NAME = NAME;} per macro, then let clang evaluate each
     * initializer. The same unit declares one variable per C scalar type and one pointer so the
     * target's sizes and alignments for the C_* layouts come from clang as well.
     */
    private void evaluateMacrosAndProbes(String header, List<String> wanted, List<Constant> constants,
                                         List<Scalar> prims, Pointer[] pointer) {
        StringBuilder src = new StringBuilder("#include \"").append(header).append("\"\n");
        String[][] probes = {
                {"bool", "_Bool"}, {"char", "char"}, {"short", "short"}, {"int", "int"}, {"long", "long"},
                {"long_long", "long long"}, {"float", "float"}, {"double", "double"}, {"pointer", "void *"}};
        for (String[] p : probes) {
            src.append(p[1]).append(' ').append(PROBE_PREFIX).append(p[0]).append(";\n");
        }
        for (String m : wanted) {
            src.append("__auto_type ").append(MACRO_PREFIX).append(m).append(" = ").append(m).append(";\n");
        }
        String file = header + ".ioatom-macros.c";
        Map<String, Cursor> vars = new HashMap<>();
        try (TranslationUnit macrosUnit = TranslationUnit.parse(clang, index, file, src.toString(), clangArgs)) {
            for (Cursor c : macrosUnit.cursor().children()) {
                if (c.kind() == LibClang.CURSOR_VAR_DECL) {
                    vars.put(c.spelling(), c);
                }
            }
            for (String[] p : probes) {
                Cursor v = vars.get(PROBE_PREFIX + p[0]);
                ClangType t = v.type().canonical();
                if (p[0].equals("pointer")) {
                    pointer[0] = new Pointer(t.size(), t.alignment());
                } else {
                    prims.add(new Scalar(prim(t.kind()), t.size(), t.alignment(), t.isUnsignedInteger()));
                }
            }
            for (String m : wanted) {
                Cursor v = vars.get(MACRO_PREFIX + m);
                ConstantValue value = v == null ? null : v.evaluate();
                if (value == null) {
                    problems.add("macro " + m + " does not evaluate to a number");
                    continue;
                }
                ClangType t = v.type().canonical();
                Prim p = prim(t.kind());
                if (p == null) {
                    problems.add("macro " + m + " has type " + t.spelling() + ", which has no Java equivalent");
                    continue;
                }
                constants.add(new Constant(m, new Scalar(p, t.size(), t.alignment(), t.isUnsignedInteger()), value,
                        t.spelling(), "macro"));
            }
        }
    }
}
