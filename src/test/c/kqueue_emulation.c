/*
 * kqueue() and kevent() emulated over Linux epoll, for ioatom's tests only: it lets the kqueue
 * backend run, and be tested, on Linux CI. It is not part of the library.
 *
 * Layout: FreeBSD 12+ struct kevent (64 bytes, with ext[4]) by default; macOS's 32-byte layout
 * (under #pragma pack(4)) when compiled with -DMACOS_LAYOUT. The constants are the ones both
 * systems' <sys/event.h> define for what is emulated (they agree on all of them).
 *
 * The subset, which is what ioatom's KqueueBackend uses:
 *   - filters EVFILT_READ and EVFILT_WRITE on file descriptors; one knote per (ident, filter);
 *   - flags EV_ADD, EV_DELETE, EV_ENABLE, EV_DISABLE, EV_CLEAR and EV_RECEIPT (anything else is
 *     EINVAL). EV_CLEAR maps to EPOLLET: an fd is edge-triggered when every enabled knote of it
 *     has EV_CLEAR, level-triggered otherwise;
 *   - each change is applied in order; a failed change, or any change with EV_RECEIPT, is
 *     copied to the eventlist with flags EV_ERROR and the errno (0 for success) in data. As on
 *     FreeBSD, when the eventlist has no room for it the call fails with that errno and later
 *     changes are not applied, and when any such entry was written the call returns at once
 *     without waiting for events;
 *   - EV_DELETE/EV_ENABLE/EV_DISABLE of a knote that does not exist is ENOENT; any change on a
 *     closed fd is EBADF. Closing an fd drops its knotes, as kqueue does: epoll forgets the
 *     registration of a closed file, and the next change for that fd number notices (an
 *     EPOLL_CTL_ADD that succeeds means the old file is gone) and starts afresh;
 *   - returned events: EV_EOF on EPOLLHUP/EPOLLRDHUP (READ) or EPOLLHUP/EPOLLERR (WRITE), with a
 *     nonzero fflags (EIO) when epoll says EPOLLERR. kqueue copies the socket's error into fflags
 *     and leaves it pending; Linux can only read it by consuming it (SO_ERROR), which would turn
 *     the app's next read from ECONNRESET into end of stream, so the emulation only marks it;
 *     data is FIONREAD for READ; udata comes back as given;
 *   - timeout: NULL waits forever, otherwise a struct timespec (rounded up to milliseconds);
 *     EINTR from the wait is returned as EINTR (changes are already applied by then).
 * Fault injection, for tests of the callers' failure paths (per thread, so that the thread that
 * arms a fault is the one that meets it):
 *   - kqueue_emulation_refuse_calls(count, err): the next count kevent calls fail with err before
 *     looking at the changelist, as a kevent refused as a whole would;
 *   - kqueue_emulation_interrupt_waits(count): the next count calls that reach the wait fail with
 *     EINTR instead of waiting, after their changes were applied, as a signal would make them.
 * Not emulated: other filters, EV_ONESHOT, EV_DISPATCH, NOTE_* flags, fds shared by dup()
 * (epoll keys registrations by file, kqueue by descriptor), and nevents of 1 with both filters
 * firing at once (the WRITE half is dropped).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef MACOS_LAYOUT
#pragma pack(4)
struct kevent {
    uintptr_t ident;
    int16_t filter;
    uint16_t flags;
    uint32_t fflags;
    intptr_t data;
    void *udata;
};
#pragma pack()
_Static_assert(sizeof(struct kevent) == 32, "macOS struct kevent is 32 bytes");
_Static_assert(_Alignof(struct kevent) == 4, "macOS struct kevent is packed to 4");
#else
struct kevent {
    uintptr_t ident;
    short filter;
    unsigned short flags;
    unsigned int fflags;
    int64_t data;
    void *udata;
    uint64_t ext[4];
};
_Static_assert(sizeof(struct kevent) == 64, "FreeBSD 12+ struct kevent is 64 bytes");
_Static_assert(offsetof(struct kevent, ext) == 32, "ext follows udata");
#endif
_Static_assert(offsetof(struct kevent, filter) == 8, "filter at 8");
_Static_assert(offsetof(struct kevent, flags) == 10, "flags at 10");
_Static_assert(offsetof(struct kevent, fflags) == 12, "fflags at 12");
_Static_assert(offsetof(struct kevent, data) == 16, "data at 16");
_Static_assert(offsetof(struct kevent, udata) == 24, "udata at 24");

#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_ERROR 0x4000
#define EV_EOF 0x8000
#define SUPPORTED_FLAGS (EV_ADD | EV_DELETE | EV_ENABLE | EV_DISABLE | EV_CLEAR | EV_RECEIPT)

struct knote {
    unsigned char present;
    unsigned char enabled;
    unsigned char clear;
    void *udata;
};

/* The knotes of one fd: [0] EVFILT_READ, [1] EVFILT_WRITE. */
struct fdstate {
    struct knote k[2];
    int in_epoll;
};

