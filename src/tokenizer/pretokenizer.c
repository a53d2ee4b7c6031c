/*
 * pretokenizer.c: HF pre-tokenizers, streamed.
 *
 * Supported: Split (regex or string, every behavior, invert), ByteLevel
 * (add_prefix_space, use_regex with GPT-2's regex; trim_offsets is about
 * offsets only), Metaspace (replacement, prepend_scheme, split; legacy
 * add_prefix_space), Digits, Whitespace, WhitespaceSplit, Punctuation and
 * Sequence (flattened). Others (BertPreTokenizer, CharDelimiterSplit,
 * UnicodeScripts, ...) are refused at load. The pieces stay raw bytes and
 * the model maps them (see bpe.c). Steps after a ByteLevel step (Falcon:
 * Punctuation, ByteLevel, Digits, Split) see, in HF, the byte-level text, one
 * char per raw byte: Digits/Punctuation/WhitespaceSplit test
 * tg__bytelevel_char of each byte, Split/Whitespace regexes run on the mapped
 * text and their match offsets map back to raw bytes (char i = byte i).
 * Metaspace or a second ByteLevel after ByteLevel is refused.
 *
 * Each step turns a piece into sub-pieces as HF's PreTokenizedString::split
 * does, and hands each non-empty one straight to the next step (recursion
 * over steps), so memory stays O(piece) even for one 100 MB segment.
 *
 * Splitting follows HF's Pattern::find_matches: a piece becomes alternating
 * (range, is_match) elements: for regexes and strings each match (empty
 * ones included) and the gaps between; for char predicates (Digits,
 * Punctuation, WhitespaceSplit, Metaspace's split) each matching char on its
 * own. `invert` flips is_match; the behavior folds the elements:
 *   Removed: drop matches. Isolated: keep all.
 *   MergedWithPrevious: a match not preceded by a match joins the element before.
 *   MergedWithNext: a match followed by a non-match joins it.
 *   Contiguous: consecutive elements of the same kind join.
 * Empty results are dropped after every step, as HF does.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretok_fast.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode_props.h"
#include "util/utf8.h"

static const char GPT2_RE[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
static const char WS_RE[] = "\\w+|[^\\w\\s]+";

void tg__pretokenizer_free(tg__pretokenizer *pt) {
    for (size_t i = 0; i < pt->n; i++) tg__regex_free(&pt->steps[i].re);
    free(pt->steps);
    memset(pt, 0, sizeof *pt);
}

static tg_status parse_behavior(const json_t *v, tg__split_behavior *b, const char *where, tg_error *err) {
    const char *s = json_string_value(v);
    if (!s) return tg_error_set(err, TG_ECORRUPT, "%s: \"behavior\" must be a string", where);
    if (strcmp(s, "Removed") == 0) *b = TG__SPLIT_REMOVED;
    else if (strcmp(s, "Isolated") == 0) *b = TG__SPLIT_ISOLATED;
    else if (strcmp(s, "MergedWithPrevious") == 0) *b = TG__SPLIT_MERGED_PREV;
    else if (strcmp(s, "MergedWithNext") == 0) *b = TG__SPLIT_MERGED_NEXT;
    else if (strcmp(s, "Contiguous") == 0) *b = TG__SPLIT_CONTIGUOUS;
    else return tg_error_set(err, TG_EUNSUPPORTED, "%s: behavior \"%s\" is not supported", where, s);
    return TG_OK;
}

static tg_status add_steps(tg__pretokenizer *pt, const json_t *j, size_t *cap, int depth, tg_error *err) {
    if (json_is_null(j)) return TG_OK;
    if (depth > 8) return tg_error_set(err, TG_ELIMIT, "pre-tokenizer nesting deeper than 8");
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) return tg_error_set(err, TG_ECORRUPT, "pre-tokenizer without a \"type\"");
    tg_status st;
    if (strcmp(type, "Sequence") == 0) {
        static const char *const k[] = {"type", "pretokenizers", NULL};
        if ((st = tg__check_keys(j, k, "Sequence pre-tokenizer", err))) return st;
        json_t *arr = json_object_get(j, "pretokenizers");
        if (!json_is_array(arr)) return tg_error_set(err, TG_ECORRUPT, "Sequence pre-tokenizer without \"pretokenizers\"");
        for (size_t i = 0; i < json_array_size(arr); i++)
            if ((st = add_steps(pt, json_array_get(arr, i), cap, depth + 1, err))) return st;
        return TG_OK;
    }
    if (pt->n >= TG__MAX_STEPS) return tg_error_set(err, TG_ELIMIT, "more than %d pre-tokenizer steps", TG__MAX_STEPS);
    if (pt->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        tg__pt_step *p = realloc(pt->steps, nc * sizeof *p);
        if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory");
        pt->steps = p;
        *cap = nc;
    }
    tg__pt_step *s = &pt->steps[pt->n];
    memset(s, 0, sizeof *s);
    if (strcmp(type, "Split") == 0) {
        static const char *const k[] = {"type", "pattern", "behavior", "invert", NULL};
        if ((st = tg__check_keys(j, k, "Split pre-tokenizer", err))) return st;
        s->kind = TG__PT_SPLIT;
        if ((st = parse_behavior(json_object_get(j, "behavior"), &s->behavior, "Split pre-tokenizer", err))) return st;
        s->invert = json_is_true(json_object_get(j, "invert"));
        if ((st = tg__pattern_from_json(&s->re, json_object_get(j, "pattern"), "Split pre-tokenizer", err))) return st;
        s->has_re = 1;
    } else if (strcmp(type, "ByteLevel") == 0) {
        static const char *const k[] = {"type", "add_prefix_space", "trim_offsets", "use_regex", NULL};
        if ((st = tg__check_keys(j, k, "ByteLevel pre-tokenizer", err))) return st;
        s->kind = TG__PT_BYTELEVEL;
        json_t *aps = json_object_get(j, "add_prefix_space"), *ur = json_object_get(j, "use_regex");
        s->add_prefix_space = aps ? json_is_true(aps) : 1;
        if (!ur || json_is_true(ur)) {
            if ((st = tg__regex_compile(&s->re, GPT2_RE, sizeof GPT2_RE - 1, err))) return st;
            s->has_re = 1;
        }
        s->behavior = TG__SPLIT_ISOLATED;
    } else if (strcmp(type, "Metaspace") == 0) {
        static const char *const k[] = {"type", "replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep", NULL};
        if ((st = tg__check_keys(j, k, "Metaspace pre-tokenizer", err))) return st;
        s->kind = TG__PT_METASPACE;
        const char *r = json_string_value(json_object_get(j, "replacement"));
        if (!r) r = "\xE2\x96\x81";
        uint32_t cp;
        size_t rl = strlen(r);
        if (rl == 0 || tgx_utf8_decode((const uint8_t *)r, rl, &cp) != rl)
            return tg_error_set(err, TG_ECORRUPT, "Metaspace: replacement must be one character");
        memcpy(s->repl, r, rl);
        s->repl_len = rl;
        const char *ps = json_string_value(json_object_get(j, "prepend_scheme"));
        json_t *aps = json_object_get(j, "add_prefix_space");
        if (ps) {
            if (strcmp(ps, "always") == 0) s->prepend_scheme = TG__PREPEND_ALWAYS;
            else if (strcmp(ps, "first") == 0) s->prepend_scheme = TG__PREPEND_FIRST;
            else if (strcmp(ps, "never") == 0) s->prepend_scheme = TG__PREPEND_NEVER;
            else return tg_error_set(err, TG_EUNSUPPORTED, "Metaspace: prepend_scheme \"%s\" is not supported", ps);
        } else {
            s->prepend_scheme = (!aps || json_is_true(aps)) ? TG__PREPEND_ALWAYS : TG__PREPEND_NEVER;
        }
        json_t *sp = json_object_get(j, "split");
        s->split = sp ? json_is_true(sp) : 1;
        s->behavior = TG__SPLIT_MERGED_NEXT;
    } else if (strcmp(type, "Digits") == 0) {
        static const char *const k[] = {"type", "individual_digits", NULL};
        if ((st = tg__check_keys(j, k, "Digits pre-tokenizer", err))) return st;
        s->kind = TG__PT_DIGITS;
        s->individual_digits = json_is_true(json_object_get(j, "individual_digits"));
        s->behavior = s->individual_digits ? TG__SPLIT_ISOLATED : TG__SPLIT_CONTIGUOUS;
    } else if (strcmp(type, "Whitespace") == 0) {
        static const char *const k[] = {"type", NULL};
        if ((st = tg__check_keys(j, k, "Whitespace pre-tokenizer", err))) return st;
        s->kind = TG__PT_WHITESPACE;
        if ((st = tg__regex_compile(&s->re, WS_RE, sizeof WS_RE - 1, err))) return st;
        s->has_re = 1;
        s->invert = 1;
        s->behavior = TG__SPLIT_REMOVED;
    } else if (strcmp(type, "WhitespaceSplit") == 0) {
        static const char *const k[] = {"type", NULL};
        if ((st = tg__check_keys(j, k, "WhitespaceSplit pre-tokenizer", err))) return st;
        s->kind = TG__PT_WSSPLIT;
        s->behavior = TG__SPLIT_REMOVED;
    } else if (strcmp(type, "Punctuation") == 0) {
        static const char *const k[] = {"type", "behavior", NULL};
        if ((st = tg__check_keys(j, k, "Punctuation pre-tokenizer", err))) return st;
        s->kind = TG__PT_PUNCT;
        s->behavior = TG__SPLIT_ISOLATED;
        json_t *b = json_object_get(j, "behavior");
        if (b && (st = parse_behavior(b, &s->behavior, "Punctuation pre-tokenizer", err))) return st;
    } else {
        return tg_error_set(err, TG_EUNSUPPORTED, "pre-tokenizer type \"%s\" is not supported", type);
    }
    pt->n++;
    return TG_OK;
}

/* The fast-path kind when the chain is [Split or ByteLevel with a fast-path
 * regex, Isolated, not inverted] followed only by identity steps (ByteLevel
 * without regex and prefix space: in byte mode pieces stay raw bytes), else 0.
 * Such a chain's pieces are exactly the regex's matches and the gaps between
 * them (run_step with Isolated emits both, in order, dropping empty ones). */
