/*
 * gateway/client.c: one accepted client connection.
 *
 * States: HEAD (waiting for a request head, at most max_head bytes, within
 * client_timeout), BODY (reading Content-Length or chunked bytes, at most
 * max_body), BUSY (a handler or an exchange owns the request), CLOSING
 * (flushing the last response before closing). After a response the
 * connection goes back to HEAD when both sides keep it alive; pipelined
 * requests already buffered are then served in order. While BUSY the
 * connection keeps reading (without a timeout) only to notice the client
 * leaving, with the input capped by a read watermark; a client that leaves
 * cancels its exchange and, with it, the upstream request.
 *
 * Every response goes through tg__client_respond (whole body) or
 * tg__client_begin/body/end (relayed body: Content-Length, chunked, or
 * close-delimited for HTTP/1.0 clients); both count the request in metrics.
 * A stalled reader is dropped after client_timeout (bufferevent write
 * timeout).
 *
 * Deadlines for reading a request (Apache mod_reqtimeout's semantics):
 * a head must be complete within timeouts.header seconds of its first byte
 * (of the accept, on a new connection), a body within timeouts.body of the
 * end of its head; each deadline moves 1 s later per timeouts.min_rate
 * bytes received, up to timeouts.header_max / body_max. A request that
 * misses one, or sends nothing for client_timeout mid-request, gets 408
 * (request_timeout, the message naming the deadline) and the connection
 * closes; a connection that never began a request is closed silently.
 * A refusal sent before the request was read lingers (LINGER above) so the
 * client reads it rather than a reset. An absolute-form target becomes its
 * origin-form path before anything above sees it.
 *
 * Every request head that arrives gets a request id (the client's
 * x-request-id when it is 1..128 visible ASCII characters, else a generated
 * one: 32 hex digits), echoed on the response as X-Request-Id, and leaves
 * exactly one access line (log.h) when its response ends, when it is refused
 * before a handler ran, or when the client leaves first (end=client_gone).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h> /* enabled, wm_write: settings not set again when unchanged */

#include "gateway/client.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "tokgate/policy.h"
#include "gateway/server.h"
#include "gateway/workers.h"

const char *tg__reason_phrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 400 ? "Redirect" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* A new request id: 32 hex digits, from a per-process random seed and a
 * counter through splitmix64 (unique per process, not guessable from the
 * previous one without the seed). Loop thread only. */
static void new_request_id(char *out, size_t cap) {
    static uint64_t seed, n;
    if (!seed) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed)
            seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        if (fd >= 0) close(fd);
        seed |= 1;
    }
    uint64_t v[2];
    for (int i = 0; i < 2; i++) {
        uint64_t z = seed + 0x9e3779b97f4a7c15ULL * ++n;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        v[i] = z ^ (z >> 31);
    }
    /* "%016llx%016llx" by hand (snprintf cost ~1,000 instructions a request),
     * a byte's two digits a step (a digit a step cost ~480) */
    static const char hex2[513] =
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
        "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
        "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    char hex[33];
    for (int i = 0; i < 16; i++) memcpy(hex + 2 * i, hex2 + 2 * ((v[i / 8] >> (56 - 8 * (i % 8))) & 0xff), 2);
    if (!cap) return;
    size_t k = cap - 1 < 32 ? cap - 1 : 32;
    memcpy(out, hex, k);
    out[k] = '\0';
}

/* 1 when a client's x-request-id may be kept: 1..TG__REQUEST_ID_MAX bytes of visible ASCII. */
static int request_id_ok(const char *v, size_t n) {
    if (n == 0 || n > TG__REQUEST_ID_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) return 0;
    return 1;
}

/* A request head arrived (or an oversized one was refused): a fresh access line. */
static void access_begin(tg__client *c) {
    memset(&c->log, 0, sizeof c->log);
    c->log.t_start = tg__log_access_on() ? tg__now() : 0; /* only the access line reads it */
    new_request_id(c->log.id, sizeof c->log.id);
    c->log_pending = 1;
    c->log_end = "ok";
}

/* The parsed head: method, path (no query), and the client's request id if valid. */
static void access_request(tg__client *c) {
    const tg__http_head *r = &c->req;
    tg__access_set(c->log.method, sizeof c->log.method, r->method, r->method_len);
    const char *q = memchr(r->target, '?', r->target_len);
    tg__access_set(c->log.path, sizeof c->log.path, r->target, q ? (size_t)(q - r->target) : r->target_len);
    const tg__http_header *h = tg__http_find(r, "x-request-id");
    if (h && request_id_ok(h->value, h->value_len)) {
        memcpy(c->log.id, h->value, h->value_len);
        c->log.id[h->value_len] = '\0';
    }
}

/* An error answer made here (OpenAI shape) without a code recorded: the
 * body's first "code":"..." for the access line. */
static void access_error_code(tg__client *c, int status, const char *body, size_t len) {
    static const char key[] = "\"code\":\"";
    if (status < 400 || c->log.error[0] || len > 16384) return;
    for (size_t i = 0; i + sizeof key - 1 < len; i++) {
        if (memcmp(body + i, key, sizeof key - 1) != 0) continue;
        const char *v = body + i + sizeof key - 1;
        const char *e = memchr(v, '"', len - (size_t)(v - body));
        if (e) tg__access_set(c->log.error, sizeof c->log.error, v, (size_t)(e - v));
        return;
    }
}

