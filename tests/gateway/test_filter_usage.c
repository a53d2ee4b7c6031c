/*
 * test_filter_usage.c: the usage-metering filter (src/gateway/filters/usage.c)
 * fed split at every byte offset, without sockets. Inputs are llama-server's
 * documented answer shapes (tools/server/README.md, server-task.cpp): a
 * streamed chat answer whose final chunk carries "usage" and "timings"
 * (prompt_n, prompt_ms), ending in `data: [DONE]`, and the same answer as one
 * JSON body. Expected: every byte passed on unchanged, and the usage and
 * timings those shapes state (written here from the shapes, not from
 * tokgate's output).
 */
#include <jansson.h>

#include "filter_feed.h"

#include "gateway/filters/usage.h"

static const char sse[] =
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"Hello\"}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}],\"created\":1765000001,"
    "\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"object\":\"chat.completion.chunk\","
    "\"usage\":{\"completion_tokens\":3,\"prompt_tokens\":12,\"total_tokens\":15},"
    "\"timings\":{\"prompt_n\":12,\"prompt_ms\":5.25,\"predicted_n\":3,\"predicted_ms\":1.5}}\n\n"
    "data: [DONE]\n\n";

static const char body[] =
    "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"}}],"
    "\"created\":1765000000,\"model\":\"tiny\",\"object\":\"chat.completion\",\"usage\":{\"completion_tokens\":2,"
    "\"prompt_tokens\":40,\"total_tokens\":42},\"id\":\"chatcmpl-b\",\"timings\":{\"prompt_n\":24,\"prompt_ms\":8.0}}";

typedef struct want {
    int64_t prompt, completion;
    double prompt_n, prompt_ms;
} want;

static void check_usage(tg__filter *f, const tg__filter_sink *out, void *ud) {
    const want *w = ud;
    const tg__usage *u = tg__usage_filter_result(f);
    (void)out;
    TG_CHECK_EQ_I(u->prompt_tokens, w->prompt);
    TG_CHECK_EQ_I(u->completion_tokens, w->completion);
    TG_CHECK(u->prompt_n == w->prompt_n);
    TG_CHECK(u->prompt_ms == w->prompt_ms);
}

static void test_stream(void) {
    want w = {12, 3, 12, 5.25};
    size_t n = 0;
    char *o = fx_every_split(tg__usage_filter_new, 200, 1, sse, sizeof sse - 1, &n, check_usage, &w);
    TG_CHECK(n == sizeof sse - 1 && !memcmp(o, sse, n)); /* passed on unchanged */
    free(o);
}

static void test_body(void) {
    want w = {40, 2, 24, 8.0};
    size_t n = 0;
    char *o = fx_every_split(tg__usage_filter_new, 200, 0, body, sizeof body - 1, &n, check_usage, &w);
    TG_CHECK(n == sizeof body - 1 && !memcmp(o, body, n));
    free(o);
}

/* Ollama's native /api/chat stream (issue 19): NDJSON, the last line's
 * Metrics (api/types.go ChatResponse + Metrics: prompt_eval_count,
 * eval_count; ollama v0.33.0-rc2) are the answer's own counts. */
static const char ndjson[] =
    "{\"model\":\"tiny-a:latest\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{\"role\":\"assistant\","
    "\"content\":\"Hi\"},\"done\":false}\n"
    "{\"model\":\"tiny-a:latest\",\"created_at\":\"2026-01-01T00:00:01Z\",\"message\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":123456789,\"load_duration\":1234567,"
    "\"prompt_eval_count\":26,\"prompt_eval_duration\":2345678,\"eval_count\":3,\"eval_duration\":3456789}\n";

static void test_ollama_ndjson(void) {
    want w = {26, 3, -1, -1};
    size_t n = 0;
    char *o = fx_every_split(tg__usage_filter_new, 200, 0, ndjson, sizeof ndjson - 1, &n, check_usage, &w);
    TG_CHECK(n == sizeof ndjson - 1 && !memcmp(o, ndjson, n));
    free(o);
}

static void test_none_and_crlf(void) {
    /* no usage anywhere: -1 (not seen); CRLF line ends read the same */
    static const char s2[] = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n";
    want w = {-1, -1, -1, -1};
    size_t n = 0;
    char *o = fx_every_split(tg__usage_filter_new, 200, 1, s2, sizeof s2 - 1, &n, check_usage, &w);
    free(o);
    static const char s3[] = "data: {\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1}}\r\n\r\n";
    want w3 = {7, 1, -1, -1};
    o = fx_every_split(tg__usage_filter_new, 200, 1, s3, sizeof s3 - 1, &n, check_usage, &w3);
    free(o);
}

