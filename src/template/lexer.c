/*
 * template/lexer.c: template source -> tokens, exactly as @huggingface/jinja.
 *
 * Preprocessing, in this order, as the reference's `preprocess` does with
 * transformers' options (trim_blocks, lstrip_blocks):
 *   1. one trailing "\n" of the template is dropped;
 *   2. lstrip_blocks: spaces and tabs at the start of a line are removed
 *      before "{%", "{#" and "{-" (regex /^[ \t]*({[#%-])/gm);
 *   3. trim_blocks: a "\n" right after "%}", "#}" or "-}" is removed
 *      (regex /([#%-]})\n/g);
 *   4. {% generation %} / {% endgeneration %} tags vanish; the whitespace
 *      around one goes too only on the side marked with "-".
 * An offset map keeps each preprocessed byte's original position, so errors
 * name the line and column of the user's file.
 *
 * Tokens: outside tags, text runs up to "{{", "{%" or "{#". Inside, the
 * reference's ordered operator table, string literals with escapes
 * (\n \t \r \b \f \v \' \" \\ \xHH \uHHHH; any other escape is an error),
 * numbers (a sign directly before digits is part of the literal unless a value
 * precedes it), identifiers ([A-Za-z0-9_]+). "{%-" / "{{-" strip the
 * whitespace before (the previous text's trailing whitespace, JS \s), "-%}" /
 * "-}}" the whitespace after. "}}" closes an expression only outside braces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"
#include "util/utf8.h"

size_t tg__j_js_space(const char *s, size_t n) {
    if (n == 0) return 0;
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) return (c == ' ' || (c >= 0x09 && c <= 0x0D)) ? 1 : 0;
    uint32_t cp;
    size_t k = tgx_utf8_decode((const uint8_t *)s, n, &cp);
    if (!k) return 0;
    if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF)
        return k;
    return 0;
}

void tg__j_source_pos(const char *src, size_t len, size_t off, size_t *line, size_t *col) {
    size_t l = 1, c = 1;
    if (off > len) off = len;
    for (size_t i = 0; i < off; i++) {
        if (src[i] == '\n') { l++; c = 1; }
        else if (((unsigned char)src[i] & 0xC0) != 0x80) c++;
    }
    *line = l;
    *col = c;
}

/* A string with an offset map back into the original source. */
typedef struct pstr {
    char *p;
    size_t *map;
    size_t n;
} pstr;

static int is_line_start(const char *s, size_t i) {
    if (i == 0) return 1;
    unsigned char c = (unsigned char)s[i - 1];
    if (c == '\n' || c == '\r') return 1;
    /* U+2028 / U+2029 (E2 80 A8/A9) are line terminators for ^ in /m mode. */
    if (i >= 3 && (unsigned char)s[i - 3] == 0xE2 && (unsigned char)s[i - 2] == 0x80 &&
        (c == 0xA8 || c == 0xA9))
        return 1;
    return 0;
}

/* Step 2 and 3 and 4 each rewrite `in` into `out` (out has room for in.n). */
static void lstrip_blocks(const pstr *in, pstr *out) {
    size_t o = 0;
    for (size_t i = 0; i < in->n;) {
        if (is_line_start(in->p, i)) {
            size_t j = i;
            while (j < in->n && (in->p[j] == ' ' || in->p[j] == '\t')) j++;
            if (j > i && j + 1 < in->n && in->p[j] == '{' &&
                (in->p[j + 1] == '#' || in->p[j + 1] == '%' || in->p[j + 1] == '-')) {
                i = j; /* drop the indentation */
            }
        }
        /* Copy up to the next line start candidate. */
        out->p[o] = in->p[i];
        out->map[o] = in->map[i];
        o++;
        i++;
    }
    out->n = o;
}

static void trim_blocks(const pstr *in, pstr *out) {
    size_t o = 0;
    for (size_t i = 0; i < in->n; i++) {
        out->p[o] = in->p[i];
        out->map[o] = in->map[i];
        o++;
        if (in->p[i] == '}' && i > 0 && i + 1 < in->n && in->p[i + 1] == '\n' &&
            (in->p[i - 1] == '#' || in->p[i - 1] == '%' || in->p[i - 1] == '-')) {
            i++; /* skip the newline */
        }
    }
    out->n = o;
}

