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
 * no longer writes the whole segment out. Pieces of 2..8 bytes with 1..4
 * ids go to the compact tier (32-byte slots, keyed by the key word: the
 * small tier then holds fewer keys and loses fewer to its sets' conflicts),
 * other pieces under 40 bytes to the small tier (64-byte slots), unless
 * their ids do not fit, then to the large one; pieces over 480 bytes are not
 * cached (as in bpe.c).
 */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/sp_raw.h"
#include "tokenizer/word_cache.h"

#define SMALL_KEY 40  /* raw key length from which a piece goes to the large tier */
#define FIT_SMALL 12  /* keys this short always fit a small slot (at most 1 id a byte) */
#define MAX_KEY 480   /* longer pieces are not cached */
#define FRONT_LOG2 14 /* the per-call front cache: 16K entries of 16 bytes (256 KiB, in L2) */
#define FRONT_MIN_TEXT ((size_t)64 << 10) /* for calls of this many bytes or more */
#define FRONT_ID_BITS 27

/* A front cache entry: a key of 2..8 bytes (its key word) and its 1 or 2
 * ids; x = length << 28 | (2 ids) << 27 | the second id (0: empty). */
struct tg__sp_front {
    uint64_t kw;
    uint32_t id0, x;
};

/* The second front table: keys of 9..16 bytes (their first and last 8
 * bytes, which overlap) and 1..3 ids; m = length << 2 | ids (0: empty). */
#define FRONT2_LOG2 13 /* 8K entries of 32 bytes (256 KiB) */
struct tg__sp_front2 {
    uint64_t a, b;
    uint32_t m, id[3];
};

static inline struct tg__sp_front2 *front2_of(const tg__sp_run *r, uint64_t h) {
    return &r->front2[(size_t)(h >> 24) & (((size_t)1 << FRONT2_LOG2) - 1)];
}

static inline void front2_put(const tg__sp_run *r, uint64_t h, const uint8_t *q, size_t m, const uint32_t *ids,
                              size_t got) {
    if (!r->front2 || m < 9 || m > 16 || got == 0 || got > 3) return;
    struct tg__sp_front2 *e = front2_of(r, h);
    memcpy(&e->a, q, 8);
    memcpy(&e->b, q + m - 8, 8);
    memcpy(e->id, ids, 4 * got);
    e->m = (uint32_t)(m << 2 | got);
}

/* The front slot of a key of 2..8 bytes: its own multiplicative hash of the
 * key word (one multiply), so a front hit never computes raw_hash. */
static inline struct tg__sp_front *front_of(const tg__sp_run *r, uint64_t kw, size_t m) {
    return &r->front[((kw + m) * 0x9E3779B97F4A7C15ull) >> (64 - FRONT_LOG2)];
}

/* Enters a key of up to 8 bytes whose ids are 1 or 2 small ones. */
static inline void front_put(const tg__sp_run *r, uint64_t kw, size_t m, const uint32_t *ids, size_t got) {
    if (!r->front || m > 8 || got > 2 || ids[0] >> FRONT_ID_BITS || (got == 2 && ids[1] >> FRONT_ID_BITS)) return;
    struct tg__sp_front *e = front_of(r, kw, m);
    e->kw = kw;
    e->id0 = ids[0];
    e->x = (uint32_t)m << 28 | (got == 2 ? (uint32_t)1 << 27 | ids[1] : 0);
}

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

/* 1 when bytes a then c are both in 'a'..'z' less the excluded ones. */
static int in_skip_set(const struct tg__sp_conf *k, int c) {
    if (c < 'a' || c > 'z') return 0;
    for (unsigned i = 0; i < k->n_excl; i++)
        if (k->excl[i] == c) return 0;
    return 1;
}

/* The set the scan skips (sp_raw.c's SIMD pass): lowercase ASCII letters
 * less the fewest (greedily: the one in most cut pairs first, at most 4)
 * that leave no cut pair inside it; skip stays 0 when that needs more. */
static void setup_skip(const tg__bpe *b, struct tg__sp_conf *k) {
    k->skip = 0;
    k->n_excl = 0;
    for (;;) {
        int worst = 0, worst_n = 0;
        for (int a = 'a'; a <= 'z'; a++) {
            int cnt = 0;
            for (int c = 'a'; c <= 'z'; c++)
                if (in_skip_set(k, a) && in_skip_set(k, c) && (b->ascii_cut[a][c >> 6] >> (c & 63) & 1)) cnt++;
            for (int c = 'a'; c <= 'z'; c++)
                if (in_skip_set(k, a) && in_skip_set(k, c) && (b->ascii_cut[c][a >> 6] >> (a & 63) & 1)) cnt++;
            if (cnt > worst_n) worst = a, worst_n = cnt;
        }
        if (worst_n == 0) break;
        if (k->n_excl == sizeof k->excl) return;
        k->excl[k->n_excl++] = (uint8_t)worst;
    }
    k->skip = 1;
}

void tg__sp_raw_setup(tg_tokenizer *t) {
    memset(&t->sp_raw, 0, sizeof t->sp_raw);
    t->sp_raw.ws_id = TG__NO_ID;
    if (!tg__sp_raw_applies(t)) return;
    t->sp_raw.ws_id = tg__bpe_find_token(&t->bpe, "\xE2\x96\x81", 3);
    setup_skip(&t->bpe, &t->sp_raw);
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
static const uint64_t key_mask[9] = {0, 0xFF, 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF,
                                      0xFFFFFFFFFFFFFF, ~0ull};

static inline uint64_t key_word(const uint8_t *p, size_t n, const uint8_t *lim) {
    uint64_t kw = 0;
    if (p + 8 <= lim) {
        memcpy(&kw, p, 8);
        return kw & key_mask[n];
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

/* Looks the piece up in the tier its key goes to (the large one too when
 * its ids may not have fitted a small slot); ids go straight into out. */
static inline size_t probe(const tg__sp_run *r, const uint8_t *q, size_t m, uint64_t h, uint64_t kw) {
    uint32_t *ids = r->out->ids + r->out->len;
    const tg__word_cache *ti = r->b->wcache_tiny, *sm = r->b->wcache;
    if (m <= TG__WC32_KEY && ti) { /* the compact tier first (most short keys are there) */
        size_t got = tg__word_cache_get32(ti, h, kw, m, ids);
        if (got) return got;
    }
    if (m < SMALL_KEY && sm) {
        size_t got;
        if (sm->words != 8) got = tg__word_cache_get(sm, h, q, m, ids);
        else if (m <= 8) got = tg__word_cache_get64w(sm, h, kw, m, ids);
        else got = tg__word_cache_get64(sm, h, q, m, ids);
        if (got || m < FIT_SMALL) return got;
    }
    return tg__word_cache_get(r->b->wcache_big, h, q, m, ids);
}

/* A piece no cache held: its normalized text through BPE, then cached under
 * the raw key (kw: its key word when m <= 8): in the compact tier when it
 * fits (keys of up to 8 bytes with up to 4 ids), else in the small or the
 * large one. */
static tg_status miss(const tg__sp_run *r, const uint8_t *q, size_t m, uint64_t h, uint64_t kw) {
    uint8_t local[3 * 64];
    uint8_t *t = local;
    size_t nt = 0;
    if (3 * m > sizeof local) {
        tgx_buf_reset(r->nbuf);
        if (tgx_buf_reserve(r->nbuf, 3 * m + 1)) return tg_error_set(r->err, TG_ENOMEM, "out of memory");
        t = (uint8_t *)r->nbuf->data;
    }
    for (size_t i = 0; i < m; i++) {
        if (q[i] == ' ') {
            t[nt] = 0xE2; /* U+2581 */
            t[nt + 1] = 0x96;
            t[nt + 2] = 0x81;
            nt += 3;
        } else {
            t[nt++] = q[i];
        }
    }
    size_t before = r->out->len;
    tg_status st = tg__bpe_encode_word(r->b, r->s, t, nt, r->out, r->err);
    if (st || m > MAX_KEY) return st;
    size_t got = r->out->len - before;
    if (!got) return TG_OK;
    const uint32_t *ids = r->out->ids + before;
    if (m >= 2 && r->b->wcache_tiny && tg__word_cache_fits32(m, got)) /* kw is set from 2 bytes on */
        tg__word_cache_put32(r->b->wcache_tiny, h, kw, m, ids, got);
    else if (m < SMALL_KEY && tg__word_cache_fits_in(56, m, got)) tg__word_cache_put(r->b->wcache, h, q, m, ids, got);
    else tg__word_cache_put(r->b->wcache_big, h, q, m, ids, got);
    return TG_OK;
}

/* Queues a piece text[off..off+m) on batch q: a one-char piece by table, a
 * piece of 2..16 bytes the front cache holds, by its ids, appended to q->v;
 * any other is hashed, its shared-cache set prefetched, and left pending at
 * its place in q->v, for encode() a batch later. Returns 1 when q is full. */
static inline int resolve(const tg__sp_run *r, struct tg__sp_batch *q, uint32_t off, size_t m) {
    const uint8_t *pc = r->text + off;
    uint32_t *v = q->v + q->nv;
    if (m == 1) { /* an ASCII char: the text is valid UTF-8, pieces are whole chars */
        uint32_t id = r->one[pc[0] & 0x7F];
        if (id != TG__NO_ID) {
            v[0] = id;
            return ++q->nv >= TG__SP_IDS;
        }
    }
    uint64_t kw = 0, h = 0;
    if (m > MAX_KEY || m < 2) goto pending;
    if (m <= 8) { /* the front probe first: its hit needs no raw_hash */
        kw = key_word(pc, m, r->text + r->text_len);
        const struct tg__sp_front *e = r->front ? front_of(r, kw, m) : NULL;
        if (e && e->kw == kw && e->x >> 28 == m) {
            v[0] = e->id0;
            v[1] = e->x & (((uint32_t)1 << FRONT_ID_BITS) - 1);
            return (q->nv += 1 + (e->x >> 27 & 1)) >= TG__SP_IDS;
        }
    }
    h = raw_hash(pc, m, kw);
    if (m > 8 && m <= 16 && r->front2) {
        const struct tg__sp_front2 *e = front2_of(r, h);
        uint64_t a, c;
        memcpy(&a, pc, 8);
        memcpy(&c, pc + m - 8, 8);
        if (e->m >> 2 == m && e->a == a && e->b == c) {
            memcpy(v, e->id, 12);
            return (q->nv += e->m & 3) >= TG__SP_IDS;
        }
    }
    const tg__word_cache *c = m <= TG__WC32_KEY && r->b->wcache_tiny ? r->b->wcache_tiny
                              : m < SMALL_KEY                       ? r->b->wcache
                                                                    : r->b->wcache_big;
    if (c) { /* word_cache.c's set of h: two slots (one line in the compact tier) */
        const char *set = (const char *)c->mem + ((size_t)h & c->mask & ~(size_t)1) * c->words * 8;
        __builtin_prefetch(set);
        __builtin_prefetch(set + c->words * 8);
    }
pending:;
    size_t k = q->n++;
    q->off[k] = off;
    q->len[k] = (uint32_t)m;
    q->at[k] = (uint32_t)q->nv;
    q->h[k] = h;
    q->kw[k] = kw;
    return q->n == TG__SP_BATCH;
}

/* Appends v[from..to) of a batch to out (room reserved). */
static inline void put_run(tg_tokens *out, const uint32_t *v, size_t from, size_t to) {
    memcpy(out->ids + out->len, v + from, 4 * (to - from));
    out->len += to - from;
}

/* Encodes a batch resolved a batch ago: the ids resolve() found as they
 * are, each pending piece at its place through the shared caches (or BPE). */
static tg_status encode(const tg__sp_run *r, struct tg__sp_batch *q) {
    tg_status st;
    tg_tokens *out = r->out;
    /* room for the resolved ids and a hit (at most TG__WC_MAX_PAYLOAD / 4
     * ids, copied 16 bytes at a time); again after a miss (BPE appends what
     * it needs) */
    const size_t room = TG__SP_IDS + 4 + TG__WC_MAX_PAYLOAD / 4 + 4;
    size_t done = 0;
    for (size_t k = 0; k < q->n; k++) {
        if ((st = reserve(out, room))) return tg_error_set(r->err, st, "out of memory");
        put_run(out, q->v, done, q->at[k]);
        done = q->at[k];
        size_t m = q->len[k];
        const uint8_t *pc = r->text + q->off[k];
        size_t got = m > MAX_KEY || m < 2 ? 0 : probe(r, pc, m, q->h[k], q->kw[k]);
        if (got) {
            front_put(r, q->kw[k], m, out->ids + out->len, got);
            front2_put(r, q->h[k], pc, m, out->ids + out->len, got);
            out->len += got;
        } else {
            size_t before = out->len;
            if ((st = miss(r, pc, m, q->h[k], q->kw[k]))) return st;
            if (m >= 2) front_put(r, q->kw[k], m, out->ids + before, out->len - before);
            front2_put(r, q->h[k], pc, m, out->ids + before, out->len - before);
        }
    }
    if ((st = reserve(out, room))) return tg_error_set(r->err, st, "out of memory");
    put_run(out, q->v, done, q->nv);
    q->n = 0;
    q->nv = 0;
    return TG_OK;
}

/* The filling batch is full (resolved and prefetched as it filled): encode
 * the one before, and fill that one next. */
static tg_status turn(tg__sp_run *r) {
    tg_status st = encode(r, &r->q[r->cur ^ 1]);
    r->cur ^= 1;
    r->fill = &r->q[r->cur];
    return st;
}

/* Queues a piece text[off..off+len), turning the batches when the filling
 * one is full. */
static inline tg_status push(tg__sp_run *r, uint32_t off, uint32_t len) {
    return resolve(r, r->fill, off, len) ? turn(r) : TG_OK;
}

void tg__sp_run_init(tg__sp_run *r, const tg_tokenizer *t, tg__bpe_scratch *s, const uint8_t *text, size_t len,
                     tgx_buf *nbuf, tg_tokens *out, tg_error *err) {
    r->b = &t->bpe;
    r->s = s;
    r->text = text;
    r->text_len = len;
    r->ws_id = t->sp_raw.ws_id;
    memcpy(r->one, t->bpe.ascii_id, sizeof r->one);
    r->one[' '] = r->ws_id;
    memset(r->cross_end, 0, sizeof r->cross_end);
    for (size_t i = 0; i < t->bpe.n_cross; i++) {
        uint8_t c = (uint8_t)t->bpe.cross[i].s[t->bpe.cross[i].at - 1];
        r->cross_end[c >> 6] |= (uint64_t)1 << (c & 63);
    }
    r->conf = &t->sp_raw;
    r->nbuf = nbuf;
    r->out = out;
    r->err = err;
    r->cur = 0;
    r->q[0].n = r->q[1].n = 0;
    r->q[0].nv = r->q[1].nv = 0;
    r->fill = &r->q[0];
    r->front = len >= FRONT_MIN_TEXT ? calloc((size_t)1 << FRONT_LOG2, sizeof *r->front) : NULL; /* optional */
    r->front2 = r->front ? calloc((size_t)1 << FRONT2_LOG2, sizeof *r->front2) : NULL;
}

void tg__sp_run_free(tg__sp_run *r) {
    free(r->front);
    free(r->front2);
    r->front = NULL;
    r->front2 = NULL;
}

tg_status tg__sp_run_id(tg__sp_run *r, uint32_t id) {
    struct tg__sp_batch *q = r->fill;
    q->v[q->nv++] = id;
    return q->nv >= TG__SP_IDS ? turn(r) : TG_OK;
}

tg_status tg__sp_run_finish(tg__sp_run *r) {
    tg_status st = encode(r, &r->q[r->cur ^ 1]);
    return st ? st : encode(r, r->fill);
}

/* 1 when a piece may end before the "▁" (raw " " or "▁") at p[at], whose
 * previous char ends at p[at - 1]. */
static inline int ws_cut(const tg__sp_run *r, const uint8_t *p, size_t n, size_t at) {
    uint8_t a = p[at - 1];
    if (a == ' ' || (at >= 3 && is_ws3(p + at - 3))) return 0; /* "▁▁": a run stays together */
    /* a is its own normalized byte: the last byte before a cross token's "▁" is a first filter */
    return r->cross_end[a >> 6] >> (a & 63) & 1 ? safe_raw(r->b, p, n, at) : 1;
}

/* 1 when b->ascii_cut marks the ASCII pair a then c: bit a * 128 + c of
 * the table read as one flat bit array. */
static inline int ascii_cut(const tg__bpe *b, uint8_t a, uint8_t c) {
    size_t bit = (size_t)a << 7 | c;
    return (&b->ascii_cut[0][0])[bit >> 6] >> (bit & 63) & 1;
}

/* 1 when bpe_split.c would cut the normalized text before the char that
 * raw p[at] (0 < at < n) starts (a byte inside a char is never cut). */
static inline int cut_at(const tg__sp_run *r, const uint8_t *p, size_t n, size_t at) {
    uint8_t ch = p[at], a = p[at - 1];
    if (ch == ' ') return ws_cut(r, p, n, at);
    if (ch < 0x80) return a < 0x80 && a != ' ' && ascii_cut(r->b, a, ch);
    return ch == 0xE2 && at + 3 <= n && is_ws3(p + at) && ws_cut(r, p, n, at);
}

#ifdef __SSE2__
/* cut_at for a position candidates() left in: there an ASCII char other
 * than " " follows an ASCII char other than " " (the rest is " " or 0xE2). */
static inline int cut_cand(const tg__sp_run *r, const uint8_t *p, size_t n, size_t at) {
    uint8_t ch = p[at], a = p[at - 1];
    if (ch != ' ' && ch < 0x80) return ascii_cut(r->b, a, ch);
    return cut_at(r, p, n, at);
}

/* Bit j set: position j of x (x[-1] readable) needs cut_at. Clear where
 * cut_at is 0 anyway: inside a char (a continuation byte), before a
 * non-ASCII char other than one starting with 0xE2, before an ASCII char
 * after a non-ASCII byte or after " " (so inside a run of " " too), and
 * between two bytes of the skip set. Leaving out a position cut_at would
 * cut only makes a piece longer, which is exact too (bpe_split.c); a set
 * bit never adds a cut, cut_at decides. */
static inline unsigned candidates(const struct tg__sp_conf *k, const uint8_t *x) {
    const __m128i lo = _mm_set1_epi8('a'), span = _mm_set1_epi8(25), sp = _mm_set1_epi8(' ');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)x);
    __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(x - 1));
    __m128i tv = _mm_sub_epi8(v, lo), tw = _mm_sub_epi8(w, lo);
    __m128i in = _mm_and_si128(_mm_cmpeq_epi8(_mm_min_epu8(tv, span), tv), _mm_cmpeq_epi8(_mm_min_epu8(tw, span), tw));
    for (unsigned i = 0; i < k->n_excl; i++) {
        __m128i e = _mm_set1_epi8((char)k->excl[i]);
        in = _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8(v, e), _mm_cmpeq_epi8(w, e)), in);
    }
    unsigned high = (unsigned)_mm_movemask_epi8(_mm_or_si128(v, w)); /* either byte non-ASCII */
    __m128i wsp = _mm_cmpeq_epi8(w, sp);
    unsigned skip = (unsigned)_mm_movemask_epi8(_mm_or_si128(in, wsp));
    __m128i vsp = _mm_andnot_si128(wsp, _mm_cmpeq_epi8(v, sp)); /* " " after " ": inside a run */
    unsigned must = (unsigned)_mm_movemask_epi8(_mm_or_si128(vsp, _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xE2))));
    return (must | ~(high | skip)) & 0xFFFFu;
}
#endif

