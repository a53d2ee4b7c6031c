/*
 * tokenizer/word_cache.h: the pre-token cache a tokenizer keeps across calls
 * and threads (pre-token bytes -> its BPE ids), in front of the BPE model
 * (bpe.c). A gateway counts the same words all day; this makes the second
 * and later sight of a word one cache line read.
 *
 * Bounded: a fixed table of slots of 64 bytes (one cache line) or more,
 * two-way set associative, an entry replaces another when the set is full.
 * A slot holds the key and its ids (key bytes + 4 per id) in its size less
 * 8 bytes. bpe.c keeps three: 32-byte slots of a fixed layout for keys of
 * up to 8 bytes with up to 4 ids (the compact tier, at the end of this
 * file), 64-byte slots for short words and 512-byte slots for longer
 * pre-tokens and short ones of many ids (SentencePiece words with their
 * leading spaces, runs of indentation, CJK phrases); the rest goes through
 * the per-call cache (bpe.c).
 *
 * Concurrency: any number of threads may call get and put at once on one
 * cache, with no lock. Each slot is a sequence lock made of C11 atomics:
 * a writer claims a slot by moving its sequence from even to odd with a
 * compare-and-swap (giving up if another writer holds it: caching is
 * optional), writes, and publishes with a release store of the next even
 * value; a reader copies the slot with relaxed loads between two reads of the
 * sequence and uses the copy only if both reads are equal and even. Readers
 * never write, so hot words read by many threads cause no cache-line traffic.
 * All slot words are atomics, so the protocol is data-race free in the C11
 * model (ThreadSanitizer agrees); tests/tokenizer/test_word_cache.c checks
 * that concurrent encodes give exactly the ids of a single-threaded encode.
 */
#ifndef TG_TOKENIZER_WORD_CACHE_H
#define TG_TOKENIZER_WORD_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct tg__word_cache tg__word_cache;

#define TG__WC_MAX_PAYLOAD 504 /* bytes of key + ids the largest slot (512 bytes) holds */

/* A cache of 2^slots_log2 slots of slot_bytes each (64..512, a multiple of
 * 64; pages are touched only as slots are used), or NULL when out of memory
 * or the size is not one of those. */
tg__word_cache *tg__word_cache_new(unsigned slots_log2, size_t slot_bytes);
void tg__word_cache_free(tg__word_cache *c);

/* 1 when key[0..klen) with nids ids fits a slot of c (payload bytes). */
static inline int tg__word_cache_fits_in(size_t payload, size_t klen, size_t nids) {
    return klen > 0 && nids > 0 && klen + 4 * nids <= payload;
}

/* Looks key (hash h) up; on a hit copies its ids to ids (room for
 * TG__WC_MAX_PAYLOAD / 4) and returns their count, else returns 0. */
size_t tg__word_cache_get(const tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen,
                          uint32_t *ids);

/* Starts loading the set of key hash h into the CPU cache (a hint, for a
 * get that follows soon; no effect on results). */
void tg__word_cache_prefetch(const tg__word_cache *c, uint64_t h);

/* Enters key -> ids when it fits and the chosen slot is not being written
 * by another thread; otherwise does nothing. */
void tg__word_cache_put(tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen, const uint32_t *ids,
                        size_t nids);

/* ---- the small tier's probe, inline in the encoder's loop (bpe.c) ----
 * Slot layout (word_cache.c): `words` 64-bit words; w[0] is the header, w[1..]
 * the payload (the key bytes, then the ids, 4 bytes each in host order).
 * Header bits: 0-31 sequence (odd while a writer holds the slot), 32-41 key
 * length (0: empty), 42-49 id count, 50-63 a tag from the hash's top bits.
 * A set is two adjacent slots; a key may sit in either. */
struct tg__word_cache {
    _Atomic uint64_t *w; /* slot i at w + i * words, 64-byte aligned */
    void *mem;           /* the same memory, for tg__table_free */
    size_t words;        /* per slot */
    size_t mask;         /* slots - 1 */
    size_t bytes;
};

#define TG__WC_KLEN(hdr) ((size_t)(((hdr) >> 32) & 0x3FF))
#define TG__WC_NIDS(hdr) ((size_t)(((hdr) >> 42) & 0xFF))
#define TG__WC_TAG_MASK 0xFFFC000000000000ull

static inline int tg__wc_same_key(uint64_t hdr, uint64_t h, size_t klen) {
    return TG__WC_KLEN(hdr) == klen && (hdr & TG__WC_TAG_MASK) == (h & TG__WC_TAG_MASK) && !(hdr & 1);
}

