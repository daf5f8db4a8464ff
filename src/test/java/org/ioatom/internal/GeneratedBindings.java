package org.ioatom.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the generated bindings of one Linux architecture by reflection, so the tests compare
 * everything the generator emitted rather than a hand-picked few.
 */
final class GeneratedBindings {

    /** The generated record classes and the C type each stands for. */
    static final Map<String, String> RECORDS = new LinkedHashMap<>();

    static {
        for (String tag : List.of("epoll_event", "pollfd", "timeval", "sockaddr", "sockaddr_in", "sockaddr_in6",
                "sockaddr_storage", "in_addr", "in6_addr", "iovec", "msghdr", "linger")) {
            RECORDS.put(tag, "struct " + tag);
        }
        RECORDS.put("epoll_data", "union epoll_data");
        RECORDS.put("fd_set", "fd_set");
    }

    /** The C type behind each C_* layout constant of the header class. */
    static final Map<String, String> C_LAYOUTS = Map.of(
            "C_BOOL", "_Bool", "C_CHAR", "char", "C_SHORT", "short", "C_INT", "int", "C_LONG", "long",
            "C_LONG_LONG", "long long", "C_FLOAT", "float", "C_DOUBLE", "double", "C_POINTER", "void *");

    final String packageName;

    GeneratedBindings(String arch) {
        this.packageName = "org.ioatom.internal.linux." + arch;
    }

    Class<?> type(String simpleName) {
        try {
            return Class.forName(packageName + "." + simpleName);
        } catch (ClassNotFoundException e) {
            throw new AssertionError("no generated class " + packageName + "." + simpleName, e);
        }
    }

    static Object call(Class<?> type, String method) {
        try {
            return type.getMethod(method).invoke(null);
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new AssertionError(type.getSimpleName() + "." + method + "()", e);
        } catch (InvocationTargetException e) {
            throw new AssertionError(type.getSimpleName() + "." + method + "() threw", e.getCause());
        }
    }

    GroupLayout layout(String record) {
        return (GroupLayout) call(type(record), "layout");
    }

    /** The named members of a record's layout, in order (padding left out). */
    List<String> fieldNames(String record) {
        List<String> names = new ArrayList<>();
        for (MemoryLayout member : layout(record).memberLayouts()) {
            if (!(member instanceof PaddingLayout)) {
                names.add(member.name().orElseThrow());
            }
        }
        return names;
    }

    /** Every constant of a header class (NAME() accessors), by name; int-typed ones as Integer. */
    Map<String, Number> constants(String headerClass) {
        Map<String, Number> result = new TreeMap<>();
        for (Method m : type(headerClass).getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()) && m.getParameterCount() == 0
                    && m.getName().matches("[A-Z][A-Z0-9_]*")
                    && (m.getReturnType() == int.class || m.getReturnType() == long.class)) {
                result.put(m.getName(), (Number) call(type(headerClass), m.getName()));
            }
        }
        return result;
    }

    /** The layouts of the header class's typedefs (lower-case public static fields). */
    Map<String, ValueLayout> typedefLayouts(String headerClass) {
        Map<String, ValueLayout> result = new TreeMap<>();
        for (Field f : type(headerClass).getDeclaredFields()) {
            if (Modifier.isPublic(f.getModifiers()) && Modifier.isStatic(f.getModifiers())
                    && ValueLayout.class.isAssignableFrom(f.getType())) {
                try {
                    result.put(f.getName(), (ValueLayout) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return result;
    }

    /** The repository root (surefire passes it; fall back to the working directory). */
    static Path basedir() {
        return Path.of(System.getProperty("ioatom.basedir", System.getProperty("user.dir")));
    }
}
