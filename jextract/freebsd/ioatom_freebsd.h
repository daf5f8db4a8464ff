/*
 * The C declarations ioatom binds on FreeBSD (12 or newer, 64-bit): jextract/freebsd/kqueue.args
 * names the symbols taken from here. Only what the kqueue backend needs.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <errno.h>
#include <unistd.h>
