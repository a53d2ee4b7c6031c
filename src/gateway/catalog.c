/*
 * gateway/catalog.c: the served-model table and what it advertises.
 *
 * The table is rebuilt from the config and what discovery learned (at start,
 * after each discovery answer, after a reload). A model section with a name
 * serves one model; one without takes every model its upstream lists (or,
 * before discovery answered, serves as a catch-all under any name).
 *
 * Limits, until the limit derivation (branch `model`, tokgate/limits.h) is
 * wired in from the model file: the section's static limits, else the
 * context the upstream enforces (llama-server per-slot n_ctx from /props,
 * vLLM max_model_len), else the trained context (meta.n_ctx_train); capped
 * by the upstream's own context since a longer prompt is refused there
 * anyway; output = configured reserve or min(8192, context/2); input = the
 * rest. The same numbers go to /v1/models, /api.json, /v1/limits, /metrics
 * and the budget decision: every limit enforced is one advertised.
 *
 *   GET /v1/models  the upstream's entries (OpenAI list shape) plus, per model,
 *                   "limit": {context, input, output} (helexa's shape),
 *                   "context_length" and "max_model_len"
 *   GET /api.json   models.dev shape: {"tokgate": {id, name, npm, api, env,
 *                   models: {ID: {id, name, limit: {context, input, output}, ...}}}}
 *   GET /v1/limits  per model: the limits, where they came from, the ceilings
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"
#include "tokgate/reasoning.h"

static void model_clear(tg__model *m) {
    free(m->name);
    if (m->upstream_obj) json_decref(m->upstream_obj);
    memset(m, 0, sizeof *m);
}

void tg__table_ref(tg__model_table *t) { t->refs++; }

void tg__table_unref(tg__model_table *t) {
    if (!t || --t->refs > 0) return;
    for (size_t i = 0; i < t->n; i++) model_clear(&t->v[i]);
    free(t->v);
    tg__config_unref(t->cfg);
    free(t);
}

void tg__models_free(tg__server *s) {
    tg__table_unref(s->table);
    s->table = NULL;
}

static tg__upinfo *upinfo_for(tg__server *s, const char *key) {
    for (size_t i = 0; i < s->n_upinfo; i++)
        if (!strcmp(s->upinfo[i].pool_key, key)) return &s->upinfo[i];
    return NULL;
}

static tg__modelfile *file_get(tg__server *s, const char *path) {
    for (size_t i = 0; i < s->n_files; i++)
        if (!strcmp(s->files[i].path, path)) return &s->files[i];
    tg__modelfile *nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (!nf) return NULL;
    s->files = nf;
    tg__modelfile *f = &nf[s->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return NULL;
    s->n_files++;
    return f;
}

void tg__modelfiles_free(tg__server *s) {
    for (size_t i = 0; i < s->n_files; i++) {
        tg__modelfile *f = &s->files[i];
        free(f->path);
        tg_tokenizer_free(f->tok);
        if (f->prof_state == 1) tg_model_profile_free(&f->prof);
        tg_chat_free(f->chat);
    }
    free(s->files);
    s->files = NULL;
    s->n_files = 0;
}

/* Loaded once per path on the loop thread (blocking: at start or reload). */
static const tg_tokenizer *tokenizer_for(tg__server *s, const char *path) {
    tg__modelfile *f = path ? file_get(s, path) : NULL;
    if (!f) return NULL;
    if (f->tok_state == 0) {
        tg_error err;
        f->tok_state = tg_tokenizer_load(path, &f->tok, &err) == TG_OK ? 1 : -1;
        if (f->tok_state < 0)
            tg__log(s, TG__LOG_WARN, "tokenizer %s: %s; counting falls back to the estimator", path, err.msg);
        else tg__log(s, TG__LOG_INFO, "tokenizer %s loaded: prompts are counted exactly", path);
    }
    return f->tok_state == 1 ? f->tok : NULL;
}