struct kq {
    pthread_mutex_t lock;
    struct fdstate *fds;
    int nfds;
};

/* Emulated queues by their epoll fd. A number reused by a new kqueue() gets a fresh state. */
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kq **queues;
static int nqueues;

static void kq_free(struct kq *q) {
    if (q != NULL) {
        pthread_mutex_destroy(&q->lock);
        free(q->fds);
        free(q);
    }
}

static struct kq *kq_get(int fd) {
    struct kq *q = NULL;
    pthread_mutex_lock(&table_lock);
    if (fd >= 0 && fd < nqueues) {
        q = queues[fd];
    }
    pthread_mutex_unlock(&table_lock);
    return q;
}

int kqueue(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        return -1;
    }
    struct kq *q = calloc(1, sizeof *q);
    if (q == NULL) {
        close(ep);
        errno = ENOMEM;
        return -1;
    }
    pthread_mutex_init(&q->lock, NULL);
    pthread_mutex_lock(&table_lock);
    if (ep >= nqueues) {
        int n = ep + 1 > 2 * nqueues ? ep + 1 : 2 * nqueues;
        struct kq **grown = realloc(queues, (size_t) n * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&table_lock);
            kq_free(q);
            close(ep);
            errno = ENOMEM;
            return -1;
        }
        memset(grown + nqueues, 0, (size_t) (n - nqueues) * sizeof *grown);
        queues = grown;
        nqueues = n;
    }
    struct kq *old = queues[ep];
    queues[ep] = q;
    pthread_mutex_unlock(&table_lock);
    kq_free(old); /* its fd number was closed, so nobody uses it any more */
    return ep;
}

/* The state of fd, or NULL; with create, grows the table as needed (NULL only if out of memory). */
static struct fdstate *state(struct kq *q, int fd, int create) {
    if (fd >= q->nfds) {
        if (!create) {
            return NULL;
        }
        int n = fd + 1 > 2 * q->nfds ? fd + 1 : 2 * q->nfds;
        struct fdstate *grown = realloc(q->fds, (size_t) n * sizeof *grown);
        if (grown == NULL) {
            return NULL;
        }
        memset(grown + q->nfds, 0, (size_t) (n - q->nfds) * sizeof *grown);
        q->fds = grown;
        q->nfds = n;
    }
    struct fdstate *s = &q->fds[fd];
    if (!create && !s->k[0].present && !s->k[1].present && !s->in_epoll) {
        return NULL;
    }
    return s;
}

static uint32_t epoll_events_of(const struct fdstate *s) {
    uint32_t ev = 0;
    int level = 0;
    if (s->k[0].present && s->k[0].enabled) {
        ev |= EPOLLIN | EPOLLRDHUP;
        level |= !s->k[0].clear;
    }
    if (s->k[1].present && s->k[1].enabled) {
        ev |= EPOLLOUT;
        level |= !s->k[1].clear;
    }
    /* With nothing enabled, edge-triggered keeps epoll's always-on EPOLLHUP from spinning. */
    return level ? ev : ev | EPOLLET;
}