static void access_write(tg__client *c, const char *end) {
    if (!c->log_pending) return;
    c->log_pending = 0;
    tg__log_access(&c->log, end);
}

static void tv_of(double s, struct timeval *tv) {
    tv->tv_sec = (time_t)s;
    tv->tv_usec = (suseconds_t)((s - (double)tv->tv_sec) * 1e6);
}

static tg__wheel *wheel_of(tg__client *c) { return tg__pools_wheel(&c->srv->pools); }

/* The stall timeout (timeouts.client) while a request is read: on the
 * loop's wheel (wheel.h), moved later by each read with one store, where a
 * bufferevent read timeout cost an event_add per read and two
 * bufferevent_set_timeouts per request (issue 17). The write side keeps the
 * bufferevent's write timeout (it runs only while an answer waits for a
 * slow reader), set again only when the configured value changes. */
static void set_timeouts(tg__client *c, int reading) {
    double t = c->srv->cfg->client_timeout;
    if (reading) tg__tnode_set(wheel_of(c), &c->stall, tg__now_due() + t);
    else tg__tnode_clear(&c->stall);
    if (t != c->write_timeout) {
        struct timeval wt;
        tv_of(t, &wt);
        bufferevent_set_timeouts(c->bev, NULL, &wt);
        c->write_timeout = t;
    }
}

static void process(tg__client *c);
static void reject(tg__client *c, int status, const char *code, const char *msg);
static void buf_give(tg__client *c);

/* ---- the answer's bytes ------------------------------------------------
 * A small answer made while the output is empty collects in c->ob (corked)
 * and leaves in one send when it ends (finish): no evbuffer_add, none of the
 * output's callbacks, no write event added and dropped (issue 17: ~3K
 * instructions a small chat). What is corked is counted as pending. A
 * relayed answer is corked only inside a read callback (upstream.h
 * tg__cork), which spills it into the output at its end when it has not
 * ended by then; an answer that is closing, too large (CORK_MAX), on a
 * bufferevent without a socket, or made when the output holds bytes goes
 * through the output as before. Either way the bytes on the wire, and when
 * they leave, are the same. */
#define CORK_MAX (64u << 10)  /* an answer longer than this goes through the output */
#define CORK_KEEP (64u << 10) /* c->ob memory kept for the next answer, at most */

static void ob_done(tg__client *c) {
    if (c->ob.cap > CORK_KEEP) tgx_buf_free(&c->ob);
    else tgx_buf_reset(&c->ob);
}

/* The corked bytes into the output, as they would have gone; uncorked. */
static void spill(tg__client *c) {
    if (!c->corked) return;
    c->corked = 0;
    tg__cork_drop(&c->cork);
    if (c->ob.len) evbuffer_add(bufferevent_get_output(c->bev), c->ob.data, c->ob.len);
    tgx_buf_free(&c->ob); /* a long answer or a stream: no memory held while it lasts */
}

static void cork_spill(tg__cork *k) { spill((tg__client *)(void *)((char *)k - offsetof(tg__client, cork))); }

/* An answer of about `len` bytes (0: not known) begins: corked when it may
 * be; `scoped`: only inside a read callback (it may not end in this call). */
static void cork_start(tg__client *c, size_t len, int scoped) {
    if (c->corked || len > CORK_MAX || (scoped && !tg__cork_open()) || bufferevent_getfd(c->bev) < 0 ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) != 0)
        return;
    c->corked = 1;
    if (scoped) tg__cork_queue(&c->cork);
}

static void out_add(tg__client *c, const void *p, size_t n) {
    if (c->corked) {
        if (c->ob.len + n <= CORK_MAX && tgx_buf_append(&c->ob, p, n) == TG_OK) return;
        spill(c); /* grown past CORK_MAX (or out of memory): the output from here on */
    }
    evbuffer_add(bufferevent_get_output(c->bev), p, n);
}

/* The answer is complete and the connection stays: out now, in one send
 * when corked (what does not go at once waits in the output for the
 * bufferevent's write, as an evbuffer_write's rest would), else the
 * output's own flush (upstream.h tg__bev_flush). */
static void out_flush(tg__client *c) {
    if (!c->corked) {
        tg__bev_flush(c->bev);
        return;
    }
    c->corked = 0;
    tg__cork_drop(&c->cork);
    size_t sent = 0;
    ssize_t n = send(bufferevent_getfd(c->bev), c->ob.data, c->ob.len, MSG_NOSIGNAL);
    if (n > 0) sent = (size_t)n; /* else would block, or an error: the bufferevent's write reports it */
    if (sent < c->ob.len) evbuffer_add(bufferevent_get_output(c->bev), c->ob.data + sent, c->ob.len - sent);
    ob_done(c);
}

