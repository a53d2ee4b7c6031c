/*
 * fuzz_count_cache.c: the count cache (template/count_cache.c) against whole
 * counts, over sequences of prompts that share prefixes as an agent's do.
 *
 * Tokenizer: built in, byte-level BPE (GPT-2 byte map, merges of common
 * letter pairs, GPT-2-style Split regex, NFC normalizer) with special added
 * tokens of several lengths and both strip flags ("<|x|>", "<|im_start|>",
 * "<|im_end|>" with rstrip, "<s>" with lstrip, "</s>", "[INST]"), and one
 * normal added token ("hello").
 *
 * Input: byte 0 picks the encode flags (bit 0: TG_ENCODE_ADD_SPECIAL) and the
 * cache size (bits 1-2: max_entries 4, 64, 4096 or the default); the rest is
 * a script of parts separated by 0x00. Each part edits the current prompt and
 * the prompt is counted: its first byte b says how (b % 4: 0 append the rest;
 * 1 cut the prompt at b2 * len / 256 and append the rest; 2 overwrite from
 * that position; 3 switch to another of 3 prompts (b2 % 3) and append), b2
 * being the part's second byte. Special tokens are reached by the bytes
 * themselves or by 0x01..0x06, which expand to one of the six tokens.
 *
 * Invariant: every prompt's cached count equals tg_tokenizer_count of the
 * whole prompt with the same flags, and both fail alike (invalid UTF-8); the
 * cache never falls back to whole counts for this tokenizer. The
 * cache's kept prompts (prefix reuse), segment counts, eviction and the
 * segment-count reset all run; ASan/UBSan catch the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const SPECIALS[] = {"<|x|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>", "[INST]"};

/* GPT-2's byte-to-character map. */
static uint32_t byte_char(unsigned b) {
    if (b <= 0x20) return 0x100 + b;
    if (b >= 0x7F && b <= 0xA0) return 0x121 + (b - 0x7F);
    if (b == 0xAD) return 0x143;
    return b;
}

static void json_str(tgx_buf *j, const char *s, size_t n) {
    tgx_buf_putc(j, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') tgx_buf_printf(j, "\\%c", c);
        else if (c < 0x20) tgx_buf_printf(j, "\\u%04x", c);
        else tgx_buf_putc(j, (char)c);
    }
    tgx_buf_putc(j, '"');
}

static tg_tokenizer *build(void) {
    tgx_buf j;
    tgx_buf_init(&j, (size_t)1 << 24);
    tgx_buf_puts(&j, "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
    unsigned id = 1000;
    for (size_t i = 0; i < sizeof SPECIALS / sizeof SPECIALS[0]; i++) {
        tgx_buf_printf(&j, "{\"id\":%u,\"content\":", id++);
        json_str(&j, SPECIALS[i], strlen(SPECIALS[i]));
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
    char sym[256][4];
    size_t symlen[256];
    for (unsigned b = 0; b < 256; b++) {
        symlen[b] = tgx_utf8_encode(byte_char(b), sym[b]);
        if (b) tgx_buf_putc(&j, ',');
        json_str(&j, sym[b], symlen[b]);
        tgx_buf_printf(&j, ":%u", b);
    }
    static const char letters[] = "etaoinsrhl";
    char merges[128][8];
    size_t nm = 0;
    for (size_t a = 0; letters[a]; a++)
        for (size_t c = 0; letters[c]; c++) snprintf(merges[nm++], sizeof merges[0], "%c %c", letters[a], letters[c]);
    for (size_t a = 0; letters[a]; a++) snprintf(merges[nm++], sizeof merges[0], "\xC4\xA0 %c", letters[a]);
    for (size_t i = 0; i < nm; i++) {
        char joined[8];
        size_t o = 0;
        for (const char *q = merges[i]; *q; q++)
            if (*q != ' ') joined[o++] = *q;
        tgx_buf_putc(&j, ',');
        json_str(&j, joined, o);
        tgx_buf_printf(&j, ":%zu", 256 + i);
    }
    tgx_buf_puts(&j, "},\"merges\":[");
    for (size_t i = 0; i < nm; i++) {
        if (i) tgx_buf_putc(&j, ',');
        json_str(&j, merges[i], strlen(merges[i]));
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

/* Appends p[0..n) with bytes 1..6 expanded to the special tokens. */
static void append_expanded(tgx_buf *b, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 1 && p[i] <= 6) tgx_buf_puts(b, SPECIALS[p[i] - 1]);
        else tgx_buf_putc(b, (char)p[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_tokenizer *t;
    if (!t) t = build();
    if (size < 1 || size > 64 * 1024) return 0;
    unsigned flags = (data[0] & 1) ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u;
    static const size_t sizes[] = {4, 64, 4096, 0};
    tg_count_cache *c = NULL;
    tg_error err;
    if (tg_count_cache_new(t, sizes[(data[0] >> 1) & 3], &c, &err) != TG_OK) abort();
    tgx_buf prompts[3];
    for (int i = 0; i < 3; i++) tgx_buf_init(&prompts[i], 1u << 20);
    tgx_buf *cur = &prompts[0];
    size_t pos = 1;
    while (pos < size) {
        const uint8_t *part = data + pos;
        const uint8_t *end = memchr(part, 0, size - pos);
        size_t n = end ? (size_t)(end - part) : size - pos;
        pos += n + 1;
        uint8_t op = n ? part[0] : 0, arg = n > 1 ? part[1] : 0;
        const uint8_t *rest = part + (n > 2 ? 2 : n);
        size_t rn = n > 2 ? n - 2 : 0;
        size_t at = (size_t)arg * cur->len / 256;
        switch (op % 4) {
        case 0: append_expanded(cur, part + (n ? 1 : 0), n ? n - 1 : 0); break;
        case 1: cur->len = at; append_expanded(cur, rest, rn); break;
        case 2: {
            tgx_buf tail;
            tgx_buf_init(&tail, 1u << 20);
            append_expanded(&tail, rest, rn);
            size_t keep = at + tail.len < cur->len ? cur->len - at - tail.len : 0;
            tgx_buf rebuilt;
            tgx_buf_init(&rebuilt, 1u << 20);
            if (at) tgx_buf_append(&rebuilt, cur->data, at);
            if (tail.len) tgx_buf_append(&rebuilt, tail.data, tail.len);
            if (keep) tgx_buf_append(&rebuilt, cur->data + cur->len - keep, keep);
            tgx_buf_free(cur);
            *cur = rebuilt;
            tgx_buf_free(&tail);
            break;
        }
        default: cur = &prompts[arg % 3]; append_expanded(cur, rest, rn); break;
        }
        const char *text = cur->data ? cur->data : "";
        size_t whole = 0, cached = 0;
        tg_error e1, e2;
        tg_status s1 = tg_tokenizer_count(t, text, cur->len, flags, &whole, &e1);
        tg_status s2 = tg_count_cache_count(c, text, cur->len, flags, &cached, &e2);
        if (s1 != s2 || (s1 == TG_OK && whole != cached)) {
            fprintf(stderr, "count cache: whole %zu (%d), cached %zu (%d) for %zu bytes\n", whole, s1, cached, s2,
                    cur->len);
            abort();
        }
        if (s1 == TG_OK && !tgx_utf8_valid((const uint8_t *)text, cur->len, NULL)) abort();
    }
    tg_count_cache_stats st;
    tg_count_cache_stats_get(c, &st);
    if (st.segmenting < 0) abort(); /* this tokenizer splits at special tokens first: never a fallback */
    for (int i = 0; i < 3; i++) tgx_buf_free(&prompts[i]);
    tg_count_cache_free(c);
    return 0;
}
