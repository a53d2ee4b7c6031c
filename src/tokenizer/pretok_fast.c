/*
 * tokenizer/pretok_fast.c: the pre-tokenizer regex fast paths (see
 * pretok_fast.h for the contract). Three families cover every pattern here:
 *
 *   gpt2    'CONTR| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)[|\s+]
 *   cl100k  CONTR|[^\r\n\p{L}\p{N}]?W+|\p{N}{1,D}| ?[^\sW\p{N}]+[\r\n]*
 *           |\s*[\r\n]+|\s+(?!\S)|\s+       (W = \p{L}, or [\p{L}\p{M}] for Qwen3.5)
 *   o200k   [^\r\n\p{L}\p{N}]?UP*LO+CONTR?|[^\r\n\p{L}\p{N}]?UP+LO*CONTR?
 *           |\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
 *           UP = [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}], LO = [\p{Ll}\p{Lm}\p{Lo}\p{M}]
 *
 * with CONTR = 's|'t|'re|'ve|'m|'ll|'d in one of three spellings: exact
 * (GPT-2), (?i:...) (caseless with PCRE2_UCP: 's also matches U+017F LATIN
 * SMALL LETTER LONG S; no other fold reaches these letters), or llama.cpp's
 * '[sS]|... (ASCII case only), and D = 1, 3 or unbounded.
 *
 * Each alternative is computed as PCRE2 would find it: the first path of the
 * backtracking order that reaches the end of the alternative. Nothing follows
 * an alternative, so that first path is all that matters, and it can be
 * computed from maximal runs without backtracking:
 *  - \s+(?!\S) over a whitespace run [p,q): q when q == n; else, if the run
 *    holds two or more characters, the start of its last character (the
 *    lookahead then sees whitespace); else no match.
 *  - \s*[\r\n]+ over [p,q): the end of the last \r or \n inside the run.
 *  - UP*LO+ from x: take the maximal UP run [x,k); if the character at k is
 *    in LO, the match is [x, end of the LO run from k); otherwise the giving
 *    back stops at the last character of [x,k) that is also in LO (Lm, Lo, M),
 *    and the match ends right after it; none: no match.
 *  - X? prefixes are tried taken first, then not taken.
 * Each match therefore scans the runs at its position a bounded number of
 * times: linear time, whatever the input (a megabyte of spaces, digits,
 * letters, apostrophes or newlines is one or two passes).
 */
#include "tokenizer/pretok_fast.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tokenizer/unicode_class.h"

enum { FAM_GPT2 = 1, FAM_CL100K, FAM_O200K };
enum { CONTR_NONE = 0, CONTR_EXACT, CONTR_CASELESS, CONTR_ASCII };

typedef struct {
    const char *name;
    const char *pattern;
    uint8_t family;
    uint8_t contr;
    uint8_t digits;  /* longest \p{N} run one match takes; 0 = unbounded */
    uint8_t ws_tail; /* gpt2 only: the pattern ends with |\s+ */
    uint8_t word;    /* cl100k only: the word class, \p{L} or [\p{L}\p{M}] */
} pretok_spec;

/* Pattern sources, exactly as tokenizer.json files hold them after JSON
 * unescaping, or as llama.cpp (src/llama-vocab.cpp) spells its rewrites. */
