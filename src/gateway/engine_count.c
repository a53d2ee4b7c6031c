/*
 * gateway/engine_count.c: prompt counts from the serving engine itself (see
 * engine_count.h; issue 19). Two parts:
 *   the cache    a fixed open-addressed table of (128-bit key -> count),
 *                shared by the loop and the worker threads under a mutex
 *                (a lookup is a few dozen nanoseconds against a round trip
 *                of milliseconds). The key hashes the upstream's pool key
 *                and the count request's canonical JSON (sorted keys), so
 *                the same conversation, resent, retried or counted again
 *                for its continuation, costs no round trip; an agent's next
 *                turn (a new suffix) costs one. A full table forgets its
 *                oldest slot on collision (the next ask refills it).
 *   the request  one POST to the model's upstream through its pool (a
 *                request for a count already in flight waits on it: the
 *                same conversation sent twice at once costs one round trip)
 *                (upstream.h; not counted under upstream_max_connections,
 *                like discovery's probes: a count must not queue behind the
 *                generations it decides on), its answer collected up to 64 MiB (vLLM
 *                answers every id of the prompt too) and read by the
 *                engine's hook.
 * Every failure (connect, timeout, non-200, unreadable answer) reports why;
 * the caller keeps the estimate and says so. An upstream that answers the
 * count path 404, 405 or 501 has no such route (an OpenAI-compatible server
 * taken for vLLM by its max_model_len): it is not asked again. One that
 * answers it 200 with a body that is not a count (a proxy's catch-all, e.g.
 * nginx's `return 200`) is treated the same way for ECOUNT_RETRY_S seconds,
 * then asked again (it may have been fixed or redeployed): without that, every
 * request paid a round trip that could not succeed.
 */
#include "gateway/engine_count.h"

#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/engine.h"
#include "gateway/log.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "util/buf.h"

#define ECOUNT_SLOTS 8192u                  /* power of two */
#define ECOUNT_MAX_ANSWER (64u * 1024 * 1024) /* vLLM answers every id of the prompt */

typedef struct slot {
    tg__ecount_key key;
    uint64_t count; /* 0: empty */
} slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static slot *table;
static uint64_t n_hits, n_misses, n_failures;
static double rtt_sum;
#define ECOUNT_NO_ROUTE 16
#define ECOUNT_RETRY_S 300.0 /* a 200 that is not a count: asked again after this long */
static char *no_route[ECOUNT_NO_ROUTE]; /* pool keys whose engine has no count route */
static double no_route_until[ECOUNT_NO_ROUTE]; /* 0: for the daemon's life; else tg__now() when asked again */

static void fnv(uint64_t *h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) *h = (*h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
}

json_t *tg__ecount_body(const tg__model *m, const json_t *request, int as_chat, tg__ecount_key *key) {
    const tg__engine *e = m ? m->engine : NULL;
    if (!e || !e->count || !e->count->body || !m->pool) return NULL;
    const char *up = m->cfg->upstream_model;
    if (!up && m->upstream_obj) up = json_string_value(json_object_get(m->upstream_obj, "id"));
    json_t *body = e->count->body(request, as_chat, up);
    if (!body) return NULL;
    char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (!s) {
        json_decref(body);
        return NULL;
    }
    key->a = 0xcbf29ce484222325ULL;
    key->b = 0x84222325cbf29ce4ULL;
    const char *pk = m->pool->key;
    fnv(&key->a, pk, strlen(pk) + 1);
    fnv(&key->b, pk, strlen(pk) + 1);
    fnv(&key->a, s, strlen(s));
    key->b ^= key->a;
    fnv(&key->b, s, strlen(s));
    free(s);
    return body;
}

static slot *find(const tg__ecount_key *k) {
    if (!table && !(table = calloc(ECOUNT_SLOTS, sizeof *table))) return NULL;
    size_t i = (size_t)(k->a & (ECOUNT_SLOTS - 1));
    for (size_t n = 0; n < 8; n++, i = (i + 1) & (ECOUNT_SLOTS - 1))
        if (!table[i].count || (table[i].key.a == k->a && table[i].key.b == k->b)) return &table[i];
    return &table[k->a & (ECOUNT_SLOTS - 1)]; /* a full run: the first slot is taken over */
}

int tg__ecount_lookup(const tg__ecount_key *key, uint64_t *count) {
    pthread_mutex_lock(&mu);
    slot *sl = find(key);
    int hit = sl && sl->count && sl->key.a == key->a && sl->key.b == key->b;
    if (hit) *count = sl->count;
    if (hit) n_hits++;
    pthread_mutex_unlock(&mu);
    return hit;
}