/* Matches {%-? \s* (end)?generation \s* -?%} at s[i..); returns its end or 0. */
static size_t generation_tag(const char *s, size_t n, size_t i, int *lstrip, int *rstrip) {
    size_t j = i;
    if (j + 2 > n || s[j] != '{' || s[j + 1] != '%') return 0;
    j += 2;
    *lstrip = 0;
    *rstrip = 0;
    if (j < n && s[j] == '-') { *lstrip = 1; j++; }
    size_t k;
    while ((k = tg__j_js_space(s + j, n - j)) > 0) j += k;
    if (j + 3 <= n && memcmp(s + j, "end", 3) == 0 && j + 13 <= n &&
        memcmp(s + j + 3, "generation", 10) == 0)
        j += 13;
    else if (j + 10 <= n && memcmp(s + j, "generation", 10) == 0)
        j += 10;
    else
        return 0;
    while ((k = tg__j_js_space(s + j, n - j)) > 0) j += k;
    if (j < n && s[j] == '-') { *rstrip = 1; j++; }
    if (j + 2 > n || s[j] != '%' || s[j + 1] != '}') return 0;
    return j + 2;
}

static void strip_generation(const pstr *in, pstr *out) {
    size_t o = 0;
    size_t ws_start = 0;  /* start (in `in`) of the whitespace run before i */
    size_t ws_out = 0;    /* where that run starts in `out` */
    int in_ws = 0;
    for (size_t i = 0; i < in->n;) {
        int ls, rs;
        size_t end = in->p[i] == '{' ? generation_tag(in->p, in->n, i, &ls, &rs) : 0;
        if (end) {
            if (ls && in_ws) o = ws_out; /* drop the whitespace before */
            (void)ws_start;
            i = end;
            size_t k;
            size_t after = i;
            while ((k = tg__j_js_space(in->p + after, in->n - after)) > 0) after += k;
            if (!rs) {
                for (size_t q = i; q < after; q++) {
                    out->p[o] = in->p[q];
                    out->map[o] = in->map[q];
                    o++;
                }
            }
            i = after;
            in_ws = 0; /* the next match's leading \s* cannot reach into this one */
            continue;
        }
        size_t k = tg__j_js_space(in->p + i, in->n - i);
        if (k) {
            if (!in_ws) { in_ws = 1; ws_start = i; ws_out = o; }
        } else {
            in_ws = 0;
            k = 1;
        }
        for (size_t q = 0; q < k; q++) {
            out->p[o] = in->p[i + q];
            out->map[o] = in->map[i + q];
            o++;
        }
        i += k;
    }
    out->n = o;
}

typedef struct lexer {
    const char *s;
    const size_t *map;
    size_t n;
    size_t pos;
    tg__j_arena *a;
    tg__j_tok *toks;
    size_t ntoks, cap;
    const char *orig;
    size_t origlen;
    tg_error *err;
} lexer;

static tg_status lex_fail(lexer *L, size_t pos, const char *what) {
    size_t off = pos < L->n ? L->map[pos] : L->origlen;
    size_t line, col;
    tg__j_source_pos(L->orig, L->origlen, off, &line, &col);
    return tg_error_set(L->err, TG_EINVAL, "template line %zu, column %zu: %s", line, col, what);
}

static tg_status push(lexer *L, int type, const char *p, size_t n, size_t pos) {
    if (L->ntoks == L->cap) {
        size_t cap = L->cap ? L->cap * 2 : 256;
        tg__j_tok *t = tg__j_arena_alloc(L->a, cap * sizeof *t);
        if (!t) return tg_error_set(L->err, TG_ENOMEM, "template: out of memory while lexing");
        if (L->ntoks) memcpy(t, L->toks, L->ntoks * sizeof *t);
        L->toks = t;
        L->cap = cap;
    }
    tg__j_tok *t = &L->toks[L->ntoks++];
    t->type = type;
    t->v.p = p;
    t->v.n = n;
    t->off = pos < L->n ? L->map[pos] : L->origlen;
    return TG_OK;
}

static int last_type(const lexer *L) { return L->ntoks ? L->toks[L->ntoks - 1].type : -1; }

