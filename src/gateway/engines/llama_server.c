/*
 * gateway/engines/llama_server.c: the llama.cpp llama-server adapter
 * (engine.h). Read from llama.cpp's tools/server (server.cpp routes,
 * server-context.cpp, server-common.cpp, server-task.cpp).
 *
 *   discovery    GET /props: default_generation_settings.n_ctx (the per-slot
 *                context it enforces), total_slots, model_path; a /props
 *                that answers with either is llama-server. /v1/models entries
 *                carry meta.n_ctx_train.
 *   live state   GET /slots (enabled unless --no-slots; a high-priority task
 *                in server-context.cpp, SERVER_TASK_TYPE_SLOT_GET): an array
 *                of {"id", "n_ctx", "is_processing", ...} per slot, polled
 *                every admission.engine_poll_ms for the slots busy now.
 *   KV pool      n_ctx x total_slots (the slots share nothing: each holds its
 *                own n_ctx of cache).
 *   counting     chats rendered as llama-server rewrites them (TG_CHAT_LLAMACPP).
 *   thinking     "thinking_budget_tokens" (server-common.cpp, read as
 *                reasoning_budget_tokens' alias).
 *   continuation the first leg is the chat request with logprobs (each chunk
 *                names its ids); POST /apply-template once on the forwarded
 *                body gives the server's own render ({"prompt": "..."}); a
 *                leg is POST /completion with prompt [text, ids..., text],
 *                which the server tokenizes piecewise (text with specials
 *                parsed, ids as they are), streamed with return_tokens:
 *                events {"content", "tokens": [...], "stop", and on the last
 *                "tokens_predicted", "stop_type": "limit"|"eos"|"word"}.
 *   errors       {"error":{"code":400,"message":..,"type":
 *                "exceed_context_size_error","n_prompt_tokens":..,"n_ctx":..}}
 *                (server-task.cpp server_task_result_error::to_json), as an
 *                answer body or as a `data:` event of a stream.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"

static int read_props(tg__upinfo *u, const json_t *j) {
    json_t *dgs = json_object_get(j, "default_generation_settings");
    json_t *nctx = json_object_get(dgs, "n_ctx");
    if (!nctx) nctx = json_object_get(j, "n_ctx");
    json_t *slots = json_object_get(j, "total_slots");
    if (!nctx && !slots) return 0; /* some other engine's /props */
    if (tg__engine_juint(nctx)) u->n_ctx = tg__engine_juint(nctx);
    if (tg__engine_juint(slots)) u->total_slots = tg__engine_juint(slots);
    u->kv_tokens = u->n_ctx ? u->n_ctx * (u->total_slots ? u->total_slots : 1) : 0;
    const char *mp = json_string_value(json_object_get(j, "model_path"));
    if (mp) {
        char *c = strdup(mp);
        if (c) {
            free(u->model_path);
            u->model_path = c;
        }
    }
    return 1;
}

static const tg__engine_probe probes[] = {{"/props", read_props, NULL}, {NULL, NULL, NULL}};

int tg__llama_read_slots(tg__upinfo *u, const json_t *j) {
    if (!json_is_array(j) || json_array_size(j) == 0) return 0;
    uint64_t busy = 0, n_ctx = 0;
    size_t i;
    json_t *slot;
    json_array_foreach(j, i, slot) {
        json_t *p = json_object_get(slot, "is_processing");
        if (!json_is_boolean(p)) return 0; /* not llama-server's /slots */
        if (json_is_true(p)) busy++;
        if (!n_ctx) n_ctx = tg__engine_juint(json_object_get(slot, "n_ctx"));
    }
    u->busy_slots = busy;
    u->have_busy = 1;
    u->total_slots = json_array_size(j);
    if (n_ctx) u->n_ctx = n_ctx;
    u->kv_tokens = u->n_ctx ? u->n_ctx * u->total_slots : 0;
    return 1;
}

