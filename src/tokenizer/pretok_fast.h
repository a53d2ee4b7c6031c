/*
 * tokenizer/pretok_fast.h: hand-written matchers for the pre-tokenizer regexes
 * that carry most traffic (GPT-2 / ByteLevel, cl100k / Llama-3, Qwen2/Qwen3,
 * o200k / gpt-oss, Tekken, and llama.cpp's ASCII-case rewrites of them).
 *
 * The Split pre-tokenizer's general path is PCRE2 (PCRE2_UTF|PCRE2_UCP, JIT).
 * When a tokenizer's pattern is one of these, the engine asks
 * tg__pretok_fast_lookup() for a kind and then calls tg__pretok_fast_next()
 * instead of pcre2_match(): same matches, byte for byte, at several times the
 * speed, and in linear time on every input. "Same" is checked by
 * tests/tokenizer/test_pretok_fast.c and fuzz/fuzz_pretok_fast.c against PCRE2
 * running the same pattern with its Unicode classes rewritten to Unicode 16
 * (regex_rewrite.h), which is what HF tokenizers 0.23.2 uses; the fast paths'
 * classes come from unicode_class.h, generated from the same Unicode 16 data.
 *
 * No allocation, no state: both functions are pure and thread-safe.
 */
#ifndef TG_TOKENIZER_PRETOK_FAST_H
#define TG_TOKENIZER_PRETOK_FAST_H

#include <stddef.h>
#include <stdint.h>

/* Returns a kind > 0 when pattern[0..len) (the regex source exactly as it is
 * after JSON unescaping, e.g. the Split "Regex" string of a tokenizer.json, or
 * ByteLevel's built-in GPT-2 regex) is one the fast path implements, else 0.
 * The comparison is byte-exact: a pattern that differs by one byte (even an
 * equivalent one) gets 0 and must take the general path. */
int tg__pretok_fast_lookup(const char *pattern, size_t len);

/* Finds the next match at or after pos in s[0..n) with exactly the semantics
 * of pcre2_match() of that kind's pattern (PCRE2_UTF|PCRE2_UCP) with start
 * offset pos: leftmost match, alternatives in order, greedy quantifiers with
 * PCRE2's backtracking. Returns 1 and sets [*mstart, *mend) (never empty), or 0
 * when there is no further match (always 0 when pos >= n or kind is unknown).
 * Requires s valid UTF-8 and pos on a code point boundary; on other input it
 * stays within s[0..n) and returns some non-empty match, but it is not PCRE2's
 * (PCRE2 would refuse such input). Time is linear in the bytes examined, which
 * is O(match end - pos) plus a constant per match. */
int tg__pretok_fast_next(int kind, const uint8_t *s, size_t n, size_t pos,
                         size_t *mstart, size_t *mend);

/* The pieces a Split (Isolated) on kind's pattern makes of s[pos..n): its
 * matches and the non-empty gaps between them, in order, as exactly what
 * repeated tg__pretok_fast_next() calls give (a gap before each match, one
 * after the last). Writes the end offset of each piece to ends[] (the first
 * starts at pos, each next one where the previous ends) and returns how many,
 * at most cap (cap >= 2; 0 when pos >= n or kind is unknown); call again from
 * the last end until it reaches n. Same input requirements as
 * tg__pretok_fast_next(). For the cl100k family, pieces of ASCII text are
 * found in one pass over a class table. */
size_t tg__pretok_fast_pieces(int kind, const uint8_t *s, size_t n, size_t pos, size_t *ends, size_t cap);

/* The pattern source of a kind (NUL-terminated), or NULL for kind < 1 or
 * kind > tg__pretok_fast_kinds(). For tests, benchmarks and diagnostics. */
const char *tg__pretok_fast_pattern(int kind);
/* Short name of a kind ("gpt2", "cl100k", "qwen2", "o200k", ...), or NULL. */
const char *tg__pretok_fast_name(int kind);
/* Number of kinds; valid kinds are 1..tg__pretok_fast_kinds(). */
int tg__pretok_fast_kinds(void);

#endif
