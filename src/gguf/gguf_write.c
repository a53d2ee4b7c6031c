/*
 * gguf_write.c: the GGUF writer of include/tokgate/gguf_write.h.
 *
 * Metadata pairs are encoded as they are added into one growing buffer
 * (key string | u32 type | value), so writing out is a copy. Tensor infos are
 * kept as records; offsets are assigned at write time, when the alignment is
 * final: tensor k starts at the sum of the earlier tensors' sizes, each
 * rounded up to the alignment (ggml's gguf writer lays tensors out the same
 * way, and llama.cpp's loader expects nothing else). The file is
 *
 *   header | pairs | tensor infos | pad | data 0 | pad | data 1 | pad ...
 *
 * with every pad made of zero bytes up to the next multiple of the alignment.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_internal.h"
#include "tokgate/gguf_write.h"
#include "util/buf.h"

#define GGML_MAX_NAME 64 /* llama.cpp refuses tensor names this long or longer */

typedef struct wtensor {
    char *name;
    size_t name_len;
    uint32_t n_dims;
    uint64_t dims[TG_GGUF_MAX_DIMS];
    uint32_t type;
    uint64_t n_bytes;
    const void *data;
} wtensor;

typedef struct wkey {
    size_t off, len; /* the key's bytes in kvs */
} wkey;

struct tg_gguf_writer {
    uint32_t version;
    uint64_t alignment;
    tgx_buf kvs;
    wkey *keys;
    size_t n_kv, keys_cap;
    wtensor *tensors;
    size_t n_tensors, tensors_cap;
};

tg_gguf_writer *tg_gguf_writer_new(void) {
    tg_gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->version = 3;
    w->alignment = 32;
    tgx_buf_init(&w->kvs, SIZE_MAX / 2);
    return w;
}

void tg_gguf_writer_free(tg_gguf_writer *w) {
    if (!w) return;
    tgx_buf_free(&w->kvs);
    free(w->keys);
    for (size_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w);
}

