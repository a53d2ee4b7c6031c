/*
 * detok_stream.c: the streaming detokenizer (Oxide-Lab's TokenOutputStream,
 * made exact).
 *
 * The stream keeps only the ids whose text is not final yet. On each id it
 * finds the longest prefix of them after which decoding is separable
 * (tg__decode_stable_cut: no byte-fallback run and no incomplete byte-level
 * UTF-8 sequence crosses it), decodes that prefix, hands the text out and
 * drops those ids; later decodes are continuations (at_start = 0: no
 * first-token space stripping, " " joins for a null decoder). Because decode
 * is separable at such cuts, the concatenation of all text handed out equals
 * decode(all ids). Ids that decode to nothing (unknown, or skipped specials)
 * are dropped on entry, exactly as decode filters them. The stream counts
 * the trailing run of byte-fallback tokens as ids arrive, so a long run (a
 * text of byte-fallback characters) is not rescanned on every id: feeding
 * stays O(1) amortized per id (plus the decode of what is handed out).
 *
 * Emoji sequences are held whole, as Oxide-Lab's output stream does: text
 * whose last code point could still be extended into the same emoji (UAX #29
 * grapheme rules GB9 Extend/ZWJ, GB11 ZWJ x Extended_Pictographic, GB12/13
 * regional-indicator pairs) is kept back until a code point arrives that does
 * not extend it, or the stream finishes. Held tails end in: an
 * Extended_Pictographic (a 👋 may get a skin tone next), a skin-tone modifier
 * U+1F3FB..1F3FF, the variation selector U+FE0F, ZWJ U+200D, an emoji tag
 * U+E0020..E007E (subdivision flags end at U+E007F), or an odd run of
 * regional indicators U+1F1E6..1F1FF (half a flag). The held part starts at
 * the sequence's base: back over modifiers, FE0F, tags and ZWJ-joined
 * pictographs. A base that was already handed out is not taken back (a digit
 * before a keycap's FE0F U+20E3 is plain text until then). Only the bytes
 * handed out move; their concatenation is still decode(all ids).
 *
 * Extended_Pictographic: Unicode emoji-data.txt (Emoji 15.0, Debian
 * unicode-data /usr/share/unicode/emoji/emoji-data.txt), adjacent ranges
 * merged (511 lines, 78 ranges).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

static const uint32_t ext_pict[][2] = {
    {0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049}, {0x2122, 0x2122}, {0x2139,
    0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA}, {0x231A, 0x231B}, {0x2328, 0x2328}, {0x2388, 0x2388},
    {0x23CF, 0x23CF}, {0x23E9, 0x23F3}, {0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB}, {0x25B6,
    0x25B6}, {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x2605}, {0x2607, 0x2612}, {0x2614, 0x2685},
    {0x2690, 0x2705}, {0x2708, 0x2712}, {0x2714, 0x2714}, {0x2716, 0x2716}, {0x271D, 0x271D}, {0x2721,
    0x2721}, {0x2728, 0x2728}, {0x2733, 0x2734}, {0x2744, 0x2744}, {0x2747, 0x2747}, {0x274C, 0x274C},
    {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2763, 0x2767}, {0x2795, 0x2797}, {0x27A1,
    0x27A1}, {0x27B0, 0x27B0}, {0x27BF, 0x27BF}, {0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C},
    {0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297}, {0x3299,
    0x3299}, {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F}, {0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171}, {0x1F17E,
    0x1F17F}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5}, {0x1F201, 0x1F20F}, {0x1F21A,
    0x1F21A}, {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA}, {0x1F400,
    0x1F53D}, {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F}, {0x1F7D5, 0x1F7FF}, {0x1F80C,
    0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F}, {0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF}, {0x1F90C,
    0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD}
};

static int is_ext_pict(uint32_t c) {
    size_t lo = 0, hi = sizeof ext_pict / sizeof ext_pict[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < ext_pict[mid][0]) hi = mid;
        else if (c > ext_pict[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

static int is_ri(uint32_t c) { return c >= 0x1F1E6 && c <= 0x1F1FF; }
static int is_emoji_mod(uint32_t c) { return c >= 0x1F3FB && c <= 0x1F3FF; }
static int is_tag(uint32_t c) { return c >= 0xE0020 && c <= 0xE007F; }
/* Extends the code point before it inside an emoji sequence. */
static int is_emoji_extender(uint32_t c) {
    return is_emoji_mod(c) || c == 0xFE0F || c == 0x200D || c == 0x20E3 || is_tag(c);
}

/* The code point ending at s[end] (exclusive); its start in *start. 0 when
 * the bytes there are not well-formed UTF-8 (then nothing is held). */
static int prev_cp(const unsigned char *s, size_t end, size_t *start, uint32_t *cp) {
    size_t i = end, k = 0;
    while (i > 0 && k < 4 && (s[i - 1] & 0xC0) == 0x80) { i--; k++; }
    if (i == 0) return 0;
    i--;
    unsigned char b = s[i];
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len != k + 1) return 0;
    uint32_t c = len == 1 ? b : len == 2 ? (uint32_t)(b & 0x1F) : len == 3 ? (uint32_t)(b & 0x0F) : (uint32_t)(b & 0x07);
    for (size_t j = 1; j < len; j++) c = (c << 6) | (s[i + j] & 0x3F);
    *start = i;
    *cp = c;
    return 1;
}

