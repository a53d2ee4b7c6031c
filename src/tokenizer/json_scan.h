/*
 * tokenizer/json_scan.h: a small, strict JSON scanner for the two big parts of
 * tokenizer.json (model.vocab and model.merges: 100k-500k entries each), which
 * a DOM parser like jansson takes hundreds of milliseconds to build.
 *
 * tg__json_locate validates the whole document (RFC 8259 grammar, strict
 * UTF-8, escapes, nesting limit), decodes the top-level model's "vocab" into a
 * string table and its "merges" into offset records, and reports the byte
 * spans of those two values; the loader blanks the spans out and hands the
 * rest (small) to jansson. Strings are unescaped (\uXXXX surrogate pairs
 * combined, lone surrogates refused, as jansson and serde_json do).
 * Documents above 2 GiB - 1 are refused (merge records hold 31-bit offsets).
 */
#ifndef TG_TOKENIZER_JSON_SCAN_H
#define TG_TOKENIZER_JSON_SCAN_H

#include <stddef.h>

#include "tokenizer/tokenizer_internal.h"

typedef struct tg__json_spans {
    size_t vocab_start, vocab_end;   /* [start, end) of model.vocab's value; 0,0 if absent */
    size_t merges_start, merges_end; /* same for model.merges */
    /* decoded while scanning (one pass); free with tg__json_spans_free */
    int have_vocab;
    tg__strtab vocab;                /* id -> token (count = largest id + 1), not indexed */
    tg__merge_ref *merges;           /* into the document, or merges_pool (TG__MERGE_POOL) */
    size_t n_merges;
    char *merges_pool;               /* strings of merges that held an escape, decoded */
} tg__json_spans;

/* Validates the document s[0..n) and decodes model.vocab and model.merges
 * into sp (the last occurrence wins, as in a JSON object; a later top-level
 * "model" replaces both). The merge records point into s, which must outlive
 * their use. On failure sp holds nothing. */
tg_status tg__json_locate(const char *s, size_t n, tg__json_spans *sp, tg_error *err);
void tg__json_spans_free(tg__json_spans *sp);

/* Validates the document s[0..n) as strictly and reports the span [*start,
 * *end) of the value of the top-level object's key `key` (the last one, its
 * name written without escapes; 0,0 when absent). Lets a caller hand a DOM
 * parser the document without a big value it does not use. Errors read
 * "not valid JSON: ... at byte offset N". */
tg_status tg__json_top_span(const char *s, size_t n, const char *key, size_t *start, size_t *end, tg_error *err);

#endif
