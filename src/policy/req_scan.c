/*
 * policy/req_scan.c: the strict one-pass request scanner; see req_scan.h.
 * Where jansson (load.c, 2.14) decides, this decides the same way; the
 * differential test and fuzzer compare the two on every input. The tokens
 * (strings with their SSE2 skim, numbers, literals, the raw-NUL quirk, the
 * depth limit) come from util/json_lex.h, shared with chat_body.c and the
 * usage filter; this file walks the structure and notes the spans.
 */
#include "policy/req_scan.h"

#include <stdlib.h>
#include <string.h>

#include "util/json_lex.h"

typedef struct sc {
    const unsigned char *s;
    size_t n, i;
    tg_error *err;
    int raw_nul;  /* a NUL was skipped after a number or literal */
} sc;

static tg_status fail(sc *c, const char *what) {
    return tg_error_set(c->err, TG_ECORRUPT, "request is not valid JSON: %s at byte offset %zu", what, c->i);
}

/* A lexer's verdict: why NULL is fine, tgx_json_oom is out of memory. */
static tg_status lexed(sc *c, const char *why) {
    if (!why) return TG_OK;
    if (why == tgx_json_oom) return tg_error_set(c->err, TG_ENOMEM, "out of memory scanning the request");
    return fail(c, why);
}

static inline void ws(sc *c) {
    if (c->i < c->n && c->s[c->i] > ' ') return; /* the usual case: no whitespace (all of it is <= ' ') */
    c->i = tgx_json_ws(c->s, c->i, c->n);
}

/* A string at c->i (the opening quote). *esc: it held a backslash; *nul: a
 * \u0000 (jansson refuses it in a key). */
static tg_status string(sc *c, int *esc, int *nul) {
    size_t e = tgx_json_plain_end(c->s, c->n, c->i); /* the usual string, inline */
    if (e) {
        c->i = e;
        *esc = *nul = 0;
        return TG_OK;
    }
    unsigned fl = 0;
    tg_status st = lexed(c, tgx_json_string(c->s, c->n, &c->i, &fl));
    *esc = (fl & TGX_JSON_ESC) != 0;
    *nul = (fl & TGX_JSON_NUL) != 0;
    return st;
}

static tg_status value(sc *c, int depth, size_t *n_elems);

static tg_status object_body(sc *c, int depth, tg__req_scan *top) {
    c->i++; /* '{' */
    ws(c);
    if (c->i < c->n && c->s[c->i] == '}') {
        c->i++;
        return TG_OK;
    }
    for (;;) {
        if (c->i >= c->n || c->s[c->i] != '"') return fail(c, "string or '}' expected");
        size_t ks = c->i;
        int esc = 0, nul = 0;
        tg_status st = string(c, &esc, &nul);
        if (st) return st;
        if (nul) return fail(c, "NUL byte in object key not supported");
        size_t ke = c->i - 1;
        ws(c);
        if (c->i >= c->n || c->s[c->i] != ':') return fail(c, "':' expected");
        c->i++;
        ws(c);
        size_t vs = c->i, ne = 0;
        if ((st = value(c, depth, &ne))) return st;
        if (top) {
            if (top->n == top->cap) {
                size_t cap = top->cap ? top->cap * 2 : TG__REQ_SCAN_INLINE;
                tg__req_member *m = !top->cap ? top->inl : top->m != top->inl ? realloc(top->m, cap * sizeof *m)
                                                                              : malloc(cap * sizeof *m);
                if (!m) return tg_error_set(c->err, TG_ENOMEM, "out of memory scanning the request");
                if (top->m == top->inl && m != top->inl) memcpy(m, top->inl, sizeof top->inl);
                top->m = m, top->cap = cap;
            }
            tg__req_member *m = &top->m[top->n++];
            *m = (tg__req_member){ks + 1, ke, vs, c->i, esc, (char)c->s[vs], ne};
            top->any_escaped_key |= esc;
        }
        ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            ws(c);
            continue;
        }
        if (c->i < c->n && c->s[c->i] == '}') {
            c->i++;
            return TG_OK;
        }
        return fail(c, "',' or '}' expected");
    }
}

static tg_status array_body(sc *c, int depth, size_t *n_elems) {
    c->i++; /* '[' */
    ws(c);
    if (c->i < c->n && c->s[c->i] == ']') {
        c->i++;
        return TG_OK;
    }
    for (;;) {
        size_t ne = 0;
        tg_status st = value(c, depth, &ne);
        if (st) return st;
        (*n_elems)++;
        ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            ws(c);
            continue;
        }
        if (c->i < c->n && c->s[c->i] == ']') {
            c->i++;
            return TG_OK;
        }
        return fail(c, "',' or ']' expected");
    }
}

/* A number or literal: then jansson's skipped raw NUL (json_lex.h). */
static tg_status scalar(sc *c, const char *why) {
    if (why) return lexed(c, why);
    size_t j = tgx_json_nul_after(c->s, c->i, c->n);
    c->raw_nul |= j != c->i;
    c->i = j;
    return TG_OK;
}

static tg_status value(sc *c, int depth, size_t *n_elems) {
    if (c->i >= c->n) return fail(c, "value expected");
    int esc = 0, nul = 0;
    switch (c->s[c->i]) {
    case '{':
        if (depth + 1 > TGX_JSON_MAX_DEPTH) return fail(c, "maximum parsing depth reached");
        return object_body(c, depth + 1, NULL);
    case '[':
        if (depth + 1 > TGX_JSON_MAX_DEPTH) return fail(c, "maximum parsing depth reached");
        return array_body(c, depth + 1, n_elems);
    case '"': return string(c, &esc, &nul);
    case 't': case 'f': case 'n': {
        int what;
        return scalar(c, tgx_json_literal(c->s, c->n, &c->i, &what));
    }
    default:
        if (c->s[c->i] == '-' || (c->s[c->i] >= '0' && c->s[c->i] <= '9')) {
            int real;
            return scalar(c, tgx_json_number(c->s, c->n, &c->i, &real, NULL));
        }
        return fail(c, "invalid token");
    }
}

tg_status tg__req_scan_run(const char *s, size_t n, tg__req_scan *out, tg_error *err) {
    out->m = NULL; /* the members are written before they are read: inl is not cleared */
    out->n = out->cap = 0;
    out->any_escaped_key = out->raw_nul = 0;
    sc c = {(const unsigned char *)s, s ? n : 0, 0, err, 0};
    ws(&c);
    if (c.i >= c.n || c.s[c.i] != '{') {
        if (c.i < c.n && c.s[c.i] == '[') return tg_error_set(err, TG_EINVAL, "request is not a JSON object");
        return fail(&c, "'{' expected");
    }
    tg_status st = object_body(&c, 1, out);
    if (st == TG_OK) {
        ws(&c);
        if (c.i != c.n) st = fail(&c, "end of input expected");
    }
    if (st != TG_OK) tg__req_scan_free(out);
    else out->raw_nul = c.raw_nul;
    return st;
}

void tg__req_scan_free(tg__req_scan *sc_) {
    if (sc_->m != sc_->inl) free(sc_->m);
    sc_->m = NULL;
    sc_->n = sc_->cap = 0;
    sc_->any_escaped_key = sc_->raw_nul = 0;
}
