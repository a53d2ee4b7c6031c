/*
 * tokenizer/added_tokens.h: splitting a text at added-token matches
 * (added_tokens.c). The tg__added and tg__trie types are declared in
 * tokenizer_internal.h.
 */
#ifndef TG_TOKENIZER_ADDED_TOKENS_H
#define TG_TOKENIZER_ADDED_TOKENS_H

#include "tokenizer/tokenizer_internal.h"

/* Receives the pieces of a text in order: [start, end) with id = the added
 * token's id, or id = TG__NO_ID for text between matches. Ranges may overlap
 * when an rstrip consumed text a later match starts in (HF does the same). */
typedef tg_status (*tg__segment_fn)(void *ctx, size_t start, size_t end, uint32_t id);

/* Splits s[0..n) at the matches of trie (tokens of a). parse_special == 0
 * skips special tokens. Calls nothing for an empty text. */
tg_status tg__added_split(const tg__added *a, const tg__trie *trie, const uint8_t *s, size_t n,
                          int parse_special, tg__segment_fn fn, void *ctx);

/* Tests: makes trie's scan use its SSE2 (or portable) path even on an AVX2
 * CPU, so that both are checked on one machine. */
void tg__trie_no_avx2(tg__trie *trie);

#endif
