/*
 * gateway/catalog.c: the endpoints that describe the served models, from
 * the model table (models.h) and discovery (discovery.h):
 *
 *   GET /v1/models  the upstream's entries (OpenAI list shape) plus, per model,
 *                   "limit": {context, input, output} (helexa's shape),
 *                   "context_length" and "max_model_len"
 *   GET /api.json   models.dev shape: {"tokgate": {id, name, npm, api, env,
 *                   models: {ID: {id, name, limit: {context, input, output}, ...}}}}
 *   GET /v1/limits  per model: the limits, where they came from, the ceilings
 *   GET /metrics    (its tail) tokgate_limit_tokens{model,kind} per model
 */
#include "gateway/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/discovery.h"
#include "gateway/metrics.h"
#include "gateway/models.h"
#include "gateway/server.h"
#include "gateway/upstream.h"

static json_t *limit_obj(const tg__model *m) {
    return json_pack("{s:I,s:I,s:I}", "context", (json_int_t)m->limits.context, "input", (json_int_t)m->limits.input,
                     "output", (json_int_t)m->limits.output);
}

static void dump_to(json_t *j, struct evbuffer *out) {
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        evbuffer_add(out, s, strlen(s));
        free(s);
    }
    json_decref(j);
}

void tg__catalog_models(tg__server *s, struct evbuffer *out) {
    json_t *data = json_array();
    for (size_t i = 0; i < s->table->n; i++) {
        const tg__model *m = &s->table->v[i];
        json_t *o = m->upstream_obj ? json_deep_copy(m->upstream_obj) : json_object();
        if (!o) continue;
        json_object_set_new(o, "id", json_string(tg__model_id(m)));
        if (!json_object_get(o, "object")) json_object_set_new(o, "object", json_string("model"));
        if (!json_object_get(o, "owned_by")) json_object_set_new(o, "owned_by", json_string("tokgate"));
        if (!json_object_get(o, "created")) json_object_set_new(o, "created", json_integer((json_int_t)s->started));
        if (m->have_limits) {
            json_object_set_new(o, "limit", limit_obj(m));
            json_object_set_new(o, "context_length", json_integer((json_int_t)m->limits.context));
            json_object_set_new(o, "max_model_len", json_integer((json_int_t)m->limits.context));
        }
        json_array_append_new(data, o);
    }
    dump_to(json_pack("{s:s,s:o}", "object", "list", "data", data), out);
}

void tg__catalog_api_json(tg__server *s, const char *host, struct evbuffer *out) {
    json_t *models = json_object();
    for (size_t i = 0; i < s->table->n; i++) {
        const tg__model *m = &s->table->v[i];
        const char *id = tg__model_id(m);
        json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:{s:[s],s:[s]},s:{s:i,s:i}}", "id", id, "name", id,
                              "attachment", 0, "reasoning", 0, "temperature", 1, "tool_call", 1, "open_weights", 1,
                              "modalities", "input", "text", "output", "text", "cost", "input", 0, "output", 0);
        if (!o) continue;
        if (m->have_limits) json_object_set_new(o, "limit", limit_obj(m));
        json_object_set_new(models, id, o);
    }
    char api[400];
    snprintf(api, sizeof api, "http://%s/v1", host);
    json_t *prov = json_pack("{s:s,s:s,s:s,s:s,s:[s],s:s,s:o}", "id", "tokgate", "name", "tokgate", "npm",
                             "@ai-sdk/openai-compatible", "api", api, "env", "TOKGATE_API_KEY", "doc",
                             "docs/gateway.md", "models", models);
    dump_to(json_pack("{s:o}", "tokgate", prov), out);
}

