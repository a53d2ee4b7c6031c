/*
 * template/filters.c: filters (`x | name`, `x | name(args)`) and tests
 * (`x is name`), as @huggingface/jinja's applyFilter and Environment.TESTS.
 *
 * The reference dispatches on the operand's type first, so a filter exists
 * only for the types listed here; anything else fails ("Unknown ArrayValue
 * filter: ..."), and so does the render. Without arguments:
 *   any:      safe, tojson
 *   list:     list first last length reverse sort join string unique
 *   string:   length upper lower title capitalize trim indent join string int float
 *   number:   abs int float string
 *   dict:     items length, and the dict methods (keys values dictsort get)
 *   bool:     bool int float string
 * With arguments: tojson(indent, ensure_ascii, sort_keys, separators),
 * join(sep), int(default), float(default), default(value, boolean),
 * list: sort(reverse, case_sensitive, attribute), selectattr/rejectattr
 * (string literal arguments: attribute, test name, test value),
 * map(attribute=..., default=...); string: indent(width, first, blank),
 * replace(old, new, count); dict: its methods.
 * Tests: boolean callable odd even false true none string number integer
 * iterable mapping sequence lower upper defined undefined equalto eq.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"
#include "util/utf8.h"

#define NAME_FMT "%.*s"
#define NAME_ARG(s) (int)((s).n < 64 ? (s).n : 64), (s).p

static tg_status kwarg(const tg__j_val *kw, const char *name, tg__j_val *out) {
    if (kw->t != V_DICT) return TG_ENOTFOUND;
    tg__j_val *v = tg__j_dict_get(kw->u.d, (tg__j_str){name, strlen(name)});
    if (!v) return TG_ENOTFOUND;
    *out = *v;
    return TG_OK;
}

/* args.at(i) ?? kwargs.get(name) ?? dflt */
static tg__j_val arg_or(tg__j_val *pos, size_t npos, size_t i, const tg__j_val *kw, const char *name, tg__j_val dflt) {
    if (i < npos) return pos[i];
    tg__j_val v;
    if (name && kwarg(kw, name, &v) == TG_OK) return v;
    return dflt;
}

/* ---- helpers ---- */

static int upper_eq(tg__j_rt *rt, tg__j_str s, int upper) {
    tg__j_val v;
    if (tg__j_str_upper(rt, s, upper, &v)) return 0;
    return v.u.s.n == s.n && (s.n == 0 || memcmp(v.u.s.p, s.p, s.n) == 0);
}

