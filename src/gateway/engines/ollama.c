/*
 * gateway/engines/ollama.c: the Ollama adapter (engine.h). Read from
 * ollama/ollama v0.33.0-rc2 (commit fb30760): api/types.go (the request and
 * answer shapes), server/routes.go (the routes, their errors),
 * llm/llama_server.go (the overflow error), openai/openai.go (the OpenAI
 * face's error shape).
 *
 *   discovery    GET /api/tags ({"models": [{name, model, size, details:
 *                {family, parameter_size, quantization_level}}]}) and
 *                GET /api/version ({"version"}) recognise it; GET /api/ps
 *                ({"models": [{name, context_length, size_vram, expires_at}]},
 *                the loaded runners) and, per model, POST /api/show
 *                {"model": id} (its "model_info": the GGUF keys
 *                general.architecture, <arch>.context_length,
 *                <arch>.block_count, <arch>.attention.head_count(_kv),
 *                <arch>.attention.key_length / value_length,
 *                <arch>.embedding_length, ...) are kept in u->model_info.
 *   context      Ollama enforces the num_ctx each request sends (tokgate sends
 *                the derived context), so the engine's own figure is the
 *                trained <arch>.context_length (ctx_train), and the profile
 *                (model_profile) is the model_info written back as a GGUF
 *                header and read by the library's GGUF rules
 *                (tg_model_from_gguf): the KV bytes per token and the VRAM
 *                ceiling come from the same formula as for a model file.
 *   KV pool      not exposed (OLLAMA_NUM_PARALLEL is not reported): 0,
 *                admission off.
 *   native       POST /api/chat and /api/generate are budgeted: native_in
 *                gives the budget an OpenAI body (messages; system + prompt
 *                as a chat, raw: true as a completion; options.num_predict
 *                > 0 as max_tokens, -1 (infinite) and -2 (fill the context)
 *                as none; stream defaults to true; think: false as
 *                enable_thinking: false, a level as reasoning_effort), native_out writes back
 *                options.num_ctx = the derived context (Ollama never
 *                truncates silently: ollama/ollama#8099), options.num_predict
 *                = the decided max_tokens, think: false when the budget
 *                turned thinking off, and truncate: false unless the client
 *                set it (Ollama's default true cuts the history silently). The answer (NDJSON when streaming) is
 *                relayed as it comes: no continuation or escalation there.
 *   errors       {"error": "..."} with the HTTP status (server/routes.go);
 *                an overflow says "the input length exceeds the context
 *                length" (llm/llama_server.go, server/routes.go) or "input
 *                after truncation exceeds maximum context length"; the
 *                OpenAI face wraps the same text in {"error": {"message"}}
 *                (openai/openai.go NewError).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"
#include "tokgate/gguf.h"
#include "tokgate/gguf_write.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"
#include "util/buf.h"

/* u->model_info[id][key] = v (v taken). */
static void info_set(tg__upinfo *u, const char *id, const char *key, json_t *v) {
    if (!u->model_info) u->model_info = json_object();
    json_t *o = json_object_get(u->model_info, id);
    if (!o) {
        o = json_object();
        json_object_set_new(u->model_info, id, o);
    }
    json_object_set_new(o, key, v);
}

static const json_t *info_get(const tg__upinfo *u, const json_t *entry, const char *key) {
    const char *id = json_string_value(json_object_get(entry, "id"));
    return u && id ? json_object_get(json_object_get(u->model_info, id), key) : NULL;
}

static int read_tags(tg__upinfo *u, const json_t *j) {
    (void)u;
    const json_t *ms = json_object_get(j, "models");
    const json_t *m0 = json_array_get(ms, 0);
    return json_is_array(ms) && (!m0 || (json_object_get(m0, "model") && json_object_get(m0, "details")));
}

static int read_version(tg__upinfo *u, const json_t *j) {
    (void)u;
    return json_is_string(json_object_get(j, "version")) && json_object_size(j) == 1;
}

static int read_ps(tg__upinfo *u, const json_t *j) {
    size_t i;
    json_t *m;
    const char *k;
    json_t *o;
    /* a runner no longer listed was unloaded: its KV cache is free again */
    if (json_is_array(json_object_get(j, "models"))) {
        json_object_foreach(u->model_info, k, o) {
            json_object_del(o, "ps");
        }
    }
    json_array_foreach(json_object_get(j, "models"), i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        if (name && json_object_get(m, "context_length")) info_set(u, name, "ps", json_deep_copy(m));
    }
    return 0; /* other engines may answer a /api/ps too */
}

static const tg__engine_probe probes[] = {{.path = "/api/tags", .read = read_tags},
                                          {.path = "/api/version", .read = read_version},
                                          {.path = "/api/ps", .read = read_ps},
                                          {.path = NULL}};

