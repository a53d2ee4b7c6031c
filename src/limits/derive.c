/*
 * limits/derive.c: {context, input, output} from a model profile and the
 * hardware, helexa's rule made general (docs/limits.md has the derivation and
 * a worked example):
 *
 *   budget     = free on the tightest card - activation headroom
 *                - minimum free floor - fixed KV state per card
 *   vram       = budget / KV bytes per token per card  (0 when budget <= 0;
 *                not computed without a VRAM figure, or when nothing grows)
 *   throughput = floor(target prefill seconds x prefill tokens per second)
 *   context    = min(native, vram, throughput); ties keep the earlier name
 *   clamp      = context = max_prompt_tokens when set and smaller
 *   output     = min(output reserve, floor(context / 2)); input = context - output
 *
 * The half-context cap keeps a small context usable: llama-server at -c 2048
 * with the default 8192 reserve would otherwise advertise an input of 0 and
 * refuse every prompt. Large contexts are unaffected (8192 <= context / 2 for
 * any context of 16384 or more).
 *
 * With fewer free-VRAM figures than cards the given ones stand for all (the
 * tightest is what matters); more figures than tp (pipeline stages) are fine.
 *
 * tg_limits_from_context is the same rule for a context already known (given
 * on the command line, or the one an upstream enforces, when there is no
 * model profile to derive from): the clamp and the output/input split below
 * (split) are the only copy, shared by `tokgate limits`, `tokgate check` and
 * the gateway's model table, so they advertise and enforce the same numbers.
 */
#include "tokgate/limits.h"

#include <math.h>
#include <string.h>

#define TG_LIMITS_MAX_TOKENS ((uint64_t)1 << 40)

const char *tg_binding_name(tg_binding b) {
    switch (b) {
    case TG_BIND_NATIVE: return "native";
    case TG_BIND_VRAM: return "vram";
    case TG_BIND_THROUGHPUT: return "throughput";
    case TG_BIND_CLAMP: return "clamp";
    }
    return "unknown";
}

void tg_limits_config_init(tg_limits_config *c) {
    memset(c, 0, sizeof *c);
    c->tp = 1;
    c->kv_type = TG_KV_F16;
    c->min_free_bytes = (uint64_t)TG_LIMITS_DEFAULT_MIN_FREE_MIB * TG_MIB;
    c->output_reserve = TG_LIMITS_DEFAULT_OUTPUT_RESERVE;
}

/* The max-prompt clamp, then output = min(reserve, context / 2) and
 * input = context - output. */
static void split(tg_limits *l, const tg_limits_config *c) {
    if (c->max_prompt_tokens > 0 && c->max_prompt_tokens < l->context) {
        l->context = c->max_prompt_tokens;
        l->binding = TG_BIND_CLAMP;
    }
    l->output = c->output_reserve < l->context / 2 ? c->output_reserve : l->context / 2;
    l->input = l->context - l->output;
}

static tg_status check_config(const tg_limits_config *c, tg_error *err) {
    if (c->n_cards > TG_LIMITS_MAX_CARDS)
        return tg_error_set(err, TG_ELIMIT, "%zu free-VRAM figures, above the %u-card limit",
                            c->n_cards, TG_LIMITS_MAX_CARDS);
    if (!isfinite(c->prefill_tps) || c->prefill_tps < 0 || c->prefill_tps > 1e9)
        return tg_error_set(err, TG_EINVAL, "prefill tokens per second %g is outside 0..1e9",
                            c->prefill_tps);
    if (!isfinite(c->target_prefill_s) || c->target_prefill_s < 0 || c->target_prefill_s > 1e6)
        return tg_error_set(err, TG_EINVAL, "target prefill seconds %g is outside 0..1e6",
                            c->target_prefill_s);
    if (c->output_reserve > TG_LIMITS_MAX_TOKENS)
        return tg_error_set(err, TG_ELIMIT, "output reserve %llu is above the %llu limit",
                            (unsigned long long)c->output_reserve,
                            (unsigned long long)TG_LIMITS_MAX_TOKENS);
    const uint64_t big = (uint64_t)INT64_MAX / 4;
    for (size_t i = 0; i < c->n_cards; i++)
        if (c->free_vram[i] > big)
            return tg_error_set(err, TG_ELIMIT, "free VRAM of card %zu is %llu bytes, above the %llu limit",
                                i, (unsigned long long)c->free_vram[i], (unsigned long long)big);
    if (c->min_free_bytes > big || c->activation_bytes > big)
        return tg_error_set(err, TG_ELIMIT, "floor or activation headroom above %llu bytes",
                            (unsigned long long)big);
    return TG_OK;
}

