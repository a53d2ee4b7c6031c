/* util/opt.c: the one parser behind every option table (see opt.h): a flag's
 * text and a config key's JSON value go through the same checks and the same
 * store, so both ways in accept, store and refuse alike. */
#include "util/opt.h"
#include "util/buf.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A parsed value before it is stored. */
typedef struct val {
    uint64_t u;
    double d;
    int i;
    const char *s;
} val;

static void *at(void *target, size_t off) { return (char *)target + off; }
static const void *cat(const void *target, size_t off) { return (const char *)target + off; }

void tgx_opt_num_text(double d, char *out, size_t cap) {
    if (d == floor(d) && fabs(d) < 1e16) snprintf(out, cap, "%.0f", d);
    else snprintf(out, cap, "%g", d);
}

int tgx_opt_enum_value(const tgx_opt *o, size_t i, char *out, size_t cap) {
    const char *p = o->arg ? o->arg : "";
    for (size_t k = 0; k < i; k++) {
        p = strchr(p, '|');
        if (!p) return -1;
        p++;
    }
    size_t len = strcspn(p, "|");
    if (!len || len >= cap) return -1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

tg_status tgx_opt_want(const tgx_opt *o, tgx_buf *b) {
    char lo[40], hi[40];
    tgx_opt_num_text(o->lo, lo, sizeof lo);
    tgx_opt_num_text(o->hi, hi, sizeof hi);
    switch (o->kind) {
    case TGX_OPT_BOOL: return tgx_buf_puts(b, "true or false");
    case TGX_OPT_UINT: return tgx_buf_printf(b, "a whole number in %s..%s", lo, hi);
    case TGX_OPT_NUM:
        if (o->flags & TGX_OPT_OPEN_LO) return tgx_buf_printf(b, "a number above %s, at most %s", lo, hi);
        return tgx_buf_printf(b, "a number in %s..%s", lo, hi);
    case TGX_OPT_ENUM: return tgx_buf_printf(b, "one of %s", o->arg ? o->arg : "");
    case TGX_OPT_STR:
    case TGX_OPT_LIST: return tgx_buf_puts(b, o->flags & TGX_OPT_NONEMPTY ? "a non-empty string" : "a string");
    case TGX_OPT_CUSTOM: return tgx_buf_puts(b, o->arg ? o->arg : "a value");
    case TGX_OPT_HEADING: break;
    }
    return TG_OK;
}

/* "WHERE: SHOWN is not WANT": SHOWN is 'text' for a flag, JSON for a key. */
static tg_status refuse(const tgx_opt *o, const char *where, const char *text, json_t *v, tg_error *err) {
    char shown[80];
    if (text) {
        snprintf(shown, sizeof shown, "'%.60s%s'", text, strlen(text) > 60 ? "..." : "");
    } else {
        char *j = tgx_json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(shown, sizeof shown, "%.60s%s", j ? j : "a value", j && strlen(j) > 60 ? "..." : "");
        free(j);
    }
    tgx_buf w;
    tgx_buf_init(&w, 1024);
    tg_status st = tgx_opt_want(o, &w);
    if (st == TG_OK)
        st = tg_error_set(err, TG_EINVAL, "%s: %s is not %s", where, shown, w.data ? w.data : "valid");
    else
        st = tg_error_set(err, TG_ENOMEM, "out of memory");
    tgx_buf_free(&w);
    return st;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

static int push_str(const tgx_opt *o, void *target, const char *s) {
    char ***arr = at(target, o->off);
    size_t *n = at(target, o->off_n);
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) return -1;
    *arr = na;
    if (!(na[*n] = xstrdup(s))) return -1;
    (*n)++;
    return 0;
}

static tg_status store(const tgx_opt *o, void *target, const val *v, tg_error *err) {
    uint64_t mul = o->scale >= 1 ? (uint64_t)o->scale : 1;
    double scale = o->scale > 0 ? o->scale : 1.0;
    double d = o->kind == TGX_OPT_UINT ? (double)v->u : v->d;
    void *p = at(target, o->off);
    switch (o->store) {
    case TGX_ST_NONE: break;
    case TGX_ST_INT: *(int *)p = v->i; break;
    case TGX_ST_U32: *(uint32_t *)p = (uint32_t)(v->u * mul); break;
    case TGX_ST_U64: *(uint64_t *)p = v->u * mul; break;
    case TGX_ST_SIZE: *(size_t *)p = (size_t)(v->u * mul); break;
    case TGX_ST_DOUBLE: *(double *)p = d * scale; break;
    case TGX_ST_PPM: *(uint32_t *)p = (uint32_t)(d * 1e6 + 0.5); break;
    case TGX_ST_STR: {
        if (!v->s) /* a table error: a string store for an option that is not a string */
            return tg_error_set(err, TG_EINVAL, "option %s stores a string but reads none", o->key ? o->key : o->flag ? o->flag : "?");
        char *s = xstrdup(v->s);
        if (!s) return tg_error_set(err, TG_ENOMEM, "out of memory");
        free(*(char **)p);
        *(char **)p = s;
        break;
    }
    case TGX_ST_BORROW: *(const char **)p = v->s; break;
    case TGX_ST_STRV:
        if (push_str(o, target, v->s) != 0) return tg_error_set(err, TG_ENOMEM, "out of memory");
        break;
    }
    return TG_OK;
}

static int in_bounds(const tgx_opt *o, double d) {
    if (!(d <= o->hi)) return 0;
    return (o->flags & TGX_OPT_OPEN_LO) ? d > o->lo : d >= o->lo;
}

static int u_in_bounds(const tgx_opt *o, uint64_t u) {
    return u >= (uint64_t)o->lo && u <= (uint64_t)o->hi;
}

/* Whole decimal number, digits only; 0 on success. */
static int text_u64(const char *s, uint64_t *out) {
    if (!*s) return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        uint64_t dg = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - dg) / 10) return -1;
        v = v * 10 + dg;
    }
    *out = v;
    return 0;
}

