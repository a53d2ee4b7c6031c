/* test_output.c: output reservation and escalation after qwen-code PR #2898
 * (priority request > config > env > capped default 8000; one escalation to
 * 64000 for the capped default only, clamped to what the context leaves; no
 * escalation when the first cap is already at or above it), the known output
 * limit, a default never above limit.output (docs/policy.md, "What the
 * advertised numbers guarantee"), and the prompt + output fit rule (clamp,
 * or vLLM's refusal). */
#include "policy_fixture.h"

#define CHAT "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

/* qwen-code's priority order, as a table. */
static void test_priority(void) {
    static const struct {
        const char *extra;   /* request fields */
        uint64_t config, env;
        uint64_t want;
        tg_max_tokens_source src;
    } rows[] = {
        {",\"max_tokens\":5000}", 7000, 7500, 5000, TG_SRC_REQUEST},
        {",\"max_completion_tokens\":6000,\"max_tokens\":5000}", 7000, 7500, 6000, TG_SRC_REQUEST},
        {"}", 7000, 7500, 7000, TG_SRC_CONFIG},
        {"}", 0, 7500, 7500, TG_SRC_ENV},
        {"}", 0, 0, 8000, TG_SRC_DEFAULT},          /* CAPPED_DEFAULT_MAX_TOKENS */
        {",\"max_tokens\":null}", 0, 0, 8000, TG_SRC_DEFAULT},
        /* a default (any source) is at most limit.output, 8192 here; the
         * client's own value is not */
        {"}", 12000, 20000, 8192, TG_SRC_CONFIG},
        {"}", 0, 20000, 8192, TG_SRC_ENV},
        {",\"max_tokens\":12000}", 7000, 0, 12000, TG_SRC_REQUEST},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.default_max_tokens = rows[i].config;
        char json[256];
        snprintf(json, sizeof json, CHAT "%s", rows[i].extra);
        pcase c;
        fx_run(&c, &s, fx_limits(131072, 8192), json, 100, rows[i].env);
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
        TG_CHECK_EQ_U(c.d.budget.max_tokens, rows[i].want);
        TG_CHECK_EQ_I(c.d.budget.max_tokens_source, rows[i].src);
        fx_free(&c);
    }
}

/* The effective value is written back into the field(s) the client used. */
static void test_rewrite(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    pcase c;
    fx_run(&c, &s, fx_limits(131072, 8192), CHAT "}", 100, 0);
    TG_CHECK_EQ_I(fx_req_int(&c, "max_tokens"), 8000);
    TG_CHECK_EQ_I(fx_req_int(&c, "max_completion_tokens"), -1);
    fx_free(&c);
    fx_run(&c, &s, fx_limits(4096, 1024), CHAT ",\"max_completion_tokens\":3000}", 2000, 0); /* 3000 <= safe 3277 */
    TG_CHECK_EQ_I(fx_req_int(&c, "max_completion_tokens"), 2096);
    TG_CHECK_EQ_I(fx_req_int(&c, "max_tokens"), -1);
    fx_free(&c);
}

/* Escalation table: (context, prompt, capped default, source) -> escalate_to. */
static void test_escalation(void) {
    static const struct {
        uint64_t ctx, out, prompt, capped, config;
        const char *extra;
        uint64_t escalate;
    } rows[] = {
        {131072, 8192, 100, 8000, 0, "}", 64000},       /* the plain case: 8K -> 64K */
        {131072, 8192, 100000, 8000, 0, "}", 31072},    /* clamped to context - prompt */
        {32768, 8192, 1000, 8000, 0, "}", 26214},       /* and to the safe maximum */
        {16384, 0, 8384, 8000, 0, "}", 0},              /* room 8000 = first cap: none */
        {262144, 65536, 100, 64000, 0, "}", 0},         /* first cap already at 64000 */
        {262144, 65536, 100, 70000, 0, "}", 0},         /* ... or above it (65536, limit.output) */
        {131072, 8192, 100, 64000, 0, "}", 64000},      /* a first cap of 64000 is first held
                                                           to limit.output 8192: escalates */
        {131072, 8192, 100, 8000, 0, ",\"max_tokens\":8000}", 0}, /* client's value */
        {131072, 8192, 100, 8000, 8000, "}", 0},        /* configured default */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.capped_default = rows[i].capped;
        s.default_max_tokens = rows[i].config;
        char json[256];
        snprintf(json, sizeof json, CHAT "%s", rows[i].extra);
        pcase c;
        fx_run(&c, &s, fx_limits(rows[i].ctx, rows[i].out), json, rows[i].prompt, 0);
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
        TG_CHECK_EQ_U(c.d.budget.escalate_to, rows[i].escalate);
        fx_free(&c);
    }
    /* The environment default does not escalate either (qwen-code: no
     * escalation with a user or env override). */
    tg_model_settings s;
    tg_model_settings_init(&s);
    pcase c;
    fx_run(&c, &s, fx_limits(131072, 8192), CHAT "}", 100, 8000);
    TG_CHECK_EQ_I(c.d.budget.max_tokens_source, TG_SRC_ENV);
    TG_CHECK_EQ_U(c.d.budget.escalate_to, 0);
    fx_free(&c);
    /* A known output limit bounds the escalation target too. */
    s.output_limit = 32000;
    fx_run(&c, &s, fx_limits(131072, 8192), CHAT "}", 100, 0);
    TG_CHECK_EQ_U(c.d.budget.escalate_to, 32000);
    fx_free(&c);
}