void tg__catalog_limits(tg__server *s, struct evbuffer *out) {
    json_t *data = json_array();
    for (size_t i = 0; i < s->table->n; i++) {
        const tg__model *m = &s->table->v[i];
        const tg__upinfo *ui = tg__upinfo_find(s, m->pool->key);
        json_t *o = json_pack("{s:s,s:s,s:s}", "model", tg__model_id(m), "upstream", m->cfg->upstream, "source",
                              m->limits_source ? m->limits_source : "unknown (upstream not discovered yet)");
        if (!o) continue;
        if (m->have_limits) {
            json_object_set_new(o, "limit", limit_obj(m));
            json_object_set_new(o, "binding", json_string(tg_binding_name(m->limits.binding)));
            json_t *ceil = json_object();
            json_object_set_new(ceil, "native", json_integer((json_int_t)m->limits.ceiling_native));
            json_object_set_new(ceil, "vram", m->limits.ceiling_vram == TG_CEILING_NONE ? json_null() : json_integer((json_int_t)m->limits.ceiling_vram));
            json_object_set_new(ceil, "throughput", m->limits.ceiling_throughput == TG_CEILING_NONE ? json_null() : json_integer((json_int_t)m->limits.ceiling_throughput));
            if (m->upstream_ctx) json_object_set_new(ceil, "upstream", json_integer((json_int_t)m->upstream_ctx));
            json_object_set_new(o, "ceilings", ceil);
        } else json_object_set_new(o, "limit", json_null());
        json_t *live = json_object();
        if (ui) {
            json_object_set_new(live, "kind", ui->engine ? json_string(ui->engine->name) : json_null());
            uint64_t kv = tg__engine_kv_capacity(m->engine, ui);
            json_object_set_new(live, "kv_capacity", kv ? json_integer((json_int_t)kv) : json_null());
            json_object_set_new(live, "discovered", json_boolean(ui->ok));
            if (ui->n_ctx) json_object_set_new(live, "n_ctx", json_integer((json_int_t)ui->n_ctx));
            if (ui->total_slots) json_object_set_new(live, "total_slots", json_integer((json_int_t)ui->total_slots));
            if (ui->prefill_samples) {
                json_object_set_new(live, "prefill_tps_ema", json_real(ui->prefill_tps_ema));
                json_object_set_new(live, "prefill_samples", json_integer((json_int_t)ui->prefill_samples));
            }
        }
        if (m->n_ctx_train) json_object_set_new(live, "n_ctx_train", json_integer((json_int_t)m->n_ctx_train));
        json_object_set_new(o, "upstream_info", live);
        json_object_set_new(o, "counting", json_string(m->tok && m->chat ? "tokenizer and chat template (exact)" : m->tok ? "tokenizer (exact for raw prompts; chats estimated: no chat template)" : "estimate (no tokenizer)"));
        if (m->cfg->model_path) json_object_set_new(o, "model_path", json_string(m->cfg->model_path));
        json_array_append_new(data, o);
    }
    dump_to(json_pack("{s:s,s:o}", "object", "list", "data", data), out);
}

void tg__catalog_metrics(tg__server *s, struct evbuffer *out) {
    char lb[512];
    if (s->table && s->table->n)
        evbuffer_add_printf(out, "# HELP tokgate_limit_tokens Advertised and enforced limits per model.\n"
                                 "# TYPE tokgate_limit_tokens gauge\n");
    for (size_t i = 0; s->table && i < s->table->n; i++) {
        const tg__model *md = &s->table->v[i];
        if (!md->have_limits) continue;
        const char *n = tg__metrics_label(md->name ? md->name : "default", lb, sizeof lb);
        evbuffer_add_printf(out, "tokgate_limit_tokens{model=\"%s\",kind=\"context\"} %llu\n"
                                 "tokgate_limit_tokens{model=\"%s\",kind=\"input\"} %llu\n"
                                 "tokgate_limit_tokens{model=\"%s\",kind=\"output\"} %llu\n",
                            n, (unsigned long long)md->limits.context, n, (unsigned long long)md->limits.input, n,
                            (unsigned long long)md->limits.output);
    }
}
