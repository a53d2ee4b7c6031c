/* test_summarize.c: truncation mode summarize, the library's half (issue 18
 * item 1, docs/policy.md): which messages the summary replaces (the turns
 * drop_oldest_turns drops once summary_max_tokens + TG_SUMMARY_OVERHEAD more
 * are kept free; never a tool call without its result), the fallback the
 * decision carries (drop_oldest_turns at the full cap), when the mode
 * applies, and the helpers around the summary call: the transcript, the
 * call's body, the prefix key, the answer reader and the compacted chat.
 * Every expected set is worked out from the rules by hand in its comment. */
#include "chat_msgs.h"
#include "policy_fixture.h"

#define CHAT6 "[" S("s") "," U("1") "," A("1") "," U("2") "," A("2") "," U("3") "]"
#define TOOLS "[" S("s") "," U("q") "," TC("a") "," TR("a") "," TC("b") "," TR("b") "," TC("c") "," TR("c") "]"

typedef struct scase {
    const char *messages;
    uint64_t items[10];
    uint64_t fixed;
    uint64_t input;            /* the cap (context = input + 1000, no client max_tokens) */
    uint64_t summary_max;
    size_t fallback[8];        /* drop_oldest_turns' dropped indices */
    size_t n_fallback;
    size_t summary[8];         /* the summary's messages */
    size_t n_summary;          /* 0: no room for a summary */
    size_t turns;
    uint64_t tokens;
    size_t n_min;              /* the fewest that must go */
    size_t ends[4];            /* turn ends among the summary's messages */
    uint64_t context;          /* 0: input + 1000 */
} scase;

static void run_plan(const scase *t, size_t row) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_SUMMARIZE;
    s.summary_max_tokens = t->summary_max;
    char json[2048];
    snprintf(json, sizeof json, "{\"messages\":%s}", t->messages);
    size_t n = 0;
    uint64_t total = t->fixed;
    while (t->items[n]) total += t->items[n++];
    pcase c;
    uint64_t ctx = t->context ? t->context : t->input + 1000;
    fx_run_items(&c, &s, fx_limits(ctx, ctx - t->input), json, total, t->fixed, t->items, 0, 0, NULL);
    TG_CHECK_EQ_I(c.st, TG_OK);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    const tg_truncation_report *r = &c.d.truncation;
    TG_CHECK(r->summarize);
    TG_CHECK_EQ_I(r->mode, TG_TRUNC_SUMMARIZE);
    TG_CHECK_EQ_U(r->summary_cap, t->input);
    /* the fallback: drop_oldest_turns as it is without summarize */
    TG_CHECK_EQ_U(r->n_dropped_messages, t->n_fallback);
    for (size_t i = 0; i < t->n_fallback && i < r->n_dropped_messages; i++)
        TG_CHECK_EQ_U(r->dropped_messages[i], t->fallback[i]);
    TG_CHECK_EQ_U(json_array_size(json_object_get(c.d.request, "messages")), n - t->n_fallback);
    /* the summary's messages */
    TG_CHECK_EQ_U(r->n_summary_messages, t->n_summary);
    for (size_t i = 0; i < t->n_summary && i < r->n_summary_messages; i++)
        TG_CHECK_EQ_U(r->summary_messages[i], t->summary[i]);
    TG_CHECK_EQ_U(r->n_summary_turns, t->turns);
    TG_CHECK_EQ_U(r->summary_tokens, t->tokens);
    TG_CHECK_EQ_U(r->n_summary_min, t->n_min);
    TG_CHECK_EQ_U(r->n_summary_ends, t->turns);
    for (size_t i = 0; i < t->turns && i < r->n_summary_ends; i++) TG_CHECK_EQ_U(r->summary_ends[i], t->ends[i]);
    if (t->turns) TG_CHECK_EQ_U(r->summary_end_tokens[t->turns - 1], t->tokens);
    /* the decision's JSON says it */
    json_t *dj = tg_decision_to_json(&c.d);
    const json_t *sj = json_object_get(json_object_get(json_object_get(dj, "budget"), "truncation"), "summary");
    TG_CHECK_EQ_U(json_array_size(json_object_get(sj, "messages")), t->n_summary);
    TG_CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(dj, "budget"), "truncation"),
                                                   "mode")), "summarize");
    json_decref(dj);
    if (r->n_summary_messages != t->n_summary || r->n_dropped_messages != t->n_fallback)
        fprintf(stderr, "  row %zu\n", row);
    fx_free(&c);
}

