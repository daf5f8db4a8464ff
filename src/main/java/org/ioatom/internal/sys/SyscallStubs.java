package org.ioatom.internal.sys;

import java.util.Arrays;

/**
 * The machine code of ioatom's system-call stubs: one tiny function per system call that enters
 * the kernel and returns its raw result, which is the value on success and {@code -errno} on
 * failure. Nothing touches the C library's {@code errno}, so the FFM call needs no
 * {@code captureCallState} (see {@link SyscallLinker} for why that matters).
 *
 * <p>Each stub is a C function of its system call's own signature: the C calling convention
 * already places arguments 1 to 6 where the kernel wants them, except on x86_64, where the
 * kernel takes the fourth in {@code r10} instead of {@code rcx}.
 *
 * <pre>
 * x86_64 (11 bytes)                     aarch64 (12 bytes)
 *   b8 NN NN NN NN   mov  eax, NR         movz x8, #NR
 *   49 89 ca         mov  r10, rcx        svc  #0
 *   0f 05            syscall              ret
 *   c3               ret
 * </pre>
 *
 * <p>The kernel clobbers only registers the C convention already treats as scratch
 * ({@code rcx}, {@code r11} on x86_64; none but {@code x0} on aarch64). Stubs are padded to
 * {@value #STUB_BYTES} bytes with trapping instructions, so a bad jump stops at once.
 */
public final class SyscallStubs {
    private SyscallStubs() {}

    /** Bytes reserved per stub; a multiple of 4 keeps aarch64 instructions aligned. */
    public static final int STUB_BYTES = 16;

    /** The architectures ioatom has stubs for ({@code x86_64}, {@code aarch64}). */
    public static boolean supports(String arch) {
        return arch.equals("x86_64") || arch.equals("aarch64");
    }

    /**
     * The stub for system call {@code number} on {@code arch}.
     *
     * @param arch   {@code x86_64} or {@code aarch64}
     * @param number the system call number (0 to 65535 on aarch64, where it is a 16-bit immediate)
     * @return {@value #STUB_BYTES} bytes of machine code
     * @throws IllegalArgumentException for another architecture or a number out of range
     */
    public static byte[] encode(String arch, int number) {
        return switch (arch) {
            case "x86_64" -> x86_64(number);
            case "aarch64" -> aarch64(number);
            default -> throw new IllegalArgumentException("no system-call stubs for " + arch);
        };
    }

    private static byte[] x86_64(int number) {
        if (number < 0) {
            throw new IllegalArgumentException("system call number " + number + " is negative");
        }
        byte[] code = new byte[STUB_BYTES];
        Arrays.fill(code, (byte) 0xcc); // int3
        int i = 0;
        code[i++] = (byte) 0xb8; // mov eax, imm32
        for (int shift = 0; shift < 32; shift += 8) {
            code[i++] = (byte) (number >>> shift);
        }
        code[i++] = 0x49; // mov r10, rcx
        code[i++] = (byte) 0x89;
        code[i++] = (byte) 0xca;
        code[i++] = 0x0f; // syscall
        code[i++] = 0x05;
        code[i] = (byte) 0xc3; // ret
        return code;
    }

    private static byte[] aarch64(int number) {
        if (number < 0 || number > 0xffff) {
            throw new IllegalArgumentException("system call number " + number + " does not fit movz's 16 bits");
        }
        byte[] code = new byte[STUB_BYTES];
        putWord(code, 0, 0xd2800008 | (number << 5)); // movz x8, #number
        putWord(code, 4, 0xd4000001); // svc #0
        putWord(code, 8, 0xd65f03c0); // ret
        putWord(code, 12, 0xd4200000); // brk #0
        return code;
    }

    private static void putWord(byte[] code, int at, int word) {
        for (int k = 0; k < 4; k++) {
            code[at + k] = (byte) (word >>> (8 * k)); // little-endian
        }
    }
}
