/*
 * gateway/proxy.c: an exchange, the life of one request relayed upstream.
 *
 * The request is rebuilt for the upstream: same method and path under the
 * upstream's base path, the client's end-to-end header fields (hop-by-hop
 * fields, Host, Content-Length, Expect dropped; Authorization dropped when
 * tokgate checks keys itself or sends its own upstream key; Accept-Encoding
 * dropped on inference routes so usage stays readable), then the body.
 *
 * The answer is relayed as it arrives: the upstream's status and end-to-end
 * fields plus x-tokgate-* fields, the body framed for the client
 * (Content-Length kept when the upstream gave one, else chunked). When the
 * client's output buffer passes the high watermark the upstream is paused;
 * when it drains to half, it resumes (libevent sample/le-proxy.c).
 *
 * Faults: before the head was relayed, a 502 (connect refused, reset,
 * garbage) or 504 (timeouts) with an OpenAI-shaped error; after it, an SSE
 * stream gets a final `data: {"error":...}` event and ends, any other body
 * is cut (the client sees the truncation) and the connection closed. A client
 * that leaves cancels the upstream request, closing its connection.
 *
 * Admission (admission.h): an inference request with a budget decision
 * reserves prompt + max_tokens tokens of its upstream's KV capacity before
 * it is sent. When they do not fit it waits (the exchange exists, no
 * upstream request yet) until a release grants it or admission_wait passes
 * (503 with Retry-After). The reservation is given back in ex_release only,
 * the one teardown every ending goes through (answer done, fault, client
 * gone, refusal), so it cannot leak or be returned twice.
 *
 * The answer passes through a chain of filters (filters/filter.h), upstream
 * to client: usage metering (filters/usage.c, inference answers); the
 * escalation filter (filters/escalation.c: continue in place when the
 * engine adapter can, re-send otherwise; it holds its own state, the
 * continuation's legs or the held answer, and asks this file for what needs
 * the network or admission through a tg__esc_host: send, cancel, grow the
 * reservation, send the held head, finish, fail, notes); the assembly of a
 * non-streaming answer that was streamed upstream (filters/assemble.c); and
 * the relay, this file's sink, which writes to the client with the
 * back-pressure above. The escalation's growth (tg__adm_grow_wait) happens
 * at once when there is room, else waits ahead of new requests; when no
 * room comes within admission_wait the capped answer goes out as it is
 * (tokgate_escalations_skipped_total). A re-sent answer goes out with
 * `x-tokgate-escalated: FROM->TO`.
 *
 * An inference answer of HTTP >= 400 is held here, and when its engine
 * adapter knows the shape (engine.h map_error) answered in tokgate's own
 * (context_length_exceeded with n_prompt_tokens and n_ctx); any other is
 * relayed as it came.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/filters/assemble.h"
#include "gateway/filters/escalation.h"
#include "gateway/filters/model_name.h"
#include "gateway/filters/stream_error.h"
#include "gateway/cont.h"
#include "gateway/proxy.h"
#include "gateway/client.h"
#include "gateway/discovery.h"
#include "gateway/engine_poll.h"
#include "gateway/live_limits.h"
#include "gateway/log.h"
#include "gateway/models.h"
#include "gateway/replicas.h"
#include "tokgate/policy.h"
#include "gateway/server.h"
#include "gateway/sse_end.h"
#include "gateway/upstream.h"
#include "gateway/filters/usage.h"

struct tg__exchange {
    tg__client *c;
    tg__server *srv;
    tg__upreq *up;
    tg__config *cfg;
    int route;
    int stream;
    int head_sent;
    int is_sse;
    int paused;
    int status;
    size_t high;
    tg__filter *meter;    /* usage metering (filters/usage.h) on inference answers */
    tg__stream_err serr;  /* the engine's in-stream error events, ours (filters/stream_error.h) */
    int serr_on;          /* a 200 SSE answer streamed to the client, its engine maps such events */
    const tg__engine *engine; /* the model's engine adapter on inference routes (its error shapes), or NULL */
    double t_sent;
    double added;
    char *extra_headers;
    char *pool_key;
    tg__pool *pool;
    char *up_head;        /* request line + fields, without Content-Length */
    const char *body;     /* request body: the caller's, valid inside tg__proxy_start only */
    size_t body_len;
    struct evbuffer *reqbuf; /* the upstream request (head and body, built once), kept while waiting
                                for admission, then handed to upstream.c, which sends it by reference */
    int head_only;
    int counted_stream;
    /* admission */
    tg__adm_wait wait;
    uint64_t reserved;    /* tokens held in pool->adm; given back in ex_release only */
    struct event *timer;  /* admission wait: grant (0 s) or timeout */
    /* escalation */
    uint64_t max_tokens;  /* the decision's, for x-tokgate-escalated */
    struct evbuffer *held_head; /* the answer's head, held while the escalation filter holds its
                                   body or while an error answer is held for its shape */
    int held_status;
    int64_t held_cl;      /* -1 chunked */
    tgx_buf held;
    size_t held_counted;  /* bytes of `held` counted in srv->bufcap (bufcap.h) */
    /* continuation in place: the escalation filter (filters/escalation.h) */
    tg__filter *esc;      /* NULL: this answer never continues */
    struct relay { tg__filter base; tg__exchange *ex; } relay; /* the chain's end: the client */
    const tg__model_cfg *mc; /* inside cfg (held) */
    tg__filter *assemble; /* the client asked for one JSON answer; the upstream streams it:
                             the chunks folded into that answer (filters/assemble.h), else NULL */
    int growing;          /* waiting for KV room to escalate */
    uint64_t grow_by;
    tg__filter *rename;   /* inference answers: the served name in "model" (filters/model_name.h), or NULL */
    struct relay rename_out; /* the served-name filter's next: the client (client_sink) */
    int up_close;         /* the answer is close-delimited upstream: its end is judged (sse_end.h) */
    tg__sse_end sse_end;
    tg__think_obs think;  /* an adaptive budget's class: the answer's thinking is recorded (adaptive.h) */
    int think_cut;        /* tokgate cut the thinking at its budget */
    /* replicas (replicas.h): which of mc's upstreams, those tried, and the
     * request kept to try another before any answer byte came */
    size_t rep;
    uint32_t tried;
    uint64_t route_key, need;
    char *retry_req;      /* the whole upstream request, or NULL: no retry elsewhere */
    size_t retry_len;
    int counted_inflight; /* pool->health.inflight holds this request */
    uint64_t est_prompt;  /* the decision's prompt count when it was an estimate (drift check), else 0 */
    char *own;            /* one allocation for up_head, extra_headers and pool_key as tg__proxy_start
                             copied them (ex_free_own), own_len bytes */
    size_t own_len;
    int64_t up_cl;        /* the answer's Content-Length upstream, -1 none (whole_answer) */
    size_t body_seen;     /* answer body bytes arrived so far */
};

static void growth_granted(tg__exchange *ex);
static void growth_timed_out(tg__exchange *ex);

static void client_body(tg__exchange *ex, const char *p, size_t n);

/* The chain's end (filter.h): bytes for the client (through the served-name
 * filter when there is one), with back-pressure. */
static void relay_emit(void *ud, const char *p, size_t n) { client_body(ud, p, n); }
static void relay_data(tg__filter *f, const char *p, size_t n) {
    tg__exchange *ex = ((struct relay *)f)->ex;
    if (ex->serr_on) tg__stream_err_feed(&ex->serr, p, n, relay_emit, ex);
    else client_body(ex, p, n);
    if (ex->up && !ex->paused && tg__client_pending(ex->c) > ex->high) {
        ex->paused = 1;
        tg__upreq_pause(ex->up);
    }
}
static void relay_end(tg__filter *f) {
    tg__exchange *ex = ((struct relay *)f)->ex;
    if (ex->serr_on) tg__stream_err_flush(&ex->serr, relay_emit, ex);
}
static const tg__filter_ops relay_ops = {"relay", NULL, relay_data, relay_end, NULL};

/* After the served-name filter: its bytes straight to the client (it passes
 * each call's output on in one piece; no copy into a buffer first). */
