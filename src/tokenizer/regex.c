/*
 * regex.c: the regexes of tokenizer.json (Oniguruma dialect, as HF compiles
 * them with the onig crate) run on PCRE2 (UTF + UCP + JIT), plus literal
 * string patterns.
 *
 * Dialect translation (each checked against HF tokenizers 0.23.2; see
 * tests/tokenizer/test_regex.c):
 *   \s  Oniguruma: White_Space (25 code points; PCRE2 UCP adds U+180E).
 *   \w  Oniguruma: Alphabetic|Mark|Nd|Pc + 6 Latin-1 No (PCRE2 10.42: L, N, _).
 *       Both, and every \p{..} and \d, are then spelled out from Unicode 16
 *       data by tg__regex_rewrite_unicode (regex_rewrite.h): PCRE2 10.42's
 *       own tables are Unicode 14, HF's are Unicode 16.
 *   \h  Oniguruma: a hex digit (PCRE2: horizontal space): [0-9a-fA-F].
 *   \v  Oniguruma: U+000B only (PCRE2: vertical space class): \x0B.
 *   \uHHHH  Oniguruma (Ruby) escape: \x{HHHH}.
 *   ^ $ Oniguruma (Ruby syntax): line anchors: PCRE2_MULTILINE, newline LF.
 *   (?m) Oniguruma (Ruby): dot matches newline: PCRE2 (?s).
 *   \S \W \H inside a character class cannot be spelled out as members and
 *   are refused, as are \b \B \G \R \X \N \O and option letters other than
 *   i, m, x: never approximated.
 * Outside these, both dialects agree for the constructs tokenizer regexes use
 * (\p{..} properties, classes, alternation, greedy/lazy/possessive
 * quantifiers, lookaround, (?i:...) case folding).
 *
 * Matching: tg__regex_next is "first match at or after pos", the same
 * contract as the hand-written fast paths (pretok_fast.h), which take over
 * when tg__pretok_fast_lookup knows the pattern; both use the same Unicode 16
 * classes (unicode_class.h). tg__match_iter_next adds HF's find_iter rule
 * for empty matches.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/regex_rewrite.h"
#include "util/buf.h"

#if defined(__has_include)
#if __has_include("tokenizer/pretok_fast.h")
#include "tokenizer/pretok_fast.h"
#define TG_HAVE_PRETOK_FAST 1
#endif
#endif
#ifndef TG_HAVE_PRETOK_FAST
/* Local shim until branch `pretok` lands src/tokenizer/pretok_fast.{h,c}. */
static int tg__pretok_fast_lookup(const char *p, size_t n) { (void)p; (void)n; return 0; }
static int tg__pretok_fast_next(int k, const uint8_t *s, size_t n, size_t pos, size_t *a, size_t *b) {
    (void)k; (void)s; (void)n; (void)pos; (void)a; (void)b; return 0;
}
#endif

/* \s and \w are kept for tg__regex_rewrite_unicode (regex_rewrite.h), which
 * spells them (and every \p{..}, \d) as Oniguruma's Unicode 16 sets. */
#define CLS_S "\\s"
#define CLS_W "\\w"
#define CLS_H "0-9a-fA-F"

static tg_status refuse(tg_error *err, const char *what, size_t at) {
    return tg_error_set(err, TG_EUNSUPPORTED,
                        "regex construct %s at offset %zu is not supported (Oniguruma and "
                        "PCRE2 read it differently)", what, at);
}

