/*
 * json_scan.c: strict JSON scanning and the vocab/merges decoders; see
 * json_scan.h. Every error names the byte offset.
 *
 * Speed is the point of this file: model.vocab and model.merges are nearly all
 * of a tokenizer.json (Qwen3: 11 MB, pretty-printed, 151K tokens and 151K
 * merges), and HF's own loader takes ~0.5 s over them. So:
 *  - whitespace runs and string bodies are scanned 8 bytes at a time on
 *    little-endian GCC/Clang targets (SWAR: one word tells whether any of its
 *    bytes is a space, or is '"', '\\', a control byte or non-ASCII); other
 *    targets take the byte loop, with identical results;
 *  - non-ASCII is validated as strict UTF-8 in place (2-byte sequences, the
 *    byte-level alphabet's, by a direct test);
 *  - each decoded item is written once, into its final home: vocabulary
 *    strings into the tg__strtab the BPE model keeps (no index yet: the model
 *    builds it), merges as 16-byte offset records pointing into the document
 *    itself; only a string holding an escape is decoded into a pool;
 *  - in a large document (1 MiB or more) the merges are decoded beside the
 *    walk when the program installed a runner (tokgate/runner.h: the
 *    library starts no thread of its own), while this thread walks
 *    everything before them: it finds the first
 *    `"merges"` key whose value is an array and runs the same merges()
 *    there. The walk adopts that result only when it reaches model.merges at
 *    exactly that offset (the same bytes through the same function give the
 *    same records); otherwise, or when the guess failed, it decodes the
 *    merges itself, so the answer and every error are the single-thread
 *    ones. While it waits, this thread builds the vocabulary's index (the
 *    one the BPE model would build next; it keeps it).
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/json_scan.h"
#include "util/buf.h"
#include "util/runner.h"
#include "util/utf8.h"

#define MAX_DEPTH 512
#define MAX_DOC_BYTES 0x7FFFFFFFu /* merge records hold 31-bit offsets */

/* The merges decoded ahead beside the walk (see the top comment). */
typedef struct spec_merges {
    void *th;              /* the runner's handle */
    int started, joined;
    const char *s;
    size_t n;
    size_t start, end;     /* the array's '[' and the offset after it */
    tg_status st;          /* TG_OK: refs/count/pool hold the result; else nothing usable */
    tg__merge_ref *refs;
    size_t count;
    char *pool;
    tg_error err;
} spec_merges;

typedef struct scan {
    const char *s;
    size_t n, i;
    tg_error *err;
    const char *doc;       /* the document's name in errors ("tokenizer.json"), or NULL */
    const char *key;       /* tg__json_top_span: the top-level key looked for */
    size_t key_len, key_start, key_end;
    spec_merges *spec;     /* tg__json_locate on a large document, else NULL */
} scan;

static tg_status fail(scan *c, const char *what) {
    return tg_error_set(c->err, TG_ECORRUPT, "%s%snot valid JSON: %s at byte offset %zu", c->doc ? c->doc : "",
                        c->doc ? " is " : "", what, c->i);
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR 1
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
static inline uint64_t load8(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}
/* The high bit of each zero byte of w. A borrow can also flag a byte above a
 * zero byte, never one below it, so the lowest flag (all that is used) is
 * exact. */
static inline uint64_t zero_bytes(uint64_t w) { return (w - ONES) & ~w & HIGHS; }
/* The high bit of each nonzero byte of w (exact: no carry crosses bytes). */
static inline uint64_t nonzero_bytes(uint64_t v) { return (((v & ~HIGHS) + ~HIGHS) | v) & HIGHS; }
#endif

/* Skips whitespace. Pretty-printed files put a newline and an indent run
 * between entries (one word at a time here, most runs fitting one word);
 * compact ones nothing (ws() returns at once). */
static inline __attribute__((always_inline)) void ws_run(scan *c) {
    const char *s = c->s;
    size_t i = c->i, n = c->n;
#ifdef SWAR
    while (i + 8 <= n) {
        uint64_t w = load8(s + i);
        uint64_t m = nonzero_bytes(w ^ (ONES * ' ')) & nonzero_bytes(w ^ (ONES * '\n')) &
                     nonzero_bytes(w ^ (ONES * '\r')) & nonzero_bytes(w ^ (ONES * '\t'));
        if (m) {
            c->i = i + ((size_t)__builtin_ctzll(m) >> 3);
            return;
        }
        i += 8;
    }
#endif
    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
    c->i = i;
}

/* c->s holds c->n > c->i bytes here; the analyzer, reading raw_string's
 * "p == NULL: decoded" as c->s == NULL, does not see that. */
static inline void ws(scan *c) {
    if (c->i < c->n && (unsigned char)c->s[c->i] > ' ') return; // NOLINT(clang-analyzer-core.NullDereference): see above
    ws_run(c);
}

static int hex4(const char *p, unsigned *v) {
    unsigned x = 0;
    for (int k = 0; k < 4; k++) {
        char ch = p[k];
        unsigned d;
        if (ch >= '0' && ch <= '9') d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') d = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') d = (unsigned)(ch - 'A' + 10);
        else return 0;
        x = x * 16 + d;
    }
    *v = x;
    return 1;
}