static int direct_kind(const tg__pretokenizer *pt) {
    if (pt->n == 0) return 0;
    const tg__pt_step *s = &pt->steps[0];
    if ((s->kind != TG__PT_SPLIT && s->kind != TG__PT_BYTELEVEL) || !s->has_re || s->re.fast_kind <= 0 ||
        s->behavior != TG__SPLIT_ISOLATED || s->invert || s->after_bl || s->add_prefix_space)
        return 0;
    for (size_t i = 1; i < pt->n; i++) {
        const tg__pt_step *t = &pt->steps[i];
        if (t->kind != TG__PT_BYTELEVEL || t->has_re || t->add_prefix_space || t->after_bl) return 0;
    }
    return s->re.fast_kind;
}

tg_status tg__pretokenizer_from_json(tg__pretokenizer *pt, const json_t *j, tg_error *err) {
    memset(pt, 0, sizeof *pt);
    size_t cap = 0;
    tg_status st = add_steps(pt, j, &cap, 0, err);
    if (st) {
        /* a step that fails owns nothing: its regex is compiled last */
        tg__pretokenizer_free(pt);
        return st;
    }
    for (size_t i = 0; i < pt->n; i++) {
        if (pt->byte_level) {
            if (pt->steps[i].kind == TG__PT_BYTELEVEL || pt->steps[i].kind == TG__PT_METASPACE) {
                tg__pretokenizer_free(pt);
                return tg_error_set(err, TG_EUNSUPPORTED,
                                    "a ByteLevel or Metaspace pre-tokenizer after a ByteLevel one is not supported");
            }
            pt->steps[i].after_bl = 1;
        }
        if (pt->steps[i].kind == TG__PT_BYTELEVEL) pt->byte_level = 1;
    }
    pt->direct_kind = direct_kind(pt);
    return TG_OK;
}