/* Translates an Oniguruma pattern into PCRE2 syntax (see the top comment). */
static tg_status translate(const char *src, size_t n, tgx_buf *out, tg_error *err) {
    int in_class = 0;
    size_t i = 0;
    tg_status st = TG_OK;
#define PUT(s) do { if ((st = tgx_buf_puts(out, (s)))) goto oom; } while (0)
#define PUTN(p, k) do { if ((st = tgx_buf_append(out, (p), (k)))) goto oom; } while (0)
    while (i < n) {
        char c = src[i];
        if (c == '\\') {
            if (i + 1 >= n) return tg_error_set(err, TG_ECORRUPT, "regex ends with a lone backslash");
            char e = src[i + 1];
            switch (e) {
            case 's': PUT(in_class ? CLS_S : "[" CLS_S "]"); i += 2; continue;
            case 'w': PUT(in_class ? CLS_W : "[" CLS_W "]"); i += 2; continue;
            case 'h': PUT(in_class ? CLS_H : "[" CLS_H "]"); i += 2; continue;
            case 'S': case 'W': case 'H':
                if (in_class) return refuse(err, e == 'S' ? "\\S in a class" : e == 'W' ? "\\W in a class" : "\\H in a class", i);
                PUT(e == 'S' ? "[^" CLS_S "]" : e == 'W' ? "[^" CLS_W "]" : "[^" CLS_H "]");
                i += 2;
                continue;
            case 'v': PUT("\\x0B"); i += 2; continue;
            case 'b': case 'B':
                if (in_class && e == 'b') { PUT("\\x08"); i += 2; continue; }
                return refuse(err, e == 'b' ? "\\b" : "\\B", i);
            case 'G': return refuse(err, "\\G", i);
            case 'R': return refuse(err, "\\R", i);
            case 'X': return refuse(err, "\\X", i);
            case 'N': return refuse(err, "\\N", i);
            case 'O': return refuse(err, "\\O", i);
            case 'K': return refuse(err, "\\K", i);
            case 'y': case 'Y': return refuse(err, "\\y", i);
            case 'u': {
                size_t k = 0;
                while (k < 4 && i + 2 + k < n &&
                       strchr("0123456789abcdefABCDEF", src[i + 2 + k]) && src[i + 2 + k]) k++;
                if (k != 4) return refuse(err, "\\u without 4 hex digits", i);
                PUT("\\x{");
                PUTN(src + i + 2, 4);
                PUT("}");
                i += 6;
                continue;
            }
            default:
                PUTN(src + i, 2);
                i += 2;
                continue;
            }
        }
        if (in_class) {
            if (c == '[') {
                if (i + 1 < n && src[i + 1] == ':') { /* POSIX class [:name:] */
                    const char *end = NULL;
                    for (size_t k = i + 2; k + 1 < n; k++)
                        if (src[k] == ':' && src[k + 1] == ']') { end = src + k + 2; break; }
                    if (!end) return refuse(err, "'[' inside a class", i);
                    PUTN(src + i, (size_t)(end - (src + i)));
                    i = (size_t)(end - src);
                    continue;
                }
                return refuse(err, "a nested class", i);
            }
            if (c == '&' && i + 1 < n && src[i + 1] == '&') return refuse(err, "class intersection &&", i);
            if (c == ']') in_class = 0;
            PUTN(&c, 1);
            i++;
            continue;
        }
        if (c == '[') {
            in_class = 1;
            PUTN(&c, 1);
            i++;
            if (i < n && src[i] == '^') { PUTN("^", 1); i++; }
            if (i < n && src[i] == ']') { PUT("\\]"); i++; } /* leading ] is literal */
            continue;
        }
        if (c == '(' && i + 1 < n && src[i + 1] == '?') {
            /* (?flags) or (?flags:...): m -> s, letters other than i m x refused */
            size_t k = i + 2;
            while (k < n && ((src[k] >= 'a' && src[k] <= 'z') || (src[k] >= 'A' && src[k] <= 'Z') ||
                             src[k] == '-'))
                k++;
            if (k > i + 2 && k < n && (src[k] == ':' || src[k] == ')')) {
                PUT("(?");
                for (size_t q = i + 2; q < k; q++) {
                    char f = src[q];
                    if (f != 'i' && f != 'm' && f != 'x' && f != '-')
                        return refuse(err, "an inline option other than i, m, x", i);
                    if (f == 'm') f = 's';
                    PUTN(&f, 1);
                }
                i = k;
                continue;
            }
        }
        PUTN(&c, 1);
        i++;
    }
    return TG_OK;
oom:
    return tg_error_set(err, st, "regex translation: %s", tg_status_str(st));
#undef PUT
#undef PUTN
}

tg_status tg__regex_compile(tg__regex *re, const char *src, size_t len, tg_error *err) {
    memset(re, 0, sizeof *re);
    tgx_buf pat;
    tgx_buf_init(&pat, (size_t)1 << 20);
    tg_status st = translate(src, len, &pat, err);
    if (st) { tgx_buf_free(&pat); return st; }
    { /* Unicode 16 classes, as HF has them (branch pretok, regex_rewrite.h) */
        tgx_buf u16;
        tgx_buf_init(&u16, (size_t)4 << 20);
        st = tg__regex_rewrite_unicode(pat.data ? pat.data : "", pat.len, &u16, err);
        tgx_buf_free(&pat);
        pat = u16;
        if (st) { tgx_buf_free(&pat); return st; }
    }
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc) { tgx_buf_free(&pat); return tg_error_set(err, TG_ENOMEM, "out of memory"); }
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    int ec = 0;
    PCRE2_SIZE eo = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)(pat.data ? pat.data : ""), pat.len,
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE | PCRE2_NO_UTF_CHECK,
                                     &ec, &eo, cc);
    pcre2_compile_context_free(cc);
    if (!code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(ec, msg, sizeof msg);
        tgx_buf_free(&pat);
        return tg_error_set(err, TG_ECORRUPT, "regex does not compile: %s (at offset %zu)",
                            (const char *)msg, (size_t)eo);
    }
    tgx_buf_free(&pat);
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    re->code = code;
    re->fast_kind = tg__pretok_fast_lookup(src, len);
    return TG_OK;
}

tg_status tg__regex_literal(tg__regex *re, const char *s, size_t len, tg_error *err) {
    memset(re, 0, sizeof *re);
    if (len == 0) return tg_error_set(err, TG_EUNSUPPORTED, "an empty String pattern is not supported");
    re->literal = malloc(len);
    if (!re->literal) return tg_error_set(err, TG_ENOMEM, "out of memory");
    memcpy(re->literal, s, len);
    re->literal_len = len;
    return TG_OK;
}

