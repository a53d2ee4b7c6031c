/*
 * test_nfc_stable.c: the NFC quick check of normalizer.c (tg__nfc_stable:
 * the chars whose runs, between ASCII, are copied without utf8proc) against
 * the utf8proc linked, the library that normalizes everything else, so its own data
 * is the reference:
 *   - every char of the set (nfc_table.c), U+0000..U+10FFFF: combining class
 *     0, NFC of the char alone is the char, and neither it nor the first char
 *     of its decomposition is a second char of any canonical decomposition
 *     (those are the chars that compose with what precedes them; found by
 *     decomposing every code point), and that first char has class 0;
 *   - 600,000 random strings of stable chars, other non-ASCII chars
 *     (combining marks, jamo, singletons, vowel signs, compatibility
 *     ideographs, any code point, ...) and ASCII: the NFC normalizer's output
 *     equals utf8proc_NFC of the whole string.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "tg_test.h"
#include "tokenizer/tokenizer_internal.h"
#include "util/buf.h"
#include "util/utf8.h"

#define MAXCP 0x110000u

static uint8_t *second; /* 1: cp appears after the first char of some canonical decomposition */

static void find_seconds(void) {
    second = calloc(MAXCP, 1);
    TG_CHECK(second != NULL);
    if (!second) return;
    for (uint32_t c = 0; c < MAXCP; c++) {
        if (c >= 0xD800u && c <= 0xDFFFu) continue;
        utf8proc_int32_t d[32];
        int bc = 0;
        utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)c, d, 32, UTF8PROC_DECOMPOSE, &bc);
        for (utf8proc_ssize_t i = 1; i < r && i < 32; i++)
            if (d[i] >= 0 && (uint32_t)d[i] < MAXCP) second[d[i]] = 1;
    }
    /* the decomposition walk must see Hangul's algorithmic pairs and the
     * ordinary ones */
    TG_CHECK(second[0x1161] && second[0x11A8] && second[0x0301] && second[0x0B3E]);
}

static int nfc_is_identity(const uint8_t *s, size_t n) {
    utf8proc_uint8_t *z = malloc(n + 1);
    if (!z) return 0;
    memcpy(z, s, n);
    z[n] = 0;
    utf8proc_uint8_t *o = utf8proc_NFC(z);
    int same = o && strlen((const char *)o) == n && memcmp(o, s, n) == 0;
    free(o);
    free(z);
    return same;
}

/* the rule of scripts/gen_nfc_table.c, recomputed from the utf8proc linked */
static int stable_by_rule(uint32_t c) {
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)c);
    utf8proc_int32_t d[32];
    int bc = 0;
    utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)c, d, 32, UTF8PROC_DECOMPOSE, &bc);
    if (r < 1 || r > 32 || d[0] < 0 || (uint32_t)d[0] >= MAXCP) return 0;
    char u[4];
    size_t l = tgx_utf8_encode(c, u);
    return p->combining_class == 0 && !second[c] && !second[d[0]] &&
           utf8proc_get_property(d[0])->combining_class == 0 && (c == 0 || nfc_is_identity((const uint8_t *)u, l));
}

static void test_every_stable_char(void) {
    size_t n = 0, bad = 0, missed = 0;
    for (uint32_t c = 0; c < MAXCP; c++) {
        if (c >= 0xD800u && c <= 0xDFFFu) continue;
        int rule = stable_by_rule(c);
        if (!tg__nfc_stable(c)) {
            missed += (size_t)rule;
            continue;
        }
        n++;
        if (!rule && bad++ < 10) fprintf(stderr, "U+%04X is in the quick-check set but NFC may change it\n", c);
    }
    /* missed: chars the rule admits but the committed table leaves out (a
     * newer utf8proc than the generator's); they only cost speed */
    printf("%zu stable chars checked, %zu more by this utf8proc's rule\n", n, missed);
    TG_CHECK(n > 1000000);
    TG_CHECK_EQ_U(bad, 0);
    /* known changers stay out: singletons, exclusions, marks, jamo, chars
     * that compose with what precedes them */
    static const uint32_t out[] = {0x0300, 0x0340, 0x2000, 0x2001, 0x2126, 0x212B, 0x2329, 0x232A, 0x1161,
                                   0x11A8, 0x3099, 0x0B3E, 0xF900, 0x2ADC, 0x1D15E, 0x0483, 0x0487, 0x0F73,
                                   0x0DCF, 0x0CD5, 0x093C, 0x0344, 0xFB1D, 0x2F800};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) TG_CHECK(!tg__nfc_stable(out[i]));
    /* and the sets of rounds 3-4 stay in */
    static const uint32_t in[] = {0x00E9, 0x0419, 0xAC00, 0x4E00, 0x3042, 0x2019, 0x1F600, 0xFE0F, 0x2603, 0x10000};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) TG_CHECK(tg__nfc_stable(in[i]));
}

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(uint32_t bound) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % bound);
}

