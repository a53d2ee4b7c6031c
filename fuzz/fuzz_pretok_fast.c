/*
 * fuzz_pretok_fast.c: the pre-tokenizer fast paths against PCRE2.
 *
 * For every fast-path kind, arbitrary bytes that are valid UTF-8 must give the
 * same match sequence as PCRE2 (PCRE2_UTF|PCRE2_UCP) compiled from the kind's
 * pattern with its Unicode classes rewritten to HF's Unicode 16 sets
 * (tg__regex_rewrite_unicode): from offset 0, each search restarting at the previous match end,
 * and from one extra start offset taken from the input. Bytes that are not
 * valid UTF-8 are outside the contract; for them the fast path must still
 * stay in bounds, return non-empty matches and advance (no comparison).
 * tg__pretok_fast_pieces (the encoder's batched form) must give the pieces
 * those matches make (the matches and the gaps between them), in batches of
 * a size taken from the input; on any input its pieces stay in bounds,
 * advance and end at the end.
 * Any difference aborts with the kind, position and both answers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../tests/tokenizer/pretok_ref.h"
#include "util/utf8.h"

static pretok_ref REF;
static int ref_ready;

static void fail(int kind, size_t pos, int f, size_t fs, size_t fe, int r, size_t rs, size_t re) {
    fprintf(stderr, "fuzz_pretok_fast: kind %s: search from %zu: fast %d [%zu,%zu) pcre2 %d [%zu,%zu)\n",
            tg__pretok_fast_name(kind), pos, f, fs, fe, r, rs, re);
    abort();
}

/* Compares matches from pos to the end; returns the number of matches. */
static size_t compare_from(int kind, const uint8_t *s, size_t n, size_t pos) {
    size_t count = 0;
    for (;;) {
        size_t fs = 0, fe = 0, rs = 0, re = 0;
        int f = tg__pretok_fast_next(kind, s, n, pos, &fs, &fe);
        int r = pretok_ref_next(&REF, kind, s, n, pos, &rs, &re);
        if (r < 0 || f != r || (f && (fs != rs || fe != re))) fail(kind, pos, f, fs, fe, r, rs, re);
        if (!f) return count;
        if (fe <= pos || fs < pos || fe > n) fail(kind, pos, f, fs, fe, r, rs, re);
        pos = fe;
        count++;
    }
}

/* The pieces from tg__pretok_fast_pieces (batches of cap) against the
 * matches and gaps of tg__pretok_fast_next (held to PCRE2 above when the
 * input is valid UTF-8); in bounds and advancing on any input. */
static void compare_pieces(int kind, const uint8_t *s, size_t n, size_t cap) {
    size_t ends[64], k = 0, i = 0, prev = 0, ms = 0, me = 0;
    int more = 1, in_gap_done = 0;
    while (prev < n) {
        if (i == k) {
            k = tg__pretok_fast_pieces(kind, s, n, prev, ends, cap);
            i = 0;
            if (k == 0 || k > cap) abort();
        }
        if (!in_gap_done && more) more = tg__pretok_fast_next(kind, s, n, prev, &ms, &me);
        size_t want = !more ? n : ms > prev ? ms : me;
        in_gap_done = more && ms > prev; /* after the gap, the match [ms, me) comes next */
        if (ends[i] != want || want <= prev || want > n) {
            fprintf(stderr, "fuzz_pretok_fast: kind %s: piece from %zu: pieces end %zu, matches give %zu\n",
                    tg__pretok_fast_name(kind), prev, ends[i], want);
            abort();
        }
        prev = ends[i++];
    }
    if (i != k) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ref_ready) {
        pretok_ref_init(&REF);
        ref_ready = 1;
    }
    size_t bad;
    if (!tgx_utf8_valid(data, size, &bad)) {
        for (int k = 1; k <= REF.kinds; k++) {
            size_t pos = 0, ms, me;
            while (tg__pretok_fast_next(k, data, size, pos, &ms, &me)) {
                if (ms < pos || me <= ms || me > size) abort();
                pos = me;
            }
            compare_pieces(k, data, size, 2 + (size % 63));
        }
        return 0;
    }
    size_t start = size ? (size_t)data[0] * size / 256 : 0;
    while (start < size && (data[start] & 0xC0u) == 0x80u) start++;
    for (int k = 1; k <= REF.kinds; k++) {
        (void)compare_from(k, data, size, 0);
        (void)compare_from(k, data, size, start);
        compare_pieces(k, data, size, 2 + (size_t)(size ? data[size - 1] % 63 : 0));
    }
    return 0;
}