static void unlink_client(tg__client *c) {
    tg__server *s = c->srv;
    if (c->prev) c->prev->next = c->next;
    else s->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_clients--;
    s->metrics.open_connections = s->n_clients;
    if (s->client_hooks && s->client_hooks->conn_changed) s->client_hooks->conn_changed(s);
}

#define LINGER_S 2 /* seconds a refused client's further bytes are read and dropped */

/* The current phase's deadline: start + initial + bytes / min_rate, capped at start + max. */
static double phase_deadline(const tg__client *c) {
    const tg__config *cfg = c->cfg ? c->cfg : c->srv->cfg;
    int body = c->state == TG__C_BODY;
    double init = body ? cfg->body_timeout : cfg->header_timeout;
    double max = body ? cfg->body_timeout_max : cfg->header_timeout_max;
    double d = init;
    if (cfg->min_rate > 0) d += (double)(c->rx - c->phase_rx0) / cfg->min_rate;
    if (max > 0 && d > max) d = max > init ? max : init;
    return c->phase_t0 + d;
}

static void arm_at(tg__client *c, double at) {
    tg__tnode_set(wheel_of(c), &c->deadline, at);
}

/* A head or body phase begins: its deadline counts from now, bytes from `buffered` ago. */
static void phase_start(tg__client *c, size_t buffered) {
    c->phase_t0 = tg__now_due(); /* a due time's start (log.h) */
    c->phase_rx0 = c->rx - buffered;
    arm_at(c, phase_deadline(c));
}

static void phase_stop(tg__client *c) {
    c->phase_t0 = 0;
    c->phase_rx0 = c->rx; /* bytes from here on belong to a next request */
    tg__tnode_clear(&c->deadline);
}

/* 1 when bytes of a request have arrived in this HEAD phase (or it is a BODY). */
static int request_begun(const tg__client *c) {
    return c->state == TG__C_BODY || c->scan_from > 0 || c->rx > c->phase_rx0 ||
           evbuffer_get_length(bufferevent_get_input(c->bev)) > 0;
}

/* The request missed a deadline or stalled: 408 when it had begun, else a silent close. */
static void timed_out(tg__client *c, int stalled) {
    if (!request_begun(c)) {
        tg__client_free(c);
        return;
    }
    const tg__config *cfg = c->cfg ? c->cfg : c->srv->cfg;
    int body = c->state == TG__C_BODY;
    char msg[400];
    if (stalled)
        snprintf(msg, sizeof msg, "request %s stalled: no bytes for %g s (timeouts.client)", body ? "body" : "head",
                 cfg->client_timeout);
    else
        snprintf(msg, sizeof msg,
                 "request %s not complete within its deadline: timeouts.%s %g s, plus 1 s per %g bytes received "
                 "(timeouts.min_rate), at most %g s (timeouts.%s_max; 0: no maximum)",
                 body ? "body" : "head", body ? "body" : "header", body ? cfg->body_timeout : cfg->header_timeout,
                 cfg->min_rate, body ? cfg->body_timeout_max : cfg->header_timeout_max, body ? "body" : "header");
    if (!c->log_pending) access_begin(c);
    c->route = TG__R_NONE;
    reject(c, 408, "request_timeout", msg);
}

static void deadline_cb(void *arg) {
    tg__client *c = arg;
    if (c->state == TG__C_LINGER) {
        tg__client_free(c);
        return;
    }
    if ((c->state != TG__C_HEAD && c->state != TG__C_BODY) || c->phase_t0 == 0) return;
    double d = phase_deadline(c);
    if (tg__now_due() < d) arm_at(c, d);
    else timed_out(c, 0);
}

/* No byte read for timeouts.client while a request was read (the
 * bufferevent read timeout's meaning): a stalled request gets 408, a
 * connection waiting for its next request closes. */
static void stall_cb(void *arg) {
    tg__client *c = arg;
    if (c->state == TG__C_HEAD || c->state == TG__C_BODY) timed_out(c, 1);
    else tg__client_free(c);
}

static void count_rx(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg) {
    (void)b;
    ((tg__client *)arg)->rx += info->n_added;
}

/* The answer to a refused request is out: shut our side, drop what still comes, close soon. */
static void linger_start(tg__client *c) {
    c->state = TG__C_LINGER;
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_drain(in, evbuffer_get_length(in));
    tg__tnode_clear(&c->stall);
    bufferevent_set_timeouts(c->bev, NULL, NULL);
    bufferevent_enable(c->bev, EV_READ);
    tg__tnode_set(wheel_of(c), &c->deadline, tg__now_due() + LINGER_S);
}

void tg__client_free(tg__client *c) {
    if (c->in_process) {
        c->dead = 1;
        return;
    }
    if (c->ex) {
        tg__exchange *ex = c->ex;
        c->ex = NULL;
        c->srv->client_hooks->exchange_free(ex, 1);
    }
    if (c->job) { /* its done() frees it and leaves the client alone */
        tg__job *j = c->job;
        c->job = NULL;
        j->cancelled = 1;
        if (j->abandon) j->abandon(j); /* waiting on the loop: no done() will come */
    }
    tg__server *s = c->srv;
    access_write(c, "client_gone");
    buf_give(c);
    tg__cork_drop(&c->cork);
    tgx_buf_free(&c->ob);
    unlink_client(c);
    tg__tnode_clear(&c->deadline);
    tg__tnode_clear(&c->stall);
    if (c->bev) {
        tg__bev_fast_read_end(c->bev, &c->rd);
        bufferevent_free(c->bev);
    }
    if (c->body) evbuffer_free(c->body);
    if (c->cfg) tg__config_unref(c->cfg);
    tg__arena_reset(&c->arena);
    free(c);
    tg__server_maybe_exit(s);
}

