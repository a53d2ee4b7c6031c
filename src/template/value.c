/*
 * template/value.c: the renderer's dynamic values and the arena they live in.
 *
 * A value is one of undefined, none, bool, int, float, string (bytes + length),
 * list (tuples are lists with VF_TUPLE), dict (insertion-ordered), namespace,
 * function. The semantics follow @huggingface/jinja, whose values wrap
 * JavaScript ones, so:
 *  - truthiness: empty string/list/dict, 0, none, undefined are false; a
 *    namespace is always true;
 *  - `==` is JavaScript's loose equality of the wrapped values (1 == "1",
 *    none == undefined, lists and dicts equal only to themselves);
 *  - printing a float keeps ".0" (1.0 -> "1.0"), but concatenating one (~, +)
 *    uses JavaScript's String(1.0) = "1";
 *  - ints are int64 here (JavaScript has doubles): beyond 2^53 they differ.
 * JSON objects from the context keep their key order, except that keys which
 * look like array indices come first in ascending order, as JavaScript objects
 * do (Object.entries of JSON.parse output).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "template/tpl.h"
#include "util/utf8.h"

struct tg__j_chunk {
    tg__j_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

void tg__j_arena_init(tg__j_arena *a, size_t max) {
    a->head = NULL;
    a->total = 0;
    a->max = max;
}

static void *arena_raw(tg__j_arena *a, size_t n);

void *tg__j_arena_alloc_raw(tg__j_arena *a, size_t n) { return arena_raw(a, n); }

void *tg__j_arena_alloc(tg__j_arena *a, size_t n) {
    void *p = arena_raw(a, n);
    if (p) memset(p, 0, (n + 15u) & ~(size_t)15u);
    return p;
}

/* Uninitialised memory (for copies that fill it at once). */
static void *arena_raw(tg__j_arena *a, size_t n) {
    n = (n + 15u) & ~(size_t)15u;
    if (n == 0) n = 16;
    if (n > a->max || a->total > a->max - n) return NULL;
    tg__j_chunk *c = a->head;
    if (!c || c->size - c->used < n) {
        size_t sz = n > 262144 ? n : 262144;
        c = malloc(sizeof *c + sz);
        if (!c) return NULL;
        c->size = sz;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->total += n;
    return p;
}

void *tg__j_arena_dup(tg__j_arena *a, const void *p, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *q = arena_raw(a, n + 1);
    if (!q) return NULL;
    if (n) memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

void tg__j_arena_free(tg__j_arena *a) {
    tg__j_chunk *c = a->head;
    while (c) {
        tg__j_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}

const char *tg__j_find(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0) return hay;
    if (m > n) return NULL;
    const char *end = hay + (n - m) + 1, *p = hay;
    while (p < end) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p) return NULL;
        if (memcmp(p, needle, m) == 0) return p;
        p++;
    }
    return NULL;
}

int tg__j_str_eq(tg__j_str a, const char *lit) {
    size_t n = strlen(lit);
    return a.n == n && memcmp(a.p, lit, n) == 0;
}

