package org.ioatom.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.ioatom.internal.linux.Linux;

/**
 * The generated classes of {@code org.ioatom.internal.linux} as they initialize on one ABI, on
 * any host: each instance loads them afresh in a class loader of its own while
 * {@code os.arch} names that ABI, so every {@code Linux.AARCH64 ? a : b} resolves as it would
 * there. Read by reflection, so the tests compare everything the generator emitted rather than a
 * hand-picked few.
 */
final class GeneratedBindings {

    static final String PACKAGE = "org.ioatom.internal.linux";

    /** The generated struct classes and the C type each describes. */
    static final Map<String, String> STRUCTS = new LinkedHashMap<>();

    static {
        STRUCTS.put("EpollEvent", "struct epoll_event");
        STRUCTS.put("Pollfd", "struct pollfd");
        STRUCTS.put("FdSet", "fd_set");
        STRUCTS.put("Timespec", "struct timespec");
        STRUCTS.put("SockaddrIn", "struct sockaddr_in");
        STRUCTS.put("SockaddrIn6", "struct sockaddr_in6");
        STRUCTS.put("SockaddrStorage", "struct sockaddr_storage");
        STRUCTS.put("SockaddrUn", "struct sockaddr_un");
        STRUCTS.put("Iovec", "struct iovec");
        STRUCTS.put("Msghdr", "struct msghdr");
        STRUCTS.put("Linger", "struct linger");
        STRUCTS.put("Statx", "struct statx");
        STRUCTS.put("IoUringParams", "struct io_uring_params");
        STRUCTS.put("IoSqringOffsets", "struct io_sqring_offsets");
        STRUCTS.put("IoCqringOffsets", "struct io_cqring_offsets");
        STRUCTS.put("IoUringSqe", "struct io_uring_sqe");
        STRUCTS.put("IoUringCqe", "struct io_uring_cqe");
        STRUCTS.put("IoUringGeteventsArg", "struct io_uring_getevents_arg");
    }

    static final GeneratedBindings X86_64 = forOsArch("amd64");
    static final GeneratedBindings AARCH64 = forOsArch("aarch64");

    final String osArch;
    private final Map<String, Class<?>> classes = new TreeMap<>();

    private GeneratedBindings(String osArch, Map<String, Class<?>> classes) {
        this.osArch = osArch;
        this.classes.putAll(classes);
    }

    /** The generated classes, initialized while {@code os.arch} is the given value. */
    static synchronized GeneratedBindings forOsArch(String osArch) {
        URL classes;
        try {
            classes = Path.of(Linux.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toUri().toURL();
        } catch (java.net.URISyntaxException | MalformedURLException e) {
            throw new AssertionError(e);
        }
        // Not closed: the classes stay in use for the whole test run.
        @SuppressWarnings("resource")
        URLClassLoader loader = new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader());
        String saved = System.getProperty("os.arch");
        System.setProperty("os.arch", osArch);
        try {
            Map<String, Class<?>> loaded = new TreeMap<>();
            for (String name : generatedClassNames()) {
                loaded.put(name, Class.forName(PACKAGE + "." + name, true, loader));
            }
            return new GeneratedBindings(osArch, loaded);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        } finally {
            System.setProperty("os.arch", saved);
        }
    }

    /** The simple names of the generated classes, from the generated source folder. */
    static List<String> generatedClassNames() {
        Path dir = basedir().resolve("src/main/generated/" + PACKAGE.replace('.', '/'));
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith(".java"))
                    .map(f -> f.substring(0, f.length() - ".java".length()))
                    .sorted()
                    .toList();
        } catch (java.io.IOException e) {
            throw new AssertionError("cannot list " + dir, e);
        }
    }

    Class<?> type(String simpleName) {
        Class<?> c = classes.get(simpleName);
        if (c == null) {
            throw new AssertionError("no generated class " + PACKAGE + "." + simpleName);
        }
        return c;
    }

    Object field(String simpleName, String field) {
        try {
            return type(simpleName).getField(field).get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(simpleName + "." + field, e);
        }
    }

    /** The names of the classes that have a {@code LAYOUT}: the struct descriptors. */
    List<String> structClasses() {
        List<String> result = new ArrayList<>();
        for (var e : classes.entrySet()) {
            if (Stream.of(e.getValue().getFields()).anyMatch(f -> f.getName().equals("LAYOUT"))) {
                result.add(e.getKey());
            }
        }
        return result;
    }

    StructLayout layout(String struct) {
        return (StructLayout) field(struct, "LAYOUT");
    }

    /**
     * The members C names directly in a struct, in order (padding left out): its named members
     * and, in their place, those of its anonymous struct/union members (unnamed groups).
     */
    List<String> memberNames(String struct) {
        return new ArrayList<>(memberPaths(struct).keySet());
    }

    /** Each of {@link #memberNames} with its layout path (through unnamed groups by index). */
    Map<String, MemoryLayout.PathElement[]> memberPaths(String struct) {
        Map<String, MemoryLayout.PathElement[]> paths = new LinkedHashMap<>();
        collectMembers(layout(struct), new ArrayList<>(), paths);
        return paths;
    }

    private static void collectMembers(GroupLayout group, List<MemoryLayout.PathElement> prefix,
                                       Map<String, MemoryLayout.PathElement[]> paths) {
        List<MemoryLayout> members = group.memberLayouts();
        for (int i = 0; i < members.size(); i++) {
            MemoryLayout member = members.get(i);
            if (member instanceof PaddingLayout) {
                continue;
            }
            List<MemoryLayout.PathElement> path = new ArrayList<>(prefix);
            if (member.name().isPresent()) {
                path.add(MemoryLayout.PathElement.groupElement(member.name().get()));
                paths.put(member.name().get(), path.toArray(MemoryLayout.PathElement[]::new));
            } else {
                path.add(MemoryLayout.PathElement.groupElement(i));
                collectMembers((GroupLayout) member, path, paths);
            }
        }
    }

    /**
     * Every public static final int or long field of a class whose name matches the pattern, by
     * name: the constants of Linux and Errno, SIZE and *_OFFSET, NR_*.
     */
    Map<String, Number> numbers(String simpleName, String namePattern) {
        Map<String, Number> result = new TreeMap<>();
        for (Field f : type(simpleName).getDeclaredFields()) {
            int m = f.getModifiers();
            if (Modifier.isPublic(m) && Modifier.isStatic(m) && Modifier.isFinal(m) && f.getName().matches(namePattern)
                    && (f.getType() == int.class || f.getType() == long.class)) {
                try {
                    result.put(f.getName(), (Number) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new AssertionError(e);
                }
            }
        }
        return result;
    }

    /** Calls a public static method of a generated class. */
    Object call(String simpleName, String method, Class<?>[] types, Object... args) {
        try {
            return type(simpleName).getMethod(method, types).invoke(null, args);
        } catch (NoSuchMethodException | IllegalAccessException e) {
            throw new AssertionError(simpleName + "." + method, e);
        } catch (InvocationTargetException e) {
            throw new AssertionError(simpleName + "." + method + " threw", e.getCause());
        }
    }

    @Override
    public String toString() {
        return "generated bindings with os.arch=" + osArch;
    }

    /** The repository root (surefire passes it; fall back to the working directory). */
    static Path basedir() {
        return Path.of(System.getProperty("ioatom.basedir", System.getProperty("user.dir")));
    }
}
