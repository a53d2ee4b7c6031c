/*
 * gateway/routes.c: which handler answers a request.
 *
 *   POST /v1/chat/completions, /v1/completions   parse, resolve, budget, relay
 *   GET  /v1/models, /api.json, /v1/limits       from the served-model table
 *   GET  /metrics                                Prometheus text
 *   GET  /healthz                                liveness (no key needed)
 *   GET  /readyz                                 readiness: models discovered, limits known (no key)
 *   GET  /status                                 the status page (static HTML, no key; its
 *                                                script fetches /v1/limits and /metrics)
 *   POST /tokenize                               exact count (and pieces) with the model's tokenizer
 *   the engine's routes (engine.h native_routes, the default model's engine; every
 *   adapter's before discovery names it):
 *     generating, budgetable                     as /v1/chat/completions or /v1/completions
 *                                                (llama-server's /chat/completions)
 *     generating in the engine's own shape       (Ollama's /api/chat, /api/generate) resolved by
 *                                                the body's model, budgeted through the adapter's
 *                                                native_in / native_out, no escalation
 *     generating, not budgetable                 403 route_not_budgeted naming the route to use
 *                                                (/completion, /infill, /v1/messages...)
 *     not generating                             passed through unchanged (GET /props, /slots...)
 *     admin (POST /slots/ID, /props...)          403 admin_route_disabled unless allow_admin_routes
 *   passthrough_paths (config)                   passed through unchanged, any method
 *   anything else                                404 route_not_found naming the path
 *
 * The target is normalized first (path.h: unreserved escapes decoded, dot
 * segments and repeated slashes removed; %2F, %00, bad escapes, ".." above
 * the root are 400 invalid_path); the normalized target is routed, logged
 * and sent upstream. A chat or completion for a model whose limits are not
 * known yet waits for discovery (timeouts.discovery_wait), then 503
 * model_not_ready with Retry-After: never forwarded without a budget.
 *
 *   GET  /v1/models/{id}                         one model (OpenAI's retrieve shape; 404 unknown)
 *   OPTIONS (any path)                           204; a CORS preflight from a configured origin
 *                                                gets the Access-Control-Allow-* answer
 *
 * API keys (when configured) come as `Authorization: Bearer KEY` or
 * `x-api-key: KEY` and are compared in constant time against every key.
 * /healthz, OPTIONS and (unless private_catalog) /api.json need none:
 * opencode reads /api.json through OPENCODE_MODELS_URL without a key.
 * CORS: an allowed Origin (cors_origins) gets Access-Control-Allow-Origin
 * on every answer (client.c writes c->cors), others none.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/adaptive.h"
#include "gateway/budget.h"
#include "gateway/engine_count.h"
#include "gateway/cont.h"
#include "gateway/discovery.h"
#include "gateway/filters/escalation.h"
#include "gateway/routes.h"
#include "gateway/route_pick.h"
#include "gateway/catalog.h"
#include "gateway/client.h"
#include "gateway/log.h"
#include "gateway/modelfiles.h"
#include "gateway/path.h"
#include "gateway/models.h"
#include "gateway/proxy.h"
#include "gateway/req_fast.h"
#include "gateway/server.h"
#include "gateway/status.h"
#include "gateway/summary.h"
#include "gateway/workers.h"
#include "util/buf.h"

/* Constant-time in the key's content: every configured key is compared in
 * full, and the time depends only on the configured keys' lengths. */
static int key_ok(const tg__config *cfg, const char *k, size_t kl) {
    unsigned ok = 0;
    for (size_t i = 0; i < cfg->n_api_keys; i++) {
        const char *want = cfg->api_keys[i];
        size_t wl = strlen(want);
        volatile unsigned diff = (unsigned)(kl != wl);
        for (size_t j = 0; j < wl; j++) {
            unsigned char a = (unsigned char)(j < kl ? k[j] : 0);
            diff |= (unsigned)(a ^ (unsigned char)want[j]);
        }
        ok |= (unsigned)(diff == 0);
    }
    return ok != 0;
}

