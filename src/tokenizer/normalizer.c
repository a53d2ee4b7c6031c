/*
 * normalizer.c: HF normalizers: NFC, NFD, NFKC, NFKD, Replace, Prepend,
 * Lowercase, Strip, Sequence (flattened). Anything else (BertNormalizer,
 * StripAccents, Precompiled, NMT, ByteLevel, ...) is refused at load.
 *
 * HF normalizes each text segment between added tokens separately, so these
 * run per segment (tokenizer.c). Offsets are not tracked: tokgate only needs
 * the normalized text.
 *
 * Unicode normalization uses utf8proc (2.8.0 here: Unicode 15.0; nfc_table.c
 * is generated from it); HF uses the unicode-normalization crate (Unicode
 * 15/16). They agree except on compositions/decompositions of characters
 * added after the linked utf8proc's Unicode version (none of the canonical
 * compositions added since then occur in the test corpora).
 * NFC copies every char of its quick-check set (nfc_table.c: combining class
 * 0, its own NFC, nothing before it composes with it; ASCII among them) and
 * sends only the stretches of other chars, each with the char before it,
 * through utf8proc. NFD/NFKC/NFKD do that with ASCII as the only such char.
 *
 * Lowercase maps char by char as HF's NormalizedString::lowercase does (Rust
 * char::to_lowercase: no final-sigma context, checked against HF): simple
 * mappings from utf8proc, plus the one unconditional multi-char mapping,
 * U+0130 -> "i\u0307".
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tokenizer/nfc_table.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/unicode_props.h"
#include "util/utf8.h"

static void step_free(tg__norm_step *s) {
    tg__regex_free(&s->re);
    free(s->content);
}

void tg__normalizer_free(tg__normalizer *nz) {
    for (size_t i = 0; i < nz->n; i++) step_free(&nz->steps[i]);
    free(nz->steps);
    nz->steps = NULL;
    nz->n = 0;
}

static tg_status get_string(const json_t *o, const char *key, const char **s, size_t *n,
                            const char *where, tg_error *err) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return tg_error_set(err, TG_ECORRUPT, "%s: \"%s\" must be a string", where, key);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return TG_OK;
}

tg_status tg__check_keys(const json_t *o, const char *const *allowed, const char *where, tg_error *err) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)o, key, v) {
        (void)v;
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(key, allowed[i]) == 0) { ok = 1; break; }
        if (!ok) return tg_error_set(err, TG_EUNSUPPORTED, "%s: unknown option \"%s\"", where, key);
    }
    return TG_OK;
}

tg_status tg__pattern_from_json(tg__regex *re, const json_t *p, const char *where, tg_error *err) {
    memset(re, 0, sizeof *re);
    json_t *s = json_object_get(p, "String"), *r = json_object_get(p, "Regex");
    tg_status st;
    if (json_is_string(s)) st = tg__regex_literal(re, json_string_value(s), json_string_length(s), err);
    else if (json_is_string(r)) st = tg__regex_compile(re, json_string_value(r), json_string_length(r), err);
    else return tg_error_set(err, TG_ECORRUPT, "%s: pattern must be {\"String\": ...} or {\"Regex\": ...}", where);
    if (st) tg_error_wrap(err, "%s", where);
    return st;
}

static tg_status add_steps(tg__normalizer *nz, const json_t *j, size_t *cap, int depth, tg_error *err) {
    if (json_is_null(j)) return TG_OK;
    if (depth > 8) return tg_error_set(err, TG_ELIMIT, "normalizer nesting deeper than 8");
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) return tg_error_set(err, TG_ECORRUPT, "normalizer without a \"type\"");
    if (strcmp(type, "Sequence") == 0) {
        json_t *arr = json_object_get(j, "normalizers");
        if (!json_is_array(arr)) return tg_error_set(err, TG_ECORRUPT, "Sequence normalizer without \"normalizers\"");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            tg_status st = add_steps(nz, json_array_get(arr, i), cap, depth + 1, err);
            if (st) return st;
        }
        return TG_OK;
    }
    if (nz->n >= TG__MAX_STEPS) return tg_error_set(err, TG_ELIMIT, "more than %d normalizer steps", TG__MAX_STEPS);
    if (nz->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        tg__norm_step *p = realloc(nz->steps, nc * sizeof *p);
        if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory");
        nz->steps = p;
        *cap = nc;
    }
    tg__norm_step *s = &nz->steps[nz->n];
    memset(s, 0, sizeof *s);
    tg_status st = TG_OK;
    const char *str = ""; /* filled by get_string */
    size_t len = 0;
    if (strcmp(type, "NFC") == 0) s->kind = TG__NORM_NFC;
    else if (strcmp(type, "NFD") == 0) s->kind = TG__NORM_NFD;
    else if (strcmp(type, "NFKC") == 0) s->kind = TG__NORM_NFKC;
    else if (strcmp(type, "NFKD") == 0) s->kind = TG__NORM_NFKD;
    else if (strcmp(type, "Lowercase") == 0) s->kind = TG__NORM_LOWERCASE;
    else if (strcmp(type, "Strip") == 0) {
        s->kind = TG__NORM_STRIP;
        json_t *l = json_object_get(j, "strip_left"), *r = json_object_get(j, "strip_right");
        s->strip_left = json_is_true(l);
        s->strip_right = json_is_true(r);
    } else if (strcmp(type, "Prepend") == 0) {
        s->kind = TG__NORM_PREPEND;
        if ((st = get_string(j, "prepend", &str, &len, "Prepend normalizer", err))) return st;
        s->content = malloc(len + 1);
        if (!s->content) return tg_error_set(err, TG_ENOMEM, "out of memory");
        memcpy(s->content, str, len);
        s->content_len = len;
    } else if (strcmp(type, "Replace") == 0) {
        s->kind = TG__NORM_REPLACE;
        if ((st = get_string(j, "content", &str, &len, "Replace normalizer", err))) return st;
        s->content = malloc(len + 1);
        if (!s->content) return tg_error_set(err, TG_ENOMEM, "out of memory");
        memcpy(s->content, str, len);
        s->content_len = len;
        if ((st = tg__pattern_from_json(&s->re, json_object_get(j, "pattern"), "Replace normalizer", err))) {
            free(s->content);
            return st;
        }
    } else {
        return tg_error_set(err, TG_EUNSUPPORTED, "normalizer type \"%s\" is not supported", type);
    }
    nz->n++;
    return TG_OK;
}