/* 1 when the klen key bytes at b equal key: 8-byte blocks and the last 8
 * bytes (klen >= 8), or the first and last 4 (4..7), or bytes 0, klen/2 and
 * klen-1 (1..3), which together cover every byte; key is read only inside
 * key[0..klen). */
static inline int tg__wc_key_eq(const uint8_t *b, const uint8_t *key, size_t klen) {
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

/* One slot of a 64-byte-slot cache: the whole payload in 7 loads, the
 * sequence checked as in word_cache.c's try_slot, the ids (at most 14)
 * copied 16 bytes at a time, so ids needs room for 16. */
static inline size_t tg__wc_try_slot8(_Atomic uint64_t *w, uint64_t h, const uint8_t *key, size_t klen,
                                      uint32_t *ids) {
    uint64_t h1 = atomic_load_explicit(&w[0], memory_order_acquire);
    if (!tg__wc_same_key(h1, h, klen)) return 0;
    uint64_t buf[9];
#define LD(i) buf[i] = atomic_load_explicit(&w[1 + (i)], memory_order_relaxed)
    LD(0); LD(1); LD(2); LD(3); LD(4); LD(5); LD(6); /* spelled out: compilers keep a loop of atomics */
#undef LD
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&w[0], memory_order_relaxed) != h1) return 0;
    size_t nids = TG__WC_NIDS(h1);
    if (nids == 0 || klen + 4 * nids > 56) return 0;
    buf[7] = buf[8] = 0;
    const uint8_t *b = (const uint8_t *)buf;
    if (!tg__wc_key_eq(b, key, klen)) return 0;
    for (size_t i = 0; i < 4 * nids; i += 16) memcpy((uint8_t *)ids + i, b + klen + i, 16);
    return nids;
}

/* A switch case that falls through on purpose: GCC takes a comment, clang
 * (the fuzz build) only the attribute. */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 7)
#define TG__FALLTHROUGH __attribute__((fallthrough))
#else
#define TG__FALLTHROUGH ((void)0)
#endif

/* tg__wc_try_slot8 for a key of 1..8 bytes given as kw, the 8 bytes at the
 * key masked to its length as a little-endian load gives them (the first
 * payload word holds them the same way): loads only the payload words the
 * entry uses. Little-endian hosts only (bpe.c checks). */
static inline size_t tg__wc_try_slot8w(_Atomic uint64_t *w, uint64_t h, uint64_t kw, size_t klen, uint32_t *ids) {
    uint64_t h1 = atomic_load_explicit(&w[0], memory_order_acquire);
    if (!tg__wc_same_key(h1, h, klen)) return 0;
    size_t nids = TG__WC_NIDS(h1);
    if (nids == 0 || klen + 4 * nids > 56) return 0;
    uint64_t buf[9] = {0};
#define LD(i) buf[i] = atomic_load_explicit(&w[1 + (i)], memory_order_relaxed)
    switch ((klen + 4 * nids + 7) >> 3) { /* 1..7 words, each case falls through */
    case 7: LD(6); TG__FALLTHROUGH;
    case 6: LD(5); TG__FALLTHROUGH;
    case 5: LD(4); TG__FALLTHROUGH;
    case 4: LD(3); TG__FALLTHROUGH;
    case 3: LD(2); TG__FALLTHROUGH;
    case 2: LD(1); TG__FALLTHROUGH;
    default: LD(0);
    }
#undef LD
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&w[0], memory_order_relaxed) != h1) return 0;
    if ((buf[0] & (klen == 8 ? ~0ull : (1ull << (8 * klen)) - 1)) != kw) return 0;
    const uint8_t *b = (const uint8_t *)buf;
    for (size_t i = 0; i < 4 * nids; i += 16) memcpy((uint8_t *)ids + i, b + klen + i, 16);
    return nids;
}

/* tg__word_cache_get64 for a key of 1..8 bytes as tg__wc_try_slot8w takes it. */
static inline size_t tg__word_cache_get64w(const tg__word_cache *c, uint64_t h, uint64_t kw, size_t klen,
                                           uint32_t *ids) {
    if (!c || c->words != 8 || klen == 0 || klen > 8) return 0;
    _Atomic uint64_t *set = c->w + ((size_t)h & c->mask & ~(size_t)1) * 8;
    size_t n = tg__wc_try_slot8w(set, h, kw, klen, ids);
    return n ? n : tg__wc_try_slot8w(set + 8, h, kw, klen, ids);
}

