/*
 * gateway/gateway.h: the daemon's internal structures, shared by the files of
 * src/gateway/ (none of it is public API).
 *
 *   server.c     event base, listener, signals (drain on TERM/INT, reload on
 *                HUP), the model table, lifetime of everything below
 *   client.c     one accepted connection: reads a request head and body with
 *                limits, keeps the connection alive, writes responses (fixed,
 *                chunked or close-delimited), frees itself when the peer goes
 *   routes.c     which handler serves a request; API-key check
 *   proxy.c      an exchange: forward a request upstream and relay the answer
 *                as it arrives, with back-pressure and fault handling
 *   upstream.c   per-upstream keep-alive connection pools and one in-flight
 *                upstream request (tg__upreq) with connect/first-byte/idle
 *                timeouts
 *   catalog.c    /v1/models, /api.json, /v1/limits bodies; the served-model table
 *   discovery.c  asks each upstream what it serves (/v1/models and each
 *                engine adapter's probes)
 *   engine.h     the engine adapter interface; engines/ one file per engine
 *   cont.c       streams continued in place: escalation and the thinking-budget
 *                cut, by token ids (cont.h)
 *   budget.c     budget_decide: the single point where the policy plugs in
 *   metrics.c    counters and histograms, Prometheus text
 *   sse.c        finds the usage object in a relayed SSE stream or JSON body
 *   oai_error.c  OpenAI-shaped error bodies
 *
 * Threading: one event loop, one thread. Anything a request needs past a
 * reload (strings of its model section) is kept alive by a config reference.
 */
#ifndef TG_GATEWAY_GATEWAY_H
#define TG_GATEWAY_GATEWAY_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <stdint.h>

#include "gateway/admission.h"
#include "gateway/arena.h"
#include "gateway/config.h"
#include "gateway/engine.h"
#include "gateway/http_parse.h"
#include "gateway/workers.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"

typedef struct tg__server tg__server;
typedef struct tg__client tg__client;
typedef struct tg__pool tg__pool;
typedef struct tg__upconn tg__upconn;
typedef struct tg__upreq tg__upreq;
typedef struct tg__exchange tg__exchange;

