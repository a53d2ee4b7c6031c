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
 * limits/limits_keys.h), with NVML's live free VRAM when the section says
 * "nvml" or gives no figure (no NVML here: no VRAM ceiling, said once). */
static void hardware_into(tg__server *s, const tg__model_cfg *c, tg_limits_config *lc, const tg__upinfo *ui) {
    *lc = c->hw.cfg;
    int given = (c->hw_given & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "free_vram_mib")) != 0;
    if (!given || c->hw.free_vram_nvml) {
        tg_error nerr;
        size_t n = 0;
        memset(&nerr, 0, sizeof nerr);
        if (tg_nvml_free_vram(lc->free_vram, TG_LIMITS_MAX_CARDS, &n, &nerr) == TG_OK) {
            lc->n_cards = n;
        } else if (given || !s->nvml_note_said) {
            s->nvml_note_said = 1;
            tg__log(s, given ? TG__LOG_WARN : TG__LOG_INFO, "free VRAM: %s; %s", nerr.msg,
                    given ? "no VRAM ceiling until it is" : "give hardware.free_vram_mib for a VRAM ceiling");
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
    if (prof) {
        tg_limits_config lc;
        tg_limits_config_init(&lc);
        hardware_into(s, c, &lc, ui);
        lc.max_prompt_tokens = min_nonzero(c->context, l->upstream_ctx);
        if (c->output) lc.output_reserve = c->output;
        tg_limits lim;
        tg_error err;
        memset(&lim, 0, sizeof lim);
        /* (a small context keeps half for the prompt: tg_limits_derive caps
         * the output reserve at half the context) */
        if (tg_limits_derive(prof, &lc, &lim, &err) != TG_OK) memset(&lim, 0, sizeof lim);
        if (lim.context) {
            if (c->input && c->input < lim.input) lim.input = c->input;
            l->limits = lim;
            l->have_limits = 1;
            l->limits_source = have_eprof     ? "derived from the engine's model info (tokgate/limits.h)"
                               : c->model_path ? "derived from the model file (tokgate/limits.h)"
                                               : "derived from the built-in catalogue (tokgate/limits.h)";
        }
    }
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
