/*
 * prompt_cap.c: how long a prompt may be, and the refusal when it is longer.
 *
 * A prompt is refused only when it and the answer it would get cannot both
 * fit the context (docs/policy.md, rule 2):
 *
 *   max_tokens defaulted    prompt > limit.input, the derived input budget
 *                           (helexa neuron #67, doc/context-limits.md, "After
 *                           #67": input = context - output reserve, refused
 *                           up front, before any upstream work)
 *   the client's max_tokens prompt + F > context, F being the smallest answer
 *                           the request may be shortened to: its max_tokens M
 *                           in `reject` mode; min(M, limit.output) in `clamp`
 *                           mode (M after the model's output limit and the
 *                           safe maximum), since clamping lowers max_tokens
 *                           down to limit.output and no further
 *
 * so a client within the advertised numbers (prompt <= limit.input,
 * max_tokens <= limit.output or none) is never refused here, and a request
 * with a small max_tokens may send a prompt above limit.input as long as
 * prompt + max_tokens fits. Truncation, when on, cuts to the same cap.
 *
 * The refusal: HTTP 400, invalid_request_error, code context_length_exceeded
 * (the OpenAI API's code, which SDKs, LiteLLM and compacting agents match),
 * param "messages" ("prompt" for /v1/completions), llama.cpp's
 * n_prompt_tokens and n_ctx (exceed_context_size_error), and a message that
 * opens with OpenAI's "This model's maximum context length is N tokens." and
 * whose numbers agree with each other:
 *
 *   with max_tokens   vLLM's wording (vllm/entrypoints/openai/serving_engine.py,
 *                     OpenAIServing._validate_prompt_and_tokenize, commit
 *                     0030b9ffce2b):
 *                     "This model's maximum context length is 2048 tokens.
 *                     However, you requested 2100 tokens (2000 in the messages,
 *                     100 in the completion). Please reduce the length of the
 *                     messages or completion." plus what the prompt leaves
 *                     ("The messages leave 48 tokens for the completion.");
 *                     in `reject` mode with room left, vLLM's newer refusal
 *                     of the max_tokens field itself (output.c's comment).
 *   defaulted         OpenAI's "However, your messages resulted in P tokens",
 *                     then the input limit that applies and the max_tokens
 *                     that would fit (context - prompt).
 *
 * "an estimated" before the prompt's count says when it is not exact (not in
 * vLLM's max_tokens refusal, kept word for word; the decision says it).
 */
#include <inttypes.h>
#include <stdio.h>

#include "policy/policy_int.h"

int tg__client_max_tokens(const tg_request *r) {
    return r->has_max_tokens && r->max_tokens_valid && r->max_tokens > 0;
}

/* The client's max_tokens as the policy will use it: after the model's output
 * limit and, in clamp mode, the safe maximum. */
static uint64_t client_value(const tg_policy_input *in, uint64_t safe_max) {
    const tg_model_settings *s = in->settings;
    uint64_t m = (uint64_t)in->request->max_tokens;
    if (s->output_limit) m = tg__min_u64(m, s->output_limit);
    if (s->overflow == TG_OVERFLOW_CLAMP) m = tg__min_u64(m, safe_max);
    return m;
}

