/*
 * C reference echo server: one thread, edge-triggered epoll, non-blocking sockets. Reads and
 * writes back what it read; what the socket does not take waits in a per-connection buffer with
 * EPOLLOUT until it drains (reading pauses meanwhile).
 *
 * Short-read rule (the same as the ioatom samples'): a read that returns less than the buffer
 * emptied the socket at that moment, and edge-triggered epoll reports any later arrival as a new
 * EPOLLIN, so the round ends there instead of paying for a read that can only say EAGAIN. Not
 * when the event also reported the peer's end of stream (EPOLLRDHUP/EPOLLHUP: a FIN queued behind
 * the data brings no new event): then reading goes on until EAGAIN or EOF.
 *
 * usage: echo_server PORT [BUFSIZE]   (listens on 127.0.0.1 only; BUFSIZE default 65536, e.g.
 *        16384 to match the ioatom echo-server sample's 16 KiB buffers)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536 /* the most a connection's buffer can be; bufsize <= BUF is used */
static size_t bufsize = BUF;
#define MAXEV 1024

struct conn {
    int fd;
    size_t off, len; /* unsent bytes buf[off, len) */
    char buf[BUF];
};

static int epfd;

static void die(const char *what) { perror(what); exit(1); }

static void conn_close(struct conn *c) {
    close(c->fd);
    free(c);
}

/* Returns 0 to keep the connection, -1 to close it. */
static int flush(struct conn *c) {
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 0;
            return -1;
        }
        c->off += n;
    }
    c->off = c->len = 0;
    return 0;
}

static int serve(struct conn *c, uint32_t events) {
    int short_read_ends = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) == EPOLLIN;
    for (;;) {
        if (c->len > 0) { /* blocked output: wait for EPOLLOUT before reading more */
            if (flush(c) < 0) return -1;
            if (c->len > 0) return 0;
        }
        ssize_t n = read(c->fd, c->buf, bufsize);
        if (n == 0) return -1;
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->off = 0;
        c->len = n;
        if (flush(c) < 0) return -1;
        if ((size_t)n < bufsize && short_read_ends && c->len == 0) return 0;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    signal(SIGPIPE, SIG_IGN);
    if (argc > 2) {
        bufsize = strtoul(argv[2], NULL, 10);
        if (bufsize < 1 || bufsize > BUF) { fprintf(stderr, "BUFSIZE must be 1..%d\n", BUF); return 2; }
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen");
    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
    struct epoll_event e = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &e) < 0) die("epoll_ctl");
    printf("echo_server listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    struct epoll_event evs[MAXEV];
    for (;;) {
        int n = epoll_wait(epfd, evs, MAXEV, -1);
        if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c == NULL) {
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = malloc(sizeof *nc);
                    nc->fd = fd;
                    nc->off = nc->len = 0;
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = nc};
                    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ce) < 0) { close(fd); free(nc); continue; }
                    if (serve(nc, 0) < 0) conn_close(nc);
                }
                continue;
            }
            if (serve(c, evs[i].events) < 0) conn_close(c);
        }
    }
}
