/*
 * gateway/route_pick.c: the replica order of a request (route_pick.h):
 * room first, then the policy (rendezvous hashing with bounded loads,
 * least loaded, round robin), and the prefix key it hashes.
 */
#include "gateway/route_pick.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


int tg__route_policy_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "affinity")) return TG__ROUTE_AFFINITY;
    if (!strcmp(s, "least_loaded") || !strcmp(s, "least-loaded")) return TG__ROUTE_LEAST_LOADED;
    if (!strcmp(s, "round_robin") || !strcmp(s, "round-robin")) return TG__ROUTE_ROUND_ROBIN;
    return -1;
}

const char *tg__route_policy_name(int policy) {
    return policy == TG__ROUTE_LEAST_LOADED ? "least_loaded" : policy == TG__ROUTE_ROUND_ROBIN ? "round_robin" : "affinity";
}

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t tg__route_hash(const void *p, size_t n, uint64_t seed) {
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return mix64(h);
}

/* 0 healthy with room, 1 healthy without, 2 out of service. */
static int group(const tg__route_cand *c, uint64_t need) {
    if (!c->usable) return 2;
    return c->capacity && c->used + need > c->capacity ? 1 : 0;
}

/* Less used first: fraction of the KV in use, then requests in flight. */
static int lighter(const tg__route_cand *a, const tg__route_cand *b) {
    double fa = a->capacity ? (double)a->used / (double)a->capacity : 0;
    double fb = b->capacity ? (double)b->used / (double)b->capacity : 0;
    if (a->inflight != b->inflight) return a->inflight < b->inflight;
    return fa < fb;
}

/* Insertion sort of order[0..n) by `before` (n <= TG__MAX_REPLICAS). */
static void sort_by(size_t *order, size_t n, const tg__route_cand *c, const uint64_t *score, int by_score) {
    for (size_t i = 1; i < n; i++) {
        size_t v = order[i], j = i;
        while (j > 0) {
            size_t u = order[j - 1];
            int before = by_score ? score[v] > score[u] : lighter(&c[v], &c[u]);
            if (!before) break;
            order[j] = u;
            j--;
        }
        order[j] = v;
    }
}

/* Rotates o[0..k) left by rr % k (round robin's turn; least loaded's ties). */
static void rotate(size_t *o, size_t k, uint64_t rr) {
    if (k < 2) return;
    for (uint64_t r = rr % k; r > 0; r--) {
        size_t first = o[0];
        for (size_t i = 0; i + 1 < k; i++) o[i] = o[i + 1];
        o[k - 1] = first;
    }
}

/* The healthy replicas with room, in the policy's order. */
static void order_room(const tg__route_cand *c, size_t *o, size_t k, int policy, double bound, uint64_t key,
                       uint64_t rr, uint64_t all_inflight, size_t n_usable) {
    uint64_t score[64] = {0};
    rotate(o, k, rr);
    if (policy == TG__ROUTE_ROUND_ROBIN) return; /* (the indexes were ascending) */
    if (policy == TG__ROUTE_LEAST_LOADED || key == 0) {
        sort_by(o, k, c, NULL, 0); /* stable: equal loads keep the rotation */
        return;
    }
    for (size_t i = 0; i < k; i++) score[o[i]] = mix64(key ^ c[o[i]].node);
    sort_by(o, k, c, score, 1);
    /* bounded loads: those within ceil(bound x (m + 1) / n) keep their hash
     * order ahead of the rest, which follow least loaded */
    double cap = ceil(bound * (double)(all_inflight + 1) / (double)(n_usable ? n_usable : 1));
    size_t all[64] = {0}, ni = 0, no = 0;
    for (size_t i = 0; i < k; i++)
        if ((double)(c[o[i]].inflight + 1) <= cap) all[ni++] = o[i];
    for (size_t i = 0; i < k; i++)
        if ((double)(c[o[i]].inflight + 1) > cap) all[ni + no++] = o[i];
    sort_by(all + ni, no, c, NULL, 0);
    for (size_t i = 0; i < k; i++) o[i] = all[i];
}

void tg__route_order(const tg__route_cand *c, size_t n, int policy, double bound, uint64_t key, uint64_t need,
                     uint64_t rr, size_t *order) {
    if (n > 64) n = 64;
    size_t k = 0;
    uint64_t all = 0;
    size_t n_usable = 0;
    for (size_t i = 0; i < n; i++)
        if (c[i].usable) {
            all += c[i].inflight;
            n_usable++;
        }
    for (int g = 0; g < 3; g++) {
        size_t start = k;
        for (size_t i = 0; i < n; i++)
            if (group(&c[i], need) == g) order[k++] = i;
        if (g == 0) order_room(c, order + start, k - start, policy, bound, key, rr, all, n_usable);
        else sort_by(order + start, k - start, c, NULL, 0);
    }
}

/* Hashes one JSON value's compact, key-sorted text into h. */
static uint64_t hash_json(const json_t *v, uint64_t h) {
    char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!t) return h;
    h = tg__route_hash(t, strlen(t), h);
    free(t);
    return h;
}

uint64_t tg__route_key(const json_t *request) {
    const json_t *msgs = json_object_get(request, "messages");
    if (json_is_array(msgs) && json_array_size(msgs)) {
        uint64_t h = 0x7467; /* "tg" */
        for (size_t i = 0; i < json_array_size(msgs); i++) {
            const json_t *m = json_array_get(msgs, i);
            h = hash_json(m, h);
            const char *role = json_string_value(json_object_get(m, "role"));
            if (role && !strcmp(role, "user")) break;
        }
        return h ? h : 1;
    }
    const char *p = json_string_value(json_object_get(request, "prompt"));
    if (!p || !*p) return 0;
    size_t n = strlen(p);
    uint64_t h = tg__route_hash(p, n < 512 ? n : 512, 0x7467);
    return h ? h : 1;
}
