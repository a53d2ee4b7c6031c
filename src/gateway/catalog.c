/*
 * gateway/catalog.c: the endpoints that describe the served models, from
 * the model table (models.h) and discovery (discovery.h):
 *
 *   GET /v1/models  the upstream's entries (OpenAI list shape) plus, per model,
 *                   "limit": {context, input, output} (helexa's shape),
 *                   "context_length" and "max_model_len"
 *   GET /v1/models/{id}  one of those entries (OpenAI's retrieve shape)
 *   GET /api.json   models.dev shape: {"tokgate": {id, name, npm, api, env,
 *                   models: {ID: {id, name, release_date, limit: {context, input, output}, ...}}}}
 *                   with the fields opencode's schema requires (release_date,
 *                   attachment, reasoning, temperature, tool_call, limit);
 *                   "api" is the URL the client reached (tg__catalog_base_url:
 *                   Forwarded / X-Forwarded-Proto / X-Forwarded-Host unless
 *                   ignore_forwarded, then Host; each validated as a scheme
 *                   http|https and a host[:port], else the listen address)
 *   GET /v1/limits  per model: the limits, where they came from, the ceilings
 *   GET /metrics    (its tail) tokgate_limit_tokens{model,kind} per model
 */
#include "gateway/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/discovery.h"
#include "gateway/http_parse.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/models.h"
#include "gateway/replicas.h"
#include "gateway/route_pick.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "util/buf.h"

static json_t *limit_obj(const tg__model *m) {
    return json_pack("{s:I,s:I,s:I}", "context", (json_int_t)m->limits.context, "input", (json_int_t)m->limits.input,
                     "output", (json_int_t)m->limits.output);
}

static void dump_to(json_t *j, struct evbuffer *out) {
    char *s = tgx_json_dumps(j, JSON_COMPACT);
    if (s) {
        evbuffer_add(out, s, strlen(s));
        free(s);
    }
    json_decref(j);
}

/* One model as /v1/models lists it and /v1/models/{id} answers it. */
static json_t *model_obj(const tg__server *s, const tg__model *m) {
    json_t *o = m->upstream_obj ? json_deep_copy(m->upstream_obj) : json_object();
    if (!o) return NULL;
    json_object_set_new(o, "id", json_string(tg__model_id(m)));
    if (!json_object_get(o, "object")) json_object_set_new(o, "object", json_string("model"));
    if (!json_object_get(o, "owned_by")) json_object_set_new(o, "owned_by", json_string("tokgate"));
    if (!json_object_get(o, "created")) json_object_set_new(o, "created", json_integer((json_int_t)s->started));
    if (m->have_limits) {
        json_object_set_new(o, "limit", limit_obj(m));
        json_object_set_new(o, "context_length", json_integer((json_int_t)m->limits.context));
        json_object_set_new(o, "max_model_len", json_integer((json_int_t)m->limits.context));
    }
    if (m->n_replicas > 1) /* issue 14: the limits above hold on every replica in service */
        json_object_set_new(o, "replicas", json_pack("{s:I,s:I}", "total", (json_int_t)m->n_replicas, "in_service",
                                                     (json_int_t)m->replicas_ready));
    return o;
}

void tg__catalog_models(tg__server *s, struct evbuffer *out) {
    json_t *data = json_array();
    for (size_t i = 0; i < s->table->n; i++) {
        json_t *o = model_obj(s, &s->table->v[i]);
        if (o) json_array_append_new(data, o);
    }
    dump_to(json_pack("{s:s,s:o}", "object", "list", "data", data), out);
}

int tg__catalog_model(tg__server *s, const char *id, struct evbuffer *out) {
    const tg__model *m = id && *id ? tg__model_resolve(s->table, id) : NULL;
    if (!m) return -1;
    json_t *o = model_obj(s, m);
    if (!o) return -1;
    dump_to(o, out);
    return 0;
}

/* models.dev requires "release_date" (YYYY-MM-DD, opencode's schema refuses
 * a model without it); a served model has none of its own, so it is the day
 * this gateway started serving it (UTC). */
