/*
 * policy/req_scan.c: the strict one-pass request scanner; see req_scan.h.
 * Where jansson (load.c, 2.14) decides, this decides the same way; the
 * differential test and fuzzer compare the two on every input. String bodies
 * are skimmed 16 bytes at a time with SSE2 (the x86-64 baseline; elsewhere a
 * byte loop with the same answer) straight to the next '"', '\\', control or
 * non-ASCII byte; non-ASCII is checked as strict UTF-8.
 */
#include "policy/req_scan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH: containers, the top one included */

typedef struct sc {
    const unsigned char *s;
    size_t n, i;
    tg_error *err;
    int raw_nul;  /* a NUL was skipped after a number or literal */
} sc;

static tg_status fail(sc *c, const char *what) {
    return tg_error_set(c->err, TG_ECORRUPT, "request is not valid JSON: %s at byte offset %zu", what, c->i);
}

static inline void ws(sc *c) {
    while (c->i < c->n) {
        unsigned char b = c->s[c->i];
        if (b != ' ' && b != '\n' && b != '\r' && b != '\t') return;
        c->i++;
    }
}

static int hex4(const unsigned char *p, unsigned *v) {
    unsigned x = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char h = p[k];
        unsigned d = h >= '0' && h <= '9' ? (unsigned)(h - '0')
                     : h >= 'a' && h <= 'f' ? (unsigned)(h - 'a' + 10)
                     : h >= 'A' && h <= 'F' ? (unsigned)(h - 'A' + 10) : 16u;
        if (d == 16) return 0;
        x = x * 16 + d;
    }
    *v = x;
    return 1;
}

/* A \u escape at c->i (just past the 'u'): the code point, pairs joined. */
static tg_status uescape(sc *c, unsigned *cp) {
    if (c->n - c->i < 4 || !hex4(c->s + c->i, cp)) return fail(c, "invalid \\u escape");
    c->i += 4;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return fail(c, "invalid Unicode (lone low surrogate)");
    if (*cp < 0xD800 || *cp > 0xDBFF) return TG_OK;
    unsigned lo;
    if (c->n - c->i < 6 || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u' || !hex4(c->s + c->i + 2, &lo) ||
        lo < 0xDC00 || lo > 0xDFFF)
        return fail(c, "invalid Unicode (unpaired high surrogate)");
    c->i += 6;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return TG_OK;
}

#if defined(__SSE2__)
#include <emmintrin.h>
/* The offset of the first byte in s[i..n) that is '"', '\\', below 0x20 or
 * 0x80 and above (a signed compare below 0x20 catches both), 16 bytes at a
 * time (SSE2 is the x86-64 baseline); n when there is none. */
static inline size_t skim(const unsigned char *s, size_t i, size_t n) {
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    for (; n - i >= 16; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)), _mm_cmplt_epi8(x, sp));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return i + (size_t)__builtin_ctz(m);
    }
    while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 && s[i] < 0x80) i++;
    return i;
}
#else
/* The portable form: the same answer a byte at a time. */
static inline size_t skim(const unsigned char *s, size_t i, size_t n) {
    while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 && s[i] < 0x80) i++;
    return i;
}
#endif

/* A string at c->i (the opening quote). *esc: it held a backslash; *nul: a
 * \u0000 (jansson refuses it in a key). */
static tg_status string(sc *c, int *esc, int *nul) {
    c->i++;
    for (;;) {
        c->i = skim(c->s, c->i, c->n);
        if (c->i >= c->n) return fail(c, "unterminated string");
        unsigned char b = c->s[c->i];
        if (b == '"') {
            c->i++;
            return TG_OK;
        }
        if (b < 0x20) return fail(c, "control character in a string");
        if (b >= 0x80) {
            uint32_t cp;
            size_t k = tgx_utf8_decode(c->s + c->i, c->n - c->i, &cp);
            if (!k) return fail(c, "invalid UTF-8");
            c->i += k;
            continue;
        }
        c->i++; /* a backslash */
        *esc = 1;
        if (c->i >= c->n) return fail(c, "unterminated string");
        b = c->s[c->i++];
        switch (b) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': break;
        case 'u': {
            unsigned cp = 0;
            tg_status st = uescape(c, &cp);
            if (st) return st;
            if (cp == 0) *nul = 1;
            break;
        }
        default:
            c->i--;
            return fail(c, "invalid escape");
        }
    }
}

static int digit(const sc *c) { return c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9'; }

/* jansson: an integer beyond long long, or a real that overflows to
 * infinity, is an error (a real that underflows is not). */
static tg_status number(sc *c) {
    size_t st = c->i;
    int neg = 0, real = 0;
    if (c->s[c->i] == '-') neg = 1, c->i++;
    if (!digit(c)) return fail(c, "invalid number");
    if (c->s[c->i] == '0') {
        c->i++;
        if (digit(c)) return fail(c, "invalid number (leading zero)");
    } else {
        while (digit(c)) c->i++;
    }
    if (c->i < c->n && c->s[c->i] == '.') {
        c->i++, real = 1;
        if (!digit(c)) return fail(c, "invalid number");
        while (digit(c)) c->i++;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        c->i++, real = 1;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) c->i++;
        if (!digit(c)) return fail(c, "invalid number");
        while (digit(c)) c->i++;
    }
    size_t len = c->i - st, dl = len - (size_t)neg;
    if (!real) {
        static const char lim[] = "9223372036854775807", nlim[] = "9223372036854775808";
        const char *L = neg ? nlim : lim;
        if (dl > 19 || (dl == 19 && memcmp(c->s + st + neg, L, 19) > 0)) return fail(c, "too big integer");
        return TG_OK;
    }
    char small[64], *b = len < sizeof small ? small : malloc(len + 1);
    if (!b) return tg_error_set(c->err, TG_ENOMEM, "out of memory scanning the request");
    memcpy(b, c->s + st, len);
    b[len] = '\0';
    errno = 0;
    double v = strtod(b, NULL);
    int over = isinf(v) && errno == ERANGE;
    if (b != small) free(b);
    return over ? fail(c, "real number overflow") : TG_OK;
}