static char *show_body(const char *id) {
    json_t *o = json_pack("{s:s}", "model", id);
    char *s = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static void read_show(tg__upinfo *u, const char *id, const json_t *j) {
    json_t *mi = json_object_get(j, "model_info");
    if (json_is_object(mi)) info_set(u, id, "show", json_deep_copy(mi));
}

static const tg__engine_post_probe post_probes[] = {{"/api/show", show_body, read_show}, {NULL, NULL, NULL}};

/* model_info's "<general.architecture>.<suffix>". */
static const json_t *arch_key(const json_t *mi, const char *suffix) {
    const char *arch = json_string_value(json_object_get(mi, "general.architecture"));
    char k[160];
    if (!arch || snprintf(k, sizeof k, "%s.%s", arch, suffix) >= (int)sizeof k) return NULL;
    return json_object_get(mi, k);
}

static void model_ctx(const tg__upinfo *u, const json_t *entry, uint64_t *ctx, uint64_t *ctx_train) {
    *ctx = 0; /* what it enforces is the num_ctx tokgate sends */
    *ctx_train = tg__engine_juint(arch_key(info_get(u, entry, "show"), "context_length"));
}

static uint64_t no_capacity(const tg__upinfo *u) {
    (void)u;
    return 0;
}

/* One model_info value as a GGUF pair: integers, reals, booleans, strings
 * and arrays of integers (per-layer head counts); the rest is skipped. */
static tg_status add_pair(tg_gguf_writer *w, const char *k, const json_t *v, tg_error *err) {
    if (json_is_integer(v))
        return json_integer_value(v) >= 0 ? tg_gguf_add_u64(w, k, (uint64_t)json_integer_value(v), err)
                                          : tg_gguf_add_i64(w, k, json_integer_value(v), err);
    if (json_is_real(v)) return tg_gguf_add_f64(w, k, json_real_value(v), err);
    if (json_is_boolean(v)) return tg_gguf_add_bool(w, k, json_is_true(v), err);
    if (json_is_string(v)) return tg_gguf_add_str(w, k, json_string_value(v), json_string_length(v), err);
    size_t n = json_array_size(v);
    if (!n || !json_is_integer(json_array_get(v, 0)) || n > 4096) return TG_OK;
    int64_t a[4096];
    for (size_t i = 0; i < n; i++) a[i] = json_integer_value(json_array_get(v, i));
    return tg_gguf_add_array(w, k, TG_GGUF_INT64, a, n, err);
}

static int model_profile(const tg__upinfo *u, const json_t *entry, tg_model_profile *out) {
    const json_t *mi = info_get(u, entry, "show");
    if (!json_is_object(mi) || !arch_key(mi, "block_count")) return 0;
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_error err;
    tg_status st = w ? TG_OK : TG_ENOMEM;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)mi, k, v) if (st == TG_OK) st = add_pair(w, k, v, &err);
    void *mem = NULL;
    size_t len = 0;
    tg_gguf *g = NULL;
    if (st == TG_OK) st = tg_gguf_writer_to_memory(w, &mem, &len, &err);
    if (st == TG_OK) st = tg_gguf_open_buffer(mem, len, &g, &err);
    if (st == TG_OK) st = tg_model_from_gguf(g, out, &err);
    tg_gguf_close(g);
    free(mem);
    tg_gguf_writer_free(w);
    return st == TG_OK;
}

/* ---- native routes ---------------------------------------------------------- */

static json_t *native_in(const json_t *nat, int *as_chat) {
    json_t *o = json_object();
    if (!o || !json_is_object(nat)) {
        json_decref(o);
        return NULL;
    }
    const json_t *model = json_object_get(nat, "model");
    if (model) json_object_set(o, "model", (json_t *)(uintptr_t)model);
    const json_t *msgs = json_object_get(nat, "messages");
    const char *prompt = json_string_value(json_object_get(nat, "prompt"));
    const char *system = json_string_value(json_object_get(nat, "system"));
    if (*as_chat || !json_is_true(json_object_get(nat, "raw"))) {
        *as_chat = 1;
        if (json_is_array(msgs)) json_object_set_new(o, "messages", json_deep_copy(msgs));
        else {
            json_t *a = json_array();
            if (system) json_array_append_new(a, json_pack("{s:s,s:s}", "role", "system", "content", system));
            json_array_append_new(a, json_pack("{s:s,s:s}", "role", "user", "content", prompt ? prompt : ""));
            json_object_set_new(o, "messages", a);
        }
    } else json_object_set_new(o, "prompt", json_string(prompt ? prompt : ""));
    const json_t *np = json_object_get(json_object_get(nat, "options"), "num_predict");
    if (json_is_integer(np) && json_integer_value(np) > 0) json_object_set(o, "max_tokens", (json_t *)(uintptr_t)np);
    json_object_set_new(o, "stream", json_boolean(!json_is_false(json_object_get(nat, "stream"))));
    const json_t *think = json_object_get(nat, "think"); /* api/types.go ThinkValue: a bool or "low"|"medium"|"high" */
    if (json_is_false(think))
        json_object_set_new(o, "chat_template_kwargs", json_pack("{s:b}", "enable_thinking", 0));
    else if (json_is_string(think))
        json_object_set(o, "reasoning_effort", (json_t *)(uintptr_t)think);
    return o;
}