static void test_output_limit(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.output_limit = 4096;
    pcase c;
    fx_run(&c, &s, fx_limits(131072, 8192), CHAT ",\"max_tokens\":8000}", 100, 0);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 4096);
    TG_CHECK(c.d.budget.clamped);
    fx_free(&c);
    fx_run(&c, &s, fx_limits(131072, 8192), CHAT "}", 100, 0);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 4096);
    TG_CHECK(!c.d.budget.clamped);
    fx_free(&c);
}

/* Prompt + max_tokens over the context: clamp (default) or vLLM's refusal,
 * with the numbers of a real vLLM error (4096 context, 2778 input, 8000). */
static void test_fit(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.abs_max_tokens = 500000;
    s.safe_fraction_ppm = 1000000; /* let 8000 pass validation on a 4096 model */
    pcase c;
    fx_run(&c, &s, fx_limits(4096, 1024), CHAT ",\"max_tokens\":4000}", 2778, 0);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 4096 - 2778);
    TG_CHECK(c.d.budget.clamped);
    TG_CHECK_EQ_U(c.d.budget.requested_max_tokens, 4000);
    fx_free(&c);

    s.overflow = TG_OVERFLOW_REJECT;
    s.safe_fraction_ppm = 1000000;
    s.abs_max_tokens = 8000;
    tg_limits l = fx_limits(4096, 1024);
    l.input = 4096; /* as the vLLM server saw it: only the fit rule applies */
    fx_run(&c, &s, l, CHAT ",\"max_tokens\":4000}", 2778, 0);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
    TG_CHECK_EQ_I(c.d.status, 400);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "'max_tokens' or 'max_completion_tokens' is too large: 4000. This model's "
                 "maximum context length is 4096 tokens and your request has 2778 input tokens "
                 "(4000 > 4096 - 2778).");
    TG_CHECK_STR(fx_err_str(&c, "code"), "context_length_exceeded");
    TG_CHECK_STR(fx_err_str(&c, "param"), "max_tokens");
    fx_free(&c);

    /* A default is clamped even in reject mode: the client did not ask for it.
     * (limit.output 2048 here, so the default 8000 is first held to 2048,
     * then to the 1318 the prompt leaves.) */
    tg_limits l2 = fx_limits(4096, 2048);
    l2.input = 4096;
    fx_run(&c, &s, l2, CHAT "}", 2778, 0);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 1318);
    TG_CHECK(!c.d.budget.clamped);
    fx_free(&c);

    /* A prompt filling the whole context leaves nothing: refused. */
    fx_run(&c, &s, l, CHAT "}", 4096, 0);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
    TG_CHECK_STR(fx_err_str(&c, "code"), "context_length_exceeded");
    fx_free(&c);

    /* Clamp mode leaves the prompt its room: min(safe maximum, context -
     * prompt), here 4096 - 1500 = 2596, below the safe maximum 3277. */
    tg_model_settings_init(&s);
    fx_run(&c, &s, fx_limits(4096, 2048), CHAT ",\"max_tokens\":32000}", 1500, 0);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 2596);
    TG_CHECK(c.d.budget.clamped);
    TG_CHECK_EQ_U(c.d.budget.requested_max_tokens, 32000);
    TG_CHECK_EQ_I(fx_req_int(&c, "max_tokens"), 2596);
    fx_free(&c);
}

/* The retry body carries the escalated cap and nothing else changes. */
static void test_escalated_request(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    pcase c;
    fx_run(&c, &s, fx_limits(131072, 8192),
           "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":0.5}",
           100, 0);
    json_t *retry = tg_decision_escalated_request(&c.d);
    TG_CHECK(retry != NULL);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(retry, "max_tokens")), 64000);
    TG_CHECK_EQ_I(fx_req_int(&c, "max_tokens"), 8000); /* the decision is untouched */
    json_object_set_new(retry, "max_tokens", json_integer(8000));
    TG_CHECK(json_equal(retry, c.d.request));
    json_decref(retry);
    fx_free(&c);
    /* no escalation, no retry body */
    fx_run(&c, &s, fx_limits(131072, 8192), CHAT ",\"max_tokens\":100}", 100, 0);
    TG_CHECK(tg_decision_escalated_request(&c.d) == NULL);
    fx_free(&c);
}

int main(void) {
    TG_RUN(test_escalated_request);
    TG_RUN(test_priority);
    TG_RUN(test_rewrite);
    TG_RUN(test_escalation);
    TG_RUN(test_output_limit);
    TG_RUN(test_fit);
    return tg_test_summary();
}
