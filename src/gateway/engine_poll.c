/*
 * gateway/engine_poll.c: the engine's own state as admission's truth when
 * several gateways share one engine (issue 14 item 3; admission.h, the
 * block at tg__adm_configure).
 *
 * Every admission.engine_poll_ms each upstream whose engine adapter has a
 * live probe (engine.h live_probe: llama-server GET /slots, vLLM GET
 * /metrics) is asked what it runs now; the answer goes to the upstream's
 * tg__adm as a reading (busy sequences, whether the engine queues), which
 * admission combines with this gateway's own sequences started and ended
 * since the probe left. One probe per upstream is in flight at a time; a
 * reading older than three intervals (at least one second) is dropped and
 * admission falls back to admission.share alone. The poll goes on while the
 * gateway drains (SIGTERM): requests it queued still wait on readings.
 * tg__fleet_admission is the
 * hook proxy.c calls before each acquire: the capacity, the engine's slots
 * and the share into the upstream's tg__adm.
 */
#include "gateway/engine_poll.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/discovery.h"
#include "gateway/log.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "util/buf.h"

#define POLL_MAX_BODY (1u << 20)
#define POLL_MAX_POOLS 256

typedef struct lprobe {
    tg__server *srv;
    tg__pool *pool;
    const tg__engine_probe *pr;
    int status;
    tgx_buf body;
    tg__upreq *up;
    struct lprobe *next;
} lprobe;

/* Per upstream: a probe in flight, the last reading's time. */
typedef struct pstate {
    const tg__pool *pool;
    int in_flight;
    double last_ok;
} pstate;

static lprobe *lprobes; /* in flight, for cleanup at exit */
static struct event *ev_poll;
static pstate states[POLL_MAX_POOLS];
static size_t n_states;

static pstate *state_of(const tg__pool *pool) {
    for (size_t i = 0; i < n_states; i++)
        if (states[i].pool == pool) return &states[i];
    if (n_states == POLL_MAX_POOLS) return NULL;
    states[n_states].pool = pool;
    states[n_states].in_flight = 0;
    states[n_states].last_ok = 0;
    return &states[n_states++];
}

void tg__fleet_admission(tg__server *s, const tg__config *cfg, tg__pool *pool, uint64_t capacity) {
    tg__upinfo *u = tg__upinfo_find(s, pool->key);
    /* the slot gate only when asked for: a lone gateway keeps up to a
     * batch queued in the engine beyond its slots (proxy.c conn_cap) */
    int gate = cfg->admission_share < 1 || cfg->admission_engine_poll > 0;
    tg__adm_configure(&pool->adm, capacity, gate && u ? u->total_slots : 0, cfg->admission_share);
}

static void p_head(void *ud, const tg__http_head *h, const char *r, size_t rl) {
    (void)r;
    (void)rl;
    ((lprobe *)ud)->status = h->status;
}

static void p_body(void *ud, const char *p, size_t n) {
    lprobe *pr = ud;
    tgx_buf_append(&pr->body, p, n); /* over the cap: the answer will not parse */
}

static void unlink_probe(lprobe *pr) {
    for (lprobe **pp = &lprobes; *pp; pp = &(*pp)->next)
        if (*pp == pr) {
            *pp = pr->next;
            return;
        }
}

/* The reader's facts (engine.h tg__upinfo) as a reading for admission. */
static int reading_of(const tg__upinfo *u, uint64_t *busy, uint64_t *total, int *full) {
    if (u->have_busy) { /* llama-server: slots; a request beyond them waits in its queue */
        *busy = u->busy_slots;
        *total = u->total_slots;
        *full = 0;
        return 1;
    }
    if (u->live) { /* vLLM: no slot count; waiting requests or a full KV pool mean it queues */
        *busy = u->reqs_running;
        *total = 0;
        *full = u->reqs_waiting > 0 || u->kv_usage >= 0.98;
        return 1;
    }
    return 0;
}

static void p_done(void *ud, int fault, const char *msg) {
    lprobe *pr = ud;
    tg__server *s = pr->srv;
    (void)msg;
    unlink_probe(pr);
    pstate *st = state_of(pr->pool);
    if (st) st->in_flight = 0;
    tg__upinfo *u = tg__upinfo_find(s, pr->pool->key);
    int read = 0;
    if (u && !fault && pr->status == 200 && pr->body.len) {
        if (pr->pr->read) {
            json_t *j = json_loadb(pr->body.data, pr->body.len, 0, NULL);
            read = j && pr->pr->read(u, j);
            json_decref(j);
        } else if (pr->pr->read_text) {
            read = pr->pr->read_text(u, pr->body.data, pr->body.len);
        }
    }
    uint64_t busy = 0, total = 0;
    int full = 0;
    if (read && reading_of(u, &busy, &total, &full)) {
        if (st) st->last_ok = tg__now();
        tg__adm_engine_reading(&pr->pool->adm, busy, total, full);
    }
    tgx_buf_free(&pr->body);
    free(pr);
    tg__server_maybe_exit(s);
}

