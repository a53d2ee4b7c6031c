/*
 * bench/llama_count_bench.c: what one llama-server chat count costs tokgate
 * locally (tg_chat_count in the TG_CHAT_LLAMACPP dialect: request rewrite,
 * llama.cpp-semantics render, the family's own rules, tokenization) for each
 * request file given, on the GGUF given (its chat template and vocabulary).
 * bench/llama_count_bench.sh runs it beside llama-server's own
 * /apply-template + /tokenize round trip on the same requests, to choose
 * between counting locally and asking the engine (issue 19, item 1).
 * Prints: file, count, microseconds per count (CPU, best of 5 runs of N).
 * Nothing here asserts a time.
 *
 * Build (after a Release build of tokgate_static in build-rel):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/llama_count_bench.c build-rel/libtokgate.a \
 *      $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lm -o /tmp/llama_count_bench
 *   /tmp/llama_count_bench MODEL.gguf N request.json...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.gguf N request.json...\n", argv[0]);
        return 2;
    }
    tg_error err = {0};
    tg_tokenizer *tok = NULL;
    tg_chat *chat = NULL;
    if (tg_tokenizer_load(argv[1], &tok, &err) || tg_chat_load(argv[1], &chat, &err)) {
        fprintf(stderr, "%s: %s\n", argv[1], err.msg);
        return 1;
    }
    long n = strtol(argv[2], NULL, 10);
    if (n < 1) n = 1;
    for (int f = 3; f < argc; f++) {
        json_error_t je;
        json_t *req = json_load_file(argv[f], JSON_DECODE_INT_AS_REAL, &je);
        if (!req) { fprintf(stderr, "%s: %s\n", argv[f], je.text); continue; }
        tg_chat_options opt;
        memset(&opt, 0, sizeof opt);
        opt.add_generation_prompt = -1;
        opt.dialect = TG_CHAT_LLAMACPP;
        size_t count = 0;
        double best = 1e30;
        tg_status st = TG_OK;
        for (int r = 0; r < 5 && !st; r++) {
            double t0 = cpu();
            for (long i = 0; i < n && !st; i++) st = tg_chat_count(chat, tok, req, &opt, TG_ENCODE_ADD_SPECIAL, &count, &err);
            double dt = (cpu() - t0) / (double)n;
            if (dt < best) best = dt;
        }
        const char *name = strrchr(argv[f], '/');
        if (st) printf("%s\trefused\t%s\n", name ? name + 1 : argv[f], err.msg);
        else printf("%s\t%zu\t%.1f\n", name ? name + 1 : argv[f], count, best * 1e6);
        json_decref(req);
    }
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
    return 0;
}
