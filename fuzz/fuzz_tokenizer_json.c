/*
 * fuzz_tokenizer_json.c: the tokenizer.json loader over arbitrary bytes.
 *
 * Invariants: loading never crashes or leaks; it either fails with a message
 * or yields a tokenizer whose encode of a fixed text succeeds (the text is
 * valid UTF-8), whose ids are all below vocab_size and decode without error,
 * and whose streaming decode equals the full decode. Seeds: small valid
 * tokenizer.json files of each supported kind (fuzz/corpus/fuzz_tokenizer_json).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_tokenizer *t = NULL;
    tg_error err;
    if (tg_tokenizer_load_buffer((const char *)data, size, NULL, 0, &t, &err) != TG_OK) {
        if (err.msg[0] == '\0') abort(); /* a failure always says why */
        return 0;
    }
    static const char text[] = "Hello  world! it's 12345 <|x|> caf\xC3\xA9\n\n\t\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x91\x8D";
    for (unsigned flags = 0; flags < 4; flags++) {
        tg_tokens toks = {0};
        if (tg_tokenizer_encode(t, text, sizeof text - 1, flags, &toks, &err) != TG_OK) {
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
    tg_tokenizer_free(t);
    return 0;
}
