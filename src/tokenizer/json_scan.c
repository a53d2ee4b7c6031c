/*
 * json_scan.c: strict JSON scanning and the vocab/merges decoders; see
 * json_scan.h. Every error names the byte offset.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/json_scan.h"
#include "util/buf.h"
#include "util/utf8.h"

#define MAX_DEPTH 512

typedef struct scan {
    const char *s;
    size_t n, i;
    tg_error *err;
} scan;

static tg_status fail(scan *c, const char *what) {
    return tg_error_set(c->err, TG_ECORRUPT, "tokenizer.json is not valid JSON: %s at byte offset %zu", what, c->i);
}

static inline void ws(scan *c) {
    while (c->i < c->n) {
        char ch = c->s[c->i];
        if (ch != ' ' && ch != '\n' && ch != '\r' && ch != '\t') break;
        c->i++;
    }
}

static int hex4(const char *p, unsigned *v) {
    unsigned x = 0;
    for (int k = 0; k < 4; k++) {
        char ch = p[k];
        unsigned d;
        if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
        else return 0;
        x = x * 16 + d;
    }
    *v = x;
    return 1;
}

/* Scans a string at c->i (the opening quote); appends the decoded bytes to
 * out when out != NULL. */
static tg_status string(scan *c, tgx_buf *out) {
    if (c->i >= c->n || c->s[c->i] != '"') return fail(c, "expected a string");
    c->i++;
    size_t run = c->i;
    for (;;) {
        if (c->i >= c->n) return fail(c, "unterminated string");
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch == '"') {
            if (out && tgx_buf_append(out, c->s + run, c->i - run)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
            c->i++;
            return TG_OK;
        }
        if (ch < 0x20) return fail(c, "control character in a string");
        if (ch >= 0x80) {
            uint32_t cp;
            size_t l = tgx_utf8_decode((const uint8_t *)c->s + c->i, c->n - c->i, &cp);
            if (!l) return fail(c, "invalid UTF-8 in a string");
            c->i += l;
            continue;
        }
        if (ch != '\\') { c->i++; continue; }
        if (out && tgx_buf_append(out, c->s + run, c->i - run)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
        if (c->i + 1 >= c->n) return fail(c, "unterminated escape");
        char e = c->s[c->i + 1];
        char lit = 0;
        switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
            unsigned v, w;
            if (c->i + 6 > c->n || !hex4(c->s + c->i + 2, &v)) return fail(c, "bad \\u escape");
            c->i += 6;
            if (v >= 0xDC00 && v <= 0xDFFF) return fail(c, "lone low surrogate");
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (c->i + 6 > c->n || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u' || !hex4(c->s + c->i + 2, &w) ||
                    w < 0xDC00 || w > 0xDFFF)
                    return fail(c, "lone high surrogate");
                c->i += 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
            }
            if (out) {
                char enc[4];
                size_t l = tgx_utf8_encode(v, enc);
                if (tgx_buf_append(out, enc, l)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
            }
            run = c->i;
            continue;
        }
        default: return fail(c, "bad escape");
        }
        if (out && tgx_buf_putc(out, lit)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
        c->i += 2;
        run = c->i;
    }
}

static tg_status number(scan *c, long long *val, int *is_int) {
    size_t st = c->i;
    int integer = 1;
    if (c->i < c->n && c->s[c->i] == '-') c->i++;
    if (c->i >= c->n) return fail(c, "bad number");
    if (c->s[c->i] == '0') c->i++;
    else if (c->s[c->i] >= '1' && c->s[c->i] <= '9') while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    else return fail(c, "bad number");
    if (c->i < c->n && c->s[c->i] == '.') {
        integer = 0;
        c->i++;
        if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9') return fail(c, "bad number");
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        integer = 0;
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) c->i++;
        if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9') return fail(c, "bad number");
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    }
    if (val) {
        *is_int = 0;
        if (integer && c->s[st] != '-' && c->i - st <= 12) {
            long long v = 0;
            for (size_t k = st; k < c->i; k++) v = v * 10 + (c->s[k] - '0');
            *val = v;
            *is_int = 1;
        }
    }
    return TG_OK;
}

