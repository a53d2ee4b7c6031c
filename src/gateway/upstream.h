/*
 * gateway/upstream.h: per-upstream keep-alive connection pools and one
 * in-flight upstream request (tg__upreq) with connect, first-byte and idle
 * timeouts (upstream.c). The layer below the exchange and discovery: it
 * reports through the tg__upreq_ops callbacks it is handed and calls
 * nothing above it.
 */
#ifndef TG_GATEWAY_UPSTREAM_H
#define TG_GATEWAY_UPSTREAM_H

#include <event2/event.h>
#include <stddef.h>

#include "gateway/admission.h"
#include "gateway/health.h"
#include "gateway/http_parse.h"
#include "gateway/wheel.h"

struct evdns_base;
struct bufferevent;
struct evbuffer_cb_entry;

typedef struct tg__pool tg__pool;
typedef struct tg__upconn tg__upconn;
typedef struct tg__upreq tg__upreq;

enum tg__up_fault {
    TG__UP_OK = 0,
    TG__UP_CONNECT,         /* refused or unreachable: 502 */
    TG__UP_TIMEOUT_CONNECT, /* 504 */
    TG__UP_TIMEOUT_FIRST,   /* no first byte in time: 504 */
    TG__UP_TIMEOUT_IDLE,    /* stalled mid-answer: 504 */
    TG__UP_RESET,           /* closed before the answer was complete: 502 */
    TG__UP_PROTOCOL,        /* not HTTP, or a malformed one: 502 */
    TG__UP_TIMEOUT_ANSWER,  /* the answer's body ran past timeouts.answer: 504 */
    TG__UP_SLOW_ANSWER,     /* the answer's body came slower than answer_min_rate: 504 */
    TG__UP_NOMEM,
    TG__UP_N_FAULTS
};
const char *tg__up_fault_name(int fault);

#define TG__POOLS_SPARES 4

/* The daemon's pools (one per upstream host:port) and what they share. */
typedef struct tg__pools {
    tg__pool *head;
    struct event_base *base;
    struct evdns_base *dns; /* host names resolve here, never blocking the loop (made on first use) */
    int draining;       /* no connection goes back to a pool once set */
    /* Tests only (fuzz/fuzz_gateway.c): when set, a new upstream connection
     * is this already-connected bufferevent (taken) instead of a socket. */
    struct bufferevent *(*open_conn)(void *ud);
    void *open_ud;
    tg__wheel wheel;    /* the loop's coarse timeouts (wheel.h): pools, upstream requests, clients */
    /* Memory of ended requests kept for the next ones (issue 17): a few, as
     * connections overlap. Upstream requests (upstream.c: with their kick
     * events) and routes.c's inference jobs (their members freed: plain
     * malloc'd blocks), all freed with the pools. */
    tg__upreq *spare[TG__POOLS_SPARES];
    size_t n_spare;
    void *spare_job[TG__POOLS_SPARES];
    size_t n_spare_job;
} tg__pools;

/* The loop's timer wheel, bound to the pools' base on first use. */
static inline tg__wheel *tg__pools_wheel(tg__pools *s) {
    if (!s->wheel.base) tg__wheel_init(&s->wheel, s->base);
    return &s->wheel;
}

struct tg__pool {
    tg__pool *next;     /* server's list */
    char *key;          /* "host:port" */
    char *host;
    int port;
    tg__upconn *idle;   /* idle keep-alive connections */
    size_t n_idle;
    size_t n_busy;
    size_t max_conns;   /* connections open at once (busy + idle); 0: no limit */
    tg__upreq *wait_head, *wait_tail; /* requests waiting for a connection (FIFO) */
    size_t n_waiting;
    tg__pools *set;     /* the set it belongs to */
    tg__adm adm;        /* KV admission control for this upstream */
    tg__health health;  /* replicas: passive/active health and requests in flight (health.h) */
};

typedef struct tg__upreq_ops {
    /* The final (non-1xx) response head; fields live until on_done. */
    void (*on_head)(void *ud, const tg__http_head *h, const char *reason, size_t reason_len);
    /* Decoded body bytes (chunked framing removed) as they arrive. */
    void (*on_body)(void *ud, const char *p, size_t n);
    /* The end: fault 0 when the body is complete. The tg__upreq is gone
     * after this returns. Never called after tg__upreq_cancel. */
    void (*on_done)(void *ud, int fault, const char *msg);
} tg__upreq_ops;

/* connect: until the TCP connect completes. first_byte: an absolute
 * deadline from the request sent to the complete response head (a head
 * trickled byte by byte does not extend it). idle: silence allowed between
 * body reads. answer: the body's whole duration from the head (0: none).
 * min_rate: bytes/s the body must average over each idle-long window
 * (0: none; a window paused by the client's back-pressure does not count). */
typedef struct tg__up_timeouts {
    double connect, first_byte, idle, answer, min_rate;
} tg__up_timeouts;

/* The pool for host:port, made on first use; NULL when out of memory. */
tg__pool *tg__pool_get(tg__pools *s, const char *host, int port);
void tg__pool_free_all(tg__pools *s);
/* Tests: how long a pooled connection may stay unused (0: the default,
 * 60 s). Process-wide; not for the daemon. */
