/*
 * test_budget_lines.c: the x-tokgate-* decision lines (gateway/budget.c,
 * tg__budget_lines). The usual decision is written in one append (issue 17)
 * and everything else piece by piece, as before; both must give the same
 * bytes. Checked: one forwarded and one refused decision against the text
 * docs/gateway.md documents for them (written out here by hand), then a
 * spread of decisions (every action and max_tokens source, an unknown
 * source, numbers of every width up to UINT64_MAX, negative and positive
 * flags, escalation, thinking and adaptive lines) one way against the other,
 * a buffer whose ceiling refuses the one append (the piecewise text, cut
 * where its ceiling cuts it), and the limit lines kept from one decision to
 * the next while one limit at a time changes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gateway/budget.h"
#include "tg_test.h"

static void lines(const tg__model *m, const tg_budget_decision *bd, int piecewise, size_t max, tgx_buf *out) {
    tgx_buf_init(out, max);
    tgx_buf_puts(out, "");
    tg__budget_lines(m, bd, out, piecewise);
}

static void test_documented(void) {
    tg__model m;
    memset(&m, 0, sizeof m);
    m.limits.context = 40960;
    m.limits.input = 40960;
    m.limits.output = 32768;
    tg_budget_decision bd;
    memset(&bd, 0, sizeof bd);
    bd.d.action = TG_ACTION_FORWARD;
    bd.d.budget.prompt_tokens = 15;
    bd.d.budget.prompt_tokens_exact = 1;
    bd.d.budget.max_tokens = 16;
    bd.d.budget.max_tokens_source = TG_SRC_REQUEST;
    tgx_buf h;
    lines(&m, &bd, 0, 4096, &h);
    TG_CHECK_STR(h.data, "x-tokgate-prompt-tokens: 15\r\nx-tokgate-prompt-exact: 1\r\n"
                         "x-tokgate-max-tokens: 16\r\nx-tokgate-max-tokens-source: request\r\n"
                         "x-tokgate-clamped: 0\r\nx-tokgate-truncated: 0\r\n"
                         "x-tokgate-limit-context: 40960\r\nx-tokgate-limit-input: 40960\r\n"
                         "x-tokgate-limit-output: 32768\r\n");
    tgx_buf_free(&h);
    bd.d.action = TG_ACTION_REJECT;
    bd.d.budget.prompt_tokens = 50000;
    lines(&m, &bd, 0, 4096, &h);
    TG_CHECK_STR(h.data, "x-tokgate-prompt-tokens: 50000\r\nx-tokgate-prompt-exact: 1\r\n"
                         "x-tokgate-limit-context: 40960\r\nx-tokgate-limit-input: 40960\r\n"
                         "x-tokgate-limit-output: 32768\r\n");
    tgx_buf_free(&h);
}

static uint64_t next(uint64_t *x) { /* xorshift64 */
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static int same(const tg__model *m, const tg_budget_decision *bd, size_t max) {
    tgx_buf a, b;
    lines(m, bd, 0, max, &a);
    lines(m, bd, 1, max, &b);
    int eq = a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
    if (!eq) fprintf(stderr, "one append:\n%s\npiecewise:\n%s\n", a.data ? a.data : "", b.data ? b.data : "");
    tgx_buf_free(&a);
    tgx_buf_free(&b);
    return eq;
}

static void test_spread(void) {
    static const int flags[] = {0, 1, -1, 2, 2147483647, -2147483647 - 1};
    static const tg_action actions[] = {TG_ACTION_FORWARD, TG_ACTION_TRUNCATE, TG_ACTION_REJECT};
    uint64_t x = 0x9e3779b97f4a7c15u;
    int bad = 0;
    for (int i = 0; i < 6000; i++) {
        tg__model m;
        memset(&m, 0, sizeof m);
        tg_budget_decision bd;
        memset(&bd, 0, sizeof bd);
        tg_budget *b = &bd.d.budget;
        /* a width from 0 to 64 bits, so every digit count turns up */
        uint64_t w[6];
        for (int k = 0; k < 6; k++) w[k] = next(&x) >> (next(&x) % 65 == 64 ? 63 : next(&x) % 64);
        if (i % 97 == 0) w[i % 6] = UINT64_MAX;
        if (i % 89 == 0) w[(i + 1) % 6] = 0;
        m.limits.context = w[0];
        m.limits.input = w[1];
        m.limits.output = w[2];
        b->prompt_tokens = w[3];
        b->max_tokens = w[4];
        bd.d.action = actions[i % 3];
        b->max_tokens_source = (tg_max_tokens_source)(i / 3 % 5); /* 4: "unknown" */
        b->prompt_tokens_exact = flags[i % 6];
        b->clamped = flags[i / 6 % 6];
        bd.d.truncation.applied = flags[i / 36 % 6];
        if (i % 7 == 0) b->escalate_to = w[5];
        if (i % 11 == 0) b->thinking_tokens = w[5] | 1;
        if (i % 13 == 0) {
            b->adaptive = 1;
            b->adaptive_budget = w[5];
            b->adaptive_samples = (uint32_t)w[4];
        }
        if (!same(&m, &bd, 4096)) bad++;
        /* a ceiling that refuses the whole text: the piecewise text, cut */
        if (i % 5 == 0 && !same(&m, &bd, (size_t)(w[5] % 300))) bad++;
    }
    TG_CHECK_EQ_I(bad, 0);
}

/* The limit lines are kept for the limits last seen (per thread): one limit
 * changed at a time, and back, each written again. */
static void test_limits_change(void) {
    tg__model m;
    memset(&m, 0, sizeof m);
    tg_budget_decision bd;
    memset(&bd, 0, sizeof bd);
    bd.d.budget.prompt_tokens = 7;
    uint64_t vals[] = {40960, 40961, 4096, 0, UINT64_MAX};
    int bad = 0;
    for (int round = 0; round < 2; round++)
        for (int which = 0; which < 3; which++)
            for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
                m.limits.context = which == 0 ? vals[v] : 131072;
                m.limits.input = which == 1 ? vals[v] : 131072;
                m.limits.output = which == 2 ? vals[v] : 131072;
                for (int again = 0; again < 2; again++) bad += !same(&m, &bd, 4096);
            }
    TG_CHECK_EQ_I(bad, 0);
}

int main(void) {
    TG_RUN(test_documented);
    TG_RUN(test_spread);
    TG_RUN(test_limits_change);
    return tg_test_summary();
}
