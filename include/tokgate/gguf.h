/*
 * tokgate/gguf.h: a bounds-checked reader for GGUF files, versions 2 and 3.
 *
 * On-disk layout (little-endian; ggml docs/gguf.md):
 *
 *   magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
 *   n_kv     x { gguf_string key | u32 type | value }
 *   n_tensors x { gguf_string name | u32 n_dims | u64 dims[n_dims]
 *                 | u32 ggml_type | u64 offset }
 *   padding to `general.alignment` (default 32) | tensor data
 *
 *   gguf_string = u64 len | len bytes (not NUL-terminated)
 *   value       = scalar | gguf_string | array
 *   array       = u32 elem_type | u64 n | n x value   (arrays may nest)
 *
 * The reader parses the whole header once, over a byte buffer, and keeps an
 * index of where each value lies; it never copies strings. Every count and
 * length is capped (TG_GGUF_MAX_*) and compared with the bytes left before
 * anything is allocated; products are checked for overflow; duplicate keys and
 * tensor names are refused; a corrupt file gets TG_ECORRUPT (or TG_ELIMIT)
 * with a message naming the byte offset and what was wrong there.
 *
 * Ownership: tg_gguf_open_buffer borrows `data`, which must outlive the
 * handle; tg_gguf_open_file maps the file and the handle owns the mapping.
 * Strings returned point into that memory and live as long as the handle.
 */
#ifndef TOKGATE_GGUF_H
#define TOKGATE_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_GGUF_MAX_KV          (1u << 20)   /* metadata pairs */
#define TG_GGUF_MAX_TENSORS     (1u << 20)
#define TG_GGUF_MAX_STRING      (1u << 30)   /* bytes in one string */
#define TG_GGUF_MAX_ARRAY       (1u << 28)   /* elements in one array */
#define TG_GGUF_MAX_DEPTH       8            /* arrays of arrays */
#define TG_GGUF_MAX_DIMS        4

typedef enum tg_gguf_type {
    TG_GGUF_UINT8 = 0, TG_GGUF_INT8 = 1, TG_GGUF_UINT16 = 2, TG_GGUF_INT16 = 3,
    TG_GGUF_UINT32 = 4, TG_GGUF_INT32 = 5, TG_GGUF_FLOAT32 = 6, TG_GGUF_BOOL = 7,
    TG_GGUF_STRING = 8, TG_GGUF_ARRAY = 9, TG_GGUF_UINT64 = 10, TG_GGUF_INT64 = 11,
    TG_GGUF_FLOAT64 = 12
} tg_gguf_type;

typedef struct tg_gguf tg_gguf;

/* A string inside the file: bytes and length, not NUL-terminated. */
typedef struct tg_gguf_str {
    const char *ptr;
    size_t len;
} tg_gguf_str;

/* A value inside the file. For arrays, `n` and `elem_type` describe the
 * elements; element access goes through tg_gguf_array_*. For scalars, p..end
 * are the value's little-endian bytes; for strings, the u64 length prefix and
 * the bytes (tg_gguf_value_str gives the string); for arrays, the elements
 * after the array's type and count. */
typedef struct tg_gguf_value {
    tg_gguf_type type;
    tg_gguf_type elem_type; /* arrays only */
    uint64_t n;             /* arrays only: element count */
    const uint8_t *p;       /* the value's (or the array's first element's) bytes */
    const uint8_t *end;     /* one past its last byte */
} tg_gguf_value;

typedef struct tg_gguf_tensor {
    tg_gguf_str name;
    uint32_t n_dims;
    uint64_t dims[TG_GGUF_MAX_DIMS];
    uint32_t type;      /* ggml_type */
    uint64_t offset;    /* relative to the data section */
    uint64_t n_bytes;   /* from the type's block size; 0 when the type is unknown */
} tg_gguf_tensor;

TG_API tg_status tg_gguf_open_buffer(const void *data, size_t size, tg_gguf **out, tg_error *err);
/* As tg_gguf_open_buffer, with flags. TG_GGUF_OPEN_META_ONLY: `data` may be
 * only a prefix of the file holding the metadata and tensor infos (e.g. the
 * first megabytes of a model); tensor data is not required to lie inside it
 * (offsets, alignment and overlap are still checked). Without it, every
 * tensor's bytes must lie inside `data`. */
