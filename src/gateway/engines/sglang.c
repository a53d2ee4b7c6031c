/*
 * gateway/engines/sglang.c: the SGLang adapter (engine.h). Read from
 * sgl-project/sglang (commits named per file; the stand-in
 * tests/gateway/standin_sglang.js cites the same lines):
 *   python/sglang/srt/entrypoints/http_server.py @0025436e (routes,
 *     /get_server_info, /get_model_info, /generate's stream and its error
 *     event), python/sglang/srt/managers/tokenizer_manager.py
 *     (_validate_one_request: the overflow wording),
 *     python/sglang/srt/entrypoints/openai/serving_base.py @012bcb5f and
 *     protocol.py (ErrorResponse, ChatCompletionRequest).
 *
 *   discovery    GET /get_server_info (newer releases also /server_info):
 *                the server args (dataclasses.asdict(server_args):
 *                context_length, chunked_prefill_size, tokenizer_path,
 *                model_path ...) merged with the scheduler's info
 *                (max_total_num_tokens, max_req_input_len) and "version".
 *                max_total_num_tokens, a field no other engine serves, names
 *                SGLang. GET /get_model_info: model_path, tokenizer_path,
 *                is_generation. /v1/models entries carry max_model_len (the
 *                model config's context_len) as vLLM's do, which is why
 *                SGLang was taken for vLLM before this adapter (it now comes
 *                first in the registry).
 *   context      the scheduler's max_req_input_len is not the context: the
 *                model's context_len (server_args.context_length when the
 *                operator set it, else /v1/models max_model_len).
 *   engine count (issue 19) without a tokenizer file: a string prompt of
 *                /v1/completions is counted by POST /v1/tokenize (text only:
 *                chats stay estimated); see count_body below.
 *   KV pool      max_total_num_tokens: the tokens the KV cache holds, shared
 *                by every running request: admission's capacity.
 *   counting     chats rendered as transformers renders them (TG_CHAT_HF).
 *   thinking     SGLang has no per-request thinking budget field
 *                (ChatCompletionRequest: separate_reasoning, stream_reasoning,
 *                chat_template_kwargs e.g. {"enable_thinking": false}):
 *                TG_DIALECT_NONE; the budget is enforced by tokgate's cut
 *                (continuation below).
 *   continuation SGLang's streamed chat chunks carry no token ids (its
 *                logprobs give token text only; return_token_ids,
 *                return_prompt_token_ids, return_meta_info are refused with
 *                stream=true in serving_chat.py), so the first leg is counted
 *                by its usage and its text is handed back: POST
 *                /v1/chat/completions (not streamed, max_tokens 1) with that
 *                text as a final assistant message, continue_final_message
 *                and return_prompt_token_ids answers SGLang's ids of prompt
 *                + text (engine.h ids_from_prompt, prompt_body); a leg is
 *                POST /generate {"input_ids", "sampling_params":
 *                {"max_new_tokens"}, "stream": true}, read from its last
 *                event (text, output_ids, meta_info.finish_reason,
 *                completion_tokens). The thinking cut: the first leg is
 *                counted by its logprobs entries (one a token, asked for
 *                and stripped again); the kept thinking goes into the prompt
 *                request as the final assistant message's reasoning_content,
 *                which the chat template renders closed (Qwen3's does), so
 *                the leg answers; no budget message (it would be text
 *                between ids).
 *   errors       the OpenAI routes answer ErrorResponse at the top level:
 *                {"object":"error","message":..,"type":"BadRequest",
 *                "param":null,"code":400}; /generate answers
 *                {"error":{"message":..}}; inside a 200 stream both put
 *                `data: {"error": {...}}` (http_server.py generate_request's
 *                `except ValueError`; serving_chat's streaming error). The
 *                overflow words: "The input (N tokens) is longer than the
 *                model's context length (M tokens)." and "Requested token
 *                count exceeds the model's maximum context length of M
 *                tokens. You requested a total of T tokens: N tokens from the
 *                input messages and K tokens for the completion. ..."
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"
#include "util/buf.h"

static void set_model_path(tg__upinfo *u, const json_t *j) {
    const char *mp = json_string_value(json_object_get(j, "model_path"));
    char *c = mp ? strdup(mp) : NULL;
    if (!c) return;
    free(u->model_path);
    u->model_path = c;
}

/* /get_server_info and /server_info: one answer shape. */
static int read_server_info(tg__upinfo *u, const json_t *j) {
    json_t *kv = json_object_get(j, "max_total_num_tokens");
    if (!kv) { /* data-parallel servers nest the scheduler info per rank */
        json_t *st = json_array_get(json_object_get(j, "internal_states"), 0);
        kv = json_object_get(st, "max_total_num_tokens");
    }
    if (!kv || !json_object_get(j, "tokenizer_path")) return 0; /* not SGLang's */
    if (tg__engine_juint(kv)) u->kv_tokens = tg__engine_juint(kv);
    uint64_t ctx = tg__engine_juint(json_object_get(j, "context_length"));
    if (ctx) u->n_ctx = ctx;
    set_model_path(u, j);
    return 1;
}