static void read_cb(struct bufferevent *bev, void *arg) {
    tg__client *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (c->state == TG__C_LINGER) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    if (tg__tnode_armed(&c->stall)) tg__tnode_later(&c->stall, tg__now_due() + c->srv->cfg->client_timeout);
    if (c->state == TG__C_HEAD && c->phase_t0 == 0 && evbuffer_get_length(in)) phase_start(c, evbuffer_get_length(in));
    process(c);
}

static void write_cb(struct bufferevent *bev, void *arg) {
    tg__client *c = arg;
    if (c->state == TG__C_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) != 0) return;
        if (c->linger) linger_start(c);
        else tg__client_free(c);
        return;
    }
    if (c->ex) c->srv->client_hooks->exchange_drained(c->ex);
}

static void event_cb(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    tg__client *c = arg;
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
        (c->state == TG__C_HEAD || c->state == TG__C_BODY)) {
        timed_out(c, 1); /* a request stalled mid-way: 408, not a silent close */
        return;
    }
    if (c->ex && c->srv->client_hooks->exchange_active(c->ex)) c->srv->metrics.client_disconnects++;
    tg__client_free(c);
}

void tg__client_accept(tg__server *s, evutil_socket_t fd, struct sockaddr *sa, int salen) {
    (void)salen;
    char peer[64] = "";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, peer, sizeof peer);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, peer, sizeof peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    tg__client_attach(s, bev, peer);
}

tg__client *tg__client_attach(tg__server *s, struct bufferevent *bev, const char *peer) {
    tg__client *c = calloc(1, sizeof *c);
    if (c) {
        c->body = evbuffer_new();
        tg__tnode_init(&c->deadline, deadline_cb, c);
        tg__tnode_init(&c->stall, stall_cb, c);
        c->write_timeout = -1;
        tgx_buf_init(&c->ob, SIZE_MAX);
        c->cork.spill = cork_spill;
    }
    if (!c || !c->body || evbuffer_add_cb(bufferevent_get_input(bev), count_rx, c) == NULL) {
        bufferevent_free(bev);
        if (c && c->body) evbuffer_free(c->body);
        free(c);
        return NULL;
    }
    c->srv = s;
    c->bev = bev;
    snprintf(c->peer, sizeof c->peer, "%s", peer ? peer : "");
    tg__arena_init(&c->arena, 0);
    c->state = TG__C_HEAD;
    c->next = s->clients;
    if (s->clients) s->clients->prev = c;
    s->clients = c;
    s->n_clients++;
    s->metrics.open_connections = s->n_clients;
    size_t hw = s->cfg->max_head + 4096 > (64u << 10) ? s->cfg->max_head + 4096 : (64u << 10);
    tg__bev_fast_read(c->bev, &c->rd); /* no FIONREAD, no watermark callback per read (upstream.h) */
    tg__bev_read_cap(c->bev, &c->rd, hw);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    set_timeouts(c, 1);
    phase_start(c, 0); /* a new connection's head deadline runs from the accept */
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
}

int tg__client_idle(const tg__client *c) {
    return c->state == TG__C_HEAD && c->phase_t0 == 0 && !c->in_process &&
           evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
}

size_t tg__client_pending(const tg__client *c) {
    return evbuffer_get_length(bufferevent_get_output(c->bev)) + (c->corked ? c->ob.len : 0);
}

void tg__client_set_write_low(tg__client *c, size_t low) {
    bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
}

/* At the cap, a connection gone idle is room for a newcomer: the accept loop is told. */
static void tell_idle(tg__client *c) {
    tg__server *s = c->srv;
    if (s->n_clients >= s->max_conns && s->client_hooks && s->client_hooks->conn_changed && tg__client_idle(c))
        s->client_hooks->conn_changed(s);
}

/* The request is answered: keep the connection for the next one, or flush and close. */
static void finish(tg__client *c) {
    access_write(c, c->log_end);
    buf_give(c);
    c->ex = NULL;
    if (c->cfg) {
        tg__config_unref(c->cfg);
        c->cfg = NULL;
    }
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
    tg__arena_recycle(&c->arena); /* gwreq: the first block kept for the next request */
    c->cors = NULL;
    c->hdrs = NULL;
    c->head_copy = NULL;
    c->scan_from = 0;
    c->resp_chunked = c->resp_close_delimited = 0;
    c->head_only = 0;
    c->route = TG__R_NONE;
    phase_stop(c);
    if (!c->keep_alive || c->srv->draining) {
        c->state = TG__C_CLOSING;
        spill(c); /* the bufferevent's write closes (or lingers) after it */
        tg__tnode_clear(&c->stall); /* reading is over; the write timeout guards the rest */
        bufferevent_disable(c->bev, EV_READ);
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        if (tg__client_pending(c) == 0) tg__client_free(c);
        return;
    }
    c->state = TG__C_HEAD;
    /* unchanged settings are not set again: each call re-adds events (issue 17) */
    if (c->bev->wm_write.low || c->bev->wm_write.high) bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    out_flush(c); /* the whole answer is there: out now */
    set_timeouts(c, 1);
    if (!(c->bev->enabled & EV_READ)) bufferevent_enable(c->bev, EV_READ);
    size_t buffered = evbuffer_get_length(bufferevent_get_input(c->bev));
    if (buffered) phase_start(c, buffered); /* a pipelined request's head: its deadline runs now */
    else tell_idle(c);
    if (!c->in_process && buffered) process(c);
}

