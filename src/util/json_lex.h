/*
 * util/json_lex.h: the lexical rules of jansson's JSON grammar (load.c,
 * 2.14), shared by the hand-written strict readers on hot paths:
 * policy/req_scan.c (top-level spans of a request), template/chat_body.c
 * (a request parsed in place into template values) and
 * gateway/filters/usage.c (usage read from an answer). Each of those keeps
 * its own structure walk; the tokens come from here, so the three accept
 * exactly what json_loadb accepts (their differential tests and fuzz
 * targets compare them with jansson).
 *
 * Positions are byte offsets into s[0..n); every scanner takes *i at the
 * token's first byte and, on success, leaves it just past the token. On
 * failure it returns why (a static string) with *i at the offending byte.
 */
#ifndef TG_UTIL_JSON_LEX_H
#define TG_UTIL_JSON_LEX_H

#include <stddef.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* jansson's JSON_PARSER_MAX_DEPTH: nested containers, the top one included. */
#define TGX_JSON_MAX_DEPTH 2048

/* tgx_json_string's flags. */
#define TGX_JSON_ESC 1u /* the string held a backslash escape */
#define TGX_JSON_NUL 2u /* ... a \u0000 (jansson refuses it in a key, and anywhere without JSON_ALLOW_NUL) */

/* Returned by tgx_json_number when a copy for strtod could not be made. */
extern const char tgx_json_oom[];

/* Past JSON whitespace (space, tab, CR, LF) from s[i]. */
static inline size_t tgx_json_ws(const unsigned char *s, size_t i, size_t n) {
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    return i;
}

/* A string with its opening quote at s[*i]: its end found 16 bytes a step
 * (SSE2 on x86-64, a byte loop elsewhere, same answer), control bytes
 * refused, escapes checked (\u with paired surrogates), UTF-8 strict.
 * *flags: TGX_JSON_ESC / TGX_JSON_NUL. On success *i is past the closing quote. */
const char *tgx_json_string(const unsigned char *s, size_t n, size_t *i, unsigned *flags);

/* The end (past the closing quote) of the usual string (printable ASCII,
 * no escape) whose quote is s[i], read inline; 0 for anything else (an
 * escape, UTF-8, an error, fewer than 16 bytes in s: tgx_json_string
 * decides). 16 bytes a step (SSE2) to the first '"', '\\', control or
 * non-ASCII byte, the last step a load of s[n-16..n) with the bytes before
 * the string masked off; the string is plain when that byte is its closing
 * quote, as tgx_json_string's skim would find. test_json_lex and
 * fuzz_req_scan hold tgx_json_string_fast (below) equal to tgx_json_string. */
static inline size_t tgx_json_plain_end(const unsigned char *s, size_t n, size_t i) {
#if defined(__SSE2__)
    size_t j = i + 1; /* <= n: s[i] is the quote */
    if (n >= 16) {
        const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
        unsigned m = 0;
        while (n - j >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + j));
            m = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)), _mm_cmplt_epi8(x, sp)));
            if (m) break;
            j += 16;
        }
        if (!m) { /* the tail: the last 16 bytes, those before j dropped (a signed compare: 0x80 and above hit too) */
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
            m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)),
                                                         _mm_cmplt_epi8(x, sp))) >> (j - (n - 16));
        }
        j += (size_t)__builtin_ctz(m | 0x10000u); /* no hit: past n */
        if (j < n && s[j] == '"') return j + 1;
    }
#else
    (void)s, (void)n, (void)i;
#endif
    return 0;
}

/* tgx_json_string with tgx_json_plain_end tried first. */
static inline const char *tgx_json_string_fast(const unsigned char *s, size_t n, size_t *i, unsigned *flags) {
    size_t e = tgx_json_plain_end(s, n, *i);
    if (e) {
        *i = e;
        *flags = 0;
        return NULL;
    }
    return tgx_json_string(s, n, i, flags);
}

/* Decodes the escapes of a string body s[from..to) that tgx_json_string
 * accepted, in place; returns the decoded length (never more than to - from). */
size_t tgx_json_unescape(char *s, size_t from, size_t to);

/* A number at s[*i] ('-' or a digit): jansson's grammar (no leading zero, no
 * "1." or ".5"), an integer beyond long long refused, a real that overflows
 * refused (one that underflows is not). *real: it had a fraction or an
 * exponent; *dv, when real and dv is given, its value (strtod's, as jansson's). */
const char *tgx_json_number(const unsigned char *s, size_t n, size_t *i, int *real, double *dv);

/* true, false or null at s[*i]; *what: 1, 0 or -1. */
const char *tgx_json_literal(const unsigned char *s, size_t n, size_t *i, int *what);

/* jansson reads a NUL byte as the end of its input, but its lexer, ending a
 * number or a literal, steps back over that "end" without returning the
 * byte: one raw NUL right after a number or true/false/null is skipped.
 * Call it after those two tokens only; returns the new position. */
static inline size_t tgx_json_nul_after(const unsigned char *s, size_t i, size_t n) {
    return i < n && s[i] == '\0' ? i + 1 : i;
}

#endif