/* Makes epoll match the knotes of fd. Returns 0 or an errno. */
static int sync_epoll(int ep, int fd, struct fdstate *s) {
    if (!s->k[0].present && !s->k[1].present) {
        if (s->in_epoll) {
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
            s->in_epoll = 0;
        }
        return 0;
    }
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = epoll_events_of(s);
    e.data.fd = fd;
    /* MOD re-arms the edge, so a condition that holds is reported: like kqueue re-running the
     * filter on EV_ADD. */
    if (epoll_ctl(ep, s->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e) < 0) {
        return errno;
    }
    s->in_epoll = 1;
    return 0;
}

/* Applies one change. Returns 0 or the errno kqueue would report for it. */
static int apply(struct kq *q, int ep, const struct kevent *c) {
    int f;
    if (c->filter == EVFILT_READ) {
        f = 0;
    } else if (c->filter == EVFILT_WRITE) {
        f = 1;
    } else {
        return EINVAL;
    }
    unsigned flags = c->flags;
    if ((flags & ~SUPPORTED_FLAGS) != 0) {
        return EINVAL;
    }
    if (c->ident > INT_MAX) {
        return EBADF;
    }
    int fd = (int) c->ident;
    struct fdstate *s = state(q, fd, 0);
    if (fcntl(fd, F_GETFD) < 0) {
        /* Closed: the kernel would have dropped its knotes already. */
        if (s != NULL) {
            memset(s, 0, sizeof *s);
        }
        return EBADF;
    }
    if (s != NULL && s->in_epoll) {
        /* Is the registration still the one of this file? epoll forgets it when the file is
         * closed; if the number now names another file, ADD succeeds: undo it and start afresh. */
        struct epoll_event probe;
        memset(&probe, 0, sizeof probe);
        probe.events = EPOLLET;
        probe.data.fd = fd;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &probe) == 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
            memset(s, 0, sizeof *s);
        }
    }
    if (flags & EV_DELETE) {
        if (s == NULL || !s->k[f].present) {
            return ENOENT;
        }
        memset(&s->k[f], 0, sizeof s->k[f]);
        return sync_epoll(ep, fd, s);
    }
    if (flags & EV_ADD) {
        s = state(q, fd, 1);
        if (s == NULL) {
            return ENOMEM;
        }
        struct knote *k = &s->k[f];
        struct knote before = *k;
        if (!k->present) {
            k->present = 1;
            k->enabled = 1;
        }
        k->clear = (flags & EV_CLEAR) != 0;
        k->udata = c->udata;
        if (flags & EV_ENABLE) {
            k->enabled = 1;
        }
        if (flags & EV_DISABLE) {
            k->enabled = 0;
        }
        int err = sync_epoll(ep, fd, s);
        if (err != 0) {
            *k = before;
            sync_epoll(ep, fd, s);
        }
        return err;
    }
    if (s == NULL || !s->k[f].present) {
        return ENOENT;
    }
    if (flags & EV_ENABLE) {
        s->k[f].enabled = 1;
    }
    if (flags & EV_DISABLE) {
        s->k[f].enabled = 0;
    }
    return sync_epoll(ep, fd, s);
}

static void fill(struct kevent *out, int fd, int filter, const struct knote *k, unsigned extra, uint32_t fflags,
                 int64_t data) {
    memset(out, 0, sizeof *out);
    out->ident = (uintptr_t) fd;
    out->filter = (short) filter;
    out->flags = (unsigned short) (EV_ADD | (k->clear ? EV_CLEAR : 0) | extra);
    out->fflags = fflags;
    out->data = data;
    out->udata = k->udata;
}

/* A pending socket error, marked without consuming it (see the header comment). */
static uint32_t socket_error(uint32_t epoll_events) {
    return (epoll_events & EPOLLERR) ? EIO : 0;
}

