/*
 * The C declarations ioatom binds on Linux: jextract/linux/libc.args names the symbols taken
 * from here. _GNU_SOURCE exposes accept4, pipe2, ppoll, POLLRDHUP, SOCK_NONBLOCK and friends.
 */
#define _GNU_SOURCE

#include <sys/epoll.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <string.h>
#include <linux/io_uring.h>

/*
 * No C library declares io_uring's system calls; these are the kernel's prototypes
 * (io_uring/io_uring.c), declared here so the generator can type their wrappers.
 */
int io_uring_setup(unsigned int entries, struct io_uring_params *p);
int io_uring_enter(unsigned int fd, unsigned int to_submit, unsigned int min_complete, unsigned int flags,
                   const void *arg, size_t argsz);
