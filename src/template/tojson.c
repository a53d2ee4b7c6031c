/*
 * template/tojson.c: the `tojson` filter and the printed form of lists and
 * dicts, byte for byte as @huggingface/jinja's toJSON.
 *
 * Separators: ", " and ": " by default (as Python's json.dumps), "," and ": "
 * with an indent, or the given pair. With an indent (> 0), every item goes on
 * its own line, nested by depth; empty containers stay "[]" / "{}". Strings
 * are JSON.stringify'd: only '"', '\\' and control characters are escaped
 * (\b \f \n \r \t, else \u00xx); ensure_ascii then escapes every UTF-16 code
 * unit from U+007F up as \uxxxx (astral characters as surrogate pairs).
 * Numbers print as JavaScript does (1.0 -> 1, 1e21 -> 1e+21, NaN -> null).
 * sort_keys orders keys with String.prototype.localeCompare, approximated
 * here by the root collation's broad classes (punctuation < digits < letters,
 * letters case-insensitively, lowercase first); see docs/template.md.
 * Undefined prints as null (tojson) or "undefined" (printing a list that
 * holds one). A function cannot be converted and fails the render.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"
#include "util/utf8.h"

static tg_status put(tg__j_rt *rt, tgx_buf *b, const char *s) { return tg__j_append(rt, b, s, strlen(s)); }

tg_status tg__j_json_string(tg__j_rt *rt, tgx_buf *b, const char *p, size_t n, int ensure_ascii) {
    tg_status st = tg__j_append(rt, b, "\"", 1);
    char tmp[16];
    size_t i = 0;
    while (i < n && !st) {
        size_t run = i;
        while (run < n) {
            unsigned char c = (unsigned char)p[run];
            if (c < 0x20 || c == '"' || c == '\\' || (ensure_ascii && c >= 0x7F)) break;
            run++;
        }
        if (run > i) { st = tg__j_append(rt, b, p + i, run - i); i = run; continue; }
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x7F) {
            uint32_t cp;
            size_t k = tgx_utf8_decode((const uint8_t *)p + i, n - i, &cp);
            if (!k) { cp = 0xFFFD; k = 1; }
            if (cp >= 0x10000) {
                uint32_t v = cp - 0x10000;
                snprintf(tmp, sizeof tmp, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            } else {
                snprintf(tmp, sizeof tmp, "\\u%04x", cp);
            }
            st = put(rt, b, tmp);
            i += k;
            continue;
        }
        switch (c) {
        case '"': st = put(rt, b, "\\\""); break;
        case '\\': st = put(rt, b, "\\\\"); break;
        case '\b': st = put(rt, b, "\\b"); break;
        case '\f': st = put(rt, b, "\\f"); break;
        case '\n': st = put(rt, b, "\\n"); break;
        case '\r': st = put(rt, b, "\\r"); break;
        case '\t': st = put(rt, b, "\\t"); break;
        default: snprintf(tmp, sizeof tmp, "\\u%04x", c); st = put(rt, b, tmp); break;
        }
        i++;
    }
    if (!st) st = tg__j_append(rt, b, "\"", 1);
    return st;
}

/* Collation class and weight of an ASCII byte for the sort_keys order. */
static int coll_weight(unsigned char c) {
    static const char punct[] = " \t\n\r_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$";
    if (c >= 0x80) return 100000 + c;
    if (c >= '0' && c <= '9') return 1000 + c;
    if (c >= 'a' && c <= 'z') return 2000 + (c - 'a') * 2;
    if (c >= 'A' && c <= 'Z') return 2000 + (c - 'A') * 2;
    const char *q = strchr(punct, c);
    if (q && c) return 100 + (int)(q - punct);
    return c;
}

