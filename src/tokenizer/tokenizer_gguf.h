/*
 * tokenizer/tokenizer_gguf.h: building a tokenizer from GGUF metadata
 * (tokenizer_gguf.c). tg_tokenizer_load calls tg__tokenizer_from_gguf_buf
 * when the file starts with "GGUF"; the rest of the library may call
 * tg__tokenizer_from_gguf on a handle it already holds (model loading).
 * Both leave the GGUF bytes untouched and the tokenizer owns copies.
 */
#ifndef TG_TOKENIZER_GGUF_H
#define TG_TOKENIZER_GGUF_H

#include <stddef.h>

#include "tokgate/error.h"
#include "tokgate/gguf.h"
#include "tokgate/tokenizer.h"

tg_status tg__tokenizer_from_gguf(const tg_gguf *g, tg_tokenizer **out, tg_error *err);
tg_status tg__tokenizer_from_gguf_buf(const void *data, size_t size, tg_tokenizer **out, tg_error *err);

#endif