uint64_t tg__prompt_cap(const tg_policy_input *in, uint64_t safe_max) {
    const tg_limits *l = in->limits;
    uint64_t most = l->context ? l->context - 1 : 0;
    if (!tg__client_max_tokens(in->request)) return tg__min_u64(l->input, most);
    uint64_t floor = client_value(in, safe_max);
    if (in->settings->overflow == TG_OVERFLOW_CLAMP) floor = tg__min_u64(floor, l->output ? l->output : 1);
    if (floor == 0) floor = 1;
    return l->context > floor ? l->context - floor : 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* The message for a request with the client's max_tokens. */
static void explicit_message(const tg_policy_input *in, const tg_decision *d, uint64_t prompt,
                             int exact, char *msg, size_t cap) {
    const tg_request *r = in->request;
    int chat = r->kind == TG_REQ_CHAT;
    const char *what = chat ? "messages" : "prompt";
    uint64_t ctx = in->limits->context;
    uint64_t asked = (uint64_t)r->max_tokens;
    if (in->settings->overflow == TG_OVERFLOW_REJECT && prompt < ctx) {
        /* vLLM's refusal of the field: the value compared is the one checked. */
        uint64_t m = client_value(in, d->budget.safe_max);
        snprintf(msg, cap,
                 "'max_tokens' or 'max_completion_tokens' is too large: %" PRIu64
                 ". This model's maximum context length is %" PRIu64 " tokens and your request has "
                 "%" PRIu64 " input tokens (%" PRIu64 " > %" PRIu64 " - %" PRIu64 ").",
                 m, ctx, prompt, m, ctx, prompt);
        return;
    }
    char left[160];
    if (prompt < ctx)
        snprintf(left, sizeof left, " The %s %s %" PRIu64 " tokens for the completion.", what,
                 chat ? "leave" : "leaves", ctx - prompt);
    else
        snprintf(left, sizeof left, " The %s %s no room for the completion.", what,
                 chat ? "leave" : "leaves");
    snprintf(msg, cap,
             "This model's maximum context length is %" PRIu64 " tokens. However, you requested "
             "%" PRIu64 " tokens (%s%" PRIu64 " in the %s, %" PRIu64 " in the completion). Please "
             "reduce the length of the %s or completion.%s",
             ctx, sat_add(prompt, asked), exact ? "" : "an estimated ", prompt, what, asked, what,
             left);
}

/* The message for a request without max_tokens. */
static void default_message(const tg_policy_input *in, const tg_decision *d, uint64_t prompt,
                            int exact, char *msg, size_t cap) {
    int chat = in->request->kind == TG_REQ_CHAT;
    const char *what = chat ? "messages" : "prompt";
    uint64_t ctx = in->limits->context;
    uint64_t input = tg__prompt_cap(in, d->budget.safe_max);
    char fix[160] = "";
    uint64_t room = prompt < ctx ? ctx - prompt : 0;
    if (room >= in->settings->min_max_tokens && room > 0)
        snprintf(fix, sizeof fix, ", or set max_tokens to at most %" PRIu64 " (%" PRIu64 " - %" PRIu64 ")",
                 room, ctx, prompt);
    snprintf(msg, cap,
             "This model's maximum context length is %" PRIu64 " tokens. However, your %s resulted "
             "in %s%" PRIu64 " tokens, above the input limit of %" PRIu64 " tokens for a request "
             "without max_tokens (%" PRIu64 " kept for the completion). Please reduce the length "
             "of the %s%s.",
             ctx, what, exact ? "" : "an estimated ", prompt, input, ctx - input, what, fix);
}

tg_status tg__reject_prompt_cap(const tg_policy_input *in, tg_decision *d, uint64_t prompt,
                                int exact, const char *extra) {
    const tg_request *r = in->request;
    int chat = r->kind == TG_REQ_CHAT;
    int client = tg__client_max_tokens(r);
    char msg[896], full[1024];
    if (client) explicit_message(in, d, prompt, exact, msg, sizeof msg);
    else default_message(in, d, prompt, exact, msg, sizeof msg);
    snprintf(full, sizeof full, "%s%s%s", msg, extra ? " " : "", extra ? extra : "");
    /* In reject mode with room left the client's max_tokens is what is refused. */
    int field = client && in->settings->overflow == TG_OVERFLOW_REJECT && prompt < in->limits->context;
    const char *param = field ? (r->max_tokens_field ? r->max_tokens_field : "max_tokens")
                              : (chat ? "messages" : "prompt");
    tg_status st = tg__reject(d, 400, "context_length_exceeded", param, full);
    if (st != TG_OK) return st;
    json_t *inner = json_object_get(d->error, "error");
    if (json_object_set_new(inner, "n_prompt_tokens", tg__json_count(prompt)) != 0 ||
        json_object_set_new(inner, "n_ctx", tg__json_count(in->limits->context)) != 0) {
        json_decref(d->error);
        d->error = NULL;
        return TG_ENOMEM;
    }
    return TG_OK;
}
