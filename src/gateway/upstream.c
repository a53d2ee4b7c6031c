/*
 * gateway/upstream.c: upstream connection pools and in-flight upstream
 * requests.
 *
 * One pool per upstream host:port keeps idle keep-alive connections (at most
 * POOL_MAX_IDLE, each closed after POOL_IDLE_SECONDS unused, or as soon as the
 * server closes it). A request takes an idle connection or opens a new one,
 * writes the request, and parses the answer incrementally: a status line and
 * head (1xx skipped), then a body framed by Content-Length, chunked coding or
 * the connection's close. Decoded body bytes go to the caller as they
 * arrive; tg__upreq_pause stops reading the socket (back-pressure: the kernel
 * buffers fill and the upstream's writes block) until tg__upreq_resume.
 *
 * Timeouts, one timer per request, by phase: connect (until the TCP connect
 * completes), first byte (an absolute deadline from the request sent to the
 * complete response head: a head trickled byte by byte does not extend it),
 * idle (between body reads; not counted while paused). A second timer
 * guards the body as a whole: its duration (timeouts.answer) and its rate
 * (answer_min_rate, averaged over each idle-long window, so a stream at one
 * byte a second cannot run forever). A connection reused from the pool that
 * turns out closed before any response byte is retried once on a fresh
 * connection (the request had not been seen).
 *
 * Connections per upstream are capped (tg__pool_set_max_conns: by default
 * twice an engine's slots, upstream.h TG__POOL_LEAD_PER_SLOT, so a full
 * batch waits in the engine and tokgate holds no more of llama-server's HTTP
 * threads than that); a request beyond the cap waits in the pool's FIFO
 * queue and takes the next connection that frees up.
 *
 * Host names resolve through libevent's evdns (asynchronous, /etc/hosts
 * included), never with a blocking getaddrinfo on the event loop.
 *
 * Callbacks never run inside tg__upreq_start/resume: failures found there
 * are delivered from a zero-delay event, so the caller's state is settled.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h> /* ev_write, for tg__bev_flush */
#include <event2/dns.h>
#include <event2/event.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/upstream.h"
#include "gateway/filters/model_name.h"
#include "gateway/log.h"

#define POOL_MAX_IDLE 64
#define POOL_IDLE_SECONDS 60
#define UP_MAX_HEADERS 128

struct tg__upconn {
    tg__upconn *next;
    tg__pool *pool;
    struct bufferevent *bev;
    tg__upreq *req;
    int reused;
    /* in the pool: closed after POOL_IDLE_SECONDS unused (wheel.h). Left
     * armed while busy (a move later at the next end is one store; issue
     * 17): firing on a busy connection does nothing, its end arms it again */
    tg__tnode idle_tn;
    tg__fastrd rd;     /* the socket's read (tg__bev_fast_read), once connected */
};

enum { PH_QUEUED, PH_CONNECTING, PH_WAIT_FIRST, PH_HEAD, PH_BODY };
enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct tg__upreq {
    tg__pool *pool;
    tg__upconn *conn;
    struct evbuffer *req;     /* the request, owned; sent by reference (never copied again) */
    int head_only;
    int capped;               /* counts under the pool's max_conns (discovery's probes do not) */
    tg__up_timeouts t;
    size_t max_head;
    const tg__upreq_ops *ops;
    void *ud;
    struct event *kick;
    tg__tnode tn, guard;      /* the phase's timeout; guard: the body's duration and rate (wheel.h) */
    tg__upreq *wait_next;     /* the pool's queue while PH_QUEUED */
    double head_deadline;     /* monotonic: the complete head is due by then */
    double body_deadline;     /* monotonic: timeouts.answer's end (0: none) */
    double window_start;      /* the rate window: since when, and the bytes in it */
    uint64_t window_bytes;
    int phase;
    int got_bytes;
    size_t scan_from;
    tg__http_head head;
    char *head_buf;
    int body_mode;
    uint64_t remaining;
    tg__chunked ck;
    int paused;
    int in_cb;
    int cancelled;
    int retried;
    int pending_fault;
    const char *pending_msg;
    char msgbuf[160];
    int req_lent;             /* req went to a connection's output by reference: freed, never reused */
    tg__http_header hdrs[UP_MAX_HEADERS]; /* from here: not zeroed (4 KiB; the parser fills n_headers of them) */
    char head_small[1024];    /* head_buf for a head this short (no malloc; issue 17) */
};

/* Emptied request buffers of ended requests (req_destroy), for the next
 * ones: an evbuffer_new is a calloc glibc's per-thread cache does not serve
 * (issue 17). The loop's thread's own; freed with the pools. */
static _Thread_local struct evbuffer *spare_buf[TG__POOLS_SPARES];
static _Thread_local size_t n_spare_buf;

struct evbuffer *tg__upreq_buf_new(void) {
    return n_spare_buf ? spare_buf[--n_spare_buf] : evbuffer_new();
}

const char *tg__up_fault_name(int fault) {
    switch (fault) {
    case TG__UP_OK: return "ok";
    case TG__UP_CONNECT: return "connect";
    case TG__UP_TIMEOUT_CONNECT: return "connect_timeout";
    case TG__UP_TIMEOUT_FIRST: return "first_byte_timeout";
    case TG__UP_TIMEOUT_IDLE: return "idle_timeout";
    case TG__UP_RESET: return "reset";
    case TG__UP_PROTOCOL: return "protocol";
    case TG__UP_TIMEOUT_ANSWER: return "answer_timeout";
    case TG__UP_SLOW_ANSWER: return "answer_too_slow";
    default: return "nomem";
    }
}

