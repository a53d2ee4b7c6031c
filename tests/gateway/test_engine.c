/*
 * test_engine.c: the engine adapters (src/gateway/engine.h, the files in engines/)
 * without sockets. Inputs are the engines' documented answers:
 *   - llama-server's GET /props (tools/server/server-context.cpp:
 *     default_generation_settings.n_ctx, total_slots, model_path) and its
 *     error body for a prompt over the context (server-task.cpp
 *     server_task_result_error::to_json: type exceed_context_size_error,
 *     n_prompt_tokens, n_ctx; the message server-context.cpp writes);
 *   - llama-server's /completion stream events with return_tokens (content,
 *     tokens, stop, tokens_predicted, stop_type "limit");
 *   - vLLM's /v1/models ModelCard (vllm/entrypoints/openai/protocol.py:
 *     max_model_len) and a plain OpenAI model list.
 * Checked: recognition (the most specific adapter wins, whatever the order
 * the answers arrive in), context and KV pool, the error mapping, the leg
 * request and event reading, the continuation and dialect defaults, native
 * routes and the probe paths.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/engine.h"
#include "util/buf.h"
#include "tokgate/limits.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"

static const char props[] =
    "{\"default_generation_settings\":{\"n_ctx\":4096,\"params\":{\"n_predict\":-1}},\"total_slots\":2,"
    "\"model_path\":\"/m/tiny.gguf\",\"chat_template\":\"\",\"build_info\":\"b1-x\"}";
static const char llama_models[] =
    "{\"object\":\"list\",\"data\":[{\"id\":\"tiny.gguf\",\"object\":\"model\",\"owned_by\":\"llamacpp\","
    "\"meta\":{\"n_ctx_train\":32768,\"n_vocab\":151936}}]}";
static const char vllm_models[] =
    "{\"object\":\"list\",\"data\":[{\"id\":\"Qwen/Qwen3-8B\",\"object\":\"model\",\"owned_by\":\"vllm\","
    "\"root\":\"Qwen/Qwen3-8B\",\"max_model_len\":40960}]}";
static const char plain_models[] = "{\"object\":\"list\",\"data\":[{\"id\":\"m\",\"object\":\"model\"}]}";

static void feed(tg__upinfo *u, const char *path, const char *body) {
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    TG_CHECK(j != NULL);
    tg__engine_read_probe(u, path, j);
    json_decref(j);
}

static void test_recognition(void) {
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    feed(&u, "/v1/models", llama_models);
    TG_CHECK(u.engine == &tg__engine_openai_compat); /* alone, an OpenAI face */
    feed(&u, "/props", props);
    TG_CHECK(u.engine == &tg__engine_llama_server);
    TG_CHECK_EQ_U(u.n_ctx, 4096);
    TG_CHECK_EQ_U(u.total_slots, 2);
    TG_CHECK_EQ_U(tg__engine_kv_capacity(u.engine, &u), 8192); /* n_ctx x total_slots */
    TG_CHECK_STR(u.model_path, "/m/tiny.gguf");
    feed(&u, "/v1/models", llama_models); /* a later round never demotes it */
    TG_CHECK(u.engine == &tg__engine_llama_server);
    TG_CHECK_STR(u.engine->name, "llama.cpp");
    uint64_t ctx = 0, train = 0;
    json_t *m = json_loads(llama_models, 0, NULL);
    u.engine->model_ctx(&u, json_array_get(json_object_get(m, "data"), 0), &ctx, &train);
    TG_CHECK_EQ_U(ctx, 4096);
    TG_CHECK_EQ_U(train, 32768);
    json_decref(m);
    free(u.model_path);

    memset(&u, 0, sizeof u);
    feed(&u, "/props", "{\"error\":\"not llama-server\"}"); /* another engine's /props */
    TG_CHECK(u.engine == NULL);
    feed(&u, "/v1/models", vllm_models);
    TG_CHECK(u.engine == &tg__engine_vllm);
    TG_CHECK_STR(u.engine->name, "vllm");
    TG_CHECK_EQ_U(tg__engine_kv_capacity(u.engine, &u), 0); /* unknown: admission off */
    m = json_loads(vllm_models, 0, NULL);
    u.engine->model_ctx(&u, json_array_get(json_object_get(m, "data"), 0), &ctx, &train);
    TG_CHECK_EQ_U(ctx, 40960);
    json_decref(m);

    memset(&u, 0, sizeof u);
    feed(&u, "/v1/models", plain_models);
    TG_CHECK(u.engine == &tg__engine_openai_compat);
    TG_CHECK_STR(u.engine->name, "openai-compatible");
}