static void client_sink_data(tg__filter *f, const char *p, size_t n) { tg__client_body(((struct relay *)f)->ex->c, p, n); }
static const tg__filter_ops client_sink_ops = {"client", NULL, client_sink_data, NULL, NULL};
/* The same for a whole answer's one piece (whole_answer): its chunked end with it. */
static void client_last_data(tg__filter *f, const char *p, size_t n) { tg__client_body_last(((struct relay *)f)->ex->c, p, n); }
static const tg__filter_ops client_last_ops = {"client", NULL, client_last_data, NULL, NULL};

/* The chain's first filter: meter -> escalation -> (assemble) -> relay,
 * each present or not. */
static tg__filter *chain(tg__exchange *ex) {
    return ex->meter ? ex->meter : ex->esc ? ex->esc : &ex->relay.base;
}

static void start_continuable(tg__exchange *ex, tg__plan *plan, const tg__model_cfg *mc, int want_stream);
static void start_growth(tg__exchange *ex, uint64_t n);
static void start_resend(tg__exchange *ex, const tg__plan *plan);
static void on_head(void *ud, const tg__http_head *h, const char *reason, size_t rlen);
static void on_body(void *ud, const char *p, size_t n);
static void on_done(void *ud, int fault, const char *msg);
static int retry_elsewhere(tg__exchange *ex, const char *why);
static const tg__upreq_ops proxy_ops = {on_head, on_body, on_done};

int tg__exchange_active(const tg__exchange *ex) { return ex->up != NULL; }

/* Frees P unless it is one of the strings in the exchange's own block. */
static void ex_free_own(tg__exchange *ex, char *p) {
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)ex->own;
    if (a < lo || a >= lo + ex->own_len) free(p);
}

/* A string of the exchange to keep past it: P itself when malloc'd, else a copy. */
static char *ex_take_own(tg__exchange *ex, char *p) {
    uintptr_t a = (uintptr_t)p, lo = (uintptr_t)ex->own;
    return p && a >= lo && a < lo + ex->own_len ? strdup(p) : p;
}

static void ex_release(tg__exchange *ex) {
    if (ex->counted_stream && ex->srv->metrics.open_streams) ex->srv->metrics.open_streams--;
    if (ex->timer) event_free(ex->timer);
    if (ex->growing && ex->wait.granted) ex->reserved += ex->grow_by; /* granted, not yet taken up */
    if (ex->pool && ex->counted_inflight && ex->pool->health.inflight) ex->pool->health.inflight--;
    free(ex->retry_req);
    if (ex->pool) {
        tg__adm_cancel(&ex->pool->adm, &ex->wait, 0); /* no effect unless still queued */
        tg__adm_finish(&ex->pool->adm, &ex->wait, ex->reserved); /* its tokens and its slots */
        ex->reserved = 0;
    }
    if (ex->held_head) evbuffer_free(ex->held_head);
    if (ex->serr_on) tg__stream_err_free(&ex->serr);
    ex->serr_on = 0;
    tg__bufcap_give(&ex->srv->bufcap, ex->held_counted);
    tgx_buf_free(&ex->held);
    tg__filter_free(ex->assemble);
    tg__filter_free(ex->esc);
    ex_free_own(ex, ex->up_head);
    if (ex->reqbuf) evbuffer_free(ex->reqbuf);
    tg__filter_free(ex->meter);
    tg__filter_free(ex->rename);
    tg__config_unref(ex->cfg);
    ex_free_own(ex, ex->extra_headers);
    ex_free_own(ex, ex->pool_key);
    free(ex->own);
    free(ex);
}

void tg__exchange_free(tg__exchange *ex, int client_gone) {
    if (ex->up) {
        tg__upreq_cancel(ex->up);
        ex->up = NULL;
        if (client_gone)
            tg__log(ex->srv, TG__LOG_INFO, "client %s left mid-request; upstream request cancelled", ex->c->peer);
    }
    ex_release(ex);
}

void tg__exchange_on_client_drain(tg__exchange *ex) {
    if (ex->paused && ex->up && tg__client_pending(ex->c) <= ex->high / 2) {
        ex->paused = 0;
        tg__upreq_resume(ex->up);
    }
}

/* tg__http_name_eq against a literal, its length compared first (no call,
 * no strlen, for the usual field of another length). */
#define NAME_IS(name, len, lit) ((len) == sizeof(lit) - 1 && tg__http_name_eq((name), (len), (lit)))

/* NAME_IS once the length is known equal: word-wise (http_parse.h
 * tg__http_lit_eq; a literal of 4 or more lower-case letters, digits, '-'). */
#define LIT_IS(name, lit) tg__http_lit_eq((name), (lit), sizeof(lit) - 1)

static int skip_request_header(const tg__http_header *h, int strip_auth, int inference) {
    const char *n = h->name;
    switch (h->name_len) { /* by length first (issue 17, round 7): most fields are none of these */
    case 4: return LIT_IS(n, "host");
    case 6: return LIT_IS(n, "expect");
    case 9: return strip_auth && LIT_IS(n, "x-api-key");
    case 12: return LIT_IS(n, "x-request-id"); /* tokgate sends its own */
    case 13: return strip_auth && LIT_IS(n, "authorization");
    case 14: return LIT_IS(n, "content-length");
    case 15: return inference && LIT_IS(n, "accept-encoding");
    default: return tg__http_is_hop_by_hop(n, h->name_len);
    }
}

/* The KV capacity admission uses for this upstream: configured, else what
 * the engine says its pool holds; unknown (0) turns admission off for it
 * (a guess would serialize a server that runs requests together). */
/* Connections open at once to this upstream: configured, else twice the
 * engine's slots, else no cap (issue 17: upstream.h
 * TG__POOL_LEAD_PER_SLOT says why twice). */
static size_t conn_cap(tg__server *s, const tg__config *cfg, const tg__pool *pool) {
    if (cfg->upstream_max_conns) return cfg->upstream_max_conns;
    tg__upinfo *u = tg__upinfo_find(s, pool->key);
    return u && u->total_slots ? (size_t)u->total_slots * (1 + TG__POOL_LEAD_PER_SLOT) : 0;
}

static uint64_t kv_capacity(tg__server *s, const tg__config *cfg, const tg__model_cfg *mc, const tg__pool *pool) {
    return tg__replica_kv_capacity(s, cfg, mc, pool); /* each replica's own engine (replicas.h) */
}

/* The upstream request: `head` (request line and fields, no framing),
 * Content-Length when there is a body, then the body: moved from `from`
 * (the client's buffer, no copy) when given, else copied once. NULL when
 * out of memory. */
static struct evbuffer *build_request(const char *head, size_t hl, const char *body, size_t len, int has_body,
                                      struct evbuffer *from) {
    struct evbuffer *b = tg__upreq_buf_new(); /* alloc: an ended request's, emptied (upstream.h; issue 17) */
    if (!b) return NULL;
    char tail[96]; /* the framing in one piece, written by hand (printf cost more) */
    size_t n = 0;
    if (has_body) {
        static const char cl[] = "Content-Length: ";
        memcpy(tail, cl, sizeof cl - 1);
        n = sizeof cl - 1;
        char d[24];
        size_t k = 0, v = len;
        do d[k++] = (char)('0' + v % 10); while ((v /= 10) != 0);
        while (k) tail[n++] = d[--k];
        tail[n++] = '\r', tail[n++] = '\n';
    }
    static const char ka[] = "Connection: keep-alive\r\n\r\n";
    memcpy(tail + n, ka, sizeof ka - 1);
    n += sizeof ka - 1;
    /* a usual request (head, framing and a small body) added in one piece:
     * each evbuffer_add costs more than copying it */
    char one[2048];
    size_t bl = len && !from ? len : 0, at = hl + n + bl;
    int rc;
    if (at <= sizeof one) {
        memcpy(one, head, hl); // NOLINT(bugprone-not-null-terminated-result): bytes for the wire, counted, no string
        memcpy(one + hl, tail, n);
        if (bl) memcpy(one + hl + n, body, bl);
        rc = evbuffer_add(b, one, at);
        if (rc == 0 && len && from) rc = evbuffer_add_buffer(b, from);
    } else {
        rc = evbuffer_add(b, head, hl);
        if (rc == 0) rc = evbuffer_add(b, tail, n);
        if (rc == 0 && len) rc = from ? evbuffer_add_buffer(b, from) : evbuffer_add(b, body, len);
    }
    if (rc != 0) {
        evbuffer_free(b);
        return NULL;
    }
    return b;
}