static char *dupstr(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

tg__pool *tg__pool_get(tg__pools *s, const char *host, int port) {
    char key[300];
    snprintf(key, sizeof key, "%s:%d", host, port);
    for (tg__pool *p = s->head; p; p = p->next)
        if (!strcmp(p->key, key)) return p;
    tg__pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->key = dupstr(key);
    p->host = dupstr(host);
    if (!p->key || !p->host) {
        free(p->key);
        free(p->host);
        free(p);
        return NULL;
    }
    p->port = port;
    p->set = s;
    p->next = s->head;
    s->head = p;
    return p;
}

static void conn_free(tg__upconn *c) {
    tg__tnode_clear(&c->idle_tn);
    if (c->bev) {
        tg__bev_fast_read_end(c->bev, &c->rd);
        bufferevent_free(c->bev);
    }
    free(c);
}

static void pool_remove_idle(tg__upconn *c) {
    tg__pool *p = c->pool;
    for (tg__upconn **pp = &p->idle; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            p->n_idle--;
            return;
        }
}

void tg__pool_set_max_conns(tg__pool *p, size_t n) {
    p->max_conns = n;
    while (n && p->idle && p->n_busy + p->n_idle > n) { /* idle ones beyond the cap (discovery's, say) */
        tg__upconn *c = p->idle;
        p->idle = c->next;
        p->n_idle--;
        conn_free(c);
    }
}

void tg__pool_free_all(tg__pools *s) {
    tg__pool *p = s->head;
    while (p) {
        tg__pool *next = p->next;
        while (p->idle) {
            tg__upconn *c = p->idle;
            p->idle = c->next;
            conn_free(c);
        }
        free(p->key);
        free(p->host);
        free(p);
        p = next;
    }
    s->head = NULL;
    while (s->n_spare) {
        tg__upreq *r = s->spare[--s->n_spare];
        event_free(r->kick);
        free(r);
    }
    while (s->n_spare_job) free(s->spare_job[--s->n_spare_job]);
    while (n_spare_buf) evbuffer_free(spare_buf[--n_spare_buf]);
    tg__model_name_spares_free(); /* the answers' filters' kept memory, this thread's as spare_buf */
    tg__wheel_stop(&s->wheel);
    if (s->dns) evdns_base_free(s->dns, 0);
    s->dns = NULL;
}

static void idle_read_cb(struct bufferevent *bev, void *arg) {
    /* An idle connection must be silent: anything arriving means it is unusable. */
    (void)bev;
    tg__upconn *c = arg;
    pool_remove_idle(c);
    conn_free(c);
}

static void idle_event_cb(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    (void)what;
    tg__upconn *c = arg;
    pool_remove_idle(c);
    conn_free(c);
}

static double pool_idle_s = POOL_IDLE_SECONDS; /* tests may shorten it (tg__pool_idle_seconds) */
void tg__pool_idle_seconds(double s) { pool_idle_s = s > 0 ? s : POOL_IDLE_SECONDS; }

static void idle_timeout_cb(void *arg) { /* unused for POOL_IDLE_SECONDS */
    tg__upconn *c = arg;
    if (c->req) return; /* busy since: not idle (its end arms the timer again) */
    pool_remove_idle(c);
    conn_free(c);
}

static void pool_dispatch(tg__pool *p);

static void unqueue(tg__upreq *r) {
    tg__pool *p = r->pool;
    tg__upreq *prev = NULL;
    for (tg__upreq *q = p->wait_head; q; prev = q, q = q->wait_next)
        if (q == r) {
            if (prev) prev->wait_next = r->wait_next;
            else p->wait_head = r->wait_next;
            if (p->wait_tail == r) p->wait_tail = prev;
            p->n_waiting--;
            r->wait_next = NULL;
            return;
        }
}

/* The request's connection is closed (the upstream sees it); a queued
 * request may take its place. */
static void drop_conn(tg__upreq *r) {
    if (!r->conn) return;
    r->conn->req = NULL;
    r->pool->n_busy--;
    conn_free(r->conn);
    r->conn = NULL;
    pool_dispatch(r->pool);
}

static void req_destroy(tg__upreq *r) {
    if (r->phase == PH_QUEUED) unqueue(r);
    drop_conn(r);
    tg__tnode_clear(&r->tn);
    tg__tnode_clear(&r->guard);
    if (r->head_buf != r->head_small) free(r->head_buf);
    if (r->req) {
        /* no longer lent to an output (attach_conn): emptied, kept for the next request's (tg__upreq_buf_new) */
        if (!r->req_lent && n_spare_buf < TG__POOLS_SPARES && evbuffer_drain(r->req, evbuffer_get_length(r->req)) == 0)
            spare_buf[n_spare_buf++] = r->req;
        else
            evbuffer_free(r->req);
    }
    tg__pools *set = r->pool->set;
    if (r->kick && set->n_spare < TG__POOLS_SPARES) { /* kept: a malloc of ~4.5 KiB and an event_new less (issue 17) */
        event_del(r->kick);      /* also off the active queue */
        set->spare[set->n_spare++] = r;
        return;
    }
    if (r->kick) event_free(r->kick);
    free(r);
}

static tg__wheel *wheel_of(tg__upreq *r) { return tg__pools_wheel(r->pool->set); }

static void arm_guard_in(tg__upreq *r, double seconds) {
    tg__tnode_set(wheel_of(r), &r->guard, tg__now_due() + seconds);
}

static void arm(tg__upreq *r, double seconds) {
    tg__tnode_set(wheel_of(r), &r->tn, tg__now_due() + seconds);
}

static void finish(tg__upreq *r, int fault, const char *msg) {
    if (fault == TG__UP_OK && r->conn) {
        tg__upconn *c = r->conn;
        struct evbuffer *in = bufferevent_get_input(c->bev);
        int reusable = r->head.keep_alive && r->body_mode != BODY_CLOSE && evbuffer_get_length(in) == 0 &&
                       c->pool->n_idle < POOL_MAX_IDLE && !r->pool->set->draining &&
                       (!c->pool->max_conns || c->pool->n_busy + c->pool->n_idle <= c->pool->max_conns);
        if (reusable) {
            r->conn = NULL;
            c->req = NULL;
            c->reused = 1;
            r->pool->n_busy--;
            bufferevent_setcb(c->bev, idle_read_cb, NULL, idle_event_cb, c);
            tg__tnode_set(tg__pools_wheel(c->pool->set), &c->idle_tn, tg__now_due() + pool_idle_s);
            if (!(c->bev->enabled & EV_READ)) bufferevent_enable(c->bev, EV_READ);
            c->next = c->pool->idle;
            c->pool->idle = c;
            c->pool->n_idle++;
            pool_dispatch(c->pool);
        }
    }
    drop_conn(r); /* not reusable: close now so the upstream sees it */
    tg__tnode_clear(&r->tn);
    tg__tnode_clear(&r->guard);
    r->in_cb++;
    r->ops->on_done(r->ud, fault, msg);
    r->in_cb--;
    req_destroy(r);
}

static void fail_later(tg__upreq *r, int fault, const char *msg) {
    r->pending_fault = fault;
    r->pending_msg = msg;
    event_active(r->kick, EV_TIMEOUT, 0);
}

static void up_read_cb(struct bufferevent *bev, void *arg);
static void up_event_cb(struct bufferevent *bev, short what, void *arg);

/* The loop's asynchronous resolver, made on first use; NULL (a numeric
 * address needs none) when it cannot be made. */
static struct evdns_base *resolver(tg__pool *p) {
    tg__pools *s = p->set;
    unsigned char a[16];
    if (evutil_inet_pton(AF_INET, p->host, a) == 1 || evutil_inet_pton(AF_INET6, p->host, a) == 1) return NULL;
    if (!s->dns)
        s->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    return s->dns;
}

/* The request is on the wire: the complete head is due within first_byte. */
static void start_head_wait(tg__upreq *r) {
    r->phase = PH_WAIT_FIRST;
    r->head_deadline = tg__now_due() + r->t.first_byte;
    arm(r, r->t.first_byte);
}

/* The body guard: wakes at the end of the rate window or of the answer's
 * time, whichever is first. */
static void arm_guard(tg__upreq *r) {
    double now = tg__now_due(), next = 0;
    int have = r->t.min_rate > 0;
    if (have) next = r->window_start + r->t.idle - now; /* may be past: at once */
    if (r->body_deadline > 0) {
        double d = r->body_deadline - now;
        if (!have || d < next) next = d;
        have = 1;
    }
    if (have) arm_guard_in(r, next);
}

static void start_window(tg__upreq *r) {
    r->window_start = tg__now_due();
    r->window_bytes = 0;
}

void tg__bev_flush(struct bufferevent *bev) {
    struct evbuffer *out = bufferevent_get_output(bev);
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0 || evbuffer_get_length(out) == 0) return;
    evbuffer_unfreeze(out, 1); /* a socket bufferevent's output is drained only by its own write: as it does */
    int wr = evbuffer_write(out, fd);
    evbuffer_freeze(out, 1);
    if (wr <= 0) return; /* would block, or an error: the bufferevent's write reports it */
    if (evbuffer_get_length(out) == 0) event_del(&bev->ev_write); /* what its own write does once empty */
}

