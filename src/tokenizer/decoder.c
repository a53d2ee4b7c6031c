/*
 * decoder.c: HF decoders and TokenizerImpl::decode.
 *
 * decode(ids): each id becomes its token string (added tokens first, then the
 * model; unknown ids vanish; with skip_special, strings that are the content
 * of a special added token vanish), then the decoder chain runs over the
 * whole list; with no decoder the strings are joined with " ". Steps, each
 * list -> list as in HF's decode_chain:
 *   ByteLevel: all tokens -> one string: each token's chars mapped back to
 *     bytes (a token with a char outside the map contributes its UTF-8 as
 *     is), then String::from_utf8_lossy.
 *   Replace: per token, every match of the pattern -> content.
 *   ByteFallback: runs of "<0xNN>" tokens -> their bytes as one string if
 *     valid UTF-8, else one U+FFFD per token.
 *   Fuse: all tokens -> one string.
 *   Strip(content, start, stop): per token, up to `start` leading and `stop`
 *     trailing `content` chars removed.
 *   Metaspace: per token, the replacement char -> ' ', except that in the
 *     first token (prepend_scheme != never) it is removed.
 * WordPiece, BPEDecoder, CTC are refused at load.
 *
 * Streaming (detok_stream.c) needs decode to be separable at "stable cuts":
 * tg__decode_stable_cut finds them; `at_start` = 0 decodes a continuation
 * (first-token rules off). A chain is separable unless a step that depends on
 * the whole text (Strip with stop > 0, a regex Replace, ByteFallback or
 * Metaspace) follows a step that joins all tokens into one (ByteLevel, Fuse);
 * otherwise the stream holds text until it is finished.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "util/utf8.h"

void tg__decoder_free(tg__decoder *d) {
    for (size_t i = 0; i < d->n; i++) {
        tg__regex_free(&d->steps[i].re);
        free(d->steps[i].content);
    }
    free(d->steps);
    memset(d, 0, sizeof *d);
}

static tg_status add_steps(tg__decoder *d, const json_t *j, size_t *cap, int depth, tg_error *err) {
    if (json_is_null(j)) return TG_OK;
    if (depth > 8) return tg_error_set(err, TG_ELIMIT, "decoder nesting deeper than 8");
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) return tg_error_set(err, TG_ECORRUPT, "decoder without a \"type\"");
    tg_status st;
    if (strcmp(type, "Sequence") == 0) {
        json_t *arr = json_object_get(j, "decoders");
        if (!json_is_array(arr)) return tg_error_set(err, TG_ECORRUPT, "Sequence decoder without \"decoders\"");
        for (size_t i = 0; i < json_array_size(arr); i++)
            if ((st = add_steps(d, json_array_get(arr, i), cap, depth + 1, err))) return st;
        return TG_OK;
    }
    if (d->n >= TG__MAX_STEPS) return tg_error_set(err, TG_ELIMIT, "more than %d decoder steps", TG__MAX_STEPS);
    if (d->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        tg__dec_step *p = realloc(d->steps, nc * sizeof *p);
        if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory");
        d->steps = p;
        *cap = nc;
    }
    tg__dec_step *s = &d->steps[d->n];
    memset(s, 0, sizeof *s);
    if (strcmp(type, "ByteLevel") == 0) {
        static const char *const k[] = {"type", "add_prefix_space", "trim_offsets", "use_regex", NULL};
        if ((st = tg__check_keys(j, k, "ByteLevel decoder", err))) return st;
        s->kind = TG__DEC_BYTELEVEL;
    } else if (strcmp(type, "ByteFallback") == 0) {
        static const char *const k[] = {"type", NULL};
        if ((st = tg__check_keys(j, k, "ByteFallback decoder", err))) return st;
        s->kind = TG__DEC_BYTEFALLBACK;
    } else if (strcmp(type, "Fuse") == 0) {
        static const char *const k[] = {"type", NULL};
        if ((st = tg__check_keys(j, k, "Fuse decoder", err))) return st;
        s->kind = TG__DEC_FUSE;
    } else if (strcmp(type, "Replace") == 0) {
        static const char *const k[] = {"type", "pattern", "content", NULL};
        if ((st = tg__check_keys(j, k, "Replace decoder", err))) return st;
        s->kind = TG__DEC_REPLACE;
        json_t *c = json_object_get(j, "content");
        if (!json_is_string(c)) return tg_error_set(err, TG_ECORRUPT, "Replace decoder: \"content\" must be a string");
        s->content_len = json_string_length(c);
        s->content = malloc(s->content_len + 1);
        if (!s->content) return tg_error_set(err, TG_ENOMEM, "out of memory");
        memcpy(s->content, json_string_value(c), s->content_len + 1);
        if ((st = tg__pattern_from_json(&s->re, json_object_get(j, "pattern"), "Replace decoder", err))) {
            free(s->content);
            return st;
        }
    } else if (strcmp(type, "Strip") == 0) {
        static const char *const k[] = {"type", "content", "start", "stop", NULL};
        if ((st = tg__check_keys(j, k, "Strip decoder", err))) return st;
        s->kind = TG__DEC_STRIP;
        json_t *c = json_object_get(j, "content"), *a = json_object_get(j, "start"), *b = json_object_get(j, "stop");
        uint32_t cp;
        if (!json_is_string(c) || json_string_length(c) == 0 ||
            tgx_utf8_decode((const uint8_t *)json_string_value(c), json_string_length(c), &cp) != json_string_length(c))
            return tg_error_set(err, TG_ECORRUPT, "Strip decoder: \"content\" must be one character");
        if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 || json_integer_value(b) < 0)
            return tg_error_set(err, TG_ECORRUPT, "Strip decoder: \"start\" and \"stop\" must be non-negative integers");
        s->content_len = json_string_length(c);
        s->content = malloc(s->content_len + 1);
        if (!s->content) return tg_error_set(err, TG_ENOMEM, "out of memory");
        memcpy(s->content, json_string_value(c), s->content_len + 1);
        s->strip_start = (size_t)json_integer_value(a);
        s->strip_stop = (size_t)json_integer_value(b);
    } else if (strcmp(type, "Metaspace") == 0) {
        static const char *const k[] = {"type", "replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep", NULL};
        if ((st = tg__check_keys(j, k, "Metaspace decoder", err))) return st;
        s->kind = TG__DEC_METASPACE;
        const char *r = json_string_value(json_object_get(j, "replacement"));
        if (!r) r = "\xE2\x96\x81";
        size_t rl = strlen(r);
        uint32_t cp;
        if (rl == 0 || rl > 4 || tgx_utf8_decode((const uint8_t *)r, rl, &cp) != rl)
            return tg_error_set(err, TG_ECORRUPT, "Metaspace decoder: replacement must be one character");
        memcpy(s->repl, r, rl);
        s->repl_len = rl;
        const char *ps = json_string_value(json_object_get(j, "prepend_scheme"));
        json_t *aps = json_object_get(j, "add_prefix_space");
        if (ps) s->prepend_scheme = strcmp(ps, "never") == 0 ? TG__PREPEND_NEVER : strcmp(ps, "first") == 0 ? TG__PREPEND_FIRST : TG__PREPEND_ALWAYS;
        else s->prepend_scheme = (!aps || json_is_true(aps)) ? TG__PREPEND_ALWAYS : TG__PREPEND_NEVER;
        if (ps && strcmp(ps, "never") != 0 && strcmp(ps, "first") != 0 && strcmp(ps, "always") != 0)
            return tg_error_set(err, TG_EUNSUPPORTED, "Metaspace decoder: prepend_scheme \"%s\" is not supported", ps);
    } else {
        return tg_error_set(err, TG_EUNSUPPORTED, "decoder type \"%s\" is not supported", type);
    }
    d->n++;
    return TG_OK;
}

tg_status tg__decoder_from_json(tg__decoder *d, const json_t *j, tg_error *err) {
    memset(d, 0, sizeof *d);
    size_t cap = 0;
    tg_status st = add_steps(d, j, &cap, 0, err);
    if (st) {
        tg__decoder_free(d);
        return st;
    }
    d->present = !json_is_null(j) && j != NULL;
    d->separable = 1;
    int joined = 0;
    for (size_t i = 0; i < d->n; i++) {
        tg__dec_step *s = &d->steps[i];
        if (s->kind == TG__DEC_BYTELEVEL) d->has_bytelevel = 1;
        if (s->kind == TG__DEC_BYTEFALLBACK) d->has_bytefallback = 1;
        if (joined && ((s->kind == TG__DEC_STRIP && s->strip_stop > 0) || s->kind == TG__DEC_BYTEFALLBACK ||
                       (s->kind == TG__DEC_REPLACE && !s->re.literal) || s->kind == TG__DEC_METASPACE))
            d->separable = 0;
        if (s->kind == TG__DEC_BYTELEVEL || s->kind == TG__DEC_FUSE) joined = 1;
    }
    return TG_OK;
}

/* ---- lossy UTF-8 ---- */

