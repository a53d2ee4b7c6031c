/*
 * chat_fixture.h: loads the tokenizer and chat template of one model for the
 * chat-count tests (test_chat_count.c: HF model directories;
 * test_llamacpp_dialect.c: llama.cpp vocab GGUFs).
 *
 * Header-only (static inline): tests/<layer>/test_*.c are each one ctest, so
 * shared test code lives in headers, not in test_*.c files.
 */
#ifndef TG_TESTS_CHAT_FIXTURE_H
#define TG_TESTS_CHAT_FIXTURE_H

#include <stdio.h>

#include "tg_test.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

/*
 * Loads both from `path` (a directory or a GGUF file); each load failing is a
 * failed check. Returns 1 with *tok and *chat set (the caller frees them), or
 * 0 after printing "<label>: <error>", with nothing left to free.
 */
static inline int tgt_load_tok_chat(const char *path, const char *label, tg_tokenizer **tok, tg_chat **chat) {
    tg_error err = {0};
    *tok = NULL;
    *chat = NULL;
    TG_CHECK_EQ_I(tg_tokenizer_load(path, tok, &err), TG_OK);
    TG_CHECK_EQ_I(tg_chat_load(path, chat, &err), TG_OK);
    if (!*tok || !*chat) {
        fprintf(stderr, "%s: %s\n", label, err.msg);
        tg_tokenizer_free(*tok);
        tg_chat_free(*chat);
        *tok = NULL;
        *chat = NULL;
        return 0;
    }
    return 1;
}

#endif