/* Scans a string at c->i (the opening quote); appends the decoded bytes to
 * out when out != NULL. */
static tg_status string(scan *c, tgx_buf *out) {
    if (c->i >= c->n || c->s[c->i] != '"') return fail(c, "expected a string");
    c->i++;
    size_t run = c->i;
    for (;;) {
        if (c->i >= c->n) return fail(c, "unterminated string");
        unsigned char ch = (unsigned char)c->s[c->i];
        if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
            c->i++;
            while (c->i < c->n) {
                unsigned char d = (unsigned char)c->s[c->i];
                if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
                c->i++;
            }
            continue;
        }
        if (ch == '"') {
            if (out && tgx_buf_append(out, c->s + run, c->i - run)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
            c->i++;
            return TG_OK;
        }
        if (ch < 0x20) return fail(c, "control character in a string");
        if (ch >= 0xC2 && ch <= 0xDF && c->i + 1 < c->n && ((unsigned char)c->s[c->i + 1] & 0xC0) == 0x80) {
            c->i += 2; /* a valid 2-byte sequence */
            continue;
        }
        if (ch >= 0x80) {
            uint32_t cp;
            size_t l = tgx_utf8_decode((const uint8_t *)c->s + c->i, c->n - c->i, &cp);
            if (!l) return fail(c, "invalid UTF-8 in a string");
            c->i += l;
            continue;
        }
        if (ch != '\\') { c->i++; continue; }
        if (out && tgx_buf_append(out, c->s + run, c->i - run)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
        if (c->i + 1 >= c->n) return fail(c, "unterminated escape");
        char e = c->s[c->i + 1];
        char lit = 0;
        switch (e) {
        case '"': lit = '"'; break;
        case '\\': lit = '\\'; break;
        case '/': lit = '/'; break;
        case 'b': lit = '\b'; break;
        case 'f': lit = '\f'; break;
        case 'n': lit = '\n'; break;
        case 'r': lit = '\r'; break;
        case 't': lit = '\t'; break;
        case 'u': {
            unsigned v, w;
            if (c->i + 6 > c->n || !hex4(c->s + c->i + 2, &v)) return fail(c, "bad \\u escape");
            c->i += 6;
            if (v >= 0xDC00 && v <= 0xDFFF) return fail(c, "lone low surrogate");
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (c->i + 6 > c->n || c->s[c->i] != '\\' || c->s[c->i + 1] != 'u' || !hex4(c->s + c->i + 2, &w) ||
                    w < 0xDC00 || w > 0xDFFF)
                    return fail(c, "lone high surrogate");
                c->i += 6;
                v = 0x10000 + ((v - 0xD800) << 10) + (w - 0xDC00);
            }
            if (out) {
                char enc[4];
                size_t l = tgx_utf8_encode(v, enc);
                if (tgx_buf_append(out, enc, l)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
            }
            run = c->i;
            continue;
        }
        default: return fail(c, "bad escape");
        }
        if (out && tgx_buf_putc(out, lit)) return tg_error_set(c->err, TG_ENOMEM, "out of memory");
        c->i += 2;
        run = c->i;
    }
}

/* 1 when p[0..n) is strict UTF-8 (no overlongs, surrogates, or code points
 * above U+10FFFF). */
static int utf8_ok(const char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char ch = (unsigned char)p[i];
        if (ch < 0x80) {
            i++;
        } else if (ch >= 0xC2 && ch <= 0xDF && i + 1 < n && ((unsigned char)p[i + 1] & 0xC0) == 0x80) {
            i += 2;
        } else {
            uint32_t cp;
            size_t l = tgx_utf8_decode((const uint8_t *)p + i, n - i, &cp);
            if (!l) return 0;
            i += l;
        }
    }
    return 1;
}

