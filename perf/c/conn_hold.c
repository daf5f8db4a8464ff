/*
 * Connection holder for the memory-per-connection measurement (perf/src/.../MemoryRun.java):
 * opens N TCP connections to 127.0.0.1:PORT and keeps them idle, so that the server under test
 * holds N accepted sockets while the client ends live in another process (a process here may
 * hold at most 20 000 fds).
 *
 * Prints "connected N" on stdout once all N connects have returned, then waits until stdin
 * reaches EOF (the parent closes it) or SECONDS pass, whichever comes first, and exits. Every
 * socket has SO_LINGER 0, so exiting resets the connections instead of leaving N client ports
 * in TIME_WAIT.
 *
 * usage: conn_hold PORT N SECONDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT N SECONDS\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    int secs = atoi(argv[3]);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    time_t deadline = time(NULL) + secs;
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) { perror("socket"); return 1; }
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) { fprintf(stderr, "connect #%d: ", i); perror(""); return 1; }
        if (time(NULL) > deadline) { fprintf(stderr, "timed out after %d connections\n", i + 1); return 1; }
    }
    printf("connected %d\n", n);
    fflush(stdout);
    struct pollfd p = {.fd = 0, .events = POLLIN};
    char buf[64];
    for (;;) {
        long left = (long)(deadline - time(NULL));
        if (left <= 0) break;
        int r = poll(&p, 1, (int)(left * 1000));
        if (r == 0) break;
        if (r > 0 && read(0, buf, sizeof buf) <= 0) break; /* EOF: the parent is done */
    }
    return 0;
}