static void day_of(double t, char out[16]) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || strftime(out, 16, "%Y-%m-%d", &tm) == 0) snprintf(out, 16, "1970-01-01");
}

void tg__catalog_api_json(tg__server *s, const char *base_url, struct evbuffer *out) {
    char day[16];
    day_of(s->started, day);
    json_t *models = json_object();
    for (size_t i = 0; i < s->table->n; i++) {
        const tg__model *m = &s->table->v[i];
        const char *id = tg__model_id(m);
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:b,s:{s:[s],s:[s]},s:{s:i,s:i}}", "id", id, "name", id,
                              "release_date", day, "last_updated", day, "attachment", 0, "reasoning", 0,
                              "temperature", 1, "tool_call", 1, "open_weights", 1, "modalities", "input", "text",
                              "output", "text", "cost", "input", 0, "output", 0);
        if (!o) continue;
        if (m->have_limits) json_object_set_new(o, "limit", limit_obj(m));
        json_object_set_new(models, id, o);
    }
    char api[600];
    snprintf(api, sizeof api, "%s/v1", base_url);
    /* opencode shows a provider when one of its "env" variables is set, and
     * sends that variable as the key only when "env" names exactly one. With
     * keys off, a second name every environment has (PATH) makes the provider
     * usable without TOKGATE_API_KEY and without sending PATH as a key. */
    json_t *env = json_pack("[s]", "TOKGATE_API_KEY");
    if (s->cfg->n_api_keys == 0) json_array_append_new(env, json_string("PATH"));
    json_t *prov = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s,s:o}", "id", "tokgate", "name", "tokgate", "npm",
                             "@ai-sdk/openai-compatible", "api", api, "env", env, "doc", "docs/gateway.md", "models",
                             models);
    dump_to(json_pack("{s:o}", "tokgate", prov), out);
}

/* host[:port] as a URL authority: a DNS name or IPv4 address (letters,
 * digits, '.', '-', '_') or a bracketed IPv6 address, then an optional
 * port 1-65535. Anything else (spaces, '/', '@', quotes) is refused. */
static int valid_authority(const char *p, size_t n) {
    if (n == 0 || n > 261) return 0;
    size_t i = 0;
    if (p[0] == '[') {
        for (i = 1; i < n && p[i] != ']'; i++)
            if (!strchr("0123456789abcdefABCDEF:.", p[i])) return 0;
        if (i >= n || i < 3) return 0;
        i++;
    } else {
        for (; i < n && p[i] != ':'; i++)
            if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
                  p[i] == '.' || p[i] == '-' || p[i] == '_'))
                return 0;
        if (i == 0) return 0;
    }
    if (i == n) return 1;
    if (p[i] != ':' || n - i < 2 || n - i > 6) return 0;
    unsigned long port = 0;
    for (size_t j = i + 1; j < n; j++) {
        if (p[j] < '0' || p[j] > '9') return 0;
        port = port * 10 + (unsigned long)(p[j] - '0');
    }
    return port >= 1 && port <= 65535;
}

/* The first element of a comma-separated list, spaces trimmed. */
static void first_elem(const char *v, size_t vn, const char **p, size_t *n) {
    const char *c = v ? memchr(v, ',', vn) : NULL;
    size_t l = c ? (size_t)(c - v) : (v ? vn : 0);
    while (l && (*v == ' ' || *v == '\t')) { v++; l--; }
    while (l && (v[l - 1] == ' ' || v[l - 1] == '\t')) l--;
    *p = v;
    *n = l;
}

/* RFC 7239: the parameter NAME ("proto", "host") of Forwarded's first
 * element, its quotes removed. */
static int forwarded_param(const char *v, size_t vn, const char *name, const char **p, size_t *n) {
    const char *e;
    size_t el;
    first_elem(v, vn, &e, &el);
    size_t nl = strlen(name);
    while (el) {
        const char *semi = memchr(e, ';', el);
        size_t pl = semi ? (size_t)(semi - e) : el;
        const char *q = e;
        size_t ql = pl;
        while (ql && *q == ' ') { q++; ql--; }
        if (ql > nl && q[nl] == '=' && tg__http_name_eq(q, nl, name)) {
            q += nl + 1;
            ql -= nl + 1;
            if (ql >= 2 && q[0] == '"' && q[ql - 1] == '"') { q++; ql -= 2; }
            *p = q;
            *n = ql;
            return 1;
        }
        if (!semi) break;
        e = semi + 1;
        el -= pl + 1;
    }
    return 0;
}

