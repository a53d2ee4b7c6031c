/*
 * util/utf8.h: strict UTF-8 decoding and encoding (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). Model text is bytes with a length, never
 * a C string.
 */
#ifndef TG_UTIL_UTF8_H
#define TG_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one code point at s[0..n). Returns its byte length (1-4), or 0 when
 * the bytes there are not valid UTF-8 (or n == 0). */
size_t tgx_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp);
/* Encodes cp (<= 0x10FFFF, not a surrogate) into out; returns 1-4, 0 if invalid. */
size_t tgx_utf8_encode(uint32_t cp, char out[4]);
/* 1 when s[0..n) is valid UTF-8; else 0 and *bad_off is the first bad byte. */
int tgx_utf8_valid(const uint8_t *s, size_t n, size_t *bad_off);
/* Length of a sequence by its lead byte (1-4), 0 for a continuation/invalid lead. */
size_t tgx_utf8_seqlen(uint8_t lead);

#endif
