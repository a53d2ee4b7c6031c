/*
 * detok_bench.c: streaming detokenizer cost. Encodes FILE with TOKENIZER,
 * then feeds the ids one at a time to tg_detok_feed (public API,
 * include/tokgate/tokenizer.h) and prints "ids <n> seconds <cpu> us/id <x>"
 * (CPU time, clock()). Nothing here asserts a time.
 *
 *   detok_bench TOKENIZER FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s TOKENIZER FILE\n", argv[0]);
        return 2;
    }
    tg_error err = {0};
    tg_tokenizer *t = NULL;
    if (tg_tokenizer_load(argv[1], &t, &err) != TG_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 30);
    if (tgx_read_file(argv[2], b.max, &b, &err) != TG_OK) {
        fprintf(stderr, "%s: %s\n", argv[2], err.msg);
        return 1;
    }
    tg_tokens toks = {0};
    if (tg_tokenizer_encode(t, b.data, b.len, 0, &toks, &err) != TG_OK) {
        fprintf(stderr, "encode: %s\n", err.msg);
        return 1;
    }
    tg_detok *d = NULL;
    if (tg_detok_new(t, 0, &d, &err) != TG_OK) return 1;
    size_t out = 0;
    clock_t c0 = clock();
    for (size_t i = 0; i < toks.len; i++) {
        const char *s;
        size_t n;
        if (tg_detok_feed(d, toks.ids[i], &s, &n, &err) != TG_OK) {
            fprintf(stderr, "feed: %s\n", err.msg);
            return 1;
        }
        out += n;
    }
    const char *s;
    size_t n;
    if (tg_detok_finish(d, &s, &n, &err) != TG_OK) return 1;
    out += n;
    double sec = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("ids %zu bytes_out %zu seconds %.3f us/id %.2f\n", toks.len, out, sec,
           toks.len ? sec * 1e6 / (double)toks.len : 0.0);
    tg_detok_free(d);
    tg_tokens_free(&toks);
    tgx_buf_free(&b);
    tg_tokenizer_free(t);
    return 0;
}
