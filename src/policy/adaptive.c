/*
 * policy/adaptive.c: the table of thinking budgets learned from use
 * (tokgate/adaptive.h has the design: classes, the sliding window per class,
 * the nearest-rank quantile, the censored samples). thinking.c asks it for
 * an adaptive request's budget; the gateway records finished answers into
 * it; adaptive_state.c saves and loads it.
 *
 * Layout: a flat array of models (name -> one ring pointer per class, the
 * ring allocated on the class's first sample), searched linearly: a gateway
 * serves a handful of models and the search runs once per request. One
 * mutex guards the whole table; a lookup sorts at most TG_ADAPTIVE_WINDOW
 * integers under it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/adaptive_int.h"

void tg_adaptive_cfg_init(tg_adaptive_cfg *cfg) {
    cfg->quantile_ppm = 900000u;
    cfg->min_samples = 20u;
    cfg->window = TG_ADAPTIVE_WINDOW;
}

tg_adaptive *tg_adaptive_new(const tg_adaptive_cfg *cfg) {
    tg_adaptive *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    tg_adaptive_cfg_init(&a->cfg);
    if (cfg) {
        if (cfg->quantile_ppm && cfg->quantile_ppm <= 1000000u) a->cfg.quantile_ppm = cfg->quantile_ppm;
        if (cfg->window && cfg->window <= TG_ADAPTIVE_WINDOW) a->cfg.window = cfg->window;
        if (cfg->min_samples) a->cfg.min_samples = cfg->min_samples;
    }
    if (a->cfg.min_samples > a->cfg.window) a->cfg.min_samples = a->cfg.window;
    if (pthread_mutex_init(&a->mu, NULL) != 0) {
        free(a);
        return NULL;
    }
    return a;
}

void tg__adaptive_clear(tg_adaptive *a) {
    for (size_t i = 0; i < a->n; i++) {
        free(a->models[i].name);
        for (size_t c = 0; c < TG_ADAPTIVE_CLASSES; c++) free(a->models[i].cls[c]);
    }
    free(a->models);
    a->models = NULL;
    a->n = a->cap = 0;
}

void tg_adaptive_free(tg_adaptive *a) {
    if (!a) return;
    tg__adaptive_clear(a);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* ---- classes -------------------------------------------------------- */

static const char *const band_names[TG_ADAPTIVE_BANDS] = {"lt1k", "1k-4k", "4k-16k", "16k-64k", "ge64k"};
static const char *const code_names[2] = {"plain", "code"};
static const char *const asked_names[TG_ADAPTIVE_ASKED] = {"none", "low", "medium", "high"};

const char *tg__adaptive_band_name(unsigned b) { return b < TG_ADAPTIVE_BANDS ? band_names[b] : "?"; }
const char *tg__adaptive_code_name(unsigned c) { return c < 2 ? code_names[c] : "?"; }
const char *tg__adaptive_asked_name(unsigned a) { return a < TG_ADAPTIVE_ASKED ? asked_names[a] : "?"; }

size_t tg_adaptive_class_index(tg_adaptive_class c) {
    size_t b = c.band < TG_ADAPTIVE_BANDS ? c.band : TG_ADAPTIVE_BANDS - 1;
    size_t k = c.asked < TG_ADAPTIVE_ASKED ? c.asked : 0;
    return (b * 2 + (c.code ? 1u : 0u)) * TG_ADAPTIVE_ASKED + k;
}

tg_adaptive_class tg_adaptive_class_at(size_t index) {
    tg_adaptive_class c;
    index %= TG_ADAPTIVE_CLASSES;
    c.asked = (uint8_t)(index % TG_ADAPTIVE_ASKED);
    c.code = (uint8_t)((index / TG_ADAPTIVE_ASKED) % 2);
    c.band = (uint8_t)(index / (TG_ADAPTIVE_ASKED * 2));
    return c;
}

