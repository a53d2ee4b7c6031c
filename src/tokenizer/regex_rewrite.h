/*
 * tokenizer/regex_rewrite.h: make a PCRE2 pattern's Unicode classes those of
 * the reference (HF tokenizers 0.23.2, Oniguruma, Unicode 16.0.0).
 *
 * PCRE2 10.42 evaluates \p{..}, \s, \d, \w with its built-in Unicode 14.0
 * tables (and its own \s, \w definitions); the rewriter replaces each such
 * construct with a class spelled from tokgate's generated Unicode 16 data
 * (unicode_class.h), so PCRE2 matches exactly what HF matches:
 *
 *   \p{X} \P{X} \p{^X} \pX   X a general category (Lu, Ll, ..., Cn), a
 *                             one-letter union (L M N P S Z C), L& / LC, or the
 *                             long name (Letter, Uppercase_Letter, ...; case,
 *                             spaces, '_' and '-' ignored). \p{Any} is kept.
 *   \s \S     White_Space (Oniguruma; PCRE2 adds U+180E)
 *   \d \D     Nd (Oniguruma with Unicode; checked against HF)
 *   \w \W     Alphabetic, M, Nd, Pc, and U+00B2 U+00B3 U+00B9 U+00BC..U+00BE
 *             (Oniguruma's word class, as HF has it; no Join_Control)
 *
 * Outside a character class an item becomes [..] or [^..]; inside one its
 * members are inserted, and a negated item (\P{L}, \S, ...) inserts the
 * complement ranges. Classes are kept compact: a category whose PCRE2 14 set
 * is contained in the wanted Unicode 16 set stays \p{Xx}, plus the code points
 * Unicode 15/16 added; otherwise its Unicode 16 ranges are written out.
 * Surrogates (U+D800..DFFF, never in UTF-8 text) are left out of ranges.
 *
 * Case folding: in Oniguruma and PCRE2 a property ignores (?i) (measured with
 * HF: (?i)\p{Lu} matches Lu only), while explicit ranges would fold; so under
 * (?i) an item outside a class is wrapped in (?-i:..), and one inside a class
 * is refused (it cannot be separated from the class's other members).
 *
 * Everything else is copied byte for byte, with the escape rules of PCRE2:
 * \\p is a backslash then p, \Q..\E is literal, \cX takes one more byte, a ']'
 * first in a class is literal, (?x) comments are copied verbatim.
 *
 * Refused with TG_EUNSUPPORTED and a message naming the construct and its
 * offset: unknown properties (scripts, binary properties), POSIX classes
 * [:name:] (Unicode-table dependent), \b \B \X (they use PCRE2's tables),
 * a class item used as a range end point ([\d-z]),
 * groups nested deeper than 256.
 */
#ifndef TG_TOKENIZER_REGEX_REWRITE_H
#define TG_TOKENIZER_REGEX_REWRITE_H

#include <stddef.h>

#include "tokgate/error.h"
#include "util/buf.h"

/* Appends the rewritten pat[0..len) to out (not NUL-terminated). On error out
 * holds a partial pattern and err names the construct. TG_ENOMEM/TG_ELIMIT
 * when out's ceiling is reached. */
tg_status tg__regex_rewrite_unicode(const char *pat, size_t len, tgx_buf *out, tg_error *err);

#endif
