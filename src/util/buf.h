/*
 * util/buf.h: a growable byte buffer with a ceiling (after curl's dynbuf).
 *
 * The caller owns the tgx_buf and frees it with tgx_buf_free. `data` is always
 * NUL-terminated once anything was appended, so it may be printed, but it
 * carries its length and may hold NUL bytes. Growing past `max` fails with
 * TG_ELIMIT and leaves the buffer as it was. The tgx_ tier is shared by the
 * library, the CLI and the tests; it is not part of the public API.
 */
#ifndef TG_UTIL_BUF_H
#define TG_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "tokgate/error.h"

typedef struct tgx_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* ceiling on len */
    int ext;    /* data is the caller's memory (tgx_buf_init_with): never freed here */
} tgx_buf;

void tgx_buf_init(tgx_buf *b, size_t max);
/* Starts in the caller's MEM (CAP bytes, CAP >= 1, e.g. an array on the
 * stack) and moves to the heap only when it outgrows it, so a small buffer
 * costs no allocation; tgx_buf_free never frees MEM, tgx_buf_detach copies. */
void tgx_buf_init_with(tgx_buf *b, char *mem, size_t cap, size_t max);
void tgx_buf_free(tgx_buf *b);
void tgx_buf_reset(tgx_buf *b); /* len = 0, keeps memory */
tg_status tgx_buf_reserve(tgx_buf *b, size_t extra);
/* tgx_buf_append when the bytes may not fit: grows (tgx_buf_reserve), then appends. */
tg_status tgx_buf_append_grow(tgx_buf *b, const void *p, size_t n);
/* Appends n bytes of p. Inline: a request's head and headers are dozens of
 * short appends that fit, each a call and a reserve call before. */
static inline tg_status tgx_buf_append(tgx_buf *b, const void *p, size_t n) {
    if (b->data && n < b->cap - b->len && n <= b->max - b->len) { /* fits with its NUL, within max */
        if (n) memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return TG_OK;
    }
    return tgx_buf_append_grow(b, p, n);
}
static inline tg_status tgx_buf_putc(tgx_buf *b, char c) { return tgx_buf_append(b, &c, 1); }
static inline tg_status tgx_buf_puts(tgx_buf *b, const char *s) { return tgx_buf_append(b, s, strlen(s)); }
/* Appends v in decimal (what "%llu" writes, without printf). */
tg_status tgx_buf_u64(tgx_buf *b, uint64_t v);
/* The same digits into plain memory: tgx_u64_len(v) is their count (1..20),
 * tgx_u64_put writes exactly N = tgx_u64_len(v) of them at OUT (no NUL),
 * tgx_u64_dec both, returning the count. */
#define TGX_U64_DIGITS 20
extern const char tgx_digit_pairs[201]; /* "00" .. "99" */
static inline size_t tgx_u64_len(uint64_t v) {
    size_t n = 1;
    while (v >= 10000) { /* four digits a step: a token count is mostly 1-6 digits */
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}
/* Inline, two digits per division by 100 (issue 17: one division per digit
 * and a call each cost ~80 instructions for a 5-digit number). */
static inline void tgx_u64_put(char *out, uint64_t v, size_t n) {
    char *p = out + n; /* written from the last digit back */
    while (v >= 100) {
        size_t i = (size_t)(v % 100) * 2;
        v /= 100;
        p -= 2;
        memcpy(p, tgx_digit_pairs + i, 2);
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, tgx_digit_pairs + v * 2, 2);
    } else {
        *--p = (char)('0' + v);
    }
}
static inline size_t tgx_u64_dec(char *out, uint64_t v) {
    size_t n = tgx_u64_len(v);
    tgx_u64_put(out, v, n);
    return n;
}
tg_status tgx_buf_printf(tgx_buf *b, const char *fmt, ...) TG_PRINTF(2, 3);
/* Hands the memory to the caller (free() it); the buffer is left empty. */
char *tgx_buf_detach(tgx_buf *b, size_t *len);

/* json_dumps that fails (NULL) whenever any part of the text could not be
 * written. jansson 2.14's json_dumps ignores a failed write of an object's
 * key when memory runs out and returns the document without it (found by
 * tests/oom/oom_parsers.c); everything in tokgate dumps JSON through this. */
struct json_t;
char *tgx_json_dumps(const struct json_t *j, size_t flags);

#endif