static int read_model_info(tg__upinfo *u, const json_t *j) {
    if (!json_object_get(j, "is_generation") || !json_object_get(j, "model_path")) return 0;
    set_model_path(u, j);
    return 1;
}

static const tg__engine_probe probes[] = {
    {.path = "/get_server_info", .read = read_server_info},
    {.path = "/server_info", .read = read_server_info},
    {.path = "/get_model_info", .read = read_model_info},
    {.path = NULL},
};

static void model_ctx(const tg__upinfo *u, const json_t *entry, uint64_t *ctx, uint64_t *ctx_train) {
    *ctx = tg__engine_juint(json_object_get(entry, "max_model_len"));
    if (!*ctx && u) *ctx = u->n_ctx;
    *ctx_train = 0;
}

static uint64_t kv_capacity(const tg__upinfo *u) { return u ? u->kv_tokens : 0; }

/* ---- continuation ------------------------------------------------------------ */

/* The first leg asks for the usage chunk (its completion_tokens is the
 * count the prompt request's ids stand for) and for logprobs (one entry a
 * token: the count as it streams, for the thinking cut); SGLang's chat
 * stream gives no ids (return_token_ids, return_prompt_token_ids and
 * return_meta_info are refused with stream=true in serving_chat.py). */
static int ask_ids(json_t *req) {
    json_t *so = json_object_get(req, "stream_options");
    if (!json_is_object(so)) {
        if (json_object_set_new(req, "stream_options", json_object())) return -1;
        so = json_object_get(req, "stream_options");
    }
    if (json_object_set_new(so, "include_usage", json_true())) return -1;
    if (json_is_true(json_object_get(req, "logprobs"))) return 0;
    return json_object_set_new(req, "logprobs", json_true()) ? -1 : 1;
}

/* The prompt request: the forwarded chat with the text generated so far as
 * the final assistant message, continue_final_message (protocol.py
 * ChatCompletionRequest: the template renders it open, no end-of-turn), not
 * streamed, return_prompt_token_ids: choices[0].prompt_token_ids are then
 * SGLang's own ids of prompt + generated text. One token is generated and
 * dropped (max_tokens 1); the prefix is in SGLang's radix cache for the leg. */
static json_t *prompt_body(const json_t *fwd, const char *content, size_t cl, const char *reasoning, size_t rl) {
    json_t *o = json_deep_copy(fwd);
    json_t *msgs = json_object_get(o, "messages");
    json_t *a = json_pack("{s:s,s:s%}", "role", "assistant", "content", content, cl);
    if (!o || !json_is_array(msgs) || !a || json_array_append_new(msgs, a)) {
        json_decref(o);
        return NULL;
    }
    if (rl) json_object_set_new(a, "reasoning_content", json_stringn(reasoning, rl));
    static const char *const drop[] = {"stream_options", "logprobs", "top_logprobs", "max_completion_tokens", "n", NULL};
    for (const char *const *d = drop; *d; d++) json_object_del(o, *d);
    json_object_set_new(o, "stream", json_false());
    json_object_set_new(o, "max_tokens", json_integer(1));
    json_object_set_new(o, "continue_final_message", json_true());
    json_object_set_new(o, "return_prompt_token_ids", json_true());
    return o;
}

