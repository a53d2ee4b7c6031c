/*
 * tokgate/tokenizer.h: exact tokenizers (HF tokenizer.json and GGUF vocabularies).
 *
 * A tg_tokenizer is immutable after loading (apart from an internal, bounded
 * pre-token cache that concurrent calls share without locks; it never
 * changes a result) and safe to share between threads for
 * encode/decode/count. Encoding matches HF tokenizers'
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

/* No such token. */
#define TG_NO_TOKEN UINT32_MAX

/* Loads from memory: the text of a tokenizer.json and, optionally (NULL), of
 * the tokenizer_config.json beside it. */
TG_API tg_status tg_tokenizer_load_buffer(const char *json, size_t len, const char *config_json,
                                          size_t config_len, tg_tokenizer **out, tg_error *err);

/* Decodes ids as HF's `decode(ids, skip_special_tokens)` does. On success
 * *text is a NUL-terminated malloc'd string of *len bytes (free with
 * tg_text_free); ids the tokenizer does not know are skipped, as HF does. */
TG_API tg_status tg_tokenizer_decode(const tg_tokenizer *t, const uint32_t *ids, size_t n,
                                     int skip_special, char **text, size_t *len, tg_error *err);
TG_API void tg_text_free(char *text);

/* Largest token id + 1 (model and added tokens). */
TG_API uint32_t tg_tokenizer_vocab_size(const tg_tokenizer *t);
/* The token's string exactly as the vocabulary holds it (byte-level or "▁"
 * form; not decoded): 1 and *piece, *len (owned by t), or 0 for an unknown id. */
TG_API int tg_tokenizer_token_piece(const tg_tokenizer *t, uint32_t id, const char **piece,
                                    size_t *len);
/* The id of a token string (added tokens first, then the vocabulary), or
 * TG_NO_TOKEN. */
TG_API uint32_t tg_tokenizer_token_id(const tg_tokenizer *t, const char *piece, size_t len);
/* 1 when id is an added token marked special. */
TG_API int tg_tokenizer_is_special(const tg_tokenizer *t, uint32_t id);
/* bos/eos from tokenizer_config.json (or GGUF), TG_NO_TOKEN when unknown. */
TG_API uint32_t tg_tokenizer_bos_id(const tg_tokenizer *t);
TG_API uint32_t tg_tokenizer_eos_id(const tg_tokenizer *t);
/* add_bos_token / add_eos_token from the config: 1, 0, or -1 when unset. */
TG_API int tg_tokenizer_add_bos(const tg_tokenizer *t);
TG_API int tg_tokenizer_add_eos(const tg_tokenizer *t);
/* All end-of-generation ids (eos, end-of-turn specials); *n receives the count. */
TG_API const uint32_t *tg_tokenizer_eog_ids(const tg_tokenizer *t, size_t *n);
TG_API int tg_tokenizer_is_eog(const tg_tokenizer *t, uint32_t id);
/* The chat template: name NULL gives the default one; NULL when absent. */
TG_API const char *tg_tokenizer_chat_template(const tg_tokenizer *t, const char *name);
/* The string of the bos/eos token (for chat templates), or NULL. */
TG_API const char *tg_tokenizer_bos_token(const tg_tokenizer *t);
TG_API const char *tg_tokenizer_eos_token(const tg_tokenizer *t);

/* Streaming detokenizer: feed ids one at a time; text comes out only when it
 * is final (complete UTF-8 that no later id can change, and no emoji
 * sequence a later id could extend: skin tone, ZWJ, FE0F, flag pair), so the
 * concatenation of everything returned by feed and finish equals
 * tg_tokenizer_decode of all the ids. The tokenizer must outlive it. */
typedef struct tg_detok tg_detok;
TG_API tg_status tg_detok_new(const tg_tokenizer *t, int skip_special, tg_detok **out, tg_error *err);
/* *text, *len: the new text (possibly empty), valid until the next call. */
TG_API tg_status tg_detok_feed(tg_detok *d, uint32_t id, const char **text, size_t *len,
                               tg_error *err);
/* Returns whatever is held (e.g. an incomplete UTF-8 tail, decoded lossily)
 * and resets the stream to its start. */
TG_API tg_status tg_detok_finish(tg_detok *d, const char **text, size_t *len, tg_error *err);
TG_API void tg_detok_free(tg_detok *d);

#ifdef __cplusplus
}
#endif
#endif
