/*
 * fuzz_http.c: libFuzzer target for the gateway's HTTP/1.1 parsers
 * (src/gateway/http_parse.c): head delimiting, request and response heads,
 * and the chunked decoder. Invariants, beyond "no crash":
 *
 *  - tg__http_find_head_end returns 0 or an offset <= n whose bytes end in
 *    LF LF or LF CR LF, and the answer does not depend on the `from` resume
 *    point (scanning in two steps finds the same end);
 *  - a parsed head has its method, target and every field inside the input,
 *    field names of token characters, values without CR/LF/NUL, at most
 *    max_headers fields, never both chunked and a Content-Length (requests),
 *    version 1.0 or 1.1; a refusal carries one of 400/414/431/501/505 (502
 *    for responses) and a message;
 *  - re-serialising a parsed request canonically and parsing it again gives
 *    the same method, target, version, fields and framing;
 *  - the block-scanning parsers (tg__http_find_head_end, _parse_request,
 *    _parse_response) give their line-by-line references' answers (the
 *    _ref functions): the same end, verdict, status, message and parts;
 *  - the chunked decoder gives the same bytes and the same verdict whatever
 *    the input is split into (the split point is taken from the input).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/http_parse.h"

#define MAXH 16

static void must(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static int is_tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void check_head(const char *p, size_t n, const tg__http_head *h, int is_req) {
    must(h->version_minor == 0 || h->version_minor == 1, "version");
    must(h->n_headers <= MAXH, "header count");
    if (is_req) {
        must(h->method >= p && h->method + h->method_len <= p + n && h->method_len > 0, "method inside");
        must(h->target >= p && h->target + h->target_len <= p + n && h->target_len > 0, "target inside");
        must(!(h->chunked && h->content_length >= 0), "chunked and length");
    } else {
        must(h->status >= 100 && h->status <= 599, "status range");
    }
    for (size_t i = 0; i < h->n_headers; i++) {
        const tg__http_header *f = &h->headers[i];
        must(f->name >= p && f->name + f->name_len <= p + n && f->name_len > 0, "name inside");
        must(f->value >= p && f->value + f->value_len <= p + n, "value inside");
        for (size_t k = 0; k < f->name_len; k++) must(is_tchar((unsigned char)f->name[k]), "name chars");
        for (size_t k = 0; k < f->value_len; k++)
            must(f->value[k] != '\r' && f->value[k] != '\n' && f->value[k] != 0, "value chars");
    }
}

static void roundtrip(const tg__http_head *h, const tg__http_limits *lim) {
    size_t cap = 64 + h->method_len + h->target_len;
    for (size_t i = 0; i < h->n_headers; i++) cap += h->headers[i].name_len + h->headers[i].value_len + 4;
    char *b = malloc(cap);
    must(b != NULL, "malloc");
    size_t o = 0;
    memcpy(b + o, h->method, h->method_len), o += h->method_len;
    b[o++] = ' ';
    memcpy(b + o, h->target, h->target_len), o += h->target_len;
    o += (size_t)sprintf(b + o, " HTTP/1.%d\r\n", h->version_minor);
    for (size_t i = 0; i < h->n_headers; i++) {
        memcpy(b + o, h->headers[i].name, h->headers[i].name_len), o += h->headers[i].name_len;
        b[o++] = ':';
        b[o++] = ' ';
        memcpy(b + o, h->headers[i].value, h->headers[i].value_len), o += h->headers[i].value_len;
        b[o++] = '\r';
        b[o++] = '\n';
    }
    b[o++] = '\r';
    b[o++] = '\n';
    tg__http_header hs[MAXH];
    tg__http_head h2;
    h2.headers = hs;
    tg__http_error e;
    tg__http_limits big = *lim;
    big.max_head = o + 1; /* canonical form may be longer (CRLF for LF) */
    big.max_line = o + 1;
    must(tg__http_parse_request(b, o, &big, &h2, &e) == 0, "canonical re-parse accepted");
    must(h2.method_len == h->method_len && !memcmp(h2.method, h->method, h->method_len), "method kept");
    must(h2.target_len == h->target_len && !memcmp(h2.target, h->target, h->target_len), "target kept");
    must(h2.version_minor == h->version_minor && h2.n_headers == h->n_headers, "version/count kept");
    must(h2.content_length == h->content_length && h2.chunked == h->chunked && h2.keep_alive == h->keep_alive,
         "framing kept");
    for (size_t i = 0; i < h->n_headers; i++)
        must(hs[i].value_len == h->headers[i].value_len && !memcmp(hs[i].value, h->headers[i].value, hs[i].value_len),
             "value kept");
    free(b);
}


