/*
 * thinking.c: thinking-token budgets, after the "dynamic thinking token
 * allocation" scheme (vLLM recipes for MiniMax-M2.1, GLM-4.7, DeepSeek-R1):
 *
 *   mode           budget                 request spellings
 *   auto           base                   thinking_mode: "auto" (the default)
 *   balanced       base                   thinking_mode, reasoning_effort "medium"
 *   conservative   base x 0.25            thinking_mode, reasoning_effort "low"
 *   aggressive     base x 2               thinking_mode, reasoning_effort "high"
 *   disabled       thinking off           thinking_mode, reasoning_effort "none"/"minimal",
 *                                         chat_template_kwargs.enable_thinking: false
 *   custom         max_thinking_tokens    max_thinking_tokens (top level or in
 *                                         chat_template_kwargs); overrides the mode
 *   adaptive       learned per class      thinking_mode: "adaptive", or the model's
 *                  (tokgate/adaptive.h)   mode with reasoning_effort low|medium|high
 *                                         naming the class's effort
 *
 * base comes from the model catalogue (src/model/reasoning.c): MiniMax-M2.1
 * 64000, MiniMax-M2.1-REAP-50 128000, GLM-4.7 32000, ...
 *
 * Thinking tokens count against max_tokens on real servers (vLLM and
 * llama.cpp stop at max_tokens whatever the phase), so budget and answer must
 * both fit:
 *   - max_tokens tokgate chose (config/env/default): raised to thinking + that
 *     default answer reservation, within context - prompt, the safe maximum
 *     and the output limit;
 *   - max_tokens the client chose: the budget shrinks to
 *     max_tokens - min_answer_tokens;
 *   - a budget that shrinks to nothing turns thinking off rather than send a
 *     budget the answer cannot follow. Never a budget above max_tokens.
 *
 * Upstream fields: chat_template_kwargs {"max_thinking_tokens": N} (what the
 * MiniMax/GLM templates read), or {"enable_thinking": false} when disabled;
 * plus the server's own field chosen by dialect: vLLM "thinking_token_budget",
 * llama.cpp "thinking_budget_tokens". tokgate's own request fields
 * (thinking_mode, top-level max_thinking_tokens) are removed before
 * forwarding; reasoning_effort is passed through (gpt-oss reads it).
 */
#include <string.h>

#include "policy/policy_int.h"
#include "tokgate/adaptive.h"

static uint64_t mode_budget(tg_thinking_mode m, uint64_t base) {
    switch (m) {
    case TG_THINK_CONSERVATIVE: return base / 4 + (base % 4 >= 2); /* x 0.25, nearest */
    case TG_THINK_AGGRESSIVE: return base > UINT64_MAX / 2 ? UINT64_MAX : base * 2;
    case TG_THINK_DISABLED: return 0;
    case TG_THINK_AUTO:
    case TG_THINK_BALANCED:
    case TG_THINK_CUSTOM:
    case TG_THINK_ADAPTIVE:
    default: return base;
    }
}

/* thinking_mode adaptive (tokgate/adaptive.h): the class's learned budget
 * within [conservative, aggressive], else the catalogue budget of the
 * effort the client asked for. Reported in B. */
static uint64_t adaptive_budget(const tg_policy_input *in, tg_budget *b) {
    const tg_model_settings *s = in->settings;
    uint64_t base = s->thinking_base;
    tg_adaptive_class c = tg_adaptive_classify(in->request, b->prompt_tokens);
    static const tg_thinking_mode asked_mode[TG_ADAPTIVE_ASKED] = {TG_THINK_BALANCED, TG_THINK_CONSERVATIVE,
                                                                  TG_THINK_BALANCED, TG_THINK_AGGRESSIVE};
    uint64_t lo = mode_budget(TG_THINK_CONSERVATIVE, base), hi = mode_budget(TG_THINK_AGGRESSIVE, base);
    const char *model = s->name ? s->name : in->request->model;
    tg_adaptive_pick p = tg_adaptive_lookup(in->adaptive, model, c, mode_budget(asked_mode[c.asked], base), lo, hi);
    b->adaptive = 1;
    b->adaptive_band = c.band;
    b->adaptive_code = c.code;
    b->adaptive_asked = c.asked;
    b->adaptive_from_samples = p.from_samples;
    b->adaptive_samples = p.samples;
    b->adaptive_budget = p.budget;
    b->adaptive_hi = hi;
    return p.budget;
}