tg_status tg_gguf_writer_set_version(tg_gguf_writer *w, uint32_t version, tg_error *err) {
    if (version != 2 && version != 3)
        return tg_error_set(err, TG_EINVAL, "gguf writer: version %u is not 2 or 3", version);
    w->version = version;
    return TG_OK;
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static tg_status buf_u32(tgx_buf *b, uint32_t v) {
    uint8_t p[4];
    put_le(p, v, 4);
    return tgx_buf_append(b, p, 4);
}

static tg_status buf_u64(tgx_buf *b, uint64_t v) {
    uint8_t p[8];
    put_le(p, v, 8);
    return tgx_buf_append(b, p, 8);
}

static tg_status buf_str(tgx_buf *b, const char *s, size_t n) {
    tg_status st = buf_u64(b, n);
    return st ? st : tgx_buf_append(b, s, n);
}

static tg_status oom(tg_error *err) { return tg_error_set(err, TG_ENOMEM, "gguf writer: out of memory"); }

/* Appends one pair whose value is already encoded; checks the key. */
static tg_status add_encoded(tg_gguf_writer *w, const char *key, size_t key_len, tg_gguf_type type,
                             const void *val, size_t val_len, tg_error *err) {
    if (!key) return tg_error_set(err, TG_EINVAL, "gguf writer: NULL key");
    if (key_len > TG_GGUF_MAX_STRING)
        return tg_error_set(err, TG_ELIMIT, "gguf writer: key of %zu bytes exceeds the %u-byte limit", key_len,
                            TG_GGUF_MAX_STRING);
    if (w->n_kv >= TG_GGUF_MAX_KV)
        return tg_error_set(err, TG_ELIMIT, "gguf writer: more than %u keys", TG_GGUF_MAX_KV);
    for (size_t i = 0; i < w->n_kv; i++)
        if (w->keys[i].len == key_len && memcmp(w->kvs.data + w->keys[i].off, key, key_len) == 0)
            return tg_error_set(err, TG_EINVAL, "gguf writer: duplicate key '%.*s'", (int)(key_len > 200 ? 200 : key_len), key);
    uint64_t align = w->alignment;
    if (key_len == 17 && memcmp(key, "general.alignment", 17) == 0) {
        if (type != TG_GGUF_UINT32 || val_len != 4)
            return tg_error_set(err, TG_EINVAL, "gguf writer: general.alignment must be a uint32");
        align = tg__le32(val);
        if (align == 0 || (align & (align - 1)) != 0)
            return tg_error_set(err, TG_EINVAL, "gguf writer: alignment %llu is not a nonzero power of two",
                                (unsigned long long)align);
        if (align > TG_GGUF_WRITE_MAX_ALIGNMENT)
            return tg_error_set(err, TG_ELIMIT, "gguf writer: alignment %llu exceeds the %u limit",
                                (unsigned long long)align, TG_GGUF_WRITE_MAX_ALIGNMENT);
    }
    if (w->n_kv == w->keys_cap) {
        size_t cap = w->keys_cap ? w->keys_cap * 2 : 16;
        wkey *k = realloc(w->keys, cap * sizeof *k);
        if (!k) return oom(err);
        w->keys = k;
        w->keys_cap = cap;
    }
    size_t mark = w->kvs.len;
    tg_status st = buf_u64(&w->kvs, key_len);
    size_t key_off = w->kvs.len;
    if (!st) st = tgx_buf_append(&w->kvs, key, key_len);
    if (!st) st = buf_u32(&w->kvs, (uint32_t)type);
    if (!st) st = tgx_buf_append(&w->kvs, val, val_len);
    if (st) {
        w->kvs.len = mark;
        return oom(err);
    }
    w->keys[w->n_kv].off = key_off;
    w->keys[w->n_kv].len = key_len;
    w->n_kv++;
    w->alignment = align;
    return TG_OK;
}

static tg_status add_scalar(tg_gguf_writer *w, const char *key, tg_gguf_type t, uint64_t bits, tg_error *err) {
    uint8_t p[8];
    size_t n = tg__gguf_scalar_size(t);
    put_le(p, bits, n);
    return add_encoded(w, key, key ? strlen(key) : 0, t, p, n, err);
}

tg_status tg_gguf_add_u8(tg_gguf_writer *w, const char *key, uint8_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_UINT8, v, err);
}
tg_status tg_gguf_add_i8(tg_gguf_writer *w, const char *key, int8_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_INT8, (uint8_t)v, err);
}
tg_status tg_gguf_add_u16(tg_gguf_writer *w, const char *key, uint16_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_UINT16, v, err);
}
tg_status tg_gguf_add_i16(tg_gguf_writer *w, const char *key, int16_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_INT16, (uint16_t)v, err);
}
tg_status tg_gguf_add_u32(tg_gguf_writer *w, const char *key, uint32_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_UINT32, v, err);
}
tg_status tg_gguf_add_i32(tg_gguf_writer *w, const char *key, int32_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_INT32, (uint32_t)v, err);
}
tg_status tg_gguf_add_f32(tg_gguf_writer *w, const char *key, float v, tg_error *err) {
    uint32_t bits;
    memcpy(&bits, &v, 4);
    return add_scalar(w, key, TG_GGUF_FLOAT32, bits, err);
}
tg_status tg_gguf_add_bool(tg_gguf_writer *w, const char *key, int v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_BOOL, v != 0, err);
}
tg_status tg_gguf_add_u64(tg_gguf_writer *w, const char *key, uint64_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_UINT64, v, err);
}
tg_status tg_gguf_add_i64(tg_gguf_writer *w, const char *key, int64_t v, tg_error *err) {
    return add_scalar(w, key, TG_GGUF_INT64, (uint64_t)v, err);
}
tg_status tg_gguf_add_f64(tg_gguf_writer *w, const char *key, double v, tg_error *err) {
    uint64_t bits;
    memcpy(&bits, &v, 8);
    return add_scalar(w, key, TG_GGUF_FLOAT64, bits, err);
}

tg_status tg_gguf_add_str(tg_gguf_writer *w, const char *key, const char *s, size_t len, tg_error *err) {
    if (!s && len) return tg_error_set(err, TG_EINVAL, "gguf writer: NULL string");
    if (len > TG_GGUF_MAX_STRING)
        return tg_error_set(err, TG_ELIMIT, "gguf writer: string of %zu bytes exceeds the %u-byte limit", len,
                            TG_GGUF_MAX_STRING);
    tgx_buf v;
    tgx_buf_init(&v, SIZE_MAX / 2);
    if (buf_str(&v, s ? s : "", len)) {
        tgx_buf_free(&v);
        return oom(err);
    }
    tg_status st = add_encoded(w, key, key ? strlen(key) : 0, TG_GGUF_STRING, v.data, v.len, err);
    tgx_buf_free(&v);
    return st;
}

