/*
 * added_tokens.c: matching added tokens in text, as HF's AddedVocabulary does.
 *
 * HF builds two Aho-Corasick automata with MatchKind::LeftmostLongest: one
 * over the tokens with normalized == false, run on the raw text, and one over
 * the normalized contents of the tokens with normalized == true, run on each
 * normalized text segment between raw matches. Each match then passes
 * find_matches' rules:
 *   - special tokens are skipped when special-token parsing is off
 *     (encode_special_tokens / llama.cpp parse_special=false);
 *   - single_word: the char before and after must not be alphanumeric
 *     (Rust char::is_alphanumeric), else the match is skipped;
 *   - lstrip: the match grows left over whitespace, but not into the
 *     previous match; rstrip: it grows right over whitespace.
 * A skipped match still consumes its text (the automaton's iteration goes on
 * after its end), which tg__added_split reproduces.
 *
 * The automaton here is a byte trie walked from each candidate position:
 * O(n * longest token) worst case. Candidates are the bytes that start some
 * token, found 64 positions at a time with vector compares (block_mask) and
 * taken off a bit mask, or by memchr when one byte starts every token; in
 * practice well under one instruction per byte between candidates.
 */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TG_ADDED_AVX2 1 /* block_mask with AVX2 behind a run-time CPU check */
#endif

#include "tokenizer/added_tokens.h"
#include "tokenizer/unicode_props.h"
#include "util/utf8.h"

typedef struct edge {
    uint8_t byte;
    uint32_t child;
} edge;

typedef struct node {
    edge *edges;
    uint32_t n_edges, cap;
    uint32_t token; /* token index + 1, 0: none */
} node;

struct tg__trie {
    node *nodes;
    size_t n, cap;
    uint8_t first[256];
    unsigned n_first;         /* distinct first bytes */
    uint8_t only_first;       /* the first byte when n_first == 1 */
    uint8_t first_list[8];    /* the first bytes while n_first <= 8 */
    uint8_t first_vec[8][32]; /* each of them 32 times, the unused slots repeating
                                 the first one (block_mask's compares) */
    int avx2;                 /* the CPU has AVX2: block_mask 32 bytes a compare */
    uint32_t root_child[256]; /* dense root, child + 1 */
};

tg__trie *tg__trie_new(void) {
    tg__trie *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cap = 16;
    t->nodes = calloc(t->cap, sizeof *t->nodes);
    if (!t->nodes) { free(t); return NULL; }
    t->n = 1;
#ifdef TG_ADDED_AVX2
    t->avx2 = __builtin_cpu_supports("avx2") != 0;
#endif
    return t;
}

void tg__trie_free(tg__trie *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) free(t->nodes[i].edges);
    free(t->nodes);
    free(t);
}

void tg__trie_no_avx2(tg__trie *t) {
    t->avx2 = 0;
}

static uint32_t child_of(const tg__trie *t, uint32_t nd, uint8_t b) {
    if (nd == 0) return t->root_child[b] ? t->root_child[b] - 1 : 0;
    const node *x = &t->nodes[nd];
    for (uint32_t i = 0; i < x->n_edges; i++)
        if (x->edges[i].byte == b) return x->edges[i].child;
    return 0;
}

