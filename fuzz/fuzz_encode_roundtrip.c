/*
 * fuzz_encode_roundtrip.c: encode -> decode round trips on a built-in
 * byte-level BPE tokenizer (GPT-2 byte map over all 256 bytes, a few hundred
 * merges, ByteLevel pre-tokenizer with the GPT-2 regex, a Split regex step,
 * one special and one normal added token, ByteLevel decoder, no normalizer).
 *
 * Invariants for any valid UTF-8 input: encode succeeds; decode(encode(x)) ==
 * x byte for byte (special tokens kept); the streaming detokenizer's pieces
 * concatenate to x; count equals the number of ids. Invalid UTF-8 is refused
 * with TG_EINVAL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin_tokenizer.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tg_tokenizer *make(void) {
    tgx_buf j;
    tgx_buf_init(&j, (size_t)1 << 26);
    tgx_buf_puts(&j, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
                     "{\"id\":0,\"content\":\"<|x|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true},"
                     "{\"id\":0,\"content\":\"hello\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":false}],"
                     "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                     "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{N}{1,3}|[^\\\\p{N}]+\"},\"behavior\":\"Isolated\",\"invert\":false},"
                     "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":true}]},"
                     "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"},"
                     "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"fuse_unk\":false,\"byte_fallback\":false,\"vocab\":{");
    /* symbols: the 256 byte chars; merges: pairs of common ASCII letters and
     * space-letter, each merge adding its concatenation to the vocabulary */
    tgf_bpe_vocab_merges(&j, "etaoinshrdlu");
    tgx_buf_puts(&j, "]}}");
    tg_tokenizer *t = NULL;
    tg_error err;
    if (tg_tokenizer_load_buffer(j.data, j.len, NULL, 0, &t, &err) != TG_OK) {
        fprintf(stderr, "built-in tokenizer: %s\n", err.msg);
        abort();
    }
    tgx_buf_free(&j);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_tokenizer *t;
    if (!t) t = make();
    tg_tokens toks = {0};
    tg_error err;
    tg_status st = tg_tokenizer_encode(t, (const char *)data, size, 0, &toks, &err);
    if (!tgx_utf8_valid(data, size, NULL)) {
        if (st != TG_EINVAL) abort();
        tg_tokens_free(&toks);
        return 0;
    }
    if (st != TG_OK) abort();
    size_t count = 0;
    if (tg_tokenizer_count(t, (const char *)data, size, 0, &count, &err) != TG_OK || count != toks.len) abort();
    char *text = NULL;
    size_t len = 0;
    if (tg_tokenizer_decode(t, toks.ids, toks.len, 0, &text, &len, &err) != TG_OK) abort();
    if (len != size || memcmp(text, data, size) != 0) abort();
    tg_detok *d = NULL;
    if (tg_detok_new(t, 0, &d, &err) != TG_OK) abort();
    size_t at = 0;
    for (size_t i = 0; i <= toks.len; i++) {
        const char *p;
        size_t pl;
        st = i < toks.len ? tg_detok_feed(d, toks.ids[i], &p, &pl, &err) : tg_detok_finish(d, &p, &pl, &err);
        if (st != TG_OK || at + pl > size || memcmp(data + at, p, pl) != 0) abort();
        at += pl;
    }
    if (at != size) abort();
    tg_detok_free(d);
    tg_text_free(text);
    tg_tokens_free(&toks);
    return 0;
}
