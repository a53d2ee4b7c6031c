/*
 * template/methods.c: built-in members and global functions, as the
 * reference's `builtins` maps and setupGlobals.
 *
 * Members (looked up only when a dict has no such key):
 *   string: upper() lower() strip() lstrip() rstrip() title() capitalize()
 *           startswith(s|tuple) endswith(s|tuple) split(sep=None, maxsplit=-1)
 *           replace(old, new, count=None), and the property length (UTF-16 units);
 *           strip/lstrip/rstrip take no characters argument in the reference:
 *           they always trim whitespace (JS trim), whatever is passed;
 *   dict:   get(key, default=None) items() keys() values()
 *           dictsort(case_sensitive=False, by='key', reverse=False);
 *   list:   the property length.
 * Globals: raise_exception(msg) fails the render with msg; range(a[, b[, c]]);
 * strftime_now(fmt) with %Y %m %d %b %B %H %M %% (English month names, local
 * time of the render's clock); namespace(dict or pairs, **kw).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "template/tpl.h"
#include "util/utf8.h"

enum {
    M_UPPER, M_LOWER, M_STRIP, M_TITLE, M_CAPITALIZE, M_RSTRIP, M_LSTRIP, M_STARTSWITH,
    M_ENDSWITH, M_SPLIT, M_REPLACE, M_GET, M_ITEMS, M_KEYS, M_VALUES, M_DICTSORT
};

static const char *const STR_METHODS[] = {"upper", "lower", "strip", "title", "capitalize",
                                          "rstrip", "lstrip", "startswith", "endswith", "split",
                                          "replace"};
static const char *const DICT_METHODS[] = {"get", "items", "keys", "values", "dictsort"};

int tg__j_dict_builtin(tg__j_str name) {
    for (size_t i = 0; i < sizeof DICT_METHODS / sizeof DICT_METHODS[0]; i++)
        if (tg__j_str_eq(name, DICT_METHODS[i])) return M_GET + (int)i;
    return -1;
}

int tg__j_builtin_member(tg__j_rt *rt, const tg__j_val *self, tg__j_str name, tg__j_val *out) {
    int id = -1;
    if (self->t == V_STR) {
        if (tg__j_str_eq(name, "length")) {
            *out = tg__j_int((int64_t)tg__j_utf16_len(self->u.s.p, self->u.s.n));
            return 1;
        }
        for (size_t i = 0; i < sizeof STR_METHODS / sizeof STR_METHODS[0]; i++)
            if (tg__j_str_eq(name, STR_METHODS[i])) id = (int)i;
    } else if (self->t == V_LIST) {
        if (tg__j_str_eq(name, "length")) {
            *out = tg__j_int((int64_t)self->u.l->n);
            return 1;
        }
        /* llama.cpp mode: list.append / list.pop (value_array_t::get_builtins) */
        if (rt->llamacpp && tg__j_str_eq(name, "append")) id = TG__J_M_APPEND;
        if (rt->llamacpp && tg__j_str_eq(name, "pop")) id = TG__J_M_POP;
    } else if (self->t == V_DICT) {
        id = tg__j_dict_builtin(name);
    }
    if (id < 0) return 0;
    tg__j_fn *fn;
    if (tg__j_fn_new(rt, F_METHOD, id, out, &fn)) return 0;
    fn->self = *self;
    return 1;
}

static tg_status finish(tg__j_rt *rt, tgx_buf *b, tg__j_val *out) {
    tg_status st = tg__j_buf_to_val(rt, b, out);
    tgx_buf_free(b);
    return st;
}

tg_status tg__j_str_upper(tg__j_rt *rt, tg__j_str s, int upper, tg__j_val *out) {
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = TG_OK;
    for (size_t i = 0; i < s.n && !st;) {
        uint32_t cp;
        size_t k = tgx_utf8_decode((const uint8_t *)s.p + i, s.n - i, &cp);
        if (!k) { st = tg__j_append(rt, &b, s.p + i, 1); i++; continue; }
        int32_t m = upper ? utf8proc_toupper((int32_t)cp) : utf8proc_tolower((int32_t)cp);
        char enc[4];
        size_t e = tgx_utf8_encode((uint32_t)m, enc);
        if (!e) { memcpy(enc, s.p + i, k); e = k; }
        st = tg__j_append(rt, &b, enc, e);
        i += k;
    }
    if (st) { tgx_buf_free(&b); return st; }
    return finish(rt, &b, out);
}

