/*
 * tokenizer/sp_raw.c: the encode path of SentencePiece-style BPE models whose
 * normalizer only turns " " into U+2581 "▁" (Gemma-3), run on the raw text:
 * the pieces bpe_split.c would cut the normalized text into are found, keyed
 * and looked up in the shared pre-token cache (word_cache.h) straight from
 * the raw bytes; only a piece that misses is normalized and goes to BPE.
 *
 * tokenizer.c hands each raw segment (text between added tokens) here
 * instead of normalizer -> pre-tokenizer -> tg__bpe_encode when
 * tg__sp_raw_applies() holds:
 *   - the normalizer is one Replace of the one byte " " by "▁": a char map,
 *     so the normalized text is the raw text with each " " written as "▁",
 *     char for char, and no normalized text holds a " ";
 *   - the pre-tokenizer is nothing, or one Split on a literal holding " ",
 *     not inverted: no match in normalized text, so the segment is one
 *     pre-token (HF's Split leaves a text without a match whole);
 *   - no added token is matched on normalized text (those are split out of
 *     the raw text before, as on the other path);
 *   - the model splits pre-tokens (b->ws_split, bpe_split.c).
 * The cut points are bpe_split.c's, read through that char map: before a
 * "▁" of the normalized text (a raw " " or "▁") that follows a char other than
 * "▁" and where no listed cross token lies across it (compared through the
 * map), and between two ASCII chars other than " " that b->ascii_cut marks.
 * bpe_split.c's proof that cutting there is exact is about the normalized
 * text and holds for any piece length, so the ids are those of the other
 * path (checked over random texts by tests/tokenizer/test_sp_raw.c and
 * against HF by the corpus tests).
 *
 * Cache keys are the raw bytes of a piece; the value is BPE of the piece's
 * normalized text. A normalized text maps to itself (it holds no " "), so a
 * key means the same on either path and both may share one cache: every key
 * K holds BPE(normalize(K)). Keys are shorter than the normalized text (" "
 * is 1 byte where "▁" is 3: " the" fits one 8-byte load), and the normalizer
 * no longer writes the whole segment out. Pieces under 40 bytes go to the
 * small tier (64-byte slots), unless their ids do not fit, then to the large
 * one; pieces over 480 bytes are not cached (as in bpe.c).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/word_cache.h"

#define BATCH 16      /* pieces found, their cache sets prefetched, then looked up */
#define SMALL_KEY 40  /* raw key length from which a piece goes to the large tier */
#define FIT_SMALL 12  /* keys this short always fit a small slot (at most 1 id a byte) */
#define MAX_KEY 480   /* longer pieces are not cached */

static inline int is_ws3(const uint8_t *p) { return p[0] == 0xE2 && p[1] == 0x96 && p[2] == 0x81; }

int tg__sp_raw_applies(const tg_tokenizer *t) {
    const tg__normalizer *nz = &t->norm;
    if (nz->n != 1 || nz->steps[0].kind != TG__NORM_REPLACE) return 0;
    const tg__norm_step *ns = &nz->steps[0];
    if (!ns->re.literal || ns->re.literal_len != 1 || ns->re.literal[0] != ' ') return 0;
    if (ns->content_len != 3 || !is_ws3((const uint8_t *)ns->content)) return 0;
    const tg__pretokenizer *pt = &t->pretok;
    if (pt->n > 1 || pt->byte_level) return 0;
    if (pt->n == 1) {
        const tg__pt_step *ps = &pt->steps[0];
        if (ps->kind != TG__PT_SPLIT || ps->invert || !ps->re.literal || ps->re.literal_len == 0 ||
            !memchr(ps->re.literal, ' ', ps->re.literal_len))
            return 0;
    }
    if (t->added.norm) return 0;
    return t->bpe.ws_split && !t->bpe.byte_mode;
}

/* 1 when the normalized text of raw p[0..at) ends with s[0..j). */
static int norm_ends_with(const uint8_t *p, size_t at, const char *s, size_t j) {
    const uint8_t *u = (const uint8_t *)s;
    while (j > 0) {
        if (at == 0) return 0;
        if (p[at - 1] == ' ') {
            if (j < 3 || !is_ws3(u + j - 3)) return 0;
            j -= 3;
        } else {
            if (p[at - 1] != u[j - 1]) return 0;
            j--;
        }
        at--;
    }
    return 1;
}

