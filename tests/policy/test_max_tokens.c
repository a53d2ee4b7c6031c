/* test_max_tokens.c: GPUStack UI v2.5.3 dynamic max_tokens validation
 * (RELEASE_NOTES_v2.5.3.md: the model table and the error message, which
 * tokgate answers in `reject` overflow mode), the minimum / absolute cap /
 * non-integer refusals, and `clamp` mode (the default) lowering a value
 * above the safe maximum instead (docs/policy.md, rule 1). */
#include "policy_fixture.h"

/* The release notes' table: context window -> safe maximum. */
static void test_gpustack_table(void) {
    static const struct { uint64_t ctx, safe; } rows[] = {
        {32768, 26214},     /* qwen3 7B / 32B, 80% */
        {131072, 117965},   /* qwen3 235B, 90% (window > 100000) */
        {1048576, 943718},  /* "future 1M model", 90% */
    };
    tg_model_settings s;
    tg_model_settings_init(&s);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        TG_CHECK_EQ_U(tg_policy_safe_max(&s, rows[i].ctx), rows[i].safe);
    /* The threshold is "exceeds 100000": exactly 100000 still uses 80%. */
    TG_CHECK_EQ_U(tg_policy_safe_max(&s, 100000), 80000);
    TG_CHECK_EQ_U(tg_policy_safe_max(&s, 100001), 90001); /* 90000.9 -> nearest */
    /* Huge contexts do not overflow: 2^63 x 0.9. */
    TG_CHECK_EQ_U(tg_policy_safe_max(&s, 9223372036854775808ull), 8301034833169298227ull);
}

/* The error text, character for character, and the boundary. */
static void test_gpustack_error(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.name = "qwen3-235b-a22b";
    s.overflow = TG_OVERFLOW_REJECT;
    pcase c;
    fx_run(&c, &s, fx_limits(131072, 8192),
           "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":120000}", 50, 0);
    TG_CHECK_EQ_I(c.st, TG_OK);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
    TG_CHECK_EQ_I(c.d.status, 400);
    TG_CHECK(c.d.request == NULL);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "max_tokens (120000) exceeds safe limit for model qwen3-235b-a22b. "
                 "Context window: 131072, Safe maximum: 117965");
    TG_CHECK_STR(fx_err_str(&c, "type"), "invalid_request_error");
    TG_CHECK_STR(fx_err_str(&c, "param"), "max_tokens");
    TG_CHECK_EQ_U(c.d.budget.safe_max, 117965);
    fx_free(&c);

    /* Without a configured name the request's model names the model. */
    tg_model_settings_init(&s);
    s.overflow = TG_OVERFLOW_REJECT;
    fx_run(&c, &s, fx_limits(32768, 8192),
           "{\"model\":\"Qwen3-32B\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
           "\"max_completion_tokens\":26215}", 50, 0);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "max_completion_tokens (26215) exceeds safe limit for model Qwen3-32B. "
                 "Context window: 32768, Safe maximum: 26214");
    TG_CHECK_STR(fx_err_str(&c, "param"), "max_completion_tokens");
    fx_free(&c);
}