static void test_lookup_and_defaults(void) {
    TG_CHECK(tg__engine_find("llama.cpp") == &tg__engine_llama_server);
    TG_CHECK(tg__engine_find("vllm") == &tg__engine_vllm);
    TG_CHECK(tg__engine_find("openai-compatible") == &tg__engine_openai_compat);
    TG_CHECK(tg__engine_find("ollama") == &tg__engine_ollama);
    TG_CHECK(tg__engine_find("sglang-not-an-engine") == NULL);
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    u.engine = &tg__engine_vllm;
    TG_CHECK(tg__engine_for(tg__engine_parse("llama.cpp"), &u) == &tg__engine_llama_server); /* the section's */
    TG_CHECK(tg__engine_for(tg__engine_parse("auto"), &u) == &tg__engine_vllm);
    TG_CHECK(tg__engine_for(0, NULL) == NULL);
    TG_CHECK_EQ_I(tg__engine_parse("ollama"), 4); /* llama.cpp, sglang, vllm, ollama */
    TG_CHECK_EQ_I(tg__engine_parse("nope"), -1);
    /* the option's value list names the adapters in registry order */
    size_t n = 0;
    const tg__engine *const *all = tg__engines(&n);
    TG_CHECK_EQ_U(n, 5); /* llama.cpp, sglang, vllm, ollama, openai-compatible */
    for (size_t i = 0; i < n; i++) TG_CHECK_EQ_I(tg__engine_parse(all[i]->name), (int)i + 1);
    TG_CHECK_EQ_I(tg__engine_chat_dialect(&tg__engine_llama_server, 0), TG_CHAT_LLAMACPP);
    TG_CHECK_EQ_I(tg__engine_chat_dialect(&tg__engine_vllm, 1), TG_CHAT_HF);
    TG_CHECK_EQ_I(tg__engine_chat_dialect(NULL, 1), TG_CHAT_LLAMACPP); /* a GGUF is llama-server's */
    TG_CHECK_EQ_I(tg__engine_chat_dialect(NULL, 0), TG_CHAT_HF);
    TG_CHECK(tg__engine_cont_for(&tg__engine_llama_server, -1) == tg__engine_llama_server.cont);
    TG_CHECK(tg__engine_cont_for(&tg__engine_llama_server, 0) == NULL);
    TG_CHECK(tg__engine_vllm.cont != NULL); /* vLLM continues by token ids of its own (engines/vllm.c) */
    TG_CHECK(tg__engine_cont_for(&tg__engine_vllm, -1) == tg__engine_vllm.cont);
    TG_CHECK(tg__engine_cont_for(&tg__engine_vllm, 0) == NULL);
    TG_CHECK(tg__engine_cont_for(&tg__engine_openai_compat, -1) == NULL);
    TG_CHECK(tg__engine_cont_for(&tg__engine_openai_compat, 1) == tg__engine_llama_server.cont); /* forced on */
    TG_CHECK(tg__engine_cont_for(NULL, -1) == NULL);
    TG_CHECK_EQ_I(tg__engine_llama_server.thinking_dialect, TG_DIALECT_LLAMACPP);
    TG_CHECK_EQ_I(tg__engine_openai_compat.thinking_dialect, TG_DIALECT_NONE);
}