/* The name in parentheses: not the analyzer's macro of the same name (tpl.h). */
tg_status (tg__j_fail)(tg__j_rt *rt, tg_status code, const char *fmt, ...) {
    char msg[TG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (rt->at && rt->tpl) {
        size_t line, col;
        tg__j_source_pos(rt->tpl->src, rt->tpl->len, rt->at->off, &line, &col);
        return tg_error_set(rt->err, code, "template line %zu, column %zu: %s", line, col, msg);
    }
    return tg_error_set(rt->err, code, "template: %s", msg);
}

static tg_status oom(tg__j_rt *rt) {
    return tg__j_fail(rt, TG_ELIMIT, "render memory above the %zu-byte limit", rt->lim.max_memory);
}

tg__j_val tg__j_undef(void) { tg__j_val v; memset(&v, 0, sizeof v); v.t = V_UNDEF; return v; }
tg__j_val tg__j_null(void) { tg__j_val v = tg__j_undef(); v.t = V_NULL; return v; }
tg__j_val tg__j_bool(int b) { tg__j_val v = tg__j_undef(); v.t = V_BOOL; v.u.b = b != 0; return v; }
tg__j_val tg__j_int(int64_t i) { tg__j_val v = tg__j_undef(); v.t = V_INT; v.u.i = i; return v; }
tg__j_val tg__j_float(double f) { tg__j_val v = tg__j_undef(); v.t = V_FLOAT; v.u.f = f; return v; }
tg__j_val tg__j_strv(const char *p, size_t n) {
    tg__j_val v = tg__j_undef();
    v.t = V_STR;
    v.u.s.p = n ? p : "";
    v.u.s.n = n;
    return v;
}

tg_status tg__j_str_copy(tg__j_rt *rt, const char *p, size_t n, tg__j_val *out) {
    if (n == 0) { *out = tg__j_strv("", 0); return TG_OK; }
    char *q = tg__j_arena_dup(&rt->arena, p, n);
    if (!q) return oom(rt);
    *out = tg__j_strv(q, n);
    return TG_OK;
}

tg_status tg__j_list_new(tg__j_rt *rt, size_t cap, tg__j_val *out) {
    tg__j_list *l = tg__j_arena_alloc(&rt->arena, sizeof *l);
    if (!l) return oom(rt);
    if (cap) {
        if (cap > SIZE_MAX / sizeof(tg__j_val)) return oom(rt);
        l->v = tg__j_arena_alloc(&rt->arena, cap * sizeof(tg__j_val));
        if (!l->v) return oom(rt);
        l->cap = cap;
    }
    *out = tg__j_undef();
    out->t = V_LIST;
    out->u.l = l;
    return TG_OK;
}

tg_status tg__j_list_push(tg__j_rt *rt, tg__j_list *l, tg__j_val v) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof(tg__j_val)) return oom(rt);
        tg__j_val *nv = tg__j_arena_alloc(&rt->arena, cap * sizeof(tg__j_val));
        if (!nv) return oom(rt);
        if (l->n) memcpy(nv, l->v, l->n * sizeof(tg__j_val));
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return TG_OK;
}

tg_status tg__j_dict_new(tg__j_rt *rt, size_t cap, int type, tg__j_val *out) {
    tg__j_dict *d = tg__j_arena_alloc(&rt->arena, sizeof *d);
    if (!d) return oom(rt);
    (void)cap;
    *out = tg__j_undef();
    out->t = (uint8_t)type;
    out->u.d = d;
    return TG_OK;
}

tg__j_val *tg__j_dict_get(const tg__j_dict *d, tg__j_str k) {
    for (size_t i = 0; i < d->n; i++)
        if (d->k[i].n == k.n && (k.n == 0 || memcmp(d->k[i].p, k.p, k.n) == 0)) return &d->v[i];
    return NULL;
}

/* d->k and d->v are allocated together, for d->cap >= d->n entries (the
 * analyzer, losing that across calls it does not follow, sees d->v NULL). */
tg_status tg__j_dict_set(tg__j_rt *rt, tg__j_dict *d, tg__j_str k, tg__j_val v) {
    tg__j_val *p = tg__j_dict_get(d, k);
    if (p) { *p = v; return TG_OK; }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof(tg__j_val)) return oom(rt);
        tg__j_str *nk = tg__j_arena_alloc(&rt->arena, cap * sizeof(tg__j_str));
        tg__j_val *nv = tg__j_arena_alloc(&rt->arena, cap * sizeof(tg__j_val));
        if (!nk || !nv) return oom(rt);
        if (d->n) {
            memcpy(nk, d->k, d->n * sizeof(tg__j_str));
            memcpy(nv, d->v, d->n * sizeof(tg__j_val)); // NOLINT(clang-analyzer-core.NonNullParamChecker): see above
        }
        d->k = nk;
        d->v = nv;
        d->cap = cap;
    }
    d->k[d->n] = k;
    d->v[d->n] = v; // NOLINT(clang-analyzer-core.NullDereference): see above
    d->n++;
    return TG_OK;
}

tg_status tg__j_fn_new(tg__j_rt *rt, int kind, int id, tg__j_val *out, tg__j_fn **fn) {
    tg__j_fn *f = tg__j_arena_alloc(&rt->arena, sizeof *f);
    if (!f) return oom(rt);
    f->kind = kind;
    f->id = id;
    *out = tg__j_undef();
    out->t = V_FUNC;
    out->u.fn = f;
    if (fn) *fn = f;
    return TG_OK;
}

