/* test_guarantees.c: what the advertised numbers guarantee (docs/policy.md,
 * "What the advertised numbers guarantee"), swept over a grid of prompt
 * sizes and max_tokens on the contexts 2048, 4096, 32768 and 131072, in both
 * overflow modes. The limits are the ones the gateway advertises for such a
 * context (tg_limits_from_context with the default output reserve); every
 * expected value is computed here from the written rules, with the numbers
 * of their sources (GPUStack's 0.8 / 0.9 safe fractions, qwen-code's capped
 * default 8000 and escalation 64000, helexa's output reserve 8192), never
 * taken from the policy's own output:
 *
 *   C, I, O  limit.context, limit.input, limit.output: O = min(8192, C / 2),
 *            I = C - O
 *   S        the safe maximum, round(C x 0.8), x 0.9 above 100000
 *   G1  prompt <= I and max_tokens absent or <= O: forwarded, never refused;
 *       max_tokens >= min(requested, O) (exactly the request when given)
 *   G2  max_tokens absent: forwarded iff prompt <= I, with exactly min(8000, O)
 *       (never more than O), escalating once to min(64000, C - prompt, S)
 *       when that is more
 *   G3  clamp mode, 1 <= max_tokens <= 500000: forwarded iff
 *       prompt + min(max_tokens, O) <= C, with min(max_tokens, S, C - prompt),
 *       clamped iff that is below the request; else context_length_exceeded
 *   G4  reject mode: max_tokens > S is invalid_value (GPUStack); else
 *       prompt + max_tokens > C is context_length_exceeded; else forwarded as
 *       asked
 *   G5  max_tokens 0 or above the absolute cap 500000: invalid_value
 *   G6  whatever is forwarded fits: prompt + max_tokens <= C, max_tokens <= S,
 *       and the body carries budget.max_tokens
 *   G7  a model that thinks (base 32768, Qwen3): a defaulted max_tokens is
 *       min(min(8000, O) + 32768, C - prompt, S): the thinking budget on top
 *       of what G2 gives
 */
#include "policy_fixture.h"

#define CTX_N 4

typedef struct adv {
    uint64_t c, i, o, s;
} adv;