static tg_status literal(scan *c, const char *w) {
    size_t l = strlen(w);
    if (c->n - c->i < l || memcmp(c->s + c->i, w, l) != 0) return fail(c, "unexpected character");
    c->i += l;
    return TG_OK;
}

/* Skips (validating) one value. When spans != NULL and this is the top-level
 * object (depth 0) or the model object (depth 1 under key "model"), records
 * the vocab/merges spans. */
static tg_status value(scan *c, int depth, int role, tg__json_spans *sp) {
    tg_status st;
    if (depth > MAX_DEPTH) return tg_error_set(c->err, TG_ELIMIT, "tokenizer.json nests deeper than %d at byte offset %zu", MAX_DEPTH, c->i);
    ws(c);
    if (c->i >= c->n) return fail(c, "unexpected end");
    char ch = c->s[c->i];
    if (ch == '{') {
        c->i++;
        ws(c);
        if (c->i < c->n && c->s[c->i] == '}') { c->i++; return TG_OK; }
        for (;;) {
            ws(c);
            size_t ks = c->i;
            if ((st = string(c, NULL))) return st;
            size_t kl = c->i - ks;
            ws(c);
            if (c->i >= c->n || c->s[c->i] != ':') return fail(c, "expected ':'");
            c->i++;
            ws(c);
            int sub = 0;
            if (role == 1 && kl == 7 && memcmp(c->s + ks, "\"model\"", 7) == 0) sub = 2;
            size_t vs = c->i;
            if ((st = value(c, depth + 1, sub, sp))) return st;
            if (role == 2 && kl == 7 && memcmp(c->s + ks, "\"vocab\"", 7) == 0) { sp->vocab_start = vs; sp->vocab_end = c->i; }
            if (role == 2 && kl == 8 && memcmp(c->s + ks, "\"merges\"", 8) == 0) { sp->merges_start = vs; sp->merges_end = c->i; }
            ws(c);
            if (c->i < c->n && c->s[c->i] == ',') { c->i++; continue; }
            if (c->i < c->n && c->s[c->i] == '}') { c->i++; return TG_OK; }
            return fail(c, "expected ',' or '}'");
        }
    }
    if (ch == '[') {
        c->i++;
        ws(c);
        if (c->i < c->n && c->s[c->i] == ']') { c->i++; return TG_OK; }
        for (;;) {
            if ((st = value(c, depth + 1, 0, sp))) return st;
            ws(c);
            if (c->i < c->n && c->s[c->i] == ',') { c->i++; continue; }
            if (c->i < c->n && c->s[c->i] == ']') { c->i++; return TG_OK; }
            return fail(c, "expected ',' or ']'");
        }
    }
    if (ch == '"') return string(c, NULL);
    if (ch == 't') return literal(c, "true");
    if (ch == 'f') return literal(c, "false");
    if (ch == 'n') return literal(c, "null");
    return number(c, NULL, NULL);
}

tg_status tg__json_locate(const char *s, size_t n, tg__json_spans *sp, tg_error *err) {
    scan c = {s, n, 0, err};
    memset(sp, 0, sizeof *sp);
    tg_status st = value(&c, 0, 1, sp);
    if (st) return st;
    ws(&c);
    if (c.i != n) return fail(&c, "trailing data");
    return TG_OK;
}

