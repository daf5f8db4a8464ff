package org.ioatom.testing;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;

/**
 * Which compilers this test JVM runs code with: the allocation suites size their windows and
 * read their expectations from it (C2 removes some allocations by escape analysis, C1 and the
 * interpreter remove none, so code that allocates nothing there allocates nothing anywhere).
 */
public enum JitMode {
    /** The default tiered JVM: C1 first, C2 for hot code. */
    C2("C2 (default tiered)"),
    /** {@code -XX:TieredStopAtLevel=1..3}: hot code is compiled by C1 only, no escape analysis. */
    C1("C1 only (-XX:TieredStopAtLevel=1)"),
    /** {@code -Xint}: nothing is compiled. */
    INTERPRETER("interpreter only (-Xint)");

    private final String description;

    JitMode(String description) {
        this.description = description;
    }

    /** @return how the JVM was started, for messages */
    public String description() {
        return description;
    }

    private static final JitMode CURRENT = detect();

    /** @return the mode of this JVM */
    public static JitMode current() {
        return CURRENT;
    }

    private static JitMode detect() {
        if (System.getProperty("java.vm.info", "").contains("interpreted mode")) {
            return INTERPRETER;
        }
        var hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        if (hotspot == null) {
            return C2;
        }
        boolean tiered = Boolean.parseBoolean(hotspot.getVMOption("TieredCompilation").getValue());
        int stopAt = Integer.parseInt(hotspot.getVMOption("TieredStopAtLevel").getValue());
        if (tiered && stopAt == 0) {
            return INTERPRETER;
        }
        return tiered && stopAt < 4 ? C1 : C2;
    }
}