static int text_double(const char *s, double *out) {
    if (!*s || isspace((unsigned char)*s) || *s == '+') return -1;
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno || !end || *end || !isfinite(d)) return -1;
    *out = d;
    return 0;
}

tg_status tgx_opt_from_text(const tgx_opt *o, void *target, const char *where, const char *text, tg_error *err) {
    val v;
    memset(&v, 0, sizeof v);
    switch (o->kind) {
    case TGX_OPT_HEADING: return tg_error_set(err, TG_EINVAL, "%s: not an option", where);
    case TGX_OPT_CUSTOM: return o->set(o, target, where, text ? text : "", NULL, err);
    case TGX_OPT_BOOL: v.i = 1; break;
    case TGX_OPT_UINT:
        if (!text || text_u64(text, &v.u) != 0 || !u_in_bounds(o, v.u)) return refuse(o, where, text ? text : "", NULL, err);
        break;
    case TGX_OPT_NUM:
        if (!text || text_double(text, &v.d) != 0 || !in_bounds(o, v.d)) return refuse(o, where, text ? text : "", NULL, err);
        break;
    case TGX_OPT_ENUM:
        if (!text || (v.i = o->parse(text)) < 0) return refuse(o, where, text ? text : "", NULL, err);
        break;
    case TGX_OPT_STR:
    case TGX_OPT_LIST:
        if (!text || ((o->flags & TGX_OPT_NONEMPTY) && !*text)) return refuse(o, where, text ? text : "", NULL, err);
        v.s = text;
        break;
    }
    return store(o, target, &v, err);
}

static tg_status json_uint(const tgx_opt *o, json_t *j, uint64_t *u) {
    if (json_is_integer(j)) {
        json_int_t x = json_integer_value(j);
        if (x < 0) return TG_EINVAL;
        *u = (uint64_t)x;
    } else if (json_is_real(j)) {
        double d = json_real_value(j);
        if (!(d >= 0 && d < 1.8e19) || d != floor(d)) return TG_EINVAL;
        *u = (uint64_t)d;
    } else {
        return TG_EINVAL;
    }
    return u_in_bounds(o, *u) ? TG_OK : TG_EINVAL;
}