tg_status tg__utf8_lossy(tgx_buf *out, const char *s0, size_t n) {
    const uint8_t *s = (const uint8_t *)s0;
    size_t i = 0, run = 0;
    tg_status st;
    while (i < n) {
        uint32_t cp;
        size_t l = s[i] < 0x80 ? 1 : tgx_utf8_decode(s + i, n - i, &cp);
        if (l) { i += l; continue; }
        if ((st = tgx_buf_append(out, s + run, i - run))) return st;
        /* maximal subpart: the longest prefix of a valid sequence */
        size_t len = tgx_utf8_seqlen(s[i]), k = 1;
        if (len >= 2) {
            uint8_t c = s[i], lo = 0x80, hi = 0xBF;
            if (c == 0xE0) lo = 0xA0;
            else if (c == 0xED) hi = 0x9F;
            else if (c == 0xF0) lo = 0x90;
            else if (c == 0xF4) hi = 0x8F;
            if (i + 1 < n && s[i + 1] >= lo && s[i + 1] <= hi) {
                k = 2;
                while (k < len && i + k < n && (s[i + k] & 0xC0) == 0x80) k++;
            }
        }
        if ((st = tgx_buf_append(out, "\xEF\xBF\xBD", 3))) return st;
        i += k;
        run = i;
    }
    return tgx_buf_append(out, s + run, n - run);
}