/* 1 when the normalized text of raw p[at..n) starts with s[0..len). */
static int norm_starts_with(const uint8_t *p, size_t n, size_t at, const char *s, size_t len) {
    const uint8_t *u = (const uint8_t *)s;
    size_t k = 0;
    while (k < len) {
        if (at == n) return 0;
        if (p[at] == ' ') {
            if (len - k < 3 || !is_ws3(u + k)) return 0;
            k += 3;
        } else {
            if (p[at] != u[k]) return 0;
            k++;
        }
        at++;
    }
    return 1;
}

/* bpe_split.c's safe_at through the char map: 1 when no listed cross token
 * lies, in the normalized text, across the "▁" that raw p[at] starts. */
static int safe_raw(const tg__bpe *b, const uint8_t *p, size_t n, size_t at) {
    for (size_t i = 0; i < b->n_cross; i++) {
        const struct tg__bpe_cross *c = &b->cross[i];
        if (norm_ends_with(p, at, c->s, c->at) && norm_starts_with(p, n, at, c->s + c->at, c->len - c->at))
            return 0;
    }
    return 1;
}

static tg_status reserve(tg_tokens *out, size_t room) {
    if (out->cap - out->len >= room) return TG_OK;
    size_t cap = out->cap ? out->cap : 256;
    while (cap - out->len < room) cap *= 2;
    uint32_t *np = realloc(out->ids, cap * sizeof *np);
    if (!np) return TG_ENOMEM;
    out->ids = np;
    out->cap = cap;
    return TG_OK;
}

/* The hash of a raw key: keys of up to 8 bytes from one masked load (p + 8
 * <= lim) or their bytes, up to 16 from two overlapping loads, longer ones by
 * tg__hash_bytes. */
static inline uint64_t key_word(const uint8_t *p, size_t n, const uint8_t *lim) {
    uint64_t kw = 0;
    if (p + 8 <= lim) {
        memcpy(&kw, p, 8);
        return n == 8 ? kw : kw & ((1ull << (8 * n)) - 1);
    }
    for (size_t i = 0; i < n; i++) kw |= (uint64_t)p[i] << (8 * i);
    return kw;
}

static inline uint64_t mix(uint64_t x) {
    x ^= x >> 32;
    x *= 0xD6E8FEB86659FD93ull;
    x ^= x >> 29;
    return x;
}

static inline uint64_t raw_hash(const uint8_t *p, size_t n, uint64_t kw) {
    if (n <= 8) return mix((kw + n) * 0x9E3779B97F4A7C15ull);
    if (n > 16) return tg__hash_bytes(p, n);
    uint64_t a, c;
    memcpy(&a, p, 8);
    memcpy(&c, p + n - 8, 8);
    return mix(mix(a * 0x9E3779B97F4A7C15ull ^ ((c << 31) | (c >> 33)) * 0xC2B2AE3D27D4EB4Full ^ n));
}

typedef struct batch {
    uint32_t off[BATCH], len[BATCH];
    uint64_t h[BATCH], kw[BATCH];
    size_t n;
} batch;

typedef struct ctx {
    const tg__bpe *b;
    tg__bpe_scratch *s;
    const uint8_t *p; /* the raw segment */
    size_t n;
    tgx_buf *nbuf;    /* normalized text of a long piece that missed */
    tg_tokens *out;
    tg_error *err;
    uint32_t ws_id;   /* the id of "▁" alone */
} ctx;

/* Looks the piece up in the tier its key goes to (the large one too when
 * its ids may not have fitted a small slot); ids go straight into out. */
static inline size_t probe(const ctx *c, const uint8_t *q, size_t m, uint64_t h, uint64_t kw) {
    uint32_t *ids = c->out->ids + c->out->len;
    const tg__word_cache *sm = c->b->wcache;
    if (m < SMALL_KEY && sm) {
        size_t got;
        if (sm->words != 8) got = tg__word_cache_get(sm, h, q, m, ids);
        else if (m <= 8) got = tg__word_cache_get64w(sm, h, kw, m, ids);
        else got = tg__word_cache_get64(sm, h, q, m, ids);
        if (got || m < FIT_SMALL) return got;
    }
    return tg__word_cache_get(c->b->wcache_big, h, q, m, ids);
}

/* A piece no cache held: its normalized text through BPE, then cached under
 * the raw key. */