/* ---- logging (log lines never carry prompt text unless log_prompts) ---- */
enum { TG__LOG_ERROR, TG__LOG_WARN, TG__LOG_INFO };
void tg__log(tg__server *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
double tg__now(void); /* monotonic seconds */

/* ---- metrics ------------------------------------------------------------ */
enum tg__route {
    TG__R_CHAT, TG__R_COMPLETIONS, TG__R_MODELS, TG__R_API_JSON, TG__R_LIMITS, TG__R_METRICS,
    TG__R_HEALTHZ, TG__R_TOKENIZE, TG__R_PASSTHROUGH, TG__R_NONE, TG__R_COUNT
};
const char *tg__route_name(int route);

#define TG__HIST_BUCKETS 14
typedef struct tg__hist {
    uint64_t counts[TG__HIST_BUCKETS + 1]; /* last: +Inf */
    double sum;
    uint64_t n;
} tg__hist;

#define TG__MAX_REASONS 32
typedef struct tg__metrics {
    uint64_t requests[TG__R_COUNT][6]; /* by route and status class index (1xx..5xx, other) */
    uint64_t status_codes[TG__R_COUNT][600];
    char *reasons[TG__MAX_REASONS];
    uint64_t refusals[TG__MAX_REASONS];
    uint64_t escalations;
    uint64_t escalations_skipped; /* no KV room to grow the reservation */
    uint64_t escalations_continued; /* answers continued in place to escalate_to */
    uint64_t thinking_cuts;       /* streams cut at their thinking budget and resumed */
    uint64_t admission_timeouts;
    uint64_t tokens_in, tokens_out;
    uint64_t upstream_faults[8];
    uint64_t client_disconnects;
    uint64_t open_connections, open_streams;
    tg__hist added_latency, upstream_latency;
} tg__metrics;

void tg__metrics_request(tg__metrics *m, int route, int status);
void tg__metrics_refusal(tg__metrics *m, const char *reason);
void tg__hist_observe(tg__hist *h, double seconds);
void tg__metrics_render(tg__server *s, struct evbuffer *out);
void tg__metrics_free(tg__metrics *m);

/* ---- upstream ----------------------------------------------------------- */
enum tg__up_fault {
    TG__UP_OK = 0,
    TG__UP_CONNECT,       /* refused or unreachable: 502 */
    TG__UP_TIMEOUT_CONNECT, /* 504 */
    TG__UP_TIMEOUT_FIRST, /* no first byte in time: 504 */
    TG__UP_TIMEOUT_IDLE,  /* stalled mid-answer: 504 */
    TG__UP_RESET,         /* closed before the answer was complete: 502 */
    TG__UP_PROTOCOL,      /* not HTTP, or a malformed one: 502 */
    TG__UP_NOMEM
};
const char *tg__up_fault_name(int fault);

struct tg__pool {
    tg__pool *next;     /* server's list */
    char *key;          /* "host:port" */
    char *host;
    int port;
    tg__upconn *idle;   /* idle keep-alive connections */
    size_t n_idle;
    size_t n_busy;
    tg__server *srv;
    tg__adm adm;        /* KV admission control for this upstream */
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

typedef struct tg__up_timeouts {
    double connect, first_byte, idle;
} tg__up_timeouts;

tg__pool *tg__pool_get(tg__server *s, const char *host, int port);
void tg__pool_free_all(tg__server *s);
/* Sends `req` (a complete HTTP/1.1 request, copied) on a pooled or new
 * connection. head_only: the request was HEAD (no response body). Returns
 * NULL only on allocation failure (no callback then). Callbacks run later,
 * never from inside this call. */
tg__upreq *tg__upreq_start(tg__pool *p, const char *req, size_t len, int head_only,
                           const tg__up_timeouts *t, size_t max_head,
                           const tg__upreq_ops *ops, void *ud);
void tg__upreq_pause(tg__upreq *r);
void tg__upreq_resume(tg__upreq *r);
/* Drops the request and closes its connection (the upstream sees the close
 * and cancels generation). Safe from inside the request's own callbacks. */
void tg__upreq_cancel(tg__upreq *r);

/* ---- served models ------------------------------------------------------ */
/* tg__upinfo, what discovery learned about one upstream: engine.h. */

typedef struct tg__model {
    char *name;               /* NULL: catch-all until discovery names it */
    const tg__model_cfg *cfg; /* inside srv->cfg */
    tg__pool *pool;
    json_t *upstream_obj;     /* the upstream's entry for this model, or NULL */
    uint64_t upstream_ctx;    /* n_ctx / max_model_len the upstream enforces; 0 unknown */
    uint64_t n_ctx_train;
    tg_limits limits;
    int have_limits;
    const char *limits_source; /* static text */
    tg_model_settings settings; /* policy settings (name points at `name`) */
    const tg_tokenizer *tok;    /* exact counting; NULL: the policy's estimator */
    const tg_chat *chat;        /* chat template: exact chat counts with tok */
    const tg__engine *engine;   /* the section's `engine`, else discovery's; NULL: not known yet */
    int chat_dialect;           /* tg_chat_dialect: the engine's (tg__engine_chat_dialect) */
    const tg__engine_cont *cont; /* streams may continue in place by this protocol (cont.h):
                                   the section's "continuation" (tg__engine_cont_for); NULL never */
} tg__model;

/* The exact count of a chat request (rendered with the model's template,
 * tokenized as llama-server does); -1 when the model lacks a tokenizer or
 * template, or the render fails. Any thread. */
long long tg__chat_exact_count(const tg__model *m, const json_t *request);
/* The per-thread count caches tg__chat_exact_count keeps; at exit, once
 * no other thread counts. */
void tg__count_caches_free(void);
/* 1 when the request's rendered prompt ends inside an open thinking block
 * (the template opened it: the model's first tokens are thinking), 0 when
 * not, -1 when it cannot be rendered here. Any thread. */
int tg__chat_prompt_opens(const tg__model *m, const json_t *request, const char *open, const char *close);

/* Model files and tokenizers, loaded once per path and kept until exit (the
 * tables built from them borrow them, from any thread). */
typedef struct tg__modelfile {
    char *path;
    tg_tokenizer *tok;
    int tok_state;  /* 0 untried, 1 loaded, -1 failed */
    tg_model_profile prof;
    int prof_state; /* same */
    tg_chat *chat;
    int chat_state; /* same */
} tg__modelfile;

/* The served models, immutable once built and reference-counted: a request
 * whose work runs on a worker thread holds a reference, so a rebuild
 * (discovery, reload) on the loop never changes what it reads. The table
 * holds a reference to the config its models point into. */
typedef struct tg__model_table {
    int refs; /* changed on the loop thread only */
    tg__config *cfg;
    tg__model *v;
    size_t n;
} tg__model_table;

tg_status tg__models_rebuild(tg__server *s, tg_error *err);
void tg__models_free(tg__server *s);
void tg__modelfiles_free(tg__server *s);
void tg__table_ref(tg__model_table *t);
void tg__table_unref(tg__model_table *t);
/* The model a request names (name or alias), or NULL. NULL name: the only
 * model when exactly one is served. Safe on any thread for a held table. */
const tg__model *tg__model_resolve(const tg__model_table *t, const char *name);
void tg__catalog_models(tg__server *s, struct evbuffer *out);
void tg__catalog_api_json(tg__server *s, const char *host_header, struct evbuffer *out);
void tg__catalog_limits(tg__server *s, struct evbuffer *out);

void tg__discovery_start(tg__server *s);
tg__upinfo *tg__upinfo_find(tg__server *s, const char *pool_key);
/* Folds one answer's prefill rate into the upstream's EMA (alpha 0.2). */
void tg__prefill_observe(tg__server *s, const char *pool_key, double tokens, double ms);
void tg__discovery_free(tg__server *s);

/* ---- server ------------------------------------------------------------- */
struct tg__server {
    struct event_base *base;
    int nvml_note_said; /* "no NVML" logged once (catalog.c) */
    struct evconnlistener *listener;
    tg__config *cfg;
    int argc;
    char **argv;
    struct event *ev_term, *ev_int, *ev_hup, *ev_drain, *ev_discover;
    tg__client *clients; /* all open client connections */
    size_t n_clients;
    tg__pool *pools;
    tg__model_table *table;
    tg__modelfile *files;
    size_t n_files;
    struct tg__workers *workers;
    tg__upinfo *upinfo;
    size_t n_upinfo;
    tg__metrics metrics;
    int draining;
    int exit_code;
    double started;
};

int tg__server_run(int argc, char **argv);
void tg__server_maybe_exit(tg__server *s);

/* ---- clients -------------------------------------------------------------- */
enum tg__client_state { TG__C_HEAD, TG__C_BODY, TG__C_BUSY, TG__C_CLOSING };

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
    int keep_alive;
    int head_only;            /* HEAD request */
    int resp_chunked;         /* response framing chosen for the client */
    int resp_close_delimited;
    int in_process;
    int dead;                 /* close when the current callback unwinds */
    double t_start;           /* request fully read */
    int route;
    tg__exchange *ex;
    struct tg__job *job;      /* request work on a worker thread, or NULL */
    char peer[64];
};

void tg__client_accept(tg__server *s, evutil_socket_t fd, struct sockaddr *sa, int salen);
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
void tg__client_body(tg__client *c, const char *p, size_t n);
void tg__client_end(tg__client *c, int clean);
size_t tg__client_pending(const tg__client *c);
void tg__client_set_write_low(tg__client *c, size_t low);
const char *tg__reason_phrase(int status);

/* ---- routes and exchanges ------------------------------------------------- */
void tg__route_dispatch(tg__client *c);
/* What the budget decided for an inference request, for admission and
 * escalation (NULL for pass-through requests). */
typedef struct tg__plan {
    uint64_t prompt_tokens, max_tokens; /* reservation = their sum */
    uint64_t escalate_to;               /* 0: no escalation */
    const char *escalated_body;         /* the retry body at escalate_to (JSON), or NULL */
    size_t escalated_len;
    struct tg__cont *cont;              /* a stream that may continue in place (owned by the
                                           plan until tg__proxy_start takes it), or NULL */
} tg__plan;
void tg__proxy_start(tg__client *c, const tg__model *m, const tg__model_cfg *mc, tg__pool *pool,
                     const char *body, size_t body_len, tg__plan *plan, int want_stream,
                     const char *extra_headers);
void tg__exchange_free(tg__exchange *ex, int client_gone);
void tg__exchange_on_client_drain(tg__exchange *ex);
int tg__exchange_active(const tg__exchange *ex);

/* OpenAI-shaped error body (malloc'd, NUL-terminated). */
char *tg__oai_error_json(const char *message, const char *type, const char *code, const char *param);

/* Usage found in a relayed answer. */
typedef struct tg__usage {
    int64_t prompt_tokens, completion_tokens; /* -1: not seen */
    tgx_buf line;     /* SSE line being assembled (capped) */
    tgx_buf body;     /* non-SSE body copy (capped) */
    int sse;
    int line_skip, body_skip; /* over the cap: ignored */
    double prompt_n, prompt_ms; /* llama-server "timings" (tokens processed, not cached); -1: not seen */
} tg__usage;
void tg__usage_init(tg__usage *u, int sse);
void tg__usage_feed(tg__usage *u, const char *p, size_t n);
void tg__usage_finish(tg__usage *u);
void tg__usage_free(tg__usage *u);
/* Reads usage.{prompt,completion}_tokens from a parsed object. 1 if found. */
int tg__usage_from_json(json_t *o, int64_t *prompt, int64_t *completion);

#endif