/* Sends the request in `rq` (taken). 0, or -1 when out of memory. */
static int send_request(tg__exchange *ex, struct evbuffer *rq) {
    const tg__config *cfg = ex->cfg;
    tg__up_timeouts t = {cfg->connect_timeout, cfg->first_byte_timeout, cfg->idle_timeout, cfg->answer_timeout,
                         cfg->answer_min_rate};
    ex->t_sent = tg__now();
    ex->up = rq ? tg__upreq_start_buf(ex->pool, rq, ex->head_only, 1, &t, cfg->max_head, &proxy_ops, ex) : NULL;
    return ex->up ? 0 : -1;
}

/* Sends `body` under `head` (request line and fields, no framing). 0, or
 * -1 when out of memory. */
static int send_with_head(tg__exchange *ex, const char *head, const char *body, size_t len) {
    return send_request(ex, build_request(head, strlen(head), body, len, len || body, NULL));
}

/* Sends `body` under the kept request head (the client's request). */
static int send_upstream(tg__exchange *ex, const char *body, size_t len) {
    return send_with_head(ex, ex->up_head, body, len);
}

static void admission_refuse(tg__client *c, tg__exchange *ex, const char *code, const char *msg) {
    tg__server *s = ex->srv;
    char hdr[4096];
    double w = ex->cfg->admission_wait;
    unsigned retry = w < 1 ? 1u : (unsigned)(w + 0.999);
    snprintf(hdr, sizeof hdr, "Retry-After: %u\r\n%s", retry, ex->extra_headers ? ex->extra_headers : "");
    tg__metrics_refusal(&s->metrics, code);
    char *j = tg_error_body_text(msg, "server_error", code, NULL);
    c->ex = NULL;
    ex_release(ex);
    tg__client_respond(c, 503, "application/json", j ? j : "{}", j ? strlen(j) : 2, hdr);
    free(j);
}

static void start_admitted(tg__exchange *ex) {
    tg__client *c = ex->c;
    int rc = send_request(ex, ex->reqbuf);
    ex->reqbuf = NULL;
    if (rc != 0) {
        c->ex = NULL;
        ex_release(ex);
        tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory starting the upstream request");
        return;
    }
    c->ex = ex;
}

/* The admission timer: runs at once after a grant, or when the wait ran out. */
static void on_admission_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__exchange *ex = arg;
    if (ex->growing) {
        if (ex->wait.granted) growth_granted(ex);
        else growth_timed_out(ex);
        return;
    }
    if (ex->wait.granted) {
        ex->reserved = ex->wait.need;
        start_admitted(ex);
        return;
    }
    tg__adm_cancel(&ex->pool->adm, &ex->wait, 1);
    ex->srv->metrics.admission_timeouts++;
    char msg[256];
    snprintf(msg, sizeof msg,
             "the upstream's KV cache is full: this request needs %llu tokens (prompt + max_tokens) and none "
             "became free within %.0f ms; retry later or ask for fewer max_tokens",
             (unsigned long long)ex->wait.need, ex->cfg->admission_wait * 1000.0);
    admission_refuse(ex->c, ex, "admission_timeout", msg);
}

static void on_grant(tg__adm_wait *w) {
    tg__exchange *ex = w->ud;
    struct timeval now = {0, 0};
    evtimer_add(ex->timer, &now); /* defer: we are inside another exchange's release */
}

/* The reservation of a plan: prompt + max_tokens, per choice. */
static uint64_t plan_need(const tg__plan *plan) {
    uint64_t need = plan->prompt_tokens + plan->max_tokens;
    if (plan->n_choices > 1) /* each choice is a sequence of its own: prompt and output each (saturating) */
        need = need > UINT64_MAX / plan->n_choices ? UINT64_MAX : need * plan->n_choices;
    return need;
}

/* Keeps a copy of the upstream request, to send to another replica when
 * this one fails before answering. */
static void keep_for_retry(tg__exchange *ex) {
    size_t n = evbuffer_get_length(ex->reqbuf);
    ex->retry_req = malloc(n ? n : 1);
    if (!ex->retry_req) return;
    evbuffer_copyout(ex->reqbuf, ex->retry_req, n);
    ex->retry_len = n;
}

/* n bytes of p at w; the end. */
static inline char *put(char *w, const void *p, size_t n) {
    memcpy(w, p, n);
    return w + n;
}

/* The upstream request's head into w (room for every part and field, and
 * a NUL): "METHOD BASE+TARGET HTTP/1.1", Host, the client's end-to-end
 * fields (keep: which of the first 64, as skip_request_header said),
 * Authorization, X-Request-Id. Returns its length (the NUL after). */
static size_t request_head(char *w0, const tg__client *c, const char *base, size_t bl, const char *hostport,
                           size_t hpl, const char *api_key, size_t akl, size_t idl, uint64_t keep, int strip_auth,
                           int inference) {
    char *w = put(w0, c->req.method, c->req.method_len);
    *w++ = ' ';
    w = put(w, base, bl);
    w = put(w, c->req.target, c->req.target_len);
    w = put(w, " HTTP/1.1\r\nHost: ", 17);
    w = put(w, hostport, hpl);
    w = put(w, "\r\n", 2);
    for (size_t i = 0; i < c->req.n_headers; i++) {
        const tg__http_header *h = &c->req.headers[i];
        if (i < 64 ? !(keep >> i & 1) : skip_request_header(h, strip_auth, inference)) continue;
        w = put(w, h->name, h->name_len);
        w = put(w, ": ", 2);
        w = put(w, h->value, h->value_len);
        w = put(w, "\r\n", 2);
    }
    if (api_key) {
        w = put(w, "Authorization: Bearer ", 22);
        w = put(w, api_key, akl);
        w = put(w, "\r\n", 2);
    }
    if (idl) { /* client.c: validated or generated */
        w = put(w, "X-Request-Id: ", 14);
        w = put(w, c->log.id, idl);
        w = put(w, "\r\n", 2);
    }
    *w = '\0';
    return (size_t)(w - w0);
}

