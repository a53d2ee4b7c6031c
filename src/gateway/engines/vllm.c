/*
 * gateway/engines/vllm.c: the vLLM adapter (engine.h), issue 13. Read from
 * vllm-project/vllm v0.10.x (vllm/entrypoints/openai/protocol.py,
 * serving_engine.py, serving_chat.py, serving_completion.py, api_server.py;
 * vllm/v1/metrics/loggers.py at 005a810b) and the newer layout
 * (vllm/entrypoints/openai/engine/protocol.py: ErrorResponse{error: ErrorInfo}).
 *
 *   discovery    /v1/models entries carry max_model_len (protocol.py
 *                ModelCard): that names vLLM and is the context it enforces.
 *                GET /metrics (Prometheus text, loggers.py
 *                PrometheusStatLogger): vllm:cache_config_info{...,
 *                num_gpu_blocks="N",block_size="B",engine="i"} = 1 per engine
 *                core (log_metrics_info): the KV pool is the sum of N x B;
 *                vllm:kv_cache_usage_perc (vllm:gpu_cache_usage_perc before
 *                0.9), vllm:num_requests_running, vllm:num_requests_waiting:
 *                live use, shown in /v1/limits. No /metrics answer (or no
 *                cache_config_info): no KV pool known, admission off.
 *   counting     chats rendered as transformers renders them (TG_CHAT_HF).
 *   thinking     "thinking_token_budget" is refused unless the server runs
 *                with --reasoning-parser, and no endpoint says whether it
 *                does (ModelCard, /version {"version"}, cache_config_info
 *                carry nothing of it): chat_template_kwargs by default; a
 *                model whose server has a parser sets `dialect = vllm`.
 *   continuation the first leg is the chat request with logprobs and
 *                return_tokens_as_token_ids (each logprobs.content entry's
 *                token is "token_id:N", serving_engine.py
 *                _get_decoded_token); POST /tokenize with the forwarded chat
 *                body (TokenizeChatRequest: messages, add_generation_prompt)
 *                gives the prompt's ids ({"count","max_model_len","tokens"});
 *                a leg is POST /v1/completions with prompt = [prompt ids...,
 *                generated ids...] (CompletionRequest.prompt takes a list of
 *                ints), streamed with logprobs and return_tokens_as_token_ids:
 *                text_completion chunks whose choices[0].logprobs.tokens name
 *                the ids and whose finish_reason ends the leg. A prompt of ids
 *                holds no text: after the thinking cut, the end-of-thinking
 *                marker is tokenized first (POST /tokenize {"prompt": marker,
 *                "add_special_tokens": false}) and its ids go in the prompt.
 *   counting without a tokenizer file (issue 19): POST /tokenize with the
 *                chat's messages/tools (or a string prompt) answers the
 *                engine's own count (engine.h count; gateway/engine_count.h).
 *   errors       the overflow _validate_input raises (400, BadRequestError):
 *                "This model's maximum context length is N tokens. However,
 *                you requested M tokens (X in the messages, Y in the
 *                completion). ..." (v0.10), or "... your request has X input
 *                tokens ..." (later wording), in ErrorResponse: flat
 *                {"object":"error","message","type","param","code"} (v0.10)
 *                or {"error":{"message","type","param","code"}} (later), as
 *                a body or a stream's `data:` event.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"
#include "util/buf.h"

static int read_models(tg__upinfo *u, const json_t *j) {
    (void)u;
    return json_object_get(json_array_get(json_object_get(j, "data"), 0), "max_model_len") != NULL;
}

/* ---- /metrics: a tiny Prometheus text scanner ------------------------------- */