static int authorized(tg__client *c) {
    const tg__config *cfg = c->cfg;
    if (cfg->n_api_keys == 0) return 1;
    const tg__http_header *h = tg__http_find(&c->req, "authorization");
    if (h && h->value_len > 7 && tg__http_name_eq(h->value, 7, "bearer ")) {
        const char *k = h->value + 7;
        size_t kl = h->value_len - 7;
        while (kl && *k == ' ') { k++; kl--; }
        return key_ok(cfg, k, kl);
    }
    h = tg__http_find(&c->req, "x-api-key");
    if (h) return key_ok(cfg, h->value, h->value_len);
    return 0;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int path_is(const char *p, size_t n, const char *want) {
    size_t wl = strlen(want);
    return n == wl && memcmp(p, want, n) == 0;
}

static int method_is(tg__client *c, const char *m) {
    return c->req.method_len == strlen(m) && memcmp(c->req.method, m, c->req.method_len) == 0;
}

static void respond_buffer(tg__client *c, int status, const char *ctype, struct evbuffer *b) {
    size_t n = evbuffer_get_length(b);
    const char *p = n ? (const char *)evbuffer_pullup(b, -1) : "";
    tg__client_respond(c, status, ctype, p, n, NULL);
}

/* The gateway's root URL as this request reached it (catalog.h). */
static void base_url(tg__client *c, char *out, size_t outsz) {
    tg__catalog_origin o = {0};
    const tg__http_header *h;
    if ((h = tg__http_find(&c->req, "host"))) { o.host = h->value; o.host_len = h->value_len; }
    if ((h = tg__http_find(&c->req, "forwarded"))) { o.forwarded = h->value; o.forwarded_len = h->value_len; }
    if ((h = tg__http_find(&c->req, "x-forwarded-proto"))) { o.xf_proto = h->value; o.xf_proto_len = h->value_len; }
    if ((h = tg__http_find(&c->req, "x-forwarded-host"))) { o.xf_host = h->value; o.xf_host_len = h->value_len; }
    o.trust_forwarded = !c->cfg->ignore_forwarded;
    o.listen_host = c->cfg->listen_host ? c->cfg->listen_host : "127.0.0.1";
    o.listen_port = c->cfg->listen_port;
    tg__catalog_base_url(&o, out, outsz);
}

/* The id of GET /v1/models/{id}, percent-decoded into out (an id may hold
 * '/', sent raw or as %2F); 0 when the path is not that route. */
static int model_id_of(const tg__client *c, char *out, size_t outsz) {
    static const char pre[] = "/v1/models/";
    const char *t = c->req.target;
    size_t n = c->req.target_len;
    const char *q = memchr(t, '?', n);
    if (q) n = (size_t)(q - t);
    if (n <= sizeof pre - 1 || memcmp(t, pre, sizeof pre - 1) != 0) return 0;
    size_t o = 0;
    for (size_t i = sizeof pre - 1; i < n && o + 1 < outsz; i++) {
        int hi, lo;
        if (t[i] == '%' && i + 2 < n && (hi = hexval(t[i + 1])) >= 0 && (lo = hexval(t[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else out[o++] = t[i];
    }
    out[o] = '\0';
    return 1;
}

static void serve_local(tg__client *c, int route) {
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory");
        return;
    }
    char id[512];
    if (route == TG__R_MODELS && model_id_of(c, id, sizeof id)) {
        if (tg__catalog_model(c->srv, id, b) != 0)
            tg__client_error(c, 404, "invalid_request_error", "model_not_found", "model",
                             "The model '%.400s' does not exist or is not served by this gateway (GET /v1/models lists them)", id);
        else respond_buffer(c, 200, "application/json", b);
        evbuffer_free(b);
        return;
    }
    int status = 200;
    const char *ctype = route == TG__R_METRICS ? "text/plain; version=0.0.4; charset=utf-8" : "application/json";
    switch (route) {
    case TG__R_MODELS: tg__catalog_models(c->srv, b); break;
    case TG__R_LIMITS: tg__catalog_limits(c->srv, b); break;
    case TG__R_METRICS:
        tg__metrics_render(&c->srv->metrics, &c->srv->pools, b);
        tg__catalog_metrics(c->srv, b);
        tg__adaptive_metrics(c->srv, b);
        break;
    case TG__R_API_JSON: {
        char base[600];
        base_url(c, base, sizeof base);
        tg__catalog_api_json(c->srv, base, b);
        break;
    }
    case TG__R_READYZ: status = tg__status_readyz(c->srv, b); break;
    case TG__R_STATUS:
        tg__status_page(b);
        ctype = "text/html; charset=utf-8";
        break;
    default: evbuffer_add_printf(b, "{\"status\":\"ok\",\"draining\":%s}", c->srv->draining ? "true" : "false"); break;
    }
    respond_buffer(c, status, ctype, b);
    evbuffer_free(b);
}

/* One inference request's parse + validate + resolve + budget. work() runs
 * on a worker thread for large bodies (on the loop for small ones) and uses
 * only the job's own copy of the body, the model table and config it holds;
 * done() answers on the loop. */
typedef struct infer_job {
    tg__job job;
    tg__client *c;
    tg__pools *pools;   /* its memory goes back to pools->spare_job (the client may be gone by then) */
    tg__model_table *table;
    int route;
    int native;         /* TG__ER_NATIVE_*: the body is the engine's own shape; 0 OpenAI's */
    char *body;
    size_t len;
    /* results */
    int status;         /* 0: forward */
    char *resp;         /* the answer when status != 0 (JSON, malloc'd) */
    char reason[64];    /* a policy refusal's reason, else "" */
    const tg__model *m;
    char *fwd;          /* body to forward when rewritten (malloc'd) */
    size_t fwd_len;
    char *headers;      /* x-tokgate-* lines */
    int stream;
    tg__plan plan;      /* escalated_body malloc'd */
    tg__access log;     /* what the access line says of the decision (model, budget, decision, error) */
    /* waiting for the model's limits (discovery): */
    struct event *wait_ev;
    double wait_until;  /* 0: not waiting yet */
    int retry_after;    /* a 503 for limits not known: seconds for Retry-After */
    struct sumjob *sum; /* truncation summarize under way (below), or NULL */
    /* the engine's own count (engine_count.h; issue 19): work() found no
     * cached count and left the request to ask in count_req; done() asks and
     * runs work() again with the answer (count_state 1) or the failure (2) */
    json_t *count_req;
    tg__ecount_key count_key;
    tg__ecount_req *counting;
    int count_state;    /* 0 not asked, 1 counted, 2 failed (count_why) */
    int count_hit;      /* the count came from the cache */
    uint64_t count_tokens;
    double count_ms;    /* the round trip */
    char count_why[256];
    char body_mem[1024]; /* last, never cleared: `body` when it fits (no malloc; issue 17) */
} infer_job;

static void body_free(infer_job *j) {
    if (j->body != j->body_mem) free(j->body);
}

/* Truncation summarize (docs/policy.md): infer_work decides as usual (the
 * request it leaves is the drop_oldest_turns fallback) and, when the
 * decision planned a summary, keeps the plan here. infer_done then takes
 * the summary from the cache (summary.h) or makes the summary call; with it,
 * the compacted chat (tg_summary_compact) becomes the job's body and is
 * decided again ("truncation": "disabled", so it fits or is refused). The
 * fallback is kept aside and sent instead when the call fails, no summary
 * fits, or the compacted chat is refused. */
enum { SUM_PLANNED, SUM_CALLING, SUM_REDECIDING, SUM_DONE };
typedef struct sumjob {
    int state;
    json_t *root;           /* the client's chat request */
    size_t *msgs;           /* the messages the summary replaces (original indices) */
    size_t n_msgs, n_turns;
    uint64_t tokens;        /* their tokens (per-message counts) */
    uint64_t before;        /* the client's prompt tokens */
    tg_summary_key key;
    /* the turn ends a summary may stop at (tokgate/policy.h summary_ends) from
     * the first that frees enough on: a cached summary of any of them serves */
    size_t *ends;           /* into msgs */
    uint64_t *end_tokens;
    tg_summary_key *keys;
    size_t n_ends;
    char *call_body;        /* the summary call's body (JSON) */
    tg__sumcall *call;
    struct event *defer;    /* the call's end, handled off its callback */
    char *text;             /* the summary the call brought (owned) */
    int hit;                /* the summary came from the cache */
    char why[512];          /* why no summary was used; "" while none failed */
    /* the fallback, drop_oldest_turns as first decided */
    char *fwd, *headers;
    size_t fwd_len;
    tg__plan plan;
    tg__access log;
} sumjob;

static void job_error(infer_job *j, int status, const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void job_error(infer_job *j, int status, const char *code, const char *param, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    j->status = status;
    j->resp = tg_error_body_text(msg, status >= 500 ? "server_error" : "invalid_request_error", code, param);
    if (!j->log.decision) j->log.decision = "error";
    if (code) tg__access_set(j->log.error, sizeof j->log.error, code, strlen(code));
}

/* The decision as the access line names it (log.h). */
static void job_log_decision(infer_job *j, const tg__budget *b) {
    if (!b->decided) {
        j->log.decision = "forward";
        return;
    }
    const tg_decision *d = &b->dec.d;
    j->log.have_budget = 1;
    j->log.prompt_tokens = d->budget.prompt_tokens;
    j->log.prompt_exact = d->budget.prompt_tokens_exact;
    j->log.max_tokens = d->budget.max_tokens; /* 0 when refused before it was chosen: what the client asked */
    j->log.max_tokens_source = d->budget.max_tokens ? tg_max_tokens_source_name(d->budget.max_tokens_source) : NULL;
    if (!d->budget.max_tokens && d->budget.requested_max_tokens) {
        j->log.max_tokens = d->budget.requested_max_tokens;
        j->log.max_tokens_source = tg_max_tokens_source_name(TG_SRC_REQUEST);
    }
    j->log.decision = d->action == TG_ACTION_REJECT     ? "reject"
                      : d->action == TG_ACTION_TRUNCATE ? "truncate"
                      : d->budget.clamped               ? "clamp"
                                                        : "forward";
    if (d->action == TG_ACTION_REJECT && d->refusal.api.code[0])
        tg__access_set(j->log.error, sizeof j->log.error, d->refusal.api.code, strlen(d->refusal.api.code));
}

/* A structured library error (tg_error.api) as the answer. */
static void job_fail(infer_job *j, const tg_error *e) {
    int status = e->api.status ? e->api.status : 400;
    job_error(j, status, e->api.code, e->api.param, "%s", e->msg);
}

/* The adapter that reads a native body: the model's engine, else the first
 * that has native routes (the model's engine is not known yet). */
static const tg__engine *native_engine(const tg__model *m) {
    if (m && m->engine && m->engine->native_in) return m->engine;
    size_t n = 0;
    const tg__engine *const *all = tg__engines(&n);
    for (size_t i = 0; i < n; i++)
        if (all[i]->native_in) return all[i];
    return NULL;
}

static const char *as_chat_route(const infer_job *j) {
    return j->native == TG__ER_NATIVE_CHAT ? "/v1/chat/completions" : "/v1/completions";
}

/* A native body (j->native) as the OpenAI body the budget decides on:
 * *native the parsed body (kept for native_forward), *conv the OpenAI text,
 * *route TG__R_CHAT or TG__R_COMPLETIONS. 0, or -1 answered. */
static int native_request(infer_job *j, json_t **native, char **conv, int *route) {
    json_error_t je;
    *native = json_loadb(j->body, j->len, 0, &je);
    if (!json_is_object(*native)) {
        job_error(j, 400, "invalid_json", NULL, "the request body is not a JSON object: %s", je.text);
        return -1;
    }
    const char *name = json_string_value(json_object_get(*native, "model"));
    const tg__model *m = tg__model_resolve(j->table, name);
    if (m && m->engine && !m->engine->native_in) { /* e.g. /api/chat naming a llama-server model */
        job_error(j, 404, "route_not_found", "model", "model '%s' is served by %s, which has no such route; use POST %s",
                  tg__model_id(m), m->engine->name, as_chat_route(j));
        return -1;
    }
    const tg__engine *e = native_engine(m);
    int as_chat = j->native == TG__ER_NATIVE_CHAT;
    json_t *o = e ? e->native_in(*native, &as_chat) : NULL;
    *conv = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!*conv) {
        job_error(j, 400, "invalid_request_error", NULL, "the request body cannot be read as a chat or a prompt");
        return -1;
    }
    *route = as_chat ? TG__R_CHAT : TG__R_COMPLETIONS;
    return 0;
}

/* The decision written into the native body, sent as it is otherwise; no
 * escalation or continuation (the answer is the engine's own NDJSON). */
static void native_forward(infer_job *j, const tg__model *m, json_t *native, const json_t *decided, uint64_t max_tokens,
                           const char *up_name) {
    const tg__engine *e = native_engine(m);
    if (up_name) json_object_set_new(native, "model", json_string(up_name));
    if (!e || e->native_out(native, decided, m->have_limits ? m->limits.context : 0, max_tokens) != 0) {
        job_error(j, 500, NULL, NULL, "out of memory writing the upstream request");
        return;
    }
    j->plan.escalate_to = 0;
    j->fwd = tgx_json_dumps(native, JSON_COMPACT);
    j->fwd_len = j->fwd ? strlen(j->fwd) : 0;
    if (!j->fwd) job_error(j, 500, NULL, NULL, "out of memory writing the upstream request");
}

/* What the answer's thinking is recorded under (adaptive.h), when the
 * adaptive mode chose its budget: the name the library looked it up by. */
static void plan_think(tg__plan *p, const tg__model *m, const char *name, const tg_budget *b) {
    memset(&p->think, 0, sizeof p->think);
    if (!b->adaptive || b->thinking_disabled) return;
    const char *model = m->settings.name ? m->settings.name : name ? name : "";
    p->think.on = 1;
    p->think.cls.band = b->adaptive_band;
    p->think.cls.code = b->adaptive_code;
    p->think.cls.asked = b->adaptive_asked;
    p->think.budget = b->thinking_tokens;
    p->think.hi = b->adaptive_hi;
    snprintf(p->think.model, sizeof p->think.model, "%s", model);
}

/* The name m's upstream knows, when it differs from what clients send; NULL otherwise. */
static const char *upstream_name(const tg__model *m) {
    const char *up_name = m->cfg->upstream_model;
    if (!up_name && m->upstream_obj) /* the name the upstream knows (vLLM insists on it) */
        up_name = json_string_value(json_object_get(m->upstream_obj, "id"));
    return up_name;
}

/* The turn ends from the first that frees enough (n_summary_min) on. */
static void sum_ends(sumjob *sj, const tg_truncation_report *t) {
    size_t first = 0;
    while (first < t->n_summary_ends && t->summary_ends[first] < t->n_summary_min) first++;
    size_t n = t->n_summary_ends - first;
    sj->ends = malloc((n ? n : 1) * sizeof *sj->ends);
    sj->end_tokens = malloc((n ? n : 1) * sizeof *sj->end_tokens);
    if (!sj->ends || !sj->end_tokens) return;
    memcpy(sj->ends, t->summary_ends + first, n * sizeof *sj->ends);
    memcpy(sj->end_tokens, t->summary_end_tokens + first, n * sizeof *sj->end_tokens);
    sj->n_ends = n;
}

/* Keeps the decision's summary plan (worker thread): the messages, the
 * summary call's body and the cache key. Out of memory leaves the fallback. */
static void sum_plan(infer_job *j, const tg__model *m, const tg_request *r, const tg_decision *d) {
    const tg_truncation_report *t = &d->truncation;
    sumjob *sj = calloc(1, sizeof *sj);
    if (!sj) return;
    j->sum = sj;
    sj->before = t->prompt_tokens_before;
    uint64_t max = m->settings.summary_max_tokens;
    if (!t->n_summary_messages) {
        snprintf(sj->why, sizeof sj->why,
                 "no room for a summary: summary_max_tokens %llu + %u does not fit beside the last turn under the "
                 "prompt cap of %llu tokens",
                 (unsigned long long)max, TG_SUMMARY_OVERHEAD, (unsigned long long)t->summary_cap);
        return;
    }
    sj->msgs = malloc(t->n_summary_messages * sizeof *sj->msgs);
    if (!sj->msgs) {
        snprintf(sj->why, sizeof sj->why, "out of memory planning the summary");
        return;
    }
    memcpy(sj->msgs, t->summary_messages, t->n_summary_messages * sizeof *sj->msgs);
    sj->n_msgs = t->n_summary_messages;
    sj->n_turns = t->n_summary_turns;
    sj->tokens = t->summary_tokens;
    sj->root = json_incref(r->root);
    const char *prompt = m->cfg->summary_prompt;
    json_t *body = tg_summary_request(r->root, sj->msgs, sj->n_msgs, prompt, max);
    const char *up = upstream_name(m);
    if (body && up) json_object_set_new(body, "model", json_string(up));
    sum_ends(sj, t);
    if (sj->n_ends) {
        sj->keys = malloc(sj->n_ends * sizeof *sj->keys);
        if (sj->keys) tg_summary_keys(r->root, sj->msgs, sj->n_msgs, prompt, max, sj->ends, sj->n_ends, sj->keys);
    }
    sj->key = tg_summary_key_of(r->root, sj->msgs, sj->n_msgs, prompt, max);
    sj->call_body = body && sj->keys ? tgx_json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!sj->call_body) snprintf(sj->why, sizeof sj->why, "out of memory building the summary call");
}

/* The engine's own count for m (engine_count.h), where m's tokenizer cannot
 * count the request exactly: 1 when it must be asked first (j->count_req
 * set; infer_done asks), 0 to decide now with *tokens (0: none). */
static int engine_counts(const infer_job *j, const tg__model *m, int chat) { /* the engine would be asked */
    return !(j->native || !m->have_limits || j->table->cfg->engine_count_timeout <= 0 || (m->tok && (!chat || m->chat)) ||
             !m->pool || tg__ecount_unsupported(m->pool->key));
}

static int engine_count(infer_job *j, const tg__model *m, const tg_request *r, int route, uint64_t *tokens) {
    if (j->count_state == 1) *tokens = j->count_tokens;
    if (j->count_state) return 0;
    int chat = route == TG__R_CHAT;
    if (!engine_counts(j, m, chat)) return 0;
    tg__ecount_key k;
    json_t *body = tg__ecount_body(m, r->root, chat, &k);
    if (!body) return 0;
    if (tg__ecount_lookup(&k, tokens)) {
        j->count_hit = 1;
        j->count_state = 1;
        j->count_tokens = *tokens;
        json_decref(body);
        return 0;
    }
    j->count_req = body;
    j->count_key = k;
    return 1;
}

/* x-tokgate-count: exact or estimated, and the source (issue 19), onto H. */
static void count_line(infer_job *j, const tg__budget *b, int request_cache_hit, tgx_buf *h) {
    const char *src = b->dec.method == TG_COUNT_ENGINE     ? "engine"
                      : b->dec.method == TG_COUNT_ESTIMATE ? (j->count_state == 2 ? "engine_failed" : "estimate")
                                                           : "tokenizer";
    j->log.count_source = src;
    tgx_buf_puts(h, b->dec.d.budget.prompt_tokens_exact ? "x-tokgate-count: exact; source=" /* no printf: issue 17 */
                                                          : "x-tokgate-count: estimated; source=");
    tgx_buf_puts(h, src);
    if (b->dec.method == TG_COUNT_ENGINE)
        tgx_buf_printf(h, "; engine=%s %s; cache=%s; round_trip_ms=%.2f", j->m->engine->name, j->m->engine->count->path,
                       j->count_hit ? "hit" : "miss", j->count_hit ? 0.0 : j->count_ms);
    if (j->count_state == 2) tgx_buf_printf(h, "; engine count failed: %s", j->count_why);
    if (request_cache_hit) tgx_buf_puts(h, "; cache=hit"); /* the whole-request count cache (req_fast.h) */
    tgx_buf_puts(h, "\r\n");
}

/* The decision's header lines with count_line's after them. */
static void count_header(infer_job *j, tg__budget *b, int request_cache_hit) {
    if (!b->decided) return;
    tgx_buf h;
    tgx_buf_init(&h, 4096);
    tgx_buf_reserve(&h, 512); /* one allocation for the usual headers */
    if (b->headers) tgx_buf_puts(&h, b->headers);
    count_line(j, b, request_cache_hit, &h);
    char *nh = tgx_buf_detach(&h, NULL);
    if (nh) {
        free(b->headers);
        b->headers = nh;
    }
}

/* The body to forward, SEND (consumed): spliced from the client's bytes on
 * the fast path (REQ is then the scanned request it was decided on), else
 * serialised. */
static void write_forward(infer_job *j, const tg__rfast *fast, const json_t *req, json_t *send) {
    if (fast->on) {
        j->fwd = tg__rfast_splice(j->body, &fast->scan, req, send, &j->fwd_len);
    } else {
        j->fwd = tgx_json_dumps(send, JSON_COMPACT);
        j->fwd_len = j->fwd ? strlen(j->fwd) : 0;
    }
    json_decref(send);
    if (!j->fwd) job_error(j, 500, NULL, NULL, "out of memory writing the upstream request");
}

/* The body re-sent on escalation, as write_forward writes the first. */
static void write_escalated(infer_job *j, const tg__rfast *fast, const json_t *req, const json_t *escalated) {
    size_t elen = 0;
    char *e = fast->on ? tg__rfast_splice(j->body, &fast->scan, req, escalated, &elen)
                       : tgx_json_dumps(escalated, JSON_COMPACT);
    j->plan.escalated_body = e;
    j->plan.escalated_len = e ? (fast->on ? elen : strlen(e)) : 0;
    if (!e) j->plan.escalate_to = 0;
}

/* The fast path's counts for M (req_fast.h): 1 when they are there, from the
 * cache or, for an HF-dialect chat, counted cold from its bytes; 0: the
 * whole parse decides (and a model the cache covers fills it). The cache
 * covers a model counted here through its template, or one with neither a
 * tokenizer nor a template nor an engine count (its estimate), behind one
 * upstream. */
static int fast_counts_once(const infer_job *j, const tg__model *m, tg__rfast *fast) {
    int one = m->have_limits && tg__mc_n_urls(m->cfg) <= 1 && m->n_replicas <= 1;
    int fits = one && m->tok && m->chat;
    int est = one && !m->tok && !m->chat && !engine_counts(j, m, 1);
    if (!fits && !est) return 0;
    tg__rfast_key(fast, j->body, m->tok, m->chat, m->chat_dialect);
    if (tg__rfast_lookup(fast)) return 1;
    return !est && m->chat_dialect == TG_CHAT_HF &&
           tg__rfast_count_cold(fast, j->body, j->len, m->chat, tg__count_cache_for(m->tok));
}

/* fast_counts_once, sought once a decision (infer_lite's try, then the scanned tree's). */
static int fast_counts(const infer_job *j, const tg__model *m, tg__rfast *fast) {
    if (!fast->counted) fast->counted = fast_counts_once(j, m, fast) ? 1 : -1;
    return fast->counted > 0;
}

/* The fast path's first try: a plain chat that its decision forwards as it
 * came, decided on its scanned members with no tree at all (req_scan.h,
 * tg__req_lite; gateway/budget.h, tg__budget_decide_lite). Everything below
 * is what infer_once does with such a decision: no rewrite, no escalation,
 * no continuation read (no thinking, one upstream), the upstream's model name
 * the client's. 1: decided (J planned); 0: the scanned tree decides, as before. */
static int infer_lite(infer_job *j, tg__rfast *fast) {
    tg__req_lite q;
    if (!tg__request_parse_lite(j->body, &fast->scan, &q)) return 0;
    const char *name = q.r.model;
    const tg__model *m = tg__model_resolve(j->table, name);
    if (!m || m->settings.thinking_base) return 0; /* (fast_counts holds only with no engine count) */
    const char *up_name = upstream_name(m);
    if (up_name && (!name || strcmp(up_name, name) != 0)) return 0; /* the model renamed: a rewrite */
    if (!fast_counts(j, m, fast)) return 0;
    tg__budget b;
    tg_error berr;
    int decided = 0;
    tgx_buf h;
    char h_mem[512];
    tgx_buf_init_with(&h, h_mem, sizeof h_mem, 4096); /* the usual headers on the stack, then one allocation */
    if (tg__budget_decide_lite(m, &q, fast, &b, &decided, &h, &berr) != TG_OK || !decided ||
        !tg__rfast_spliceable(&b.dec, NULL) || !tg__rfast_accepts(fast, &b.dec.d)) {
        tgx_buf_free(&h);
        tg__budget_free(&b);
        return 0;
    }
    j->stream = q.r.stream;
    if (name) tg__access_set(j->log.model, sizeof j->log.model, name, strlen(name));
    j->m = m;
    if (fast->cold) tg__rfast_put_total(fast->key, fast->counts.total, fast->counts.n_items);
    count_line(j, &b, fast->hit && !fast->cold, &h); /* count_header's, onto the decision's lines */
    j->headers = tgx_buf_detach(&h, NULL);
    job_log_decision(j, &b);
    const tg_budget *bu = &b.dec.d.budget;
    j->plan.prompt_tokens = bu->prompt_tokens;
    j->plan.prompt_estimated = !bu->prompt_tokens_exact;
    j->plan.max_tokens = bu->max_tokens;
    j->plan.n_choices = q.have_n && q.n > 1 ? (uint64_t)q.n : 1;
    j->plan.escalate_to = bu->escalate_to;
    plan_think(&j->plan, m, name, bu);
    tg__esc_budget eb = {bu->prompt_tokens, bu->max_tokens, bu->escalate_to, bu->thinking_tokens, bu->thinking_disabled};
    json_t *send = NULL; /* nothing escalates, no thinking is cut, one replica: the plan reads no member */
    j->plan.cont = tg__escalation_plan(m, j->route == TG__R_CHAT, j->stream, NULL, &send, &eb);
    json_decref(send);
    const tg_decision *d = &b.dec.d; /* a lite decision holds nothing (budget.h): freed only should it */
    if (d->request || d->error || b.dec.escalated || b.headers || d->truncation.dropped_messages ||
        d->truncation.summary_messages || d->truncation.summary_ends || d->truncation.summary_end_tokens)
        tg__budget_free(&b);
    return 1;
}

/* One decision. FAST (req_fast.h): a chat read from its scanned bytes with
 * its counts from the whole-request cache; 1 when that could not decide it
 * (a cache miss, a model or a decision it does not cover): the caller runs
 * this again with fast->on 0 (the whole parse; a miss then fills the cache). */
static int infer_once(infer_job *j, tg__rfast *fast) {
    json_t *native = NULL;
    char *conv = NULL;
    int route = j->route;
    if (j->native && native_request(j, &native, &conv, &route) != 0) {
        json_decref(native);
        return 0;
    }
    /* One parse, the policy's (jansson parses ~17 MB/s: a second parse of a
     * long prompt would cost as much again). Its error says the status,
     * code and param to answer with. */
    if (fast->on && !native && infer_lite(j, fast)) return 0;
    tg_request r;
    tg_error perr;
    if (fast->on && tg__request_parse_scanned(j->body, &fast->scan, &r, &perr) != TG_OK) fast->on = 0;
    if (!fast->on && tg_request_parse_as(conv ? conv : j->body, conv ? strlen(conv) : j->len,
                                         route == TG__R_CHAT ? TG_REQ_CHAT : TG_REQ_COMPLETION, &r, &perr) != TG_OK) {
        job_fail(j, &perr);
        json_decref(native);
        free(conv);
        return 0;
    }
    int again = 0;
    json_t *req = r.root;
    const char *name = r.model;
    j->stream = r.stream;
    if (name) tg__access_set(j->log.model, sizeof j->log.model, name, strlen(name));
    const tg__model *m = tg__model_resolve(j->table, name);
    if (!m) {
        if (name)
            job_error(j, 404, "model_not_found", "model",
                      "The model '%s' does not exist or is not served by this gateway (GET /v1/models lists them)", name);
        else
            job_error(j, 400, "missing_required_parameter", "model", "'model' is required when more than one model is served");
        goto out;
    }
    j->m = m;
    if (fast->on && !fast_counts(j, m, fast)) {
        again = 1;
        goto out;
    }
    uint64_t etok = 0;
    if (engine_count(j, m, &r, route, &etok)) goto out; /* asked on the loop first (infer_done) */
    tg__budget b;
    tg_error berr;
    if (tg__budget_decide_fast(m, &r, etok, fast, &b, &berr) != TG_OK) {
        job_error(j, 500, NULL, NULL, "the budget decision failed: %s", berr.msg);
        goto out;
    }
    /* A decision the scanned request cannot carry is made on the whole chat
     * (the cache holds its counts): one that rewrote the conversation, or
     * one the escalation filter continues in place (it reads the whole
     * request: tg__escalation_plan's conditions). */
    int cont_reads = m->cont && (b.dec.d.budget.escalate_to ||
                                 (m->settings.thinking_base > 0 &&
                                  (b.dec.d.budget.thinking_tokens > 0 || b.dec.d.budget.thinking_disabled)));
    if (fast->on && (cont_reads || !tg__rfast_spliceable(&b.dec, req) || !tg__rfast_accepts(fast, &b.dec.d))) {
        if (fast->total_only) tg__rfast_drop_counts(fast); /* the whole count replaces the entry */
        else fast->have_key = 0;
        tg__budget_free(&b);
        again = 1;
        goto out;
    }
    if (fast->on && fast->cold) tg__rfast_put_total(fast->key, fast->counts.total, fast->counts.n_items);
    count_header(j, &b, fast->on && fast->hit && !fast->cold);
    j->headers = b.headers;
    b.headers = NULL;
    job_log_decision(j, &b);
    const tg_decision *d = &b.dec.d;
    if (b.decided && d->action == TG_ACTION_REJECT) {
        j->status = d->status;
        j->resp = tgx_json_dumps(d->error, JSON_COMPACT);
        snprintf(j->reason, sizeof j->reason, "%s", d->refusal.api.code[0] ? d->refusal.api.code : "policy");
        tg__budget_free(&b);
        goto out;
    }
    if (b.decided && d->truncation.summarize && !native && !j->sum) sum_plan(j, m, &r, d);
    json_t *send = b.decided && b.dec.rewritten ? json_incref(d->request) : NULL;
    json_t *escalated = b.dec.escalated;
    j->plan.prompt_tokens = d->budget.prompt_tokens;
    j->plan.prompt_estimated = b.decided && !d->budget.prompt_tokens_exact;
    j->plan.max_tokens = d->budget.max_tokens;
    if (tg__mc_n_urls(m->cfg) > 1) j->plan.route_key = tg__route_key(req); /* replicas: prefix affinity */
    json_t *nv = json_object_get(req, "n"); /* choices: each holds its own prompt and output in the KV cache */
    j->plan.n_choices = json_is_integer(nv) && json_integer_value(nv) > 1 ? (uint64_t)json_integer_value(nv) : 1;
    j->plan.escalate_to = d->budget.escalate_to;
    plan_think(&j->plan, m, name, &d->budget);
    const char *up_name = upstream_name(m);
    if (native) {
        native_forward(j, m, native, send ? send : req, d->budget.max_tokens,
                       up_name && (!name || strcmp(up_name, name) != 0) ? up_name : NULL);
        json_decref(send);
        tg__budget_free(&b);
        goto out;
    }
    if (up_name && (!name || strcmp(up_name, name) != 0)) {
        if (!send) send = fast->on ? json_copy(req) : json_incref(req); /* fast: req stays what the client sent */
        json_object_set_new(send, "model", json_string(up_name));
        if (escalated) json_object_set_new(escalated, "model", json_string(up_name));
    }
    if (escalated) write_escalated(j, fast, req, escalated);
    tg__esc_budget eb = {d->budget.prompt_tokens, d->budget.max_tokens, d->budget.escalate_to,
                         d->budget.thinking_tokens, d->budget.thinking_disabled};
    j->plan.cont = tg__escalation_plan(m, j->route == TG__R_CHAT, j->stream, req, &send, &eb);
    if (send) write_forward(j, fast, req, send);
    tg__budget_free(&b);
out:
    tg_request_free(&r);
    json_decref(native);
    free(conv);
    if (again) fast->on = 0;
    return again;
}

static void infer_work(tg__job *job) {
    infer_job *j = (infer_job *)job;
    tg__rfast fast;
    tg__rfast_begin(&fast, j->body, j->len, j->route == TG__R_CHAT && !j->native && !j->sum && !j->count_state);
    if (infer_once(j, &fast)) infer_once(j, &fast);
    tg__rfast_end(&fast);
}

/* POST /tokenize: {"model"?, "prompt": "..."} or {"model"?, "messages": [...]},
 * optional "add_special" (raw prompts; default true, as the server adds BOS)
 * and "with_pieces" (the ids and each token's text). Answers
 * {"model", "count", "exact", "method", "tokens"?, "pieces"?, "per_message"?}. */
static void tokenize_work(tg__job *job) {
    infer_job *j = (infer_job *)job;
    json_error_t je;
    json_t *req = j->len ? json_loadb(j->body, j->len, 0, &je) : NULL;
    if (!json_is_object(req)) {
        job_error(j, 400, "invalid_json", NULL, "request body must be a JSON object with \"prompt\" or \"messages\"");
        json_decref(req);
        return;
    }
    json_t *mv = json_object_get(req, "model");
    if (mv && !json_is_string(mv)) {
        job_error(j, 400, "invalid_type", "model", "'model' must be a string");
        goto out;
    }
    const tg__model *m = tg__model_resolve(j->table, json_string_value(mv));
    if (!m) {
        job_error(j, 404, "model_not_found", "model", "The model '%s' is not served by this gateway",
                  mv ? json_string_value(mv) : "(none given, and more than one is served)");
        goto out;
    }
    json_t *prompt = json_object_get(req, "prompt");
    json_t *msgs = json_object_get(req, "messages");
    int pieces = json_is_true(json_object_get(req, "with_pieces"));
    json_t *as = json_object_get(req, "add_special");
    json_t *res = json_object();
    json_object_set_new(res, "model", json_string(m->name ? m->name : "default"));
    tg_error err;
    if (json_is_string(prompt)) {
        const char *text = json_string_value(prompt);
        size_t tl = json_string_length(prompt);
        if (!m->tok) {
            uint64_t n = 0;
            tg_estimate_count(NULL, text, tl, &n, &err);
            json_object_set_new(res, "count", json_integer((json_int_t)n));
            json_object_set_new(res, "exact", json_false());
            json_object_set_new(res, "method", json_string("estimate (no tokenizer for this model)"));
        } else {
            tg_tokens t = {0};
            unsigned flags = as && json_is_false(as) ? 0u : (unsigned)TG_ENCODE_ADD_SPECIAL;
            if (tg_tokenizer_encode(m->tok, text, tl, flags, &t, &err) != TG_OK) {
                json_decref(res);
                job_error(j, 400, "invalid_request", "prompt", "%s", err.msg);
                goto out;
            }
            json_object_set_new(res, "count", json_integer((json_int_t)t.len));
            json_object_set_new(res, "exact", json_true());
            json_object_set_new(res, "method", json_string("tokenizer"));
            if (pieces) {
                json_t *ids = json_array(), *ps = json_array();
                for (size_t i = 0; i < t.len; i++) {
                    json_array_append_new(ids, json_integer(t.ids[i]));
                    char *txt = NULL;
                    size_t pl = 0;
                    if (tg_tokenizer_decode(m->tok, &t.ids[i], 1, 0, &txt, &pl, &err) == TG_OK) {
                        json_t *sv = json_stringn(txt, pl);
                        json_array_append_new(ps, sv ? sv : json_string("\xef\xbf\xbd")); /* a partial UTF-8 piece */
                        tg_text_free(txt);
                    } else json_array_append_new(ps, json_null());
                }
                json_object_set_new(res, "tokens", ids);
                json_object_set_new(res, "pieces", ps);
            }
            tg_tokens_free(&t);
        }
    } else if (json_is_array(msgs)) {
        /* Counted as the budget path counts it (tg_budget_count). */
        tg_request r;
        if (tg_request_parse_as(j->body, j->len, TG_REQ_CHAT, &r, &err) != TG_OK) {
            json_decref(res);
            job_fail(j, &err);
            goto out;
        }
        tg_budget_model bm;
        tg__budget_model(m, &bm);
        tg_prompt_counts pc;
        tg_count_method how = TG_COUNT_ESTIMATE;
        tg_status st = tg_budget_count(&r, &bm, &pc, &how, NULL, 0, &err);
        tg_request_free(&r);
        if (st != TG_OK) {
            json_decref(res);
            job_error(j, 400, "invalid_request", "messages", "%s", err.msg);
            goto out;
        }
        json_object_set_new(res, "count", json_integer((json_int_t)pc.total));
        json_object_set_new(res, "exact", json_boolean(pc.exact));
        json_object_set_new(res, "method", json_string(how == TG_COUNT_TEMPLATE ? "chat template rendered, then tokenizer"
                                                      : how == TG_COUNT_TOKENIZER ? "tokenizer per message + template overhead estimate"
                                                                                  : "estimate (no tokenizer for this model)"));
        json_t *per = json_array();
        for (size_t i = 0; i < pc.n_items; i++) json_array_append_new(per, json_integer((json_int_t)pc.items[i]));
        json_object_set_new(res, "per_message", per);
        tg_prompt_counts_free(&pc);
    } else {
        json_decref(res);
        job_error(j, 400, "missing_required_parameter", "prompt", "give \"prompt\" (a string) or \"messages\" (an array)");
        goto out;
    }
    j->status = 200;
    j->resp = tgx_json_dumps(res, JSON_COMPACT);
    json_decref(res);
out:
    json_decref(req);
}

static void sum_free(sumjob *sj) {
    if (!sj) return;
    tg__sum_cancel(sj->call);
    if (sj->defer) event_free(sj->defer);
    json_decref(sj->root);
    free(sj->msgs);
    free(sj->ends);
    free(sj->end_tokens);
    free(sj->keys);
    free(sj->call_body);
    free(sj->text);
    free(sj->fwd);
    free(sj->headers);
    free((char *)(uintptr_t)sj->plan.escalated_body);
    tg__cont_free(sj->plan.cont);
    free(sj);
}

static void infer_free(infer_job *j) {
    sum_free(j->sum);
    if (j->wait_ev) event_free(j->wait_ev);
    tg__ecount_cancel(j->counting);
    json_decref(j->count_req);
    tg__table_unref(j->table);
    body_free(j);
    free(j->resp);
    free(j->fwd);
    free(j->headers);
    free((char *)(uintptr_t)j->plan.escalated_body);
    tg__cont_free(j->plan.cont);
    tg__pools *ps = j->pools;
    if (ps->n_spare_job < TG__POOLS_SPARES) ps->spare_job[ps->n_spare_job++] = j; /* kept for the next (serve_job clears it) */
    else free(j);
}

/* The job's view of the request, into the client's access line. */
static void access_from_job(tg__client *c, const infer_job *j) {
    tg__access *a = &c->log;
    if (j->log.model[0]) memcpy(a->model, j->log.model, sizeof a->model);
    else if (j->m) tg__access_set(a->model, sizeof a->model, tg__model_id(j->m), strlen(tg__model_id(j->m)));
    if (j->log.error[0]) memcpy(a->error, j->log.error, sizeof a->error);
    a->decision = j->log.decision;
    a->have_budget = j->log.have_budget;
    a->prompt_tokens = j->log.prompt_tokens;
    a->prompt_exact = j->log.prompt_exact;
    a->max_tokens = j->log.max_tokens;
    a->max_tokens_source = j->log.max_tokens_source;
    a->count_source = j->log.count_source;
}

/* The request goes to m's upstream now: the access line's upstream and clock. */
static void access_upstream(tg__client *c, const tg__model *m) {
    const char *hp = m->cfg->url.hostport ? m->cfg->url.hostport : "";
    tg__access_set(c->log.upstream, sizeof c->log.upstream, hp, strlen(hp));
    c->log.t_upstream = tg__log_access_on() ? tg__now() : 0; /* only the access line reads it */
}

/* 1 while every upstream has not answered discovery yet (a model named
 * in a request may not be listed yet). */
static int discovery_pending(const tg__server *s) {
    const tg__model_table *t = s->table;
    if (!t || !t->n || (t->cfg && t->n < t->cfg->n_models)) return 1;
    for (size_t i = 0; i < t->n; i++) {
        const tg__upinfo *u = tg__upinfo_find(s, t->v[i].pool->key);
        if (!u || !u->ok) return 1;
    }
    return 0;
}

/* The job's model has no limits yet, or its name is not served while
 * discovery has not finished: it must not go upstream without a budget. */
static int limits_pending(const infer_job *j) {
    if (j->status == 0) return j->m && !j->m->have_limits;
    return j->status == 404 && !strcmp(j->log.error, "model_not_found") && discovery_pending(j->c->srv);
}

static void job_reset(infer_job *j) {
    free(j->resp);
    free(j->fwd);
    free(j->headers);
    free((char *)(uintptr_t)j->plan.escalated_body);
    tg__cont_free(j->plan.cont);
    j->resp = j->fwd = j->headers = NULL;
    j->fwd_len = 0;
    j->status = 0;
    j->reason[0] = '\0';
    j->m = NULL;
    j->stream = 0;
    memset(&j->plan, 0, sizeof j->plan);
    memset(&j->log, 0, sizeof j->log);
}

/* The wait ran out: 503 with Retry-After, never forwarded unbudgeted. */
static void limits_unknown(infer_job *j) {
    const tg__model *m = j->m;
    char name[200];
    snprintf(name, sizeof name, "%s", j->log.model[0] ? j->log.model : m ? tg__model_id(m) : "(default)");
    job_reset(j);
    tg__access_set(j->log.model, sizeof j->log.model, name, strlen(name));
    j->log.decision = NULL;
    job_error(j, 503, "model_not_ready", "model",
              "the limits of model '%s' are not known yet (discovery of its upstream has not finished within %.1f s; "
              "GET /readyz says why): retry shortly",
              name, j->c->cfg->discovery_wait);
    j->retry_after = 2; /* discovery asks again within 2 s while an upstream has not answered */
}

static void infer_done(tg__job *job);

static void wait_abandon(tg__job *job) { infer_free((infer_job *)job); }

static void wait_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    infer_job *j = arg;
    j->job.abandon = NULL;
    if (!j->job.cancelled && j->c->srv->table && j->c->srv->table != j->table) { /* discovery rebuilt it */
        job_reset(j);
        tg__table_unref(j->table);
        j->table = j->c->srv->table;
        tg__table_ref(j->table);
        j->job.work(&j->job);
    }
    infer_done(&j->job);
}

/* Discovery wait (timeouts.discovery_wait): 1 while the job waits (the
 * client keeps it as its job, so a client that leaves cancels it). */
static int wait_for_limits(infer_job *j) {
    if (!limits_pending(j)) return 0;
    tg__client *c = j->c;
    double now = tg__now();
    if (j->wait_until == 0) j->wait_until = now + c->cfg->discovery_wait;
    if (now < j->wait_until && (j->wait_ev || (j->wait_ev = evtimer_new(c->srv->base, wait_tick, j)))) {
        struct timeval tv = {0, 50000};
        evtimer_add(j->wait_ev, &tv);
        c->job = &j->job;
        j->job.abandon = wait_abandon; /* the client leaving frees it (even at exit) */
        return 1;
    }
    limits_unknown(j);
    return 0;
}

/* ---- truncation summarize on the loop (sumjob, above) ------------------- */

/* Appends header lines to j->headers. */
static void add_headers(infer_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_headers(infer_job *j, const char *fmt, ...) {
    tgx_buf b;
    tgx_buf_init(&b, SIZE_MAX);
    if (j->headers) tgx_buf_puts(&b, j->headers);
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    tgx_buf_puts(&b, line);
    char *h = tgx_buf_putc(&b, '\0') == TG_OK ? tgx_buf_detach(&b, NULL) : NULL;
    if (!h) {
        tgx_buf_free(&b);
        return; /* out of memory: the lines are left out */
    }
    free(j->headers);
    j->headers = h;
}

/* No summary: the fallback (in j) goes out, and says why. */
static void sum_fallback(infer_job *j, int result) {
    sumjob *sj = j->sum;
    tg__server *s = j->c->srv;
    sj->state = SUM_DONE;
    s->metrics.summaries[result]++;
    char why[sizeof sj->why];
    size_t n = 0;
    for (const char *p = sj->why; *p && n + 1 < sizeof why; p++) /* one line of printable ASCII */
        why[n++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
    why[n] = '\0';
    add_headers(j, "x-tokgate-truncation: drop_oldest_turns\r\nx-tokgate-summary: fallback\r\n"
                   "x-tokgate-summary-fallback: %s\r\n", why);
    tg__log(s, TG__LOG_WARN, "truncation summarize for model %s fell back to drop_oldest_turns: %s",
            j->m ? tg__model_id(j->m) : "-", why);
}

/* The phase-2 decision's results, given up for the fallback set aside. */
static void sum_restore(infer_job *j) {
    sumjob *sj = j->sum;
    free(j->resp);
    free(j->fwd);
    free(j->headers);
    free((char *)(uintptr_t)j->plan.escalated_body);
    tg__cont_free(j->plan.cont);
    j->resp = NULL;
    j->status = 0;
    j->reason[0] = '\0';
    j->fwd = sj->fwd;
    j->fwd_len = sj->fwd_len;
    j->headers = sj->headers;
    j->plan = sj->plan;
    j->log = sj->log;
    sj->fwd = sj->headers = NULL;
    memset(&sj->plan, 0, sizeof sj->plan);
}

/* The summary's own tokens: the model's tokenizer, else the estimator. */
static uint64_t summary_count(const tg__model *m, const char *text) {
    uint64_t n = 0;
    size_t len = text ? strlen(text) : 0;
    tg_error e;
    if (m && m->tok) {
        tg_tokens t = {0};
        if (tg_tokenizer_encode(m->tok, text ? text : "", len, 0, &t, &e) == TG_OK) n = t.len;
        tg_tokens_free(&t);
        return n;
    }
    tg_estimate_count(NULL, text ? text : "", len, &n, &e);
    return n;
}

/* The compacted chat was decided: it fits (sent, with what was summarized
 * said), or it was refused (the fallback is sent). */
static void sum_redecided(infer_job *j) {
    sumjob *sj = j->sum;
    tg__server *s = j->c->srv;
    if (j->status != 0) {
        uint64_t n = j->log.prompt_tokens;
        sum_restore(j);
        snprintf(sj->why, sizeof sj->why, "the compacted chat (%llu tokens) does not fit", (unsigned long long)n);
        sum_fallback(j, TG__SUM_UNFIT);
        return;
    }
    sj->state = SUM_DONE;
    s->metrics.summaries[sj->hit ? TG__SUM_HIT : TG__SUM_MADE]++;
    uint64_t now = j->plan.prompt_tokens, after = summary_count(j->m, sj->text);
    char *t = j->headers ? strstr(j->headers, "x-tokgate-truncated: 0") : NULL;
    if (t) t[sizeof "x-tokgate-truncated: " - 1] = '1'; /* the compacted chat was decided as it came */
    add_headers(j, "x-tokgate-truncation: summarize\r\nx-tokgate-summary: %s\r\nx-tokgate-summarized-turns: %zu\r\n"
                   "x-tokgate-summarized-messages: %zu\r\nx-tokgate-summary-tokens: %llu->%llu\r\n"
                   "x-tokgate-prompt-tokens-before: %llu\r\n",
                sj->hit ? "hit" : "miss", sj->n_turns, sj->n_msgs, (unsigned long long)sj->tokens,
                (unsigned long long)after, (unsigned long long)sj->before);
    j->log.decision = "summarize";
    tg__log(s, TG__LOG_INFO, "truncation summarize for model %s: %zu turns (%zu messages, %llu tokens) -> %llu tokens "
            "(cache %s); prompt %llu -> %llu tokens", tg__model_id(j->m), sj->n_turns, sj->n_msgs,
            (unsigned long long)sj->tokens, (unsigned long long)after, sj->hit ? "hit" : "miss",
            (unsigned long long)sj->before, (unsigned long long)now);
    free(sj->fwd); /* the fallback is not needed */
    free(sj->headers);
    free((char *)(uintptr_t)sj->plan.escalated_body);
    tg__cont_free(sj->plan.cont);
    sj->fwd = sj->headers = NULL;
    memset(&sj->plan, 0, sizeof sj->plan);
}

/* With the summary TEXT: the compacted chat becomes the body and is decided
 * again (on a worker for a large one). 1: resubmitted (j is no longer the
 * caller's), 0: fell back. */
static int sum_compact(infer_job *j, const char *text) {
    sumjob *sj = j->sum;
    tg_error e;
    json_t *cj = tg_summary_compact(sj->root, sj->msgs, sj->n_msgs, text, NULL, NULL, NULL, &e);
    char *body = NULL;
    int built = cj != NULL;
    if (cj && json_object_set_new(cj, "truncation", json_string("disabled")) == 0)
        body = tgx_json_dumps(cj, JSON_COMPACT);
    json_decref(cj);
    if (!body) {
        snprintf(sj->why, sizeof sj->why, "the compacted chat could not be built: %.400s",
                 built ? "out of memory" : e.msg);
        sum_fallback(j, TG__SUM_UNFIT);
        return 0;
    }
    sj->fwd = j->fwd; /* the fallback, aside */
    sj->fwd_len = j->fwd_len;
    sj->headers = j->headers;
    sj->plan = j->plan;
    sj->log = j->log;
    j->fwd = j->headers = NULL;
    j->fwd_len = 0;
    memset(&j->plan, 0, sizeof j->plan);
    memset(&j->log, 0, sizeof j->log);
    body_free(j);
    j->body = body;
    j->len = strlen(body);
    j->m = NULL;
    j->stream = 0;
    sj->state = SUM_REDECIDING;
    j->count_state = 0; /* an engine count was of the whole chat: the compacted one is asked anew */
    j->count_hit = 0;
    tg__client *c = j->c;
    c->job = &j->job;
    j->job.abandon = NULL;
    tg__workers_submit(j->len > c->cfg->inline_max ? c->srv->workers : NULL, &j->job);
    return 1;
}

/* The call's end, off its callback: compact, or fall back. */
static void sum_called(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    infer_job *j = arg;
    sumjob *sj = j->sum;
    j->job.abandon = NULL;
    if (!sj->text) {
        sum_fallback(j, TG__SUM_FAILED);
    } else {
        tg__sum_cache_put(j->c->srv, sj->key, sj->text);
        if (sum_compact(j, sj->text)) return;
    }
    infer_done(&j->job);
}

static void sum_on_call(void *ud, char *text, const char *why) {
    infer_job *j = ud;
    sumjob *sj = j->sum;
    sj->call = NULL;
    sj->text = text;
    if (!text) snprintf(sj->why, sizeof sj->why, "%s", why ? why : "the summary call failed");
    struct timeval now = {0, 0};
    evtimer_add(sj->defer, &now);
}

static void sum_abandon(tg__job *job) { infer_free((infer_job *)job); }

/* infer_done's step for a job with a summary plan. 1: the job waits for
 * the call or is decided again (infer_done comes back); 0: go on with what
 * the job holds (the fallback when no summary is used). */
static int sum_step(infer_job *j) {
    sumjob *sj = j->sum;
    tg__server *s = j->c->srv;
    if (sj->state == SUM_REDECIDING) {
        sum_redecided(j);
        return 0;
    }
    if (j->status != 0) { /* refused or failed before: nothing to summarize */
        sj->state = SUM_DONE;
        return 0;
    }
    if (!sj->call_body) {
        sum_fallback(j, TG__SUM_UNFIT);
        return 0;
    }
    const char *cached = NULL;
    for (size_t i = sj->n_ends; i-- > 0 && !cached;) /* the longest prefix summarized before */
        if ((cached = tg__sum_cache_get(s, sj->keys[i])) != NULL && i + 1 < sj->n_ends) {
            sj->n_msgs = sj->ends[i];
            sj->n_turns = sj->n_turns - (sj->n_ends - 1 - i);
            sj->tokens = sj->end_tokens[i];
        }
    if (cached) {
        sj->hit = 1;
        sj->text = strdup(cached); /* for its count; NULL (out of memory) counts 0 */
        return sum_compact(j, cached);
    }
    if (!sj->defer) sj->defer = evtimer_new(s->base, sum_called, j);
    sj->call = sj->defer ? tg__sum_call(s, j->m, sj->call_body, strlen(sj->call_body), sum_on_call, j) : NULL;
    if (!sj->call) {
        snprintf(sj->why, sizeof sj->why, "out of memory starting the summary call");
        sum_fallback(j, TG__SUM_FAILED);
        return 0;
    }
    s->metrics.summary_calls++;
    sj->state = SUM_CALLING;
    j->c->job = &j->job;
    j->job.abandon = sum_abandon; /* a client that leaves cancels the call */
    return 1;
}

static void count_abandon(tg__job *job) { infer_free((infer_job *)job); }

/* The engine's count came (count > 0) or did not (why): the job decides
 * again with it, on a worker for a large body as the first time. */
static void count_done(void *ud, uint64_t count, const char *why) {
    infer_job *j = ud;
    j->counting = NULL;
    j->job.abandon = NULL;
    j->count_ms = (tg__now() - j->count_ms) * 1000.0;
    if (count) {
        j->count_state = 1;
        j->count_tokens = count;
        tg__ecount_store(&j->count_key, count);
    } else {
        j->count_state = 2;
        snprintf(j->count_why, sizeof j->count_why, "%s", why ? why : "no count");
        tg__log(j->c->srv, TG__LOG_WARN, "model %s: the engine's prompt count failed (%s); the prompt is estimated",
                tg__model_id(j->m), j->count_why);
    }
    job_reset(j);
    tg__workers_submit(j->len > j->c->cfg->inline_max ? j->c->srv->workers : NULL, &j->job);
}

/* work() left a count request: sent now; 1 while the job waits for it (the
 * client keeps it as its job: one that leaves cancels the round trip). */
static int ask_engine(infer_job *j) {
    tg__client *c = j->c;
    char *body = tgx_json_dumps(j->count_req, JSON_COMPACT);
    json_decref(j->count_req);
    j->count_req = NULL;
    j->count_ms = tg__now();
    j->counting = body ? tg__ecount_start(c->srv, j->m, &j->count_key, body, strlen(body),
                                          c->cfg->engine_count_timeout, count_done, j)
                       : NULL;
    free(body);
    if (!j->counting) { /* out of memory: decided on the estimate */
        j->count_state = 2;
        snprintf(j->count_why, sizeof j->count_why, "out of memory");
        job_reset(j);
        j->job.work(&j->job);
        return 0;
    }
    c->job = &j->job;
    j->job.abandon = count_abandon;
    return 1;
}

static void infer_done(tg__job *job) {
    infer_job *j = (infer_job *)job;
    if (job->cancelled) {
        infer_free(j);
        return;
    }
    tg__client *c = j->c;
    if (wait_for_limits(j)) return;
    if (j->count_req && ask_engine(j)) return;
    if (j->sum && j->sum->state != SUM_DONE && sum_step(j)) return;
    c->job = NULL;
    j->log.decision = j->log.decision ? j->log.decision : j->route == TG__R_TOKENIZE ? "local" : "forward";
    access_from_job(c, j);
    if (j->status) {
        if (j->reason[0]) tg__metrics_refusal(&c->srv->metrics, j->reason);
        const char *r = j->resp ? j->resp : "{\"error\":{\"message\":\"out of memory\",\"type\":\"server_error\"}}";
        char ra[32];
        snprintf(ra, sizeof ra, "Retry-After: %d\r\n", j->retry_after);
        tg__client_respond(c, j->status, "application/json", r, strlen(r),
                           j->retry_after ? ra : j->reason[0] ? j->headers : NULL);
    } else {
        const tg__model *m = j->m; /* its limits are known (wait_for_limits) */
        access_upstream(c, m);
        tg__proxy_start(c, m, m->cfg, m->pool, j->fwd ? j->fwd : j->body, j->fwd ? j->fwd_len : j->len, &j->plan,
                        j->stream, j->headers);
    }
    infer_free(j);
}

/* What serve_job clears of a job: a size the compiler cannot see, so the
 * clearing is libc's vector memset (~50 instructions), not an inlined
 * `rep stos` of one instruction per 8 bytes (~175). */
static volatile size_t job_clear = offsetof(infer_job, body_mem);

static void serve_job(tg__client *c, void (*work)(tg__job *), int native) {
    /* the last jobs' memory when kept (infer_free): a 1.4 KiB calloc skips
     * glibc's per-thread cache and costs ~5x the memset (issue 17) */
    tg__pools *ps = &c->srv->pools;
    infer_job *j = ps->n_spare_job ? ps->spare_job[--ps->n_spare_job] : malloc(sizeof *j);
    if (j) memset(j, 0, job_clear); /* as calloc's, but for the body's room */
    size_t len = evbuffer_get_length(c->body);
    if (j) j->body = len <= sizeof j->body_mem ? j->body_mem : malloc(len);
    if (!j || !j->body) {
        free(j);
        tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory");
        return;
    }
    evbuffer_remove(c->body, j->body, len);
    j->len = len;
    j->c = c;
    j->pools = &c->srv->pools;
    j->route = c->route;
    j->native = native;
    j->table = c->srv->table;
    tg__table_ref(j->table);
    j->job.work = work;
    j->job.done = infer_done;
    c->job = &j->job;
    tg__workers_submit(len > c->cfg->inline_max ? c->srv->workers : NULL, &j->job);
}

static void method_not_allowed(tg__client *c, const char *allow) {
    char msg[128];
    snprintf(msg, sizeof msg, "method %.*s is not allowed here; use %s", (int)c->req.method_len, c->req.method, allow);
    char *j = tg_error_body_text(msg, "invalid_request_error", "method_not_allowed", NULL);
    char hdr[64];
    snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
    tg__client_respond(c, 405, "application/json", j ? j : "{}", j ? strlen(j) : 2, hdr);
    free(j);
}

/* The routes tokgate answers itself, before the engine's (engine.h
 * native_routes: budgeted, refused, passed through or admin). */
static const struct {
    const char *path;
    int route;
    const char *allow;
} route_table[] = {
    {"/v1/chat/completions", TG__R_CHAT, "POST"}, {"/v1/completions", TG__R_COMPLETIONS, "POST"},
    {"/v1/models", TG__R_MODELS, "GET"},          {"/api.json", TG__R_API_JSON, "GET"},
    {"/v1/limits", TG__R_LIMITS, "GET"},          {"/metrics", TG__R_METRICS, "GET"},
    {"/healthz", TG__R_HEALTHZ, "GET"},           {"/tokenize", TG__R_TOKENIZE, "POST"},
    {"/readyz", TG__R_READYZ, "GET"},             {"/status", TG__R_STATUS, "GET"},
    {"/v1/models/", TG__R_MODELS, "GET"}, /* a path ending in '/': a prefix, /v1/models/{id} */
};

static int own_route(const char *p, size_t pl, tg__route_hit *out) {
    for (size_t i = 0; i < sizeof route_table / sizeof route_table[0]; i++) {
        const char *rp = route_table[i].path;
        size_t rl = strlen(rp);
        int match = rp[rl - 1] == '/' ? pl > rl && memcmp(p, rp, rl) == 0 : path_is(p, pl, rp);
        if (match) {
            out->allow = route_table[i].allow;
            out->route = route_table[i].route;
            return 1;
        }
    }
    return 0;
}

void tg__route_lookup(const tg__config *cfg, const tg__engine *e, const char *target, size_t n, const char *method,
                      size_t method_len, tg__route_hit *out) {
    const char *q = memchr(target, '?', n);
    size_t pl = q ? (size_t)(q - target) : n;
    memset(out, 0, sizeof *out);
    out->route = TG__R_NONE;
    out->kind = TG__ROUTE_UNKNOWN;
    if (own_route(target, pl, out)) {
        out->kind = TG__ROUTE_OWN;
        return;
    }
    for (size_t i = 0; cfg && i < cfg->n_passthrough_paths; i++)
        if (path_is(target, pl, cfg->passthrough_paths[i])) {
            out->kind = TG__ER_PASS;
            out->route = TG__R_PASSTHROUGH;
            return;
        }
    int wrong = 0;
    const tg__engine_route *r = tg__engine_route_find(e, target, pl, method, method_len, &wrong);
    if (!r) return;
    out->kind = r->kind;
    out->allow = r->method;
    out->instead = r->instead;
    out->wrong_method = wrong;
    if (wrong) return;
    if (r->kind == TG__ER_CHAT || r->kind == TG__ER_NATIVE_CHAT) out->route = TG__R_CHAT;
    else if (r->kind == TG__ER_NATIVE_COMPLETION) out->route = TG__R_COMPLETIONS;
    else if (r->kind == TG__ER_COMPLETION) out->route = TG__R_COMPLETIONS;
    else if (r->kind == TG__ER_PASS || r->kind == TG__ER_ADMIN) out->route = TG__R_PASSTHROUGH;
}

int tg__api_key_ok(const tg__config *cfg, const char *key, size_t len) { return key_ok(cfg, key, len); }

/* A header value fit to be sent back in a header: visible ASCII and spaces. */
static int header_safe(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) return 0;
    return n > 0;
}

/* CORS (cors_origins): a request whose Origin is configured (or "*" is)
 * gets Access-Control-Allow-Origin on its answer, whatever the answer; any
 * other origin gets no CORS header, so the browser withholds the answer. */
static int cors_allowed(tg__client *c, const tg__http_header **origin) {
    const tg__http_header *o = tg__http_find(&c->req, "origin");
    *origin = o;
    if (!o || !header_safe(o->value, o->value_len)) return 0;
    for (size_t i = 0; i < c->cfg->n_cors_origins; i++) {
        const char *want = c->cfg->cors_origins[i];
        if (!strcmp(want, "*") || (strlen(want) == o->value_len && !memcmp(want, o->value, o->value_len))) return 1;
    }
    return 0;
}

static void cors_begin(tg__client *c) {
    const tg__http_header *o;
    if (!cors_allowed(c, &o)) return;
    c->cors = tg__arena_printf(&c->arena,
                               "Access-Control-Allow-Origin: %.*s\r\nVary: Origin\r\n"
                               "Access-Control-Expose-Headers: *\r\n",
                               (int)o->value_len, o->value);
}

/* OPTIONS on any path: a CORS preflight from an allowed origin is answered
 * 204 with the methods, the headers it asked for and how long to cache it;
 * any other OPTIONS gets 204 with Allow and no CORS header. No key needed
 * (a browser's preflight never carries one). */
static void options(tg__client *c) {
    const tg__http_header *rh = tg__http_find(&c->req, "access-control-request-headers");
    char hdr[1400];
    int n = snprintf(hdr, sizeof hdr, "Allow: GET, HEAD, POST, OPTIONS\r\n");
    if (c->cors && tg__http_find(&c->req, "access-control-request-method")) {
        n += snprintf(hdr + n, sizeof hdr - (size_t)n,
                      "Access-Control-Allow-Methods: GET, HEAD, POST, OPTIONS\r\nAccess-Control-Max-Age: 86400\r\n");
        if (rh && rh->value_len < 1000 && header_safe(rh->value, rh->value_len))
            snprintf(hdr + n, sizeof hdr - (size_t)n, "Access-Control-Allow-Headers: %.*s\r\n", (int)rh->value_len,
                     rh->value);
    }
    tg__client_respond(c, 204, "text/plain", "", 0, hdr);
}

/* The request target in its canonical spelling (path.h) replaces the
 * client's: what is routed is what the upstream gets. 0, or -1 answered. */
static int normalize_target(tg__client *c) {
    size_t n = c->req.target_len;
    char *out = tg__arena_alloc(&c->arena, n + 2);
    const char *why = "out of memory";
    int models_id = n > 11 && !memcmp(c->req.target, "/v1/models/", 11); /* an id may hold %2F */
    long len = out ? tg__path_normalize(c->req.target, n, out, n + 2, models_id, &why) : -1;
    if (len >= 0 && models_id && ((size_t)len < 11 || memcmp(out, "/v1/models/", 11) != 0)) /* it left the route */
        len = tg__path_normalize(c->req.target, n, out, n + 2, 0, &why);
    if (len < 0) {
        tg__client_error(c, 400, "invalid_request_error", "invalid_path", NULL, "invalid request path: %s", why);
        return -1;
    }
    c->req.target = out;
    c->req.target_len = (size_t)len;
    const char *q = memchr(out, '?', (size_t)len);
    tg__access_set(c->log.path, sizeof c->log.path, out, q ? (size_t)(q - out) : (size_t)len);
    return 0;
}

/* The engine whose routes apply: the default model's (the one a path
 * without a model reaches); NULL before discovery names one (every
 * adapter's table then). */
static const tg__model *default_model(const tg__client *c) {
    const tg__model_table *tab = c->srv->table;
    const tg__model *m = tg__model_resolve(tab, NULL);
    if (!m && tab && tab->n) m = &tab->v[0];
    return m;
}

/* A path tokgate does not serve: unknown, refused (it generates and has no
 * budget here), or an admin route not allowed. 1 when answered. */
static int refuse_route(tg__client *c, const tg__route_hit *h) {
    c->log.decision = "reject";
    int pl = (int)(c->req.target_len < 200 ? c->req.target_len : 200);
    const char *q = memchr(c->req.target, '?', (size_t)pl);
    if (q) pl = (int)(q - c->req.target);
    const char *p = c->req.target;
    if (h->kind == TG__ROUTE_UNKNOWN) {
        tg__client_error(c, 404, "invalid_request_error", "route_not_found", NULL,
                         "no route %.*s here: tokgate serves /v1/chat/completions, /v1/completions, /v1/models and "
                         "the engine's non-generating routes (docs/gateway.md, Routes)", pl, p);
        return 1;
    }
    if (h->kind == TG__ER_REFUSE) {
        if (h->instead)
            tg__client_error(c, 403, "invalid_request_error", "route_not_budgeted", NULL,
                             "%.*s generates without a token budget through tokgate; use POST %s", pl, p, h->instead);
        else
            tg__client_error(c, 403, "invalid_request_error", "route_not_budgeted", NULL,
                             "%.*s generates without a token budget through tokgate and is not served", pl, p);
        return 1;
    }
    if (h->kind == TG__ER_ADMIN && !c->cfg->allow_admin_routes) {
        tg__client_error(c, 403, "invalid_request_error", "admin_route_disabled", NULL,
                         "%.*s %.*s changes the engine's state and is disabled (allow_admin_routes enables it)",
                         (int)c->req.method_len, c->req.method, pl, p);
        return 1;
    }
    c->log.decision = NULL;
    return 0;
}

/* A path the default model's engine does not serve may be another served
 * model's native generating route (Ollama's /api/chat behind a second
 * section): those are resolved by the body's model, so they are taken;
 * pass-through routes are not (they would go to the default upstream). */
static void route_other_engines(const tg__client *c, const tg__engine *e0, tg__route_hit *h) {
    const tg__model_table *t = c->srv->table;
    for (size_t i = 0; t && i < t->n && h->kind == TG__ROUTE_UNKNOWN; i++) {
        const tg__engine *e = t->v[i].engine;
        if (!e || e == e0) continue;
        tg__route_hit o;
        tg__route_lookup(c->cfg, e, c->req.target, c->req.target_len, c->req.method, c->req.method_len, &o);
        if (o.kind == TG__ER_NATIVE_CHAT || o.kind == TG__ER_NATIVE_COMPLETION) *h = o;
    }
}

static void passthrough(tg__client *c, const tg__model *m) {
    if (!m) {
        tg__client_error(c, 503, "server_error", NULL, NULL, "no upstream configured");
        return;
    }
    c->log.decision = "passthrough";
    access_upstream(c, m);
    tg__proxy_start(c, m, m->cfg, m->pool, NULL, evbuffer_get_length(c->body), NULL, 0, NULL); /* c->body, moved */
}

void tg__route_dispatch(tg__client *c) {
    cors_begin(c);
    if (method_is(c, "OPTIONS")) {
        options(c);
        return;
    }
    if (normalize_target(c) != 0) return;
    const tg__model *m = default_model(c);
    tg__route_hit h;
    tg__route_lookup(c->cfg, m ? m->engine : NULL, c->req.target, c->req.target_len, c->req.method, c->req.method_len,
                     &h);
    if (h.kind == TG__ROUTE_UNKNOWN && m) route_other_engines(c, m->engine, &h);
    int route = h.route;
    c->route = route;
    int keyless = route == TG__R_HEALTHZ || route == TG__R_READYZ || route == TG__R_STATUS || (route == TG__R_API_JSON && !c->cfg->private_catalog);
    if (!keyless && !authorized(c)) {
        tg__client_error(c, 401, "invalid_request_error", "invalid_api_key", NULL,
                         "missing or incorrect API key: send it as 'Authorization: Bearer KEY'");
        return;
    }
    if (h.wrong_method) {
        method_not_allowed(c, h.allow);
        return;
    }
    if (refuse_route(c, &h)) return;
    if (route == TG__R_PASSTHROUGH) {
        passthrough(c, m);
        return;
    }
    int is_get = method_is(c, "GET") || method_is(c, "HEAD");
    int is_post = method_is(c, "POST");
    if ((h.allow[0] == 'G' && !is_get) || (h.allow[0] == 'P' && !is_post)) {
        method_not_allowed(c, h.allow);
        return;
    }
    switch (route) {
    case TG__R_CHAT:
    case TG__R_COMPLETIONS: serve_job(c, infer_work, h.kind >= TG__ER_NATIVE_CHAT ? h.kind : 0); return;
    case TG__R_TOKENIZE: serve_job(c, tokenize_work, 0); return;
    default:
        c->log.decision = "local";
        serve_local(c, route);
        return;
    }
}