size_t tg__utf8_incomplete_tail(const char *s0, size_t n) {
    const uint8_t *s = (const uint8_t *)s0;
    /* look back up to 3 bytes for a lead byte whose sequence runs past the end */
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        uint8_t c = s[n - k];
        if ((c & 0xC0) == 0x80) continue;
        size_t len = tgx_utf8_seqlen(c);
        if (len <= k) return 0;
        /* check the bytes present form a valid prefix */
        uint8_t lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0;
        else if (c == 0xED) hi = 0x9F;
        else if (c == 0xF0) lo = 0x90;
        else if (c == 0xF4) hi = 0x8F;
        if (k >= 2 && (s[n - k + 1] < lo || s[n - k + 1] > hi)) return 0;
        return k;
    }
    return 0;
}

/* ---- token list ---- */

typedef struct tlist {
    tgx_buf text;
    size_t *off, *len;
    size_t n, cap;
} tlist;

static void tl_init(tlist *l) {
    tgx_buf_init(&l->text, TG__MAX_TEXT_BYTES);
    l->off = l->len = NULL;
    l->n = l->cap = 0;
}
static void tl_free(tlist *l) {
    tgx_buf_free(&l->text);
    free(l->off);
    free(l->len);
}
static void tl_reset(tlist *l) {
    tgx_buf_reset(&l->text);
    l->n = 0;
}
/* Opens a new token; append its bytes to l->text, then tl_close. */
static tg_status tl_open(tlist *l) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        size_t *a = realloc(l->off, nc * sizeof *a);
        if (!a) return TG_ENOMEM;
        l->off = a;
        size_t *b = realloc(l->len, nc * sizeof *b);
        if (!b) return TG_ENOMEM;
        l->len = b;
        l->cap = nc;
    }
    l->off[l->n] = l->text.len;
    return TG_OK;
}
static void tl_close(tlist *l) {
    l->len[l->n] = l->text.len - l->off[l->n];
    l->n++;
}
static tg_status tl_push(tlist *l, const char *s, size_t n) {
    tg_status st = tl_open(l);
    if (st || (st = tgx_buf_append(&l->text, s, n))) return st;
    tl_close(l);
    return TG_OK;
}
#define TL_STR(l, i) ((l)->text.data ? (l)->text.data + (l)->off[i] : "")