/* One sample line of the text format: name{labels} value. 1 when it is one. */
static int prom_line(const char *p, const char *end, const char **name, size_t *nl, const char **lab, size_t *ll,
                     double *val) {
    const char *q = p;
    while (q < end && (*q == '_' || *q == ':' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                       (*q >= '0' && *q <= '9')))
        q++;
    if (q == p) return 0; /* comments, blank lines */
    *name = p;
    *nl = (size_t)(q - p);
    *lab = NULL;
    *ll = 0;
    if (q < end && *q == '{') {
        const char *s = ++q;
        int quoted = 0;
        for (; q < end && (quoted || *q != '}'); q++) {
            if (quoted && *q == '\\' && q + 1 < end) q++;
            else if (*q == '"') quoted = !quoted;
        }
        if (q >= end) return 0;
        *lab = s;
        *ll = (size_t)(q - s);
        q++;
    }
    while (q < end && *q == ' ') q++;
    char num[64];
    size_t n = 0;
    while (q < end && *q != ' ' && n < sizeof num - 1) num[n++] = *q++;
    num[n] = 0;
    char *e = NULL;
    *val = strtod(num, &e);
    return n > 0 && e && !*e;
}

/* The value of label `key` (unescaped, at most outsz - 1 bytes). 1 found. */
static int prom_label(const char *lab, size_t ll, const char *key, char *out, size_t outsz) {
    size_t kl = strlen(key), i = 0;
    while (i < ll) {
        size_t ks = i;
        while (i < ll && lab[i] != '=') i++;
        if (i + 1 >= ll || lab[i + 1] != '"') return 0;
        int match = i - ks == kl && !memcmp(lab + ks, key, kl);
        size_t o = 0;
        for (i += 2; i < ll && lab[i] != '"'; i++) {
            if (lab[i] == '\\' && i + 1 < ll) i++;
            if (match && o < outsz - 1) out[o++] = lab[i];
        }
        if (match) {
            out[o] = 0;
            return 1;
        }
        i++; /* the closing quote */
        while (i < ll && (lab[i] == ',' || lab[i] == ' ')) i++;
    }
    return 0;
}

static uint64_t label_uint(const char *lab, size_t ll, const char *key) {
    char v[32];
    if (!prom_label(lab, ll, key, v, sizeof v) || v[0] < '0' || v[0] > '9') return 0;
    char *e = NULL;
    unsigned long long x = strtoull(v, &e, 10);
    return *e ? 0 : (uint64_t)x;
}

#define IS(lit) (nl == sizeof(lit) - 1 && memcmp(name, (lit), nl) == 0)

static int read_metrics(tg__upinfo *u, const char *body, size_t len) {
    const char *p = body, *end = body + len;
    uint64_t kv = 0, running = 0, waiting = 0;
    double usage = -1, usage_old = -1;
    int vllm = 0, live = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        const char *name, *lab;
        size_t nl, ll;
        double v;
        if (prom_line(p, eol, &name, &nl, &lab, &ll, &v)) {
            if (nl > 5 && !memcmp(name, "vllm:", 5)) vllm = 1;
            if (IS("vllm:cache_config_info")) {
                uint64_t nb = label_uint(lab, ll, "num_gpu_blocks"), bs = label_uint(lab, ll, "block_size");
                if (nb && bs && nb <= UINT64_MAX / bs && kv + nb * bs >= kv) kv += nb * bs;
            } else if (IS("vllm:kv_cache_usage_perc")) {
                if (v > usage) usage = v; /* the fullest engine core */
                live = 1;
            } else if (IS("vllm:gpu_cache_usage_perc")) {
                if (v > usage_old) usage_old = v;
            } else if (IS("vllm:num_requests_running") && v >= 0 && v < 1e15) {
                running += (uint64_t)v;
                live = 1;
            } else if (IS("vllm:num_requests_waiting") && v >= 0 && v < 1e15) {
                waiting += (uint64_t)v;
                live = 1;
            }
        }
        p = eol + 1;
    }
    if (!vllm) return 0;
    if (kv) u->kv_tokens = kv;
    if (usage < 0) usage = usage_old;
    u->live = live || usage >= 0;
    u->kv_usage = usage >= 0 ? usage : 0;
    u->reqs_running = running;
    u->reqs_waiting = waiting;
    return 1;
}
#undef IS

static const tg__engine_probe probes[] = {
    {"/v1/models", read_models, NULL},
    {"/metrics", NULL, read_metrics},
    {NULL, NULL, NULL},
};