tg_status tg__normalizer_from_json(tg__normalizer *nz, const json_t *j, tg_error *err) {
    memset(nz, 0, sizeof *nz);
    size_t cap = 0;
    tg_status st = add_steps(nz, j, &cap, 0, err);
    if (st) tg__normalizer_free(nz);
    return st;
}

/* ---- Unicode normalization forms ---- */

static tg_status unorm_region(const char *s, size_t n, int opts, tgx_buf *out, tgx_buf *tmp) {
    /* decompose into UTF-32 in tmp, then compose/reorder, then encode */
    tgx_buf_reset(tmp);
    size_t cap = n * 4 + 16;
    tg_status st = tgx_buf_reserve(tmp, cap * sizeof(utf8proc_int32_t));
    if (st) return st;
    utf8proc_int32_t *buf = (utf8proc_int32_t *)(void *)tmp->data;
    utf8proc_ssize_t r = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, buf,
                                            (utf8proc_ssize_t)cap, (utf8proc_option_t)opts);
    if (r < 0) return TG_EINVAL;
    if ((size_t)r > cap) {
        cap = (size_t)r;
        tgx_buf_reset(tmp);
        if ((st = tgx_buf_reserve(tmp, cap * sizeof(utf8proc_int32_t)))) return st;
        buf = (utf8proc_int32_t *)(void *)tmp->data;
        r = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, buf,
                               (utf8proc_ssize_t)cap, (utf8proc_option_t)opts);
        if (r < 0) return TG_EINVAL;
    }
    r = utf8proc_normalize_utf32(buf, r, (utf8proc_option_t)opts);
    if (r < 0) return TG_EINVAL;
    if ((st = tgx_buf_reserve(out, (size_t)r * 4))) return st;
    for (utf8proc_ssize_t i = 0; i < r; i++) {
        char e[4];
        size_t l = tgx_utf8_encode((uint32_t)buf[i], e);
        memcpy(out->data + out->len, e, l);
        out->len += l;
    }
    out->data[out->len] = '\0';
    return TG_OK;
}

