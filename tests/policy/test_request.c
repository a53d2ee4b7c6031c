/* test_request.c: request parsing (what is unusable input, with its reason),
 * and the counts supplied to the policy: the estimator ceil(bytes / 4) and
 * OpenAI cookbook's chat overhead (3 per message, 1 per name, 3 for the reply
 * priming). */
#include "policy_fixture.h"

static void test_unusable(void) {
    static const struct { const char *body, *needle; } rows[] = {
        {"not json", "not JSON"},
        {"", "not JSON"},
        {"[1,2]", "not a JSON object"},
        {"{}", "neither \"messages\" nor \"prompt\""},
        {"{\"messages\":null}", "neither"},
        {"{\"messages\":[]}", "empty"},
        {"{\"messages\":\"hi\"}", "must be an array"},
        {"{\"messages\":[1]}", "messages[0] is not an object"},
        {"{\"messages\":[{\"content\":\"x\"}]}", "messages[0] has no string \"role\""},
        {"{\"prompt\":[]}", "\"prompt\" must be"},
        {"{\"prompt\":5}", "\"prompt\" must be"},
        {"{\"prompt\":[1,\"a\"]}", "token ids"},
        {"{\"prompt\":[\"a\",{}]}", "prompt[1]"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]", "not JSON"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_request r;
        tg_error err;
        memset(&err, 0, sizeof err);
        TG_CHECK(tg_request_parse(rows[i].body, strlen(rows[i].body), &r, &err) != TG_OK);
        TG_CHECK_CONTAINS(err.msg, rows[i].needle);
        TG_CHECK(r.root == NULL);
    }
}

static void test_fields(void) {
    const char *body = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
                       "\"content\":\"x\"}],\"max_tokens\":10,\"max_completion_tokens\":20,"
                       "\"truncation\":\"auto\",\"reasoning_effort\":\"low\"}";
    tg_request r;
    TG_CHECK_EQ_I(tg_request_parse(body, strlen(body), &r, NULL), TG_OK);
    TG_CHECK_STR(r.model, "m");
    TG_CHECK(r.stream);
    TG_CHECK_EQ_I(r.kind, TG_REQ_CHAT);
    TG_CHECK_EQ_I(r.max_tokens, 20); /* max_completion_tokens wins, as in vLLM */
    TG_CHECK_STR(r.max_tokens_field, "max_completion_tokens");
    TG_CHECK_EQ_I(r.truncation, 1);
    TG_CHECK_EQ_I(r.thinking_mode, TG_THINK_CONSERVATIVE);
    TG_CHECK_STR(r.thinking_mode_from, "reasoning_effort");
    TG_CHECK(r.bad_param == NULL);
    tg_request_free(&r);
    /* An embedded NUL is valid JSON and kept (lengths are carried). */
    const char nul[] = "{\"prompt\":\"a\\u0000b\"}";
    TG_CHECK_EQ_I(tg_request_parse(nul, sizeof nul - 1, &r, NULL), TG_OK);
    TG_CHECK_EQ_I(r.kind, TG_REQ_COMPLETION);
    tg_request_free(&r);
}

static void test_estimator(void) {
    static const struct { const char *text; uint64_t want; } rows[] = {
        {"", 0}, {"a", 1}, {"abcd", 1}, {"abcde", 2}, {"abcdefgh", 2}, {"\xc3\xa9", 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t t = 99;
        TG_CHECK_EQ_I(tg_estimate_count(NULL, rows[i].text, strlen(rows[i].text), &t, NULL), TG_OK);
        TG_CHECK_EQ_U(t, rows[i].want);
    }
}

static void test_chat_counts(void) {
    /* user "abcd": 3 + role "user" (1) + "abcd" (1) = 5; named assistant
     * "hello" with a tool call: 3 + "assistant" (3) + "hello" (2) + 1 + "bob" (1)
     * + "f" (1) + "{\"a\":1}" (2) = 13; reply priming 3. */
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"abcd\"},"
                       "{\"role\":\"assistant\",\"name\":\"bob\",\"content\":[{\"type\":\"text\","
                       "\"text\":\"hello\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}],"
                       "\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":"
                       "\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]}]}";
    tg_request r;
    TG_CHECK_EQ_I(tg_request_parse(body, strlen(body), &r, NULL), TG_OK);
    tg_prompt_counts c;
    TG_CHECK_EQ_I(tg_request_count(&r, tg_estimate_count, NULL, 1, &c, NULL), TG_OK);
    TG_CHECK_EQ_U(c.n_items, 2);
    TG_CHECK_EQ_U(c.items[0], 5);
    TG_CHECK_EQ_U(c.items[1], 13);
    TG_CHECK_EQ_U(c.fixed, 3);
    TG_CHECK_EQ_U(c.total, 21);
    TG_CHECK(!c.exact); /* chats are never exact before templates */
    tg_prompt_counts_free(&c);
    tg_request_free(&r);
}

static void test_completion_counts(void) {
    const char *body = "{\"prompt\":[\"abcd\",[1,2,3,4,5,6],\"abcdefghijkl\"]}";
    tg_request r;
    TG_CHECK_EQ_I(tg_request_parse(body, strlen(body), &r, NULL), TG_OK);
    tg_prompt_counts c;
    TG_CHECK_EQ_I(tg_request_count(&r, tg_estimate_count, NULL, 0, &c, NULL), TG_OK);
    TG_CHECK_EQ_U(c.n_items, 3);
    TG_CHECK_EQ_U(c.items[0], 1);
    TG_CHECK_EQ_U(c.items[1], 6);
    TG_CHECK_EQ_U(c.items[2], 3);
    TG_CHECK_EQ_U(c.total, 6); /* the largest prompt of the batch */
    TG_CHECK(!c.exact);
    tg_prompt_counts_free(&c);
    tg_request_free(&r);
    body = "{\"prompt\":[7,8,9]}";
    TG_CHECK_EQ_I(tg_request_parse(body, strlen(body), &r, NULL), TG_OK);
    TG_CHECK_EQ_I(tg_request_count(&r, tg_estimate_count, NULL, 0, &c, NULL), TG_OK);
    TG_CHECK_EQ_U(c.n_items, 1);
    TG_CHECK_EQ_U(c.total, 3);
    TG_CHECK(c.exact); /* token ids are their own count */
    tg_prompt_counts_free(&c);
    tg_request_free(&r);
}

/* Counts that do not match the request are an error, not a decision. */
static void test_count_mismatch(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    const char *body = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    tg_request r;
    TG_CHECK_EQ_I(tg_request_parse(body, strlen(body), &r, NULL), TG_OK);
    uint64_t items[2] = {1, 1};
    tg_prompt_counts c = {2, 0, 0, 2, items};
    tg_limits l = fx_limits(4096, 1024);
    tg_policy_input in = {&s, &l, &r, &c, 0, NULL, NULL};
    tg_decision d;
    tg_error err;
    TG_CHECK_EQ_I(tg_policy_decide(&in, &d, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "2 items but the request has 1");
    tg_decision_free(&d);
    tg_request_free(&r);
}

int main(void) {
    TG_RUN(test_unusable);
    TG_RUN(test_fields);
    TG_RUN(test_estimator);
    TG_RUN(test_chat_counts);
    TG_RUN(test_completion_counts);
    TG_RUN(test_count_mismatch);
    return tg_test_summary();
}
