package org.ioatom.internal;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;

import org.ioatom.internal.linux.Errno;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Errno holds every Linux errno value, aliases included, and names each value. */
class ErrnoHoldsTheLinuxErrorNumbersTest {

    @Test
    void errnoHasTheWellKnownValues() {
        assertEquals(1, Errno.EPERM);
        assertEquals(2, Errno.ENOENT);
        assertEquals(4, Errno.EINTR);
        assertEquals(9, Errno.EBADF);
        assertEquals(11, Errno.EAGAIN);
        assertEquals(Errno.EAGAIN, Errno.EWOULDBLOCK);
        assertEquals(22, Errno.EINVAL);
        assertEquals(32, Errno.EPIPE);
        assertEquals(35, Errno.EDEADLK);
        assertEquals(Errno.EDEADLK, Errno.EDEADLOCK);
        assertEquals(95, Errno.EOPNOTSUPP);
        assertEquals(Errno.EOPNOTSUPP, Errno.ENOTSUP);
        assertEquals(104, Errno.ECONNRESET);
        assertEquals(110, Errno.ETIMEDOUT);
        assertEquals(111, Errno.ECONNREFUSED);
        assertEquals(115, Errno.EINPROGRESS);
        assertEquals(133, Errno.EHWPOISON);
    }

    @Test
    void everyNumberFromEpermToEhwpoisonHasANameThatIsAConstantOfThatValue() {
        Map<String, Number> values = GeneratedBindings.X86_64.numbers("Errno", "E[A-Z0-9]+");
        for (int n = 1; n <= 133; n++) {
            if (n == 41 || n == 58) {
                assertNull(Errno.name(n), "unassigned on Linux: " + n);
                continue; // between EWOULDBLOCK/ENOMSG and EDEADLOCK/EBFONT
            }
            String name = Errno.name(n);
            assertNotNull(name, "no name for " + n);
            assertEquals(n, values.get(name), name);
        }
        assertEquals(134, values.size(), "131 numbers plus EWOULDBLOCK, EDEADLOCK and ENOTSUP");
        for (var e : values.entrySet()) {
            assertEquals(e.getValue(), values.get(Errno.name(e.getValue().intValue())), e.getKey());
        }
    }

    @Test
    void aliasesAreNamedByTheirCommonSpelling() {
        assertEquals("EAGAIN", Errno.name(Errno.EWOULDBLOCK));
        assertEquals("EDEADLK", Errno.name(Errno.EDEADLOCK));
        assertEquals("EOPNOTSUPP", Errno.name(Errno.ENOTSUP));
        assertEquals("EBADF", Errno.name(Errno.EBADF));
    }

    @Test
    void anUnknownNumberHasNoName() {
        assertNull(Errno.name(0));
        assertNull(Errno.name(-1));
        assertNull(Errno.name(134));
        assertNull(Errno.name(Integer.MIN_VALUE));
    }

    @Test
    void aarch64SharesTheNumbering() {
        assertEquals(GeneratedBindings.X86_64.numbers("Errno", ".*"), GeneratedBindings.AARCH64.numbers("Errno", ".*"));
    }

    @Test
    void errnoHasOnlyConstantsAndName() throws NoSuchMethodException {
        for (Field f : Errno.class.getDeclaredFields()) {
            assertTrue(f.getName().matches("E[A-Z0-9]+") && f.getType() == int.class && Modifier.isStatic(f.getModifiers())
                    && Modifier.isFinal(f.getModifiers()), "unexpected field " + f);
        }
        for (Method m : Errno.class.getDeclaredMethods()) {
            assertEquals(Errno.class.getMethod("name", int.class), m, "unexpected method " + m);
        }
    }
}
