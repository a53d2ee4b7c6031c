/*
 * fuzz_request.c: request JSON -> tg_request_parse -> tg_request_count
 * (estimator) -> tg_policy_decide under four model configurations, with
 * invariants checked on every decision (abort on violation):
 *   - a parsed request always gets a decision (TG_OK);
 *   - reject: status 4xx, no request, an {"error": {"message", "type"}} body;
 *   - forward/truncate: status 200, a request object carrying max_tokens (or
 *     max_completion_tokens) equal to budget.max_tokens, no error;
 *     1 <= max_tokens <= safe_max; prompt <= input without the client's
 *     max_tokens, and with it max_tokens >= min(requested, safe_max,
 *     output); prompt + max_tokens <= context; thinking budget < max_tokens; escalate_to, when set, above
 *     max_tokens and within context - prompt;
 *   - truncation only when it reports dropping something, and the kept
 *     messages are fewer than the original;
 *   - truncation summarize: the messages a summary replaces are ascending,
 *     never a system message, and include every message the fallback
 *     (drop_oldest_turns) drops;
 *   - the decision serialises to JSON that parses back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static void check_decision(const tg_decision *d, const tg_limits *l, const tg_request *r) {
    const tg_budget *b = &d->budget;
    if (d->action == TG_ACTION_REJECT) {
        CHECK(d->status >= 400 && d->status < 500);
        CHECK(d->request == NULL);
        const json_t *inner = json_object_get(d->error, "error");
        CHECK(json_is_string(json_object_get(inner, "message")));
        CHECK(json_is_string(json_object_get(inner, "type")));
    } else {
        CHECK(d->status == 200);
        CHECK(d->error == NULL);
        CHECK(json_is_object(d->request));
        const json_t *mt = json_object_get(d->request, "max_completion_tokens");
        if (!mt) mt = json_object_get(d->request, "max_tokens");
        CHECK(json_is_integer(mt) && (uint64_t)json_integer_value(mt) == b->max_tokens);
        CHECK(b->max_tokens >= 1 && b->max_tokens <= b->safe_max);
        /* the prompt cap (docs/policy.md, rule 2): limit.input for a
         * defaulted max_tokens; with the client's, clamping never cuts the
         * answer below min(requested, safe maximum, limit.output) */
        if (b->max_tokens_source != TG_SRC_REQUEST) {
            CHECK(b->prompt_tokens <= l->input);
        } else {
            uint64_t floor = l->output ? l->output : 1;
            if (b->safe_max < floor) floor = b->safe_max;
            if (b->requested_max_tokens < floor) floor = b->requested_max_tokens;
            CHECK(b->max_tokens >= floor);
        }
        CHECK(b->prompt_tokens + b->max_tokens <= l->context);
        CHECK(b->thinking_tokens < b->max_tokens || b->thinking_tokens == 0);
        if (b->escalate_to) {
            CHECK(b->escalate_to > b->max_tokens);
            CHECK(b->escalate_to <= l->context - b->prompt_tokens);
        }
        CHECK(json_object_get(d->request, "thinking_mode") == NULL);
        if (d->action == TG_ACTION_TRUNCATE) {
            CHECK(d->truncation.applied);
            if (r->kind == TG_REQ_CHAT) {
                CHECK(d->truncation.n_dropped_messages > 0);
                CHECK(json_array_size(json_object_get(d->request, "messages")) <
                      json_array_size(json_object_get(r->root, "messages")));
            }
        } else {
            CHECK(!d->truncation.applied);
        }
    }
    const tg_truncation_report *t = &d->truncation;
    const json_t *ms = json_object_get(r->root, "messages");
    for (size_t i = 0, k = 0; i < t->n_summary_messages; i++) {
        CHECK(i == 0 || t->summary_messages[i] > t->summary_messages[i - 1]);
        const char *role = json_string_value(json_object_get(json_array_get(ms, t->summary_messages[i]), "role"));
        CHECK(!role || (strcmp(role, "system") && strcmp(role, "developer")));
        while (k < t->n_dropped_messages && t->dropped_messages[k] == t->summary_messages[i]) k++;
        if (i + 1 == t->n_summary_messages) CHECK(k == t->n_dropped_messages);
    }
    json_t *j = tg_decision_to_json(d);
    CHECK(j != NULL);
    char *txt = json_dumps(j, JSON_COMPACT);
    CHECK(txt != NULL);
    json_t *back = json_loads(txt, JSON_ALLOW_NUL, NULL); /* requests may carry \u0000 (parsed with JSON_ALLOW_NUL) */
    CHECK(back != NULL);
    json_decref(back);
    free(txt);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_request r;
    if (tg_request_parse((const char *)data, size, &r, NULL) != TG_OK) return 0;
    tg_prompt_counts c;
    if (tg_request_count(&r, tg_estimate_count, NULL, 0, &c, NULL) != TG_OK) {
        tg_request_free(&r);
        return 0;
    }
    static const struct {
        uint64_t context, output, thinking;
        tg_truncation_mode trunc;
        tg_overflow_mode overflow;
        tg_dialect dialect;
    } configs[] = {
        {4096, 1024, 64000, TG_TRUNC_DROP_OLDEST_TURNS, TG_OVERFLOW_CLAMP, TG_DIALECT_VLLM},
        {131072, 8192, 0, TG_TRUNC_NONE, TG_OVERFLOW_REJECT, TG_DIALECT_NONE},
        {64, 16, 32000, TG_TRUNC_KEEP_RECENT, TG_OVERFLOW_CLAMP, TG_DIALECT_LLAMACPP},
        {2048, 512, 0, TG_TRUNC_SUMMARIZE, TG_OVERFLOW_CLAMP, TG_DIALECT_NONE},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.thinking_base = configs[i].thinking;
        s.truncation = configs[i].trunc;
        s.overflow = configs[i].overflow;
        s.dialect = configs[i].dialect;
        s.summary_max_tokens = 64;
        tg_limits l;
        memset(&l, 0, sizeof l);
        l.context = configs[i].context;
        l.output = configs[i].output;
        l.input = l.context - l.output;
        /* the third configuration cuts raw prompts through the counted hook */
        tg_counter est = {tg_estimate_count, NULL};
        tg_policy_hooks hooks = {tg_keep_last_counted, NULL, &est};
        tg_policy_input in = {&s, &l, &r, &c, i == 1 ? 3000 : 0, i == 2 ? &hooks : NULL, NULL};
        tg_decision d;
        tg_error err;
        tg_status st = tg_policy_decide(&in, &d, &err);
        CHECK(st == TG_OK);
        check_decision(&d, &l, &r);
        json_t *retry = tg_decision_escalated_request(&d);
        CHECK(!retry == !(d.action != TG_ACTION_REJECT && d.budget.escalate_to));
        json_decref(retry);
        tg_decision_free(&d);
    }
    tg_prompt_counts_free(&c);
    tg_request_free(&r);
    return 0;
}