static const tg_model_profile *profile_for(tg__server *s, const char *path) {
    tg__modelfile *f = path ? file_get(s, path) : NULL;
    if (!f) return NULL;
    if (f->prof_state == 0) {
        tg_error err;
        f->prof_state = tg_model_load(path, &f->prof, &err) == TG_OK ? 1 : -1;
        if (f->prof_state < 0)
            tg__log(s, TG__LOG_WARN, "model %s: %s; limits come from the upstream", path, err.msg);
    }
    return f->prof_state == 1 ? &f->prof : NULL;
}

static const tg_chat *chat_for(tg__server *s, const char *path) {
    tg__modelfile *f = path ? file_get(s, path) : NULL;
    if (!f) return NULL;
    if (f->chat_state == 0) {
        tg_error err;
        f->chat_state = tg_chat_load(path, &f->chat, &err) == TG_OK ? 1 : -1;
        if (f->chat_state < 0) tg__log(s, TG__LOG_INFO, "chat template from %s: %s", path, err.msg);
    }
    return f->chat_state == 1 ? f->chat : NULL;
}

/* Count caches (tokgate/template.h: an agent's resent history costs only
 * its new text). A cache is not thread-safe, so each thread that counts (the
 * loop, each worker) keeps its own per tokenizer; tokenizers live until exit,
 * so their pointers are stable keys. All are listed globally so the server
 * frees them once its threads are gone. */
#define TLS_CACHES 8
static _Thread_local struct {
    const tg_tokenizer *tok[TLS_CACHES];
    tg_count_cache *cache[TLS_CACHES];
    size_t n;
} tls_caches;
static pthread_mutex_t all_caches_mu = PTHREAD_MUTEX_INITIALIZER;
static tg_count_cache **all_caches;
static size_t n_all_caches;

static tg_count_cache *cache_for(const tg_tokenizer *tok) {
    for (size_t i = 0; i < tls_caches.n; i++)
        if (tls_caches.tok[i] == tok) return tls_caches.cache[i];
    if (tls_caches.n == TLS_CACHES) return NULL; /* more tokenizers than slots: count whole */
    tg_count_cache *c = NULL;
    tg_error err;
    if (tg_count_cache_new(tok, 1u << 16, &c, &err) != TG_OK) return NULL;
    pthread_mutex_lock(&all_caches_mu);
    tg_count_cache **na = realloc(all_caches, (n_all_caches + 1) * sizeof *na);
    if (na) {
        all_caches = na;
        all_caches[n_all_caches++] = c;
    }
    pthread_mutex_unlock(&all_caches_mu);
    if (!na) {
        tg_count_cache_free(c);
        return NULL;
    }
    tls_caches.tok[tls_caches.n] = tok;
    tls_caches.cache[tls_caches.n++] = c;
    return c;
}

void tg__count_caches_free(void) {
    pthread_mutex_lock(&all_caches_mu);
    for (size_t i = 0; i < n_all_caches; i++) tg_count_cache_free(all_caches[i]);
    free(all_caches);
    all_caches = NULL;
    n_all_caches = 0;
    pthread_mutex_unlock(&all_caches_mu);
    memset(&tls_caches, 0, sizeof tls_caches); /* the loop thread's view */
}

long long tg__chat_exact_count(const tg__model *m, const json_t *request) {
    if (!m->tok || !m->chat) return -1;
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = (tg_chat_dialect)m->chat_dialect;
    size_t n = 0;
    tg_error err;
    /* llama-server adds BOS to the rendered prompt; vLLM renders as
     * transformers does and tokenizes chat prompts without added specials. */
    unsigned flags = opt.dialect == TG_CHAT_LLAMACPP ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u;
    tg_count_cache *cache = cache_for(m->tok);
    tg_status st = cache ? tg_chat_count_cached(m->chat, cache, request, &opt, flags, &n, &err)
                         : tg_chat_count(m->chat, m->tok, request, &opt, flags, &n, &err);
    return st == TG_OK ? (long long)n : -1;
}

/* Last occurrence of `m` in h[0..n), or -1. */
static long last_of(const char *h, size_t n, const char *m) {
    size_t ml = strlen(m);
    if (!ml || ml > n) return -1;
    for (size_t i = n - ml + 1; i-- > 0;)
        if (!memcmp(h + i, m, ml)) return (long)i;
    return -1;
}

