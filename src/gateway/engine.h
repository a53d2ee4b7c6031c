/*
 * gateway/engine.h: the inference-engine adapter interface.
 *
 * An adapter is to tokgate what a protocol handler (`struct Curl_handler`)
 * is to libcurl or an upstream module to nginx: one const table of function
 * pointers and facts per engine, the one place that knows that engine's
 * endpoints and shapes. The core (discovery, the model table, admission,
 * the response filters) drives every engine through this table and never
 * asks which engine it talks to.
 *
 *   discovery      which GET paths to probe and how to read each answer into
 *                  the engine-neutral tg__upinfo (context per slot, slots, KV
 *                  pool capacity, model path); a probe answer that only this
 *                  engine gives names it (the first adapter in tg__engines()
 *                  order that recognises an upstream wins, so the most
 *                  specific comes first and the plain OpenAI-compatible one
 *                  last). GET /v1/models, the model list every engine serves,
 *                  is always probed and read by discovery itself.
 *   model_ctx      the context the engine enforces for one of its /v1/models
 *                  entries, and the trained context where it says.
 *   kv_capacity    tokens of KV cache the upstream holds at once; 0 when the
 *                  engine does not say: admission is then off for it (a guess
 *                  would serialize a server that could run requests together).
 *   chat_dialect   how the engine renders a chat before counting (template.h).
 *   thinking_dialect  the per-request thinking-budget field it honours
 *                  (policy.h tg_dialect); sent when the model's policy names
 *                  no dialect and tokgate does not cut thinking itself.
 *   cont           continuation by token ids (cont.h), or NULL: the paths,
 *                  request bodies and the reading of a continuation leg's
 *                  events into text / ids / finish.
 *   map_error      an upstream error body or error event -> tokgate's own
 *                  OpenAI-shaped error, the engine's text kept in the message;
 *                  NULL result: a shape it does not know (relayed as it came).
 *   map_stream_error  the same for an error event inside a 200 stream
 *                  (NULL: relayed as it came).
 *   native_routes  the engine's own HTTP routes and how the router treats
 *                  each (tg__engine_route): budgeted as a chat or a
 *                  completion, refused (it generates and tokgate cannot
 *                  budget its shape; the route to use instead is named),
 *                  passed through (it does not generate), or an admin route
 *                  (passed through only with allow_admin_routes). A path in
 *                  no table is 404: pass-through is an explicit list.
 * Added at the end of the table (issue 13, Ollama; NULL: none):
 *   post_probes    per-model POST probes after each round of GETs (Ollama's
 *                  /api/show {"model": id}), read into u->model_info.
 *   model_profile  a tg_model_profile from what the engine says of a model
 *                  (Ollama's model_info, its GGUF keys): limits then come
 *                  from tokgate/limits.h as for a model file.
 *   native_in/out  native generating routes (TG__ER_NATIVE_*: Ollama's
 *                  /api/chat, /api/generate) budgeted: the native body as
 *                  the OpenAI body the budget decides on, and the decision
 *                  written back (num_ctx, num_predict).
 *
 * Adding an engine (issue 13: vLLM, SGLang, Ollama) is one file under
 * engines/ filling one of these and one line in engines/engines.c.
 * Everything here is immutable and shared by all threads.
 */
#ifndef TG_GATEWAY_ENGINE_H
#define TG_GATEWAY_ENGINE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "tokgate/error.h"
#include "tokgate/model.h"

typedef struct tg__engine tg__engine;

/* What discovery learned about one upstream; adapters' probe readers fill
 * the engine facts, discovery the rest. */
typedef struct tg__upinfo {
    char *pool_key;
    const tg__engine *engine; /* recognised engine; NULL: not yet */
    uint64_t n_ctx;           /* per-slot context the engine enforces; 0 unknown */
    uint64_t total_slots;     /* sequences it runs at once; 0 unknown */
    uint64_t kv_tokens;       /* KV pool capacity in tokens; 0 unknown */
    char *model_path;         /* the model file the engine serves, if it says */
    json_t *models;           /* the upstream's /v1/models "data" array */
    double prefill_tps_ema;   /* prefill tokens/s, EMA over answers' timings; 0: none yet */
    uint64_t prefill_samples;
    int ok;                   /* last discovery succeeded */
    double last_ok;
    int in_flight;
    /* Added for engines that describe each model on its own (Ollama's
     * POST /api/show): model id -> the adapter's reading of it; NULL none. */
    json_t *model_info;
    /* live use, where the engine publishes it (vLLM's /metrics) */
    int live;                 /* 1: the three below were read */
    double kv_usage;          /* fraction of the KV pool in use, 0..1 */
    uint64_t reqs_running, reqs_waiting;
    /* issue 14 item 3: the engine's busy slots (llama-server GET /slots:
     * the entries with is_processing), read by the live probe */
    int have_busy;            /* 1: busy_slots was read */
    uint64_t busy_slots;
} tg__upinfo;

