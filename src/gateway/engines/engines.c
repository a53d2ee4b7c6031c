/*
 * gateway/engines/engines.c: the adapter registry and the few rules that
 * sit between the core and any adapter (engine.h): lookup by name, which
 * adapter a model uses, probe paths and recognition, and the defaults that
 * apply while no engine is known.
 *
 * Recognition: every probe answer goes to each adapter that probes that
 * path; the first adapter in the table (the most specific) whose reader
 * says "mine" becomes the upstream's engine, and a later answer only ever
 * moves it to a more specific one (a llama-server also answers /v1/models,
 * which alone would say "openai-compatible").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"
#include "tokgate/template.h"
#include "util/buf.h"

static const tg__engine *const registry[] = {
    &tg__engine_llama_server,
    &tg__engine_sglang, /* before vLLM: its /v1/models entries carry max_model_len too */
    &tg__engine_vllm,
    &tg__engine_ollama, /* before the plain one: Ollama also answers /v1/models */
    &tg__engine_openai_compat, /* last: anything with an OpenAI face */
};
#define N_ENGINES (sizeof registry / sizeof registry[0])

const tg__engine *const *tg__engines(size_t *n) {
    *n = N_ENGINES;
    return registry;
}

const tg__engine *tg__engine_find(const char *name) {
    for (size_t i = 0; name && i < N_ENGINES; i++)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

int tg__engine_parse(const char *s) {
    if (s && !strcmp(s, "auto")) return 0;
    for (size_t i = 0; s && i < N_ENGINES; i++)
        if (!strcmp(registry[i]->name, s)) return (int)i + 1;
    return -1;
}

const tg__engine *tg__engine_for(int configured, const tg__upinfo *u) {
    if (configured > 0 && (size_t)configured <= N_ENGINES) return registry[configured - 1];
    return u ? u->engine : NULL;
}

int tg__engine_chat_dialect(const tg__engine *e, int from_model_file) {
    if (e) return e->chat_dialect;
    return from_model_file ? TG_CHAT_LLAMACPP : TG_CHAT_HF;
}

const tg__engine_cont *tg__engine_cont_for(const tg__engine *e, int continuation) {
    if (continuation == 0) return NULL;
    if (e && e->cont) return e->cont;
    return continuation > 0 ? tg__engine_llama_server.cont : NULL;
}

uint64_t tg__engine_kv_capacity(const tg__engine *e, const tg__upinfo *u) {
    return e && e->kv_capacity ? e->kv_capacity(u) : 0;
}

static int route_path_is(const tg__engine_route *r, const char *path, size_t n) {
    size_t rl = strlen(r->path);
    if (r->path[rl - 1] == '/') return n > rl && !memcmp(r->path, path, rl);
    return n == rl && !memcmp(r->path, path, n);
}

static int method_matches(const char *want, const char *m, size_t ml) {
    if (ml == strlen(want) && !memcmp(want, m, ml)) return 1;
    return !strcmp(want, "GET") && ml == 4 && !memcmp(m, "HEAD", 4);
}

static const tg__engine_route *find_in(const tg__engine *e, const char *path, size_t n, const char *m, size_t ml,
                                       const tg__engine_route **other) {
    for (const tg__engine_route *r = e->native_routes; r && r->path; r++) {
        if (!route_path_is(r, path, n)) continue;
        if (method_matches(r->method, m, ml)) return r;
        if (!*other) *other = r;
    }
    return NULL;
}

const tg__engine_route *tg__engine_route_find(const tg__engine *e, const char *path, size_t n, const char *method,
                                              size_t method_len, int *wrong_method) {
    const tg__engine_route *other = NULL, *r = NULL;
    size_t ne = 1;
    const tg__engine *const *all = e ? &e : tg__engines(&ne);
    for (size_t i = 0; i < ne && !r; i++) r = find_in(all[i], path, n, method, method_len, &other);
    *wrong_method = !r && other;
    return r ? r : other;
}

int tg__engine_generates(const tg__engine *e, const char *path, size_t n) {
    for (const tg__engine_route *r = e ? e->native_routes : NULL; r && r->path; r++)
        if ((r->kind <= TG__ER_REFUSE || r->kind >= TG__ER_NATIVE_CHAT) && route_path_is(r, path, n)) return 1;
    return 0;
}

char *tg__engine_map_error(const tg__engine *e, const char *body, size_t len, int status, int *out_status) {
    if (!e || !e->map_error || !body) return NULL;
    return e->map_error(body, len, status, out_status);
}

/* ---- discovery --------------------------------------------------------------- */

#define MAX_PATHS 16
static const char *paths[MAX_PATHS];
static size_t n_paths;

const char *const *tg__engine_probe_paths(size_t *n) {
    if (!n_paths) { /* the table is const: the same list every time */
        paths[n_paths++] = "/v1/models";
        for (size_t i = 0; i < N_ENGINES; i++)
            for (const tg__engine_probe *p = registry[i]->probes; p && p->path; p++) {
                size_t k = 0;
                while (k < n_paths && strcmp(paths[k], p->path) != 0) k++;
                if (k == n_paths && n_paths < MAX_PATHS) paths[n_paths++] = p->path;
            }
    }
    *n = n_paths;
    return paths;
}

static size_t rank(const tg__engine *e) {
    for (size_t i = 0; i < N_ENGINES; i++)
        if (registry[i] == e) return i;
    return N_ENGINES;
}

void tg__engine_read_probe(tg__upinfo *u, const char *path, const json_t *answer) {
    for (size_t i = 0; i < N_ENGINES; i++)
        for (const tg__engine_probe *p = registry[i]->probes; p && p->path; p++)
            if (p->read && !strcmp(p->path, path) && p->read(u, answer) && i < rank(u->engine)) u->engine = registry[i];
}

void tg__engine_read_probe_text(tg__upinfo *u, const char *path, const char *body, size_t len) {
    for (size_t i = 0; i < N_ENGINES; i++)
        for (const tg__engine_probe *p = registry[i]->probes; p && p->path; p++)
            if (p->read_text && !strcmp(p->path, path) && p->read_text(u, body, len) && i < rank(u->engine))
                u->engine = registry[i];
}

/* ---- shared by adapters ---------------------------------------------------------- */

uint64_t tg__engine_juint(const json_t *v) {
    if (json_is_integer(v) && json_integer_value(v) > 0) return (uint64_t)json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) >= 1 && json_real_value(v) < 1.8e19) return (uint64_t)json_real_value(v);
    return 0;
}

