/*
 * tokenizer/word_cache.c: the shared, lock-free pre-token cache (contract
 * and protocol in word_cache.h).
 *
 * Slot: w[0] is the header, w[1..7] the payload (the key bytes, then the
 * ids, 4 bytes each in host order, packed right after the key).
 * Header bits: 0-31 sequence (odd while a writer holds the slot), 32-39 key
 * length (0: empty), 40-47 id count, 48-63 a tag from the hash's top bits.
 * A set is two adjacent slots; a key may sit in either.
 */
#include "tokenizer/word_cache.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

#define WORDS 8 /* 64 bytes */

typedef struct slot {
    _Alignas(64) _Atomic uint64_t w[WORDS];
} slot;

struct tg__word_cache {
    slot *slots;
    size_t mask; /* slots - 1 */
    size_t bytes;
};

tg__word_cache *tg__word_cache_new(unsigned slots_log2) {
    tg__word_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    size_t n = (size_t)1 << slots_log2;
    c->bytes = n * sizeof(slot);
    c->slots = tg__table_alloc(c->bytes); /* zeroed: every slot empty, sequence 0 */
    if (!c->slots) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    return c;
}

void tg__word_cache_free(tg__word_cache *c) {
    if (!c) return;
    tg__table_free(c->slots, c->bytes);
    free(c);
}

static inline uint64_t header(uint64_t seq, uint64_t h, size_t klen, size_t nids) {
    return (seq & 0xFFFFFFFFu) | ((uint64_t)klen << 32) | ((uint64_t)nids << 40) | (h & 0xFFFF000000000000ull);
}

static inline int same_key(uint64_t hdr, uint64_t h, size_t klen) {
    return ((hdr >> 32) & 0xFF) == klen && (hdr >> 48) == (h >> 48) && !(hdr & 1);
}

/* 1 when the klen key bytes at b equal key: 8-byte blocks and the last 8
 * bytes (klen >= 8), or the first and last 4 (4..7), or bytes 0, klen/2 and
 * klen-1 (1..3), which together cover every byte; key is read only inside
 * key[0..klen). */
static inline int key_eq(const uint8_t *b, const uint8_t *key, size_t klen) {
    if (klen >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 <= klen; i += 8) {
            memcpy(&x, b + i, 8);
            memcpy(&y, key + i, 8);
            if (x != y) return 0;
        }
        memcpy(&x, b + klen - 8, 8);
        memcpy(&y, key + klen - 8, 8);
        return x == y;
    }
    if (klen >= 4) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, b, 4);
        memcpy(&y0, key, 4);
        memcpy(&x1, b + klen - 4, 4);
        memcpy(&y1, key + klen - 4, 4);
        return x0 == y0 && x1 == y1;
    }
    /* b holds at least the klen key bytes (try_slot loads nw >= 1 words, nids being >= 1) */
    return b[0] == key[0] && b[klen >> 1] == key[klen >> 1] && b[klen - 1] == key[klen - 1]; // NOLINT(clang-analyzer-core.UndefinedBinaryOperatorResult): the analyzer misses nw >= 1
}

/* Copies slot s's payload if it holds key; returns its id count (0: not
 * there, or being written). */
static inline size_t try_slot(slot *s, uint64_t h, const uint8_t *key, size_t klen, uint32_t *ids) {
    _Atomic uint64_t *w = s->w;
    uint64_t h1 = atomic_load_explicit(&w[0], memory_order_acquire);
    if (!same_key(h1, h, klen)) return 0;
    size_t nids = (size_t)((h1 >> 40) & 0xFF);
    size_t nw = (klen + 4 * nids + 7) / 8;
    if (nids == 0 || nw > WORDS - 1) return 0;
    uint64_t buf[WORDS - 1];
    for (size_t i = 0; i < nw; i++) buf[i] = atomic_load_explicit(&w[1 + i], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&w[0], memory_order_relaxed) != h1) return 0;
    const uint8_t *b = (const uint8_t *)buf;
    if (!key_eq(b, key, klen)) return 0;
    for (size_t i = 0; i < nids; i++) memcpy(&ids[i], b + klen + 4 * i, 4);
    return nids;
}

size_t tg__word_cache_get(const tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen,
                          uint32_t *ids) {
    if (!c || klen == 0 || klen > TG__WC_PAYLOAD - 4) return 0;
    slot *set = &c->slots[(size_t)h & c->mask & ~(size_t)1]; /* the table is mutable behind a const cache */
    size_t n = try_slot(&set[0], h, key, klen, ids);
    return n ? n : try_slot(&set[1], h, key, klen, ids);
}

void tg__word_cache_put(tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen, const uint32_t *ids,
                        size_t nids) {
    if (!c || !tg__word_cache_fits(klen, nids)) return;
    slot *set = &c->slots[(size_t)h & c->mask & ~(size_t)1];
    /* the victim: an empty slot of the set, else the one the hash picks */
    uint64_t h0 = atomic_load_explicit(&set[0].w[0], memory_order_relaxed);
    uint64_t h1 = atomic_load_explicit(&set[1].w[0], memory_order_relaxed);
    int v = ((h0 >> 32) & 0xFF) == 0 ? 0 : ((h1 >> 32) & 0xFF) == 0 ? 1 : (int)((h >> 47) & 1);
    _Atomic uint64_t *w = set[v].w;
    uint64_t old = v ? h1 : h0;
    if ((old & 1) || !atomic_compare_exchange_strong_explicit(&w[0], &old, old | 1, memory_order_acquire,
                                                              memory_order_relaxed))
        return; /* another writer holds it: caching is optional */
    atomic_thread_fence(memory_order_release); /* the odd sequence before the payload */
    uint64_t buf[WORDS - 1] = {0};
    memcpy(buf, key, klen);
    memcpy((uint8_t *)buf + klen, ids, 4 * nids);
    size_t nw = (klen + 4 * nids + 7) / 8;
    for (size_t i = 0; i < nw; i++) atomic_store_explicit(&w[1 + i], buf[i], memory_order_relaxed);
    atomic_store_explicit(&w[0], header((old | 1) + 1, h, klen, nids), memory_order_release);
}
