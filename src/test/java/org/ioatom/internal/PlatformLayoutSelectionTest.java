package org.ioatom.internal;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.ioatom.internal.linux.EpollEvent;
import org.ioatom.internal.linux.Linux;
import org.ioatom.internal.sys.Platform;
import org.junit.jupiter.api.Test;

/** The one generated class set carries both Linux ABIs and selects its own by os.arch. */
class PlatformLayoutSelectionTest {

    @Test
    void epollEventIsPacked12BytesOnX86_64And16OnAarch64() {
        assertEquals(12, EpollEvent.LAYOUT_X86_64.byteSize(), "packed on x86_64");
        assertEquals(4, EpollEvent.LAYOUT_X86_64.byteOffset(groupElement("data")));
        assertEquals(1, EpollEvent.LAYOUT_X86_64.byteAlignment());
        assertEquals(16, EpollEvent.LAYOUT_AARCH64.byteSize(), "naturally aligned on aarch64");
        assertEquals(8, EpollEvent.LAYOUT_AARCH64.byteOffset(groupElement("data")));
        assertEquals(8, EpollEvent.LAYOUT_AARCH64.byteAlignment());
    }

    @Test
    void theHostSelectsItsOwnLayoutAndOffsets() {
        assertSame(Linux.AARCH64 ? EpollEvent.LAYOUT_AARCH64 : EpollEvent.LAYOUT_X86_64, EpollEvent.LAYOUT);
        assertEquals(EpollEvent.LAYOUT.byteSize(), EpollEvent.SIZE);
        assertEquals(EpollEvent.LAYOUT.byteOffset(groupElement("data")), EpollEvent.DATA_OFFSET);
        assertEquals(java.util.Set.of("aarch64", "arm64").contains(System.getProperty("os.arch")), Linux.AARCH64);
    }

    @Test
    void eachAbiSelectsItsOwnValues() {
        assertEquals(12L, GeneratedBindings.X86_64.field("EpollEvent", "SIZE"));
        assertEquals(4L, GeneratedBindings.X86_64.field("EpollEvent", "DATA_OFFSET"));
        assertEquals(16L, GeneratedBindings.AARCH64.field("EpollEvent", "SIZE"));
        assertEquals(8L, GeneratedBindings.AARCH64.field("EpollEvent", "DATA_OFFSET"));
    }

    @Test
    void theAbiFlagIsTrueForBothSpellingsOfAarch64Only() {
        assertEquals(true, GeneratedBindings.forOsArch("aarch64").field("Linux", "AARCH64"));
        assertEquals(true, GeneratedBindings.forOsArch("arm64").field("Linux", "AARCH64"));
        assertEquals(false, GeneratedBindings.forOsArch("amd64").field("Linux", "AARCH64"));
        assertEquals(false, GeneratedBindings.forOsArch("x86_64").field("Linux", "AARCH64"));
        assertEquals(false, GeneratedBindings.forOsArch("riscv64").field("Linux", "AARCH64"));
    }

    @Test
    void anUnsupportedPlatformIsAValueWithAReasonNamingIt() {
        Platform riscv = Platform.detect("Linux", "riscv64");
        assertFalse(riscv.hasLinuxBindings());
        assertTrue(riscv.unsupportedReason().contains("Linux on riscv64"), riscv.unsupportedReason());
        Platform windows = Platform.detect("Windows 11", "amd64");
        assertFalse(windows.hasLinuxBindings());
        assertTrue(windows.unsupportedReason().contains("Windows 11"), windows.unsupportedReason());
    }
}