static int byte_token(const char *s, size_t n, uint8_t *out) {
    /* Rust u8::from_str_radix(&t[3..5], 16): two hex digits, or '+' and one */
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return 0;
    unsigned v = 0;
    size_t i = 3;
    if (s[3] == '+') i = 4;
    for (; i < 5; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return 0;
        v = v * 16 + d;
    }
    *out = (uint8_t)v;
    return 1;
}

static tg_status step_bytelevel(const tlist *in, tlist *out, tgx_buf *tmp) {
    tgx_buf_reset(tmp);
    tg_status st;
    for (size_t i = 0; i < in->n; i++) {
        const char *s = TL_STR(in, i);
        size_t n = in->len[i];
        if ((st = tgx_buf_reserve(tmp, n))) return st;
        size_t l;
        if (tg__bytelevel_unmap(s, n, tmp->data + tmp->len, &l)) tmp->len += l;
        else memcpy(tmp->data + tmp->len, s, n), tmp->len += n;
    }
    if ((st = tl_open(out))) return st;
    if ((st = tg__utf8_lossy(&out->text, tmp->data ? tmp->data : "", tmp->len))) return st;
    tl_close(out);
    return TG_OK;
}

static tg_status step_bytefallback(const tlist *in, tlist *out, tgx_buf *tmp) {
    tgx_buf_reset(tmp);
    size_t group = 0;
    tg_status st;
    for (size_t i = 0; i <= in->n; i++) {
        uint8_t b;
        if (i < in->n && byte_token(TL_STR(in, i), in->len[i], &b)) {
            if ((st = tgx_buf_putc(tmp, (char)b))) return st;
            group++;
            continue;
        }
        if (group) {
            if (tgx_utf8_valid((const uint8_t *)tmp->data, tmp->len, NULL)) {
                if ((st = tl_push(out, tmp->data, tmp->len))) return st;
            } else {
                for (size_t g = 0; g < group; g++)
                    if ((st = tl_push(out, "\xEF\xBF\xBD", 3))) return st;
            }
            tgx_buf_reset(tmp);
            group = 0;
        }
        if (i < in->n && (st = tl_push(out, TL_STR(in, i), in->len[i]))) return st;
    }
    return TG_OK;
}

static tg_status step_replace(const tg__dec_step *s, tg__matcher *m, const tlist *in, tlist *out) {
    tg_status st;
    for (size_t i = 0; i < in->n; i++) {
        const uint8_t *t = (const uint8_t *)TL_STR(in, i);
        size_t n = in->len[i];
        if ((st = tl_open(out))) return st;
        tg__match_iter it;
        tg__match_iter_init(&it, &s->re, m, t, n);
        size_t prev = 0, a, b;
        int r;
        while ((r = tg__match_iter_next(&it, &a, &b)) > 0) {
            if ((st = tgx_buf_append(&out->text, t + prev, a - prev))) return st;
            if ((st = tgx_buf_append(&out->text, s->content, s->content_len))) return st;
            prev = b;
        }
        if (r < 0) return TG_ELIMIT;
        if ((st = tgx_buf_append(&out->text, t + prev, n - prev))) return st;
        tl_close(out);
    }
    return TG_OK;
}

