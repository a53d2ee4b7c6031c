/* test_util.c: tests for util/ (buffer ceiling, strict UTF-8 per RFC 3629
 * Table 3-7, whole-file reads). */
#include <stdio.h>
#include <stdlib.h>

#include "tg_test.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/utf8.h"

static void test_buf_ceiling(void) {
    tgx_buf b;
    tgx_buf_init(&b, 8);
    TG_CHECK_EQ_I(tgx_buf_puts(&b, "12345678"), TG_OK);
    TG_CHECK_EQ_I(tgx_buf_putc(&b, '9'), TG_ELIMIT);
    TG_CHECK_EQ_U(b.len, 8);
    TG_CHECK_STR(b.data, "12345678");
    tgx_buf_reset(&b);
    TG_CHECK_EQ_I(tgx_buf_printf(&b, "%d-%s", 42, "x"), TG_OK);
    TG_CHECK_STR(b.data, "42-x");
    tgx_buf_free(&b);
}

/* tgx_buf_init_with: the caller's memory until it outgrows it, then the heap
 * with the bytes so far; detach copies; free leaves the caller's memory. */
static void test_buf_with(void) {
    char mem[8];
    tgx_buf b;
    tgx_buf_init_with(&b, mem, sizeof mem, 64);
    TG_CHECK_EQ_I(tgx_buf_puts(&b, "1234567"), TG_OK);
    TG_CHECK(b.data == mem);
    TG_CHECK_STR(mem, "1234567");
    TG_CHECK_EQ_I(tgx_buf_puts(&b, "89"), TG_OK); /* 9 bytes and the NUL: the heap */
    TG_CHECK(b.data != mem);
    TG_CHECK_STR(b.data, "123456789");
    tgx_buf_free(&b); /* frees the heap copy (ASan: no leak) */
    tgx_buf_init_with(&b, mem, sizeof mem, 64);
    TG_CHECK_EQ_I(tgx_buf_puts(&b, "ab"), TG_OK);
    size_t n = 0;
    char *d = tgx_buf_detach(&b, &n);
    TG_CHECK(d != mem && d != NULL);
    TG_CHECK_EQ_U(n, 2);
    TG_CHECK_STR(d, "ab");
    free(d);
    tgx_buf_free(&b); /* after detach: nothing, and never mem */
    tgx_buf_init_with(&b, mem, sizeof mem, 4);
    TG_CHECK_EQ_I(tgx_buf_puts(&b, "12345"), TG_ELIMIT); /* the ceiling holds */
    tgx_buf_free(&b);
}

/* tgx_buf_u64 / tgx_u64_dec (two digits per step, length first) against
 * libc's "%llu" (the reference): every value below 100000, each power of
 * ten and its neighbours up to UINT64_MAX, and a spread of others; appended
 * into room that fits, room that does not (the heap path) and a ceiling. */
static void check_u64(uint64_t v) {
    char want[32], got[32];
    int wn = snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    size_t n = tgx_u64_dec(got, v);
    got[n] = '\0';
    TG_CHECK_EQ_I((long long)n, wn);
    TG_CHECK_EQ_I((long long)tgx_u64_len(v), wn);
    TG_CHECK_STR(got, want);
    char mem[8];
    tgx_buf b;
    tgx_buf_init_with(&b, mem, sizeof mem, 64);
    TG_CHECK_EQ_I(tgx_buf_puts(&b, "x="), TG_OK);
    TG_CHECK_EQ_I(tgx_buf_u64(&b, v), TG_OK); /* in mem when it fits, else moved to the heap */
    TG_CHECK_EQ_I((long long)b.len, 2 + wn);
    TG_CHECK(strcmp(b.data + 2, want) == 0);
    tgx_buf_free(&b);
    tgx_buf_init(&b, (size_t)wn - 1); /* one byte short of the ceiling: refused, nothing written */
    TG_CHECK_EQ_I(tgx_buf_u64(&b, v), TG_ELIMIT);
    TG_CHECK_EQ_I((long long)b.len, 0);
    tgx_buf_free(&b);
}

static void test_buf_u64(void) {
    for (uint64_t v = 0; v < 100000; v += (v < 2000 ? 1 : 7)) check_u64(v);
    uint64_t p = 1;
    for (int k = 0; k < 20; k++) {
        check_u64(p - 1);
        check_u64(p);
        check_u64(p + 1);
        if (k < 19) p *= 10;
    }
    check_u64(UINT64_MAX);
    check_u64(UINT64_MAX - 1);
    uint64_t x = 0x9e3779b97f4a7c15u; /* a spread of widths (xorshift) */
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_u64(x >> (i % 64));
    }
}

static void test_utf8_table(void) {
    /* Well-formed boundaries and the ill-formed cases of Unicode Table 3-7. */
    static const struct { const char *bytes; size_t len; uint32_t cp; } ok[] = {
        {"\x7F", 1, 0x7F}, {"\xC2\x80", 2, 0x80}, {"\xDF\xBF", 2, 0x7FF},
        {"\xE0\xA0\x80", 3, 0x800}, {"\xED\x9F\xBF", 3, 0xD7FF}, {"\xEE\x80\x80", 3, 0xE000},
        {"\xF0\x90\x80\x80", 4, 0x10000}, {"\xF4\x8F\xBF\xBF", 4, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint32_t cp = 0;
        TG_CHECK_EQ_U(tgx_utf8_decode((const uint8_t *)ok[i].bytes, ok[i].len, &cp), ok[i].len);
        TG_CHECK_EQ_U(cp, ok[i].cp);
        char out[4];
        TG_CHECK_EQ_U(tgx_utf8_encode(ok[i].cp, out), ok[i].len);
        TG_CHECK(memcmp(out, ok[i].bytes, ok[i].len) == 0);
    }
    static const struct { const char *bytes; size_t len; } bad[] = {
        {"\x80", 1}, {"\xC0\xAF", 2}, {"\xC1\xBF", 2}, {"\xE0\x9F\xBF", 3},
        {"\xED\xA0\x80", 3}, {"\xF0\x8F\xBF\xBF", 4}, {"\xF4\x90\x80\x80", 4},
        {"\xF5\x80\x80\x80", 4}, {"\xE2\x82", 2}, {"\xFF", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t cp;
        TG_CHECK_EQ_U(tgx_utf8_decode((const uint8_t *)bad[i].bytes, bad[i].len, &cp), 0);
    }
    size_t off = 99;
    TG_CHECK(!tgx_utf8_valid((const uint8_t *)"ab\xC3(", 4, &off));
    TG_CHECK_EQ_U(off, 2);
    TG_CHECK(tgx_utf8_valid((const uint8_t *)"h\xC3\xA9llo", 6, NULL));
}

static void test_read_file(void) {
    tgx_buf b;
    tg_error err;
    TG_CHECK_EQ_I(tgx_read_file(tg_source("tests/util/test_util.c"), 1 << 20, &b, &err), TG_OK);
    TG_CHECK(b.len > 100 && strstr(b.data, "test_read_file"));
    tgx_buf_free(&b);
    TG_CHECK_EQ_I(tgx_read_file(tg_source("tests/util/test_util.c"), 10, &b, &err), TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "10-byte limit");
    TG_CHECK_EQ_I(tgx_read_file("/nonexistent/x", 10, &b, &err), TG_EIO);
}

int main(void) {
    TG_RUN(test_buf_ceiling);
    TG_RUN(test_buf_with);
    TG_RUN(test_buf_u64);
    TG_RUN(test_utf8_table);
    TG_RUN(test_read_file);
    return tg_test_summary();
}
