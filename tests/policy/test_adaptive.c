/* test_adaptive.c: thinking budgets learned from use (tokgate/adaptive.h).
 *
 * Expected values come from outside tokgate:
 *  - the nearest-rank quantile: the worked examples of Wikipedia's
 *    "Percentile" article, section "The nearest-rank method" (ordered list
 *    {15, 20, 35, 40, 50}: 5th 15, 30th 20, 40th 20, 50th 35, 100th 50;
 *    {3, 6, 7, 8, 8, 10, 13, 15, 16, 20}: 25th 7, 50th 8, 75th 15, 100th 20;
 *    {3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20}: 25th 7, 50th 9, 75th 15,
 *    100th 20), and on random tables a second, independent definition
 *    written here (the smallest sample x with #{samples <= x} >= q n, by
 *    counting, no sort);
 *  - a recorded usage table (100, 200, ..., 3000 thinking tokens): p90 by
 *    hand is the 27th smallest, ceil(0.9 x 30) = 27, i.e. 2700; p50 the
 *    15th, 1500;
 *  - the catalogue budgets of docs/policy.md rule 5 (base x 0.25, x 1, x 2).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "tg_test.h"
#include "tokgate/adaptive.h"
#include "tokgate/policy.h"

static void test_quantile_wikipedia(void) {
    static const struct { uint32_t v[11]; size_t n; uint32_t p; uint32_t want; } rows[] = {
        {{15, 20, 35, 40, 50}, 5, 5, 15},
        {{15, 20, 35, 40, 50}, 5, 30, 20},
        {{15, 20, 35, 40, 50}, 5, 40, 20},
        {{15, 20, 35, 40, 50}, 5, 50, 35},
        {{15, 20, 35, 40, 50}, 5, 100, 50},
        {{3, 6, 7, 8, 8, 10, 13, 15, 16, 20}, 10, 25, 7},
        {{3, 6, 7, 8, 8, 10, 13, 15, 16, 20}, 10, 50, 8},
        {{3, 6, 7, 8, 8, 10, 13, 15, 16, 20}, 10, 75, 15},
        {{3, 6, 7, 8, 8, 10, 13, 15, 16, 20}, 10, 100, 20},
        {{3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20}, 11, 25, 7},
        {{3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20}, 11, 50, 9},
        {{3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20}, 11, 75, 15},
        {{3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20}, 11, 100, 20},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint32_t v[11];
        /* shuffled: the function sorts */
        for (size_t k = 0; k < rows[i].n; k++) v[k] = rows[i].v[(k * 7 + 3) % rows[i].n];
        TG_CHECK_EQ_U(tg_quantile_nearest_rank(v, rows[i].n, rows[i].p * 10000u), rows[i].want);
    }
    TG_CHECK_EQ_U(tg_quantile_nearest_rank(NULL, 0, 900000u), 0);
}

/* The definition by counting: the smallest sample x such that at least q n
 * samples are <= x (q n compared in integers: count 10^6 >= q_ppm n). */
static uint32_t reference_quantile(const uint32_t *v, size_t n, uint32_t q_ppm) {
    uint32_t best = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t le = 0;
        for (size_t k = 0; k < n; k++) le += v[k] <= v[i];
        if ((uint64_t)le * 1000000u >= (uint64_t)q_ppm * n && v[i] < best) best = v[i];
    }
    return best;
}

static void test_quantile_reference(void) {
    uint64_t s = 88172645463325252ull;
    static const uint32_t qs[] = {1, 100000, 250000, 500000, 900000, 950000, 990000, 999999, 1000000};
    for (int t = 0; t < 300; t++) {
        uint32_t v[TG_ADAPTIVE_WINDOW], w[TG_ADAPTIVE_WINDOW];
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        size_t n = 1 + (size_t)(s % TG_ADAPTIVE_WINDOW);
        for (size_t k = 0; k < n; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            v[k] = (uint32_t)(s % (t % 3 ? 40000u : 20u)); /* some tables with many ties */
        }
        for (size_t qi = 0; qi < sizeof qs / sizeof qs[0]; qi++) {
            memcpy(w, v, n * sizeof *v);
            TG_CHECK_EQ_U(tg_quantile_nearest_rank(w, n, qs[qi]), reference_quantile(v, n, qs[qi]));
        }
    }
}

