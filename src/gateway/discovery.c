/*
 * gateway/discovery.c: asks each upstream what it serves, at start and then
 * every discovery_interval seconds (sooner while it has not answered).
 *
 *   GET /v1/models  the list of models every engine serves (read here)
 *   GET <each adapter's probe paths> (engine.h), e.g. llama-server's /props
 *   POST <the engine's post_probes> once per listed model, after a round of
 *        GETs (Ollama's /api/show {"model": id})
 *
 * Every answer is handed to the adapters that probe its path
 * (tg__engine_read_probe): they fill the engine facts (context per slot,
 * slots, KV pool, model path) and the most specific one that recognises the
 * upstream becomes its engine. Results go to s->upinfo and the model table
 * is rebuilt. An upstream that does not answer keeps what was learned
 * before, and the log says so once per change.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/discovery.h"
#include "gateway/log.h"
#include "gateway/health.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "util/buf.h"

#define DISCOVERY_MAX_BODY (4u << 20)

typedef struct probe {
    tg__server *srv;
    char *pool_key;
    const char *path; /* tg__engine_probe_paths(): static */
    const tg__engine_post_probe *post; /* a per-model POST probe, or NULL */
    char *id;                          /* its model id */
    int status;
    tgx_buf body;
    tg__upreq *up;
    struct probe *next;
} probe;

static probe *probes; /* in flight, for cleanup at exit */

static void send_probe(tg__server *s, const tg__model_cfg *mc, const tg__url *url, tg__pool *pool, const char *path,
                       const tg__engine_post_probe *post, const char *id);
static void send_post_probes(tg__server *s, const char *pool_key, tg__upinfo *u);

static tg__upinfo *upinfo_get(tg__server *s, const char *key) {
    for (size_t i = 0; i < s->n_upinfo; i++)
        if (!strcmp(s->upinfo[i].pool_key, key)) return &s->upinfo[i];
    tg__upinfo *nv = realloc(s->upinfo, (s->n_upinfo + 1) * sizeof *nv);
    if (!nv) return NULL;
    s->upinfo = nv;
    tg__upinfo *u = &nv[s->n_upinfo];
    memset(u, 0, sizeof *u);
    if (!(u->pool_key = strdup(key))) return NULL;
    s->n_upinfo++;
    return u;
}

static void p_head(void *ud, const tg__http_head *h, const char *r, size_t rl) {
    (void)r;
    (void)rl;
    ((probe *)ud)->status = h->status;
}

static void p_body(void *ud, const char *p, size_t n) {
    probe *pr = ud;
    tgx_buf_append(&pr->body, p, n); /* over the cap: the JSON will not parse */
}

static void unlink_probe(probe *pr) {
    for (probe **pp = &probes; *pp; pp = &(*pp)->next)
        if (*pp == pr) {
            *pp = pr->next;
            return;
        }
}

static int pool_down(const tg__server *s, const char *key) {
    for (const tg__pool *p = s->pools.head; p; p = p->next)
        if (!strcmp(p->key, key)) return p->health.down;
    return 0;
}

/* A probe's verdict on its upstream's health (health.h, replicas.h). */
/* 1 when the upstream `key` is a replica of a section with several. */
static int replicated(const tg__server *s, const char *key) {
    for (size_t i = 0; i < s->cfg->n_models; i++) {
        const tg__model_cfg *mc = &s->cfg->models[i];
        for (size_t k = 0; tg__mc_n_urls(mc) > 1 && k < tg__mc_n_urls(mc); k++) {
            char hp[300];
            snprintf(hp, sizeof hp, "%s:%d", tg__mc_url(mc, k)->host, tg__mc_url(mc, k)->port);
            if (!strcmp(hp, key)) return 1;
        }
    }
    return 0;
}

static void health_report(tg__server *s, const char *key, int fault, const char *why) {
    if (!replicated(s, key)) return; /* one upstream: nowhere else to send, nothing to take out */
    for (tg__pool *p = s->pools.head; p; p = p->next) {
        if (strcmp(p->key, key) != 0) continue;
        if (fault && tg__health_fault(&p->health, tg__now()))
            tg__log(s, TG__LOG_WARN, "upstream %s taken out of service: %s", p->key, why ? why : "fault");
        else if (!fault && tg__health_ok(&p->health))
            tg__log(s, TG__LOG_INFO, "upstream %s back in service", p->key);
        return; /* (the model table is rebuilt when the round ends: on_discovered) */
    }
}

