/*
 * test_http_parse.c: the gateway's HTTP/1.1 head parser, chunked decoder,
 * upstream URL and listen-address parsing, and the request arena.
 *
 * Expected outcomes come from the rules of RFC 9112 (section numbers beside
 * each case), not from the parser's own output: what must be accepted, what
 * must be refused and with which status.
 */
#include "tg_test.h"

#include "gateway/arena.h"
#include "gateway/config.h"
#include "gateway/http_parse.h"
#include "gateway/log.h"
#include "gateway/path.h"

#define MAXH 8

static const struct req_case {
    const char *in;
    int want; /* 0 accept, else the refusal status */
    const char *method, *target;
    int minor;
    long long cl;
    int chunked, keep_alive;
} req_cases[] = {
    /* 3: request-line = method SP request-target SP HTTP-version */
    {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, "GET", "/", 1, -1, 0, 1},
    {"POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", 0, "POST", "/v1/chat/completions?x=1", 1, 12, 0, 1},
    /* RFC 9110 2.5: a higher minor version is processed as the highest one implemented */
    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, "GET", "/", 1, -1, 0, 1},
    /* 2.2: a bare LF may be accepted as a line terminator */
    {"GET /a HTTP/1.0\nConnection: keep-alive\n\n", 0, "GET", "/a", 0, -1, 0, 1},
    /* 9.3: HTTP/1.0 is not persistent without keep-alive; close ends 1.1 persistence */
    {"GET / HTTP/1.0\r\n\r\n", 0, "GET", "/", 0, -1, 0, 0},
    {"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n", 0, "GET", "/", 1, -1, 0, 0},
    /* 6.1: chunked as the final coding */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 0, "POST", "/", 1, -1, 1, 1},
    /* 5.1: OWS around the value is not part of it */
    {"GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v \t\r\n\r\n", 0, "GET", "/", 1, -1, 0, 1},
    /* 6.3: identical repeated Content-Length may be accepted */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 0, "POST", "/", 1, 3, 0, 1},
    /* refusals */
    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 6.3 */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 6.1 smuggling */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, 0, 0, 0, 0, 0, 0}, /* 6.1: coding not implemented (nginx: 501) */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, 0, 0, 0, 0, 0, 0}, /* 6.1 + nginx: only a lone chunked */
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501, 0, 0, 0, 0, 0, 0},
    {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},
    {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 1.0 has no chunked (nginx: 400) */
    {"GET / HTTP/1.1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},                       /* 3.2: Host required */
    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 3.2: one Host */
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},
    {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},
    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 5.1: no whitespace before the colon */
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 5.2: obs-fold refused */
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},  /* 2.2: bare CR */
    {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 5.5: CTL in a value */
    {"GET / HTTP/2.0\r\n\r\n", 505, 0, 0, 0, 0, 0, 0},
    {"GET / HTTP/0.9\r\n\r\n", 505, 0, 0, 0, 0, 0, 0},
    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},
    {"GET / http/1.1\r\nHost: a\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 2.3: HTTP-name is case-sensitive */
    {"GET / HTTX/1.1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},
    {"GET  / HTTP/1.1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* 3: single SP */
    {"GET /a b HTTP/1.1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0},
    {"G(T / HTTP/1.1\r\n\r\n", 400, 0, 0, 0, 0, 0, 0}, /* method is a token */
    {"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\n\r\n", 431, 0, 0, 0, 0, 0, 0},
    {"GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n\r\n", 414, 0, 0, 0, 0, 0, 0},
};

static void test_requests(void) {
    tg__http_limits lim = {1024, 64, MAXH};
    for (size_t i = 0; i < sizeof req_cases / sizeof req_cases[0]; i++) {
        const struct req_case *k = &req_cases[i];
        size_t n = strlen(k->in);
        size_t end = tg__http_find_head_end(k->in, n, 0);
        TG_CHECK_EQ_U(end, n);
        tg__http_header hs[MAXH];
        tg__http_head h;
        h.headers = hs;
        tg__http_error e = {0, NULL, 0, 0, NULL};
        int rc = tg__http_parse_request(k->in, n, &lim, &h, &e);
        if (k->want) {
            if (rc == 0 || e.status != k->want) fprintf(stderr, "case %zu: want refusal %d, got rc %d status %d\n", i, k->want, rc, e.status);
            TG_CHECK(rc != 0 && e.status == k->want && e.message);
            continue;
        }
        if (rc != 0) fprintf(stderr, "case %zu refused: %s\n", i, e.message);
        TG_CHECK(rc == 0);
        if (rc) continue;
        TG_CHECK(h.method_len == strlen(k->method) && !memcmp(h.method, k->method, h.method_len));
        TG_CHECK(h.target_len == strlen(k->target) && !memcmp(h.target, k->target, h.target_len));
        TG_CHECK_EQ_I(h.version_minor, k->minor);
        TG_CHECK_EQ_I(h.content_length, k->cl);
        TG_CHECK_EQ_I(h.chunked, k->chunked);
        TG_CHECK_EQ_I(h.keep_alive, k->keep_alive);
    }
    /* OWS trimmed */
    const char *in = "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v \t\r\n\r\n";
    tg__http_header hs[MAXH];
    tg__http_head h;
    h.headers = hs;
    tg__http_error e;
    TG_CHECK(tg__http_parse_request(in, strlen(in), &lim, &h, &e) == 0);
    const tg__http_header *f = tg__http_find(&h, "x-a");
    TG_CHECK(f && f->value_len == 1 && f->value[0] == 'v');
    /* size refusals name the size, the limit and its setting */
    char line[200];
    snprintf(line, sizeof line, "GET /%070d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
    TG_CHECK(tg__http_parse_request(line, strlen(line), &lim, &h, &e) != 0);
    TG_CHECK(e.status == 414 && e.got == 84 && e.limit == 64 && e.setting && !strcmp(e.setting, "limits.max_request_line"));
    const char *many = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\n\r\n";
    TG_CHECK(tg__http_parse_request(many, strlen(many), &lim, &h, &e) != 0);
    TG_CHECK(e.status == 431 && e.got == 0 && e.limit == MAXH && !strcmp(e.setting, "limits.max_headers"));
    TG_CHECK(tg__http_parse_request(many, strlen(many), &(tg__http_limits){32, 64, MAXH}, &h, &e) != 0);
    TG_CHECK(e.status == 431 && e.got == strlen(many) && e.limit == 32 && !strcmp(e.setting, "limits.max_header_bytes"));
}

static void test_head_end(void) {
    const char *s = "GET / HTTP/1.1\r\nA: b\r\n\r\nBODY";
    size_t n = strlen(s);
    TG_CHECK_EQ_U(tg__http_find_head_end(s, n, 0), n - 4);
    /* resumed at every point of a split, the same end is found */
    for (size_t cut = 0; cut <= n; cut++) {
        size_t e = tg__http_find_head_end(s, cut, 0);
        if (!e) e = tg__http_find_head_end(s, n, cut);
        TG_CHECK_EQ_U(e, n - 4);
    }
    TG_CHECK_EQ_U(tg__http_find_head_end("GET / HTTP/1.1\r\nA: b\r\n", 22, 0), 0);
}

static void test_responses(void) {
    tg__http_limits lim = {1024, 256, MAXH};
    tg__http_header hs[MAXH];
    tg__http_head h;
    h.headers = hs;
    tg__http_error e;
    const char *ok = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n";
    TG_CHECK(tg__http_parse_response(ok, strlen(ok), &lim, &h, &e) == 0);
    TG_CHECK(h.status == 200 && h.chunked && h.content_length == -1); /* 6.3: TE overrides CL */
    const char *noreason = "HTTP/1.1 204\r\n\r\n";
    TG_CHECK(tg__http_parse_response(noreason, strlen(noreason), &lim, &h, &e) == 0 && h.status == 204);
    const char *close10 = "HTTP/1.0 200 OK\r\n\r\n";
    TG_CHECK(tg__http_parse_response(close10, strlen(close10), &lim, &h, &e) == 0 && !h.keep_alive);
    const char *bad[] = {"HTTP/1.1 2000 OK\r\n\r\n", "garbage\r\n\r\n", "HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 20x OK\r\n\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TG_CHECK(tg__http_parse_response(bad[i], strlen(bad[i]), &lim, &h, &e) != 0);
        TG_CHECK_EQ_I(e.status, 502);
    }
}

/* Decodes s fed in pieces of `step` bytes; returns the verdict. */
static int dechunk(const char *s, size_t n, size_t step, char *out, size_t *olen) {
    tg__chunked c;
    tg__chunked_init(&c);
    *olen = 0;
    size_t i = 0;
    while (i < n) {
        size_t end = i + step < n ? i + step : n;
        size_t j = i;
        while (j < end) {
            size_t used, dl;
            const char *d, *msg;
            int rc = tg__chunked_feed(&c, s + j, end - j, &used, &d, &dl, &msg);
            if (rc == TG__CHUNK_ERROR) return -1;
            if (rc == TG__CHUNK_DATA) {
                memcpy(out + *olen, d, dl);
                *olen += dl;
            }
            j += used;
            if (rc == TG__CHUNK_DONE) return 1;
        }
        i = end;
    }
    return 0;
}

static void test_chunked(void) {
    /* 7.1 grammar: sizes in hex, extensions ignored, trailer section allowed. */
    const char *s = "4\r\nWiki\r\n6;name=v\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n";
    char out[128];
    size_t olen;
    for (size_t step = 1; step <= strlen(s); step++) {
        TG_CHECK_EQ_I(dechunk(s, strlen(s), step, out, &olen), 1);
        TG_CHECK(olen == 24 && !memcmp(out, "Wikipedia in \r\n\r\nchunks.", 24));
    }
    TG_CHECK_EQ_I(dechunk("5\r\nabc", 6, 6, out, &olen), 0);               /* incomplete */
    TG_CHECK_EQ_I(dechunk("zz\r\n", 4, 4, out, &olen), -1);                /* not hex */
    TG_CHECK_EQ_I(dechunk("3\r\nabcd\r\n", 9, 9, out, &olen), -1);          /* data longer than size */
    TG_CHECK_EQ_I(dechunk("11111111111111111\r\n", 19, 19, out, &olen), -1); /* 17 hex digits */
    TG_CHECK_EQ_I(dechunk("0\r\n\r\n", 5, 5, out, &olen), 1);
    TG_CHECK_EQ_U(olen, 0);
}

static void test_urls(void) {
    tg__url u;
    tg_error err;
    TG_CHECK(tg__url_parse("http://127.0.0.1:8080", &u, &err) == TG_OK);
    TG_CHECK_STR(u.host, "127.0.0.1");
    TG_CHECK_EQ_I(u.port, 8080);
    TG_CHECK_STR(u.base_path, "");
    tg__url_free(&u);
    TG_CHECK(tg__url_parse("http://[::1]:9000/v1/", &u, &err) == TG_OK);
    TG_CHECK_STR(u.host, "::1");
    TG_CHECK_STR(u.hostport, "[::1]:9000");
    TG_CHECK_STR(u.base_path, "");
    tg__url_free(&u);
    TG_CHECK(tg__url_parse("http://gpu-box/llm/v1", &u, &err) == TG_OK);
    TG_CHECK_EQ_I(u.port, 80);
    TG_CHECK_STR(u.base_path, "/llm");
    tg__url_free(&u);
    TG_CHECK(tg__url_parse("https://x", &u, &err) == TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "http://");
    TG_CHECK(tg__url_parse("http://x:99999", &u, &err) == TG_EINVAL);
    char *host = NULL;
    int port = 0;
    TG_CHECK(tg__parse_hostport("0.0.0.0:8000", &host, &port, &err) == TG_OK && port == 8000);
    TG_CHECK_STR(host, "0.0.0.0");
    free(host);
    TG_CHECK(tg__parse_hostport("9000", &host, &port, &err) == TG_OK && port == 9000);
    TG_CHECK_STR(host, "127.0.0.1");
    free(host);
    host = NULL;
    TG_CHECK(tg__parse_hostport("host:0", &host, &port, &err) == TG_EINVAL);
    TG_CHECK(host == NULL);
}

static void test_arena(void) {
    tg__arena a;
    tg__arena_init(&a, 10000);
    char *s = tg__arena_strndup(&a, "hello", 3);
    TG_CHECK_STR(s, "hel");
    TG_CHECK(((uintptr_t)tg__arena_alloc(&a, 1) & 15u) == 0);
    TG_CHECK(tg__arena_alloc(&a, 9000) != NULL); /* one big block */
    TG_CHECK(tg__arena_alloc(&a, 2000) == NULL);  /* over the ceiling */
    char *p = tg__arena_printf(&a, "%d-%s", 42, "x");
    TG_CHECK_STR(p, "42-x");
    tg__arena_reset(&a);
    TG_CHECK_EQ_U(a.used_total, 0);
    TG_CHECK(tg__arena_alloc(&a, 5000) != NULL);
    tg__arena_reset(&a);
    /* recycle: the largest block (up to 16 KiB) is kept and reused from its start, the rest freed */
    TG_CHECK(tg__arena_alloc(&a, 100) != NULL);
    char *f1 = tg__arena_alloc(&a, 3000); /* a second block, the larger: its own start */
    TG_CHECK(f1 != NULL);
    tg__arena_recycle(&a);
    TG_CHECK_EQ_U(a.used_total, 0);
    TG_CHECK(tg__arena_alloc(&a, 3000) == f1);
    TG_CHECK(tg__arena_alloc(&a, 900) != NULL); /* the rest of the kept block */
    TG_CHECK(tg__arena_alloc(&a, 5000) != NULL); /* the ceiling counted from zero again */
    TG_CHECK(tg__arena_alloc(&a, 2000) == NULL);
    tg__arena_reset(&a);
    TG_CHECK(a.head == NULL);
}

/* tg__access_set copies printable runs 8 bytes at a time: the same as the
 * byte-by-byte rule (0x21-0x7e kept, anything else '?', cut to cap - 1). */
/* The access log's byte rule, written out: a byte outside 0x21..0x7e is
 * '?', the value cut to cap - 1 bytes; returns the length written. */
static size_t access_want(char *want, size_t cap, const char *src, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        want[n++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    return n;
}

static void test_access_set_words(void) {
    uint64_t rng = 0x2545F4914F6CDD1Du;
    size_t bad = 0;
    for (int t = 0; t < 20000; t++) {
        char src[64], got[48], want[48];
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t len = (size_t)(rng % 64), cap = (size_t)((rng >> 8) % 48);
        for (size_t i = 0; i < len; i++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            unsigned r = (unsigned)(rng >> 24);
            src[i] = (char)(r % 16 == 0 ? (r >> 8) & 0xff : 0x21 + (r >> 8) % 94); /* mostly printable, any byte */
        }
        memset(got, 'x', sizeof got);
        tg__access_set(got, cap, src, len);
        size_t n = access_want(want, cap, src, len);
        if (cap) want[n] = '\0';
        if (cap && (strlen(got) != n || memcmp(got, want, n + 1) != 0)) bad++;
    }
    TG_CHECK_EQ_U(bad, 0);
    /* every length 0..40 and room 1..48, all printable, then one byte of
     * each kind (space, DEL, 0x80, NUL) at every place: the whole-value
     * word copy (log.c, access_copy_printable: short words, the
     * overlapping last word) or the byte rule, the same text */
    static const char bytes[] = {' ', 0x7f, (char)0x80, 0};
    bad = 0;
    for (size_t len = 0; len <= 40; len++)
        for (size_t cap = 1; cap <= 48; cap++)
            for (size_t at = 0; at <= len; at++)
                for (size_t b = 0; b < (at < len ? sizeof bytes : 1); b++) {
                    char src[41], got[48], want[48];
                    for (size_t i = 0; i < len; i++) src[i] = (char)(0x21 + (i * 7 + len) % 94);
                    if (at < len) src[at] = bytes[b];
                    memset(got, 'x', sizeof got);
                    tg__access_set(got, cap, src, len);
                    size_t n = access_want(want, cap, src, len);
                    want[n] = '\0';
                    if (memcmp(got, want, n + 1) != 0) bad++;
                }
    TG_CHECK_EQ_U(bad, 0);
    static const char edge[] = "abcdefg\x7f" "abcdefg " "abcdefg\x80" "abcdefg~" "!!!!!!!!";
    char out[64];
    tg__access_set(out, sizeof out, edge, sizeof edge - 1);
    TG_CHECK_STR(out, "abcdefg?abcdefg?abcdefg?abcdefg~!!!!!!!!");
}

/* Every byte at every place of a field value (lengths 1..40: each lane of
 * the parser's 8-byte control scan and its overlapping last step) and of a
 * field name, against RFC 9110 5.5 / 5.6.2 and RFC 9112 2.2 stated here:
 * CR anywhere but before the LF is a bare CR (400, line ending); other CTLs
 * (< 0x20 but HTAB, and DEL) in a value are 400; SP and HTAB are OWS at the
 * value's edges and kept inside it; any other byte (obs-text 0x80..0xff
 * included) is kept. A name is tchars only. */
static void test_every_byte(void) {
    static const char tchar_extra[] = "!#$%&'*+-.^_`|~";
    tg__http_limits lim = {1024, 256, MAXH};
    tg__http_header hs[MAXH];
    tg__http_head h;
    h.headers = hs;
    tg__http_error e;
    char in[256], val[64];
    for (int b = 1; b < 256; b++) {
        if (b == '\n') continue; /* a line end: another head */
        for (size_t len = 1; len <= 40; len++)
            for (size_t k = 0; k < len; k++) {
                memset(val, 'v', len);
                val[k] = (char)b;
                int n = snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: a\r\nX-A: %.*s\r\n\r\n", (int)len, val);
                /* snprintf stops at no byte but NUL: b is never 0 here */
                int rc = tg__http_parse_request(in, (size_t)n, &lim, &h, &e);
                if (b == '\r') {
                    TG_CHECK(rc != 0 && e.status == 400 && !strcmp(e.message, "malformed line ending in header block"));
                } else if ((b < 0x20 && b != '\t') || b == 0x7f) {
                    TG_CHECK(rc != 0 && e.status == 400 && !strcmp(e.message, "control character in header field value"));
                } else {
                    size_t s0 = 0, s1 = len; /* OWS trimmed at both edges */
                    while (s0 < s1 && (val[s0] == ' ' || val[s0] == '\t')) s0++;
                    while (s1 > s0 && (val[s1 - 1] == ' ' || val[s1 - 1] == '\t')) s1--;
                    const tg__http_header *f = rc == 0 ? tg__http_find(&h, "x-a") : NULL;
                    TG_CHECK(f && f->value_len == s1 - s0 && !memcmp(f->value, val + s0, s1 - s0));
                }
            }
        if (b == ':' || b == '\r') continue; /* the name's end; a bare CR (above) */
        int tchar = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                    (b < 128 && strchr(tchar_extra, b));
        for (size_t k = 0; k < 3; k++) {
            char name[4] = "X-A";
            name[k] = (char)b;
            int n = snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: a\r\n%s: v\r\n\r\n", name);
            int rc = tg__http_parse_request(in, (size_t)n, &lim, &h, &e);
            TG_CHECK(tchar ? rc == 0 : rc != 0 && e.status == 400);
        }
    }
}

/* tg__http_name_eq for every pair of bytes against tolower (ASCII) equality. */
static void test_name_eq_bytes(void) {
    for (int x = 0; x < 256; x++)
        for (int y = 1; y < 256; y++) {
            char a[2] = {(char)x, 0}, bb[2] = {(char)y, 0};
            int lx = x >= 'A' && x <= 'Z' ? x + 32 : x, ly = y >= 'A' && y <= 'Z' ? y + 32 : y;
            TG_CHECK_EQ_I(tg__http_name_eq(a, 1, bb), lx == ly);
        }
    TG_CHECK(tg__http_name_eq("Content-LENGTH", 14, "content-length"));
    TG_CHECK(!tg__http_name_eq("content-length", 14, "content-lengtH "));
    TG_CHECK(!tg__http_name_eq("content\rlength", 14, "content-length")); /* '\r' | 0x20 is '-' */
}

/* RFC 3986 5.2.4 and 2.3 on paths around path.c's 256-byte stack buffer
 * (the decoded path on the stack below it, on the heap from it): "/x/./",
 * K letters, "/%61" is "/x/", the letters, "/a". */
static void test_path_lengths(void) {
    static const size_t ks[] = {1, 200, 243, 244, 245, 246, 247, 250, 251, 252, 300, 1000};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        size_t k = ks[i];
        char in[1100], want[1100], out[1100];
        memcpy(in, "/x/./", 5);
        memset(in + 5, 'b', k);
        memcpy(in + 5 + k, "/%61?q=1", 9);
        memcpy(want, "/x/", 3);
        memset(want + 3, 'b', k);
        memcpy(want + 3 + k, "/a?q=1", 7);
        const char *why = NULL;
        long n = tg__path_normalize(in, strlen(in), out, sizeof out, 0, &why);
        TG_CHECK_EQ_I(n, (long)strlen(want));
        if (n >= 0) TG_CHECK_STR(out, want);
    }
}

/* ---- the block-scanning parsers against the line-by-line reference -----
 * (issue 17, round 7) tg__http_parse_request/_response and
 * tg__http_find_head_end read a head with 16-byte scans and word-wise name
 * compares, falling back to the reference reading for any unusual line;
 * they must give the reference's answer (status, message, limit, and every
 * parsed part, pointer for pointer) for every input. Inputs: usual heads,
 * each with every byte replaced by each of 256 values, bytes inserted and
 * removed, every prefix, and a seeded soup of head pieces, under roomy and
 * tight limits. */

static size_t fast_ref_runs, fast_ref_bad;

static void fast_vs_ref_one(const char *p, size_t n, const tg__http_limits *lim) {
    for (int is_req = 0; is_req < 2; is_req++) {
        tg__http_header h1[MAXH], h2[MAXH];
        tg__http_error e1, e2;
        int r1;
        int same = tg__http_vs_ref(p, n, lim, is_req, h1, h2, &e1, &e2, &r1) == TG__HTTP_REF_SAME;
        int r2 = e2.message ? -1 : 0; /* the reference's verdict, for the report */
        fast_ref_runs++;
        if (!same && fast_ref_bad++ < 5) {
            fprintf(stderr, "fast/ref differ (%s, rc %d/%d: %s / %s) on: ", is_req ? "request" : "response", r1, r2,
                    r1 ? e1.message : "-", r2 ? e2.message : "-");
            for (size_t i = 0; i < n; i++) fprintf(stderr, (unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f ? "\\x%02x" : "%c", (unsigned char)p[i]);
            fprintf(stderr, "\n");
        }
    }
    size_t froms[] = {0, 1, 2, 3, n / 2, n > 0 ? n - 1 : 0, n};
    for (size_t k = 0; k < sizeof froms / sizeof froms[0]; k++) {
        fast_ref_runs++;
        if (tg__http_find_head_end(p, n, froms[k]) != tg__http_find_head_end_ref(p, n, froms[k]) && fast_ref_bad++ < 5)
            fprintf(stderr, "find_head_end differs (from %zu, n %zu)\n", froms[k], n);
    }
}

static void fast_vs_ref_limits(const char *p, size_t n) {
    static const tg__http_limits lims[] = {{4096, 1024, MAXH}, {4096, 40, 3}, {64, 1024, MAXH}};
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        char *copy = malloc(n ? n : 1); /* exactly n bytes: ASan sees a read past the end */
        TG_CHECK(copy != NULL);
        if (!copy) return;
        memcpy(copy, p, n);
        fast_vs_ref_one(copy, n, &lims[i]);
        free(copy);
    }
}

static void test_fast_equals_ref(void) {
    static const char *const seeds[] = {
        "POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: 80\r\n"
        "Host: 127.0.0.1:8000\r\nConnection: keep-alive\r\n\r\n",
        "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 21:23:45 GMT\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\nConnection: keep-alive\r\n\r\n",
        "POST /x HTTP/1.0\nHOST: a\nTransfer-Encoding: chunked\nExpect: 100-continue\nConnection: close\n\n",
        "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip,  chunked\r\nConnection: Keep-Alive\r\nX-Long-Field-Name-Over-16: "
        "a value longer than thirty-two bytes, with\ttab \r\n\r\n",
        "GET /a HTTP/1.1\r\nHost:a\r\nExpect:100-CONTINUE \r\nconnection: upgrade, close\r\nX-E:\r\nX_y.z: v\r\n\r\n",
    };
    static const char pieces[][24] = {"\r\n", "\n", "\r", ":", " ", "\t", ": ", "Host", "Content-Length",
                                      "content-length", "Transfer-Encoding", "chunked", "Connection", "close",
                                      "keep-alive", "Expect", "100-continue", "HTTP/1.1", "HTTP/1.0", "GET / ",
                                      "HTTP/1.1 200 OK", "12", "x", "\x7f", "\x80", "\x01", ",", "-", "_",
                                      "aaaaaaaaaaaaaaaaaaaa", "HOST", "CONNECTION", "Keep-Alive"};
    char buf[512];
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        const char *seed = seeds[s];
        size_t n = strlen(seed);
        for (size_t k = 0; k <= n; k++) fast_vs_ref_limits(seed, k); /* every prefix */
        for (size_t k = 0; k < n; k++) {
            for (int b = 0; b < 256; b++) { /* each byte replaced by each value */
                memcpy(buf, seed, n); // NOLINT(bugprone-not-null-terminated-result): counted bytes
                buf[k] = (char)b;
                fast_vs_ref_limits(buf, n);
            }
            memcpy(buf, seed, k); /* one byte removed */
            memcpy(buf + k, seed + k + 1, n - k - 1);
            fast_vs_ref_limits(buf, n - 1);
            static const char ins[] = {' ', '\t', '\r', '\n', ':', 'A', 0, 0x7f};
            for (size_t j = 0; j < sizeof ins; j++) { /* one byte inserted */
                memcpy(buf, seed, k);
                buf[k] = ins[j];
                memcpy(buf + k + 1, seed + k, n - k);
                fast_vs_ref_limits(buf, n + 1);
            }
        }
    }
    uint32_t r = 12345;
    for (int t = 0; t < 20000; t++) { /* a soup of head pieces */
        size_t n = 0;
        for (int parts = 0; parts < 40; parts++) {
            r = r * 1103515245u + 12345u;
            const char *piece = pieces[(r >> 16) % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(piece) + ((r >> 8 & 7) == 0); /* now and then its NUL too */
            if (n + pl > sizeof buf) break;
            memcpy(buf + n, piece, pl); // NOLINT(bugprone-not-null-terminated-result): counted bytes
            n += pl;
        }
        fast_vs_ref_limits(buf, n);
    }
    TG_CHECK(fast_ref_runs > 1000000);
    TG_CHECK_EQ_I((long)fast_ref_bad, 0);
}

/* tg__path_normalize's shortcut (a path already canonical is copied) gives
 * the full rebuild's answer (tg__path_normalize_ref): every target of up
 * to 6 bytes after a leading '/' over the bytes that matter to it, with and
 * without keep_slash, and a few without the leading '/'. */
static void test_path_as_is_equals_ref(void) {
    static const char alpha[] = "/.a%2F?#";
    char t[16], o1[64], o2[64];
    size_t bad = 0, runs = 0;
    for (size_t len = 0; len <= 6; len++) {
        size_t total = 1;
        for (size_t k = 0; k < len; k++) total *= sizeof alpha - 1;
        for (size_t code = 0; code < total; code++) {
            for (int lead = 0; lead < 2; lead++) {
                size_t n = 0;
                if (!lead) t[n++] = '/';
                size_t c = code;
                for (size_t k = 0; k < len; k++, c /= sizeof alpha - 1) t[n++] = alpha[c % (sizeof alpha - 1)];
                for (int keep = 0; keep < 2; keep++) {
                    const char *w1 = NULL, *w2 = NULL;
                    long l1 = tg__path_normalize(t, n, o1, sizeof o1, keep, &w1);
                    long l2 = tg__path_normalize_ref(t, n, o2, sizeof o2, keep, &w2);
                    runs++;
                    if (l1 != l2 || (l1 >= 0 ? memcmp(o1, o2, (size_t)l1 + 1) != 0 : strcmp(w1, w2) != 0)) {
                        if (bad++ < 5) fprintf(stderr, "path shortcut differs on %.*s\n", (int)n, t);
                    }
                }
            }
        }
    }
    TG_CHECK(runs > 500000);
    TG_CHECK_EQ_I((long)bad, 0);
}

/* tg__http_bytes_has (16 places a step, first and last byte, then memcmp)
 * against the plain compare at every place: needles of 1 to 24 bytes cut
 * from and beside haystacks of 0 to 80 bytes over a small alphabet (so
 * partial matches abound), at every offset. */
static void test_bytes_has_equals_ref(void) {
    uint32_t r = 777;
    size_t bad = 0, runs = 0, found = 0;
    for (int t = 0; t < 60000; t++) {
        char hay[80], what[24];
        r = r * 1103515245u + 12345u;
        size_t hl = (r >> 16) % 81;
        for (size_t k = 0; k < hl; k++) {
            r = r * 1103515245u + 12345u;
            hay[k] = "x-ab:\r"[(r >> 16) % 6];
        }
        r = r * 1103515245u + 12345u;
        size_t wl = 1 + (r >> 16) % 24;
        r = r * 1103515245u + 12345u;
        if (hl >= wl && (r >> 16) % 2) memcpy(what, hay + (r >> 18) % (hl - wl + 1), wl); /* a needle that is there */
        else
            for (size_t k = 0; k < wl; k++) {
                r = r * 1103515245u + 12345u;
                what[k] = "x-ab:\r"[(r >> 16) % 6];
            }
        char *h = malloc(hl ? hl : 1); /* exactly hl bytes: ASan sees a read past the end */
        TG_CHECK(h != NULL);
        if (!h) return;
        memcpy(h, hay, hl);
        int a = tg__http_bytes_has(h, hl, what, wl), b = tg__http_bytes_has_ref(h, hl, what, wl);
        free(h);
        runs++;
        found += (size_t)b;
        if (a != b && bad++ < 5) fprintf(stderr, "bytes_has differs: hl %zu wl %zu (%d / %d)\n", hl, wl, a, b);
    }
    TG_CHECK(found > 10000 && runs - found > 10000);
    TG_CHECK_EQ_I((long)bad, 0);
}

/* tg__http_lit_eq (word-wise) against tg__http_name_eq for every literal
 * it is used with: each byte of the literal replaced by each of 256 values,
 * and the literal in upper case. */
static void test_lit_eq_bytes(void) {
    static const char *const lits[] = {"host", "expect", "x-api-key", "x-request-id", "authorization",
                                       "content-length", "accept-encoding", "connection", "transfer-encoding",
                                       "keep-alive", "close", "content-type", "trailer", "upgrade",
                                       "proxy-connection", "proxy-authenticate", "proxy-authorization"};
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        const char *lit = lits[i];
        size_t n = strlen(lit);
        char a[32];
        for (size_t k = 0; k < n; k++)
            for (int b = 0; b < 256; b++) {
                memcpy(a, lit, n); // NOLINT(bugprone-not-null-terminated-result): counted bytes
                a[k] = (char)b;
                TG_CHECK_EQ_I(tg__http_lit_eq(a, lit, n), tg__http_name_eq(a, n, lit));
            }
        for (size_t k = 0; k < n; k++) a[k] = (char)(lit[k] >= 'a' && lit[k] <= 'z' ? lit[k] - 32 : lit[k]);
        TG_CHECK(tg__http_lit_eq(a, lit, n));
    }
}

int main(void) {
    TG_RUN(test_lit_eq_bytes);
    TG_RUN(test_bytes_has_equals_ref);
    TG_RUN(test_path_as_is_equals_ref);
    TG_RUN(test_fast_equals_ref);
    TG_RUN(test_every_byte);
    TG_RUN(test_name_eq_bytes);
    TG_RUN(test_access_set_words);
    TG_RUN(test_requests);
    TG_RUN(test_head_end);
    TG_RUN(test_responses);
    TG_RUN(test_chunked);
    TG_RUN(test_urls);
    TG_RUN(test_path_lengths);
    TG_RUN(test_arena);
    return tg_test_summary();
}
