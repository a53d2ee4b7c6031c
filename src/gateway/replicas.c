/*
 * gateway/replicas.c: a model section's replicas, live (replicas.h): each
 * upstream's pool, health and KV use gathered for the router
 * (route_pick.c), and the passive health reports of the proxy.
 */
#include "gateway/replicas.h"

#include <string.h>

#include "gateway/discovery.h"
#include "gateway/engine.h"
#include "gateway/log.h"
#include "gateway/route_pick.h"
#include "gateway/server.h"
#include "gateway/upstream.h"

uint64_t tg__replica_kv_capacity(tg__server *s, const tg__config *cfg, const tg__model_cfg *mc, const tg__pool *pool) {
    if (cfg->admission_capacity) return cfg->admission_capacity;
    const tg__upinfo *u = tg__upinfo_find(s, pool->key);
    return tg__engine_kv_capacity(tg__engine_for(mc->engine, u), u);
}

uint64_t tg__replicas_retried;
uint64_t tg__replicas_failovers;

/* The loop's request counter: round robin's turn and least-loaded's ties. */
static uint64_t rr_counter;

tg__pool *tg__replica_pick(tg__server *s, const tg__config *cfg, const tg__model_cfg *mc, uint64_t key,
                           uint64_t need, uint32_t exclude, size_t *idx) {
    size_t n = tg__mc_n_urls(mc), k = 0;
    tg__route_cand cand[TG__MAX_REPLICAS];
    tg__pool *pools[TG__MAX_REPLICAS];
    size_t which[TG__MAX_REPLICAS], order[TG__MAX_REPLICAS];
    double now = tg__now();
    for (size_t i = 0; i < n && i < TG__MAX_REPLICAS; i++) {
        if (exclude & (1u << i)) continue;
        const tg__url *u = tg__mc_url(mc, i);
        tg__pool *p = tg__pool_get(&s->pools, u->host, u->port);
        if (!p) continue;
        const tg__upinfo *ui = tg__upinfo_find(s, p->key);
        tg__route_cand *c = &cand[k];
        c->node = tg__route_hash(p->key, strlen(p->key), 0);
        c->usable = tg__health_usable(&p->health, now);
        c->inflight = p->health.inflight;
        c->capacity = tg__replica_kv_capacity(s, cfg, mc, p);
        c->used = p->adm.reserved;
        if (ui && ui->live && c->capacity) { /* the engine's own figure, when it is higher (other clients) */
            uint64_t live = (uint64_t)(ui->kv_usage * (double)c->capacity);
            if (live > c->used) c->used = live;
        }
        pools[k] = p;
        which[k++] = i;
    }
    if (k == 0) return NULL;
    tg__route_order(cand, k, cfg->route_policy, cfg->route_load_bound, key, need, rr_counter++, order);
    *idx = which[order[0]];
    return pools[order[0]];
}

void tg__replica_fault(tg__server *s, tg__pool *pool, const char *why) {
    if (!tg__health_fault(&pool->health, tg__now())) return;
    tg__log(s, TG__LOG_WARN, "upstream %s taken out of service for %.0f s: %s", pool->key,
            pool->health.until - tg__now(), why ? why : "fault");
    tg__discovery_soon(s, pool->health.until - tg__now()); /* probed when its back-off ends */
    if (s->on_discovered) s->on_discovered(s); /* the models' limits: those of the replicas in service */
}

void tg__replica_ok(tg__server *s, tg__pool *pool) {
    if (!tg__health_ok(&pool->health)) return;
    tg__log(s, TG__LOG_INFO, "upstream %s back in service", pool->key);
    if (s->on_discovered) s->on_discovered(s);
}

json_t *tg__replicas_json(tg__server *s, const tg__model_cfg *mc, const char *limit_from) {
    size_t n = tg__mc_n_urls(mc);
    json_t *arr = json_array();
    double now = tg__now();
    for (size_t i = 0; arr && i < n; i++) {
        const tg__url *u = tg__mc_url(mc, i);
        tg__pool *p = tg__pool_get(&s->pools, u->host, u->port);
        if (!p) continue;
        const tg__upinfo *ui = tg__upinfo_find(s, p->key);
        json_t *o = json_pack("{s:s,s:b,s:b,s:I,s:I,s:I,s:I}", "upstream", i ? mc->more_upstreams[i - 1] : mc->upstream,
                              "in_service", tg__health_usable(&p->health, now), "discovered", ui && ui->ok,
                              "in_flight", (json_int_t)p->health.inflight, "reserved", (json_int_t)p->adm.reserved,
                              "routed", (json_int_t)p->health.routed, "faults", (json_int_t)p->health.faults);
        if (!o) continue;
        const tg__engine *e = tg__engine_for(mc->engine, ui);
        if (e) json_object_set_new(o, "engine", json_string(e->name));
        if (ui && ui->n_ctx) json_object_set_new(o, "n_ctx", json_integer((json_int_t)ui->n_ctx));
        if (ui && ui->total_slots) json_object_set_new(o, "total_slots", json_integer((json_int_t)ui->total_slots));
        if (limit_from && !strcmp(limit_from, p->key)) json_object_set_new(o, "binds_limits", json_true());
        json_array_append_new(arr, o);
    }
    return arr;
}