tg_status tg__j_str_trim(tg__j_rt *rt, tg__j_str s, int left, int right, tg__j_val *out) {
    size_t a = 0, e = s.n, k;
    if (left)
        while (a < e && (k = tg__j_js_space(s.p + a, e - a)) > 0) a += k;
    if (right)
        while (e > a) {
            size_t j = e - 1;
            while (j > a && ((unsigned char)s.p[j] & 0xC0) == 0x80) j--;
            if (tg__j_js_space(s.p + j, e - j) == e - j) e = j;
            else break;
        }
    (void)rt;
    *out = tg__j_strv(s.p + a, e - a);
    return TG_OK;
}

static int ascii_word(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

tg_status tg__j_str_title(tg__j_rt *rt, tg__j_str s, tg__j_val *out) {
    char *p = tg__j_arena_dup(&rt->arena, s.p, s.n);
    if (!p) return tg__j_fail(rt, TG_ELIMIT, "render memory above the %zu-byte limit", rt->lim.max_memory);
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (ascii_word(c) && (i == 0 || !ascii_word((unsigned char)p[i - 1])) && c >= 'a' && c <= 'z')
            p[i] = (char)(c - 32);
    }
    *out = tg__j_strv(p, s.n);
    return TG_OK;
}

tg_status tg__j_str_capitalize(tg__j_rt *rt, tg__j_str s, tg__j_val *out) {
    if (s.n == 0) { *out = s.n ? tg__j_strv(s.p, 0) : tg__j_strv("", 0); return TG_OK; }
    size_t k = tgx_utf8_seqlen((unsigned char)s.p[0]);
    if (k == 0 || k > s.n) k = 1;
    tg__j_val first;
    tg_status st = tg__j_str_upper(rt, (tg__j_str){s.p, k}, 1, &first);
    if (st) return st;
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    if ((st = tg__j_append(rt, &b, first.u.s.p, first.u.s.n)) ||
        (st = tg__j_append(rt, &b, s.p + k, s.n - k))) {
        tgx_buf_free(&b);
        return st;
    }
    return finish(rt, &b, out);
}

/* utils.ts replace(): count < 0 or none = all; "" matches between code points. */
tg_status tg__j_str_replace(tg__j_rt *rt, tg__j_str s, tg__j_str from, tg__j_str to, long count, tg__j_val *out) {
    if (count == 0) { *out = tg__j_strv(s.p, s.n); return TG_OK; }
    long left = count < 0 ? -1 : count;
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = TG_OK;
    if (from.n == 0) {
        for (size_t i = 0; i <= s.n && !st;) {
            if (left != 0) { st = tg__j_append(rt, &b, to.p, to.n); if (left > 0) left--; }
            if (i == s.n || st) break;
            size_t k = 1;
            while (i + k < s.n && ((unsigned char)s.p[i + k] & 0xC0) == 0x80) k++;
            st = tg__j_append(rt, &b, s.p + i, k);
            i += k;
        }
    } else {
        size_t i = 0;
        while (i < s.n && !st) {
            const char *hit = left != 0 ? tg__j_find(s.p + i, s.n - i, from.p, from.n) : NULL;
            size_t j = hit ? (size_t)(hit - s.p) : s.n;
            st = tg__j_append(rt, &b, s.p + i, j - i);
            if (!st && hit) {
                st = tg__j_append(rt, &b, to.p, to.n);
                if (left > 0) left--;
                j += from.n;
            }
            i = j;
        }
    }
    if (st) { tgx_buf_free(&b); return st; }
    return finish(rt, &b, out);
}

static int has_prefix(tg__j_str s, tg__j_str p, int suffix) {
    if (p.n > s.n) return 0;
    return p.n == 0 || memcmp(suffix ? s.p + s.n - p.n : s.p, p.p, p.n) == 0;
}