void tg__proxy_start(tg__client *c, const tg__model *m, const tg__model_cfg *mc, tg__pool *pool,
                     const char *body, size_t body_len, tg__plan *plan, int want_stream,
                     const char *extra_headers) {
    tg__server *s = c->srv;
    tg__config *cfg = c->cfg;
    int inference = c->route == TG__R_CHAT || c->route == TG__R_COMPLETIONS;
    size_t rep = 0;
    uint64_t need = plan ? plan_need(plan) : 0;
    if (tg__mc_n_urls(mc) > 1) { /* replicas: by room and prefix (replicas.h) */
        tg__pool *p = tg__replica_pick(s, cfg, mc, plan ? plan->route_key : 0, need, 0, &rep);
        if (p) pool = p;
        else rep = 0;
    }
    const tg__url *url = tg__mc_url(mc, rep);
    int strip_auth = cfg->n_api_keys > 0 || mc->upstream_api_key != NULL;
    /* the exchange's strings (the request head, extra_headers, the pool's key) in one allocation, the head
     * written into it at once (issue 17, round 7: an append each part, then a copy, cost ~1K instructions) */
    size_t pl = strlen(url->base_path), hpl = strlen(url->hostport), kl = strlen(pool->key) + 1;
    size_t akl = mc->upstream_api_key ? strlen(mc->upstream_api_key) : 0, idl = strlen(c->log.id);
    size_t xl = extra_headers ? strlen(extra_headers) + 1 : 0;
    size_t cap = c->req.method_len + 1 + pl + c->req.target_len + 17 + hpl + 2 + /* request line, Host */
                 (mc->upstream_api_key ? 24 + akl : 0) + (idl ? 16 + idl : 0) + 1; /* and the fields kept: */
    uint64_t keep = 0; /* bit i: the client's field i goes upstream (the first 64; request_head asks for more) */
    for (size_t i = 0; i < c->req.n_headers; i++) { /* exact, as the old copy's size (glibc's per-size cache) */
        const tg__http_header *h = &c->req.headers[i];
        if (skip_request_header(h, strip_auth, inference)) continue;
        cap += h->name_len + h->value_len + 4;
        if (i < 64) keep |= 1ull << i;
    }
    /* glibc's calloc skips the per-thread cache (~420 instructions against ~80): malloc, then cleared up to
     * the last member, which is set apart (a whole-size memset after malloc is folded back into calloc) */
    tg__exchange *ex = cap <= 64 * 1024 + cfg->max_head * 2 ? malloc(sizeof *ex) : NULL; /* tgx_buf's ceiling before */
    if (ex) {
        memset(ex, 0, offsetof(tg__exchange, body_seen));
        ex->body_seen = 0;
    }
    char *own = ex ? malloc(cap + xl + kl) : NULL;
    size_t hl = own ? request_head(own, c, url->base_path, pl, url->hostport, hpl, mc->upstream_api_key, akl, idl,
                                   keep, strip_auth, inference)
                    : 0;
    int has_body = body_len || c->req.content_length >= 0 || c->req.chunked;
    /* body NULL: the client's buffer itself (a pass-through body), moved, not copied */
    struct evbuffer *from = !body && body_len ? c->body : NULL;
    char *up_head = own; /* NULL: out of memory */
    struct evbuffer *reqbuf = up_head ? build_request(up_head, hl, body, body_len, has_body, from) : NULL;
    if (!reqbuf) {
        free(own);
        free(ex);
        tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory building the upstream request");
        return;
    }
    ex->own = own;
    ex->own_len = cap + xl + kl;
    ex->up_head = up_head;
    ex->extra_headers = extra_headers ? memcpy(up_head + hl + 1, extra_headers, xl) : NULL;
    ex->pool_key = memcpy(up_head + hl + 1 + xl, pool->key, kl);
    ex->reqbuf = reqbuf;
    ex->mc = mc;
    ex->rep = rep;
    ex->route_key = plan ? plan->route_key : 0;
    ex->need = need;
    if (tg__mc_n_urls(mc) > 1 && !from) keep_for_retry(ex); /* a moved pass-through body is not kept */
    ex->body = body; /* for start_continuable, below; not kept */
    ex->body_len = body_len;
    ex->c = c;
    ex->srv = s;
    ex->cfg = cfg;
    tg__config_ref(cfg);
    ex->route = c->route;
    ex->stream = want_stream;
    ex->head_only = c->head_only;
    ex->high = cfg->high_watermark;
    ex->pool = pool;
    if (tg__mc_n_urls(mc) > 1) tg__access_set(c->log.upstream, sizeof c->log.upstream, pool->key, strlen(pool->key));
    pool->health.inflight++;
    pool->health.routed++;
    ex->counted_inflight = 1;
    tg__pool_set_max_conns(pool, conn_cap(s, cfg, pool));
    ex->engine = inference && m ? m->engine : NULL;
    ex->wait.ud = ex;
    ex->wait.grant = on_grant;
    tgx_buf_init(&ex->held, 64u << 20);
    ex->relay.base.ops = &relay_ops;
    ex->relay.ex = ex;
    ex->meter = tg__usage_filter_new(); /* NULL (out of memory): nothing metered */
    if (ex->meter) ex->meter->next = &ex->relay.base; /* the escalation goes between, when there is one */
    if (inference && m && (ex->rename = tg__model_name_filter_new(tg__model_id(m)))) {
        ex->rename_out.base.ops = &client_sink_ops;
        ex->rename_out.ex = ex;
        ex->rename->next = &ex->rename_out.base;
    }
    ex->added = tg__now() - c->t_start;
    if (want_stream) {
        s->metrics.open_streams++;
        ex->counted_stream = 1;
    }
    if (plan && plan->cont && c->route == TG__R_CHAT && has_body && body) start_continuable(ex, plan, mc, want_stream);
    ex->body = NULL; /* the caller's: not ours past this call */
    if (plan && plan->prompt_estimated) ex->est_prompt = plan->prompt_tokens;
    if (plan && inference) {
        ex->think = plan->think;
        ex->max_tokens = plan->max_tokens;
        if (tg__escalation_resends(want_stream, ex->esc != NULL, plan->max_tokens, plan->escalate_to,
                                   plan->escalated_body != NULL)) {
            start_resend(ex, plan);
        }
        tg__adm *a = &pool->adm;
        a->queue_max = cfg->admission_queue;
        tg__fleet_admission(s, cfg, pool, kv_capacity(s, cfg, mc, pool)); /* engine_poll.h: share, slots */
        ex->wait.seqs = plan->n_choices > 1 ? plan->n_choices : 1; /* each choice runs in a slot of its own */
        int r = tg__adm_acquire(a, &ex->wait, need);
        if (r == TG__ADM_ADMITTED) ex->reserved = need;
        else if (r == TG__ADM_FULL) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "the upstream's KV cache is full and %zu requests already wait for room (the limit); "
                     "retry later", a->queue_max);
            admission_refuse(c, ex, "admission_queue_full", msg);
            return;
        } else {
            ex->timer = evtimer_new(s->base, on_admission_timer, ex);
            if (!ex->timer) {
                ex_release(ex);
                tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory queueing the request");
                return;
            }
            double w = cfg->admission_wait;
            struct timeval tv = {(time_t)w, (suseconds_t)((w - (double)(time_t)w) * 1e6)};
            evtimer_add(ex->timer, &tv);
            c->ex = ex;
            return;
        }
    }
    start_admitted(ex);
}

/* The answer's head for the client: the status line, the upstream's
 * end-to-end fields (not its framing or CORS) and the exchange's own, no
 * framing (client.c adds it); notes whether the body is an SSE stream.
 * Written at once after one reserve (issue 17, round 7: four appends a
 * field cost more); out of memory, nothing. */
static void head_lines(tg__exchange *ex, const tg__http_head *h, const char *reason, size_t rlen, tgx_buf *hb) {
    size_t xl = ex->extra_headers ? strlen(ex->extra_headers) : 0, need = 9 + 20 + 1 + rlen + 2 + xl;
    for (size_t i = 0; i < h->n_headers; i++) need += h->headers[i].name_len + h->headers[i].value_len + 4;
    if (tgx_buf_reserve(hb, need) != TG_OK) return;
    char *w = put(hb->data + hb->len, "HTTP/1.1 ", 9);
    char d[20];
    size_t k = sizeof d;
    uint64_t v = (uint64_t)(h->status < 0 ? 0 : h->status); /* the parser's 3 digits */
    do d[--k] = (char)('0' + v % 10); while ((v /= 10) != 0);
    w = put(w, d + k, sizeof d - k);
    *w++ = ' ';
    w = put(w, reason, rlen);
    w = put(w, "\r\n", 2);
    for (size_t i = 0; i < h->n_headers; i++) {
        const tg__http_header *f = &h->headers[i];
        if (tg__http_is_hop_by_hop(f->name, f->name_len) || (f->name_len == 14 && LIT_IS(f->name, "content-length")) ||
            (f->name_len > 15 && tg__http_name_eq(f->name, 15, "access-control-"))) /* tokgate's CORS, not the upstream's */
            continue;
        if (f->name_len == 12 && LIT_IS(f->name, "content-type") && f->value_len >= 17) {
            for (size_t j = 0; j + 17 <= f->value_len; j++)
                if (tg__http_name_eq(f->value + j, 17, "text/event-stream")) ex->is_sse = 1;
        }
        w = put(w, f->name, f->name_len);
        w = put(w, ": ", 2);
        w = put(w, f->value, f->value_len);
        w = put(w, "\r\n", 2);
    }
    if (xl) w = put(w, ex->extra_headers, xl);
    hb->len = (size_t)(w - hb->data);
    hb->data[hb->len] = '\0';
}

