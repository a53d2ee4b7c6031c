/*
 * test_llama_vectors.c: llama.cpp's own tokenizer vectors, run on tokgate's
 * GGUF-loaded tokenizers.
 *
 * For every $TG_FIXTURES/llama.cpp/models/ggml-vocab-*.gguf with .inp/.out
 * beside it: .inp holds the test strings, each followed by
 * "\n__ggml_vocab_test__\n" (exact bytes: empty and whitespace-only strings
 * count); .out holds one line per string, the ids HF tokenizers gave
 * (space-separated). This reads them as llama.cpp's tests/test-tokenizer-0.cpp
 * does and encodes as it does: add_special = false, parse_special = false
 * (TG_ENCODE_NO_PARSE_SPECIAL). Every mismatch fails and prints the string,
 * the expected and the actual ids.
 *
 * Vocabularies whose tokenizer.ggml.model tokgate does not implement (bert =
 * WordPiece, t5 = Unigram) must be refused at load with TG_EUNSUPPORTED; they
 * are listed, not failed. Any BPE ("gpt2", "gemma4") or SentencePiece
 * ("llama") vocabulary that fails to load or to match is a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "tokgate/gguf.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"
#include "vocab_list.h"

#define SEP "\n__ggml_vocab_test__\n"

/* Known divergences, each with its reason. A listed case that mismatches is
 * reported as XFAIL; one that starts to match fails the test (XPASS), so the
 * list only ever shrinks. */
static const struct xfail {
    const char *vocab, *input, *reason;
} k_xfail[] = {
    /* (none now: Falcon's Digits after ByteLevel runs on the byte-level text, as in HF) */
    {NULL, NULL, NULL},
};

static const char *xfail_reason(const char *vocab, const char *s, size_t n) {
    const char *base = strrchr(vocab, '/');
    base = base ? base + 1 : vocab;
    for (size_t i = 0; i < sizeof k_xfail / sizeof k_xfail[0]; i++) {
        if (k_xfail[i].vocab && strcmp(base, k_xfail[i].vocab) == 0 && strlen(k_xfail[i].input) == n &&
            memcmp(k_xfail[i].input, s, n) == 0)
            return k_xfail[i].reason;
    }
    return NULL;
}
#define MAX_REPORTS 8

static void print_escaped(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stderr);
        else if (c == '\r') fputs("\\r", stderr);
        else if (c == '\t') fputs("\\t", stderr);
        else if (c < 0x20 || c == 0x7f) fprintf(stderr, "\\x%02x", c);
        else fputc(c, stderr);
    }
}

static void print_ids(const char *label, const uint32_t *ids, size_t n) {
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %u", ids[i]);
    fputc('\n', stderr);
}

/* Parses one .out line ("12 34 5", maybe surrounded by spaces) into ids. */
static size_t parse_ids(const char *s, size_t n, uint32_t *ids, size_t cap, int *bad) {
    size_t k = 0, i = 0;
    *bad = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\r' || s[i] == '\t')) i++;
        if (i >= n) break;
        unsigned long v = 0;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9' && v < 100000000ul) v = v * 10 + (unsigned long)(s[i++] - '0');
        if (i == start || (i < n && s[i] != ' ' && s[i] != '\r' && s[i] != '\t') || k == cap) {
            *bad = 1;
            return k;
        }
        ids[k++] = (uint32_t)v;
    }
    return k;
}

/* The GGUF's tokenizer.ggml.model, into buf. */
static void model_name(const char *path, char *buf, size_t cap) {
    tg_gguf *g = NULL;
    tg_gguf_str s;
    snprintf(buf, cap, "?");
    if (tg_gguf_open_file(path, &g, NULL) != TG_OK) return;
    if (tg_gguf_get_str(g, "tokenizer.ggml.model", &s, NULL) == TG_OK)
        snprintf(buf, cap, "%.*s", (int)(s.len < 40 ? s.len : 40), s.ptr);
    tg_gguf_close(g);
}

static int supported_model(const char *m) {
    return strcmp(m, "gpt2") == 0 || strcmp(m, "llama") == 0 || strcmp(m, "gemma4") == 0;
}

