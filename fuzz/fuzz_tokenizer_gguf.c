/*
 * fuzz_tokenizer_gguf.c: tokenizers built from GGUF metadata
 * (src/tokenizer/tokenizer_gguf.c) over arbitrary bytes.
 *
 * Invariants: building never crashes or leaks; a failure always carries a
 * message; a built tokenizer encodes a fixed valid UTF-8 text (only resource
 * limits may stop it), every id is below vocab_size, decode succeeds, the
 * streaming detokenizer's output concatenates to the full decode, and every
 * end-of-generation id is a vocabulary id. Seeds (one per GGUF tokenizer
 * kind, fuzz/make_tokenizer_gguf_seeds.py): gpt2 + qwen2 pre-tokenizer,
 * llama SentencePiece with scores and byte tokens, gemma4, a refused bert, an
 * embedded tokenizer.huggingface.json.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_gguf.h"
#include "tokgate/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_tokenizer *t = NULL;
    tg_error err;
    memset(&err, 0, sizeof err);
    if (tg__tokenizer_from_gguf_buf(data, size, &t, &err) != TG_OK) {
        if (err.msg[0] == '\0') abort();
        return 0;
    }
    size_t n_eog = 0;
    const uint32_t *eog = tg_tokenizer_eog_ids(t, &n_eog);
    for (size_t i = 0; i < n_eog; i++)
        if (eog[i] >= tg_tokenizer_vocab_size(t)) abort();
    static const char text[] = "hello the world  it's 12345 <|im_end|> caf\xC3\xA9\n\n\t\xE6\x97\xA5 \xF0\x9F\x91\x8D";
    for (unsigned flags = 0; flags < 4; flags++) {
        tg_tokens toks = {0};
        if (tg_tokenizer_encode(t, text, sizeof text - 1, flags, &toks, &err) != TG_OK) {
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
    tg_tokenizer_free(t);
    return 0;
}