tg_status tg__json_vocab(const char *s, size_t n, tg__bytes **vocab, size_t *count, char **pool,
                         tg_error *err) {
    scan c = {s, n, 0, err};
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 32);
    size_t cap = 1024, k = 0;
    size_t *off = malloc(cap * sizeof *off), *len = malloc(cap * sizeof *len);
    uint32_t *ids = malloc(cap * sizeof *ids);
    tg_status st = TG_OK;
    uint32_t max_id = 0;
    if (!off || !len || !ids) goto oom;
    ws(&c);
    if (c.i >= n || s[c.i] != '{') { st = fail(&c, "model \"vocab\" must be an object"); goto out; }
    c.i++;
    ws(&c);
    if (c.i < n && s[c.i] == '}') c.i++;
    else for (;;) {
        ws(&c);
        if (k == cap) {
            cap *= 2;
            size_t *o2 = realloc(off, cap * sizeof *o2);
            if (!o2) goto oom;
            off = o2;
            size_t *l2 = realloc(len, cap * sizeof *l2);
            if (!l2) goto oom;
            len = l2;
            uint32_t *i2 = realloc(ids, cap * sizeof *i2);
            if (!i2) goto oom;
            ids = i2;
        }
        off[k] = b.len;
        if ((st = string(&c, &b))) goto out;
        len[k] = b.len - off[k];
        if (len[k] > TG__MAX_TOKEN_BYTES) {
            st = tg_error_set(err, TG_ELIMIT, "vocab token at byte offset %zu is %zu bytes, above the %u-byte limit",
                              c.i, len[k], (unsigned)TG__MAX_TOKEN_BYTES);
            goto out;
        }
        ws(&c);
        if (c.i >= n || s[c.i] != ':') { st = fail(&c, "expected ':'"); goto out; }
        c.i++;
        ws(&c);
        long long v = 0;
        int is_int = 0;
        size_t at = c.i;
        if ((st = number(&c, &v, &is_int))) goto out;
        if (!is_int || v >= (long long)TG__MAX_VOCAB) {
            c.i = at;
            st = tg_error_set(err, TG_ECORRUPT, "vocab id at byte offset %zu must be an integer in [0, %u)", at,
                              (unsigned)TG__MAX_VOCAB);
            goto out;
        }
        ids[k] = (uint32_t)v;
        if (ids[k] + 1 > max_id) max_id = ids[k] + 1;
        k++;
        if (k > TG__MAX_VOCAB) {
            st = tg_error_set(err, TG_ELIMIT, "vocabulary exceeds %u entries", (unsigned)TG__MAX_VOCAB);
            goto out;
        }
        ws(&c);
        if (c.i < n && s[c.i] == ',') { c.i++; continue; }
        if (c.i < n && s[c.i] == '}') { c.i++; break; }
        st = fail(&c, "expected ',' or '}'");
        goto out;
    }
    {
        tg__bytes *v = calloc(max_id ? max_id : 1, sizeof *v);
        if (!v) goto oom;
        /* a repeated key: the later entry wins (as jansson/serde maps do), so
         * the earlier one's id is freed first */
        const char *base = b.data ? b.data : "";
        for (size_t i = 0; i < k; i++) {
            uint32_t id = ids[i];
            if (v[id].p) {
                int same = v[id].n == len[i] && memcmp(v[id].p, base + off[i], len[i]) == 0;
                if (!same) {
                    free(v);
                    st = tg_error_set(err, TG_ECORRUPT, "vocab id %u is given to two tokens", (unsigned)id);
                    goto out;
                }
            }
            v[id].p = base + off[i];
            v[id].n = len[i];
        }
        *vocab = v;
        *count = max_id;
        *pool = tgx_buf_detach(&b, NULL);
        if (!*pool) *pool = NULL;
    }
    goto out;
oom:
    st = tg_error_set(err, TG_ENOMEM, "out of memory reading the vocabulary");
out:
    free(off);
    free(len);
    free(ids);
    tgx_buf_free(&b);
    return st;
}

