package org.ioatom.testing;

/**
 * JUnit tags that select the build's extra test runs (pom.xml, surefire executions). Every test
 * runs in the default run; a tagged class runs again in the run named by its tag.
 */
public final class Tags {
    private Tags() {}

    /**
     * Tests whose outcome depends on the layout of {@code struct kevent}: run again, kqueue only,
     * over the emulation built with macOS's 32-byte layout (execution kqueue-macos-layout).
     */
    public static final String KQUEUE_LAYOUT = "kqueue-layout";

    /**
     * Tests of the system calls themselves: run again with the calls made through the C library
     * instead of the direct stubs (execution syscalls-via-libc, {@code -Dioatom.syscalls=libc}).
     */
    public static final String SYSCALLS = "syscalls";

    /**
     * Promises that a path allocates nothing. They hold for the direct system-call mode, so the
     * C library run leaves them out.
     */
    public static final String ALLOCATION = "allocation";
}
