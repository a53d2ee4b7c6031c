/*
 * builtin_tokenizer.h: a small tokenizer built in memory for fuzz targets that
 * count (fuzz_count_cache.c, fuzz_template.c): byte-level BPE (GPT-2 byte map,
 * merges of common letter pairs, GPT-2-style Split regex, NFC normalizer)
 * with special added tokens of several lengths and both strip flags
 * ("<|x|>", "<|im_start|>", "<|im_end|>" with rstrip, "<s>" with lstrip,
 * "</s>", "[INST]", and "[INST]]" which extends another so the longest
 * match matters) and one normal added token ("hello").
 *
 * Not named fuzz_*.c: a header-only helper, as tokenizer_invariants.h.
 */
#ifndef TG_FUZZ_BUILTIN_TOKENIZER_H
#define TG_FUZZ_BUILTIN_TOKENIZER_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/utf8.h"

static const char *const TGF_SPECIALS[] = {"<|x|>", "<|im_start|>", "<|im_end|>", "<s>",
                                           "</s>", "[INST]", "[INST]]"};
#define TGF_NSPECIALS 7

/* GPT-2's byte-to-character map. */
static inline uint32_t tgf_byte_char(unsigned b) {
    if (b <= 0x20) return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0) return 0x121 + (b - 0x7F);
    if (b == 0xAD) return 0x143;
    return b;
}

static inline void tgf_json_str(tgx_buf *j, const char *s, size_t n) {
    tgx_buf_putc(j, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') tgx_buf_printf(j, "\\%c", c);
        else if (c < 0x20) tgx_buf_printf(j, "\\u%04x", c);
        else tgx_buf_putc(j, (char)c);
    }
    tgx_buf_putc(j, '"');
}

/* Writes a byte-level BPE model's vocabulary and merges into j, after its
 * `"vocab":{` and up to (not including) the closing `]}}`: the 256 byte
 * characters as ids 0-255, then a merge of every pair of `letters` and of
 * "Ġ" with each letter, each merge's result the next id, in order. Shared by
 * the built-in tokenizer here and fuzz_encode_roundtrip.c's. */
static inline void tgf_bpe_vocab_merges(tgx_buf *j, const char *letters) {
    char sym[256][4];
    size_t symlen[256];
    for (unsigned b = 0; b < 256; b++) {
        symlen[b] = tgx_utf8_encode(tgf_byte_char(b), sym[b]);
        if (b) tgx_buf_putc(j, ',');
        tgf_json_str(j, sym[b], symlen[b]);
        tgx_buf_printf(j, ":%u", b);
    }
    char merges[512][8];
    size_t nm = 0, nl = strlen(letters);
    if (nl > 20) nl = 20; /* 20 * 20 + 20 pairs fit */
    for (size_t a = 0; a < nl; a++)
        for (size_t c = 0; c < nl; c++) snprintf(merges[nm++], sizeof merges[0], "%c %c", letters[a], letters[c]);
    for (size_t a = 0; a < nl; a++) snprintf(merges[nm++], sizeof merges[0], "\xC4\xA0 %c", letters[a]);
    for (size_t i = 0; i < nm; i++) {
        char joined[8];
        size_t o = 0;
        for (const char *q = merges[i]; *q; q++)
            if (*q != ' ') joined[o++] = *q;
        tgx_buf_putc(j, ',');
        tgf_json_str(j, joined, o);
        tgx_buf_printf(j, ":%zu", 256 + i);
    }
    tgx_buf_puts(j, "},\"merges\":[");
    for (size_t i = 0; i < nm; i++) {
        if (i) tgx_buf_putc(j, ',');
        tgf_json_str(j, merges[i], strlen(merges[i]));
    }
}

/* Builds the tokenizer; abort()s if the library refuses it. */
static inline tg_tokenizer *tgf_builtin_tokenizer(void) {
    tgx_buf j;
    tgx_buf_init(&j, (size_t)1 << 24);
    tgx_buf_puts(&j, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
    unsigned id = 1000;
    for (size_t i = 0; i < sizeof TGF_SPECIALS / sizeof TGF_SPECIALS[0]; i++) {
        tgx_buf_printf(&j, "{\"id\":%u,\"content\":", id++);
        tgf_json_str(&j, TGF_SPECIALS[i], strlen(TGF_SPECIALS[i]));
        tgx_buf_printf(&j, ",\"single_word\":false,\"lstrip\":%s,\"rstrip\":%s,\"normalized\":false,\"special\":true},",
                       i == 3 ? "true" : "false", i == 2 ? "true" : "false");
    }
    tgx_buf_printf(&j, "{\"id\":%u,\"content\":\"hello\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                       "\"normalized\":false,\"special\":false}],", id++);
    tgx_buf_puts(&j, "\"normalizer\":{\"type\":\"NFC\"},\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                     "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"'s|'t| ?\\\\p{L}+| ?\\\\p{N}+| ?[^\\\\s\\\\p{L}\\\\p{N}]+"
                     "|\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false},"
                     "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":false,\"use_regex\":false}]},"
                     "\"post_processor\":null,\"decoder\":{\"type\":\"ByteLevel\"},"
                     "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"fuse_unk\":false,"
                     "\"byte_fallback\":false,\"vocab\":{");
    tgf_bpe_vocab_merges(&j, "etaoinsrhl");
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

#endif
