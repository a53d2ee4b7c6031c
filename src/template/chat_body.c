/*
 * template/chat_body.c: chat renders and counts straight from the request's
 * bytes (tg_chat_render_body, tg_chat_count_body[_cached]), without a
 * jansson tree.
 *
 * Why: for a long chat the jansson tree costs more than the render itself
 * (156 KB agent chat: ~23M instructions to build the tree, ~2M to render
 * it). Here the body is copied once and parsed in place straight into the
 * render's values (tpl.h): strings are unescaped where they stand and end in
 * a NUL written over their closing quote, so a message's content is never
 * copied again, and lists and dicts are sized exactly from a value stack.
 *
 * Exactness: the values equal those tg__j_from_json makes of json_loadb's
 * tree (JSON_ALLOW_NUL, as the gateway's request parser reads bodies): the
 * same grammar (jansson's lexer: no leading zeros, "1." and ".5" refused,
 * integers that overflow long long refused, reals that overflow refused,
 * control bytes in strings refused, UTF-8 checked, \u escapes with paired
 * surrogates, a NUL in a key refused, one raw NUL byte right after a number
 * or a literal skipped as jansson's lexer skips it), a duplicate key replacing the earlier
 * value where it stands, index-like keys first (JavaScript's object order),
 * reals that are whole numbers made integers, and the 2048-level nesting
 * limit of jansson plus the 512 levels tg__j_from_json allows the context.
 * fuzz/fuzz_chat_body.c renders both ways and compares. The HF context is
 * built as tg_chat_context builds it; the llama.cpp dialect rewrites
 * messages on a jansson tree (chat_llamacpp.c), so that dialect still parses
 * with jansson here.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "template/chat.h"
#include "template/tpl.h"
#include "tokgate/tokenizer.h"
#include "util/utf8.h"

#define JP_MAX_DEPTH 2048 /* jansson's JSON_PARSER_DEFAULT_DEPTH */
#define CTX_MAX_DEPTH 512 /* tg__j_from_json's */

typedef struct jpair {
    tg__j_str k;
    tg__j_val v;
} jpair;

typedef struct jp {
    tg__j_rt *rt;
    char *s;
    size_t n, i;
    int allow_nul;
    jpair *stk;
    size_t sp, cap;
    const char *why; /* the syntax error, NULL while there is none */
    size_t at;
} jp;

static tg_status bad(jp *p, const char *why) {
    if (!p->why) { p->why = why; p->at = p->i; }
    return TG_EINVAL;
}

static void skip_ws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\n' || p->s[p->i] == '\r' || p->s[p->i] == '\t'))
        p->i++;
}