#define P_CONTR_I "(?i:'s|'t|'re|'ve|'m|'ll|'d)"
#define P_CONTR_A "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define P_CL_TAIL " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define P_Q35_TAIL " ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define P_UP "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]"
#define P_LO "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]"
#define P_PRE "[^\\r\\n\\p{L}\\p{N}]?"
#define P_O2_TAIL " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const pretok_spec SPECS[] = {
    {"gpt2", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
     FAM_GPT2, CONTR_EXACT, 0, 1, TG_UC_L},
    {"gpt2-llamacpp", "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
     FAM_GPT2, CONTR_EXACT, 0, 0, TG_UC_L},
    {"cl100k", P_CONTR_I "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|" P_CL_TAIL,
     FAM_CL100K, CONTR_CASELESS, 3, 0, TG_UC_L},
    {"cl100k-llamacpp", P_CONTR_A "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|" P_CL_TAIL,
     FAM_CL100K, CONTR_ASCII, 3, 0, TG_UC_L},
    {"qwen2", P_CONTR_I "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|" P_CL_TAIL,
     FAM_CL100K, CONTR_CASELESS, 1, 0, TG_UC_L},
    {"qwen2-llamacpp", P_CONTR_A "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|" P_CL_TAIL,
     FAM_CL100K, CONTR_ASCII, 1, 0, TG_UC_L},
    {"cl100k-digits", P_CONTR_I "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+|" P_CL_TAIL,
     FAM_CL100K, CONTR_CASELESS, 0, 0, TG_UC_L},
    {"cl100k-digits-llamacpp", P_CONTR_A "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+|" P_CL_TAIL,
     FAM_CL100K, CONTR_ASCII, 0, 0, TG_UC_L},
    {"qwen35", P_CONTR_I "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}|" P_Q35_TAIL,
     FAM_CL100K, CONTR_CASELESS, 1, 0, TG_UC_L | TG_UC_M},
    {"qwen35-llamacpp", P_CONTR_A "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}|" P_Q35_TAIL,
     FAM_CL100K, CONTR_ASCII, 1, 0, TG_UC_L | TG_UC_M},
    {"o200k", P_PRE P_UP "*" P_LO "+" P_CONTR_I "?|" P_PRE P_UP "+" P_LO "*" P_CONTR_I
     "?|\\p{N}{1,3}|" P_O2_TAIL, FAM_O200K, CONTR_CASELESS, 3, 0, TG_UC_L},
    {"o200k-llamacpp", P_PRE P_UP "*" P_LO "+" P_CONTR_A "?|" P_PRE P_UP "+" P_LO "*" P_CONTR_A
     "?|\\p{N}{1,3}|" P_O2_TAIL, FAM_O200K, CONTR_ASCII, 3, 0, TG_UC_L},
    {"tekken", P_PRE P_UP "*" P_LO "+|" P_PRE P_UP "+" P_LO "*|\\p{N}|" P_O2_TAIL,
     FAM_O200K, CONTR_NONE, 1, 0, TG_UC_L},
};
#define N_SPECS ((int)(sizeof SPECS / sizeof SPECS[0]))

int tg__pretok_fast_kinds(void) { return N_SPECS; }

const char *tg__pretok_fast_pattern(int kind) {
    return kind >= 1 && kind <= N_SPECS ? SPECS[kind - 1].pattern : NULL;
}

const char *tg__pretok_fast_name(int kind) {
    return kind >= 1 && kind <= N_SPECS ? SPECS[kind - 1].name : NULL;
}

int tg__pretok_fast_lookup(const char *pattern, size_t len) {
    if (!pattern) return 0;
    for (int i = 0; i < N_SPECS; i++) {
        size_t l = strlen(SPECS[i].pattern);
        if (l == len && memcmp(SPECS[i].pattern, pattern, len) == 0) return i + 1;
    }
    return 0;
}

/* ---- characters --------------------------------------------------------- */

/* Decodes the code point at s[i] (i < n). Valid UTF-8 is assumed; a bad or
 * truncated sequence is read as one byte of an unassigned code point, so a
 * caller never leaves s[0..n) and always advances. */