/* The block-scanning parsers answer as the line-by-line reference does. */
static void same_as_ref(const char *p, size_t n, const tg__http_limits *lim) {
    for (int is_req = 0; is_req < 2; is_req++) {
        tg__http_header h1[MAXH], h2[MAXH];
        tg__http_error e1, e2;
        int rc;
        int d = tg__http_vs_ref(p, n, lim, is_req, h1, h2, &e1, &e2, &rc);
        must(d != TG__HTTP_REF_VERDICT, "verdict as the reference");
        must(d != TG__HTTP_REF_PARTS, "parts as the reference");
        must(d != TG__HTTP_REF_REFUSAL, "refusal as the reference");
    }
}

/* Decode all of p[0..n) feeding it in two parts split at `cut`. */
static int dechunk(const char *p, size_t n, size_t cut, char *out, size_t *out_len) {
    tg__chunked c;
    tg__chunked_init(&c);
    *out_len = 0;
    size_t parts[2][2] = {{0, cut}, {cut, n}};
    for (int k = 0; k < 2; k++) {
        size_t i = parts[k][0], end = parts[k][1];
        while (i < end) {
            size_t used = 0, dl = 0;
            const char *d, *msg = NULL;
            int rc = tg__chunked_feed(&c, p + i, end - i, &used, &d, &dl, &msg);
            must(used <= end - i, "consumed within input");
            if (rc == TG__CHUNK_ERROR) {
                must(msg != NULL, "chunk error message");
                return -1;
            }
            if (rc == TG__CHUNK_DATA) {
                must(d >= p + i && d + dl <= p + end && dl > 0, "data inside input");
                memcpy(out + *out_len, d, dl);
                *out_len += dl;
            }
            i += used;
            if (rc == TG__CHUNK_DONE) return 1;
            if (rc == TG__CHUNK_MORE) must(i == end, "MORE consumed everything");
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned seed = data[0];
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    tg__http_limits lim = {4096, 1024, MAXH};

    size_t end = tg__http_find_head_end(p, n, 0);
    must(end <= n, "end within input");
    if (end) {
        must(end >= 2 && p[end - 1] == '\n' && (p[end - 2] == '\n' || (end >= 3 && p[end - 2] == '\r' && p[end - 3] == '\n')),
             "head ends with a blank line");
        size_t mid = seed % (end + 1);
        size_t e1 = tg__http_find_head_end(p, mid, 0);
        size_t e2 = e1 ? e1 : tg__http_find_head_end(p, n, mid);
        must(e2 == end, "resumed scan finds the same end");
    }
    size_t froms[3] = {0, seed % (n + 1), n};
    for (int k = 0; k < 3; k++)
        must(tg__http_find_head_end(p, n, froms[k]) == tg__http_find_head_end_ref(p, n, froms[k]),
             "head end as the reference");
    size_t hl = end ? end : n;
    tg__http_header hs[MAXH];
    tg__http_head h;
    h.headers = hs;
    tg__http_error e;
    same_as_ref(p, hl, &lim);
    same_as_ref(p, n, &lim);
    if (tg__http_parse_request(p, hl, &lim, &h, &e) == 0) {
        check_head(p, hl, &h, 1);
        roundtrip(&h, &lim);
    } else {
        must(e.message != NULL && (e.status == 400 || e.status == 414 || e.status == 431 || e.status == 501 ||
                                   e.status == 505), "request refusal status");
    }
    if (tg__http_parse_response(p, hl, &lim, &h, &e) == 0) check_head(p, hl, &h, 0);
    else must(e.message != NULL && e.status == 502, "response refusal status");

    /* The body after the head, as a chunked body. */
    const char *b = p + (end ? end : 0);
    size_t bn = n - (end ? end : 0);
    char *o1 = malloc(bn + 1), *o2 = malloc(bn + 1);
    must(o1 && o2, "malloc");
    size_t l1, l2;
    int r1 = dechunk(b, bn, bn, o1, &l1);
    int r2 = dechunk(b, bn, bn ? seed % (bn + 1) : 0, o2, &l2);
    must(r1 == r2, "chunked verdict independent of the split");
    if (r1 >= 0) must(l1 == l2 && !memcmp(o1, o2, l1), "chunked bytes independent of the split");
    free(o1);
    free(o2);
    return 0;
}
