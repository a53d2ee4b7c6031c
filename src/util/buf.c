/* buf.c: growable byte buffer with a ceiling; see util/buf.h. */
#include "util/buf.h"

#include <jansson.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tgx_buf_init(tgx_buf *b, size_t max) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->ext = 0;
}

void tgx_buf_init_with(tgx_buf *b, char *mem, size_t cap, size_t max) {
    b->data = mem;
    b->len = 0;
    b->cap = cap;
    b->max = max;
    b->ext = 1;
    mem[0] = '\0';
}

void tgx_buf_free(tgx_buf *b) {
    if (!b->ext) free(b->data);
    b->ext = 0;
    b->data = NULL;
    b->len = b->cap = 0;
}

void tgx_buf_reset(tgx_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

tg_status tgx_buf_reserve(tgx_buf *b, size_t extra) {
    if (extra > b->max || b->len > b->max - extra) return TG_ELIMIT;
    size_t need = b->len + extra + 1; /* +1 for the terminating NUL */
    if (need <= b->cap) return TG_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) { cap = need; break; }
        cap *= 2;
    }
    char *p = b->ext ? malloc(cap) : realloc(b->data, cap);
    if (!p) return TG_ENOMEM;
    if (b->ext) memcpy(p, b->data, b->len + 1); /* out of the caller's memory, its NUL too */
    b->ext = 0;
    b->data = p;
    b->cap = cap;
    return TG_OK;
}

tg_status tgx_buf_append_grow(tgx_buf *b, const void *p, size_t n) {
    tg_status st = tgx_buf_reserve(b, n);
    if (st) return st;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return TG_OK;
}

/* "00" .. "99" (buf.h, tgx_u64_put): two digits per division by 100. */
const char tgx_digit_pairs[201] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

tg_status tgx_buf_u64(tgx_buf *b, uint64_t v) {
    size_t n = tgx_u64_len(v);
    if (b->data && n < b->cap - b->len && n <= b->max - b->len) { /* tgx_buf_append's test: fits with its NUL */
        tgx_u64_put(b->data + b->len, v, n);
        b->len += n;
        b->data[b->len] = '\0';
        return TG_OK;
    }
    char d[TGX_U64_DIGITS];
    tgx_u64_put(d, v, n);
    return tgx_buf_append_grow(b, d, n);
}

tg_status tgx_buf_printf(tgx_buf *b, const char *fmt, ...) {
    /* Formats once into the room there is (one pass, the common case: a
     * header line), again only when it did not fit. */
    if (b->cap <= b->len + 1 && tgx_buf_reserve(b, b->max - b->len < 128 ? b->max - b->len : 128) != TG_OK) return TG_ENOMEM;
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (room) b->data[b->len] = '\0';
        return TG_EINVAL;
    }
    if ((size_t)n < room) {
        if ((size_t)n > b->max - b->len) { /* past the limit: as if never written */
            b->data[b->len] = '\0';
            return TG_ELIMIT;
        }
        b->len += (size_t)n;
        return TG_OK;
    }
    if (room) b->data[b->len] = '\0';
    tg_status st = tgx_buf_reserve(b, (size_t)n);
    if (st) return st;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TG_OK;
}

char *tgx_buf_detach(tgx_buf *b, size_t *len) {
    char *p = b->data;
    if (len) *len = b->len;
    if (b->ext) { /* the caller's memory: a copy of its own (NULL out of memory) */
        p = malloc(b->len + 1);
        if (p) memcpy(p, b->data, b->len + 1);
        b->ext = 0;
        b->data = NULL;
        b->len = b->cap = 0;
        return p;
    }
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

typedef struct dump_sink {
    tgx_buf b;
    int failed;
} dump_sink;

static int dump_to(const char *p, size_t n, void *ud) {
    dump_sink *d = ud;
    if (tgx_buf_append(&d->b, p, n) != TG_OK) d->failed = 1;
    return d->failed ? -1 : 0;
}

char *tgx_json_dumps(const json_t *j, size_t flags) {
    dump_sink d;
    tgx_buf_init(&d.b, SIZE_MAX / 2);
    d.failed = 0;
    if (json_dump_callback(j, dump_to, &d, flags) != 0 || d.failed || tgx_buf_reserve(&d.b, 0) != TG_OK) {
        tgx_buf_free(&d.b);
        return NULL;
    }
    return tgx_buf_detach(&d.b, NULL);
}