static void test_llama_overflow_error(void) {
    /* server-task.cpp: format_error_response + n_prompt_tokens, n_ctx; text
     * from server-context.cpp */
    static const char body[] =
        "{\"error\":{\"code\":400,\"message\":\"request (5000 tokens) exceeds the available context size (4096 "
        "tokens), try increasing it\",\"type\":\"exceed_context_size_error\",\"n_prompt_tokens\":5000,\"n_ctx\":4096}}";
    int status = 0;
    char *s = tg__engine_map_error(&tg__engine_llama_server, body, sizeof body - 1, 400, &status);
    TG_CHECK(s != NULL);
    TG_CHECK_EQ_I(status, 400);
    json_t *j = json_loads(s ? s : "null", 0, NULL);
    json_t *e = json_object_get(j, "error");
    TG_CHECK_STR(json_string_value(json_object_get(e, "code")), "context_length_exceeded");
    TG_CHECK_STR(json_string_value(json_object_get(e, "type")), "invalid_request_error");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "n_prompt_tokens")), 5000);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "n_ctx")), 4096);
    const char *msg = json_string_value(json_object_get(e, "message"));
    TG_CHECK_CONTAINS(msg, "This model's maximum context length is 4096 tokens"); /* what SDKs match */
    TG_CHECK_CONTAINS(msg, "request (5000 tokens) exceeds the available context size (4096 tokens)");
    json_decref(j);
    free(s);
    /* any other error: not a shape to rewrite */
    static const char other[] = "{\"error\":{\"code\":500,\"message\":\"boom\",\"type\":\"server_error\"}}";
    TG_CHECK(tg__engine_map_error(&tg__engine_llama_server, other, sizeof other - 1, 500, &status) == NULL);
    TG_CHECK(tg__engine_map_error(&tg__engine_llama_server, "not json", 8, 500, &status) == NULL);
    TG_CHECK(tg__engine_map_error(&tg__engine_openai_compat, body, sizeof body - 1, 400, &status) == NULL);
    TG_CHECK(tg__engine_map_error(NULL, body, sizeof body - 1, 400, &status) == NULL);
}

static void test_llama_continuation(void) {
    const tg__engine_cont *c = tg__engine_llama_server.cont;
    TG_CHECK_STR(c->prompt_path, "/apply-template");
    TG_CHECK_STR(c->leg_path, "/completion");
    json_t *req = json_pack("{s:s,s:f}", "model", "m", "temperature", 0.5);
    TG_CHECK_EQ_I(c->ask_ids(req), 1);
    TG_CHECK(json_is_true(json_object_get(req, "logprobs")));
    TG_CHECK_EQ_I(json_integer_value(json_object_get(req, "top_logprobs")), 1);
    TG_CHECK_EQ_I(c->ask_ids(req), 0); /* asked already: nothing to strip */
    json_decref(req);
    char *p = NULL;
    tg_error err;
    static const char ans[] = "{\"prompt\":\"<|im_start|>user\\nhi\"}";
    TG_CHECK_EQ_I(c->read_prompt(ans, sizeof ans - 1, &p, &err), TG_OK);
    TG_CHECK_STR(p, "<|im_start|>user\nhi");
    free(p);
    TG_CHECK(c->read_prompt("{}", 2, &p, &err) != TG_OK);
    json_t *ids = json_pack("[i,i,s]", 11, 12, "\n</think>\n\n");
    json_t *samp = json_pack("{s:f,s:i}", "temperature", 0.0, "seed", 1);
    json_t *b = c->leg_body("P", ids, samp, 24);
    char *bs = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
    TG_CHECK_STR(bs, "{\"cache_prompt\":true,\"n_predict\":24,\"prompt\":[\"P\",11,12,\"\\n</think>\\n\\n\"],"
                     "\"return_tokens\":true,\"seed\":1,\"stream\":true,\"temperature\":0.0}");
    free(bs);
    json_decref(b);
    json_decref(ids);
    json_decref(samp);
    tg__leg_event ev;
    json_t *o = json_loads("{\"index\":0,\"content\":\" word\",\"tokens\":[1234],\"stop\":false,\"id_slot\":0}", 0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_EVENT);
    TG_CHECK(ev.text && ev.text_len == 5 && !memcmp(ev.text, " word", 5));
    TG_CHECK_EQ_U(json_array_size(ev.ids), 1);
    TG_CHECK_EQ_I(ev.stop, 0);
    json_decref(o);
    o = json_loads("{\"content\":\"\",\"tokens\":[],\"stop\":true,\"tokens_predicted\":24,\"stop_type\":\"limit\"}", 0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_EVENT);
    TG_CHECK_EQ_I(ev.stop, 1);
    TG_CHECK_EQ_I(ev.length, 1);
    TG_CHECK_EQ_I(ev.predicted, 24);
    json_decref(o);
    o = json_loads("{\"content\":\"\",\"stop\":true,\"tokens_predicted\":3,\"stop_type\":\"eos\"}", 0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_EVENT);
    TG_CHECK_EQ_I(ev.length, 0);
    json_decref(o);
    o = json_loads("{\"error\":{\"code\":500,\"message\":\"x\",\"type\":\"server_error\"}}", 0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_ERROR);
    json_decref(o);
}