static inline size_t dec(const uint8_t *s, size_t n, size_t i, uint32_t *cp) {
    uint32_t b = s[i];
    if (b < 0x80u) { *cp = b; return 1; }
    if (b >= 0xC2u && b < 0xE0u && i + 1 < n) {
        *cp = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3Fu);
        return 2;
    }
    if (b >= 0xE0u && b < 0xF0u && i + 2 < n) {
        *cp = ((b & 0x0Fu) << 12) | ((uint32_t)(s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu);
        return 3;
    }
    if (b >= 0xF0u && b < 0xF5u && i + 3 < n) {
        *cp = ((b & 0x07u) << 18) | ((uint32_t)(s[i + 1] & 0x3Fu) << 12) |
              ((uint32_t)(s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu);
        return 4;
    }
    *cp = 0x110000u; /* flags 0: neither letter, digit nor space */
    return 1;
}

/* Class flags (TG_UC_*) of the character at s[i], its length in *len. ASCII
 * reads block 0 of stage 2 directly (the generator puts U+0000..U+00FF first;
 * test_pretok_fast.c checks it). */
static inline unsigned flags_at(const uint8_t *s, size_t n, size_t i, size_t *len) {
    if (s[i] < 0x80u) { *len = 1; return tg__uc_stage2[s[i]]; }
    uint32_t cp;
    *len = dec(s, n, i, &cp);
    return tg__uc_flags(cp);
}

/* End of the maximal run from i of characters with at least one flag of
 * mask (run_any) or with none of them (run_none). */
static inline size_t run_any(const uint8_t *s, size_t n, size_t i, unsigned mask) {
    while (i < n) {
        size_t l;
        if (!(flags_at(s, n, i, &l) & mask)) break;
        i += l;
    }
    return i;
}

static inline size_t run_none(const uint8_t *s, size_t n, size_t i, unsigned mask) {
    while (i < n) {
        size_t l;
        if (flags_at(s, n, i, &l) & mask) break;
        i += l;
    }
    return i;
}

/* Like run_any(), at most max characters (max > 0). */
static size_t run_any_max(const uint8_t *s, size_t n, size_t i, unsigned mask, unsigned max) {
    for (unsigned k = 0; k < max && i < n; k++) {
        size_t l;
        if (!(flags_at(s, n, i, &l) & mask)) break;
        i += l;
    }
    return i;
}

/* End of the run of bytes from i that are in set ("\r\n" or "\r\n/"). */
static size_t run_bytes(const uint8_t *s, size_t n, size_t i, int slash) {
    while (i < n && (s[i] == '\r' || s[i] == '\n' || (slash && s[i] == '/'))) i++;
    return i;
}

#define F_LN (TG_UC_L | TG_UC_N)
#define F_LNS (TG_UC_L | TG_UC_N | TG_UC_S)

/* Length of a contraction ('s 't 're 've 'm 'll 'd in the given spelling) at
 * s[i], or 0. */
static inline size_t contraction(const uint8_t *s, size_t n, size_t i, int mode) {
    if (i + 1 >= n || s[i] != '\'' || mode == CONTR_NONE) return 0;
    uint8_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
    if (mode != CONTR_EXACT) {
        /* (?i:...) and '[sS]...: ASCII letters either case. */
        if (a >= 'A' && a <= 'Z') a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z') b = (uint8_t)(b + 32);
        /* (?i:'s) with PCRE2_UCP also matches U+017F (UTF-8 C5 BF). */
        if (mode == CONTR_CASELESS && a == 0xC5 && b == 0xBF) return 3;
    }
    switch (a) {
    case 's': case 't': case 'm': case 'd': return 2;
    case 'r': case 'v': return b == 'e' ? 3 : 0;
    case 'l': return b == 'l' ? 3 : 0;
    default: return 0;
    }
}

/* A whitespace run [p, *q) (p starts with whitespace): sets *last to the start
 * of its last character and *nl_end to the end of its last \r or \n (0 if
 * none). */
static void ws_run(const uint8_t *s, size_t n, size_t p, size_t *q, size_t *last,
                   size_t *nl_end) {
    size_t i = p, lst = p, nle = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80u) {
            if (!(tg__uc_stage2[b] & TG_UC_S)) break;
            lst = i++;
            if (b == '\r' || b == '\n') nle = i;
            continue;
        }
        size_t l;
        if (!(flags_at(s, n, i, &l) & TG_UC_S)) break;
        lst = i;
        i += l;
    }
    *q = i;
    *last = lst;
    *nl_end = nle;
}

/* ---- families ----------------------------------------------------------- */

/* GPT-2: 'CONTR| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)[|\s+] at p;
 * returns the match end or 0. */
