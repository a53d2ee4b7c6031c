/*
 * tokenizer/bpe_core.h: what the BPE merge core's files share (internal to
 * bpe.c and bpe_runs.c): the symbol list a word is merged in, the merge
 * table's lookup, and the per-scratch cache in front of it used for long
 * words. bpe.c owns the model, the scratch and the symbol/heap/bucket paths;
 * bpe_runs.c the compressed forms (runs of one symbol, repeated units).
 */
#ifndef TG_TOKENIZER_BPE_CORE_H
#define TG_TOKENIZER_BPE_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tokenizer/tokenizer_internal.h"

#define MERGE_EMPTY 0 /* slots hold pair_key + 1 */

/* Room for n more ids in out (doubling from 64). */
static inline tg_status tg__bpe_reserve_ids(tg_tokens *out, size_t n) {
    if (out->len + n > out->cap) {
        size_t cap = out->cap ? out->cap : 64;
        while (cap < out->len + n) cap *= 2;
        uint32_t *p = realloc(out->ids, cap * sizeof *p);
        if (!p) return TG_ENOMEM;
        out->ids = p;
        out->cap = cap;
    }
    return TG_OK;
}

typedef struct sym {
    uint32_t id;
    int32_t prev, next;
    uint32_t len;   /* 0: merged away */
} sym;

static inline uint64_t pair_key(uint32_t a, uint32_t b) { return ((uint64_t)a << 32) | b; }

/* The merge table's home slot of pair key k. The product's high half
 * depends on every bit of both ids; folded onto the low half so that any
 * table size takes well-mixed bits (bits 20.. alone saw only the left id's
 * low bits: pairs sharing a right id and those bits piled up in one
 * cluster, about 9 probes a lookup on long random words). */
static inline size_t merge_home(const tg__bpe *b, uint64_t k) {
    uint64_t x = k * 0x9E3779B97F4A7C15ull;
    return (size_t)(x ^ (x >> 32)) & b->merge_mask;
}

static inline const tg__merge_slot *merge_find(const tg__bpe *b, uint32_t l, uint32_t r) {
    uint64_t k = pair_key(l, r);
    size_t i = merge_home(b, k);
    k++;
    for (;;) {
        const tg__merge_slot *s = &b->merges[i];
        if (s->key == k) return s;
        if (s->key == MERGE_EMPTY) return NULL;
        i = (i + 1) & b->merge_mask;
    }
}


/* The pair filter (tg__bpe.pair_filter): a pair whose 3 bits are not all
 * set in its word has no merge. Random long words ask for many pairs once
 * each, most of them with no merge; the filter (8 bits a merge, at most a
 * few hundred KB) stays in L2 where the merge table (4-8 MB) does not. */
static inline uint64_t pf_hash(uint64_t k) {
    uint64_t x = k * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 29;
    x *= 0x165667B19E3779F9ull;
    return x ^ (x >> 32);
}

static inline uint64_t pf_bits(uint64_t x) {
    return ((uint64_t)1 << (x & 63)) | ((uint64_t)1 << ((x >> 6) & 63)) | ((uint64_t)1 << ((x >> 12) & 63));
}

/* 0: pair key k has no merge; 1: it may have one (ask merge_find). */
static inline int pf_maybe(const tg__bpe *b, uint64_t k) {
    if (!b->pair_filter) return 1;
    uint64_t x = pf_hash(k), m = pf_bits(x);
    return (b->pair_filter[(size_t)(x >> 40) & b->pf_mask] & m) == m;
}

/* Builds b->pair_filter from the merge table (left NULL when out of memory:
 * every pair then goes to the table). */
void tg__bpe_pair_filter_build(tg__bpe *b);

/* A direct-mapped cache in front of the merge table for long words: their
 * pairs repeat a lot, and the big table's random probes are cache misses.
 * Negative answers are cached too (rank UINT32_MAX). */
#define MCACHE_BITS 14
typedef struct mcache_ent {
    uint64_t key;
    uint32_t rank, new_id;
} mcache_ent;

static inline int mc_find(const tg__bpe *b, mcache_ent *mc, uint32_t l, uint32_t r, uint32_t *rank,
                          uint32_t *new_id) {
    uint64_t k = pair_key(l, r);
    mcache_ent *e = &mc[(size_t)((k * 0xD6E8FEB86659FD93ull) >> (64 - MCACHE_BITS))];
    if (e->key != k) {
        const tg__merge_slot *m = pf_maybe(b, k) ? merge_find(b, l, r) : NULL;
        e->key = k;
        e->rank = m ? m->rank : UINT32_MAX;
        e->new_id = m ? m->new_id : 0;
    }
    *rank = e->rank;
    *new_id = e->new_id;
    return e->rank != UINT32_MAX;
}

/* Merges the word in y[0..*k) (symbols of length 1 or more, linked in
 * order) in compressed form when it is a few runs of one symbol or one unit
 * repeated, appending its ids to out: *done = 1. *done = 0 when it is not one
 * (y unchanged) or the compressed form handed back a state HF passes through
 * (y[0..*k) then holds it, to be finished by the symbol path). y has room for
 * the original *k symbols. */
tg_status tg__bpe_run_word(const tg__bpe *b, sym *y, mcache_ent *mc, size_t *k, tg_tokens *out, int *done);

#endif