tg_status tg__json_merges(const char *s, size_t n, tg__bytes **left, tg__bytes **right,
                          size_t *count, char **pool, tg_error *err) {
    scan c = {s, n, 0, err};
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 32);
    size_t cap = 1024, k = 0;
    size_t *lo = malloc(cap * sizeof *lo), *ll = malloc(cap * sizeof *ll);
    size_t *ro = malloc(cap * sizeof *ro), *rl = malloc(cap * sizeof *rl);
    tg_status st = TG_OK;
    if (!lo || !ll || !ro || !rl) goto oom;
    ws(&c);
    if (c.i >= n || s[c.i] != '[') { st = fail(&c, "model \"merges\" must be an array"); goto out; }
    c.i++;
    ws(&c);
    if (c.i < n && s[c.i] == ']') c.i++;
    else for (;;) {
        ws(&c);
        if (k == cap) {
            cap *= 2;
            size_t *p1 = realloc(lo, cap * sizeof *p1); if (!p1) goto oom; lo = p1;
            size_t *p2 = realloc(ll, cap * sizeof *p2); if (!p2) goto oom; ll = p2;
            size_t *p3 = realloc(ro, cap * sizeof *p3); if (!p3) goto oom; ro = p3;
            size_t *p4 = realloc(rl, cap * sizeof *p4); if (!p4) goto oom; rl = p4;
        }
        if (c.i < n && s[c.i] == '"') {
            size_t st0 = b.len, at = c.i;
            if ((st = string(&c, &b))) goto out;
            size_t l = b.len - st0;
            const char *m = b.data + st0;
            if (l >= 8 && memcmp(m, "#version", 8) == 0) {
                b.len = st0; /* HF skips "#version" lines */
            } else {
                const char *sp = memchr(m, ' ', l);
                if (!sp || memchr(sp + 1, ' ', l - (size_t)(sp + 1 - m))) {
                    st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be two tokens separated by one space", k + 1, at);
                    goto out;
                }
                lo[k] = st0;
                ll[k] = (size_t)(sp - m);
                ro[k] = st0 + ll[k] + 1;
                rl[k] = l - ll[k] - 1;
                k++;
            }
        } else if (c.i < n && s[c.i] == '[') {
            size_t at = c.i;
            c.i++;
            ws(&c);
            lo[k] = b.len;
            if ((st = string(&c, &b))) goto out;
            ll[k] = b.len - lo[k];
            ws(&c);
            if (c.i >= n || s[c.i] != ',') { st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a pair of strings", k, at); goto out; }
            c.i++;
            ws(&c);
            ro[k] = b.len;
            if ((st = string(&c, &b))) goto out;
            rl[k] = b.len - ro[k];
            ws(&c);
            if (c.i >= n || s[c.i] != ']') { st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a pair of strings", k, at); goto out; }
            c.i++;
            k++;
        } else {
            st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a string or a pair of strings", k, c.i);
            goto out;
        }
        if (k > TG__MAX_MERGES) { st = tg_error_set(err, TG_ELIMIT, "more than %u merges", (unsigned)TG__MAX_MERGES); goto out; }
        ws(&c);
        if (c.i < n && s[c.i] == ',') { c.i++; continue; }
        if (c.i < n && s[c.i] == ']') { c.i++; break; }
        st = fail(&c, "expected ',' or ']'");
        goto out;
    }
    {
        tg__bytes *L = calloc(k ? k : 1, sizeof *L), *R = calloc(k ? k : 1, sizeof *R);
        if (!L || !R) { free(L); free(R); goto oom; }
        const char *base = b.data ? b.data : "";
        for (size_t i = 0; i < k; i++) {
            L[i].p = base + lo[i];
            L[i].n = ll[i];
            R[i].p = base + ro[i];
            R[i].n = rl[i];
        }
        *left = L;
        *right = R;
        *count = k;
        *pool = tgx_buf_detach(&b, NULL);
    }
    goto out;
oom:
    st = tg_error_set(err, TG_ENOMEM, "out of memory reading the merges");
out:
    free(lo);
    free(ll);
    free(ro);
    free(rl);
    tgx_buf_free(&b);
    return st;
}