static size_t match_gpt2(const pretok_spec *sp, const uint8_t *s, size_t n, size_t p) {
    size_t l, k = contraction(s, n, p, sp->contr);
    if (k) return p + k;
    if (s[p] == ' ' && p + 1 < n) {
        /* " ?X+" with the space taken; it cannot start X itself. */
        unsigned f2 = flags_at(s, n, p + 1, &l);
        if (f2 & TG_UC_L) return run_any(s, n, p + 1, TG_UC_L);
        if (f2 & TG_UC_N) return run_any(s, n, p + 1, TG_UC_N);
        if (!(f2 & F_LNS)) return run_none(s, n, p + 1, F_LNS);
    }
    unsigned f = flags_at(s, n, p, &l);
    if (f & TG_UC_L) return run_any(s, n, p, TG_UC_L);
    if (f & TG_UC_N) return run_any(s, n, p, TG_UC_N);
    if (!(f & TG_UC_S)) return run_none(s, n, p, F_LNS);
    size_t q, last, nle;
    ws_run(s, n, p, &q, &last, &nle);
    if (q == n) return q;
    if (last > p) return last;
    return sp->ws_tail ? q : 0;
}

/* The whitespace alternatives shared by cl100k and o200k:
 * \s*[\r\n]+|\s+(?!\S)|\s+ at p, where s[p] is whitespace. */
static size_t match_ws(const uint8_t *s, size_t n, size_t p) {
    size_t q, last, nle;
    ws_run(s, n, p, &q, &last, &nle);
    if (nle) return nle;
    if (q == n) return q;
    if (last > p) return last;
    return q;
}

/* 1 when the character at i (< n) is in [^\r\n\p{L}\p{N}], given its flags. */
static inline int pre_class(const uint8_t *s, size_t i, unsigned f) {
    return !(f & F_LN) && s[i] != '\r' && s[i] != '\n';
}

/* cl100k / Qwen2 / Qwen3.5: CONTR|[^\r\n\p{L}\p{N}]?W+|\p{N}{1,D}
 * | ?[^\s W \p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ at p, W = sp->word.
 * When W includes \p{M}, a mark is both a prefix and a W character; either
 * path ends at the end of the W run, so taking the run from p is exact. */
static size_t match_cl100k(const pretok_spec *sp, const uint8_t *s, size_t n, size_t p) {
    const unsigned w = sp->word, other = sp->word | TG_UC_N | TG_UC_S;
    /* the common case first: an ASCII letter, or a space then one, starts
     * W+ (the alternatives before it need an apostrophe); same result as the
     * general path below, which run_any continues at a non-ASCII byte */
    size_t q = p + (s[p] == ' ' && p + 1 < n);
    if (s[q] < 0x80u && (tg__uc_stage2[s[q]] & TG_UC_L)) {
        q++;
        while (q < n && s[q] < 0x80u && (tg__uc_stage2[s[q]] & TG_UC_L)) q++;
        return q < n && s[q] >= 0x80u ? run_any(s, n, q, w) : q;
    }
    size_t l, l2, k = contraction(s, n, p, sp->contr);
    if (k) return p + k;
    unsigned f = flags_at(s, n, p, &l);
    if (f & w) return run_any(s, n, p, w);
    if (pre_class(s, p, f) && p + l < n && (flags_at(s, n, p + l, &l2) & w))
        return run_any(s, n, p + l, w);
    if (f & TG_UC_N)
        return sp->digits ? run_any_max(s, n, p, TG_UC_N, sp->digits)
                          : run_any(s, n, p, TG_UC_N);
    if (s[p] == ' ' && p + 1 < n && !(flags_at(s, n, p + 1, &l2) & other))
        return run_bytes(s, n, run_none(s, n, p + 1, other), 0);
    if (!(f & TG_UC_S)) return run_bytes(s, n, run_none(s, n, p, other), 0);
    return match_ws(s, n, p);
}

/* UP*LO+ at x (see the top comment); end or 0. */
static size_t up_star_lo_plus(const uint8_t *s, size_t n, size_t x) {
    size_t i = x, lo_end = 0;
    while (i < n) {
        size_t l;
        unsigned f = flags_at(s, n, i, &l);
        if (!(f & TG_UC_UP)) {
            if (f & TG_UC_LO) return run_any(s, n, i, TG_UC_LO);
            break;
        }
        i += l;
        if (f & TG_UC_LO) lo_end = i;
    }
    return lo_end;
}

