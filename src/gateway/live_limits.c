/*
 * gateway/live_limits.c: a served model's limits as they stand now
 * (live_limits.h).
 *
 * Without a model file: the section's static limits, else the context the
 * upstream enforces (llama-server per-slot n_ctx from /props, vLLM
 * max_model_len), else the trained context (meta.n_ctx_train); capped by
 * the upstream's own context since a longer prompt is refused there anyway;
 * then split by the library's one rule, tg_limits_from_context (output =
 * min(configured reserve or 8192, context/2), input = the rest, at most the
 * configured input).
 * With a model file (or a catalogue entry for the name, or the engine's own
 * description of the model: engine.h model_profile, Ollama's model_info): helexa's
 * derivation (tokgate/limits.h) over free VRAM (configured, or NVML's live
 * reading) and the prefill throughput measured on the upstream's answers,
 * with the upstream's own context and the configured context as backstops.
 */
#include "gateway/live_limits.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/modelfiles.h"
#include "gateway/server.h"
#include "limits/limits_keys.h"

static uint64_t min_nonzero(uint64_t a, uint64_t b) { return !a ? b : !b ? a : a < b ? a : b; }

/* The section's derivation inputs (read and checked with the config:
 * limits/limits_keys.h). Free VRAM: the configured figures, or, when the
 * section says "nvml" or gives no figure, the live loop's smoothed figure
 * for the model's own cards (vram.h; none there: no VRAM ceiling, the
 * configured limits stand, and vram.c says why in the log). */
static void hardware_into(tg__server *s, const tg__model_cfg *c, const char *name, tg_limits_config *lc,
                          const tg__upinfo *ui, tg__live *l) {
    *lc = c->hw.cfg;
    int given = (c->hw_given & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "free_vram_mib")) != 0;
    memset(&l->vram, 0, sizeof l->vram);
    l->vram.source = given && !c->hw.free_vram_nvml ? TG__VRAM_CONFIG : TG__VRAM_NONE;
    if (!given || c->hw.free_vram_nvml) {
        lc->n_cards = 0;
        if (tg__vram_read(s, &c->hw, name, &l->vram)) {
            lc->free_vram[0] = l->vram.held;
            lc->n_cards = 1;
        }
    }
    /* A target latency without a configured rate: the measured one (the EMA
     * of llama-server's timings), taken at each rebuild (discovery tick). */
    if (lc->target_prefill_s > 0 && lc->prefill_tps <= 0 && ui && ui->prefill_tps_ema > 0)
        lc->prefill_tps = ui->prefill_tps_ema;
}

/* Limits from a known context, split by the library's one rule
 * (tg_limits_from_context, as `tokgate check --context` splits it: the
 * reserve, configured or the default, at most half the context, for output;
 * the rest, at most the configured input, for input). 0 when it cannot. */
static int from_context(const tg__model_cfg *c, uint64_t ctx, tg__live *l) {
    tg_limits_config split;
    tg_limits_config_init(&split);
    if (c->output) split.output_reserve = c->output;
    if (tg_limits_from_context(ctx, &split, &l->limits, NULL) != TG_OK) return 0;
    if (c->input && c->input < l->limits.input) l->limits.input = c->input;
    l->limits.binding = c->context ? TG_BIND_CLAMP : TG_BIND_NATIVE;
    l->limits.ceiling_native = l->n_ctx_train ? l->n_ctx_train : ctx;
    return 1;
}

/* What the free-VRAM figure does for this engine (issue 20). */
static const char *vram_role_of(const tg__engine *e) {
    if (!e) return "binds (the engine is not known yet: the safe reading)";
    if (e->kv_lazy) return "binds (the engine sizes its KV cache per request: the context sent, num_ctx, follows it)";
    return "information only (the engine allocated its KV pool at start: its context and pool bind; free VRAM "
           "decides the launch recipe, tokgate recipe)";
}

/* helexa's derivation over the profile. A lazy engine (Ollama) gets the KV
 * it holds for the model now added back to the free figure (it frees it
 * when it reloads with another num_ctx); for an engine that preallocates,
 * the VRAM ceiling is computed for /v1/limits but the limits come from the
 * same derivation without it. */