/* choices[0].prompt_token_ids, kept as JSON text (the adapter's own reading
 * of the `prompt` string leg_body gets back). */
static tg_status read_prompt(const char *body, size_t len, char **prompt, tg_error *err) {
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    json_t *ids = json_object_get(json_array_get(json_object_get(o, "choices"), 0), "prompt_token_ids");
    size_t i;
    json_t *v;
    int ok = json_is_array(ids) && json_array_size(ids) > 0;
    json_array_foreach(ids, i, v) if (!json_is_integer(v)) ok = 0;
    *prompt = ok ? tgx_json_dumps(ids, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!ok) return tg_error_set(err, TG_ECORRUPT, "SGLang's answer has no choices[0].prompt_token_ids");
    return *prompt ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
}

/* Chat fields -> SGLang's sampling_params of the same name
 * (python/sglang/srt/sampling/sampling_params.py SamplingParams). */
static const char *const sampling_keys[] = {
    "temperature", "top_p", "top_k", "min_p", "presence_penalty", "frequency_penalty", "repetition_penalty",
    "stop", "stop_token_ids", "ignore_eos", "skip_special_tokens", "no_stop_trim", NULL,
};

/* POST /generate {"input_ids": prompt ids + later legs' ids,
 * "sampling_params": {..., "max_new_tokens"}, "stream": true}
 * (io_struct.py GenerateReqInput). */
static json_t *leg_body(const char *prompt, const json_t *ids, const json_t *sampling, uint64_t n_predict) {
    json_error_t je;
    json_t *in = json_loads(prompt, 0, &je);
    json_t *o = json_object(), *sp = json_copy((json_t *)(uintptr_t)sampling);
    size_t i;
    json_t *v;
    int ok = json_is_array(in) && o && sp;
    json_array_foreach(in, i, v) if (!json_is_integer(v)) ok = 0;
    /* The later legs' ids; a text piece there is the close marker after a
     * thinking cut, which the prompt request already rendered (the kept
     * thinking as the final assistant message's reasoning_content, closed by
     * the chat template): not sent twice. */
    json_array_foreach(ids, i, v) if (ok && json_is_integer(v) && json_array_append(in, v)) ok = 0;
    if (!ok) {
        json_decref(in);
        json_decref(o);
        json_decref(sp);
        return NULL;
    }
    json_object_set_new(sp, "max_new_tokens", json_integer((json_int_t)n_predict));
    json_object_set_new(o, "input_ids", in);
    json_object_set_new(o, "sampling_params", sp);
    json_object_set_new(o, "stream", json_true());
    return o;
}

/* /generate's stream (tokenizer_manager.py out_dict): every event
 * {"text", "output_ids", "meta_info": {"prompt_tokens", "completion_tokens",
 * "finish_reason": null | {"type": "length"|"stop"|"abort", ...}}}; by
 * default (no --incremental-streaming-output) text and output_ids are the
 * whole leg's so far, so the last event carries the leg: read there. */
static int read_event(const json_t *o, tg__leg_event *ev) {
    if (json_object_get(o, "error")) return TG__LEG_ERROR;
    memset(ev, 0, sizeof *ev);
    ev->predicted = -1;
    json_t *mi = json_object_get(o, "meta_info");
    json_t *fr = json_object_get(mi, "finish_reason");
    if (!json_is_object(mi)) return TG__LEG_OTHER;
    if (!json_is_object(fr)) return TG__LEG_EVENT; /* not the last: nothing yet */
    json_t *t = json_object_get(o, "text"), *ids = json_object_get(o, "output_ids");
    ev->text = json_string_value(t);
    ev->text_len = ev->text ? json_string_length(t) : 0;
    ev->ids = json_is_array(ids) ? ids : NULL;
    ev->stop = 1;
    const char *type = json_string_value(json_object_get(fr, "type"));
    ev->length = type && !strcmp(type, "length");
    json_t *ct = json_object_get(mi, "completion_tokens");
    if (json_is_integer(ct) && json_integer_value(ct) >= 0) ev->predicted = json_integer_value(ct);
    if (ev->predicted >= 0 && (!ev->ids || json_array_size(ev->ids) != (size_t)ev->predicted)) {
        ev->text = NULL; /* deltas (--incremental-streaming-output): not the whole leg, so none of it: */
        ev->text_len = 0; /* the count then disagrees and the answer ends where it was (cont.c) */
        ev->ids = NULL;
    }
    return TG__LEG_EVENT;
}