/* Turns epoll events into kevents; returns how many were written. */
static int translate(struct kq *q, const struct epoll_event *evs, int n, struct kevent *out, int nevents) {
    int count = 0;
    for (int i = 0; i < n && count < nevents; i++) {
        int fd = evs[i].data.fd;
        uint32_t r = evs[i].events;
        struct fdstate *s = state(q, fd, 0);
        if (s == NULL) {
            continue;
        }
        const struct knote *rk = &s->k[0];
        const struct knote *wk = &s->k[1];
        if (rk->present && rk->enabled && (r & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
            int eof = (r & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
            int avail = 0;
            if (ioctl(fd, FIONREAD, &avail) < 0) {
                avail = 0;
            }
            fill(&out[count++], fd, EVFILT_READ, rk, eof ? EV_EOF : 0, eof ? socket_error(r) : 0, avail);
        }
        if (count < nevents && wk->present && wk->enabled && (r & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
            int eof = (r & (EPOLLHUP | EPOLLERR)) != 0;
            fill(&out[count++], fd, EVFILT_WRITE, wk, eof ? EV_EOF : 0, eof ? socket_error(r) : 0, 0);
        }
    }
    return count;
}

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static __thread int refuse_count;
static __thread int refuse_errno;
static __thread int interrupt_count;

void kqueue_emulation_refuse_calls(int count, int err) {
    refuse_count = count;
    refuse_errno = err;
}

void kqueue_emulation_interrupt_waits(int count) {
    interrupt_count = count;
}

int kevent(int kqfd, const struct kevent *changelist, int nchanges, struct kevent *eventlist, int nevents,
           const struct timespec *timeout) {
    if (refuse_count > 0) {
        refuse_count--;
        errno = refuse_errno;
        return -1;
    }
    struct kq *q = kq_get(kqfd);
    if (q == NULL) {
        errno = EBADF;
        return -1;
    }
    if (nchanges < 0 || nevents < 0
            || (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000L))) {
        errno = EINVAL;
        return -1;
    }
    int nerrors = 0;
    pthread_mutex_lock(&q->lock);
    for (int i = 0; i < nchanges; i++) {
        struct kevent c = changelist[i]; /* a copy: the two lists may be one array */
        int err = apply(q, kqfd, &c);
        if (err != 0 || (c.flags & EV_RECEIPT)) {
            if (nevents == 0) {
                pthread_mutex_unlock(&q->lock);
                if (err != 0) {
                    errno = err;
                    return -1;
                }
                return nerrors;
            }
            c.flags = EV_ERROR;
            c.data = err;
            eventlist[nerrors++] = c;
            nevents--;
        }
    }
    pthread_mutex_unlock(&q->lock);
    if (nerrors > 0) {
        return nerrors;
    }
    if (nevents == 0) {
        return 0;
    }
    if (interrupt_count > 0) {
        interrupt_count--;
        errno = EINTR;
        return -1;
    }
    int64_t limit = -1;
    if (timeout != NULL) {
        int64_t ms = (int64_t) timeout->tv_sec * 1000 + (timeout->tv_nsec + 999999) / 1000000;
        limit = ms > INT_MAX ? INT_MAX : ms;
    }
    int64_t deadline = limit >= 0 ? now_ms() + limit : -1;
    struct epoll_event evs[256];
    int max = nevents / 2 > 0 ? nevents / 2 : 1;
    if (max > 256) {
        max = 256;
    }
    for (;;) {
        int ms = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            ms = left > 0 ? (int) left : 0;
        }
        int n = epoll_wait(kqfd, evs, max, ms);
        if (n < 0) {
            return -1; /* errno is EINTR or what epoll_wait said */
        }
        pthread_mutex_lock(&q->lock);
        int count = translate(q, evs, n, eventlist, nevents);
        pthread_mutex_unlock(&q->lock);
        if (count > 0 || n == 0 || ms == 0) {
            return count;
        }
        /* Only events no enabled knote asked for: wait for the rest of the time. */
    }
}