static void on_head(void *ud, const tg__http_head *h, const char *reason, size_t rlen) {
    tg__exchange *ex = ud;
    tg__client *c = ex->c;
    (void)reason;
    if (ex->esc && !tg__esc_filter_first_leg(ex->esc)) { /* a continuation leg: the client's head went out long ago */
        tg__filter_head(ex->esc, h->status, 1);
        return;
    }
    if (h->status >= 502 && h->status <= 504) { /* the replica cannot serve (health.h) */
        char why[48];
        snprintf(why, sizeof why, "HTTP %d", h->status);
        if (tg__mc_n_urls(ex->mc) > 1) tg__replica_fault(ex->srv, ex->pool, why);
        tg__upreq *old = ex->up;
        if (retry_elsewhere(ex, why)) {
            tg__upreq_cancel(old);
            return;
        }
        ex->up = old;
    } else if (h->status < 500) {
        if (tg__mc_n_urls(ex->mc) > 1) tg__replica_ok(ex->srv, ex->pool);
    }
    double t0 = tg__now();
    tg__hist_observe(&ex->srv->metrics.upstream_latency, t0 - ex->t_sent);
    ex->status = h->status;
    ex->up_close = !h->chunked && h->content_length < 0;
    ex->up_cl = h->chunked || h->te_other ? -1 : h->content_length;
    ex->body_seen = 0;
    tgx_buf hb; /* the head's lines, for the client at once (or held) */
    char hb_mem[1024];
    tgx_buf_init_with(&hb, hb_mem, sizeof hb_mem, SIZE_MAX); /* a usual head: no allocation */
    head_lines(ex, h, reason, rlen, &hb);
    int no_body = c->head_only || h->status == 204 || h->status == 304;
    int64_t cl = h->chunked || h->te_other || ex->rename ? -1 : h->content_length; /* renamed: length changes */
    if (ex->engine && ex->engine->map_stream_error && h->status == 200 && ex->is_sse && ex->stream && !ex->serr_on) {
        tg__stream_err_init(&ex->serr, ex->engine); /* the engine's error events said our way */
        ex->serr_on = 1;
    }
    /* down the chain: the meter starts afresh, the escalation continues a 200 stream or holds */
    tg__filter_head(chain(ex), no_body ? 0 : h->status, ex->is_sse);
    tg__filter_head(ex->rename, h->status, ex->is_sse);
    if (ex->assemble) {
        if (tg__esc_filter_active(ex->esc)) { /* the answer is folded, then sent whole */
            tgx_buf_free(&hb);
            return;
        }
        tg__filter_free(ex->assemble); /* an error answer: relayed as it is */
        ex->assemble = NULL;
        ex->esc->next = &ex->relay.base; // NOLINT(clang-analyzer-core.NullDereference): assemble exists only beside esc (start_continuable)
    }
    int map_error = ex->engine && h->status >= 400 && !ex->is_sse && !no_body; /* the engine's words, ours */
    if (tg__esc_filter_holding(ex->esc) || map_error) { /* may escalate, or be said our way: keep it back */
        struct evbuffer *head = evbuffer_new();
        if (head) evbuffer_add(head, hb.data, hb.len);
        tgx_buf_free(&hb);
        if (!head) return;
        ex->held_head = head;
        ex->held_status = h->status;
        ex->held_cl = cl;
        tgx_buf_reset(&ex->held);
        return;
    }
    ex->head_sent = 1;
    tg__client_begin_mem(c, h->status, hb.data ? hb.data : "", hb.len, cl, no_body);
    tgx_buf_free(&hb);
    tg__client_set_write_low(c, ex->high / 2);
    ex->added += tg__now() - t0;
    tg__hist_observe(&ex->srv->metrics.added_latency, ex->added);
}

/* Answer bytes to the client, through the served-name filter when there is one. */
static void client_body(tg__exchange *ex, const char *p, size_t n) {
    if (!ex->rename) {
        tg__client_body(ex->c, p, n);
        return;
    }
    tg__filter_data(ex->rename, p, n); /* to the client: client_sink */
}

/* Sends a held answer's head; relaying goes on from there. */
static void flush_head(tg__exchange *ex) {
    tg__client *c = ex->c;
    if (!ex->held_head) return;
    ex->head_sent = 1;
    tg__client_begin(c, ex->held_status, ex->held_head, ex->held_cl, 0);
    evbuffer_free(ex->held_head);
    ex->held_head = NULL;
    tg__client_set_write_low(c, ex->high / 2);
}

/* Sends a held error answer: its head and what arrived so far. */
static void flush_held(tg__exchange *ex) {
    flush_head(ex);
    if (ex->held.len) client_body(ex, ex->held.data, ex->held.len);
    tgx_buf_free(&ex->held);
    tg__bufcap_give(&ex->srv->bufcap, ex->held_counted);
    ex->held_counted = 0;
}

/* A non-streamed inference answer whose whole body came in this one read,
 * on the plain chain (meter -> relay -> served name -> client: nothing
 * holds, escalates or assembles): one scan serves the metering and the
 * served name (usage.h tg__usage_filter_whole), and the bytes go to the
 * client at once, copied only when the name changes. What the chain would
 * have written, and the same usage (test_filter_whole). 0: not such an
 * answer, or the scanner is unsure; the chain takes it as usual. */
static int whole_answer(tg__exchange *ex, const char *p, size_t n) {
    if (ex->up_cl < 0 || (uint64_t)ex->up_cl != n || !ex->meter || ex->meter->next != &ex->relay.base ||
        ex->held_head || ex->is_sse || ex->serr_on)
        return 0;
    tg__model_spans spans;
    if (!tg__usage_filter_whole(ex->meter, p, n, ex->rename ? &spans : NULL)) return 0;
    if (ex->rename) { /* to the client: client_last_data, then client_sink as before */
        ex->rename_out.base.ops = &client_last_ops;
        tg__model_name_whole(ex->rename, p, n, &spans);
        ex->rename_out.base.ops = &client_sink_ops;
    } else {
        tg__client_body_last(ex->c, p, n);
    }
    if (ex->up && !ex->paused && tg__client_pending(ex->c) > ex->high) { /* relay_data's back-pressure */
        ex->paused = 1;
        tg__upreq_pause(ex->up);
    }
    return 1;
}

static void on_body(void *ud, const char *p, size_t n) {
    tg__exchange *ex = ud;
    int inference = ex->route == TG__R_CHAT || ex->route == TG__R_COMPLETIONS;
    if (tg__esc_filter_active(ex->esc) && !tg__esc_filter_first_leg(ex->esc)) { /* a continuation leg: */
        tg__filter_data(ex->esc, p, n); /* the escalation filter's bytes, not metered */
        return;
    }
    size_t seen = ex->body_seen;
    ex->body_seen += n;
    if (inference && !seen && whole_answer(ex, p, n)) return;
    if (ex->up_close && ex->is_sse) tg__sse_end_feed(&ex->sse_end, p, n);
    if (ex->held_head && !tg__esc_filter_holding(ex->esc)) { /* an error answer held for its shape */
        if (tg__bufcap_take(&ex->srv->bufcap, tg__bufcap_limit(ex->cfg->max_buffered), n)) {
            ex->held_counted += n;
            if (tgx_buf_append(&ex->held, p, n) == TG_OK) return;
        }
        flush_held(ex); /* too big to hold, or past the global cap: relay it as it is */
    }
    tg__filter_data(inference ? chain(ex) : &ex->relay.base, p, n); /* metered, held or continued, relayed */
}

/* An adaptive budget's answer teaches its class (adaptive.h); once per
 * request (a capped answer that is escalated teaches nothing: "length"). */
static void learn_thinking(tg__exchange *ex, const tg__usage *u) {
    if (!ex->think.on) return;
    if (tg__adaptive_answer(ex->srv, &ex->think, u, ex->think_cut) != TG__ADAPT_SKIPPED) ex->think.on = 0;
}