/* How many trailing bytes of text[0..n) to hold back (see the top comment). */
static size_t emoji_hold(const char *text, size_t n) {
    const unsigned char *s = (const unsigned char *)text;
    size_t start, at;
    uint32_t c;
    if (!prev_cp(s, n, &start, &c)) return 0;
    if (is_ri(c)) {
        size_t runs = 1, first = start;
        while (prev_cp(s, first, &at, &c) && is_ri(c)) { runs++; first = at; }
        return runs % 2 ? n - start : 0;
    }
    if (!(is_ext_pict(c) || (is_emoji_extender(c) && c != 0x20E3 && c != 0xE007F))) return 0;
    for (;;) { /* c is the earliest code point held, starting at `start` */
        uint32_t p;
        if (is_ext_pict(c)) {
            if (!prev_cp(s, start, &at, &p) || p != 0x200D) break;
        } else if (!is_emoji_extender(c) || !prev_cp(s, start, &at, &p)) {
            break;
        }
        start = at;
        c = p;
    }
    return n - start;
}

struct tg_detok {
    const tg_tokenizer *t;
    int skip_special;
    int at_start;
    uint32_t *ids;
    size_t n, cap;
    size_t bf_run; /* the last bf_run held ids are byte-fallback byte tokens */
    tgx_buf out;
    tgx_buf held; /* text decoded but kept back: an emoji sequence that may go on */
};

tg_status tg_detok_new(const tg_tokenizer *t, int skip_special, tg_detok **out, tg_error *err) {
    tg_detok *d = calloc(1, sizeof *d);
    if (!d) return tg_error_set(err, TG_ENOMEM, "out of memory");
    d->t = t;
    d->skip_special = skip_special;
    d->at_start = 1;
    tgx_buf_init(&d->out, TG__MAX_TEXT_BYTES);
    tgx_buf_init(&d->held, TG__MAX_TEXT_BYTES);
    *out = d;
    return TG_OK;
}

void tg_detok_free(tg_detok *d) {
    if (!d) return;
    free(d->ids);
    tgx_buf_free(&d->out);
    tgx_buf_free(&d->held);
    free(d);
}

/* Decodes ids[0..cut) after the held text; hands out all of it when `final`,
 * else all but a tail that may still grow into the same emoji. */
static tg_status emit(tg_detok *d, size_t cut, int final, const char **text, size_t *len, tg_error *err) {
    tgx_buf_reset(&d->out);
    if (d->held.len) {
        tg_status st = tgx_buf_append(&d->out, d->held.data, d->held.len);
        if (st) return tg_error_set(err, st, "streamed text above %zu bytes", (size_t)TG__MAX_TEXT_BYTES);
        tgx_buf_reset(&d->held);
    }
    if (cut) {
        tg_status st = tg__decode_ids(d->t, d->ids, cut, d->skip_special, d->at_start, &d->out, err);
        if (st) return st;
        memmove(d->ids, d->ids + cut, (d->n - cut) * sizeof *d->ids);
        d->n -= cut;
        if (d->bf_run > d->n) d->bf_run = d->n;
        d->at_start = 0;
    }
    size_t hold = final ? 0 : emoji_hold(d->out.data ? d->out.data : "", d->out.len);
    if (hold && d->out.data) { /* hold > 0 only with text: the check is for the analyzer */
        tg_status st = tgx_buf_append(&d->held, d->out.data + d->out.len - hold, hold);
        if (st) return tg_error_set(err, st, "out of memory holding an emoji sequence");
        d->out.len -= hold;
        d->out.data[d->out.len] = '\0';
    }
    *text = d->out.data ? d->out.data : "";
    *len = d->out.len;
    return TG_OK;
}

tg_status tg_detok_feed(tg_detok *d, uint32_t id, const char **text, size_t *len, tg_error *err) {
    if (tg__decode_keeps(d->t, id, d->skip_special)) {
        if (d->n == d->cap) {
            size_t nc = d->cap ? d->cap * 2 : 16;
            uint32_t *p = realloc(d->ids, nc * sizeof *p);
            if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory");
            d->ids = p;
            d->cap = nc;
        }
        d->ids[d->n++] = id;
        d->bf_run = tg__decode_is_byte_token(d->t, id) ? d->bf_run + 1 : 0;
    }
    return emit(d, tg__decode_stable_cut_run(d->t, d->ids, d->n, d->bf_run), 0, text, len, err);
}

tg_status tg_detok_finish(tg_detok *d, const char **text, size_t *len, tg_error *err) {
    tg_status st = emit(d, d->n, 1, text, len, err);
    d->at_start = 1;
    d->n = 0;
    d->bf_run = 0;
    return st;
}