/* ---- running ---- */

void tg__pt_run_init(tg__pt_run *r, const tg__pretokenizer *pt, tg__matcher *m, tg__piece_fn sink,
                     void *sink_ctx) {
    r->pt = pt;
    r->m = m;
    for (size_t i = 0; i < TG__MAX_STEPS; i++) tgx_buf_init(&r->bufs[i], TG__MAX_TEXT_BYTES);
    r->sink = sink;
    r->sink_ctx = sink_ctx;
    r->sink_many = NULL;
}

void tg__pt_run_free(tg__pt_run *r) {
    for (size_t i = 0; i < TG__MAX_STEPS; i++) tgx_buf_free(&r->bufs[i]);
}

static tg_status run_step(tg__pt_run *r, size_t k, const uint8_t *p, size_t n, int first, tg_error *err);

typedef struct fold {
    tg__pt_run *r;
    size_t k;          /* the step folding; emits to k + 1 */
    const uint8_t *p;
    int first;
    tg__split_behavior behavior;
    int invert;
    int prev_match;
    int have;
    int open;          /* MergedWithNext: pending is a lone match */
    size_t ps, pe;
    tg_error *err;
} fold;

static tg_status emit(fold *f, size_t a, size_t b) {
    if (a == b) return TG_OK;
    return run_step(f->r, f->k + 1, f->p + a, b - a, f->first && a == 0, f->err);
}