/* Header lines written by hand into one piece: evbuffer_add_printf cost
 * more than the rest of a small answer's head (issue 17). */
static size_t put_str(char *d, size_t at, const char *s, size_t n) {
    memcpy(d + at, s, n);
    return at + n;
}
#define PUT_LIT(d, at, lit) put_str(d, at, lit, sizeof(lit) - 1)

static size_t put_num(char *d, size_t at, uint64_t v, unsigned base) { /* decimal or lower-case hex */
    char t[24];
    size_t n = 0;
    do {
        t[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n) d[at++] = t[--n];
    return at;
}

static void add_common(tg__client *c) {
    char line[sizeof c->log.id + 64];
    size_t n = 0;
    if (c->log.id[0]) {
        n = PUT_LIT(line, n, "X-Request-Id: ");
        n = put_str(line, n, c->log.id, strnlen(c->log.id, sizeof c->log.id));
        n = PUT_LIT(line, n, "\r\n");
    }
    if (c->cors) {
        out_add(c, line, n);
        out_add(c, c->cors, strlen(c->cors));
        n = 0;
    }
    if (!c->keep_alive || c->srv->draining) n = PUT_LIT(line, n, "Connection: close\r\n");
    else if (c->req.version_minor == 0) n = PUT_LIT(line, n, "Connection: keep-alive\r\n");
    n = PUT_LIT(line, n, "\r\n"); /* the head's end */
    out_add(c, line, n);
}

static void add_length(tg__client *c, uint64_t len) {
    char line[64];
    size_t n = PUT_LIT(line, 0, "Content-Length: ");
    n = put_num(line, n, len, 10);
    n = PUT_LIT(line, n, "\r\n");
    out_add(c, line, n);
}

void tg__client_respond(tg__client *c, int status, const char *ctype, const char *body, size_t len,
                        const char *extra_headers) {
    tg__metrics_request(&c->srv->metrics, c->route, status);
    c->log.status = status;
    access_error_code(c, status, body, len);
    cork_start(c, len, 0); /* finish ends it, below */
    char line[32]; /* "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n" by hand */
    size_t n = PUT_LIT(line, 0, "HTTP/1.1 ");
    n = put_num(line, n, (uint64_t)(unsigned)status, 10);
    line[n++] = ' ';
    out_add(c, line, n);
    const char *reason = tg__reason_phrase(status);
    out_add(c, reason, strlen(reason));
    out_add(c, "\r\nContent-Type: ", 16);
    out_add(c, ctype, strlen(ctype));
    out_add(c, "\r\n", 2);
    add_length(c, len);
    if (extra_headers) out_add(c, extra_headers, strlen(extra_headers));
    add_common(c);
    if (!c->head_only && len) out_add(c, body, len);
    finish(c);
}

void tg__client_error(tg__client *c, int status, const char *type, const char *code, const char *param,
                      const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (code && !c->log.error[0]) tg__access_set(c->log.error, sizeof c->log.error, code, strlen(code));
    char *j = tg_error_body_text(msg, type, code, param);
    if (!j) {
        static const char oom[] = "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}";
        tg__client_respond(c, 500, "application/json", oom, sizeof oom - 1, NULL);
        return;
    }
    tg__client_respond(c, status, "application/json", j, strlen(j), NULL);
    free(j);
}

/* 1 when HEAD holds the bytes WHAT: the head is one piece (proxy.c builds it
 * in one buffer), searched 16 places a step (http_parse.h
 * tg__http_bytes_has), not evbuffer_search's byte walk (issue 17). */
static int mem_has(const char *hp, size_t hl, const char *what) {
    return tg__http_bytes_has(hp, hl, what, strlen(what));
}

static int head_has(struct evbuffer *head, const char *what) {
    size_t hl = evbuffer_get_length(head);
    return mem_has(hl ? (const char *)evbuffer_pullup(head, -1) : NULL, hl, what);
}

/* The framing line (Content-Length or Transfer-Encoding, or none), the
 * response's framing noted, then the common lines and the head's end. */
static void begin_framing(tg__client *c, int64_t content_length, int no_body) {
    if (no_body) {
        if (c->head_only && content_length >= 0) add_length(c, (uint64_t)content_length);
    } else if (content_length >= 0) {
        add_length(c, (uint64_t)content_length);
    } else if (c->req.version_minor >= 1) {
        static const char te[] = "Transfer-Encoding: chunked\r\n";
        out_add(c, te, sizeof te - 1);
        c->resp_chunked = 1;
    } else {
        c->keep_alive = 0;
        c->resp_close_delimited = 1;
    }
    add_common(c);
}

void tg__client_begin(tg__client *c, int status, struct evbuffer *head, int64_t content_length, int no_body) {
    tg__metrics_request(&c->srv->metrics, c->route, status);
    c->log.status = status;
    if (head_has(head, "x-tokgate-escalated:")) c->log.decision = "escalated";
    size_t hl = evbuffer_get_length(head);
    cork_start(c, hl + (content_length > 0 && !no_body ? (size_t)content_length : 0), 1);
    if (c->corked && hl) out_add(c, evbuffer_pullup(head, -1), hl); /* head_has made it one piece */
    else evbuffer_add_buffer(bufferevent_get_output(c->bev), head);
    begin_framing(c, content_length, no_body);
}

/* answer path (issue 17, round 6): the head in memory (no evbuffer of its
 * own to fill, move and free), corked as tg__client_begin's */
void tg__client_begin_mem(tg__client *c, int status, const char *head, size_t len, int64_t content_length,
                          int no_body) {
    tg__metrics_request(&c->srv->metrics, c->route, status);
    c->log.status = status;
    if (mem_has(head, len, "x-tokgate-escalated:")) c->log.decision = "escalated";
    cork_start(c, len + (content_length > 0 && !no_body ? (size_t)content_length : 0), 1);
    out_add(c, head, len);
    begin_framing(c, content_length, no_body);
}

void tg__client_body(tg__client *c, const char *p, size_t n) {
    if (c->head_only || n == 0) return;
    if (c->resp_chunked) {
        char size[24];
        size_t k = put_num(size, 0, n, 16);
        k = PUT_LIT(size, k, "\r\n");
        out_add(c, size, k);
        out_add(c, p, n);
        out_add(c, "\r\n", 2);
    } else {
        out_add(c, p, n);
    }
}

/* answer path (issue 17, round 6): a chunked answer's whole body and its
 * last chunk in one piece (one chunk, as tg__client_body writes it, then
 * "0\r\n\r\n", which tg__client_end then leaves out). */
void tg__client_body_last(tg__client *c, const char *p, size_t n) {
    char buf[4096 + 32];
    if (c->head_only || !c->resp_chunked || n == 0 || n > 4096) {
        tg__client_body(c, p, n);
        return;
    }
    size_t k = put_num(buf, 0, n, 16);
    k = PUT_LIT(buf, k, "\r\n");
    memcpy(buf + k, p, n);
    k = PUT_LIT(buf, k + n, "\r\n0\r\n\r\n");
    out_add(c, buf, k);
    c->resp_chunked = 0; /* the last chunk is out */
}

void tg__client_end(tg__client *c, int clean) {
    if (clean && c->resp_chunked && !c->head_only) out_add(c, "0\r\n\r\n", 5);
    if (!clean) {
        c->keep_alive = 0; /* the client sees a truncated body */
        c->log_end = "truncated";
    }
    finish(c);
}

/* A malformed or oversized request: answer and close (framing may be lost). */
static void reject(tg__client *c, int status, const char *code, const char *msg) {
    c->keep_alive = 0;
    c->linger = 1;
    c->state = TG__C_BUSY;
    tg__client_error(c, status, "invalid_request_error", code, NULL, "%s", msg);
}

/* The error code for an HTTP-level refusal: one per status, the status's reason phrase. */
static const char *http_error_code(int status) {
    switch (status) {
    case 408: return "request_timeout";
    case 413: return "request_too_large";
    case 414: return "uri_too_long";
    case 431: return "request_header_fields_too_large";
    case 501: return "not_implemented";
    case 505: return "http_version_not_supported";
    case 500: return "server_error";
    default: return "bad_request";
    }
}

/* A refusal of the request's framing or size: the message names the size and the limit it broke. */
static void reject_http(tg__client *c, const tg__http_error *e) {
    char msg[400];
    if (e->setting) {
        const char *unit = !strcmp(e->setting, "limits.max_headers") ? "fields" : "bytes";
        char got[48];
        if (e->got) snprintf(got, sizeof got, "%zu %s", e->got, unit);
        else snprintf(got, sizeof got, "more than %zu %s", e->limit, unit);
        snprintf(msg, sizeof msg, "%s: %s; the limit is %zu (%s)", e->message, got, e->limit, e->setting);
    } else if (e->status == 400 && c->body_chunked && c->state == TG__C_BODY) {
        snprintf(msg, sizeof msg, "malformed chunked request body: %s", e->message);
    } else {
        snprintf(msg, sizeof msg, "%s%s", e->status == 400 ? "malformed HTTP request: " : "", e->message);
    }
    reject(c, e->status, http_error_code(e->status), msg);
}

/* A method of RFC 9110 9.3 or PATCH (RFC 5789); others are unrecognised (501). */
static int method_known(const char *m, size_t n) {
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i]) == n && !memcmp(known[i], m, n)) return 1;
    return 0;
}

