package org.ioatom.jextract;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Merges what each ABI says into one Java expression: the value itself where all agree, else
 * {@code Linux.AARCH64 ? <aarch64 value> : <x86_64 value>}, the one form every per-ABI
 * difference in the output takes.
 */
final class PerAbi {

    /** The class holding the ABI flag, and the flag. */
    static final String FLAG_CLASS = "Linux";
    static final String FLAG = "AARCH64";

    private PerAbi() {
    }

    /**
     * @param byAbi the Java expression per ABI, in --target order
     * @param inFlagClass whether the expression is used inside {@link #FLAG_CLASS} itself
     * @param what names the value in an error message
     */
    static String select(Map<String, String> byAbi, boolean inFlagClass, String what) {
        Set<String> distinct = new LinkedHashSet<>(byAbi.values());
        if (distinct.size() == 1) {
            return distinct.iterator().next();
        }
        if (!byAbi.keySet().equals(Set.of("x86_64", "aarch64"))) {
            throw new IllegalStateException(what + " differs between the ABIs " + byAbi
                    + ", and only x86_64 and aarch64 can be told apart (by " + FLAG_CLASS + "." + FLAG + ")");
        }
        return (inFlagClass ? FLAG : FLAG_CLASS + "." + FLAG) + " ? " + byAbi.get("aarch64") + " : " + byAbi.get("x86_64");
    }

    /** Whether the values differ between the ABIs. */
    static boolean differ(Map<String, String> byAbi) {
        return new LinkedHashSet<>(byAbi.values()).size() > 1;
    }
}
