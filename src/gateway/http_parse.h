/*
 * gateway/http_parse.h: HTTP/1.1 message heads and chunked bodies (RFC 9112).
 *
 * Pure functions over byte buffers, no allocation, so the fuzzer and the
 * tests drive them directly. The daemon first finds the end of a head in its
 * input (tg__http_find_head_end, bounded by max_head bytes), then parses the
 * complete head in one pass:
 *
 *   request-line  = method SP request-target SP HTTP-version CRLF
 *   status-line   = HTTP-version SP status-code [SP reason-phrase] CRLF
 *   field-line    = field-name ":" OWS field-value OWS CRLF
 *   HTTP-version  = "HTTP/1.0" | "HTTP/1.1"     (1.2..1.9 read as 1.1; 0.x, 2+: 505)
 *
 * A bare LF is accepted as a line end (RFC 9112 2.2 allows it); a bare CR, a
 * space before the colon, obs-fold, control bytes, an unknown version, a
 * Content-Length that is not plain digits or repeats with another value, and
 * Transfer-Encoding together with Content-Length (the smuggling case, RFC
 * 9112 6.1) are refused. A request's Transfer-Encoding must be exactly
 * `chunked` (as nginx: any other coding list, `gzip, chunked` included, is
 * 501 Not Implemented, RFC 9112 6.1; in an HTTP/1.0 request, or repeated, 400).
 * An HTTP/1.1 request needs exactly one Host field (RFC 9112 3.2: 400).
 * Each refusal carries the status to answer (400, 414, 431, 501, 505), a
 * message naming what broke and, for a size limit, the size and the limit.
 *
 * Parsed fields point into the caller's head bytes, which must outlive them.
 *
 * Chunked bodies (RFC 9112 7.1) are decoded incrementally by tg__chunked:
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 * with the size capped at 16 hex digits (and overflow), an extension line at
 * TG__CHUNK_MAX_EXT bytes and the trailer section at TG__CHUNK_MAX_TRAILER.
 */
#ifndef TG_GATEWAY_HTTP_PARSE_H
#define TG_GATEWAY_HTTP_PARSE_H

#include <stddef.h>
#include <string.h>
#include <stdint.h>

typedef struct tg__http_header {
    const char *name;
    size_t name_len;
    const char *value; /* OWS trimmed on both sides */
    size_t value_len;
} tg__http_header;

typedef struct tg__http_limits {
    size_t max_head;    /* whole head block, bytes (431 past it) */
    size_t max_line;    /* request or status line, bytes (414 past it) */
    size_t max_headers; /* field lines (431 past it); also the capacity of the array */
} tg__http_limits;

typedef struct tg__http_head {
    /* request */
    const char *method;
    size_t method_len;
    const char *target;
    size_t target_len;
    /* response */
    int status;
    /* both */
    int version_minor;      /* 0 or 1 */
    tg__http_header *headers; /* caller's array of max_headers entries */
    size_t n_headers;
    int64_t content_length; /* -1 when absent */
    int chunked;            /* Transfer-Encoding ends in chunked */
    int te_other;           /* response Transfer-Encoding without chunked: read to close */
    int keep_alive;         /* persistent per version and Connection */
    int expect_continue;    /* request: Expect: 100-continue */
} tg__http_head;

typedef struct tg__http_error {
    int status;          /* the status to answer with */
    const char *message; /* static text */
    /* A refusal for a limit (414, 431) names it: `got` is what the request
     * had (0: more than `limit`, when it was not read to its end), `limit`
     * the bound and `setting` the config key that sets it; all 0 / NULL
     * otherwise. */
    size_t got, limit;
    const char *setting;
} tg__http_error;

/* Offset one past the blank line ending the head that starts at p, or 0 when
 * p[0..n) holds no complete head yet. `from` is where the previous call
 * stopped looking (0 the first time), so repeated calls stay linear. */
size_t tg__http_find_head_end(const char *p, size_t n, size_t from);

/* Parse a complete request head (p[0..n) as delimited above). 0 on success,
 * -1 with *e set. `h->headers` must point at lim->max_headers entries. */
int tg__http_parse_request(const char *p, size_t n, const tg__http_limits *lim,
                           tg__http_head *h, tg__http_error *e);
int tg__http_parse_response(const char *p, size_t n, const tg__http_limits *lim,
                            tg__http_head *h, tg__http_error *e);

/* The same three read the plain way, line by line and byte by byte (what
 * they were before issue 17's round 7): the reference the tests and
 * fuzz_http hold the block-scanning parsers above to, answer for answer. */
size_t tg__http_find_head_end_ref(const char *p, size_t n, size_t from);
int tg__http_parse_request_ref(const char *p, size_t n, const tg__http_limits *lim,
                               tg__http_head *h, tg__http_error *e);
int tg__http_parse_response_ref(const char *p, size_t n, const tg__http_limits *lim,
                                tg__http_head *h, tg__http_error *e);
/* p[0..n) parsed as a request (is_req) or a response by the parser above
 * and by its _ref (into h1 / h2, lim->max_headers each; refusals in e1 /
 * e2; the parser's verdict in *rc): the tests' and fuzz_http's check of one
 * against the other. SAME, or what differs first: the verdict, a part
 * (pointer for pointer), the refusal (status, message, got, limit, setting). */
enum { TG__HTTP_REF_SAME, TG__HTTP_REF_VERDICT, TG__HTTP_REF_PARTS, TG__HTTP_REF_REFUSAL };
int tg__http_vs_ref(const char *p, size_t n, const tg__http_limits *lim, int is_req, tg__http_header *h1,
                    tg__http_header *h2, tg__http_error *e1, tg__http_error *e2, int *rc);

