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
 * The tokens and these rules come from util/json_lex.h (shared with
 * policy/req_scan.c and the usage filter); this file builds the values.
 * fuzz/fuzz_chat_body.c renders both ways and compares. The HF context is
 * built as tg_chat_context builds it; the llama.cpp dialect rewrites
 * messages on a jansson tree (chat_llamacpp.c), so that dialect still parses
 * with jansson here.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "template/chat.h"
#include "template/tpl.h"
#include "tokgate/tokenizer.h"
#include "util/json_lex.h"

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

static void skip_ws(jp *p) { p->i = tgx_json_ws((const unsigned char *)p->s, p->i, p->n); }

/* A lexer's verdict (util/json_lex.h): NULL fine, else the syntax error. */
static tg_status lexed(jp *p, const char *why) {
    if (!why) return TG_OK;
    if (why == tgx_json_oom) return tg__j_fail(p->rt, TG_ENOMEM, "request JSON: out of memory");
    return bad(p, why);
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

/* A string at s[i] == '"': checked by the lexer, unescaped in place,
 * NUL-terminated. *nul: it held a \u0000. */
static tg_status parse_string(jp *p, tg__j_str *out, int *nul) {
    size_t start = p->i + 1;
    unsigned fl = 0;
    tg_status st = lexed(p, tgx_json_string((const unsigned char *)p->s, p->n, &p->i, &fl));
    if (st) return st;
    size_t end = p->i - 1, len = end - start;
    *nul = (fl & TGX_JSON_NUL) != 0;
    if (*nul && !p->allow_nul) {
        p->i = start;
        return bad(p, "\\u0000 is not allowed");
    }
    if (fl & TGX_JSON_ESC) len = tgx_json_unescape(p->s, start, end);
    p->s[start + len] = '\0';
    out->p = p->s + start;
    out->n = len;
    return TG_OK;
}

static tg_status parse_number(jp *p, tg__j_val *out) {
    size_t start = p->i;
    int real = 0;
    double d = 0;
    tg_status st = lexed(p, tgx_json_number((const unsigned char *)p->s, p->n, &p->i, &real, &d));
    if (st) return st;
    if (!real) {
        char save = p->s[p->i]; /* s holds n + 1 bytes; the lexer checked the range */
        p->s[p->i] = '\0';
        *out = tg__j_int((int64_t)strtoll(p->s + start, NULL, 10));
        p->s[p->i] = save;
    } else if (d == floor(d) && fabs(d) < 9.2e18) {
        *out = tg__j_int((int64_t)d);
    } else {
        *out = tg__j_float(d);
    }
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
    if (depth + 1 > TGX_JSON_MAX_DEPTH) return bad(p, "nested deeper than 2048 levels");
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
            int nul = 0;
            if ((st = parse_string(p, &k, &nul))) return st;
            if (nul) { p->i = at; return bad(p, "NUL byte in object key not supported"); }
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

static tg_status parse_value(jp *p, tg__j_val *out, size_t depth, size_t *height) {
    skip_ws(p);
    *height = 0;
    if (p->i >= p->n) return bad(p, "unexpected end of input");
    char c = p->s[p->i];
    if (c == '{' || c == '[') return parse_container(p, out, depth, height);
    if (c == '"') {
        tg__j_str s;
        int nul = 0;
        tg_status st = parse_string(p, &s, &nul);
        if (!st) *out = tg__j_strv(s.p, s.n);
        return st;
    }
    tg_status st;
    if (c == '-' || (c >= '0' && c <= '9')) {
        st = parse_number(p, out);
    } else {
        int what = 0;
        st = lexed(p, tgx_json_literal((const unsigned char *)p->s, p->n, &p->i, &what));
        if (!st) *out = what < 0 ? tg__j_null() : tg__j_bool(what);
    }
    if (!st) p->i = tgx_json_nul_after((const unsigned char *)p->s, p->i, p->n); /* jansson's quirk */
    return st;
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
