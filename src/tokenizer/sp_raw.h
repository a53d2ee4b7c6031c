/*
 * tokenizer/sp_raw.h: sp_raw.c's encode path for SentencePiece-style BPE
 * models whose normalizer only turns " " into U+2581 (Gemma-3): pieces cut,
 * keyed and looked up in the shared cache from the raw text (see sp_raw.c).
 * tokenizer.c runs one tg__sp_run per encode call over the segments between
 * added tokens; pieces queue in batches, across segment ends. A piece is
 * resolved as it is queued (a one-char piece by table, a piece the call's
 * front cache holds by its ids, appended to the batch's id run); any other
 * is hashed, its shared-cache set prefetched, and left pending at its place
 * in that run. A batch is full at TG__SP_BATCH pending pieces or TG__SP_IDS
 * ids; then the batch before it is encoded (its run copied out in stretches
 * between the pending pieces, each looked up there), so a shared-cache
 * lookup comes a batch after its prefetch.
 */
#ifndef TG_TOKENIZER_SP_RAW_H
#define TG_TOKENIZER_SP_RAW_H

#include "tokenizer/tokenizer_internal.h"

#define TG__SP_BATCH 16 /* pending pieces a batch */
#define TG__SP_IDS 256  /* resolved ids a batch */

typedef struct tg__sp_run {
    const tg__bpe *b;
    tg__bpe_scratch *s;
    const uint8_t *text; /* the call's whole raw text: items are offsets into it */
    size_t text_len;
    uint32_t ws_id;      /* the id of U+2581 alone */
    uint32_t one[128];   /* the id of a one-char piece of each ASCII char (" ": ws_id) */
    uint64_t cross_end[4]; /* bit c: a listed cross token's byte before its "▁" is c */
    const struct tg__sp_conf *conf;
    tgx_buf *nbuf;       /* normalized text of a long piece that missed */
    tg_tokens *out;
    tg_error *err;
    struct tg__sp_front *front;   /* the call's front cache for pieces of 2..8 bytes (NULL: none) */
    struct tg__sp_front2 *front2; /* and for 9..16 bytes */
    unsigned cur;        /* q[cur] fills while q[cur ^ 1], prefetched, waits */
    struct tg__sp_batch *fill; /* &q[cur] */
    struct tg__sp_batch {
        uint32_t v[TG__SP_IDS + 4]; /* the ids of the pieces resolved as they were
                                       queued (an added token, a one-char piece,
                                       a front cache hit), in order; a resolved
                                       piece's ids are stored 16 bytes at a time */
        size_t nv;
        uint32_t off[TG__SP_BATCH], len[TG__SP_BATCH]; /* a pending piece text[off..off+len) */
        uint32_t at[TG__SP_BATCH];                     /* its ids go before v[at] */
        uint64_t h[TG__SP_BATCH], kw[TG__SP_BATCH];    /* its hash and (up to 8 bytes) key word */
        size_t n;                                      /* pending pieces */
    } q[2];
} tg__sp_run;

/* 1 when t's segments may go through tg__sp_run (normalizer one Replace of
 * " " by U+2581, pre-tokenizer a no-op on such text, no added token matched
 * on normalized text, b->ws_split): the same ids as the usual path. */
int tg__sp_raw_applies(const tg_tokenizer *t);
/* Fills t->sp_raw (ws_id TG__NO_ID when tg__sp_raw_applies does not hold). */
void tg__sp_raw_setup(tg_tokenizer *t);

void tg__sp_run_init(tg__sp_run *r, const tg_tokenizer *t, tg__bpe_scratch *s, const uint8_t *text, size_t len,
                     tgx_buf *nbuf, tg_tokens *out, tg_error *err);
/* The raw segment text[from..to) (between added tokens), queued as pieces. */
tg_status tg__sp_run_segment(tg__sp_run *r, size_t from, size_t to);
/* An added token's id, queued in order with the pieces. */
tg_status tg__sp_run_id(tg__sp_run *r, uint32_t id);
/* Encodes what is still queued; call before anything else is appended to out. */
tg_status tg__sp_run_finish(tg__sp_run *r);
/* Frees what the run holds (after finish, or on an error). */
void tg__sp_run_free(tg__sp_run *r);

#endif
