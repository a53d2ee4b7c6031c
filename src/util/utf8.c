/* utf8.c: strict UTF-8 per RFC 3629 (Table 3-7 of the Unicode standard):
 * decoding, encoding, and whole-text validation (an ASCII skip 16 bytes a
 * step, the multi-byte runs checked inline). */
#include "util/utf8.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

size_t tgx_utf8_seqlen(uint8_t c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if (c >= 0xE0 && c <= 0xEF) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

size_t tgx_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    uint8_t c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    size_t len = tgx_utf8_seqlen(c);
    if (len == 0 || len > n) return 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F; /* no surrogates */
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (s[1] < lo || s[1] > hi) return 0;
    uint32_t v = (uint32_t)c & (0x7Fu >> len);
    v = (v << 6) | (s[1] & 0x3Fu);
    for (size_t i = 2; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    *cp = v;
    return len;
}

size_t tgx_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) return 0;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One multi-byte sequence at s[i] (s[i] >= 0x80): its length, or 0 when it
 * is not valid UTF-8. The same ranges as tgx_utf8_decode, inline, no code
 * point built. */
static inline size_t seq_ok(const uint8_t *s, size_t n, size_t i) {
    uint8_t c = s[i];
    size_t left = n - i;
    if (c < 0xC2) return 0;
    if (c <= 0xDF) return left >= 2 && (s[i + 1] & 0xC0) == 0x80 ? 2 : 0;
    if (c <= 0xEF) {
        if (left < 3) return 0;
        uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF; /* overlongs; surrogates */
        return s[i + 1] >= lo && s[i + 1] <= hi && (s[i + 2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c <= 0xF4) {
        if (left < 4) return 0;
        uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF; /* overlongs; > U+10FFFF */
        return s[i + 1] >= lo && s[i + 1] <= hi && (s[i + 2] & 0xC0) == 0x80 && (s[i + 3] & 0xC0) == 0x80 ? 4
                                                                                                         : 0;
    }
    return 0;
}

/* ASCII 16 bytes a step (SSE2: one compare-free movemask finds the first high
 * byte; elsewhere two words), then the non-ASCII run sequence by sequence with
 * seq_ok until the next ASCII byte. The answer and *bad_off (the lead byte of
 * the first bad sequence) are exactly those of a tgx_utf8_decode loop
 * (tests/util/test_utf8_valid.c checks it). */
int tgx_utf8_valid(const uint8_t *s, size_t n, size_t *bad_off) {
    size_t i = 0;
    while (i < n) {
#ifdef __SSE2__
        while (i + 16 <= n) {
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));
            if (m) {
                i += (size_t)__builtin_ctz(m);
                break;
            }
            i += 16;
        }
#else
        while (i + 16 <= n) {
            uint64_t a, b;
            memcpy(&a, s + i, 8);
            memcpy(&b, s + i + 8, 8);
            if ((a | b) & 0x8080808080808080ull) break;
            i += 16;
        }
#endif
        while (i < n && s[i] < 0x80) i++;
        while (i < n && s[i] >= 0x80) {
            size_t l = seq_ok(s, n, i);
            if (l == 0) {
                if (bad_off) *bad_off = i;
                return 0;
            }
            i += l;
        }
    }
    return 1;
}