static tg_status step_strip(const tg__dec_step *s, const tlist *in, tlist *out, int whole_first) {
    tg_status st;
    for (size_t i = 0; i < in->n; i++) {
        const char *t = TL_STR(in, i);
        size_t n = in->len[i], a = 0, b = n, cl = s->content_len;
        size_t start = whole_first ? s->strip_start : 0;
        for (size_t k = 0; k < start && a + cl <= b && memcmp(t + a, s->content, cl) == 0; k++) a += cl;
        for (size_t k = 0; k < s->strip_stop && b >= a + cl && memcmp(t + b - cl, s->content, cl) == 0; k++) b -= cl;
        if ((st = tl_push(out, t + a, b - a))) return st;
    }
    return TG_OK;
}

static tg_status step_metaspace(const tg__dec_step *s, const tlist *in, tlist *out, int first_ok) {
    tg_status st;
    for (size_t i = 0; i < in->n; i++) {
        const char *t = TL_STR(in, i);
        size_t n = in->len[i], j = 0;
        int drop = i == 0 && first_ok && s->prepend_scheme != TG__PREPEND_NEVER;
        if ((st = tl_open(out))) return st;
        while (j < n) {
            if (n - j >= s->repl_len && memcmp(t + j, s->repl, s->repl_len) == 0) {
                if (!drop && (st = tgx_buf_putc(&out->text, ' '))) return st;
                j += s->repl_len;
                continue;
            }
            if ((st = tgx_buf_append(&out->text, t + j, 1))) return st;
            j++;
        }
        tl_close(out);
    }
    return TG_OK;
}

int tg__token_string(const tg_tokenizer *t, uint32_t id, tg__bytes *out) {
    const tg__added *a = &t->added;
    if (id < a->by_id_len && a->by_id[id] != TG__NO_ID) {
        const tg__added_token *k = &a->tokens[a->by_id[id]];
        out->p = k->content;
        out->n = k->content_len;
        return 1;
    }
    if (tg__strtab_has(&t->bpe.tokens, id)) {
        *out = tg__strtab_get(&t->bpe.tokens, id);
        return 1;
    }
    return 0;
}

int tg__is_special(const tg_tokenizer *t, uint32_t id) {
    const tg__added *a = &t->added;
    return id < a->by_id_len && a->by_id[id] != TG__NO_ID && a->tokens[a->by_id[id]].special;
}

int tg__decode_keeps(const tg_tokenizer *t, uint32_t id, int skip_special) {
    tg__bytes s;
    if (!tg__token_string(t, id, &s)) return 0;
    if (skip_special && t->added.specials.slots &&
        tg__strtab_find(&t->added.specials, s.p, s.n) != TG__NO_ID)
        return 0;
    return 1;
}

