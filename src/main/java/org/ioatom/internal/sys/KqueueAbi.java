package org.ioatom.internal.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import org.ioatom.internal.bsd.Kqueue.KeventAbi;

/**
 * The one place that decides where the kqueue backend gets {@code kqueue()}, {@code kevent()},
 * {@code close()} (and the pipe waker {@code pipe()}, {@code read()}, {@code write()}) from, and
 * which {@code struct kevent} layout they use ({@link KeventAbi}).
 *
 * <ul>
 *   <li>On macOS and FreeBSD (64-bit x86_64 or aarch64): the OS C library, with that OS's layout.</li>
 *   <li>Anywhere, when {@value #LIBRARY_PROPERTY} names a shared library that exports
 *       {@code kqueue} and {@code kevent} (a supported extension point, documented in KQUEUE.md;
 *       the test suite's emulation over epoll uses it): that library,
 *       with the layout {@value #ABI_PROPERTY} names ({@code freebsd}, the default off macOS, or
 *       {@code macos}). Other symbols ({@code close}, ...) come from the C library.</li>
 *   <li>Otherwise kqueue is unavailable, with a reason that says so.</li>
 * </ul>
 *
 * <p>The choice is read from the system properties each time availability is asked, until the
 * first kqueue poller opens: from then on it is fixed for the JVM (the backend keeps its method
 * handles and layout in {@code static final} fields, as an OS would have one ABI).
 *
 * <p>Only the Linux emulation has run this code. macOS and FreeBSD follow their headers and
 * man pages but have never been tested (see KQUEUE.md).
 */
public final class KqueueAbi {
    /** System property: path of a library exporting kqueue() and kevent() (an emulation). */
    public static final String LIBRARY_PROPERTY = "ioatom.kqueue.library";
    /** System property: the struct layout that library uses, {@code freebsd} or {@code macos}. */
    public static final String ABI_PROPERTY = "ioatom.kqueue.abi";

    private static final Linker LINKER = Linker.nativeLinker();

    /**
     * What {@link #choose} decided: an ABI and a library, or why kqueue is not available.
     *
     * @param abi               {@code freebsd} or {@code macos}, or null when unavailable
     * @param library           the library to load, or null for the OS C library
     * @param unavailableReason why kqueue cannot be used, or null when it can
     */
    public record Choice(String abi, Path library, String unavailableReason) {
        /** {@return whether kqueue can be used} */
        public boolean available() {
            return unavailableReason == null;
        }

        /** {@return the struct kevent layout of {@link #abi}} */
        public KeventAbi keventAbi() {
            return KeventAbi.of(abi);
        }

        static Choice no(String reason) {
            return new Choice(null, null, reason);
        }

        static Choice of(String abi, Path library) {
            return new Choice(abi, library, null);
        }
    }

    private static volatile KqueueAbi loaded;

    private final Choice choice;
    private final KeventAbi keventAbi;
    private final SymbolLookup lookup;

    private KqueueAbi(Choice choice, SymbolLookup lookup) {
        this.choice = choice;
        this.keventAbi = choice.keventAbi();
        this.lookup = lookup;
    }

    /**
     * Decides, without side effects, where kqueue would come from: a pure function of its inputs, so
     * the decision for every OS can be checked on any OS.
     *
     * @param platform the OS and CPU
     * @param library  the value of {@value #LIBRARY_PROPERTY}, or null
     * @param abi      the value of {@value #ABI_PROPERTY}, or null
     * @return the decision, never null
     */
    public static Choice choose(Platform platform, String library, String abi) {
        String native_ = switch (platform.os()) {
            case MACOS -> "macos";
            case FREEBSD -> "freebsd";
            default -> null;
        };
        String wanted = null;
        if (abi != null && !abi.isBlank()) {
            wanted = abi.trim().toLowerCase(Locale.ROOT);
            if (!wanted.equals("freebsd") && !wanted.equals("macos")) {
                return Choice.no("kqueue is not available: invalid " + ABI_PROPERTY + " value '" + abi
                        + "': expected freebsd or macos");
            }
        }
        if (library != null && !library.isBlank()) {
            Path path;
            try {
                path = Path.of(library.trim());
            } catch (InvalidPathException e) {
                return Choice.no("kqueue is not available: " + LIBRARY_PROPERTY + "=" + library + " is not a path");
            }
            if (!Files.isRegularFile(path)) {
                return Choice.no("kqueue is not available: " + LIBRARY_PROPERTY + "=" + library + " names no file");
            }
            return Choice.of(wanted != null ? wanted : native_ != null ? native_ : "freebsd", path.toAbsolutePath());
        }
        if (native_ == null) {
            return Choice.no("kqueue is not available on " + platform + ": it exists on macOS and FreeBSD"
                    + " (to run the kqueue backend over an emulation, set -D" + LIBRARY_PROPERTY + "=/path/to/library)");
        }
        if (!platform.arch().equals("x86_64") && !platform.arch().equals("aarch64")) {
            return Choice.no("kqueue is not available on " + platform + ": ioatom's kqueue bindings are for"
                    + " 64-bit x86_64 and aarch64 only");
        }
        if (wanted != null && !wanted.equals(native_)) {
            return Choice.no("kqueue is not available: " + ABI_PROPERTY + "=" + wanted + " does not match this OS ("
                    + native_ + "); it only selects the layout of a library named by " + LIBRARY_PROPERTY);
        }
        return Choice.of(native_, null);
    }