/* UP+LO* at x; end or 0. */
static size_t up_plus_lo_star(const uint8_t *s, size_t n, size_t x) {
    size_t k = run_any(s, n, x, TG_UC_UP);
    return k == x ? 0 : run_any(s, n, k, TG_UC_LO);
}

/* o200k / Tekken at p. */
static size_t match_o200k(const pretok_spec *sp, const uint8_t *s, size_t n, size_t p) {
    size_t l, l2, e;
    unsigned f = flags_at(s, n, p, &l);
    /* Alternative 1 with the prefix taken, then not; alternative 2 likewise.
     * Both fail at once where the first character is in neither UP nor LO,
     * so those calls are skipped. */
    const unsigned word = TG_UC_UP | TG_UC_LO;
    int pre = pre_class(s, p, f) && p + l < n && (flags_at(s, n, p + l, &l2) & word);
    int here = (f & word) != 0;
    if ((pre && (e = up_star_lo_plus(s, n, p + l)) != 0) || (here && (e = up_star_lo_plus(s, n, p)) != 0) ||
        (pre && (e = up_plus_lo_star(s, n, p + l)) != 0) || (here && (e = up_plus_lo_star(s, n, p)) != 0))
        return e + contraction(s, n, e, sp->contr);
    if (f & TG_UC_N)
        return sp->digits ? run_any_max(s, n, p, TG_UC_N, sp->digits)
                          : run_any(s, n, p, TG_UC_N);
    if (s[p] == ' ' && p + 1 < n && !(flags_at(s, n, p + 1, &l2) & F_LNS))
        return run_bytes(s, n, run_none(s, n, p + 1, F_LNS), 1);
    if (!(f & TG_UC_S)) return run_bytes(s, n, run_none(s, n, p, F_LNS), 1);
    return match_ws(s, n, p);
}

/* The end of the run of ASCII letters ([A-Za-z], the ASCII rows of \p{L})
 * from q: 16 bytes a step with SSE2 (x | 0x20 in 'a'..'z' as signed bytes:
 * no byte >= 0x80 passes), bytewise by the class table for the tail and
 * elsewhere; the same end either way (issue 17, round 4). */
static inline size_t ascii_letters_end(const uint8_t *s, size_t n, size_t q) {
#if defined(__SSE2__)
    const __m128i lo = _mm_set1_epi8('a' - 1), hi = _mm_set1_epi8('z' + 1), bit = _mm_set1_epi8(0x20);
    while (q + 16 <= n) {
        __m128i t = _mm_or_si128(_mm_loadu_si128((const __m128i *)(const void *)(s + q)), bit);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(t, lo), _mm_cmplt_epi8(t, hi)));
        if (m != 0xFFFFu) return q + (size_t)__builtin_ctz(~m);
        q += 16;
    }
#endif
    while (q < n && s[q] < 0x80u && (tg__uc_stage2[s[q]] & TG_UC_L)) q++;
    return q;
}

/* match_cl100k() where every byte it has to classify is ASCII: the same end,
 * computed from the ASCII rows of the class table in one pass; 0 where it
 * would meet an apostrophe at p (contractions) or a non-ASCII byte it needs,
 * and the caller then runs match_cl100k(). The branches follow
 * match_cl100k's alternatives in the same order. */
