/*
 * hf_corpus_check.h: proves tokgate's tokenizers exact against HF tokenizers
 * (npm `tokenizers` 0.23.2, the Rust library) at scale, in one process. One
 * ctest per tokenizer family and docset group includes it and calls
 * hf_corpus_main(which, docsets): test_hf_corpus_<family>_text.c (corpus and
 * generic edge cases) and _vocab.c (the per-tokenizer edge cases) for qwen3,
 * llama3 and gemma3, and test_hf_corpus_extra.c (the files named in
 * TG_EXTRA_TOKENIZERS, every docset; none given: nothing to check, passes),
 * so each has its own time budget and ctest -j runs them side by side.
 *
 * tests/tokenizer/hf_prepare.sh builds or finds the inputs: the >= 20 MB mixed
 * corpus (scripts/make-corpus.sh), the generic and per-tokenizer edge cases
 * (scripts/make-edge-cases.js) and HF's answers for each (ref_encode.js,
 * cached under $TG_CACHE/ref). It covers Qwen3, Llama-3 and Gemma-3
 * tokenizer.json and every file in TG_EXTRA_TOKENIZERS. For every document
 * this test checks, against HF:
 *
 *   encode(text, add_special_tokens=False) ids, token for token
 *   encode(text, add_special_tokens=True)  ids
 *   count == the number of ids
 *   decode(HF's ids, skip_special_tokens=False) bytes, for both id lists
 *   the streaming detokenizer fed HF's ids one at a time: the concatenation
 *   of its output equals HF's decode
 *
 * Every mismatch is a failure. The first few per docset print the document,
 * the first differing position, a window of expected and actual ids with
 * their vocabulary pieces, and the text around that position.
 *
 * Knobs (environment):
 *   TG_HF_DOCSETS   docsets to run (default "corpus generic vocab"; see
 *                   hf_prepare.sh)
 *   TG_HF_SAMPLE    check every Nth document only. Default: all in normal
 *                   builds; in sanitizer builds (ASan makes each call far
 *                   slower) every 13th, and fewer in the big docsets of tiny
 *                   documents (at most about 1500 per docset), so `make test`
 *                   stays inside the CI budget while the release build
 *                   proves every document.
 *   TG_EXTRA_TOKENIZERS  colon-separated tokenizer.json paths to add
 */
#ifndef TG_TESTS_HF_CORPUS_CHECK_H
#define TG_TESTS_HF_CORPUS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tg_test.h"
#include "tgdocs.h"
#include "tokgate/tokenizer.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif
#define SANITIZED_STRIDE 13
#define SANITIZED_MAX_DOCS 1500

#define MAX_REPORTS 5      /* detailed mismatch reports per docset and check */
#define WINDOW_BEFORE 6
#define WINDOW_AFTER 10

typedef struct slow_doc {
    double secs;
    size_t index;
} slow_doc;

#define N_SLOW 3

typedef struct counters {
    size_t docs, bytes, tokens;
    slow_doc slow[N_SLOW]; /* the slowest documents (informational) */
    double t_encode, t_decode, t_stream;
    size_t bad_plain, bad_special, bad_count, bad_decode, bad_decode_special, bad_stream, errors;
} counters;

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_piece(const tg_tokenizer *t, uint32_t id) {
    const char *piece;
    size_t len;
    if (tg_tokenizer_token_piece(t, id, &piece, &len)) {
        fputc('"', stderr);
        tgd_print_escaped(stderr, piece, len);
        fputc('"', stderr);
    } else {
        fputs("?", stderr);
    }
}

static void print_ids_window(const tg_tokenizer *t, const char *label, const uint32_t *ids, size_t n,
                             size_t from, size_t to) {
    fprintf(stderr, "    %s (%zu ids):", label, n);
    if (from > 0) fputs(" ...", stderr);
    for (size_t i = from; i < to && i < n; i++) {
        fprintf(stderr, " %u=", ids[i]);
        print_piece(t, ids[i]);
    }
    if (to < n) fputs(" ...", stderr);
    fputc('\n', stderr);
}

/* Reports the first difference between expected and actual ids, with the
 * text around it (located by decoding the expected prefix). */