#ifdef SWAR
/* Strict UTF-8 check of s[i..e) a word at a time, for text whose non-ASCII
 * characters have 2 or 3 bytes (the byte-level and SentencePiece alphabets,
 * CJK). 1: valid; 0: invalid, or it cannot tell (a 4-byte character, an E0/ED
 * lead ending a word, a word past the end of the document): the caller then
 * walks the text with utf8_ok. Per word, with the high bit of each byte as
 * its flag: leads must be C2..DF or E0..EF, continuation bytes exactly the
 * bytes that follow a lead (the count carried into the next word), and the
 * byte after E0 in A0..BF, after ED in 80..9F (no overlongs, no surrogates). */
static inline int utf8_words(const char *s, size_t i, size_t e, size_t n) {
    uint64_t carry = 0;
    for (size_t k = i; k < e; k += 8) {
        if (k + 8 > n) return 0;
        uint64_t w = load8(s + k);
        if (e - k < 8) { /* bytes past the text read as 'a' */
            uint64_t keep = (1ull << (8 * (e - k))) - 1; /* the low e - k bytes */
            w = (w & keep) | (ONES * 'a' & ~keep);
        }
        uint64_t w1 = w << 1, w2 = w << 2, w3 = w << 3; /* bits 6, 5, 4 of each byte at its bit 7 */
        uint64_t hi = w & HIGHS, cont = hi & ~w1, lead = hi & w1;
        uint64_t l2 = lead & ~w2 & nonzero_bytes(w & (ONES * 0x1E)); /* C2..DF */
        uint64_t l3 = lead & w2 & ~w3;                                /* E0..EF */
        uint64_t e0 = ~nonzero_bytes(w ^ (ONES * 0xE0)) & HIGHS, ed = ~nonzero_bytes(w ^ (ONES * 0xED)) & HIGHS;
        if (lead != (l2 | l3) || cont != ((l2 << 8) | (l3 << 8) | (l3 << 16) | carry) || (e0 | ed) >> 56 ||
            (w2 & (e0 << 8)) != (e0 << 8) || (w2 & (ed << 8)))
            return 0;
        carry = (l2 >> 56) | (l3 >> 56) | (l3 >> 48);
    }
    return carry == 0;
}

/* Flags (presence exact) of backslashes and control bytes in w. */
static inline uint64_t stop_bytes(uint64_t w) {
    return zero_bytes(w ^ (ONES * '\\')) | ((w - ONES * 0x20) & ~w & HIGHS);
}
#endif

/* Validates the string at c->i (its opening quote) without decoding it: on
 * success c->i is past the closing quote. When the string needs the full
 * path (it holds a backslash, or it is bad: the full path names the fault),
 * *esc is set and c->i is left at the opening quote for string().
 *
 * The closing quote is found first (memchr: a quote inside a body can only
 * follow a backslash, which sends the string to string() anyway), then the
 * body is tested a word at a time for backslashes, control bytes and
 * non-ASCII; only a non-ASCII body is walked, to validate its UTF-8. */