/* 1 when c is NFC-stable in any context: combining class 0, NFC of c alone
 * is c, and nothing before c composes with it (nfc_table.c, generated from
 * utf8proc's own data, the library unorm_region runs; the rule is in
 * scripts/gen_nfc_table.c). Issue 17 round 6: the whole of Unicode by table
 * (was hand-picked ranges: Latin-1..U+02FF, Cyrillic, kana, CJK, Hangul,
 * symbol blocks). test_nfc_stable.c checks every code point of the set
 * against the utf8proc linked. */
int tg__nfc_stable(uint32_t c) { return c < 0x110000u && tg__nfc_bit(c); }

/* Decodes the char at s[0..n) (n >= 1, s[0] >= 0x80) of valid UTF-8 (the
 * callers check: tg_tokenizer_encode the text, the loader the added tokens):
 * its length, or 0 for a lead byte that cannot start a char or a char cut
 * short by n (that byte then goes to utf8proc, which refuses it). Continuation
 * bytes are not checked again; *c stays <= U+10FFFF whatever the bytes. */
static inline size_t nfc_decode(const uint8_t *s, size_t n, uint32_t *c) {
    uint8_t b = s[0];
    if (b < 0xE0) {
        if (b < 0xC2 || n < 2) return 0;
        *c = (uint32_t)(b & 0x1F) << 6 | (s[1] & 0x3Fu);
        return 2;
    }
    if (b < 0xF0) {
        if (n < 3) return 0;
        *c = (uint32_t)(b & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3Fu);
        return 3;
    }
    if (b > 0xF4 || n < 4) return 0;
    uint32_t v = (uint32_t)(b & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 | (uint32_t)(s[2] & 0x3F) << 6 |
                 (s[3] & 0x3Fu);
    if (v > 0x10FFFF) return 0;
    *c = v;
    return 4;
}

/* The end of the non-stable stretch whose last char so far is s[k - pl..k):
 * the next ASCII or stable char, or n. A char of the same bytes as the one
 * before it is not decoded again (runs of one mark: long-combining); pl is
 * the length of that last char, 0 when it was not valid UTF-8. */
static size_t nfc_unstable_end(const uint8_t *s, size_t k, size_t pl, size_t n) {
    while (k < n && s[k] >= 0x80) {
        if (pl && k + 8 <= n) { /* 8 bytes of period pl: the next 8 / pl chars repeat the last */
            uint64_t x, y;
            memcpy(&x, s + k, 8);
            memcpy(&y, s + k - pl, 8);
            if (x == y) {
                k += pl == 3 ? 6 : 8;
                continue;
            }
        }
        if (pl && k + pl <= n) {
            size_t j = 0;
            while (j < pl && s[k + j] == s[k + j - pl]) j++;
            if (j == pl) {
                k += pl;
                continue;
            }
        }
        uint32_t c;
        size_t l = nfc_decode(s + k, n - k, &c);
        if (l && tg__nfc_bit(c)) break;
        pl = l;
        k += l ? l : 1;
    }
    return k;
}

/* The length of the ASCII prefix of s[i..n), 8 bytes at a step. */
static inline size_t ascii_end(const char *s, size_t i, size_t n) {
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
    while (i < n && (uint8_t)s[i] < 0x80) i++;
    return i;
}

/* NFC: NFC(x c y) = NFC(x) NFC(c y) when c is stable (nothing before it
 * composes with it, and as a starter it stops reordering), and NFC(c) = c.
 * So stable chars (ASCII among them) are copied, and each stretch of other
 * chars goes through utf8proc with the stable char before it (which may
 * compose with the stretch's first char), up to the next stable char. */
static tg_status nfc(const char *s0, size_t n, tgx_buf *out, tgx_buf *tmp) {
    const uint8_t *s = (const uint8_t *)s0;
    const int opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    size_t i = 0, done = 0, prev = SIZE_MAX; /* s[0..done) is written; prev: the last stable char at or after done */
    tg_status st;
    while (i < n) {
        if (s[i] < 0x80) {
            i = ascii_end(s0, i, n);
            prev = i - 1;
            continue;
        }
        uint32_t c;
        size_t l = nfc_decode(s + i, n - i, &c);
        if (l && tg__nfc_bit(c)) {
            prev = i;
            i += l;
            continue;
        }
        size_t rs = prev != SIZE_MAX ? prev : i;
        size_t k = nfc_unstable_end(s, i + (l ? l : 1), l, n);
        if ((st = tgx_buf_append(out, s0 + done, rs - done))) return st;
        if ((st = unorm_region(s0 + rs, k - rs, opts, out, tmp))) return st;
        done = i = k;
        prev = SIZE_MAX;
    }
    return done < n ? tgx_buf_append(out, s0 + done, n - done) : TG_OK;
}

/* NFD, NFKC, NFKD: an ASCII byte is a starter that never composes with what
 * precedes it and is its own decomposition, so only runs of non-ASCII text
 * (plus the char before each run) go through utf8proc. */
static tg_status unorm(const char *s, size_t n, int opts, tgx_buf *out, tgx_buf *tmp) {
    size_t i = 0;
    tg_status st;
    while (i < n) {
        size_t j = ascii_end(s, i, n);
        if (j == n) return tgx_buf_append(out, s + i, n - i);
        size_t k = j;
        while (k < n && (uint8_t)s[k] >= 0x80) k++;
        /* s[j] starts a non-ASCII run; the char before it may compose with it */
        size_t rs = j > i ? j - 1 : j;
        if ((st = tgx_buf_append(out, s + i, rs - i))) return st;
        if ((st = unorm_region(s + rs, k - rs, opts, out, tmp))) return st;
        i = k;
    }
    return TG_OK;
}

/* ---- Lowercase ---- */

static tg_status lowercase(const char *s0, size_t n, tgx_buf *out) {
    const uint8_t *s = (const uint8_t *)s0;
    tg_status st;
    if ((st = tgx_buf_reserve(out, n))) return st;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            char c = (char)s[i];
            if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
            if ((st = tgx_buf_putc(out, c))) return st;
            i++;
            continue;
        }
        uint32_t c;
        size_t l = tgx_utf8_decode(s + i, n - i, &c);
        if (!l) return TG_EINVAL;
        char e[8];
        size_t el;
        if (c == 0x130) { /* U+0130 lowercases to i + U+0307 COMBINING DOT ABOVE */
            el = tgx_utf8_encode('i', e);
            el += tgx_utf8_encode(0x307, e + el);
        } else {
            el = tgx_utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)c), e);
        }
        if ((st = tgx_buf_append(out, e, el))) return st;
        i += l;
    }
    return TG_OK;
}