typedef struct tg__engine_probe {
    const char *path; /* GET, under the upstream's base path; NULL ends a list */
    /* A 200 answer's JSON: fills what it knows into u; 1 when the answer
     * shows the upstream is this engine. */
    int (*read)(tg__upinfo *u, const json_t *answer);
    /* A 200 answer that is not JSON (e.g. Prometheus text at /metrics), or
     * NULL: none. The same contract as read. */
    int (*read_text)(tg__upinfo *u, const char *body, size_t len);
} tg__engine_probe;

/* One event of a continuation leg, engine-neutral. */
typedef struct tg__leg_event {
    const char *text;    /* generated text (may be NULL) */
    size_t text_len;
    const json_t *ids;   /* array of the generated token ids (borrowed), or NULL */
    int stop;            /* the leg's last event */
    int length;          /* with stop: it stopped at its token cap */
    int64_t predicted;   /* with stop: the engine's own count of the leg's tokens; -1 unknown */
} tg__leg_event;

enum { TG__LEG_OTHER = 0, TG__LEG_EVENT = 1, TG__LEG_ERROR = 2 };

typedef struct tg__engine_cont {
    /* Asks for what continuing needs from the first leg (every generated
     * token's id) in the request body; 1 when it added fields the client did
     * not ask for (the filter strips them again), 0 when not, -1 on
     * allocation failure. */
    int (*ask_ids)(json_t *request);
    /* POSTed the forwarded chat body once before the first continuation leg;
     * its answer is read by read_prompt into the rendered prompt. */
    const char *prompt_path;
    tg_status (*read_prompt)(const char *body, size_t len, char **prompt, tg_error *err);
    /* A continuation leg: POST leg_path with leg_body(prompt, ids, sampling
     * fields, tokens still allowed). `ids` holds integers (generated ids)
     * and strings (text the model reads next, e.g. the end-of-thinking
     * marker). */
    const char *leg_path;
    json_t *(*leg_body)(const char *prompt, const json_t *ids, const json_t *sampling, uint64_t n_predict);
    /* One leg event's JSON: TG__LEG_EVENT (out filled), TG__LEG_ERROR (an
     * error event, for the client) or TG__LEG_OTHER (not understood). */
    int (*read_event)(const json_t *event, tg__leg_event *out);
    /* Request fields a chat request shares with the leg request. */
    const char *const *sampling_keys; /* NULL-terminated */
    /* 1: the first leg's stream carries no token ids (SGLang's chat stream
     * refuses return_token_ids): its tokens are counted by the chunks'
     * logprobs entries (and the usage's completion_tokens at its end), and
     * the prompt_path request, built by prompt_body from the forwarded body
     * and the text kept so far, answers the engine's own ids of prompt +
     * that text; `ids` then holds only later legs' ids (and, after a
     * thinking cut, the close marker as text, which leg_body may drop when
     * the prompt request closed the thinking). 0: ids from the chunks'
     * logprobs (llama-server). (issue 13) */
    int ids_from_prompt;
    /* The prompt_path request's body (the forwarded chat body, the first
     * leg's content and reasoning text); NULL hook: the forwarded body as it
     * is. */
    json_t *(*prompt_body)(const json_t *forwarded, const char *content, size_t content_len, const char *reasoning,
                           size_t reasoning_len);
    /* For an engine whose leg prompt holds ids only (vLLM): text in `ids`
     * (the end-of-thinking marker) is first POSTed to text_path as
     * text_body(text) and read_text_ids reads the answer into its ids
     * (malloc'd JSON array of integers). NULL text_path: text goes in the
     * prompt as it is (llama-server). */
    const char *text_path;
    json_t *(*text_body)(const char *text, size_t len);
    tg_status (*read_text_ids)(const char *body, size_t len, json_t **ids, tg_error *err);
} tg__engine_cont;

/* How the router treats one of an engine's routes (native_routes). */
enum {
    TG__ER_CHAT = 1,   /* generates; budgeted as a chat completion */
    TG__ER_COMPLETION, /* generates; budgeted as an OpenAI completion */
    TG__ER_REFUSE,     /* generates in a shape tokgate does not budget: refused, `instead` named */
    TG__ER_PASS,       /* does not generate: passed through */
    TG__ER_ADMIN,      /* changes the engine's state: passed through only with allow_admin_routes */
    TG__ER_NATIVE_CHAT,      /* generates in the engine's own shape; budgeted through native_in/native_out as a chat */
    TG__ER_NATIVE_COMPLETION /* the same, as a raw-prompt completion when native_in says so */
};

