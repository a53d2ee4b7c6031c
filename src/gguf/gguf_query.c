/*
 * gguf_query.c: read-only accessors over a parsed tg_gguf handle (see
 * include/tokgate/gguf.h): header facts, key and tensor lookup through the
 * hash tables gguf_read.c built, typed getters with integer conversion, and
 * array element access through the element-offset index.
 *
 * Conversion rules (one place, used by every getter):
 *   u64: any integer type whose value is >= 0.
 *   i64: any integer type whose value is <= INT64_MAX.
 *   f64: float32, float64, or any integer type (converted, maybe rounded).
 *   bool: BOOL only; str: STRING only; array: ARRAY only.
 * Nothing here allocates or writes the handle.
 */
#include <stdint.h>
#include <stdio.h>

#include "gguf/gguf_internal.h"

uint32_t tg_gguf_version(const tg_gguf *g) { return g->version; }
uint64_t tg_gguf_alignment(const tg_gguf *g) { return g->alignment; }
uint64_t tg_gguf_data_offset(const tg_gguf *g) { return g->data_offset; }
size_t tg_gguf_kv_count(const tg_gguf *g) { return g->n_kv; }
size_t tg_gguf_tensor_count(const tg_gguf *g) { return g->n_tensors; }

/* Out-of-range indices give an empty string / a zeroed value. */
tg_gguf_str tg_gguf_kv_key(const tg_gguf *g, size_t i) {
    tg_gguf_str s = {"", 0};
    if (i < g->n_kv) s = g->kv[i].key;
    return s;
}

tg_gguf_value tg_gguf_kv_value(const tg_gguf *g, size_t i) {
    tg_gguf_value v;
    memset(&v, 0, sizeof v);
    if (i < g->n_kv) v = g->kv[i].val;
    return v;
}

const tg_gguf_tensor *tg_gguf_tensor_at(const tg_gguf *g, size_t i) {
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}

static long lookup(const uint32_t *slots, size_t cap, const char *name, const tg_gguf *g, int tensors) {
    if (!slots || !name) return -1;
    size_t n = strlen(name);
    size_t mask = cap - 1;
    size_t h = (size_t)tg__gguf_hash(name, n) & mask;
    for (;;) {
        uint32_t s = slots[h];
        if (s == 0) return -1;
        tg_gguf_str cand = tensors ? g->tensors[s - 1].name : g->kv[s - 1].key;
        if (tg__gguf_str_eq(cand, name, n)) return (long)(s - 1);
        h = (h + 1) & mask;
    }
}

long tg_gguf_find(const tg_gguf *g, const char *key) {
    return lookup(g->key_slots, g->key_cap, key, g, 0);
}

long tg_gguf_find_tensor(const tg_gguf *g, const char *name) {
    return lookup(g->tensor_slots, g->tensor_cap, name, g, 1);
}

/* ---- scalar conversion ---------------------------------------------------- */

static int is_unsigned(tg_gguf_type t) {
    return t == TG_GGUF_UINT8 || t == TG_GGUF_UINT16 || t == TG_GGUF_UINT32 || t == TG_GGUF_UINT64;
}

static int is_signed(tg_gguf_type t) {
    return t == TG_GGUF_INT8 || t == TG_GGUF_INT16 || t == TG_GGUF_INT32 || t == TG_GGUF_INT64;
}

static int value_ok(const tg_gguf_value *v) {
    size_t sz = tg__gguf_scalar_size(v->type);
    return v->p && v->end && sz && (size_t)(v->end - v->p) >= sz;
}

static uint64_t raw_unsigned(const tg_gguf_value *v) {
    switch (v->type) {
    case TG_GGUF_UINT8: return v->p[0];
    case TG_GGUF_UINT16: return tg__le16(v->p);
    case TG_GGUF_UINT32: return tg__le32(v->p);
    default: return tg__le64(v->p);
    }
}

static int64_t raw_signed(const tg_gguf_value *v) {
    switch (v->type) {
    case TG_GGUF_INT8: return (int8_t)v->p[0];
    case TG_GGUF_INT16: return (int16_t)tg__le16(v->p);
    case TG_GGUF_INT32: return (int32_t)tg__le32(v->p);
    default: return (int64_t)tg__le64(v->p);
    }
}

