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
 * Every request head that arrives gets a request id (the client's
 * x-request-id when it is 1..128 visible ASCII characters, else a generated
 * one: 32 hex digits), echoed on the response as X-Request-Id, and leaves
 * exactly one access line (log.h) when its response ends, when it is refused
 * before a handler ran, or when the client leaves first (end=client_gone).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

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
    snprintf(out, cap, "%016llx%016llx", (unsigned long long)v[0], (unsigned long long)v[1]);
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
    c->log.t_start = tg__now();
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

static void set_timeouts(tg__client *c, int reading) {
    struct timeval rt, wt;
    tv_of(c->srv->cfg->client_timeout, &rt);
    tv_of(c->srv->cfg->client_timeout, &wt);
    bufferevent_set_timeouts(c->bev, reading ? &rt : NULL, &wt);
}

static void process(tg__client *c);

static void unlink_client(tg__client *c) {
    tg__server *s = c->srv;
    if (c->prev) c->prev->next = c->next;
    else s->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_clients--;
    s->metrics.open_connections = s->n_clients;
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
        c->job->cancelled = 1;
        c->job = NULL;
    }
    tg__server *s = c->srv;
    access_write(c, "client_gone");
    unlink_client(c);
    if (c->bev) bufferevent_free(c->bev);
    if (c->body) evbuffer_free(c->body);
    if (c->cfg) tg__config_unref(c->cfg);
    tg__arena_reset(&c->arena);
    free(c);
    tg__server_maybe_exit(s);
}

static void read_cb(struct bufferevent *bev, void *arg) {
    (void)bev;
    process(arg);
}

static void write_cb(struct bufferevent *bev, void *arg) {
    tg__client *c = arg;
    if (c->state == TG__C_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) tg__client_free(c);
        return;
    }
    if (c->ex) c->srv->client_hooks->exchange_drained(c->ex);
}

static void event_cb(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    tg__client *c = arg;
    if (c->ex && c->srv->client_hooks->exchange_active(c->ex)) c->srv->metrics.client_disconnects++;
    (void)what;
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
    if (c) c->body = evbuffer_new();
    if (!c || !c->body) {
        bufferevent_free(bev);
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
    bufferevent_setwatermark(c->bev, EV_READ, 0, hw);
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    set_timeouts(c, 1);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    return c;
}

size_t tg__client_pending(const tg__client *c) {
    return evbuffer_get_length(bufferevent_get_output(c->bev));
}

void tg__client_set_write_low(tg__client *c, size_t low) {
    bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
}

/* The request is answered: keep the connection for the next one, or flush and close. */
static void finish(tg__client *c) {
    access_write(c, c->log_end);
    c->ex = NULL;
    if (c->cfg) {
        tg__config_unref(c->cfg);
        c->cfg = NULL;
    }
    evbuffer_drain(c->body, evbuffer_get_length(c->body));
    tg__arena_reset(&c->arena);
    c->cors = NULL;
    c->hdrs = NULL;
    c->head_copy = NULL;
    c->scan_from = 0;
    c->resp_chunked = c->resp_close_delimited = 0;
    if (!c->keep_alive || c->srv->draining) {
        c->state = TG__C_CLOSING;
        bufferevent_disable(c->bev, EV_READ);
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        if (tg__client_pending(c) == 0) tg__client_free(c);
        return;
    }
    c->state = TG__C_HEAD;
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    set_timeouts(c, 1);
    bufferevent_enable(c->bev, EV_READ);
    if (!c->in_process && evbuffer_get_length(bufferevent_get_input(c->bev))) process(c);
}

static void add_common(tg__client *c, struct evbuffer *out) {
    if (c->log.id[0]) evbuffer_add_printf(out, "X-Request-Id: %s\r\n", c->log.id);
    if (c->cors) evbuffer_add(out, c->cors, strlen(c->cors));
    if (!c->keep_alive || c->srv->draining) evbuffer_add_printf(out, "Connection: close\r\n");
    else if (c->req.version_minor == 0) evbuffer_add_printf(out, "Connection: keep-alive\r\n");
}

void tg__client_respond(tg__client *c, int status, const char *ctype, const char *body, size_t len,
                        const char *extra_headers) {
    struct evbuffer *out = bufferevent_get_output(c->bev);
    tg__metrics_request(&c->srv->metrics, c->route, status);
    c->log.status = status;
    access_error_code(c, status, body, len);
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n", status,
                        tg__reason_phrase(status), ctype, len);
    if (extra_headers) evbuffer_add(out, extra_headers, strlen(extra_headers));
    add_common(c, out);
    evbuffer_add(out, "\r\n", 2);
    if (!c->head_only && len) evbuffer_add(out, body, len);
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

void tg__client_begin(tg__client *c, int status, struct evbuffer *head, int64_t content_length, int no_body) {
    struct evbuffer *out = bufferevent_get_output(c->bev);
    tg__metrics_request(&c->srv->metrics, c->route, status);
    c->log.status = status;
    if (evbuffer_search(head, "x-tokgate-escalated:", 20, NULL).pos >= 0) c->log.decision = "escalated";
    evbuffer_add_buffer(out, head);
    if (no_body) {
        if (c->head_only && content_length >= 0)
            evbuffer_add_printf(out, "Content-Length: %lld\r\n", (long long)content_length);
    } else if (content_length >= 0) {
        evbuffer_add_printf(out, "Content-Length: %lld\r\n", (long long)content_length);
    } else if (c->req.version_minor >= 1) {
        evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
        c->resp_chunked = 1;
    } else {
        c->keep_alive = 0;
        c->resp_close_delimited = 1;
    }
    add_common(c, out);
    evbuffer_add(out, "\r\n", 2);
}

void tg__client_body(tg__client *c, const char *p, size_t n) {
    if (c->head_only || n == 0) return;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->resp_chunked) {
        evbuffer_add_printf(out, "%zx\r\n", n);
        evbuffer_add(out, p, n);
        evbuffer_add(out, "\r\n", 2);
    } else {
        evbuffer_add(out, p, n);
    }
}