static inline void skim(scan *c, int *esc) {
    const char *s = c->s;
    size_t n = c->n, i = c->i + 1;
    const char *q = i < n ? memchr(s + i, '"', n - i) : NULL;
    *esc = 1;
    if (!q) return;
    size_t e = (size_t)(q - s), len = e - i;
    uint64_t stop = 0, high = 0;
#ifdef SWAR
    if (len >= 8) {
        size_t k = i;
        for (; k + 8 < e; k += 8) {
            uint64_t w = load8(s + k);
            stop |= stop_bytes(w);
            high |= w & HIGHS;
        }
        uint64_t w = load8(s + e - 8); /* the last word, overlapping */
        stop |= stop_bytes(w);
        high |= w & HIGHS;
    } else if (len && i + 8 <= n) {
        uint64_t keep = ~0ull >> (8 * (8 - len)); /* bytes past the body read as 'a' */
        uint64_t w = (load8(s + i) & keep) | (ONES * 'a' & ~keep);
        stop = stop_bytes(w);
        high = w & HIGHS;
    } else
#endif
    {
        for (size_t k = i; k < e; k++) {
            unsigned char ch = (unsigned char)s[k];
            stop |= ch < 0x20 || ch == '\\';
            high |= ch & 0x80;
        }
    }
#ifdef SWAR
    if (stop || (high && !utf8_words(s, i, e, n) && !utf8_ok(s + i, len))) return;
#else
    if (stop || (high && !utf8_ok(s + i, len))) return;
#endif
    *esc = 0;
    c->i = e + 1;
}

/* Validates (skips) the string at c->i. */
static tg_status skip_string(scan *c) {
    if (c->i >= c->n || c->s[c->i] != '"') return fail(c, "expected a string");
    int esc;
    skim(c, &esc);
    return esc ? string(c, NULL) : TG_OK;
}

/* A string at c->i: when it holds no escape, *p and *n point into the source
 * (nothing copied); otherwise it is decoded onto the end of out, *p is NULL
 * and *n the decoded length. */
static tg_status raw_string(scan *c, tgx_buf *out, const char **p, size_t *n) {
    if (c->i >= c->n || c->s[c->i] != '"') return fail(c, "expected a string");
    size_t st0 = c->i + 1, before = out->len;
    int esc;
    tg_status st;
    skim(c, &esc);
    if (!esc) {
        *p = c->s + st0;
        *n = c->i - 1 - st0;
        return TG_OK;
    }
    if ((st = string(c, out))) return st;
    *p = NULL;
    *n = out->len - before;
    return TG_OK;
}

static tg_status number(scan *c, long long *val, int *is_int) {
    size_t st = c->i;
    int integer = 1;
    if (c->i < c->n && c->s[c->i] == '-') c->i++;
    if (c->i >= c->n) return fail(c, "bad number");
    if (c->s[c->i] == '0') c->i++;
    else if (c->s[c->i] >= '1' && c->s[c->i] <= '9') while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    else return fail(c, "bad number");
    if (c->i < c->n && c->s[c->i] == '.') {
        integer = 0;
        c->i++;
        if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9') return fail(c, "bad number");
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        integer = 0;
        c->i++;
        if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-')) c->i++;
        if (c->i >= c->n || c->s[c->i] < '0' || c->s[c->i] > '9') return fail(c, "bad number");
        while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') c->i++;
    }
    if (val) {
        *is_int = 0;
        if (integer && c->s[st] != '-' && c->i - st <= 12) {
            long long v = 0;
            for (size_t k = st; k < c->i; k++) v = v * 10 + (c->s[k] - '0');
            *val = v;
            *is_int = 1;
        }
    }
    return TG_OK;
}

static tg_status literal(scan *c, const char *w) {
    size_t l = strlen(w);
    if (c->n - c->i < l || memcmp(c->s + c->i, w, l) != 0) return fail(c, "unexpected character");
    c->i += l;
    return TG_OK;
}

/* model.vocab at c->i, decoded into t: t->count = largest id + 1, an id given
 * no token has len UINT32_MAX, strings are copied into t->pool (escapes
 * decoded). Not indexed (tg__bpe_build does it). The same token given the
 * same id twice is accepted; two tokens for one id are refused here, one
 * token under two ids by the index. */
