/*
 * test_filter_think_cut.c: the thinking cut (src/gateway/filters/think_cut.c),
 * without sockets, every stream fed whole, split in two at every byte offset
 * and one byte at a time (filter_feed.h).
 *
 * Input: llama-server's chat.completion.chunk events (tools/server/README.md)
 * with "logprobs": true, so each chunk names its token ids in
 * choices[0].logprobs.content[].id; thinking shown as delta.reasoning_content
 * (reasoning_format deepseek) or, when the server does not parse reasoning,
 * as text between <think> and </think> in delta.content.
 *
 * Expected, from those shapes and the budget: thinking is counted per chunk
 * by the ids it carries; chunks pass on unchanged until the budget is spent
 * (a chunk that would go past it does not pass); after the cut nothing of
 * the stream passes, and the client sees the budget message as
 * reasoning_content (thinking shown as reasoning) or message and close
 * marker as content ("\n<message>\n</think>\n\n", thinking shown as text),
 * in a chunk with the stream's id and model. A stream whose thinking ends
 * within the budget passes byte for byte. The text of a continuation is
 * routed as the server's reasoning parser would, whatever the split.
 */
#include <jansson.h>

#include "filter_feed.h"
#include "tg_test.h"

#include "gateway/filters/think_cut.h"

#define ROLE                                                                                                     \
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]," \
    "\"created\":100,\"id\":\"chatcmpl-r\",\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\n"
#define CHUNK(field, text, ids)                                                                                  \
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"" field "\":\"" text "\"},"           \
    "\"logprobs\":{\"content\":[" ids "]}}],\"created\":101,\"id\":\"chatcmpl-r\",\"model\":\"tiny\","          \
    "\"object\":\"chat.completion.chunk\"}\n\n"
#define ID(n) "{\"id\":" #n ",\"token\":\"x\",\"logprob\":-0.5,\"top_logprobs\":[]}"
#define FINISH                                                                                                   \
    "data: {\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}],\"created\":102,"                 \
    "\"id\":\"chatcmpl-r\",\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\ndata: [DONE]\n\n"

static tg__think_cfg cfg;
static tg__filter *mk(void) { return tg__think_cut_filter_new(&cfg); }

struct want {
    int cut;
    uint64_t thought;
};
static void check(tg__filter *f, const tg__filter_sink *out, void *ud) {
    const struct want *w = ud;
    TG_CHECK_EQ_I(tg__think_cut_filter_cut(f), w->cut);
    TG_CHECK_EQ_U(tg__think_cut_filter_thought(f), w->thought);
    TG_CHECK_EQ_I(out->status, 200);
}

/* The stream's events, read: the concatenated text of `field` over the
 * events, the number of events and the last event's delta text of `field`. */
static void read_events(const char *s, size_t n, const char *field, tgx_buf *text, int *events, char last[256]) {
    *events = 0;
    last[0] = 0;
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *e = strstr(p, "\n\n");
        if (!e) break;
        (*events)++;
        json_t *o = json_loadb(p + 6, (size_t)(e - p - 6), 0, NULL);
        json_t *d = json_object_get(json_array_get(json_object_get(o, "choices"), 0), "delta");
        const char *t = json_string_value(json_object_get(d, field));
        if (t) tgx_buf_puts(text, t);
        if (o) TG_CHECK_STR(json_string_value(json_object_get(o, "id")), "chatcmpl-r");
        snprintf(last, 256, "%s", t ? t : "");
        json_decref(o);
        p = e + 2;
    }
    tgx_buf_putc(text, '\0');
}

/* Thinking as reasoning_content, one id a chunk, budget 3: three chunks
 * pass, then the message as reasoning. */
static void test_reasoning_cut(void) {
    static const char in[] = ROLE CHUNK("reasoning_content", "Let", ID(100)) CHUNK("reasoning_content", " me", ID(101))
        CHUNK("reasoning_content", " think", ID(102)) CHUNK("reasoning_content", " more", ID(103))
            CHUNK("content", "Hi", ID(104)) FINISH;
    cfg = (tg__think_cfg){1, 3, NULL, NULL, "Budget spent.", 0};
    struct want w = {1, 3};
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 1, in, sizeof in - 1, &n, check, &w);
    static const char kept[] = ROLE CHUNK("reasoning_content", "Let", ID(100)) CHUNK("reasoning_content", " me", ID(101))
        CHUNK("reasoning_content", " think", ID(102));
    TG_CHECK(n > sizeof kept - 1 && !memcmp(out, kept, sizeof kept - 1)); /* unchanged up to the cut */
    tgx_buf text;
    tgx_buf_init(&text, 1u << 20);
    int events = 0;
    char last[256];
    read_events(out, n, "reasoning_content", &text, &events, last);
    TG_CHECK_STR(text.data, "Let me thinkBudget spent.");
    TG_CHECK_EQ_I(events, 5);
    TG_CHECK_STR(last, "Budget spent.");
    TG_CHECK(strstr(out, "</think>") == NULL); /* the marker is the model's, not shown as reasoning */
    tgx_buf_free(&text);
    free(out);
}

/* A chunk of two ids that would go past the budget does not pass. */
static void test_chunk_past_budget(void) {
    static const char in[] = ROLE CHUNK("reasoning_content", "ab", ID(1) "," ID(2))
        CHUNK("reasoning_content", "cd", ID(3) "," ID(4)) FINISH;
    cfg = (tg__think_cfg){1, 3, NULL, NULL, NULL, 0};
    struct want w = {1, 2};
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 1, in, sizeof in - 1, &n, check, &w);
    static const char kept[] = ROLE CHUNK("reasoning_content", "ab", ID(1) "," ID(2));
    TG_CHECK_EQ_U(n, sizeof kept - 1); /* no message: nothing after the cut */
    TG_CHECK(n == sizeof kept - 1 && !memcmp(out, kept, n));
    free(out);
}