static void p_done(void *ud, int fault, const char *msg) {
    probe *pr = ud;
    tg__server *s = pr->srv;
    unlink_probe(pr);
    tg__upinfo *u = upinfo_get(s, pr->pool_key);
    if (u) u->in_flight--;
    json_t *j = NULL;
    if (!fault && pr->status == 200 && pr->body.len) j = json_loadb(pr->body.data, pr->body.len, 0, NULL);
    int models = !pr->post && !strcmp(pr->path, "/v1/models");
    if (u && j && pr->post) pr->post->read(u, pr->id, j);
    else if (u && j) tg__engine_read_probe(u, pr->path, j);
    else if (u && !fault && !pr->post && pr->status == 200 && pr->body.len) /* not JSON: e.g. Prometheus text */
        tg__engine_read_probe_text(u, pr->path, pr->body.data, pr->body.len);
    if (u && models) {
        json_t *data = j ? json_object_get(j, "data") : NULL;
        if (json_is_array(data)) {
            int was = u->ok;
            if (u->models) json_decref(u->models);
            u->models = json_incref(data);
            u->ok = 1;
            u->last_ok = tg__now();
            health_report(s, pr->pool_key, 0, NULL); /* the active check: a replica out comes back */
            if (!was)
                tg__log(s, TG__LOG_INFO, "upstream %s: %zu model(s) discovered (%s)", pr->pool_key, json_array_size(data),
                        u->engine ? u->engine->name : "?");
        } else {
            if ((u->ok || u->last_ok == 0.0) && !pool_down(s, pr->pool_key)) /* out of service: said once (replicas.c) */
                tg__log(s, TG__LOG_WARN, "upstream %s: model discovery failed (%s)%s", pr->pool_key,
                        fault ? (msg ? msg : tg__up_fault_name(fault)) : "GET /v1/models gave no model list",
                        u->ok ? "; keeping what was learned before" : "; limits unknown until it answers");
            if (u->last_ok == 0.0) u->last_ok = -1;
            u->ok = u->models != NULL;
            if (fault == TG__UP_CONNECT || fault == TG__UP_TIMEOUT_CONNECT || fault == TG__UP_RESET)
                health_report(s, pr->pool_key, 1, msg ? msg : tg__up_fault_name(fault));
        }
    }
    if (j) json_decref(j);
    if (u && u->in_flight == 0 && !pr->post) send_post_probes(s, pr->pool_key, u);
    if (u && u->in_flight == 0 && s->on_discovered) s->on_discovered(s);
    tgx_buf_free(&pr->body);
    free(pr->pool_key);
    free(pr->id);
    free(pr);
    tg__server_maybe_exit(s);
}

tg__upinfo *tg__upinfo_find(const tg__server *s, const char *key) {
    for (size_t i = 0; i < s->n_upinfo; i++)
        if (!strcmp(s->upinfo[i].pool_key, key)) return &s->upinfo[i];
    return NULL;
}

static const tg__upreq_ops probe_ops = {p_head, p_body, p_done};

/* A GET probe, or (post) a POST of post->body(id). */
static void send_probe(tg__server *s, const tg__model_cfg *mc, const tg__url *url, tg__pool *pool, const char *path,
                       const tg__engine_post_probe *post, const char *id) {
    probe *pr = calloc(1, sizeof *pr);
    if (!pr) return;
    pr->srv = s;
    pr->path = path;
    pr->post = post;
    pr->id = id ? strdup(id) : NULL;
    pr->pool_key = strdup(pool->key);
    tgx_buf_init(&pr->body, DISCOVERY_MAX_BODY);
    char *pb = post ? post->body(id) : NULL;
    char req[4096], clen[96] = "";
    if (pb) snprintf(clen, sizeof clen, "Content-Type: application/json\r\nContent-Length: %zu\r\n", strlen(pb));
    int n = snprintf(req, sizeof req, "%s %s%s HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n%s%s%s%s"
                     "Connection: keep-alive\r\n\r\n%s",
                     post ? "POST" : "GET", url->base_path, path, url->hostport,
                     mc->upstream_api_key ? "Authorization: Bearer " : "", mc->upstream_api_key ? mc->upstream_api_key : "",
                     mc->upstream_api_key ? "\r\n" : "", clen, pb ? pb : "");
    free(pb);
    if (post && !pb) n = -1;
    tg__upinfo *u = upinfo_get(s, pool->key);
    tg__up_timeouts t = {s->cfg->connect_timeout, 10, 10, 0, 0};
    if (!pr->pool_key || !u || n <= 0 || (size_t)n >= sizeof req ||
        !(pr->up = tg__upreq_start(pool, req, (size_t)n, 0, &t, s->cfg->max_head, &probe_ops, pr))) {
        free(pr->pool_key);
        free(pr->id);
        free(pr);
        return;
    }
    u->in_flight++;
    pr->next = probes;
    probes = pr;
}

/* 1 when the upstream at (model i, url k) was met before in the sections. */
static int seen_before(const tg__config *cfg, size_t i, size_t k) {
    const tg__url *u = tg__mc_url(&cfg->models[i], k);
    for (size_t j = 0; j <= i; j++) {
        const tg__model_cfg *mj = &cfg->models[j];
        size_t n = j < i ? tg__mc_n_urls(mj) : k; /* the same section: the urls before k */
        for (size_t l = 0; l < n; l++) {
            const tg__url *o = tg__mc_url(mj, l);
            if (!strcmp(o->host, u->host) && o->port == u->port) return 1;
        }
    }
    return 0;
}

