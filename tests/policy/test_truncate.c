/* test_truncate.c: truncation only when asked; drop_oldest_turns for chats
 * (system messages and the last user message always stay, whole turns go,
 * a tool call never loses its results, refusal when the mandatory part does
 * not fit) and keep_recent for raw prompts (Oxide-Lab's ContextSlice: the
 * newest tokens stay). The expected kept/dropped sets are worked out from the
 * rule by hand in each row's comment. */
#include "chat_msgs.h"
#include "policy_fixture.h"

typedef struct tcase {
    const char *messages;       /* the JSON array */
    uint64_t items[12];
    size_t n;
    uint64_t fixed;
    uint64_t input;             /* the budget (context = input + 1000) */
    size_t dropped[12];         /* expected dropped indices */
    size_t n_dropped;           /* SIZE_MAX: refused */
} tcase;

static void run_chat(const tcase *t, size_t row) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_DROP_OLDEST_TURNS;
    char json[2048];
    snprintf(json, sizeof json, "{\"messages\":%s}", t->messages);
    uint64_t total = t->fixed;
    for (size_t i = 0; i < t->n; i++) total += t->items[i];
    pcase c;
    fx_run_items(&c, &s, fx_limits(t->input + 1000, 1000), json, total, t->fixed, t->items, 0, 0,
                 NULL);
    TG_CHECK_EQ_I(c.st, TG_OK);
    if (t->n_dropped == SIZE_MAX) {
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
        TG_CHECK_STR(fx_err_str(&c, "code"), "context_length_exceeded");
        TG_CHECK_CONTAINS(fx_err_str(&c, "message"), "Truncation cannot help");
        fx_free(&c);
        return;
    }
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    TG_CHECK(c.d.truncation.applied);
    TG_CHECK_EQ_I(c.d.truncation.mode, TG_TRUNC_DROP_OLDEST_TURNS);
    TG_CHECK_EQ_U(c.d.truncation.n_dropped_messages, t->n_dropped);
    uint64_t dropped_tokens = 0;
    for (size_t i = 0; i < t->n_dropped && i < c.d.truncation.n_dropped_messages; i++) {
        TG_CHECK_EQ_U(c.d.truncation.dropped_messages[i], t->dropped[i]);
        dropped_tokens += t->items[t->dropped[i]];
    }
    TG_CHECK_EQ_U(c.d.truncation.dropped_tokens, dropped_tokens);
    TG_CHECK_EQ_U(c.d.budget.prompt_tokens, total - dropped_tokens);
    TG_CHECK(c.d.budget.prompt_tokens <= t->input);
    TG_CHECK_EQ_U(c.d.truncation.prompt_tokens_before, total);
    /* the forwarded messages are the originals minus the dropped ones */
    TG_CHECK_EQ_U(json_array_size(json_object_get(c.d.request, "messages")), t->n - t->n_dropped);
    /* no tool result is left without the call before it */
    const json_t *msgs = json_object_get(c.d.request, "messages");
    for (size_t i = 0; i < json_array_size(msgs); i++) {
        const char *role = json_string_value(json_object_get(json_array_get(msgs, i), "role"));
        if (strcmp(role, "tool") != 0) continue;
        TG_CHECK(i > 0);
        const json_t *prev = json_array_get(msgs, i - 1);
        const char *pr = json_string_value(json_object_get(prev, "role"));
        TG_CHECK(strcmp(pr, "tool") == 0 || json_object_get(prev, "tool_calls") != NULL);
    }
    if (c.d.truncation.n_dropped_messages != t->n_dropped) fprintf(stderr, "  row %zu\n", row);
    fx_free(&c);
}

