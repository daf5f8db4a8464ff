package org.ioatom.jextract;

import java.util.Locale;
import java.util.Set;

/** How C names become Java names in the generated classes. */
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

    /** A struct's class name: its C tag in CamelCase (epoll_event: EpollEvent, fd_set: FdSet). */
    static String className(String cName) {
        StringBuilder sb = new StringBuilder();
        for (String part : cName.split("_")) {
            if (!part.isEmpty()) {
                sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        return sb.toString();
    }

    /** A parameter name: glibc's {@code __addr_len} becomes {@code addrLen}; a missing one argN. */
    static String parameter(String cName, int index) {
        String[] parts = cName.replaceFirst("^_+", "").split("_");
        StringBuilder sb = new StringBuilder(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            if (!parts[i].isEmpty()) {
                sb.append(Character.toUpperCase(parts[i].charAt(0))).append(parts[i].substring(1));
            }
        }
        String name = sb.isEmpty() ? "arg" + index : sb.toString();
        return RESERVED.contains(name) ? name + "_" : name;
    }

    /** A constant's name for a C name: upper case (sin6_port: SIN6_PORT, read: READ). */
    static String upper(String cName) {
        return cName.toUpperCase(Locale.ROOT);
    }
}