/* Grows the pending piece to end at b when `extend` (and one is pending);
 * otherwise flushes the pending piece and starts a new one at [a, b). */
static tg_status extend_or_start(fold *f, size_t a, size_t b, int extend) {
    if (extend && f->have) {
        f->pe = b;
        return TG_OK;
    }
    tg_status st;
    if (f->have && (st = emit(f, f->ps, f->pe))) return st;
    f->ps = a;
    f->pe = b;
    f->have = 1;
    return TG_OK;
}

static tg_status fold_push(fold *f, size_t a, size_t b, int is_match) {
    tg_status st = TG_OK;
    if (f->invert) is_match = !is_match;
    switch (f->behavior) {
    case TG__SPLIT_ISOLATED:
        return emit(f, a, b);
    case TG__SPLIT_REMOVED:
        return is_match ? TG_OK : emit(f, a, b);
    case TG__SPLIT_MERGED_PREV:
        if ((st = extend_or_start(f, a, b, is_match && !f->prev_match))) return st;
        break;
    case TG__SPLIT_CONTIGUOUS:
        if ((st = extend_or_start(f, a, b, is_match == f->prev_match))) return st;
        break;
    case TG__SPLIT_MERGED_NEXT:
        if (f->have && f->open && !is_match) {
            f->pe = b;
            f->open = 0;
        } else {
            if (f->have && (st = emit(f, f->ps, f->pe))) return st;
            f->ps = a;
            f->pe = b;
            f->have = 1;
            f->open = is_match;
        }
        break;
    }
    f->prev_match = is_match;
    return st;
}

static tg_status fold_end(fold *f) {
    if (f->behavior == TG__SPLIT_ISOLATED || f->behavior == TG__SPLIT_REMOVED || !f->have) return TG_OK;
    return emit(f, f->ps, f->pe);
}

/* Elements for a regex/string pattern (HF find_matches on a Regex). */
static tg_status split_regex(fold *f, const tg__regex *re, size_t n) {
    tg__match_iter it;
    tg__match_iter_init(&it, re, f->r->m, f->p, n);
    size_t prev = 0, a, b;
    int rc;
    tg_status st;
    while ((rc = tg__match_iter_next(&it, &a, &b)) > 0) {
        if (prev != a && (st = fold_push(f, prev, a, 0))) return st;
        if ((st = fold_push(f, a, b, 1))) return st;
        prev = b;
    }
    if (rc < 0)
        return tg_error_set(f->err, TG_ELIMIT, "regex matcher failed (a PCRE2 match or JIT stack limit)");
    if (prev != n && (st = fold_push(f, prev, n, 0))) return st;
    return fold_end(f);
}

/* Elements for a char predicate (HF find_matches on Fn(char) -> bool). */
static tg_status split_chars(fold *f, int (*pred)(uint32_t), size_t n) {
    size_t last = 0, i = 0;
    tg_status st;
    while (i < n) {
        uint32_t c;
        size_t l = tgx_utf8_decode(f->p + i, n - i, &c);
        if (!l) { l = 1; c = 0xFFFD; }
        if (pred(c)) {
            if (last < i && (st = fold_push(f, last, i, 0))) return st;
            if ((st = fold_push(f, i, i + l, 1))) return st;
            last = i + l;
        }
        i += l;
    }
    if (n > last && (st = fold_push(f, last, n, 0))) return st;
    return fold_end(f);
}

