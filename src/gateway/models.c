/*
 * gateway/models.c: the served-model table (models.h): built from the
 * config and discovery, each model resolved by name, alias or upstream id,
 * with its limits (live_limits.c), policy settings, tokenizer and template
 * (modelfiles.c).
 */
#include "gateway/models.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/adaptive.h"
#include "gateway/discovery.h"
#include "gateway/live_limits.h"
#include "gateway/log.h"
#include "gateway/modelfiles.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "policy/settings_keys.h"
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

/* The section's policy settings (read and checked with the config:
 * policy/settings_keys.h), the thinking base from the reasoning catalogue
 * unless the section gives one; with no dialect given, the engine's own
 * thinking field, unless tokgate cuts thinking itself (continuation), where
 * a second cut would race it. */
static void settings_from(tg__model *m) {
    tg_model_settings *st = &m->settings;
    *st = m->cfg->settings;
    st->name = m->name;
    if (m->engine && !m->cont && !(m->cfg->settings_given & tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "dialect")))
        st->dialect = (tg_dialect)m->engine->thinking_dialect;
    if (m->cfg->settings_given & tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "thinking_base")) return;
    const tg_reasoning_info *ri = m->name ? tg_reasoning_lookup(m->name, strlen(m->name)) : NULL;
    st->thinking_base = ri ? ri->base_budget : 0;
}

/* Several replicas: the limits a request will get on any replica in
 * service, the smallest context among them (each replica discovered on its
 * own: engine, n_ctx, slots). */
static void replicas_limits(tg__server *s, tg__model *m) {
    const tg__model_cfg *mc = m->cfg;
    size_t n = tg__mc_n_urls(mc);
    m->n_replicas = n;
    m->replicas_ready = 0;
    m->limits_replica = NULL;
    if (n < 2) return;
    double now = tg__now();
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        const tg__url *u = tg__mc_url(mc, i);
        tg__pool *p = tg__pool_get(&s->pools, u->host, u->port);
        const tg__upinfo *ui = p ? tg__upinfo_find(s, p->key) : NULL;
        if (!ui || !ui->ok || !tg__health_usable(&p->health, now)) continue;
        m->replicas_ready++;
        tg__live l;
        memset(&l, 0, sizeof l);
        tg__live_limits_derive(s, mc, m->name, m->upstream_obj, ui, &l);
        if (!l.have_limits || (have && l.limits.context >= m->limits.context)) continue;
        have = 1;
        m->limits = l.limits;
        m->have_limits = 1;
        m->limits_source = l.limits_source;
        m->upstream_ctx = l.upstream_ctx;
        m->n_ctx_train = l.n_ctx_train;
        m->limits_replica = p->key;
    }
}

/* The replica discovery names a section's models from: the first whose
 * discovery answered, else the first. */
static tg__pool *primary_pool(tg__server *s, const tg__model_cfg *mc) {
    tg__pool *first = NULL;
    for (size_t i = 0; i < tg__mc_n_urls(mc); i++) {
        const tg__url *u = tg__mc_url(mc, i);
        tg__pool *p = tg__pool_get(&s->pools, u->host, u->port);
        if (!p) continue;
        if (!first) first = p;
        const tg__upinfo *ui = tg__upinfo_find(s, p->key);
        if (ui && ui->ok && tg__health_usable(&p->health, tg__now())) return p;
    }
    return first;
}

/* A model's limits, settings, tokenizer and template, from its section and
 * what discovery learned of its upstream (ui, or NULL). */
static void model_fill(tg__server *s, tg__model *m, const tg__upinfo *ui) {
    const tg__model_cfg *mc = m->cfg;
    m->engine = tg__engine_for(mc->engine, ui);
    m->cont = tg__engine_cont_for(m->engine, mc->continuation);
    tg__live l;
    memset(&l, 0, sizeof l);
    tg__live_limits_derive(s, mc, m->name, m->upstream_obj, ui, &l);
    m->limits = l.limits;
    m->have_limits = l.have_limits;
    m->limits_source = l.limits_source;
    m->upstream_ctx = l.upstream_ctx;
    m->n_ctx_train = l.n_ctx_train;
    m->vram = l.vram;
    m->vram_role = l.vram_role;
    m->kv_held_tokens = l.kv_held_tokens;
    memcpy(m->binding_why, l.binding_why, sizeof m->binding_why);
    replicas_limits(s, m);
    settings_from(m);
    m->adaptive = s->adaptive ? s->adaptive->table : NULL;
    m->tok = tg__modelfile_tokenizer(s, mc->tokenizer_path ? mc->tokenizer_path : mc->model_path);
    /* The template the server renders: the model file's first (llama-server's). */
    m->chat = mc->model_path ? tg__modelfile_chat(s, mc->model_path) : NULL;
    m->chat_dialect = tg__engine_chat_dialect(m->engine, m->chat != NULL);
    if (!m->chat && mc->tokenizer_path) m->chat = tg__modelfile_chat(s, mc->tokenizer_path);
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
        tg__pool *pool = primary_pool(s, mc);
        if (!pool) goto oom;
        const tg__upinfo *ui = tg__upinfo_find(s, pool->key);
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
            model_fill(s, m, ui);
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
            model_fill(s, m, ui);
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

const char *tg__model_id(const tg__model *m) {
    if (m->name) return m->name;
    const char *id = m->upstream_obj ? json_string_value(json_object_get(m->upstream_obj, "id")) : NULL;
    return id ? id : "default";
}


int tg__chat_prompt_opens(const tg__model *m, const json_t *request, const char *open, const char *close) {
    return tg__render_opens(m->chat, m->chat_dialect, request, open, close);
}
