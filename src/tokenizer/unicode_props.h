/*
 * tokenizer/unicode_props.h: the few Unicode predicates the pipeline needs
 * beyond regexes, as Rust's char methods define them (HF is written in Rust):
 * char::is_whitespace (White_Space), char::is_alphanumeric, char::is_numeric,
 * punctuation (Unicode P* or ASCII punctuation). Categories come from
 * utf8proc (its Unicode version: see docs in normalizer.c).
 */
#ifndef TG_TOKENIZER_UNICODE_PROPS_H
#define TG_TOKENIZER_UNICODE_PROPS_H

#include <stdint.h>

int tg__is_whitespace(uint32_t cp);   /* Unicode White_Space */
int tg__is_alphanumeric(uint32_t cp); /* Alphabetic or N* (approx. Rust: L*, Nl, Other_Alphabetic via Mn/Mc) */
int tg__is_numeric(uint32_t cp);      /* Nd, Nl, No */
int tg__is_punctuation(uint32_t cp);  /* P* or ASCII punctuation */

#endif