static const tg_adaptive_class PLAIN = {0, 0, 0};

static void test_table(void) {
    tg_adaptive_cfg cfg = {900000u, 20u, 0};
    tg_adaptive *a = tg_adaptive_new(&cfg);
    TG_CHECK(a != NULL);
    /* below min_samples: the catalogue (clamped) */
    tg_adaptive_pick p = tg_adaptive_lookup(a, "m", PLAIN, 4000, 1000, 8000);
    TG_CHECK_EQ_U(p.budget, 4000);
    TG_CHECK_EQ_I(p.from_samples, 0);
    for (uint32_t i = 30; i >= 1; i--) { /* recorded usage 3000, 2900, ..., 100 */
        TG_CHECK_EQ_I(tg_adaptive_record(a, "m", PLAIN, i * 100u, 0, 4000, 8000), TG_OK);
        p = tg_adaptive_lookup(a, "m", PLAIN, 4000, 1000, 8000);
        if (31 - i < 20) TG_CHECK_EQ_I(p.from_samples, 0);
    }
    p = tg_adaptive_lookup(a, "m", PLAIN, 4000, 1000, 8000);
    TG_CHECK_EQ_I(p.from_samples, 1);
    TG_CHECK_EQ_U(p.samples, 30);
    TG_CHECK_EQ_U(p.budget, 2700);
    /* clamped to the mode's bounds */
    TG_CHECK_EQ_U(tg_adaptive_lookup(a, "m", PLAIN, 4000, 3000, 8000).budget, 3000);
    TG_CHECK_EQ_U(tg_adaptive_lookup(a, "m", PLAIN, 4000, 100, 2000).budget, 2000);
    /* other classes and models are apart */
    tg_adaptive_class code = {0, 1, 0};
    TG_CHECK_EQ_I(tg_adaptive_lookup(a, "m", code, 4000, 1000, 8000).from_samples, 0);
    TG_CHECK_EQ_I(tg_adaptive_lookup(a, "other", PLAIN, 4000, 1000, 8000).from_samples, 0);
    /* a cut answer at budget 1500 records min(2 x 1500, hi) */
    tg_adaptive_cfg one = {500000u, 1u, 0};
    tg_adaptive *b = tg_adaptive_new(&one);
    TG_CHECK_EQ_I(tg_adaptive_record(b, "m", PLAIN, 1500, 1, 1500, 8000), TG_OK);
    TG_CHECK_EQ_U(tg_adaptive_lookup(b, "m", PLAIN, 0, 0, 0).budget, 3000);
    TG_CHECK_EQ_I(tg_adaptive_record(b, "m", PLAIN, 5000, 1, 5000, 8000), TG_OK);
    TG_CHECK_EQ_U(tg_adaptive_lookup(b, "m", PLAIN, 0, 0, 0).budget, 3000); /* p50 of {3000, 8000} */
    tg_adaptive_free(b);
    /* the window keeps the newest: p50 of q 500 samples 1..500 in window 256
     * is over 245..500, the 128th of them: 372 */
    tg_adaptive_cfg win = {500000u, 1u, 256u};
    b = tg_adaptive_new(&win);
    for (uint32_t i = 1; i <= 500; i++) tg_adaptive_record(b, "m", PLAIN, i, 0, 0, 0);
    p = tg_adaptive_lookup(b, "m", PLAIN, 0, 0, 0);
    TG_CHECK_EQ_U(p.samples, 256);
    TG_CHECK_EQ_U(p.budget, 372);
    tg_adaptive_free(b);
    tg_adaptive_free(a);
}