    /** {@return the decision for this JVM's platform and current system properties} */
    public static Choice chooseNow() {
        return choose(Platform.current(), System.getProperty(LIBRARY_PROPERTY), System.getProperty(ABI_PROPERTY));
    }

    /**
     * {@return why kqueue cannot be used in this JVM, or null} Fixed once a kqueue poller has opened,
     * read from the system properties until then.
     */
    public static String unavailableReason() {
        return loaded != null ? null : chooseNow().unavailableReason();
    }

    /**
     * Loads what {@link #chooseNow()} names, once per JVM; later calls return the same result.
     *
     * @return the loaded kqueue ABI
     * @throws UnsupportedOperationException with the reason if kqueue cannot be used here
     */
    public static KqueueAbi load() {
        KqueueAbi l = loaded;
        if (l != null) {
            return l;
        }
        synchronized (KqueueAbi.class) {
            if (loaded == null) {
                loaded = load(chooseNow());
            }
            return loaded;
        }
    }

    /**
     * Loads a choice without remembering it ({@link #load()} remembers the current one).
     *
     * @param choice what {@link #choose} decided
     * @return the loaded ABI
     * @throws UnsupportedOperationException with the reason if the choice is unavailable or fails to load
     */
    @SuppressWarnings("restricted") // loading a library is native access, which this module is for
    public static KqueueAbi load(Choice choice) {
        if (!choice.available()) {
            throw new UnsupportedOperationException(choice.unavailableReason());
        }
        SymbolLookup libc = LINKER.defaultLookup();
        SymbolLookup lookup = libc;
        if (choice.library() != null) {
            try {
                lookup = SymbolLookup.libraryLookup(choice.library(), Arena.global()).or(libc);
            } catch (IllegalArgumentException e) {
                throw new UnsupportedOperationException("kqueue is not available: " + LIBRARY_PROPERTY + "="
                        + choice.library() + " does not load: " + e.getMessage(), e);
            }
        }
        for (String symbol : new String[] {"kqueue", "kevent", "close"}) {
            if (lookup.find(symbol).isEmpty()) {
                throw new UnsupportedOperationException("kqueue is not available: symbol " + symbol + " not found in "
                        + (choice.library() != null ? choice.library() : "the C library"));
            }
        }
        return new KqueueAbi(choice, lookup);
    }

    /** {@return {@code freebsd} or {@code macos}} */
    public String abi() {
        return choice.abi();
    }

    /** {@return the struct kevent layout and the other per-OS values} */
    public KeventAbi keventAbi() {
        return keventAbi;
    }

    /** {@return the library kqueue comes from, or null for the OS C library} */
    public Path library() {
        return choice.library();
    }

    /**
     * A downcall handle without errno capture: its calls allocate nothing in any compiler mode.
     *
     * @param symbol     the C function, e.g. {@code kevent}
     * @param descriptor its signature, from {@link org.ioatom.internal.bsd.Kqueue}
     * @return the handle, of the descriptor's type
     */
    @SuppressWarnings("restricted") // downcalls are native access, which this module is for
    public MethodHandle downcall(String symbol, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(find(symbol), descriptor);
    }

    /**
     * A downcall handle that captures errno: its first parameter is the capture segment
     * ({@code Natives.CAPTURE_LAYOUT}). Without C2 every call allocates (the runtime slices that
     * segment), so the kqueue code uses these only for setup, teardown and failures.
     *
     * @param symbol     the C function
     * @param descriptor its signature
     * @return the handle: (capture segment, the descriptor's parameters...)
     */
    @SuppressWarnings("restricted")
    public MethodHandle downcallCapturingErrno(String symbol, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(find(symbol), descriptor, Natives.CAPTURE_ERRNO);
    }

    private MemorySegment find(String symbol) {
        return lookup.find(symbol)
                .orElseThrow(() -> new UnsupportedOperationException("kqueue: symbol " + symbol + " not found in "
                        + (choice.library() != null ? choice.library() + " or " : "") + "the C library"));
    }

    @Override
    public String toString() {
        return "kqueue[" + choice.abi() + (choice.library() != null ? ", emulated by " + choice.library() : "") + "]";
    }
}
