/*
 * tokenizer/bpe_split.c: splitting long SentencePiece-style pre-tokens
 * (Gemma-3: the pre-tokenizer leaves whole lines, spaces turned into U+2581
 * "▁") into words before BPE, exactly.
 *
 * BPE of a word equals the concatenation of BPE of its pieces when no merge
 * can ever join symbols across a piece boundary: such a merge would form a
 * token whose text spans the boundary. Boundaries here are the positions of a
 * "▁" that follows a char other than "▁" (so "▁▁word" stays one piece). At
 * load (tg__bpe_split_setup) every merged token is scanned for such a
 * junction ("x▁"); a model whose merged tokens have none, or a few (listed in
 * b->cross; Gemma-3 has one, ">▁</"), splits, skipping any boundary where one
 * of the listed tokens occurs in the text across it. A merged token's text is
 * its symbols' text only when no merge takes a byte-fallback or unk token, so
 * a model with such a merge does not split; nor do byte-level models,
 * subword prefixes/suffixes, or ignore_merges (a whole-word lookup). The
 * char at a boundary is "▁", which is in the vocabulary, so unk fusing and
 * byte fallback (per char) cannot reach across it. Merges inside separate
 * pieces are independent, so the rank order within each piece is unchanged.
 * The pieces go through the caches like any pre-token (bpe.c).
 *
 * The same argument splits between two ASCII chars a and c (a then c) when
 * both are one-char tokens (so neither becomes unk or byte-fallback tokens)
 * and no merged token holds "ac": a token across that boundary would have to.
 * Gemma-3 has no merged token with, e.g., ",\n", ".\n", "\n." or "\\f", so
 * a line of code or troff no longer reaches BPE (and the caches) whole; on the
 * mixed corpus this halves the distinct pieces and cuts the bytes of pieces
 * seen only once by 4x. Setup records the pairs (b->ascii_cut) from the
 * merged tokens' bytes; ASCII bytes in UTF-8 are whole chars, so byte pairs
 * are char pairs.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

#define WS "\xE2\x96\x81" /* U+2581 in UTF-8 */
#define SPLIT_MIN 8       /* pieces shorter than this are not scanned */

static int is_ws_at(const char *t, size_t i) { return t[i] == WS[0] && t[i + 1] == WS[1] && t[i + 2] == WS[2]; }

/* 1 when token id's text may differ from the text it covers (byte
 * fallback "<0xNN>" or unk). */
static int opaque_token(const tg__bpe *b, uint32_t id) {
    if (id == b->unk_id) return 1;
    if (!b->byte_fallback || id >= b->tokens.count) return 0;
    const tg__strent *e = &b->tokens.ent[id];
    return e->len == 6 && memcmp(b->tokens.pool + e->off, "<0x", 3) == 0;
}

/* Enters the "x▁" junctions of token id in b->cross; 0 when there is no
 * room left. */
static int note_junctions(tg__bpe *b, uint32_t id) {
    if (id >= b->tokens.count) return 0;
    const tg__strent *e = &b->tokens.ent[id];
    const char *t = b->tokens.pool + e->off;
    for (size_t j = 1; j + 3 <= e->len; j++) {
        if (!is_ws_at(t, j) || (j >= 3 && is_ws_at(t, j - 3))) continue;
        if (b->n_cross == TG__BPE_MAX_CROSS) return 0;
        b->cross[b->n_cross++] = (struct tg__bpe_cross){t, (uint32_t)e->len, (uint32_t)j};
    }
    return 1;
}

/* b->ascii_cut from the ASCII pairs of the merged tokens (all merges
 * resolved, none taking an opaque token): which ids are merged first, then
 * their texts in id order (the pool's order: no random reads). */
static void setup_ascii_cut(tg__bpe *b) {
    uint64_t seen[128][2];
    memset(seen, 0, sizeof seen);
    size_t nw = ((size_t)b->tokens.count + 63) / 64;
    uint64_t *merged = calloc(nw ? nw : 1, sizeof *merged);
    if (!merged) return; /* no ASCII cuts: the U+2581 split alone stays exact */
    for (size_t i = 0; i <= b->merge_mask; i++) {
        uint32_t id = b->merges[i].new_id;
        if (b->merges[i].key != 0 && id < b->tokens.count) merged[id / 64] |= (uint64_t)1 << (id % 64);
    }
    for (uint32_t id = 0; id < b->tokens.count; id++) {
        const tg__strent *e = &b->tokens.ent[id];
        if (!(merged[id / 64] >> (id % 64) & 1) || e->len == UINT32_MAX) continue;
        const uint8_t *t = (const uint8_t *)b->tokens.pool + e->off;
        for (size_t j = 1; j < e->len; j++)
            if (t[j - 1] < 0x80 && t[j] < 0x80) seen[t[j - 1]][t[j] >> 6] |= (uint64_t)1 << (t[j] & 63);
    }
    free(merged);
    for (int a = 0; a < 128; a++)
        for (int c = 0; c < 128; c++)
            if (b->ascii_id[a] != TG__NO_ID && b->ascii_id[c] != TG__NO_ID && !(seen[a][c >> 6] >> (c & 63) & 1))
                b->ascii_cut[a][c >> 6] |= (uint64_t)1 << (c & 63);
}