tg_status tg_gguf_add_array(tg_gguf_writer *w, const char *key, tg_gguf_type elem_type, const void *elems,
                            size_t n, tg_error *err) {
    size_t es = tg__gguf_scalar_size(elem_type);
    if (!es)
        return tg_error_set(err, TG_EINVAL, "gguf writer: tg_gguf_add_array takes fixed-size elements, not %s",
                            tg_gguf_type_name(elem_type));
    if (n > TG_GGUF_MAX_ARRAY)
        return tg_error_set(err, TG_ELIMIT, "gguf writer: array of %zu elements exceeds the %u limit", n,
                            TG_GGUF_MAX_ARRAY);
    if (!elems && n) return tg_error_set(err, TG_EINVAL, "gguf writer: NULL array");
    tgx_buf v;
    tgx_buf_init(&v, SIZE_MAX / 2);
    tg_status st = buf_u32(&v, (uint32_t)elem_type);
    if (!st) st = buf_u64(&v, n);
    if (!st) st = tgx_buf_reserve(&v, n * es);
    const uint8_t *src = elems;
    for (size_t i = 0; i < n && !st; i++) {
        uint64_t bits = 0;
        switch (es) {
        case 1: bits = src[i]; break;
        case 2: { uint16_t x; memcpy(&x, src + 2 * i, 2); bits = x; break; }
        case 4: { uint32_t x; memcpy(&x, src + 4 * i, 4); bits = x; break; }
        default: memcpy(&bits, src + 8 * i, 8); break;
        }
        if (elem_type == TG_GGUF_BOOL) bits = bits != 0;
        uint8_t p[8];
        put_le(p, bits, es);
        st = tgx_buf_append(&v, p, es);
    }
    if (!st) st = add_encoded(w, key, key ? strlen(key) : 0, TG_GGUF_ARRAY, v.data, v.len, err);
    else st = oom(err);
    tgx_buf_free(&v);
    return st;
}

tg_status tg_gguf_add_str_array(tg_gguf_writer *w, const char *key, const tg_gguf_str *strs, size_t n,
                                tg_error *err) {
    if (n > TG_GGUF_MAX_ARRAY)
        return tg_error_set(err, TG_ELIMIT, "gguf writer: array of %zu strings exceeds the %u limit", n,
                            TG_GGUF_MAX_ARRAY);
    if (!strs && n) return tg_error_set(err, TG_EINVAL, "gguf writer: NULL string array");
    tgx_buf v;
    tgx_buf_init(&v, SIZE_MAX / 2);
    tg_status st = buf_u32(&v, TG_GGUF_STRING);
    if (!st) st = buf_u64(&v, n);
    for (size_t i = 0; i < n && !st; i++) {
        if (strs[i].len > TG_GGUF_MAX_STRING || (!strs[i].ptr && strs[i].len)) {
            tgx_buf_free(&v);
            return tg_error_set(err, TG_EINVAL, "gguf writer: string #%zu of '%s' is NULL or too long", i,
                                key ? key : "");
        }
        st = buf_str(&v, strs[i].ptr ? strs[i].ptr : "", strs[i].len);
    }
    if (!st) st = add_encoded(w, key, key ? strlen(key) : 0, TG_GGUF_ARRAY, v.data, v.len, err);
    else st = oom(err);
    tgx_buf_free(&v);
    return st;
}

tg_status tg_gguf_add_raw(tg_gguf_writer *w, const char *key, tg_gguf_type type, const void *bytes, size_t len,
                          tg_error *err) {
    if (!bytes && len) return tg_error_set(err, TG_EINVAL, "gguf writer: NULL value");
    /* Validate with the reader: a file holding just this pair. */
    tgx_buf f;
    tgx_buf_init(&f, SIZE_MAX / 2);
    tg_status st = tgx_buf_append(&f, "GGUF", 4);
    if (!st) st = buf_u32(&f, 3);
    if (!st) st = buf_u64(&f, 0);
    if (!st) st = buf_u64(&f, 1);
    if (!st) st = buf_str(&f, "k", 1);
    if (!st) st = buf_u32(&f, (uint32_t)type);
    if (!st) st = tgx_buf_append(&f, bytes, len);
    if (st) {
        tgx_buf_free(&f);
        return oom(err);
    }
    tg_gguf *g = NULL;
    st = tg_gguf_open_buffer(f.data, f.len, &g, err);
    if (!st && (size_t)(g->kv[0].val.end - (const uint8_t *)f.data) != f.len)
        st = tg_error_set(err, TG_ECORRUPT, "gguf writer: %zu trailing bytes after the value",
                          f.len - (size_t)(g->kv[0].val.end - (const uint8_t *)f.data));
    tg_gguf_close(g);
    tgx_buf_free(&f);
    if (st) return tg_error_wrap(err, "gguf writer: raw value for '%s'", key ? key : "");
    return add_encoded(w, key, key ? strlen(key) : 0, type, bytes, len, err);
}

