/*
 * fuzz_sp_raw.c: sp_raw.c (Gemma-3's raw-text encode path: segments cut and
 * looked up in the shared cache straight from the raw bytes) against the
 * usual path it stands in for (the Replace normalizer, the pre-tokenizer,
 * bpe_split.c's cuts on the normalized text, bpe.c), differentially and with
 * no fixtures. tests/tokenizer/test_sp_raw.c does the same on Gemma-3 itself
 * over chosen texts; this target lets libFuzzer pick the texts.
 *
 * The tokenizer is built in memory in Gemma-3's shape (normalizer Replace " "
 * -> "▁", pre-tokenizer Split on " " MergedWithPrevious, BPE with unk and
 * byte_fallback, merges as pairs): a small vocabulary where some lowercase
 * letters are missing (byte fallback) and "q", "x", "z" are one-char tokens
 * no merge touches (so the ASCII cut rule fires and the SIMD scan's skip set
 * excludes them); merges of "▁" runs, "▁" + letters, every pair of the other
 * letters, a few punctuation pairs, and nine "x▁" cross tokens (">▁</", "e▁t",
 * "s▁▁", "the▁", ...) that bpe_split.c lists and must not cut across; added
 * tokens "<start_of_turn>", "<end_of_turn>" (special), "<mask>", "\n", "\n\n"
 * (not special). Init asserts the raw path applies (tg__sp_raw_applies) with
 * its skip set, the cross tokens and both kinds of ASCII pair.
 *
 * It is loaded three times: "raw" takes sp_raw.c, "ref" has it switched off
 * (sp_raw.ws_id = TG__NO_ID, as test_sp_raw.c does), "whole" has bpe_split.c
 * off too (bpe.ws_split = 0: each segment is one BPE word), each with its own
 * cache. For every input, with and without special tokens parsed: encoded by
 * ref, by raw twice (misses, then the cache hits left by the first call and
 * by earlier inputs) and, for inputs up to 2 KiB, by whole; the statuses must
 * agree (invalid UTF-8 is refused by both) and so must the ids, else abort
 * with the first differing position. One valid input in 32 (by a hash of its
 * bytes, so a replay does the same) is also encoded repeated to over 64 KiB
 * (by ref and raw, once each): sp_raw.c's per-call front caches only run in
 * calls that long, and such a call takes about a second in the fuzz build.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/sp_raw.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WS "\xE2\x96\x81" /* U+2581 */
#define MAXV 640          /* vocabulary entries */
#define MAXM 320          /* merges */
#define WHOLE_MAX 2048    /* inputs up to this long are also encoded unsplit */
#define BIG ((size_t)64 << 10)

static const char *const ADDED[] = {"<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>",
                                    "<end_of_turn>", "<mask>", "\n", "\n\n"};
#define NADDED 9
#define NSPECIAL 6 /* the first six are special */

/* Lowercase letters that are one-char tokens: every pair of PAIRED is merged;
 * q, x and z are merged with nothing (cut against every other letter). The
 * rest (f g j k l m p u v w y) are not in the vocabulary: byte fallback. */
#define PAIRED "abcdehinorst"
#define LONE "qxz"

static char vocab[MAXV][32];
static size_t nvocab;
static int merge_l[MAXM], merge_r[MAXM];
static size_t nmerges;

static int find(const char *s) {
    for (size_t i = 0; i < nvocab; i++)
        if (strcmp(vocab[i], s) == 0) return (int)i;
    return -1;
}

static int add(const char *s) {
    int id = find(s);
    if (id >= 0) return id;
    if (nvocab == MAXV || strlen(s) >= sizeof vocab[0]) abort();
    snprintf(vocab[nvocab], sizeof vocab[0], "%s", s);
    return (int)nvocab++;
}

/* The merge a + b (both already tokens), its result a new token. */
static void merge(const char *a, const char *b) {
    char joined[sizeof vocab[0]];
    int l = find(a), r = find(b);
    if (l < 0 || r < 0 || nmerges == MAXM) {
        fprintf(stderr, "fuzz_sp_raw: bad merge \"%s\" + \"%s\"\n", a, b);
        abort();
    }
    if (snprintf(joined, sizeof joined, "%s%s", a, b) >= (int)sizeof joined) abort();
    (void)add(joined);
    merge_l[nmerges] = l;
    merge_r[nmerges++] = r;
}

