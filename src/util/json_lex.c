/*
 * util/json_lex.c: the JSON tokens of jansson's grammar for the strict
 * readers (see json_lex.h). String bodies are skimmed 16 bytes at a time
 * with SSE2 (the x86-64 baseline; elsewhere a byte loop with the same
 * answer) to the next '"', '\\', control or non-ASCII byte; a run of
 * non-ASCII bytes is checked there as strict UTF-8, character by character.
 */
#include "util/json_lex.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

const char tgx_json_oom[] = "out of memory reading a number";

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

/* A \u escape at s[i] (the backslash), complete as tgx_json_string checked
 * or checked here: the code point with a surrogate pair joined, and the
 * escape's length (6 or 12); 0 with *why set when it is invalid. */
static size_t uescape(const unsigned char *s, size_t i, size_t n, unsigned *cp, const char **why) {
    if (n - i < 6 || !hex4(s + i + 2, cp)) return *why = "invalid \\u escape", 0;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return *why = "invalid Unicode (lone low surrogate)", 0;
    if (*cp < 0xD800 || *cp > 0xDBFF) return 6;
    unsigned lo;
    if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' || !hex4(s + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
        return *why = "invalid Unicode (unpaired high surrogate)", 0;
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 12;
}

/* The first byte in s[i..n) that is '"', '\\', below 0x20 or 0x80 and
 * above (a signed compare below 0x20 catches both); n when there is none. */
static inline size_t skim(const unsigned char *s, size_t i, size_t n) {
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\'), sp = _mm_set1_epi8(0x20);
    for (; n - i >= 16; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q), _mm_cmpeq_epi8(x, bs)), _mm_cmplt_epi8(x, sp));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < n && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 && s[i] < 0x80) i++;
    return i;
}

const char *tgx_json_string(const unsigned char *s, size_t n, size_t *i, unsigned *flags) {
    size_t j = *i + 1;
    unsigned fl = 0;
    for (;;) {
        j = skim(s, j, n);
        if (j >= n) return *i = j, "unterminated string";
        unsigned char b = s[j];
        if (b == '"') break;
        if (b < 0x20) return *i = j, "control character in a string";
        if (b >= 0x80) { /* a run of non-ASCII characters, each strict UTF-8 */
            do {
                uint32_t cp;
                size_t k = tgx_utf8_decode(s + j, n - j, &cp);
                if (!k) return *i = j, "invalid UTF-8";
                j += k;
            } while (j < n && s[j] >= 0x80);
            continue;
        }
        fl |= TGX_JSON_ESC; /* a backslash */
        if (j + 1 >= n) return *i = j, "unterminated string";
        switch (s[j + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': j += 2; break;
        case 'u': {
            unsigned cp = 0;
            const char *why = NULL;
            size_t k = uescape(s, j, n, &cp, &why);
            if (!k) return *i = j, why;
            if (cp == 0) fl |= TGX_JSON_NUL;
            j += k;
            break;
        }
        default: return *i = j + 1, "invalid escape";
        }
    }
    *flags = fl;
    *i = j + 1;
    return NULL;
}

size_t tgx_json_unescape(char *s, size_t from, size_t to) {
    size_t r = from, w = from;
    while (r < to) {
        if (s[r] != '\\') { /* the plain run up to the next backslash, moved at once */
            const char *bs = memchr(s + r, '\\', to - r);
            size_t k = bs ? (size_t)(bs - (s + r)) : to - r;
            if (w != r) memmove(s + w, s + r, k);
            w += k;
            r += k;
            continue;
        }
        char x = 0;
        switch (s[r + 1]) {
        case 'b': x = '\b'; break;
        case 'f': x = '\f'; break;
        case 'n': x = '\n'; break;
        case 'r': x = '\r'; break;
        case 't': x = '\t'; break;
        case 'u': break;
        default: x = s[r + 1]; break; /* '"', '\\', '/' */
        }
        if (x) {
            s[w++] = x;
            r += 2;
            continue;
        }
        unsigned cp = 0;
        const char *why = NULL;
        r += uescape((const unsigned char *)s, r, to, &cp, &why); /* checked already */
        char u[4];
        size_t m = tgx_utf8_encode((uint32_t)cp, u);
        memcpy(s + w, u, m);
        w += m;
    }
    return w - from;
}

static int digit_at(const unsigned char *s, size_t i, size_t n) { return i < n && s[i] >= '0' && s[i] <= '9'; }

const char *tgx_json_number(const unsigned char *s, size_t n, size_t *i, int *real, double *dv) {
    size_t st = *i, j = st;
    int neg = 0;
    *real = 0;
    if (s[j] == '-') neg = 1, j++;
    if (!digit_at(s, j, n)) return *i = j, "invalid number";
    if (s[j] == '0') {
        j++;
        if (digit_at(s, j, n)) return *i = j, "invalid number (leading zero)";
    } else {
        while (digit_at(s, j, n)) j++;
    }
    if (j < n && s[j] == '.') {
        j++, *real = 1;
        if (!digit_at(s, j, n)) return *i = j, "invalid number";
        while (digit_at(s, j, n)) j++;
    }
    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
        j++, *real = 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (!digit_at(s, j, n)) return *i = j, "invalid number";
        while (digit_at(s, j, n)) j++;
    }
    size_t len = j - st, dl = len - (size_t)neg;
    if (!*real) {
        static const char lim[] = "9223372036854775807", nlim[] = "9223372036854775808";
        if (dl > 19 || (dl == 19 && memcmp(s + st + neg, neg ? nlim : lim, 19) > 0)) return *i = st, "too big integer";
        *i = j;
        return NULL;
    }
    char small[64], *b = len < sizeof small ? small : malloc(len + 1);
    if (!b) return *i = st, tgx_json_oom;
    memcpy(b, s + st, len);
    b[len] = '\0';
    errno = 0;
    double v = strtod(b, NULL);
    int over = isinf(v) && errno == ERANGE;
    if (b != small) free(b);
    if (over) return *i = st, "real number overflow";
    if (dv) *dv = v;
    *i = j;
    return NULL;
}

const char *tgx_json_literal(const unsigned char *s, size_t n, size_t *i, int *what) {
    static const char *const w[3] = {"null", "false", "true"};
    static const size_t k[3] = {4, 5, 4};
    for (int t = 0; t < 3; t++) {
        if (n - *i >= k[t] && memcmp(s + *i, w[t], k[t]) == 0) {
            *i += k[t];
            *what = t - 1;
            return NULL;
        }
    }
    return "invalid token";
}
