/* util/siphash.c: SipHash-c-d with a 128-bit result, incremental; see
 * siphash.h. SipHash-2-4 is checked against the reference implementation's
 * published vectors (tests/policy/test_req_scan.c); 1-3 is the same code
 * with fewer rounds. */
#include "util/siphash.h"

#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* One SipRound on four locals (the state is loaded into registers for a
 * whole feed: through S's fields, every byte load from the message, which
 * may alias them, made the compiler store and reload the state each round). */
#define SIPROUND(v0, v1, v2, v3)                                                                                     \
    do {                                                                                                              \
        (v0) += (v1); (v1) = ROTL((v1), 13); (v1) ^= (v0); (v0) = ROTL((v0), 32);                                     \
        (v2) += (v3); (v3) = ROTL((v3), 16); (v3) ^= (v2);                                                            \
        (v0) += (v3); (v3) = ROTL((v3), 21); (v3) ^= (v0);                                                            \
        (v2) += (v1); (v1) = ROTL((v1), 17); (v1) ^= (v2); (v2) = ROTL((v2), 32);                                     \
    } while (0)

/* One message word through C compression rounds (C a constant at each call). */
static inline __attribute__((always_inline)) void compress(tgx_sip *s, uint64_t m, int c) {
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3 ^ m;
    for (int r = 0; r < c; r++) SIPROUND(v0, v1, v2, v3);
    s->v0 = v0 ^ m;
    s->v1 = v1;
    s->v2 = v2;
    s->v3 = v3;
}

static inline void rounds(tgx_sip *s, int n) {
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
    for (int r = 0; r < n; r++) SIPROUND(v0, v1, v2, v3);
    s->v0 = v0;
    s->v1 = v1;
    s->v2 = v2;
    s->v3 = v3;
}

static inline void word(tgx_sip *s, uint64_t m) {
    if (s->crounds == 1) compress(s, m, 1);
    else compress(s, m, 2);
}

/* The first K (0..7) bytes at P as a little-endian word: at most three
 * loads (4, 2, 1 bytes), where a byte loop cost ~6 instructions a byte. */
static inline uint64_t le_partial(const uint8_t *p, size_t k) {
    uint64_t v = 0;
    size_t i = 0;
    if (k & 4) {
        v = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
        i = 4;
    }
    if (k & 2) {
        v |= ((uint64_t)p[i] | (uint64_t)p[i + 1] << 8) << (8 * i);
        i += 2;
    }
    if (k & 1) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void tgx_sip_init(tgx_sip *s, const uint8_t key[16]) { tgx_sip_init_rounds(s, key, 2, 4); }

void tgx_sip_init_rounds(tgx_sip *s, const uint8_t key[16], int crounds, int drounds) {
    s->crounds = crounds == 1 ? 1 : 2;
    s->drounds = drounds;
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    s->v0 = 0x736f6d6570736575ull ^ k0;
    s->v1 = 0x646f72616e646f6dull ^ k1 ^ 0xee; /* 128-bit output */
    s->v2 = 0x6c7967656e657261ull ^ k0;
    s->v3 = 0x7465646279746573ull ^ k1;
    s->tail = 0;
    s->ntail = 0;
    s->total = 0;
}

/* The whole words of P (N >= 8 bytes: N / 8 of them) through C rounds each,
 * the state in locals. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LOAD(m, p) (m) = le64(p)
#else
#define LOAD(m, p) memcpy(&(m), (p), 8)
#endif
static inline __attribute__((always_inline)) void words(tgx_sip *s, const uint8_t *p, size_t n, int c) {
    uint64_t v0 = s->v0, v1 = s->v1, v2 = s->v2, v3 = s->v3;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t m;
        LOAD(m, p);
        v3 ^= m;
        for (int r = 0; r < c; r++) SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    s->v0 = v0;
    s->v1 = v1;
    s->v2 = v2;
    s->v3 = v3;
}

void tgx_sip_feed(tgx_sip *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->total += n;
    if (!n) return; /* (DATA may be NULL then) */
    if (s->ntail) { /* finish a pending word first */
        size_t k = 8 - s->ntail;
        if (k > n) k = n;
        s->tail |= le_partial(p, k) << (8 * s->ntail);
        s->ntail += k;
        p += k;
        n -= k;
        if (s->ntail < 8) return; /* all of it went into the pending word */
        word(s, s->tail);
        s->tail = 0;
        s->ntail = 0;
    }
    if (n >= 8) {
        if (s->crounds == 1) words(s, p, n, 1);
        else words(s, p, n, 2);
        p += n & ~(size_t)7;
        n &= 7;
    }
    s->tail = le_partial(p, n); /* nothing is pending here: 0..7 bytes start the next word */
    s->ntail = n;
}

static void put64(uint8_t *o, uint64_t v) {
    for (int i = 0; i < 8; i++) o[i] = (uint8_t)(v >> (8 * i));
}

void tgx_sip_final128(tgx_sip *s, uint8_t out[16]) {
    uint64_t b = (s->total << 56) | s->tail;
    word(s, b);
    s->v2 ^= 0xee;
    rounds(s, s->drounds);
    put64(out, s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
    s->v1 ^= 0xdd;
    rounds(s, s->drounds);
    put64(out + 8, s->v0 ^ s->v1 ^ s->v2 ^ s->v3);
}