static void count_usage(tg__exchange *ex) {
    tg__server *s = ex->srv;
    tg__filter_end(ex->meter);
    const tg__usage *u = tg__usage_filter_result(ex->meter);
    if (!u) return;
    if (u->prompt_tokens > 0) s->metrics.tokens_in += (uint64_t)u->prompt_tokens;
    if (u->completion_tokens > 0) s->metrics.tokens_out += (uint64_t)u->completion_tokens;
    if (ex->pool_key && u->prompt_n > 0) tg__prefill_observe(s, ex->pool_key, u->prompt_n, u->prompt_ms);
    learn_thinking(ex, u);
    if (ex->est_prompt && u->prompt_tokens > 0) { /* the engine's own count checks the estimate (issue 19) */
        double d = (double)u->prompt_tokens - (double)ex->est_prompt;
        tg__log(s, TG__LOG_INFO,
                "count drift: upstream %s counted %lld prompt tokens, tokgate estimated %llu (drift %+.0f, %+.1f%%)",
                ex->pool_key ? ex->pool_key : "?", (long long)u->prompt_tokens, (unsigned long long)ex->est_prompt, d,
                100.0 * d / (double)ex->est_prompt);
    }
}

/* A held error answer in a shape the engine adapter knows (engine.h
 * map_error), answered in tokgate's own shape instead; 0 when the shape is
 * not one it knows (the answer is then relayed as it came). */
static int respond_mapped_error(tg__exchange *ex) {
    int status = ex->status;
    char *j = tg__engine_map_error(ex->engine, ex->held.data, ex->held.len, ex->status, &status);
    if (!j) return 0;
    tg__client *c = ex->c;
    tg__log(ex->srv, TG__LOG_INFO, "upstream error (%s, HTTP %d) answered as tokgate's %d", ex->engine->name,
            ex->status, status);
    char *hdrs = ex_take_own(ex, ex->extra_headers); /* malloc'd: it outlives the exchange */
    ex->extra_headers = NULL;
    c->ex = NULL;
    ex_release(ex);
    tg__client_respond(c, status, "application/json", j, strlen(j), hdrs);
    free(j);
    free(hdrs);
    return 1;
}

/* The escalation re-sends the request at escalate_to (once; the
 * reservation has grown already): the capped answer's head is dropped and
 * the retry's answer goes out under x-tokgate-escalated. */
static void note_resent(tg__exchange *ex, uint64_t escalate_to) {
    tg__server *s = ex->srv;
    evbuffer_free(ex->held_head);
    ex->held_head = NULL;
    tgx_buf_free(&ex->held);
    ex->is_sse = 0;
    char line[96];
    snprintf(line, sizeof line, "x-tokgate-escalated: %llu->%llu\r\n", (unsigned long long)ex->max_tokens,
             (unsigned long long)escalate_to);
    size_t ol = ex->extra_headers ? strlen(ex->extra_headers) : 0;
    char *nh = malloc(ol + strlen(line) + 1);
    if (nh) {
        if (ol) memcpy(nh, ex->extra_headers, ol);
        memcpy(nh + ol, line, strlen(line) + 1);
        ex_free_own(ex, ex->extra_headers);
        ex->extra_headers = nh;
    }
    tg__log(s, TG__LOG_INFO, "finish_reason length at the capped default: escalating %llu -> %llu",
            (unsigned long long)ex->max_tokens, (unsigned long long)escalate_to);
}

/* Ends an SSE answer with a final error event (the stream's own way to say
 * it failed after it began) and closes the connection. */
static void sse_error_end(tg__client *c, const char *msg, const char *code) {
    char *j = tg_error_body_text(msg, "upstream_error", code, NULL);
    if (j) {
        tgx_buf ev;
        tgx_buf_init(&ev, 1u << 20);
        tgx_buf_printf(&ev, "\n\ndata: %s\n\n", j);
        tg__client_body(c, ev.data, ev.len);
        tgx_buf_free(&ev);
        free(j);
    }
    c->keep_alive = 0;
    tg__client_end(c, 1);
}

/* ---- continuation legs (cont.h) ------------------------------------------ */

/* The request head of a continuation leg: POST to `path` under the
 * upstream's base, with the credentials the client's request carried there. */