int tg__chat_prompt_opens(const tg__model *m, const json_t *request, const char *open, const char *close) {
    if (!m->chat) return -1;
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = (tg_chat_dialect)m->chat_dialect;
    char *p = NULL;
    size_t n = 0;
    tg_error err;
    if (tg_chat_render(m->chat, request, &opt, &p, &n, &err) != TG_OK) return -1;
    long o = last_of(p, n, open && *open ? open : "<think>");
    long c = last_of(p, n, close && *close ? close : "</think>");
    free(p);
    return o >= 0 && o > c;
}

static uint64_t min_nonzero(uint64_t a, uint64_t b) { return !a ? b : !b ? a : a < b ? a : b; }

/* The config's "policy" section onto the policy's settings. */
static void settings_from(tg__server *s, tg__model *m) {
    tg_model_settings *st = &m->settings;
    tg_model_settings_init(st);
    st->name = m->name;
    const tg_reasoning_info *ri = m->name ? tg_reasoning_lookup(m->name, strlen(m->name)) : NULL;
    if (ri) st->thinking_base = ri->base_budget;
    json_t *p = m->cfg->policy;
    /* No dialect named: the engine's own thinking field, unless tokgate cuts
     * thinking itself (continuation), where a second cut would race it. */
    if (m->engine && !m->cont) st->dialect = (tg_dialect)m->engine->thinking_dialect;
    const char *k;
    json_t *v;
    json_object_foreach(p, k, v) {
        int e = -1;
        uint64_t u = json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : UINT64_MAX;
        const char *sv = json_string_value(v);
        if (!strcmp(k, "overflow") && sv && (e = tg_overflow_mode_parse(sv)) >= 0) st->overflow = (tg_overflow_mode)e;
        else if (!strcmp(k, "truncation") && sv && (e = tg_truncation_mode_parse(sv)) >= 0) st->truncation = (tg_truncation_mode)e;
        else if (!strcmp(k, "dialect") && sv && (e = tg_dialect_parse(sv)) >= 0) st->dialect = (tg_dialect)e;
        else if (!strcmp(k, "thinking_mode") && sv && (e = tg_thinking_mode_parse(sv)) >= 0) st->thinking_mode = (tg_thinking_mode)e;
        else if (u != UINT64_MAX && !strcmp(k, "default_max_tokens")) st->default_max_tokens = u;
        else if (u != UINT64_MAX && !strcmp(k, "escalated_output_tokens")) st->escalated_max_tokens = u;
        else if (u != UINT64_MAX && !strcmp(k, "capped_default")) st->capped_default = u;
        else if (u != UINT64_MAX && !strcmp(k, "output_limit")) st->output_limit = u;
        else if (u != UINT64_MAX && !strcmp(k, "min_max_tokens")) st->min_max_tokens = u;
        else if (u != UINT64_MAX && !strcmp(k, "abs_max_tokens")) st->abs_max_tokens = u;
        else if (u != UINT64_MAX && !strcmp(k, "min_answer_tokens")) st->min_answer_tokens = u;
        else if (u != UINT64_MAX && !strcmp(k, "thinking_base")) st->thinking_base = u;
        else tg__log(s, TG__LOG_WARN, "model %s: policy.%s: unknown key or bad value; ignored", m->name ? m->name : "?", k);
    }
}