/* libevent's bufferevent_readcb sizes every read with ioctl(FIONREAD), one
 * syscall per read that nginx does not make, and its read high watermark
 * re-enables the read event (an event_add) on every change of the input,
 * ~7 a request (issue 17). This is the same read without either: up to
 * READ_MAX bytes (and at most what the cap leaves) with one recv into a
 * buffer on the stack, added to the input (its callbacks run as for
 * evbuffer_read: client.c counts bytes), then the read callback, or on EOF
 * or an error, reading off and the event callback, as bufferevent_readcb
 * does. Neither callback runs when nothing came (EAGAIN). At the cap the
 * read event is taken off until the input drains below it (rd_resume). */
#define READ_MAX 16384
static _Thread_local int cork_depth;       /* read callbacks running (tg__cork) */
static _Thread_local tg__cork *cork_head;  /* corks to spill when the outermost returns */

int tg__cork_open(void) { return cork_depth > 0; }

void tg__cork_queue(tg__cork *k) {
    if (k->queued) return;
    k->queued = 1;
    k->next = cork_head;
    cork_head = k;
}

void tg__cork_drop(tg__cork *k) {
    if (!k->queued) return;
    for (tg__cork **pp = &cork_head; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    k->queued = 0;
}

static void cork_close(void) {
    while (cork_head) {
        tg__cork *k = cork_head;
        cork_head = k->next;
        k->queued = 0;
        k->spill(k);
    }
}

static void rd_resume(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg);
static void up_read_flat(tg__upreq *r, const char *p, size_t n);
static int flat_off; /* tests: 1 reads every answer through the input (tg__up_flat_reads) */

static void fast_readcb(evutil_socket_t fd, short what, void *arg) {
    tg__fastrd *rd = arg;
    struct bufferevent *bev = rd->bev;
    bufferevent_data_cb readcb;
    bufferevent_event_cb eventcb;
    void *ud;
    bufferevent_getcb(bev, &readcb, NULL, &eventcb, &ud);
    short ev = BEV_EVENT_READING;
    if (what & EV_TIMEOUT) {
        ev |= BEV_EVENT_TIMEOUT;
    } else {
        size_t want = READ_MAX;
        int nomem = 0;
        if (rd->cap) {
            size_t have = evbuffer_get_length(bev->input);
            if (have >= rd->cap) { /* full: off until the input drains (rd_resume) */
                /* rd_resume goes on the input at the first cap only: a
                 * callback there costs every add and drain (issue 17) */
                if (rd->cbe || (rd->cbe = evbuffer_add_cb(bev->input, rd_resume, rd))) {
                    rd->off = 1;
                    event_del(&bev->ev_read);
                    return;
                }
                nomem = 1;
            } else if (rd->cap - have < want) want = rd->cap - have;
        }
        char buf[READ_MAX];
        ssize_t n = nomem ? -1 : recv(fd, buf, want, 0);
        if (nomem) errno = ENOMEM; /* out of memory: an error, as a failed add below */
        if (n > 0 && readcb == up_read_cb && !flat_off && evbuffer_get_length(bev->input) == 0) {
            cork_depth++; /* an upstream's answer read where it lies (up_read_flat: no chain, no drains) */
            up_read_flat(ud, buf, (size_t)n);
            if (--cork_depth == 0 && cork_head) cork_close();
            return;
        }
        if (n > 0) {
            evbuffer_unfreeze(bev->input, 0);
            int rc = evbuffer_add(bev->input, buf, (size_t)n);
            evbuffer_freeze(bev->input, 0);
            if (rc == 0) {
                cork_depth++;
                if (readcb) readcb(bev, ud);
                if (--cork_depth == 0 && cork_head) cork_close();
                return;
            }
            ev |= BEV_EVENT_ERROR; /* out of memory */
        } else if (n == 0) {
            ev |= BEV_EVENT_EOF;
        } else {
            int e = errno;
            if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) return;
            ev |= BEV_EVENT_ERROR;
        }
    }
    bufferevent_disable(bev, EV_READ);
    if (eventcb) eventcb(bev, ev, ud);
}