/* RFC 9112 3.2.2: a server MUST accept the absolute-form (http://host/path)
 * and then use its authority instead of the Host field. The target becomes
 * origin-form (the path, "/" when empty, and the query), so the router, the
 * budget and the upstream see one spelling. */
static void absolute_to_origin(tg__client *c) {
    tg__http_head *r = &c->req;
    size_t skip = 0;
    if (r->target_len >= 7 && !strncasecmp(r->target, "http://", 7)) skip = 7;
    else if (r->target_len >= 8 && !strncasecmp(r->target, "https://", 8)) skip = 8;
    if (!skip) return;
    const char *auth = r->target + skip, *end = r->target + r->target_len, *p = auth;
    while (p < end && *p != '/' && *p != '?') p++;
    for (size_t i = 0; i < r->n_headers; i++) /* the authority replaces Host */
        if (tg__http_name_eq(r->headers[i].name, r->headers[i].name_len, "host")) {
            r->headers[i].value = auth;
            r->headers[i].value_len = (size_t)(p - auth);
        }
    if (p < end && *p == '/') {
        r->target_len = (size_t)(end - p);
        r->target = p;
        return;
    }
    char *t = tg__arena_alloc(&c->arena, (size_t)(end - p) + 2); /* "/" and the query */
    if (!t) return;
    t[0] = '/';
    memcpy(t + 1, p, (size_t)(end - p));
    r->target = t;
    r->target_len = (size_t)(end - p) + 1;
}

