package org.ioatom.testing;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.ioatom.PollerKind;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;

/** The machinery behind {@link EveryBackend}: one invocation per kind, the kind as the parameter. */
public final class EveryBackendExtension implements TestTemplateInvocationContextProvider {

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> m.isAnnotationPresent(EveryBackend.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        Method method = context.getRequiredTestMethod();
        if (method.getParameterCount() != 1 || method.getParameterTypes()[0] != PollerKind.class) {
            throw new IllegalStateException("@EveryBackend method " + method.getName()
                    + " must take exactly one parameter, the PollerKind");
        }
        List<PollerKind> except = Arrays.asList(method.getAnnotation(EveryBackend.class).except());
        List<PollerKind> kinds = Kinds.available().filter(k -> !except.contains(k)).toList();
        if (kinds.isEmpty()) {
            // JUnit fails a template without invocations; report the test as skipped, with the reason.
            return Stream.of(new NoBackend("no backend left for this test: available " + Kinds.available().toList()
                    + ", except " + except + " (-Dioatom.test.kinds restricts the available ones)"));
        }
        return kinds.stream().map(Invocation::new);
    }

    private record NoBackend(String reason) implements TestTemplateInvocationContext, ExecutionCondition {
        @Override
        public String getDisplayName(int invocationIndex) {
            return "[no backend]";
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            return List.of(this);
        }

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return ConditionEvaluationResult.disabled(reason);
        }
    }

    private record Invocation(PollerKind kind) implements TestTemplateInvocationContext, ParameterResolver {
        @Override
        public String getDisplayName(int invocationIndex) {
            return "[" + kind + "]";
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            return List.of(this);
        }

        @Override
        public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
            return parameter.getParameter().getType() == PollerKind.class;
        }

        @Override
        public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
            return kind;
        }
    }
}