/* The section's "hardware" object onto the derivation's inputs. */
static void hardware_into(tg__server *s, const tg__model *m, tg_limits_config *lc, const tg__upinfo *ui) {
    const char *k;
    json_t *v;
    /* Free VRAM: the configured figures, or NVML's live ones when the config
     * says "nvml" or gives none (no NVML here: no VRAM ceiling, said once). */
    json_t *fv = json_object_get(m->cfg->hardware, "free_vram_mib");
    if (!fv || (json_is_string(fv) && !strcmp(json_string_value(fv), "nvml"))) {
        tg_error nerr;
        size_t n = 0;
        memset(&nerr, 0, sizeof nerr);
        if (tg_nvml_free_vram(lc->free_vram, TG_LIMITS_MAX_CARDS, &n, &nerr) == TG_OK) {
            lc->n_cards = n;
        } else if (fv || !s->nvml_note_said) {
            s->nvml_note_said = 1;
            tg__log(s, fv ? TG__LOG_WARN : TG__LOG_INFO, "free VRAM: %s; %s", nerr.msg,
                    fv ? "no VRAM ceiling until it is" : "give hardware.free_vram_mib for a VRAM ceiling");
        }
    }
    json_object_foreach(m->cfg->hardware, k, v) {
        double d = json_is_number(v) ? json_number_value(v) : -1;
        if (!strcmp(k, "free_vram_mib")) {
            if (json_is_string(v)) continue; /* "nvml": read above */
            json_t *one = json_is_array(v) ? NULL : v;
            size_t n = one ? 1 : json_array_size(v);
            lc->n_cards = 0;
            for (size_t i = 0; i < n && i < TG_LIMITS_MAX_CARDS; i++) {
                json_t *e = one ? one : json_array_get(v, i);
                if (json_is_number(e) && json_number_value(e) >= 0)
                    lc->free_vram[lc->n_cards++] = (uint64_t)json_number_value(e) * TG_MIB;
            }
        } else if (!strcmp(k, "tp") && d >= 1 && d <= TG_LIMITS_MAX_TP) lc->tp = (uint32_t)d;
        else if (!strcmp(k, "kv_type") && json_is_string(v)) {
            tg_error err;
            if (tg_kv_type_parse(json_string_value(v), &lc->kv_type, &err) != TG_OK)
                tg__log(s, TG__LOG_WARN, "model %s: hardware.kv_type: %s", m->name ? m->name : "?", err.msg);
        } else if (!strcmp(k, "min_free_mib") && d >= 0) lc->min_free_bytes = (uint64_t)d * TG_MIB;
        else if (!strcmp(k, "activation_mib") && d >= 0) lc->activation_bytes = (uint64_t)d * TG_MIB;
        else if (!strcmp(k, "prefill_tps") && d > 0) lc->prefill_tps = d;
        else if (!strcmp(k, "target_prefill_s") && d > 0) lc->target_prefill_s = d;
        else tg__log(s, TG__LOG_WARN, "model %s: hardware.%s: unknown key or bad value; ignored", m->name ? m->name : "?", k);
    }
    /* A target latency without a configured rate: the measured one (the EMA
     * of llama-server's timings), taken at each rebuild (discovery tick). */
    if (lc->target_prefill_s > 0 && lc->prefill_tps <= 0 && ui && ui->prefill_tps_ema > 0)
        lc->prefill_tps = ui->prefill_tps_ema;
}

/* The engine a model talks to and what follows from it (engine.h). */
static void model_engine(tg__model *m, const tg__upinfo *ui) {
    m->engine = tg__engine_for(m->cfg->engine, ui);
    m->cont = tg__engine_cont_for(m->engine, m->cfg->continuation);
}