/* ---- Replace ---- */

/* Replace of a one-byte literal (Gemma-3: " " -> U+2581): every occurrence
 * is a match, so one counting pass, one reservation, one copying pass. With
 * SSE2 (baseline on x86-64) both go 16 bytes at a step: the copy stores the
 * whole block and advances to the next match only (the output keeps 16 bytes
 * of slack); elsewhere, or for the tail, a byte at a time. Same bytes out. */
static size_t count_byte(const char *t, size_t n, char c) {
    size_t cnt = 0, i = 0;
#ifdef __SSE2__
    const __m128i vc = _mm_set1_epi8(c);
    for (; i + 16 <= n; i += 16)
    {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(t + i)), vc));
        m = m - ((m >> 1) & 0x5555u); /* 16-bit popcount without popcnt (not baseline) */
        m = (m & 0x3333u) + ((m >> 2) & 0x3333u);
        m = (m + (m >> 4)) & 0x0F0Fu;
        cnt += (m + (m >> 8)) & 0x1Fu;
    }
#endif
    for (; i < n; i++) cnt += t[i] == c;
    return cnt;
}

static tg_status replace_byte(const tg__norm_step *s, const char *t, size_t n, tgx_buf *out, int *kept) {
    const char c = s->re.literal[0];
    size_t cnt = count_byte(t, n, c), cl = s->content_len;
    if (cnt && t[0] == c && cl == 0) *kept = 0;
    size_t grow = cl > 1 ? cnt * (cl - 1) : 0;
    tg_status st = tgx_buf_reserve(out, n + grow);
    if (st) return st;
    size_t i = 0, simd_end = tgx_buf_reserve(out, n + grow + 16) == TG_OK ? n : 0; /* no slack: bytewise */
    char *o = out->data + out->len;
#ifdef __SSE2__
    const __m128i vc = _mm_set1_epi8(c);
    while (i + 16 <= simd_end) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, vc));
        _mm_storeu_si128((__m128i *)(void *)o, v); /* the bytes before the first match (all when none) */
        if (!m) {
            o += 16;
            i += 16;
            continue;
        }
        unsigned k = (unsigned)__builtin_ctz(m);
        o += k;
        i += k + 1;
        memcpy(o, s->content, cl);
        o += cl;
    }
