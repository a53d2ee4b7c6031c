/*
 * tokgate/tokenizer.h: exact tokenizers (HF tokenizer.json and GGUF vocabularies).
 *
 * A tg_tokenizer is immutable after loading and safe to share between threads
 * for encode/decode/count. Encoding matches HF tokenizers'
 * `encode(text, add_special_tokens=...)` token for token.
 *
 * Ownership: the caller owns the tokenizer (tg_tokenizer_free) and every
 * tg_tokens it passes in (tg_tokens_free).
 */
#ifndef TOKGATE_TOKENIZER_H
#define TOKGATE_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_tokenizer tg_tokenizer;

typedef struct tg_tokens {
    uint32_t *ids;
    size_t len;
    size_t cap;
} tg_tokens;

enum {
    TG_ENCODE_ADD_SPECIAL = 1u << 0,      /* post-processor adds BOS/EOS as configured */
    TG_ENCODE_NO_PARSE_SPECIAL = 1u << 1  /* added tokens in the text are plain text */
};

/* PATH: a tokenizer.json, a directory holding one (and tokenizer_config.json),
 * or a GGUF file. */
TG_API tg_status tg_tokenizer_load(const char *path, tg_tokenizer **out, tg_error *err);
TG_API void tg_tokenizer_free(tg_tokenizer *t);

TG_API tg_status tg_tokenizer_encode(const tg_tokenizer *t, const char *text, size_t len,
                                     unsigned flags, tg_tokens *out, tg_error *err);
TG_API tg_status tg_tokenizer_count(const tg_tokenizer *t, const char *text, size_t len,
                                    unsigned flags, size_t *count, tg_error *err);
TG_API void tg_tokens_free(tg_tokens *t);

#ifdef __cplusplus
}
#endif
#endif