static void test_new_head_starts_over(void) {
    /* a re-sent request's answer replaces the first one's usage */
    tg__filter *f = tg__usage_filter_new();
    tg__filter_head(f, 200, 0);
    tg__filter_data(f, body, sizeof body - 1);
    tg__filter_end(f);
    TG_CHECK_EQ_I(tg__usage_filter_result(f)->prompt_tokens, 40);
    tg__filter_head(f, 200, 1);
    tg__filter_data(f, "data: [DONE]\n\n", 14);
    tg__filter_end(f);
    TG_CHECK_EQ_I(tg__usage_filter_result(f)->prompt_tokens, -1);
    tg__filter_free(f);
    TG_CHECK(tg__usage_filter_result(NULL) == NULL);
}

/* Thinking for the adaptive budgets: llama-server streams reasoning as
 * delta.reasoning_content (tools/server/README.md, --reasoning-format
 * deepseek), one token per event; newer vLLM as delta.reasoning. OpenAI's
 * usage.completion_tokens_details.reasoning_tokens (API reference, "The
 * chat completion object") wins where an engine sends it. A quote inside
 * content is escaped and never read as a field. */
typedef struct want_think {
    int64_t thinking;
    const char *finish;
} want_think;

static void check_think(tg__filter *f, const tg__filter_sink *out, void *ud) {
    const want_think *w = ud;
    const tg__usage *u = tg__usage_filter_result(f);
    (void)out;
    TG_CHECK_EQ_I(tg__usage_thinking(u), w->thinking);
    TG_CHECK_STR(u->finish, w->finish);
}

static void test_thinking(void) {
    static const char s1[] =
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning_content\":\"Let\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning_content\":\" me\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning\":\" see\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning_content\":\"\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":"
        "\"\\\"reasoning_content\\\":\\\"x \\\"finish_reason\\\":\\\"length\"}}]}\n\n"
        "data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}]}\n\n"
        "data: [DONE]\n\n";
    want_think w = {3, "stop"};
    size_t n = 0;
    char *o = fx_every_split(tg__usage_filter_new, 200, 1, s1, sizeof s1 - 1, &n, check_think, &w);
    TG_CHECK(n == sizeof s1 - 1 && !memcmp(o, s1, n));
    free(o);
    static const char b1[] =
        "{\"choices\":[{\"finish_reason\":\"tool_calls\",\"index\":0,\"message\":{\"role\":\"assistant\"}}],"
        "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":30,\"completion_tokens_details\":"
        "{\"reasoning_tokens\":17}}}";
    want_think wb = {17, "tool_calls"};
    o = fx_every_split(tg__usage_filter_new, 200, 0, b1, sizeof b1 - 1, &n, check_think, &wb);
    free(o);
    /* a body without reasoning_tokens: unknown */
    want_think wu = {-1, "stop"};
    o = fx_every_split(tg__usage_filter_new, 200, 0, body, sizeof body - 1, &n, check_think, &wu);
    free(o);
}


/* A non-streamed answer is read without jansson where it can be (usage.c
 * scan_body) and with jansson where the scanner is unsure. jansson is the
 * reference: for each body, and each body with one byte deleted or replaced
 * at every offset, both readings must give the same fields. */
static void read_body(const char *p, size_t n, int dom_only, tg__usage *u) {
    tg__usage_init(u, 0);
    u->dom_only = dom_only;
    tg__usage_feed(u, p, n);
    tg__usage_finish(u);
}

static int same_reading(const char *p, size_t n) {
    tg__usage a, b;
    read_body(p, n, 0, &a);
    read_body(p, n, 1, &b);
    int same = a.prompt_tokens == b.prompt_tokens && a.completion_tokens == b.completion_tokens &&
               a.prompt_n == b.prompt_n && a.prompt_ms == b.prompt_ms && a.reasoning_tokens == b.reasoning_tokens &&
               !strcmp(a.finish, b.finish);
    if (!same)
        fprintf(stderr, "differs on %.*s: %lld/%lld %lld/%lld %g/%g %g/%g %lld/%lld '%s'/'%s'\n", (int)n, p,
                (long long)a.prompt_tokens, (long long)b.prompt_tokens, (long long)a.completion_tokens,
                (long long)b.completion_tokens, a.prompt_n, b.prompt_n, a.prompt_ms, b.prompt_ms,
                (long long)a.reasoning_tokens, (long long)b.reasoning_tokens, a.finish, b.finish);
    tg__usage_free(&a);
    tg__usage_free(&b);
    return same;
}

