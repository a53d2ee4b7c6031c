/* test_llamacpp_dialect.c: the llama-server dialect (TG_CHAT_LLAMACPP) renders
 * byte-identical prompts to llama-server's own /apply-template, recorded in
 * llamacpp_prompts.json by gen_llamacpp_prompts.sh (llama.cpp 0.5.0-dev, tiny
 * models from the qwen2, phi-3, qwen35, command-r and gemma-4 vocab GGUFs), over the
 * conversations and the rule-specific requests in llamacpp_requests/
 * (developer role, prefill with content parts, a lone system message, null
 * content and extra keys, object tool arguments, reasoning_effort, empty
 * tools and parts). A request llama-server refuses (null) must be refused.
 * The vocab GGUFs carry the same template and tokenizer as the tiny models;
 * BOS stripping follows the tokenizer's add_bos as tg_chat_count does.
 * Also: the dialect's context for a prefill request and the default dialect
 * staying as it was. The live comparison of counts is
 * test_llama_server_count.sh. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tg_test.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "chat_fixture.h"

static void test_prompts(void) {
    json_error_t je;
    json_t *root = json_load_file(tg_source("tests/template/llamacpp_prompts.json"), 0, &je);
    TG_CHECK(root != NULL);
    if (!root) return;
    const char *vocab;
    json_t *prompts;
    size_t checked = 0, refused = 0;
    json_object_foreach(json_object_get(root, "prompts"), vocab, prompts) {
        char rel[256];
        snprintf(rel, sizeof rel, "llama.cpp/models/ggml-vocab-%s.gguf", vocab);
        char path[4096];
        snprintf(path, sizeof path, "%s", tg_fixture(rel));
        tg_error err = {0};
        tg_tokenizer *tok;
        tg_chat *chat;
        if (!tgt_load_tok_chat(path, vocab, &tok, &chat)) continue;
        const char *file;
        json_t *want;
        json_object_foreach(prompts, file, want) {
            char frel[512];
            snprintf(frel, sizeof frel, "tests/template/%s", file);
            json_t *req = json_load_file(tg_source(frel), JSON_DECODE_INT_AS_REAL, &je);
            TG_CHECK(req != NULL);
            if (!req) continue;
            tg_chat_options opt;
            memset(&opt, 0, sizeof opt);
            opt.add_generation_prompt = -1;
            opt.dialect = TG_CHAT_LLAMACPP;
            opt.add_bos = tg_tokenizer_add_bos(tok) > 0;
            opt.add_eos = tg_tokenizer_add_eos(tok) > 0;
            opt.render.now = 1735689600;
            char *out = NULL;
            size_t n = 0;
            tg_status st = tg_chat_render(chat, req, &opt, &out, &n, &err);
            if (json_is_null(want)) {
                TG_CHECK(st != TG_OK);
                refused++;
            } else {
                if (st) fprintf(stderr, "%s x %s: %s\n", vocab, file, err.msg);
                TG_CHECK_EQ_I(st, TG_OK);
                if (!st && (n != json_string_length(want) || memcmp(out, json_string_value(want), n) != 0))
                    fprintf(stderr, "%s x %s: prompt differs from llama-server's\n--- tokgate\n%s\n--- llama-server\n%s\n",
                            vocab, file, out, json_string_value(want));
                if (!st) TG_CHECK_STR(out, json_string_value(want));
            }
            free(out);
            checked++;
            json_decref(req);
        }
        tg_tokenizer_free(tok);
        tg_chat_free(chat);
    }
    TG_CHECK(checked >= 130); /* 5 vocabularies x 27 requests */
    TG_CHECK(refused >= 6);
    json_decref(root);
}

/* The context of a prefill request holds the messages before the continued
 * one and no add_generation_prompt; the default dialect keeps the message. */
static void test_prefill_context(void) {
    const char *tpl = "{% for m in messages %}<{{ m.role }}>{{ m.content }}</>{% endfor %}"
                      "{% if add_generation_prompt %}<assistant>{% endif %}";
    tg_chat *chat = NULL;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg_chat_from_source(tpl, strlen(tpl), "", "", &chat, &err), TG_OK);
    if (!chat) return;
    json_t *req = json_loads("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"},"
                             " {\"type\": \"text\", \"text\": \"b\"}]}, {\"role\": \"assistant\", \"content\": \"Par\"}]}",
                             0, NULL);
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = TG_CHAT_LLAMACPP;
    json_t *ctx = NULL;
    const tg_template *t = NULL;
    TG_CHECK_EQ_I(tg_chat_context(chat, req, &opt, &ctx, &t, &err), TG_OK);
    TG_CHECK_EQ_U(json_array_size(json_object_get(ctx, "messages")), 1);
    TG_CHECK(json_object_get(ctx, "add_generation_prompt") == NULL);
    json_decref(ctx);
    char *out = NULL;
    size_t n = 0;
    /* Expected by llama.cpp's rules (common/chat.cpp): parts joined with "\n"
     * for a template that prints content; prompt + generation prompt + text. */
    TG_CHECK_EQ_I(tg_chat_render(chat, req, &opt, &out, &n, &err), TG_OK);
    if (out) TG_CHECK_STR(out, "<user>a\nb</><assistant>Par");
    free(out);
    opt.dialect = TG_CHAT_HF;
    out = NULL;
    TG_CHECK_EQ_I(tg_chat_render(chat, req, &opt, &out, &n, &err), TG_OK);
    if (out) TG_CHECK_CONTAINS(out, "<assistant>Par</>");
    free(out);
    json_decref(req);
    tg_chat_free(chat);
}

int main(void) {
    TG_RUN(test_prompts);
    TG_RUN(test_prefill_context);
    return tg_test_summary();
}
