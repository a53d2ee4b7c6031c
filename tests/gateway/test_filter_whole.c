/*
 * test_filter_whole.c: the one-pass reading of a whole non-streamed answer
 * (proxy.c whole_answer: usage.c tg__usage_filter_whole, then
 * model_name.c tg__model_name_whole) against the chain it stands in for
 * (the usage filter, then the served-name filter, fed the same bytes).
 *
 * The chain is the reference: its usage reading is checked against jansson
 * by test_filter_usage and its rewrite against jansson by
 * test_filter_model_name. Here every answer, through both ways, must give
 * the same bytes and the same usage fields; the one pass must be taken on
 * the valid answers (a test that always fell back would prove nothing) and
 * must pass the bytes themselves on when no name changes. Inputs:
 * llama-server's documented answer shapes (tools/server/README.md) and the
 * bench's answer, each with every byte deleted or replaced in turn, and
 * random JSON-shaped bytes (keys "model" at every depth, repeated, escaped,
 * not strings), for three served names (one the answers carry already).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/filters/model_name.h"
#include "gateway/filters/usage.h"

static const char *served;

/* The sink that notes whether it was handed the input's own bytes. */
typedef struct seen_sink {
    tg__filter_sink s;
    const char *in;
    int same_ptr;
} seen_sink;
static void seen_data(tg__filter *f, const char *p, size_t n) {
    seen_sink *k = (seen_sink *)f;
    if (p == k->in) k->same_ptr = 1;
    tgx_buf_append(&k->s.out, p, n);
}
static void seen_end(tg__filter *f) { ((seen_sink *)f)->s.ended = 1; }
static const tg__filter_ops seen_ops = {"seen", NULL, seen_data, seen_end, NULL};

typedef struct reading {
    tg__usage u;
    char *out;
    size_t len;
    int whole, same_ptr;
} reading;

/* One answer through usage -> served name -> sink, fed (whole == 0) or read
 * in one pass where the scanner is sure (whole == 1). */
static void read_answer(const char *in, size_t n, int whole, reading *r) {
    seen_sink sink;
    tg__filter_sink_init(&sink.s, 1u << 20);
    sink.s.base.ops = &seen_ops;
    sink.in = in;
    sink.same_ptr = 0;
    tg__filter *u = tg__usage_filter_new(), *m = tg__model_name_filter_new(served);
    TG_CHECK(u && m);
    u->next = m;
    m->next = &sink.s.base;
    tg__filter_head(u, 200, 0);
    tg__filter_head(m, 200, 0);
    tg__model_spans spans;
    r->whole = whole && tg__usage_filter_whole(u, in, n, &spans);
    if (r->whole) tg__model_name_whole(m, in, n, &spans);
    else tg__filter_data(u, in, n);
    tg__filter_end(u);
    r->u = *tg__usage_filter_result(u);
    r->same_ptr = sink.same_ptr;
    r->len = sink.s.out.len;
    r->out = tgx_buf_detach(&sink.s.out, NULL);
    tg__filter_free(u);
    tg__filter_free(m);
    tg__filter_sink_free(&sink.s);
}

static size_t taken, untouched;

/* Both ways on IN: the same bytes and usage; 1 when so. */
static int same(const char *in, size_t n) {
    reading a, b;
    read_answer(in, n, 0, &a);
    read_answer(in, n, 1, &b);
    const tg__usage *x = &a.u, *y = &b.u;
    int ok = a.len == b.len && (!a.len || memcmp(a.out, b.out, a.len) == 0) && x->prompt_tokens == y->prompt_tokens &&
             x->completion_tokens == y->completion_tokens && x->prompt_n == y->prompt_n &&
             x->prompt_ms == y->prompt_ms && x->reasoning_tokens == y->reasoning_tokens && !strcmp(x->finish, y->finish);
    if (!ok)
        fprintf(stderr, "differs (served %s) on %.*s:\n  chain %.*s\n  whole %.*s\n", served, (int)n, in, (int)a.len,
                a.out ? a.out : "", (int)b.len, b.out ? b.out : "");
    if (b.whole) taken++;
    if (b.same_ptr) untouched++;
    if (b.same_ptr && (b.len != n || (n && (!b.out || memcmp(b.out, in, n) != 0)))) ok = 0; /* handed on as is only when unchanged */
    free(a.out);
    free(b.out);
    return ok;
}

static const char *const answers[] = {
    /* the bench's answer (bench/lib.sh BENCH_ANSWER) */
    "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"bench\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"ok\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":1,"
    "\"total_tokens\":10}}",
    /* llama-server's chat answer, with timings and the GGUF path as its model */
    "{\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hi\","
    "\"reasoning_content\":\"hmm\"}}],\"created\":1765000000,\"model\":\"/models/tiny \\\"q8\\\".gguf\","
    "\"system_fingerprint\":\"b1-x\",\"object\":\"chat.completion\",\"usage\":{\"completion_tokens\":2,"
    "\"prompt_tokens\":40,\"total_tokens\":42},\"id\":\"chatcmpl-b\",\"timings\":{\"prompt_n\":40,\"prompt_ms\":12.5,"
    "\"predicted_n\":2,\"predicted_ms\":3.25}}",
    /* pretty-printed, "model" in the text and nested, repeated at the top */
    "{\n  \"model\" : \"a\",\n  \"choices\": [{\"message\": {\"content\": \"{\\\"model\\\":\\\"kept\\\"}\", \"model\": "
    "\"nested\"}}],\n  \"model\":\"b\", \"usage\": {\"prompt_tokens\": 3}\r\n}\n",
    /* not strings, escaped keys, more than the spans hold */
    "{\"model\":null,\"m\\u006fdel\":\"x\",\"model\":7,\"model\":\"\\u00e9\\\\\"}",
    "{\"model\":\"1\",\"model\":\"2\",\"model\":\"3\",\"model\":\"4\",\"model\":\"5\"}",
    "{\"model\":\"tiny\",\"model\":\"tiny\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens_details\":"
    "{\"reasoning_tokens\":4}}}",
    /* an error answer, Ollama's native one */
    "{\"error\":{\"code\":400,\"message\":\"the request exceeds the available context size\",\"type\":"
    "\"exceed_context_size_error\"}}",
    "{\"model\":\"llama3\",\"done\":true,\"prompt_eval_count\":26,\"eval_count\":3}",
    /* not one object */
    "[{\"model\":\"x\"}]",
    "{\"model\":\"x\"} {\"model\":\"y\"}",
};

