/* test_utf8_valid.c: tgx_utf8_valid (an ASCII skip 16 bytes a step, then the
 * multi-byte runs inline) against the plain tgx_utf8_decode loop it replaced:
 * the same answer and the same first bad offset on random byte strings built
 * from every well-formed and malformed class, at every alignment and length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "util/utf8.h"

/* The reference: a sequence at a time with tgx_utf8_decode. */
static int ref_valid(const uint8_t *s, size_t n, size_t *bad_off) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = tgx_utf8_decode(s + i, n - i, &cp);
        if (l == 0) {
            *bad_off = i;
            return 0;
        }
        i += l;
    }
    return 1;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Pieces: ASCII, valid 2/3/4-byte chars at the range edges, and each
 * malformed class (overlong, surrogate, above U+10FFFF, stray continuation,
 * bad leads, truncated sequences). */
static const char *const pieces[] = {
    "a", "0123456789abcdef", " ", "\n", "\x7F", "\xC2\x80", "\xDF\xBF", "\xC3\xA9", "\xE0\xA0\x80",
    "\xE4\xB8\xAD", "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF",
    "\xF3\xBF\xBF\xBF",
    /* malformed */
    "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xED\xBF\xBF", "\xF0\x80\x80\xAF",
    "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xFE", "\x80", "\xBF", "\xC3",
    "\xE4\xB8", "\xF0\x90\x80", "\xE4(", "\xF0\x90(\x80", "\xC3\xC3"};

static void check_one(const uint8_t *s, size_t n) {
    size_t b1 = (size_t)-1, b2 = (size_t)-2;
    int r1 = tgx_utf8_valid(s, n, &b1), r2 = ref_valid(s, n, &b2);
    TG_CHECK_EQ_I(r1, r2);
    if (!r2) TG_CHECK_EQ_U(b1, b2);
}

static void test_random_strings(void) {
    enum { CAP = 200 };
    uint8_t buf[CAP + 64];
    size_t np = sizeof pieces / sizeof pieces[0];
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        /* mostly valid: a malformed piece in about one string of three */
        int allow_bad = rnd() % 3 == 0;
        size_t want = rnd() % CAP;
        while (len < want) {
            size_t k = rnd() % np;
            if (k >= 16 && !allow_bad) k = rnd() % 16;
            size_t pl = strlen(pieces[k]);
            if (len + pl > CAP) break;
            memcpy(buf + len, pieces[k], pl);
            len += pl;
        }
        /* every alignment and every prefix length (truncation at the end) */
        size_t off = rnd() % 32;
        static uint8_t moved[CAP + 64];
        memcpy(moved + off, buf, len);
        for (size_t n = 0; n <= len; n++) check_one(moved + off, n);
    }
    /* raw random bytes, biased high */
    for (int round = 0; round < 20000; round++) {
        size_t len = rnd() % 80;
        for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(rnd() % 4 ? rnd() % 0x80 : 0x80 + rnd() % 0x80);
        check_one(buf, len);
    }
}

static void test_long_ascii_then_bad(void) {
    static uint8_t s[300];
    for (size_t at = 0; at < 256; at++) {
        memset(s, 'x', sizeof s);
        s[at] = 0x80;
        size_t b = 0;
        TG_CHECK(!tgx_utf8_valid(s, sizeof s, &b));
        TG_CHECK_EQ_U(b, at);
        TG_CHECK(tgx_utf8_valid(s, at, NULL));
    }
}

int main(void) {
    TG_RUN(test_random_strings);
    TG_RUN(test_long_ascii_then_bad);
    return tg_test_summary();
}