/* split_chars on byte-level text: char i is tg__bytelevel_char(p[i]). */
static tg_status split_bl_chars(fold *f, int (*pred)(uint32_t), size_t n) {
    size_t last = 0;
    tg_status st;
    for (size_t i = 0; i < n; i++) {
        if (!pred(tg__bytelevel_char(f->p[i]))) continue;
        if (last < i && (st = fold_push(f, last, i, 0))) return st;
        if ((st = fold_push(f, i, i + 1, 1))) return st;
        last = i + 1;
    }
    if (n > last && (st = fold_push(f, last, n, 0))) return st;
    return fold_end(f);
}

/* split_regex on byte-level text: the piece is mapped into buf (UTF-8 of
 * tg__bytelevel_char per byte, 1 or 2 bytes each), matched, and each match
 * offset walked back to its raw byte (matches come in order, so one forward
 * walk; UTF mode matches start and end on char boundaries). */
static tg_status split_bl_regex(fold *f, const tg__regex *re, tgx_buf *buf, size_t n) {
    tgx_buf_reset(buf);
    tg_status st;
    if ((st = tgx_buf_reserve(buf, 2 * n))) return tg_error_set(f->err, st, "byte-level split: %s", tg_status_str(st));
    uint8_t *o = (uint8_t *)buf->data;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = tg__bytelevel_char(f->p[i]);
        if (c < 0x80) *o++ = (uint8_t)c;
        else { *o++ = (uint8_t)(0xC0 | (c >> 6)); *o++ = (uint8_t)(0x80 | (c & 0x3F)); }
    }
    size_t mn = (size_t)(o - (uint8_t *)buf->data);
    const uint8_t *mp = (const uint8_t *)buf->data;
    size_t mi = 0, ri = 0; /* walk: mapped offset mi is raw offset ri */
    tg__match_iter it;
    tg__match_iter_init(&it, re, f->r->m, mp, mn);
    size_t prev = 0, a, b;
    int rc;
    while ((rc = tg__match_iter_next(&it, &a, &b)) > 0) {
        while (mi < a) { mi += mp[mi] < 0x80 ? 1 : 2; ri++; }
        size_t ra = ri;
        while (mi < b) { mi += mp[mi] < 0x80 ? 1 : 2; ri++; }
        size_t rb = ri;
        if (prev != ra && (st = fold_push(f, prev, ra, 0))) return st;
        if ((st = fold_push(f, ra, rb, 1))) return st;
        prev = rb;
    }
    if (rc < 0)
        return tg_error_set(f->err, TG_ELIMIT, "regex matcher failed (a PCRE2 match or JIT stack limit)");
    if (prev != n && (st = fold_push(f, prev, n, 0))) return st;
    return fold_end(f);
}

