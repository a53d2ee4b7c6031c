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

#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t bl_char(unsigned b) {
    if (b <= 0x20) return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0) return 0x121 + (b - 0x7F);
    if (b == 0xAD) return 0x143;
    return b;
}

static void put_json_str(tgx_buf *j, const char *s, size_t n) {
    tgx_buf_putc(j, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { tgx_buf_putc(j, '\\'); tgx_buf_putc(j, (char)c); }
        else if (c < 0x20) tgx_buf_printf(j, "\\u%04x", c);
        else tgx_buf_putc(j, (char)c);
    }
    tgx_buf_putc(j, '"');
}

static tg_tokenizer *make(void) {
    /* symbols: the 256 byte chars; merges: pairs of common ASCII letters and
     * space-letter, each merge adding its concatenation to the vocabulary */
    static char sym[256][4];
    static size_t symlen[256];
    for (unsigned b = 0; b < 256; b++) symlen[b] = tgx_utf8_encode(bl_char(b), sym[b]);
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
    unsigned id = 0;
    for (unsigned b = 0; b < 256; b++) {
        if (id) tgx_buf_putc(&j, ',');
        put_json_str(&j, sym[b], symlen[b]);
        tgx_buf_printf(&j, ":%u", id++);
    }
    static const char letters[] = "etaoinshrdlu";
    char pairs[400][16];
    size_t np = 0;
    for (size_t a = 0; letters[a]; a++)
        for (size_t c = 0; letters[c]; c++) {
            snprintf(pairs[np++], sizeof pairs[0], "%c %c", letters[a], letters[c]);
        }
    for (size_t a = 0; letters[a]; a++) snprintf(pairs[np++], sizeof pairs[0], "\xC4\xA0 %c", letters[a]);
    for (size_t i = 0; i < np; i++) {
        char joined[16];
        size_t o = 0;
        for (const char *q = pairs[i]; *q; q++)
            if (*q != ' ') joined[o++] = *q;
        tgx_buf_putc(&j, ',');
        put_json_str(&j, joined, o);
        tgx_buf_printf(&j, ":%u", id++);
    }
    tgx_buf_puts(&j, "},\"merges\":[");
    for (size_t i = 0; i < np; i++) {
        if (i) tgx_buf_putc(&j, ',');
        put_json_str(&j, pairs[i], strlen(pairs[i]));
    }
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