void tg__ecount_store(const tg__ecount_key *key, uint64_t count) {
    pthread_mutex_lock(&mu);
    slot *sl = find(key);
    if (sl && count) {
        sl->key = *key;
        sl->count = count;
    }
    pthread_mutex_unlock(&mu);
}

void tg__ecount_stats(uint64_t *hits, uint64_t *misses, uint64_t *failures, double *seconds) {
    pthread_mutex_lock(&mu);
    *hits = n_hits;
    *misses = n_misses;
    *failures = n_failures;
    *seconds = rtt_sum;
    pthread_mutex_unlock(&mu);
}

void tg__ecount_cache_free(void) {
    pthread_mutex_lock(&mu);
    free(table);
    table = NULL;
    for (size_t i = 0; i < ECOUNT_NO_ROUTE; i++) {
        free(no_route[i]);
        no_route[i] = NULL;
        no_route_until[i] = 0;
    }
    pthread_mutex_unlock(&mu);
}

/* Under mu: entry i dropped (the later ones moved down: the list stays dense). */
static void drop_no_route(size_t i) {
    free(no_route[i]);
    for (; i + 1 < ECOUNT_NO_ROUTE && no_route[i + 1]; i++) {
        no_route[i] = no_route[i + 1];
        no_route_until[i] = no_route_until[i + 1];
    }
    no_route[i] = NULL;
    no_route_until[i] = 0;
}

int tg__ecount_unsupported(const char *pool_key) {
    int found = 0;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < ECOUNT_NO_ROUTE && no_route[i] && !found; i++)
        if (strcmp(no_route[i], pool_key) == 0) {
            found = no_route_until[i] <= 0.0 || tg__now() < no_route_until[i]; /* 0: for good */
            if (!found) drop_no_route(i); /* its back-off is over: asked again */
            break;
        }
    pthread_mutex_unlock(&mu);
    return found;
}

/* pool_key's engine is not asked to count: for good (retry_s 0) or for retry_s seconds. */
static void mark_no_route(const char *pool_key, double retry_s) {
    pthread_mutex_lock(&mu);
    size_t i = 0;
    while (i < ECOUNT_NO_ROUTE && no_route[i] && strcmp(no_route[i], pool_key) != 0) i++;
    if (i < ECOUNT_NO_ROUTE && !no_route[i]) no_route[i] = strdup(pool_key);
    if (i < ECOUNT_NO_ROUTE && no_route[i]) no_route_until[i] = retry_s > 0 ? tg__now() + retry_s : 0;
    pthread_mutex_unlock(&mu);
}

/* ---- the round trip ------------------------------------------------------ */

/* One count request in flight (loop thread only); requests for the same key
 * that come while it is out wait on it (waiters) instead of asking again. */
typedef struct flight {
    struct flight *next;
    tg__ecount_key key;
    tg__upreq *up;
    char *pool_key;
    const tg__engine_count *hook;
    int status;
    double t0;
    tgx_buf body;
    tg__ecount_req *waiters;
} flight;

struct tg__ecount_req { /* one waiter: a job's handle */
    tg__ecount_req *next;
    flight *f;             /* NULL while its flight reports (cancel then only marks it) */
    tg__ecount_done done;  /* NULL: cancelled while its flight reported */
    void *ud;
};

static flight *flights;

static void unlink_flight(flight *f) {
    for (flight **pp = &flights; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            return;
        }
}

static void flight_free(flight *f) {
    tgx_buf_free(&f->body);
    free(f->pool_key);
    free(f);
}

static void r_head(void *ud, const tg__http_head *h, const char *reason, size_t rl) {
    (void)reason;
    (void)rl;
    ((flight *)ud)->status = h->status;
}

static void r_body(void *ud, const char *p, size_t n) {
    flight *f = ud;
    tgx_buf_append(&f->body, p, n); /* over the cap: it will not parse */
}

static int no_route_status(int st) { return st == 404 || st == 405 || st == 501; }