tg_status tg_limits_derive(const tg_model_profile *p, const tg_limits_config *c, tg_limits *out,
                           tg_error *err) {
    memset(out, 0, sizeof *out);
    tg_status st = check_config(c, err);
    if (st != TG_OK) return st;
    tg_kv_cost kv;
    if ((st = tg_kv_cost_compute(p, c->kv_type, c->tp, &kv, err)) != TG_OK) return st;
    if (p->native_context == 0)
        return tg_error_set(err, TG_EINVAL, "model %s has no native context", p->name);

    tg_limits l;
    memset(&l, 0, sizeof l);
    l.kv_bytes_per_token = kv.per_token;
    l.kv_bytes_per_token_per_card = kv.per_token_per_card;
    l.kv_fixed_bytes = kv.fixed_bytes;
    l.kv_fixed_bytes_per_card = kv.fixed_bytes_per_card;
    l.kv_sliding_bytes = kv.sliding_bytes;
    l.kv_recurrent_bytes = kv.recurrent_bytes;
    l.ceiling_native = p->native_context;
    l.ceiling_vram = TG_CEILING_NONE;
    l.ceiling_throughput = TG_CEILING_NONE;

    if (c->n_cards > 0) {
        uint64_t tight = c->free_vram[0];
        for (size_t i = 1; i < c->n_cards; i++)
            if (c->free_vram[i] < tight) tight = c->free_vram[i];
        l.tightest_free_bytes = tight;
        /* each term is below INT64_MAX / 4 (check_config), the fixed part saturates */
        int64_t fixed = kv.fixed_bytes_per_card > (uint64_t)INT64_MAX / 4 ? INT64_MAX / 4
                                                                           : (int64_t)kv.fixed_bytes_per_card;
        int64_t budget = (int64_t)tight - (int64_t)c->activation_bytes - (int64_t)c->min_free_bytes - fixed;
        l.vram_budget_bytes = budget;
        if (budget <= 0) l.ceiling_vram = 0;
        else if (kv.per_token_per_card > 0) l.ceiling_vram = (uint64_t)budget / kv.per_token_per_card;
    }
    if (c->prefill_tps > 0 && c->target_prefill_s > 0) {
        double t = floor(c->prefill_tps * c->target_prefill_s);
        l.ceiling_throughput = t >= (double)TG_LIMITS_MAX_TOKENS ? TG_LIMITS_MAX_TOKENS : (uint64_t)t;
    }

    l.context = l.ceiling_native;
    l.binding = TG_BIND_NATIVE;
    if (l.ceiling_vram != TG_CEILING_NONE && l.ceiling_vram < l.context) {
        l.context = l.ceiling_vram;
        l.binding = TG_BIND_VRAM;
    }
    if (l.ceiling_throughput != TG_CEILING_NONE && l.ceiling_throughput < l.context) {
        l.context = l.ceiling_throughput;
        l.binding = TG_BIND_THROUGHPUT;
    }
    split(&l, c);
    *out = l;
    return TG_OK;
}

tg_status tg_limits_from_context(uint64_t context, const tg_limits_config *c, tg_limits *out,
                                 tg_error *err) {
    memset(out, 0, sizeof *out);
    if (context == 0 || context > TG_LIMITS_MAX_TOKENS)
        return tg_error_set(err, TG_EINVAL, "context %llu is outside 1..%llu",
                            (unsigned long long)context, (unsigned long long)TG_LIMITS_MAX_TOKENS);
    if (c->output_reserve > TG_LIMITS_MAX_TOKENS)
        return tg_error_set(err, TG_ELIMIT, "output reserve %llu is above the %llu limit",
                            (unsigned long long)c->output_reserve,
                            (unsigned long long)TG_LIMITS_MAX_TOKENS);
    tg_limits l;
    memset(&l, 0, sizeof l);
    l.context = context;
    l.binding = TG_BIND_NATIVE;
    l.ceiling_native = context;
    l.ceiling_vram = TG_CEILING_NONE;
    l.ceiling_throughput = TG_CEILING_NONE;
    split(&l, c);
    *out = l;
    return TG_OK;
}