/* The input changed: reading taken off at the cap resumes below it. */
static void rd_resume(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg) {
    (void)info;
    tg__fastrd *rd = arg;
    if (!rd->off || evbuffer_get_length(b) >= rd->cap) return;
    rd->off = 0;
    if (rd->bev->enabled & EV_READ) event_add(&rd->bev->ev_read, NULL);
}

void tg__bev_fast_read(struct bufferevent *bev, tg__fastrd *rd) {
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0 || rd->bev) return;
    rd->cbe = NULL; /* rd_resume goes on the input at the first cap (fast_readcb) */
    rd->bev = bev;
    rd->orig = event_get_callback(&bev->ev_read);
    rd->off = 0;
    rd->cap = bev->wm_read.high; /* libevent's watermark (and its callback) off; the cap is ours */
    if (rd->cap) bufferevent_setwatermark(bev, EV_READ, bev->wm_read.low, 0);
    short evs = event_get_events(&bev->ev_read);
    int pending = event_pending(&bev->ev_read, EV_READ, NULL);
    if (pending) event_del(&bev->ev_read);
    event_assign(&bev->ev_read, bev->ev_base, fd, evs, fast_readcb, rd); /* tg__bev_fast_read_end puts it back */
    if (pending) event_add(&bev->ev_read, NULL);
}

void tg__bev_fast_read_end(struct bufferevent *bev, tg__fastrd *rd) {
    if (rd->bev != bev) return;
    evutil_socket_t fd = event_get_fd(&bev->ev_read);
    short evs = event_get_events(&bev->ev_read);
    event_del(&bev->ev_read);
    event_assign(&bev->ev_read, bev->ev_base, fd, evs, rd->orig, bev); /* libevent finalizes it with its bufferevent */
    if (rd->cbe) evbuffer_remove_cb_entry(bev->input, rd->cbe);
    rd->cbe = NULL;
    rd->bev = NULL;
}

void tg__bev_read_cap(struct bufferevent *bev, tg__fastrd *rd, size_t cap) {
    if (rd->bev != bev) {
        bufferevent_setwatermark(bev, EV_READ, 0, cap);
        return;
    }
    rd->cap = cap;
    if (rd->off && (!cap || evbuffer_get_length(bev->input) < cap)) {
        rd->off = 0;
        if (bev->enabled & EV_READ) event_add(&bev->ev_read, NULL);
    }
}

/* A connected connection with nothing queued: the request REQ (left as it
 * is: a retry sends it again) in one sendmsg, as evbuffer_write would have
 * sent it but without the output, its callbacks or a write event (issue
 * 17). The bytes sent: all, some, or 0 (would block, an error, no socket,
 * or in more pieces than one call takes; the output's own write then
 * meets what the socket says). */