static void r_done(void *ud, int fault, const char *msg) {
    flight *f = ud;
    char why[256] = "";
    uint64_t count = 0;
    if (fault)
        snprintf(why, sizeof why, "%s %s", f->hook->path, msg ? msg : tg__up_fault_name(fault));
    else if (f->status != 200)
        snprintf(why, sizeof why, "%s answered HTTP %d: %.*s%s", f->hook->path, f->status,
                 (int)(f->body.len < 120 ? f->body.len : 120), f->body.data ? f->body.data : "",
                 no_route_status(f->status) ? " (no such route: not asked again)" : "");
    else if (f->hook->read(f->body.data ? f->body.data : "", f->body.len, &count, why, sizeof why) != 0) {
        count = 0; /* a 200 that is not a count (a catch-all): asking again now would get the same */
        char r[128];
        size_t rl = strlen(why) < sizeof r ? strlen(why) : sizeof r - 1;
        memcpy(r, why, rl);
        r[rl] = '\0';
        snprintf(why, sizeof why, "%s answered HTTP 200 without a count: %.100s (not asked again for %.0f s)",
                 f->hook->path, r, ECOUNT_RETRY_S);
        mark_no_route(f->pool_key, ECOUNT_RETRY_S);
    }
    if (!fault && no_route_status(f->status)) mark_no_route(f->pool_key, 0);
    for (char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == '"') *p = *p == '"' ? '\'' : ' '; /* it goes into a header and a log line */
    pthread_mutex_lock(&mu);
    n_misses++;
    if (!count) n_failures++;
    rtt_sum += tg__now() - f->t0;
    pthread_mutex_unlock(&mu);
    unlink_flight(f);
    tg__ecount_req *w = f->waiters;
    for (tg__ecount_req *x = w; x; x = x->next) x->f = NULL;
    while (w) { /* a waiter's done may cancel a later one: that only marks it */
        tg__ecount_req *next = w->next;
        if (w->done) w->done(w->ud, count, count ? NULL : why);
        free(w);
        w = next;
    }
    flight_free(f);
}

static const tg__upreq_ops ecount_ops = {r_head, r_body, r_done};

/* A new flight for key: the request sent through m's pool, or NULL. */
static flight *flight_start(tg__server *s, const tg__model *m, const tg__ecount_key *key, const char *body, size_t len,
                            double timeout) {
    const tg__model_cfg *mc = m->cfg;
    flight *f = calloc(1, sizeof *f);
    struct evbuffer *req = evbuffer_new();
    if (f) f->pool_key = strdup(m->pool->key);
    if (!f || !req || !f->pool_key) {
        if (f) free(f->pool_key);
        free(f);
        if (req) evbuffer_free(req);
        return NULL;
    }
    f->key = *key;
    f->hook = m->engine->count;
    f->t0 = tg__now();
    tgx_buf_init(&f->body, ECOUNT_MAX_ANSWER);
    const char *ak = mc->upstream_api_key;
    evbuffer_add_printf(req,
                        "POST %s%s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\n%s%s%sConnection: keep-alive\r\n\r\n",
                        mc->url.base_path, f->hook->path, mc->url.hostport, len, ak ? "Authorization: Bearer " : "",
                        ak ? ak : "", ak ? "\r\n" : "");
    evbuffer_add(req, body, len);
    tg__up_timeouts t = {s->cfg->connect_timeout < timeout ? s->cfg->connect_timeout : timeout, timeout, timeout,
                         timeout, 0};
    f->up = tg__upreq_start_buf(m->pool, req, 0, 0, &t, s->cfg->max_head, &ecount_ops, f);
    if (!f->up) {
        flight_free(f);
        return NULL;
    }
    f->next = flights;
    flights = f;
    return f;
}

tg__ecount_req *tg__ecount_start(tg__server *s, const tg__model *m, const tg__ecount_key *key, const char *body,
                                 size_t len, double timeout, tg__ecount_done done, void *ud) {
    tg__ecount_req *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    flight *f = flights;
    while (f && (f->key.a != key->a || f->key.b != key->b)) f = f->next;
    if (!f && !(f = flight_start(s, m, key, body, len, timeout))) {
        free(w);
        return NULL;
    }
    w->f = f;
    w->done = done;
    w->ud = ud;
    w->next = f->waiters;
    f->waiters = w;
    return w;
}

void tg__ecount_cancel(tg__ecount_req *w) {
    if (!w) return;
    flight *f = w->f;
    if (!f) { /* its flight is reporting: it frees w */
        w->done = NULL;
        return;
    }
    for (tg__ecount_req **pp = &f->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    free(w);
    if (!f->waiters) { /* nobody waits: the round trip is dropped */
        tg__upreq_cancel(f->up);
        unlink_flight(f);
        flight_free(f);
    }
}
