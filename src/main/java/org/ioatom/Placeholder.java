package org.ioatom;
/** temporary */
public final class Placeholder { private Placeholder() {} }