static void report_ids(const tg_tokenizer *t, const char *pair, const char *check, const tgd_doc *d,
                       const uint32_t *want, size_t nwant, const uint32_t *got, size_t ngot) {
    size_t i = 0;
    while (i < nwant && i < ngot && want[i] == got[i]) i++;
    fprintf(stderr, "MISMATCH %s %s doc \"%.*s\" (%zu bytes): first difference at id %zu\n", pair,
            check, (int)d->name_len, d->name, d->len, i);
    size_t from = i > WINDOW_BEFORE ? i - WINDOW_BEFORE : 0;
    print_ids_window(t, "HF     ", want, nwant, from, i + WINDOW_AFTER);
    print_ids_window(t, "tokgate", got, ngot, from, i + WINDOW_AFTER);
    char *prefix = NULL;
    size_t plen = 0;
    if (tg_tokenizer_decode(t, want, i, 0, &prefix, &plen, NULL) == TG_OK) {
        size_t at = plen < d->len ? plen : d->len;
        size_t a = at > 60 ? at - 60 : 0;
        size_t b = d->len - at > 100 ? at + 100 : d->len;
        fprintf(stderr, "    text near byte %zu: \"", at);
        tgd_print_escaped(stderr, d->text + a, at - a);
        fputs("\" >>> \"", stderr);
        tgd_print_escaped(stderr, d->text + at, b - at);
        fputs("\"\n", stderr);
        tg_text_free(prefix);
    }
}

static void report_text(const char *pair, const char *check, const tgd_doc *d, const char *want,
                        size_t nwant, const char *got, size_t ngot) {
    size_t i = 0;
    while (i < nwant && i < ngot && want[i] == got[i]) i++;
    size_t a = i > 40 ? i - 40 : 0;
    fprintf(stderr, "MISMATCH %s %s doc \"%.*s\": %zu vs %zu bytes, first difference at byte %zu\n",
            pair, check, (int)d->name_len, d->name, nwant, ngot, i);
    fputs("    HF     : \"", stderr);
    tgd_print_escaped(stderr, want + a, (nwant - a < 120 ? nwant - a : 120));
    fputs("\"\n    tokgate: \"", stderr);
    tgd_print_escaped(stderr, got + a, (ngot > a ? (ngot - a < 120 ? ngot - a : 120) : 0));
    fputs("\"\n", stderr);
}

static int ids_equal(const uint32_t *a, size_t na, const tg_tokens *b) {
    return na == b->len && (na == 0 || memcmp(a, b->ids, na * sizeof *a) == 0);
}