static tg_status push(jp *p, tg__j_str k, tg__j_val v) {
    if (p->sp == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        jpair *ns = realloc(p->stk, cap * sizeof *ns);
        if (!ns) return tg__j_fail(p->rt, TG_ENOMEM, "request JSON: out of memory");
        p->stk = ns;
        p->cap = cap;
    }
    p->stk[p->sp].k = k;
    p->stk[p->sp].v = v;
    p->sp++;
    return TG_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static long hex4(const char *q) {
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(q[k]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Unescapes s[from..to) (escapes known to be complete) in place; *len the
 * result's length. */
static tg_status unescape(jp *p, size_t from, size_t to, size_t *len) {
    char *s = p->s;
    size_t r = from, w = from;
    while (r < to) {
        if (s[r] != '\\') { /* the plain run up to the next backslash, moved at once */
            const char *bs = memchr(s + r, '\\', to - r);
            size_t k = bs ? (size_t)(bs - (s + r)) : to - r;
            if (w != r) memmove(s + w, s + r, k);
            w += k;
            r += k;
            continue;
        }
        char e = s[r + 1], x = 0;
        switch (e) {
        case '"': x = '"'; break;
        case '\\': x = '\\'; break;
        case '/': x = '/'; break;
        case 'b': x = '\b'; break;
        case 'f': x = '\f'; break;
        case 'n': x = '\n'; break;
        case 'r': x = '\r'; break;
        case 't': x = '\t'; break;
        default: break;
        }
        if (x) { s[w++] = x; r += 2; continue; }
        p->i = r;
        if (e != 'u' || r + 6 > to) return bad(p, "invalid escape");
        long cp = hex4(s + r + 2);
        if (cp < 0) return bad(p, "invalid \\u escape");
        r += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = r + 6 <= to && s[r] == '\\' && s[r + 1] == 'u' ? hex4(s + r + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF) return bad(p, "invalid Unicode: unpaired high surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            r += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return bad(p, "invalid Unicode: unpaired low surrogate");
        } else if (cp == 0 && !p->allow_nul) {
            return bad(p, "\\u0000 is not allowed");
        }
        char u[4];
        size_t m = tgx_utf8_encode((uint32_t)cp, u);
        memcpy(s + w, u, m);
        w += m;
    }
    *len = w - from;
    return TG_OK;
}

/* A string at s[i] == '"': unescaped in place, NUL-terminated. */
static tg_status parse_string(jp *p, tg__j_str *out) {
    const unsigned char *s = (const unsigned char *)p->s;
    size_t start = ++p->i, i = start, n = p->n;
    int esc = 0, hi = 0;
    for (;;) {
#if defined(__SSE2__)
        /* 16 bytes a step to the next quote, backslash or control byte
         * (SSE2 is the x86-64 baseline); the scalar loop finishes. */
        const __m128i qv = _mm_set1_epi8('"'), bv = _mm_set1_epi8('\\'), cv = _mm_set1_epi8(0x1F);
        while (i + 16 <= n) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, qv), _mm_cmpeq_epi8(x, bv)),
                                        _mm_cmpeq_epi8(_mm_max_epu8(x, cv), cv));
            hi |= (_mm_movemask_epi8(x) != 0) << 7; /* a byte >= 0x80: check UTF-8 */
            unsigned m = (unsigned)_mm_movemask_epi8(stop);
            if (m) { i += (size_t)__builtin_ctz(m); break; }
            i += 16;
        }
#endif
        while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20) hi |= s[i++];
        if (i >= n) { p->i = i; return bad(p, "unterminated string"); }
        if (s[i] == '"') break;
        if (s[i] < 0x20) { p->i = i; return bad(p, "control character in a string"); }
        esc = 1; /* a backslash: skip the escaped byte (checked when unescaping) */
        if (i + 1 >= n) { p->i = i; return bad(p, "unterminated string"); }
        i += 2;
    }
    size_t bad_off;
    if ((hi & 0x80) && !tgx_utf8_valid(s + start, i - start, &bad_off)) {
        p->i = start + bad_off;
        return bad(p, "invalid UTF-8 in a string");
    }
    size_t len = i - start;
    if (esc) {
        tg_status st = unescape(p, start, i, &len);
        if (st) return st;
    }
    p->s[start + len] = '\0';
    p->i = i + 1;
    out->p = p->s + start;
    out->n = len;
    return TG_OK;
}

static int digit(char c) { return c >= '0' && c <= '9'; }