static tg_status vocab(scan *c, tg__strtab *t) {
    const char *s = c->s;
    size_t n = c->n, cap = 0, entries = 0;
    uint32_t count = 0;
    tg__strent *ent = NULL;
    tgx_buf pool;
    tgx_buf_init(&pool, UINT32_MAX);
    tg_status st = TG_OK;
    ws(c);
    if (c->i >= n || s[c->i] != '{') return fail(c, "model \"vocab\" must be an object");
    c->i++;
    ws(c);
    if (c->i < n && s[c->i] == '}') c->i++;
    else for (;;) {
        ws(c);
        const char *p;
        size_t l, before = pool.len;
        if ((st = raw_string(c, &pool, &p, &l))) goto out;
        if (l > TG__MAX_TOKEN_BYTES) {
            st = tg_error_set(c->err, TG_ELIMIT, "vocab token before byte offset %zu is %zu bytes, above the %u-byte limit",
                              c->i, l, (unsigned)TG__MAX_TOKEN_BYTES);
            goto out;
        }
        ws(c);
        if (c->i >= n || s[c->i] != ':') { st = fail(c, "expected ':'"); goto out; }
        c->i++;
        ws(c);
        long long v = 0;
        int is_int = 0;
        size_t at = c->i, j = at;
        /* the usual id (1-8 digits, no fraction or exponent) read here; any
         * other number through number(), which validates and reports it */
        if (j < n && s[j] >= '1' && s[j] <= '9') {
            uint32_t d = 0;
            do d = d * 10 + (uint32_t)(s[j++] - '0');
            while (j < n && j - at < 8 && s[j] >= '0' && s[j] <= '9');
            v = d;
        } else if (j < n && s[j] == '0') {
            j++;
        }
        if (j > at && (j >= n || (s[j] != '.' && s[j] != 'e' && s[j] != 'E' && (s[j] < '0' || s[j] > '9')))) {
            is_int = 1;
            c->i = j;
        } else if ((st = number(c, &v, &is_int))) {
            goto out;
        }
        if (!is_int || v >= (long long)TG__MAX_VOCAB) {
            st = tg_error_set(c->err, TG_ECORRUPT, "vocab id at byte offset %zu must be an integer in [0, %u)", at,
                              (unsigned)TG__MAX_VOCAB);
            goto out;
        }
        uint32_t id = (uint32_t)v;
        if (id >= cap) {
            size_t nc = cap ? cap * 2 : 4096;
            while (nc <= id) nc *= 2;
            tg__strent *g = realloc(ent, nc * sizeof *g);
            if (!g) goto oom;
            ent = g;
            cap = nc;
        }
        if (id >= count) {
            for (uint32_t k = count; k < id; k++) ent[k].len = UINT32_MAX;
            count = id + 1;
        } else if (ent[id].len != UINT32_MAX) {
            const char *q = p ? p : pool.data + before;
            if (ent[id].len != l || (l && memcmp(pool.data + ent[id].off, q, l) != 0)) {
                st = tg_error_set(c->err, TG_ECORRUPT, "vocab id %u is given to two tokens", (unsigned)id);
                goto out;
            }
            pool.len = before; /* the same entry again */
            goto next;
        }
        if (p) {
            if (l >= pool.cap - pool.len && (st = tgx_buf_reserve(&pool, l))) {
                if (st == TG_ENOMEM) goto oom;
                st = tg_error_set(c->err, TG_ELIMIT, "vocabulary strings exceed 4 GiB");
                goto out;
            }
            if (pool.len + l > pool.max) {
                st = tg_error_set(c->err, TG_ELIMIT, "vocabulary strings exceed 4 GiB");
                goto out;
            }
            memcpy(pool.data + pool.len, p, l);
            pool.len += l;
        }
        ent[id].off = (uint32_t)before;
        ent[id].len = (uint32_t)l;
        if (++entries > TG__MAX_VOCAB) {
            st = tg_error_set(c->err, TG_ELIMIT, "vocabulary exceeds %u entries", (unsigned)TG__MAX_VOCAB);
            goto out;
        }
    next:
        ws(c);
        if (c->i < n && s[c->i] == ',') { c->i++; continue; }
        if (c->i < n && s[c->i] == '}') { c->i++; break; }
        st = fail(c, "expected ',' or '}'");
        goto out;
    }
    memset(t, 0, sizeof *t);
    t->count = count;
    t->ent = ent;
    t->pool_len = pool.len;
    t->pool_cap = pool.cap;
    t->pool = pool.data ? tgx_buf_detach(&pool, NULL) : malloc(1);
    if (!t->pool) {
        memset(t, 0, sizeof *t);
        goto oom;
    }
    return TG_OK;
oom:
    st = tg_error_set(c->err, TG_ENOMEM, "out of memory reading the vocabulary");
out:
    free(ent);
    tgx_buf_free(&pool);
    return st;
}

