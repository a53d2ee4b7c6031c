/* gateway/budget.c: budget_decide (see budget.h): the policy layer's
 * decision for one request, mapped onto what the gateway does and the
 * x-tokgate-* headers that say so. Runs on a worker thread for large bodies:
 * it reads only the request, the model (immutable in its table) and cfg. */
#include "gateway/budget.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/modelfiles.h"
#include "gateway/oai_error.h"
#include "util/buf.h"

typedef struct tok_counter {
    const tg_tokenizer *tok;
    unsigned flags;
} tok_counter;

static tg_status count_with_tokenizer(void *user, const char *text, size_t len, uint64_t *tokens, tg_error *err) {
    const tok_counter *c = user;
    size_t n = 0;
    tg_status s = tg_tokenizer_count(c->tok, text, len, c->flags, &n, err);
    if (s == TG_OK) *tokens = (uint64_t)n;
    return s;
}

static void limit_headers(tgx_buf *h, const tg__model *m) {
    tgx_buf_printf(h, "x-tokgate-limit-context: %llu\r\nx-tokgate-limit-input: %llu\r\nx-tokgate-limit-output: %llu\r\n",
                   (unsigned long long)m->limits.context, (unsigned long long)m->limits.input,
                   (unsigned long long)m->limits.output);
}

static tg_status refuse(tg__budget *out, int status, const char *code, const char *msg) {
    out->action = TG__BUDGET_REJECT;
    out->status = status;
    out->error_json = tg__oai_error_json(msg, "invalid_request_error", code, NULL);
    snprintf(out->reason, sizeof out->reason, "%s", code);
    return TG_OK;
}

tg_status tg__budget_decide(const tg__config *cfg, const tg__model *m, int route, const tg_request *rq,
                            tg__budget *out) {
    (void)cfg;
    (void)route;
    memset(out, 0, sizeof out[0]);
    out->action = TG__BUDGET_FORWARD;
    tgx_buf h;
    tgx_buf_init(&h, 4096);
    if (!m->have_limits) { /* nothing to enforce yet: say so and forward */
        tgx_buf_puts(&h, "x-tokgate-limits: unknown\r\n");
        out->headers = tgx_buf_detach(&h, NULL);
        return TG_OK;
    }
    tg_error err;
    memset(&err, 0, sizeof err);
    const tg_request r = *rq; /* parsed once by the caller */
    tok_counter tc = {m->tok, r.kind == TG_REQ_COMPLETION ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u};
    tg_counter counter = {count_with_tokenizer, &tc};
    tg_policy_hooks hooks = {tg_keep_last_counted, NULL, &counter};
    tg_prompt_counts counts;
    memset(&counts, 0, sizeof counts);
    if (tg_request_count(&r, m->tok ? count_with_tokenizer : tg_estimate_count, m->tok ? &tc : NULL, m->tok != NULL,
                         &counts, &err) != TG_OK) {
        tgx_buf_free(&h);
        return refuse(out, 400, "invalid_request", err.msg);
    }
    if (r.kind == TG_REQ_CHAT) { /* the rendered template, counted exactly */
        long long exact = tg__chat_exact_count(m, r.root);
        if (exact >= 0) tg_prompt_counts_set_exact(&counts, (uint64_t)exact);
    }
    tg_model_settings settings = m->settings;
    if (!settings.name) settings.name = r.model;
    tg_policy_input in = {&settings, &m->limits, &r, &counts, 0, m->tok ? &hooks : NULL};
    tg_decision d;
    tg_status st = tg_policy_decide(&in, &d, &err);
    if (st != TG_OK) {
        tg_decision_free(&d);
        tg_prompt_counts_free(&counts);
        tgx_buf_free(&h);
        return st;
    }
    const tg_budget *b = &d.budget;
    tgx_buf_printf(&h, "x-tokgate-prompt-tokens: %llu\r\nx-tokgate-prompt-exact: %d\r\n",
                   (unsigned long long)b->prompt_tokens, b->prompt_tokens_exact);
    if (d.action == TG_ACTION_REJECT) {
        out->action = TG__BUDGET_REJECT;
        out->status = d.status ? d.status : 400;
        out->error_json = d.error ? json_dumps(d.error, JSON_COMPACT) : NULL;
        const char *code = json_string_value(json_object_get(json_object_get(d.error, "error"), "code"));
        snprintf(out->reason, sizeof out->reason, "%s", code ? code : "policy");
    } else {
        out->action = d.action == TG_ACTION_TRUNCATE ? TG__BUDGET_TRUNCATE : TG__BUDGET_FORWARD;
        if (d.request && !json_equal(d.request, r.root)) out->rewritten = json_incref(d.request);
        out->prompt_tokens = b->prompt_tokens;
        out->max_tokens = b->max_tokens;
        out->escalate_to = b->escalate_to;
        if (b->escalate_to) out->escalated = tg_decision_escalated_request(&d);
        out->thinking_tokens = b->thinking_tokens;
        out->thinking_disabled = b->thinking_disabled;
        tgx_buf_printf(&h, "x-tokgate-max-tokens: %llu\r\nx-tokgate-max-tokens-source: %s\r\n"
                           "x-tokgate-clamped: %d\r\nx-tokgate-truncated: %d\r\n",
                       (unsigned long long)b->max_tokens, tg_max_tokens_source_name(b->max_tokens_source), b->clamped,
                       d.truncation.applied);
        if (b->escalate_to) tgx_buf_printf(&h, "x-tokgate-escalate-to: %llu\r\n", (unsigned long long)b->escalate_to);
        if (b->thinking_tokens) tgx_buf_printf(&h, "x-tokgate-thinking-tokens: %llu\r\n", (unsigned long long)b->thinking_tokens);
    }
    limit_headers(&h, m);
    out->headers = tgx_buf_detach(&h, NULL);
    tg_decision_free(&d);
    tg_prompt_counts_free(&counts);
    return TG_OK;
}

void tg__budget_free(tg__budget *b) {
    free(b->error_json);
    free(b->headers);
    if (b->rewritten) json_decref(b->rewritten);
    if (b->escalated) json_decref(b->escalated);
    memset(b, 0, sizeof b[0]);
}