/* Counts n more body bytes under limits.max_buffered_bytes (bufcap.h): 1,
 * or 0 after a 503 with Retry-After (the body is not read; the connection
 * closes). */
static int buf_take(tg__client *c, size_t n) {
    size_t limit = tg__bufcap_limit(c->srv->cfg->max_buffered);
    if (tg__bufcap_take(&c->srv->bufcap, limit, n)) {
        c->buf_held += n;
        return 1;
    }
    char msg[256];
    tg__bufcap_message(msg, sizeof msg, &c->srv->bufcap, limit, n);
    char *j = tg_error_body_text(msg, "server_error", "buffer_full", NULL);
    c->keep_alive = 0;
    c->state = TG__C_BUSY;
    tg__metrics_refusal(&c->srv->metrics, "buffer_full");
    tg__client_respond(c, 503, "application/json", j ? j : "{}", j ? strlen(j) : 2, "Retry-After: 1\r\n");
    free(j);
    return 0;
}

static void buf_give(tg__client *c) {
    tg__bufcap_give(&c->srv->bufcap, c->buf_held);
    c->buf_held = 0;
}

static int start_request(tg__client *c) {
    tg__config *cfg = c->srv->cfg;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    if (c->scan_from == 0) { /* RFC 9112 2.2: ignore empty lines before a request */
        unsigned char b;
        while (evbuffer_copyout(in, &b, 1) == 1 && (b == '\r' || b == '\n')) evbuffer_drain(in, 1);
    }
    size_t len = evbuffer_get_length(in);
    if (len == 0) return 0;
    size_t look = len < cfg->max_head + 3 ? len : cfg->max_head + 3;
    const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)look);
    size_t end = tg__http_find_head_end(p, look, c->scan_from);
    if (end == 0) {
        if (len > cfg->max_head || (!memchr(p, '\n', look) && look > cfg->max_line)) access_begin(c);
        if (len > cfg->max_head) {
            tg__http_error e = {431, "request header block too large", 0, cfg->max_head, "limits.max_header_bytes"};
            reject_http(c, &e);
            return -1;
        }
        const char *nl = memchr(p, '\n', look);
        if (!nl && look > cfg->max_line) {
            tg__http_error e = {414, "request line too long", 0, cfg->max_line, "limits.max_request_line"};
            reject_http(c, &e);
            return -1;
        }
        c->scan_from = look;
        return 0;
    }
    access_begin(c);
    c->cfg = cfg;
    tg__config_ref(cfg);
    c->head_copy = tg__arena_strndup(&c->arena, p, end);
    c->hdrs = tg__arena_alloc(&c->arena, cfg->max_headers * sizeof(tg__http_header));
    evbuffer_drain(in, end);
    c->scan_from = 0;
    c->route = TG__R_NONE;
    c->cors = NULL;
    c->keep_alive = 0;
    c->head_only = 0;
    c->req.version_minor = 1;
    if (!c->head_copy || !c->hdrs) {
        reject(c, 500, "server_error", "out of memory");
        return -1;
    }
    tg__http_limits lim = {cfg->max_head, cfg->max_line, cfg->max_headers};
    tg__http_error e;
    memset(&c->req, 0, sizeof c->req);
    c->req.headers = c->hdrs;
    if (tg__http_parse_request(c->head_copy, end, &lim, &c->req, &e) != 0) {
        c->req.version_minor = 1;
        reject_http(c, &e);
        return -1;
    }
    absolute_to_origin(c);
    access_request(c);
    if (!method_known(c->req.method, c->req.method_len)) { /* RFC 9110 9.1 */
        char msg[160];
        snprintf(msg, sizeof msg, "method %.*s is not implemented (HTTP methods: GET, HEAD, POST, PUT, DELETE, "
                 "CONNECT, OPTIONS, TRACE, PATCH)", (int)(c->req.method_len < 32 ? c->req.method_len : 32), c->req.method);
        reject(c, 501, "not_implemented", msg);
        return -1;
    }
    c->keep_alive = c->req.keep_alive;
    c->head_only = c->req.method_len == 4 && !memcmp(c->req.method, "HEAD", 4);
    c->body_chunked = c->req.chunked;
    c->body_need = 0;
    if (c->req.chunked) tg__chunked_init(&c->chunk);
    else if (c->req.content_length > 0) {
        if ((uint64_t)c->req.content_length > cfg->max_body) {
            tg__http_error big = {413, "request body too large", (size_t)c->req.content_length, cfg->max_body,
                                  "limits.max_body_bytes"};
            reject_http(c, &big);
            return -1;
        }
        c->body_need = (size_t)c->req.content_length;
        if (!buf_take(c, c->body_need)) return -1;
    }
    if ((c->body_chunked || c->body_need) && c->req.expect_continue && c->req.version_minor == 1)
        evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
    c->state = TG__C_BODY;
    phase_start(c, evbuffer_get_length(in)); /* the body's deadline; bytes already here count */
    return 1;
}

