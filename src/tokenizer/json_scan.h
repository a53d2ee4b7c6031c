/*
 * tokenizer/json_scan.h: a small, strict JSON scanner for the two big parts of
 * tokenizer.json (model.vocab and model.merges: 100k-500k entries each), which
 * a DOM parser like jansson takes hundreds of milliseconds to build.
 *
 * tg__json_locate validates the whole document (RFC 8259 grammar, strict
 * UTF-8, escapes, nesting limit) and reports the byte spans of the top-level
 * model's "vocab" and "merges" values; the loader blanks those spans out and
 * hands the rest (small) to jansson, then decodes the spans here straight into
 * the vocabulary and merge arrays. Strings are unescaped (\uXXXX surrogate
 * pairs combined, lone surrogates refused, as jansson and serde_json do).
 */
#ifndef TG_TOKENIZER_JSON_SCAN_H
#define TG_TOKENIZER_JSON_SCAN_H

#include <stddef.h>

#include "tokenizer/tokenizer_internal.h"

typedef struct tg__json_spans {
    size_t vocab_start, vocab_end;   /* [start, end) of model.vocab's value; 0,0 if absent */
    size_t merges_start, merges_end; /* same for model.merges */
    /* decoded while scanning (one pass); free with tg__json_spans_free */
    tg__bytes *vocab;
    size_t n_vocab;
    char *vocab_pool;
    tg__bytes *merge_left, *merge_right;
    size_t n_merges;
    char *merges_pool;
} tg__json_spans;

/* Validates the document and decodes model.vocab and model.merges into sp
 * (the last occurrence wins, as in a JSON object). */
tg_status tg__json_locate(const char *s, size_t n, tg__json_spans *sp, tg_error *err);
void tg__json_spans_free(tg__json_spans *sp);

/* Decoded vocabulary: vocab[id] for id < *count (holes have p == NULL);
 * strings live in *pool (free both with free()). */
tg_status tg__json_vocab(const char *s, size_t n, tg__bytes **vocab, size_t *count, char **pool,
                         size_t *consumed, tg_error *err);

/* Decoded merges ("a b" strings, "#version" lines skipped, or [a, b] pairs). */
tg_status tg__json_merges(const char *s, size_t n, tg__bytes **left, tg__bytes **right,
                          size_t *count, char **pool, size_t *consumed, tg_error *err);

#endif
