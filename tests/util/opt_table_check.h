/*
 * opt_table_check.h: the check every option table (util/opt.h) must pass,
 * shared by tests/policy/test_settings_keys.c (the library's tables) and
 * tests/gateway/test_config.c (the daemon's): for each entry that is both a
 * flag and a config key,
 *   - values in range (both bounds and one between; every name of an
 *     enumeration; a string; the entry's example) are accepted as the flag's
 *     text and as the key's JSON value, and both store the same thing, which
 *     reads back as the text given;
 *   - values out of range (just above hi, just below lo, lo itself when it is
 *     excluded, a non-number, an unknown name, an empty string where one is
 *     refused, a malformed custom value) are refused both ways, and the
 *     message names the flag or the key and, for numbers, both bounds;
 *   - the key's JSON of the wrong type (a number as a string) is refused.
 * Expected behaviour comes from the entry's own declared kind and bounds: the
 * point is that the flag and the key cannot disagree about them.
 */
#ifndef TG_TEST_OPT_TABLE_CHECK_H
#define TG_TEST_OPT_TABLE_CHECK_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "util/opt.h"

typedef void (*opt_init_fn)(void *target);
typedef void (*opt_fini_fn)(void *target);

typedef struct opt_target {
    size_t size;
    opt_init_fn init;
    opt_fini_fn fini;
} opt_target;

static void *opt_new(const opt_target *tt) {
    void *p = calloc(1, tt->size);
    if (p && tt->init) tt->init(p);
    return p;
}

static void opt_del(const opt_target *tt, void *p) {
    if (p && tt->fini) tt->fini(p);
    free(p);
}

static char *opt_fmt(const tgx_opt *o, const void *target) {
    tgx_buf b;
    tgx_buf_init(&b, 4096);
    tgx_opt_format(o, target, &b);
    char *s = strdup(b.data ? b.data : "");
    tgx_buf_free(&b);
    return s;
}

/* TEXT (NULL: a BOOL flag) and J (consumed) must both be accepted and store
 * the same; the stored value must read back as WANT when WANT is not NULL. */
static void opt_accept(const opt_target *tt, const tgx_opt *o, const char *text, json_t *j, const char *want) {
    void *a = opt_new(tt), *b = opt_new(tt);
    tg_error e1, e2;
    memset(&e1, 0, sizeof e1);
    memset(&e2, 0, sizeof e2);
    char where[200];
    snprintf(where, sizeof where, "config %s", o->key);
    tg_status s1 = tgx_opt_from_text(o, a, o->flag, text, &e1);
    tg_status s2 = tgx_opt_from_json(o, b, where, j, &e2);
    if (s1 != TG_OK || s2 != TG_OK)
        fprintf(stderr, "%s / %s with '%s': %s | %s\n", o->flag, o->key, text ? text : "(bool)", e1.msg, e2.msg);
    TG_CHECK_EQ_I(s1, TG_OK);
    TG_CHECK_EQ_I(s2, TG_OK);
    char *fa = opt_fmt(o, a), *fb = opt_fmt(o, b);
    TG_CHECK_STR(fa, fb);
    if (want) TG_CHECK_STR(fa, want);
    free(fa);
    free(fb);
    json_decref(j);
    opt_del(tt, a);
    opt_del(tt, b);
}

/* TEXT and J (consumed; NULL: only the flag is tried) must both be refused,
 * each message naming its flag or key and containing NEEDLE. */
static void opt_refuse(const opt_target *tt, const tgx_opt *o, const char *text, json_t *j, const char *needle) {
    void *a = opt_new(tt);
    tg_error e;
    memset(&e, 0, sizeof e);
    char where[200];
    snprintf(where, sizeof where, "config %s", o->key);
    if (text) {
        tg_status st = tgx_opt_from_text(o, a, o->flag, text, &e);
        if (st == TG_OK) fprintf(stderr, "%s accepted '%s'\n", o->flag, text);
        TG_CHECK(st != TG_OK);
        TG_CHECK_CONTAINS(e.msg, o->flag);
        if (needle) TG_CHECK_CONTAINS(e.msg, needle);
    }
    opt_del(tt, a);
    if (!j) return;
    a = opt_new(tt);
    memset(&e, 0, sizeof e);
    tg_status st = tgx_opt_from_json(o, a, where, j, &e);
    if (st == TG_OK) fprintf(stderr, "%s accepted a JSON value it should refuse\n", o->key);
    TG_CHECK(st != TG_OK);
    TG_CHECK_CONTAINS(e.msg, where);
    if (needle) TG_CHECK_CONTAINS(e.msg, needle);
    json_decref(j);
    opt_del(tt, a);
}