static void test_routes_and_paths(void) {
    TG_CHECK(tg__engine_generates(&tg__engine_llama_server, "/completion", 11));
    TG_CHECK(tg__engine_generates(&tg__engine_llama_server, "/infill", 7));
    TG_CHECK(!tg__engine_generates(&tg__engine_llama_server, "/tokenize", 9));
    TG_CHECK(!tg__engine_generates(&tg__engine_openai_compat, "/completion", 11));
    TG_CHECK(tg__engine_generates(&tg__engine_openai_compat, "/v1/chat/completions", 20));
    TG_CHECK(!tg__engine_generates(NULL, "/v1/chat/completions", 20));
    size_t n = 0;
    const char *const *p = tg__engine_probe_paths(&n);
    TG_CHECK(n == 9); /* + sglang's /get_server_info, /server_info, /get_model_info; Ollama's /api/tags, /api/version, /api/ps; vLLM's /metrics */
    TG_CHECK_STR(p[0], "/v1/models");
    TG_CHECK_STR(n > 1 ? p[1] : NULL, "/props");
    TG_CHECK_STR(n > 2 ? p[2] : NULL, "/get_server_info");
    int metrics = 0; /* vLLM's (engines/vllm.c) */
    for (size_t i = 0; i < n; i++) metrics += !strcmp(p[i], "/metrics");
    TG_CHECK_EQ_I(metrics, 1);
}

/* ---- sglang (issue 13; expected words from sgl-project/sglang's
 * tokenizer_manager.py _validate_one_request, serving_base.py ErrorResponse,
 * http_server.py get_server_info / generate) ------------------------------- */