const char *tg__j_type_name(const tg__j_val *v) {
    switch (v->t) {
    case V_UNDEF: return "UndefinedValue";
    case V_NULL: return "NullValue";
    case V_BOOL: return "BooleanValue";
    case V_INT: return "IntegerValue";
    case V_FLOAT: return "FloatValue";
    case V_STR: return "StringValue";
    case V_LIST: return (v->flags & VF_TUPLE) ? "TupleValue" : "ArrayValue";
    case V_DICT: return (v->flags & VF_KWARGS) ? "KeywordArgumentsValue" : "ObjectValue";
    case V_NS: return "NamespaceValue";
    default: return "FunctionValue";
    }
}

int tg__j_truthy(const tg__j_val *v) {
    switch (v->t) {
    case V_BOOL: return v->u.b;
    case V_INT: return v->u.i != 0;
    case V_FLOAT: return v->u.f != 0 && !isnan(v->u.f);
    case V_STR: return v->u.s.n > 0;
    case V_LIST: return v->u.l->n > 0;
    case V_DICT: return v->u.d->n > 0;
    case V_NS:
    case V_FUNC: return 1;
    default: return 0;
    }
}

int tg__j_is_numeric(const tg__j_val *v) { return v->t == V_INT || v->t == V_FLOAT; }

double tg__j_num(const tg__j_val *v) {
    if (v->t == V_INT) return (double)v->u.i;
    if (v->t == V_FLOAT) return v->u.f;
    if (v->t == V_BOOL) return v->u.b ? 1.0 : 0.0;
    return (double)NAN;
}

/* JS ToNumber of a string: trimmed; "" -> 0; a decimal literal or
 * [+-]Infinity; else NaN. (Hex/octal/binary literals are not handled.) */
static double js_to_number(tg__j_str s) {
    size_t a = 0, b = s.n, k;
    while (a < b && (k = tg__j_js_space(s.p + a, b - a)) > 0) a += k;
    while (b > a) {
        size_t j = b - 1;
        while (j > a && ((unsigned char)s.p[j] & 0xC0) == 0x80) j--;
        if (tg__j_js_space(s.p + j, b - j) == b - j) b = j;
        else break;
    }
    if (a == b) return 0.0;
    char tmp[64];
    size_t n = b - a;
    if (n >= sizeof tmp) return (double)NAN;
    memcpy(tmp, s.p + a, n);
    tmp[n] = '\0';
    const char *q = tmp;
    if (*q == '+' || *q == '-') q++;
    if (strcmp(q, "Infinity") == 0) return tmp[0] == '-' ? -(double)INFINITY : (double)INFINITY;
    /* Only digits, '.', exponent. */
    int digits = 0;
    for (const char *c = q; *c; c++) {
        if (*c >= '0' && *c <= '9') digits = 1;
        else if (*c != '.' && *c != 'e' && *c != 'E' && *c != '+' && *c != '-') return (double)NAN;
    }
    if (!digits) return (double)NAN;
    char *end;
    double d = strtod(tmp, &end);
    return *end ? (double)NAN : d;
}

static int is_prim(const tg__j_val *v) {
    return v->t == V_BOOL || v->t == V_INT || v->t == V_FLOAT || v->t == V_STR;
}

/* Identity of the JS object behind a list/dict/ns/function value. */
static const void *obj_id(const tg__j_val *v) {
    switch (v->t) {
    case V_LIST: return v->u.l;
    case V_DICT:
    case V_NS: return v->u.d;
    case V_FUNC: return v->u.fn;
    default: return NULL;
    }
}

static int str_eq(tg__j_str a, tg__j_str b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }

int tg__j_strict_eq(const tg__j_val *a, const tg__j_val *b) {
    int au = a->t == V_UNDEF || a->t == V_NULL, bu = b->t == V_UNDEF || b->t == V_NULL;
    if (au || bu) return au && bu;
    if (tg__j_is_numeric(a) && tg__j_is_numeric(b)) return tg__j_num(a) == tg__j_num(b);
    if (a->t != b->t) {
        if ((a->t == V_DICT && b->t == V_NS) || (a->t == V_NS && b->t == V_DICT)) return 0;
        return 0;
    }
    switch (a->t) {
    case V_BOOL: return a->u.b == b->u.b;
    case V_STR: return str_eq(a->u.s, b->u.s);
    default: return obj_id(a) == obj_id(b);
    }
}

