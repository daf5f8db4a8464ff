/**
 * ioatom: unified edge-triggered polling over the FFM API.
 *
 * <p>Only {@code org.ioatom} is exported; backends and bindings are internal.
 */
module org.ioatom {
    exports org.ioatom;
}
