/*
 * tokenizer/word_cache.h: the pre-token cache a tokenizer keeps across calls
 * and threads (pre-token bytes -> its BPE ids), in front of the BPE model
 * (bpe.c). A gateway counts the same words all day; this makes the second
 * and later sight of a word one cache line read.
 *
 * Bounded: a fixed table of slots of 64 bytes (one cache line) or more,
 * two-way set associative, an entry replaces another when the set is full.
 * A slot holds the key and its ids (key bytes + 4 per id) in its size less
 * 8 bytes. bpe.c keeps two: 64-byte slots for short words and 512-byte slots
 * for longer pre-tokens (SentencePiece words with their leading spaces,
 * runs of indentation, CJK phrases); the rest goes through the per-call
 * cache (bpe.c).
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

#include <stddef.h>
#include <stdint.h>

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

#endif
