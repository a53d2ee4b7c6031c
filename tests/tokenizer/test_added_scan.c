/* test_added_scan.c: the added-token scan (added_tokens.c: candidate starts
 * found 64 positions at a time, taken off a bit mask, then the trie walk)
 * against a plain leftmost-longest search over the token list, on random
 * texts built from the tokens' pieces, with token sets of 1, 2..8 and more
 * than 8 distinct first bytes (the memchr, vector and table paths). The HF
 * rules on top (flags) are checked by the tokenizer exactness tests. */
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "tokenizer/added_tokens.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

typedef struct seg {
    size_t start, end;
    uint32_t id;
} seg;

typedef struct segs {
    seg v[1024];
    size_t n;
} segs;

static tg_status collect(void *ctx, size_t start, size_t end, uint32_t id) {
    segs *g = ctx;
    if (g->n < sizeof g->v / sizeof g->v[0]) g->v[g->n++] = (seg){start, end, id};
    return TG_OK;
}

/* The reference: at each position the longest token (the first listed among
 * equal contents), the leftmost position first. */
static void ref_split(const char *const *tok, size_t nt, const uint8_t *s, size_t n, segs *g) {
    size_t offset = 0, pos = 0;
    g->n = 0;
    while (pos < n) {
        size_t best_len = 0, best = 0, at = n;
        for (size_t i = pos; i < n && !best_len; i++)
            for (size_t k = 0; k < nt; k++) {
                size_t l = strlen(tok[k]);
                if (l > best_len && l <= n - i && memcmp(s + i, tok[k], l) == 0) {
                    best_len = l;
                    best = k;
                    at = i;
                }
            }
        if (!best_len) break;
        if (offset < at) collect(g, offset, at, TG__NO_ID);
        collect(g, at, at + best_len, (uint32_t)(1000 + best));
        offset = pos = at + best_len;
    }
    if (offset < n) collect(g, offset, n, TG__NO_ID);
}

static const char *const pool[] = {
    "<", "<b>", "</b>", "<unused0>", "<unused01>", "\n", "\n\n", "\n\n\n", "\t", "\t\t", "\xE2\x96\x81\xE2\x96\x81",
    "[@BOS@]", "ab", "abc", "b", "xyz", "<b>", "zz", "\xC3\xA9", "q", "{", "}", "#", "!!", "~a", "0", "9a", "@@"};
static const char alphabet[] = "ab<>/\n\t[]@xyz q0{}";

static void run_set(const char *const *tok, size_t nt, int no_avx2) {
    if (nt == 0) return;
    tg__added a;
    memset(&a, 0, sizeof a);
    tg__added_token *at = calloc(nt, sizeof *at);
    tg__trie *trie = tg__trie_new();
    TG_CHECK(trie != NULL && at != NULL);
    if (!trie || !at) {
        tg__trie_free(trie);
        free(at);
        return;
    }
    for (size_t k = 0; k < nt; k++) {
        at[k].id = (uint32_t)(1000 + k);
        TG_CHECK_EQ_I(tg__trie_add(trie, tok[k], strlen(tok[k]), (uint32_t)k), TG_OK);
    }
    if (no_avx2) tg__trie_no_avx2(trie);
    a.tokens = at;
    a.n = nt;
    static uint8_t text[400];
    static segs got, want;
    for (int round = 0; round < 300; round++) {
        size_t len = 0, want_len = rnd() % 360;
        while (len < want_len) {
            if (rnd() % 3 == 0) {
                const char *p = tok[rnd() % nt];
                size_t l = strlen(p);
                if (rnd() % 4 == 0 && l > 1) l = 1 + rnd() % (l - 1); /* a prefix only */
                if (len + l > sizeof text) break;
                memcpy(text + len, p, l);
                len += l;
            } else {
                text[len++] = (uint8_t)alphabet[rnd() % (sizeof alphabet - 1)];
            }
        }
        size_t off = rnd() % 40 < len ? rnd() % 40 : 0; /* starts at several alignments */
        if (off > len) off = 0;
        got.n = 0;
        TG_CHECK_EQ_I(tg__added_split(&a, trie, text + off, len - off, 1, collect, &got), TG_OK);
        ref_split(tok, nt, text + off, len - off, &want);
        TG_CHECK_EQ_U(got.n, want.n);
        for (size_t i = 0; i < got.n && i < want.n; i++) {
            TG_CHECK_EQ_U(got.v[i].start, want.v[i].start);
            TG_CHECK_EQ_U(got.v[i].end, want.v[i].end);
            TG_CHECK_EQ_U(got.v[i].id, want.v[i].id);
        }
    }
    tg__trie_free(trie);
    free(at);
}

static void test_scan_matches_reference(void) {
    size_t np = sizeof pool / sizeof pool[0];
    const char *tok[32];
    for (int set = 0; set < 200; set++) {
        size_t nt = 1 + rnd() % 20;
        if (set % 4 == 0) { /* one first byte: the memchr path */
            static const char *const lt[] = {"<", "<b>", "</b>", "<unused0>", "<unused01>", "<b>"};
            nt = 1 + rnd() % 6;
            for (size_t k = 0; k < nt; k++) tok[k] = lt[rnd() % 6];
        } else {
            for (size_t k = 0; k < nt; k++) tok[k] = pool[rnd() % np];
        }
        run_set(tok, nt, 0);
        run_set(tok, nt, 1);
    }
}

int main(void) {
    TG_RUN(test_scan_matches_reference);
    return tg_test_summary();
}