static void strip_trailing_ws(lexer *L) {
    if (!L->ntoks || L->toks[L->ntoks - 1].type != TK_TEXT) return;
    tg__j_tok *t = &L->toks[L->ntoks - 1];
    size_t n = t->v.n;
    while (n > 0) {
        size_t j = n - 1;
        while (j > 0 && ((unsigned char)t->v.p[j] & 0xC0) == 0x80) j--;
        if (tg__j_js_space(t->v.p + j, n - j) == n - j) n = j;
        else break;
    }
    t->v.n = n;
    if (n == 0) L->ntoks--;
}

static void skip_ws(lexer *L) {
    size_t k;
    while (L->pos < L->n && (k = tg__j_js_space(L->s + L->pos, L->n - L->pos)) > 0) L->pos += k;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A string literal body up to `q`; the reference's consumeWhile. */
static tg_status lex_string(lexer *L, char q) {
    size_t start = L->pos - 1;
    tgx_buf b;
    tgx_buf_init(&b, L->n + 8);
    tg_status st = TG_OK;
    while (L->pos < L->n && L->s[L->pos] != q) {
        char c = L->s[L->pos];
        if (c == '\\') {
            L->pos++;
            if (L->pos >= L->n) { st = lex_fail(L, start, "Unexpected end of input"); goto done; }
            char e = L->s[L->pos++];
            if (e == 'x' || e == 'u') {
                size_t len = e == 'x' ? 2 : 4;
                uint32_t cp = 0;
                if (L->pos + len > L->n) { st = lex_fail(L, L->pos, "Invalid hexadecimal escape sequence"); goto done; }
                for (size_t i = 0; i < len; i++) {
                    int h = hexval(L->s[L->pos + i]);
                    if (h < 0) { st = lex_fail(L, L->pos, "Invalid hexadecimal escape sequence"); goto done; }
                    cp = cp * 16 + (uint32_t)h;
                }
                L->pos += len;
                char enc[4];
                size_t k = tgx_utf8_encode(cp, enc);
                if (!k) k = tgx_utf8_encode(0xFFFD, enc); /* lone surrogate */
                if (tgx_buf_append(&b, enc, k)) { st = tg_error_set(L->err, TG_ENOMEM, "template: out of memory"); goto done; }
                continue;
            }
            char u;
            switch (e) {
            case 'n': u = '\n'; break;
            case 't': u = '\t'; break;
            case 'r': u = '\r'; break;
            case 'b': u = '\b'; break;
            case 'f': u = '\f'; break;
            case 'v': u = '\v'; break;
            case '\'': u = '\''; break;
            case '"': u = '"'; break;
            case '\\': u = '\\'; break;
            default: {
                char msg[64];
                snprintf(msg, sizeof msg, "Unexpected escaped character: %c", e);
                st = lex_fail(L, L->pos - 2, msg);
                goto done;
            }
            }
            if (tgx_buf_putc(&b, u)) { st = tg_error_set(L->err, TG_ENOMEM, "template: out of memory"); goto done; }
            continue;
        }
        if (tgx_buf_putc(&b, c)) { st = tg_error_set(L->err, TG_ENOMEM, "template: out of memory"); goto done; }
        L->pos++;
        if (L->pos >= L->n) { st = lex_fail(L, start, "Unexpected end of input (unterminated string)"); goto done; }
    }
    if (L->pos >= L->n) { st = lex_fail(L, start, "Unexpected end of input (unterminated string)"); goto done; }
    {
        char *p = tg__j_arena_dup(L->a, b.data ? b.data : "", b.len);
        if (!p) { st = tg_error_set(L->err, TG_ENOMEM, "template: out of memory"); goto done; }
        st = push(L, TK_STR, p, b.len, start);
        L->pos++; /* closing quote */
    }
done:
    tgx_buf_free(&b);
    return st;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_word(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Digits from pos; the reference's consumeWhile throws when they reach the end. */
static tg_status digits(lexer *L, size_t *end) {
    while (L->pos < L->n && is_digit(L->s[L->pos])) {
        L->pos++;
        if (L->pos >= L->n) return lex_fail(L, L->pos - 1, "Unexpected end of input");
    }
    *end = L->pos;
    return TG_OK;
}

static const struct { const char *seq; int type; } OPS[] = {
    {"{%", TK_OPEN_STMT}, {"%}", TK_CLOSE_STMT}, {"{{", TK_OPEN_EXPR}, {"}}", TK_CLOSE_EXPR},
    {"(", TK_LPAREN}, {")", TK_RPAREN}, {"{", TK_LBRACE}, {"}", TK_RBRACE},
    {"[", TK_LBRACKET}, {"]", TK_RBRACKET}, {",", TK_COMMA}, {".", TK_DOT}, {":", TK_COLON},
    {"|", TK_PIPE}, {"<=", TK_CMP}, {">=", TK_CMP}, {"==", TK_CMP}, {"!=", TK_CMP},
    {"<", TK_CMP}, {">", TK_CMP}, {"+", TK_ADD}, {"-", TK_ADD}, {"~", TK_ADD},
    {"**", TK_POW}, {"*", TK_MUL}, {"//", TK_MUL}, {"/", TK_MUL}, {"%", TK_MUL},
    {"=", TK_EQUALS},
};

static tg_status tokenize(lexer *L) {
    tg_status st;
    int depth = 0; /* curly bracket depth */
    while (L->pos < L->n) {
        int lt = last_type(L);
        if (lt == -1 || lt == TK_CLOSE_STMT || lt == TK_CLOSE_EXPR || lt == TK_COMMENT) {
            size_t start = L->pos;
            while (L->pos < L->n &&
                   !(L->s[L->pos] == '{' && L->pos + 1 < L->n &&
                     (L->s[L->pos + 1] == '%' || L->s[L->pos + 1] == '{' || L->s[L->pos + 1] == '#')))
                L->pos++;
            if (L->pos > start) {
                if ((st = push(L, TK_TEXT, L->s + start, L->pos - start, start))) return st;
                continue;
            }
        }
        const char *s = L->s;
        size_t p = L->pos, n = L->n;
        if (p + 1 < n && s[p] == '{' && s[p + 1] == '#') {
            size_t start = p;
            p += 2;
            int strip_before = p < n && s[p] == '-';
            if (strip_before) p++;
            size_t cstart = p;
            while (!(p + 1 < n && s[p] == '#' && s[p + 1] == '}')) {
                if (p + 2 >= n) return lex_fail(L, start, "Missing end of comment tag");
                p++;
            }
            size_t cend = p;
            int strip_after = cend > cstart && s[cend - 1] == '-';
            if (strip_after) cend--;
            if (strip_before) strip_trailing_ws(L);
            if ((st = push(L, TK_COMMENT, s + cstart, cend - cstart, start))) return st;
            L->pos = p + 2;
            if (strip_after) skip_ws(L);
            continue;
        }
        if (p + 2 < n && s[p] == '{' && s[p + 1] == '%' && s[p + 2] == '-') {
            strip_trailing_ws(L);
            if ((st = push(L, TK_OPEN_STMT, "{%", 2, p))) return st;
            L->pos += 3;
            continue;
        }
        if (p + 2 < n && s[p] == '{' && s[p + 1] == '{' && s[p + 2] == '-') {
            strip_trailing_ws(L);
            if ((st = push(L, TK_OPEN_EXPR, "{{", 2, p))) return st;
            depth = 0;
            L->pos += 3;
            continue;
        }
        /* consumeWhile(isWhitespace): reaching the end inside a tag is an error. */
        {
            size_t k;
            while (L->pos < n && (k = tg__j_js_space(s + L->pos, n - L->pos)) > 0) {
                L->pos += k;
                if (L->pos >= n) return lex_fail(L, L->pos - k, "Unexpected end of input");
            }
        }
        p = L->pos;
        if (p + 2 < n && s[p] == '-' && s[p + 1] == '%' && s[p + 2] == '}') {
            if ((st = push(L, TK_CLOSE_STMT, "%}", 2, p))) return st;
            L->pos += 3;
            skip_ws(L);
            continue;
        }
        if (p + 2 < n && s[p] == '-' && s[p + 1] == '}' && s[p + 2] == '}') {
            if ((st = push(L, TK_CLOSE_EXPR, "}}", 2, p))) return st;
            L->pos += 3;
            skip_ws(L);
            continue;
        }
        char c = s[p];
        if (c == '-' || c == '+') {
            lt = last_type(L);
            if (lt == TK_TEXT || lt == -1) {
                char msg[40];
                snprintf(msg, sizeof msg, "Unexpected character: %c", c);
                return lex_fail(L, p, msg);
            }
            if (!(lt == TK_IDENT || lt == TK_NUM || lt == TK_STR || lt == TK_RPAREN || lt == TK_RBRACKET)) {
                L->pos++;
                size_t dstart = L->pos, dend = 0;
                if ((st = digits(L, &dend))) return st;
                if (dend > dstart && L->pos + 1 < n && s[L->pos] == '.' && is_digit(s[L->pos + 1])) {
                    L->pos++;
                    if ((st = digits(L, &dend))) return st;
                }
                if (dend > dstart) {
                    if ((st = push(L, TK_NUM, s + p, dend - p, p))) return st;
                } else {
                    if ((st = push(L, TK_UNARY, s + p, 1, p))) return st;
                }
                continue;
            }
        }
        int matched = 0;
        for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
            size_t l = strlen(OPS[i].seq);
            if (OPS[i].type == TK_CLOSE_EXPR && depth > 0) continue;
            if (p + l <= n && memcmp(s + p, OPS[i].seq, l) == 0) {
                if ((st = push(L, OPS[i].type, s + p, l, p))) return st;
                if (OPS[i].type == TK_OPEN_EXPR) depth = 0;
                else if (OPS[i].type == TK_LBRACE) depth++;
                else if (OPS[i].type == TK_RBRACE) depth--;
                L->pos += l;
                matched = 1;
                break;
            }
        }
        if (matched) continue;
        if (c == '\'' || c == '"') {
            L->pos++;
            if ((st = lex_string(L, c))) return st;
            continue;
        }
        if (is_digit(c)) {
            size_t dend = 0;
            if ((st = digits(L, &dend))) return st;
            if (last_type(L) != TK_DOT && L->pos + 1 < n && s[L->pos] == '.' && is_digit(s[L->pos + 1])) {
                L->pos++;
                if ((st = digits(L, &dend))) return st;
            }
            if ((st = push(L, TK_NUM, s + p, dend - p, p))) return st;
            continue;
        }
        if (is_word(c)) {
            while (L->pos < n && is_word(s[L->pos])) {
                L->pos++;
                if (L->pos >= n) return lex_fail(L, p, "Unexpected end of input");
            }
            if ((st = push(L, TK_IDENT, s + p, L->pos - p, p))) return st;
            continue;
        }
        {
            char msg[48];
            uint32_t cp = (unsigned char)c;
            if (cp >= 0x80) tgx_utf8_decode((const uint8_t *)s + p, n - p, &cp);
            snprintf(msg, sizeof msg, "Unexpected character: U+%04X", (unsigned)cp);
            if (cp >= 0x21 && cp < 0x7F) snprintf(msg, sizeof msg, "Unexpected character: %c", c);
            return lex_fail(L, p, msg);
        }
    }
    return TG_OK;
}

tg_status tg__j_lex(const char *src, size_t len, tg__j_arena *a, tg__j_tok **toks, size_t *ntoks,
                  tg_error *err) {
    if (len > TG_TEMPLATE_MAX_SOURCE)
        return tg_error_set(err, TG_ELIMIT, "template of %zu bytes exceeds the %u-byte limit", len,
                            TG_TEMPLATE_MAX_SOURCE);
    pstr x, y;
    size_t cap = len + 1;
    x.p = tg__j_arena_alloc(a, cap);
    y.p = tg__j_arena_alloc(a, cap);
    x.map = tg__j_arena_alloc(a, cap * sizeof(size_t));
    y.map = tg__j_arena_alloc(a, cap * sizeof(size_t));
    if (!x.p || !y.p || !x.map || !y.map) return tg_error_set(err, TG_ENOMEM, "template: out of memory");
    size_t n = len;
    if (n > 0 && src[n - 1] == '\n') n--;
    memcpy(x.p, src, n);
    for (size_t i = 0; i < n; i++) x.map[i] = i;
    x.n = n;
    lstrip_blocks(&x, &y);
    trim_blocks(&y, &x);
    strip_generation(&x, &y);
    lexer L;
    memset(&L, 0, sizeof L);
    L.s = y.p;
    L.map = y.map;
    L.n = y.n;
    L.a = a;
    L.orig = src;
    L.origlen = len;
    L.err = err;
    tg_status st = tokenize(&L);
    if (st) return st;
    *toks = L.toks;
    *ntoks = L.ntoks;
    return TG_OK;
}
