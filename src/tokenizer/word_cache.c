/*
 * tokenizer/word_cache.c: the shared, lock-free pre-token cache (contract
 * and protocol in word_cache.h).
 *
 * Slot: `words` 64-bit words; w[0] is the header, w[1..] the payload (the
 * key bytes, then the ids, 4 bytes each in host order, packed right after
 * the key).
 * Header bits: 0-31 sequence (odd while a writer holds the slot), 32-41 key
 * length (0: empty), 42-49 id count, 50-63 a tag from the hash's top bits.
 * A set is two adjacent slots; a key may sit in either.
 */
#include "tokenizer/word_cache.h"

#include <stdlib.h>

#include "tokenizer/tokenizer_internal.h"

#define MAX_WORDS (TG__WC_MAX_PAYLOAD / 8 + 1)

tg__word_cache *tg__word_cache_new(unsigned slots_log2, size_t slot_bytes) {
    if (slot_bytes != 32 && (slot_bytes < 64 || slot_bytes > TG__WC_MAX_PAYLOAD + 8 || slot_bytes % 64))
        return NULL;
    tg__word_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    size_t n = (size_t)1 << slots_log2;
    c->words = slot_bytes / 8;
    c->bytes = n * slot_bytes;
    c->mem = tg__table_alloc(c->bytes); /* zeroed: every slot empty, sequence 0 */
    c->w = c->mem;
    if (!c->w) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    return c;
}

void tg__word_cache_free(tg__word_cache *c) {
    if (!c) return;
    tg__table_free(c->mem, c->bytes);
    free(c);
}

#define KLEN TG__WC_KLEN
#define NIDS TG__WC_NIDS
#define TAG_MASK TG__WC_TAG_MASK

static inline uint64_t header(uint64_t seq, uint64_t h, size_t klen, size_t nids) {
    return (seq & 0xFFFFFFFFu) | ((uint64_t)klen << 32) | ((uint64_t)nids << 42) | (h & TAG_MASK);
}

/* Copies slot w's payload if it holds key; returns its id count (0: not
 * there, or being written). */
static inline __attribute__((always_inline)) size_t try_slot(_Atomic uint64_t *w, size_t words, uint64_t h, const uint8_t *key, size_t klen,
                              uint32_t *ids) {
    uint64_t h1 = atomic_load_explicit(&w[0], memory_order_acquire);
    if (!tg__wc_same_key(h1, h, klen)) return 0;
    size_t nids = NIDS(h1);
    size_t nw = (klen + 4 * nids + 7) / 8;
    if (nids == 0 || nw > words - 1) return 0;
    uint64_t buf[MAX_WORDS - 1];
    for (size_t i = 0; i < nw; i++) buf[i] = atomic_load_explicit(&w[1 + i], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&w[0], memory_order_relaxed) != h1) return 0;
    const uint8_t *b = (const uint8_t *)buf;
    if (!tg__wc_key_eq(b, key, klen)) return 0;
    memcpy(ids, b + klen, 4 * nids);
    return nids;
}

/* The first slot of key h's set. */
static inline _Atomic uint64_t *set_of(const tg__word_cache *c, uint64_t h) {
    return c->w + ((size_t)h & c->mask & ~(size_t)1) * c->words; /* mutable behind a const cache */
}

size_t tg__word_cache_get(const tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen,
                          uint32_t *ids) {
    if (!c || c->words < 8 || klen == 0 || klen + 4 > (c->words - 1) * 8) return 0; /* not the 32-byte tier */
    _Atomic uint64_t *set = set_of(c, h);
    size_t n = try_slot(set, c->words, h, key, klen, ids);
    return n ? n : try_slot(set + c->words, c->words, h, key, klen, ids);
}

void tg__word_cache_prefetch(const tg__word_cache *c, uint64_t h) {
    if (!c) return;
    const char *set = (const char *)c->mem + ((size_t)h & c->mask & ~(size_t)1) * c->words * 8; /* set_of's */
    __builtin_prefetch(set);
    __builtin_prefetch(set + c->words * 8);
}

void tg__word_cache_put(tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen, const uint32_t *ids,
                        size_t nids) {
    if (!c || c->words < 8 || nids > 0xFF || !tg__word_cache_fits_in((c->words - 1) * 8, klen, nids)) return;
    _Atomic uint64_t *set = set_of(c, h);
    /* the victim: an empty slot of the set, else the one the hash picks */
    uint64_t h0 = atomic_load_explicit(&set[0], memory_order_relaxed);
    uint64_t h1 = atomic_load_explicit(&set[c->words], memory_order_relaxed);
    int v = KLEN(h0) == 0 ? 0 : KLEN(h1) == 0 ? 1 : (int)((h >> 47) & 1);
    _Atomic uint64_t *w = set + (size_t)v * c->words;
    uint64_t old = v ? h1 : h0;
    if ((old & 1) || !atomic_compare_exchange_strong_explicit(&w[0], &old, old | 1, memory_order_acquire,
                                                              memory_order_relaxed))
        return; /* another writer holds it: caching is optional */
    atomic_thread_fence(memory_order_release); /* the odd sequence before the payload */
    uint64_t buf[MAX_WORDS - 1];
    size_t nw = (klen + 4 * nids + 7) / 8;
    buf[nw - 1] = 0; /* the padding after the ids */
    memcpy(buf, key, klen);
    memcpy((uint8_t *)buf + klen, ids, 4 * nids);
    for (size_t i = 0; i < nw; i++) atomic_store_explicit(&w[1 + i], buf[i], memory_order_relaxed);
    atomic_store_explicit(&w[0], header((old | 1) + 1, h, klen, nids), memory_order_release);
}

void tg__word_cache_put32(tg__word_cache *c, uint64_t h, uint64_t kw, size_t klen, const uint32_t *ids,
                          size_t nids) {
    if (!c || c->words != 4 || !tg__word_cache_fits32(klen, nids)) return;
    _Atomic uint64_t *set = c->w + ((size_t)h & c->mask & ~(size_t)1) * 4;
    uint64_t h0 = atomic_load_explicit(&set[0], memory_order_relaxed);
    uint64_t h1 = atomic_load_explicit(&set[4], memory_order_relaxed);
    int v = (h0 >> 32 & 0xF) == 0 ? 0 : (h1 >> 32 & 0xF) == 0 ? 1 : (int)((h >> 47) & 1);
    _Atomic uint64_t *w = set + (size_t)v * 4;
    uint64_t old = v ? h1 : h0;
    if ((old & 1) || !atomic_compare_exchange_strong_explicit(&w[0], &old, old | 1, memory_order_acquire,
                                                              memory_order_relaxed))
        return; /* another writer holds it: caching is optional */
    atomic_thread_fence(memory_order_release); /* the odd sequence before the payload */
    uint32_t v4[4] = {0, 0, 0, 0};
    memcpy(v4, ids, 4 * nids);
    uint64_t a, b;
    memcpy(&a, v4, 8);
    memcpy(&b, v4 + 2, 8);
    atomic_store_explicit(&w[1], kw, memory_order_relaxed);
    atomic_store_explicit(&w[2], a, memory_order_relaxed);
    atomic_store_explicit(&w[3], b, memory_order_relaxed);
    uint64_t seq = ((old | 1) + 1) & 0xFFFFFFFFu;
    atomic_store_explicit(&w[0], seq | (uint64_t)klen << 32 | (uint64_t)nids << 36, memory_order_release);
}