static void derive(tg__server *s, tg__model *m, const tg__upinfo *ui) {
    const tg__model_cfg *c = m->cfg;
    m->upstream_ctx = 0;
    m->n_ctx_train = 0;
    if (m->engine) m->engine->model_ctx(ui, m->upstream_obj, &m->upstream_ctx, &m->n_ctx_train);
    uint64_t ctx = 0;
    m->limits_source = NULL;
    if (c->context) ctx = c->context, m->limits_source = "config";
    else if (m->upstream_ctx) ctx = m->upstream_ctx, m->limits_source = "upstream context (n_ctx / max_model_len)";
    else if (m->n_ctx_train) ctx = m->n_ctx_train, m->limits_source = "upstream n_ctx_train";
    if (ctx && m->upstream_ctx && m->upstream_ctx < ctx) ctx = m->upstream_ctx, m->limits_source = "upstream context (n_ctx / max_model_len)";
    memset(&m->limits, 0, sizeof m->limits);
    m->have_limits = ctx > 0;
    if (!ctx) return;
    uint64_t out = c->output ? c->output : TG_LIMITS_DEFAULT_OUTPUT_RESERVE;
    if (out > ctx / 2) out = ctx / 2; /* the rule of tg_limits_derive */
    uint64_t in = ctx - out;
    if (c->input && c->input < in) in = c->input;
    m->limits.context = ctx;
    m->limits.input = in;
    m->limits.output = out;
    m->limits.binding = c->context ? TG_BIND_CLAMP : TG_BIND_NATIVE;
    m->limits.ceiling_native = m->n_ctx_train ? m->n_ctx_train : ctx;
    m->limits.ceiling_vram = TG_CEILING_NONE;
    m->limits.ceiling_throughput = TG_CEILING_NONE;
    /* The model file, when readable here: helexa's derivation, with the
     * upstream's own context and the configured context as backstops. */
    const tg_model_profile *prof = profile_for(s, c->model_path);
    const char *nm = m->name ? m->name : NULL;
    if (!prof && !c->model_path && nm && tg_model_catalogue_match(nm)) {
        /* No model file here: the built-in catalogue, if it knows the name. */
        char key[300];
        snprintf(key, sizeof key, "catalogue:%s", nm);
        tg__modelfile *f = file_get(s, key);
        if (f && f->prof_state == 0) {
            tg_error err;
            f->prof_state = tg_model_from_name(nm, &f->prof, &err) == TG_OK ? 1 : -1;
            if (f->prof_state == 1)
                tg__log(s, TG__LOG_INFO, "model %s: no model file; limits from the built-in catalogue (%s)", nm,
                        tg_model_catalogue_match(nm));
        }
        if (f && f->prof_state == 1) prof = &f->prof;
    }
    if (prof) {
        tg_limits_config lc;
        tg_limits_config_init(&lc);
        hardware_into(s, m, &lc, ui);
        lc.max_prompt_tokens = min_nonzero(c->context, m->upstream_ctx);
        if (c->output) lc.output_reserve = c->output;
        tg_limits lim;
        tg_error err;
        memset(&lim, 0, sizeof lim);
        /* (a small context keeps half for the prompt: tg_limits_derive caps
         * the output reserve at half the context) */
        if (tg_limits_derive(prof, &lc, &lim, &err) != TG_OK) memset(&lim, 0, sizeof lim);
        if (lim.context) {
            if (c->input && c->input < lim.input) lim.input = c->input;
            m->limits = lim;
            m->have_limits = 1;
            m->limits_source = c->model_path ? "derived from the model file (tokgate/limits.h)"
                                             : "derived from the built-in catalogue (tokgate/limits.h)";
        }
    }
}

static int add(tg__model **v, size_t *n, size_t *cap) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        tg__model *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    memset(&(*v)[*n], 0, sizeof **v);
    (*n)++;
    return 0;
}