#endif
    (void)simd_end;
    for (; i < n; i++) {
        if (t[i] != c) {
            *o++ = t[i];
        } else {
            memcpy(o, s->content, cl);
            o += cl;
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return TG_OK;
}

static tg_status replace(const tg__norm_step *s, tg__matcher *m, const char *t, size_t n, tgx_buf *out,
                         int *kept) {
    if (s->re.literal && s->re.literal_len == 1) return replace_byte(s, t, n, out, kept);
    tg__match_iter it;
    tg__match_iter_init(&it, &s->re, m, (const uint8_t *)t, n);
    size_t prev = 0, a, b;
    tg_status st;
    int r;
    while ((r = tg__match_iter_next(&it, &a, &b)) > 0) {
        if (a == 0 && b > 0 && s->content_len == 0) *kept = 0;
        if ((st = tgx_buf_append(out, t + prev, a - prev))) return st;
        if ((st = tgx_buf_append(out, s->content, s->content_len))) return st;
        prev = b;
    }
    if (r < 0) return TG_ELIMIT;
    return tgx_buf_append(out, t + prev, n - prev);
}

static tg_status apply(const tg__norm_step *s, tg__matcher *m, const char *t, size_t n,
                       tgx_buf *out, tgx_buf *tmp, int *kept) {
    switch (s->kind) {
    case TG__NORM_NFC: return nfc(t, n, out, tmp);
    case TG__NORM_NFD: return unorm(t, n, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, out, tmp);
    case TG__NORM_NFKC: return unorm(t, n, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT, out, tmp);
    case TG__NORM_NFKD: return unorm(t, n, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, out, tmp);
    case TG__NORM_LOWERCASE: return lowercase(t, n, out);
    case TG__NORM_REPLACE: return replace(s, m, t, n, out, kept);
    case TG__NORM_PREPEND: {
        tg_status st;
        if (n && (st = tgx_buf_append(out, s->content, s->content_len))) return st;
        return tgx_buf_append(out, t, n);
    }
    case TG__NORM_STRIP: {
        const uint8_t *u = (const uint8_t *)t;
        size_t a = 0, b = n;
        while (s->strip_left && a < b) {
            uint32_t c;
            size_t l = tgx_utf8_decode(u + a, b - a, &c);
            if (!l || !tg__is_whitespace(c)) break;
            a += l;
        }
        if (a > 0) *kept = 0;
        while (s->strip_right && b > a) {
            size_t st = b - 1;
            while (st > a && (u[st] & 0xC0) == 0x80) st--;
            uint32_t c;
            if (!tgx_utf8_decode(u + st, b - st, &c) || !tg__is_whitespace(c)) break;
            b = st;
        }
        return tgx_buf_append(out, t + a, b - a);
    }
    }
    return TG_EINVAL;
}

tg_status tg__normalize(const tg__normalizer *nz, tg__matcher *m, const char *s, size_t n,
                        tgx_buf *out, tgx_buf *tmp, int *kept_start, tg_error *err) {
    tg_status st;
    int kept_local = 1;
    int *kept = kept_start ? kept_start : &kept_local;
    *kept = 1;
    if (nz->n == 0) {
        if ((st = tgx_buf_append(out, s, n))) goto fail;
        return TG_OK;
    }
    /* ping-pong between out and a second buffer; the last step writes to out */
    tgx_buf a, u;
    tgx_buf_init(&a, out->max);
    tgx_buf_init(&u, out->max);
    const char *cur = s;
    size_t cur_n = n;
    for (size_t i = 0; i < nz->n; i++) {
        tgx_buf *dst = (i + 1 == nz->n) ? out : ((i & 1) ? &u : &a);
        if (dst != out) tgx_buf_reset(dst);
        if ((st = apply(&nz->steps[i], m, cur, cur_n, dst, tmp, kept))) {
            tgx_buf_free(&a);
            tgx_buf_free(&u);
            goto fail;
        }
        cur = dst->data ? dst->data : "";
        cur_n = dst->len;
    }
    tgx_buf_free(&a);
    tgx_buf_free(&u);
    return TG_OK;
fail:
    return tg_error_set(err, st, "normalizer: %s", st == TG_ELIMIT ? "a buffer or regex limit was reached" : tg_status_str(st));
}