static inline __attribute__((always_inline)) size_t cl100k_ascii(const pretok_spec *sp, const uint8_t *s, size_t n, size_t p) {
    const uint8_t *cls = tg__uc_stage2; /* ASCII rows: block 0 */
    const unsigned other = sp->word | TG_UC_N | TG_UC_S;
    uint8_t c = s[p], d;
    size_t q;
    if (c == ' ' && p + 1 < n && (d = s[p + 1]) < 0x80u && (cls[d] & TG_UC_L)) { /* " word": the branch below, first */
        q = p + 2;
        goto letters;
    }
    if (c >= 0x80u || c == '\'') return 0;
    unsigned f = cls[c];
    if (f & TG_UC_L) {
        q = p + 1;
        goto letters;
    }
    if (!(f & TG_UC_N) && c != '\r' && c != '\n' && p + 1 < n) { /* [^\r\n\p{L}\p{N}]?W+ */
        if ((d = s[p + 1]) >= 0x80u) return 0;
        if (cls[d] & TG_UC_L) {
            q = p + 2;
            goto letters;
        }
    }
    if (f & TG_UC_N) { /* \p{N}{1,D} */
        q = p + 1;
        for (unsigned k = 1; (sp->digits == 0 || k < sp->digits) && q < n; k++, q++) {
            if ((d = s[q]) >= 0x80u) return 0;
            if (!(cls[d] & TG_UC_N)) break;
        }
        return q;
    }
    if (c == ' ' && p + 1 < n) { /* " ?[^\s W \p{N}]+[\r\n]*" with the space */
        if ((d = s[p + 1]) >= 0x80u) return 0;
        if (!(cls[d] & other)) {
            q = p + 2;
            goto punct;
        }
    }
    if (!(f & TG_UC_S)) {
        q = p + 1;
        goto punct;
    }
    /* \s*[\r\n]+|\s+(?!\S)|\s+ (match_ws) */
    size_t last = p, nle = 0;
    for (q = p; q < n; q++) {
        if ((d = s[q]) == ' ') {
            uint64_t w8; /* indentation: eight more spaces a step */
            while (q + 9 <= n && (memcpy(&w8, s + q + 1, 8), w8 == 0x2020202020202020ull)) q += 8;
            last = q;
            continue;
        }
        if (d == '\n') {
            last = q;
            nle = q + 1;
            continue;
        }
        if (d >= 0x80u) return 0;
        if (!(cls[d] & TG_UC_S)) break;
        last = q;
        if (d == '\r') nle = q + 1;
    }
    return nle ? nle : q == n ? q : last > p ? last : q;
punct:
    for (; q < n; q++) {
        if ((d = s[q]) >= 0x80u) return 0;
        if (cls[d] & other) break;
    }
    while (q < n && (s[q] == '\r' || s[q] == '\n')) q++;
    return q;
letters:
    q = ascii_letters_end(s, n, q);
    return q < n && s[q] >= 0x80u ? run_any(s, n, q, sp->word) : q;
}

/* The match of kind sp at p, or 0 (none there). */
static inline size_t match_at(const pretok_spec *sp, const uint8_t *s, size_t n, size_t p) {
    size_t e;
    switch (sp->family) {
    case FAM_GPT2: return match_gpt2(sp, s, n, p);
    case FAM_CL100K: return (e = cl100k_ascii(sp, s, n, p)) ? e : match_cl100k(sp, s, n, p);
    default: return match_o200k(sp, s, n, p);
    }
}

size_t tg__pretok_fast_pieces(int kind, const uint8_t *s, size_t n, size_t pos, size_t *ends, size_t cap) {
    if (kind < 1 || kind > N_SPECS || !s || cap < 2) return 0;
    const pretok_spec *sp = &SPECS[kind - 1];
    size_t k = 0, p = pos, a, b;
    const int cl = sp->family == FAM_CL100K; /* match_at's switch, out of the loop */
    while (p < n && k + 2 <= cap) {
        size_t e = cl ? cl100k_ascii(sp, s, n, p) : 0;
        if (!e) e = cl ? match_cl100k(sp, s, n, p) : match_at(sp, s, n, p);
        if (e > p) {
            ends[k++] = p = e;
            continue;
        }
        /* no match at p: the gap up to the next match, then that match */
        if (!tg__pretok_fast_next(kind, s, n, p, &a, &b)) {
            ends[k++] = n;
            break;
        }
        ends[k++] = a;
        ends[k++] = p = b;
    }
    return k;
}

int tg__pretok_fast_next(int kind, const uint8_t *s, size_t n, size_t pos,
                         size_t *mstart, size_t *mend) {
    if (kind < 1 || kind > N_SPECS || !s) return 0;
    const pretok_spec *sp = &SPECS[kind - 1];
    for (size_t p = pos; p < n;) {
        size_t e = match_at(sp, s, n, p);
        if (e > p) {
            *mstart = p;
            *mend = e;
            return 1;
        }
        size_t l;
        (void)flags_at(s, n, p, &l);
        p += l;
    }
    return 0;
}