static tg_status json_list(const tgx_opt *o, void *target, const char *where, json_t *v, tg_error *err) {
    if (!json_is_array(v)) {
        char *j = tgx_json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        tg_status st = tg_error_set(err, TG_EINVAL, "%s: %.60s is not an array of strings", where, j ? j : "a value");
        free(j);
        return st;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char w[256];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        const char *s = json_string_value(e);
        if (!s || ((o->flags & TGX_OPT_NONEMPTY) && !*s)) return refuse(o, w, NULL, e, err);
        val x = {0, 0, 0, s};
        tg_status st = store(o, target, &x, err);
        if (st != TG_OK) return st;
    }
    return TG_OK;
}

tg_status tgx_opt_from_json(const tgx_opt *o, void *target, const char *where, json_t *j, tg_error *err) {
    val v;
    memset(&v, 0, sizeof v);
    switch (o->kind) {
    case TGX_OPT_HEADING: return tg_error_set(err, TG_EINVAL, "%s: not an option", where);
    case TGX_OPT_CUSTOM: return o->set(o, target, where, NULL, j, err);
    case TGX_OPT_LIST: return json_list(o, target, where, j, err);
    case TGX_OPT_BOOL:
        if (!json_is_boolean(j)) return refuse(o, where, NULL, j, err);
        v.i = json_is_true(j);
        break;
    case TGX_OPT_UINT:
        if (json_uint(o, j, &v.u) != TG_OK) return refuse(o, where, NULL, j, err);
        break;
    case TGX_OPT_NUM:
        if (!json_is_number(j) || !in_bounds(o, v.d = json_number_value(j))) return refuse(o, where, NULL, j, err);
        break;
    case TGX_OPT_ENUM:
        if (!json_is_string(j) || (v.i = o->parse(json_string_value(j))) < 0) return refuse(o, where, NULL, j, err);
        break;
    case TGX_OPT_STR:
        if (!json_is_string(j) || ((o->flags & TGX_OPT_NONEMPTY) && !json_string_length(j)))
            return refuse(o, where, NULL, j, err);
        v.s = json_string_value(j);
        break;
    }
    return store(o, target, &v, err);
}

const tgx_opt *tgx_opt_by_flag(const tgx_opt *t, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if ((t[i].flag && !strcmp(t[i].flag, name)) || (t[i].alias && !strcmp(t[i].alias, name))) return &t[i];
    return NULL;
}

const tgx_opt *tgx_opt_by_key(const tgx_opt *t, size_t n, const char *key) {
    for (size_t i = 0; i < n; i++)
        if (t[i].key && !strcmp(t[i].key, key)) return &t[i];
    return NULL;
}

uint64_t tgx_opt_bit(const tgx_opt *t, size_t n, const char *key) {
    const tgx_opt *o = tgx_opt_by_key(t, n, key);
    return o ? (uint64_t)1 << (size_t)(o - t) : 0;
}

/* Does an entry's key sit below PREFIX ("timeouts" for "timeouts.connect")? */
static int has_below(const tgx_opt *t, size_t n, const char *prefix) {
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < n; i++)
        if (t[i].key && !strncmp(t[i].key, prefix, pl) && t[i].key[pl] == '.') return 1;
    return 0;
}