static void test_scan_matches_jansson(void) {
    static const char *const bodies[] = {
        body,
        "{\"choices\":[{\"finish_reason\":\"tool_calls\",\"message\":{}}],\"usage\":{\"prompt_tokens\":9,"
        "\"completion_tokens\":30,\"completion_tokens_details\":{\"reasoning_tokens\":17}}}",
        /* a repeated key: the last one counts */
        "{\"usage\":{\"prompt_tokens\":1},\"usage\":{\"completion_tokens\":5},\"timings\":{\"prompt_n\":1e2,"
        "\"prompt_ms\":-0.5},\"timings\":[]}",
        "{\"prompt_eval_count\":26,\"eval_count\":3.0,\"usage\":null}",
        "{\"prompt_eval_count\":26,\"eval_count\":3}",
        "{\"usage\":{\"prompt_tokens\":123456789012345678,\"completion_tokens\":1234567890123456789}}",
        "{\"usage\":{\"prompt_tokens\":-0,\"completion_tokens\":1E400}}",
        "{\"usage\":{\"prompt_tokens\":9999999999999999999,\"completion_tokens_details\":{\"reasoning_tokens\":0}}}",
        "{\"usage\":{\"prompt_tokens\":-999999999999999999,\"completion_tokens_details\":{\"reasoning_tokens\":-1}}}",
        "{\"choices\":[{\"finish_reason\":\"st\\u00f6p\"}],\"usage\":{\"prompt_tokens\":2}}",
        "{\"choices\":[{\"finish_reason\":\"a very long finish reason that is cut\"}]}",
        "{\"choices\":[\"x\",{\"finish_reason\":\"stop\"}],\"c\":\"\xc3\xa9\xf0\x9f\x98\x80 \\ud83d\\ude00\"}",
        "{\"us\\u0061ge\":{\"prompt_tokens\":3},\"choices\":[{\"finish_reason\":\"\"}]}",
        "{\"usage\":{\"prompt_tokens\":4}} {\"usage\":{\"prompt_tokens\":5}}\n{\"usage\":{\"prompt_tokens\":6}}",
        "[{\"usage\":{\"prompt_tokens\":7}}]",
        "{\"usage\":{\"prompt_tokens\":7},\"c\":\"a\\u0000b\\udc00\"}",
        " \t\r\n{\"timings\":{\"prompt_n\":3,\"prompt_ms\":true},\"usage\":{\"prompt_tokens\":true}} \n",
        "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],\"usage\":{\"prompt_tokens\":8}}",
        /* nested keys belong to the last value of their parent's key */
        "{\"usage\":{\"prompt_tokens\":1,\"completion_tokens_details\":{\"reasoning_tokens\":4}},\"usage\":{\"completion_tokens\":2}}",
        "{\"usage\":{\"completion_tokens_details\":{\"reasoning_tokens\":4},\"completion_tokens_details\":{}}}",
        "{\"usage\":{\"completion_tokens_details\":{\"reasoning_tokens\":4,\"reasoning_tokens\":6}}}",
        "{\"choices\":[{\"finish_reason\":\"stop\"}],\"choices\":[{\"index\":0}],\"timings\":{\"prompt_n\":2,"
        "\"prompt_ms\":3},\"timings\":{\"prompt_n\":5}}",
        "{\"choices\":[{\"finish_reason\":\"stop\",\"finish_reason\":\"length\"},{\"finish_reason\":\"x\"}],"
        "\"choices\":[{\"finish_reason\":\"tool_calls\"},[1,{\"a\":[]}]]}",
        "{\"choices\":[],\"usage\":{\"prompt_tokens\":3}}",
        "{\"choices\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{\"a\":1}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
        "{\"choices\":[{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},{\"finish_reason\":\"stop\"}]}",
    };
    static const char subst[] = "\"\\{}[],:0-1.eE \x80\xc3\xed\x01tu";
    for (size_t k = 0; k < sizeof bodies / sizeof bodies[0]; k++) {
        const char *b = bodies[k];
        size_t n = strlen(b);
        TG_CHECK(same_reading(b, n));
        char *m = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            memcpy(m, b, i); /* byte i deleted */
            memcpy(m + i, b + i + 1, n - i - 1);
            TG_CHECK(same_reading(m, n - 1));
            memcpy(m, b, n); /* byte i replaced */
            for (size_t j = 0; j < sizeof subst - 1; j++) {
                m[i] = subst[j];
                TG_CHECK(same_reading(m, n));
            }
        }
        free(m);
    }
}

int main(void) {
    TG_RUN(test_thinking);
    TG_RUN(test_stream);
    TG_RUN(test_body);
    TG_RUN(test_none_and_crlf);
    TG_RUN(test_ollama_ndjson);
    TG_RUN(test_new_head_starts_over);
    TG_RUN(test_scan_matches_jansson);
    return tg_test_summary();
}
