/*
 * gateway/client.h: one accepted client connection (client.c): reads a
 * request head and body with limits, keeps the connection alive, writes
 * responses (fixed, chunked or close-delimited), frees itself when the peer
 * goes. It calls nothing above it by name: a complete request goes to
 * hooks->dispatch, and the request's exchange (proxy.h) is told of drains
 * and departures through the same hooks, which the server sets.
 */
#ifndef TG_GATEWAY_CLIENT_H
#define TG_GATEWAY_CLIENT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>

#include "gateway/arena.h"
#include "gateway/config.h"
#include "gateway/http_parse.h"
#include "gateway/log.h"
#include "gateway/upstream.h"
#include "gateway/wheel.h"
#include "util/buf.h"

typedef struct tg__server tg__server;
typedef struct tg__client tg__client;
typedef struct tg__exchange tg__exchange;
struct tg__job;

/* What a client calls up into (server.c fills one for routes.c and proxy.c). */
typedef struct tg__client_hooks {
    void (*dispatch)(tg__client *c);                   /* a complete request */
    void (*exchange_drained)(tg__exchange *ex);        /* output below the low mark */
    int (*exchange_active)(const tg__exchange *ex);    /* an upstream request runs */
    void (*exchange_free)(tg__exchange *ex, int client_gone);
    void (*conn_changed)(tg__server *s);               /* a connection closed or went idle (the cap may resume accepting); may be NULL */
} tg__client_hooks;

/* LINGER: after a refusal, the answer is sent and the write side shut;
 * what the client still sends is read and dropped for a moment, so the
 * close does not reset the connection before the answer is read. */
enum tg__client_state { TG__C_HEAD, TG__C_BODY, TG__C_BUSY, TG__C_CLOSING, TG__C_LINGER };

struct tg__client {
    tg__client *prev, *next;
    tg__server *srv;
    struct bufferevent *bev;
    int state;
    tg__arena arena;          /* per request */
    tg__config *cfg;          /* config the current request runs under (ref) */
    size_t scan_from;
    tg__http_head req;
    tg__http_header *hdrs;    /* arena */
    char *head_copy;
    struct evbuffer *body;
    tg__chunked chunk;
    int body_chunked;
    size_t body_need;         /* Content-Length bytes still to read */
    size_t buf_held;          /* this request's bytes counted in srv->bufcap (bufcap.h) */
    int keep_alive;
    int head_only;            /* HEAD request */
    int resp_chunked;         /* response framing chosen for the client */
    int resp_close_delimited;
    int in_process;
    int dead;                 /* close when the current callback unwinds */
    int linger;               /* refused before the request was read: linger after the answer */
    /* The head's or body's deadline (client.c, mod_reqtimeout semantics):
     * the phase began at phase_t0 (0: the wait for a next request's first
     * byte, no deadline yet) with rx at phase_rx0; rx counts every byte read. */
    tg__tnode deadline;       /* the phase's deadline, then a refusal's linger (wheel.h) */
    tg__tnode stall;          /* timeouts.client between reads of a request (wheel.h) */
    double write_timeout;     /* the bufferevent's write timeout as set (-1: not yet) */
    tg__fastrd rd;            /* the socket's read (upstream.h tg__bev_fast_read) */
    double phase_t0;
    uint64_t rx, phase_rx0;
    double t_start;           /* request fully read */
    int route;
    tg__exchange *ex;
    struct tg__job *job;      /* request work on a worker thread, or NULL */
    char peer[64];
    /* The access line (log.h): reset when a request head arrives, written
     * when its response ends (or the client leaves first); routes.c and
     * proxy.c fill the budget, model and upstream fields. log.id is the
     * request id: echoed as X-Request-Id and sent upstream. */
    tg__access log;
    int log_pending;          /* a request's line is still to be written */
    const char *log_end;      /* "ok", or "truncated" when the body was cut */
    char *cors;               /* CORS header lines for this request's answer (arena), or NULL (routes.c) */
    /* An answer collected here rather than in the bufferevent's output
     * (client.c: corked while the output was empty; sent in one send when it
     * ends, or spilled into the output at the read callback's end, upstream.h
     * tg__cork). The memory is kept for the next answer. */
    tgx_buf ob;
    int corked;
    tg__cork cork;
};

void tg__client_accept(tg__server *s, evutil_socket_t fd, struct sockaddr *sa, int salen);
/* The connection over an already-made bufferevent (taken: freed on failure
 * too), e.g. one end of a bufferevent pair in fuzz/fuzz_gateway.c; `peer`
 * the address for the log. tg__client_accept is this over a socket. */
tg__client *tg__client_attach(tg__server *s, struct bufferevent *bev, const char *peer);
void tg__client_free(tg__client *c);
/* Responses. Exactly one response per request; finish decides keep-alive. */
void tg__client_respond(tg__client *c, int status, const char *ctype, const char *body, size_t len,
                        const char *extra_headers);
void tg__client_error(tg__client *c, int status, const char *type, const char *code,
                      const char *param, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Starts a relayed response: `head` holds status line and header fields
 * without framing; framing is added here. content_length -1: chunked (or
 * close-delimited for HTTP/1.0 clients). */
void tg__client_begin(tg__client *c, int status, struct evbuffer *head, int64_t content_length, int no_body);
/* The same with the head (status line and fields) in memory, LEN bytes. */
void tg__client_begin_mem(tg__client *c, int status, const char *head, size_t len, int64_t content_length,
                          int no_body);
void tg__client_body(tg__client *c, const char *p, size_t n);
/* The body's last bytes, the answer complete with them: as tg__client_body,
 * a chunked answer's end written with them (tg__client_end adds none). */
void tg__client_body_last(tg__client *c, const char *p, size_t n);
void tg__client_end(tg__client *c, int clean);
size_t tg__client_pending(const tg__client *c);
/* 1 for a kept-alive connection waiting for its next request (nothing of it
 * received): one the accept loop may close to make room at the cap. */
int tg__client_idle(const tg__client *c);
void tg__client_set_write_low(tg__client *c, size_t low);
const char *tg__reason_phrase(int status);

#endif