static void test_sglang(void) {
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    json_t *si = json_loads("{\"model_path\":\"Qwen/Qwen3-8B\",\"tokenizer_path\":\"Qwen/Qwen3-8B\","
                            "\"context_length\":null,\"chunked_prefill_size\":8192,\"max_total_num_tokens\":120000,"
                            "\"max_req_input_len\":32763,\"internal_states\":[{}],\"version\":\"0.5.4\"}",
                            0, NULL);
    json_t *models = json_loads("{\"data\":[{\"id\":\"m\",\"max_model_len\":32768}]}", 0, NULL);
    tg__engine_read_probe(&u, "/v1/models", models);
    TG_CHECK(u.engine == &tg__engine_vllm); /* /v1/models alone says vLLM */
    tg__engine_read_probe(&u, "/get_server_info", si);
    TG_CHECK(u.engine == &tg__engine_sglang); /* /get_server_info says SGLang */
    TG_CHECK_EQ_U(tg__engine_kv_capacity(u.engine, &u), 120000);
    TG_CHECK_STR(u.model_path, "Qwen/Qwen3-8B");
    uint64_t ctx = 0, tr = 0;
    tg__engine_sglang.model_ctx(&u, json_array_get(json_object_get(models, "data"), 0), &ctx, &tr);
    TG_CHECK_EQ_U(ctx, 32768);
    free(u.model_path);
    json_decref(si);
    json_decref(models);

    int status = 0;
    const char top[] = "{\"object\":\"error\",\"message\":\"The input (5008 tokens) is longer than the model's context "
                       "length (4096 tokens).\",\"type\":\"BadRequest\",\"param\":null,\"code\":400}";
    char *s = tg__engine_map_error(&tg__engine_sglang, top, sizeof top - 1, 400, &status);
    json_t *o = s ? json_loads(s, 0, NULL) : NULL;
    json_t *e = json_object_get(o, "error");
    TG_CHECK_EQ_I(status, 400);
    TG_CHECK_STR(json_string_value(json_object_get(e, "code")), "context_length_exceeded");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "n_prompt_tokens")), 5008);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "n_ctx")), 4096);
    json_decref(o);
    free(s);
    const char total[] = "{\"error\":{\"message\":\"Requested token count exceeds the model's maximum context length of "
                         "4096 tokens. You requested a total of 4408 tokens: 2408 tokens from the input messages and "
                         "2000 tokens for the completion. Please reduce the number of tokens in the input messages or "
                         "the completion to fit within the limit.\"}}";
    s = tg__engine_map_error(&tg__engine_sglang, total, sizeof total - 1, 400, &status);
    o = s ? json_loads(s, 0, NULL) : NULL;
    e = json_object_get(o, "error");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "n_prompt_tokens")), 2408);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "n_ctx")), 4096);
    json_decref(o);
    free(s);
    s = tg__engine_sglang.map_stream_error(total, sizeof total - 1); /* the same inside a stream */
    TG_CHECK(s && strstr(s, "\"context_length_exceeded\""));
    free(s);
    TG_CHECK(tg__engine_sglang.map_stream_error("{\"choices\":[]}", 14) == NULL);

    const tg__engine_cont *c = tg__engine_sglang.cont;
    TG_CHECK(c && c->ids_from_prompt && !strcmp(c->leg_path, "/generate"));
    json_t *ids = json_loads("[7000,7001]", 0, NULL), *sp = json_loads("{\"temperature\":0}", 0, NULL);
    json_t *leg = c->leg_body("[1,2,3]", ids, sp, 16);
    s = leg ? tgx_json_dumps(leg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    TG_CHECK_STR(s, "{\"input_ids\":[1,2,3,7000,7001],\"sampling_params\":{\"max_new_tokens\":16,\"temperature\":0},"
                    "\"stream\":true}");
    free(s);
    json_decref(leg);
    json_array_append_new(ids, json_string("\n</think>\n\n"));
    leg = c->leg_body("[1]", ids, sp, 4); /* the close marker: rendered by the prompt request, not sent */
    TG_CHECK(leg && json_array_size(json_object_get(leg, "input_ids")) == 3);
    json_decref(leg);
    json_decref(ids);
    json_decref(sp);
    tg__leg_event ev;
    o = json_loads("{\"text\":\"a \",\"output_ids\":[5],\"meta_info\":{\"completion_tokens\":1,\"finish_reason\":null}}", 0,
                   NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_EVENT);
    TG_CHECK(!ev.stop && !ev.text && !ev.ids); /* not the last event: the whole leg comes with that */
    json_decref(o);
    o = json_loads("{\"text\":\"a b \",\"output_ids\":[5,6],\"meta_info\":{\"completion_tokens\":2,"
                   "\"finish_reason\":{\"type\":\"length\",\"length\":2}}}",
                   0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_EVENT);
    TG_CHECK(ev.stop && ev.length && ev.predicted == 2 && json_array_size(ev.ids) == 2 && ev.text_len == 4);
    json_decref(o);
    o = json_loads("{\"text\":\"b \",\"output_ids\":[6],\"meta_info\":{\"completion_tokens\":2,"
                   "\"finish_reason\":{\"type\":\"stop\"}}}",
                   0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_EVENT); /* a delta (incremental output): none of it */
    TG_CHECK(ev.stop && !ev.length && !ev.ids && !ev.text);
    json_decref(o);
    o = json_loads("{\"error\":{\"message\":\"x\"}}", 0, NULL);
    TG_CHECK_EQ_I(c->read_event(o, &ev), TG__LEG_ERROR);
    json_decref(o);
}

/* ---- Ollama (engines/ollama.c), read from ollama/ollama v0.33.0-rc2:
 * api/types.go ListResponse / ShowResponse.model_info / Options,
 * llm/llama_server.go's overflow text. ---------------------------------------- */

static const char ollama_tags[] =
    "{\"models\":[{\"name\":\"llama3.2:3b\",\"model\":\"llama3.2:3b\",\"size\":2019393189,"
    "\"details\":{\"family\":\"llama\",\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}]}";
/* llama3.2:3b's GGUF keys as /api/show lists them (Llama-3.2-3B config.json:
 * 28 layers, 24 heads, 8 KV heads, head size 128, 131072 positions). */
static const char ollama_show[] =
    "{\"details\":{\"family\":\"llama\"},\"model_info\":{\"general.architecture\":\"llama\","
    "\"llama.context_length\":131072,\"llama.block_count\":28,\"llama.embedding_length\":3072,"
    "\"llama.attention.head_count\":24,\"llama.attention.head_count_kv\":8,\"llama.attention.key_length\":128,"
    "\"llama.attention.value_length\":128,\"llama.rope.freq_base\":500000.0,\"tokenizer.ggml.tokens\":null}}";

