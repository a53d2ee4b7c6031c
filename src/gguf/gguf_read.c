/*
 * gguf_read.c: parses a GGUF v2/v3 header over a byte buffer into a tg_gguf
 * handle (see include/tokgate/gguf.h for the layout and the public contract).
 *
 * One forward pass, in file order: header, metadata pairs, tensor infos, then
 * the checks that need the whole picture (alignment, data bounds, overlap).
 * Before anything is allocated or skipped, each count or length is compared
 * with its TG_GGUF_MAX_* cap (TG_ELIMIT) and with the bytes left in the buffer
 * (TG_ECORRUPT), using the smallest size an entry can have, so a 40-byte file
 * cannot make us allocate for 2^60 entries. Products (count x element size,
 * dims product, tensor bytes, offset + bytes) are checked for overflow first.
 *
 * What is refused, after ggml's gguf.cpp, which is the format's reference:
 * bad magic; version 0, 1 (32-bit counts, long obsolete) or above 3, or a
 * byte-swapped version (a big-endian file); an unknown value type or array
 * element type; arrays nested deeper than TG_GGUF_MAX_DEPTH; duplicate keys
 * or tensor names; `general.alignment` that is not an integer power of two;
 * more than 4 dims, a dim above INT64_MAX, a dims product above INT64_MAX,
 * dims[0] not a whole number of blocks; a tensor offset not a multiple of
 * the alignment; tensor data outside the file or overlapping another tensor's.
 * Unlike gguf.cpp, tensors need not be packed in order, and a tensor of a ggml
 * type this table does not know is kept (n_bytes 0) rather than refused.
 *
 * Every error message reads "gguf: <where> at offset <N>: <what>", where
 * <where> is "header", "key #i 'name'" or "tensor #i 'name'" and N is the
 * byte offset of the offending field.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "gguf/gguf_internal.h"

#define MIN_KV_BYTES 13u     /* u64 key length + u32 type + 1-byte value */
#define MIN_TENSOR_BYTES 24u /* u64 name length + u32 n_dims + u32 type + u64 offset */
#define DEFAULT_ALIGNMENT 32u

typedef struct reader {
    tg_gguf *g;
    const uint8_t *d;
    size_t size;
    size_t pos;
    tg_error *err;
    char where[256]; /* "key #3 'general.name'" */
} reader;

/* Writes a name for a message: printable ASCII as is, other bytes as \xNN,
 * cut after 48 bytes with "...". */
static void quote_name(char *out, size_t cap, const char *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < cap; i++) {
        if (i == 48) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\'' && c != '\\') {
            out[o++] = (char)c;
        } else {
            snprintf(out + o, cap - o, "\\x%02X", c);
            o += 4;
        }
    }
    out[o] = '\0';
}

static tg_status fail(reader *r, tg_status code, size_t off, const char *fmt, ...) TG_PRINTF(4, 5);

