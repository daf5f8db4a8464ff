package org.ioatom.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;

import org.ioatom.internal.linux.x86_64.Errno;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Errno holds every Linux errno value, aliases included, and nothing else. */
class ErrnoHoldsTheLinuxErrorNumbersTest {

    @Test
    void x86_64ErrnoHasTheWellKnownValues() {
        assertEquals(1, Errno.EPERM());
        assertEquals(2, Errno.ENOENT());
        assertEquals(4, Errno.EINTR());
        assertEquals(9, Errno.EBADF());
        assertEquals(11, Errno.EAGAIN());
        assertEquals(Errno.EAGAIN(), Errno.EWOULDBLOCK());
        assertEquals(22, Errno.EINVAL());
        assertEquals(32, Errno.EPIPE());
        assertEquals(35, Errno.EDEADLK());
        assertEquals(Errno.EDEADLK(), Errno.EDEADLOCK());
        assertEquals(95, Errno.EOPNOTSUPP());
        assertEquals(Errno.EOPNOTSUPP(), Errno.ENOTSUP());
        assertEquals(104, Errno.ECONNRESET());
        assertEquals(110, Errno.ETIMEDOUT());
        assertEquals(111, Errno.ECONNREFUSED());
        assertEquals(115, Errno.EINPROGRESS());
        assertEquals(133, Errno.EHWPOISON());
    }

    @Test
    void everyNumberFromEpermToEhwpoisonHasAName() {
        Map<String, Number> values = new GeneratedBindings("x86_64").constants("Errno");
        for (int n = 1; n <= 133; n++) {
            if (n == 41 || n == 58) {
                continue; // unassigned on Linux (between EWOULDBLOCK/ENOMSG and EDEADLOCK/EBFONT)
            }
            int number = n;
            assertTrue(values.values().stream().anyMatch(v -> v.intValue() == number), "no Errno constant is " + n);
        }
        assertEquals(134, values.size(), "131 numbers plus EWOULDBLOCK, EDEADLOCK and ENOTSUP");
    }

    @Test
    void aarch64SharesTheNumbering() {
        assertEquals(new GeneratedBindings("x86_64").constants("Errno"), new GeneratedBindings("aarch64").constants("Errno"));
    }

    @Test
    void errnoHasOnlyConstants() {
        for (Method m : Errno.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers())) {
                assertTrue(m.getName().matches("E[A-Z0-9]+") && m.getParameterCount() == 0 && m.getReturnType() == int.class,
                        "unexpected public member " + m);
            }
        }
        assertEquals(0, Errno.class.getFields().length, "no public fields");
    }
}