static int locale_cmp(tg__j_str a, tg__j_str b) {
    size_t n = a.n < b.n ? a.n : b.n;
    for (size_t i = 0; i < n; i++) {
        int x = coll_weight((unsigned char)a.p[i]), y = coll_weight((unsigned char)b.p[i]);
        if (x != y) return x < y ? -1 : 1;
    }
    if (a.n != b.n) return a.n < b.n ? -1 : 1;
    for (size_t i = 0; i < n; i++) { /* tertiary: lowercase first */
        unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
        if (x != y) {
            int xl = x >= 'a' && x <= 'z', yl = y >= 'a' && y <= 'z';
            if (xl != yl) return xl ? -1 : 1;
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

static tg_status pad(tg__j_rt *rt, tgx_buf *b, long indent, size_t depth) {
    tg_status st = tg__j_append(rt, b, "\n", 1);
    for (size_t d = 0; d < depth && !st; d++)
        for (long i = 0; i < indent && !st; i++) st = tg__j_append(rt, b, " ", 1);
    return st;
}

tg_status tg__j_tojson(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v, const tg__j_json_opts *o, size_t depth) {
    char tmp[40];
    tg_status st = TG_OK;
    if (depth > 512) return tg__j_fail(rt, TG_ELIMIT, "tojson nesting deeper than 512 levels");
    int ind = o->indent > 0;
    tg__j_str isep = o->have_seps ? o->sep_item : ind ? (tg__j_str){",", 1} : (tg__j_str){", ", 2};
    tg__j_str ksep = o->have_seps ? o->sep_key : (tg__j_str){": ", 2};
    switch (v->t) {
    case V_NULL: return put(rt, b, "null");
    case V_UNDEF: return put(rt, b, o->undef_as_null ? "null" : "undefined");
    case V_BOOL: return put(rt, b, v->u.b ? "true" : "false");
    case V_INT: snprintf(tmp, sizeof tmp, "%lld", (long long)v->u.i); return put(rt, b, tmp);
    case V_FLOAT:
        tg__j_js_number(v->u.f, tmp);
        if (tmp[0] == 'N' || tmp[0] == 'I' || tmp[1] == 'I') return put(rt, b, "null");
        return put(rt, b, tmp);
    case V_STR: return tg__j_json_string(rt, b, v->u.s.p, v->u.s.n, o->ensure_ascii);
    case V_LIST: {
        const tg__j_list *l = v->u.l;
        if (v->flags & VF_TUPLE) /* the reference's toJSON has no case for tuples */
            return tg__j_fail(rt, TG_EINVAL, "Cannot convert to JSON: TupleValue");
        if ((st = put(rt, b, "["))) return st;
        for (size_t i = 0; i < l->n; i++) {
            if (i && (st = tg__j_append(rt, b, isep.p, isep.n))) return st;
            if (ind && (st = pad(rt, b, o->indent, depth + 1))) return st;
            if ((st = tg__j_tojson(rt, b, &l->v[i], o, depth + 1))) return st;
        }
        if (ind && l->n && (st = pad(rt, b, o->indent, depth))) return st;
        return put(rt, b, "]");
    }
    case V_DICT:
    case V_NS: {
        const tg__j_dict *d = v->u.d;
        size_t *order = NULL;
        if (o->sort_keys && d->n > 1) {
            order = malloc(d->n * sizeof *order);
            if (!order) return tg__j_fail(rt, TG_ENOMEM, "out of memory");
            for (size_t i = 0; i < d->n; i++) {
                size_t j = i;
                while (j > 0 && locale_cmp(d->k[order[j - 1]], d->k[i]) > 0) { order[j] = order[j - 1]; j--; }
                order[j] = i;
            }
        }
        st = put(rt, b, "{");
        for (size_t r = 0; r < d->n && !st; r++) {
            size_t i = order ? order[r] : r;
            if (r) st = tg__j_append(rt, b, isep.p, isep.n);
            if (!st && ind) st = pad(rt, b, o->indent, depth + 1);
            if (!st) st = tg__j_json_string(rt, b, d->k[i].p, d->k[i].n, o->ensure_ascii);
            if (!st) st = tg__j_append(rt, b, ksep.p, ksep.n);
            if (!st) st = tg__j_tojson(rt, b, &d->v[i], o, depth + 1);
        }
        free(order);
        if (!st && ind && d->n) st = pad(rt, b, o->indent, depth);
        if (!st) st = put(rt, b, "}");
        return st;
    }
    default:
        return tg__j_fail(rt, TG_EINVAL, "Cannot convert to JSON: %s", tg__j_type_name(v));
    }
}