static void model_ctx(const tg__upinfo *u, const json_t *entry, uint64_t *ctx, uint64_t *ctx_train) {
    (void)u;
    *ctx = tg__engine_juint(json_object_get(entry, "max_model_len"));
    *ctx_train = 0;
}

static uint64_t kv_capacity(const tg__upinfo *u) { return u ? u->kv_tokens : 0; }

/* ---- continuation -------------------------------------------------------- */

static int ask_ids(json_t *req) {
    int added = 0;
    if (!json_is_true(json_object_get(req, "logprobs"))) {
        if (json_object_set_new(req, "logprobs", json_true())) return -1;
        added = 1;
    }
    /* a client that asked for logprobs sees its tokens as "token_id:N" */
    if (!json_is_true(json_object_get(req, "return_tokens_as_token_ids")) &&
        json_object_set_new(req, "return_tokens_as_token_ids", json_true()))
        return -1;
    return added;
}

/* /tokenize's answer (TokenizeResponse): its "tokens" id list (a new
 * reference), or NULL with err set. */
static json_t *tokenize_ids(const char *body, size_t len, tg_error *err) {
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    json_t *t = json_object_get(o, "tokens");
    size_t i;
    json_t *e;
    int ok = json_is_array(t) && json_array_size(t) > 0;
    json_array_foreach(t, i, e) if (!json_is_integer(e)) ok = 0;
    json_t *ids = ok ? json_incref(t) : NULL;
    json_decref(o);
    if (!ok) tg_error_set(err, TG_ECORRUPT, "the upstream's /tokenize answer has no \"tokens\" id list");
    return ids;
}

/* The prompt's ids kept as JSON text (the cont protocol carries the prompt
 * as a string). */
static tg_status read_prompt(const char *body, size_t len, char **prompt, tg_error *err) {
    json_t *t = tokenize_ids(body, len, err);
    if (!t) return TG_ECORRUPT;
    *prompt = tgx_json_dumps(t, JSON_COMPACT);
    json_decref(t);
    return *prompt ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
}

static json_t *leg_body(const char *prompt, const json_t *ids, const json_t *sampling, uint64_t n_predict) {
    size_t i;
    json_t *e;
    json_array_foreach(ids, i, e) if (!json_is_integer(e)) return NULL; /* text: tokenized first (text_path) */
    json_error_t je;
    json_t *o = json_object(), *pr = json_loads(prompt, 0, &je);
    if (!o || !json_is_array(pr) || json_array_extend(pr, (json_t *)(uintptr_t)ids)) {
        json_decref(o);
        json_decref(pr);
        return NULL;
    }
    if (json_object_set_new(o, "prompt", pr)) { /* it took pr even so */
        json_decref(o);
        return NULL;
    }
    json_object_update(o, (json_t *)(uintptr_t)sampling);
    json_object_set_new(o, "max_tokens", json_integer((json_int_t)n_predict));
    json_object_set_new(o, "stream", json_true());
    json_object_set_new(o, "logprobs", json_integer(1));
    json_object_set_new(o, "return_tokens_as_token_ids", json_true());
    return o;
}

/* "token_id:N" -> N; -1 otherwise. */
static json_int_t token_id(const json_t *t) {
    const char *s = json_string_value(t);
    if (!s || strncmp(s, "token_id:", 9) != 0 || s[9] < '0' || s[9] > '9') return -1;
    char *e = NULL;
    long long v = strtoll(s + 9, &e, 10);
    return *e || v < 0 ? -1 : (json_int_t)v;
}

/* A /v1/completions stream chunk (serving_completion.py
 * completion_stream_generator): choices[0].text, .logprobs.tokens,
 * .finish_reason. The ids are kept on the event object itself (it lives as
 * long as the event is read). */
