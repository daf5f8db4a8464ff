package org.ioatom.jextract;

import java.util.Set;

/** C names that are not usable as Java identifiers get a trailing '_' (as jextract does). */
final class JavaNames {

    private static final Set<String> RESERVED = Set.of(
            "abstract", "assert", "boolean", "break", "byte", "case", "catch", "char", "class", "const",
            "continue", "default", "do", "double", "else", "enum", "extends", "final", "finally", "float",
            "for", "goto", "if", "implements", "import", "instanceof", "int", "interface", "long", "native",
            "new", "package", "private", "protected", "public", "return", "short", "static", "strictfp",
            "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try", "void",
            "volatile", "while", "true", "false", "null", "_");

    private JavaNames() {
    }

    static String identifier(String c) {
        return RESERVED.contains(c) ? c + "_" : c;
    }
}