/* Thinking as text in content: the open marker's chunk counts; at the
 * budget, message and close marker as content. */
static void test_content_cut(void) {
    static const char in[] = ROLE CHUNK("content", "<think>", ID(7)) CHUNK("content", " hmm", ID(8))
        CHUNK("content", " ok", ID(9)) FINISH;
    cfg = (tg__think_cfg){1, 2, "<think>", "</think>", "Budget spent.", 0};
    struct want w = {1, 2};
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 1, in, sizeof in - 1, &n, check, &w);
    tgx_buf text;
    tgx_buf_init(&text, 1u << 20);
    int events = 0;
    char last[256];
    read_events(out, n, "content", &text, &events, last);
    TG_CHECK_STR(text.data, "<think> hmm\nBudget spent.\n</think>\n\n");
    TG_CHECK_EQ_I(events, 4);
    TG_CHECK_STR(last, "\nBudget spent.\n</think>\n\n");
    tgx_buf_free(&text);
    free(out);
}

/* Thinking that ends within the budget: every byte passes as it came. */
static void test_within_budget(void) {
    static const char in[] = ROLE CHUNK("reasoning_content", "Let", ID(100)) CHUNK("reasoning_content", " me", ID(101))
        CHUNK("content", "Hi", ID(104)) FINISH;
    cfg = (tg__think_cfg){1, 3, NULL, NULL, "Budget spent.", 0};
    struct want w = {0, 2};
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 1, in, sizeof in - 1, &n, check, &w);
    TG_CHECK(n == sizeof in - 1 && !memcmp(out, in, n));
    free(out);
    /* without enforcement: counted, never cut */
    cfg = (tg__think_cfg){0, 0, NULL, NULL, NULL, 0};
    out = fx_every_split(mk, 200, 1, in, sizeof in - 1, &n, check, &w);
    TG_CHECK(n == sizeof in - 1 && !memcmp(out, in, n));
    free(out);
}

/* Thinking disabled (budget 0): the first thought is cut, nothing thought,
 * so nothing to say about a budget. */
static void test_disabled(void) {
    static const char in[] = ROLE CHUNK("reasoning_content", "Let", ID(100)) CHUNK("content", "Hi", ID(104)) FINISH;
    cfg = (tg__think_cfg){1, 0, NULL, NULL, "Budget spent.", 0};
    struct want w = {1, 0};
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 1, in, sizeof in - 1, &n, check, &w);
    TG_CHECK(n == sizeof ROLE - 1 && !memcmp(out, ROLE, n));
    free(out);
}

/* A continuation's text, routed by the reasoning parser's rule. */
static void emit(void *ud, const char *field, const char *text, size_t len) {
    tgx_buf *b = ud; /* b[0] reasoning, b[1] content */
    tgx_buf_append(&b[!strcmp(field, "content")], text, len);
}

static void route(const char *in, size_t n, size_t cut, int prompt_opens, tgx_buf *b) {
    tg__think t;
    tg__think_cfg c = {1, 100, NULL, NULL, NULL, prompt_opens};
    TG_CHECK_EQ_I(tg__think_init(&t, &c), TG_OK);
    if (!prompt_opens) t.thinking = 1; /* thinking as reasoning_content, as a first leg showed it */
    tg__think_text(&t, in, cut, 0, emit, b);
    tg__think_text(&t, in + cut, n - cut, 0, emit, b);
    tg__think_text(&t, "", 0, 1, emit, b);
    tg__think_free(&t);
}

static void test_continuation_text(void) {
    static const char in[] = "so 2 < 3</think>\n\n  The answer is 3.";
    size_t bad = 0;
    for (size_t cut = 0; cut < sizeof in; cut++) {
        tgx_buf b[2];
        tgx_buf_init(&b[0], 1u << 16);
        tgx_buf_init(&b[1], 1u << 16);
        route(in, sizeof in - 1, cut, 0, b);
        tgx_buf_putc(&b[0], '\0');
        tgx_buf_putc(&b[1], '\0');
        if (strcmp(b[0].data, "so 2 < 3") || strcmp(b[1].data, "The answer is 3.")) bad++;
        tgx_buf_free(&b[0]);
        tgx_buf_free(&b[1]);
        /* shown as text (the prompt opened the block, content says so): all content */
        tgx_buf_init(&b[0], 1u << 16);
        tgx_buf_init(&b[1], 1u << 16);
        tg__think t;
        tg__think_cfg c = {1, 100, NULL, NULL, NULL, 1};
        TG_CHECK_EQ_I(tg__think_init(&t, &c), TG_OK);
        t.in_content = 1;
        tg__think_text(&t, in, cut, 0, emit, b);
        tg__think_text(&t, in + cut, sizeof in - 1 - cut, 0, emit, b);
        tg__think_text(&t, "", 0, 1, emit, b);
        TG_CHECK(!t.thinking);
        tg__think_free(&t);
        tgx_buf_putc(&b[1], '\0');
        if (b[0].len || strcmp(b[1].data, in)) bad++;
        tgx_buf_free(&b[0]);
        tgx_buf_free(&b[1]);
    }
    TG_CHECK_EQ_U(bad, 0);
}

int main(void) {
    TG_RUN(test_reasoning_cut);
    TG_RUN(test_chunk_past_budget);
    TG_RUN(test_content_cut);
    TG_RUN(test_within_budget);
    TG_RUN(test_disabled);
    TG_RUN(test_continuation_text);
    return tg_test_summary();
}
