/*
 * The C declarations ioatom binds on Linux: jextract/linux/libc.args names the symbols taken
 * from here. _GNU_SOURCE exposes accept4, pipe2, POLLRDHUP, SOCK_NONBLOCK and friends.
 */
#define _GNU_SOURCE

#include <sys/epoll.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <errno.h>
#include <string.h>