static tg_status parse_number(jp *p, tg__j_val *out) {
    char *s = p->s;
    size_t i = p->i, n = p->n, start = i;
    int real = 0;
    if (s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else if (i < n && digit(s[i])) while (i < n && digit(s[i])) i++;
    else { p->i = i; return bad(p, "invalid number"); }
    if (i < n && digit(s[i])) { p->i = i; return bad(p, "invalid number (leading zero)"); }
    if (i < n && s[i] == '.') {
        real = 1;
        if (++i >= n || !digit(s[i])) { p->i = i; return bad(p, "invalid number"); }
        while (i < n && digit(s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        real = 1;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || !digit(s[i])) { p->i = i; return bad(p, "invalid number"); }
        while (i < n && digit(s[i])) i++;
    }
    char save = s[i]; /* s holds n + 1 bytes */
    s[i] = '\0';
    char *end;
    errno = 0;
    p->i = start;
    if (!real) {
        long long v = strtoll(s + start, &end, 10);
        int range = errno == ERANGE;
        s[i] = save;
        if (range) return bad(p, "integer out of range");
        *out = tg__j_int((int64_t)v);
    } else {
        double d = strtod(s + start, &end);
        int range = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
        s[i] = save;
        if (range) return bad(p, "real number overflow");
        if (d == floor(d) && fabs(d) < 9.2e18) *out = tg__j_int((int64_t)d);
        else *out = tg__j_float(d);
    }
    p->i = i;
    return TG_OK;
}

static tg_status parse_value(jp *p, tg__j_val *out, size_t depth, size_t *height);

static tg_status finish_list(jp *p, size_t mark, tg__j_val *out) {
    size_t k = p->sp - mark;
    tg_status st = tg__j_list_new(p->rt, k, out);
    if (st) return st;
    for (size_t j = 0; j < k; j++) out->u.l->v[j] = p->stk[mark + j].v;
    out->u.l->n = k;
    p->sp = mark;
    return TG_OK;
}

static uint64_t key_hash(tg__j_str k) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < k.n; i++) h = (h ^ (unsigned char)k.p[i]) * 1099511628211ULL;
    return h;
}

static int key_eq(tg__j_str a, tg__j_str b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }

/* Drops duplicate keys of pairs e[0..k) (the later value replaces the earlier
 * where that stands, as jansson's json_object_set); returns the count left. */
static size_t dedup(jp *p, jpair *e, size_t k) {
    size_t w = 0;
    if (k <= 16) {
        for (size_t r = 0; r < k; r++) {
            size_t j = 0;
            while (j < w && !key_eq(e[j].k, e[r].k)) j++;
            if (j < w) e[j].v = e[r].v;
            else e[w++] = e[r];
        }
        return w;
    }
    size_t cap = 32;
    while (cap < k * 2) cap *= 2;
    size_t *slot = calloc(cap, sizeof *slot); /* index + 1, 0 empty */
    if (!slot) { (void)tg__j_fail(p->rt, TG_ENOMEM, "request JSON: out of memory"); return SIZE_MAX; }
    for (size_t r = 0; r < k; r++) {
        size_t h = (size_t)key_hash(e[r].k) & (cap - 1);
        while (slot[h] && !key_eq(e[slot[h] - 1].k, e[r].k)) h = (h + 1) & (cap - 1);
        if (slot[h]) { e[slot[h] - 1].v = e[r].v; continue; }
        e[w] = e[r];
        slot[h] = ++w;
    }
    free(slot);
    return w;
}

typedef struct ixkey {
    uint64_t ix;
    size_t pos;
} ixkey;

static int ixkey_cmp(const void *a, const void *b) {
    const ixkey *x = a, *y = b;
    return (x->ix > y->ix) - (x->ix < y->ix);
}

/* Reorders d as JavaScript orders an object's keys: index-like keys first,
 * ascending, then the others in insertion order. */
static tg_status index_order(tg__j_rt *rt, tg__j_dict *d) {
    size_t nidx = 0;
    uint64_t ix;
    for (size_t j = 0; j < d->n; j++) nidx += (size_t)tg__j_index_key(d->k[j].p, d->k[j].n, &ix);
    if (!nidx) return TG_OK;
    ixkey *o = malloc(nidx * sizeof *o);
    jpair *e = malloc(d->n * sizeof *e);
    if (!o || !e) {
        free(o);
        free(e);
        return tg__j_fail(rt, TG_ENOMEM, "request JSON: out of memory");
    }
    size_t m = 0, w = 0;
    for (size_t j = 0; j < d->n; j++) {
        e[j].k = d->k[j];
        e[j].v = d->v[j];
        if (tg__j_index_key(d->k[j].p, d->k[j].n, &ix)) { o[m].ix = ix; o[m].pos = j; m++; }
    }
    qsort(o, m, sizeof *o, ixkey_cmp);
    for (size_t j = 0; j < m; j++) { d->k[w] = e[o[j].pos].k; d->v[w] = e[o[j].pos].v; w++; }
    for (size_t j = 0; j < d->n; j++) {
        if (tg__j_index_key(e[j].k.p, e[j].k.n, &ix)) continue;
        d->k[w] = e[j].k;
        d->v[w] = e[j].v;
        w++;
    }
    free(o);
    free(e);
    return TG_OK;
}