static void test_plan(void) {
    static const scase rows[] = {
        /* sys 100, (u1 a1) 2000, (u2 a2) 2000, last user 500, fixed 3: what always
         * stays is 603. cap 3000: drop_oldest_turns keeps (u2 a2) (603 + 2000 <= 3000)
         * and drops (u1 a1). With 100 + 32 kept free the room is 2868: (u2 a2) still
         * fits (2603), so (u1 a1) must go (n_min 2); a quarter of the room kept for
         * growth leaves 2868 - 717 = 2151, which (u2 a2) does not fit, so with room
         * for growth both turns would go: but a summary call of 4000 + 100 + 256
         * tokens does not fit the context of 4000: (u1 a1) alone, 2000 tokens. */
        {CHAT6, {100, 1000, 1000, 1000, 1000, 500}, 3, 3000, 100, {1, 2}, 2, {1, 2}, 2, 1, 2000, 2, {2}, 0},
        /* the same on a context of 10000 (cap 3000 still: an output reserve of
         * 7000): the call fits, both turns go, ends 2 and 4, 2 must. */
        {CHAT6, {100, 1000, 1000, 1000, 1000, 500}, 3, 3000, 100, {1, 2}, 2, {1, 2, 3, 4}, 4, 2, 4000, 2, {2, 4},
         10000},
        /* cap 2700: the fallback still keeps (u2 a2) (2603 <= 2700), but 2700 - 132 =
         * 2568 does not hold it: both turns must go (n_min 4). */
        {CHAT6, {100, 1000, 1000, 1000, 1000, 500}, 3, 2700, 100, {1, 2}, 2, {1, 2, 3, 4}, 4, 2, 4000, 4, {2, 4}, 0},
        /* summary_max_tokens 3000: 3032 kept free is over the cap: no room for a
         * summary; the fallback stands. */
        {CHAT6, {100, 1000, 1000, 1000, 1000, 500}, 3, 3000, 3000, {1, 2}, 2, {0}, 0, 0, 0, 0, {0}, 0},
        /* summary_max 2300: 2332 kept free leaves 668 of the cap of 3000; what
         * always stays (603) fits, (u2 a2) does not: both turns go. The growth
         * room (668 - 167 = 501) is under what always stays: not used. */
        {CHAT6, {100, 1000, 1000, 1000, 1000, 500}, 3, 3000, 2300, {1, 2}, 2, {1, 2, 3, 4}, 4, 2, 4000, 4, {2, 4}, 0},
        /* after the last user message tool-call groups are the units, each call with
         * its result. Always stays: 10 + 100 + 3 = 113. cap 800: the fallback keeps
         * g2 (60) and g1 (550), drops g0 [2,3]. With 68 + 32 free: 700 - 113 = 587:
         * g2 (60) fits, g1 (550) not: g0 and g1 must go, [2..5], 1100; with growth
         * room (525 - 113 = 412) the same. */
        {TOOLS, {10, 100, 50, 500, 50, 500, 50, 10}, 3, 800, 68, {2, 3}, 2, {2, 3, 4, 5}, 4, 2, 1100, 4, {2, 4}, 0},
        /* a tool call inside an older turn goes with its turn: (u1 tc tr a1) is one
         * unit of 4 messages; always stays 100 (u2). cap 450: the fallback drops
         * the 400-token turn; the summary (10 + 32 free, room 408) the same. */
        {"[" U("1") "," TC("a") "," TR("a") "," A("1") "," U("2") "]", {100, 100, 100, 100, 100}, 0, 450, 10,
         {0, 1, 2, 3}, 4, {0, 1, 2, 3}, 4, 1, 400, 4, {4}, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) run_plan(&rows[i], i);
}

/* The mode: the model's setting, or the request's "truncation": "summarize";
 * "disabled" still refuses; a raw prompt is cut by keep_recent. */
static void test_mode(void) {
    static const struct {
        tg_truncation_mode setting;
        const char *field;
        tg_action action;
        int summarize;
    } rows[] = {
        {TG_TRUNC_NONE, ",\"truncation\":\"summarize\"", TG_ACTION_TRUNCATE, 1},
        {TG_TRUNC_DROP_OLDEST_TURNS, ",\"truncation\":\"summarize\"", TG_ACTION_TRUNCATE, 1},
        {TG_TRUNC_SUMMARIZE, "", TG_ACTION_TRUNCATE, 1},
        {TG_TRUNC_SUMMARIZE, ",\"truncation\":\"auto\"", TG_ACTION_TRUNCATE, 1},
        {TG_TRUNC_SUMMARIZE, ",\"truncation\":\"disabled\"", TG_ACTION_REJECT, 0},
        {TG_TRUNC_NONE, ",\"truncation\":\"auto\"", TG_ACTION_TRUNCATE, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.truncation = rows[i].setting;
        s.summary_max_tokens = 10;
        char json[256];
        snprintf(json, sizeof json, "{\"messages\":[" U("1") "," A("1") "," U("2") "]%s}", rows[i].field);
        uint64_t items[3] = {600, 600, 100};
        pcase c;
        fx_run_items(&c, &s, fx_limits(2000, 1000), json, 1300, 0, items, 0, 0, NULL);
        TG_CHECK_EQ_I(c.d.action, rows[i].action);
        TG_CHECK_EQ_I(c.d.truncation.summarize, rows[i].summarize);
        /* (u1 a1) goes: 100 + 42 free fits the cap of 1000 */
        if (rows[i].summarize) TG_CHECK_EQ_U(c.d.truncation.n_summary_messages, 2);
        if (rows[i].action == TG_ACTION_TRUNCATE) TG_CHECK(json_object_get(c.d.request, "truncation") == NULL);
        fx_free(&c);
    }
    /* a raw prompt: keep_recent, no summary */
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_SUMMARIZE;
    pcase c;
    fx_run_items(&c, &s, fx_limits(100, 40), "{\"prompt\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"
                 "21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,"
                 "52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70]}", 70, 0, NULL, 1, 0, NULL);
    TG_CHECK_EQ_I(c.d.truncation.mode, TG_TRUNC_KEEP_RECENT);
    TG_CHECK(!c.d.truncation.summarize);
    TG_CHECK_EQ_U(json_array_size(json_object_get(c.d.request, "prompt")), 60);
    fx_free(&c);
    /* the names */
    TG_CHECK_EQ_I(tg_truncation_mode_parse("summarize"), TG_TRUNC_SUMMARIZE);
    TG_CHECK_STR(tg_truncation_mode_name(TG_TRUNC_SUMMARIZE), "summarize");
    tg_request r;
    tg_error e;
    const char *bad = "{\"messages\":[" U("1") "],\"truncation\":\"shorten\"}";
    TG_CHECK_EQ_I(tg_request_parse(bad, strlen(bad), &r, &e), TG_OK);
    TG_CHECK_CONTAINS(r.bad_message, "\"summarize\"");
    tg_request_free(&r);
}

static json_t *load(const char *s) {
    json_error_t je;
    json_t *j = json_loads(s, 0, &je);
    TG_CHECK(j != NULL);
    return j;
}

/* The transcript and the summary call's body. */
static void test_request(void) {
    json_t *req = load("{\"model\":\"m\",\"messages\":[" S("s") "," U("hello") "," TC("a") "," TR("a") ","
                       "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"x\"},"
                       "{\"type\":\"text\",\"text\":\"y\"}]}," U("last") "]}");
    size_t msgs[] = {1, 2, 3, 4};
    char *t = tg_summary_transcript(req, msgs, 4);
    TG_CHECK_STR(t, "user: hello\n\nassistant called f({})\n\ntool result: r\n\nassistant: x\ny\n\n");
    json_t *b = tg_summary_request(req, msgs, 4, NULL, 77);
    TG_CHECK_STR(json_string_value(json_object_get(b, "model")), "m");
    const json_t *ms = json_object_get(b, "messages");
    TG_CHECK_EQ_U(json_array_size(ms), 2);
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 0), "role")), "system");
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 0), "content")), tg_summary_default_prompt());
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 1), "role")), "user");
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 1), "content")), t);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(b, "max_tokens")), 77);
    TG_CHECK(json_is_false(json_object_get(b, "stream")));
    json_decref(b);
    b = tg_summary_request(req, msgs, 4, "Be brief.", 5);
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(b, "messages"), 0), "content")),
                 "Be brief.");
    json_decref(b);
    free(t);
    json_decref(req);
}