/* The record of a string just read by raw_string (p == NULL: decoded at
 * before in pool). */
static uint32_t ref_of(const scan *c, const char *p, size_t before) {
    return p ? (uint32_t)(p - c->s) : (uint32_t)before | TG__MERGE_POOL;
}

/* model.merges at c->i: "a b" strings ("#version" lines skipped, as HF does)
 * or [a, b] pairs, as records into the document or pool (which must start
 * empty; its ceiling keeps pool offsets below TG__MERGE_POOL). */
static tg_status merges(scan *c, tg__merge_ref **out, size_t *count, tgx_buf *pool) {
    const char *s = c->s;
    size_t n = c->n, k = 0, cap = 0;
    tg__merge_ref *r = NULL;
    tg_status st = TG_OK;
    ws(c);
    if (c->i >= n || s[c->i] != '[') return fail(c, "model \"merges\" must be an array");
    c->i++;
    ws(c);
    if (c->i < n && s[c->i] == ']') c->i++;
    else for (;;) {
        ws(c);
        if (k == cap) {
            size_t nc = cap ? cap * 2 : 4096;
            tg__merge_ref *g = realloc(r, nc * sizeof *g);
            if (!g) goto oom;
            r = g;
            cap = nc;
        }
        size_t at = c->i, before = pool->len;
        const char *p;
        size_t l;
        if (c->i < n && s[c->i] == '"') {
            if ((st = raw_string(c, pool, &p, &l))) goto out;
            const char *m = p ? p : pool->data + before;
            if (l >= 8 && memcmp(m, "#version", 8) == 0) {
                pool->len = before;
                goto next;
            }
            const char *sp = l ? memchr(m, ' ', l) : NULL;
            if (!sp || memchr(sp + 1, ' ', l - (size_t)(sp + 1 - m))) {
                st = tg_error_set(c->err, TG_ECORRUPT, "merge %zu at byte offset %zu must be two tokens separated by one space",
                                  k + 1, at);
                goto out;
            }
            uint32_t ll = (uint32_t)(sp - m), base = ref_of(c, p, before);
            r[k].l = base;
            r[k].ln = ll;
            r[k].r = base + ll + 1;
            r[k].rn = (uint32_t)l - ll - 1;
        } else if (c->i < n && s[c->i] == '[') {
            c->i++;
            ws(c);
            if ((st = raw_string(c, pool, &p, &l))) goto out;
            r[k].l = ref_of(c, p, before);
            r[k].ln = (uint32_t)l;
            ws(c);
            if (c->i >= n || s[c->i] != ',') { st = tg_error_set(c->err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a pair of strings", k, at); goto out; }
            c->i++;
            ws(c);
            before = pool->len;
            if ((st = raw_string(c, pool, &p, &l))) goto out;
            r[k].r = ref_of(c, p, before);
            r[k].rn = (uint32_t)l;
            ws(c);
            if (c->i >= n || s[c->i] != ']') { st = tg_error_set(c->err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a pair of strings", k, at); goto out; }
            c->i++;
        } else {
            st = tg_error_set(c->err, TG_ECORRUPT, "merge %zu at byte offset %zu must be a string or a pair of strings", k, c->i);
            goto out;
        }
        if (++k > TG__MAX_MERGES) { st = tg_error_set(c->err, TG_ELIMIT, "more than %u merges", (unsigned)TG__MAX_MERGES); goto out; }
    next:
        ws(c);
        if (c->i < n && s[c->i] == ',') { c->i++; continue; }
        if (c->i < n && s[c->i] == ']') { c->i++; break; }
        st = fail(c, "expected ',' or ']'");
        goto out;
    }
    *out = r;
    *count = k;
    return TG_OK;
oom:
    st = tg_error_set(c->err, TG_ENOMEM, "out of memory reading the merges");
out:
    free(r);
    return st;
}

/* Skips (validating) one value. role 1: the top-level object; role 2: the
 * top-level "model" object, whose "vocab" and "merges" are decoded into sp
 * instead of skipped; role 3: a top-level object whose key c->key has its
 * value's span recorded (tg__json_top_span). */
static tg_status value(scan *c, int depth, int role, tg__json_spans *sp) {
    tg_status st;
    if (depth > MAX_DEPTH) return tg_error_set(c->err, TG_ELIMIT, "tokenizer.json nests deeper than %d at byte offset %zu", MAX_DEPTH, c->i);
    ws(c);
    if (c->i >= c->n) return fail(c, "unexpected end");
    char ch = c->s[c->i];
    if (ch == '{') {
        c->i++;
        ws(c);
        if (c->i < c->n && c->s[c->i] == '}') { c->i++; return TG_OK; }
        for (;;) {
            ws(c);
            size_t ks = c->i;
            if ((st = skip_string(c))) return st;
            size_t kl = c->i - ks;
            ws(c);
            if (c->i >= c->n || c->s[c->i] != ':') return fail(c, "expected ':'");
            c->i++;
            ws(c);
            int sub = 0;
            if (role == 1 && kl == 7 && memcmp(c->s + ks, "\"model\"", 7) == 0) {
                sub = 2;
                tg__json_spans_free(sp); /* the last "model" wins, whole */
            }
            size_t vs = c->i;
            if (role == 3 && kl == c->key_len + 2 && memcmp(c->s + ks + 1, c->key, c->key_len) == 0) {
                if ((st = value(c, depth + 1, 0, sp))) return st;
                c->key_start = vs;
                c->key_end = c->i;
            } else if (role == 2 && kl == 7 && memcmp(c->s + ks, "\"vocab\"", 7) == 0) {
                tg__strtab_free(&sp->vocab);
                sp->have_vocab = 0;
                if ((st = vocab(c, &sp->vocab))) return st;
                sp->have_vocab = 1;
                if (c->spec && c->spec->started && !c->spec->joined) {
                    /* the merges are being decoded on the other thread: index the
                     * vocabulary now, as the BPE model would (it keeps this index);
                     * a refusal (a duplicate) is left for the model to report */
                    tg_error e2;
                    if (tg__strtab_index(&sp->vocab, 1, &e2) != TG_OK && sp->vocab.slots) {
                        tg__table_free(sp->vocab.slots, (sp->vocab.mask + 1) * sizeof *sp->vocab.slots);
                        sp->vocab.slots = NULL;
                        sp->vocab.mask = 0;
                    }
                }
                sp->vocab_start = vs;
                sp->vocab_end = c->i;
            } else if (role == 2 && kl == 8 && memcmp(c->s + ks, "\"merges\"", 8) == 0) {
                free(sp->merges);
                free(sp->merges_pool);
                sp->merges = NULL;
                sp->merges_pool = NULL;
                sp->n_merges = 0;
                spec_merges *m = c->spec;
                if (m && m->started && !m->joined) {
                    tgx_run_join(m->th);
                    m->joined = 1;
                }
                if (m && m->joined && m->st == TG_OK && m->refs && m->start == c->i) { /* decoded ahead: adopt */
                    sp->merges = m->refs;
                    sp->n_merges = m->count;
                    sp->merges_pool = m->pool;
                    m->refs = NULL;
                    m->pool = NULL;
                    c->i = m->end;
                } else {
                    tgx_buf pool;
                    tgx_buf_init(&pool, TG__MERGE_POOL - 1);
                    st = merges(c, &sp->merges, &sp->n_merges, &pool);
                    sp->merges_pool = tgx_buf_detach(&pool, NULL);
                    if (st) return st;
                }
                sp->merges_start = vs;
                sp->merges_end = c->i;
            } else if ((st = value(c, depth + 1, sub, sp))) {
                return st;
            }
            ws(c);
            if (c->i < c->n && c->s[c->i] == ',') { c->i++; continue; }
            if (c->i < c->n && c->s[c->i] == '}') { c->i++; return TG_OK; }
            return fail(c, "expected ',' or '}'");
        }
    }
    if (ch == '[') {
        c->i++;
        ws(c);
        if (c->i < c->n && c->s[c->i] == ']') { c->i++; return TG_OK; }
        for (;;) {
            if ((st = value(c, depth + 1, 0, sp))) return st;
            ws(c);
            if (c->i < c->n && c->s[c->i] == ',') { c->i++; continue; }
            if (c->i < c->n && c->s[c->i] == ']') { c->i++; return TG_OK; }
            return fail(c, "expected ',' or ']'");
        }
    }
    if (ch == '"') return skip_string(c);
    if (ch == 't') return literal(c, "true");
    if (ch == 'f') return literal(c, "false");
    if (ch == 'n') return literal(c, "null");
    return number(c, NULL, NULL);
}

void tg__json_spans_free(tg__json_spans *sp) {
    tg__strtab_free(&sp->vocab);
    free(sp->merges);
    free(sp->merges_pool);
    memset(sp, 0, sizeof *sp);
}

/* The job beside the walk: the first `"merges"` key whose value is an
 * array, decoded with merges() (records, not validation of what precedes it:
 * the walk does that, and adopts the result only at the same offset). */
static void spec_main(void *arg) {
    spec_merges *m = arg;
    const char *s = m->s;
    size_t n = m->n, from = 0;
    m->st = TG_ENOTFOUND;
    for (;;) {
        const char *h = from < n ? memmem(s + from, n - from, "\"merges\"", 8) : NULL;
        if (!h) return;
        scan c = {s, n, (size_t)(h - s) + 8, &m->err, "tokenizer.json", NULL, 0, 0, 0, NULL};
        ws(&c);
        if (c.i < n && s[c.i] == ':') {
            c.i++;
            ws(&c);
            if (c.i < n && s[c.i] == '[') {
                tgx_buf pool;
                tgx_buf_init(&pool, TG__MERGE_POOL - 1);
                m->start = c.i;
                m->st = merges(&c, &m->refs, &m->count, &pool);
                m->pool = tgx_buf_detach(&pool, NULL);
                m->end = c.i;
                return;
            }
        }
        from = (size_t)(h - s) + 1;
    }
}

#define SPEC_MIN_BYTES ((size_t)1 << 20)

tg_status tg__json_locate(const char *s, size_t n, tg__json_spans *sp, tg_error *err) {
    memset(sp, 0, sizeof *sp);
    if (n > MAX_DOC_BYTES)
        return tg_error_set(err, TG_ELIMIT, "tokenizer.json of %zu bytes exceeds the %u-byte limit", n,
                            (unsigned)MAX_DOC_BYTES);
    spec_merges m;
    memset(&m, 0, sizeof m);
    m.s = s;
    m.n = n;
    if (n >= SPEC_MIN_BYTES && (m.th = tgx_run_beside(spec_main, &m)) != NULL) m.started = 1;
    scan c = {s, n, 0, err, "tokenizer.json", NULL, 0, 0, 0, m.started ? &m : NULL};
    tg_status st = value(&c, 0, 1, sp);
    if (!st) {
        ws(&c);
        if (c.i != n) st = fail(&c, "trailing data");
    }
    if (m.started && !m.joined) tgx_run_join(m.th);
    free(m.refs); /* not adopted */
    free(m.pool);
    if (st) tg__json_spans_free(sp);
    return st;
}

tg_status tg__json_top_span(const char *s, size_t n, const char *key, size_t *start, size_t *end, tg_error *err) {
    tg__json_spans none;
    memset(&none, 0, sizeof none);
    scan c = {s, n, 0, err, NULL, key, strlen(key), 0, 0, NULL};
    tg_status st = value(&c, 0, 3, &none);
    if (!st) {
        ws(&c);
        if (c.i != n) st = fail(&c, "trailing data");
    }
    *start = st ? 0 : c.key_start;
    *end = st ? 0 : c.key_end;
    return st;
}
