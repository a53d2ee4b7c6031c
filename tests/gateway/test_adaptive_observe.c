/*
 * test_adaptive_observe.c: what the gateway learns from one answer of an
 * adaptive request (src/gateway/adaptive.c, tg__adaptive_observe), on the
 * usage filter's reading of llama-server-shaped streams (as in
 * test_filter_usage.c). The rules are docs/policy.md's: finished by itself
 * (finish_reason stop or tool_calls) records its thinking; thinking that
 * reached the budget B, or a cut by tokgate, records min(2 B, upper bound);
 * "length" below the budget, no count, or a request not in adaptive mode
 * records nothing. Each recorded value is read back through the library's
 * lookup (min_samples 1, p50 of one sample = the sample).
 */
#include <stdio.h>

#include "tg_test.h"
#include "gateway/adaptive.h"
#include "gateway/filters/usage.h"

/* A stream of N reasoning events, then a finish chunk with FINISH. */
static void feed(tg__usage *u, int n, const char *finish) {
    tg__usage_init(u, 1);
    char line[256];
    for (int i = 0; i < n; i++) {
        snprintf(line, sizeof line, "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"t%d\"}}]}\n\n", i);
        tg__usage_feed(u, line, strlen(line));
    }
    snprintf(line, sizeof line, "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"%s\"}]}\n\n", finish);
    tg__usage_feed(u, line, strlen(line));
    tg__usage_finish(u);
}

static void test_rules(void) {
    static const struct {
        int n;
        const char *finish;
        uint64_t budget;
        int gateway_cut, on;
        int want;
        uint64_t recorded; /* 0: nothing recorded */
    } rows[] = {
        {7, "stop", 20, 0, 1, TG__ADAPT_FINISHED, 7},
        {9, "tool_calls", 20, 0, 1, TG__ADAPT_FINISHED, 9},
        {20, "length", 20, 0, 1, TG__ADAPT_CUT, 40},   /* reached its budget: 2 x 20 */
        {30, "stop", 30, 0, 1, TG__ADAPT_CUT, 50},     /* 2 x 30 above the bound 50 */
        {5, "stop", 20, 1, 1, TG__ADAPT_CUT, 40},      /* tokgate cut it */
        {5, "length", 20, 0, 1, TG__ADAPT_SKIPPED, 0}, /* max_tokens, not the budget */
        {5, "stop", 20, 0, 0, TG__ADAPT_SKIPPED, 0},   /* not an adaptive request */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_adaptive_cfg cfg = {500000u, 1u, 0};
        tg_adaptive *a = tg_adaptive_new(&cfg);
        tg__think_obs o;
        memset(&o, 0, sizeof o);
        o.on = rows[i].on;
        o.budget = rows[i].budget;
        o.hi = 50;
        snprintf(o.model, sizeof o.model, "m");
        tg__usage u;
        feed(&u, rows[i].n, rows[i].finish);
        TG_CHECK_EQ_I(tg__adaptive_observe(a, &o, &u, rows[i].gateway_cut), rows[i].want);
        tg_adaptive_pick p = tg_adaptive_lookup(a, "m", o.cls, 0, 0, 0);
        TG_CHECK_EQ_U(p.samples, rows[i].recorded ? 1 : 0);
        if (rows[i].recorded) TG_CHECK_EQ_U(p.budget, rows[i].recorded);
        tg__usage_free(&u);
        tg_adaptive_free(a);
    }
}

static void test_no_count(void) {
    /* a non-streamed answer without reasoning_tokens: nothing learned */
    static const char body[] = "{\"choices\":[{\"finish_reason\":\"stop\",\"message\":{\"reasoning_content\":\"x\"}}]}";
    tg__usage u;
    tg__usage_init(&u, 0);
    tg__usage_feed(&u, body, sizeof body - 1);
    tg__usage_finish(&u);
    tg_adaptive *a = tg_adaptive_new(NULL);
    tg__think_obs o;
    memset(&o, 0, sizeof o);
    o.on = 1;
    o.budget = 100;
    TG_CHECK_EQ_I(tg__adaptive_observe(a, &o, &u, 0), TG__ADAPT_SKIPPED);
    TG_CHECK_EQ_I(tg__adaptive_observe(NULL, &o, &u, 0), TG__ADAPT_SKIPPED);
    tg__usage_free(&u);
    tg_adaptive_free(a);
}

int main(void) {
    TG_RUN(test_rules);
    TG_RUN(test_no_count);
    return tg_test_summary();
}