static size_t send_direct(struct bufferevent *bev, struct evbuffer *req) {
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd < 0 || evbuffer_get_length(bufferevent_get_output(bev)) != 0) return 0;
    struct evbuffer_iovec v[8];
    int k = evbuffer_peek(req, -1, NULL, v, 8);
    if (k <= 0 || k > 8) return 0;
    struct iovec iov[8];
    for (int i = 0; i < k; i++) {
        iov[i].iov_base = v[i].iov_base;
        iov[i].iov_len = v[i].iov_len;
    }
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = (size_t)k;
    ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
    return n > 0 ? (size_t)n : 0;
}

static int attach_conn(tg__upreq *r, int allow_pooled) {
    tg__pool *p = r->pool;
    tg__upconn *c = NULL;
    if (allow_pooled && p->idle) {
        c = p->idle;
        p->idle = c->next;
        p->n_idle--;
        c->next = NULL; /* idle_tn stays armed (busy: it does nothing) */
        r->phase = PH_WAIT_FIRST;
    } else if (allow_pooled && r->capped && p->max_conns && p->n_busy + p->n_idle >= p->max_conns) {
        return 1; /* at the cap: wait for one to free up */
    } else {
        c = calloc(1, sizeof *c);
        if (!c) return -1;
        c->pool = p;
        tg__tnode_init(&c->idle_tn, idle_timeout_cb, c);
        c->bev = p->set->open_conn ? p->set->open_conn(p->set->open_ud)
                                   : bufferevent_socket_new(p->set->base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!c->bev) {
            free(c);
            return -1;
        }
        r->phase = p->set->open_conn ? PH_WAIT_FIRST : PH_CONNECTING;
    }
    c->req = r;
    r->conn = c;
    p->n_busy++;
    bufferevent_setcb(c->bev, up_read_cb, NULL, up_event_cb, r);
    tg__bev_read_cap(c->bev, &c->rd, 256u << 10);
    size_t sent = r->phase == PH_CONNECTING ? 0 : send_direct(c->bev, r->req);
    if (sent > 0 && sent == evbuffer_get_length(r->req)) { /* all out: no output, no write event */
        if ((c->bev->enabled & (EV_READ | EV_WRITE)) != (EV_READ | EV_WRITE)) bufferevent_enable(c->bev, EV_READ | EV_WRITE);
        start_head_wait(r);
        return 0;
    }
    r->req_lent = 1; /* even on failure: what libevent did with it is unknown */
    if (evbuffer_add_buffer_reference(bufferevent_get_output(c->bev), r->req) != 0) {
        c->req = NULL; /* out of memory: nothing went out; the connection is closed */
        r->conn = NULL;
        p->n_busy--;
        conn_free(c);
        return -1;
    }
    if ((c->bev->enabled & (EV_READ | EV_WRITE)) != (EV_READ | EV_WRITE)) /* a pooled one has both: no event_add */
        bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (r->phase == PH_CONNECTING) {
        arm(r, r->t.connect);
        struct evdns_base *dns = resolver(p);
        if (bufferevent_socket_connect_hostname(c->bev, dns, AF_UNSPEC, p->host, p->port) != 0) {
            snprintf(r->msgbuf, sizeof r->msgbuf, "cannot connect to upstream %s", p->key);
            fail_later(r, TG__UP_CONNECT, r->msgbuf);
        }
    } else {
        start_head_wait(r);
        if (sent) { /* the rest of a short send: what went is off the output, the bufferevent writes the rest */
            struct evbuffer *out = bufferevent_get_output(c->bev);
            evbuffer_unfreeze(out, 1);
            evbuffer_drain(out, sent);
            evbuffer_freeze(out, 1);
        } else {
            tg__bev_flush(c->bev); /* a pooled connection: the request goes out now */
        }
    }
    return 0;
}

/* Hands freed connections (idle ones, or room under the cap) to the
 * requests waiting for one, in order. */
static void pool_dispatch(tg__pool *p) {
    while (p->wait_head && (p->idle || !p->max_conns || p->n_busy < p->max_conns)) {
        tg__upreq *r = p->wait_head;
        unqueue(r);
        tg__tnode_clear(&r->tn); /* the queue's deadline; attach_conn arms the next phase's */
        int rc = attach_conn(r, 1);
        if (rc > 0) { /* cannot happen under the loop's condition; stay first in line */
            r->wait_next = p->wait_head;
            p->wait_head = r;
            if (!p->wait_tail) p->wait_tail = r;
            p->n_waiting++;
            arm(r, r->t.first_byte);
            return;
        }
        if (rc < 0) {
            r->phase = PH_CONNECTING; /* not queued any more */
            fail_later(r, TG__UP_NOMEM, "out of memory");
        }
    }
}

static void timer_cb(void *arg) {
    tg__upreq *r = arg;
    tg__pool *p = r->pool;
    switch (r->phase) {
    case PH_QUEUED:
        snprintf(r->msgbuf, sizeof r->msgbuf,
                 "no connection to upstream %s became free within %gs (%zu open, the cap from its slots)", p->key,
                 r->t.first_byte, p->max_conns);
        finish(r, TG__UP_TIMEOUT_FIRST, r->msgbuf);
        break;
    case PH_CONNECTING:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s did not accept the connection within %gs", p->key, r->t.connect);
        finish(r, TG__UP_TIMEOUT_CONNECT, r->msgbuf);
        break;
    case PH_WAIT_FIRST:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s sent no response within %gs", p->key, r->t.first_byte);
        finish(r, TG__UP_TIMEOUT_FIRST, r->msgbuf);
        break;
    case PH_HEAD:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s sent no complete response head within %gs", p->key,
                 r->t.first_byte);
        finish(r, TG__UP_TIMEOUT_FIRST, r->msgbuf);
        break;
    default:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s stalled for %gs mid-response", p->key, r->t.idle);
        finish(r, TG__UP_TIMEOUT_IDLE, r->msgbuf);
        break;
    }
}

