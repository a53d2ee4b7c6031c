/*
 * util/siphash.h: SipHash with a 128-bit result (Aumasson & Bernstein), the
 * keyed hash the gateway's whole-request count cache names a request by
 * (gateway/req_fast.c, which runs SipHash-1-3: the variant Rust's and
 * Python's hash tables use against chosen collisions, at half the cost of
 * 2-4 per byte). Keyed with a per-process random key, a client cannot choose
 * two bodies that collide; 128 bits make an accidental collision as unlikely
 * as a hardware fault. Incremental: feed pieces, then finish.
 */
#ifndef TG_UTIL_SIPHASH_H
#define TG_UTIL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct tgx_sip {
    uint64_t v0, v1, v2, v3;
    uint64_t tail;   /* up to 7 pending bytes, little-endian */
    size_t ntail;
    uint64_t total;  /* bytes fed */
    int crounds, drounds;
} tgx_sip;

/* SipHash-2-4. */
void tgx_sip_init(tgx_sip *s, const uint8_t key[16]);
/* SipHash-CROUNDS-DROUNDS (CROUNDS 1 or 2). */
void tgx_sip_init_rounds(tgx_sip *s, const uint8_t key[16], int crounds, int drounds);
void tgx_sip_feed(tgx_sip *s, const void *data, size_t n);
/* The 16-byte digest as the reference implementation writes it. */
void tgx_sip_final128(tgx_sip *s, uint8_t out[16]);

#endif
