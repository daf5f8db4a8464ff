/*
 * C reference for DispatchBenchmark: one wait + one pass over the ready descriptors, with R of
 * N registered descriptors ready, on raw epoll / poll / select. Prints ns per operation and per
 * event as TSV lines:  mode  fdtype  R  N  ns_op  ns_event  (median of the timed repetitions).
 *
 *   epoll-et-mod  edge-triggered epoll (EPOLLIN|EPOLLRDHUP|EPOLLET, as ioatom registers) re-armed
 *                 per event by EPOLL_CTL_MOD alternating EPOLLIN and EPOLLIN|EPOLLOUT: the same
 *                 system calls as ioatom's epoll backend in the Java benchmark
 *   epoll-lt      level-triggered epoll, no re-arm (what java.nio's Selector does underneath)
 *   poll, select  level-triggered, scan of the whole set
 *
 * fdtype eventfd: N eventfds, R of them hold the value 1 (never read).
 * fdtype udp:     N UDP sockets; R bound to 127.0.0.1 holding one datagram sent to themselves
 *                 (the descriptors java.nio uses in the benchmark).
 *
 * usage: dispatch MODE FDTYPE R N [seconds-per-rep] [reps]
 *
 * With DISPATCH_IDLE_THREAD=1 in the environment an idle second thread is started first. The
 * process then shares its descriptor table between threads, as every JVM does, and the kernel's
 * fd lookups (poll, select, epoll_ctl, read, write) take a reference count on each file instead
 * of the single-threaded shortcut: that isolates what the JVM pays for being multi-threaded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct app { int fd, events, slot, poller; int flip, calls; };

static struct app *apps;
static int nfds, nready;
static int epfd;
static struct epoll_event *evs;
static int maxev;
static struct pollfd *pfds;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what) { perror(what); exit(1); }

static void *idle(void *arg) {
    (void)arg;
    for (;;) pause();
    return NULL;
}

static int make_fd(const char *type, int ready) {
    if (strcmp(type, "eventfd") == 0) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) die("eventfd");
        if (ready) {
            uint64_t one = 1;
            if (write(fd, &one, 8) != 8) die("write eventfd");
        }
        return fd;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (ready) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
        if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
        char b = 1;
        if (sendto(fd, &b, 1, 0, (struct sockaddr *)&a, len) != 1) die("sendto");
    }
    return fd;
}

/* One operation; returns events delivered. */
static int op_epoll(int rearm) {
    int n = epoll_wait(epfd, evs, maxev, 0);
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
        struct app *a = &apps[evs[i].data.u64];
        if (rearm) {
            struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (a->flip ? 0 : EPOLLOUT)};
            e.data.u64 = evs[i].data.u64;
            if (epoll_ctl(epfd, EPOLL_CTL_MOD, a->fd, &e) < 0) die("epoll_ctl MOD");
            a->flip ^= 1;
        }
        a->calls++;
    }
    return n;
}

static int op_poll(void) {
    int n = poll(pfds, nfds, 0);
    if (n < 0) die("poll");
    int got = 0;
    for (int i = 0; i < nfds && got < n; i++) {
        if (pfds[i].revents) {
            apps[i].calls++;
            got++;
        }
    }
    return got;
}

static fd_set want, rd;
static int maxfd;
static int op_select(void) {
    struct timeval tv = {0, 0};
    rd = want;
    int n = select(maxfd + 1, &rd, NULL, NULL, &tv);
    if (n < 0) die("select");
    int got = 0;
    for (int i = 0; i < nfds && got < n; i++) {
        if (FD_ISSET(apps[i].fd, &rd)) {
            apps[i].calls++;
            got++;
        }
    }
    return got;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s epoll-et-mod|epoll-lt|poll|select eventfd|udp R N [seconds] [reps]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *type = argv[2];
    nready = atoi(argv[3]);
    nfds = atoi(argv[4]);
    double secs = argc > 5 ? atof(argv[5]) : 0.5;
    int reps = argc > 6 ? atoi(argv[6]) : 5;
    int m = strcmp(mode, "epoll-et-mod") == 0 ? 0 : strcmp(mode, "epoll-lt") == 0 ? 1
          : strcmp(mode, "poll") == 0 ? 2 : strcmp(mode, "select") == 0 ? 3 : -1;
    if (m < 0 || nready < 1 || nready > nfds) { fprintf(stderr, "bad arguments\n"); return 2; }

    const char *mt = getenv("DISPATCH_IDLE_THREAD");
    if (mt && strcmp(mt, "1") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, idle, NULL) != 0) die("pthread_create");
        mode = strcmp(mode, "poll") == 0 ? "poll+thread" : strcmp(mode, "select") == 0 ? "select+thread"
             : strcmp(mode, "epoll-et-mod") == 0 ? "epoll-et-mod+thread" : "epoll-lt+thread";
    }
    apps = calloc(nfds, sizeof *apps);
    pfds = calloc(nfds, sizeof *pfds);
    maxev = nfds < 4096 ? nfds : 4096; /* ioatom's MAX_BATCH */
    evs = calloc(maxev, sizeof *evs);
    if (m <= 1 && (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1");
    FD_ZERO(&want);
    int stride = nfds / nready;
    for (int i = 0; i < nfds; i++) {
        int fd = make_fd(type, i % stride == 0 && i / stride < nready);
        apps[i].fd = fd;
        pfds[i].fd = fd;
        pfds[i].events = POLLIN;
        if (m <= 1) {
            struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP | (m == 0 ? EPOLLET : 0)};
            e.data.u64 = i;
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl ADD");
        }
        if (m == 3) {
            if (fd >= FD_SETSIZE) { fprintf(stderr, "select: fd %d >= FD_SETSIZE\n", fd); return 3; }
            FD_SET(fd, &want);
            if (fd > maxfd) maxfd = fd;
        }
    }
    /* Loopback datagrams: wait until all R are readable. */
    for (double end = now() + 5; now() < end;) {
        int got = m <= 1 ? op_epoll(m == 0) : m == 2 ? op_poll() : op_select();
        if (got == nready) break;
    }
    double best[64];
    if (reps > 64) reps = 64;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        long ops = 0;
        double t0 = now(), t1;
        do {
            for (int k = 0; k < 16; k++) {
                int got = m <= 1 ? op_epoll(m == 0) : m == 2 ? op_poll() : op_select();
                if (got != nready) { fprintf(stderr, "delivered %d events, expected %d\n", got, nready); return 1; }
            }
            ops += 16;
            t1 = now();
        } while (t1 - t0 < secs);
        if (r >= 0) best[r] = (t1 - t0) * 1e9 / ops;
    }
    /* median */
    for (int i = 0; i < reps; i++)
        for (int j = i + 1; j < reps; j++)
            if (best[j] < best[i]) { double t = best[i]; best[i] = best[j]; best[j] = t; }
    double med = best[reps / 2];
    printf("%s\t%s\t%d\t%d\t%.1f\t%.2f\n", mode, type, nready, nfds, med, med / nready);
    return 0;
}