/* "config PATH: unknown key (want a, b, ...)": the names known below PREFIX. */
static tg_status unknown_key(const tgx_opt *t, size_t n, const char *where, const char *prefix, tg_error *err) {
    size_t pl = strlen(prefix);
    tgx_buf b;
    tgx_buf_init(&b, 4096);
    for (size_t i = 0; i < n; i++) {
        const char *k = t[i].key;
        if (!k || (pl && (strncmp(k, prefix, pl) != 0 || k[pl] != '.'))) continue;
        k += pl ? pl + 1 : 0;
        size_t kl = strcspn(k, ".");
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++) {
            const char *q = t[j].key;
            if (!q || (pl && (strncmp(q, prefix, pl) != 0 || q[pl] != '.'))) continue;
            q += pl ? pl + 1 : 0;
            dup = strcspn(q, ".") == kl && !strncmp(q, k, kl);
        }
        if (dup) continue;
        if (b.len) tgx_buf_puts(&b, ", ");
        tgx_buf_append(&b, k, kl);
    }
    tg_status st = tg_error_set(err, TG_EINVAL, "%s: unknown key (want %s)", where, b.data ? b.data : "none");
    tgx_buf_free(&b);
    return st;
}

static tg_status walk(const tgx_opt *t, size_t n, void *target, uint64_t *given, const char *path,
                      const char *prefix, json_t *obj, tg_error *err) {
    if (!json_is_object(obj)) return tg_error_set(err, TG_EINVAL, "config %s: want an object", *path ? path : "top level");
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        char key[160], mpath[256], where[272];
        snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
        snprintf(mpath, sizeof mpath, "%s%s%s", path, *path ? "." : "", k);
        snprintf(where, sizeof where, "config %s", mpath);
        const tgx_opt *o = tgx_opt_by_key(t, n, key);
        tg_status st;
        if (o) {
            st = tgx_opt_from_json(o, target, where, v, err);
            if (st == TG_OK && given) *given |= (uint64_t)1 << (size_t)(o - t);
        } else if (has_below(t, n, key)) {
            st = walk(t, n, target, given, mpath, key, v, err);
        } else {
            st = unknown_key(t, n, where, prefix, err);
        }
        if (st != TG_OK) return st;
    }
    return TG_OK;
}

tg_status tgx_opt_object(const tgx_opt *t, size_t n, void *target, uint64_t *given, const char *path,
                         json_t *obj, tg_error *err) {
    return walk(t, n, target, given, path ? path : "", "", obj, err);
}

tg_status tgx_opt_next(const tgx_opt_table *tabs, size_t ntabs, int argc, char **argv, int *i, tgx_opt_arg *a,
                       tg_error *err) {
    const char *arg = argv[*i];
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    memset(a, 0, sizeof *a);
    a->name = arg;
    if (eq) {
        size_t nl = (size_t)(eq - arg);
        if (nl >= sizeof a->buf) return tg_error_set(err, TG_ENOTFOUND, "unknown option '%s'", arg);
        memcpy(a->buf, arg, nl);
        a->buf[nl] = '\0';
        a->name = a->buf;
    }
    for (size_t k = 0; k < ntabs && !a->opt; k++)
        if ((a->opt = tgx_opt_by_flag(tabs[k].v, tabs[k].n, a->name))) a->table = k;
    if (!a->opt) return tg_error_set(err, TG_ENOTFOUND, "unknown option '%s'", a->name);
    if (a->opt->kind == TGX_OPT_BOOL) {
        if (eq) return tg_error_set(err, TG_EINVAL, "%s takes no value", a->name);
        return TG_OK;
    }
    if (eq) {
        a->value = eq + 1;
    } else {
        if (*i + 1 >= argc) return tg_error_set(err, TG_EINVAL, "%s needs a value", a->name);
        a->value = argv[++*i];
    }
    return TG_OK;
}

void tgx_opt_clear(const tgx_opt *o, void *target) {
    if (o->store != TGX_ST_STRV) return;
    char ***arr = at(target, o->off);
    size_t *n = at(target, o->off_n);
    for (size_t i = 0; i < *n; i++) free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
}

void tgx_opt_free(const tgx_opt *t, size_t n, void *target) {
    for (size_t i = 0; i < n; i++) {
        if (t[i].store == TGX_ST_STRV) tgx_opt_clear(&t[i], target);
        if (t[i].store == TGX_ST_STR) {
            char **p = at(target, t[i].off);
            free(*p);
            *p = NULL;
        }
    }
}