void tg__pool_idle_seconds(double s);
/* The default cap (upstream_max_connections 0) for an engine that says its
 * slots (llama-server's total_slots): the slots plus this many requests per
 * slot queued inside the engine. llama-server's loop takes new tasks only
 * between two llama_decode() calls, and with short answers all its slots
 * free in the same call: with one request queued (slots + 1, before issue
 * 17) the next batch held that one alone while tokgate handed the others
 * over, so batches alternated 1 and 4 of 4 slots (2.6 busy slots per decode
 * against 4.0 direct or through nginx, bench/gateway_bench.sh's batch
 * column) and throughput fell ~10% behind nginx. A full batch queued (twice
 * the slots) keeps every batch full. Beyond that tokgate still queues, in
 * order, and never holds more than that of the engine's HTTP threads
 * (llama-server since 2026-03 adds threads on demand; older builds run
 * max(slots + 2, cores - 1) fixed ones: there set upstream_max_connections
 * to the slots + 1, docs/gateway.md). */
#define TG__POOL_LEAD_PER_SLOT 1

/* Caps the connections open at once to the pool's upstream (0: no cap);
 * requests beyond it wait, first come first served, for one to free up
 * (within their first_byte timeout). */
void tg__pool_set_max_conns(tg__pool *p, size_t n);
/* Sends `req` (a complete HTTP/1.1 request, copied) on a pooled or new
 * connection. head_only: the request was HEAD (no response body). Returns
 * NULL only on allocation failure (no callback then). Callbacks run later,
 * never from inside this call. */
tg__upreq *tg__upreq_start(tg__pool *p, const char *req, size_t len, int head_only,
                           const tg__up_timeouts *t, size_t max_head,
                           const tg__upreq_ops *ops, void *ud);
struct evbuffer;
/* An empty buffer for a request to send (tg__upreq_start_buf takes it): an
 * ended request's, emptied, when one is kept, else evbuffer_new's. */
struct evbuffer *tg__upreq_buf_new(void);
/* The same with the request in an evbuffer, taken (freed by the request,
 * also on failure): its bytes go to the connection by reference, so a
 * large body is held once. capped: the request counts under the pool's
 * max_conns and may wait for a connection (tg__upreq_start's never do:
 * discovery's probes take the engine's spare thread). */
tg__upreq *tg__upreq_start_buf(tg__pool *p, struct evbuffer *req, int head_only, int capped,
                               const tg__up_timeouts *t, size_t max_head, const tg__upreq_ops *ops, void *ud);
void tg__upreq_pause(tg__upreq *r);
void tg__upreq_resume(tg__upreq *r);
/* Drops the request and closes its connection (the upstream sees the close
 * and cancels generation). Safe from inside the request's own callbacks. */
void tg__upreq_cancel(tg__upreq *r);

/* Writes what bev holds to send now, on this turn of the loop, rather than
 * on the next one when the socket reports writable (an epoll round; with
 * the base's changelist, daemon.c, no epoll_ctl pair either). What does not
 * go out, or an error, is left to the bufferevent as before. A bufferevent
 * without a socket (a test's pair) is left alone. */
struct bufferevent;
void tg__bev_flush(struct bufferevent *bev);
/* A socket bufferevent's read without libevent's ioctl(FIONREAD) before
 * each read and without its read watermark's event_add on every change of
 * the input (upstream.c): the same callbacks and EOF, the cap (the read high
 * watermark) kept in `rd`, which lives as long as the bufferevent (its
 * owner's struct). Call once the socket is set (after accept, or the
 * connect); a bufferevent without a socket (a test's pair) is left alone,
 * and tg__bev_read_cap then sets libevent's watermark. */
typedef struct tg__fastrd {
    struct bufferevent *bev; /* NULL: libevent's own read */
    size_t cap;              /* read no further past this many input bytes (0: no cap) */
    int off;                 /* the read event is off at the cap */
    event_callback_fn orig;  /* libevent's read callback, put back before the bufferevent is freed */
    struct evbuffer_cb_entry *cbe; /* rd_resume on the input */
} tg__fastrd;
void tg__bev_fast_read(struct bufferevent *bev, tg__fastrd *rd);
/* Tests: 0 puts every upstream answer's bytes through the connection's
 * input (the reference); 1 (the default) reads those that arrive while the
 * input is empty where fast_readcb read them. Process-wide; not for the daemon. */
void tg__up_flat_reads(int on);
void tg__bev_read_cap(struct bufferevent *bev, tg__fastrd *rd, size_t cap);
/* Puts libevent's read back: call before bufferevent_free (libevent
 * finalizes the read event with the bufferevent as its argument). */
void tg__bev_fast_read_end(struct bufferevent *bev, tg__fastrd *rd);

/* Output held to the end of a read callback (issue 17): an answer made
 * while tg__bev_fast_read's callback runs may collect in its owner's own
 * buffer (client.c: the whole small answer then goes out in one send, with
 * no evbuffer, its callbacks or a write event). A cork queued here is
 * spilled (its `spill` called: the bytes into the bufferevent's output, as
 * they would have gone) when the outermost read callback returns, so bytes
 * never wait longer than the loop's own write would have had them wait.
 * Loop thread only; tg__cork_open says whether such a callback runs. */
typedef struct tg__cork {
    struct tg__cork *next;
    void (*spill)(struct tg__cork *k);
    int queued;
} tg__cork;
int tg__cork_open(void);
void tg__cork_queue(tg__cork *k);
void tg__cork_drop(tg__cork *k); /* taken off the queue (its bytes went out, or its owner is freed) */

#endif