static void test_drop_oldest_turns(void) {
    static const tcase rows[] = {
        /* sys 100, turns (u1 a1)=2000 (u2 a2)=2000, last user 500, fixed 3:
         * mandatory 603, left 2397: keep (u2 a2), drop (u1 a1). */
        {"[" S("s") "," U("1") "," A("1") "," U("2") "," A("2") "," U("3") "]",
         {100, 1000, 1000, 1000, 1000, 500}, 6, 3, 3000, {1, 2}, 2},
        /* budget 2603 exactly fits the same: still drops (u1 a1) only */
        {"[" S("s") "," U("1") "," A("1") "," U("2") "," A("2") "," U("3") "]",
         {100, 1000, 1000, 1000, 1000, 500}, 6, 3, 2603, {1, 2}, 2},
        /* budget 2602: (u2 a2) no longer fits either: both turns go */
        {"[" S("s") "," U("1") "," A("1") "," U("2") "," A("2") "," U("3") "]",
         {100, 1000, 1000, 1000, 1000, 500}, 6, 3, 2602, {1, 2, 3, 4}, 4},
        /* no gaps: the small old turn (10) is not kept past a dropped big one */
        {"[" U("1") "," A("1") "," U("2") "," A("2") "," U("3") "]",
         {5, 5, 3000, 3000, 100}, 5, 0, 1000, {0, 1, 2, 3}, 4},
        /* system messages anywhere stay (a second system message mid-chat) */
        {"[" S("a") "," U("1") "," S("b") "," A("1") "," U("2") "]",
         {10, 500, 10, 500, 10}, 5, 0, 100, {1, 3}, 2},
        /* after the last user message: tool-call groups go oldest first,
         * each call with its result. mandatory 10+100+3=113, budget 800:
         * left 687, keep g2 (60) and g1 (550), drop g0 = [2,3]. */
        {"[" S("s") "," U("q") "," TC("a") "," TR("a") "," TC("b") "," TR("b") "," TC("c") "," TR("c") "]",
         {10, 100, 50, 500, 50, 500, 50, 10}, 8, 3, 800, {2, 3}, 2},
        /* a call with two results: one unit of 3 messages */
        {"[" U("q") "," TC("a") "," TR("a") "," TR("a2") "," A("done") "]",
         {100, 10, 400, 400, 10}, 5, 0, 500, {1, 2, 3}, 3},
        /* the legacy "function" role is a tool result too */
        {"[" U("q") "," TC("a") ",{\"role\":\"function\",\"name\":\"f\",\"content\":\"r\"}," A("x") "]",
         {100, 10, 400, 10}, 4, 0, 200, {1, 2}, 2},
        /* tool calls inside an older turn go with their turn */
        {"[" U("1") "," TC("a") "," TR("a") "," A("1") "," U("2") "]",
         {100, 100, 100, 100, 100}, 5, 0, 150, {0, 1, 2, 3}, 4},
        /* the system messages and the last user message alone do not fit: refuse */
        {"[" S("s") "," U("1") "," A("1") "," U("2") "]",
         {600, 10, 10, 600}, 4, 0, 1000, {0}, SIZE_MAX},
        /* the last user message alone is over the budget: refuse */
        {"[" U("1") "," U("2") "]", {10, 2000}, 2, 0, 1000, {0}, SIZE_MAX},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) run_chat(&rows[i], i);
}

/* Truncation happens only when asked: by the model setting or the request. */
static void test_only_when_asked(void) {
    static const struct { tg_truncation_mode setting; const char *field; int truncated; } rows[] = {
        {TG_TRUNC_NONE, "", 0},
        {TG_TRUNC_NONE, ",\"truncation\":\"auto\"", 1},
        {TG_TRUNC_DROP_OLDEST_TURNS, "", 1},
        {TG_TRUNC_DROP_OLDEST_TURNS, ",\"truncation\":\"disabled\"", 0},
        {TG_TRUNC_KEEP_RECENT, "", 1}, /* a chat is cut by turns whatever the setting */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.truncation = rows[i].setting;
        char json[256];
        snprintf(json, sizeof json, "{\"messages\":[" U("1") "," A("1") "," U("2") "]%s}",
                 rows[i].field);
        uint64_t items[3] = {600, 600, 100};
        pcase c;
        fx_run_items(&c, &s, fx_limits(2000, 1000), json, 1300, 0, items, 0, 0, NULL);
        TG_CHECK_EQ_I(c.d.action, rows[i].truncated ? TG_ACTION_TRUNCATE : TG_ACTION_REJECT);
        if (rows[i].truncated) {
            TG_CHECK_EQ_U(c.d.truncation.n_dropped_messages, 2);
            /* tokgate handled it: the field does not go upstream */
            TG_CHECK(json_object_get(c.d.request, "truncation") == NULL);
        }
        fx_free(&c);
    }
}

/* An exact recount after dropping: when it is still over, one more unit goes. */
static tg_status recount_plus(void *user, const json_t *req, uint64_t *tokens, int *exact,
                              tg_error *err) {
    (void)err;
    uint64_t per = *(const uint64_t *)user;
    *tokens = per * json_array_size(json_object_get(req, "messages"));
    *exact = 1;
    return TG_OK;
}