int tg__j_loose_eq(const tg__j_val *a, const tg__j_val *b) {
    int au = a->t == V_UNDEF || a->t == V_NULL, bu = b->t == V_UNDEF || b->t == V_NULL;
    if (au || bu) return au && bu;
    if (!is_prim(a) && !is_prim(b)) return obj_id(a) == obj_id(b);
    if (!is_prim(a) || !is_prim(b)) {
        /* Object vs primitive: ToPrimitive(object) is its string form; compare as
         * string with the primitive. Rare in templates; approximated with the
         * same rule as primitives below. */
        return 0;
    }
    if (a->t == V_STR && b->t == V_STR) return str_eq(a->u.s, b->u.s);
    if (a->t == V_BOOL && b->t == V_BOOL) return a->u.b == b->u.b;
    double x = a->t == V_STR ? js_to_number(a->u.s) : tg__j_num(a);
    double y = b->t == V_STR ? js_to_number(b->u.s) : tg__j_num(b);
    return x == y;
}

/* Lowercases ASCII and, through utf8proc, other letters, for case-insensitive
 * string comparison (String.prototype.toLowerCase). */
tg_status tg__j_compare(tg__j_rt *rt, const tg__j_val *a, const tg__j_val *b, int case_sensitive, int *res) {
    if (a->t == V_NULL && b->t == V_NULL) { *res = 0; return TG_OK; }
    if (a->t == V_NULL || b->t == V_NULL || (a->t == V_UNDEF) != (b->t == V_UNDEF))
        return tg__j_fail(rt, TG_EINVAL, "Cannot compare %s with %s", tg__j_type_name(a), tg__j_type_name(b));
    if (a->t == V_UNDEF) { *res = 0; return TG_OK; }
    int an = tg__j_is_numeric(a) || a->t == V_BOOL, bn = tg__j_is_numeric(b) || b->t == V_BOOL;
    if (an && bn) {
        double x = tg__j_num(a), y = tg__j_num(b);
        *res = x < y ? -1 : x > y ? 1 : 0;
        return TG_OK;
    }
    if (a->t != b->t)
        return tg__j_fail(rt, TG_EINVAL, "Cannot compare different types: %s and %s", tg__j_type_name(a),
                        tg__j_type_name(b));
    if (a->t != V_STR) return tg__j_fail(rt, TG_EINVAL, "Cannot compare type: %s", tg__j_type_name(a));
    tg__j_str x = a->u.s, y = b->u.s;
    tg__j_val lx, ly;
    if (!case_sensitive) {
        tg_status st = tg__j_str_upper(rt, x, 0, &lx);
        if (st) return st;
        st = tg__j_str_upper(rt, y, 0, &ly);
        if (st) return st;
        x = lx.u.s;
        y = ly.u.s;
    }
    /* JS compares UTF-16 code units; UTF-8 byte order equals code point order,
     * which differs only between astral characters and U+E000..U+FFFF. */
    size_t m = x.n < y.n ? x.n : y.n;
    int c = m ? memcmp(x.p, y.p, m) : 0;
    if (c == 0) c = x.n < y.n ? -1 : x.n > y.n ? 1 : 0;
    *res = c < 0 ? -1 : c > 0 ? 1 : 0;
    return TG_OK;
}

