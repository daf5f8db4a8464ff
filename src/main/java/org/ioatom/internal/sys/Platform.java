package org.ioatom.internal.sys;

import java.util.Locale;

/**
 * The OS and CPU this JVM runs on, and which generated binding package describes its ABI.
 * Never throws: an unsupported platform is a value with a reason, not an error.
 */
public record Platform(Os os, String arch, String bindingPackage, String unsupportedReason) {

    /** Operating systems ioatom knows about. */
    public enum Os { LINUX, MACOS, FREEBSD, OTHER }

    private static final Platform CURRENT =
            detect(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));

    /** The platform of this JVM. */
    public static Platform current() {
        return CURRENT;
    }

    /** Maps {@code os.name}/{@code os.arch} values to a platform (a pure function, so any OS can be described on any other). */
    public static Platform detect(String osName, String osArch) {
        String name = osName.toLowerCase(Locale.ROOT);
        Os os = name.startsWith("linux") ? Os.LINUX
                : name.startsWith("mac") || name.startsWith("darwin") ? Os.MACOS
                : name.startsWith("freebsd") ? Os.FREEBSD
                : Os.OTHER;
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> osArch;
        };
        if (os == Os.LINUX && (arch.equals("x86_64") || arch.equals("aarch64"))) {
            return new Platform(os, arch, "org.ioatom.internal.linux." + arch, null);
        }
        return new Platform(os, arch, null,
                "no bindings for " + osName + " on " + osArch + " (ioatom ships linux x86_64 and linux aarch64)");
    }

    /**
     * Tells whether the generated Linux bindings ({@code org.ioatom.internal.linux}) describe this
     * platform: epoll, poll, select, the eventfd waker and {@code IoSocket} need them; kqueue
     * does not.
     *
     * @return true on Linux x86_64 and aarch64
     */
    public boolean hasLinuxBindings() {
        return bindingPackage != null;
    }

    @Override
    public String toString() {
        return os.name().toLowerCase(Locale.ROOT) + "-" + arch;
    }
}
