/*
 * gateway/replicas.h: a model's replicas as the proxy routes to them
 * (replicas.c; issue 14, docs/gateway.md "Replicas"): the live state of each
 * upstream of a model section (its pool's reservations and health, the
 * engine's own KV use where it publishes it) handed to the pure router
 * (route_pick.h).
 */
#ifndef TG_GATEWAY_REPLICAS_H
#define TG_GATEWAY_REPLICAS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gateway/config.h"

typedef struct tg__server tg__server;
typedef struct tg__pool tg__pool;

/* The replica of section mc that a request with prefix key `key` needing
 * `need` KV tokens goes to (route_pick.h), skipping those whose bit is set in
 * `exclude` (already tried); its index in the section (tg__mc_url) in *idx.
 * NULL when every replica is excluded or out of memory. */
tg__pool *tg__replica_pick(tg__server *s, const tg__config *cfg, const tg__model_cfg *mc, uint64_t key,
                           uint64_t need, uint32_t exclude, size_t *idx);
/* The KV capacity admission uses for `pool` (one replica of mc): configured,
 * else what its engine says its pool holds; 0 unknown (admission off). */
uint64_t tg__replica_kv_capacity(tg__server *s, const tg__config *cfg, const tg__model_cfg *mc, const tg__pool *pool);
/* Passive health (health.h): a fault of `pool` seen by a request, or a good
 * answer; logged when the replica goes out or comes back. */
void tg__replica_fault(tg__server *s, tg__pool *pool, const char *why);
void tg__replica_ok(tg__server *s, tg__pool *pool);
/* Requests sent to another replica after theirs failed before answering
 * (the loop thread's counter, for /metrics). */
extern uint64_t tg__replicas_retried;
/* Streams continued at another replica after theirs broke mid-answer. */
extern uint64_t tg__replicas_failovers;
/* Each replica of mc as /v1/limits lists it: upstream, in service,
 * discovered, engine, n_ctx, slots, requests in flight, KV reserved,
 * requests routed, faults; binds_limits on the pool key `limit_from`. */
json_t *tg__replicas_json(tg__server *s, const tg__model_cfg *mc, const char *limit_from);

#endif
