/*
 * test_json_lex.c: util/json_lex.h's inline string path
 * (tgx_json_string_fast, issue 17) against tgx_json_string, the lexer the
 * strict readers are held to jansson with (test_req_scan, test_filter_usage,
 * their fuzz targets). The fast path must give that function's answer
 * exactly: the same verdict (the same static string), the same end offset,
 * the same flags. Checked on strings built from the bytes that decide
 * (quote, backslash, control, non-ASCII, NUL) at every offset of buffers of
 * 0..48 bytes (so each 16-byte step, the overlapping tail load and the
 * byte-loop fallback are crossed), and at every quote of every file of the
 * fuzz corpora of the readers that use it. The whole-buffer verdicts are
 * also jansson's (json_loadb of the string alone, JSON_ALLOW_NUL).
 */
#include "tg_test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_lex.h"

static size_t n_fast, n_slow; /* how many inputs each way ended (both must be exercised) */

/* fast == slow for the string at s[i]. */
static void same(const unsigned char *s, size_t n, size_t i) {
    size_t a = i, b = i;
    unsigned fa = 77, fb = 77;
    const char *wa = tgx_json_string_fast(s, n, &a, &fa);
    const char *wb = tgx_json_string(s, n, &b, &fb);
    int ok = wa == wb && a == b && fa == fb;
    if (!ok) {
        fprintf(stderr, "json_lex: fast %s/%zu/%u, slow %s/%zu/%u at %zu of %zu bytes:", wa ? wa : "ok", a, fa,
                wb ? wb : "ok", b, fb, i, n);
        for (size_t k = 0; k < n; k++) fprintf(stderr, " %02x", s[k]);
        fprintf(stderr, "\n");
    }
    TG_CHECK(ok);
    if (!wb && fb == 0) n_fast++;
    else n_slow++;
}

static void test_generated(void) {
    static const unsigned char alpha[] = {'a', 'a', 'a', 'a', 'a', 'a', 'z', ' ', '"', '\\', 'n', 'u', 'd', '0', '/',
                                          0x1f, 0x7f, 0x80, 0xc3, 0xa9, 0xed, 0xff, 0x00};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned char buf[48];
    for (int round = 0; round < 60000; round++) {
        size_t n = 1 + (size_t)(round % 48);
        int quotes = round % 3; /* rare quotes: long plain runs; frequent: early ends */
        for (size_t k = 0; k < n; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            unsigned r = (unsigned)(x >> 32);
            buf[k] = (r & 7) < (unsigned)(5 + quotes) ? (unsigned char)('a' + r % 26)
                                                      : alpha[(r >> 8) % sizeof alpha];
        }
        for (size_t i = 0; i < n; i++) {
            if (buf[i] != '"') continue;
            same(buf, n, i);
        }
        buf[0] = '"';
        same(buf, n, 0);
        /* the verdict on the whole buffer as a string is jansson's */
        size_t e = 0;
        unsigned fl = 0;
        const char *why = tgx_json_string_fast(buf, n, &e, &fl);
        int mine = !why && tgx_json_ws(buf, e, n) == n; /* only whitespace after it, as jansson's end check */
        json_t *j = json_loadb((const char *)buf, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        if (mine != (j != NULL)) {
            fprintf(stderr, "json_lex: mine %d jansson %d:", mine, j != NULL);
            for (size_t k = 0; k < n; k++) fprintf(stderr, " %02x", buf[k]);
            fprintf(stderr, "\n");
        }
        TG_CHECK(mine == (j != NULL));
        json_decref(j);
    }
}

/* Every quote of every corpus file of the readers that use the fast path. */
static void test_corpora(void) {
    static const char *const dirs[] = {"fuzz/corpus/fuzz_req_scan", "fuzz/corpus/fuzz_usage",
                                       "fuzz/corpus/fuzz_chat_body", "fuzz/corpus/fuzz_request"};
    size_t files = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; d++) {
        DIR *dir = opendir(dirs[d]);
        TG_CHECK(dir != NULL);
        if (!dir) continue;
        struct dirent *de;
        while ((de = readdir(dir))) {
            if (de->d_name[0] == '.') continue;
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[d], de->d_name);
            FILE *f = fopen(path, "rb");
            if (!f) continue;
            static unsigned char data[1 << 20];
            size_t n = fread(data, 1, sizeof data, f);
            fclose(f);
            files++;
            for (size_t i = 0; i < n; i++)
                if (data[i] == '"') same(data, n, i);
        }
        closedir(dir);
    }
    TG_CHECK(files > 50);
}

int main(void) {
    TG_RUN(test_generated);
    TG_RUN(test_corpora);
    fprintf(stderr, "json_lex: %zu strings ended inline-plain, %zu otherwise\n", n_fast, n_slow);
    TG_CHECK(n_fast > 1000 && n_slow > 1000);
    return tg_test_summary();
}
