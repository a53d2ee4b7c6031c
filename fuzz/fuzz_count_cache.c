/*
 * fuzz_count_cache.c: the count cache (template/count_cache.c) against whole
 * counts, over sequences of prompts that share prefixes as an agent's do.
 *
 * Tokenizer: builtin_tokenizer.h (byte-level BPE with seven special tokens
 * of several lengths, one extending another, both strip flags, one normal
 * added token).
 *
 * Input: byte 0 picks the encode flags (bit 0: TG_ENCODE_ADD_SPECIAL) and the
 * cache size (bits 1-2: max_entries 4, 64, 4096 or the default); the rest is
 * a script of parts separated by 0x00. Each part edits the current prompt and
 * the prompt is counted: its first byte b says how (b % 4: 0 append the rest;
 * 1 cut the prompt at b2 * len / 256 and append the rest; 2 overwrite from
 * that position; 3 switch to another of 3 prompts (b2 % 3) and append), b2
 * being the part's second byte. Special tokens are reached by the bytes
 * themselves or by 0x01..0x07, which expand to one of the seven tokens.
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
#include "builtin_tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Appends p[0..n) with bytes 1..7 expanded to the special tokens. */
static void append_expanded(tgx_buf *b, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= 1 && p[i] <= TGF_NSPECIALS) tgx_buf_puts(b, TGF_SPECIALS[p[i] - 1]);
        else tgx_buf_putc(b, (char)p[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_tokenizer *t;
    if (!t) t = tgf_builtin_tokenizer();
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