static int text_is(const char *p, size_t n, const char *want) { return n == strlen(want) && tg__http_name_eq(p, n, want); }

void tg__catalog_base_url(const tg__catalog_origin *o, char *out, size_t outsz) {
    const char *proto = NULL, *host = NULL, *p;
    size_t hostn = 0, n;
    if (o->trust_forwarded) {
        if (o->forwarded && forwarded_param(o->forwarded, o->forwarded_len, "proto", &p, &n) &&
            (text_is(p, n, "http") || text_is(p, n, "https")))
            proto = text_is(p, n, "https") ? "https" : "http";
        if (o->forwarded && forwarded_param(o->forwarded, o->forwarded_len, "host", &p, &n) && valid_authority(p, n)) {
            host = p;
            hostn = n;
        }
        first_elem(o->xf_proto, o->xf_proto_len, &p, &n);
        if (!proto && o->xf_proto && (text_is(p, n, "http") || text_is(p, n, "https")))
            proto = text_is(p, n, "https") ? "https" : "http";
        first_elem(o->xf_host, o->xf_host_len, &p, &n);
        if (!host && o->xf_host && valid_authority(p, n)) {
            host = p;
            hostn = n;
        }
    }
    if (!host && o->host && valid_authority(o->host, o->host_len)) {
        host = o->host;
        hostn = o->host_len;
    }
    if (!proto) proto = "http";
    if (host) snprintf(out, outsz, "%s://%.*s", proto, (int)hostn, host);
    else snprintf(out, outsz, strchr(o->listen_host, ':') ? "%s://[%s]:%d" : "%s://%s:%d", proto, o->listen_host,
                  o->listen_port);
}

/* issue 20: the model's free-VRAM figure, the cards it came from and what it
 * does for the engine (/v1/limits "vram"). */