static tg_status affix(tg__j_rt *rt, tg__j_str s, tg__j_val *args, size_t nargs, int suffix, tg__j_val *out) {
    const char *name = suffix ? "endswith" : "startswith";
    if (nargs == 0) return tg__j_fail(rt, TG_EINVAL, "%s() requires at least one argument", name);
    if (args[0].t == V_STR) { *out = tg__j_bool(has_prefix(s, args[0].u.s, suffix)); return TG_OK; }
    if (args[0].t == V_LIST) {
        for (size_t i = 0; i < args[0].u.l->n; i++) {
            const tg__j_val *it = &args[0].u.l->v[i];
            if (it->t != V_STR) return tg__j_fail(rt, TG_EINVAL, "%s() tuple elements must be strings", name);
            if (has_prefix(s, it->u.s, suffix)) { *out = tg__j_bool(1); return TG_OK; }
        }
        *out = tg__j_bool(0);
        return TG_OK;
    }
    return tg__j_fail(rt, TG_EINVAL, "%s() argument must be a string or tuple of strings", name);
}

static tg_status split(tg__j_rt *rt, tg__j_str s, tg__j_val *args, size_t nargs, tg__j_val *out) {
    tg__j_val sep = nargs > 0 ? args[0] : tg__j_null();
    if (sep.t != V_STR && sep.t != V_NULL) return tg__j_fail(rt, TG_EINVAL, "sep argument must be a string or null");
    tg__j_val mx = nargs > 1 ? args[1] : tg__j_int(-1);
    if (mx.t != V_INT) return tg__j_fail(rt, TG_EINVAL, "maxsplit argument must be a number");
    int64_t maxsplit = mx.u.i;
    tg_status st = tg__j_list_new(rt, 0, out);
    if (st) return st;
    if (sep.t == V_NULL) {
        size_t i = 0, k;
        while (i < s.n && (k = tg__j_js_space(s.p + i, s.n - i)) > 0) i += k;
        while (i < s.n) {
            if (maxsplit != -1 && (int64_t)out->u.l->n >= maxsplit)
                return tg__j_list_push(rt, out->u.l, tg__j_strv(s.p + i, s.n - i));
            size_t j = i;
            while (j < s.n && tg__j_js_space(s.p + j, s.n - j) == 0) j++;
            if ((st = tg__j_list_push(rt, out->u.l, tg__j_strv(s.p + i, j - i)))) return st;
            i = j;
            while (i < s.n && (k = tg__j_js_space(s.p + i, s.n - i)) > 0) i += k;
        }
        return TG_OK;
    }
    tg__j_str d = sep.u.s;
    if (d.n == 0) return tg__j_fail(rt, TG_EINVAL, "empty separator");
    size_t i = 0;
    for (;;) {
        if (maxsplit >= 0 && (int64_t)out->u.l->n >= maxsplit)
            return tg__j_list_push(rt, out->u.l, tg__j_strv(s.p + i, s.n - i));
        const char *hit = tg__j_find(s.p + i, s.n - i, d.p, d.n);
        if (!hit) return tg__j_list_push(rt, out->u.l, tg__j_strv(s.p + i, s.n - i));
        size_t j = (size_t)(hit - s.p);
        if ((st = tg__j_list_push(rt, out->u.l, tg__j_strv(s.p + i, j - i)))) return st;
        i = j + d.n;
    }
}

static tg_status dict_pairs(tg__j_rt *rt, const tg__j_dict *d, int what, tg__j_val *out) {
    tg_status st = tg__j_list_new(rt, d->n, out);
    if (st) return st;
    for (size_t i = 0; i < d->n; i++) {
        tg__j_val v;
        if (what == M_KEYS) v = tg__j_strv(d->k[i].p, d->k[i].n);
        else if (what == M_VALUES) v = d->v[i];
        else {
            if ((st = tg__j_list_new(rt, 2, &v))) return st;
            v.u.l->v[0] = tg__j_strv(d->k[i].p, d->k[i].n);
            v.u.l->v[1] = d->v[i];
            v.u.l->n = 2;
        }
        out->u.l->v[out->u.l->n++] = v;
    }
    return TG_OK;
}

