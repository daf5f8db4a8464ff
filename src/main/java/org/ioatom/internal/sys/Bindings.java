package org.ioatom.internal.sys;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Reads sizes, offsets, constants and function descriptors out of the generated binding classes
 * of one platform package (see {@code jextract/}). Every value is read once, into a
 * {@code static final} field of the caller, so the JIT sees constants; nothing here runs on a
 * hot path. Going through names keeps one hand-written layer for every ABI the generator emits,
 * instead of a copy per architecture.
 */
public final class Bindings {
    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();

    private final String pkg;

    private Bindings(String pkg) {
        this.pkg = pkg;
    }

    /** Bindings of the given generated package, e.g. {@code org.ioatom.internal.linux.x86_64}. */
    public static Bindings of(String pkg) {
        return new Bindings(pkg);
    }

    /** Bindings of the current platform; fails with the platform's reason where there are none. */
    public static Bindings current() {
        Platform p = Platform.current();
        if (!p.supported()) {
            throw new UnsupportedOperationException(p.unsupportedReason());
        }
        return of(p.bindingPackage());
    }

    /** The package this reads from. */
    public String packageName() {
        return pkg;
    }

    private Class<?> type(String simpleName) {
        try {
            return Class.forName(pkg + "." + simpleName, true, Bindings.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("generated binding class " + pkg + "." + simpleName + " is missing", e);
        }
    }

    private Object call(Class<?> owner, String method, Class<?> returnType) {
        try {
            MethodHandle h = LOOKUP.findStatic(owner, method, MethodType.methodType(returnType));
            return h.invoke();
        } catch (Throwable e) {
            throw new IllegalStateException("generated binding " + owner.getName() + "." + method + "() is missing", e);
        }
    }

    /** An {@code int} constant of the header class (e.g. {@code EPOLLIN}). */
    public int intConstant(String name) {
        return intConstant("LibC", name);
    }

    /** An {@code int} constant of the given generated class. */
    public int intConstant(String headerClass, String name) {
        return (int) call(type(headerClass), name, int.class);
    }

    /** {@code sizeof(struct name)}. */
    public long sizeof(String struct) {
        return (long) call(type(struct), "sizeof", long.class);
    }

    /** {@code offsetof(struct, field)}. */
    public long offset(String struct, String field) {
        return (long) call(type(struct), field + "$offset", long.class);
    }

    /** The C signature of a function of the header class. */
    public FunctionDescriptor descriptor(String function) {
        return descriptor("LibC", function);
    }

    /**
     * The C signature of a function of the given header class.
     *
     * @param headerClass the header class's simple name, e.g. {@code Kqueue}
     * @param function    the C function's name
     * @return its descriptor (reading it resolves the symbol, as in jextract's output)
     */
    public FunctionDescriptor descriptor(String headerClass, String function) {
        return (FunctionDescriptor) call(type(headerClass), function + "$descriptor", FunctionDescriptor.class);
    }

    /** The generated header class itself, for reflection-driven tables such as errno names. */
    public Class<?> headerClass(String name) {
        return type(name);
    }
}
