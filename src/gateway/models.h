/*
 * gateway/models.h: the served-model table (models.c).
 *
 * The table is rebuilt from the config and what discovery learned (at
 * start, after each discovery answer, after a reload). A model section with
 * a name serves one model; one without takes every model its upstream lists
 * (or, before discovery answered, serves as a catch-all under any name).
 * Each model carries its live limits (live_limits.h), its policy settings,
 * and the tokenizer and chat template it is counted with (modelfiles.h).
 *
 * A table is immutable once built and reference-counted: a request whose
 * work runs on a worker thread holds a reference, so a rebuild (discovery,
 * reload) on the loop never changes what it reads. The table holds a
 * reference to the config its models point into.
 */
#ifndef TG_GATEWAY_MODELS_H
#define TG_GATEWAY_MODELS_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/engine.h"
#include "gateway/vram.h"
#include "tokgate/limits.h"
#include "tokgate/policy.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

typedef struct tg__server tg__server;
typedef struct tg__pool tg__pool;

typedef struct tg__model {
    char *name;               /* NULL: catch-all until discovery names it */
    const tg__model_cfg *cfg; /* inside the table's config */
    tg__pool *pool;
    json_t *upstream_obj;     /* the upstream's entry for this model, or NULL */
    uint64_t upstream_ctx;    /* n_ctx / max_model_len the upstream enforces; 0 unknown */
    uint64_t n_ctx_train;
    tg_limits limits;
    int have_limits;
    const char *limits_source; /* static text */
    tg_model_settings settings; /* policy settings (name points at `name`) */
    const tg_tokenizer *tok;    /* exact counting; NULL: the policy's estimator */
    const tg_chat *chat;        /* chat template: exact chat counts with tok */
    const tg__engine *engine;   /* the section's `engine`, else discovery's; NULL: not known yet */
    int chat_dialect;           /* tg_chat_dialect: the engine's (tg__engine_chat_dialect) */
    const tg__engine_cont *cont; /* streams may continue in place by this protocol (cont.h):
                                   the section's "continuation" (tg__engine_cont_for); NULL never */
    tg_adaptive *adaptive;      /* the server's learned thinking budgets (adaptive.h); NULL none */
    /* issue 20: the free-VRAM figure, its role for the engine, why the
     * binding ceiling binds (live_limits.h) */
    tg__vram_view vram;
    const char *vram_role;
    uint64_t kv_held_tokens;
    char binding_why[240];
    /* replicas (issue 14): pool is the replica discovery named the model
     * from; the limits are the smallest across the replicas in service */
    size_t n_replicas, replicas_ready; /* upstreams of the section; of which discovered and in service */
    const char *limits_replica;        /* the pool key whose limits bind (several replicas), or NULL */
} tg__model;

typedef struct tg__model_table {
    int refs; /* changed on the loop thread only */
    tg__config *cfg;
    tg__model *v;
    size_t n;
} tg__model_table;

/* Builds a new table from s->cfg and discovery and swaps it in. */
tg_status tg__models_rebuild(tg__server *s, tg_error *err);
void tg__models_free(tg__server *s);
void tg__table_ref(tg__model_table *t);
void tg__table_unref(tg__model_table *t);
/* The model a request names (name or alias), or NULL. NULL name: the only
 * model when exactly one is served. Safe on any thread for a held table. */
const tg__model *tg__model_resolve(const tg__model_table *t, const char *name);
/* 1 when the request's rendered prompt ends inside an open thinking block,
 * 0 when not, -1 when it cannot be rendered here (tg__render_opens). */
int tg__chat_prompt_opens(const tg__model *m, const json_t *request, const char *open, const char *close);
/* The id a model is listed under. */
const char *tg__model_id(const tg__model *m);

#endif