static void opt_check_uint(const opt_target *tt, const tgx_opt *o) {
    char lo[40], hi[40], t[48];
    tgx_opt_num_text(o->lo, lo, sizeof lo);
    tgx_opt_num_text(o->hi, hi, sizeof hi);
    uint64_t samples[3] = {(uint64_t)o->lo, (uint64_t)o->hi, (uint64_t)o->lo + ((uint64_t)o->hi - (uint64_t)o->lo) / 3};
    for (size_t i = 0; i < 3; i++) {
        snprintf(t, sizeof t, "%llu", (unsigned long long)samples[i]);
        opt_accept(tt, o, t, json_integer((json_int_t)samples[i]), t);
    }
    snprintf(t, sizeof t, "%llu", (unsigned long long)o->hi + 1);
    opt_refuse(tt, o, t, json_integer((json_int_t)o->hi + 1), hi);
    opt_refuse(tt, o, t, NULL, lo);
    if (o->lo >= 1) {
        snprintf(t, sizeof t, "%llu", (unsigned long long)o->lo - 1);
        opt_refuse(tt, o, t, json_integer((json_int_t)o->lo - 1), lo);
    }
    opt_refuse(tt, o, "-1", json_integer(-1), hi);
    opt_refuse(tt, o, "1.5", json_real(1.5), hi);
    opt_refuse(tt, o, "many", json_string("1"), hi);
    opt_refuse(tt, o, "", NULL, hi);
}

static void opt_check_num(const opt_target *tt, const tgx_opt *o) {
    char lo[40], hi[40], t[64];
    tgx_opt_num_text(o->lo, lo, sizeof lo);
    tgx_opt_num_text(o->hi, hi, sizeof hi);
    int open = (o->flags & TGX_OPT_OPEN_LO) != 0;
    /* inside values with three decimals at most, so a fraction stored in
     * parts per million reads back as given */
    double samples[3] = {open ? o->lo + (o->hi - o->lo) / 1024 : o->lo, o->hi, o->lo + (o->hi - o->lo) / 2};
    for (size_t i = 0; i < 3; i++) {
        double r = round(samples[i] * 1000) / 1000;
        if (i != 1 && (open || i == 2) && r > o->lo && r < o->hi) samples[i] = r;
        snprintf(t, sizeof t, "%.15g", samples[i]);
        opt_accept(tt, o, t, json_real(samples[i]), t);
    }
    snprintf(t, sizeof t, "%.15g", o->hi * 2 + 1);
    opt_refuse(tt, o, t, json_real(o->hi * 2 + 1), hi);
    double below = open ? o->lo : o->lo - (o->lo > 0 ? o->lo / 2 : 1);
    snprintf(t, sizeof t, "%.15g", below);
    opt_refuse(tt, o, t, json_real(below), lo);
    opt_refuse(tt, o, "fast", json_string(hi), hi);
    opt_refuse(tt, o, "nan", NULL, hi);
}

static void opt_check_entry(const opt_target *tt, const tgx_opt *o) {
    char name[64];
    switch (o->kind) {
    case TGX_OPT_UINT: opt_check_uint(tt, o); break;
    case TGX_OPT_NUM: opt_check_num(tt, o); break;
    case TGX_OPT_ENUM: {
        size_t i = 0;
        for (; tgx_opt_enum_value(o, i, name, sizeof name) == 0; i++) opt_accept(tt, o, name, json_string(name), name);
        TG_CHECK(i >= 2);
        opt_refuse(tt, o, "no-such-name", json_string("no-such-name"), o->arg);
        opt_refuse(tt, o, NULL, json_integer(0), o->arg);
        break;
    }
    case TGX_OPT_STR:
        opt_accept(tt, o, "some value", json_string("some value"), "some value");
        opt_refuse(tt, o, NULL, json_integer(1), NULL);
        if (o->flags & TGX_OPT_NONEMPTY) opt_refuse(tt, o, "", json_string(""), NULL);
        break;
    case TGX_OPT_LIST: {
        json_t *a = json_array();
        json_array_append_new(a, json_string("k1"));
        opt_accept(tt, o, "k1", a, "k1");
        opt_refuse(tt, o, NULL, json_string("k1"), NULL);
        if (o->flags & TGX_OPT_NONEMPTY) {
            a = json_array();
            json_array_append_new(a, json_string(""));
            opt_refuse(tt, o, "", a, NULL);
        }
        break;
    }
    case TGX_OPT_BOOL:
        opt_accept(tt, o, NULL, json_true(), "true");
        opt_refuse(tt, o, NULL, json_string("yes"), NULL);
        break;
    case TGX_OPT_CUSTOM:
        TG_CHECK(o->example != NULL);
        if (o->example) opt_accept(tt, o, o->example, json_string(o->example), o->example);
        opt_refuse(tt, o, "::bad::", json_string("::bad::"), NULL);
        break;
    case TGX_OPT_HEADING: break;
    }
}

/* Every entry of T; returns how many were both a flag and a key. */
static size_t opt_check_table(const tgx_opt *t, size_t n, const opt_target *tt) {
    size_t both = 0;
    TG_CHECK(n <= 64); /* the given masks are 64 bits */
    for (size_t i = 0; i < n; i++) {
        const tgx_opt *o = &t[i];
        if (o->kind == TGX_OPT_HEADING) {
            TG_CHECK(!o->key && !o->flag && o->help);
            continue;
        }
        TG_CHECK(o->help != NULL);
        /* unique keys and flags within the table */
        for (size_t j = 0; j < i; j++) {
            if (o->key && t[j].key) TG_CHECK(strcmp(o->key, t[j].key) != 0);
            if (o->flag && t[j].flag) TG_CHECK(strcmp(o->flag, t[j].flag) != 0);
        }
        if (!o->key || !o->flag) continue;
        both++;
        opt_check_entry(tt, o);
    }
    return both;
}

#endif