/* 1 when hp[0..hl) holds the bytes what[0..wl) (wl > 0) anywhere, as a
 * plain byte compare at every place would say (_ref): 16 places a step
 * where both the first and the last byte match, then memcmp (issue 17: a
 * memchr for the first byte hit every "x-tokgate-" field of an answer). */
int tg__http_bytes_has(const char *hp, size_t hl, const char *what, size_t wl);
int tg__http_bytes_has_ref(const char *hp, size_t hl, const char *what, size_t wl);

/* Case-insensitive lookup; NULL when absent. Inline: a literal name's
 * strlen is folded (issue 17). */
const tg__http_header *tg__http_find_n(const tg__http_head *h, const char *name, size_t n);
static inline const tg__http_header *tg__http_find(const tg__http_head *h, const char *name) {
    return tg__http_find_n(h, name, strlen(name));
}
/* 1 when a[0..alen) is b, ASCII case-insensitively. Inline: with a literal
 * b the compiler folds strlen, so a field of another length costs one
 * compare (issue 17: it ran ~10 times a header). */
static inline int tg__http_name_eq(const char *a, size_t alen, const char *b) {
    size_t blen = strlen(b);
    if (alen != blen) return 0;
    for (size_t i = 0; i < alen; i++) { /* equal bytes, or one letter in two cases (tolower(x) == tolower(y)) */
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == y) continue;
        unsigned char l = (unsigned char)(x | 0x20);
        if ((x ^ y) != 0x20 || l < 'a' || l > 'z') return 0;
    }
    return 1;
}
/* tg__http_name_eq(a, n, lit) for a literal of lower-case letters, digits
 * and '-', n >= 4 (issue 17, round 7), 8 (or 4) bytes a step: a name byte matches when it is
 * the literal's, or a letter's upper case, that is (byte | 0x20 where the
 * literal has a letter) == the literal's byte. */
static inline uint64_t tg__http_letter_bits(uint64_t l) { /* 0x20 in each byte of l that is 'a'..'z' (bytes < 0x80) */
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    return ((l + (0x80 - 'a') * ones) & ~(l + (0x80 - 'z' - 1) * ones) & high) >> 2;
}
static inline int tg__http_lit_eq8(const char *a, const char *lit) {
    uint64_t w, l;
    memcpy(&w, a, 8);
    memcpy(&l, lit, 8);
    return (w | tg__http_letter_bits(l)) == l;
}
static inline int tg__http_lit_eq4(const char *a, const char *lit) {
    uint32_t w, l;
    memcpy(&w, a, 4);
    memcpy(&l, lit, 4);
    return (w | (uint32_t)tg__http_letter_bits(l)) == l;
}
static inline int tg__http_lit_eq(const char *a, const char *lit, size_t n) {
    if (n < 8) return tg__http_lit_eq4(a, lit) && tg__http_lit_eq4(a + n - 4, lit + n - 4);
    for (size_t i = 0; i + 8 < n; i += 8)
        if (!tg__http_lit_eq8(a + i, lit + i)) return 0;
    /* cppcheck-suppress pointerOutOfBoundsCond ; n >= 8 here: the literal's last 8 bytes */
    return tg__http_lit_eq8(a + n - 8, lit + n - 8);
}
/* Hop-by-hop fields a proxy never forwards (RFC 9110 7.6.1). Inline: by
 * length first, most fields are none of these (issue 17: a call a field). */
static inline int tg__http_is_hop_by_hop(const char *name, size_t len) {
    switch (len) { /* by length first: most fields are none of these */
    case 2: return tg__http_name_eq(name, len, "te");
    case 7: return tg__http_lit_eq(name, "trailer", 7) || tg__http_lit_eq(name, "upgrade", 7);
    case 10: return tg__http_lit_eq(name, "connection", 10) || tg__http_lit_eq(name, "keep-alive", 10);
    case 16: return tg__http_lit_eq(name, "proxy-connection", 16);
    case 17: return tg__http_lit_eq(name, "transfer-encoding", 17);
    case 18: return tg__http_lit_eq(name, "proxy-authenticate", 18);
    case 19: return tg__http_lit_eq(name, "proxy-authorization", 19);
    default: return 0;
    }
}

/* 1 when the comma-separated value holds `token` (case-insensitive). */
int tg__http_has_token(const char *v, size_t len, const char *token);
#define TG__CHUNK_MAX_EXT 4096u
#define TG__CHUNK_MAX_TRAILER 8192u

typedef struct tg__chunked {
    int state;
    int digits;
    uint64_t remaining;
    size_t extra; /* bytes of extension or trailer seen */
} tg__chunked;

enum {
    TG__CHUNK_ERROR = -1,
    TG__CHUNK_MORE = 0, /* all input consumed, body not finished */
    TG__CHUNK_DATA = 1, /* out, out_len: decoded bytes inside the input */
    TG__CHUNK_DONE = 2  /* last chunk and trailers consumed */
};

void tg__chunked_init(tg__chunked *c);
/* Consume from p[0..n): returns one of the codes above and sets consumed
 * (bytes of input used, including any data span). Call again with the rest
 * of the input after DATA. On ERROR, msg names the fault. */
int tg__chunked_feed(tg__chunked *c, const char *p, size_t n, size_t *consumed,
                     const char **out, size_t *out_len, const char **msg);

#endif