/* tg__word_cache_get for a cache of 64-byte slots (the small tier; 0 for
 * any other), inline, with fixed-size loads and copies; ids needs room for
 * 16 ids (the copy's tail past the count stays inside that). */
static inline size_t tg__word_cache_get64(const tg__word_cache *c, uint64_t h, const uint8_t *key, size_t klen,
                                          uint32_t *ids) {
    if (!c || c->words != 8 || klen == 0) return 0; /* only for 64-byte slots */
    _Atomic uint64_t *set = c->w + ((size_t)h & c->mask & ~(size_t)1) * 8;
    size_t n = tg__wc_try_slot8(set, h, key, klen, ids);
    return n ? n : tg__wc_try_slot8(set + 8, h, key, klen, ids);
}


/* ---- the compact tier: 32-byte slots (issue 17, round 4) ----
 * Most pre-tokens are short and one or two ids ("the", " of", ",\n"): a
 * key of 1..8 bytes with 1..4 ids sits in a 32-byte slot of a fixed layout,
 * two slots a set, so a set is one cache line and a probe one line read
 * (the 64-byte tier's set is two). A cache made by tg__word_cache_new with
 * slot_bytes 32 is used only through get32 / put32 (tg__word_cache_get and
 * _put refuse it). Slot: w[0] header (bits 0-31 sequence, odd while written;
 * 32-35 key length, 0 empty; 36-38 id count), w[1] the key bytes as a
 * little-endian load gives them, zero above the length, w[2..3] the ids, 4
 * bytes each in host order, zero after the count. Same sequence-lock
 * protocol as above. Little-endian hosts only (bpe.c checks). */
#define TG__WC32_KEY 8 /* the longest key of the compact tier */
#define TG__WC32_IDS 4 /* the most ids */

/* 1 when a key of klen bytes with nids ids goes to the compact tier. */
static inline int tg__word_cache_fits32(size_t klen, size_t nids) {
    return klen > 0 && klen <= TG__WC32_KEY && nids > 0 && nids <= TG__WC32_IDS;
}

static inline size_t tg__wc_try_slot4(_Atomic uint64_t *w, uint64_t kw, size_t klen, uint32_t *ids) {
    uint64_t h1 = atomic_load_explicit(&w[0], memory_order_acquire);
    if ((h1 & (0xFull << 32 | 1)) != (uint64_t)klen << 32) return 0; /* other length, empty, or being written */
    uint64_t k = atomic_load_explicit(&w[1], memory_order_relaxed);
    uint64_t a = atomic_load_explicit(&w[2], memory_order_relaxed);
    uint64_t b = atomic_load_explicit(&w[3], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&w[0], memory_order_relaxed) != h1 || k != kw) return 0;
    memcpy(ids, &a, 8);
    memcpy(ids + 2, &b, 8);
    return (size_t)(h1 >> 36) & 7;
}

/* Looks up a key of 1..8 bytes given as kw (the masked load, see above),
 * hash h; on a hit writes 4 ids' room at ids (the count's worth are the
 * ids) and returns the count, else 0. */
static inline size_t tg__word_cache_get32(const tg__word_cache *c, uint64_t h, uint64_t kw, size_t klen,
                                          uint32_t *ids) {
    _Atomic uint64_t *set = c->w + ((size_t)h & c->mask & ~(size_t)1) * 4;
    size_t n = tg__wc_try_slot4(set, kw, klen, ids);
    return n ? n : tg__wc_try_slot4(set + 4, kw, klen, ids);
}

/* tg__word_cache_prefetch, inline: starts loading the set of hash h (the
 * first line of it; a 64-byte-slot set is two: both). */
static inline void tg__word_cache_prefetch_inline(const tg__word_cache *c, uint64_t h) {
    const char *set = (const char *)c->mem + ((size_t)h & c->mask & ~(size_t)1) * c->words * 8; /* c->w's set */
    __builtin_prefetch(set);
    if (c->words == 8) __builtin_prefetch(set + 64);
}

/* Enters kw (klen bytes) -> ids[0..nids) when tg__word_cache_fits32 and the
 * chosen slot is not being written by another thread; else does nothing. */
void tg__word_cache_put32(tg__word_cache *c, uint64_t h, uint64_t kw, size_t klen, const uint32_t *ids,
                          size_t nids);

#endif
