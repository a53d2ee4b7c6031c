/*
 * tgdocs.h: test-side readers for the two files the exactness tests share with
 * their node producers (see tests/tokenizer/tgdocs.js and ref_encode.js):
 *
 *   docset ("TGDOCS 1\n", then per document "<name>\t<len>\n<bytes>\n")
 *   HF expectations ("TGREF 1\n", u32 ndocs, then per document: plain ids,
 *                    ids with special tokens, decode of each; little-endian)
 *
 * Both are mapped whole (tgx_map_file) and indexed without copying: a
 * tgd_doc / tgd_ref points into the mapping, which must outlive it. The files
 * are our own cache, but they are still parsed with every length checked
 * against the bytes left, so a truncated cache file is an error, not a crash.
 * Header-only (static functions) because only tests use it.
 */
#ifndef TG_TESTS_TGDOCS_H
#define TG_TESTS_TGDOCS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/error.h"
#include "util/file.h"

typedef struct tgd_doc {
    const char *name;     /* not NUL-terminated */
    size_t name_len;
    const char *text;
    size_t len;
} tgd_doc;

typedef struct tgd_docset {
    tgx_map map;
    tgd_doc *docs;
    size_t n;
} tgd_docset;

typedef struct tgd_ids {
    const uint8_t *p;     /* n little-endian u32 */
    size_t n;
} tgd_ids;

typedef struct tgd_ref {
    tgd_ids plain, special;
    const char *dec_plain, *dec_special;
    size_t dec_plain_len, dec_special_len;
} tgd_ref;

typedef struct tgd_refset {
    tgx_map map;
    tgd_ref *refs;
    size_t n;
} tgd_refset;

static inline uint32_t tgd_id(const tgd_ids *ids, size_t i) {
    const uint8_t *q = ids->p + 4 * i;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

/* Copies ids into a malloc'd array (caller frees); NULL only when n == 0 or
 * out of memory. */
static inline uint32_t *tgd_ids_copy(const tgd_ids *ids) {
    uint32_t *a = malloc((ids->n ? ids->n : 1) * sizeof *a);
    if (!a) return NULL;
    for (size_t i = 0; i < ids->n; i++) a[i] = tgd_id(ids, i);
    return a;
}

static inline tg_status tgd_docset_load(const char *path, tgd_docset *ds, tg_error *err) {
    static const char magic[] = "TGDOCS 1\n";
    memset(ds, 0, sizeof *ds);
    tg_status st = tgx_map_file(path, &ds->map, err);
    if (st != TG_OK) return st;
    const char *p = (const char *)ds->map.data, *end = p + ds->map.size;
    if (ds->map.size < sizeof magic - 1 || memcmp(p, magic, sizeof magic - 1) != 0) {
        tgx_unmap(&ds->map);
        return tg_error_set(err, TG_ECORRUPT, "%s: not a docset (no TGDOCS 1 header)", path);
    }
    p += sizeof magic - 1;
    size_t cap = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *tab = nl ? memchr(p, '\t', (size_t)(nl - p)) : NULL;
        size_t len = 0;
        int ok = tab != NULL && tab + 1 < nl;
        for (const char *q = tab ? tab + 1 : p; ok && q < nl; q++) {
            if (*q < '0' || *q > '9' || len > (SIZE_MAX - 9) / 10) ok = 0;
            else len = len * 10 + (size_t)(*q - '0');
        }
        if (!ok || (size_t)(end - nl - 1) < len + 1) {
            free(ds->docs);
            tgx_unmap(&ds->map);
            return tg_error_set(err, TG_ECORRUPT, "%s: bad document header at byte %zu", path,
                                (size_t)(p - (const char *)ds->map.data));
        }
        if (ds->n == cap) {
            cap = cap ? cap * 2 : 1024;
            tgd_doc *nd = realloc(ds->docs, cap * sizeof *nd);
            if (!nd) {
                free(ds->docs);
                tgx_unmap(&ds->map);
                return tg_error_set(err, TG_ENOMEM, "%s: out of memory at document %zu", path, ds->n);
            }
            ds->docs = nd;
        }
        tgd_doc *d = &ds->docs[ds->n++];
        d->name = p;
        d->name_len = (size_t)(tab - p);
        d->text = nl + 1;
        d->len = len;
        p = nl + 1 + len + 1;
    }
    return TG_OK;
}