static void test_ollama(void) {
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    feed(&u, "/v1/models", plain_models);
    feed(&u, "/api/tags", ollama_tags);
    TG_CHECK(u.engine == &tg__engine_ollama);
    json_error_t je;
    json_t *show = json_loads(ollama_show, 0, &je);
    tg__engine_ollama.post_probes[0].read(&u, "llama3.2:3b", show);
    json_decref(show);
    json_t *entry = json_pack("{s:s}", "id", "llama3.2:3b");
    uint64_t ctx = 1, train = 0;
    tg__engine_ollama.model_ctx(&u, entry, &ctx, &train);
    TG_CHECK_EQ_U(ctx, 0); /* it enforces the num_ctx tokgate sends */
    TG_CHECK_EQ_U(train, 131072);
    tg_model_profile p;
    TG_CHECK(tg__engine_ollama.model_profile(&u, entry, &p));
    TG_CHECK_EQ_U(p.native_context, 131072);
    TG_CHECK_EQ_U(p.n_layer, 28);
    /* f16 KV: 28 layers x (8 x 128 K + 8 x 128 V) x 2 bytes = 114688 per token */
    tg_kv_cost kc;
    tg_error err;
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 1, &kc, &err), TG_OK);
    TG_CHECK_EQ_U(kc.per_token, 114688);
    tg_model_profile_free(&p);
    json_decref(entry);
    json_decref(u.model_info);
    /* native_in / native_out: num_predict -1 is no max_tokens; num_ctx written */
    json_t *nat = json_loads("{\"model\":\"m\",\"prompt\":\"hi\",\"system\":\"be brief\","
                             "\"options\":{\"num_predict\":-1,\"num_ctx\":999999},\"think\":false}", 0, &je);
    int as_chat = 0;
    json_t *o = tg__engine_ollama.native_in(nat, &as_chat);
    TG_CHECK(as_chat == 1 && json_array_size(json_object_get(o, "messages")) == 2);
    TG_CHECK(json_object_get(o, "max_tokens") == NULL);
    TG_CHECK(json_is_true(json_object_get(o, "stream"))); /* Ollama streams by default */
    TG_CHECK_EQ_I(tg__engine_ollama.native_out(nat, o, 4096, 512), 0);
    json_t *opt = json_object_get(nat, "options");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(opt, "num_ctx")), 4096);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(opt, "num_predict")), 512);
    TG_CHECK(json_is_false(json_object_get(nat, "think")));
    json_decref(o);
    json_decref(nat);
    /* errors */
    const char *ov = "{\"error\":\"the input length exceeds the context length\"}";
    int st = 0;
    char *m = tg__engine_map_error(&tg__engine_ollama, ov, strlen(ov), 400, &st);
    TG_CHECK(m && strstr(m, "context_length_exceeded") && strstr(m, "the input length exceeds the context length"));
    TG_CHECK_EQ_I(st, 400);
    free(m);
    const char *nf = "{\"error\":\"model 'x' not found\"}";
    m = tg__engine_map_error(&tg__engine_ollama, nf, strlen(nf), 404, &st);
    TG_CHECK(m && strstr(m, "model_not_found") && strstr(m, "model 'x' not found"));
    TG_CHECK_EQ_I(st, 404);
    free(m);
    TG_CHECK(tg__engine_generates(&tg__engine_ollama, "/api/chat", 9));
    TG_CHECK(!tg__engine_generates(&tg__engine_ollama, "/api/tags", 9));
}

/* ---- vLLM (engines/vllm.c) ---------------------------------------------------------- */

