/*
 * template/llamacpp_sem.c: the llama.cpp-semantics mode of the renderer
 * (tg_render_options.llamacpp), for renders that must equal what
 * llama-server's own Jinja engine (llama.cpp common/jinja, 0.5.0-dev as in
 * the test fixtures) prints. The default mode stays @huggingface/jinja's;
 * eval.c, filters.c and template.c call in here only when rt->llamacpp is set.
 *
 * The differences, each from llama.cpp's source:
 *  - equality (common/jinja/value.h, value_t::operator== -> equivalent()):
 *    Python's: numbers and booleans compare by value (True == 1), strings
 *    only with strings ("" != false), None only with None, undefined only
 *    with undefined, lists and dicts element by element (dicts in insertion
 *    order); @huggingface/jinja uses JavaScript's == instead.
 *  - `+` and `~` with None or undefined on one side and a string on the
 *    other (runtime.cpp, binary_expression::execute_impl,
 *    workaround_concat_null_with_str): the missing side is "".
 *  - filters on undefined (value.cpp, value_undefined_t::get_builtins) give
 *    the empty value of their result type (|length 0, |join "", |list [],
 *    |first undefined ...) instead of failing; on None (value_none_t::
 *    get_builtins) |string is "None" and |items, |map, |select... are [].
 *  - printing (runtime.h, gather_string_parts_recursive): booleans as
 *    True/False, floats as std::to_string without trailing zeros ("1.0",
 *    "0.5"), a list as its items printed one after another, a dict, None or
 *    undefined as nothing.
 *  - `x in list` membership uses the same equality.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "template/tpl.h"

static int num_like(const tg__j_val *v) { return v->t == V_INT || v->t == V_FLOAT || v->t == V_BOOL; }

static int s_eq(tg__j_str a, tg__j_str b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }

int tg__j_lc_eq(const tg__j_val *a, const tg__j_val *b) {
    if (num_like(a) && num_like(b)) {
        /* value_int/float/bool_t::equivalent: same integer part and same double */
        double x = tg__j_num(a), y = tg__j_num(b);
        int64_t xi = a->t == V_FLOAT ? (isfinite(x) ? (int64_t)x : 0) : (a->t == V_BOOL ? a->u.b : a->u.i);
        int64_t yi = b->t == V_FLOAT ? (isfinite(y) ? (int64_t)y : 0) : (b->t == V_BOOL ? b->u.b : b->u.i);
        return xi == yi && x == y;
    }
    if (a->t == V_UNDEF || b->t == V_UNDEF) return a->t == b->t;
    if (a->t != b->t) return 0;
    switch (a->t) {
    case V_NULL: return 1;
    case V_STR: return s_eq(a->u.s, b->u.s);
    case V_LIST:
        if (a->u.l->n != b->u.l->n) return 0;
        for (size_t i = 0; i < a->u.l->n; i++)
            if (!tg__j_lc_eq(&a->u.l->v[i], &b->u.l->v[i])) return 0;
        return 1;
    case V_DICT:
    case V_NS:
        if (a->u.d->n != b->u.d->n) return 0;
        for (size_t i = 0; i < a->u.d->n; i++)
            if (!s_eq(a->u.d->k[i], b->u.d->k[i]) || !tg__j_lc_eq(&a->u.d->v[i], &b->u.d->v[i])) return 0;
        return 1;
    default: return a->u.fn == b->u.fn;
    }
}

int tg__j_lc_concat_missing(const tg__j_val *l, const tg__j_val *r, tg__j_val *out) {
    int lm = l->t == V_NULL || l->t == V_UNDEF, rm = r->t == V_NULL || r->t == V_UNDEF;
    if (lm && r->t == V_STR) { *out = *r; return 1; }
    if (rm && l->t == V_STR) { *out = *l; return 1; }
    return 0;
}

static int name_in(tg__j_str f, const char *const *names) {
    for (size_t i = 0; names[i]; i++)
        if (tg__j_str_eq(f, names[i])) return 1;
    return 0;
}

int tg__j_lc_filter_missing(tg__j_rt *rt, const tg__j_val *x, tg__j_str f, tg__j_val *out) {
    static const char *const u_str[] = {"capitalize", "join", "lower", "replace", "safe", "string", "strip",
                                        "title", "truncate", "upper", NULL};
    static const char *const u_list[] = {"items", "list", "map", "reject", "rejectattr", "reverse", "select",
                                         "selectattr", "sort", "unique", NULL};
    static const char *const u_int[] = {"length", "sum", "wordcount", NULL};
    static const char *const u_undef[] = {"first", "last", "max", "min", NULL};
    static const char *const n_list[] = {"items", "map", "reject", "rejectattr", "select", "selectattr", "unique",
                                         NULL};
    if (x->t == V_UNDEF) {
        if (name_in(f, u_str)) { *out = tg__j_strv("", 0); return 1; }
        if (name_in(f, u_int)) { *out = tg__j_int(0); return 1; }
        if (name_in(f, u_undef)) { *out = tg__j_undef(); return 1; }
        if (name_in(f, u_list)) return tg__j_list_new(rt, 0, out) ? -1 : 1;
        return 0;
    }
    if (x->t == V_NULL) {
        if (tg__j_str_eq(f, "string") || tg__j_str_eq(f, "safe")) { *out = tg__j_strv("None", 4); return 1; }
        if (name_in(f, n_list)) return tg__j_list_new(rt, 0, out) ? -1 : 1;
    }
    return 0;
}

/* std::to_string(double) ("%f") with trailing zeros removed, one kept after '.'. */
static tg_status print_float(tg__j_rt *rt, tgx_buf *b, double d) {
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%f", d);
    size_t n = strlen(tmp);
    if (strchr(tmp, '.')) {
        while (n > 0 && tmp[n - 1] == '0') n--;
        if (n > 0 && tmp[n - 1] == '.') tmp[n++] = '0';
    }
    return tg__j_append(rt, b, tmp, n);
}