tg_status tg_gguf_value_u64(const tg_gguf_value *v, uint64_t *out) {
    if (!v || !value_ok(v)) return TG_EINVAL;
    if (is_unsigned(v->type)) {
        *out = raw_unsigned(v);
        return TG_OK;
    }
    if (is_signed(v->type)) {
        int64_t x = raw_signed(v);
        if (x < 0) return TG_EINVAL;
        *out = (uint64_t)x;
        return TG_OK;
    }
    return TG_EINVAL;
}

tg_status tg_gguf_value_i64(const tg_gguf_value *v, int64_t *out) {
    if (!v || !value_ok(v)) return TG_EINVAL;
    if (is_signed(v->type)) {
        *out = raw_signed(v);
        return TG_OK;
    }
    if (is_unsigned(v->type)) {
        uint64_t x = raw_unsigned(v);
        if (x > (uint64_t)INT64_MAX) return TG_EINVAL;
        *out = (int64_t)x;
        return TG_OK;
    }
    return TG_EINVAL;
}

tg_status tg_gguf_value_f64(const tg_gguf_value *v, double *out) {
    if (!v || !value_ok(v)) return TG_EINVAL;
    if (v->type == TG_GGUF_FLOAT32) {
        uint32_t bits = tg__le32(v->p);
        float f;
        memcpy(&f, &bits, sizeof f);
        *out = (double)f;
    } else if (v->type == TG_GGUF_FLOAT64) {
        uint64_t bits = tg__le64(v->p);
        memcpy(out, &bits, sizeof *out);
    } else if (is_unsigned(v->type)) {
        *out = (double)raw_unsigned(v);
    } else if (is_signed(v->type)) {
        *out = (double)raw_signed(v);
    } else {
        return TG_EINVAL;
    }
    return TG_OK;
}

tg_status tg_gguf_value_bool(const tg_gguf_value *v, int *out) {
    if (!v || v->type != TG_GGUF_BOOL || !value_ok(v)) return TG_EINVAL;
    *out = v->p[0] != 0;
    return TG_OK;
}

tg_status tg_gguf_value_str(const tg_gguf_value *v, tg_gguf_str *out) {
    if (!v || v->type != TG_GGUF_STRING || !v->p || !v->end || v->end - v->p < 8) return TG_EINVAL;
    uint64_t len = tg__le64(v->p);
    if (len != (uint64_t)(v->end - v->p - 8)) return TG_EINVAL;
    out->ptr = (const char *)(v->p + 8);
    out->len = (size_t)len;
    return TG_OK;
}

/* ---- typed getters by key -------------------------------------------------- */

static tg_status find_value(const tg_gguf *g, const char *key, const tg_gguf_value **v, tg_error *err) {
    long i = tg_gguf_find(g, key);
    if (i < 0) return tg_error_set(err, TG_ENOTFOUND, "gguf: key '%s' not found", key ? key : "(null)");
    *v = &g->kv[i].val;
    return TG_OK;
}

static tg_status mismatch(const tg_gguf_value *v, const char *key, const char *want, int want_int,
                          tg_error *err) {
    if (want_int && (is_signed(v->type) || is_unsigned(v->type)))
        return tg_error_set(err, TG_EINVAL, "gguf: key '%s' (%s) holds a value out of range for %s", key,
                            tg_gguf_type_name(v->type), want);
    return tg_error_set(err, TG_EINVAL, "gguf: key '%s' has type %s; expected %s", key,
                        tg_gguf_type_name(v->type), want);
}

tg_status tg_gguf_get_u64(const tg_gguf *g, const char *key, uint64_t *out, tg_error *err) {
    const tg_gguf_value *v = NULL;
    tg_status st = find_value(g, key, &v, err);
    if (st) return st;
    if (tg_gguf_value_u64(v, out)) return mismatch(v, key, "an unsigned integer", 1, err);
    return TG_OK;
}

tg_status tg_gguf_get_i64(const tg_gguf *g, const char *key, int64_t *out, tg_error *err) {
    const tg_gguf_value *v = NULL;
    tg_status st = find_value(g, key, &v, err);
    if (st) return st;
    if (tg_gguf_value_i64(v, out)) return mismatch(v, key, "a signed 64-bit integer", 1, err);
    return TG_OK;
}