static void process(tg__upreq *r);

/* The body guard's wake-up: the answer's time is up, or the window closed
 * under the minimum rate. */
static void guard_cb(void *arg) {
    tg__upreq *r = arg;
    double now = tg__now_due();
    if (r->body_deadline > 0 && now >= r->body_deadline - 0.0005) {
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s answer ran past its %gs maximum (timeouts.answer)",
                 r->pool->key, r->t.answer);
        finish(r, TG__UP_TIMEOUT_ANSWER, r->msgbuf);
        return;
    }
    double span = now - r->window_start;
    if (r->t.min_rate > 0 && span >= r->t.idle * 0.95) { /* the window's end (timers may fire a bit early) */
        if ((double)r->window_bytes < r->t.min_rate * span) {
            snprintf(r->msgbuf, sizeof r->msgbuf,
                     "upstream %s answer came at %.1f bytes/s over %gs, under the minimum of %g (answer_min_rate)",
                     r->pool->key, (double)r->window_bytes / span, span, r->t.min_rate);
            finish(r, TG__UP_SLOW_ANSWER, r->msgbuf);
            return;
        }
        start_window(r);
    }
    arm_guard(r);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__upreq *r = arg;
    if (r->pending_fault) {
        finish(r, r->pending_fault, r->pending_msg);
        return;
    }
    if (r->conn && !r->paused) process(r);
}

tg__upreq *tg__upreq_start(tg__pool *p, const char *req, size_t len, int head_only,
                           const tg__up_timeouts *t, size_t max_head,
                           const tg__upreq_ops *ops, void *ud) {
    struct evbuffer *b = tg__upreq_buf_new();
    if (!b || evbuffer_add(b, req, len) != 0) {
        if (b) evbuffer_free(b);
        return NULL;
    }
    return tg__upreq_start_buf(p, b, head_only, 0, t, max_head, ops, ud);
}

tg__upreq *tg__upreq_start_buf(tg__pool *p, struct evbuffer *req, int head_only, int capped,
                               const tg__up_timeouts *t, size_t max_head, const tg__upreq_ops *ops, void *ud) {
    tg__upreq *r = p->set->n_spare ? p->set->spare[--p->set->n_spare] : NULL;
    struct event *kick = NULL;
    if (r) { /* its kick event is made for it (kick_cb, r) and idle */
        kick = r->kick;
    } else if (!(r = malloc(sizeof *r))) {
        evbuffer_free(req);
        return NULL;
    }
    memset(r, 0, offsetof(tg__upreq, hdrs));
    r->pool = p;
    r->req = req;
    tg__tnode_init(&r->tn, timer_cb, r);
    tg__tnode_init(&r->guard, guard_cb, r);
    r->kick = kick ? kick : event_new(p->set->base, -1, 0, kick_cb, r);
    r->phase = PH_CONNECTING;
    if (!r->req || !r->kick) {
        req_destroy(r);
        return NULL;
    }
    r->head_only = head_only;
    r->capped = capped;
    r->t = *t;
    r->max_head = max_head;
    r->ops = ops;
    r->ud = ud;
    int rc = capped && p->wait_head ? 1 : attach_conn(r, 1); /* behind those already waiting */
    if (rc < 0) {
        req_destroy(r);
        return NULL;
    }
    if (rc > 0) {
        r->phase = PH_QUEUED;
        if (p->wait_tail) p->wait_tail->wait_next = r;
        else p->wait_head = r;
        p->wait_tail = r;
        p->n_waiting++;
        arm(r, r->t.first_byte);
    }
    return r;
}

void tg__upreq_pause(tg__upreq *r) {
    if (r->paused || !r->conn) return;
    r->paused = 1;
    bufferevent_disable(r->conn->bev, EV_READ);
    tg__tnode_clear(&r->tn);
    tg__tnode_clear(&r->guard);
    if (r->body_deadline > 0) arm_guard_in(r, r->body_deadline - tg__now_due()); /* the answer's time runs on */
}

void tg__upreq_resume(tg__upreq *r) {
    if (!r->paused || !r->conn) return;
    r->paused = 0;
    bufferevent_enable(r->conn->bev, EV_READ);
    if (r->phase == PH_BODY) {
        arm(r, r->t.idle);
        start_window(r); /* the time paused was the client's, not the upstream's */
        arm_guard(r);
    } else {
        arm(r, r->head_deadline - tg__now_due());
    }
    event_active(r->kick, EV_TIMEOUT, 0); /* bytes already buffered */
}

void tg__upreq_cancel(tg__upreq *r) {
    if (r->in_cb) {
        r->cancelled = 1;
        return;
    }
    req_destroy(r);
}

/* Calls on_body; 1 when processing must stop (cancelled: r is gone). */
static int deliver(tg__upreq *r, const char *p, size_t n) {
    if (n == 0 || r->head_only) return 0;
    r->window_bytes += n;
    r->in_cb++;
    r->ops->on_body(r->ud, p, n);
    r->in_cb--;
    if (r->cancelled) {
        req_destroy(r);
        return 1;
    }
    return 0;
}

static int on_head(tg__upreq *r, const char *reason, size_t rlen) {
    r->in_cb++;
    r->ops->on_head(r->ud, &r->head, reason, rlen);
    r->in_cb--;
    if (r->cancelled) {
        req_destroy(r);
        return 1;
    }
    return 0;
}