void tg__regex_free(tg__regex *re) {
    if (re->code) pcre2_code_free((pcre2_code *)re->code);
    free(re->literal);
    memset(re, 0, sizeof *re);
}

static int matcher_make(tg__matcher *m) {
    memset(m, 0, sizeof *m);
    m->md = pcre2_match_data_create(4, NULL);
    m->mctx = pcre2_match_context_create(NULL);
    m->jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, NULL);
    if (!m->md || !m->mctx || !m->jit_stack) return 0;
    pcre2_jit_stack_assign((pcre2_match_context *)m->mctx, NULL, m->jit_stack);
    return 1;
}

static void matcher_release(tg__matcher *m) {
    if (m->md) pcre2_match_data_free((pcre2_match_data *)m->md);
    if (m->mctx) pcre2_match_context_free((pcre2_match_context *)m->mctx);
    if (m->jit_stack) pcre2_jit_stack_free((pcre2_jit_stack *)m->jit_stack);
    memset(m, 0, sizeof *m);
}

/* One matcher set per thread (pthread key: freed by the key's destructor
 * when the thread exits; the main thread's lives until the process ends).
 * The set holds no tokenizer state, so one thread may use it for any
 * tokenizer; a tokenizer shared between threads never shares a set. */
typedef struct tl_matcher {
    tg__matcher m;
    int in_use;
} tl_matcher;
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static int tl_have_key;

static void tl_destroy(void *p) {
    tl_matcher *t = p;
    matcher_release(&t->m);
    free(t);
}

static void tl_make_key(void) { tl_have_key = pthread_key_create(&tl_key, tl_destroy) == 0; }

tg_status tg__matcher_init(tg__matcher *m, tg_error *err) {
    memset(m, 0, sizeof *m);
    (void)pthread_once(&tl_once, tl_make_key);
    if (tl_have_key) {
        tl_matcher *t = pthread_getspecific(tl_key);
        if (!t && (t = calloc(1, sizeof *t)) != NULL) {
            if (!matcher_make(&t->m) || pthread_setspecific(tl_key, t) != 0) {
                matcher_release(&t->m);
                free(t);
                t = NULL;
            }
        }
        if (t && !t->in_use) {
            *m = t->m;
            m->lent = t;
            t->in_use = 1;
            return TG_OK;
        }
    }
    if (!matcher_make(m)) {
        matcher_release(m);
        return tg_error_set(err, TG_ENOMEM, "out of memory for the regex matcher");
    }
    return TG_OK;
}

void tg__matcher_free(tg__matcher *m) {
    if (m->lent) ((tl_matcher *)m->lent)->in_use = 0;
    else matcher_release(m);
    memset(m, 0, sizeof *m);
}

int tg__regex_next(const tg__regex *re, tg__matcher *m, const uint8_t *s, size_t n, size_t pos,
                   size_t *ms, size_t *me) {
    if (re->literal) {
        if (pos >= n || n - pos < re->literal_len) return 0;
        const uint8_t *hit = tg__memmem(s + pos, n - pos, re->literal, re->literal_len);
        if (!hit) return 0;
        *ms = (size_t)(hit - s);
        *me = *ms + re->literal_len;
        return 1;
    }
    if (pos > n) return 0;
    pcre2_match_data *md = (pcre2_match_data *)m->md;
    int rc = pcre2_match((const pcre2_code *)re->code, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK,
                         md, (pcre2_match_context *)m->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

void tg__match_iter_init(tg__match_iter *it, const tg__regex *re, tg__matcher *m,
                         const uint8_t *s, size_t n) {
    it->re = re;
    it->m = m;
    it->s = s;
    it->n = n;
    it->pos = 0;
    it->last_end = 0;
    it->have_last = 0;
    /* the fast paths never return empty matches; their classes are HF's (Unicode 16) */
    it->fast = re->fast_kind > 0 ? re->fast_kind : 0;
}

int tg__match_iter_next(tg__match_iter *it, size_t *ms, size_t *me) {
    for (;;) {
        if (it->pos > it->n) return 0;
        size_t a, b;
        int r;
        if (it->fast) r = tg__pretok_fast_next(it->fast, it->s, it->n, it->pos, &a, &b);
        else r = tg__regex_next(it->re, it->m, it->s, it->n, it->pos, &a, &b);
        if (r <= 0) return r;
        if (a == b && it->have_last && it->last_end == b) {
            /* Oniguruma FindMatches: no empty match right after the last one */
            if (it->pos >= it->n) return 0;
            size_t cl = 1;
            while (it->pos + cl < it->n && (it->s[it->pos + cl] & 0xC0) == 0x80) cl++;
            it->pos += cl;
            continue;
        }
        it->pos = b;
        it->last_end = b;
        it->have_last = 1;
        if (a == b && b >= it->n) it->pos = it->n + 1; /* nothing further after an empty match at the end */
        *ms = a;
        *me = b;
        return 1;
    }
}