static tg_status dictsort(tg__j_rt *rt, const tg__j_dict *d, tg__j_val *args, size_t nargs, tg__j_val *out) {
    tg__j_val kw = tg__j_undef();
    tg__j_val pos[3];
    size_t np = 0;
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].t == V_DICT && (args[i].flags & VF_KWARGS)) kw = args[i];
        else if (np < 3) pos[np++] = args[i];
    }
    tg__j_val *v;
    tg__j_val cs = np > 0 ? pos[0] : (kw.t == V_DICT && (v = tg__j_dict_get(kw.u.d, (tg__j_str){"case_sensitive", 14}))) ? *v : tg__j_bool(0);
    if (cs.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "case_sensitive must be a boolean");
    tg__j_val by = np > 1 ? pos[1] : (kw.t == V_DICT && (v = tg__j_dict_get(kw.u.d, (tg__j_str){"by", 2}))) ? *v : tg__j_strv("key", 3);
    if (by.t != V_STR) return tg__j_fail(rt, TG_EINVAL, "by must be a string");
    if (!tg__j_str_eq(by.u.s, "key") && !tg__j_str_eq(by.u.s, "value"))
        return tg__j_fail(rt, TG_EINVAL, "by must be either 'key' or 'value'");
    tg__j_val rev = np > 2 ? pos[2] : (kw.t == V_DICT && (v = tg__j_dict_get(kw.u.d, (tg__j_str){"reverse", 7}))) ? *v : tg__j_bool(0);
    if (rev.t != V_BOOL) return tg__j_fail(rt, TG_EINVAL, "reverse must be a boolean");
    tg_status st = dict_pairs(rt, d, M_ITEMS, out);
    if (st) return st;
    size_t idx = tg__j_str_eq(by.u.s, "key") ? 0 : 1;
    tg__j_val *a = out->u.l->v;
    for (size_t i = 1; i < out->u.l->n; i++) {
        tg__j_val x = a[i];
        size_t j = i;
        while (j > 0) {
            int c;
            if ((st = tg__j_compare(rt, &a[j - 1].u.l->v[idx], &x.u.l->v[idx], cs.u.b, &c))) return st;
            if (rev.u.b) c = -c;
            if (c <= 0) break;
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
    return TG_OK;
}

tg_status tg__j_call_method(tg__j_rt *rt, const tg__j_fn *fn, tg__j_val *args, size_t nargs, tg__j_val *out) {
    const tg__j_val *self = &fn->self;
    if (fn->id == TG__J_M_CONST) { /* llama.cpp mode: a builtin of undefined / None */
        *out = *self;
        return TG_OK;
    }
    if (fn->id == TG__J_M_APPEND || fn->id == TG__J_M_POP) return tg__j_lc_list_method(rt, fn->id, self, args, nargs, out);
    if (self->t == V_STR) {
        tg__j_str s = self->u.s;
        switch (fn->id) {
        case M_UPPER: return tg__j_str_upper(rt, s, 1, out);
        case M_LOWER: return tg__j_str_upper(rt, s, 0, out);
        case M_STRIP: return tg__j_str_trim(rt, s, 1, 1, out);
        case M_LSTRIP: return tg__j_str_trim(rt, s, 1, 0, out);
        case M_RSTRIP: return tg__j_str_trim(rt, s, 0, 1, out);
        case M_TITLE: return tg__j_str_title(rt, s, out);
        case M_CAPITALIZE: return tg__j_str_capitalize(rt, s, out);
        case M_STARTSWITH: return affix(rt, s, args, nargs, 0, out);
        case M_ENDSWITH: return affix(rt, s, args, nargs, 1, out);
        case M_SPLIT: return split(rt, s, args, nargs, out);
        case M_REPLACE: {
            if (nargs < 2) return tg__j_fail(rt, TG_EINVAL, "replace() requires at least two arguments");
            if (args[0].t != V_STR || args[1].t != V_STR)
                return tg__j_fail(rt, TG_EINVAL, "replace() arguments must be strings");
            tg__j_val count = tg__j_null();
            if (nargs > 2) {
                if (args[2].t == V_DICT && (args[2].flags & VF_KWARGS)) {
                    tg__j_val *c = tg__j_dict_get(args[2].u.d, (tg__j_str){"count", 5});
                    if (c) count = *c;
                } else {
                    count = args[2];
                }
            }
            if (count.t != V_INT && count.t != V_NULL && count.t != V_UNDEF)
                return tg__j_fail(rt, TG_EINVAL, "replace() count argument must be a number or null");
            long c = count.t == V_INT ? (count.u.i < 0 ? -1 : (long)(count.u.i > 0x7fffffff ? 0x7fffffff : count.u.i)) : -1;
            return tg__j_str_replace(rt, s, args[0].u.s, args[1].u.s, c, out);
        }
        default: break;
        }
    } else if (self->t == V_DICT) {
        const tg__j_dict *d = self->u.d;
        switch (fn->id) {
        case M_GET: {
            if (nargs == 0 || args[0].t != V_STR)
                return tg__j_fail(rt, TG_EINVAL, "Object key must be a string: got %s",
                                nargs ? tg__j_type_name(&args[0]) : "UndefinedValue");
            tg__j_val *v = tg__j_dict_get(d, args[0].u.s);
            *out = v ? *v : nargs > 1 ? args[1] : tg__j_null();
            return TG_OK;
        }
        case M_ITEMS:
        case M_KEYS:
        case M_VALUES: return dict_pairs(rt, d, fn->id, out);
        case M_DICTSORT: return dictsort(rt, d, args, nargs, out);
        default: break;
        }
    }
    return tg__j_fail(rt, TG_EINVAL, "unknown method");
}

static tg_status strftime_now(tg__j_rt *rt, tg__j_val *args, size_t nargs, tg__j_val *out) {
    if (nargs == 0 || args[0].t != V_STR) return tg__j_fail(rt, TG_EINVAL, "strftime_now() needs a format string");
    static const char *const months[] = {"January", "February", "March", "April", "May", "June", "July",
                                         "August", "September", "October", "November", "December"};
    time_t t = (time_t)rt->now;
    struct tm tm;
    if (!localtime_r(&t, &tm)) return tg__j_fail(rt, TG_EINVAL, "strftime_now(): the clock is out of range");
    tg__j_str f = args[0].u.s;
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = TG_OK;
    char tmp[32];
    for (size_t i = 0; i < f.n && !st; i++) {
        if (f.p[i] == '%' && i + 1 < f.n && strchr("YmdbBHM%", f.p[i + 1])) {
            char c = f.p[++i];
            switch (c) {
            case 'Y': snprintf(tmp, sizeof tmp, "%d", tm.tm_year + 1900); break;
            case 'm': snprintf(tmp, sizeof tmp, "%02d", tm.tm_mon + 1); break;
            case 'd': snprintf(tmp, sizeof tmp, "%02d", tm.tm_mday); break;
            case 'b': snprintf(tmp, sizeof tmp, "%.3s", months[tm.tm_mon]); break;
            case 'B': snprintf(tmp, sizeof tmp, "%s", months[tm.tm_mon]); break;
            case 'H': snprintf(tmp, sizeof tmp, "%02d", tm.tm_hour); break;
            case 'M': snprintf(tmp, sizeof tmp, "%02d", tm.tm_min); break;
            default: strcpy(tmp, "%"); break;
            }
            st = tg__j_append(rt, &b, tmp, strlen(tmp));
        } else {
            st = tg__j_append(rt, &b, f.p + i, 1);
        }
    }
    if (st) { tgx_buf_free(&b); return st; }
    return finish(rt, &b, out);
}

static tg_status range(tg__j_rt *rt, tg__j_val *args, size_t nargs, tg__j_val *out) {
    int64_t a = 0, b, step = 1;
    for (size_t i = 0; i < nargs && i < 3; i++)
        if (args[i].t != V_INT) return tg__j_fail(rt, TG_EINVAL, "range() arguments must be integers, got %s", tg__j_type_name(&args[i]));
    if (nargs == 0 || nargs > 3) return tg__j_fail(rt, TG_EINVAL, "range() takes 1 to 3 arguments");
    if (nargs == 1) b = args[0].u.i;
    else { a = args[0].u.i; b = args[1].u.i; }
    if (nargs == 3) step = args[2].u.i;
    if (step == 0) return tg__j_fail(rt, TG_EINVAL, "range() step must not be zero");
    double count = step > 0 ? ((double)b - (double)a) / (double)step : ((double)a - (double)b) / (double)-step;
    if (count > (double)rt->lim.max_iterations)
        return tg__j_fail(rt, TG_ELIMIT, "range() of %.0f items exceeds the %zu-iteration limit", count, rt->lim.max_iterations);
    tg_status st = tg__j_list_new(rt, 0, out);
    if (st) return st;
    if (step > 0)
        for (int64_t i = a; i < b; i += step) { if ((st = tg__j_list_push(rt, out->u.l, tg__j_int(i)))) return st; if (i > INT64_MAX - step) break; }
    else
        for (int64_t i = a; i > b; i += step) { if ((st = tg__j_list_push(rt, out->u.l, tg__j_int(i)))) return st; if (i < INT64_MIN - step) break; }
    return TG_OK;
}

static tg_status namespace_fn(tg__j_rt *rt, tg__j_val *args, size_t nargs, tg__j_val *out) {
    tg_status st = tg__j_dict_new(rt, 4, V_NS, out);
    if (st) return st;
    const tg__j_val *kw = NULL;
    if (nargs && args[nargs - 1].t == V_DICT && (args[nargs - 1].flags & VF_KWARGS)) kw = &args[--nargs];
    if (nargs > 1) return tg__j_fail(rt, TG_EINVAL, "namespace expected at most 1 argument, got %zu", nargs);
    if (nargs == 1) {
        const tg__j_val *src = &args[0];
        if (src->t == V_DICT) {
            for (size_t i = 0; i < src->u.d->n; i++)
                if ((st = tg__j_dict_set(rt, out->u.d, src->u.d->k[i], src->u.d->v[i]))) return st;
        } else if (src->t == V_LIST) {
            for (size_t i = 0; i < src->u.l->n; i++) {
                const tg__j_val *pair = &src->u.l->v[i];
                if (pair->t != V_LIST || pair->u.l->n != 2)
                    return tg__j_fail(rt, TG_EINVAL, "namespace expected an object or an iterable of [key, value] pairs");
                if (pair->u.l->v[0].t != V_STR) return tg__j_fail(rt, TG_EINVAL, "namespace keys must be strings");
                if ((st = tg__j_dict_set(rt, out->u.d, pair->u.l->v[0].u.s, pair->u.l->v[1]))) return st;
            }
        } else {
            return tg__j_fail(rt, TG_EINVAL, "'%s' object is not iterable", tg__j_type_name(src));
        }
    }
    if (kw)
        for (size_t i = 0; i < kw->u.d->n; i++)
            if ((st = tg__j_dict_set(rt, out->u.d, kw->u.d->k[i], kw->u.d->v[i]))) return st;
    return TG_OK;
}

tg_status tg__j_call_builtin(tg__j_rt *rt, int id, tg__j_val *args, size_t nargs, tg__j_val *out) {
    switch (id) {
    case B_RAISE: {
        tgx_buf b;
        tg__j_buf_init(rt, &b);
        for (size_t i = 0; i < nargs; i++) {
            if (i) tg__j_append(rt, &b, ",", 1);
            if (args[i].t != V_UNDEF && args[i].t != V_NULL) tg__j_print(rt, &b, &args[i]);
        }
        tg_status st = tg__j_fail(rt, TG_EINVAL, "raise_exception: %.*s", (int)(b.len > 400 ? 400 : b.len),
                                b.data ? b.data : "");
        tgx_buf_free(&b);
        return st;
    }
    case B_RANGE: return range(rt, args, nargs, out);
    case B_STRFTIME: return strftime_now(rt, args, nargs, out);
    default: return namespace_fn(rt, args, nargs, out);
    }
}