/* Where process reads: the connection's input, or bytes fast_readcb read
 * straight into its own buffer while the input was empty (flat: no copy
 * into a chain and no drains of it; issue 17). Flat bytes not taken yet go
 * into the input (src_spill) before process returns or the request ends,
 * so the input then holds just what it would have held. */
typedef struct upsrc {
    struct evbuffer *in;
    const char *p; /* the flat bytes left (NULL: read the input) */
    size_t n;
} upsrc;

static size_t src_len(const upsrc *s) { return s->p ? s->n : evbuffer_get_length(s->in); }

static void src_drain(upsrc *s, size_t k) {
    if (!s->p) {
        evbuffer_drain(s->in, k);
        return;
    }
    s->p += k;
    s->n -= k;
}

/* The flat bytes left into the input (from then on read there). -1: out of memory. */
static int src_spill(upsrc *s) {
    if (!s->p) return 0;
    int rc = 0;
    if (s->n) { /* a bufferevent's input takes bytes at its end only from its own read: as fast_readcb adds */
        evbuffer_unfreeze(s->in, 0);
        rc = evbuffer_add(s->in, s->p, s->n);
        evbuffer_freeze(s->in, 0);
    }
    s->p = NULL;
    s->n = 0;
    return rc;
}

/* Spills and finishes (the reuse check sees the input as the evbuffer path leaves it). */
static void src_finish(tg__upreq *r, upsrc *s, int fault, const char *msg) {
    if (src_spill(s) != 0) {
        finish(r, TG__UP_NOMEM, "out of memory");
        return;
    }
    finish(r, fault, msg);
}

/* The response head at the front of `s` (len bytes there). 1 when process
 * must return (r may be gone, spilled when not), 0 to go on (the head
 * taken, the phase moved on). */
static int take_head(tg__upreq *r, upsrc *s, size_t len) {
    r->phase = PH_HEAD;
    r->got_bytes = 1;
    size_t look = len < r->max_head + 3 ? len : r->max_head + 3;
    const char *p = s->p ? s->p : (const char *)evbuffer_pullup(s->in, (ev_ssize_t)look);
    size_t end = tg__http_find_head_end(p, look, r->scan_from);
    if (end == 0) {
        if (len > r->max_head) {
            snprintf(r->msgbuf, sizeof r->msgbuf, "upstream response head exceeds %zu bytes", r->max_head);
            src_finish(r, s, TG__UP_PROTOCOL, r->msgbuf);
            return 1;
        }
        /* Not even a status line prefix: garbage, say so now rather than wait. */
        if (look >= 5 && memcmp(p, "HTTP/", 5) != 0) {
            src_finish(r, s, TG__UP_PROTOCOL, "upstream sent bytes that are not an HTTP response");
            return 1;
        }
        r->scan_from = look;
        if (src_spill(s) != 0) finish(r, TG__UP_NOMEM, "out of memory");
        return 1;
    }
    if (r->head_buf != r->head_small) free(r->head_buf);
    r->head_buf = end <= sizeof r->head_small ? r->head_small : malloc(end);
    if (!r->head_buf) {
        src_finish(r, s, TG__UP_NOMEM, "out of memory");
        return 1;
    }
    memcpy(r->head_buf, p, end);
    src_drain(s, end);
    r->scan_from = 0;
    tg__http_limits lim = {r->max_head, r->max_head, UP_MAX_HEADERS};
    tg__http_error e;
    r->head.headers = r->hdrs;
    if (tg__http_parse_response(r->head_buf, end, &lim, &r->head, &e) != 0) {
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream response: %s", e.message);
        src_finish(r, s, TG__UP_PROTOCOL, r->msgbuf);
        return 1;
    }
    if (r->head.status == 101) {
        src_finish(r, s, TG__UP_PROTOCOL, "upstream switched protocols, which tokgate does not relay");
        return 1;
    }
    if (r->head.status < 200) return 0; /* 1xx interim: the real head follows */
    const char *reason = r->head_buf + 12;
    size_t rlen = 0;
    while (reason + rlen < r->head_buf + end && reason[rlen] != '\r' && reason[rlen] != '\n') rlen++;
    if (rlen && reason[0] == ' ') { reason++; rlen--; }
    int st = r->head.status;
    if (r->head_only || st == 204 || st == 304) r->body_mode = BODY_NONE;
    else if (r->head.chunked) {
        r->body_mode = BODY_CHUNKED;
        tg__chunked_init(&r->ck);
    } else if (r->head.content_length >= 0) {
        r->body_mode = r->head.content_length ? BODY_LENGTH : BODY_NONE;
        r->remaining = (uint64_t)r->head.content_length;
    } else r->body_mode = BODY_CLOSE;
    r->phase = PH_BODY;
    arm(r, r->t.idle);
    start_window(r);
    if (r->t.answer > 0) r->body_deadline = tg__now_due() + r->t.answer;
    arm_guard(r);
    if (on_head(r, reason, rlen)) return 1;
    if (r->body_mode == BODY_NONE) {
        src_finish(r, s, TG__UP_OK, NULL);
        return 1;
    }
    return 0;
}