tg_status tg_gguf_get_f64(const tg_gguf *g, const char *key, double *out, tg_error *err) {
    const tg_gguf_value *v = NULL;
    tg_status st = find_value(g, key, &v, err);
    if (st) return st;
    if (tg_gguf_value_f64(v, out)) return mismatch(v, key, "a number", 0, err);
    return TG_OK;
}

tg_status tg_gguf_get_bool(const tg_gguf *g, const char *key, int *out, tg_error *err) {
    const tg_gguf_value *v = NULL;
    tg_status st = find_value(g, key, &v, err);
    if (st) return st;
    if (tg_gguf_value_bool(v, out)) return mismatch(v, key, "bool", 0, err);
    return TG_OK;
}

tg_status tg_gguf_get_str(const tg_gguf *g, const char *key, tg_gguf_str *out, tg_error *err) {
    const tg_gguf_value *v = NULL;
    tg_status st = find_value(g, key, &v, err);
    if (st) return st;
    if (tg_gguf_value_str(v, out)) return mismatch(v, key, "string", 0, err);
    return TG_OK;
}

tg_status tg_gguf_get_array(const tg_gguf *g, const char *key, tg_gguf_value *out, tg_error *err) {
    const tg_gguf_value *v = NULL;
    tg_status st = find_value(g, key, &v, err);
    if (st) return st;
    if (!v || v->type != TG_GGUF_ARRAY) return v ? mismatch(v, key, "array", 0, err) : TG_EINVAL;
    memcpy(out, v, sizeof *out);
    return TG_OK;
}

/* ---- arrays ----------------------------------------------------------------- */

/* Slot in elem_offs of the first element of the array starting at `first`,
 * or -1 when no such array was indexed. */
static long find_array(const tg_gguf *g, uint64_t first) {
    size_t lo = 0, hi = g->n_arrays;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->arrays[mid].first < first) lo = mid + 1;
        else hi = mid;
    }
    if (lo < g->n_arrays && g->arrays[lo].first == first) return (long)g->arrays[lo].start;
    return -1;
}

tg_status tg_gguf_array_get(const tg_gguf *g, const tg_gguf_value *arr, uint64_t i, tg_gguf_value *out) {
    if (!g || !arr || arr->type != TG_GGUF_ARRAY || i >= arr->n || !arr->p || !arr->end) return TG_EINVAL;
    uintptr_t base = (uintptr_t)g->data, p = (uintptr_t)arr->p, e = (uintptr_t)arr->end;
    if (p < base || e < p || e > base + g->size) return TG_EINVAL;
    tg_gguf_value v;
    memset(&v, 0, sizeof v);
    v.type = arr->elem_type;
    size_t esize = tg__gguf_scalar_size(arr->elem_type);
    if (esize) {
        if (arr->n > (uint64_t)(e - p) / esize) return TG_EINVAL;
        v.p = arr->p + (size_t)i * esize;
        v.end = v.p + esize;
        *out = v;
        return TG_OK;
    }
    long start = find_array(g, (uint64_t)(p - base));
    if (start < 0) return TG_EINVAL;
    size_t s = (size_t)start + (size_t)i;
    uint64_t off = g->elem_offs[s];
    uint64_t next = i + 1 < arr->n ? g->elem_offs[s + 1] : (uint64_t)(e - base);
    v.p = g->data + off;
    v.end = g->data + next;
    if (arr->elem_type == TG_GGUF_ARRAY) {
        /* Validated at open: type, count and elements lie in [off, next). */
        v.elem_type = (tg_gguf_type)tg__le32(v.p);
        v.n = tg__le64(v.p + 4);
        v.p += 12;
    }
    *out = v;
    return TG_OK;
}

tg_status tg_gguf_array_str(const tg_gguf *g, const tg_gguf_value *arr, uint64_t i, tg_gguf_str *out) {
    if (!arr || arr->type != TG_GGUF_ARRAY || arr->elem_type != TG_GGUF_STRING) return TG_EINVAL;
    tg_gguf_value v;
    tg_status st = tg_gguf_array_get(g, arr, i, &v);
    if (st) return st;
    return tg_gguf_value_str(&v, out);
}