tg_status tg_gguf_add_kv_from(tg_gguf_writer *w, const tg_gguf *src, size_t i, tg_error *err) {
    if (!src || i >= src->n_kv) return tg_error_set(err, TG_EINVAL, "gguf writer: no pair #%zu in the source", i);
    const tg__gguf_kv *kv = &src->kv[i];
    const uint8_t *p = kv->val.p;
    if (kv->val.type == TG_GGUF_ARRAY) p -= 12; /* the element type and count */
    return add_encoded(w, kv->key.ptr, kv->key.len, kv->val.type, p, (size_t)(kv->val.end - p), err);
}

tg_status tg_gguf_add_tensor(tg_gguf_writer *w, const char *name, uint32_t n_dims, const uint64_t *dims,
                             uint32_t type, const void *data, uint64_t n_bytes, tg_error *err) {
    if (!name) return tg_error_set(err, TG_EINVAL, "gguf writer: NULL tensor name");
    size_t nl = strlen(name);
    if (nl >= GGML_MAX_NAME)
        return tg_error_set(err, TG_EINVAL, "gguf writer: tensor name '%s' has %zu bytes; ggml allows %d", name,
                            nl, GGML_MAX_NAME - 1);
    if (n_dims < 1 || n_dims > TG_GGUF_MAX_DIMS || !dims)
        return tg_error_set(err, TG_EINVAL, "gguf writer: tensor '%s' has %u dims; 1..%d allowed", name, n_dims,
                            TG_GGUF_MAX_DIMS);
    if (w->n_tensors >= TG_GGUF_MAX_TENSORS)
        return tg_error_set(err, TG_ELIMIT, "gguf writer: more than %u tensors", TG_GGUF_MAX_TENSORS);
    uint32_t be, bb;
    if (tg_ggml_type_block(type, &be, &bb) != TG_OK)
        return tg_error_set(err, TG_EINVAL, "gguf writer: tensor '%s' has unknown ggml type %u", name, type);
    uint64_t nelem = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (dims[d] > (uint64_t)INT64_MAX || (dims[d] && nelem > (uint64_t)INT64_MAX / dims[d]))
            return tg_error_set(err, TG_EINVAL, "gguf writer: tensor '%s': shape overflows at dimension %u", name, d);
        nelem *= dims[d];
    }
    if (dims[0] % be)
        return tg_error_set(err, TG_EINVAL, "gguf writer: tensor '%s': dims[0] %llu is not a multiple of %u (%s)",
                            name, (unsigned long long)dims[0], be, tg_ggml_type_name(type));
    if (nelem / be > UINT64_MAX / bb || (nelem / be) * bb != n_bytes)
        return tg_error_set(err, TG_EINVAL, "gguf writer: tensor '%s': %llu bytes given, its shape and type need %llu",
                            name, (unsigned long long)n_bytes, (unsigned long long)(nelem / be) * bb);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (w->tensors[i].name_len == nl && memcmp(w->tensors[i].name, name, nl) == 0)
            return tg_error_set(err, TG_EINVAL, "gguf writer: duplicate tensor name '%s'", name);
    if (w->n_tensors == w->tensors_cap) {
        size_t cap = w->tensors_cap ? w->tensors_cap * 2 : 16;
        wtensor *t = realloc(w->tensors, cap * sizeof *t);
        if (!t) return oom(err);
        w->tensors = t;
        w->tensors_cap = cap;
    }
    wtensor *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = malloc(nl + 1);
    if (!t->name) return oom(err);
    memcpy(t->name, name, nl + 1);
    t->name_len = nl;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < n_dims; d++) t->dims[d] = dims[d];
    t->type = type;
    t->n_bytes = n_bytes;
    t->data = data;
    w->n_tensors++;
    return TG_OK;
}