static inline void tgd_docset_free(tgd_docset *ds) {
    free(ds->docs);
    tgx_unmap(&ds->map);
    memset(ds, 0, sizeof *ds);
}

static inline int tgd_take_u32(const uint8_t **p, const uint8_t *end, uint32_t *v) {
    if ((size_t)(end - *p) < 4) return 0;
    const uint8_t *q = *p;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    *p += 4;
    return 1;
}

static inline int tgd_take_ids(const uint8_t **p, const uint8_t *end, tgd_ids *ids) {
    uint32_t n;
    if (!tgd_take_u32(p, end, &n) || (size_t)(end - *p) / 4 < n) return 0;
    ids->p = *p;
    ids->n = n;
    *p += (size_t)n * 4;
    return 1;
}

static inline int tgd_take_str(const uint8_t **p, const uint8_t *end, const char **s, size_t *len) {
    uint32_t n;
    if (!tgd_take_u32(p, end, &n) || (size_t)(end - *p) < n) return 0;
    *s = (const char *)*p;
    *len = n;
    *p += n;
    return 1;
}

static inline tg_status tgd_refset_load(const char *path, tgd_refset *rs, tg_error *err) {
    static const char magic[] = "TGREF 1\n";
    memset(rs, 0, sizeof *rs);
    tg_status st = tgx_map_file(path, &rs->map, err);
    if (st != TG_OK) return st;
    const uint8_t *p = rs->map.data, *end = p + rs->map.size;
    uint32_t n = 0;
    if (rs->map.size < sizeof magic - 1 || memcmp(p, magic, sizeof magic - 1) != 0 ||
        (p += sizeof magic - 1, !tgd_take_u32(&p, end, &n))) {
        tgx_unmap(&rs->map);
        return tg_error_set(err, TG_ECORRUPT, "%s: not an expectation file (no TGREF 1 header)", path);
    }
    rs->refs = calloc(n ? n : 1, sizeof *rs->refs);
    if (!rs->refs) {
        tgx_unmap(&rs->map);
        return tg_error_set(err, TG_ENOMEM, "%s: out of memory for %u documents", path, n);
    }
    for (uint32_t i = 0; i < n; i++) {
        tgd_ref *r = &rs->refs[i];
        if (!tgd_take_ids(&p, end, &r->plain) || !tgd_take_ids(&p, end, &r->special) ||
            !tgd_take_str(&p, end, &r->dec_plain, &r->dec_plain_len) ||
            !tgd_take_str(&p, end, &r->dec_special, &r->dec_special_len)) {
            free(rs->refs);
            tgx_unmap(&rs->map);
            return tg_error_set(err, TG_ECORRUPT, "%s: truncated at document %u of %u", path, i, n);
        }
    }
    rs->n = n;
    return TG_OK;
}

static inline void tgd_refset_free(tgd_refset *rs) {
    free(rs->refs);
    tgx_unmap(&rs->map);
    memset(rs, 0, sizeof *rs);
}

/* Prints s[0..n) readably: printable ASCII and UTF-8 as is, the rest escaped. */
static inline void tgd_print_escaped(FILE *f, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", f);
        else if (c == '\r') fputs("\\r", f);
        else if (c == '\t') fputs("\\t", f);
        else if (c == '\\') fputs("\\\\", f);
        else if (c == '"') fputs("\\\"", f);
        else if (c < 0x20 || c == 0x7f) fprintf(f, "\\x%02x", c);
        else fputc(c, f);
    }
}

#endif
