package org.ioatom.internal.sys;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * errno numbers to their symbols ({@code EBADF}) and texts ({@code Bad file descriptor}).
 * Used only to build exception messages, never on a path that succeeds.
 */
public final class Errnos {
    private Errnos() {}

    private static final ConcurrentHashMap<Integer, String> TEXTS = new ConcurrentHashMap<>();
    private static volatile Map<Integer, String> names;

    /**
     * Loads the tables and classes that error paths need, while the process can still open
     * files: an error message must not depend on class loading when the error is EMFILE.
     */
    public static void preload() {
        name(0);
        text(Sys.EBADF);
        try {
            Class.forName("org.ioatom.IoException", false, Errnos.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The symbol for {@code errno}, e.g. {@code EBADF}; {@code errno <n>} if unknown. */
    public static String name(int errno) {
        Map<Integer, String> table = names;
        if (table == null) {
            names = table = loadNames();
        }
        return table.getOrDefault(errno, "errno " + errno);
    }

    /** strerror(errno), cached per value. */
    public static String text(int errno) {
        return TEXTS.computeIfAbsent(errno, Errnos::strerror);
    }

    @SuppressWarnings("restricted") // strerror returns a NUL-terminated static string
    private static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) Holder.STRERROR.invokeExact(errno);
            return s.equals(MemorySegment.NULL) ? "Unknown error " + errno : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            // Even a failed class load (EMFILE) must still leave a message to report.
            return "Unknown error " + errno;
        }
    }

    /**
     * Reads every constant of the generated {@code Errno} class. Where two symbols share a value
     * (EAGAIN/EWOULDBLOCK) the alphabetically first is not wanted; prefer the POSIX-preferred one.
     */
    private static Map<Integer, String> loadNames() {
        Map<Integer, String> out = new TreeMap<>();
        Platform p = Platform.current();
        if (!p.supported()) {
            return out;
        }
        try {
            Class<?> errno = Bindings.current().headerClass("Errno");
            for (Method m : errno.getDeclaredMethods()) {
                if (Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers())
                        && m.getParameterCount() == 0 && m.getReturnType() == int.class) {
                    int value = (int) m.invoke(null);
                    out.merge(value, m.getName(), Errnos::preferred);
                }
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Names are a courtesy for messages: fall back to numbers rather than fail an error path.
        }
        return out;
    }

    private static String preferred(String a, String b) {
        for (String alias : new String[] {"EWOULDBLOCK", "EDEADLOCK", "ENOTSUP"}) {
            if (a.equals(alias)) {
                return b;
            }
            if (b.equals(alias)) {
                return a;
            }
        }
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static final class Holder {
        static final MethodHandle STRERROR = Natives.libc(Bindings.current(), "strerror", false);
    }
}