static void derive_profile(tg__server *s, const tg__model_cfg *c, const char *name, const tg_model_profile *prof,
                           const tg__engine *e, const json_t *entry, const tg__upinfo *ui, tg__live *l,
                           int have_eprof) {
    tg_limits_config lc;
    tg_limits_config_init(&lc);
    hardware_into(s, c, name, &lc, ui, l);
    lc.max_prompt_tokens = min_nonzero(c->context, l->upstream_ctx);
    if (c->output) lc.output_reserve = c->output;
    l->vram_role = lc.n_cards ? vram_role_of(e)
                              : "not used (no free-VRAM figure: no NVML reading for the model's cards and no "
                                "numeric hardware.free_vram_mib)";
    tg_kv_cost kv;
    tg_error err;
    l->kv_held_tokens = e && e->kv_held_tokens && ui ? e->kv_held_tokens(ui, entry) : 0;
    if (l->kv_held_tokens && lc.n_cards && tg_kv_cost_compute(prof, lc.kv_type, lc.tp, &kv, &err) == TG_OK &&
        kv.per_token_per_card && l->kv_held_tokens < UINT64_MAX / 2 / kv.per_token_per_card)
        for (size_t i = 0; i < lc.n_cards; i++) lc.free_vram[i] += l->kv_held_tokens * kv.per_token_per_card;
    tg_limits lim, info;
    memset(&lim, 0, sizeof lim);
    /* (a small context keeps half for the prompt: tg_limits_derive caps
     * the output reserve at half the context) */
    if (tg_limits_derive(prof, &lc, &lim, &err) != TG_OK) memset(&lim, 0, sizeof lim);
    if (e && !e->kv_lazy && lc.n_cards) {
        info = lim;
        lc.n_cards = 0;
        if (tg_limits_derive(prof, &lc, &lim, &err) != TG_OK) memset(&lim, 0, sizeof lim);
        lim.ceiling_vram = info.ceiling_vram;
        lim.tightest_free_bytes = info.tightest_free_bytes;
        lim.vram_budget_bytes = info.vram_budget_bytes;
    }
    if (!lim.context) return;
    if (c->input && c->input < lim.input) lim.input = c->input;
    l->limits = lim;
    l->have_limits = 1;
    l->limits_source = have_eprof     ? "derived from the engine's model info (tokgate/limits.h)"
                       : c->model_path ? "derived from the model file (tokgate/limits.h)"
                                       : "derived from the built-in catalogue (tokgate/limits.h)";
}

/* Which ceiling binds and why, in words, for /v1/limits. */
static void binding_words(const tg__model_cfg *c, tg__live *l) {
    const tg_limits *m = &l->limits;
    char *w = l->binding_why;
    size_t cap = sizeof l->binding_why;
    if (!l->have_limits) {
        snprintf(w, cap, "no limits known yet");
        return;
    }
    switch (m->binding) {
    case TG_BIND_VRAM:
        snprintf(w, cap, "vram: %llu MiB free on the tightest of cards [%.60s] (%s) holds %llu tokens of KV cache",
                 (unsigned long long)(m->tightest_free_bytes / TG_MIB), l->vram.cards[0] ? l->vram.cards : "configured",
                 l->vram.source == TG__VRAM_NVML ? "NVML, smoothed" : "hardware.free_vram_mib",
                 (unsigned long long)m->ceiling_vram);
        break;
    case TG_BIND_THROUGHPUT:
        snprintf(w, cap, "throughput: target_prefill_s x prefill_tps allows %llu tokens",
                 (unsigned long long)m->ceiling_throughput);
        break;
    case TG_BIND_CLAMP:
        snprintf(w, cap, "clamp: %s", c->context && (!l->upstream_ctx || c->context <= l->upstream_ctx)
                                          ? "limits.context in the config"
                                          : "the context the upstream enforces (n_ctx / max_model_len)");
        break;
    default: snprintf(w, cap, "native: the model's trained context"); break;
    }
}

void tg__live_limits_derive(tg__server *s, const tg__model_cfg *c, const char *name, const json_t *upstream_obj,
                            const tg__upinfo *ui, tg__live *l) {
    l->upstream_ctx = 0;
    l->n_ctx_train = 0;
    const tg__engine *e = tg__engine_for(c->engine, ui); /* what the engine says it enforces */
    if (e) e->model_ctx(ui, upstream_obj, &l->upstream_ctx, &l->n_ctx_train);
    uint64_t ctx = 0;
    l->limits_source = NULL;
    if (c->context) ctx = c->context, l->limits_source = "config";
    else if (l->upstream_ctx) ctx = l->upstream_ctx, l->limits_source = "upstream context (n_ctx / max_model_len)";
    else if (l->n_ctx_train) ctx = l->n_ctx_train, l->limits_source = "upstream n_ctx_train";
    if (ctx && l->upstream_ctx && l->upstream_ctx < ctx) ctx = l->upstream_ctx, l->limits_source = "upstream context (n_ctx / max_model_len)";
    memset(&l->limits, 0, sizeof l->limits);
    l->have_limits = ctx > 0 && from_context(c, ctx, l);
    /* Without a context from the config or the upstream, the model file or
     * catalogue alone still gives limits (never unbudgeted while it can). */
    /* The model file, when readable here: helexa's derivation, with the
     * upstream's own context and the configured context as backstops. */
    const tg_model_profile *prof = tg__modelfile_profile(s, c->model_path);
    if (!prof && !c->model_path) prof = tg__modelfile_catalogue(s, name);
    /* Else what the engine says of the model (Ollama's /api/show model_info:
     * its GGUF keys, read by the same rules as a model file). */
    tg_model_profile eprof;
    int have_eprof = !prof && e && e->model_profile && e->model_profile(ui, upstream_obj, &eprof);
    if (have_eprof) prof = &eprof;
    if (prof) derive_profile(s, c, name, prof, e, upstream_obj, ui, l, have_eprof);
    else l->vram_role = "not used (no model profile: no KV bytes per token to divide by)";
    binding_words(c, l);
    if (have_eprof) tg_model_profile_free(&eprof);
}

void tg__prefill_observe(tg__server *s, const char *key, double tokens, double ms) {
    if (tokens < 16 || ms <= 0) return; /* too few tokens to say anything about throughput */
    tg__upinfo *u = tg__upinfo_find(s, key);
    if (!u) return;
    double tps = tokens * 1000.0 / ms;
    u->prefill_tps_ema = u->prefill_samples ? 0.8 * u->prefill_tps_ema + 0.2 * tps : tps;
    u->prefill_samples++;
}