static int read_event(const json_t *o, tg__leg_event *ev) {
    const char *obj = json_string_value(json_object_get(o, "object"));
    if (json_object_get(o, "error") || !obj || !strcmp(obj, "error")) return TG__LEG_ERROR;
    memset(ev, 0, sizeof *ev);
    ev->predicted = -1;
    json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
    if (!ch) return TG__LEG_EVENT; /* a usage-only chunk */
    json_t *tx = json_object_get(ch, "text");
    ev->text = json_string_value(tx);
    ev->text_len = ev->text ? json_string_length(tx) : 0;
    json_t *toks = json_object_get(json_object_get(ch, "logprobs"), "tokens");
    json_t *ids = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(toks, i, t) {
        json_int_t id = token_id(t);
        json_array_append_new(ids, id >= 0 ? json_integer(id) : json_string("?")); /* "?": cont.c stops continuing */
    }
    if (ids && !json_object_set_new((json_t *)(uintptr_t)o, "\x01ids", ids))
        ev->ids = json_object_get(o, "\x01ids");
    const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
    ev->stop = fr != NULL;
    ev->length = fr && !strcmp(fr, "length");
    return TG__LEG_EVENT;
}

/* Sampling fields a chat request shares with /v1/completions
 * (protocol.py ChatCompletionRequest / CompletionRequest); "model" too, which
 * the completion request names. */
static const char *const sampling_keys[] = {
    "model", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stop_token_ids", "presence_penalty",
    "frequency_penalty", "repetition_penalty", "length_penalty", "ignore_eos", "logit_bias", "min_tokens",
    "skip_special_tokens", "spaces_between_special_tokens", "include_stop_str_in_output", "bad_words",
    "allowed_token_ids", "truncate_prompt_tokens", "priority", NULL,
};

/* The end-of-thinking marker (text) as ids: POST /tokenize
 * (TokenizeCompletionRequest: prompt, add_special_tokens default true: off,
 * the marker goes mid-sequence). */
static json_t *text_body(const char *text, size_t len) {
    return json_pack("{s:s%,s:b}", "prompt", text, len, "add_special_tokens", 0);
}

static tg_status read_text_ids(const char *body, size_t len, json_t **ids, tg_error *err) {
    *ids = tokenize_ids(body, len, err);
    return *ids ? TG_OK : TG_ECORRUPT;
}

static const tg__engine_cont cont = {.ask_ids = ask_ids,
                                     .prompt_path = "/tokenize",
                                     .read_prompt = read_prompt,
                                     .leg_path = "/v1/completions",
                                     .leg_body = leg_body,
                                     .read_event = read_event,
                                     .sampling_keys = sampling_keys,
                                     .text_path = "/tokenize",
                                     .text_body = text_body,
                                     .read_text_ids = read_text_ids};

/* ---- errors ---------------------------------------------------------------- */

/* The first number after `key` in s; 0 when none. */
static uint64_t num_after(const char *s, const char *key) {
    const char *p = s ? strstr(s, key) : NULL;
    if (!p) return 0;
    p += strlen(key);
    while (*p == ' ') p++;
    if (*p < '0' || *p > '9') return 0;
    return (uint64_t)strtoull(p, NULL, 10);
}

/* The number just before `key` in s ("(X in the messages", "X input tokens"). */
static uint64_t num_before(const char *s, const char *key) {
    const char *p = s ? strstr(s, key) : NULL;
    if (!p || p == s) return 0;
    const char *q = p;
    while (q > s && q[-1] >= '0' && q[-1] <= '9') q--;
    return q < p ? (uint64_t)strtoull(q, NULL, 10) : 0;
}

static char *map_error(const char *body, size_t len, int status, int *out_status) {
    (void)status;
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    json_t *e = json_object_get(o, "error");
    if (!json_is_object(e)) e = o; /* v0.10's flat ErrorResponse */
    const char *msg = json_string_value(json_object_get(e, "message"));
    char *out = NULL;
    uint64_t n_ctx = num_after(msg, "maximum context length is");
    if (n_ctx) {
        uint64_t n_prompt = num_before(msg, " in the messages,");
        if (!n_prompt) n_prompt = num_before(msg, " input tokens");
        if (!n_prompt) n_prompt = num_after(msg, "However, you requested");
        out = tg__engine_overflow_error(n_prompt, n_ctx, msg);
        *out_status = 400;
    }
    json_decref(o);
    return out;
}