static void test_vllm_metrics(void) {
    /* vllm/v1/metrics/loggers.py (005a810b): labelnames model_name, engine;
     * cache_config_info = 1 with CacheConfig.metrics_info() labels + engine;
     * two engine cores (data parallel): two pools. */
    static const char text[] =
        "# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig\n"
        "# TYPE vllm:cache_config_info gauge\n"
        "vllm:cache_config_info{block_size=\"16\",cache_dtype=\"auto\",engine=\"0\",num_gpu_blocks=\"7680\","
        "prefix_caching_hash_algo=\"builtin\",sliding_window=\"None\"} 1.0\n"
        "vllm:cache_config_info{block_size=\"16\",cache_dtype=\"a\\\"}b\",engine=\"1\",num_gpu_blocks=\"100\"} 1.0\n"
        "vllm:num_requests_running{engine=\"0\",model_name=\"m\"} 2.0\n"
        "vllm:num_requests_running{engine=\"1\",model_name=\"m\"} 1.0\n"
        "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 4.0\n"
        "vllm:gpu_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.9\n"
        "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.25\n"
        "vllm:kv_cache_usage_perc{engine=\"1\",model_name=\"m\"} 0.5\n";
    const tg__engine_probe *mp = NULL;
    for (const tg__engine_probe *p = tg__engine_vllm.probes; p->path; p++)
        if (!strcmp(p->path, "/metrics")) mp = p;
    TG_CHECK(mp && mp->read_text);
    if (!mp || !mp->read_text) return;
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    TG_CHECK_EQ_I(mp->read_text(&u, text, sizeof text - 1), 1);
    TG_CHECK_EQ_U(u.kv_tokens, 7680 * 16 + 100 * 16);
    TG_CHECK_EQ_U(tg__engine_kv_capacity(&tg__engine_vllm, &u), 7680 * 16 + 100 * 16);
    TG_CHECK(u.live && u.kv_usage == 0.5); /* the fullest core; the new name over the deprecated one */
    TG_CHECK_EQ_U(u.reqs_running, 3);
    TG_CHECK_EQ_U(u.reqs_waiting, 4);
    /* before profiling, num_gpu_blocks is None: no pool, admission off */
    memset(&u, 0, sizeof u);
    static const char none[] = "vllm:cache_config_info{block_size=\"16\",num_gpu_blocks=\"None\"} 1.0\n";
    TG_CHECK_EQ_I(mp->read_text(&u, none, sizeof none - 1), 1);
    TG_CHECK_EQ_U(u.kv_tokens, 0);
    /* an older release: only gpu_cache_usage_perc */
    static const char old[] = "vllm:gpu_cache_usage_perc{model_name=\"m\"} 0.75\n";
    TG_CHECK_EQ_I(mp->read_text(&u, old, sizeof old - 1), 1);
    TG_CHECK(u.live && u.kv_usage == 0.75);
    /* someone else's metrics (llama-server's llamacpp:*) are not vLLM's */
    memset(&u, 0, sizeof u);
    static const char other[] = "llamacpp:kv_cache_usage_ratio 0.5\n";
    TG_CHECK_EQ_I(mp->read_text(&u, other, sizeof other - 1), 0);
    TG_CHECK(!u.live && u.kv_tokens == 0);
}

static void vllm_err(const char *body, uint64_t want_prompt, uint64_t want_ctx) {
    int st = 0;
    char *out = tg__engine_map_error(&tg__engine_vllm, body, strlen(body), 400, &st);
    TG_CHECK(out != NULL);
    json_t *o = out ? json_loads(out, 0, NULL) : NULL;
    json_t *e = json_object_get(o, "error");
    TG_CHECK_STR(json_string_value(json_object_get(e, "code")), "context_length_exceeded");
    TG_CHECK_EQ_U(tg__engine_juint(json_object_get(e, "n_prompt_tokens")), want_prompt);
    TG_CHECK_EQ_U(tg__engine_juint(json_object_get(e, "n_ctx")), want_ctx);
    TG_CHECK(strstr(json_string_value(json_object_get(e, "message")) ? json_string_value(json_object_get(e, "message")) : "",
                    "(upstream: This model's maximum context length") != NULL);
    TG_CHECK_EQ_I(st, 400);
    json_decref(o);
    free(out);
}

static void test_vllm_errors(void) {
    /* serving_engine.py _validate_input (v0.10.0), ErrorResponse flat */
    vllm_err("{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens. However, you "
             "requested 5100 tokens (5000 in the messages, 100 in the completion). Please reduce the length of the "
             "messages or completion.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}",
             5000, 4096);
    /* no max_tokens: "requested N tokens in the messages" */
    vllm_err("{\"object\":\"error\",\"message\":\"This model's maximum context length is 4096 tokens. However, you "
             "requested 5000 tokens in the messages, Please reduce the length of the messages.\",\"type\":"
             "\"BadRequestError\",\"param\":null,\"code\":400}",
             5000, 4096);
    /* later releases: ErrorResponse{error: ErrorInfo} and "your request has N input tokens" */
    vllm_err("{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens. However, your request "
             "has 9000 input tokens. Please reduce the length of the input messages.\",\"type\":"
             "\"BadRequestError\",\"param\":null,\"code\":400}}",
             9000, 8192);
    /* another error is not an overflow: relayed as it came */
    static const char other[] =
        "{\"object\":\"error\",\"message\":\"The model `x` does not exist.\",\"type\":\"NotFoundError\",\"param\":null,\"code\":404}";
    int st = 0;
    TG_CHECK(tg__engine_map_error(&tg__engine_vllm, other, sizeof other - 1, 404, &st) == NULL);
}