static tg_adaptive_class classify(const char *json, uint64_t prompt) {
    tg_request r;
    tg_error err;
    tg_adaptive_class c = {9, 9, 9};
    if (tg_request_parse(json, strlen(json), &r, &err) != TG_OK) return c;
    c = tg_adaptive_classify(&r, prompt);
    tg_request_free(&r);
    return c;
}

static void test_classify(void) {
    static const struct { const char *json; uint64_t prompt; const char *want; } rows[] = {
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 1023, "lt1k/plain/none"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 1024, "1k-4k/plain/none"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 16384, "16k-64k/plain/none"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 65536, "ge64k/plain/none"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"fix ```int x;```\"}]}", 5000, "4k-16k/code/none"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"```py\"}]}]}", 1,
         "lt1k/code/none"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\"}],"
         "\"reasoning_effort\":\"high\"}", 10, "lt1k/code/high"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"reasoning_effort\":\"low\"}", 10, "lt1k/plain/low"},
        {"{\"prompt\":\"```\",\"reasoning_effort\":\"medium\"}", 10, "lt1k/code/medium"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char name[32];
        tg_adaptive_class_name(classify(rows[i].json, rows[i].prompt), name, sizeof name);
        TG_CHECK_STR(name, rows[i].want);
        tg_adaptive_class c;
        TG_CHECK_EQ_I(tg_adaptive_class_parse(rows[i].want, &c), 0);
        TG_CHECK_EQ_U(tg_adaptive_class_index(c), tg_adaptive_class_index(classify(rows[i].json, rows[i].prompt)));
    }
    for (size_t i = 0; i < TG_ADAPTIVE_CLASSES; i++) TG_CHECK_EQ_U(tg_adaptive_class_index(tg_adaptive_class_at(i)), i);
    tg_adaptive_class c;
    TG_CHECK_EQ_I(tg_adaptive_class_parse("lt1k/plain/huge", &c), -1);
}

/* The policy in adaptive mode on a model with base 4000 (bounds 1000..8000). */
static tg_decision decide(tg_adaptive *a, tg_thinking_mode mode, const char *json) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.name = "m";
    s.thinking_base = 4000;
    s.thinking_mode = mode;
    tg_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.context = 131072;
    lim.output = 32768;
    lim.input = lim.context - lim.output;
    tg_request r;
    tg_error err;
    tg_decision d;
    memset(&d, 0, sizeof d);
    if (tg_request_parse(json, strlen(json), &r, &err) != TG_OK) return d;
    uint64_t item = 100;
    tg_prompt_counts counts = {100, 1, 0, 1, &item};
    tg_policy_input in = {&s, &lim, &r, &counts, 0, NULL, a};
    TG_CHECK_EQ_I(tg_policy_decide(&in, &d, &err), TG_OK);
    tg_request_free(&r);
    return d;
}

