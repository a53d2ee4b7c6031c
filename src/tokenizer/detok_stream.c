/*
 * detok_stream.c: the streaming detokenizer (Oxide-Lab's TokenOutputStream,
 * made exact).
 *
 * The stream keeps only the ids whose text is not final yet. On each id it
 * finds the longest prefix of them after which decoding is separable
 * (tg__decode_stable_cut: no byte-fallback run and no incomplete byte-level
 * UTF-8 sequence crosses it), decodes that prefix, hands the text out and
 * drops those ids; later decodes are continuations (at_start = 0: no
 * first-token space stripping, " " joins for a null decoder). Because decode
 * is separable at such cuts, the concatenation of all text handed out equals
 * decode(all ids). Ids that decode to nothing (unknown, or skipped specials)
 * are dropped on entry, exactly as decode filters them. The stream counts
 * the trailing run of byte-fallback tokens as ids arrive, so a long run (a
 * text of byte-fallback characters) is not rescanned on every id: feeding
 * stays O(1) amortized per id (plus the decode of what is handed out).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

struct tg_detok {
    const tg_tokenizer *t;
    int skip_special;
    int at_start;
    uint32_t *ids;
    size_t n, cap;
    size_t bf_run; /* the last bf_run held ids are byte-fallback byte tokens */
    tgx_buf out;
};

tg_status tg_detok_new(const tg_tokenizer *t, int skip_special, tg_detok **out, tg_error *err) {
    tg_detok *d = calloc(1, sizeof *d);
    if (!d) return tg_error_set(err, TG_ENOMEM, "out of memory");
    d->t = t;
    d->skip_special = skip_special;
    d->at_start = 1;
    tgx_buf_init(&d->out, TG__MAX_TEXT_BYTES);
    *out = d;
    return TG_OK;
}

void tg_detok_free(tg_detok *d) {
    if (!d) return;
    free(d->ids);
    tgx_buf_free(&d->out);
    free(d);
}

static tg_status emit(tg_detok *d, size_t cut, const char **text, size_t *len, tg_error *err) {
    tgx_buf_reset(&d->out);
    if (cut) {
        tg_status st = tg__decode_ids(d->t, d->ids, cut, d->skip_special, d->at_start, &d->out, err);
        if (st) return st;
        memmove(d->ids, d->ids + cut, (d->n - cut) * sizeof *d->ids);
        d->n -= cut;
        if (d->bf_run > d->n) d->bf_run = d->n;
        d->at_start = 0;
    }
    *text = d->out.data ? d->out.data : "";
    *len = d->out.len;
    return TG_OK;
}

tg_status tg_detok_feed(tg_detok *d, uint32_t id, const char **text, size_t *len, tg_error *err) {
    if (tg__decode_keeps(d->t, id, d->skip_special)) {
        if (d->n == d->cap) {
            size_t nc = d->cap ? d->cap * 2 : 16;
            uint32_t *p = realloc(d->ids, nc * sizeof *p);
            if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory");
            d->ids = p;
            d->cap = nc;
        }
        d->ids[d->n++] = id;
        d->bf_run = tg__decode_is_byte_token(d->t, id) ? d->bf_run + 1 : 0;
    }
    return emit(d, tg__decode_stable_cut_run(d->t, d->ids, d->n, d->bf_run), text, len, err);
}

tg_status tg_detok_finish(tg_detok *d, const char **text, size_t *len, tg_error *err) {
    tg_status st = emit(d, d->n, text, len, err);
    d->at_start = 1;
    d->n = 0;
    d->bf_run = 0;
    return st;
}
