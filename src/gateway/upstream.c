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
 * completes), first byte (until the first response byte), idle (between
 * reads afterwards; not counted while paused). A connection reused from the
 * pool that turns out closed before any response byte is retried once on a
 * fresh connection (the request had not been seen).
 *
 * Callbacks never run inside tg__upreq_start/resume: failures found there
 * are delivered from a zero-delay event, so the caller's state is settled.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/upstream.h"
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
};

enum { PH_CONNECTING, PH_WAIT_FIRST, PH_HEAD, PH_BODY };
enum { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE };

struct tg__upreq {
    tg__pool *pool;
    tg__upconn *conn;
    char *req;
    size_t req_len;
    int head_only;
    tg__up_timeouts t;
    size_t max_head;
    const tg__upreq_ops *ops;
    void *ud;
    struct event *timer, *kick;
    int phase;
    int got_bytes;
    size_t scan_from;
    tg__http_head head;
    tg__http_header hdrs[UP_MAX_HEADERS];
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
};

const char *tg__up_fault_name(int fault) {
    switch (fault) {
    case TG__UP_OK: return "ok";
    case TG__UP_CONNECT: return "connect";
    case TG__UP_TIMEOUT_CONNECT: return "connect_timeout";
    case TG__UP_TIMEOUT_FIRST: return "first_byte_timeout";
    case TG__UP_TIMEOUT_IDLE: return "idle_timeout";
    case TG__UP_RESET: return "reset";
    case TG__UP_PROTOCOL: return "protocol";
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
    if (c->bev) bufferevent_free(c->bev);
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

static void req_destroy(tg__upreq *r) {
    if (r->conn) {
        r->conn->req = NULL;
        r->pool->n_busy--;
        conn_free(r->conn);
        r->conn = NULL;
    }
    if (r->timer) event_free(r->timer);
    if (r->kick) event_free(r->kick);
    free(r->head_buf);
    free(r->req);
    free(r);
}

static void arm(tg__upreq *r, double seconds) {
    struct timeval tv;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    event_add(r->timer, &tv);
}

static void finish(tg__upreq *r, int fault, const char *msg) {
    if (fault == TG__UP_OK && r->conn) {
        tg__upconn *c = r->conn;
        struct evbuffer *in = bufferevent_get_input(c->bev);
        int reusable = r->head.keep_alive && r->body_mode != BODY_CLOSE && evbuffer_get_length(in) == 0 &&
                       c->pool->n_idle < POOL_MAX_IDLE && !r->pool->set->draining;
        if (reusable) {
            r->conn = NULL;
            c->req = NULL;
            c->reused = 1;
            r->pool->n_busy--;
            bufferevent_setcb(c->bev, idle_read_cb, NULL, idle_event_cb, c);
            struct timeval tv = {POOL_IDLE_SECONDS, 0};
            bufferevent_set_timeouts(c->bev, &tv, NULL);
            bufferevent_enable(c->bev, EV_READ);
            c->next = c->pool->idle;
            c->pool->idle = c;
            c->pool->n_idle++;
        }
    }
    if (r->conn) { /* not reusable: close now so the upstream sees it */
        r->conn->req = NULL;
        r->pool->n_busy--;
        conn_free(r->conn);
        r->conn = NULL;
    }
    event_del(r->timer);
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

static int attach_conn(tg__upreq *r, int allow_pooled) {
    tg__pool *p = r->pool;
    tg__upconn *c = NULL;
    if (allow_pooled && p->idle) {
        c = p->idle;
        p->idle = c->next;
        p->n_idle--;
        c->next = NULL;
        bufferevent_set_timeouts(c->bev, NULL, NULL);
        r->phase = PH_WAIT_FIRST;
    } else {
        c = calloc(1, sizeof *c);
        if (!c) return -1;
        c->pool = p;
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
    bufferevent_setwatermark(c->bev, EV_READ, 0, 256u << 10);
    bufferevent_write(c->bev, r->req, r->req_len);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (r->phase == PH_CONNECTING) {
        arm(r, r->t.connect);
        if (bufferevent_socket_connect_hostname(c->bev, NULL, AF_UNSPEC, p->host, p->port) != 0) {
            snprintf(r->msgbuf, sizeof r->msgbuf, "cannot connect to upstream %s", p->key);
            fail_later(r, TG__UP_CONNECT, r->msgbuf);
        }
    } else {
        arm(r, r->t.first_byte);
    }
    return 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__upreq *r = arg;
    tg__pool *p = r->pool;
    switch (r->phase) {
    case PH_CONNECTING:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s did not accept the connection within %gs", p->key, r->t.connect);
        finish(r, TG__UP_TIMEOUT_CONNECT, r->msgbuf);
        break;
    case PH_WAIT_FIRST:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s sent no response within %gs", p->key, r->t.first_byte);
        finish(r, TG__UP_TIMEOUT_FIRST, r->msgbuf);
        break;
    default:
        snprintf(r->msgbuf, sizeof r->msgbuf, "upstream %s stalled for %gs mid-response", p->key, r->t.idle);
        finish(r, TG__UP_TIMEOUT_IDLE, r->msgbuf);
        break;
    }
}

static void process(tg__upreq *r);

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
    tg__upreq *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->pool = p;
    r->req = malloc(len ? len : 1);
    r->timer = evtimer_new(p->set->base, timer_cb, r);
    r->kick = event_new(p->set->base, -1, 0, kick_cb, r);
    if (!r->req || !r->timer || !r->kick) {
        req_destroy(r);
        return NULL;
    }
    memcpy(r->req, req, len);
    r->req_len = len;
    r->head_only = head_only;
    r->t = *t;
    r->max_head = max_head;
    r->ops = ops;
    r->ud = ud;
    if (attach_conn(r, 1) != 0) {
        req_destroy(r);
        return NULL;
    }
    return r;
}

void tg__upreq_pause(tg__upreq *r) {
    if (r->paused || !r->conn) return;
    r->paused = 1;
    bufferevent_disable(r->conn->bev, EV_READ);
    event_del(r->timer);
}

void tg__upreq_resume(tg__upreq *r) {
    if (!r->paused || !r->conn) return;
    r->paused = 0;
    bufferevent_enable(r->conn->bev, EV_READ);
    arm(r, r->phase == PH_WAIT_FIRST ? r->t.first_byte : r->t.idle);
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

static void process(tg__upreq *r) {
    struct evbuffer *in = bufferevent_get_input(r->conn->bev);
    for (;;) {
        size_t len = evbuffer_get_length(in);
        if (r->phase == PH_WAIT_FIRST || r->phase == PH_HEAD) {
            if (len == 0) return;
            r->phase = PH_HEAD;
            r->got_bytes = 1;
            size_t look = len < r->max_head + 3 ? len : r->max_head + 3;
            const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
            size_t end = tg__http_find_head_end(p, look, r->scan_from);
            if (end == 0) {
                if (len > r->max_head) {
                    snprintf(r->msgbuf, sizeof r->msgbuf, "upstream response head exceeds %zu bytes", r->max_head);
                    finish(r, TG__UP_PROTOCOL, r->msgbuf);
                    return;
                }
                /* Not even a status line prefix: garbage, say so now rather than wait. */
                if (look >= 5 && memcmp(p, "HTTP/", 5) != 0) {
                    finish(r, TG__UP_PROTOCOL, "upstream sent bytes that are not an HTTP response");
                    return;
                }
                r->scan_from = look;
                return;
            }
            free(r->head_buf);
            r->head_buf = malloc(end);
            if (!r->head_buf) {
                finish(r, TG__UP_NOMEM, "out of memory");
                return;
            }
            memcpy(r->head_buf, p, end);
            evbuffer_drain(in, end);
            r->scan_from = 0;
            tg__http_limits lim = {r->max_head, r->max_head, UP_MAX_HEADERS};
            tg__http_error e;
            r->head.headers = r->hdrs;
            if (tg__http_parse_response(r->head_buf, end, &lim, &r->head, &e) != 0) {
                snprintf(r->msgbuf, sizeof r->msgbuf, "upstream response: %s", e.message);
                finish(r, TG__UP_PROTOCOL, r->msgbuf);
                return;
            }
            if (r->head.status == 101) {
                finish(r, TG__UP_PROTOCOL, "upstream switched protocols, which tokgate does not relay");
                return;
            }
            if (r->head.status < 200) continue; /* 1xx interim: the real head follows */
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
            if (on_head(r, reason, rlen)) return;
            if (r->body_mode == BODY_NONE) {
                finish(r, TG__UP_OK, NULL);
                return;
            }
            continue;
        }
        /* PH_BODY */
        if (len == 0 || r->paused) return;
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) return;
        const char *p = v.iov_base;
        size_t n = v.iov_len;
        if (r->body_mode == BODY_LENGTH) {
            if ((uint64_t)n > r->remaining) n = (size_t)r->remaining;
            r->remaining -= n;
            int stop = deliver(r, p, n);
            if (stop) return;
            evbuffer_drain(in, n);
            if (r->remaining == 0) {
                finish(r, TG__UP_OK, NULL);
                return;
            }
        } else if (r->body_mode == BODY_CLOSE) {
            if (deliver(r, p, n)) return;
            evbuffer_drain(in, n);
        } else {
            size_t used = 0;
            const char *out, *msg = NULL;
            size_t out_len;
            int rc = tg__chunked_feed(&r->ck, p, n, &used, &out, &out_len, &msg);
            if (rc == TG__CHUNK_ERROR) {
                snprintf(r->msgbuf, sizeof r->msgbuf, "upstream chunked body: %s", msg);
                finish(r, TG__UP_PROTOCOL, r->msgbuf);
                return;
            }
            if (rc == TG__CHUNK_DATA && deliver(r, out, out_len)) return;
            evbuffer_drain(in, used);
            if (rc == TG__CHUNK_DONE) {
                finish(r, TG__UP_OK, NULL);
                return;
            }
        }
    }
}

static void up_read_cb(struct bufferevent *bev, void *arg) {
    (void)bev;
    tg__upreq *r = arg;
    if (r->paused) return;
    if (r->phase == PH_WAIT_FIRST || r->phase == PH_HEAD || r->phase == PH_BODY) arm(r, r->t.idle);
    process(r);
}

static void up_event_cb(struct bufferevent *bev, short what, void *arg) {
    tg__upreq *r = arg;
    if (what & BEV_EVENT_CONNECTED) {
        /* The request is written in pieces (head, body): without NODELAY the
         * last piece can wait for a delayed ACK (Nagle), ~40 ms. */
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        r->phase = PH_WAIT_FIRST;
        arm(r, r->t.first_byte);
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
        if (attach_conn(r, 0) != 0) finish(r, TG__UP_NOMEM, "out of memory");
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