static tg_status literal(sc *c, const char *w, size_t k) {
    if (c->n - c->i < k || memcmp(c->s + c->i, w, k) != 0) return fail(c, "invalid token");
    c->i += k;
    return TG_OK;
}

static tg_status value(sc *c, int depth, size_t *n_elems);

static tg_status object_body(sc *c, int depth, tg__req_scan *top) {
    c->i++; /* '{' */
    ws(c);
    if (c->i < c->n && c->s[c->i] == '}') {
        c->i++;
        return TG_OK;
    }
    for (;;) {
        if (c->i >= c->n || c->s[c->i] != '"') return fail(c, "string or '}' expected");
        size_t ks = c->i;
        int esc = 0, nul = 0;
        tg_status st = string(c, &esc, &nul);
        if (st) return st;
        if (nul) return fail(c, "NUL byte in object key not supported");
        size_t ke = c->i - 1;
        ws(c);
        if (c->i >= c->n || c->s[c->i] != ':') return fail(c, "':' expected");
        c->i++;
        ws(c);
        size_t vs = c->i, ne = 0;
        if ((st = value(c, depth, &ne))) return st;
        if (top) {
            if (top->n == top->cap) {
                size_t cap = top->cap ? top->cap * 2 : 32;
                tg__req_member *m = realloc(top->m, cap * sizeof *m);
                if (!m) return tg_error_set(c->err, TG_ENOMEM, "out of memory scanning the request");
                top->m = m, top->cap = cap;
            }
            tg__req_member *m = &top->m[top->n++];
            *m = (tg__req_member){ks + 1, ke, vs, c->i, esc, (char)c->s[vs], ne};
            top->any_escaped_key |= esc;
        }
        ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            ws(c);
            continue;
        }
        if (c->i < c->n && c->s[c->i] == '}') {
            c->i++;
            return TG_OK;
        }
        return fail(c, "',' or '}' expected");
    }
}

static tg_status array_body(sc *c, int depth, size_t *n_elems) {
    c->i++; /* '[' */
    ws(c);
    if (c->i < c->n && c->s[c->i] == ']') {
        c->i++;
        return TG_OK;
    }
    for (;;) {
        size_t ne = 0;
        tg_status st = value(c, depth, &ne);
        if (st) return st;
        (*n_elems)++;
        ws(c);
        if (c->i < c->n && c->s[c->i] == ',') {
            c->i++;
            ws(c);
            continue;
        }
        if (c->i < c->n && c->s[c->i] == ']') {
            c->i++;
            return TG_OK;
        }
        return fail(c, "',' or ']' expected");
    }
}

/* jansson reads a NUL byte as the end of its input, but its lexer, ending a
 * number or a literal, steps back over that "end" without returning the
 * byte: one NUL right after a number or true/false/null is skipped there. */
static tg_status nul_after(sc *c, tg_status st) {
    if (st == TG_OK && c->i < c->n && c->s[c->i] == '\0') c->i++, c->raw_nul = 1;
    return st;
}

static tg_status value(sc *c, int depth, size_t *n_elems) {
    if (c->i >= c->n) return fail(c, "value expected");
    int esc = 0, nul = 0;
    switch (c->s[c->i]) {
    case '{':
        if (depth + 1 > MAX_DEPTH) return fail(c, "maximum parsing depth reached");
        return object_body(c, depth + 1, NULL);
    case '[':
        if (depth + 1 > MAX_DEPTH) return fail(c, "maximum parsing depth reached");
        return array_body(c, depth + 1, n_elems);
    case '"': return string(c, &esc, &nul);
    case 't': return nul_after(c, literal(c, "true", 4));
    case 'f': return nul_after(c, literal(c, "false", 5));
    case 'n': return nul_after(c, literal(c, "null", 4));
    default:
        if (c->s[c->i] == '-' || (c->s[c->i] >= '0' && c->s[c->i] <= '9')) return nul_after(c, number(c));
        return fail(c, "invalid token");
    }
}

tg_status tg__req_scan_run(const char *s, size_t n, tg__req_scan *out, tg_error *err) {
    memset(out, 0, sizeof *out);
    sc c = {(const unsigned char *)s, s ? n : 0, 0, err, 0};
    ws(&c);
    if (c.i >= c.n || c.s[c.i] != '{') {
        if (c.i < c.n && c.s[c.i] == '[') return tg_error_set(err, TG_EINVAL, "request is not a JSON object");
        return fail(&c, "'{' expected");
    }
    tg_status st = object_body(&c, 1, out);
    if (st == TG_OK) {
        ws(&c);
        if (c.i != c.n) st = fail(&c, "end of input expected");
    }
    if (st != TG_OK) tg__req_scan_free(out);
    else out->raw_nul = c.raw_nul;
    return st;
}

const tg__req_member *tg__req_scan_get(const tg__req_scan *sc_, const char *s, const char *key) {
    size_t kl = strlen(key);
    for (size_t i = sc_->n; i-- > 0;) {
        const tg__req_member *m = &sc_->m[i];
        if (!m->key_escaped && m->kend - m->kstart == kl && memcmp(s + m->kstart, key, kl) == 0) return m;
    }
    return NULL;
}

void tg__req_scan_free(tg__req_scan *sc_) {
    free(sc_->m);
    memset(sc_, 0, sizeof *sc_);
}