static uint64_t pad_to(uint64_t x, uint64_t a) { return (a - x % a) % a; }

/* Header, pairs and tensor infos, padded to the alignment, into `b`. */
static tg_status build_header(const tg_gguf_writer *w, tgx_buf *b, tg_error *err) {
    tg_status st = tgx_buf_append(b, "GGUF", 4);
    if (!st) st = buf_u32(b, w->version);
    if (!st) st = buf_u64(b, w->n_tensors);
    if (!st) st = buf_u64(b, w->n_kv);
    if (!st) st = tgx_buf_append(b, w->kvs.data, w->kvs.len);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors && !st; i++) {
        const wtensor *t = &w->tensors[i];
        st = buf_str(b, t->name, t->name_len);
        if (!st) st = buf_u32(b, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims && !st; d++) st = buf_u64(b, t->dims[d]);
        if (!st) st = buf_u32(b, t->type);
        if (!st) st = buf_u64(b, off);
        uint64_t padded = t->n_bytes + pad_to(t->n_bytes, w->alignment);
        if (padded < t->n_bytes || off > UINT64_MAX - padded)
            return tg_error_set(err, TG_ELIMIT, "gguf writer: tensor data exceeds 2^64 bytes");
        off += padded;
    }
    static const uint8_t zeros[64];
    for (uint64_t p = pad_to(b->len, w->alignment); p && !st;) {
        size_t k = p > sizeof zeros ? sizeof zeros : (size_t)p;
        st = tgx_buf_append(b, zeros, k);
        p -= k;
    }
    return st ? oom(err) : TG_OK;
}

typedef struct sink {
    tgx_buf *buf;
    FILE *f;
    const char *path;
} sink;

static tg_status sink_put(sink *s, const void *p, size_t n, tg_error *err) {
    if (s->buf) return tgx_buf_append(s->buf, p, n) ? oom(err) : TG_OK;
    if (n && fwrite(p, 1, n, s->f) != n)
        return tg_error_set(err, TG_EIO, "gguf writer: %s: %s", s->path, strerror(errno));
    return TG_OK;
}

static tg_status sink_zeros(sink *s, uint64_t n, tg_error *err) {
    static const uint8_t zeros[4096];
    while (n) {
        size_t k = n > sizeof zeros ? sizeof zeros : (size_t)n;
        tg_status st = sink_put(s, zeros, k, err);
        if (st) return st;
        n -= k;
    }
    return TG_OK;
}

static tg_status write_all(const tg_gguf_writer *w, sink *s, tg_error *err) {
    tgx_buf h;
    tgx_buf_init(&h, SIZE_MAX / 2);
    tg_status st = build_header(w, &h, err);
    if (!st) st = sink_put(s, h.data, h.len, err);
    tgx_buf_free(&h);
    for (size_t i = 0; i < w->n_tensors && !st; i++) {
        const wtensor *t = &w->tensors[i];
        if (t->n_bytes > SIZE_MAX)
            return tg_error_set(err, TG_ELIMIT, "gguf writer: tensor '%s' too large", t->name);
        st = t->data ? sink_put(s, t->data, (size_t)t->n_bytes, err) : sink_zeros(s, t->n_bytes, err);
        if (!st) st = sink_zeros(s, pad_to(t->n_bytes, w->alignment), err);
    }
    return st;
}

tg_status tg_gguf_writer_to_memory(const tg_gguf_writer *w, void **out, size_t *len, tg_error *err) {
    tgx_buf b;
    tgx_buf_init(&b, SIZE_MAX / 2);
    sink s = {.buf = &b};
    tg_status st = write_all(w, &s, err);
    if (st) {
        tgx_buf_free(&b);
        return st;
    }
    if (!b.data && tgx_buf_append(&b, "", 0)) return oom(err);
    *out = tgx_buf_detach(&b, len);
    return TG_OK;
}

tg_status tg_gguf_writer_to_file(const tg_gguf_writer *w, const char *path, tg_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return tg_error_set(err, TG_EIO, "gguf writer: %s: %s", path, strerror(errno));
    sink s = {.f = f, .path = path};
    tg_status st = write_all(w, &s, err);
    if (fclose(f) != 0 && !st) st = tg_error_set(err, TG_EIO, "gguf writer: %s: %s", path, strerror(errno));
    if (st) remove(path);
    return st;
}