static tg_status run_step(tg__pt_run *r, size_t k, const uint8_t *p, size_t n, int first, tg_error *err) {
    if (n == 0) return TG_OK;
    if (k == r->pt->n) {
        tg_status st = r->sink(r->sink_ctx, p, n);
        if (st) return tg_error_set(err, st, "tokenizing a pre-token: %s", tg_status_str(st));
        return TG_OK;
    }
    const tg__pt_step *s = &r->pt->steps[k];
    fold f;
    memset(&f, 0, sizeof f);
    f.r = r;
    f.k = k;
    f.p = p;
    f.first = first;
    f.behavior = s->behavior;
    f.invert = s->invert;
    f.err = err;
    tgx_buf *b = &r->bufs[k];
    tg_status st;
    if (s->after_bl) {
        switch (s->kind) {
        case TG__PT_SPLIT:
        case TG__PT_WHITESPACE: return split_bl_regex(&f, &s->re, b, n);
        case TG__PT_DIGITS: return split_bl_chars(&f, tg__is_numeric, n);
        case TG__PT_WSSPLIT: return split_bl_chars(&f, tg__is_whitespace, n);
        case TG__PT_PUNCT: return split_bl_chars(&f, tg__is_punctuation, n);
        default: return TG_EINVAL; /* refused at load */
        }
    }
    switch (s->kind) {
    case TG__PT_SPLIT:
    case TG__PT_WHITESPACE:
        return split_regex(&f, &s->re, n);
    case TG__PT_BYTELEVEL:
        if (s->add_prefix_space && p[0] != ' ') {
            tgx_buf_reset(b);
            if ((st = tgx_buf_putc(b, ' ')) || (st = tgx_buf_append(b, p, n)))
                return tg_error_set(err, st, "ByteLevel: %s", tg_status_str(st));
            f.p = (const uint8_t *)b->data;
            n = b->len;
        }
        if (!s->has_re) return emit(&f, 0, n);
        return split_regex(&f, &s->re, n);
    case TG__PT_METASPACE: {
        tgx_buf_reset(b);
        int starts = n >= s->repl_len && memcmp(p, s->repl, s->repl_len) == 0;
        int replaced_first = p[0] == ' ';
        if (!(starts || replaced_first) &&
            (s->prepend_scheme == TG__PREPEND_ALWAYS || (s->prepend_scheme == TG__PREPEND_FIRST && first)))
            if ((st = tgx_buf_append(b, s->repl, s->repl_len))) return tg_error_set(err, st, "Metaspace: %s", tg_status_str(st));
        size_t i = 0;
        while (i < n) {
            const uint8_t *sp = memchr(p + i, ' ', n - i);
            size_t e = sp ? (size_t)(sp - p) : n;
            if ((st = tgx_buf_append(b, p + i, e - i))) return tg_error_set(err, st, "Metaspace: %s", tg_status_str(st));
            if (!sp) break;
            if ((st = tgx_buf_append(b, s->repl, s->repl_len))) return tg_error_set(err, st, "Metaspace: %s", tg_status_str(st));
            i = e + 1;
        }
        f.p = (const uint8_t *)b->data;
        n = b->len;
        if (!s->split) return emit(&f, 0, n);
        /* per-char elements on the replacement char, merged with next */
        size_t last = 0, q = 0;
        while (q < n) {
            const uint8_t *hit = tg__memmem(f.p + q, n - q, s->repl, s->repl_len);
            if (!hit) break;
            size_t a = (size_t)(hit - f.p);
            if (last < a && (st = fold_push(&f, last, a, 0))) return st;
            if ((st = fold_push(&f, a, a + s->repl_len, 1))) return st;
            last = q = a + s->repl_len;
        }
        if (n > last && (st = fold_push(&f, last, n, 0))) return st;
        return fold_end(&f);
    }
    case TG__PT_DIGITS:
        return split_chars(&f, tg__is_numeric, n);
    case TG__PT_WSSPLIT:
        return split_chars(&f, tg__is_whitespace, n);
    case TG__PT_PUNCT:
        return split_chars(&f, tg__is_punctuation, n);
    }
    return TG_EINVAL;
}

/* The direct chain (see direct_kind): gaps and matches of the fast path
 * straight to the sink, what run_step's Split/Isolated fold would emit. */
static tg_status run_direct(tg__pt_run *r, const uint8_t *s, size_t n, tg_error *err) {
    const int kind = r->pt->direct_kind;
    size_t ends[256], p = 0, k;
    tg_status st;
    while (p < n && (k = tg__pretok_fast_pieces(kind, s, n, p, ends, sizeof ends / sizeof ends[0])) > 0) {
        if (r->sink_many) {
            if ((st = r->sink_many(r->sink_ctx, s, p, ends, k))) goto fail;
        } else {
            for (size_t i = 0, a = p; i < k; a = ends[i++])
                if ((st = r->sink(r->sink_ctx, s + a, ends[i] - a))) goto fail;
        }
        p = ends[k - 1];
    }
    return TG_OK;
fail:
    return tg_error_set(err, st, "tokenizing a pre-token: %s", tg_status_str(st));
}

tg_status tg__pretokenize(tg__pt_run *r, const uint8_t *s, size_t n, int at_start, tg_error *err) {
    if (r->pt->direct_kind > 0 && n) return run_direct(r, s, n, err);
    return run_step(r, 0, s, n, at_start, err);
}
