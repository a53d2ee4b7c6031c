/*
 * test_filter_assemble.c: the assembly filter (src/gateway/filters/assemble.c)
 * fed split at every byte offset, without sockets. The input is a chat
 * stream as llama-server sends it (tools/server/README.md; server-task.cpp:
 * a first chunk with the role, reasoning_content and content deltas, a
 * finish chunk, a usage chunk with empty choices, `data: [DONE]`); the
 * expected answer is the chat.completion the same server gives without
 * `stream` (choices[0].message {role, content, reasoning_content},
 * finish_reason, usage, id, model, system_fingerprint, object
 * "chat.completion", created of the last chunk), written from those shapes.
 * An answer that is only an error event gives that error's body.
 */
#include <jansson.h>

#include "filter_feed.h"

#include "gateway/filters/assemble.h"

static const char sse[] =
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning_content\":\"Let me \"}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning_content\":\"think.\"}}],"
    "\"created\":1765000001,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"Hello, \\u00e9 \"}}],"
    "\"created\":1765000001,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    ": a comment line\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"world\"}}],"
    "\"created\":1765000002,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}],\"created\":1765000002,"
    "\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[],\"created\":1765000002,\"id\":\"chatcmpl-a\",\"model\":\"tiny\","
    "\"system_fingerprint\":\"b1-x\",\"object\":\"chat.completion.chunk\","
    "\"usage\":{\"completion_tokens\":6,\"prompt_tokens\":12,\"total_tokens\":18}}\n\n"
    "data: [DONE]\n\n";

static const char want[] =
    "{\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"Hello, \\u00e9 world\",\"reasoning_content\":\"Let me think.\"}}],\"created\":1765000002,"
    "\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\",\"object\":\"chat.completion\","
    "\"usage\":{\"completion_tokens\":6,\"prompt_tokens\":12,\"total_tokens\":18}}";

static void check_json(const char *got, size_t n, const char *expect) {
    json_t *g = json_loadb(got, n, 0, NULL), *w = json_loads(expect, 0, NULL);
    TG_CHECK(g != NULL && w != NULL);
    TG_CHECK(json_equal(g, w));
    if (g && w && !json_equal(g, w)) fprintf(stderr, "got  %.*s\nwant %s\n", (int)n, got, expect);
    json_decref(g);
    json_decref(w);
}

static void not_error(tg__filter *f, const tg__filter_sink *out, void *ud) {
    (void)out;
    TG_CHECK_EQ_I(tg__asm_filter_only_error(f), *(const int *)ud);
}

static void test_stream_to_answer(void) {
    size_t n = 0;
    int no = 0;
    char *o = fx_every_split(tg__asm_filter_new, 200, 1, sse, sizeof sse - 1, &n, not_error, &no);
    check_json(o, n, want);
    free(o);
}

static void test_last_event_unterminated(void) {
    /* a stream cut after its last event's data line: still read */
    static const char s2[] = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}],"
                             "\"id\":\"c\",\"created\":5,\"model\":\"m\"}";
    size_t n = 0;
    int no = 0;
    char *o = fx_every_split(tg__asm_filter_new, 200, 1, s2, sizeof s2 - 1, &n, not_error, &no);
    check_json(o, n, "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":{\"role\":\"assistant\","
                     "\"content\":\"ok\"}}],\"created\":5,\"id\":\"c\",\"model\":\"m\","
                     "\"object\":\"chat.completion\"}");
    free(o);
}

static void test_only_error(void) {
    /* llama-server's error event mid-stream (server-task.cpp to_json) */
    static const char s3[] = "data: {\"error\":{\"code\":500,\"message\":\"slot failed\",\"type\":\"server_error\"}}\n\n";
    size_t n = 0;
    int yes = 1;
    char *o = fx_every_split(tg__asm_filter_new, 200, 1, s3, sizeof s3 - 1, &n, not_error, &yes);
    check_json(o, n, "{\"error\":{\"code\":500,\"message\":\"slot failed\",\"type\":\"server_error\"}}");
    free(o);
}

int main(void) {
    TG_RUN(test_stream_to_answer);
    TG_RUN(test_last_event_unterminated);
    TG_RUN(test_only_error);
    return tg_test_summary();
}