void tg_adaptive_class_name(tg_adaptive_class c, char *buf, size_t cap) {
    if (!buf || !cap) return;
    snprintf(buf, cap, "%s/%s/%s", tg__adaptive_band_name(c.band), tg__adaptive_code_name(c.code),
             tg__adaptive_asked_name(c.asked));
}

int tg_adaptive_class_parse(const char *s, tg_adaptive_class *out) {
    if (!s) return -1;
    char buf[32];
    for (size_t i = 0; i < TG_ADAPTIVE_CLASSES; i++) {
        tg_adaptive_class c = tg_adaptive_class_at(i);
        tg_adaptive_class_name(c, buf, sizeof buf);
        if (strcmp(buf, s) == 0) {
            *out = c;
            return 0;
        }
    }
    return -1;
}

static int has_fence(const json_t *v) {
    if (json_is_string(v)) return strstr(json_string_value(v), "```") != NULL;
    if (json_is_array(v)) { /* content parts: [{"type": "text", "text": ...}] or prompts */
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e) {
            if (has_fence(json_is_object(e) ? json_object_get(e, "text") : e)) return 1;
        }
    }
    return 0;
}

static int has_code(const tg_request *r) {
    const json_t *root = r->root;
    const json_t *tools = json_object_get(root, "tools"), *fns = json_object_get(root, "functions");
    if (json_array_size(tools) > 0 || json_array_size(fns) > 0) return 1;
    if (r->kind == TG_REQ_COMPLETION) return has_fence(json_object_get(root, "prompt"));
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(root, "messages"), i, m) {
        if (json_array_size(json_object_get(m, "tool_calls")) > 0) return 1;
        if (has_fence(json_object_get(m, "content"))) return 1;
    }
    return 0;
}

tg_adaptive_class tg_adaptive_classify(const tg_request *r, uint64_t prompt_tokens) {
    static const uint64_t edge[TG_ADAPTIVE_BANDS - 1] = {1024, 4096, 16384, 65536};
    tg_adaptive_class c = {0, 0, 0};
    while (c.band < TG_ADAPTIVE_BANDS - 1 && prompt_tokens >= edge[c.band]) c.band++;
    if (!r || !r->root) return c;
    c.code = (uint8_t)has_code(r);
    const char *e = json_string_value(json_object_get(r->root, "reasoning_effort"));
    for (uint8_t k = 1; e && k < TG_ADAPTIVE_ASKED; k++)
        if (strcmp(e, asked_names[k]) == 0) c.asked = k;
    return c;
}

/* ---- the quantile ----------------------------------------------------- */

static int cmp_u32(const void *x, const void *y) {
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

uint64_t tg_quantile_nearest_rank(uint32_t *v, size_t n, uint32_t q_ppm) {
    if (!v || n == 0) return 0;
    if (q_ppm > 1000000u) q_ppm = 1000000u;
    qsort(v, n, sizeof *v, cmp_u32);
    /* rank = ceil(q n), at least 1; q n in integers: q_ppm n / 10^6 rounded up */
    uint64_t rank = ((uint64_t)q_ppm * n + 999999u) / 1000000u;
    if (rank < 1) rank = 1;
    return v[rank - 1];
}

/* The class's samples, oldest first, into OUT (TG_ADAPTIVE_WINDOW slots). */
size_t tg__ring_samples(const tg__ring *r, uint32_t window, uint32_t *out) {
    if (!r) return 0;
    if (r->n < window) {
        memcpy(out, r->v, r->n * sizeof *out);
        return r->n;
    }
    size_t k = 0;
    for (uint32_t i = r->next; i < window; i++) out[k++] = r->v[i];
    for (uint32_t i = 0; i < r->next; i++) out[k++] = r->v[i];
    return k;
}

void tg__ring_push(tg__ring *r, uint32_t window, uint32_t v) {
    r->v[r->next] = v;
    r->next = (r->next + 1) % window;
    if (r->n < window) r->n++;
}

/* ---- models ----------------------------------------------------------- */

tg__amodel *tg__adaptive_model(tg_adaptive *a, const char *name, int create) {
    if (!name) name = "";
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->models[i].name, name) == 0) return &a->models[i];
    if (!create || a->n >= TG_ADAPTIVE_MAX_MODELS) return NULL;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        tg__amodel *m = realloc(a->models, cap * sizeof *m);
        if (!m) return NULL;
        a->models = m;
        a->cap = cap;
    }
    tg__amodel *m = &a->models[a->n];
    memset(m, 0, sizeof *m);
    m->name = strdup(name);
    if (!m->name) return NULL;
    a->n++;
    return m;
}