static const tg__upreq_ops poll_ops = {p_head, p_body, p_done};

static void send_probe(tg__server *s, const tg__model_cfg *mc, const tg__url *url, tg__pool *pool,
                       const tg__engine_probe *lp) {
    pstate *st = state_of(pool);
    lprobe *pr = st ? calloc(1, sizeof *pr) : NULL;
    if (!pr) return;
    pr->srv = s;
    pr->pool = pool;
    pr->pr = lp;
    tgx_buf_init(&pr->body, POLL_MAX_BODY);
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s%s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n%s%s%sConnection: keep-alive\r\n\r\n",
                     url->base_path, lp->path, url->hostport, mc->upstream_api_key ? "Authorization: Bearer " : "",
                     mc->upstream_api_key ? mc->upstream_api_key : "", mc->upstream_api_key ? "\r\n" : "");
    double iv = s->cfg->admission_engine_poll;
    tg__up_timeouts t = {s->cfg->connect_timeout, iv * 3 < 1 ? 1 : iv * 3, iv * 3 < 1 ? 1 : iv * 3, 0, 0};
    tg__adm_probe_sent(&pool->adm);
    if (n <= 0 || (size_t)n >= sizeof req ||
        !(pr->up = tg__upreq_start(pool, req, (size_t)n, 0, &t, s->cfg->max_head, &poll_ops, pr))) {
        tgx_buf_free(&pr->body);
        free(pr);
        return;
    }
    st->in_flight = 1;
    pr->next = lprobes;
    lprobes = pr;
}

/* One round: a probe to every upstream with a live probe and none in
 * flight; readings gone stale are dropped. */
static void poll_all(tg__server *s) {
    const tg__config *cfg = s->cfg;
    double now = tg__now(), iv = cfg->admission_engine_poll;
    double stale = iv * 3 < 1 ? 1 : iv * 3;
    for (size_t i = 0; i < cfg->n_models; i++) {
        const tg__model_cfg *mc = &cfg->models[i];
        for (size_t k = 0; k < tg__mc_n_urls(mc); k++) { /* every replica (issue 14) */
            const tg__url *url = tg__mc_url(mc, k);
            tg__pool *pool = tg__pool_get(&s->pools, url->host, url->port);
            pstate *st = pool ? state_of(pool) : NULL;
            if (!st) continue;
            if (st->last_ok > 0 && now - st->last_ok > stale) tg__adm_engine_stale(&pool->adm);
            tg__upinfo *u = tg__upinfo_find(s, pool->key);
            const tg__engine *e = tg__engine_for(mc->engine, u);
            if (st->in_flight || !e || !e->live_probe) continue;
            send_probe(s, mc, url, pool, e->live_probe);
        }
    }
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__server *s = arg;
    double iv = s->cfg->admission_engine_poll;
    if (iv <= 0) return; /* polled while draining too: requests queued for a slot still need readings */
    poll_all(s);
    struct timeval tv = {(time_t)iv, (suseconds_t)((iv - (double)(time_t)iv) * 1e6)};
    event_add(ev_poll, &tv);
}

void tg__engine_poll_start(tg__server *s) {
    if (!ev_poll) ev_poll = evtimer_new(s->base, tick, s);
    if (!ev_poll) return;
    event_del(ev_poll);
    if (s->cfg->admission_engine_poll > 0) {
        event_active(ev_poll, EV_TIMEOUT, 0);
        return;
    }
    for (tg__pool *p = s->pools.head; p; p = p->next) tg__adm_engine_stale(&p->adm); /* turned off by a reload */
}

void tg__engine_poll_free(tg__server *s) {
    (void)s;
    while (lprobes) {
        lprobe *pr = lprobes;
        lprobes = pr->next;
        tg__upreq_cancel(pr->up);
        tgx_buf_free(&pr->body);
        free(pr);
    }
    if (ev_poll) event_free(ev_poll);
    ev_poll = NULL;
    n_states = 0;
}
