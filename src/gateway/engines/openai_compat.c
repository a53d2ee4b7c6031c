/*
 * gateway/engines/openai_compat.c: engines known only by their OpenAI face
 * (engine.h): the plain OpenAI-compatible adapter, the fallback for any
 * upstream that answers GET /v1/models (vLLM has its own, engines/vllm.c).
 *
 *   plain        context: the entry's max_model_len or context_length when it
 *                gives one; no KV pool (admission off); chats counted as
 *                transformers renders them (TG_CHAT_HF); no thinking field of
 *                its own (chat_template_kwargs only); no continuation; errors
 *                in OpenAI's own shape already (relayed as they come).
 */
#include <stddef.h>

#include "gateway/engine.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"

static int read_models_plain(tg__upinfo *u, const json_t *j) {
    (void)u;
    return json_is_array(json_object_get(j, "data"));
}

static const tg__engine_probe probes_plain[] = {{"/v1/models", read_models_plain, NULL}, {NULL, NULL, NULL}};

static void model_ctx(const tg__upinfo *u, const json_t *entry, uint64_t *ctx, uint64_t *ctx_train) {
    (void)u;
    *ctx = tg__engine_juint(json_object_get(entry, "max_model_len"));
    if (!*ctx) *ctx = tg__engine_juint(json_object_get(entry, "context_length"));
    *ctx_train = 0;
}

static uint64_t no_capacity(const tg__upinfo *u) {
    (void)u;
    return 0;
}

/* OpenAI's routes as OpenAI-compatible servers serve them. */
static const tg__engine_route oai_routes[] = {
    {"/v1/chat/completions", "POST", TG__ER_CHAT, NULL},
    {"/v1/completions", "POST", TG__ER_COMPLETION, NULL},
    {"/v1/responses", "POST", TG__ER_REFUSE, "/v1/chat/completions"},
    {"/v1/messages", "POST", TG__ER_REFUSE, "/v1/chat/completions"},
    {"/v1/audio/transcriptions", "POST", TG__ER_REFUSE, NULL},
    {"/health", "GET", TG__ER_PASS, NULL},
    {"/v1/embeddings", "POST", TG__ER_PASS, NULL},
    {"/detokenize", "POST", TG__ER_PASS, NULL},
    {NULL, NULL, 0, NULL},
};

const tg__engine tg__engine_openai_compat = {
    .name = "openai-compatible",
    .probes = probes_plain,
    .model_ctx = model_ctx,
    .kv_capacity = no_capacity,
    .chat_dialect = TG_CHAT_HF,
    .thinking_dialect = TG_DIALECT_NONE,
    .cont = NULL,
    .map_error = NULL,
    .native_routes = oai_routes,
};