static void test_answers(void) {
    static const char *const names[] = {"tiny", "bench", "a\"b\\c"};
    static const char subst[] = "\"\\{}[],:0-1.eE \x80\xc3\x01tu\nm";
    size_t bad = 0;
    taken = untouched = 0;
    for (size_t s = 0; s < sizeof names / sizeof names[0]; s++) {
        served = names[s];
        for (size_t k = 0; k < sizeof answers / sizeof answers[0]; k++) {
            const char *b = answers[k];
            size_t n = strlen(b);
            bad += !same(b, n);
            char *m = malloc(n + 1);
            for (size_t i = 0; m && i < n; i++) {
                memcpy(m, b, i); /* byte i deleted */
                memcpy(m + i, b + i + 1, n - i - 1);
                bad += !same(m, n - 1);
                memcpy(m, b, n); /* byte i replaced */
                for (size_t j = 0; j < sizeof subst - 1; j++) {
                    m[i] = subst[j];
                    bad += !same(m, n);
                }
            }
            free(m);
        }
    }
    TG_CHECK_EQ_U(bad, 0);
    TG_CHECK(taken > 3000);  /* the valid answers took the one pass */
    TG_CHECK(untouched > 50); /* "bench" and "tiny" answers handed on without a copy */
}

/* Random answers: objects built of keys the two filters read ("model"
 * among them, repeated, escaped, at every depth) and values of every kind,
 * most valid JSON, some with a byte broken. */
static uint64_t rng = 0x2545F4914F6CDD1Du;
static unsigned rnd(unsigned k) {
    rng = rng * 6364136223846793005u + 1442695040888963407u;
    return (unsigned)(rng >> 33) % k;
}

static void put(tgx_buf *b, const char *s) { tgx_buf_puts(b, s); }

static void gen_value(tgx_buf *b, int depth);

static void gen_object(tgx_buf *b, int depth) {
    static const char *const keys[] = {"model", "model", "usage", "choices", "timings", "prompt_tokens",
                                       "completion_tokens", "finish_reason", "m\\u006fdel", "mode", "x", "prompt_n",
                                       "prompt_ms", "completion_tokens_details", "reasoning_tokens", "eval_count",
                                       "prompt_eval_count", "modelx"};
    put(b, rnd(4) ? "{" : "{ ");
    unsigned n = rnd(5);
    for (unsigned i = 0; i < n; i++) {
        if (i) put(b, rnd(3) ? "," : " ,\n");
        put(b, "\"");
        put(b, keys[rnd(sizeof keys / sizeof keys[0])]);
        put(b, rnd(3) ? "\":" : "\" : ");
        gen_value(b, depth + 1);
    }
    put(b, "}");
}

static void gen_value(tgx_buf *b, int depth) {
    static const char *const scalars[] = {"\"tiny\"", "\"bench\"", "\"/m/x.gguf\"", "\"a\\\"b\"", "\"\\u00e9\"",
                                          "\"stop\"", "null", "true", "7", "-0", "12.5", "1e2", "9223372036854775807",
                                          "-9223372036854775808", "\"\"", "\"\xc3\xa9\""};
    unsigned k = depth > 4 ? 9 : rnd(12);
    if (k == 10) gen_object(b, depth);
    else if (k == 11) {
        put(b, "[");
        unsigned n = rnd(3);
        for (unsigned i = 0; i < n; i++) {
            if (i) put(b, ",");
            gen_value(b, depth + 1);
        }
        put(b, "]");
    } else put(b, scalars[rnd(sizeof scalars / sizeof scalars[0])]);
}

static void test_random(void) {
    static const char *const names[] = {"tiny", "bench"};
    size_t bad = 0;
    taken = 0;
    for (int t = 0; t < 20000; t++) {
        served = names[t & 1];
        tgx_buf b;
        tgx_buf_init(&b, 1u << 20);
        if (rnd(8) == 0) put(&b, " ");
        gen_object(&b, 0);
        if (rnd(8) == 0) put(&b, "\n");
        if (rnd(4) == 0 && b.len) b.data[rnd((unsigned)b.len)] = "\"{}:,\\x"[rnd(7)]; /* one byte broken */
        bad += !same(b.data ? b.data : "", b.len);
        tgx_buf_free(&b);
    }
    TG_CHECK_EQ_U(bad, 0);
    TG_CHECK(taken > 10000);
}

int main(void) {
    TG_RUN(test_answers);
    TG_RUN(test_random);
    return tg_test_summary();
}