static char *leg_head(const tg__exchange *ex, const char *path) {
    tgx_buf h;
    tgx_buf_init(&h, 1u << 20);
    const tg__url *u = tg__mc_url(ex->mc, ex->rep);
    tgx_buf_printf(&h, "POST %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n", u->base_path,
                   path, u->hostport);
    for (const char *l = strstr(ex->up_head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *line = l + 2, *end = strstr(line, "\r\n");
        if (!end) break;
        if (!strncasecmp(line, "authorization:", 14) || !strncasecmp(line, "x-api-key:", 10))
            tgx_buf_append(&h, line, (size_t)(end - line) + 2);
    }
    return tgx_buf_detach(&h, NULL);
}

/* The assembled answer of a non-streaming request (assemble.h), sent whole
 * with the decision's headers (and x-tokgate-escalated when it escalated). */
static void respond_assembled(tg__exchange *ex) {
    tg__client *c = ex->c;
    tg__filter_sink sink;
    tg__filter_sink_init(&sink, SIZE_MAX);
    ex->assemble->next = &sink.base;
    tg__filter_end(ex->assemble);
    int status = tg__asm_filter_only_error(ex->assemble) ? 502 : 200;
    if (ex->rename && sink.out.len) { /* the assembled answer's "model": the served name, into a buffer */
        tg__filter_sink renamed;
        tg__filter_sink_init(&renamed, SIZE_MAX);
        ex->rename->next = &renamed.base;
        tg__filter_head(ex->rename, 200, 0);
        tg__filter_data(ex->rename, sink.out.data, sink.out.len);
        ex->rename->next = &ex->rename_out.base;
        tgx_buf_reset(&sink.out);
        tgx_buf_append(&sink.out, renamed.out.data ? renamed.out.data : "", renamed.out.len);
        tg__filter_sink_free(&renamed);
    }
    size_t len = sink.out.len;
    char *body = len ? tgx_buf_detach(&sink.out, NULL) : NULL;
    tg__filter_sink_free(&sink);
    tgx_buf h;
    tgx_buf_init(&h, 1u << 20);
    if (ex->extra_headers) tgx_buf_puts(&h, ex->extra_headers);
    const tg__cont *k = tg__esc_filter_cont(ex->esc);
    if (k && tg__cont_escalated(k))
        tgx_buf_printf(&h, "x-tokgate-escalated: %llu->%llu\r\n", (unsigned long long)ex->max_tokens,
                       (unsigned long long)ex->max_tokens + tg__cont_growth(k));
    char *hdrs = tgx_buf_detach(&h, NULL);
    c->ex = NULL;
    ex_release(ex);
    if (body) tg__client_respond(c, status, "application/json", body, len, hdrs);
    else tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory assembling the answer");
    free(body);
    free(hdrs);
}

/* ---- the escalation filter's host (filters/escalation.h) ----------------- */

/* The answer continued in place is complete: meter it, then send it whole
 * (assembled) or end the stream. */
static void host_finish(void *ud) {
    tg__exchange *ex = ud;
    tg__client *c = ex->c;
    tg__server *s = ex->srv;
    const tg__cont *k = tg__esc_filter_cont(ex->esc);
    if (!k) { /* re-send mode: the held answer went out as it was (metered already) */
        c->ex = NULL;
        ex_release(ex);
        tg__client_end(c, 1);
        return;
    }
    s->metrics.tokens_in += tg__cont_prompt_tokens(k);
    s->metrics.tokens_out += tg__cont_generated(k);
    tg__filter_end(ex->meter);
    const tg__usage *u = tg__usage_filter_result(ex->meter);
    if (u && ex->pool_key && u->prompt_n > 0) tg__prefill_observe(s, ex->pool_key, u->prompt_n, u->prompt_ms);
    if (u) learn_thinking(ex, u);
    if (ex->assemble) {
        respond_assembled(ex);
        return;
    }
    c->ex = NULL;
    ex_release(ex);
    tg__client_end(c, 1);
}

/* A continuation leg failed: with nothing held back, the answer ends with
 * an SSE error event (a 502 when it is assembled). */
static void host_fail(void *ud, const char *msg, int held) {
    tg__exchange *ex = ud;
    tg__client *c = ex->c;
    if (!tg__esc_filter_cont(ex->esc)) { /* the re-send could not start; nothing went out yet */
        c->ex = NULL;
        ex_release(ex);
        tg__client_error(c, 500, "server_error", NULL, NULL, "%s", msg);
        return;
    }
    tg__log(ex->srv, TG__LOG_WARN, "continuing a stream failed: %s", msg);
    if (held) return; /* the first leg's own ending goes out, then host_finish */
    int assembled = ex->assemble != NULL;
    c->ex = NULL;
    ex_release(ex);
    if (assembled) tg__client_error(c, 502, "upstream_error", "continuation_failed", NULL, "%s", msg);
    else sse_error_end(c, msg, "continuation_failed");
}

static int host_send(void *ud, const char *path, const char *body, size_t len) {
    tg__exchange *ex = ud;
    ex->paused = 0;
    if (!path) return send_upstream(ex, body, len); /* the re-send */
    char *head = leg_head(ex, path);
    int rc = head ? send_with_head(ex, head, body, len) : -1;
    free(head);
    return rc;
}

static void host_cancel(void *ud) {
    tg__exchange *ex = ud;
    tg__upreq_cancel(ex->up);
    ex->up = NULL;
}

static void host_grow(void *ud, uint64_t n) { start_growth(ud, n); }

static void host_flush(void *ud) { flush_head(ud); }

static void host_note(void *ud, int what, uint64_t a, uint64_t b) {
    tg__exchange *ex = ud;
    tg__server *s = ex->srv;
    if (what == TG__ESC_NOTE_LENGTH) { /* the capped answer's tokens were generated either way */
        count_usage(ex);
        return;
    }
    if (what == TG__ESC_NOTE_RESENT) {
        note_resent(ex, b);
        return;
    }
    if (what == TG__ESC_NOTE_CONTINUED) {
        s->metrics.escalations_continued++;
        tg__log(s, TG__LOG_INFO, "stream stopped on length at the capped default after %llu tokens: "
                "continuing it in place to %llu", (unsigned long long)a,
                (unsigned long long)ex->max_tokens + ex->grow_by);
        return;
    }
    s->metrics.thinking_cuts++;
    ex->think_cut = 1;
    tg__log(s, TG__LOG_INFO, "thinking budget spent (%llu tokens): resuming after the end-of-thinking marker",
            (unsigned long long)a);
}

/* The answer may continue in place (plan->cont, taken): the escalation
 * filter runs it, passing what the client sees to the assembler (a
 * non-streaming request, sent upstream as a stream) or the relay. */
static void start_continuable(tg__exchange *ex, tg__plan *plan, const tg__model_cfg *mc, int want_stream) {
    (void)mc; /* ex->mc, set by tg__proxy_start */
    tg__esc_host host = {ex, host_send, host_cancel, host_grow, host_flush, host_finish, host_fail, host_note};
    ex->esc = tg__esc_filter_new(plan->cont, ex->body, ex->body_len, &host);
    plan->cont = NULL; /* taken (freed on failure): the plan's owner must not free it */
    if (!ex->esc) return; /* out of memory: the answer as it streams */
    ex->esc->next = &ex->relay.base;
    if (ex->meter) ex->meter->next = ex->esc;
    if (!want_stream) { /* routes.c made the upstream request a stream */
        ex->assemble = tg__asm_filter_new();
        if (!ex->assemble) { /* out of memory: the answer as it streams */
            tg__filter_free(ex->esc);
            ex->esc = NULL;
            if (ex->meter) ex->meter->next = &ex->relay.base;
            return;
        }
        ex->esc->next = ex->assemble;
    }
}

/* The answer escalates by re-sending (non-streaming, no continuation):
 * the escalation filter holds it and decides. */
static void start_resend(tg__exchange *ex, const tg__plan *plan) {
    tg__esc_host host = {ex, host_send, host_cancel, host_grow, host_flush, host_finish, host_fail, host_note};
    ex->esc = tg__esc_resend_filter_new(plan->escalated_body, plan->escalated_len, plan->max_tokens,
                                        plan->escalate_to, &host);
    if (!ex->esc) return; /* out of memory: no escalation */
    ex->esc->next = &ex->relay.base;
    if (ex->meter) ex->meter->next = ex->esc;
}

/* ---- escalation growth (admission.h: growth that waits) ------------------ */

/* The escalation's growth is in the reservation: go on. */
static void growth_granted(tg__exchange *ex) {
    ex->growing = 0;
    ex->reserved += ex->grow_by;
    ex->srv->metrics.escalations++;
    tg__esc_filter_grown(ex->esc, 1);
}

/* No KV room came within admission_wait: the capped answer goes out as it was. */
static void growth_timed_out(tg__exchange *ex) {
    tg__server *s = ex->srv;
    ex->growing = 0;
    tg__adm_cancel(&ex->pool->adm, &ex->wait, 0);
    s->metrics.escalations_skipped++;
    tg__log(s, TG__LOG_INFO, "finish_reason length at the capped default, but no KV room to grow by %llu "
            "within %.0f ms: answer sent as it is", (unsigned long long)ex->grow_by, ex->cfg->admission_wait * 1000.0);
    tg__esc_filter_grown(ex->esc, 0);
}

/* Escalation: grow the reservation by n, now or once releases make room
 * (ahead of new requests), within admission_wait. */
static void start_growth(tg__exchange *ex, uint64_t n) {
    ex->growing = 1;
    ex->grow_by = n;
    if (!ex->timer && !(ex->timer = evtimer_new(ex->srv->base, on_admission_timer, ex))) {
        growth_timed_out(ex); /* out of memory: as if no room came */
        return;
    }
    if (tg__adm_grow_wait(&ex->pool->adm, &ex->wait, ex->reserved, n) == TG__ADM_ADMITTED) {
        growth_granted(ex);
        return;
    }
    if (ex->wait.granted) return; /* granted inside the call: the 0 s timer is set */
    double w = ex->cfg->admission_wait;
    struct timeval tv = {(time_t)w, (suseconds_t)((w - (double)(time_t)w) * 1e6)};
    evtimer_add(ex->timer, &tv);
}

/* ---- replicas: another replica before any answer byte (replicas.h) ------ */

/* `req` (n bytes: "METHOD BASE+TARGET HTTP/1.1\r\nHost: H\r\n" then the
 * rest) addressed to `to` instead of `from`; malloc'd, its size in *out_n;
 * NULL when it is not of that shape or out of memory. */
static char *rehead(const char *req, size_t n, const tg__url *from, const tg__url *to, size_t *out_n) {
    const char *sp = memchr(req, ' ', n), *eol = memchr(req, '\n', n);
    size_t bl = strlen(from->base_path);
    if (!sp || !eol || (size_t)(eol - sp) < bl + 1 || strncmp(sp + 1, from->base_path, bl) != 0) return NULL;
    const char *host = eol + 1, *host_end = memchr(host, '\n', n - (size_t)(host - req));
    if (!host_end || strncasecmp(host, "host:", 5) != 0) return NULL;
    const char *target = sp + 1 + bl, *rest = host_end + 1;
    size_t tl = (size_t)(eol + 1 - target), rl = n - (size_t)(rest - req);
    tgx_buf b;
    tgx_buf_init(&b, SIZE_MAX);
    tgx_buf_append(&b, req, (size_t)(sp + 1 - req));
    tgx_buf_puts(&b, to->base_path);
    tgx_buf_append(&b, target, tl);
    tgx_buf_printf(&b, "Host: %s\r\n", to->hostport);
    if (tgx_buf_append(&b, rest, rl) != TG_OK) {
        tgx_buf_free(&b);
        return NULL;
    }
    return tgx_buf_detach(&b, out_n);
}

/* Moves the exchange (its reservation and in-flight count) to `np`, the
 * section's replica ri. */
static void move_to(tg__exchange *ex, tg__pool *np, size_t ri) {
    tg__server *s = ex->srv;
    tg__pool *op = ex->pool;
    if (ex->reserved || ex->wait.held) {
        uint64_t held = ex->wait.held; /* its slots (the slot gate, admission.h) move with it */
        tg__adm_finish(&op->adm, &ex->wait, ex->reserved);
        tg__fleet_admission(s, ex->cfg, np, kv_capacity(s, ex->cfg, ex->mc, np));
        tg__adm_grow(&np->adm, ex->reserved);
        np->adm.running += held;
        ex->wait.held = held;
    }
    if (op->health.inflight) op->health.inflight--;
    np->health.inflight++;
    np->health.routed++;
    tg__pool_set_max_conns(np, conn_cap(s, ex->cfg, np));
    ex->pool = np;
    ex->rep = ri;
    tg__access_set(ex->c->log.upstream, sizeof ex->c->log.upstream, np->key, strlen(np->key)); /* the access line */
    char *k = strdup(np->key);
    if (k) {
        ex_free_own(ex, ex->pool_key);
        ex->pool_key = k;
    }
}

/* The replica failed before anything of its answer was relayed: the same
 * request goes to another replica of the section (not tried yet). 1 when
 * it went (ex->up is the new request), 0 when there is none to try. */
static int retry_elsewhere(tg__exchange *ex, const char *why) {
    tg__server *s = ex->srv;
    if (!ex->retry_req || ex->head_sent || ex->held_head || (ex->esc && !tg__esc_filter_first_leg(ex->esc))) return 0;
    ex->tried |= 1u << ex->rep;
    size_t ri = 0, n = 0, hn = 0;
    tg__pool *np = tg__replica_pick(s, ex->cfg, ex->mc, ex->route_key, ex->need, ex->tried, &ri);
    if (!np) return 0;
    const tg__url *from = tg__mc_url(ex->mc, ex->rep), *to = tg__mc_url(ex->mc, ri);
    char *req = rehead(ex->retry_req, ex->retry_len, from, to, &n);
    char *uh = req ? rehead(ex->up_head, strlen(ex->up_head) + 1, from, to, &hn) : NULL;
    struct evbuffer *b = uh ? evbuffer_new() : NULL;
    if (!b || evbuffer_add(b, req, n) != 0) {
        if (b) evbuffer_free(b);
        free(req);
        free(uh);
        return 0;
    }
    free(req);
    ex_free_own(ex, ex->up_head);
    ex->up_head = uh;
    tg__log(s, TG__LOG_WARN, "upstream %s failed before answering (%s): the request goes to replica %s", ex->pool->key,
            why ? why : "fault", np->key);
    move_to(ex, np, ri);
    ex->status = 0;
    ex->is_sse = 0;
    ex->up_close = 0;
    tg__replicas_retried++;
    return send_request(ex, b) == 0;
}

/* Faults that take a replica out (health.h): it refused, did not answer,
 * broke the connection or the protocol. */
static int replica_fault(int fault) {
    return fault == TG__UP_CONNECT || fault == TG__UP_TIMEOUT_CONNECT || fault == TG__UP_TIMEOUT_FIRST ||
           fault == TG__UP_TIMEOUT_IDLE || fault == TG__UP_RESET || fault == TG__UP_PROTOCOL;
}

/* The replica died mid-stream: the answer goes on at another replica of
 * the same continuation protocol, by token ids (cont.h), when it can. 1
 * when so (the next leg is under way). */
static int failover_stream(tg__exchange *ex, const char *why) {
    tg__server *s = ex->srv;
    const tg__cont *k = tg__esc_filter_cont(ex->esc);
    if (!k || !ex->head_sent || !ex->is_sse) return 0;
    ex->tried |= 1u << ex->rep;
    size_t ri = 0;
    tg__pool *np = tg__replica_pick(s, ex->cfg, ex->mc, ex->route_key, ex->need, ex->tried, &ri);
    const tg__upinfo *ui = np ? tg__upinfo_find(s, np->key) : NULL;
    const tg__engine *e = tg__engine_for(ex->mc->engine, ui);
    if (!np || !e || e->cont != tg__cont_engine(k)) return 0;
    tg__pool *op = ex->pool;
    size_t orep = ex->rep;
    move_to(ex, np, ri);
    if (!tg__esc_filter_failover(ex->esc)) {
        move_to(ex, op, orep);
        return 0;
    }
    tg__replicas_failovers++;
    tg__log(s, TG__LOG_WARN, "upstream %s broke mid-stream (%s): the answer goes on at replica %s by token ids",
            op->key, why ? why : "fault", np->key);
    return 1;
}

static void on_done(void *ud, int fault, const char *msg) {
    tg__exchange *ex = ud;
    tg__client *c = ex->c;
    tg__server *s = ex->srv;
    ex->up = NULL;
    int inference = ex->route == TG__R_CHAT || ex->route == TG__R_COMPLETIONS;
    if (fault == TG__UP_OK && ex->up_close && ex->is_sse && !tg__sse_end_clean(&ex->sse_end, inference)) {
        fault = TG__UP_RESET; /* the close ended a close-delimited stream mid-way: not its end */
        msg = inference ? "upstream closed the event stream before its end (no data: [DONE])"
                        : "upstream closed the event stream inside an event";
    }
    if (replica_fault(fault) && ex->head_sent) { /* mid-answer: out of service, the stream goes on elsewhere */
        if (tg__mc_n_urls(ex->mc) > 1) tg__replica_fault(s, ex->pool, msg ? msg : tg__up_fault_name(fault));
        if (failover_stream(ex, msg ? msg : tg__up_fault_name(fault))) {
            s->metrics.upstream_faults[fault]++;
            return;
        }
    }
    if (tg__esc_filter_active(ex->esc) &&
        tg__esc_filter_up_done(ex->esc, fault, tg__up_fault_name(fault), msg)) { /* continuing in place */
        if (fault > 0 && fault < TG__UP_N_FAULTS) s->metrics.upstream_faults[fault]++;
        return;
    }
    if (replica_fault(fault) && !ex->head_sent) {
        if (tg__mc_n_urls(ex->mc) > 1) tg__replica_fault(s, ex->pool, msg ? msg : tg__up_fault_name(fault));
        if (ex->status == 0 && retry_elsewhere(ex, msg ? msg : tg__up_fault_name(fault))) {
            s->metrics.upstream_faults[fault]++;
            return;
        }
    }
    if (fault == TG__UP_OK && tg__esc_filter_held_done(ex->esc))
        return; /* "length": c->ex stays, the growth, then the retry, runs */
    if (fault == TG__UP_OK && ex->held_head) {
        if (ex->status >= 400 && respond_mapped_error(ex)) return;
        flush_held(ex);
    }
    c->ex = NULL;
    int head_sent = ex->head_sent, is_sse = ex->is_sse;
    if (fault == TG__UP_OK) {
        count_usage(ex);
        ex_release(ex);
        tg__client_end(c, 1);
        return;
    }
    ex_release(ex);
    if (fault > 0 && fault < TG__UP_N_FAULTS) s->metrics.upstream_faults[fault]++;
    tg__log(s, TG__LOG_WARN, "upstream fault (%s): %s", tg__up_fault_name(fault), msg ? msg : "");
    int timeout = fault == TG__UP_TIMEOUT_CONNECT || fault == TG__UP_TIMEOUT_FIRST || fault == TG__UP_TIMEOUT_IDLE ||
                  fault == TG__UP_TIMEOUT_ANSWER || fault == TG__UP_SLOW_ANSWER;
    if (!head_sent) {
        tg__client_error(c, timeout ? 504 : 502, "upstream_error", tg__up_fault_name(fault), NULL, "%s",
                         msg ? msg : "upstream failed");
        return;
    }
    if (is_sse && (c->resp_chunked || c->resp_close_delimited)) {
        sse_error_end(c, msg ? msg : "upstream failed", tg__up_fault_name(fault));
        return;
    }
    tg__client_end(c, 0);
}

int tg__exchange_drain_cut(tg__exchange *ex) {
    tg__client *c = ex->c;
    if (!ex->head_sent || !ex->is_sse || !(c->resp_chunked || c->resp_close_delimited) || ex->held_head) return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "tokgate is shutting down: the drain deadline (timeouts.drain, %gs) cut this stream",
             ex->cfg->drain_timeout);
    c->ex = NULL;
    tg__exchange_free(ex, 0);
    sse_error_end(c, msg, "shutting_down");
    return 1;
}