tg_status tg__trie_add(tg__trie *t, const char *s, size_t n, uint32_t token_index) {
    if (n == 0) return TG_OK; /* HF never matches an empty token */
    uint32_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = (uint8_t)s[i];
        uint32_t c = child_of(t, nd, b);
        if (c == 0) {
            if (t->n == t->cap) {
                size_t nc = t->cap * 2;
                node *p = realloc(t->nodes, nc * sizeof *p);
                if (!p) return TG_ENOMEM;
                memset(p + t->cap, 0, (nc - t->cap) * sizeof *p);
                t->nodes = p;
                t->cap = nc;
            }
            c = (uint32_t)t->n++;
            if (nd == 0) {
                t->root_child[b] = c + 1;
            } else {
                node *x = &t->nodes[nd];
                if (x->n_edges == x->cap) {
                    uint32_t ec = x->cap ? x->cap * 2 : 2;
                    edge *e = realloc(x->edges, ec * sizeof *e);
                    if (!e) return TG_ENOMEM;
                    x->edges = e;
                    x->cap = ec;
                }
                x->edges[x->n_edges].byte = b;
                x->edges[x->n_edges].child = c;
                x->n_edges++;
            }
        }
        nd = c;
    }
    if (!t->first[(uint8_t)s[0]]) {
        t->first[(uint8_t)s[0]] = 1;
        if (t->n_first == 0) memset(t->first_vec, (uint8_t)s[0], sizeof t->first_vec);
        if (t->n_first < sizeof t->first_list) {
            t->first_list[t->n_first] = (uint8_t)s[0];
            memset(t->first_vec[t->n_first], (uint8_t)s[0], sizeof t->first_vec[0]);
        }
        t->n_first++;
        t->only_first = (uint8_t)s[0];
    }
    /* two tokens with the same content: the first added wins, as in HF's map */
    if (!t->nodes[nd].token) t->nodes[nd].token = token_index + 1;
    return TG_OK;
}

/* Candidate starts, 64 positions at a time (issue 17). block_mask gives the
 * positions of s[0..64) whose byte may start a token as one word: with 2..8
 * distinct first bytes (Gemma-3: "<", "\n", "\t", "[" and U+2581's 0xE2) by
 * 8 fixed compares against first_vec (the unused slots repeat a first byte,
 * so they add nothing), 32 bytes at a compare with AVX2 where the CPU has it,
 * else 16 with SSE2; else by the first-byte table. The scan (next_cand) then
 * takes candidates off the word with one ctz each, instead of re-entering a
 * vector skip at every candidate. */
#ifdef TG_ADDED_AVX2
__attribute__((target("avx2"))) static uint64_t block_mask_avx2(const tg__trie *t, const uint8_t *s) {
    uint64_t m = 0;
    for (int h = 0; h < 2; h++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32 * h)), hit = _mm256_setzero_si256();
        for (int k = 0; k < 8; k++)
            hit = _mm256_or_si256(
                hit, _mm256_cmpeq_epi8(v, _mm256_loadu_si256((const __m256i *)(const void *)t->first_vec[k])));
        m |= (uint64_t)(uint32_t)_mm256_movemask_epi8(hit) << (32 * h);
    }
    return m;
}
#endif

static uint64_t block_mask(const tg__trie *t, const uint8_t *s) {
    uint64_t m = 0;
    if (t->n_first <= sizeof t->first_list) {
#ifdef TG_ADDED_AVX2
        if (t->avx2) return block_mask_avx2(t, s);
#endif
#ifdef __SSE2__
        for (int q = 0; q < 4; q++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + 16 * q)), hit = _mm_setzero_si128();
            for (int k = 0; k < 8; k++)
                hit = _mm_or_si128(
                    hit, _mm_cmpeq_epi8(v, _mm_loadu_si128((const __m128i *)(const void *)t->first_vec[k])));
            m |= (uint64_t)(uint32_t)_mm_movemask_epi8(hit) << (16 * q);
        }
        return m;
#endif
    }
    for (unsigned k = 0; k < 64; k++) m |= (uint64_t)t->first[s[k]] << k;
    return m;
}

/* The scan's state: the candidates in [base, base + 64) not yet passed. */
typedef struct cand {
    size_t base;
    uint64_t bits;
    int valid;
} cand;

/* The first i' >= i where s[i'] may start a token, or n. It and trie_next_c
 * are inlined into tg__added_split: the call per match was about a fifth of
 * the scan's instructions on Gemma-3's corpus. */
