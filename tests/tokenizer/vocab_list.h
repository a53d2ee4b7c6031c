/*
 * vocab_list.h: lists llama.cpp's test vocabularies for the tokenizer tests
 * that walk them (test_llama_vectors.c, test_gguf_specials.c).
 *
 * Header-only (static inline): tests/<layer>/test_*.c are each one ctest, so
 * shared test code lives in headers, not in test_*.c files.
 */
#ifndef TG_TESTS_VOCAB_LIST_H
#define TG_TESTS_VOCAB_LIST_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "util/file.h"

static inline int tgt_cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/*
 * Copies the path of $TG_FIXTURES/llama.cpp/models into dirpath (4096 bytes)
 * and fills names[0..cap) with the strdup'ed file names "ggml-vocab-*.gguf"
 * there, sorted bytewise; with need_inp, only those with a "<name>.inp"
 * vector file beside them. Returns how many (the caller frees each), or
 * SIZE_MAX after printing why when the directory cannot be opened.
 */
static inline size_t tgt_list_vocab_ggufs(char dirpath[4096], int need_inp, char **names, size_t cap) {
    snprintf(dirpath, 4096, "%s", tg_fixture("llama.cpp/models"));
    DIR *d = opendir(dirpath);
    if (!d) {
        fprintf(stderr, "%s: cannot open (run scripts/setup.sh --test)\n", dirpath);
        return SIZE_MAX;
    }
    size_t n = 0;
    struct dirent *e;
    while (n < cap && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 15 && strncmp(e->d_name, "ggml-vocab-", 11) == 0 && strcmp(e->d_name + l - 5, ".gguf") == 0) {
            if (need_inp) {
                char inp[4600];
                snprintf(inp, sizeof inp, "%s/%s.inp", dirpath, e->d_name);
                if (!tgx_file_exists(inp)) continue;
            }
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, tgt_cmp_str);
    return n;
}

#endif