static void test_recount(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_DROP_OLDEST_TURNS;
    /* estimates say 100 per message; the exact count says 150 per message.
     * budget 350: estimate keeps 3 messages (300) but exactly that is 450,
     * so one more turn goes: 1 message left... the last user message (150). */
    uint64_t per = 150;
    tg_policy_hooks hooks = {NULL, recount_plus, &per};
    uint64_t items[5] = {100, 100, 100, 100, 100};
    pcase c;
    fx_run_items(&c, &s, fx_limits(1350, 1000),
                 "{\"messages\":[" U("1") "," A("1") "," U("2") "," A("2") "," U("3") "]}", 500, 0,
                 items, 0, 0, &hooks);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    TG_CHECK_EQ_U(c.d.truncation.n_dropped_messages, 4);
    TG_CHECK_EQ_U(c.d.budget.prompt_tokens, 150);
    TG_CHECK(c.d.budget.prompt_tokens_exact);
    fx_free(&c);
}

/* keep_recent on token ids: the newest ids, exactly. */
static void test_keep_recent_ids(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_KEEP_RECENT;
    char json[1024] = "{\"prompt\":[";
    for (int i = 1; i <= 100; i++) {
        char num[8];
        snprintf(num, sizeof num, "%d%s", i, i < 100 ? "," : "]}");
        strcat(json, num);
    }
    pcase c;
    fx_run_items(&c, &s, fx_limits(100, 40), json, 100, 0, NULL, 1, 0, NULL);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    const json_t *p = json_object_get(c.d.request, "prompt");
    TG_CHECK_EQ_U(json_array_size(p), 60);
    TG_CHECK_EQ_I(json_integer_value(json_array_get(p, 0)), 41);
    TG_CHECK_EQ_I(json_integer_value(json_array_get(p, 59)), 100);
    TG_CHECK_EQ_U(c.d.budget.prompt_tokens, 60);
    TG_CHECK_EQ_U(c.d.truncation.dropped_tokens, 40);
    TG_CHECK(c.d.budget.prompt_tokens_exact);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 40); /* the 8000 default clamped to 100 - 60 */
    fx_free(&c);
}

/* keep_recent without a tokenizer: the estimator keeps the last 4N bytes, cut
 * on a UTF-8 boundary; with a hook, the hook's cut. */
static tg_status keep_last_chars(void *user, const char *text, size_t len, uint64_t n, char **out,
                                 size_t *out_len, uint64_t *out_tokens, tg_error *err) {
    (void)user;
    (void)err;
    size_t keep = n < len ? (size_t)n : len; /* one token per byte */
    *out = malloc(keep + 1);
    if (!*out) return TG_ENOMEM;
    memcpy(*out, text + len - keep, keep);
    (*out)[keep] = '\0';
    *out_len = keep;
    *out_tokens = keep;
    return TG_OK;
}

static void test_keep_recent_text(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_KEEP_RECENT;
    /* 100 x "é" (200 bytes, 50 estimated tokens); budget 21 tokens: the last
     * 84 bytes start on a character boundary (even offset 116) */
    char json[512] = "{\"prompt\":\"";
    for (int i = 0; i < 100; i++) strcat(json, "\xc3\xa9");
    strcat(json, "\"}");
    pcase c;
    fx_run_items(&c, &s, fx_limits(121, 100), json, 50, 0, NULL, 0, 0, NULL);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    const json_t *p = json_object_get(c.d.request, "prompt");
    TG_CHECK_EQ_U(json_string_length(p), 84);
    TG_CHECK((unsigned char)json_string_value(p)[0] == 0xc3);
    TG_CHECK_EQ_U(c.d.budget.prompt_tokens, 21);
    TG_CHECK(!c.d.budget.prompt_tokens_exact);
    fx_free(&c);
    /* odd budget: 4 x 5 = 20 bytes from an odd offset? 200 - 20 = 180, even;
     * use "aé" pairs to force a continuation byte at the cut */
    strcpy(json, "{\"prompt\":\"");
    for (int i = 0; i < 60; i++) strcat(json, "a\xc3\xa9");
    strcat(json, "\"}");
    /* 180 bytes; budget 10 tokens -> 40 bytes from offset 140 = 140 % 3 == 2,
     * a continuation byte: the cut moves to offset 141 (39 bytes) */
    fx_run_items(&c, &s, fx_limits(110, 100), json, 45, 0, NULL, 0, 0, NULL);
    p = json_object_get(c.d.request, "prompt");
    TG_CHECK_EQ_U(json_string_length(p), 39);
    TG_CHECK(json_string_value(p)[0] == 'a');
    fx_free(&c);
    /* with a tokenizer hook (one token per byte) the count is the hook's */
    tg_policy_hooks hooks = {keep_last_chars, NULL, NULL};
    fx_run_items(&c, &s, fx_limits(110, 100), "{\"prompt\":\"0123456789abcdef\"}", 16, 0, NULL, 1,
                 0, &hooks);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    TG_CHECK_STR(json_string_value(json_object_get(c.d.request, "prompt")), "6789abcdef");
    TG_CHECK_EQ_U(c.d.budget.prompt_tokens, 10);
    TG_CHECK(c.d.budget.prompt_tokens_exact);
    fx_free(&c);
}