typedef struct tg__engine_route {
    const char *path;    /* exact, or every path under it when it ends in '/'; NULL ends a table */
    const char *method;  /* "GET" (HEAD too) or "POST" */
    int kind;            /* TG__ER_* */
    const char *instead; /* TG__ER_REFUSE: the budgeted route to use, or NULL */
} tg__engine_route;

struct tg__engine {
    const char *name; /* shown as upstream_info.kind in /v1/limits; the `engine` config value */
    const tg__engine_probe *probes; /* path NULL ends it */
    void (*model_ctx)(const tg__upinfo *u, const json_t *entry, uint64_t *ctx, uint64_t *ctx_train);
    uint64_t (*kv_capacity)(const tg__upinfo *u);
    int chat_dialect;     /* tg_chat_dialect */
    int thinking_dialect; /* tg_dialect */
    const tg__engine_cont *cont;
    /* body: an error answer's body or an error event's data; status: the
     * HTTP status it came with (an event: 200). Malloc'd JSON and *out_status,
     * or NULL. */
    char *(*map_error)(const char *body, size_t len, int status, int *out_status);
    const tg__engine_route *native_routes; /* path NULL ends it */
    /* An error event inside a 200 SSE stream (its `data:` JSON, e.g.
     * SGLang's {"error": {...}}) -> tokgate's {"error":{...}} (malloc'd
     * JSON), or NULL: relayed as it came. NULL hook: every in-stream error
     * is relayed as it came (filters/stream_error.h; issue 13). */
    char *(*map_stream_error)(const char *data, size_t len);
    /* ---- added (issue 13, Ollama); NULL: none ---- */
    /* Per-model POST probes, sent once the upstream's model list is known
     * (one per /v1/models id); path NULL ends it. */
    const struct tg__engine_post_probe *post_probes;
    /* A profile of one /v1/models entry from what the engine says of it
     * (e.g. Ollama's model_info, its GGUF keys): the KV bytes per token and
     * the trained context through tokgate/limits.h; 1 when *out was filled
     * (the caller frees it with tg_model_profile_free). */
    int (*model_profile)(const tg__upinfo *u, const json_t *entry, tg_model_profile *out);
    /* Native generating routes (TG__ER_NATIVE_*): native_in turns the
     * engine's request body into the OpenAI body the budget decides on
     * (*as_chat 1: a chat, 0: a completion); native_out writes the decision
     * (the decided OpenAI body, the model's context) back into the native
     * body. Both return new references / 0, NULL / -1 on failure. */
    json_t *(*native_in)(const json_t *native, int *as_chat);
    int (*native_out)(json_t *native, const json_t *decided, uint64_t context, uint64_t max_tokens);
    /* ---- added (issue 14 item 3, several gateways); NULL: none ---- */
    /* The engine's live state, polled every admission.engine_poll_ms
     * (engine_poll.c): a GET whose reader fills u->have_busy/busy_slots
     * (llama-server /slots) or u->live, reqs_running, reqs_waiting,
     * kv_usage (vLLM /metrics). Admission takes it as the truth of what
     * the engine runs (admission.h, tg__adm_engine_reading). */
    const tg__engine_probe *live_probe;
    /* ---- added (issue 20, live VRAM); 0 / NULL: none ---- */
    /* 1: the engine sizes its KV cache when a request loads the model (Ollama:
     * num_ctx), so free VRAM bounds the context tokgate sends; 0: it
     * allocates its KV pool at start (llama-server, vLLM, SGLang), the pool
     * is the truth and free VRAM is shown for information only. */
    int kv_lazy;
    /* Tokens of KV cache the engine holds for this model now (Ollama's
     * /api/ps context_length of the loaded runner), freed when it reloads it
     * with another context: added back to the free figure so the context
     * sent does not chase its own allocation. NULL / 0: none. */
    uint64_t (*kv_held_tokens)(const tg__upinfo *u, const json_t *entry);
    /* ---- added (issue 19, counts from the engine); NULL: none ---- */
    /* How the engine counts a prompt itself (vLLM's and SGLang's
     * /tokenize), asked when tokgate has no tokenizer to count the request
     * exactly (engine_count.h). */
    const struct tg__engine_count *count;
};

/* The engine's own prompt count (count; issue 19). */
typedef struct tg__engine_count {
    const char *path; /* POST, under the upstream's base path */
    /* The count request for the OpenAI body `request` (as_chat 1: a chat,
     * 0: a raw-prompt completion), the upstream's model name in `model`
     * (NULL: the request's): a new reference, or NULL when the engine
     * cannot count that kind of request (then tokgate estimates). */
    json_t *(*body)(const json_t *request, int as_chat, const char *model);
    /* A 200 answer -> *count; 0, or -1 with why in err (errsz bytes). */
    int (*read)(const char *body, size_t len, uint64_t *count, char *err, size_t errsz);
} tg__engine_count;