static tg_status fail(reader *r, tg_status code, size_t off, const char *fmt, ...) {
    char what[TG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return tg_error_set(r->err, code, "gguf: %s at offset %zu: %s", r->where, off, what);
}
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic calls: tell it fail yields its code. */
#define fail(r, code, ...) ((void)fail((r), (code), __VA_ARGS__), (tg_status)(code))
#endif

static size_t left(const reader *r) { return r->size - r->pos; }

static tg_status need(reader *r, size_t n, const char *what) {
    if (n > left(r))
        return fail(r, TG_ECORRUPT, r->pos, "%s needs %zu bytes but only %zu are left", what, n, left(r));
    return TG_OK;
}

static tg_status read_u32(reader *r, const char *what, uint32_t *v) {
    tg_status st = need(r, 4, what);
    if (st) return st;
    *v = tg__le32(r->d + r->pos);
    r->pos += 4;
    return TG_OK;
}

static tg_status read_u64(reader *r, const char *what, uint64_t *v) {
    tg_status st = need(r, 8, what);
    if (st) return st;
    *v = tg__le64(r->d + r->pos);
    r->pos += 8;
    return TG_OK;
}

/* A gguf_string: u64 length, then that many bytes. */
static tg_status read_str(reader *r, const char *what, tg_gguf_str *s) {
    size_t at = r->pos;
    uint64_t len;
    tg_status st = read_u64(r, what, &len);
    if (st) return st;
    if (len > TG_GGUF_MAX_STRING)
        return fail(r, TG_ELIMIT, at, "%s length %llu exceeds the %u-byte limit", what,
                    (unsigned long long)len, TG_GGUF_MAX_STRING);
    if (len > left(r))
        return fail(r, TG_ECORRUPT, at, "%s length %llu exceeds the %zu bytes left", what,
                    (unsigned long long)len, left(r));
    s->ptr = (const char *)(r->d + r->pos);
    s->len = (size_t)len;
    r->pos += (size_t)len;
    return TG_OK;
}

static int valid_type(uint32_t t) { return t <= TG_GGUF_FLOAT64; }

/* Reserves n slots of elem_offs and an arrays[] entry for an array whose
 * elements start at `first`; *start receives the first slot. The caller has
 * checked that n elements of at least 8 bytes fit in the bytes left, so the
 * index never outgrows the file. */
static tg_status register_array(reader *r, uint64_t first, uint64_t n, size_t *start) {
    tg_gguf *g = r->g;
    if (g->n_arrays == g->arrays_cap) {
        size_t cap = g->arrays_cap ? g->arrays_cap * 2 : 8;
        tg__gguf_arr *p = realloc(g->arrays, cap * sizeof *p);
        if (!p) return tg_error_set(r->err, TG_ENOMEM, "gguf: out of memory indexing arrays");
        g->arrays = p;
        g->arrays_cap = cap;
    }
    if (n > g->elem_offs_cap - g->n_elem_offs) {
        size_t cap = g->elem_offs_cap ? g->elem_offs_cap : 64;
        while (cap - g->n_elem_offs < n) cap *= 2; /* n <= size / 8: cannot overflow */
        uint64_t *p = realloc(g->elem_offs, cap * sizeof *p);
        if (!p) return tg_error_set(r->err, TG_ENOMEM, "gguf: out of memory indexing arrays");
        g->elem_offs = p;
        g->elem_offs_cap = cap;
    }
    g->arrays[g->n_arrays].first = first;
    g->arrays[g->n_arrays].start = g->n_elem_offs;
    g->n_arrays++;
    *start = g->n_elem_offs;
    g->n_elem_offs += (size_t)n;
    return TG_OK;
}

static tg_status parse_value(reader *r, uint32_t type, unsigned depth, tg_gguf_value *out);

/* array = u32 elem_type | u64 n | n x value. `depth` counts this array. */
static tg_status parse_array(reader *r, unsigned depth, tg_gguf_value *out) {
    if (depth > TG_GGUF_MAX_DEPTH)
        return fail(r, TG_ELIMIT, r->pos, "arrays nested %u deep exceed the %d-level limit", depth,
                    TG_GGUF_MAX_DEPTH);
    size_t at = r->pos;
    uint32_t et;
    uint64_t n;
    tg_status st = read_u32(r, "array element type", &et);
    if (st) return st;
    if (!valid_type(et))
        return fail(r, TG_ECORRUPT, at, "unknown array element type %u (types are 0..12)", et);
    at = r->pos;
    if ((st = read_u64(r, "array length", &n))) return st;
    if (n > TG_GGUF_MAX_ARRAY)
        return fail(r, TG_ELIMIT, at, "array length %llu exceeds the %u-element limit",
                    (unsigned long long)n, TG_GGUF_MAX_ARRAY);
    size_t esize = tg__gguf_scalar_size(et);
    size_t min = esize ? esize : (et == TG_GGUF_STRING ? 8 : 12);
    if (n * min > left(r)) /* n <= 2^28, min <= 12: no overflow */
        return fail(r, TG_ECORRUPT, at, "array of %llu %s needs at least %llu bytes but only %zu are left",
                    (unsigned long long)n, tg_gguf_type_name((tg_gguf_type)et),
                    (unsigned long long)n * min, left(r));
    out->type = TG_GGUF_ARRAY;
    out->elem_type = (tg_gguf_type)et;
    out->n = n;
    out->p = r->d + r->pos;
    if (esize) {
        r->pos += (size_t)(n * esize);
    } else if (n > 0) {
        size_t start = 0;
        if ((st = register_array(r, r->pos, n, &start))) return st;
        for (uint64_t i = 0; i < n; i++) {
            r->g->elem_offs[start + i] = r->pos;
            tg_gguf_value ev;
            if ((st = parse_value(r, et, depth, &ev))) return st;
        }
    }
    out->end = r->d + r->pos;
    return TG_OK;
}

/* One value of `type` at the cursor; `depth` is the nesting of the array
 * holding it (0 at the top level). */
static tg_status parse_value(reader *r, uint32_t type, unsigned depth, tg_gguf_value *out) {
    memset(out, 0, sizeof *out);
    out->type = (tg_gguf_type)type;
    out->p = r->d + r->pos;
    if (type == TG_GGUF_STRING) {
        tg_gguf_str s;
        tg_status st = read_str(r, "string", &s);
        if (st) return st;
    } else if (type == TG_GGUF_ARRAY) {
        return parse_array(r, depth + 1, out);
    } else {
        size_t sz = tg__gguf_scalar_size(type);
        tg_status st = need(r, sz, tg_gguf_type_name((tg_gguf_type)type));
        if (st) return st;
        r->pos += sz;
    }
    out->end = r->d + r->pos;
    return TG_OK;
}

/* Hash-table insert; returns the index of an equal name already present, or
 * -1 after inserting `idx`. */
static long slot_insert(uint32_t *slots, size_t cap, tg_gguf_str name, size_t idx,
                        const tg_gguf_str *(*name_of)(const tg_gguf *, size_t), const tg_gguf *g) {
    size_t mask = cap - 1;
    size_t h = (size_t)tg__gguf_hash(name.ptr, name.len) & mask;
    for (;;) {
        uint32_t s = slots[h];
        if (s == 0) {
            slots[h] = (uint32_t)(idx + 1);
            return -1;
        }
        const tg_gguf_str *other = name_of(g, s - 1);
        if (tg__gguf_str_eq(*other, name.ptr, name.len)) return (long)(s - 1);
        h = (h + 1) & mask;
    }
}

static const tg_gguf_str *key_of(const tg_gguf *g, size_t i) { return &g->kv[i].key; }
static const tg_gguf_str *tensor_name_of(const tg_gguf *g, size_t i) { return &g->tensors[i].name; }

static size_t table_cap(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    return cap;
}

static void set_where(reader *r, const char *kind, size_t i, const tg_gguf_str *name) {
    if (name) {
        char q[200];
        quote_name(q, sizeof q, name->ptr, name->len);
        snprintf(r->where, sizeof r->where, "%s #%zu '%s'", kind, i, q);
    } else {
        snprintf(r->where, sizeof r->where, "%s #%zu", kind, i);
    }
}

/*
 * Reads the name of entity `kind` #i (a key or a tensor) into *name, makes
 * it part of r->where from then on, and enters it in the hash table `slots`.
 * A name already present is TG_ECORRUPT: "duplicate <label> (first <first>
 * #<index of the earlier one>)", located at the name's offset.
 */
static tg_status read_unique_name(reader *r, const char *kind, const char *label, const char *first, size_t i,
                                  tg_gguf_str *name, uint32_t *slots, size_t cap,
                                  const tg_gguf_str *(*name_of)(const tg_gguf *, size_t)) {
    set_where(r, kind, i, NULL);
    size_t at = r->pos;
    tg_status st = read_str(r, label, name);
    if (st) return st;
    set_where(r, kind, i, name);
    long dup = slot_insert(slots, cap, *name, i, name_of, r->g);
    if (dup >= 0) return fail(r, TG_ECORRUPT, at, "duplicate %s (first %s #%ld)", label, first, dup);
    return TG_OK;
}

static tg_status parse_header(reader *r, uint64_t *n_tensors, uint64_t *n_kv) {
    snprintf(r->where, sizeof r->where, "header");
    if (r->size < 4)
        return fail(r, TG_ECORRUPT, 0, "file is %zu bytes, too short for the \"GGUF\" magic", r->size);
    if (memcmp(r->d, "GGUF", 4) != 0)
        return fail(r, TG_ECORRUPT, 0, "bad magic %02X %02X %02X %02X (expected \"GGUF\")", r->d[0],
                    r->d[1], r->d[2], r->d[3]);
    r->pos = 4;
    uint32_t v;
    tg_status st = read_u32(r, "version", &v);
    if (st) return st;
    if (v == 1)
        return fail(r, TG_EUNSUPPORTED, 4, "GGUF version 1 (32-bit counts) is not supported; only 2 and 3 are");
    if (v != 0 && (v & 0xFFFFu) == 0)
        return fail(r, TG_EUNSUPPORTED, 4,
                    "version 0x%08X looks byte-swapped: big-endian GGUF files are not supported", v);
    if (v == 0 || v > 3)
        return fail(r, v == 0 ? TG_ECORRUPT : TG_EUNSUPPORTED, 4,
                    "GGUF version %u is not supported; only 2 and 3 are", v);
    r->g->version = v;
    size_t at = r->pos;
    if ((st = read_u64(r, "tensor count", n_tensors))) return st;
    if (*n_tensors > TG_GGUF_MAX_TENSORS)
        return fail(r, TG_ELIMIT, at, "tensor count %llu exceeds the %u limit",
                    (unsigned long long)*n_tensors, TG_GGUF_MAX_TENSORS);
    at = r->pos;
    if ((st = read_u64(r, "metadata key count", n_kv))) return st;
    if (*n_kv > TG_GGUF_MAX_KV)
        return fail(r, TG_ELIMIT, at, "metadata key count %llu exceeds the %u limit",
                    (unsigned long long)*n_kv, TG_GGUF_MAX_KV);
    uint64_t min = *n_kv * MIN_KV_BYTES + *n_tensors * MIN_TENSOR_BYTES;
    if (min > left(r))
        return fail(r, TG_ECORRUPT, at,
                    "%llu keys and %llu tensors need at least %llu bytes but only %zu are left",
                    (unsigned long long)*n_kv, (unsigned long long)*n_tensors, (unsigned long long)min,
                    left(r));
    return TG_OK;
}

static tg_status parse_kvs(reader *r, size_t n_kv) {
    tg_gguf *g = r->g;
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->key_cap = table_cap(n_kv);
    g->key_slots = calloc(g->key_cap, sizeof *g->key_slots);
    if (!g->kv || !g->key_slots) return tg_error_set(r->err, TG_ENOMEM, "gguf: out of memory for %zu keys", n_kv);
    for (size_t i = 0; i < n_kv; i++) {
        tg__gguf_kv *kv = &g->kv[i];
        tg_status st =
            read_unique_name(r, "key", "key", "defined as key", i, &kv->key, g->key_slots, g->key_cap, key_of);
        if (st) return st;
        g->n_kv = i + 1;
        size_t at = r->pos;
        uint32_t type;
        if ((st = read_u32(r, "value type", &type))) return st;
        if (!valid_type(type)) return fail(r, TG_ECORRUPT, at, "unknown value type %u (types are 0..12)", type);
        if ((st = parse_value(r, type, 0, &kv->val))) return st;
    }
    return TG_OK;
}

/* `general.alignment`: any integer type, a nonzero power of two. */
static tg_status parse_alignment(reader *r) {
    tg_gguf *g = r->g;
    g->alignment = DEFAULT_ALIGNMENT;
    long i = tg_gguf_find(g, "general.alignment");
    if (i < 0) return TG_OK;
    const tg__gguf_kv *kv = &g->kv[i];
    set_where(r, "key", (size_t)i, &kv->key);
    size_t at = (size_t)(kv->val.p - r->d);
    uint64_t a;
    int64_t neg;
    if (tg_gguf_value_u64(&kv->val, &a) != TG_OK) {
        if (tg_gguf_value_i64(&kv->val, &neg) == TG_OK)
            return fail(r, TG_ECORRUPT, at, "alignment %lld is negative", (long long)neg);
        return fail(r, TG_ECORRUPT, at, "alignment has type %s; expected an unsigned integer",
                    tg_gguf_type_name(kv->val.type));
    }
    if (a == 0 || (a & (a - 1)) != 0)
        return fail(r, TG_ECORRUPT, at, "alignment %llu is not a nonzero power of two", (unsigned long long)a);
    g->alignment = a;
    return TG_OK;
}

static tg_status parse_tensor(reader *r, size_t i) {
    tg_gguf *g = r->g;
    tg_gguf_tensor *t = &g->tensors[i];
    tg_status st = read_unique_name(r, "tensor", "tensor name", "used by tensor", i, &t->name, g->tensor_slots,
                                    g->tensor_cap, tensor_name_of);
    if (st) return st;
    g->n_tensors = i + 1;
    size_t at = r->pos;
    if ((st = read_u32(r, "n_dims", &t->n_dims))) return st;
    if (t->n_dims > TG_GGUF_MAX_DIMS)
        return fail(r, TG_ECORRUPT, at, "n_dims %u exceeds the %d dimensions ggml allows", t->n_dims,
                    TG_GGUF_MAX_DIMS);
    uint64_t nelem = 1;
    for (uint32_t d = 0; d < TG_GGUF_MAX_DIMS; d++) t->dims[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        at = r->pos;
        if ((st = read_u64(r, "dimension", &t->dims[d]))) return st;
        if (t->dims[d] > (uint64_t)INT64_MAX)
            return fail(r, TG_ECORRUPT, at, "dimension %u is %llu, above INT64_MAX", d,
                        (unsigned long long)t->dims[d]);
        if (t->dims[d] != 0 && nelem > (uint64_t)INT64_MAX / t->dims[d])
            return fail(r, TG_ECORRUPT, at, "element count overflows: dims product exceeds INT64_MAX at dimension %u", d);
        nelem *= t->dims[d];
    }
    at = r->pos;
    if ((st = read_u32(r, "ggml type", &t->type))) return st;
    uint32_t be, bb;
    t->n_bytes = 0;
    if (tg_ggml_type_block(t->type, &be, &bb) == TG_OK) {
        if (t->dims[0] % be != 0)
            return fail(r, TG_ECORRUPT, at, "dims[0] = %llu is not a multiple of the %u-element block of type %s",
                        (unsigned long long)t->dims[0], be, tg_ggml_type_name(t->type));
        uint64_t blocks = nelem / be;
        if (blocks > UINT64_MAX / bb)
            return fail(r, TG_ECORRUPT, at, "%llu blocks of %u bytes overflow a 64-bit size",
                        (unsigned long long)blocks, bb);
        t->n_bytes = blocks * bb;
    }
    at = r->pos;
    if ((st = read_u64(r, "tensor data offset", &t->offset))) return st;
    if (t->offset % g->alignment != 0)
        return fail(r, TG_ECORRUPT, at, "data offset %llu is not a multiple of the alignment %llu",
                    (unsigned long long)t->offset, (unsigned long long)g->alignment);
    return TG_OK;
}

typedef struct span {
    uint64_t off, len;
    size_t idx;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    if (x->idx != y->idx) return x->idx < y->idx ? -1 : 1;
    return 0;
}

/* Tensor data must lie in the data section (unless the caller said the buffer
 * holds only the metadata) and no two tensors' bytes may overlap. */
static tg_status check_data(reader *r, unsigned flags) {
    tg_gguf *g = r->g;
    uint64_t pad = (g->alignment - g->header_end % g->alignment) % g->alignment;
    if (pad > UINT64_MAX - g->header_end) {
        snprintf(r->where, sizeof r->where, "header");
        return fail(r, TG_ECORRUPT, (size_t)g->header_end, "alignment padding overflows");
    }
    g->data_offset = g->header_end + pad;
    if (g->n_tensors == 0) return TG_OK;
    int check_bounds = !(flags & TG_GGUF_OPEN_META_ONLY);
    if (check_bounds && g->data_offset > r->size) {
        snprintf(r->where, sizeof r->where, "header");
        return fail(r, TG_ECORRUPT, (size_t)g->header_end,
                    "tensor data would start at offset %llu, past the end of the %zu-byte file",
                    (unsigned long long)g->data_offset, r->size);
    }
    uint64_t avail = check_bounds ? r->size - g->data_offset : UINT64_MAX;
    span *s = malloc(g->n_tensors * sizeof *s);
    if (!s) return tg_error_set(r->err, TG_ENOMEM, "gguf: out of memory checking tensor data");
    tg_status st = TG_OK;
    for (size_t i = 0; i < g->n_tensors && !st; i++) {
        const tg_gguf_tensor *t = &g->tensors[i];
        s[i].off = t->offset;
        s[i].len = t->n_bytes;
        s[i].idx = i;
        if (t->offset > avail || t->n_bytes > avail - t->offset) {
            set_where(r, "tensor", i, &t->name);
            uint64_t at = t->offset > UINT64_MAX - g->data_offset ? g->data_offset : g->data_offset + t->offset;
            st = fail(r, TG_ECORRUPT, (size_t)at,
                      "data [%llu, %llu) of the data section lies outside its %llu bytes",
                      (unsigned long long)t->offset, (unsigned long long)t->offset + t->n_bytes,
                      (unsigned long long)avail);
        }
    }
    if (!st) qsort(s, g->n_tensors, sizeof *s, span_cmp);
    /* After sorting, an overlap shows between some tensor and the furthest
     * end seen so far; zero-byte tensors take no room and overlap nothing. */
    uint64_t far_end = 0;
    size_t far_idx = 0;
    for (size_t k = 0; k < g->n_tensors && !st; k++) {
        if (s[k].len == 0) continue;
        if (s[k].off < far_end) {
            const tg_gguf_tensor *t = &g->tensors[s[k].idx];
            set_where(r, "tensor", s[k].idx, &t->name);
            char q[200];
            quote_name(q, sizeof q, g->tensors[far_idx].name.ptr, g->tensors[far_idx].name.len);
            st = fail(r, TG_ECORRUPT, (size_t)(g->data_offset + s[k].off),
                      "data [%llu, %llu) overlaps tensor #%zu '%s' ending at %llu", (unsigned long long)s[k].off,
                      (unsigned long long)(s[k].off + s[k].len), far_idx, q, (unsigned long long)far_end);
        }
        if (s[k].off + s[k].len > far_end) {
            far_end = s[k].off + s[k].len;
            far_idx = s[k].idx;
        }
    }
    free(s);
    return st;
}

static tg_status parse(tg_gguf *g, unsigned flags, tg_error *err) {
    reader r = {.g = g, .d = g->data, .size = g->size, .err = err};
    uint64_t n_tensors, n_kv;
    tg_status st = parse_header(&r, &n_tensors, &n_kv);
    if (!st) st = parse_kvs(&r, (size_t)n_kv);
    if (!st) st = parse_alignment(&r);
    if (st) return st;
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
    g->tensor_cap = table_cap((size_t)n_tensors);
    g->tensor_slots = calloc(g->tensor_cap, sizeof *g->tensor_slots);
    if (!g->tensors || !g->tensor_slots)
        return tg_error_set(err, TG_ENOMEM, "gguf: out of memory for %llu tensors", (unsigned long long)n_tensors);
    for (size_t i = 0; i < n_tensors; i++)
        if ((st = parse_tensor(&r, i))) return st;
    g->header_end = r.pos;
    return check_data(&r, flags);
}

tg_status tg_gguf_open_buffer_ex(const void *data, size_t size, unsigned flags, tg_gguf **out, tg_error *err) {
    if (!out || (!data && size)) return tg_error_set(err, TG_EINVAL, "gguf: no buffer given");
    tg_gguf *g = calloc(1, sizeof *g);
    if (!g) return tg_error_set(err, TG_ENOMEM, "gguf: out of memory");
    g->data = data ? data : (const uint8_t *)"";
    g->size = size;
    tg_status st = parse(g, flags, err);
    if (st) {
        tg_gguf_close(g);
        return st;
    }
    *out = g;
    return TG_OK;
}

tg_status tg_gguf_open_buffer(const void *data, size_t size, tg_gguf **out, tg_error *err) {
    return tg_gguf_open_buffer_ex(data, size, 0, out, err);
}

tg_status tg_gguf_open_file(const char *path, tg_gguf **out, tg_error *err) {
    if (!path || !out) return tg_error_set(err, TG_EINVAL, "gguf: no path given");
    tgx_map m = {0};
    tg_status st = tgx_map_file(path, &m, err);
    if (st) return st;
    tg_gguf *g = NULL;
    st = tg_gguf_open_buffer_ex(m.data, m.size, 0, &g, err);
    if (st) {
        tgx_unmap(&m);
        return tg_error_wrap(err, "%s", path);
    }
    g->map = m;
    *out = g;
    return TG_OK;
}

void tg_gguf_close(tg_gguf *g) {
    if (!g) return;
    free(g->kv);
    free(g->tensors);
    free(g->key_slots);
    free(g->tensor_slots);
    free(g->arrays);
    free(g->elem_offs);
    tgx_unmap(&g->map);
    free(g);
}
