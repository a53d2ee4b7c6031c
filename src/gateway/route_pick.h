/*
 * gateway/route_pick.h: which replica of a model a request goes to
 * (route_pick.c; issue 14, docs/gateway.md "Replicas"). Pure: candidates in,
 * an order to try them out; replicas.c feeds it the live pools.
 *
 * Policies (config "routing.policy"):
 *   affinity      the replica that most likely holds the request's prefix in
 *                 its KV cache: rendezvous (highest-random-weight) hashing of
 *                 the prefix key over the replicas, a consistent hash (a
 *                 replica added or lost moves only its own keys), with
 *                 bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent
 *                 Hashing with Bounded Loads", SODA 2018 / arXiv 1608.01350):
 *                 a replica takes the key only while its requests in flight
 *                 + 1 <= ceil(c x (all in flight + 1) / replicas); the key
 *                 then goes to the next replica in its hash order, so one hot
 *                 conversation cannot pile onto one server.
 *   least_loaded  fewest requests in flight, then least KV in use.
 *   round_robin   each replica in turn.
 * Every policy first takes the replicas that are healthy and have KV room
 * for the request's reservation (capacity unknown: room), then the healthy
 * ones without room (the request waits in that replica's admission queue),
 * least used first, then the ones out of service (their back-off running),
 * so a request is never refused while any replica could take it.
 */
#ifndef TG_GATEWAY_ROUTE_PICK_H
#define TG_GATEWAY_ROUTE_PICK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum { TG__ROUTE_AFFINITY = 0, TG__ROUTE_LEAST_LOADED = 1, TG__ROUTE_ROUND_ROBIN = 2 };

/* "affinity", "least_loaded", "round_robin" (also "least-loaded",
 * "round-robin"); -1 otherwise. */
int tg__route_policy_parse(const char *s);
const char *tg__route_policy_name(int policy);

typedef struct tg__route_cand {
    uint64_t node;     /* the replica's identity hashed (tg__route_hash of host:port) */
    int usable;        /* healthy, or its back-off over (health.h) */
    uint64_t inflight; /* requests in flight there */
    uint64_t used;     /* KV tokens reserved or in use */
    uint64_t capacity; /* KV tokens it holds; 0 unknown */
} tg__route_cand;

/* Writes into order[0..n) the candidates' indexes in the order to try them
 * (every candidate appears once); rr: a counter the caller advances per
 * request (round robin, ties). */
void tg__route_order(const tg__route_cand *c, size_t n, int policy, double bound, uint64_t key, uint64_t need,
                     uint64_t rr, size_t *order);
/* 64-bit FNV-1a with a final avalanche (splitmix64's). */
uint64_t tg__route_hash(const void *p, size_t n, uint64_t seed);
/* The prefix key of a request: its messages up to and including the first
 * user message (chat: what every later turn of the conversation starts
 * with, and so the leading segments of every rendering of it), or the first
 * 512 bytes of the prompt (completions). 0 when there is none. */
uint64_t tg__route_key(const json_t *request);

#endif
