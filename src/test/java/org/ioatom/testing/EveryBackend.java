package org.ioatom.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.ioatom.PollerKind;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated test method once per backend this machine offers ({@link Kinds#available()}),
 * passing the {@link PollerKind} as its parameter; each run is named after its kind, e.g. {@code [epoll]}.
 *
 * <pre>{@code
 * @EveryBackend
 * void drainedDescriptorReportsNothingUntilNewDataArrives(PollerKind kind) { ... }
 *
 * @EveryBackend(except = PollerKind.SELECT) // needs more than FD_SETSIZE descriptors
 * void ...(PollerKind kind) { ... }
 * }</pre>
 *
 * {@code -Dioatom.test.kinds=kqueue,epoll} restricts every such test to the named kinds.
 */
@Documented
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@TestTemplate
@ExtendWith(EveryBackendExtension.class)
public @interface EveryBackend {
    /** @return kinds this test does not apply to, e.g. SELECT for more than FD_SETSIZE descriptors */
    PollerKind[] except() default {};
}