tg_status tg__sp_run_segment(tg__sp_run *r, size_t from, size_t to) {
    const uint8_t *p = r->text + from;
    size_t n = to - from;
    if (n == 0) return TG_OK;
    if (r->text_len > UINT32_MAX)
        return tg_error_set(r->err, TG_ELIMIT, "text of %zu bytes exceeds 4 GiB", r->text_len);
    size_t start = 0, i = 1;
    tg_status st;
#ifdef __SSE2__
    if (r->conf->skip) { /* 16 positions a step; only those not inside a run of the skip set are checked */
        const uint8_t *end = r->text + r->text_len;
        uint8_t pad[48];
        for (; i < n; i += 16) {
            unsigned cand;
            if (i + 16 <= n || p + i + 16 <= end) { /* the last step reads past the segment, not the text */
                cand = candidates(r->conf, p + i);
            } else { /* the text's last bytes: from a copy, zeros after */
                memset(pad, 0, sizeof pad);
                memcpy(pad, p + i - 1, n - i + 1);
                cand = candidates(r->conf, pad + 1);
            }
            if (n - i < 16) cand &= (1u << (n - i)) - 1; /* positions of the segment only */
            for (; cand; cand &= cand - 1) {
                size_t at = i + (size_t)__builtin_ctz(cand);
                if (!cut_cand(r, p, n, at)) continue;
                if ((st = push(r, (uint32_t)(from + start), (uint32_t)(at - start)))) return st;
                start = at;
            }
        }
    }
#endif
    for (; i < n; i++) {
        if (!cut_at(r, p, n, i)) continue;
        if ((st = push(r, (uint32_t)(from + start), (uint32_t)(i - start)))) return st;
        start = i;
    }
    return push(r, (uint32_t)(from + start), (uint32_t)(n - start));
}
