/*
 * max_tokens.c: validation of a client's max_tokens (or max_completion_tokens,
 * the same field under its newer name), after GPUStack UI v2.5.3 "Dynamic
 * Token Validation": the limit is per model, never a fixed number.
 *
 *   safe maximum = context x 0.8, or x 0.9 when the context exceeds 100000
 *                  (per-model settings), rounded to nearest (tg_policy_safe_max)
 *   refused: not an integer; below the minimum (GPUStack 100, ours 1);
 *            above the absolute cap (500000); and, in `reject` overflow mode,
 *            above the safe maximum, with GPUStack's message, character for
 *            character:
 *   "max_tokens (120000) exceeds safe limit for model qwen3-235b-a22b. Context window: 131072, Safe maximum: 117965"
 *
 * In `clamp` mode (the default) a value above the safe maximum is not an
 * error: output.c lowers it to the safe maximum (and to what the context
 * leaves after the prompt) and the decision says clamped. Agents send one
 * max_tokens for every model (opencode's openai-compatible provider sends
 * 32000), and llama-server or vLLM alone would serve such a request.
 *
 * GPUStack answers 422; tokgate answers 400 invalid_request_error, what the
 * OpenAI API returns for an invalid parameter value, so SDKs raise their
 * usual BadRequestError. The message keeps the field name the client used.
 */
#include <inttypes.h>
#include <stdio.h>

#include "policy/policy_int.h"

uint64_t tg_policy_safe_max(const tg_model_settings *s, uint64_t context) {
    uint64_t ppm = context > s->large_context_threshold ? s->safe_fraction_large_ppm
                                                        : s->safe_fraction_ppm;
    if (ppm > 1000000u) ppm = 1000000u;
    /* context x ppm / 1e6, halves up, without overflow: split the context. */
    uint64_t q = context / 1000000u, r = context % 1000000u;
    return q * ppm + (r * ppm + 500000u) / 1000000u;
}

static int refuse(tg_decision *d, tg_status *st, const char *field, const char *msg) {
    *st = tg__reject(d, 400, "invalid_value", field, msg);
    return 1;
}

int tg__check_requested_max_tokens(const tg_policy_input *in, const char *model, tg_decision *d,
                                   tg_status *st) {
    const tg_request *r = in->request;
    const tg_model_settings *s = in->settings;
    if (!r->has_max_tokens) return 0;
    const char *field = r->max_tokens_field ? r->max_tokens_field : "max_tokens";
    char msg[512];
    if (!r->max_tokens_valid) {
        snprintf(msg, sizeof msg, "%s must be an integer", field);
        return refuse(d, st, field, msg);
    }
    long long v = r->max_tokens;
    if (v > 0) d->budget.requested_max_tokens = (uint64_t)v;
    if (v < 0 || (uint64_t)v < s->min_max_tokens) {
        snprintf(msg, sizeof msg, "%s (%lld) is below the minimum of %" PRIu64 " for model %s",
                 field, v, s->min_max_tokens, model);
        return refuse(d, st, field, msg);
    }
    uint64_t u = (uint64_t)v;
    if (u > s->abs_max_tokens) {
        snprintf(msg, sizeof msg, "%s (%" PRIu64 ") exceeds the absolute cap of %" PRIu64
                 " for model %s", field, u, s->abs_max_tokens, model);
        return refuse(d, st, field, msg);
    }
    if (s->overflow == TG_OVERFLOW_REJECT && u > d->budget.safe_max) {
        snprintf(msg, sizeof msg, "%s (%" PRIu64 ") exceeds safe limit for model %s. "
                 "Context window: %" PRIu64 ", Safe maximum: %" PRIu64,
                 field, u, model, d->budget.context, d->budget.safe_max);
        return refuse(d, st, field, msg);
    }
    return 0;
}