char *tg__engine_overflow_error(uint64_t n_prompt, uint64_t n_ctx, const char *engine_text) {
    char msg[1024];
    if (n_ctx && n_prompt)
        snprintf(msg, sizeof msg,
                 "This model's maximum context length is %" PRIu64 " tokens. However, your request resulted in %" PRIu64
                 " tokens. Please reduce the length of the messages. (upstream: %s)",
                 n_ctx, n_prompt, engine_text ? engine_text : "context size exceeded");
    else
        snprintf(msg, sizeof msg, "This model's maximum context length was exceeded. (upstream: %s)",
                 engine_text ? engine_text : "context size exceeded");
    json_t *e = json_pack("{s:{s:s,s:s,s:n,s:s}}", "error", "message", msg, "type", "invalid_request_error", "param",
                          "code", "context_length_exceeded");
    json_t *in = json_object_get(e, "error");
    if (n_prompt) json_object_set_new(in, "n_prompt_tokens", json_integer((json_int_t)n_prompt));
    if (n_ctx) json_object_set_new(in, "n_ctx", json_integer((json_int_t)n_ctx));
    char *s = e ? tgx_json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    return s;
}

int tg__engine_count_read(const char *body, size_t len, uint64_t *count, char *err, size_t errsz) {
    json_error_t je;
    json_t *o = json_loadb(body, len, 0, &je);
    json_t *c = json_object_get(o, "count"), *t = json_object_get(o, "tokens");
    int ok = json_is_integer(c) && json_integer_value(c) > 0 &&
             (!t || (json_is_array(t) && json_array_size(t) == (size_t)json_integer_value(c)));
    if (ok) *count = (uint64_t)json_integer_value(c);
    else snprintf(err, errsz, "the tokenize answer has no positive \"count\" matching its \"tokens\"");
    json_decref(o);
    return ok ? 0 : -1;
}