static uint32_t pick_char(void) {
    static const uint32_t pool[] = {'a', 'e', 'A', ' ', '.', 'n', 0xE9, 0x301, 0x308, 0x323, 0x338, 0x1100, 0x1161,
                                    0x11A8, 0xAC00, 0x2019, 0x2026, 0x2000, 0x2126, 0x2329, 0x21D2, 0x2260, 0x2192,
                                    0x2603, 0x2764, 0xFE0F, 0x1F600, 0x1F3FB, 0x1F1FA, 0x3099, 0x304B, 0x30AB,
                                    0x419, 0x418, 0x306, 0x0B47, 0x0B3E, 0x1E9B, 0x20AC, 0x2460, 0x2B50, 0x1F9D1};
    if (rnd(5) == 0) { /* anywhere in Unicode, or in blocks of marks, vowel signs, jamo, compatibility ideographs */
        static const uint32_t lo2[] = {0x0300, 0x0590, 0x0900, 0x0B00, 0x0D80, 0x0F00, 0x1100, 0x1D00,
                                       0x3000, 0xF900, 0xFB00, 0x1D100, 0x2F800, 0x11000};
        uint32_t c = rnd(3) == 0 ? rnd(0x110000) : lo2[rnd(14)] + rnd(0x100);
        return (c >= 0xD800 && c <= 0xDFFF) ? 'y' : c;
    }
    if (rnd(4) == 0) { /* anywhere in the new blocks and around them */
        static const uint32_t lo[] = {0x2000, 0x2180, 0x22F0, 0x2440, 0x27B0, 0x2AF0, 0xFDF0, 0x1EFF0, 0x1FAF0,
                                      0x3F0, 0x400, 0x430, 0x470, 0x4C0, 0x500, 0x520};
        uint32_t c = lo[rnd(16)] + rnd(0x40);
        return (c >= 0xD800 && c <= 0xDFFF) ? 'x' : c;
    }
    return pool[rnd(sizeof pool / sizeof pool[0])];
}

static void test_random_strings(void) {
    tg__normalizer nz;
    tg_error err;
    json_t *j = json_pack("{s:s}", "type", "NFC");
    TG_CHECK(j && tg__normalizer_from_json(&nz, j, &err) == TG_OK);
    json_decref(j);
    tg__matcher m;
    TG_CHECK(tg__matcher_init(&m, &err) == TG_OK);
    tgx_buf in, out, tmp;
    tgx_buf_init(&in, 1u << 20);
    tgx_buf_init(&out, 1u << 20);
    tgx_buf_init(&tmp, 1u << 24);
    size_t bad = 0;
    for (int t = 0; t < 600000; t++) {
        tgx_buf_reset(&in);
        size_t len = 1 + rnd(12);
        for (size_t i = 0; i < len; i++) {
            char u[4];
            size_t l = tgx_utf8_encode(pick_char(), u);
            TG_CHECK(tgx_buf_append(&in, u, l) == 0);
        }
        tgx_buf_reset(&out);
        TG_CHECK(tg__normalize(&nz, &m, in.data, in.len, &out, &tmp, NULL, &err) == TG_OK);
        utf8proc_uint8_t *z = malloc(in.len + 1);
        TG_CHECK(z != NULL);
        if (!z) break;
        memcpy(z, in.data, in.len);
        z[in.len] = 0;
        utf8proc_uint8_t *ref = utf8proc_NFC(z);
        int same = ref && strlen((const char *)ref) == out.len && memcmp(ref, out.data, out.len) == 0;
        if (!same && bad++ < 5) {
            fprintf(stderr, "NFC differs for:");
            for (size_t i = 0; i < in.len; i++) fprintf(stderr, " %02x", (uint8_t)in.data[i]);
            fputc('\n', stderr);
        }
        free(ref);
        free(z);
    }
    TG_CHECK_EQ_U(bad, 0);
    tgx_buf_free(&in);
    tgx_buf_free(&out);
    tgx_buf_free(&tmp);
    tg__matcher_free(&m);
    tg__normalizer_free(&nz);
}

int main(void) {
    find_seconds();
    TG_RUN(test_every_stable_char);
    TG_RUN(test_random_strings);
    free(second);
    return tg_test_summary();
}