static const tg__engine_probe live_probe = {"/slots", tg__llama_read_slots, NULL};

static void model_ctx(const tg__upinfo *u, const json_t *entry, uint64_t *ctx, uint64_t *ctx_train) {
    *ctx = u && u->n_ctx ? u->n_ctx : 0;
    *ctx_train = tg__engine_juint(json_object_get(json_object_get(entry, "meta"), "n_ctx_train"));
}

static uint64_t kv_capacity(const tg__upinfo *u) { return u ? u->kv_tokens : 0; }

/* ---- continuation -------------------------------------------------------- */

static int ask_ids(json_t *req) {
    if (!json_is_true(json_object_get(req, "logprobs"))) {
        if (json_object_set_new(req, "logprobs", json_true()) || json_object_set_new(req, "top_logprobs", json_integer(1)))
            return -1;
        return 1;
    }
    if (json_integer_value(json_object_get(req, "top_logprobs")) < 1 &&
        json_object_set_new(req, "top_logprobs", json_integer(1)))
        return -1;
    return 0;
}

static tg_status read_prompt(const char *body, size_t len, char **prompt, tg_error *err) {
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    const char *p = json_string_value(json_object_get(o, "prompt"));
    if (!p) {
        json_decref(o);
        return tg_error_set(err, TG_ECORRUPT, "the upstream's /apply-template answer has no \"prompt\" string");
    }
    *prompt = strdup(p);
    json_decref(o);
    return *prompt ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
}

static json_t *leg_body(const char *prompt, const json_t *ids, const json_t *sampling, uint64_t n_predict) {
    json_t *o = json_object(), *pr = json_array();
    if (!o || !pr) {
        json_decref(o);
        json_decref(pr);
        return NULL;
    }
    if (json_object_set_new(o, "prompt", pr) || json_array_append_new(pr, json_string(prompt)) ||
        json_array_extend(pr, (json_t *)(uintptr_t)ids)) {
        json_decref(o);
        return NULL;
    }
    json_object_update(o, (json_t *)(uintptr_t)sampling);
    json_object_set_new(o, "n_predict", json_integer((json_int_t)n_predict));
    json_object_set_new(o, "stream", json_true());
    json_object_set_new(o, "return_tokens", json_true());
    json_object_set_new(o, "cache_prompt", json_true());
    return o;
}

static int read_event(const json_t *o, tg__leg_event *ev) {
    if (json_object_get(o, "error")) return TG__LEG_ERROR;
    memset(ev, 0, sizeof *ev);
    json_t *c = json_object_get(o, "content");
    json_t *toks = json_object_get(o, "tokens");
    ev->text = json_string_value(c);
    ev->text_len = ev->text ? json_string_length(c) : 0;
    ev->ids = json_is_array(toks) ? toks : NULL;
    ev->stop = json_is_true(json_object_get(o, "stop"));
    ev->predicted = -1;
    if (ev->stop) {
        json_t *tp = json_object_get(o, "tokens_predicted");
        if (json_is_integer(tp) && json_integer_value(tp) >= 0) ev->predicted = json_integer_value(tp);
        const char *st = json_string_value(json_object_get(o, "stop_type"));
        ev->length = st && !strcmp(st, "limit");
    }
    return TG__LEG_EVENT;
}

/* Sampling fields a chat request shares with /completion. */
static const char *const sampling_keys[] = {
    "temperature", "top_p", "top_k", "min_p", "typical_p", "seed", "stop", "presence_penalty",
    "frequency_penalty", "repeat_penalty", "repeat_last_n", "dry_multiplier", "dry_base",
    "dry_allowed_length", "dry_penalty_last_n", "dry_sequence_breakers", "xtc_probability",
    "xtc_threshold", "mirostat", "mirostat_tau", "mirostat_eta", "samplers", "ignore_eos",
    "logit_bias", "top_n_sigma", "dynatemp_range", "dynatemp_exponent", "id_slot", NULL,
};