/* A per-model POST probe (post_probes). */
typedef struct tg__engine_post_probe {
    const char *path;
    /* The request body for model `id` (malloc'd JSON), or NULL. */
    char *(*body)(const char *id);
    /* A 200 answer for `id`: what it knows goes into u (u->model_info). */
    void (*read)(tg__upinfo *u, const char *id, const json_t *answer);
} tg__engine_post_probe;

/* The adapters, most specific first; *n set. */
const tg__engine *const *tg__engines(size_t *n);
/* By name ("llama.cpp", "vllm", "openai-compatible"); NULL when unknown. */
const tg__engine *tg__engine_find(const char *name);
/* The config's `engine` value (an option-table ENUM over
 * "auto|llama.cpp|sglang|vllm|ollama|openai-compatible", the adapters in tg__engines()
 * order): 0 for "auto", i + 1 for the adapter tg__engines()[i], -1 unknown. */
int tg__engine_parse(const char *s);
/* The adapter a model talks to: its section's `engine` (tg__engine_parse's
 * value), else what discovery recognised, else NULL (not known yet). */
const tg__engine *tg__engine_for(int configured, const tg__upinfo *u);
/* The chat dialect to count with; with no engine known, a template from a
 * model file is llama-server's (the GGUF is what it serves). */
int tg__engine_chat_dialect(const tg__engine *e, int from_model_file);
/* The continuation protocol for a model: `continuation` -1 auto (the
 * engine's own, if any), 0 off, 1 on (the engine's, else llama-server's
 * /completion protocol: the operator says the upstream speaks it). */
const tg__engine_cont *tg__engine_cont_for(const tg__engine *e, int continuation);
/* KV capacity for admission (0: unknown, admission off). */
uint64_t tg__engine_kv_capacity(const tg__engine *e, const tg__upinfo *u);
/* 1 when `path` (without query) is one of the engine's generating routes. */
int tg__engine_generates(const tg__engine *e, const char *path, size_t n);
/* The route of e's table for path[0..n) (without query) and method: the
 * entry for that method, else (*wrong_method set) an entry for the path with
 * another method, else NULL. e NULL (the engine not known yet): every
 * adapter's table, in tg__engines() order. */
const tg__engine_route *tg__engine_route_find(const tg__engine *e, const char *path, size_t n, const char *method,
                                              size_t method_len, int *wrong_method);
/* Maps an upstream error (see map_error); NULL when e is NULL or the shape
 * is not the engine's. */
char *tg__engine_map_error(const tg__engine *e, const char *body, size_t len, int status, int *out_status);
/* Every distinct probe path of every adapter, /v1/models first; *n set. */
const char *const *tg__engine_probe_paths(size_t *n);
/* Gives a probe answer for `path` to every adapter that probes it and
 * records the engine recognised (the most specific wins). */
void tg__engine_read_probe(tg__upinfo *u, const char *path, const json_t *answer);
/* The same for a 200 answer that is not JSON (probes with read_text). */
void tg__engine_read_probe_text(tg__upinfo *u, const char *path, const char *body, size_t len);

extern const tg__engine tg__engine_llama_server;
extern const tg__engine tg__engine_sglang;
extern const tg__engine tg__engine_vllm;
extern const tg__engine tg__engine_openai_compat;
extern const tg__engine tg__engine_ollama;

/* llama-server's GET /slots answer (an array of slots, each with
 * is_processing and n_ctx): busy and total slots into u; 1 when it was
 * one. (engines/llama_server.c; the live probe, fuzzed in fuzz/) */
int tg__llama_read_slots(tg__upinfo *u, const json_t *answer);

/* Shared by adapters: a positive JSON number (integer part), else 0. */
uint64_t tg__engine_juint(const json_t *v);
/* Shared by adapters: tokgate's context_length_exceeded error (the shape
 * and message policy/prompt_cap.c writes, that LiteLLM and the OpenAI SDKs
 * match) for an engine's overflow, the engine's text kept in the message.
 * Malloc'd JSON. */
char *tg__engine_overflow_error(uint64_t n_prompt, uint64_t n_ctx, const char *engine_text);
/* Shared by adapters (tg__engine_count.read): a tokenize answer of vLLM's and
 * SGLang's shape, {"count": N, "tokens": [N ids]}: N > 0 into *count, 0; or
 * -1 with why in err (errsz bytes) when N is missing or does not match. */
int tg__engine_count_read(const char *body, size_t len, uint64_t *count, char *err, size_t errsz);

#endif