void tg__client_end(tg__client *c, int clean) {
    if (clean && c->resp_chunked && !c->head_only)
        evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
    if (!clean) {
        c->keep_alive = 0; /* the client sees a truncated body */
        c->log_end = "truncated";
    }
    finish(c);
}

/* A malformed or oversized request: answer and close (framing may be lost). */
static void reject(tg__client *c, int status, const char *code, const char *msg) {
    c->keep_alive = 0;
    c->state = TG__C_BUSY;
    tg__client_error(c, status, "invalid_request_error", code, NULL, "%s", msg);
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
            char msg[160];
            snprintf(msg, sizeof msg, "request header block exceeds the %zu-byte max_header_bytes limit", cfg->max_head);
            reject(c, 431, "request_header_fields_too_large", msg);
            return -1;
        }
        const char *nl = memchr(p, '\n', look);
        if (!nl && look > cfg->max_line) {
            char msg[160];
            snprintf(msg, sizeof msg, "request line exceeds the %zu-byte max_request_line limit", cfg->max_line);
            reject(c, 414, "uri_too_long", msg);
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
        char msg[256];
        snprintf(msg, sizeof msg, "malformed HTTP request: %s", e.message);
        reject(c, e.status, e.status == 431 ? "request_header_fields_too_large" : "bad_request", msg);
        return -1;
    }
    access_request(c);
    c->keep_alive = c->req.keep_alive;
    c->head_only = c->req.method_len == 4 && !memcmp(c->req.method, "HEAD", 4);
    c->body_chunked = c->req.chunked;
    c->body_need = 0;
    if (c->req.chunked) tg__chunked_init(&c->chunk);
    else if (c->req.content_length > 0) {
        if ((uint64_t)c->req.content_length > cfg->max_body) {
            char msg[200];
            snprintf(msg, sizeof msg, "request body of %lld bytes exceeds the %zu-byte max_body_bytes limit",
                     (long long)c->req.content_length, cfg->max_body);
            reject(c, 413, "request_too_large", msg);
            return -1;
        }
        c->body_need = (size_t)c->req.content_length;
    }
    if ((c->body_chunked || c->body_need) && c->req.expect_continue && c->req.version_minor == 1)
        evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
    c->state = TG__C_BODY;
    return 1;
}

/* 1 when the body is complete, 0 when more is needed, -1 after a rejection. */
static int read_body(tg__client *c) {
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t max_body = c->cfg->max_body;
    if (!c->body_chunked) {
        size_t len = evbuffer_get_length(in);
        size_t n = len < c->body_need ? len : c->body_need;
        if (n) evbuffer_remove_buffer(in, c->body, n);
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
            char m[200];
            snprintf(m, sizeof m, "malformed chunked request body: %s", msg);
            reject(c, 400, "bad_request", m);
            return -1;
        }
        if (rc == TG__CHUNK_DATA) {
            if (evbuffer_get_length(c->body) + out_len > max_body) {
                char m[200];
                snprintf(m, sizeof m, "request body exceeds the %zu-byte max_body_bytes limit", max_body);
                reject(c, 413, "request_too_large", m);
                return -1;
            }
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
            c->t_start = tg__now();
            set_timeouts(c, 0);
            c->srv->client_hooks->dispatch(c);
            continue; /* answered at once (back in HEAD) or an exchange runs (BUSY) */
        }
        break;
    }
    c->in_process = 0;
    if (c->dead) tg__client_free(c);
}