tg__ring *tg__adaptive_ring(tg__amodel *m, size_t cls) {
    if (!m->cls[cls]) m->cls[cls] = calloc(1, sizeof *m->cls[cls]);
    return m->cls[cls];
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi) {
    if (hi && v > hi) v = hi;
    return v < lo ? lo : v;
}

tg_adaptive_pick tg_adaptive_lookup(tg_adaptive *a, const char *model, tg_adaptive_class c,
                                    uint64_t catalogue, uint64_t lo, uint64_t hi) {
    tg_adaptive_pick p = {clamp(catalogue, lo, hi), 0, 0};
    if (!a) return p;
    uint32_t buf[TG_ADAPTIVE_WINDOW];
    pthread_mutex_lock(&a->mu);
    tg__amodel *m = tg__adaptive_model(a, model, 0);
    size_t n = m ? tg__ring_samples(m->cls[tg_adaptive_class_index(c)], a->cfg.window, buf) : 0;
    uint32_t q = a->cfg.quantile_ppm, min = a->cfg.min_samples;
    pthread_mutex_unlock(&a->mu);
    p.samples = (uint32_t)n;
    if (n < min || n == 0) return p;
    p.budget = clamp(tg_quantile_nearest_rank(buf, n, q), lo, hi);
    p.from_samples = 1;
    return p;
}

tg_status tg_adaptive_record(tg_adaptive *a, const char *model, tg_adaptive_class c, uint64_t thinking,
                             int cut, uint64_t budget, uint64_t hi) {
    if (!a) return TG_EINVAL;
    uint64_t v = thinking;
    if (cut) {
        v = budget > UINT64_MAX / 2 ? UINT64_MAX : budget * 2;
        if (hi && v > hi) v = hi;
        if (v < thinking) v = thinking;
    }
    if (v > TG_ADAPTIVE_MAX_SAMPLE) v = TG_ADAPTIVE_MAX_SAMPLE;
    tg_status st = TG_OK;
    pthread_mutex_lock(&a->mu);
    int full = a->n >= TG_ADAPTIVE_MAX_MODELS;
    tg__amodel *m = tg__adaptive_model(a, model, 1);
    tg__ring *r = m ? tg__adaptive_ring(m, tg_adaptive_class_index(c)) : NULL;
    if (r) tg__ring_push(r, a->cfg.window, (uint32_t)v);
    else st = m || !full ? TG_ENOMEM : TG_ELIMIT;
    pthread_mutex_unlock(&a->mu);
    return st;
}

void tg_adaptive_visit(tg_adaptive *a, tg_adaptive_visit_fn fn, void *ud) {
    if (!a || !fn) return;
    uint32_t buf[TG_ADAPTIVE_WINDOW];
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->n; i++) {
        for (size_t c = 0; c < TG_ADAPTIVE_CLASSES; c++) {
            size_t n = tg__ring_samples(a->models[i].cls[c], a->cfg.window, buf);
            if (!n) continue;
            uint64_t q = n >= a->cfg.min_samples ? tg_quantile_nearest_rank(buf, n, a->cfg.quantile_ppm) : 0;
            fn(ud, a->models[i].name, tg_adaptive_class_at(c), (uint32_t)n, q);
        }
    }
    pthread_mutex_unlock(&a->mu);
}
