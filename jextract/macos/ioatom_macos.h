/*
 * The C declarations ioatom binds on macOS (x86_64 and arm64): jextract/macos/kqueue.args names
 * the symbols taken from here. Only what the kqueue backend needs.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <errno.h>
#include <unistd.h>
