/*
 * Echo load generator: N connections to 127.0.0.1:PORT, each keeping DEPTH fixed-size messages
 * in flight (pipelined). A message counts when its SIZE bytes have come back; its latency is
 * the time from queueing it to receiving its last byte. Stops after SECONDS of measurement or
 * COUNT messages, whichever comes first; a warm-up of WARMUP seconds comes before.
 *
 * With SERVER_PID, the server's CPU time (utime+stime from /proc/PID/stat) over the measured
 * window is printed too, in total and per message.
 *
 * usage: echo_load PORT CONNS SIZE DEPTH SECONDS COUNT [WARMUP [SERVER_PID]]
 * prints: conns size depth msgs seconds msgs_per_s p50_us p99_us p999_us server_cpu_ms server_cpu_ns_per_msg
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    long to_send;    /* bytes queued, not yet written */
    long recv_part;  /* bytes of the current message received so far */
    int head, tail;  /* ring of send timestamps, DEPTH entries */
    uint64_t *sent;
};

static int depth, size;
static char *junk;
static uint32_t *lat;
static long nlat, maxlat;
static long done_msgs;
static int measuring;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

static void die(const char *what) { perror(what); exit(1); }

/* utime + stime of a process in seconds, or -1. */
static double proc_cpu(int pid) {
    if (pid <= 0) return -1;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* after ") ": state(3) ... utime is field 14, stime 15 */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static void queue_msg(struct conn *c) {
    c->sent[c->tail] = now_ns();
    c->tail = (c->tail + 1) % depth;
    c->to_send += size;
}

static int pump_out(struct conn *c) {
    while (c->to_send > 0) {
        long chunk = c->to_send < 65536 ? c->to_send : 65536;
        ssize_t n = send(c->fd, junk, chunk, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->to_send -= n;
    }
    return 0;
}

static char rbuf[1 << 16];
static int pump_in(struct conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, rbuf, sizeof rbuf);
        if (n == 0) return -1;
        if (n < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        c->recv_part += n;
        while (c->recv_part >= size) {
            c->recv_part -= size;
            uint64_t t = now_ns();
            uint64_t d = t - c->sent[c->head];
            c->head = (c->head + 1) % depth;
            if (measuring) {
                done_msgs++;
                if (nlat < maxlat) lat[nlat++] = d > 0xFFFFFFFFull ? 0xFFFFFFFFu : (uint32_t)d;
            }
            queue_msg(c);
        }
    }
}

static int cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 7) {
        fprintf(stderr, "usage: %s PORT CONNS SIZE DEPTH SECONDS COUNT [WARMUP]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port = atoi(argv[1]), nconns = atoi(argv[2]);
    size = atoi(argv[3]);
    depth = atoi(argv[4]);
    double secs = atof(argv[5]);
    maxlat = atol(argv[6]);
    double warm = argc > 7 ? atof(argv[7]) : 1.0;
    int spid = argc > 8 ? atoi(argv[8]) : 0;
    double cpu0 = 0, cpu1 = 0;
    junk = calloc(1, 65536);
    memset(junk, 'x', 65536);
    lat = malloc(sizeof *lat * maxlat);
    int ep = epoll_create1(0);
    struct conn *cs = calloc(nconns, sizeof *cs);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < nconns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");
        cs[i].fd = fd;
        cs[i].sent = calloc(depth, sizeof(uint64_t));
        struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &cs[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) die("epoll_ctl");
        for (int k = 0; k < depth; k++) queue_msg(&cs[i]);
    }
    struct epoll_event evs[1024];
    uint64_t start = now_ns(), mstart = 0, end = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (!measuring && t - start >= (uint64_t)(warm * 1e9)) { measuring = 1; mstart = t; cpu0 = proc_cpu(spid); }
        if (measuring && (t - mstart >= (uint64_t)(secs * 1e9) || nlat >= maxlat)) { end = t; cpu1 = proc_cpu(spid); break; }
        int n = epoll_wait(ep, evs, 1024, 100);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (pump_in(c) < 0 || pump_out(c) < 0) { fprintf(stderr, "connection lost\n"); return 1; }
        }
    }
    double el = (end - mstart) / 1e9;
    qsort(lat, nlat, sizeof *lat, cmp);
    double p50 = nlat ? lat[nlat / 2] / 1e3 : 0, p99 = nlat ? lat[(long)(nlat * 0.99)] / 1e3 : 0;
    double p999 = nlat ? lat[(long)(nlat * 0.999)] / 1e3 : 0;
    double cpu = spid > 0 && cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    printf("%d\t%d\t%d\t%ld\t%.3f\t%.0f\t%.1f\t%.1f\t%.1f\t%.0f\t%.0f\n", nconns, size, depth, done_msgs, el,
           done_msgs / el, p50, p99, p999, cpu < 0 ? -1 : cpu * 1e3, cpu < 0 || !done_msgs ? -1 : cpu * 1e9 / done_msgs);
    return 0;
}