void tg__j_js_number(double d, char out[40]) {
    if (isnan(d)) { snprintf(out, 40, "NaN"); return; }
    if (isinf(d)) { snprintf(out, 40, "%s", d < 0 ? "-Infinity" : "Infinity"); return; }
    if (d == 0) { snprintf(out, 40, "0"); return; }
    /* Shortest round-trip digits. */
    char buf[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d) break;
    }
    /* buf = [-]d[.ddd]e[+-]XX */
    const char *p = buf;
    int neg = 0;
    if (*p == '-') { neg = 1; p++; }
    char digits[24];
    int k = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = '\0';
    int e = atoi(p + 1);
    int n = e + 1; /* value = 0.digits * 10^n */
    char *o = out;
    if (neg) *o++ = '-';
    if (k <= n && n <= 21) {
        memcpy(o, digits, (size_t)k); o += k;
        for (int i = 0; i < n - k; i++) *o++ = '0';
    } else if (0 < n && n <= 21) {
        memcpy(o, digits, (size_t)n); o += n;
        *o++ = '.';
        memcpy(o, digits + n, (size_t)(k - n)); o += k - n;
    } else if (-6 < n && n <= 0) {
        *o++ = '0'; *o++ = '.';
        for (int i = 0; i < -n; i++) *o++ = '0';
        memcpy(o, digits, (size_t)k); o += k;
    } else {
        *o++ = digits[0];
        if (k > 1) { *o++ = '.'; memcpy(o, digits + 1, (size_t)(k - 1)); o += k - 1; }
        o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
    }
    *o = '\0';
}

void tg__j_buf_init(tg__j_rt *rt, tgx_buf *b) { tgx_buf_init(b, rt->lim.max_output); }

tg_status tg__j_append(tg__j_rt *rt, tgx_buf *b, const char *p, size_t n) {
    tg_status st = tgx_buf_append(b, p, n);
    if (st == TG_ELIMIT)
        return tg__j_fail(rt, TG_ELIMIT, "rendered output above the %zu-byte limit", rt->lim.max_output);
    if (st) return tg__j_fail(rt, st, "out of memory");
    return TG_OK;
}

static tg_status append_cstr(tg__j_rt *rt, tgx_buf *b, const char *s) { return tg__j_append(rt, b, s, strlen(s)); }

static tg_status print_float(tg__j_rt *rt, tgx_buf *b, double f) {
    char tmp[400];
    if (f == 0 && signbit(f)) return append_cstr(rt, b, "-0.0");
    if (isfinite(f) && f == floor(f) && fabs(f) < 1e21) {
        snprintf(tmp, sizeof tmp, "%.1f", f);
        return append_cstr(rt, b, tmp);
    }
    tg__j_js_number(f, tmp);
    return append_cstr(rt, b, tmp);
}

tg_status tg__j_print(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v) {
    char tmp[40];
    switch (v->t) {
    case V_UNDEF:
    case V_NULL: return append_cstr(rt, b, "undefined");
    case V_BOOL: return append_cstr(rt, b, v->u.b ? "true" : "false");
    case V_INT: snprintf(tmp, sizeof tmp, "%" PRId64, v->u.i); return append_cstr(rt, b, tmp);
    case V_FLOAT: return print_float(rt, b, v->u.f);
    case V_STR: return tg__j_append(rt, b, v->u.s.p, v->u.s.n);
    case V_LIST:
    case V_DICT:
    case V_NS: {
        tg__j_json_opts o;
        memset(&o, 0, sizeof o);
        o.indent = -1;
        return tg__j_tojson(rt, b, v, &o, 0);
    }
    default:
        return tg__j_fail(rt, TG_EUNSUPPORTED, "printing a function is not supported");
    }
}

tg_status tg__j_js_string(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v) {
    char tmp[40];
    switch (v->t) {
    case V_FLOAT: tg__j_js_number(v->u.f, tmp); return append_cstr(rt, b, tmp);
    case V_LIST:
        for (size_t i = 0; i < v->u.l->n; i++) {
            tg_status st;
            if (i && (st = append_cstr(rt, b, ","))) return st;
            if ((st = tg__j_print(rt, b, &v->u.l->v[i]))) return st;
        }
        return TG_OK;
    case V_DICT:
    case V_NS: return append_cstr(rt, b, "[object Map]");
    default: return tg__j_print(rt, b, v);
    }
}

tg_status tg__j_buf_to_val(tg__j_rt *rt, const tgx_buf *b, tg__j_val *out) {
    return tg__j_str_copy(rt, b->data, b->len, out);
}

size_t tg__j_utf16_len(const char *p, size_t n) {
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c & 0xC0) != 0x80) len += c >= 0xF0 ? 2 : 1;
    }
    return len;
}

