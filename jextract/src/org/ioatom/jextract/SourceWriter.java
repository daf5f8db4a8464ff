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

    /** A javadoc comment: one line if it fits, else wrapped at word boundaries. */
    SourceWriter doc(String text) {
        String indentText = "    ".repeat(indent);
        if (indentText.length() + text.length() + 7 <= 110) {
            return line("/** " + text + " */");
        }
        line("/**");
        StringBuilder current = new StringBuilder(" *");
        for (String word : text.split(" ")) {
            if (current.length() > 2 && indentText.length() + current.length() + 1 + word.length() > 110) {
                line(current.toString());
                current = new StringBuilder(" *");
            }
            current.append(' ').append(word);
        }
        line(current.toString());
        return line(" */");
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