static void test_vllm_continuation(void) {
    const tg__engine_cont *c = tg__engine_vllm.cont;
    TG_CHECK(c && c->prompt_path && !strcmp(c->prompt_path, "/tokenize") && !strcmp(c->leg_path, "/v1/completions"));
    if (!c) return;
    json_t *req = json_pack("{s:s,s:[]}", "model", "m", "messages");
    TG_CHECK_EQ_I(c->ask_ids(req), 1);
    TG_CHECK(json_is_true(json_object_get(req, "logprobs")) &&
             json_is_true(json_object_get(req, "return_tokens_as_token_ids")));
    json_decref(req);
    /* TokenizeResponse {count, max_model_len, tokens, token_strs} */
    static const char tok[] = "{\"count\":3,\"max_model_len\":4096,\"tokens\":[1,2,3],\"token_strs\":null}";
    char *prompt = NULL;
    tg_error err;
    memset(&err, 0, sizeof err);
    TG_CHECK(c->read_prompt(tok, sizeof tok - 1, &prompt, &err) == TG_OK);
    json_t *ids = json_pack("[i,i]", 40, 41), *samp = json_pack("{s:s,s:f}", "model", "m", "temperature", 0.5);
    json_t *b = prompt ? c->leg_body(prompt, ids, samp, 24) : NULL;
    char *s = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    TG_CHECK_STR(s, "{\"logprobs\":1,\"max_tokens\":24,\"model\":\"m\",\"prompt\":[1,2,3,40,41],"
                    "\"return_tokens_as_token_ids\":true,\"stream\":true,\"temperature\":0.5}");
    free(s);
    json_decref(b);
    json_array_append_new(ids, json_string("</think>")); /* text: no id prompt holds it */
    TG_CHECK(c->leg_body(prompt, ids, samp, 24) == NULL);
    /* ...so text is tokenized first: POST /tokenize, no special tokens */
    TG_CHECK(c->text_path && !strcmp(c->text_path, "/tokenize"));
    json_t *tb = c->text_body("\n</think>\n\n", 11);
    char *ts = tb ? json_dumps(tb, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    TG_CHECK_STR(ts, "{\"add_special_tokens\":false,\"prompt\":\"\\n</think>\\n\\n\"}");
    free(ts);
    json_decref(tb);
    json_t *mk = NULL;
    static const char tokm[] = "{\"count\":2,\"max_model_len\":4096,\"tokens\":[198,151668],\"token_strs\":null}";
    TG_CHECK(c->read_text_ids(tokm, sizeof tokm - 1, &mk, &err) == TG_OK && json_array_size(mk) == 2);
    json_decref(mk);
    json_decref(ids);
    json_decref(samp);
    free(prompt);
    /* serving_completion.py stream chunk with return_tokens_as_token_ids */
    json_t *ev = json_loads("{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":"
                            "[{\"index\":0,\"text\":\" a b\",\"logprobs\":{\"tokens\":[\"token_id:7\",\"token_id:8\"]},"
                            "\"finish_reason\":\"length\",\"stop_reason\":null}]}", 0, NULL);
    tg__leg_event le;
    TG_CHECK_EQ_I(c->read_event(ev, &le), TG__LEG_EVENT);
    TG_CHECK(le.text && le.text_len == 4 && le.stop && le.length && le.predicted == -1);
    TG_CHECK(json_array_size(le.ids) == 2 && json_integer_value(json_array_get(le.ids, 1)) == 8);
    json_decref(ev);
    ev = json_loads("{\"error\":{\"message\":\"x\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}}", 0, NULL);
    TG_CHECK_EQ_I(c->read_event(ev, &le), TG__LEG_ERROR);
    json_decref(ev);
}

int main(void) {
    TG_RUN(test_recognition);
    TG_RUN(test_lookup_and_defaults);
    TG_RUN(test_llama_overflow_error);
    TG_RUN(test_llama_continuation);
    TG_RUN(test_routes_and_paths);
    TG_RUN(test_sglang);
    TG_RUN(test_ollama);
    TG_RUN(test_vllm_metrics);
    TG_RUN(test_vllm_errors);
    TG_RUN(test_vllm_continuation);
    return tg_test_summary();
}