/* ---- counts from the engine (issue 19; engine.h count) --------------------
 * POST /tokenize (serving_tokenization.py create_tokenize, v0.10.x): a chat
 * as TokenizeChatRequest (protocol.py: model, messages, tools,
 * add_generation_prompt default true, continue_final_message,
 * add_special_tokens default false, chat_template, chat_template_kwargs),
 * rendered by _preprocess_chat exactly as serving_chat.py renders the chat
 * request; a raw prompt (a string) as TokenizeCompletionRequest (prompt,
 * add_special_tokens default true, as CompletionRequest). The answer is
 * TokenizeResponse {"count", "max_model_len", "tokens"}. */
static const char *const tokenize_chat_keys[] = {
    "messages", "tools", "add_generation_prompt", "continue_final_message", "add_special_tokens",
    "chat_template", "chat_template_kwargs", "mm_processor_kwargs", NULL,
};

static json_t *count_body(const json_t *request, int as_chat, const char *model) {
    json_t *o = json_object();
    const char *name = model ? model : json_string_value(json_object_get(request, "model"));
    if (!o || (name && json_object_set_new(o, "model", json_string(name)))) goto fail;
    if (as_chat) {
        for (const char *const *k = tokenize_chat_keys; *k; k++) {
            json_t *v = json_object_get(request, *k);
            if (v && json_object_set(o, *k, v)) goto fail;
        }
        if (!json_is_array(json_object_get(o, "messages"))) goto fail;
        return o;
    }
    json_t *p = json_object_get(request, "prompt"); /* a list (ids, several prompts): not one TokenizeCompletionRequest */
    json_t *sp = json_object_get(request, "add_special_tokens");
    if (!json_is_string(p) || json_object_set(o, "prompt", p) || (sp && json_object_set(o, "add_special_tokens", sp)))
        goto fail;
    return o;
fail:
    json_decref(o);
    return NULL;
}

static const tg__engine_count count = {"/tokenize", count_body, tg__engine_count_read};

/* vLLM's routes (api_server.py build_app / the routers). */
#define GEN(p, k, alt) {p, "POST", k, alt}
#define PASS(m, p) {p, m, TG__ER_PASS, NULL}
static const tg__engine_route native_routes[] = {
    GEN("/v1/chat/completions", TG__ER_CHAT, NULL),
    GEN("/v1/completions", TG__ER_COMPLETION, NULL),
    GEN("/v1/responses", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/v1/messages", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/v1/audio/transcriptions", TG__ER_REFUSE, NULL),
    GEN("/v1/audio/translations", TG__ER_REFUSE, NULL),
    GEN("/inference/v1/generate", TG__ER_REFUSE, "/v1/completions"),
    PASS("GET", "/health"),
    PASS("GET", "/ping"),
    PASS("GET", "/version"),
    PASS("GET", "/metrics"),
    PASS("GET", "/load"),
    PASS("POST", "/tokenize"),
    PASS("POST", "/detokenize"),
    PASS("POST", "/v1/embeddings"),
    PASS("POST", "/pooling"),
    PASS("POST", "/classify"),
    PASS("POST", "/score"),
    PASS("POST", "/v1/score"),
    PASS("POST", "/rerank"),
    PASS("POST", "/v1/rerank"),
    PASS("POST", "/v2/rerank"),
    {"/v1/load_lora_adapter", "POST", TG__ER_ADMIN, NULL},
    {"/v1/unload_lora_adapter", "POST", TG__ER_ADMIN, NULL},
    {"/reset_prefix_cache", "POST", TG__ER_ADMIN, NULL},
    {"/sleep", "POST", TG__ER_ADMIN, NULL},
    {"/wake_up", "POST", TG__ER_ADMIN, NULL},
    {NULL, NULL, 0, NULL},
};
#undef GEN
#undef PASS

const tg__engine tg__engine_vllm = {
    .name = "vllm",
    .probes = probes,
    .model_ctx = model_ctx,
    .kv_capacity = kv_capacity,
    .chat_dialect = TG_CHAT_HF,
    .thinking_dialect = TG_DIALECT_NONE,
    .cont = &cont,
    .map_error = map_error,
    .native_routes = native_routes,
    .live_probe = &probes[1], /* GET /metrics: num_requests_running/waiting, kv_cache_usage_perc */
    .count = &count,
};