tg_status tg__decode_ids(const tg_tokenizer *t, const uint32_t *ids, size_t n, int skip_special,
                         int at_start, tgx_buf *out, tg_error *err) {
    tlist a, b;
    tgx_buf tmp;
    tl_init(&a);
    tl_init(&b);
    tgx_buf_init(&tmp, TG__MAX_TEXT_BYTES);
    tg__matcher m;
    int have_m = 0;
    tg_status st = TG_OK;
    for (size_t i = 0; i < n; i++) {
        tg__bytes s = {NULL, 0};
        if (!tg__decode_keeps(t, ids[i], skip_special) || !tg__token_string(t, ids[i], &s)) continue;
        if ((st = tl_push(&a, s.p, s.n))) goto done;
    }
    const tg__decoder *d = &t->dec;
    if (!d->present) {
        for (size_t i = 0; i < a.n; i++) {
            if ((i > 0 || !at_start) && (st = tgx_buf_putc(out, ' '))) goto done;
            if ((st = tgx_buf_append(out, TL_STR(&a, i), a.len[i]))) goto done;
        }
        goto done;
    }
    tlist *in = &a, *o = &b;
    int joined = 0;
    for (size_t k = 0; k < d->n; k++) {
        const tg__dec_step *s = &d->steps[k];
        tl_reset(o);
        switch (s->kind) {
        case TG__DEC_BYTELEVEL: st = step_bytelevel(in, o, &tmp); joined = 1; break;
        case TG__DEC_BYTEFALLBACK: st = step_bytefallback(in, o, &tmp); break;
        case TG__DEC_FUSE:
            if ((st = tl_open(o))) break;
            for (size_t i = 0; i < in->n && !st; i++) st = tgx_buf_append(&o->text, TL_STR(in, i), in->len[i]);
            if (!st) tl_close(o);
            joined = 1;
            break;
        case TG__DEC_REPLACE:
            /* literal patterns (the usual "▁" -> " ") need no PCRE2 match data */
            if (!have_m && !s->re.literal) {
                if ((st = tg__matcher_init(&m, err))) goto done_err;
                have_m = 1;
            }
            st = step_replace(s, have_m ? &m : NULL, in, o);
            break;
        case TG__DEC_STRIP:
            /* per token; once joined, the one token is the whole text */
            st = step_strip(s, in, o, !joined || at_start);
            break;
        case TG__DEC_METASPACE: st = step_metaspace(s, in, o, at_start); break;
        }
        if (st) goto done;
        tlist *x = in;
        in = o;
        o = x;
    }
    for (size_t i = 0; i < in->n; i++)
        if ((st = tgx_buf_append(out, TL_STR(in, i), in->len[i]))) goto done;
done:
    if (st) tg_error_set(err, st, "decode: %s", tg_status_str(st));
done_err:
    if (have_m) tg__matcher_free(&m);
    tl_free(&a);
    tl_free(&b);
    tgx_buf_free(&tmp);
    return st;
}

int tg__decode_is_byte_token(const tg_tokenizer *t, uint32_t id) {
    tg__bytes s;
    uint8_t b;
    return t->dec.has_bytefallback && tg__token_string(t, id, &s) && byte_token(s.p, s.n, &b);
}

size_t tg__decode_stable_cut(const tg_tokenizer *t, const uint32_t *ids, size_t n) {
    size_t run = 0;
    if (t->dec.has_bytefallback)
        while (run < n && tg__decode_is_byte_token(t, ids[n - 1 - run])) run++;
    return tg__decode_stable_cut_run(t, ids, n, run);
}

size_t tg__decode_stable_cut_run(const tg_tokenizer *t, const uint32_t *ids, size_t n, size_t bf_run) {
    const tg__decoder *d = &t->dec;
    if (!d->separable) return 0;
    size_t c = n;
    if (d->has_bytefallback) c = n - (bf_run < n ? bf_run : n);
    if (d->has_bytelevel) {
        /* back off over tokens whose bytes end in an incomplete sequence */
        while (c > 0) {
            char buf[8];
            size_t have = 0;
            /* gather the last <= 3 raw bytes before the cut */
            size_t j = c;
            while (j > 0 && have < 3) {
                tg__bytes s;
                if (!tg__token_string(t, ids[j - 1], &s)) { j--; continue; }
                char raw[4 * 64];
                size_t rl = 0;
                const char *src = s.p;
                size_t sn = s.n;
                if (sn <= sizeof raw && tg__bytelevel_unmap(s.p, s.n, raw, &rl)) { src = raw; sn = rl; }
                size_t take = sn < 3 - have ? sn : 3 - have;
                memmove(buf + take, buf, have);
                memcpy(buf, src + sn - take, take);
                have += take;
                j--;
            }
            size_t inc = tg__utf8_incomplete_tail(buf, have);
            if (!inc) break;
            /* drop tokens until the incomplete bytes are all after the cut */
            size_t drop = inc;
            while (c > 0 && drop > 0) {
                tg__bytes s;
                c--;
                if (!tg__token_string(t, ids[c], &s)) continue;
                char raw[4 * 64];
                size_t rl = s.n;
                if (s.n <= sizeof raw && tg__bytelevel_unmap(s.p, s.n, raw, &rl)) { /* rl set */ }
                drop = rl >= drop ? 0 : drop - rl;
            }
        }
    }
    return c;
}
