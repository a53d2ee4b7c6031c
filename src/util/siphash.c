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

/* One message word through C compression rounds (C a constant at each call). */
static inline __attribute__((always_inline)) void compress(tgx_sip *s, uint64_t m, int c) {
    s->v3 ^= m;
    for (int r = 0; r < c; r++) {
        s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
        s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
        s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
        s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
    }
    s->v0 ^= m;
}

static inline void rounds(tgx_sip *s, int n) {
    for (int r = 0; r < n; r++) {
        s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
        s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
        s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
        s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
    }
}

static inline void word(tgx_sip *s, uint64_t m) {
    if (s->crounds == 1) compress(s, m, 1);
    else compress(s, m, 2);
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

void tgx_sip_feed(tgx_sip *s, const void *data, size_t n) {
    const uint8_t *p = data;
    s->total += n;
    while (n && s->ntail) { /* finish a pending word first */
        s->tail |= (uint64_t)*p++ << (8 * s->ntail);
        n--;
        if (++s->ntail == 8) {
            word(s, s->tail);
            s->tail = 0;
            s->ntail = 0;
        }
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LOAD(m, p) (m) = le64(p)
#else
#define LOAD(m, p) memcpy(&(m), (p), 8)
#endif
    if (s->crounds == 1) {
        for (; n >= 8; p += 8, n -= 8) {
            uint64_t m;
            LOAD(m, p);
            compress(s, m, 1);
        }
    } else {
        for (; n >= 8; p += 8, n -= 8) {
            uint64_t m;
            LOAD(m, p);
            compress(s, m, 2);
        }
    }
    for (size_t i = 0; i < n; i++) s->tail |= (uint64_t)p[i] << (8 * s->ntail++);
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