static inline __attribute__((always_inline)) size_t next_cand(const tg__trie *t, const uint8_t *s, size_t n,
                                                              size_t i, cand *c) {
    if (t->n_first == 1) { /* one first byte (Qwen3, Llama-3: '<'): memchr's word-wide scan */
        const uint8_t *p = i < n ? memchr(s + i, t->only_first, n - i) : NULL;
        return p ? (size_t)(p - s) : n;
    }
    for (;;) {
        if (c->valid && i >= c->base && i - c->base < 64) {
            uint64_t m = c->bits & (~0ull << (i - c->base));
            if (m) return c->base + (size_t)__builtin_ctzll(m);
            i = c->base + 64;
        }
        if (i >= n) return n;
        c->base = i;
        c->valid = 1;
        if (n - i >= 64) {
            c->bits = block_mask(t, s + i);
        } else {
            c->bits = 0;
            for (size_t k = 0; k < n - i; k++) c->bits |= (uint64_t)t->first[s[i + k]] << k;
        }
    }
}

static inline __attribute__((always_inline)) int trie_next_c(const tg__trie *t, const uint8_t *s, size_t n,
                                                             size_t pos, cand *c, size_t *ms, size_t *me,
                                                             uint32_t *token_index) {
    for (size_t i = pos; (i = next_cand(t, s, n, i, c)) < n; i++) {
        uint32_t nd = 0;
        size_t best_end = 0;
        uint32_t best = 0;
        for (size_t j = i; j < n; j++) {
            nd = child_of(t, nd, s[j]);
            if (nd == 0) break;
            if (t->nodes[nd].token) {
                best = t->nodes[nd].token;
                best_end = j + 1;
            }
        }
        if (best) {
            *ms = i;
            *me = best_end;
            *token_index = best - 1;
            return 1;
        }
    }
    return 0;
}

int tg__trie_next(const tg__trie *t, const uint8_t *s, size_t n, size_t pos, size_t *ms,
                  size_t *me, uint32_t *token_index) {
    if (!t) return 0;
    cand c = {0, 0, 0};
    return trie_next_c(t, s, n, pos, &c, ms, me, token_index);
}

static uint32_t last_char(const uint8_t *s, size_t n) {
    if (n == 0) return 0;
    size_t st = n - 1;
    while (st > 0 && (s[st] & 0xC0) == 0x80) st--;
    uint32_t c = 0;
    if (!tgx_utf8_decode(s + st, n - st, &c)) return 0;
    return c;
}

tg_status tg__added_split(const tg__added *a, const tg__trie *trie, const uint8_t *s, size_t n,
                          int parse_special, tg__segment_fn fn, void *ctx) {
    if (n == 0) return TG_OK;
    size_t offset = 0, pos = 0, ms, me;
    uint32_t ti;
    tg_status st;
    cand cs = {0, 0, 0};
    while (pos < n && trie && trie_next_c(trie, s, n, pos, &cs, &ms, &me, &ti)) {
        pos = me;
        const tg__added_token *tok = &a->tokens[ti];
        if (tok->special && !parse_special) continue;
        if (tok->single_word) {
            int start_space = ms == 0 || !tg__is_alphanumeric(last_char(s, ms));
            uint32_t nc = 0;
            int stop_space = me == n || (tgx_utf8_decode(s + me, n - me, &nc), !tg__is_alphanumeric(nc));
            if (!start_space || !stop_space) continue;
        }
        size_t start = ms, stop = me;
        if (tok->lstrip) {
            size_t ns = ms;
            while (ns > 0) {
                size_t q = ns - 1;
                while (q > 0 && (s[q] & 0xC0) == 0x80) q--;
                uint32_t c;
                if (!tgx_utf8_decode(s + q, ns - q, &c) || !tg__is_whitespace(c)) break;
                ns = q;
            }
            start = ns > offset ? ns : offset;
        }
        if (tok->rstrip) {
            while (stop < n) {
                uint32_t c;
                size_t l = tgx_utf8_decode(s + stop, n - stop, &c);
                if (!l || !tg__is_whitespace(c)) break;
                stop += l;
            }
        }
        if (offset < start && (st = fn(ctx, offset, start, TG__NO_ID))) return st;
        if ((st = fn(ctx, start, stop, tok->id))) return st;
        offset = stop;
    }
    if (offset < n && (st = fn(ctx, offset, n, TG__NO_ID))) return st;
    return TG_OK;
}