tg_status tgx_opt_format(const tgx_opt *o, const void *target, tgx_buf *b) {
    uint64_t mul = o->scale >= 1 ? (uint64_t)o->scale : 1;
    double scale = o->scale > 0 ? o->scale : 1.0;
    const void *p = cat(target, o->off);
    char name[64];
    switch (o->store) {
    case TGX_ST_NONE: break;
    case TGX_ST_INT:
        if (o->kind == TGX_OPT_BOOL) return tgx_buf_puts(b, *(const int *)p ? "true" : "false");
        if (o->kind == TGX_OPT_ENUM && *(const int *)p >= 0 &&
            tgx_opt_enum_value(o, (size_t)*(const int *)p, name, sizeof name) == 0)
            return tgx_buf_puts(b, name);
        return tgx_buf_printf(b, "%d", *(const int *)p);
    case TGX_ST_U32: return tgx_buf_printf(b, "%llu", (unsigned long long)(*(const uint32_t *)p / mul));
    case TGX_ST_U64: return tgx_buf_printf(b, "%llu", (unsigned long long)(*(const uint64_t *)p / mul));
    case TGX_ST_SIZE: return tgx_buf_printf(b, "%llu", (unsigned long long)(*(const size_t *)p / mul));
    case TGX_ST_DOUBLE: return tgx_buf_printf(b, "%.15g", *(const double *)p / scale);
    case TGX_ST_PPM: return tgx_buf_printf(b, "%.15g", (double)*(const uint32_t *)p / 1e6);
    case TGX_ST_STR:
    case TGX_ST_BORROW: {
        const char *s = *(const char *const *)p;
        return tgx_buf_puts(b, s ? s : "");
    }
    case TGX_ST_STRV: {
        char *const *v = *(char *const *const *)p;
        size_t n = *(const size_t *)cat(target, o->off_n);
        tg_status st = TG_OK;
        for (size_t i = 0; i < n && st == TG_OK; i++) st = tgx_buf_printf(b, "%s%s", i ? "," : "", v[i]);
        return st;
    }
    }
    if (o->kind == TGX_OPT_CUSTOM && o->format) o->format(o, target, b);
    return TG_OK;
}

tg_status tgx_opt_help(tgx_buf *b, const tgx_opt *t, size_t n, const void *defaults) {
    tg_status st = TG_OK;
    for (size_t i = 0; i < n && st == TG_OK; i++) {
        const tgx_opt *o = &t[i];
        if (o->kind == TGX_OPT_HEADING) {
            st = tgx_buf_printf(b, "%s\n", o->help);
            continue;
        }
        if (!o->flag) continue;
        char left[96];
        int ll = snprintf(left, sizeof left, "%s%s%s", o->flag, o->arg && o->kind != TGX_OPT_BOOL ? " " : "",
                          o->arg && o->kind != TGX_OPT_BOOL ? o->arg : "");
        if (ll < 0) ll = 0;
        if (ll <= 26) st = tgx_buf_printf(b, "  %-27s", left);
        else st = tgx_buf_printf(b, "  %s\n  %-27s", left, "");
        if (st == TG_OK) st = tgx_buf_printf(b, "%s", o->help ? o->help : "");
        if (st == TG_OK && o->alias) st = tgx_buf_printf(b, " (alias %s)", o->alias);
        if (st == TG_OK && defaults && o->store != TGX_ST_STRV) {
            tgx_buf d;
            tgx_buf_init(&d, 256);
            tgx_opt_format(o, defaults, &d);
            if (d.len && strcmp(d.data, "0") != 0 && strcmp(d.data, "false") != 0) st = tgx_buf_printf(b, " (default %s)", d.data);
            tgx_buf_free(&d);
        }
        if (st == TG_OK) st = tgx_buf_putc(b, '\n');
    }
    return st;
}