static const tg__engine_cont cont = {.ask_ids = ask_ids,
                                     .prompt_path = "/apply-template",
                                     .read_prompt = read_prompt,
                                     .leg_path = "/completion",
                                     .leg_body = leg_body,
                                     .read_event = read_event,
                                     .sampling_keys = sampling_keys};

/* ---- errors ---------------------------------------------------------------- */

static char *map_error(const char *body, size_t len, int status, int *out_status) {
    (void)status;
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    json_t *e = json_object_get(o, "error");
    const char *type = json_string_value(json_object_get(e, "type"));
    char *out = NULL;
    if (type && !strcmp(type, "exceed_context_size_error")) {
        out = tg__engine_overflow_error(tg__engine_juint(json_object_get(e, "n_prompt_tokens")),
                                        tg__engine_juint(json_object_get(e, "n_ctx")),
                                        json_string_value(json_object_get(e, "message")));
        *out_status = 400;
    }
    json_decref(o);
    return out;
}

/* llama-server's routes (tools/server/server.cpp registers them). Its
 * /completion and /completions are the native completion (n_predict, token
 * id prompts, its own answer shape), not OpenAI's: refused, /v1/completions
 * reaches the same engine with a budget. */
#define GEN(p, k, alt) {p, "POST", k, alt}
#define PASS(m, p) {p, m, TG__ER_PASS, NULL}
static const tg__engine_route native_routes[] = {
    GEN("/v1/chat/completions", TG__ER_CHAT, NULL),
    GEN("/chat/completions", TG__ER_CHAT, NULL), /* OpenAI's path without /v1: the same handler */
    GEN("/v1/completions", TG__ER_COMPLETION, NULL),
    GEN("/completion", TG__ER_REFUSE, "/v1/completions"),
    GEN("/completions", TG__ER_REFUSE, "/v1/completions"),
    GEN("/infill", TG__ER_REFUSE, "/v1/completions"),
    GEN("/v1/responses", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/responses", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/v1/messages", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/v1/audio/transcriptions", TG__ER_REFUSE, NULL),
    GEN("/audio/transcriptions", TG__ER_REFUSE, NULL),
    GEN("/v1/chat/completions/control", TG__ER_REFUSE, NULL), /* acts on another request's generation */
    PASS("GET", "/health"),
    PASS("GET", "/v1/health"),
    PASS("GET", "/props"),
    PASS("GET", "/slots"),
    PASS("GET", "/lora-adapters"),
    PASS("POST", "/detokenize"),
    PASS("POST", "/apply-template"),
    PASS("POST", "/chat/completions/input_tokens"),
    PASS("POST", "/v1/chat/completions/input_tokens"),
    PASS("POST", "/responses/input_tokens"),
    PASS("POST", "/v1/responses/input_tokens"),
    PASS("POST", "/v1/messages/count_tokens"),
    PASS("POST", "/embedding"),
    PASS("POST", "/embeddings"),
    PASS("POST", "/v1/embeddings"),
    PASS("POST", "/rerank"),
    PASS("POST", "/reranking"),
    PASS("POST", "/v1/rerank"),
    PASS("POST", "/v1/reranking"),
    {"/props", "POST", TG__ER_ADMIN, NULL},
    {"/lora-adapters", "POST", TG__ER_ADMIN, NULL},
    {"/slots/", "POST", TG__ER_ADMIN, NULL}, /* /slots/{id}?action=save|restore|erase */
    {NULL, NULL, 0, NULL},
};
#undef GEN
#undef PASS

const tg__engine tg__engine_llama_server = {
    .name = "llama.cpp",
    .probes = probes,
    .model_ctx = model_ctx,
    .kv_capacity = kv_capacity,
    .chat_dialect = TG_CHAT_LLAMACPP,
    .thinking_dialect = TG_DIALECT_LLAMACPP,
    .cont = &cont,
    .map_error = map_error,
    .native_routes = native_routes,
    .live_probe = &live_probe,
};
