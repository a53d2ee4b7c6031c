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
    int esc; /* set by string() when it met a backslash */
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
        if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
            c->i++;
            while (c->i < c->n) {
                unsigned char d = (unsigned char)c->s[c->i];
                if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
                c->i++;
            }
            continue;
        }
        if (ch == '"') {
            if (out && tgx_buf_append(out, c->s + run, c->i - run)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
            c->i++;
            return TG_OK;
        }
        if (ch < 0x20) return fail(c, "control character in a string");
        if (ch >= 0xC2 && ch <= 0xDF && c->i + 1 < c->n && ((unsigned char)c->s[c->i + 1] & 0xC0) == 0x80) {
            c->i += 2; /* a valid 2-byte sequence */
            continue;
        }
        if (ch >= 0x80) {
            uint32_t cp;
            size_t l = tgx_utf8_decode((const uint8_t *)c->s + c->i, c->n - c->i, &cp);
            if (!l) return fail(c, "invalid UTF-8 in a string");
            c->i += l;
            continue;
        }
        if (ch != '\\') { c->i++; continue; }
        c->esc = 1;
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

/* A string at c->i: when it holds no escape, *p and *n point into the source
 * (nothing copied); otherwise it is decoded into out and *p is NULL, *n the
 * decoded length (its bytes end out). */
static tg_status raw_string(scan *c, tgx_buf *out, const char **p, size_t *n) {
    size_t st0 = c->i + 1, before = out->len;
    c->esc = 0;
    tg_status st = string(c, NULL);
    if (st) return st;
    if (!c->esc) {
        *p = c->s + st0;
        *n = c->i - 1 - st0;
        return TG_OK;
    }
    c->i = st0 - 1;
    if ((st = string(c, out))) return st;
    *p = NULL;
    *n = out->len - before;
    return TG_OK;
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
            size_t vs = c->i, used = 0;
            if (role == 2 && kl == 7 && memcmp(c->s + ks, "\"vocab\"", 7) == 0) {
                /* decode in place of validating: one pass over the big value */
                free(sp->vocab);
                free(sp->vocab_pool);
                sp->vocab = NULL;
                sp->vocab_pool = NULL;
                if ((st = tg__json_vocab(c->s + vs, c->n - vs, &sp->vocab, &sp->n_vocab, &sp->vocab_pool, &used, c->err)))
                    return st;
                c->i = vs + used;
                sp->vocab_start = vs;
                sp->vocab_end = c->i;
            } else if (role == 2 && kl == 8 && memcmp(c->s + ks, "\"merges\"", 8) == 0) {
                free(sp->merge_left);
                free(sp->merge_right);
                free(sp->merges_pool);
                sp->merge_left = sp->merge_right = NULL;
                sp->merges_pool = NULL;
                if ((st = tg__json_merges(c->s + vs, c->n - vs, &sp->merge_left, &sp->merge_right, &sp->n_merges,
                                          &sp->merges_pool, &used, c->err)))
                    return st;
                c->i = vs + used;
                sp->merges_start = vs;
                sp->merges_end = c->i;
            } else if ((st = value(c, depth + 1, sub, sp))) {
                return st;
            }
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

void tg__json_spans_free(tg__json_spans *sp) {
    free(sp->vocab);
    free(sp->vocab_pool);
    free(sp->merge_left);
    free(sp->merge_right);
    free(sp->merges_pool);
    memset(sp, 0, sizeof *sp);
}

tg_status tg__json_locate(const char *s, size_t n, tg__json_spans *sp, tg_error *err) {
    scan c = {s, n, 0, err, 0};
    memset(sp, 0, sizeof *sp);
    tg_status st = value(&c, 0, 1, sp);
    if (!st) {
        ws(&c);
        if (c.i != n) st = fail(&c, "trailing data");
    }
    if (st) tg__json_spans_free(sp);
    return st;
}

/* Growable parallel arrays for decoded entries. */
typedef struct ents {
    const char **p; /* into the source, or NULL: decoded at off in the pool */
    size_t *off, *len;
    uint32_t *id;
    size_t n, cap;
} ents;

static int ents_grow(ents *e) {
    if (e->n < e->cap) return 1;
    size_t nc = e->cap ? e->cap * 2 : 4096;
    const char **p = realloc((void *)e->p, nc * sizeof *p);
    if (!p) return 0;
    e->p = p;
    size_t *o = realloc(e->off, nc * sizeof *o);
    if (!o) return 0;
    e->off = o;
    size_t *l = realloc(e->len, nc * sizeof *l);
    if (!l) return 0;
    e->len = l;
    uint32_t *i = realloc(e->id, nc * sizeof *i);
    if (!i) return 0;
    e->id = i;
    e->cap = nc;
    return 1;
}

static void ents_free(ents *e) {
    free((void *)e->p);
    free(e->off);
    free(e->len);
    free(e->id);
}

static tg_status ent_string(scan *c, tgx_buf *pool, ents *e) {
    const char *p;
    size_t n, before = pool->len;
    tg_status st = raw_string(c, pool, &p, &n);
    if (st) return st;
    e->p[e->n] = p;
    e->off[e->n] = before;
    e->len[e->n] = n;
    return TG_OK;
}

static inline const char *ent_ptr(const ents *e, size_t i, const char *base) {
    return e->p[i] ? e->p[i] : base + e->off[i];
}

tg_status tg__json_vocab(const char *s, size_t n, tg__bytes **vocab, size_t *count, char **pool,
                         size_t *consumed, tg_error *err) {
    scan c = {s, n, 0, err, 0};
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 32);
    ents e;
    memset(&e, 0, sizeof e);
    tg_status st = TG_OK;
    uint32_t max_id = 0;
    ws(&c);
    if (c.i >= n || s[c.i] != '{') { st = fail(&c, "model \"vocab\" must be an object"); goto out; }
    c.i++;
    ws(&c);
    if (c.i < n && s[c.i] == '}') c.i++;
    else for (;;) {
        ws(&c);
        if (!ents_grow(&e)) goto oom;
        if ((st = ent_string(&c, &b, &e))) goto out;
        if (e.len[e.n] > TG__MAX_TOKEN_BYTES) {
            st = tg_error_set(err, TG_ELIMIT, "vocab token before byte offset %zu is %zu bytes, above the %u-byte limit",
                              c.i, e.len[e.n], (unsigned)TG__MAX_TOKEN_BYTES);
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
            st = tg_error_set(err, TG_ECORRUPT, "vocab id at byte offset %zu must be an integer in [0, %u)", at,
                              (unsigned)TG__MAX_VOCAB);
            goto out;
        }
        e.id[e.n] = (uint32_t)v;
        if (e.id[e.n] + 1 > max_id) max_id = e.id[e.n] + 1;
        e.n++;
        if (e.n > TG__MAX_VOCAB) {
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
        char *base = tgx_buf_detach(&b, NULL);
        if (!base) { free(v); goto oom; }
        for (size_t i = 0; i < e.n; i++) {
            uint32_t id = e.id[i];
            const char *ps = ent_ptr(&e, i, base);
            if (v[id].p && !(v[id].n == e.len[i] && memcmp(v[id].p, ps, e.len[i]) == 0)) {
                free(v);
                free(base);
                st = tg_error_set(err, TG_ECORRUPT, "vocab id %u is given to two tokens", (unsigned)id);
                goto out;
            }
            v[id].p = ps;
            v[id].n = e.len[i];
        }
        *vocab = v;
        *count = max_id;
        *consumed = c.i;
        *pool = base;
    }
    goto out;
oom:
    st = tg_error_set(err, TG_ENOMEM, "out of memory reading the vocabulary");
out:
    ents_free(&e);
    tgx_buf_free(&b);
    return st;
}

tg_status tg__json_merges(const char *s, size_t n, tg__bytes **left, tg__bytes **right,
                          size_t *count, char **pool, size_t *consumed, tg_error *err) {
    scan c = {s, n, 0, err, 0};
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 32);
    ents l, r;
    memset(&l, 0, sizeof l);
    memset(&r, 0, sizeof r);
    tg_status st = TG_OK;
    ws(&c);
    if (c.i >= n || s[c.i] != '[') { st = fail(&c, "model \"merges\" must be an array"); goto out; }
    c.i++;
    ws(&c);
    if (c.i < n && s[c.i] == ']') c.i++;
    else for (;;) {
        ws(&c);
        if (!ents_grow(&l) || !ents_grow(&r)) goto oom;
        size_t at = c.i, k = l.n;
        if (c.i < n && s[c.i] == '"') {
            if ((st = ent_string(&c, &b, &l))) goto out;
            const char *m = ent_ptr(&l, k, b.data);
            size_t ml = l.len[k];
            if (ml >= 8 && memcmp(m, "#version", 8) == 0) {
                if (!l.p[k]) b.len = l.off[k]; /* HF skips "#version" lines */
                goto next;
            }
            const char *sp = memchr(m, ' ', ml);
            if (!sp || memchr(sp + 1, ' ', ml - (size_t)(sp + 1 - m))) {
                st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be two tokens separated by one space",
                                  k + 1, at);
                goto out;
            }
            size_t ll = (size_t)(sp - m);
            r.p[k] = l.p[k] ? l.p[k] + ll + 1 : NULL;
            r.off[k] = l.off[k] + ll + 1;
            r.len[k] = ml - ll - 1;
            l.len[k] = ll;
        } else if (c.i < n && s[c.i] == '[') {
            c.i++;
            ws(&c);
            if ((st = ent_string(&c, &b, &l))) goto out;
            ws(&c);
            if (c.i >= n || s[c.i] != ',') { st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a pair of strings", k, at); goto out; }
            c.i++;
            ws(&c);
            if ((st = ent_string(&c, &b, &r))) goto out;
            ws(&c);
            if (c.i >= n || s[c.i] != ']') { st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a pair of strings", k, at); goto out; }
            c.i++;
        } else {
            st = tg_error_set(err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a string or a pair of strings", k, c.i);
            goto out;
        }
        l.n++;
        r.n++;
        if (l.n > TG__MAX_MERGES) { st = tg_error_set(err, TG_ELIMIT, "more than %u merges", (unsigned)TG__MAX_MERGES); goto out; }
    next:
        ws(&c);
        if (c.i < n && s[c.i] == ',') { c.i++; continue; }
        if (c.i < n && s[c.i] == ']') { c.i++; break; }
        st = fail(&c, "expected ',' or ']'");
        goto out;
    }
    {
        size_t k = l.n;
        tg__bytes *L = calloc(k ? k : 1, sizeof *L), *R = calloc(k ? k : 1, sizeof *R);
        char *base = tgx_buf_detach(&b, NULL);
        if (!L || !R || !base) { free(L); free(R); free(base); goto oom; }
        for (size_t i = 0; i < k; i++) {
            L[i].p = ent_ptr(&l, i, base);
            L[i].n = l.len[i];
            R[i].p = ent_ptr(&r, i, base);
            R[i].n = r.len[i];
        }
        *left = L;
        *right = R;
        *count = k;
        *consumed = c.i;
        *pool = base;
    }
    goto out;
oom:
    st = tg_error_set(err, TG_ENOMEM, "out of memory reading the merges");
out:
    ents_free(&l);
    ents_free(&r);
    tgx_buf_free(&b);
    return st;
}