/* A JS "array index" property name: canonical decimal below 2^32 - 1. */
static int index_key(const char *k, size_t n, uint64_t *out) {
    if (n == 0 || n > 10) return 0;
    if (n > 1 && k[0] == '0') return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (k[i] < '0' || k[i] > '9') return 0;
        v = v * 10 + (uint64_t)(k[i] - '0');
    }
    if (v >= 4294967295u) return 0;
    *out = v;
    return 1;
}

tg_status tg__j_from_json(tg__j_rt *rt, const json_t *j, tg__j_val *out, size_t depth) {
    if (depth > 512) return tg__j_fail(rt, TG_ELIMIT, "context JSON nested deeper than 512 levels");
    tg_status st;
    switch (json_typeof(j)) {
    case JSON_NULL: *out = tg__j_null(); return TG_OK;
    case JSON_TRUE: *out = tg__j_bool(1); return TG_OK;
    case JSON_FALSE: *out = tg__j_bool(0); return TG_OK;
    case JSON_INTEGER: *out = tg__j_int((int64_t)json_integer_value(j)); return TG_OK;
    case JSON_REAL: {
        double d = json_real_value(j);
        /* JSON.parse makes one Number; Number.isInteger decides the type. */
        if (d == floor(d) && fabs(d) < 9.2e18) *out = tg__j_int((int64_t)d);
        else *out = tg__j_float(d);
        return TG_OK;
    }
    case JSON_STRING:
        *out = tg__j_strv(json_string_value(j), json_string_length(j));
        return TG_OK;
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        if ((st = tg__j_list_new(rt, n, out))) return st;
        for (size_t i = 0; i < n; i++) {
            tg__j_val v;
            if ((st = tg__j_from_json(rt, json_array_get(j, i), &v, depth + 1))) return st;
            out->u.l->v[out->u.l->n++] = v;
        }
        return TG_OK;
    }
    case JSON_OBJECT: {
        if ((st = tg__j_dict_new(rt, json_object_size(j), V_DICT, out))) return st;
        /* Index-like keys first, ascending, then the rest in order. */
        size_t nidx = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)(uintptr_t)j, key, val) {
            uint64_t ix;
            if (index_key(key, strlen(key), &ix)) nidx++;
        }
        if (nidx) {
            uint64_t last = 0;
            for (size_t r = 0; r < nidx; r++) {
                /* Selection of the next smallest index above `last` (small n). */
                uint64_t best = UINT64_MAX;
                const char *bk = NULL;
                json_t *bv = NULL;
                json_object_foreach((json_t *)(uintptr_t)j, key, val) {
                    uint64_t ix;
                    if (index_key(key, strlen(key), &ix) && (r == 0 || ix > last) && ix < best) {
                        best = ix;
                        bk = key;
                        bv = val;
                    }
                }
                if (!bk) break; /* not reached: nidx keys are index-like */
                last = best;
                tg__j_val v;
                if ((st = tg__j_from_json(rt, bv, &v, depth + 1))) return st;
                tg__j_str k = {bk, strlen(bk)};
                if ((st = tg__j_dict_set(rt, out->u.d, k, v))) return st;
            }
        }
        json_object_foreach((json_t *)(uintptr_t)j, key, val) {
            uint64_t ix;
            size_t kl = strlen(key);
            if (index_key(key, kl, &ix)) continue;
            tg__j_val v;
            if ((st = tg__j_from_json(rt, val, &v, depth + 1))) return st;
            tg__j_str k = {key, kl};
            if ((st = tg__j_dict_set(rt, out->u.d, k, v))) return st;
        }
        return TG_OK;
    }
    }
    *out = tg__j_undef();
    return TG_OK;
}

int tg__j_index_key(const char *k, size_t n, uint64_t *out) { return index_key(k, n, out); }

size_t tg__j_val_height(const tg__j_val *v) {
    size_t h = 0;
    if (v->t == V_LIST)
        for (size_t i = 0; i < v->u.l->n; i++) {
            size_t c = tg__j_val_height(&v->u.l->v[i]) + 1;
            if (c > h) h = c;
        }
    else if (v->t == V_DICT)
        for (size_t i = 0; i < v->u.d->n; i++) {
            size_t c = tg__j_val_height(&v->u.d->v[i]) + 1;
            if (c > h) h = c;
        }
    return h;
}
