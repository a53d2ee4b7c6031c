/*
 * policy_fixture.h: shared set-up for tests/policy/test_*.c. A case gives the
 * model settings, the limits (context and output reserve; input = context -
 * output, as tg_limits defines it), the request JSON and the prompt's token
 * counts directly, so each test controls the numbers the rules see and the
 * expected values come from the sources, not from an estimator.
 */
#ifndef TG_POLICY_FIXTURE_H
#define TG_POLICY_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "tokgate/policy.h"
#include "tokgate/reasoning.h"

typedef struct pcase {
    tg_request req;
    tg_prompt_counts counts;
    tg_limits lim;
    tg_decision d;
    tg_status st;
    tg_error err;
} pcase;

static inline tg_limits fx_limits(uint64_t context, uint64_t output) {
    tg_limits l;
    memset(&l, 0, sizeof l);
    l.context = context;
    l.output = output < context ? output : context;
    l.input = context - l.output;
    return l;
}

/* Number of items the request needs counts for. */
static inline size_t fx_items(const tg_request *r) {
    if (r->kind == TG_REQ_CHAT) return json_array_size(json_object_get(r->root, "messages"));
    const json_t *p = json_object_get(r->root, "prompt");
    if (json_is_string(p) || json_is_integer(json_array_get(p, 0))) return 1;
    return json_array_size(p);
}

/* Runs the policy. ITEMS (N of them) are per-item counts; NULL puts the whole
 * TOTAL on the last item. For chats FIXED is what belongs to no message. */
static inline void fx_run_items(pcase *c, const tg_model_settings *s, tg_limits lim,
                                const char *json, uint64_t total, uint64_t fixed,
                                const uint64_t *items, int exact, uint64_t env,
                                const tg_policy_hooks *hooks) {
    memset(c, 0, sizeof *c);
    c->lim = lim;
    tg_status ps = tg_request_parse(json, strlen(json), &c->req, &c->err);
    TG_CHECK_EQ_I(ps, TG_OK);
    if (ps != TG_OK) {
        fprintf(stderr, "parse: %s\n", c->err.msg);
        c->st = ps;
        return;
    }
    size_t n = fx_items(&c->req);
    c->counts.items = calloc(n ? n : 1, sizeof(uint64_t));
    c->counts.n_items = n;
    c->counts.total = total;
    c->counts.fixed = fixed;
    c->counts.exact = exact;
    for (size_t i = 0; i < n; i++) c->counts.items[i] = items ? items[i] : 0;
    if (!items && n) c->counts.items[n - 1] = total > fixed ? total - fixed : 0;
    tg_policy_input in = {s, &c->lim, &c->req, &c->counts, env, hooks, NULL};
    c->st = tg_policy_decide(&in, &c->d, &c->err);
}

static inline void fx_run(pcase *c, const tg_model_settings *s, tg_limits lim, const char *json,
                          uint64_t prompt, uint64_t env) {
    fx_run_items(c, s, lim, json, prompt, 0, NULL, 0, env, NULL);
}

static inline void fx_free(pcase *c) {
    tg_decision_free(&c->d);
    tg_prompt_counts_free(&c->counts);
    tg_request_free(&c->req);
}

/* The inner error object's string field KEY, or NULL. */
static inline const char *fx_err_str(const pcase *c, const char *key) {
    return json_string_value(json_object_get(json_object_get(c->d.error, "error"), key));
}

static inline long long fx_err_int(const pcase *c, const char *key) {
    return json_integer_value(json_object_get(json_object_get(c->d.error, "error"), key));
}

/* An integer field of the forwarded request (-1 when absent). */
static inline long long fx_req_int(const pcase *c, const char *key) {
    const json_t *v = json_object_get(c->d.request, key);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

static inline const json_t *fx_kwargs(const pcase *c, const char *key) {
    return json_object_get(json_object_get(c->d.request, "chat_template_kwargs"), key);
}

#endif
