/*
 * gateway/accept.c: the accept loop's policy (accept.h).
 *
 * The cap. At max_connections open client connections the listener is
 * disabled, so new connections wait in the kernel's listen backlog (512)
 * and are accepted when one closes, as nginx (worker_connections: accept
 * events off while no connection is free) and h2o (max-connections: the
 * listener is taken off the loop) do, rather than accepted and answered
 * 503: answering takes a descriptor, which is exactly what is short at the
 * limit, and a client in the backlog is served as soon as room frees
 * instead of retrying. The default leaves room for each client's upstream
 * connection and for files: (soft RLIMIT_NOFILE - min(128, limit/4)) / 2,
 * at most 16384 (448 at systemd's default soft limit of 1024).
 *
 * At the cap, while some kept-alive connection waits for a next request,
 * the listener stays on and each newcomer closes the oldest such one to
 * make room (nginx reuses idle keep-alive connections the same way when it
 * runs out), so idle client pools cannot lock new clients out; the
 * listener pauses only when none is idle, and resumes when one closes or
 * goes idle (client.c's conn_changed hook).
 *
 * The back-off. accept() failing for want of descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM) leaves the connection in the backlog
 * and the listener readable, so a level-triggered loop would retry at once,
 * forever. Instead the listener is disabled and a timer enables it again
 * after 50 ms, doubling to 1 s while the failures go on (nginx disables its
 * accept events and retries after accept_mutex_delay, 500 ms); a successful
 * accept resets it; an idle kept-alive connection, if there is one, is
 * closed instead, its descriptor being the room. The warning is
 * rate-limited (log.h): one line, then one per 10 s with the count left out.
 */
#include "gateway/accept.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/resource.h>

#include "gateway/client.h"
#include "gateway/log.h"
#include "gateway/server.h"

#define BACKOFF_FIRST 0.05
#define BACKOFF_MAX 1.0

size_t tg__accept_max_connections(size_t configured) {
    if (configured) return configured;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 16384;
    size_t soft = (size_t)rl.rlim_cur;
    size_t reserve = soft / 4 < 128 ? soft / 4 : 128;
    size_t n = (soft - reserve) / 2;
    return n < 1 ? 1 : n > 16384 ? 16384 : n;
}

void tg__accept_configure(tg__server *s) {
    s->max_conns = tg__accept_max_connections(s->cfg->max_connections);
    tg__accept_update(s);
}

/* The oldest kept-alive connection waiting for a next request, or NULL.
 * Walked only at the cap. */
static tg__client *oldest_idle(tg__server *s) {
    tg__client *oldest = NULL;
    for (tg__client *c = s->clients; c; c = c->next) /* newest first */
        if (tg__client_idle(c)) oldest = c;
    return oldest;
}

void tg__accept_update(tg__server *s) {
    if (!s->listener || s->draining) return;
    int want = !s->accept_backoff && (s->n_clients < s->max_conns || oldest_idle(s));
    if (want == s->accepting) return;
    if (want) evconnlistener_enable(s->listener);
    else evconnlistener_disable(s->listener);
    s->accepting = want;
}

static void retry_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__server *s = arg;
    s->accept_backoff = 0;
    tg__accept_update(s);
}

void tg__accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg) {
    (void)l;
    tg__server *s = arg;
    if (s->n_clients >= s->max_conns) { /* a newcomer at the cap: an idle connection makes room */
        tg__client *idle = oldest_idle(s);
        if (idle) tg__client_free(idle);
    }
    tg__client_accept(s, fd, sa, salen);
    if (s->accept_delay > 0) {
        s->accept_delay = 0;
        tg__log_limit_flush(s, &s->accept_log, TG__LOG_WARN);
        tg__log(s, TG__LOG_INFO, "accepting connections again (%zu open)", s->n_clients);
    }
    if (s->n_clients >= s->max_conns) {
        tg__log_limited(s, &s->cap_log, TG__LOG_WARN,
                        "connection cap reached (max_connections %zu): new connections wait in the listen backlog "
                        "unless an idle keep-alive connection makes room",
                        s->max_conns);
        tg__accept_update(s);
    }
}

void tg__accept_error_cb(struct evconnlistener *l, void *arg) {
    (void)l;
    tg__server *s = arg;
    int e = EVUTIL_SOCKET_ERROR();
    if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
        /* ECONNABORTED and the like: that connection is gone, the next may work. */
        tg__log_limited(s, &s->accept_log, TG__LOG_WARN, "accept failed: %s", evutil_socket_error_to_string(e));
        return;
    }
    tg__log_limited(s, &s->accept_log, TG__LOG_WARN,
                    "accept failed: %s; accepting paused, retried every %g s at most (max_connections %zu: "
                    "raise the fd limit or lower max_connections)",
                    evutil_socket_error_to_string(e), BACKOFF_MAX, s->max_conns);
    tg__client *idle = oldest_idle(s);
    if (idle) { /* its descriptor is the room: the listener, still readable, accepts again at once */
        tg__client_free(idle);
        return;
    }
    s->accept_delay = s->accept_delay > 0 ? s->accept_delay * 2 : BACKOFF_FIRST;
    if (s->accept_delay > BACKOFF_MAX) s->accept_delay = BACKOFF_MAX;
    if (!s->ev_accept_retry) s->ev_accept_retry = evtimer_new(s->base, retry_cb, s);
    s->accept_backoff = 1;
    tg__accept_update(s);
    if (s->ev_accept_retry) {
        struct timeval tv = {0, (suseconds_t)(s->accept_delay * 1e6)};
        if (s->accept_delay >= 1) tv = (struct timeval){1, 0};
        event_add(s->ev_accept_retry, &tv);
    } else {
        s->accept_backoff = 0; /* no timer: keep accepting rather than stop for good */
    }
}

void tg__accept_free(tg__server *s) {
    if (s->ev_accept_retry) event_free(s->ev_accept_retry);
    s->ev_accept_retry = NULL;
}
