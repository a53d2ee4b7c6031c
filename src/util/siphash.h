/*
 * util/siphash.h: SipHash-2-4 with a 128-bit result (Aumasson & Bernstein),
 * the keyed hash the gateway's whole-request count cache names a request by
 * (gateway/req_fast.c). Keyed with a per-process random key, a client cannot
 * choose two bodies that collide; 128 bits make an accidental collision as
 * unlikely as a hardware fault. Incremental: feed pieces, then finish.
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
} tgx_sip;

void tgx_sip_init(tgx_sip *s, const uint8_t key[16]);
void tgx_sip_feed(tgx_sip *s, const void *data, size_t n);
/* The 16-byte digest as the reference implementation writes it. */
void tgx_sip_final128(tgx_sip *s, uint8_t out[16]);

#endif
