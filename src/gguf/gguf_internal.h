/*
 * gguf_internal.h: the reader's handle, shared by gguf_read.c (which builds it
 * once, when a file is opened) and gguf_query.c (which only reads it).
 *
 * After tg_gguf_open_* returns, the handle is immutable: every lookup index is
 * built while parsing, so concurrent readers of one handle are safe.
 *
 *  - kv[]: each metadata pair, its key and value as views into `data`.
 *  - tensors[]: tensor infos, names as views into `data`.
 *  - key_slots / tensor_slots: open-addressing hash tables of (index + 1),
 *    0 = empty, capacity a power of two at least twice the count.
 *  - arrays[] + elem_offs[]: for every non-empty array whose elements have no
 *    fixed size (strings, nested arrays), the byte offset of each element.
 *    arrays[] is sorted by `first` (the offset of the array's first element)
 *    because arrays are registered before their elements are parsed, and each
 *    array's offsets occupy elem_offs[start .. start + n).
 */
#ifndef TG_GGUF_INTERNAL_H
#define TG_GGUF_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "tokgate/gguf.h"
#include "util/file.h"

typedef struct tg__gguf_kv {
    tg_gguf_str key;
    tg_gguf_value val;
} tg__gguf_kv;

typedef struct tg__gguf_arr {
    uint64_t first; /* offset of the array's first element in data */
    uint64_t start; /* its first slot in elem_offs */
} tg__gguf_arr;

struct tg_gguf {
    const uint8_t *data;
    size_t size;
    tgx_map map; /* owned mapping (tg_gguf_open_file); map.data NULL otherwise */
    uint32_t version;
    uint64_t alignment;
    uint64_t header_end;  /* first byte after the tensor infos */
    uint64_t data_offset; /* header_end rounded up to the alignment */

    size_t n_kv;
    tg__gguf_kv *kv;
    size_t n_tensors;
    tg_gguf_tensor *tensors;

    uint32_t *key_slots;
    size_t key_cap;
    uint32_t *tensor_slots;
    size_t tensor_cap;

    tg__gguf_arr *arrays;
    size_t n_arrays, arrays_cap;
    uint64_t *elem_offs;
    size_t n_elem_offs, elem_offs_cap;
};

/* Little-endian loads; callers have checked the bytes are there. */
static inline uint16_t tg__le16(const uint8_t *p) {
    return (uint16_t)(p[0] | (uint16_t)(p[1] << 8));
}
static inline uint32_t tg__le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tg__le64(const uint8_t *p) {
    return (uint64_t)tg__le32(p) | (uint64_t)tg__le32(p + 4) << 32;
}

/* Bytes one scalar of `t` takes; 0 for strings, arrays and unknown types. */
static inline size_t tg__gguf_scalar_size(uint32_t t) {
    switch (t) {
    case TG_GGUF_UINT8: case TG_GGUF_INT8: case TG_GGUF_BOOL: return 1;
    case TG_GGUF_UINT16: case TG_GGUF_INT16: return 2;
    case TG_GGUF_UINT32: case TG_GGUF_INT32: case TG_GGUF_FLOAT32: return 4;
    case TG_GGUF_UINT64: case TG_GGUF_INT64: case TG_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* FNV-1a over the bytes of a name, for the key and tensor tables. */
static inline uint64_t tg__gguf_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static inline int tg__gguf_str_eq(tg_gguf_str a, const char *s, size_t n) {
    return a.len == n && (n == 0 || memcmp(a.ptr, s, n) == 0);
}

#endif
