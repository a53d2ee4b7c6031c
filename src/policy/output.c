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
 * never above a known model output limit; a value tokgate chose (2-4) also
 * never above the safe maximum.
 *
 * Prompt plus output must fit the context: when prompt + max_tokens >
 * context, `clamp` (default) lowers max_tokens to context - prompt and sets
 * budget.clamped; `reject` refuses with vLLM's message, word for word
 * ("'max_tokens' or 'max_completion_tokens' is too large: 8000. This model's
 * maximum context length is 4096 tokens and your request has 2778 input tokens
 * (8000 > 4096 - 2778)."), as HTTP 400 code context_length_exceeded (what
 * OpenAI answers for messages + completion over the window), param = the
 * field the client used. A value tokgate chose is always clamped: the client
 * did not ask for it.
 *
 * Escalation: only a max_tokens from the capped default may escalate, once, to
 * settings.escalated_max_tokens (64000, qwen-code ESCALATED_MAX_TOKENS),
 * clamped to what the context leaves after the prompt (and to the output
 * limit and safe maximum); none when the first cap is already at or above
 * that. budget.escalate_to carries it to the gateway, which retries with it on
 * finish_reason "length".
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

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

void tg__choose_max_tokens(const tg_policy_input *in, tg_decision *d) {
    const tg_model_settings *s = in->settings;
    const tg_request *r = in->request;
    uint64_t v;
    tg_max_tokens_source src;
    if (r->has_max_tokens && r->max_tokens_valid && r->max_tokens > 0) {
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
    if (s->output_limit && v > s->output_limit) {
        v = s->output_limit;
        if (src == TG_SRC_REQUEST) d->budget.clamped = 1;
    }
    if (src != TG_SRC_REQUEST) v = tg__min_u64(v, d->budget.safe_max);
    d->budget.max_tokens = v;
    d->budget.max_tokens_source = src;
}

int tg__fit_output(const tg_policy_input *in, tg_decision *d, tg_status *st) {
    const tg_request *r = in->request;
    uint64_t room = tg__room(d);
    uint64_t v = d->budget.max_tokens;
    if (v > room) {
        int from_client = d->budget.max_tokens_source == TG_SRC_REQUEST;
        if (from_client && in->settings->overflow == TG_OVERFLOW_REJECT) {
            const char *field = r->max_tokens_field ? r->max_tokens_field : "max_tokens";
            char msg[512];
            snprintf(msg, sizeof msg,
                     "'max_tokens' or 'max_completion_tokens' is too large: %" PRIu64
                     ". This model's maximum context length is %" PRIu64 " tokens and your "
                     "request has %" PRIu64 " input tokens (%" PRIu64 " > %" PRIu64 " - %" PRIu64
                     ").",
                     v, d->budget.context, d->budget.prompt_tokens, v, d->budget.context,
                     d->budget.prompt_tokens);
            *st = tg__reject(d, 400, "context_length_exceeded", field, msg);
            return 1;
        }
        v = room;
        if (from_client) d->budget.clamped = 1;
    }
    if (v == 0) {
        /* The prompt fills the whole context: nothing can be generated. */
        *st = tg__reject_prompt_cap(in, d, d->budget.prompt_tokens, d->budget.prompt_tokens_exact,
                                    "No room is left for output.");
        return 1;
    }
    d->budget.max_tokens = v;
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