static void process_src(tg__upreq *r, upsrc *s) {
    for (;;) {
        size_t len = src_len(s);
        if (r->phase == PH_WAIT_FIRST || r->phase == PH_HEAD) {
            if (len == 0) return; /* nothing flat left either */
            if (take_head(r, s, len)) return;
            continue;
        }
        /* PH_BODY */
        if (len == 0 || r->paused) {
            if (src_spill(s) != 0) finish(r, TG__UP_NOMEM, "out of memory");
            return;
        }
        const char *p = s->p;
        size_t n = s->n;
        if (!p) {
            struct evbuffer_iovec v;
            if (evbuffer_peek(s->in, -1, NULL, &v, 1) < 1) return;
            p = v.iov_base;
            n = v.iov_len;
        }
        if (r->body_mode == BODY_LENGTH) {
            if ((uint64_t)n > r->remaining) n = (size_t)r->remaining;
            r->remaining -= n;
            int stop = deliver(r, p, n);
            if (stop) return;
            src_drain(s, n);
            if (r->remaining == 0) {
                src_finish(r, s, TG__UP_OK, NULL);
                return;
            }
        } else if (r->body_mode == BODY_CLOSE) {
            if (deliver(r, p, n)) return;
            src_drain(s, n);
        } else {
            size_t used = 0;
            const char *out, *msg = NULL;
            size_t out_len;
            int rc = tg__chunked_feed(&r->ck, p, n, &used, &out, &out_len, &msg);
            if (rc == TG__CHUNK_ERROR) {
                snprintf(r->msgbuf, sizeof r->msgbuf, "upstream chunked body: %s", msg);
                src_finish(r, s, TG__UP_PROTOCOL, r->msgbuf);
                return;
            }
            if (rc == TG__CHUNK_DATA && deliver(r, out, out_len)) return;
            src_drain(s, used);
            if (rc == TG__CHUNK_DONE) {
                src_finish(r, s, TG__UP_OK, NULL);
                return;
            }
        }
    }
}

static void process(tg__upreq *r) {
    upsrc s = {bufferevent_get_input(r->conn->bev), NULL, 0};
    process_src(r, &s);
}

/* The idle timer moves on bytes read in the body (the head's deadline is absolute). */
static void read_moves_timer(tg__upreq *r) {
    if (r->phase != PH_BODY) return;
    if (tg__tnode_armed(&r->tn)) tg__tnode_later(&r->tn, tg__now_due() + r->t.idle); /* one store (wheel.h) */
    else arm(r, r->t.idle);
}

static void up_read_cb(struct bufferevent *bev, void *arg) {
    (void)bev;
    tg__upreq *r = arg;
    if (r->paused) return;
    read_moves_timer(r);
    process(r);
}

void tg__up_flat_reads(int on) { flat_off = !on; }

/* up_read_cb for N bytes fast_readcb read while the input was empty: read
 * where they lie (upsrc), what is left put into the input. */
static void up_read_flat(tg__upreq *r, const char *p, size_t n) {
    upsrc s = {bufferevent_get_input(r->conn->bev), p, n};
    if (r->paused) { /* kept in the input for the resume, as up_read_cb leaves them */
        if (src_spill(&s) != 0) finish(r, TG__UP_NOMEM, "out of memory");
        return;
    }
    read_moves_timer(r);
    process_src(r, &s);
}

static void up_event_cb(struct bufferevent *bev, short what, void *arg) {
    tg__upreq *r = arg;
    if (what & BEV_EVENT_CONNECTED) {
        /* The request is written in pieces (head, body): without NODELAY the
         * last piece can wait for a delayed ACK (Nagle), ~40 ms. */
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        tg__bev_fast_read(bev, &r->conn->rd); /* reads without FIONREAD from now on */
        start_head_wait(r);
        return;
    }
    if (r->phase == PH_CONNECTING) {
        int e = EVUTIL_SOCKET_ERROR();
        snprintf(r->msgbuf, sizeof r->msgbuf, "cannot connect to upstream %s: %s", r->pool->key,
                 e ? evutil_socket_error_to_string(e) : "connection failed");
        finish(r, TG__UP_CONNECT, r->msgbuf);
        return;
    }
    /* EOF or error. Bytes read before it were processed already (reading
     * is off while paused, so no EOF can overtake buffered data). */
    struct evbuffer *in = bufferevent_get_input(bev);
    if (!r->got_bytes && r->conn && r->conn->reused && !r->retried && evbuffer_get_length(in) == 0) {
        /* A pooled connection the server had closed: retry once, fresh. */
        r->retried = 1;
        r->pool->n_busy--;
        r->conn->req = NULL;
        conn_free(r->conn);
        r->conn = NULL;
        if (attach_conn(r, 0) != 0) finish(r, TG__UP_NOMEM, "out of memory"); /* its own place under the cap */
        return;
    }
    if (r->phase == PH_BODY && r->body_mode == BODY_CLOSE && (what & BEV_EVENT_EOF)) {
        /* Close-delimited body: everything buffered is the rest of it. */
        while (evbuffer_get_length(in)) {
            struct evbuffer_iovec v;
            if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) break;
            if (deliver(r, v.iov_base, v.iov_len)) return;
            evbuffer_drain(in, v.iov_len);
        }
        finish(r, TG__UP_OK, NULL);
        return;
    }
    if (r->phase == PH_HEAD && evbuffer_get_length(in)) {
        finish(r, TG__UP_PROTOCOL, "upstream closed the connection inside a malformed or partial response head");
        return;
    }
    if (r->phase == PH_WAIT_FIRST || r->phase == PH_HEAD)
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s closed the connection before answering", r->pool->key);
    else
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s closed the connection mid-response", r->pool->key);
    finish(r, TG__UP_RESET, r->msgbuf);
}