static tg_status miss(const ctx *c, const uint8_t *q, size_t m, uint64_t h) {
    uint8_t local[3 * 64];
    uint8_t *t = local;
    size_t nt = 0;
    if (3 * m > sizeof local) {
        tgx_buf_reset(c->nbuf);
        if (tgx_buf_reserve(c->nbuf, 3 * m + 1)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
        t = (uint8_t *)c->nbuf->data;
    }
    for (size_t i = 0; i < m; i++) {
        if (q[i] == ' ') {
            memcpy(t + nt, "\xE2\x96\x81", 3);
            nt += 3;
        } else {
            t[nt++] = q[i];
        }
    }
    size_t before = c->out->len;
    tg_status st = tg__bpe_encode_word(c->b, c->s, t, nt, c->out, c->err);
    if (st || m > MAX_KEY) return st;
    size_t got = c->out->len - before;
    if (!got) return TG_OK;
    const uint32_t *ids = c->out->ids + before;
    if (m < SMALL_KEY && tg__word_cache_fits_in(56, m, got)) tg__word_cache_put(c->b->wcache, h, q, m, ids, got);
    else tg__word_cache_put(c->b->wcache_big, h, q, m, ids, got);
    return TG_OK;
}

/* Encodes the batch's pieces: one-char ones by table, the rest through the
 * caches (their sets prefetched first, so the misses overlap). */
static tg_status flush(const ctx *c, batch *q) {
    const uint8_t *lim = c->p + c->n;
    for (size_t k = 0; k < q->n; k++) {
        size_t m = q->len[k];
        if (m < 2) continue;
        const uint8_t *pc = c->p + q->off[k];
        q->kw[k] = m <= 8 ? key_word(pc, m, lim) : 0;
        q->h[k] = raw_hash(pc, m, q->kw[k]);
        tg__word_cache_prefetch(m < SMALL_KEY ? c->b->wcache : c->b->wcache_big, q->h[k]);
    }
    tg_status st;
    for (size_t k = 0; k < q->n; k++) {
        if ((st = reserve(c->out, TG__WC_MAX_PAYLOAD / 4 + 4)))
            return tg_error_set(c->err, st, "out of memory");
        const uint8_t *pc = c->p + q->off[k];
        size_t m = q->len[k];
        if (m == 1) {
            uint32_t id = pc[0] == ' ' ? c->ws_id : pc[0] < 0x80 ? c->b->ascii_id[pc[0]] : TG__NO_ID;
            if (id != TG__NO_ID) {
                c->out->ids[c->out->len++] = id;
                continue;
            }
        }
        size_t got = m > MAX_KEY || m < 2 ? 0 : probe(c, pc, m, q->h[k], q->kw[k]);
        if (got) c->out->len += got;
        else if ((st = miss(c, pc, m, q->h[k]))) return st;
    }
    q->n = 0;
    return TG_OK;
}

static inline tg_status add(const ctx *c, batch *q, size_t start, size_t end) {
    q->off[q->n] = (uint32_t)start;
    q->len[q->n++] = (uint32_t)(end - start);
    return q->n == BATCH ? flush(c, q) : TG_OK;
}

/* 1 when a piece may end before the "▁" (raw " " or "▁") at p[at], whose
 * previous char ends at p[at - 1]. */
static inline int ws_cut(const tg__bpe *b, const uint8_t *p, size_t n, size_t at) {
    if (p[at - 1] == ' ' || (at >= 3 && is_ws3(p + at - 3))) return 0; /* "▁▁": a run stays together */
    return b->n_cross == 0 || safe_raw(b, p, n, at);
}

tg_status tg__sp_raw_encode(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, uint32_t ws_id,
                            tgx_buf *nbuf, tg_tokens *out, tg_error *err) {
    if (n == 0) return TG_OK;
    if (n > UINT32_MAX) return tg_error_set(err, TG_ELIMIT, "segment of %zu bytes exceeds 4 GiB", n);
    ctx c = {b, s, p, n, nbuf, out, err, ws_id};
    batch q;
    q.n = 0;
    size_t start = 0;
    tg_status st;
    for (size_t i = 1; i < n; i++) {
        uint8_t ch = p[i], a = p[i - 1];
        size_t at = i;
        if (ch == ' ') {
            if (!ws_cut(b, p, n, at)) continue;
        } else if (ch < 0x80) {
            if (a >= 0x80 || a == ' ' || !(b->ascii_cut[a][ch >> 6] >> (ch & 63) & 1)) continue;
        } else {
            if (ch != 0xE2 || i + 3 > n || !is_ws3(p + i)) continue;
            i += 2; /* the next char starts after this "▁" */
            if (!ws_cut(b, p, n, at)) continue;
        }
        if ((st = add(&c, &q, start, at))) return st;
        start = at;
    }
    if ((st = add(&c, &q, start, n))) return st;
    return q.n ? flush(&c, &q) : TG_OK;
}