static void json_str(tgx_buf *j, const char *s) {
    tgx_buf_putc(j, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') tgx_buf_printf(j, "\\%c", *p);
        else if (*p < 0x20) tgx_buf_printf(j, "\\u%04x", *p);
        else tgx_buf_putc(j, (char)*p);
    }
    tgx_buf_putc(j, '"');
}

static void build_vocab(void) {
    char s[8];
    for (size_t i = 0; i < NADDED; i++) (void)add(ADDED[i]);
    for (unsigned b = 0; b < 256; b++) {
        snprintf(s, sizeof s, "<0x%02X>", b);
        (void)add(s);
    }
    (void)add(WS);
    (void)add("\t");
    for (int c = 0x21; c < 0x7F; c++) {
        if (c >= 'a' && c <= 'z' && !strchr(PAIRED LONE, c)) continue;
        s[0] = (char)c;
        s[1] = 0;
        (void)add(s);
    }
    static const char *const other[] = {"\xC3\xA9", "\xC3\xBC", "\xE4\xB8\xAD", "\xE6\x96\x87",
                                        "\xE2\x80\x94", "\xE2\x96\x82"}; /* é ü 中 文 — ▂ */
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) (void)add(other[i]);
}

static void build_merges(void) {
    static const char *const first[][2] = {
        {WS, WS}, {WS WS, WS WS}, {WS WS, WS}, {WS WS WS WS, WS WS WS WS}, {WS, "t"}, {WS "t", "h"},
        {WS "th", "e"}, {WS, "a"}, {WS, "<"}, {WS, "\xE4\xB8\xAD"}, {WS, "x"}};
    for (size_t i = 0; i < sizeof first / sizeof *first; i++) merge(first[i][0], first[i][1]);
    for (const char *a = PAIRED; *a; a++)
        for (const char *c = PAIRED; *c; c++) {
            char l[2] = {*a, 0}, r[2] = {*c, 0};
            merge(l, r);
        }
    static const char *const last[][2] = {
        {"th", "e"}, {"e", WS}, {"e" WS, "t"}, {"s", WS WS}, {"the", WS}, {"x", WS}, {".", WS}, {",", WS},
        {"<", "/"}, {">", WS}, {">" WS, "</"}, {"(", ")"}, {"-", ">"}, {"/", "/"}, {":", ":"}, {"0", "0"},
        {"\t", "\t"}, {"\xC3\xA9", "t"}, {"\xE4\xB8\xAD", "\xE6\x96\x87"}, {"T", "h"}};
    for (size_t i = 0; i < sizeof last / sizeof *last; i++) merge(last[i][0], last[i][1]);
}

static tg_tokenizer *load(const tgx_buf *j) {
    tg_tokenizer *t = NULL;
    tg_error err;
    if (tg_tokenizer_load_buffer(j->data, j->len, NULL, 0, &t, &err) != TG_OK) {
        fprintf(stderr, "fuzz_sp_raw: built-in tokenizer refused: %s\n", err.msg);
        abort();
    }
    return t;
}

static tg_tokenizer *raw_t, *ref_t, *whole_t;

static void check_setup(const tg_tokenizer *t) {
    const tg__bpe *b = &t->bpe;
    const char *why = !tg__sp_raw_applies(t)           ? "tg__sp_raw_applies does not hold"
                      : t->sp_raw.ws_id == TG__NO_ID   ? "no id for U+2581"
                      : b->n_cross != 9                ? "not the 9 cross tokens"
                      : !t->sp_raw.skip                ? "no skip set (SIMD scan off)"
                      : !(b->ascii_cut['a']['q' >> 6] >> ('q' & 63) & 1) ? "\"aq\" not cut"
                      : b->ascii_cut['a']['b' >> 6] >> ('b' & 63) & 1    ? "\"ab\" cut"
                                                                         : NULL;
    if (why) {
        fprintf(stderr, "fuzz_sp_raw: built-in tokenizer: %s\n", why);
        abort();
    }
}

