/*
 * call_bench.c: the fixed cost of one small tg_tokenizer_count call. Single
 * thread, public API only (include/tokgate/tokenizer.h):
 *
 *   call_bench TOKENIZER [TEXT]
 *
 * counts TEXT (default "Hello, wo!", 10 bytes) repeatedly for about 1 s of
 * CPU time, three rounds, and prints "calls/s <best> us/call <best>" (CPU
 * time: clock(), so other processes on a shared machine matter less).
 * Nothing here asserts a time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tokgate/tokenizer.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s TOKENIZER [TEXT]\n", argv[0]);
        return 2;
    }
    const char *text = argc > 2 ? argv[2] : "Hello, wo!";
    tg_error err = {0};
    tg_tokenizer *t = NULL;
    if (tg_tokenizer_load(argv[1], &t, &err) != TG_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    double best = 0;
    size_t n = 0;
    for (int r = 0; r < 3; r++) {
        clock_t c0 = clock();
        long calls = 0;
        while ((double)(clock() - c0) < 1.0 * CLOCKS_PER_SEC) {
            for (int i = 0; i < 200; i++) {
                if (tg_tokenizer_count(t, text, strlen(text), 0, &n, &err) != TG_OK) {
                    fprintf(stderr, "count: %s\n", err.msg);
                    return 1;
                }
            }
            calls += 200;
        }
        double s = (double)(clock() - c0) / CLOCKS_PER_SEC;
        if ((double)calls / s > best) best = (double)calls / s;
    }
    printf("tokens %zu calls/s %.0f us/call %.2f\n", n, best, 1e6 / best);
    tg_tokenizer_free(t);
    return 0;
}
