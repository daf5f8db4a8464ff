package org.ioatom.jextract;

/** Indented Java source with '\n' line ends only, so output is identical on every machine. */
final class SourceWriter {

    private final StringBuilder text = new StringBuilder();
    private int indent;

    SourceWriter line(String line) {
        if (!line.isEmpty()) {
            text.append("    ".repeat(indent)).append(line);
        }
        text.append('\n');
        return this;
    }

    SourceWriter blank() {
        return line("");
    }

    /** Writes the line and indents what follows (the line should end with '{'). */
    SourceWriter open(String line) {
        line(line);
        indent++;
        return this;
    }

    /** Outdents and writes the line (usually "}"). */
    SourceWriter close(String line) {
        indent--;
        return line(line);
    }

    /** The body of a catch block: jextract's convention that a downcall never throws checked exceptions. */
    SourceWriter indentedThrow() {
        return line("    throw new AssertionError(\"unexpected exception from a native call\", ex$);");
    }

    /** A one-line javadoc comment for a method without parameters: {@return text}. */
    SourceWriter returns(String text) {
        return line("/** {@return " + text + "} */");
    }

    /**
     * A javadoc comment with a tag per parameter (each "name description") and, unless
     * {@code returns} is null, a return tag: doclint wants both on every public method.
     */
    SourceWriter javadoc(String summary, java.util.List<String> params, String returns) {
        line("/**");
        line(" * " + summary);
        line(" *");
        for (String p : params) {
            line(" * @param " + p);
        }
        if (returns != null) {
            line(" * @return " + returns);
        }
        return line(" */");
    }

    /** A one-line javadoc comment. */
    SourceWriter doc(String sentence) {
        return line("/** " + sentence + " */");
    }

    @Override
    public String toString() {
        return text.toString();
    }

    /** Makes text safe inside a javadoc {@code ...} tag. */
    static String code(String c) {
        return "{@code " + c.replace("*/", "*&#47;").replace("@", "&#64;") + "}";
    }
}
