/* Every errno value Linux defines: jextract/linux/errno.args takes them from here. */
#define _GNU_SOURCE

#include <errno.h>