static tg_status finish_object(jp *p, size_t mark, tg__j_val *out) {
    jpair *e = p->stk ? p->stk + mark : NULL; /* NULL: nothing pushed yet ({} first) */
    size_t k = e ? dedup(p, e, p->sp - mark) : 0;
    if (k == SIZE_MAX) return TG_ENOMEM;
    tg_status st = tg__j_dict_new(p->rt, k, V_DICT, out);
    if (st) return st;
    tg__j_dict *d = out->u.d;
    if (k && e) {
        d->k = tg__j_arena_alloc_raw(&p->rt->arena, k * sizeof *d->k);
        d->v = tg__j_arena_alloc_raw(&p->rt->arena, k * sizeof *d->v);
        if (!d->k || !d->v)
            return tg__j_fail(p->rt, TG_ELIMIT, "render memory above the %zu-byte limit", p->rt->lim.max_memory);
        for (size_t j = 0; j < k; j++) {
            d->k[j] = e[j].k;
            d->v[j] = e[j].v;
        }
        d->cap = d->n = k;
    }
    p->sp = mark;
    return index_order(p->rt, d);
}

/* '[' or '{' at s[i]: the members onto the stack, then the container. */
static tg_status parse_container(jp *p, tg__j_val *out, size_t depth, size_t *height) {
    int obj = p->s[p->i] == '{';
    char close = obj ? '}' : ']';
    if (depth + 1 > JP_MAX_DEPTH) return bad(p, "nested deeper than 2048 levels");
    size_t mark = p->sp, h = 0;
    tg_status st;
    p->i++;
    skip_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        *height = 0;
        return obj ? finish_object(p, mark, out) : finish_list(p, mark, out);
    }
    for (;;) {
        tg__j_str k = {NULL, 0};
        if (obj) {
            if (p->i >= p->n || p->s[p->i] != '"') return bad(p, "string or '}' expected");
            size_t at = p->i;
            if ((st = parse_string(p, &k))) return st;
            if (k.n && memchr(k.p, '\0', k.n)) { p->i = at; return bad(p, "NUL byte in object key not supported"); }
            skip_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') return bad(p, "':' expected");
            p->i++;
        }
        tg__j_val v;
        size_t ch = 0;
        if ((st = parse_value(p, &v, depth + 1, &ch))) return st;
        if (ch + 1 > h) h = ch + 1;
        if ((st = push(p, k, v))) return st;
        skip_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') { p->i++; skip_ws(p); continue; }
        if (p->i < p->n && p->s[p->i] == close) { p->i++; break; }
        return bad(p, obj ? "',' or '}' expected" : "',' or ']' expected");
    }
    *height = h;
    return obj ? finish_object(p, mark, out) : finish_list(p, mark, out);
}

static int word_at(jp *p, const char *w, size_t n) {
    if (p->n - p->i < n || memcmp(p->s + p->i, w, n) != 0) return 0;
    p->i += n;
    return 1;
}

/* jansson reads a NUL byte as the end of its input, but its lexer, ending a
 * number or a literal, steps back over that "end" without returning the
 * byte: one NUL right after a number or true/false/null is skipped. */
static void skip_nul_after(jp *p) {
    if (p->i < p->n && p->s[p->i] == '\0') p->i++;
}