/* Moves n bytes of the socket's input into the body. A body of known
 * length goes into one block of its size (reserved at its first bytes):
 * the socket's read blocks, moved as they are, are mostly empty space and
 * held a large body about twice over (issue 16). */
static void body_append(tg__client *c, struct evbuffer *in, size_t n) {
    /* a small body that is all the input: its block moves as it is (a
     * reserve, a copy and a drain less; issue 17), no larger than ~4 KiB */
    if (n <= 4096 && n == evbuffer_get_length(in) && evbuffer_get_length(c->body) == 0 &&
        evbuffer_add_buffer(c->body, in) == 0)
        return;
    struct evbuffer_iovec v;
    if (evbuffer_get_length(c->body) == 0 && c->body_need > (64u << 10)) evbuffer_expand(c->body, c->body_need);
    if (evbuffer_reserve_space(c->body, (ev_ssize_t)n, &v, 1) == 1 && v.iov_len >= n) {
        evbuffer_remove(in, v.iov_base, n);
        v.iov_len = n;
        evbuffer_commit_space(c->body, &v, 1);
        return;
    }
    evbuffer_remove_buffer(in, c->body, n);
}

/* 1 when the body is complete, 0 when more is needed, -1 after a rejection. */
static int read_body(tg__client *c) {
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t max_body = c->cfg->max_body;
    if (!c->body_chunked) {
        size_t len = evbuffer_get_length(in);
        size_t n = len < c->body_need ? len : c->body_need;
        if (n) body_append(c, in, n);
        c->body_need -= n;
        return c->body_need == 0;
    }
    for (;;) {
        struct evbuffer_iovec v;
        if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1) return 0;
        size_t used = 0, out_len = 0;
        const char *out, *msg = NULL;
        int rc = tg__chunked_feed(&c->chunk, v.iov_base, v.iov_len, &used, &out, &out_len, &msg);
        if (rc == TG__CHUNK_ERROR) {
            tg__http_error e = {400, msg, 0, 0, NULL};
            reject_http(c, &e);
            return -1;
        }
        /* a chunk declared past the limit is refused at its size line, as nginx does */
        uint64_t declared = c->chunk.remaining; /* what this chunk still owes (up to 2^64 - 1) */
        if (declared > max_body || declared + evbuffer_get_length(c->body) + out_len > max_body) {
            tg__http_error e = {413, "request body too large", 0, max_body, "limits.max_body_bytes"};
            reject_http(c, &e);
            return -1;
        }
        if (rc == TG__CHUNK_DATA) {
            if (evbuffer_get_length(c->body) + out_len > max_body) {
                tg__http_error e = {413, "request body too large", 0, max_body, "limits.max_body_bytes"};
                reject_http(c, &e);
                return -1;
            }
            if (!buf_take(c, out_len)) return -1;
            evbuffer_add(c->body, out, out_len);
        }
        evbuffer_drain(in, used);
        if (rc == TG__CHUNK_DONE) return 1;
    }
}

static void process(tg__client *c) {
    if (c->in_process) return;
    c->in_process = 1;
    while (!c->dead) {
        if (c->state == TG__C_HEAD) {
            if (c->srv->draining && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
                c->dead = 1;
                break;
            }
            if (start_request(c) <= 0) break;
        }
        if (c->state == TG__C_BODY) {
            int r = read_body(c);
            if (r <= 0) break;
            c->state = TG__C_BUSY;
            phase_stop(c);
            c->t_start = tg__now();
            set_timeouts(c, 0);
            c->srv->client_hooks->dispatch(c);
            continue; /* answered at once (back in HEAD) or an exchange runs (BUSY) */
        }
        break;
    }
    c->in_process = 0;
    if (c->dead) tg__client_free(c);
    else tell_idle(c);
}