static int text_equal(const char *a, size_t na, const char *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

static void report_error(counters *c, const char *pair, const char *what, const tgd_doc *d,
                         const tg_error *err) {
    if (c->errors++ < MAX_REPORTS) {
        fprintf(stderr, "ERROR %s %s doc \"%.*s\": %s\n", pair, what, (int)d->name_len, d->name,
                err->msg);
    }
}

/* Decodes ids through the streaming detokenizer, one id at a time, into out. */
static tg_status stream_decode(const tg_tokenizer *t, const uint32_t *ids, size_t n, tgx_buf *out,
                               tg_error *err) {
    tg_detok *dt = NULL;
    tg_status st = tg_detok_new(t, 0, &dt, err);
    const char *piece;
    size_t len;
    for (size_t i = 0; st == TG_OK && i < n; i++) {
        st = tg_detok_feed(dt, ids[i], &piece, &len, err);
        if (st == TG_OK) st = tgx_buf_append(out, piece, len);
    }
    if (st == TG_OK) st = tg_detok_finish(dt, &piece, &len, err);
    if (st == TG_OK) st = tgx_buf_append(out, piece, len);
    tg_detok_free(dt);
    return st;
}

static void check_doc(const tg_tokenizer *t, const char *pair, const tgd_doc *d, size_t index,
                      const tgd_ref *r, counters *c, tgx_buf *sbuf) {
    tg_error err = {0};
    uint32_t *want = tgd_ids_copy(&r->plain);
    uint32_t *want_sp = tgd_ids_copy(&r->special);
    if (!want || !want_sp) {
        c->errors++;
        free(want);
        free(want_sp);
        return;
    }
    c->docs++;
    c->bytes += d->len;
    c->tokens += r->plain.n;

    double t0 = now_sec();
    tg_tokens got = {0};
    if (tg_tokenizer_encode(t, d->text, d->len, 0, &got, &err) != TG_OK) {
        report_error(c, pair, "encode", d, &err);
    } else if (!ids_equal(want, r->plain.n, &got)) {
        if (c->bad_plain++ < MAX_REPORTS)
            report_ids(t, pair, "encode", d, want, r->plain.n, got.ids, got.len);
    }
    tg_tokens_free(&got);

    tg_tokens got_sp = {0};
    if (tg_tokenizer_encode(t, d->text, d->len, TG_ENCODE_ADD_SPECIAL, &got_sp, &err) != TG_OK) {
        report_error(c, pair, "encode(add_special)", d, &err);
    } else if (!ids_equal(want_sp, r->special.n, &got_sp)) {
        if (c->bad_special++ < MAX_REPORTS)
            report_ids(t, pair, "encode(add_special)", d, want_sp, r->special.n, got_sp.ids, got_sp.len);
    }
    tg_tokens_free(&got_sp);

    size_t count = 0;
    if (tg_tokenizer_count(t, d->text, d->len, 0, &count, &err) != TG_OK) {
        report_error(c, pair, "count", d, &err);
    } else if (count != r->plain.n) {
        if (c->bad_count++ < MAX_REPORTS)
            fprintf(stderr, "MISMATCH %s count doc \"%.*s\": HF %zu, tokgate %zu\n", pair,
                    (int)d->name_len, d->name, r->plain.n, count);
    }

    double t1 = now_sec();
    char *text = NULL;
    size_t len = 0;
    if (tg_tokenizer_decode(t, want, r->plain.n, 0, &text, &len, &err) != TG_OK) {
        report_error(c, pair, "decode", d, &err);
    } else {
        if (!text_equal(r->dec_plain, r->dec_plain_len, text, len) && c->bad_decode++ < MAX_REPORTS)
            report_text(pair, "decode", d, r->dec_plain, r->dec_plain_len, text, len);
        tg_text_free(text);
    }
    if (tg_tokenizer_decode(t, want_sp, r->special.n, 0, &text, &len, &err) != TG_OK) {
        report_error(c, pair, "decode(special ids)", d, &err);
    } else {
        if (!text_equal(r->dec_special, r->dec_special_len, text, len) &&
            c->bad_decode_special++ < MAX_REPORTS)
            report_text(pair, "decode(special ids)", d, r->dec_special, r->dec_special_len, text, len);
        tg_text_free(text);
    }

    double t2 = now_sec();
    tgx_buf_reset(sbuf);
    if (stream_decode(t, want, r->plain.n, sbuf, &err) != TG_OK) {
        report_error(c, pair, "streaming decode", d, &err);
    } else if (!text_equal(r->dec_plain, r->dec_plain_len, sbuf->data, sbuf->len) &&
               c->bad_stream++ < MAX_REPORTS) {
        report_text(pair, "streaming decode", d, r->dec_plain, r->dec_plain_len, sbuf->data, sbuf->len);
    }
    double t3 = now_sec();
    c->t_encode += t1 - t0;
    c->t_decode += t2 - t1;
    c->t_stream += t3 - t2;
    slow_doc me = {t3 - t0, index};
    for (size_t k = 0; k < N_SLOW; k++) {
        if (me.secs > c->slow[k].secs) {
            slow_doc tmp = c->slow[k];
            c->slow[k] = me;
            me = tmp;
        }
    }
    free(want);
    free(want_sp);
}

/* A loaded tokenizer, reused across the docsets of the same file. */
static char cur_path[4096];
static tg_tokenizer *cur_tok;

static const tg_tokenizer *tokenizer_for(const char *path) {
    if (cur_tok && strcmp(cur_path, path) == 0) return cur_tok;
    tg_tokenizer_free(cur_tok);
    cur_tok = NULL;
    cur_path[0] = '\0';
    tg_error err = {0};
    double t0 = now_sec();
    if (tg_tokenizer_load(path, &cur_tok, &err) != TG_OK) {
        fprintf(stderr, "ERROR loading %s: %s\n", path, err.msg);
        return NULL;
    }
    fprintf(stderr, "loaded %s in %.3f s\n", path, now_sec() - t0);
    snprintf(cur_path, sizeof cur_path, "%s", path);
    return cur_tok;
}

/* sample: the stride; 0 picks the default for this build (see top). */
static int run_pair(const char *pair, const char *tokpath, const char *docpath, const char *refpath,
                    size_t sample) {
    const tg_tokenizer *t = tokenizer_for(tokpath);
    if (!t) return 0;
    tg_error err = {0};
    tgd_docset ds;
    tgd_refset rs;
    if (tgd_docset_load(docpath, &ds, &err) != TG_OK) {
        fprintf(stderr, "ERROR %s: %s\n", pair, err.msg);
        return 0;
    }
    if (tgd_refset_load(refpath, &rs, &err) != TG_OK) {
        fprintf(stderr, "ERROR %s: %s\n", pair, err.msg);
        tgd_docset_free(&ds);
        return 0;
    }
    int ok = 1;
    if (ds.n != rs.n) {
        fprintf(stderr, "ERROR %s: %zu documents but %zu expectations\n", pair, ds.n, rs.n);
        ok = 0;
    }
    if (sample == 0) {
        sample = 1;
        if (SANITIZED) {
            sample = (ds.n + SANITIZED_MAX_DOCS - 1) / SANITIZED_MAX_DOCS;
            if (sample < SANITIZED_STRIDE) sample = SANITIZED_STRIDE;
        }
    }
    if (sample > 1) fprintf(stderr, "%s: checking every %zu-th document (TG_HF_SAMPLE=1 for all)\n", pair, sample);
    counters c = {0};
    tgx_buf sbuf;
    tgx_buf_init(&sbuf, (size_t)1 << 30);
    double t0 = now_sec();
    for (size_t i = 0; ok && i < ds.n; i += sample) check_doc(t, pair, &ds.docs[i], i, &rs.refs[i], &c, &sbuf);
    double secs = now_sec() - t0;
    tgx_buf_free(&sbuf);
    size_t bad = c.bad_plain + c.bad_special + c.bad_count + c.bad_decode + c.bad_decode_special +
                 c.bad_stream + c.errors;
    fprintf(stderr,
            "%-16s %7zu docs %9zu bytes %8zu tokens  mismatches: encode %zu, add_special %zu, "
            "count %zu, decode %zu, decode(special) %zu, stream %zu, errors %zu  (%.1f s)\n",
            pair, c.docs, c.bytes, c.tokens, c.bad_plain, c.bad_special, c.bad_count, c.bad_decode,
            c.bad_decode_special, c.bad_stream, c.errors, secs);
    fprintf(stderr, "    time: encode x2 + count %.1f s, decode x2 %.1f s, stream %.1f s; slowest:", c.t_encode,
            c.t_decode, c.t_stream);
    for (size_t k = 0; k < N_SLOW && c.slow[k].secs > 0; k++) {
        const tgd_doc *d = &ds.docs[c.slow[k].index];
        fprintf(stderr, " %.*s (%zu bytes) %.2f s;", (int)d->name_len, d->name, d->len, c.slow[k].secs);
    }
    fputc('\n', stderr);
    tgd_refset_free(&rs);
    tgd_docset_free(&ds);
    TG_CHECK_EQ_U(bad, 0);
    return ok && bad == 0;
}

/* which: "qwen3", "llama3", "gemma3" or "extra" (hf_prepare.sh's selector);
 * docsets: the default TG_HF_DOCSETS for this test (an explicit TG_HF_DOCSETS
 * in the environment wins). */
static int hf_corpus_main(const char *which, const char *docsets) {
    const char *src = getenv("TG_SOURCE_DIR");
    const char *s = getenv("TG_HF_SAMPLE");
    size_t sample = s ? (size_t)strtoul(s, NULL, 10) : 0;
    char cmd[4600];
    const char *ds_env = getenv("TG_HF_DOCSETS");
    snprintf(cmd, sizeof cmd, "TG_HF_DOCSETS='%s' bash '%s/tests/tokenizer/hf_prepare.sh' %s",
             ds_env ? ds_env : docsets, src ? src : ".", which);
    FILE *p = popen(cmd, "r");
    if (!p) {
        fprintf(stderr, "cannot run %s\n", cmd);
        return 1;
    }
    char line[16384];
    int pairs = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        char *f[4];
        char *q = line;
        int nf = 0;
        for (; nf < 4 && q; nf++) {
            f[nf] = q;
            q = strchr(q, '\t');
            if (q) *q++ = '\0';
        }
        if (nf != 4) {
            fprintf(stderr, "hf_prepare.sh printed an unexpected line: %s\n", line);
            tg_test_failed++;
            continue;
        }
        pairs++;
        if (run_pair(f[0], f[1], f[2], f[3], sample)) tg_test_passed++;
        else { tg_test_failed++; fprintf(stderr, "FAIL %s\n", f[0]); }
    }
    int rc = pclose(p);
    if (pairs == 0 && rc == 0 && strcmp(which, "extra") == 0) {
        fprintf(stderr, "no TG_EXTRA_TOKENIZERS given: nothing to check\n");
    } else if (rc != 0 || pairs == 0) {
        fprintf(stderr, "hf_prepare.sh failed (status %d, %d docsets): the reference material is missing\n",
                rc, pairs);
        tg_test_failed++;
    }
    tg_tokenizer_free(cur_tok);
    return tg_test_summary();
}

#endif