void tg__bpe_split_setup(tg__bpe *b) {
    b->ws_split = 0;
    b->n_cross = 0;
    memset(b->ascii_cut, 0, sizeof b->ascii_cut);
    if (b->byte_mode || b->cont_prefix || b->eow_suffix || b->ignore_merges || !b->merges) return;
    if (tg__strtab_find(&b->tokens, WS, 3) == TG__NO_ID) return;
    for (size_t i = 0; i <= b->merge_mask; i++) {
        const tg__merge_slot *m = &b->merges[i];
        if (m->key == 0) continue;
        uint64_t k = m->key - 1;
        if (opaque_token(b, (uint32_t)(k >> 32)) || opaque_token(b, (uint32_t)k)) return;
        if (!note_junctions(b, m->new_id)) {
            b->n_cross = 0;
            return;
        }
    }
    setup_ascii_cut(b);
    b->ws_split = 1;
}

/* 1 when a piece may end at p[at] (a "▁" after another char): no listed
 * cross token lies in the text across it. */
static int safe_at(const tg__bpe *b, const uint8_t *p, size_t n, size_t at) {
    for (size_t i = 0; i < b->n_cross; i++) {
        const struct tg__bpe_cross *c = &b->cross[i];
        if (at < c->at || at - c->at + c->len > n || p[at - c->at] != (uint8_t)c->s[0]) continue;
        if (memcmp(p + at - c->at, c->s, c->len) == 0) return 0;
    }
    return 1;
}

#define BATCH 16 /* pieces found, their cache sets prefetched, then encoded */

typedef struct batch {
    size_t off[BATCH], len[BATCH], n;
    uint64_t h[BATCH];
} batch;

static tg_status flush(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, batch *q, tg_tokens *out,
                       tg_error *err, tg__bpe_piece_fn fn) {
    for (size_t k = 0; k < q->n; k++) q->h[k] = tg__bpe_prefetch_piece(b, p + q->off[k], q->len[k]);
    for (size_t k = 0; k < q->n; k++) {
        tg_status st = fn(b, s, p + q->off[k], q->len[k], q->h[k], out, err);
        if (st) return st;
    }
    q->n = 0;
    return TG_OK;
}

/* Adds p[start..end) to the batch, encoding the batch when full. */
static inline tg_status add(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, batch *q, size_t start,
                            size_t end, tg_tokens *out, tg_error *err, tg__bpe_piece_fn fn) {
    q->off[q->n] = start;
    q->len[q->n++] = end - start;
    return q->n == BATCH ? flush(b, s, p, q, out, err, fn) : TG_OK;
}

tg_status tg__bpe_split_each(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, tg_tokens *out,
                             tg_error *err, tg__bpe_piece_fn fn) {
    if (!b->ws_split || n < SPLIT_MIN) return fn(b, s, p, n, 0, out, err);
    batch q;
    q.n = 0;
    size_t start = 0;
    tg_status st;
    for (size_t i = 1; i < n; i++) {
        uint8_t c = p[i], a = p[i - 1];
        size_t at = i;
        if (c < 0x80) {
            if (a >= 0x80 || !(b->ascii_cut[a][c >> 6] >> (c & 63) & 1)) continue;
        } else {
            if (c != 0xE2 || i + 3 > n || p[i + 1] != 0x96 || p[i + 2] != 0x81) continue;
            i += 2; /* the next char starts after this "▁" */
            if (at >= 3 && is_ws_at((const char *)p, at - 3)) continue; /* "▁▁": a run stays together */
            if (!safe_at(b, p, n, at)) continue;
        }
        if ((st = add(b, s, p, &q, start, at, out, err, fn))) return st;
        start = at;
    }
    if ((st = add(b, s, p, &q, start, n, out, err, fn))) return st;
    return flush(b, s, p, &q, out, err, fn);
}
