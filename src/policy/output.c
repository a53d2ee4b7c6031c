/*
 * output.c: output reservation and escalation, after qwen-code PR #2898
 * ("adaptive output token escalation, 8K default + 64K retry"): 99% of
 * responses are short, so reserving a large output slot for every request
 * wastes server capacity; reserve little by default and escalate once when a
 * response is cut by the cap.
 *
 * Effective max_tokens comes from, in order (qwen-code's priority):
 *   1. the request (max_completion_tokens, else max_tokens)     source "request"
 *   2. the model's configured default (settings.default_max_tokens) "config"
 *   3. TOKGATE_MAX_OUTPUT_TOKENS, read by the caller (qwen-code:
 *      QWEN_CODE_MAX_OUTPUT_TOKENS)                                   "env"
 *   4. the capped default, 8000 (qwen-code CAPPED_DEFAULT_MAX_TOKENS) "default"
 *
 * Then, never above a known model output limit (settings.output_limit), and:
 *   - the client's value, in `clamp` overflow mode (the default): lowered to
 *     min(safe maximum, context - prompt), and budget.clamped says so. The
 *     prompt was held to tg__prompt_cap (prompt_cap.c), so what is left is at
 *     least min(max_tokens, limit.output): clamping never cuts an answer
 *     below the advertised output. In `reject` mode the value was refused
 *     above the safe maximum (max_tokens.c) or when prompt + max_tokens is
 *     over the context (prompt_cap.c, vLLM's message, word for word:
 *     "'max_tokens' or 'max_completion_tokens' is too large: 8000. This
 *     model's maximum context length is 4096 tokens and your request has 2778
 *     input tokens (8000 > 4096 - 2778)."), so it is forwarded as sent.
 *   - a value tokgate chose (2-4): at most limit.output (the output the
 *     limits reserve; the advertised number), the safe maximum and what the
 *     context leaves; never marked clamped, the client did not ask for it.
 *     A model that thinks adds its thinking budget (thinking.c).
 *
 * Escalation: only a max_tokens from the capped default may escalate, once, to
 * settings.escalated_max_tokens (64000, qwen-code ESCALATED_MAX_TOKENS),
 * clamped to what the context leaves after the prompt (and to the output
 * limit and safe maximum); none when the first cap is already at or above
 * that. budget.escalate_to carries it to the gateway, which retries with it on
 * finish_reason "length".
 */
#include <limits.h>

#include "policy/policy_int.h"

uint64_t tg__min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t tg__room(const tg_decision *d) {
    return d->budget.context > d->budget.prompt_tokens
               ? d->budget.context - d->budget.prompt_tokens : 0;
}

json_t *tg__json_count(uint64_t v) {
    /* json_int_t is long long (JSON_INTEGER_IS_LONG_LONG in every Debian build). */
    return json_integer(v > (uint64_t)LLONG_MAX ? (json_int_t)LLONG_MAX : (json_int_t)v);
}

int tg__choose_max_tokens(const tg_policy_input *in, tg_decision *d, tg_status *st) {
    const tg_model_settings *s = in->settings;
    const tg_request *r = in->request;
    uint64_t v;
    tg_max_tokens_source src;
    if (tg__client_max_tokens(r)) {
        v = (uint64_t)r->max_tokens;
        src = TG_SRC_REQUEST;
    } else if (s->default_max_tokens) {
        v = s->default_max_tokens;
        src = TG_SRC_CONFIG;
    } else if (in->env_max_output_tokens) {
        v = in->env_max_output_tokens;
        src = TG_SRC_ENV;
    } else {
        v = s->capped_default;
        src = TG_SRC_DEFAULT;
    }
    uint64_t most = tg__min_u64(d->budget.safe_max, tg__room(d));
    if (s->output_limit) most = tg__min_u64(most, s->output_limit);
    if (src != TG_SRC_REQUEST && in->limits->output) most = tg__min_u64(most, in->limits->output);
    if (v > most) {
        v = most;
        if (src == TG_SRC_REQUEST) d->budget.clamped = 1;
    }
    d->budget.max_tokens = v;
    d->budget.max_tokens_source = src;
    if (v == 0) {
        /* Nothing can be generated: only with settings that leave no output
         * (a safe maximum of 0); tg__prompt_cap already left room. */
        d->budget.max_tokens = 0;
        *st = tg__reject_prompt_cap(in, d, d->budget.prompt_tokens, d->budget.prompt_tokens_exact,
                                    "No room is left for output.");
        return 1;
    }
    return 0;
}

void tg__escalation(const tg_policy_input *in, tg_decision *d) {
    const tg_model_settings *s = in->settings;
    d->budget.escalate_to = 0;
    if (d->budget.max_tokens_source != TG_SRC_DEFAULT || s->escalated_max_tokens == 0) return;
    if (d->budget.max_tokens >= s->escalated_max_tokens) return;
    uint64_t target = tg__min_u64(s->escalated_max_tokens, tg__room(d));
    target = tg__min_u64(target, d->budget.safe_max);
    if (s->output_limit) target = tg__min_u64(target, s->output_limit);
    if (target > d->budget.max_tokens) d->budget.escalate_to = target;
}

tg_status tg__write_max_tokens(const tg_policy_input *in, tg_decision *d) {
    (void)in;
    json_t *req = d->request;
    int wrote = 0;
    static const char *const fields[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(req, fields[i]);
        if (v && !json_is_null(v)) {
            if (json_object_set_new(req, fields[i], tg__json_count(d->budget.max_tokens)) != 0)
                return TG_ENOMEM;
            wrote = 1;
        }
    }
    if (!wrote && json_object_set_new(req, "max_tokens", tg__json_count(d->budget.max_tokens)) != 0)
        return TG_ENOMEM;
    return TG_OK;
}

json_t *tg_decision_escalated_request(const tg_decision *d) {
    if (!d || d->action == TG_ACTION_REJECT || !d->request || !d->budget.escalate_to) return NULL;
    json_t *req = json_deep_copy(d->request);
    if (!req) return NULL;
    int wrote = 0;
    static const char *const fields[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(req, fields[i]);
        if (!v || json_is_null(v)) continue;
        if (json_object_set_new(req, fields[i], tg__json_count(d->budget.escalate_to)) != 0) {
            json_decref(req);
            return NULL;
        }
        wrote = 1;
    }
    if (!wrote && json_object_set_new(req, "max_tokens", tg__json_count(d->budget.escalate_to)) != 0) {
        json_decref(req);
        return NULL;
    }
    return req;
}
