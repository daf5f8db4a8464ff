/** ioatom's public API. */
package org.ioatom;