/* A batch: only the prompts over the budget are cut. */
static void test_keep_recent_batch(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_KEEP_RECENT;
    uint64_t items[2] = {2, 10};
    pcase c;
    fx_run_items(&c, &s, fx_limits(105, 100), "{\"prompt\":[\"short\",[1,2,3,4,5,6,7,8,9,10]]}",
                 10, 0, items, 0, 0, NULL);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_TRUNCATE);
    const json_t *p = json_object_get(c.d.request, "prompt");
    TG_CHECK_STR(json_string_value(json_array_get(p, 0)), "short");
    TG_CHECK_EQ_U(json_array_size(json_array_get(p, 1)), 5);
    TG_CHECK_EQ_U(c.d.budget.prompt_tokens, 5);
    fx_free(&c);
}

/* tg_keep_last_counted: with a code-point counter (one token per character)
 * the answer is exactly the last N characters; the cut never splits one. */
static tg_status count_codepoints(void *user, const char *text, size_t len, uint64_t *tokens,
                                  tg_error *err) {
    (void)user;
    (void)err;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)text[i] & 0xC0) != 0x80;
    *tokens = n;
    return TG_OK;
}

static void test_keep_last_counted(void) {
    static const struct { const char *text; uint64_t n; } rows[] = {
        {"0123456789abcdef", 10},
        {"0123456789abcdef", 16},
        {"0123456789abcdef", 99},
        {"0123456789abcdef", 0},
        {"h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac\xf0\x9f\x98\x80!", 5},
        {"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 2},
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80x", 2},
    };
    tg_counter counter = {count_codepoints, NULL};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *out = NULL;
        size_t out_len = 0;
        uint64_t tokens = 99;
        const char *text = rows[i].text;
        TG_CHECK_EQ_I(tg_keep_last_counted(&counter, text, strlen(text), rows[i].n, &out, &out_len,
                                           &tokens, NULL), TG_OK);
        /* expected: the last n code points, computed here by walking back */
        size_t start = strlen(text);
        uint64_t seen = 0;
        while (start > 0 && seen < rows[i].n) {
            start--;
            if (((unsigned char)text[start] & 0xC0) != 0x80) seen++;
        }
        TG_CHECK_STR(out, text + start);
        TG_CHECK_EQ_U(out_len, strlen(text + start));
        TG_CHECK_EQ_U(tokens, seen);
        free(out);
    }
    /* the byte-estimator as counter never exceeds the budget either */
    tg_counter est = {tg_estimate_count, NULL};
    char *out = NULL;
    size_t out_len = 0;
    uint64_t tokens = 0;
    const char *t = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
    TG_CHECK_EQ_I(tg_keep_last_counted(&est, t, strlen(t), 2, &out, &out_len, &tokens, NULL), TG_OK);
    TG_CHECK(tokens <= 2 && out_len == 8 && (unsigned char)out[0] == 0xc3);
    free(out);
}

int main(void) {
    TG_RUN(test_keep_last_counted);
    TG_RUN(test_drop_oldest_turns);
    TG_RUN(test_only_when_asked);
    TG_RUN(test_recount);
    TG_RUN(test_keep_recent_ids);
    TG_RUN(test_keep_recent_text);
    TG_RUN(test_keep_recent_batch);
    return tg_test_summary();
}
