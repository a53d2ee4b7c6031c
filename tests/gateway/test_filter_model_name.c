/*
 * test_filter_model_name.c: the served-name filter
 * (src/gateway/filters/model_name.c) fed split at every byte offset, without
 * sockets. Inputs are llama-server's documented answer shapes
 * (tools/server/README.md): a streamed chat answer whose events name the
 * model by the GGUF path it loaded, with a `data: [DONE]` end and an SSE
 * comment; the same answer as one JSON body whose message text and a nested
 * object also hold "model" keys; an error answer with no "model".
 * Expected: jansson (an independent JSON parser) reads the served name in
 * each top-level "model" and every other value as the input had it, and the
 * bytes are the input's with only those values replaced.
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "filter_feed.h"

#include "gateway/filters/model_name.h"

static const char *served = "tiny";
static tg__filter *mk(void) { return tg__model_name_filter_new(served); }

static const char sse[] =
    ": keep-alive\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\":\"/models/tiny \\\"q8\\\".gguf\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"\\\"model\\\": \\\"x\\\"\"}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\" : \"/models/tiny.gguf\",\"object\":\"chat.completion.chunk\"}\r\n\r\n"
    "data: {\"choices\":[],\"model\":null,\"object\":\"chat.completion.chunk\"}\n\n"
    "data: [DONE]\n\n";

/* The same stream as the filter must write it (the values replaced by hand). */
static const char sse_want[] =
    ": keep-alive\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\":\"tiny\",\"system_fingerprint\":\"b1-x\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"\\\"model\\\": \\\"x\\\"\"}}],"
    "\"created\":1765000000,\"id\":\"chatcmpl-a\",\"model\" : \"tiny\",\"object\":\"chat.completion.chunk\"}\r\n\r\n"
    "data: {\"choices\":[],\"model\":null,\"object\":\"chat.completion.chunk\"}\n\n"
    "data: [DONE]\n\n";

static const char body[] =
    "{\n  \"choices\": [{\"finish_reason\": \"stop\", \"index\": 0, \"message\": {\"role\": \"assistant\","
    " \"content\": \"{\\\"model\\\":\\\"kept\\\"}\", \"model\": \"nested-kept\"}}],\n"
    "  \"created\": 1765000000, \"model\": \"/models/tiny.gguf\", \"object\": \"chat.completion\",\n"
    "  \"usage\": {\"completion_tokens\": 2, \"prompt_tokens\": 40, \"total_tokens\": 42}, \"id\": \"chatcmpl-b\"\n}";

static void check_events(const char *out, size_t n, const char *want_model) {
    /* every data: line that is JSON: jansson reads the served name (or null) */
    size_t events = 0;
    for (const char *l = out; l < out + n;) {
        const char *e = memchr(l, '\n', (size_t)(out + n - l));
        size_t ll = e ? (size_t)(e - l) : (size_t)(out + n - l);
        if (ll > 7 && !memcmp(l, "data: {", 7)) {
            json_t *j = json_loadb(l + 6, ll - 6, 0, NULL);
            TG_CHECK(j != NULL);
            json_t *mv = json_object_get(j, "model");
            if (json_is_string(mv)) TG_CHECK_STR(json_string_value(mv), want_model);
            else TG_CHECK(json_is_null(mv));
            json_decref(j);
            events++;
        }
        l += ll + 1;
    }
    TG_CHECK_EQ_U(events, 3);
}

static void test_stream(void) {
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 1, sse, sizeof sse - 1, &n, NULL, NULL);
    TG_CHECK_EQ_U(n, sizeof sse_want - 1);
    TG_CHECK(out && n == sizeof sse_want - 1 && memcmp(out, sse_want, n) == 0);
    if (out) check_events(out, n, "tiny");
    free(out);
}

static void test_body(void) {
    size_t n = 0;
    char *out = fx_every_split(mk, 200, 0, body, sizeof body - 1, &n, NULL, NULL);
    json_t *in = json_loads(body, 0, NULL), *got = out ? json_loadb(out, n, 0, NULL) : NULL;
    TG_CHECK(in && got);
    TG_CHECK_STR(json_string_value(json_object_get(got, "model")), "tiny");
    json_object_set_new(in, "model", json_string("tiny"));
    TG_CHECK(json_equal(in, got)); /* the nested "model" and the text's "model" kept */
    json_decref(in);
    json_decref(got);
    free(out);
}