/* The key: the exact prefix replaced, the model, the prompt, max_tokens. */
static void test_key(void) {
    json_t *a = load("{\"model\":\"m\",\"messages\":[" S("s") "," U("1") "," A("1") "," U("2") "]}");
    json_t *b = load("{\"model\":\"m\",\"messages\":[" S("s") "," U("1") "," A("1") "," U("other") "]}");
    json_t *c = load("{\"model\":\"m\",\"messages\":[" S("s") "," U("1") "," A("1 ") "," U("2") "]}");
    json_t *d = load("{\"model\":\"n\",\"messages\":[" S("s") "," U("1") "," A("1") "," U("2") "]}");
    size_t m[] = {1, 2};
    tg_summary_key ka = tg_summary_key_of(a, m, 2, NULL, 10);
    tg_summary_key kb = tg_summary_key_of(b, m, 2, NULL, 10);
    tg_summary_key kc = tg_summary_key_of(c, m, 2, NULL, 10);
    tg_summary_key kd = tg_summary_key_of(d, m, 2, NULL, 10);
    tg_summary_key kp = tg_summary_key_of(a, m, 2, "other prompt", 10);
    tg_summary_key kt = tg_summary_key_of(a, m, 2, NULL, 11);
    tg_summary_key k1 = tg_summary_key_of(a, m, 1, NULL, 10);
#define SAME(x, y) ((x).h[0] == (y).h[0] && (x).h[1] == (y).h[1])
    /* the keys of several prefixes at once are the keys of each */
    size_t ends[] = {1, 2};
    tg_summary_key ks[2];
    tg_summary_keys(a, m, 2, NULL, 10, ends, 2, ks);
    TG_CHECK(SAME(ks[0], k1));
    TG_CHECK(SAME(ks[1], ka));
    TG_CHECK(SAME(ka, kb));  /* what follows the prefix does not matter */
    TG_CHECK(!SAME(ka, kc)); /* one byte of it does */
    TG_CHECK(!SAME(ka, kd));
    TG_CHECK(!SAME(ka, kp));
    TG_CHECK(!SAME(ka, kt));
    TG_CHECK(!SAME(ka, k1));
    TG_CHECK(ka.h[0] != ka.h[1]);
#undef SAME
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

/* The answer: OpenAI's chat completion shape. */
static void test_text(void) {
    static const struct {
        const char *answer;
        const char *want; /* NULL: refused */
    } rows[] = {
        {"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"  the gist\\n\"},"
         "\"finish_reason\":\"stop\"}]}", "the gist"},
        {"{\"choices\":[{\"message\":{\"content\":\"cut\"},\"finish_reason\":\"length\"}]}", "cut"},
        {"{\"choices\":[{\"message\":{\"content\":\" \\n \"},\"finish_reason\":\"stop\"}]}", NULL},
        {"{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[]},\"finish_reason\":\"tool_calls\"}]}",
         NULL},
        {"{\"choices\":[]}", NULL},
        {"{\"error\":{\"message\":\"no\"}}", NULL},
        {"not json", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_error e;
        memset(&e, 0, sizeof e);
        char *t = tg_summary_text(rows[i].answer, strlen(rows[i].answer), &e);
        if (rows[i].want) TG_CHECK_STR(t, rows[i].want);
        else TG_CHECK(t == NULL && e.msg[0]);
        free(t);
    }
}

/* The compacted chat: leading system messages, one summary, the rest as it was. */
static void test_compact(void) {
    json_t *req = load("{\"model\":\"m\",\"max_tokens\":5,\"messages\":" CHAT6 "}");
    const json_t *orig = json_object_get(req, "messages");
    size_t m[] = {1, 2};
    tg_error e;
    json_t *out = tg_summary_compact(req, m, 2, "T", NULL, NULL, NULL, &e);
    const json_t *ms = json_object_get(out, "messages");
    TG_CHECK_EQ_U(json_array_size(ms), 5);
    TG_CHECK(json_array_get(ms, 0) == json_array_get(orig, 0)); /* the same messages, untouched */
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 1), "role")), "system");
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(ms, 1), "content")),
                 "Summary of the earlier conversation:\nT");
    TG_CHECK(json_array_get(ms, 2) == json_array_get(orig, 3));
    TG_CHECK(json_array_get(ms, 3) == json_array_get(orig, 4));
    TG_CHECK(json_array_get(ms, 4) == json_array_get(orig, 5));
    TG_CHECK_EQ_I(json_integer_value(json_object_get(out, "max_tokens")), 5);
    TG_CHECK_EQ_U(json_array_size(orig), 6); /* the client's request is left as it was */
    json_decref(out);
    /* its count is the count of the chat written out by hand */
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_limits lim = fx_limits(4096, 1024);
    tg_budget_model bm = {&s, &lim, NULL, NULL, TG_CHAT_LLAMACPP, NULL, 0, NULL, 0};
    uint64_t tokens = 0;
    int exact = 1;
    out = tg_summary_compact(req, m, 2, "T", &bm, &tokens, &exact, &e);
    const char *want = "{\"model\":\"m\",\"max_tokens\":5,\"messages\":[" S("s") ","
                       "{\"role\":\"system\",\"content\":\"Summary of the earlier conversation:\\nT\"},"
                       U("2") "," A("2") "," U("3") "]}";
    tg_request r;
    TG_CHECK_EQ_I(tg_request_parse(want, strlen(want), &r, &e), TG_OK);
    tg_prompt_counts pc;
    tg_count_method how;
    TG_CHECK_EQ_I(tg_budget_count(&r, &bm, &pc, &how, NULL, 0, &e), TG_OK);
    TG_CHECK_EQ_U(tokens, pc.total);
    TG_CHECK(!exact); /* the estimator */
    tg_prompt_counts_free(&pc);
    tg_request_free(&r);
    json_decref(out);
    /* no leading system message: the summary comes first */
    json_t *r2 = load("{\"messages\":[" U("1") "," A("1") "," U("2") "]}");
    size_t first[] = {0, 1};
    out = tg_summary_compact(r2, first, 2, "T", NULL, NULL, NULL, &e);
    TG_CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(out, "messages"), 0), "role")),
                 "system");
    TG_CHECK_EQ_U(json_array_size(json_object_get(out, "messages")), 2);
    json_decref(out);
    json_decref(r2);
    /* a system message is never summarized; indices must be ascending and in range */
    size_t bad1[] = {0, 1}, bad2[] = {2, 1}, bad3[] = {9};
    TG_CHECK(tg_summary_compact(req, bad1, 2, "T", NULL, NULL, NULL, &e) == NULL);
    TG_CHECK(tg_summary_compact(req, bad2, 2, "T", NULL, NULL, NULL, &e) == NULL);
    TG_CHECK(tg_summary_compact(req, bad3, 1, "T", NULL, NULL, NULL, &e) == NULL);
    json_decref(req);
}

int main(void) {
    TG_RUN(test_plan);
    TG_RUN(test_mode);
    TG_RUN(test_request);
    TG_RUN(test_key);
    TG_RUN(test_text);
    TG_RUN(test_compact);
    return tg_test_summary();
}
