/*
 * test_tokenizer_variants.c: the pipeline pieces one by one against HF
 * tokenizers 0.23.2: Split with every behavior and invert, empty regex
 * matches, Oniguruma dialect (\w, ^, $, ., case folding), ByteLevel with and
 * without its regex and prefix space, Digits, Whitespace, WhitespaceSplit,
 * Punctuation, NFD/NFKC/NFKD/Lowercase/Strip/Replace/Prepend normalizers,
 * TemplateProcessing and RobertaProcessing, a null decoder, ignore_merges,
 * added tokens with lstrip/rstrip/single_word/normalized, Metaspace with each
 * prepend_scheme, the Llama-2 legacy normalizer + Strip decoder, unk with and
 * without fuse_unk.
 *
 * hf_variants.js builds each configuration (hf_variants.json) over two small
 * real vocabularies cut from Qwen3 and Gemma-3, and prints HF's encode and
 * decode results for the cases of hf_cases.json; this test loads the same
 * files and compares, including the streaming detokenizer.
 */
#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tg_test.h"
#include "tokgate/tokenizer.h"

static int same_ids(const tg_tokens *t, const json_t *arr) {
    if (t->len != json_array_size(arr)) return 0;
    for (size_t i = 0; i < t->len; i++)
        if ((json_int_t)t->ids[i] != json_integer_value(json_array_get(arr, i))) return 0;
    return 1;
}

static int decode_ok(const tg_tokenizer *t, const json_t *arr, int skip, const json_t *want) {
    size_t n = json_array_size(arr);
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++) ids[i] = (uint32_t)json_integer_value(json_array_get(arr, i));
    char *text = NULL;
    size_t len = 0;
    tg_error err = {0};
    int ok = tg_tokenizer_decode(t, ids, n, skip, &text, &len, &err) == TG_OK && len == json_string_length(want) &&
             memcmp(text, json_string_value(want), len) == 0;
    tg_text_free(text);
    tg_detok *d = NULL;
    if (ok && tg_detok_new(t, skip, &d, &err) == TG_OK) {
        {
            char *acc = malloc(len * 2 + 64);
            size_t al = 0;
            for (size_t i = 0; i <= n && ok; i++) {
                const char *p;
                size_t pl;
                tg_status st = i < n ? tg_detok_feed(d, ids[i], &p, &pl, &err) : tg_detok_finish(d, &p, &pl, &err);
                if (st || al + pl > len * 2 + 64) { ok = 0; break; }
                memcpy(acc + al, p, pl);
                al += pl;
            }
            if (ok && (al != len || memcmp(acc, json_string_value(want), len) != 0)) {
                fprintf(stderr, "  streaming decode differs from the full decode\n");
                ok = 0;
            }
            free(acc);
        }
        tg_detok_free(d);
    }
    free(ids);
    return ok;
}

static void test_variants(void) {
    const char *bdir = getenv("TG_BUILD_DIR");
    char out[4096], cmd[24000], path[4400];
    snprintf(out, sizeof out, "%s/hf_variants", bdir ? bdir : "/tmp");
    mkdir(out, 0755);
    char cases_path[4096];
    snprintf(cases_path, sizeof cases_path, "%s", tg_source("tests/tokenizer/hf_cases.json"));
    char variants_path[4096];
    snprintf(variants_path, sizeof variants_path, "%s", tg_source("tests/tokenizer/hf_variants.json"));
    char fixtures[4096];
    snprintf(fixtures, sizeof fixtures, "%s", tg_fixture(""));
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s/node_modules' node '%s' '%s' '%s' '%s' '%s'", fixtures,
             tg_source("tests/tokenizer/hf_variants.js"), fixtures, out, cases_path, variants_path);
    json_error_t je;
    json_t *cases = json_load_file(cases_path, JSON_ALLOW_NUL, &je);
    TG_CHECK(cases != NULL);
    FILE *p = popen(cmd, "r");
    TG_CHECK(p != NULL);
    if (!p || !cases) return;
    char *line = NULL, cur[256] = "";
    size_t cap = 0, lines = 0, bad = 0;
    tg_tokenizer *t = NULL;
    tg_error err = {0};
    int load_failed = 0;
    while (getline(&line, &cap, p) > 0) {
        json_t *e = json_loads(line, JSON_ALLOW_NUL, &je);
        if (!e) { TG_CHECK(e != NULL); continue; }
        const char *v = json_string_value(json_object_get(e, "variant"));
        if (!v) { json_decref(e); continue; }
        if (strcmp(v, cur) != 0) {
            tg_tokenizer_free(t);
            t = NULL;
            snprintf(cur, sizeof cur, "%s", v);
            snprintf(path, sizeof path, "%s/%s.json", out, v);
            load_failed = tg_tokenizer_load(path, &t, &err) != TG_OK;
            int hf_refused = json_object_get(e, "error") && !json_object_get(e, "case");
            if (load_failed != hf_refused) {
                fprintf(stderr, "variant %s: tokgate %s, HF %s: %s\n", v, load_failed ? "refused" : "loaded",
                        hf_refused ? "refused" : "loaded", load_failed ? err.msg : json_string_value(json_object_get(e, "error")));
                tg_test_failed_checks++;
            }
        }
        json_t *ci = json_object_get(e, "case");
        if (!t || !ci || json_object_get(e, "error")) { json_decref(e); continue; }
        size_t k = (size_t)json_integer_value(ci);
        const char *s = json_string_value(json_array_get(cases, k));
        size_t sl = json_string_length(json_array_get(cases, k));
        tg_tokens a = {0}, b = {0};
        int ok = tg_tokenizer_encode(t, s, sl, 0, &a, &err) == TG_OK && same_ids(&a, json_object_get(e, "ids")) &&
                 tg_tokenizer_encode(t, s, sl, TG_ENCODE_ADD_SPECIAL, &b, &err) == TG_OK &&
                 same_ids(&b, json_object_get(e, "ids_add"));
        if (!ok) {
            if (bad < 30) {
                char *want = json_dumps(json_object_get(e, "ids"), 0);
                fprintf(stderr, "variant %s case %zu: encode differs: got %zu tokens [", v, k, a.len);
                for (size_t i = 0; i < a.len && i < 20; i++) fprintf(stderr, "%s%u", i ? "," : "", (unsigned)a.ids[i]);
                fprintf(stderr, "] want %s\n", want);
                free(want);
            }
            bad++;
            tg_test_failed_checks++;
        } else if (!decode_ok(t, json_object_get(e, "ids"), 0, json_object_get(e, "dec")) ||
                   !decode_ok(t, json_object_get(e, "ids_add"), 1, json_object_get(e, "dec_skip"))) {
            if (bad < 30) fprintf(stderr, "variant %s case %zu: decode differs (want \"%s\")\n", v, k,
                                  json_string_value(json_object_get(e, "dec")));
            bad++;
            tg_test_failed_checks++;
        }
        tg_tokens_free(&a);
        tg_tokens_free(&b);
        json_decref(e);
        lines++;
    }
    free(line);
    tg_tokenizer_free(t);
    TG_CHECK_EQ_I(pclose(p), 0);
    TG_CHECK(lines > 1000);
    printf("%zu variant cases compared with HF, %zu differ\n", lines, bad);
    json_decref(cases);
}

int main(void) {
    TG_RUN(test_variants);
    return tg_test_summary();
}