static const tg__engine_cont cont = {
    .ask_ids = ask_ids,
    .prompt_path = "/v1/chat/completions",
    .read_prompt = read_prompt,
    .leg_path = "/generate",
    .leg_body = leg_body,
    .read_event = read_event,
    .sampling_keys = sampling_keys,
    .ids_from_prompt = 1,
    .prompt_body = prompt_body,
};

/* ---- errors ---------------------------------------------------------------- */

/* The number after `key` in s; 0 when absent. */
static uint64_t num_after(const char *s, const char *key) {
    const char *p = s ? strstr(s, key) : NULL;
    if (!p) return 0;
    p += strlen(key);
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    return end == p ? 0 : (uint64_t)v;
}

/* SGLang's two overflow messages -> n_prompt, n_ctx; 0 when neither. */
static int overflow_counts(const char *msg, uint64_t *n_prompt, uint64_t *n_ctx) {
    if (!msg) return 0;
    if (strstr(msg, "is longer than the model's context length")) {
        *n_prompt = num_after(msg, "The input (");
        *n_ctx = num_after(msg, "model's context length (");
        return 1;
    }
    if (strstr(msg, "Requested token count exceeds the model's maximum context length")) {
        *n_ctx = num_after(msg, "maximum context length of ");
        *n_prompt = num_after(msg, " tokens: "); /* "... T tokens: N tokens from the input messages" */
        return 1;
    }
    return 0;
}

/* The message and code of SGLang's error: ErrorResponse at the top level
 * ({"object":"error","message","type","param","code"}) or nested under
 * "error" (the in-stream events; /generate's {"error":{"message"}}). */
static const char *error_message(const json_t *o, int *code) {
    const json_t *e = json_object_get(o, "error");
    if (!json_is_object(e)) {
        const char *obj = json_string_value(json_object_get(o, "object"));
        if (!obj || strcmp(obj, "error") != 0) return NULL;
        e = o;
    }
    json_t *c = json_object_get(e, "code");
    *code = json_is_integer(c) ? (int)json_integer_value(c) : 0;
    return json_string_value(json_object_get(e, "message"));
}

/* SGLang's error in tokgate's shape; *out_status for an answer. */
static char *ours(const char *msg, int code, int *out_status) {
    uint64_t np = 0, nc = 0;
    if (overflow_counts(msg, &np, &nc)) {
        *out_status = 400;
        return tg__engine_overflow_error(np, nc, msg);
    }
    if (code == 400 || code == 422) { /* validation: OpenAI's invalid_request_error, SGLang's words */
        *out_status = 400;
        return tg_error_body_text(msg, "invalid_request_error", "invalid_request", NULL);
    }
    *out_status = code >= 500 && code < 600 ? code : 502;
    return tg_error_body_text(msg, "upstream_error", "engine_error", NULL);
}

static char *map_error(const char *body, size_t len, int status, int *out_status) {
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    int code = 0;
    const char *msg = error_message(o, &code);
    char *out = NULL;
    if (msg) {
        if (status >= 400 && (!code || code == 200)) code = status; /* /generate's nesting names none */
        out = ours(msg, code, out_status);
    }
    json_decref(o);
    return out;
}

/* An error event inside a 200 stream: /generate's {"error":{"message"}}
 * (http_server.py generate_request's `except ValueError`: a validation
 * error) or the chat route's {"error": ErrorResponse}. */
