/*
 * test_tokenizer_gguf.c: tokenizers built from GGUF metadata alone
 * (tokenizer_gguf.c), on synthetic files written with tokgate's GGUF writer.
 * The real vocabularies are compared with llama.cpp in test_gguf_specials.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_test.h"
#include "tokgate/gguf_write.h"
#include "tokgate/tokenizer.h"

/* Writes w (freed) to a file under the build directory; its path in path. */
static int write_gguf(tg_gguf_writer *w, const char *name, char *path, size_t cap) {
    const char *bd = getenv("TG_BUILD_DIR");
    snprintf(path, cap, "%s/%s_%d.gguf", bd ? bd : "/tmp", name, (int)getpid());
    tg_error err = {0};
    tg_status st = tg_gguf_writer_to_file(w, path, &err);
    tg_gguf_writer_free(w);
    TG_CHECK_EQ_I(st, TG_OK);
    return st == TG_OK;
}

/* A SentencePiece vocabulary where no piece splits into two others has no
 * merges at all (spm_merges once handed qsort a NULL array then): it loads,
 * and text encodes character by character. */
static void test_spm_without_merges(void) {
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_error err = {0};
    tg_gguf_str toks[5] = {{"<unk>", 5}, {"<s>", 3}, {"</s>", 4}, {"a", 1}, {"b", 1}};
    TG_CHECK_EQ_I(tg_gguf_add_str(w, "tokenizer.ggml.model", "llama", 5, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_str_array(w, "tokenizer.ggml.tokens", toks, 5, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_bool(w, "tokenizer.ggml.add_space_prefix", 0, &err), TG_OK);
    char path[4096];
    if (!write_gguf(w, "test_tokenizer_gguf_spm", path, sizeof path)) return;
    tg_tokenizer *t = NULL;
    TG_CHECK_EQ_I(tg_tokenizer_load(path, &t, &err), TG_OK);
    unlink(path);
    if (!t) return;
    tg_tokens ids = {0};
    TG_CHECK_EQ_I(tg_tokenizer_encode(t, "abba", 4, 0, &ids, &err), TG_OK);
    TG_CHECK_EQ_U(ids.len, 4);
    if (ids.len == 4) {
        TG_CHECK_EQ_U(ids.ids[0], 3);
        TG_CHECK_EQ_U(ids.ids[1], 4);
        TG_CHECK_EQ_U(ids.ids[2], 4);
        TG_CHECK_EQ_U(ids.ids[3], 3);
    }
    tg_tokens_free(&ids);
    tg_tokenizer_free(t);
}

int main(void) {
    TG_RUN(test_spm_without_merges);
    return tg_test_summary();
}