uint64_t tg__thinking_wanted(const tg_policy_input *in, tg_budget *b, int *disabled) {
    const tg_model_settings *s = in->settings;
    const tg_request *r = in->request;
    *disabled = 0;
    if (s->thinking_base == 0) return 0; /* not a reasoning model */
    if (r->has_max_thinking) {
        if (r->max_thinking_tokens == 0) *disabled = 1;
        return r->max_thinking_tokens;
    }
    tg_thinking_mode m = r->has_thinking_mode ? r->thinking_mode : s->thinking_mode;
    /* The client asked for thinking on a model configured without it. */
    if (!r->has_thinking_mode && m == TG_THINK_DISABLED && r->enable_thinking == 1) m = TG_THINK_AUTO;
    /* On an adaptive model, reasoning_effort low|medium|high names the class
     * (and its catalogue budget) rather than a fixed mode. */
    if (s->thinking_mode == TG_THINK_ADAPTIVE && r->thinking_mode_from && m != TG_THINK_DISABLED &&
        strcmp(r->thinking_mode_from, "reasoning_effort") == 0)
        m = TG_THINK_ADAPTIVE;
    if (m == TG_THINK_DISABLED) {
        *disabled = 1;
        return 0;
    }
    if (m == TG_THINK_ADAPTIVE) return adaptive_budget(in, b);
    return mode_budget(m, s->thinking_base);
}

void tg__thinking_raise(const tg_policy_input *in, tg_decision *d, uint64_t wanted) {
    const tg_model_settings *s = in->settings;
    if (wanted == 0 || d->budget.max_tokens_source == TG_SRC_REQUEST) return;
    uint64_t answer = d->budget.max_tokens;
    uint64_t want = wanted > UINT64_MAX - answer ? UINT64_MAX : wanted + answer;
    uint64_t cap = tg__min_u64(tg__room(d), d->budget.safe_max);
    if (s->output_limit) cap = tg__min_u64(cap, s->output_limit);
    want = tg__min_u64(want, cap);
    if (want > d->budget.max_tokens) d->budget.max_tokens = want;
}

void tg__thinking_fit(const tg_policy_input *in, tg_decision *d, uint64_t wanted) {
    uint64_t mt = d->budget.max_tokens, ans = in->settings->min_answer_tokens;
    uint64_t room = mt > ans ? mt - ans : 0;
    uint64_t t = tg__min_u64(wanted, room);
    d->budget.thinking_tokens = t;
    if (t == 0) d->budget.thinking_disabled = 1;
}

static tg_status set_count(json_t *obj, const char *key, uint64_t v) {
    return json_object_set_new(obj, key, tg__json_count(v)) == 0 ? TG_OK : TG_ENOMEM;
}

tg_status tg__thinking_write(const tg_policy_input *in, tg_decision *d, int reasoning_model) {
    json_t *req = d->request;
    json_object_del(req, "thinking_mode");
    json_object_del(req, "max_thinking_tokens");
    if (!reasoning_model) return TG_OK;
    tg_dialect dialect = in->settings->dialect;
    static const char *const dialect_field[] = {NULL, "thinking_token_budget",
                                                "thinking_budget_tokens"};
    const char *field = (unsigned)dialect < 3 ? dialect_field[dialect] : NULL;
    if (in->request->kind == TG_REQ_CHAT) {
        json_t *kw = json_object_get(req, "chat_template_kwargs");
        /* edited in a copy of its own: the request's may be shared (tg__policy_decide_shared) */
        kw = json_is_object(kw) ? json_copy(kw) : json_object();
        if (!kw || json_object_set_new(req, "chat_template_kwargs", kw) != 0) return TG_ENOMEM;
        if (d->budget.thinking_disabled) {
            json_object_del(kw, "max_thinking_tokens");
            if (json_object_set_new(kw, "enable_thinking", json_false()) != 0) return TG_ENOMEM;
        } else if (set_count(kw, "max_thinking_tokens", d->budget.thinking_tokens) != TG_OK) {
            return TG_ENOMEM;
        }
    }
    if (field) {
        if (d->budget.thinking_disabled) json_object_del(req, field);
        else if (set_count(req, field, d->budget.thinking_tokens) != TG_OK) return TG_ENOMEM;
    }
    return TG_OK;
}