static json_t *vram_obj(const tg__model *m) {
    const tg__vram_view *v = &m->vram;
    json_t *o = json_object();
    if (!o) return json_null();
    static const char *const src[] = {"none", "config (hardware.free_vram_mib)", "nvml"};
    json_object_set_new(o, "source", json_string(src[v->source >= 0 && v->source <= 2 ? v->source : 0]));
    if (v->source == TG__VRAM_NVML) {
        json_object_set_new(o, "cards_from", json_string(v->selected_by ? v->selected_by : "all cards"));
        json_t *cards = json_array();
        for (const char *p = v->cards; *p;) {
            char *end;
            json_array_append_new(cards, json_integer((json_int_t)strtoul(p, &end, 10)));
            p = *end == ',' ? end + 1 : end;
        }
        json_object_set_new(o, "cards", cards);
        json_object_set_new(o, "reading_mib", v->reading ? json_integer((json_int_t)(v->reading / TG_MIB)) : json_null());
        json_object_set_new(o, "held_mib", v->degraded[0] ? json_null() : json_integer((json_int_t)(v->held / TG_MIB)));
        json_object_set_new(o, "degraded", v->degraded[0] ? json_string(v->degraded) : json_null());
    }
    if (m->kv_held_tokens) json_object_set_new(o, "kv_held_tokens", json_integer((json_int_t)m->kv_held_tokens));
    if (m->have_limits && m->limits.tightest_free_bytes)
        json_object_set_new(o, "tightest_free_mib", json_integer((json_int_t)(m->limits.tightest_free_bytes / TG_MIB)));
    json_object_set_new(o, "role", m->vram_role ? json_string(m->vram_role) : json_null());
    return o;
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
            /* issue 13: an unknown pool turns admission off, never a guess */
            json_object_set_new(live, "admission", json_string(s->cfg->admission_capacity ? "on (admission.capacity)"
                                                               : kv ? "on (the engine's KV pool)"
                                                                    : "off (KV pool unknown)"));
            json_object_set_new(live, "discovered", json_boolean(ui->ok));
            if (ui->n_ctx) json_object_set_new(live, "n_ctx", json_integer((json_int_t)ui->n_ctx));
            if (ui->total_slots) json_object_set_new(live, "total_slots", json_integer((json_int_t)ui->total_slots));
            if (ui->live) { /* the engine's own gauges (vLLM /metrics) */
                json_object_set_new(live, "kv_usage", json_real(ui->kv_usage));
                json_object_set_new(live, "requests_running", json_integer((json_int_t)ui->reqs_running));
                json_object_set_new(live, "requests_waiting", json_integer((json_int_t)ui->reqs_waiting));
            }
            if (ui->prefill_samples) {
                json_object_set_new(live, "prefill_tps_ema", json_real(ui->prefill_tps_ema));
                json_object_set_new(live, "prefill_samples", json_integer((json_int_t)ui->prefill_samples));
            }
        }
        if (m->n_ctx_train) json_object_set_new(live, "n_ctx_train", json_integer((json_int_t)m->n_ctx_train));
        json_object_set_new(o, "upstream_info", live);
        if (m->have_limits) json_object_set_new(o, "binding_reason", json_string(m->binding_why));
        json_object_set_new(o, "vram", vram_obj(m));
        json_object_set_new(o, "counting", json_string(m->tok && m->chat ? "tokenizer and chat template (exact)" : m->tok ? "tokenizer (exact for raw prompts; chats estimated: no chat template)" : "estimate (no tokenizer)"));
        if (m->cfg->model_path) json_object_set_new(o, "model_path", json_string(m->cfg->model_path));
        if (m->n_replicas > 1) { /* issue 14: the smallest limits across the replicas in service */
            json_object_set_new(o, "routing", json_string(tg__route_policy_name(s->cfg->route_policy)));
            json_object_set_new(o, "replicas", tg__replicas_json(s, m->cfg, m->limits_replica));
        }
        json_array_append_new(data, o);
    }
    dump_to(json_pack("{s:s,s:o}", "object", "list", "data", data), out);
}

/* Replicas (issue 14), when a section has several upstreams: each
 * upstream's health and the requests that moved. */
static void replicas_metrics(tg__server *s, struct evbuffer *out) {
    int any = 0;
    for (size_t i = 0; s->cfg && i < s->cfg->n_models; i++)
        if (tg__mc_n_urls(&s->cfg->models[i]) > 1) any = 1;
    if (!any) return;
    char lb[512];
    double now = tg__now();
    evbuffer_add_printf(out, "# HELP tokgate_upstream_in_service 1 while the upstream takes requests (health: passive faults, "
                             "active probes).\n# TYPE tokgate_upstream_in_service gauge\n");
    for (const tg__pool *p = s->pools.head; p; p = p->next)
        evbuffer_add_printf(out, "tokgate_upstream_in_service{upstream=\"%s\"} %d\n",
                            tg__metrics_label(p->key, lb, sizeof lb), tg__health_usable(&p->health, now));
    evbuffer_add_printf(out, "# HELP tokgate_upstream_outs_total Times the upstream was taken out of service.\n"
                             "# TYPE tokgate_upstream_outs_total counter\n");
    for (const tg__pool *p = s->pools.head; p; p = p->next)
        evbuffer_add_printf(out, "tokgate_upstream_outs_total{upstream=\"%s\"} %llu\n",
                            tg__metrics_label(p->key, lb, sizeof lb), (unsigned long long)p->health.outs);
    evbuffer_add_printf(out, "# HELP tokgate_replica_retries_total Requests sent to another replica after theirs failed "
                             "before answering.\n# TYPE tokgate_replica_retries_total counter\ntokgate_replica_retries_total %llu\n"
                             "# HELP tokgate_replica_failovers_total Streams continued at another replica by token ids.\n"
                             "# TYPE tokgate_replica_failovers_total counter\ntokgate_replica_failovers_total %llu\n",
                        (unsigned long long)tg__replicas_retried, (unsigned long long)tg__replicas_failovers);
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
    replicas_metrics(s, out);
}
