/*
 * test_regex.c: the Oniguruma -> PCRE2 translation of regex.c.
 *
 * - \s: HF (Oniguruma) matches White_Space; PCRE2's own UCP \s differs. This
 *   test checks every code point: the translated \s must match exactly the
 *   White_Space set (PropList.txt: 9-D, 20, 85, A0, 1680, 2000-200A, 2028,
 *   2029, 202F, 205F, 3000), and PCRE2's raw \s must differ from it only at
 *   U+180E: the one code point on which regex.c sends the fast pre-tokenizer
 *   paths (which follow raw PCRE2) to the general path.
 * - find_iter's empty-match rule, checked on the sequences HF produced for
 *   "a*" over "abc" (matches (0,1), (2,2), (3,3); see test_tokenizer_variants).
 * - refused constructs are refused with their name.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tg_test.h"
#include "tokenizer/tokenizer_internal.h"
#include "util/utf8.h"

static int white_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

static void test_space_class(void) {
    tg__regex re;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg__regex_compile(&re, "\\s", 2, &err), TG_OK);
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *raw = pcre2_compile((PCRE2_SPTR) "\\s", 2, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    TG_CHECK(raw != NULL);
    pcre2_match_data *md = pcre2_match_data_create(2, NULL);
    tg__matcher m;
    TG_CHECK_EQ_I(tg__matcher_init(&m, &err), TG_OK);
    size_t translated_bad = 0, raw_diff = 0, raw_diff_other = 0;
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        char e[4];
        size_t l = tgx_utf8_encode(c, e);
        if (!l) continue;
        size_t a, b;
        int ours = tg__regex_next(&re, &m, (const uint8_t *)e, l, 0, &a, &b) == 1;
        int theirs = pcre2_match(raw, (PCRE2_SPTR)e, l, 0, 0, md, NULL) >= 0;
        if (ours != white_space(c)) translated_bad++;
        if (theirs != white_space(c)) {
            raw_diff++;
            if (c != 0x180E) {
                raw_diff_other++;
                fprintf(stderr, "raw PCRE2 \\s differs from White_Space at U+%04X\n", (unsigned)c);
            }
        }
    }
    TG_CHECK_EQ_U(translated_bad, 0);
    TG_CHECK_EQ_U(raw_diff_other, 0);
    printf("raw PCRE2 \\s differs from Oniguruma's at %zu code point(s) (U+180E)\n", raw_diff);
    pcre2_match_data_free(md);
    pcre2_code_free(raw);
    tg__matcher_free(&m);
    tg__regex_free(&re);
}

static void test_empty_matches(void) {
    tg__regex re;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg__regex_compile(&re, "a*", 2, &err), TG_OK);
    tg__matcher m;
    TG_CHECK_EQ_I(tg__matcher_init(&m, &err), TG_OK);
    tg__match_iter it;
    tg__match_iter_init(&it, &re, &m, (const uint8_t *)"abc", 3);
    size_t a, b, got[8][2], n = 0;
    while (n < 8 && tg__match_iter_next(&it, &a, &b) > 0) {
        got[n][0] = a;
        got[n][1] = b;
        n++;
    }
    TG_CHECK_EQ_U(n, 3);
    TG_CHECK(got[0][0] == 0 && got[0][1] == 1);
    TG_CHECK(got[1][0] == 2 && got[1][1] == 2);
    TG_CHECK(got[2][0] == 3 && got[2][1] == 3);
    tg__matcher_free(&m);
    tg__regex_free(&re);
}

static void test_refused(void) {
    static const char *const bad[][2] = {
        {"[^\\S]", "\\S in a class"}, {"\\bword", "\\b"}, {"\\Gx", "\\G"}, {"(?s:x)", "inline option"},
        {"[a-z&&[^aeiou]]", "&&"}, {"[a[b]]", "nested class"}, {"\\X", "\\X"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tg__regex re;
        tg_error err = {0};
        TG_CHECK_EQ_I(tg__regex_compile(&re, bad[i][0], strlen(bad[i][0]), &err), TG_EUNSUPPORTED);
        TG_CHECK_CONTAINS(err.msg, bad[i][1]);
    }
    tg__regex re;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg__regex_compile(&re, "(unclosed", 9, &err), TG_ECORRUPT);
    TG_CHECK_CONTAINS(err.msg, "does not compile");
}

int main(void) {
    TG_RUN(test_space_class);
    TG_RUN(test_empty_matches);
    TG_RUN(test_refused);
    return tg_test_summary();
}