static void discover_all(tg__server *s) {
    const tg__config *cfg = s->cfg;
    for (size_t i = 0; i < cfg->n_models; i++) {
        const tg__model_cfg *mc = &cfg->models[i];
        for (size_t k = 0; k < tg__mc_n_urls(mc); k++) { /* every replica on its own (issue 14) */
            const tg__url *url = tg__mc_url(mc, k);
            tg__pool *pool = tg__pool_get(&s->pools, url->host, url->port);
            if (!pool) continue;
            tg__upinfo *u = upinfo_get(s, pool->key);
            if (seen_before(cfg, i, k) || !u || u->in_flight) continue;
            size_t np = 0;
            const char *const *paths = tg__engine_probe_paths(&np);
            for (size_t q = np; q-- > 0;) send_probe(s, mc, url, pool, paths[q], NULL, NULL); /* /v1/models last, as before */
        }
    }
}

/* A round of GETs answered: the engine's per-model POST probes (engine.h
 * post_probes), one per model the upstream lists. */
static void send_post_probes(tg__server *s, const char *pool_key, tg__upinfo *u) {
    const tg__config *cfg = s->cfg;
    for (size_t i = 0; u->models && i < cfg->n_models; i++) {
        const tg__model_cfg *mc = &cfg->models[i];
        for (size_t r = 0; r < tg__mc_n_urls(mc); r++) {
            const tg__url *url = tg__mc_url(mc, r);
            tg__pool *pool = tg__pool_get(&s->pools, url->host, url->port);
            const tg__engine *e = tg__engine_for(mc->engine, u);
            if (!pool || strcmp(pool->key, pool_key) != 0 || !e || !e->post_probes) continue;
            size_t k;
            json_t *m;
            json_array_foreach(u->models, k, m) {
                const char *id = json_string_value(json_object_get(m, "id"));
                for (const tg__engine_post_probe *pp = e->post_probes; id && pp->path; pp++)
                    send_probe(s, mc, url, pool, pp->path, pp, id);
            }
            return; /* one upstream, probed once */
        }
    }
}

static void tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__server *s = arg;
    if (s->draining) return;
    discover_all(s);
    int all_ok = 1;
    for (size_t i = 0; i < s->n_upinfo; i++)
        if (!s->upinfo[i].ok) all_ok = 0;
    for (const tg__pool *p = s->pools.head; p; p = p->next)
        if (p->health.down) all_ok = 0; /* a replica out of service: probed again within 2 s */
    double iv = all_ok ? s->cfg->discovery_interval : (s->cfg->discovery_interval < 2 ? s->cfg->discovery_interval : 2);
    struct timeval tv = {(time_t)iv, (suseconds_t)((iv - (double)(time_t)iv) * 1e6)};
    event_add(s->ev_discover, &tv);
}

void tg__discovery_start(tg__server *s) {
    if (!s->ev_discover) s->ev_discover = evtimer_new(s->base, tick, s);
    if (!s->ev_discover) return;
    event_del(s->ev_discover);
    event_active(s->ev_discover, EV_TIMEOUT, 0);
}

void tg__discovery_soon(tg__server *s, double secs) {
    if (!s->ev_discover || s->draining) return;
    struct timeval left, tv = {(time_t)secs, (suseconds_t)((secs - (double)(time_t)secs) * 1e6)};
    if (event_pending(s->ev_discover, EV_TIMEOUT, &left)) {
        struct timeval now;
        event_base_gettimeofday_cached(s->base, &now);
        double l = (double)(left.tv_sec - now.tv_sec) + (double)(left.tv_usec - now.tv_usec) / 1e6;
        if (l <= secs) return; /* already sooner */
    }
    event_del(s->ev_discover);
    event_add(s->ev_discover, &tv);
}

void tg__discovery_free(tg__server *s) {
    /* Probes still in flight are owned by their upstream requests, which the
     * pools no longer track once their connections close: free them here. */
    while (probes) {
        probe *pr = probes;
        probes = pr->next;
        tg__upreq_cancel(pr->up);
        tgx_buf_free(&pr->body);
        free(pr->pool_key);
        free(pr->id);
        free(pr);
    }
    if (s->ev_discover) event_free(s->ev_discover);
    s->ev_discover = NULL;
    for (size_t i = 0; i < s->n_upinfo; i++) {
        tg__upinfo *u = &s->upinfo[i];
        free(u->pool_key);
        free(u->model_path);
        if (u->models) json_decref(u->models);
        if (u->model_info) json_decref(u->model_info);
    }
    free(s->upinfo);
    s->upinfo = NULL;
    s->n_upinfo = 0;
}