static char *map_stream_error(const char *data, size_t len) {
    json_error_t je;
    json_t *o = json_loadb(data, len, 0, &je);
    int code = 0, st = 0;
    const char *msg = json_is_object(json_object_get(o, "error")) ? error_message(o, &code) : NULL;
    char *out = msg ? ours(msg, code ? code : 400, &st) : NULL;
    json_decref(o);
    return out;
}

/* ---- counts from the engine (issue 19; engine.h count) --------------------
 * POST /v1/tokenize (python/sglang/srt/entrypoints/openai/serving_tokenize.py
 * @0351c1fa, OpenAIServingTokenize; http_server.py routes it at /v1/tokenize
 * and /tokenize): TokenizeRequest {model, prompt: str | list[str],
 * add_special_tokens}, answered {"tokens", "count", "max_model_len"}
 * (tokenizer.encode(prompt, add_special_tokens), the encode a string prompt
 * of /v1/completions gets in tokenizer_manager). It takes text only, no
 * messages: a chat is not counted so (it stays estimated without a
 * tokenizer file; SGLang has no route that renders a chat without running
 * it). */
static json_t *count_body(const json_t *request, int as_chat, const char *model) {
    json_t *p = json_object_get(request, "prompt");
    if (as_chat || !json_is_string(p)) return NULL;
    const char *name = model ? model : json_string_value(json_object_get(request, "model"));
    json_t *o = json_pack("{s:O,s:b}", "prompt", p, "add_special_tokens", 1);
    if (o && name && json_object_set_new(o, "model", json_string(name))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const tg__engine_count count = {"/v1/tokenize", count_body, tg__engine_count_read};

/* SGLang's routes (http_server.py). /generate is its native generation
 * (sampling_params.max_new_tokens, text or input_ids): refused, the OpenAI
 * routes reach the same engine with a budget. */
#define GEN(p, k, alt) {p, "POST", k, alt}
#define PASS(m, p) {p, m, TG__ER_PASS, NULL}
#define ADMIN(m, p) {p, m, TG__ER_ADMIN, NULL}
static const tg__engine_route native_routes[] = {
    GEN("/v1/chat/completions", TG__ER_CHAT, NULL),
    GEN("/v1/completions", TG__ER_COMPLETION, NULL),
    GEN("/generate", TG__ER_REFUSE, "/v1/completions"),
    GEN("/v1/responses", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/invocations", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/vertex_generate", TG__ER_REFUSE, "/v1/completions"),
    PASS("GET", "/health"),
    PASS("GET", "/health_generate"),
    PASS("GET", "/ping"),
    PASS("GET", "/get_model_info"),
    PASS("GET", "/get_server_info"),
    PASS("GET", "/server_info"),
    PASS("GET", "/get_load"),
    PASS("GET", "/get_weight_version"),
    PASS("POST", "/v1/embeddings"),
    PASS("POST", "/encode"),
    PASS("POST", "/v1/tokenize"),
    PASS("POST", "/tokenize"),
    PASS("POST", "/v1/detokenize"),
    PASS("POST", "/detokenize"),
    PASS("POST", "/v1/rerank"),
    PASS("POST", "/separate_reasoning"),
    PASS("POST", "/parse_function_call"),
    ADMIN("POST", "/flush_cache"),
    ADMIN("POST", "/abort_request"),
    ADMIN("POST", "/update_weights_from_disk"),
    ADMIN("POST", "/load_lora_adapter"),
    ADMIN("POST", "/unload_lora_adapter"),
    ADMIN("POST", "/set_internal_state"),
    ADMIN("POST", "/pause_generation"),
    ADMIN("POST", "/continue_generation"),
    {NULL, NULL, 0, NULL},
};
#undef GEN
#undef PASS
#undef ADMIN

const tg__engine tg__engine_sglang = {
    .name = "sglang",
    .probes = probes,
    .model_ctx = model_ctx,
    .kv_capacity = kv_capacity,
    .chat_dialect = TG_CHAT_HF,
    .thinking_dialect = TG_DIALECT_NONE,
    .cont = &cont,
    .map_error = map_error,
    .native_routes = native_routes,
    .map_stream_error = map_stream_error,
    .count = &count,
};