static tg_status parse_value(jp *p, tg__j_val *out, size_t depth, size_t *height) {
    skip_ws(p);
    *height = 0;
    if (p->i >= p->n) return bad(p, "unexpected end of input");
    char c = p->s[p->i];
    if (c == '{' || c == '[') return parse_container(p, out, depth, height);
    if (c == '"') {
        tg__j_str s;
        tg_status st = parse_string(p, &s);
        if (!st) *out = tg__j_strv(s.p, s.n);
        return st;
    }
    if (c == '-' || digit(c)) {
        tg_status st = parse_number(p, out);
        if (!st) skip_nul_after(p);
        return st;
    }
    if (word_at(p, "true", 4)) *out = tg__j_bool(1);
    else if (word_at(p, "false", 5)) *out = tg__j_bool(0);
    else if (word_at(p, "null", 4)) *out = tg__j_null();
    else return bad(p, "invalid token");
    skip_nul_after(p);
    return TG_OK;
}

tg_status tg__j_parse_json(tg__j_rt *rt, char *s, size_t n, int allow_nul, tg__j_val *out, size_t *height) {
    jp p = {.rt = rt, .s = s, .n = n, .allow_nul = allow_nul};
    skip_ws(&p);
    tg_status st;
    if (p.i >= n || (s[p.i] != '{' && s[p.i] != '[')) st = bad(&p, "'[' or '{' expected");
    else st = parse_value(&p, out, 0, height);
    if (!st) {
        skip_ws(&p);
        if (p.i < n) st = bad(&p, "end of file expected");
    }
    free(p.stk);
    if (st && p.why) return tg_error_set(rt->err, TG_EINVAL, "request JSON: %s at byte %zu", p.why, p.at);
    return st;
}

/* ---- the HF context ------------------------------------------------------ */

typedef struct body_ctx {
    const tg_chat *c;
    const tg_chat_options *opt;
    char *s;
    size_t n;
} body_ctx;

static tg_status too_deep(tg__j_rt *rt, const tg__j_val *v) {
    if (1 + tg__j_val_height(v) > CTX_MAX_DEPTH)
        return tg__j_fail(rt, TG_ELIMIT, "context JSON nested deeper than 512 levels");
    return TG_OK;
}

/* The context of tg_chat_context, key for key, from the parsed request. */
static tg_status make_ctx(tg__j_rt *rt, void *user, tg__j_val *root) {
    body_ctx *b = user;
    tg__j_val req;
    size_t height = 0;
    tg_status st = tg__j_parse_json(rt, b->s, b->n, 1, &req, &height);
    if (st) return st;
    if (req.t != V_DICT) return tg_error_set(rt->err, TG_EINVAL, "chat request: not a JSON object");
    tg__j_str K[] = {{"messages", 8}, {"tools", 5}, {"documents", 9}, {"chat_template_kwargs", 20},
                     {"add_generation_prompt", 21}};
    tg__j_val *msgs = tg__j_dict_get(req.u.d, K[0]), *tools = tg__j_dict_get(req.u.d, K[1]);
    tg__j_val *docs = tg__j_dict_get(req.u.d, K[2]), *kw = tg__j_dict_get(req.u.d, K[3]);
    tg__j_val *agpv = tg__j_dict_get(req.u.d, K[4]);
    if (!msgs || msgs->t != V_LIST) return tg_error_set(rt->err, TG_EINVAL, "chat request: \"messages\" is not a list");
    if (kw && kw->t != V_DICT && kw->t != V_NULL)
        return tg_error_set(rt->err, TG_EINVAL, "chat request: \"chat_template_kwargs\" is not an object");
    size_t idx = 0;
    const tg_chat_options *opt = b->opt;
    if ((st = tg__j_chat_pick(b->c, opt ? opt->template_name : NULL, tools && tools->t != V_NULL, &idx, rt->err)))
        return st;
    if (!b->c->tpls[idx]) {
        if (rt->err) *rt->err = b->c->errs[idx];
        return b->c->errs[idx].code ? b->c->errs[idx].code : TG_EINVAL;
    }
    rt->tpl = b->c->tpls[idx];
    int agp = opt ? opt->add_generation_prompt : -1;
    if (agp < 0) agp = agpv && agpv->t == V_BOOL ? agpv->u.b : 1;
    if ((st = tg__j_dict_new(rt, 8, V_DICT, root))) return st;
    tg__j_dict *d = root->u.d;
    const char *bos = tg_chat_bos_token(b->c), *eos = tg_chat_eos_token(b->c);
    if (height + 1 > CTX_MAX_DEPTH && ((st = too_deep(rt, msgs)) || (tools && (st = too_deep(rt, tools))) ||
                                       (docs && (st = too_deep(rt, docs)))))
        return st;
    if ((st = tg__j_dict_set(rt, d, K[0], *msgs)) ||
        (st = tg__j_dict_set(rt, d, K[1], tools ? *tools : tg__j_null())) ||
        (st = tg__j_dict_set(rt, d, K[2], docs ? *docs : tg__j_null())) ||
        (st = tg__j_dict_set(rt, d, K[4], tg__j_bool(agp))) ||
        (st = tg__j_dict_set(rt, d, (tg__j_str){"bos_token", 9}, tg__j_strv(bos, strlen(bos)))) ||
        (st = tg__j_dict_set(rt, d, (tg__j_str){"eos_token", 9}, tg__j_strv(eos, strlen(eos)))))
        return st;
    if (opt && opt->extra && json_is_object(opt->extra)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)(uintptr_t)opt->extra, key, val) {
            tg__j_val v;
            if ((st = tg__j_from_json(rt, val, &v, 1)) ||
                (st = tg__j_dict_set(rt, d, (tg__j_str){key, strlen(key)}, v)))
                return st;
        }
    }
    for (size_t i = 0; kw && kw->t == V_DICT && i < kw->u.d->n; i++) {
        if (height + 1 > CTX_MAX_DEPTH && (st = too_deep(rt, &kw->u.d->v[i]))) return st;
        if ((st = tg__j_dict_set(rt, d, kw->u.d->k[i], kw->u.d->v[i]))) return st;
    }
    return index_order(rt, d);
}