tg_status tg__j_lc_print(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v) {
    char tmp[40];
    switch (v->t) {
    case V_STR: return tg__j_append(rt, b, v->u.s.p, v->u.s.n);
    case V_BOOL: return tg__j_append(rt, b, v->u.b ? "True" : "False", v->u.b ? 4 : 5);
    case V_INT:
        snprintf(tmp, sizeof tmp, "%" PRId64, v->u.i);
        return tg__j_append(rt, b, tmp, strlen(tmp));
    case V_FLOAT: return print_float(rt, b, v->u.f);
    case V_LIST:
        for (size_t i = 0; i < v->u.l->n; i++) {
            tg_status st = tg__j_lc_print(rt, b, &v->u.l->v[i]);
            if (st) return st;
        }
        return TG_OK;
    default: return TG_OK; /* None, undefined, dicts, functions: nothing */
    }
}

/* value_t::as_string (repr = 0) and value_to_string_repr (repr = 1). */
tg_status tg__j_lc_string(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v, int repr) {
    tg_status st = TG_OK;
    switch (v->t) {
    case V_STR:
        if (!repr) return tg__j_append(rt, b, v->u.s.p, v->u.s.n);
        if (memchr(v->u.s.p, '\'', v->u.s.n)) {
            tg__j_json_opts o;
            memset(&o, 0, sizeof o);
            o.indent = -1;
            return tg__j_tojson(rt, b, v, &o, 0);
        }
        if ((st = tg__j_append(rt, b, "'", 1)) || (st = tg__j_append(rt, b, v->u.s.p, v->u.s.n))) return st;
        return tg__j_append(rt, b, "'", 1);
    case V_NULL: return tg__j_append(rt, b, "None", 4);
    case V_UNDEF: return repr ? tg__j_append(rt, b, "Undefined", 9) : TG_OK;
    case V_LIST: {
        int tup = (v->flags & VF_TUPLE) != 0;
        if ((st = tg__j_append(rt, b, tup ? "(" : "[", 1))) return st;
        for (size_t i = 0; i < v->u.l->n && !st; i++) {
            if (i) st = tg__j_append(rt, b, ", ", 2);
            if (!st) st = tg__j_lc_string(rt, b, &v->u.l->v[i], 1);
        }
        if (!st && tup && v->u.l->n == 1) st = tg__j_append(rt, b, ",", 1);
        return st ? st : tg__j_append(rt, b, tup ? ")" : "]", 1);
    }
    case V_DICT:
    case V_NS:
        if ((st = tg__j_append(rt, b, "{", 1))) return st;
        for (size_t i = 0; i < v->u.d->n && !st; i++) {
            tg__j_val k = tg__j_strv(v->u.d->k[i].p, v->u.d->k[i].n);
            if (i) st = tg__j_append(rt, b, ", ", 2);
            if (!st) st = tg__j_lc_string(rt, b, &k, 1);
            if (!st) st = tg__j_append(rt, b, ": ", 2);
            if (!st) st = tg__j_lc_string(rt, b, &v->u.d->v[i], 1);
        }
        return st ? st : tg__j_append(rt, b, "}", 1);
    case V_FUNC: return tg__j_append(rt, b, "Function", 8);
    default: return tg__j_lc_print(rt, b, v); /* numbers, booleans */
    }
}

tg_status tg__j_lc_coerce(tg__j_rt *rt, const tg__j_val *x, tg__j_str f, tg__j_val *out) {
    static const char *const coerced[] = {"capitalize", "lower", "replace", "strip", "trim", "title", "upper",
                                          "wordcount", "string", NULL};
    *out = *x;
    if (x->t == V_UNDEF || x->t == V_STR || !name_in(f, coerced)) return TG_OK;
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = tg__j_lc_string(rt, &b, x, 0);
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

/* A bound method that returns a fixed value (id TG__J_M_CONST): undefined.items() and the like. */
int tg__j_lc_member_missing(tg__j_rt *rt, const tg__j_val *obj, tg__j_str name, tg__j_val *out) {
    tg__j_val r;
    int h = tg__j_lc_filter_missing(rt, obj, name, &r);
    if (h <= 0) return h;
    tg__j_fn *fn;
    if (tg__j_fn_new(rt, F_METHOD, TG__J_M_CONST, out, &fn)) return -1;
    fn->self = r;
    return 1;
}

tg_status tg__j_lc_list_method(tg__j_rt *rt, int id, const tg__j_val *self, tg__j_val *args, size_t nargs,
                               tg__j_val *out) {
    tg__j_list *l = self->u.l;
    if (id == TG__J_M_APPEND) {
        if (nargs != 1) return tg__j_fail(rt, TG_EINVAL, "append: expected 1 argument, got %zu", nargs);
        tg_status st = tg__j_list_push(rt, l, args[0]);
        if (!st) *out = *self;
        return st;
    }
    if (nargs > 1 || (nargs == 1 && args[0].t != V_INT))
        return tg__j_fail(rt, TG_EINVAL, "pop: expected at most one integer argument");
    int64_t i = nargs ? args[0].u.i : -1;
    if (i < 0) i += (int64_t)l->n;
    if (i < 0 || i >= (int64_t)l->n) return tg__j_fail(rt, TG_EINVAL, "pop: index out of range for a list of %zu", l->n);
    *out = l->v[i];
    memmove(&l->v[i], &l->v[i + 1], (l->n - (size_t)i - 1) * sizeof l->v[0]);
    l->n--;
    return TG_OK;
}