static void init(void) {
    build_vocab();
    build_merges();
    tgx_buf j;
    tgx_buf_init(&j, (size_t)1 << 22);
    tgx_buf_puts(&j, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
    for (size_t i = 0; i < NADDED; i++) {
        tgx_buf_printf(&j, "%s{\"id\":%zu,\"content\":", i ? "," : "", i);
        json_str(&j, ADDED[i]);
        tgx_buf_printf(&j, ",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
                           "\"special\":%s}", i < NSPECIAL ? "true" : "false");
    }
    tgx_buf_puts(&j, "],\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"" WS "\"},"
                     "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"String\":\" \"},"
                     "\"behavior\":\"MergedWithPrevious\",\"invert\":false},\"post_processor\":null,"
                     "\"decoder\":null,\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\","
                     "\"continuing_subword_prefix\":null,\"end_of_word_suffix\":null,\"fuse_unk\":true,"
                     "\"byte_fallback\":true,\"ignore_merges\":false,\"vocab\":{");
    for (size_t i = 0; i < nvocab; i++) {
        if (i) tgx_buf_putc(&j, ',');
        json_str(&j, vocab[i]);
        tgx_buf_printf(&j, ":%zu", i);
    }
    tgx_buf_puts(&j, "},\"merges\":[");
    for (size_t i = 0; i < nmerges; i++) {
        tgx_buf_puts(&j, i ? ",[" : "[");
        json_str(&j, vocab[merge_l[i]]);
        tgx_buf_putc(&j, ',');
        json_str(&j, vocab[merge_r[i]]);
        tgx_buf_putc(&j, ']');
    }
    tgx_buf_puts(&j, "]}}");
    raw_t = load(&j);
    ref_t = load(&j);
    whole_t = load(&j);
    tgx_buf_free(&j);
    check_setup(raw_t);
    ref_t->sp_raw.ws_id = TG__NO_ID;   /* the usual path */
    whole_t->sp_raw.ws_id = TG__NO_ID; /* the usual path, and */
    whole_t->bpe.ws_split = 0;         /* no bpe_split.c cuts */
}

static void fail(const char *what, const uint8_t *s, size_t n, unsigned flags, const char *msg) {
    fprintf(stderr, "fuzz_sp_raw: %s (flags %u) on %zu bytes: \"%.*s\"%s\n", what, flags, n,
            (int)(n < 300 ? n : 300), (const char *)s, n < 300 ? "" : "...");
    if (msg) fprintf(stderr, "  %s\n", msg);
    abort();
}

/* ids of t on s against want (from ref_t with status want_st). */
static void compare(const tg_tokenizer *t, const char *what, const uint8_t *s, size_t n, unsigned flags,
                    tg_status want_st, const tg_tokens *want) {
    tg_tokens got = {0};
    tg_error err = {0};
    tg_status st = tg_tokenizer_encode(t, (const char *)s, n, flags, &got, &err);
    char msg[sizeof err.msg + 128];
    if (st != want_st) {
        snprintf(msg, sizeof msg, "status %d, usual path %d: %s", (int)st, (int)want_st, err.msg);
        fail(what, s, n, flags, msg);
    }
    if (st == TG_OK) {
        size_t i = 0, m = got.len < want->len ? got.len : want->len;
        while (i < m && got.ids[i] == want->ids[i]) i++;
        if (i < m || got.len != want->len) {
            snprintf(msg, sizeof msg, "ids differ at %zu of %zu/%zu (usual path): %u vs %u", i, got.len,
                     want->len, i < got.len ? got.ids[i] : 0u, i < want->len ? want->ids[i] : 0u);
            fail(what, s, n, flags, msg);
        }
    }
    tg_tokens_free(&got);
}

static void check(const uint8_t *s, size_t n, unsigned flags, int with_whole, int twice) {
    tg_tokens want = {0};
    tg_error err = {0};
    tg_status st = tg_tokenizer_encode(ref_t, (const char *)s, n, flags, &want, &err);
    compare(raw_t, "raw path differs", s, n, flags, st, &want);
    if (twice) compare(raw_t, "raw path differs on the second call", s, n, flags, st, &want);
    if (with_whole) compare(whole_t, "unsplit BPE differs", s, n, flags, st, &want);
    tg_tokens_free(&want);
}

static uint64_t fnv(const uint8_t *s, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001B3ull;
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!raw_t) init();
    check(data, size, 0, size <= WHOLE_MAX, 1);
    if (!tgx_utf8_valid(data, size, NULL)) return 0; /* refused by both: compared once */
    check(data, size, TG_ENCODE_NO_PARSE_SPECIAL, size <= WHOLE_MAX, 1);
    if (size == 0 || size > 4096 || fnv(data, size) % 32 != 0) return 0;
    size_t reps = BIG / size + 1;
    uint8_t *big = malloc(reps * size);
    if (!big) abort();
    for (size_t r = 0; r < reps; r++) memcpy(big + r * size, data, size);
    check(big, reps * size, 0, 0, 0); /* the front caches (calls of 64 KiB or more); ~1 s under ASan */
    free(big);
    return 0;
}
