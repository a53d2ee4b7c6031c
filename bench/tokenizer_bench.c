/*
 * tokenizer_bench.c: tokgate's side of bench/run.sh. Single thread, public
 * API only (include/tokgate/tokenizer.h):
 *
 *   tokenizer_bench TOKENIZER [FILE...]
 *
 * prints "load <min> <median>" (tg_tokenizer_load, seconds over LOAD_RUNS
 * loads), "first <min> <median>" (the first tg_tokenizer_encode of a short
 * text on each freshly loaded tokenizer: what a lazy build would move there),
 * then per file one
 * line "<file> <bytes> <tokens> <seconds> <MB/s> <first MB/s>": the whole file
 * encoded in one tg_tokenizer_encode call (no special tokens added), best of
 * several repetitions (at least 3, and until 2 s have been spent), MB = 10^6
 * bytes; <first MB/s> is the first of those repetitions, before the
 * tokenizer's pre-token cache (kept across calls) holds this file's words
 * (it may hold earlier files' words). HF's BPE keeps a word cache across
 * calls too (10,000 words), so best-of against best-of compares like with
 * like.
 * Nothing here asserts a time; run.sh compares with HF and llama.cpp.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/runner.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define LOAD_RUNS 7

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    tg_cli_runner_install(); /* load as the tokgate program does (tokgate/runner.h) */
    if (argc < 2) {
        fprintf(stderr, "usage: %s TOKENIZER [FILE...]\n", argv[0]);
        return 2;
    }
    tg_error err = {0};
    tg_tokenizer *t = NULL;
    double load[LOAD_RUNS], first[LOAD_RUNS];
    static const char probe[] = "Hello world, this is the first encode. 12345 caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC";
    for (int r = 0; r < LOAD_RUNS; r++) {
        tg_tokenizer *x = NULL;
        double t0 = now_sec();
        if (tg_tokenizer_load(argv[1], &x, &err) != TG_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], err.msg);
            return 1;
        }
        load[r] = now_sec() - t0;
        tg_tokens out = {0};
        t0 = now_sec();
        if (tg_tokenizer_encode(x, probe, sizeof probe - 1, 0, &out, &err) != TG_OK) {
            fprintf(stderr, "%s: %s\n", argv[1], err.msg);
            return 1;
        }
        first[r] = now_sec() - t0;
        tg_tokens_free(&out);
        if (t) tg_tokenizer_free(t);
        t = x;
    }
    qsort(load, LOAD_RUNS, sizeof load[0], cmp_double);
    qsort(first, LOAD_RUNS, sizeof first[0], cmp_double);
    printf("load %.4f %.4f\n", load[0], load[LOAD_RUNS / 2]);
    printf("first %.6f %.6f\n", first[0], first[LOAD_RUNS / 2]);
    for (int i = 2; i < argc; i++) {
        tgx_buf b;
        tgx_buf_init(&b, (size_t)1 << 31);
        if (tgx_read_file(argv[i], b.max, &b, &err) != TG_OK) {
            fprintf(stderr, "%s: %s\n", argv[i], err.msg);
            return 1;
        }
        double best = 1e9, spent = 0, first_run = 0;
        size_t ntok = 0;
        for (int r = 0; r < 50 && (r < 3 || spent < 2.0); r++) {
            tg_tokens out = {0};
            double t0 = now_sec();
            if (tg_tokenizer_encode(t, b.data ? b.data : "", b.len, 0, &out, &err) != TG_OK) {
                fprintf(stderr, "%s: %s\n", argv[i], err.msg);
                return 1;
            }
            double dt = now_sec() - t0;
            spent += dt;
            if (r == 0) first_run = dt;
            if (dt < best) best = dt;
            ntok = out.len;
            tg_tokens_free(&out);
        }
        printf("%s %zu %zu %.6f %.3f %.3f\n", argv[i], b.len, ntok, best, best > 0 ? (double)b.len / best / 1e6 : 0.0,
               first_run > 0 ? (double)b.len / first_run / 1e6 : 0.0);
        fflush(stdout);
        tgx_buf_free(&b);
    }
    tg_tokenizer_free(t);
    return 0;
}