static void test_policy(void) {
    tg_adaptive *a = tg_adaptive_new(NULL); /* p90, 20 samples */
    const char *plain = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    tg_decision d = decide(a, TG_THINK_ADAPTIVE, plain);
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 4000); /* catalogue: base */
    TG_CHECK_EQ_I(d.budget.adaptive, 1);
    TG_CHECK_EQ_I(d.budget.adaptive_from_samples, 0);
    tg_decision_free(&d);
    for (uint32_t i = 1; i <= 30; i++) tg_adaptive_record(a, "m", PLAIN, i * 100u, 0, 0, 0);
    d = decide(a, TG_THINK_ADAPTIVE, plain);
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 2700);
    TG_CHECK_EQ_I(d.budget.adaptive_from_samples, 1);
    TG_CHECK_EQ_U(d.budget.adaptive_samples, 30);
    json_t *j = tg_decision_to_json(&d);
    json_t *ad = json_object_get(json_object_get(j, "budget"), "adaptive");
    TG_CHECK_STR(json_string_value(json_object_get(ad, "class")), "lt1k/plain/none");
    TG_CHECK_STR(json_string_value(json_object_get(ad, "source")), "samples");
    TG_CHECK(json_object_get(d.request, "thinking_mode") == NULL);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(d.request, "chat_template_kwargs"),
                                                     "max_thinking_tokens")), 2700);
    json_decref(j);
    tg_decision_free(&d);
    /* requested per request on a model of another mode */
    d = decide(a, TG_THINK_BALANCED, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                     "\"thinking_mode\":\"adaptive\"}");
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 2700);
    tg_decision_free(&d);
    /* reasoning_effort on an adaptive model: its class, the catalogue of its mode */
    d = decide(a, TG_THINK_ADAPTIVE, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                     "\"reasoning_effort\":\"high\"}");
    TG_CHECK_EQ_I(d.budget.adaptive, 1);
    TG_CHECK_EQ_U(d.budget.adaptive_asked, 3);
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 8000);
    tg_decision_free(&d);
    d = decide(a, TG_THINK_ADAPTIVE, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                     "\"reasoning_effort\":\"low\"}");
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 1000);
    tg_decision_free(&d);
    /* effort none still turns thinking off; a fixed mode is not adaptive */
    d = decide(a, TG_THINK_ADAPTIVE, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                                     "\"reasoning_effort\":\"none\"}");
    TG_CHECK_EQ_I(d.budget.thinking_disabled, 1);
    TG_CHECK_EQ_I(d.budget.adaptive, 0);
    tg_decision_free(&d);
    d = decide(a, TG_THINK_BALANCED, plain);
    TG_CHECK_EQ_I(d.budget.adaptive, 0);
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 4000);
    tg_decision_free(&d);
    /* no table (tokgate check): the catalogue */
    d = decide(NULL, TG_THINK_ADAPTIVE, plain);
    TG_CHECK_EQ_U(d.budget.thinking_tokens, 4000);
    tg_decision_free(&d);
    TG_CHECK_EQ_I(tg_thinking_mode_parse("adaptive"), TG_THINK_ADAPTIVE);
    TG_CHECK_STR(tg_thinking_mode_name(TG_THINK_ADAPTIVE), "adaptive");
    tg_adaptive_free(a);
}

static void tmp_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "/tmp/tg_adaptive_%ld_%s", (long)getpid(), name);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void test_state_roundtrip(void) {
    char path[256];
    tmp_path(path, sizeof path, "state.json");
    tg_adaptive *a = tg_adaptive_new(NULL);
    tg_adaptive_class hi = {2, 1, 3};
    for (uint32_t i = 1; i <= 30; i++) {
        tg_adaptive_record(a, "qwen3", PLAIN, i * 100u, 0, 0, 0);
        tg_adaptive_record(a, "glm", hi, i * 10u, 0, 0, 0);
    }
    tg_error err;
    TG_CHECK_EQ_I(tg_adaptive_save(a, path, &err), TG_OK);
    tg_adaptive *b = tg_adaptive_new(NULL);
    TG_CHECK_EQ_I(tg_adaptive_load(b, path, &err), TG_OK);
    TG_CHECK_EQ_U(tg_adaptive_lookup(b, "qwen3", PLAIN, 0, 0, 0).budget, 2700);
    TG_CHECK_EQ_U(tg_adaptive_lookup(b, "glm", hi, 0, 0, 0).budget, 270);
    TG_CHECK_EQ_U(tg_adaptive_lookup(b, "glm", hi, 0, 0, 0).samples, 30);
    /* the file is the documented format; the temp file is gone */
    json_t *o = json_load_file(path, 0, NULL);
    TG_CHECK_STR(json_string_value(json_object_get(o, "format")), "tokgate-adaptive");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(o, "version")), 1);
    TG_CHECK_EQ_U(json_array_size(json_object_get(json_object_get(json_object_get(o, "models"), "glm"),
                                                  "4k-16k/code/high")), 30);
    json_decref(o);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    TG_CHECK(access(tmp, F_OK) != 0);
    /* a missing file is TG_ENOTFOUND */
    unlink(path);
    TG_CHECK_EQ_I(tg_adaptive_load(b, path, &err), TG_ENOTFOUND);
    TG_CHECK_EQ_I(tg_adaptive_lookup(b, "qwen3", PLAIN, 7, 0, 0).from_samples, 0);
    /* a folder that does not exist: an error naming the path */
    TG_CHECK_EQ_I(tg_adaptive_save(a, "/nonexistent-dir/x.json", &err), TG_EIO);
    TG_CHECK_CONTAINS(err.msg, "/nonexistent-dir/x.json.tmp");
    tg_adaptive_free(a);
    tg_adaptive_free(b);
}