static int native_out(json_t *nat, const json_t *decided, uint64_t context, uint64_t max_tokens) {
    json_t *opt = json_object_get(nat, "options");
    if (!json_is_object(opt)) {
        opt = json_object();
        if (!opt || json_object_set_new(nat, "options", opt)) return -1;
    }
    if (context && json_object_set_new(opt, "num_ctx", json_integer((json_int_t)context))) return -1;
    if (max_tokens && json_object_set_new(opt, "num_predict", json_integer((json_int_t)max_tokens))) return -1;
    /* Ollama truncates the history when "truncate" is unset (server/routes.go
     * ChatHandler: req.Truncate == nil || *req.Truncate); false makes it
     * answer "the input length exceeds the context length" instead, which
     * map_error turns into context_length_exceeded. A client's own value stays. */
    if (!json_object_get(nat, "truncate") && json_object_set_new(nat, "truncate", json_false())) return -1;
    const json_t *kw = json_object_get(decided, "chat_template_kwargs");
    if (json_is_false(json_object_get(kw, "enable_thinking")) && json_object_set_new(nat, "think", json_false()))
        return -1;
    const json_t *msgs = json_object_get(decided, "messages"); /* truncated by the policy, perhaps */
    if (json_is_array(json_object_get(nat, "messages")) && json_is_array(msgs))
        json_object_set_new(nat, "messages", json_deep_copy(msgs));
    return 0;
}

/* ---- errors ---------------------------------------------------------------- */

static int overflow_text(const char *t) {
    return t && (strstr(t, "exceeds the context length") || strstr(t, "exceeds maximum context length"));
}

static char *map_error(const char *body, size_t len, int status, int *out_status) {
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    json_t *e = json_object_get(o, "error");
    const char *text = json_is_string(e) ? json_string_value(e) : json_string_value(json_object_get(e, "message"));
    char *out = NULL;
    if (overflow_text(text)) {
        out = tg__engine_overflow_error(0, 0, text);
        *out_status = 400;
    } else if (json_is_string(e) && status >= 400 && status < 500) { /* Ollama's own {"error": "..."} */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s (upstream: Ollama)", text);
        out = tg_error_body_text(msg, "invalid_request_error", status == 404 ? "model_not_found" : NULL, NULL);
        *out_status = status;
    }
    json_decref(o);
    return out;
}

/* server/routes.go (v0.33.0-rc2) GenerateRoutes: the native routes, then the
 * OpenAI face (openai/ middleware onto the same handlers). */
#define GEN(p, k, alt) {p, "POST", k, alt}
static const tg__engine_route native_routes[] = {
    GEN("/v1/chat/completions", TG__ER_CHAT, NULL),
    GEN("/v1/completions", TG__ER_COMPLETION, NULL),
    GEN("/api/chat", TG__ER_NATIVE_CHAT, NULL),
    GEN("/api/generate", TG__ER_NATIVE_COMPLETION, NULL),
    GEN("/v1/responses", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/v1/messages", TG__ER_REFUSE, "/v1/chat/completions"),
    GEN("/v1/audio/transcriptions", TG__ER_REFUSE, NULL),
    {"/api/tags", "GET", TG__ER_PASS, NULL},
    {"/api/ps", "GET", TG__ER_PASS, NULL},
    {"/api/version", "GET", TG__ER_PASS, NULL},
    {"/api/show", "POST", TG__ER_PASS, NULL},
    {"/api/embed", "POST", TG__ER_PASS, NULL},
    {"/api/embeddings", "POST", TG__ER_PASS, NULL},
    {"/v1/embeddings", "POST", TG__ER_PASS, NULL},
    {"/api/pull", "POST", TG__ER_ADMIN, NULL},
    {"/api/push", "POST", TG__ER_ADMIN, NULL},
    {"/api/create", "POST", TG__ER_ADMIN, NULL},
    {"/api/copy", "POST", TG__ER_ADMIN, NULL},
    {"/api/delete", "DELETE", TG__ER_ADMIN, NULL},
    {NULL, NULL, 0, NULL},
};
#undef GEN

/* The loaded runner's context (/api/ps ProcessModelResponse.context_length,
 * api/types.go): Ollama allocated its KV cache for it (llm/server.go sizes
 * the cache by num_ctx x parallel, fs/ggml/ggml.go GraphSize) and frees it
 * when a request with another num_ctx reloads the model (server/sched.go
 * needsReload compares the options). Not listed: not loaded, nothing held. */
static uint64_t kv_held_tokens(const tg__upinfo *u, const json_t *entry) {
    return tg__engine_juint(json_object_get(info_get(u, entry, "ps"), "context_length"));
}

const tg__engine tg__engine_ollama = {
    .name = "ollama",
    .probes = probes,
    .model_ctx = model_ctx,
    .kv_capacity = no_capacity,
    .chat_dialect = TG_CHAT_HF,
    .thinking_dialect = TG_DIALECT_NONE,
    .cont = NULL,
    .map_error = map_error,
    .native_routes = native_routes,
    .post_probes = post_probes,
    .model_profile = model_profile,
    .native_in = native_in,
    .native_out = native_out,
    .kv_lazy = 1,
    .kv_held_tokens = kv_held_tokens,
};