static tg_status render_body(const tg_chat *c, const char *body, size_t len, const tg_chat_options *opt, char **out,
                             size_t *out_len, tg_error *err) {
    if (!c || (!body && len) || !out) return tg_error_set(err, TG_EINVAL, "chat render: NULL argument");
    if (opt && opt->dialect == TG_CHAT_LLAMACPP) {
        json_error_t je;
        json_t *req = json_loadb(body ? body : "", len, JSON_ALLOW_NUL, &je);
        if (!req) return tg_error_set(err, TG_EINVAL, "request JSON: %s at byte %d", je.text, je.position);
        tg_status st = tg_chat_render(c, req, opt, out, out_len, err);
        json_decref(req);
        return st;
    }
    char *s = malloc(len + 1); /* parsed in place */
    if (!s) return tg_error_set(err, TG_ENOMEM, "chat render: out of memory for a %zu-byte request", len);
    if (len) memcpy(s, body, len);
    s[len] = '\0';
    body_ctx b = {.c = c, .opt = opt, .s = s, .n = len};
    /* The template is known once the request is read: make_ctx picks it. */
    tg_status st = tg__j_render_with(NULL, opt ? &opt->render : NULL, make_ctx, &b, out, out_len, err);
    free(s);
    return st;
}

tg_status tg_chat_render_body(const tg_chat *c, const char *body, size_t len, const tg_chat_options *opt, char **out,
                              size_t *out_len, tg_error *err) {
    return render_body(c, body, len, opt, out, out_len, err);
}

tg_status tg_chat_count_body(const tg_chat *c, const struct tg_tokenizer *tok, const char *body, size_t len,
                             const tg_chat_options *opt, unsigned encode_flags, size_t *count, tg_error *err) {
    char *prompt = NULL;
    size_t plen = 0;
    tg_chat_options o;
    tg__j_chat_count_options(opt, tok, encode_flags, &o);
    tg_status st = render_body(c, body, len, &o, &prompt, &plen, err);
    if (st) return st;
    st = tg_tokenizer_count(tok, prompt, plen, encode_flags, count, err);
    free(prompt);
    return st;
}
