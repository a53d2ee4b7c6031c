/*
 * tokgate/gguf_write.h: builds GGUF files (v3 by default, or v2), the inverse
 * of tokgate/gguf.h. Tests use it to make fixtures; the project uses it to
 * write a tiny random-weight model that llama-server can serve.
 *
 *   tg_gguf_writer *w = tg_gguf_writer_new();
 *   tg_gguf_add_str(w, "general.architecture", "qwen2", 5, &err);
 *   tg_gguf_add_tensor(w, "token_embd.weight", 2, dims, 0, data, nbytes, &err);
 *   tg_gguf_writer_to_file(w, "model.gguf", &err);
 *   tg_gguf_writer_free(w);
 *
 * Metadata pairs are written in the order added; adding a key twice fails
 * with TG_EINVAL. The alignment is 32 unless a uint32 `general.alignment`
 * pair (a nonzero power of two, at most TG_GGUF_WRITE_MAX_ALIGNMENT) says
 * otherwise. Tensors are laid out in the
 * order added, each at the next multiple of the alignment, and padded, as
 * ggml's gguf writer does. The writer refuses what the reader or llama.cpp
 * would refuse (duplicate names, names of 64 bytes or more, more than 4 dims,
 * a dims[0] that is not whole blocks, unknown ggml types, a data size that
 * does not match the shape).
 *
 * Ownership: the writer copies keys, names and metadata values. Tensor data
 * is borrowed: the pointer given to tg_gguf_add_tensor must stay valid until
 * the writer is written out (NULL writes zeros). Output of
 * tg_gguf_writer_to_memory is malloc'd and belongs to the caller (free()).
 */
#ifndef TOKGATE_GGUF_WRITE_H
#define TOKGATE_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"
#include "tokgate/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_gguf_writer tg_gguf_writer;

/* The reader accepts any power-of-two alignment; the writer caps it, as each
 * pad is written out (a 2^30 alignment would mean a 1 GiB header pad). */
#define TG_GGUF_WRITE_MAX_ALIGNMENT 65536u

/* NULL when out of memory. */
TG_API tg_gguf_writer *tg_gguf_writer_new(void);
TG_API void tg_gguf_writer_free(tg_gguf_writer *w);
/* 3 (default) or 2; the two share one layout. */
TG_API tg_status tg_gguf_writer_set_version(tg_gguf_writer *w, uint32_t version, tg_error *err);

/* Scalars. Keys are NUL-terminated here; they are stored as given. */
TG_API tg_status tg_gguf_add_u8(tg_gguf_writer *w, const char *key, uint8_t v, tg_error *err);
TG_API tg_status tg_gguf_add_i8(tg_gguf_writer *w, const char *key, int8_t v, tg_error *err);
TG_API tg_status tg_gguf_add_u16(tg_gguf_writer *w, const char *key, uint16_t v, tg_error *err);
TG_API tg_status tg_gguf_add_i16(tg_gguf_writer *w, const char *key, int16_t v, tg_error *err);
TG_API tg_status tg_gguf_add_u32(tg_gguf_writer *w, const char *key, uint32_t v, tg_error *err);
TG_API tg_status tg_gguf_add_i32(tg_gguf_writer *w, const char *key, int32_t v, tg_error *err);
TG_API tg_status tg_gguf_add_f32(tg_gguf_writer *w, const char *key, float v, tg_error *err);
TG_API tg_status tg_gguf_add_bool(tg_gguf_writer *w, const char *key, int v, tg_error *err);
TG_API tg_status tg_gguf_add_u64(tg_gguf_writer *w, const char *key, uint64_t v, tg_error *err);
TG_API tg_status tg_gguf_add_i64(tg_gguf_writer *w, const char *key, int64_t v, tg_error *err);
TG_API tg_status tg_gguf_add_f64(tg_gguf_writer *w, const char *key, double v, tg_error *err);
/* A string of `len` bytes (may hold NUL bytes). */
TG_API tg_status tg_gguf_add_str(tg_gguf_writer *w, const char *key, const char *s, size_t len, tg_error *err);

/* An array of a fixed-size element type from a C array of the matching host
 * type (uint8_t, int8_t, uint16_t, ..., float, double; bool as uint8_t 0/1). */
TG_API tg_status tg_gguf_add_array(tg_gguf_writer *w, const char *key, tg_gguf_type elem_type,
                                   const void *elems, size_t n, tg_error *err);
TG_API tg_status tg_gguf_add_str_array(tg_gguf_writer *w, const char *key, const tg_gguf_str *strs,
                                       size_t n, tg_error *err);
/* A value already encoded as GGUF bytes (for an array: u32 elem_type, u64 n,
 * elements), e.g. arrays of arrays. It is checked with the reader first:
 * TG_ECORRUPT/TG_ELIMIT when the bytes are not exactly one valid value. */
TG_API tg_status tg_gguf_add_raw(tg_gguf_writer *w, const char *key, tg_gguf_type type, const void *bytes,
                                 size_t len, tg_error *err);
/* Copies pair `i` of a reader handle, value and all nested arrays, byte for
 * byte. */
TG_API tg_status tg_gguf_add_kv_from(tg_gguf_writer *w, const tg_gguf *src, size_t i, tg_error *err);

/* A tensor: `n_dims` (1..4) dims, innermost first as in ggml; `type` a ggml
 * type id; `data` of exactly `n_bytes` (the size the shape and type imply),
 * borrowed until the writer is written, or NULL for zeros. */
TG_API tg_status tg_gguf_add_tensor(tg_gguf_writer *w, const char *name, uint32_t n_dims,
                                    const uint64_t *dims, uint32_t type, const void *data, uint64_t n_bytes,
                                    tg_error *err);

TG_API tg_status tg_gguf_writer_to_memory(const tg_gguf_writer *w, void **out, size_t *len, tg_error *err);
/* Writes to `path` (created or truncated); a partial file is removed on error. */
TG_API tg_status tg_gguf_writer_to_file(const tg_gguf_writer *w, const char *path, tg_error *err);

/* Writes a small random-weight `qwen2` model that llama.cpp can load and
 * serve: 2 layers, n_embd 64, 4 heads, 2 KV heads, FFN 128, context 4096,
 * F32 tensors, an untied output.weight, and every `tokenizer.*` key of
 * `vocab_src` (a vocab-only GGUF such as llama.cpp's ggml-vocab-qwen2.gguf).
 * The same seed gives the same file. See src/gguf/tiny_model.c. */
TG_API tg_status tg_gguf_write_tiny_model(const tg_gguf *vocab_src, const char *out_path, uint64_t seed,
                                          tg_error *err);
/* As above; a non-NULL `chat_template` replaces (or supplies) the source's
 * tokenizer.chat_template, e.g. a template from llama.cpp's models/templates. */
TG_API tg_status tg_gguf_write_tiny_model_ex(const tg_gguf *vocab_src, const tg_gguf_str *chat_template,
                                             const char *out_path, uint64_t seed, tg_error *err);

#ifdef __cplusplus
}
#endif
#endif