static void test_error_and_escaped_name(void) {
    static const char err[] = "{\"error\":{\"code\":400,\"message\":\"the request exceeds the available context size\","
                              "\"type\":\"exceed_context_size_error\"}}";
    size_t n = 0;
    char *out = fx_every_split(mk, 400, 0, err, sizeof err - 1, &n, NULL, NULL);
    TG_CHECK(out && n == sizeof err - 1 && memcmp(out, err, n) == 0); /* no "model": unchanged */
    free(out);
    served = "a\"b\\c"; /* a served name JSON must escape */
    out = fx_every_split(mk, 200, 0, body, sizeof body - 1, &n, NULL, NULL);
    json_t *got = out ? json_loadb(out, n, 0, NULL) : NULL;
    TG_CHECK_STR(json_string_value(json_object_get(got, "model")), "a\"b\\c");
    json_decref(got);
    free(out);
    served = "tiny";
}

/* One feed of IN (split at the offsets in CUTS, n_cuts of them) through a
 * fresh filter, runs on or off (tg__model_name_runs); the output, malloc'd. */
static char *feed_runs(int runs, int is_sse, const char *in, size_t n, const size_t *cuts, size_t n_cuts, size_t *len) {
    tg__model_name_runs(runs);
    tg__filter_sink sink;
    tg__filter_sink_init(&sink, 1u << 20);
    tg__filter *f = mk();
    f->next = &sink.base;
    tg__filter_head(f, 200, is_sse);
    size_t at = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t to = i < n_cuts ? cuts[i] : n;
        tg__filter_data(f, in + at, to - at);
        at = to;
    }
    tg__filter_end(f);
    *len = sink.out.len;
    char *out = tgx_buf_detach(&sink.out, NULL);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
    tg__model_name_runs(1);
    return out;
}

/* The runs (skip_plain's byte classes, skip_deep below the top level) give
 * the byte machine's output on random JSON-shaped bytes (nesting, keys
 * "model" at every depth, escapes, newlines, SSE lines), split anywhere. */
static void test_runs_equal_bytes(void) {
    static const char *const pieces[] = {"{", "}", "[", "]", ",", ":", " ", "\n", "\"model\"", "\"mod\"", "\"x\"",
                                         "\"a\\\"b\"", "\"\\\\\"", "\"m\\u006fdel\"", "1", "null", "\"", "\\",
                                         "data: ", "\"model\":\"up\"", "{\"model\":", "\"ok\\n\"", "\r",
                                         "\"abcdefghijklmnopqrstuvwxyz0123456789\"", "\"0123456789abcdef\\\"ghijklmnop\"",
                                         "\"0123456789abcdefghijk\nlmnop\"", "0123456789abcdefghij"};
    const size_t np = sizeof pieces / sizeof pieces[0];
    uint64_t rng = 0x9E3779B97F4A7C15u;
    size_t diff = 0, changed = 0;
    for (int t = 0; t < 4000; t++) {
        char in[512];
        size_t n = 0;
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        size_t want = 8 + (size_t)(rng >> 58) * 6;
        while (n < want) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            const char *pc = pieces[(rng >> 33) % np];
            size_t l = strlen(pc);
            if (n + l >= sizeof in) break;
            memcpy(in + n, pc, l);
            n += l;
        }
        size_t cuts[4], nc = (size_t)(rng >> 61) % 4;
        for (size_t i = 0; i < nc; i++) {
            rng = rng * 6364136223846793005u + 1442695040888963407u;
            cuts[i] = (size_t)(rng >> 33) % (n + 1);
            if (i && cuts[i] < cuts[i - 1]) cuts[i] = cuts[i - 1];
        }
        int is_sse = t & 1;
        size_t la = 0, lb = 0;
        char *a = feed_runs(1, is_sse, in, n, cuts, nc, &la), *b = feed_runs(0, is_sse, in, n, cuts, nc, &lb);
        if (la != lb || (la && memcmp(a, b, la) != 0)) diff++;
        if (lb != n || (n && memcmp(b, in, n) != 0)) changed++;
        free(a);
        free(b);
    }
    TG_CHECK_EQ_U(diff, 0);
    TG_CHECK(changed > 100); /* the inputs reach the rewrite, not only the pass-through */
}

int main(void) {
    TG_RUN(test_runs_equal_bytes);
    TG_RUN(test_stream);
    TG_RUN(test_body);
    TG_RUN(test_error_and_escaped_name);
    return tg_test_summary();
}