/* Table: (min, cap, context, request body max_tokens part) -> refused? */
static void test_validation_table(void) {
    static const struct {
        uint64_t min, cap, ctx;
        const char *field;   /* JSON text after "max_tokens": */
        int refused;
        const char *needle;  /* in the message */
    } rows[] = {
        {1, 500000, 131072, "117965", 0, NULL},            /* exactly the safe maximum */
        {1, 500000, 131072, "117966", 1, "Safe maximum: 117965"}, /* reject mode only */
        {100, 500000, 32768, "99", 1, "below the minimum of 100"}, /* GPUStack's minimum */
        {100, 500000, 32768, "100", 0, NULL},
        {1, 500000, 32768, "0", 1, "below the minimum of 1"},
        {1, 500000, 32768, "-5", 1, "below the minimum of 1"},
        {1, 500000, 1048576, "500000", 0, NULL},           /* the absolute cap itself */
        {1, 500000, 1048576, "500001", 1, "absolute cap of 500000"},
        {1, 500000, 32768, "\"100\"", 1, "must be an integer"},
        {1, 500000, 32768, "100.5", 1, "must be an integer"},
        {1, 500000, 32768, "true", 1, "must be an integer"},
        {1, 500000, 32768, "null", 0, NULL},               /* null = absent */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.min_max_tokens = rows[i].min;
        s.abs_max_tokens = rows[i].cap;
        s.name = "m";
        s.overflow = TG_OVERFLOW_REJECT;
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":%s}",
                 rows[i].field);
        pcase c;
        fx_run(&c, &s, fx_limits(rows[i].ctx, 0), json, 10, 0);
        TG_CHECK_EQ_I(c.st, TG_OK);
        TG_CHECK_EQ_I(c.d.action == TG_ACTION_REJECT, rows[i].refused);
        if (rows[i].refused) {
            TG_CHECK_CONTAINS(fx_err_str(&c, "message"), rows[i].needle);
            TG_CHECK_STR(fx_err_str(&c, "code"), "invalid_value");
        }
        if (c.d.action == TG_ACTION_REJECT && !rows[i].refused)
            fprintf(stderr, "row %zu: %s\n", i, fx_err_str(&c, "message"));
        fx_free(&c);
    }
}

/* clamp mode (the default): above the safe maximum is lowered, not refused
 * (issue 15: opencode's openai-compatible provider sends 32000 to every
 * model), to min(safe maximum, context - prompt), and the decision says so.
 * The validation refusals stay in both modes. */
static void test_clamp_mode(void) {
    static const struct {
        uint64_t ctx, prompt;
        const char *field;
        int refused;
        uint64_t want;       /* forwarded max_tokens */
        int clamped;
    } rows[] = {
        /* 4096: safe maximum round(4096 x 0.8) = 3277, limit.output 2048 */
        {4096, 10, "32000", 0, 3277, 1},          /* opencode's value: the safe maximum */
        {4096, 2000, "32000", 0, 2096, 1},        /* the prompt's room: 4096 - 2000 */
        {4096, 10, "3277", 0, 3277, 0},
        {4096, 10, "3278", 0, 3277, 1},
        {131072, 100, "120000", 0, 117965, 1},    /* GPUStack's 235B row */
        {131072, 100, "500001", 1, 0, 0},         /* the absolute cap still refuses */
        {131072, 100, "0", 1, 0, 0},              /* and the minimum */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        tg_limits lim;
        tg_limits_config lc;
        tg_error e;
        tg_limits_config_init(&lc);
        TG_CHECK_EQ_I(tg_limits_from_context(rows[i].ctx, &lc, &lim, &e), TG_OK);
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":%s}",
                 rows[i].field);
        pcase c;
        fx_run(&c, &s, lim, json, rows[i].prompt, 0);
        TG_CHECK_EQ_I(c.st, TG_OK);
        TG_CHECK_EQ_I(c.d.action == TG_ACTION_REJECT, rows[i].refused);
        if (rows[i].refused) {
            TG_CHECK_STR(fx_err_str(&c, "code"), "invalid_value");
        } else {
            TG_CHECK_EQ_U(c.d.budget.max_tokens, rows[i].want);
            TG_CHECK_EQ_I(c.d.budget.clamped, rows[i].clamped);
            TG_CHECK_EQ_U(c.d.budget.requested_max_tokens, strtoull(rows[i].field, NULL, 10));
            TG_CHECK_EQ_I(fx_req_int(&c, "max_tokens"), (long long)rows[i].want);
        }
        fx_free(&c);
    }
}

int main(void) {
    TG_RUN(test_gpustack_table);
    TG_RUN(test_clamp_mode);
    TG_RUN(test_gpustack_error);
    TG_RUN(test_validation_table);
    return tg_test_summary();
}