static uint64_t umin(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The advertised numbers from the written rules; checked against what the
 * limits layer publishes for the same context. */
static adv advertised(uint64_t c, tg_limits *lim) {
    adv a;
    a.c = c;
    a.o = umin(8192, c / 2);
    a.i = c - a.o;
    a.s = c > 100000 ? (c * 9 + 5) / 10 : (c * 8 + 5) / 10;
    tg_limits_config lc;
    tg_limits_config_init(&lc);
    tg_error e;
    TG_CHECK_EQ_I(tg_limits_from_context(c, &lc, lim, &e), TG_OK);
    TG_CHECK_EQ_U(lim->context, a.c);
    TG_CHECK_EQ_U(lim->input, a.i);
    TG_CHECK_EQ_U(lim->output, a.o);
    return a;
}

/* Prompt sizes around each boundary. */
static size_t prompts(const adv *a, uint64_t *p) {
    size_t n = 0;
    p[n++] = 1;
    p[n++] = 2;
    p[n++] = a->i / 2;
    p[n++] = a->i - 1;
    p[n++] = a->i;
    p[n++] = a->i + 1;
    p[n++] = a->i + a->o / 2;
    p[n++] = a->c - 100;
    p[n++] = a->c - 2;
    p[n++] = a->c - 1;
    p[n++] = a->c;
    p[n++] = a->c + 1;
    p[n++] = 2 * a->c;
    return n;
}

/* max_tokens values (0 = absent; ABS_OVER = one above the cap). */
#define MT_ZERO UINT64_MAX
static size_t max_tokens(const adv *a, uint64_t prompt, uint64_t *m) {
    size_t n = 0;
    m[n++] = 0; /* absent */
    m[n++] = MT_ZERO;
    m[n++] = 1;
    m[n++] = 100;
    m[n++] = a->o / 2;
    m[n++] = a->o - 1;
    m[n++] = a->o;
    m[n++] = a->o + 1;
    m[n++] = a->s - 1;
    m[n++] = a->s;
    m[n++] = a->s + 1;
    m[n++] = a->c;
    m[n++] = a->c + 1;
    m[n++] = 8000;
    m[n++] = 32000; /* opencode's openai-compatible provider */
    m[n++] = 64000;
    m[n++] = 500000;
    m[n++] = 500001;
    if (prompt < a->c) {
        uint64_t room = a->c - prompt;
        if (room > 1) m[n++] = room - 1;
        m[n++] = room;
        m[n++] = room + 1;
    }
    return n;
}

typedef struct want {
    int refused;
    const char *code; /* when refused */
    uint64_t mt;      /* when forwarded */
    int clamped;
    uint64_t escalate;
} want;

/* The written rules, G2-G5. */
static want expected(const adv *a, uint64_t p, uint64_t m, tg_overflow_mode mode) {
    want w = {0, NULL, 0, 0, 0};
    if (m == MT_ZERO || m > 500000) { /* G5 */
        w.refused = 1;
        w.code = "invalid_value";
        return w;
    }
    if (m == 0) { /* G2 */
        if (p > a->i) {
            w.refused = 1;
            w.code = "context_length_exceeded";
            return w;
        }
        w.mt = umin(8000, a->o);
        uint64_t t = umin(umin(64000, a->c - p), a->s);
        w.escalate = t > w.mt ? t : 0;
        return w;
    }
    if (mode == TG_OVERFLOW_REJECT) { /* G4 */
        if (m > a->s) {
            w.refused = 1;
            w.code = "invalid_value";
        } else if (p + m > a->c) {
            w.refused = 1;
            w.code = "context_length_exceeded";
        } else {
            w.mt = m;
        }
        return w;
    }
    /* G3 */
    if (p + umin(m, a->o) > a->c) {
        w.refused = 1;
        w.code = "context_length_exceeded";
        return w;
    }
    w.mt = umin(umin(m, a->s), a->c - p);
    w.clamped = w.mt < m;
    return w;
}

static int failures_shown;

static void one(const adv *a, const tg_limits *lim, uint64_t p, uint64_t m, tg_overflow_mode mode) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.overflow = mode;
    char json[160];
    if (m == 0)
        snprintf(json, sizeof json, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
    else
        snprintf(json, sizeof json, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":%llu}",
                 m == MT_ZERO ? 0ull : (unsigned long long)m);
    pcase c;
    fx_run_items(&c, &s, *lim, json, p, 0, NULL, 1, 0, NULL);
    want w = expected(a, p, m, mode);
    int before = tg_test_failed_checks;
    TG_CHECK_EQ_I(c.st, TG_OK);
    /* G1: within the advertised numbers, never refused, at least min(M, O). */
    if (p <= a->i && (m == 0 || (m != MT_ZERO && m <= a->o))) {
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
        TG_CHECK(c.d.budget.max_tokens >= (m ? umin(m, a->o) : umin(8000, a->o)));
        if (m) TG_CHECK_EQ_U(c.d.budget.max_tokens, m);
    }
    TG_CHECK_EQ_I(c.d.action == TG_ACTION_REJECT, w.refused);
    if (w.refused && c.d.action == TG_ACTION_REJECT) {
        TG_CHECK_EQ_I(c.d.status, 400);
        TG_CHECK_STR(fx_err_str(&c, "code"), w.code);
    } else if (!w.refused && c.d.action != TG_ACTION_REJECT) {
        TG_CHECK_EQ_U(c.d.budget.max_tokens, w.mt);
        TG_CHECK_EQ_I(c.d.budget.clamped, w.clamped);
        TG_CHECK_EQ_U(c.d.budget.escalate_to, w.escalate);
        TG_CHECK_EQ_U(c.d.budget.requested_max_tokens, m == MT_ZERO ? 0 : m);
        /* G6 */
        TG_CHECK(p + c.d.budget.max_tokens <= a->c);
        TG_CHECK(c.d.budget.max_tokens <= a->s);
        TG_CHECK_EQ_I(fx_req_int(&c, "max_tokens"), (long long)c.d.budget.max_tokens);
        /* G2: a default never above limit.output */
        if (m == 0) TG_CHECK(c.d.budget.max_tokens <= a->o);
    }
    if (tg_test_failed_checks != before && failures_shown++ < 20)
        fprintf(stderr, "  context %llu prompt %llu max_tokens %s%llu mode %s: %s\n",
                (unsigned long long)a->c, (unsigned long long)p, m == 0 ? "absent " : "",
                m == MT_ZERO ? 0ull : (unsigned long long)m, mode == TG_OVERFLOW_CLAMP ? "clamp" : "reject",
                c.d.error ? fx_err_str(&c, "message") : "forwarded");
    fx_free(&c);
}

static void test_grid(void) {
    static const uint64_t ctxs[CTX_N] = {2048, 4096, 32768, 131072};
    size_t cases = 0;
    for (size_t k = 0; k < CTX_N; k++) {
        tg_limits lim;
        adv a = advertised(ctxs[k], &lim);
        uint64_t ps[16], ms[32];
        size_t np = prompts(&a, ps);
        for (size_t i = 0; i < np; i++) {
            size_t nm = max_tokens(&a, ps[i], ms);
            for (size_t j = 0; j < nm; j++) {
                one(&a, &lim, ps[i], ms[j], TG_OVERFLOW_CLAMP);
                one(&a, &lim, ps[i], ms[j], TG_OVERFLOW_REJECT);
                cases += 2;
            }
        }
    }
    fprintf(stderr, "  %zu cases\n", cases);
    TG_CHECK(cases > 1000);
}

/* G7: a reasoning model's default carries its thinking budget on top. */
static void test_thinking_on_top(void) {
    static const uint64_t ctxs[CTX_N] = {2048, 4096, 32768, 131072};
    for (size_t k = 0; k < CTX_N; k++) {
        tg_limits lim;
        adv a = advertised(ctxs[k], &lim);
        uint64_t ps[16];
        size_t np = prompts(&a, ps);
        for (size_t i = 0; i < np; i++) {
            if (ps[i] > a.i) continue;
            tg_model_settings s;
            tg_model_settings_init(&s);
            s.thinking_base = 32768;
            pcase c;
            fx_run_items(&c, &s, lim, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", ps[i], 0, NULL,
                         1, 0, NULL);
            TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
            uint64_t mt = umin(umin(umin(8000, a.o) + 32768, a.c - ps[i]), a.s);
            TG_CHECK_EQ_U(c.d.budget.max_tokens, mt);
            fx_free(&c);
        }
    }
}

int main(void) {
    TG_RUN(test_grid);
    TG_RUN(test_thinking_on_top);
    return tg_test_summary();
}
