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
#include "tokenizer_invariants.h"

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
    tgf_check_tokenizer(t, text, sizeof text - 1);
    tg_tokenizer_free(t);
    return 0;
}
