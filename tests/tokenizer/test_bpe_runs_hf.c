/*
 * test_bpe_runs_hf.c: the BPE merge core's run forms (src/tokenizer/bpe_runs.c:
 * batches, the window with its cycles, and every hand-back to the symbol
 * path) against HF tokenizers 0.23.2 under merge lists in any order.
 *
 * bpe_runs_hf.js writes small tokenizers over "a", "b", "c" whose merges of
 * runs of "a" come in Gemma-3's order (longest left part first: HF grows a
 * token at the run's left end one merge at a time), in random orders and
 * random subsets (pairs formed inside a batch that rank lower, merges that
 * reach back into frozen tokens), and in training order, and prints HF's ids
 * for runs of every length 1..700, some long runs, and runs between other
 * symbols; this test encodes the same texts and compares. It also writes
 * tokenizers of random joins over "a".."d" (merges in the order made, and
 * shuffled) with random words of 1023..9001 letters: the rank buckets, their
 * hand-back to the heap, and the pair filter in front of the merge table;
 * and byte-level ones over alphabets of 4..94 bytes with words of lengths
 * around 1024 and 4 m^2 (m distinct bytes): bpe.c's table of the pairs of
 * a word's bytes, made for m <= 64 from that length, against the cache path.
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

static void test_runs_any_order(void) {
    const char *bdir = getenv("TG_BUILD_DIR");
    char out[4096], cmd[16384], path[4400], fixtures[4096], cur[256] = "";
    snprintf(out, sizeof out, "%s/bpe_runs_hf", bdir ? bdir : "/tmp");
    mkdir(out, 0755);
    snprintf(fixtures, sizeof fixtures, "%s", tg_fixture(""));
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s/node_modules' node '%s' '%s'", fixtures,
             tg_source("tests/tokenizer/bpe_runs_hf.js"), out);
    FILE *p = popen(cmd, "r");
    TG_CHECK(p != NULL);
    if (!p) return;
    char *line = NULL;
    size_t cap = 0, lines = 0, bad = 0, toks = 0;
    tg_tokenizer *t = NULL;
    tg_error err = {0};
    json_error_t je;
    while (getline(&line, &cap, p) > 0) {
        json_t *e = json_loads(line, 0, &je);
        const char *name = json_string_value(json_object_get(e, "tok"));
        const char *text = json_string_value(json_object_get(e, "text"));
        if (!e || !name || !text) {
            TG_CHECK(e && name && text);
            json_decref(e);
            continue;
        }
        if (strcmp(name, cur) != 0) {
            tg_tokenizer_free(t);
            t = NULL;
            snprintf(cur, sizeof cur, "%s", name);
            snprintf(path, sizeof path, "%s/%s.json", out, name);
            if (tg_tokenizer_load(path, &t, &err) != TG_OK) {
                fprintf(stderr, "%s: %s\n", path, err.msg);
                tg_test_failed_checks++;
            }
            toks++;
        }
        tg_tokens a = {0};
        if (t && (tg_tokenizer_encode(t, text, strlen(text), 0, &a, &err) != TG_OK ||
                  !same_ids(&a, json_object_get(e, "ids")))) {
            if (bad < 20) {
                fprintf(stderr, "%s, text of %zu bytes (%.12s...): got %zu ids [", name, strlen(text), text, a.len);
                for (size_t i = 0; i < a.len && i < 16; i++) fprintf(stderr, "%s%u", i ? "," : "", (unsigned)a.ids[i]);
                fprintf(stderr, "], HF %zu\n", json_array_size(json_object_get(e, "ids")));
            }
            bad++;
            tg_test_failed_checks++;
        }
        tg_tokens_free(&a);
        json_decref(e);
        lines++;
    }
    free(line);
    tg_tokenizer_free(t);
    TG_CHECK_EQ_I(pclose(p), 0);
    TG_CHECK(toks >= 15);
    TG_CHECK(lines > 10000);
    printf("%zu texts over %zu tokenizers compared with HF, %zu differ\n", lines, toks, bad);
}

int main(void) {
    TG_RUN(test_runs_any_order);
    return tg_test_summary();
}