int tg__j_test_known(tg__j_str name) {
    static const char *const names[] = {"boolean", "callable", "odd", "even", "false", "true",
                                        "none", "string", "number", "integer", "iterable", "mapping",
                                        "sequence", "lower", "upper", "defined", "undefined",
                                        "equalto", "eq"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (tg__j_str_eq(name, names[i])) return 1;
    return 0;
}

tg_status tg__j_run_test(tg__j_rt *rt, tg__j_str name, const tg__j_val *a, const tg__j_val *b, int *res) {
#define T(n) tg__j_str_eq(name, n)
    if (rt->llamacpp && (T("iterable") || T("sequence"))) { /* test_type_fn<array, string, undefined> */
        *res = a->t == V_LIST || a->t == V_STR || a->t == V_UNDEF;
        return TG_OK;
    }
    if (rt->llamacpp && (T("equalto") || T("eq")) && b) {
        *res = tg__j_lc_eq(a, b);
        return TG_OK;
    }
    if (T("boolean")) *res = a->t == V_BOOL;
    else if (T("callable")) *res = a->t == V_FUNC;
    else if (T("odd") || T("even")) {
        if (a->t != V_INT) return tg__j_fail(rt, TG_EINVAL, "cannot " NAME_FMT " on %s", NAME_ARG(name), tg__j_type_name(a));
        int odd = a->u.i % 2 != 0;
        *res = T("odd") ? odd : !odd;
    } else if (T("false")) *res = a->t == V_BOOL && !a->u.b;
    else if (T("true")) *res = a->t == V_BOOL && a->u.b;
    else if (T("none")) *res = a->t == V_NULL;
    else if (T("string")) *res = a->t == V_STR;
    else if (T("number")) *res = tg__j_is_numeric(a);
    else if (T("integer")) *res = a->t == V_INT;
    else if (T("iterable")) *res = (a->t == V_LIST && !(a->flags & VF_TUPLE)) || a->t == V_STR;
    else if (T("mapping")) *res = a->t == V_DICT;
    else if (T("sequence")) *res = a->t == V_LIST || a->t == V_DICT || a->t == V_STR;
    else if (T("lower")) *res = a->t == V_STR && upper_eq(rt, a->u.s, 0);
    else if (T("upper")) *res = a->t == V_STR && upper_eq(rt, a->u.s, 1);
    else if (T("defined")) *res = a->t != V_UNDEF;
    else if (T("undefined")) *res = a->t == V_UNDEF;
    else if (T("equalto") || T("eq")) {
        if (!b) return tg__j_fail(rt, TG_EINVAL, "test '" NAME_FMT "' needs a value to compare with", NAME_ARG(name));
        *res = tg__j_strict_eq(a, b);
    } else {
        return tg__j_fail(rt, TG_EINVAL, "Unknown test: " NAME_FMT, NAME_ARG(name));
    }
    return TG_OK;
#undef T
}

/* getAttributeValue: a dotted path through dicts/namespaces and list indices. */
static tg__j_val attr_path(const tg__j_val *item, tg__j_str path) {
    tg__j_val v = *item;
    size_t i = 0;
    while (i <= path.n) {
        size_t j = i;
        while (j < path.n && path.p[j] != '.') j++;
        tg__j_str part = {path.p + i, j - i};
        if (v.t == V_DICT || v.t == V_NS) {
            tg__j_val *x = tg__j_dict_get(v.u.d, part);
            v = x ? *x : tg__j_undef();
        } else if (v.t == V_LIST) {
            /* parseInt(part, 10): leading digits */
            size_t k = 0;
            while (k < part.n && (part.p[k] == ' ' || part.p[k] == '\t')) k++;
            int neg = 0;
            if (k < part.n && (part.p[k] == '-' || part.p[k] == '+')) neg = part.p[k++] == '-';
            if (k >= part.n || part.p[k] < '0' || part.p[k] > '9') return tg__j_undef();
            uint64_t ix = 0;
            while (k < part.n && part.p[k] >= '0' && part.p[k] <= '9' && ix < (1ull << 40))
                ix = ix * 10 + (uint64_t)(part.p[k++] - '0');
            if (neg && ix > 0) return tg__j_undef();
            if (ix >= v.u.l->n) return tg__j_undef();
            v = v.u.l->v[ix];
        } else {
            return tg__j_undef();
        }
        i = j + 1;
    }
    return v;
}

/* Insertion sort keeps equal elements in order, like Array.prototype.sort. */
static tg_status sort_list(tg__j_rt *rt, tg__j_val *v, size_t n, const tg__j_val *attr, int reverse, int cs) {
    for (size_t i = 1; i < n; i++) {
        tg__j_val x = v[i];
        tg__j_val kx = attr ? attr_path(&x, attr->u.s) : x;
        size_t j = i;
        while (j > 0) {
            tg__j_val ky = attr ? attr_path(&v[j - 1], attr->u.s) : v[j - 1];
            int c;
            tg_status st = tg__j_compare(rt, &ky, &kx, cs, &c);
            if (st) return st;
            if (reverse) c = -c;
            if (c <= 0) break;
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    return TG_OK;
}

static tg_status copy_list(tg__j_rt *rt, const tg__j_val *src, tg__j_val *out) {
    tg_status st = tg__j_list_new(rt, src->u.l->n, out);
    if (st) return st;
    if (src->u.l->n) memcpy(out->u.l->v, src->u.l->v, src->u.l->n * sizeof(tg__j_val));
    out->u.l->n = src->u.l->n;
    return TG_OK;
}

/* join: JS Array.join of the elements' underlying values (none/undefined -> ""). */
static tg_status join_list(tg__j_rt *rt, const tg__j_list *l, tg__j_str sep, tg__j_val *out) {
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = TG_OK;
    for (size_t i = 0; i < l->n && !st; i++) {
        if (i) st = tg__j_append(rt, &b, sep.p, sep.n);
        if (!st && l->v[i].t != V_NULL && l->v[i].t != V_UNDEF) st = tg__j_js_string(rt, &b, &l->v[i]);
    }
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

static tg_status join_string(tg__j_rt *rt, tg__j_str s, tg__j_str sep, tg__j_val *out) {
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = TG_OK;
    for (size_t i = 0; i < s.n && !st;) {
        size_t k = 1;
        while (i + k < s.n && ((unsigned char)s.p[i + k] & 0xC0) == 0x80) k++;
        if (i) st = tg__j_append(rt, &b, sep.p, sep.n);
        if (!st) st = tg__j_append(rt, &b, s.p + i, k);
        i += k;
    }
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

static tg_status indent(tg__j_rt *rt, tg__j_str s, int64_t width, int first, int blank, tg__j_val *out) {
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = TG_OK;
    size_t i = 0, line = 0;
    if (width < 0) width = 0;
    while (!st) {
        size_t j = i;
        while (j < s.n && s.p[j] != '\n') j++;
        int empty = j == i;
        if (!((!first && line == 0) || (!blank && empty)))
            for (int64_t k = 0; k < width && !st; k++) st = tg__j_append(rt, &b, " ", 1);
        if (!st) st = tg__j_append(rt, &b, s.p + i, j - i);
        if (j >= s.n) break;
        if (!st) st = tg__j_append(rt, &b, "\n", 1);
        i = j + 1;
        line++;
    }
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

/* parseInt(s, 10) / parseFloat(s); returns 0 when NaN. */
static int js_parse_num(tg__j_str s, int integer, double *out) {
    size_t i = 0, k;
    while (i < s.n && (k = tg__j_js_space(s.p + i, s.n - i)) > 0) i += k;
    char tmp[128];
    size_t t = 0;
    if (i < s.n && (s.p[i] == '+' || s.p[i] == '-')) tmp[t++] = s.p[i++];
    size_t digits = 0;
    if (!integer && s.n - i >= 8 && memcmp(s.p + i, "Infinity", 8) == 0) {
        *out = (t && tmp[0] == '-') ? -(double)INFINITY : (double)INFINITY;
        return 1;
    }
    while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && t < 100) { tmp[t++] = s.p[i++]; digits++; }
    if (!integer) {
        if (i < s.n && s.p[i] == '.') {
            size_t save_t = t, save_i = i;
            tmp[t++] = s.p[i++];
            size_t fd = 0;
            while (i < s.n && s.p[i] >= '0' && s.p[i] <= '9' && t < 110) { tmp[t++] = s.p[i++]; fd++; }
            digits += fd;
            if (!fd && !digits) { t = save_t; i = save_i; }
        }
        if (digits && i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
            size_t save_t = t;
            size_t j = i + 1;
            tmp[t++] = 'e';
            if (j < s.n && (s.p[j] == '+' || s.p[j] == '-')) tmp[t++] = s.p[j++];
            size_t ed = 0;
            while (j < s.n && s.p[j] >= '0' && s.p[j] <= '9' && t < 125) { tmp[t++] = s.p[j++]; ed++; }
            if (!ed) t = save_t;
        }
    }
    if (!digits) return 0;
    tmp[t] = '\0';
    *out = integer ? (double)strtoll(tmp, NULL, 10) : strtod(tmp, NULL);
    if (integer) {
        /* parseInt keeps all digits as a double */
        *out = strtod(tmp, NULL);
        *out = *out < 0 ? ceil(*out) : floor(*out);
    }
    return 1;
}

static tg__j_val num_value(double d, int integer) {
    if (integer && fabs(d) < 9.2e18) return tg__j_int((int64_t)d);
    return tg__j_float(d);
}

static tg_status tojson_with(tg__j_rt *rt, const tg__j_val *operand, const tg__j_val *kw, tg__j_val *out) {
    tg__j_json_opts o;
    memset(&o, 0, sizeof o);
    o.indent = -1;
    o.undef_as_null = 1;
    tg__j_val v;
    if (kwarg(kw, "indent", &v) == TG_OK) {
        if (v.t == V_INT) o.indent = v.u.i > 0 ? (long)(v.u.i > 64 ? 64 : v.u.i) : -1;
        else if (v.t != V_NULL) return tg__j_fail(rt, TG_EINVAL, "If set, indent must be a number");
        if (v.t == V_INT && v.u.i > 64) return tg__j_fail(rt, TG_ELIMIT, "tojson indent %lld above the 64 limit", (long long)v.u.i);
    }
    if (kwarg(kw, "ensure_ascii", &v) == TG_OK) {
        if (v.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "If set, ensure_ascii must be a boolean");
        o.ensure_ascii = v.u.b;
    }
    if (kwarg(kw, "sort_keys", &v) == TG_OK) {
        if (v.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "If set, sort_keys must be a boolean");
        o.sort_keys = v.u.b;
    }
    if (kwarg(kw, "separators", &v) == TG_OK && v.t != V_NULL) {
        if (v.t != V_LIST || v.u.l->n != 2 || v.u.l->v[0].t != V_STR || v.u.l->v[1].t != V_STR)
            return tg__j_fail(rt, TG_EINVAL, "separators must be a tuple of two strings");
        o.have_seps = 1;
        o.sep_item = v.u.l->v[0].u.s;
        o.sep_key = v.u.l->v[1].u.s;
    }
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = tg__j_tojson(rt, &b, operand, &o, 0);
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

static tg_status filter_plain(tg__j_rt *rt, const tg__j_val *x, tg__j_str f, tg__j_env *env, tg__j_val *out) {
    tg_status st;
    (void)env;
#define F(n) tg__j_str_eq(f, n)
    if (F("safe")) { *out = *x; return TG_OK; }
    if (F("tojson")) {
        tg__j_val none = tg__j_undef();
        return tojson_with(rt, x, &none, out);
    }
    switch (x->t) {
    case V_LIST: {
        const tg__j_list *l = x->u.l;
        if (F("list")) { *out = *x; return TG_OK; }
        if (F("first") || F("last")) {
            if (l->n == 0) return tg__j_fail(rt, TG_EINVAL, "'" NAME_FMT "' of an empty list", NAME_ARG(f));
            *out = F("first") ? l->v[0] : l->v[l->n - 1];
            return TG_OK;
        }
        if (F("length")) { *out = tg__j_int((int64_t)l->n); return TG_OK; }
        if (F("reverse")) {
            if ((st = copy_list(rt, x, out))) return st;
            for (size_t i = 0; i < l->n / 2; i++) {
                tg__j_val t = out->u.l->v[i];
                out->u.l->v[i] = out->u.l->v[l->n - 1 - i];
                out->u.l->v[l->n - 1 - i] = t;
            }
            return TG_OK;
        }
        if (F("sort")) {
            if ((st = copy_list(rt, x, out))) return st;
            return sort_list(rt, out->u.l->v, out->u.l->n, NULL, 0, 0);
        }
        if (F("join")) return join_list(rt, l, (tg__j_str){"", 0}, out);
        if (F("string")) {
            tgx_buf b;
            tg__j_buf_init(rt, &b);
            tg__j_json_opts o;
            memset(&o, 0, sizeof o);
            o.indent = -1;
            st = tg__j_tojson(rt, &b, x, &o, 0);
            if (!st) st = tg__j_buf_to_val(rt, &b, out);
            tgx_buf_free(&b);
            return st;
        }
        if (F("unique")) {
            if ((st = tg__j_list_new(rt, 0, out))) return st;
            for (size_t i = 0; i < l->n; i++) {
                int seen = 0;
                for (size_t j = 0; j < out->u.l->n && !seen; j++) {
                    const tg__j_val *a = &out->u.l->v[j], *b = &l->v[i];
                    seen = tg__j_strict_eq(a, b) ||
                           (a->t == V_FLOAT && b->t == V_FLOAT && isnan(a->u.f) && isnan(b->u.f));
                }
                if (!seen && (st = tg__j_list_push(rt, out->u.l, l->v[i]))) return st;
            }
            return TG_OK;
        }
        return tg__j_fail(rt, TG_EINVAL, "Unknown ArrayValue filter: " NAME_FMT, NAME_ARG(f));
    }
    case V_STR: {
        tg__j_str s = x->u.s;
        if (F("length")) { *out = tg__j_int((int64_t)tg__j_utf16_len(s.p, s.n)); return TG_OK; }
        if (F("upper")) return tg__j_str_upper(rt, s, 1, out);
        if (F("lower")) return tg__j_str_upper(rt, s, 0, out);
        if (F("title")) return tg__j_str_title(rt, s, out);
        if (F("capitalize")) return tg__j_str_capitalize(rt, s, out);
        if (F("trim")) return tg__j_str_trim(rt, s, 1, 1, out);
        if (F("indent")) return indent(rt, s, 4, 0, 0, out);
        if (F("join") || F("string")) { *out = *x; return TG_OK; }
        if (F("int") || F("float")) {
            double d;
            if (!js_parse_num(s, F("int"), &d)) d = 0;
            *out = num_value(d, F("int"));
            return TG_OK;
        }
        return tg__j_fail(rt, TG_EINVAL, "Unknown StringValue filter: " NAME_FMT, NAME_ARG(f));
    }
    case V_INT:
    case V_FLOAT:
        if (F("abs")) {
            if (x->t == V_INT) {
                if (x->u.i == INT64_MIN) return tg__j_fail(rt, TG_EUNSUPPORTED, "integer overflow in abs");
                *out = tg__j_int(x->u.i < 0 ? -x->u.i : x->u.i);
            } else {
                *out = tg__j_float(fabs(x->u.f));
            }
            return TG_OK;
        }
        if (F("int")) {
            *out = x->t == V_INT ? *x : num_value(floor(x->u.f), 1);
            if (x->t == V_FLOAT && !isfinite(x->u.f))
                return tg__j_fail(rt, TG_EUNSUPPORTED, "int of a non-finite number");
            return TG_OK;
        }
        if (F("float")) { *out = tg__j_float(tg__j_num(x)); return TG_OK; }
        if (F("string")) {
            tgx_buf b;
            tg__j_buf_init(rt, &b);
            st = tg__j_print(rt, &b, x);
            if (!st) st = tg__j_buf_to_val(rt, &b, out);
            tgx_buf_free(&b);
            return st;
        }
        return tg__j_fail(rt, TG_EINVAL, "Unknown NumericValue filter: " NAME_FMT, NAME_ARG(f));
    case V_DICT: {
        if (F("items") || F("length")) {
            if (F("length")) { *out = tg__j_int((int64_t)x->u.d->n); return TG_OK; }
        }
        tg__j_val m;
        if (tg__j_builtin_member(rt, x, f, &m)) {
            if (m.t == V_FUNC) return tg__j_call_method(rt, m.u.fn, NULL, 0, out);
            *out = m;
            return TG_OK;
        }
        return tg__j_fail(rt, TG_EINVAL, "Unknown ObjectValue filter: " NAME_FMT, NAME_ARG(f));
    }
    case V_BOOL:
        if (F("bool")) { *out = *x; return TG_OK; }
        if (F("int")) { *out = tg__j_int(x->u.b); return TG_OK; }
        if (F("float")) { *out = tg__j_float(x->u.b ? 1.0 : 0.0); return TG_OK; }
        if (F("string")) { *out = x->u.b ? tg__j_strv("true", 4) : tg__j_strv("false", 5); return TG_OK; }
        return tg__j_fail(rt, TG_EINVAL, "Unknown BooleanValue filter: " NAME_FMT, NAME_ARG(f));
    default:
        return tg__j_fail(rt, TG_EINVAL, "Cannot apply filter \"" NAME_FMT "\" to type: %s", NAME_ARG(f), tg__j_type_name(x));
    }
#undef F
}

static tg_status filter_call(tg__j_rt *rt, const tg__j_val *x, const tg__j_node *call, tg__j_env *env, tg__j_val *out) {
    tg_status st;
    tg__j_str f = call->a->s;
    tg__j_val *pos, kw;
    size_t npos;
#define F(n) tg__j_str_eq(f, n)
    if (call->a->kind != N_IDENT) return tg__j_fail(rt, TG_EINVAL, "Unknown filter");
    /* selectattr/rejectattr evaluate their (string literal) arguments themselves. */
    if (x->t == V_LIST && (F("selectattr") || F("rejectattr"))) {
        int sel = F("selectattr");
        for (size_t i = 0; i < x->u.l->n; i++)
            if (x->u.l->v[i].t != V_DICT && x->u.l->v[i].t != V_NS)
                return tg__j_fail(rt, TG_EINVAL, "`" NAME_FMT "` can only be applied to array of objects", NAME_ARG(f));
        for (size_t i = 0; i < call->list.n; i++)
            if (call->list.v[i]->kind != N_STR)
                return tg__j_fail(rt, TG_EINVAL, "arguments of `" NAME_FMT "` must be strings", NAME_ARG(f));
        if (call->list.n == 0) return tg__j_fail(rt, TG_EINVAL, "`" NAME_FMT "` needs an attribute name", NAME_ARG(f));
        tg__j_str attr = call->list.v[0]->s;
        int has_test = call->list.n > 1;
        tg__j_str test = has_test ? call->list.v[1]->s : (tg__j_str){"", 0};
        tg__j_val tv = call->list.n > 2 ? tg__j_strv(call->list.v[2]->s.p, call->list.v[2]->s.n) : tg__j_undef();
        if (has_test && !tg__j_test_known(test))
            return tg__j_fail(rt, TG_EINVAL, "Unknown test: " NAME_FMT, NAME_ARG(test));
        if ((st = tg__j_list_new(rt, 0, out))) return st;
        for (size_t i = 0; i < x->u.l->n; i++) {
            tg__j_val *a = tg__j_dict_get(x->u.l->v[i].u.d, attr);
            int r = 0;
            if (a) {
                if (has_test) {
                    if ((st = tg__j_run_test(rt, test, a, call->list.n > 2 ? &tv : NULL, &r))) return st;
                } else {
                    r = tg__j_truthy(a);
                }
            }
            if (sel ? r : !r)
                if ((st = tg__j_list_push(rt, out->u.l, x->u.l->v[i]))) return st;
        }
        return TG_OK;
    }
    if ((st = tg__j_eval_args(rt, &call->list, env, &pos, &npos, &kw))) return st;
    rt->at = call;
    if (F("tojson")) return tojson_with(rt, x, &kw, out);
    if (F("join")) {
        if (x->t != V_STR && x->t != V_LIST)
            return tg__j_fail(rt, TG_EINVAL, "Cannot apply filter \"join\" to type: %s", tg__j_type_name(x));
        tg__j_val sep = arg_or(pos, npos, 0, &kw, "separator", tg__j_strv("", 0));
        if (sep.t != V_STR) return tg__j_fail(rt, TG_EINVAL, "separator must be a string");
        return x->t == V_STR ? join_string(rt, x->u.s, sep.u.s, out) : join_list(rt, x->u.l, sep.u.s, out);
    }
    if (F("int") || F("float")) {
        int integer = F("int");
        tg__j_val dflt = arg_or(pos, npos, 0, &kw, "default", integer ? tg__j_int(0) : tg__j_float(0));
        if (x->t == V_STR) {
            double d;
            *out = js_parse_num(x->u.s, integer, &d) ? num_value(d, integer) : dflt;
            return TG_OK;
        }
        if (tg__j_is_numeric(x)) { *out = *x; return TG_OK; }
        if (x->t == V_BOOL) { *out = integer ? tg__j_int(x->u.b) : tg__j_float(x->u.b ? 1.0 : 0.0); return TG_OK; }
        return tg__j_fail(rt, TG_EINVAL, "Cannot apply filter \"" NAME_FMT "\" to type: %s", NAME_ARG(f), tg__j_type_name(x));
    }
    if (F("default") || F("d")) {
        if (F("d")) goto unknown; /* the reference knows only `default` */
        tg__j_val dflt = npos > 0 ? pos[0] : tg__j_strv("", 0);
        tg__j_val boolean = arg_or(pos, npos, 1, &kw, "boolean", tg__j_bool(0));
        if (boolean.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "`default` filter flag must be a boolean");
        *out = (x->t == V_UNDEF || (boolean.u.b && !tg__j_truthy(x))) ? dflt : *x;
        return TG_OK;
    }
    if (x->t == V_LIST) {
        if (F("sort")) {
            tg__j_val rev = arg_or(pos, npos, 0, &kw, "reverse", tg__j_bool(0));
            if (rev.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "reverse must be a boolean");
            tg__j_val cs = arg_or(pos, npos, 1, &kw, "case_sensitive", tg__j_bool(0));
            if (cs.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "case_sensitive must be a boolean");
            tg__j_val attr = arg_or(pos, npos, 2, &kw, "attribute", tg__j_null());
            char num[32];
            if (attr.t == V_INT) {
                int k = snprintf(num, sizeof num, "%lld", (long long)attr.u.i);
                tg_status s2 = tg__j_str_copy(rt, num, (size_t)k, &attr);
                if (s2) return s2;
            } else if (attr.t != V_STR && attr.t != V_NULL) {
                return tg__j_fail(rt, TG_EINVAL, "attribute must be a string, integer, or null");
            }
            if ((st = copy_list(rt, x, out))) return st;
            return sort_list(rt, out->u.l->v, out->u.l->n, attr.t == V_STR ? &attr : NULL, rev.u.b, cs.u.b);
        }
        if (F("map")) {
            tg__j_val attr;
            if (kwarg(&kw, "attribute", &attr) != TG_OK)
                return tg__j_fail(rt, TG_EUNSUPPORTED, "`map` expressions without `attribute` set are not currently supported.");
            if (attr.t != V_STR) return tg__j_fail(rt, TG_EINVAL, "attribute must be a string");
            tg__j_val dflt;
            int has_dflt = kwarg(&kw, "default", &dflt) == TG_OK;
            if ((st = tg__j_list_new(rt, x->u.l->n, out))) return st;
            for (size_t i = 0; i < x->u.l->n; i++) {
                const tg__j_val *it = &x->u.l->v[i];
                if (it->t != V_DICT && it->t != V_NS) return tg__j_fail(rt, TG_EINVAL, "items in map must be an object");
                tg__j_val v = attr_path(it, attr.u.s);
                if (v.t == V_UNDEF && has_dflt) v = dflt;
                out->u.l->v[out->u.l->n++] = v;
            }
            return TG_OK;
        }
        goto unknown;
    }
    if (x->t == V_STR) {
        if (F("indent")) {
            tg__j_val w = arg_or(pos, npos, 0, &kw, "width", tg__j_int(4));
            if (w.t != V_INT) return tg__j_fail(rt, TG_EINVAL, "width must be a number");
            if (w.u.i > 4096) return tg__j_fail(rt, TG_ELIMIT, "indent width %lld above the 4096 limit", (long long)w.u.i);
            tg__j_val first = arg_or(pos, npos, 1, &kw, "first", tg__j_bool(0));
            tg__j_val blank = arg_or(pos, npos, 2, &kw, "blank", tg__j_bool(0));
            return indent(rt, x->u.s, w.u.i, tg__j_truthy(&first), tg__j_truthy(&blank), out);
        }
        if (F("replace")) {
            tg__j_val m;
            tg__j_builtin_member(rt, x, f, &m);
            tg__j_val *a2 = tg__j_arena_alloc(&rt->arena, (npos + 1) * sizeof *a2);
            if (!a2) return tg__j_fail(rt, TG_ELIMIT, "render memory above the limit");
            if (npos) memcpy(a2, pos, npos * sizeof *a2);
            size_t n2 = npos;
            if (kw.t == V_UNDEF) {
                if ((st = tg__j_dict_new(rt, 0, V_DICT, &kw))) return st;
                kw.flags = VF_KWARGS;
            }
            a2[n2++] = kw;
            return tg__j_call_method(rt, m.u.fn, a2, n2, out);
        }
        goto unknown;
    }
    if (x->t == V_DICT) {
        tg__j_val m;
        if (tg__j_builtin_member(rt, x, f, &m) && m.t == V_FUNC) {
            if (kw.t != V_UNDEF && kw.u.d->n > 0) {
                tg__j_val *a2 = tg__j_arena_alloc(&rt->arena, (npos + 1) * sizeof *a2);
                if (!a2) return tg__j_fail(rt, TG_ELIMIT, "render memory above the limit");
                if (npos) memcpy(a2, pos, npos * sizeof *a2);
                a2[npos++] = kw;
                pos = a2;
            }
            return tg__j_call_method(rt, m.u.fn, pos, npos, out);
        }
        return tg__j_fail(rt, TG_EINVAL, "Unknown ObjectValue filter: " NAME_FMT, NAME_ARG(f));
    }
    return tg__j_fail(rt, TG_EINVAL, "Cannot apply filter \"" NAME_FMT "\" to type: %s", NAME_ARG(f), tg__j_type_name(x));
unknown:
    return tg__j_fail(rt, TG_EINVAL, "Unknown %s filter: " NAME_FMT, tg__j_type_name(x), NAME_ARG(f));
#undef F
}

tg_status tg__j_apply_filter(tg__j_rt *rt, const tg__j_val *operand, const tg__j_node *filter,
                           tg__j_env *env, tg__j_val *out) {
    if (rt->llamacpp && (operand->t == V_UNDEF || operand->t == V_NULL)) {
        tg__j_str name = filter->kind == N_IDENT ? filter->s : filter->kind == N_CALL && filter->a->kind == N_IDENT
                                                                  ? filter->a->s : (tg__j_str){"", 0};
        int h = tg__j_lc_filter_missing(rt, operand, name, out);
        if (h < 0) return tg__j_fail(rt, TG_ELIMIT, "render memory above the %zu-byte limit", rt->lim.max_memory);
        if (h) return TG_OK;
    }
    if (rt->llamacpp && filter->kind == N_IDENT) {
        tg__j_val x;
        tg_status st = tg__j_lc_coerce(rt, operand, filter->s, &x);
        return st ? st : filter_plain(rt, &x, filter->s, env, out);
    }
    if (filter->kind == N_IDENT) return filter_plain(rt, operand, filter->s, env, out);
    if (filter->kind == N_CALL) return filter_call(rt, operand, filter, env, out);
    return tg__j_fail(rt, TG_EINVAL, "Unknown filter");
}
