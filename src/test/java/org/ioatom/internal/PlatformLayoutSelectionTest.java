package org.ioatom.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.ioatom.internal.sys.Bindings;
import org.ioatom.internal.sys.Platform;
import org.junit.jupiter.api.Test;

/** The runtime picks the binding set of its own OS and CPU, and names what it cannot support. */
class PlatformLayoutSelectionTest {

    @Test
    void linuxOnX86_64AndAarch64SelectTheirOwnGeneratedPackages() {
        Platform x86 = Platform.detect("Linux", "amd64");
        Platform arm = Platform.detect("Linux", "aarch64");
        assertEquals("org.ioatom.internal.linux.x86_64", x86.bindingPackage());
        assertEquals("org.ioatom.internal.linux.aarch64", arm.bindingPackage());
        assertNull(x86.unsupportedReason());
        assertEquals("linux-x86_64", x86.toString());
    }

    @Test
    void theSelectedPackagesCarryEachAbisOwnEpollEventLayout() {
        Bindings x86 = Bindings.of(Platform.detect("Linux", "x86_64").bindingPackage());
        Bindings arm = Bindings.of(Platform.detect("Linux", "arm64").bindingPackage());
        assertEquals(12, x86.sizeof("epoll_event"), "packed on x86_64");
        assertEquals(4, x86.offset("epoll_event", "data"));
        assertEquals(16, arm.sizeof("epoll_event"), "naturally aligned on aarch64");
        assertEquals(8, arm.offset("epoll_event", "data"));
    }

    @Test
    void anUnsupportedPlatformIsAValueWithAReasonNamingIt() {
        Platform riscv = Platform.detect("Linux", "riscv64");
        assertFalse(riscv.supported());
        assertTrue(riscv.unsupportedReason().contains("Linux on riscv64"), riscv.unsupportedReason());
        Platform windows = Platform.detect("Windows 11", "amd64");
        assertFalse(windows.supported());
        assertTrue(windows.unsupportedReason().contains("Windows 11"), windows.unsupportedReason());
    }
}