static void test_state_corrupt(void) {
    static const struct { const char *text, *says; } rows[] = {
        {"not json", "not JSON"},
        {"[1,2]", "not a JSON object"},
        {"{\"format\":\"other\",\"version\":1,\"models\":{}}", "\"format\""},
        {"{\"format\":\"tokgate-adaptive\",\"version\":2,\"models\":{}}", "version 2"},
        {"{\"format\":\"tokgate-adaptive\",\"version\":1,\"models\":[]}", "\"models\""},
        {"{\"format\":\"tokgate-adaptive\",\"version\":1,\"models\":{\"m\":{\"lt1k/plain/huge\":[1]}}}",
         "unknown class"},
        {"{\"format\":\"tokgate-adaptive\",\"version\":1,\"models\":{\"m\":{\"lt1k/plain/none\":[1,-5]}}}",
         "sample 1 is not an integer"},
        {"{\"format\":\"tokgate-adaptive\",\"version\":1,\"models\":{\"m\":{\"lt1k/plain/none\":\"x\"}}}",
         "not an array"},
        {"{\"format\":\"tokgate-adaptive\",\"version\":1,\"version\":1,\"models\":{}}", "not JSON"},
    };
    char path[256];
    tmp_path(path, sizeof path, "corrupt.json");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_adaptive *a = tg_adaptive_new(NULL);
        for (int k = 0; k < 25; k++) tg_adaptive_record(a, "m", PLAIN, 50, 0, 0, 0);
        write_file(path, rows[i].text);
        tg_error err;
        memset(&err, 0, sizeof err);
        tg_status st = tg_adaptive_load(a, path, &err);
        TG_CHECK(st == TG_ECORRUPT || st == TG_ELIMIT);
        TG_CHECK_CONTAINS(err.msg, path);
        TG_CHECK_CONTAINS(err.msg, rows[i].says);
        TG_CHECK_EQ_U(tg_adaptive_lookup(a, "m", PLAIN, 0, 0, 0).samples, 0); /* left empty */
        tg_adaptive_free(a);
    }
    unlink(path);
}

static void *hammer(void *ud) {
    tg_adaptive *a = ud;
    for (uint32_t i = 0; i < 2000; i++) {
        tg_adaptive_class c = tg_adaptive_class_at(i % TG_ADAPTIVE_CLASSES);
        tg_adaptive_record(a, i % 2 ? "a" : "b", c, i, 0, 0, 0);
        (void)tg_adaptive_lookup(a, "a", c, 10, 0, 0);
    }
    return NULL;
}

static void test_threads(void) {
    tg_adaptive *a = tg_adaptive_new(NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, a);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    uint32_t total = 0;
    for (size_t c = 0; c < TG_ADAPTIVE_CLASSES; c++)
        total += tg_adaptive_lookup(a, "a", tg_adaptive_class_at(c), 0, 0, 0).samples;
    TG_CHECK_EQ_U(total, 4 * 1000); /* 200 in each odd class, under the window */
    tg_adaptive_free(a);
}

int main(void) {
    TG_RUN(test_quantile_wikipedia);
    TG_RUN(test_quantile_reference);
    TG_RUN(test_table);
    TG_RUN(test_classify);
    TG_RUN(test_policy);
    TG_RUN(test_state_roundtrip);
    TG_RUN(test_state_corrupt);
    TG_RUN(test_threads);
    return tg_test_summary();
}