#define TG_GGUF_OPEN_META_ONLY 1u
TG_API tg_status tg_gguf_open_buffer_ex(const void *data, size_t size, unsigned flags, tg_gguf **out,
                                        tg_error *err);
TG_API tg_status tg_gguf_open_file(const char *path, tg_gguf **out, tg_error *err);
TG_API void tg_gguf_close(tg_gguf *g);

TG_API uint32_t tg_gguf_version(const tg_gguf *g);
TG_API uint64_t tg_gguf_alignment(const tg_gguf *g);
/* Start of tensor data in the file: the end of the tensor infos rounded up to
 * the alignment (with no tensors it may lie at or past the end of the file). */
TG_API uint64_t tg_gguf_data_offset(const tg_gguf *g);

/* Metadata. Keys are compared byte for byte. */
TG_API size_t tg_gguf_kv_count(const tg_gguf *g);
TG_API tg_gguf_str tg_gguf_kv_key(const tg_gguf *g, size_t i);
TG_API tg_gguf_value tg_gguf_kv_value(const tg_gguf *g, size_t i);
/* Index of key, or -1 when absent. */
TG_API long tg_gguf_find(const tg_gguf *g, const char *key);

/* Typed lookups by key. TG_ENOTFOUND when absent, TG_EINVAL (message naming
 * the key and its actual type) when the type does not fit. Integer getters
 * accept any integer type whose value fits; get_f64 accepts floats and ints. */
TG_API tg_status tg_gguf_get_u64(const tg_gguf *g, const char *key, uint64_t *out, tg_error *err);
TG_API tg_status tg_gguf_get_i64(const tg_gguf *g, const char *key, int64_t *out, tg_error *err);
TG_API tg_status tg_gguf_get_f64(const tg_gguf *g, const char *key, double *out, tg_error *err);
TG_API tg_status tg_gguf_get_bool(const tg_gguf *g, const char *key, int *out, tg_error *err);
TG_API tg_status tg_gguf_get_str(const tg_gguf *g, const char *key, tg_gguf_str *out, tg_error *err);
TG_API tg_status tg_gguf_get_array(const tg_gguf *g, const char *key, tg_gguf_value *out, tg_error *err);

/* Scalar conversion of a value (same rules as the typed getters); TG_EINVAL
 * when the type does not fit or the value is out of range. */
TG_API tg_status tg_gguf_value_u64(const tg_gguf_value *v, uint64_t *out);
TG_API tg_status tg_gguf_value_i64(const tg_gguf_value *v, int64_t *out);
TG_API tg_status tg_gguf_value_f64(const tg_gguf_value *v, double *out);
TG_API tg_status tg_gguf_value_bool(const tg_gguf_value *v, int *out); /* BOOL only; nonzero byte = 1 */
TG_API tg_status tg_gguf_value_str(const tg_gguf_value *v, tg_gguf_str *out); /* STRING only */

/* Array elements; `arr` must come from this handle. Fixed-size element types
 * are O(1). For strings and nested arrays the handle keeps an offset index,
 * built when the file is opened (so the handle stays immutable and may be
 * read from several threads): a binary search over the file's string/nested
 * arrays (a handful in real files), then O(1). TG_EINVAL when `i` >= n, the
 * value is not an array, or (array_str) its elements are not strings. */
TG_API tg_status tg_gguf_array_get(const tg_gguf *g, const tg_gguf_value *arr, uint64_t i,
                                   tg_gguf_value *out);
TG_API tg_status tg_gguf_array_str(const tg_gguf *g, const tg_gguf_value *arr, uint64_t i,
                                   tg_gguf_str *out);

/* Tensors. */
TG_API size_t tg_gguf_tensor_count(const tg_gguf *g);
TG_API const tg_gguf_tensor *tg_gguf_tensor_at(const tg_gguf *g, size_t i);
TG_API long tg_gguf_find_tensor(const tg_gguf *g, const char *name);

/* ggml type facts: block size (elements) and bytes per block; 0 when unknown. */
TG_API const char *tg_ggml_type_name(uint32_t type);
TG_API tg_status tg_ggml_type_block(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes);

TG_API const char *tg_gguf_type_name(tg_gguf_type t);

#ifdef __cplusplus
}
#endif
#endif
