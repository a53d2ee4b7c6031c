/*
 * tokenizer_invariants.h: the invariants every fuzz target that builds a
 * tokenizer checks on it (fuzz_tokenizer_json.c, fuzz_tokenizer_gguf.c).
 *
 * Not named fuzz_*.c: each fuzz/fuzz_*.c is built as its own target; this is
 * a header-only helper included by them.
 */
#ifndef TG_FUZZ_TOKENIZER_INVARIANTS_H
#define TG_FUZZ_TOKENIZER_INVARIANTS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/tokenizer.h"

/*
 * Encode `text` (must be valid UTF-8) under all four flag combinations and
 * abort() unless: only resource limits (TG_ELIMIT/TG_ENOMEM) stop an encode,
 * every id is below vocab_size, decode succeeds, and the streaming
 * detokenizer's pieces concatenate to exactly the full decode. Does not free t.
 */
static inline void tgf_check_tokenizer(const tg_tokenizer *t, const char *text, size_t text_len) {
    tg_error err;
    memset(&err, 0, sizeof err);
    for (unsigned flags = 0; flags < 4; flags++) {
        tg_tokens toks = {0};
        if (tg_tokenizer_encode(t, text, text_len, flags, &toks, &err) != TG_OK) {
            /* only resource limits may stop an encode of valid text */
            if (err.code != TG_ELIMIT && err.code != TG_ENOMEM) abort();
            tg_tokens_free(&toks);
            continue;
        }
        for (size_t i = 0; i < toks.len; i++)
            if (toks.ids[i] >= tg_tokenizer_vocab_size(t)) abort();
        char *full = NULL;
        size_t fl = 0;
        if (tg_tokenizer_decode(t, toks.ids, toks.len, (int)(flags & 1), &full, &fl, &err) != TG_OK) abort();
        tg_detok *d = NULL;
        if (tg_detok_new(t, (int)(flags & 1), &d, &err) != TG_OK) abort();
        size_t at = 0;
        for (size_t i = 0; i <= toks.len; i++) {
            const char *p;
            size_t pl;
            tg_status st = i < toks.len ? tg_detok_feed(d, toks.ids[i], &p, &pl, &err) : tg_detok_finish(d, &p, &pl, &err);
            if (st != TG_OK) abort();
            if (at + pl > fl || memcmp(full + at, p, pl) != 0) abort();
            at += pl;
        }
        if (at != fl) abort();
        tg_detok_free(d);
        tg_text_free(full);
        tg_tokens_free(&toks);
    }
}

#endif