tg_status tg__models_rebuild(tg__server *s, tg_error *err) {
    tg__model *v = NULL;
    size_t n = 0, cap = 0;
    const tg__config *cfg = s->cfg;
    for (size_t i = 0; i < cfg->n_models; i++) {
        const tg__model_cfg *mc = &cfg->models[i];
        tg__pool *pool = tg__pool_get(s, mc->url.host, mc->url.port);
        if (!pool) goto oom;
        const tg__upinfo *ui = upinfo_for(s, pool->key);
        json_t *list = ui && ui->ok ? ui->models : NULL;
        if (mc->name || !list || json_array_size(list) == 0) {
            if (add(&v, &n, &cap)) goto oom;
            tg__model *m = &v[n - 1];
            m->cfg = mc;
            m->pool = pool;
            if (mc->name && !(m->name = strdup(mc->name))) goto oom;
            size_t k;
            json_t *e;
            json_array_foreach(list, k, e) {
                const char *id = json_string_value(json_object_get(e, "id"));
                if (id && ((mc->upstream_model && !strcmp(id, mc->upstream_model)) || (mc->name && !strcmp(id, mc->name)))) {
                    m->upstream_obj = json_incref(e);
                    break;
                }
            }
            if (!m->upstream_obj && list && json_array_size(list)) m->upstream_obj = json_incref(json_array_get(list, 0));
            model_engine(m, ui);
            derive(s, m, ui);
            settings_from(s, m);
            m->tok = tokenizer_for(s, mc->tokenizer_path ? mc->tokenizer_path : mc->model_path);
            /* The template the server renders: the model file's first (llama-server's). */
            m->chat = mc->model_path ? chat_for(s, mc->model_path) : NULL;
            m->chat_dialect = tg__engine_chat_dialect(m->engine, m->chat != NULL);
            if (!m->chat && mc->tokenizer_path) m->chat = chat_for(s, mc->tokenizer_path);
            continue;
        }
        size_t k;
        json_t *e;
        json_array_foreach(list, k, e) {
            const char *id = json_string_value(json_object_get(e, "id"));
            if (!id) continue;
            if (add(&v, &n, &cap)) goto oom;
            tg__model *m = &v[n - 1];
            m->cfg = mc;
            m->pool = pool;
            m->upstream_obj = json_incref(e);
            if (!(m->name = strdup(id))) goto oom;
            model_engine(m, ui);
            derive(s, m, ui);
            settings_from(s, m);
            m->tok = tokenizer_for(s, mc->tokenizer_path ? mc->tokenizer_path : mc->model_path);
            /* The template the server renders: the model file's first (llama-server's). */
            m->chat = mc->model_path ? chat_for(s, mc->model_path) : NULL;
            m->chat_dialect = tg__engine_chat_dialect(m->engine, m->chat != NULL);
            if (!m->chat && mc->tokenizer_path) m->chat = chat_for(s, mc->tokenizer_path);
        }
    }
    tg__model_table *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    t->refs = 1;
    t->cfg = s->cfg;
    tg__config_ref(s->cfg);
    t->v = v;
    t->n = n;
    tg__models_free(s);
    s->table = t;
    return TG_OK;
oom:
    for (size_t i = 0; i < n; i++) model_clear(&v[i]);
    free(v);
    return tg_error_set(err, TG_ENOMEM, "out of memory building the model table");
}

const tg__model *tg__model_resolve(const tg__model_table *t, const char *name) {
    if (!t) return NULL;
    if (!name) return t->n == 1 ? &t->v[0] : NULL;
    for (size_t i = 0; i < t->n; i++) {
        const tg__model *m = &t->v[i];
        if (m->name && !strcmp(m->name, name)) return m;
    }
    for (size_t i = 0; i < t->n; i++) {
        const tg__model *m = &t->v[i];
        for (size_t a = 0; a < m->cfg->n_aliases; a++)
            if (!strcmp(m->cfg->aliases[a], name)) return m;
        if (m->cfg->upstream_model && !strcmp(m->cfg->upstream_model, name)) return m;
        const char *id = m->upstream_obj ? json_string_value(json_object_get(m->upstream_obj, "id")) : NULL;
        if (id && !strcmp(id, name)) return m;
    }
    if (t->n == 1 && !t->v[0].name) return &t->v[0]; /* not discovered yet */
    return NULL;
}

static json_t *limit_obj(const tg__model *m) {
    return json_pack("{s:I,s:I,s:I}", "context", (json_int_t)m->limits.context, "input", (json_int_t)m->limits.input,
                     "output", (json_int_t)m->limits.output);
}

static const char *model_id(const tg__model *m) {
    if (m->name) return m->name;
    const char *id = m->upstream_obj ? json_string_value(json_object_get(m->upstream_obj, "id")) : NULL;
    return id ? id : "default";
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
        json_object_set_new(o, "id", json_string(model_id(m)));
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
        const char *id = model_id(m);
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
        const tg__upinfo *ui = upinfo_for(s, m->pool->key);
        json_t *o = json_pack("{s:s,s:s,s:s}", "model", model_id(m), "upstream", m->cfg->upstream, "source",
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