/* Runs one vocabulary's vectors; returns the number of failures. */
static int run_vocab(const char *gguf, size_t *n_cases, int *unsupported) {
    char inp[4600], outp[4600], model[64];
    snprintf(inp, sizeof inp, "%s.inp", gguf);
    snprintf(outp, sizeof outp, "%s.out", gguf);
    model_name(gguf, model, sizeof model);
    *n_cases = 0;
    *unsupported = 0;

    tg_error err = {0};
    tg_tokenizer *t = NULL;
    tg_status st = tg_tokenizer_load(gguf, &t, &err);
    if (!supported_model(model)) {
        if (st == TG_EUNSUPPORTED) {
            fprintf(stderr, "  unsupported (model %s): %s\n", model, err.msg);
            *unsupported = 1;
            tg_tokenizer_free(t);
            return 0;
        }
        fprintf(stderr, "  model %s should be refused with TG_EUNSUPPORTED, got status %d\n", model, (int)st);
        tg_tokenizer_free(t);
        return 1;
    }
    if (st != TG_OK) {
        fprintf(stderr, "  FAILED to load (model %s): %s\n", model, err.msg);
        return 1;
    }

    tgx_buf ib, ob;
    tgx_buf_init(&ib, (size_t)64 << 20);
    tgx_buf_init(&ob, (size_t)64 << 20);
    int fails = 0;
    if (tgx_read_file(inp, ib.max, &ib, &err) != TG_OK || tgx_read_file(outp, ob.max, &ob, &err) != TG_OK) {
        fprintf(stderr, "  cannot read vectors: %s\n", err.msg);
        fails = 1;
        goto done;
    }
    /* Split .inp exactly as test-tokenizer-0.cpp: on SEP; a tail without
     * SEP is one more string. */
    size_t ipos = 0, opos = 0, sep_len = sizeof SEP - 1;
    const char *ip = ib.data ? ib.data : "";
    const char *op = ob.data ? ob.data : "";
    uint32_t *want = malloc(65536 * sizeof *want);
    if (!want) { fails = 1; goto done; }
    while (ipos < ib.len) {
        const char *next = NULL;
        for (size_t k = ipos; k + sep_len <= ib.len; k++) {
            if (ip[k] == '\n' && memcmp(ip + k, SEP, sep_len) == 0) { next = ip + k; break; }
        }
        size_t slen = next ? (size_t)(next - (ip + ipos)) : ib.len - ipos;
        const char *s = ip + ipos;
        ipos = next ? (size_t)(next - ip) + sep_len : ib.len;

        if (opos >= ob.len) {
            fprintf(stderr, "  .out has fewer lines than .inp has strings\n");
            fails++;
            break;
        }
        const char *nl = memchr(op + opos, '\n', ob.len - opos);
        size_t llen = nl ? (size_t)(nl - (op + opos)) : ob.len - opos;
        int bad;
        size_t nwant = parse_ids(op + opos, llen, want, 65536, &bad);
        opos += llen + (nl ? 1 : 0);
        if (bad) {
            fprintf(stderr, "  unparsable .out line %zu\n", *n_cases + 1);
            fails++;
            continue;
        }
        (*n_cases)++;
        tg_tokens got = {0};
        st = tg_tokenizer_encode(t, s, slen, TG_ENCODE_NO_PARSE_SPECIAL, &got, &err);
        int ok = st == TG_OK && got.len == nwant && (nwant == 0 || memcmp(got.ids, want, nwant * sizeof *want) == 0);
        const char *xf = xfail_reason(gguf, s, slen);
        if (xf && !ok) {
            fprintf(stderr, "  XFAIL case %zu \"", *n_cases);
            print_escaped(s, slen);
            fprintf(stderr, "\": %s\n", xf);
            print_ids("HF (.out)", want, nwant);
            if (st == TG_OK) print_ids("tokgate  ", got.ids, got.len);
        } else if (xf) {
            fprintf(stderr, "  XPASS case %zu: now matches; remove it from k_xfail\n", *n_cases);
            fails++;
        } else if (!ok) {
            if (fails < MAX_REPORTS) {
                fprintf(stderr, "  MISMATCH case %zu \"", *n_cases);
                print_escaped(s, slen);
                fprintf(stderr, "\"\n");
                print_ids("HF (.out)", want, nwant);
                if (st == TG_OK) print_ids("tokgate  ", got.ids, got.len);
                else fprintf(stderr, "    tokgate error: %s\n", err.msg);
            }
            fails++;
        }
        tg_tokens_free(&got);
    }
    if (fails == 0 && opos < ob.len && strspn(op + opos, "\n") != ob.len - opos) {
        fprintf(stderr, "  .out has more lines than .inp has strings\n");
        fails++;
    }
    free(want);
done:
    tgx_buf_free(&ib);
    tgx_buf_free(&ob);
    tg_tokenizer_free(t);
    return fails;
}

int main(void) {
    char dirpath[4096];
    char *names[256];
    size_t n = tgt_list_vocab_ggufs(dirpath, 1, names, 256);
    if (n == SIZE_MAX) return 1;
    TG_CHECK(n >= 10); /* llama.cpp ships ~16 vocabularies with vectors */
    size_t total = 0, vocabs_ok = 0, unsupported = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        fprintf(stderr, "%s\n", names[i]);
        size_t cases;
        int unsup;
        int fails = run_vocab(path, &cases, &unsup);
        total += cases;
        if (unsup) {
            unsupported++;
        } else if (fails) {
            fprintf(stderr, "FAIL %s: %d of %zu cases\n", names[i], fails, cases);
            tg_test_failed++;
            tg_test_failed_checks++;
        } else {
            fprintf(stderr, "  %zu cases ok\n", cases);
            tg_test_passed++;
            vocabs_ok++;
        }
        free(names[i]);
    }
    fprintf(stderr, "%zu vocabularies passed, %zu unsupported (listed above), %zu cases\n", vocabs_ok, unsupported,
            total);
    return tg_test_summary();
}
