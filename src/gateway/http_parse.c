/* gateway/http_parse.c: HTTP/1.1 heads and chunked bodies (see http_parse.h). */
#include "gateway/http_parse.h"

#include <string.h>

/* tchar (RFC 9110 5.6.2): digits, letters and !#$%&'*+-.^_`|~, one load a
 * byte (issue 17: the switch cost ~4 instructions a name byte). */
static const unsigned char tchar_tab[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};
static int is_tchar(unsigned char c) { return tchar_tab[c]; }

/* 1 when p[0..n) holds no control byte (< 0x20, or 0x7f), tab included:
 * 8 bytes a step (the last step overlaps). A clean line needs neither the
 * bare-CR search nor the field value's byte-by-byte control check; any other
 * line takes both, as before (a tab in a value is legal, only rarer). */
static int ctl_free(const char *p, size_t n) {
    if (n < 8) {
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch < 0x20 || ch == 0x7f) return 0;
        }
        return 1;
    }
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t bad = 0;
    for (size_t i = 0;; i += 8) {
        if (i + 8 > n) i = n - 8;
        uint64_t w;
        memcpy(&w, p + i, 8);
        uint64_t del = w ^ (0x7f * ones);            /* 0x7f -> 0 */
        bad |= ((w - 0x20 * ones) & ~w & high) |      /* a byte < 0x20 (exact for "any") */
               ((del - ones) & ~del & high);          /* a zero byte of del: 0x7f */
        if (i + 8 >= n) break;
    }
    return bad == 0;
}

size_t tg__http_find_head_end(const char *p, size_t n, size_t from) {
    /* A head ends at LF (CR)? LF; back up so a terminator split across calls is seen. */
    size_t i = from > 2 ? from - 2 : 0;
    for (; i < n; i++) {
        const char *nl = memchr(p + i, '\n', n - i); /* line to line, not byte to byte */
        if (!nl) return 0;
        i = (size_t)(nl - p);
        if (i + 1 < n && p[i + 1] == '\n') return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') return i + 3;
    }
    return 0;
}

int tg__http_has_token(const char *v, size_t len, const char *token) {
    size_t i = 0;
    while (i < len) {
        while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        size_t s = i;
        while (i < len && v[i] != ',') i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e > s && tg__http_name_eq(v + s, e - s, token)) return 1;
    }
    return 0;
}

int tg__http_is_hop_by_hop(const char *name, size_t len) {
    switch (len) { /* by length first: most fields are none of these */
    case 2: return tg__http_name_eq(name, len, "te");
    case 7: return tg__http_name_eq(name, len, "trailer") || tg__http_name_eq(name, len, "upgrade");
    case 10: return tg__http_name_eq(name, len, "connection") || tg__http_name_eq(name, len, "keep-alive");
    case 16: return tg__http_name_eq(name, len, "proxy-connection");
    case 17: return tg__http_name_eq(name, len, "transfer-encoding");
    case 18: return tg__http_name_eq(name, len, "proxy-authenticate");
    case 19: return tg__http_name_eq(name, len, "proxy-authorization");
    default: return 0;
    }
}

const tg__http_header *tg__http_find(const tg__http_head *h, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < h->n_headers; i++)
        if (h->headers[i].name_len == n && tg__http_name_eq(h->headers[i].name, n, name)) return &h->headers[i];
    return NULL;
}

static int fail(tg__http_error *e, int status, const char *msg) {
    e->status = status;
    e->message = msg;
    e->got = e->limit = 0;
    e->setting = NULL;
    return -1;
}

/* A refusal for a size limit: what the request had (0: more than the limit) and the setting. */
static int fail_limit(tg__http_error *e, int status, const char *msg, size_t got, size_t limit, const char *setting) {
    fail(e, status, msg);
    e->got = got;
    e->limit = limit;
    e->setting = setting;
    return -1;
}

/* A request's Transfer-Encoding (RFC 9112 6.1, as nginx): exactly "chunked",
 * once, in HTTP/1.1; anything else is refused. */
static int request_te(const tg__http_header *hd, tg__http_head *h, int have_te, tg__http_error *e) {
    if (h->version_minor == 0) return fail(e, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (have_te) return fail(e, 400, "repeated Transfer-Encoding field");
    if (!tg__http_name_eq(hd->value, hd->value_len, "chunked"))
        return fail(e, 501, "transfer coding not implemented: only a lone \"chunked\" is accepted");
    h->chunked = 1;
    return 0;
}

/* Next line of p[pos..n): sets ls, ll (without the line end) and advances
 * past CRLF or LF. -1 on a bare CR or a missing line end; else 1 when the
 * line is free of control bytes (ctl_free), 0 when not. */
static int next_line(const char *p, size_t n, size_t *pos, const char **ls, size_t *ll) {
    size_t i = *pos;
    const char *nl = i < n ? memchr(p + i, '\n', n - i) : NULL; /* memchr: not a byte loop (issue 17) */
    if (!nl) return -1;
    i = (size_t)(nl - p);
    size_t end = i;
    if (end > *pos && p[end - 1] == '\r') end--;
    int clean = ctl_free(p + *pos, end - *pos); /* clean: no CR before p[end] */
    if (!clean && i > *pos + 1 && memchr(p + *pos, '\r', i - 1 - *pos)) return -1; /* a CR not before the LF */
    *ls = p + *pos;
    *ll = end - *pos;
    *pos = i + 1;
    return clean;
}

/* HTTP/1.0 and HTTP/1.1; a higher 1.x is read as 1.1 (RFC 9110 2.5: the
 * highest minor version of the major one the recipient implements); another
 * major version is -2 (505). */
static int parse_version(const char *v, size_t len, int *minor) {
    if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.') return -1;
    if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return -1;
    if (v[5] != '1') return -2;
    *minor = v[7] == '0' ? 0 : 1;
    return 0;
}

/* Field lines up to the blank line, then framing. */
static int parse_fields(const char *p, size_t n, size_t pos, const tg__http_limits *lim,
                        tg__http_head *h, int is_request, tg__http_error *e) {
    int conn_close = 0, conn_keep = 0, have_te = 0, hosts = 0;
    h->n_headers = 0;
    h->content_length = -1;
    h->chunked = 0;
    h->te_other = 0;
    h->expect_continue = 0;
    for (;;) {
        const char *ls;
        size_t ll;
        int clean = next_line(p, n, &pos, &ls, &ll);
        if (clean < 0) return fail(e, 400, "malformed line ending in header block");
        if (ll == 0) break;
        if (ls[0] == ' ' || ls[0] == '\t') return fail(e, 400, "obsolete header line folding is not accepted");
        if (h->n_headers >= lim->max_headers)
            return fail_limit(e, 431, "too many header fields", 0, lim->max_headers, "limits.max_headers");
        size_t c = 0;
        while (c < ll && is_tchar((unsigned char)ls[c])) c++;
        if (c == 0 || c >= ll || ls[c] != ':')
            return fail(e, 400, "malformed header field name (a token followed by ':' is required)");
        size_t vs = c + 1, ve = ll;
        while (vs < ve && (ls[vs] == ' ' || ls[vs] == '\t')) vs++;
        while (ve > vs && (ls[ve - 1] == ' ' || ls[ve - 1] == '\t')) ve--;
        for (size_t k = clean ? ve : vs; k < ve; k++) {
            unsigned char ch = (unsigned char)ls[k];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return fail(e, 400, "control character in header field value");
        }
        tg__http_header *hd = &h->headers[h->n_headers++];
        hd->name = ls;
        hd->name_len = c;
        hd->value = ls + vs;
        hd->value_len = ve - vs;
        if (tg__http_name_eq(ls, c, "content-length")) {
            if (hd->value_len == 0 || hd->value_len > 18)
                return fail(e, 400, "Content-Length must be 1 to 18 decimal digits");
            int64_t v = 0;
            for (size_t k = 0; k < hd->value_len; k++) {
                char d = hd->value[k];
                if (d < '0' || d > '9') return fail(e, 400, "Content-Length is not a plain decimal number");
                v = v * 10 + (d - '0');
            }
            if (h->content_length >= 0 && h->content_length != v)
                return fail(e, 400, "conflicting Content-Length fields");
            h->content_length = v;
        } else if (is_request && tg__http_name_eq(ls, c, "transfer-encoding")) {
            if (request_te(hd, h, have_te, e) != 0) return -1;
            have_te = 1;
        } else if (tg__http_name_eq(ls, c, "transfer-encoding")) {
            have_te = 1;
            /* A response's: chunked must be the final coding (RFC 9112 6.1). */
            const char *v = hd->value;
            size_t vl = hd->value_len;
            size_t last = vl;
            while (last > 0 && v[last - 1] != ',') last--;
            const char *lv = v + last;
            size_t lvl = vl - last;
            while (lvl && (*lv == ' ' || *lv == '\t')) { lv++; lvl--; }
            if (tg__http_name_eq(lv, lvl, "chunked")) {
                if (h->chunked) return fail(e, 400, "chunked applied twice");
                h->chunked = 1;
            } else {
                h->te_other = 1;
            }
        } else if (tg__http_name_eq(ls, c, "connection")) {
            if (tg__http_has_token(hd->value, hd->value_len, "close")) conn_close = 1;
            if (h->version_minor == 0 && tg__http_has_token(hd->value, hd->value_len, "keep-alive"))
                conn_keep = 1; /* read for HTTP/1.0 only */
        } else if (is_request && tg__http_name_eq(ls, c, "host")) {
            if (++hosts > 1) return fail(e, 400, "more than one Host field"); /* RFC 9112 3.2 */
        } else if (is_request && tg__http_name_eq(ls, c, "expect")) {
            if (tg__http_name_eq(hd->value, hd->value_len, "100-continue")) h->expect_continue = 1;
        }
    }
    if (pos != n) return fail(e, 400, "bytes after the end of the header block");
    if (is_request && h->version_minor == 1 && hosts == 0)
        return fail(e, 400, "an HTTP/1.1 request without a Host field"); /* RFC 9112 3.2 */
    if (have_te && h->content_length >= 0) {
        if (is_request) return fail(e, 400, "both Transfer-Encoding and Content-Length");
        h->content_length = -1; /* RFC 9112 6.3: Transfer-Encoding overrides */
    }
    if (h->te_other) h->chunked = 0;
    h->keep_alive = h->version_minor == 1 ? !conn_close : (conn_keep && !conn_close);
    if (h->te_other) h->keep_alive = 0;
    return 0;
}

int tg__http_parse_request(const char *p, size_t n, const tg__http_limits *lim,
                           tg__http_head *h, tg__http_error *e) {
    if (n > lim->max_head)
        return fail_limit(e, 431, "request header block too large", n, lim->max_head, "limits.max_header_bytes");
    size_t pos = 0;
    const char *ls;
    size_t ll;
    if (next_line(p, n, &pos, &ls, &ll) < 0) return fail(e, 400, "malformed request line");
    if (ll > lim->max_line)
        return fail_limit(e, 414, "request line too long", ll, lim->max_line, "limits.max_request_line");
    size_t i = 0;
    while (i < ll && is_tchar((unsigned char)ls[i])) i++;
    if (i == 0 || i >= ll || ls[i] != ' ') return fail(e, 400, "malformed request method");
    h->method = ls;
    h->method_len = i;
    size_t ts = ++i;
    while (i < ll && ls[i] > 0x20 && ls[i] < 0x7f) i++;
    if (i == ts || i >= ll || ls[i] != ' ') return fail(e, 400, "malformed request target");
    h->target = ls + ts;
    h->target_len = i - ts;
    i++;
    int r = parse_version(ls + i, ll - i, &h->version_minor);
    if (r == -2) return fail(e, 505, "HTTP version not supported: only HTTP/1.0 and HTTP/1.1");
    if (r != 0) return fail(e, 400, "malformed HTTP version in request line");
    h->status = 0;
    return parse_fields(p, n, pos, lim, h, 1, e);
}

int tg__http_parse_response(const char *p, size_t n, const tg__http_limits *lim,
                            tg__http_head *h, tg__http_error *e) {
    if (n > lim->max_head) return fail(e, 502, "upstream response head exceeds the header size limit");
    size_t pos = 0;
    const char *ls;
    size_t ll;
    if (next_line(p, n, &pos, &ls, &ll) < 0) return fail(e, 502, "malformed upstream status line");
    if (ll > lim->max_line) return fail(e, 502, "upstream status line too long");
    if (ll < 12 || ls[8] != ' ') return fail(e, 502, "malformed upstream status line");
    if (parse_version(ls, 8, &h->version_minor) != 0) return fail(e, 502, "upstream is not speaking HTTP/1.x");
    int st = 0;
    for (size_t k = 9; k < 12; k++) {
        if (ls[k] < '0' || ls[k] > '9') return fail(e, 502, "malformed upstream status code");
        st = st * 10 + (ls[k] - '0');
    }
    if (st < 100 || st > 599 || (ll > 12 && ls[12] != ' ')) return fail(e, 502, "malformed upstream status code");
    h->status = st;
    h->method = h->target = NULL;
    h->method_len = h->target_len = 0;
    if (parse_fields(p, n, pos, lim, h, 0, e) != 0) {
        e->status = 502;
        return -1;
    }
    return 0;
}

/* ---- chunked ------------------------------------------------------------ */

enum { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER_START,
       CK_TRAILER_LINE, CK_FINAL_LF, CK_DONE };

void tg__chunked_init(tg__chunked *c) {
    memset(c, 0, sizeof *c);
    c->state = CK_SIZE;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static void size_line_done(tg__chunked *c) {
    c->state = c->remaining == 0 ? CK_TRAILER_START : CK_DATA;
    c->extra = 0;
}

int tg__chunked_feed(tg__chunked *c, const char *p, size_t n, size_t *consumed,
                     const char **out, size_t *out_len, const char **msg) {
    size_t i = 0;
    *out = NULL;
    *out_len = 0;
    while (i < n) {
        char ch = p[i];
        switch (c->state) {
        case CK_SIZE: {
            int v = hexval(ch);
            if (v >= 0) {
                if (c->digits >= 16 || c->remaining > (UINT64_MAX >> 4)) {
                    *msg = "chunk size over 16 hex digits";
                    goto bad;
                }
                c->remaining = (c->remaining << 4) | (uint64_t)v;
                c->digits++;
            } else if (c->digits == 0) {
                *msg = "chunk size missing";
                goto bad;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->state = CK_EXT;
            } else if (ch == '\r') {
                c->state = CK_SIZE_LF;
            } else if (ch == '\n') {
                size_line_done(c);
            } else {
                *msg = "invalid byte in chunk size";
                goto bad;
            }
            i++;
            break;
        }
        case CK_EXT:
            if (ch == '\n') size_line_done(c);
            else if (ch == '\r') c->state = CK_SIZE_LF;
            else if (++c->extra > TG__CHUNK_MAX_EXT) {
                *msg = "chunk extension over 4096 bytes";
                goto bad;
            }
            i++;
            break;
        case CK_SIZE_LF:
            if (ch != '\n') {
                *msg = "bare CR after chunk size";
                goto bad;
            }
            size_line_done(c);
            i++;
            break;
        case CK_DATA: {
            size_t take = n - i;
            if ((uint64_t)take > c->remaining) take = (size_t)c->remaining;
            *out = p + i;
            *out_len = take;
            c->remaining -= take;
            if (c->remaining == 0) c->state = CK_DATA_CR;
            *consumed = i + take;
            return TG__CHUNK_DATA;
        }
        case CK_DATA_CR:
            if (ch == '\r') c->state = CK_DATA_LF;
            else if (ch == '\n') { c->state = CK_SIZE; c->digits = 0; }
            else {
                *msg = "chunk data longer than its size";
                goto bad;
            }
            i++;
            break;
        case CK_DATA_LF:
            if (ch != '\n') {
                *msg = "chunk data longer than its size";
                goto bad;
            }
            c->state = CK_SIZE;
            c->digits = 0;
            i++;
            break;
        case CK_TRAILER_START:
            if (ch == '\r') c->state = CK_FINAL_LF;
            else if (ch == '\n') {
                c->state = CK_DONE;
                *consumed = i + 1;
                return TG__CHUNK_DONE;
            } else {
                c->state = CK_TRAILER_LINE;
                c->extra++;
            }
            i++;
            break;
        case CK_TRAILER_LINE:
            if (ch == '\n') c->state = CK_TRAILER_START;
            if (++c->extra > TG__CHUNK_MAX_TRAILER) {
                *msg = "chunked trailer section over 8192 bytes";
                goto bad;
            }
            i++;
            break;
        case CK_FINAL_LF:
            if (ch != '\n') {
                *msg = "bare CR ending chunked body";
                goto bad;
            }
            c->state = CK_DONE;
            *consumed = i + 1;
            return TG__CHUNK_DONE;
        default:
            *consumed = i;
            return TG__CHUNK_DONE;
        }
    }
    *consumed = i;
    return c->state == CK_DONE ? TG__CHUNK_DONE : TG__CHUNK_MORE;
bad:
    *consumed = i;
    return TG__CHUNK_ERROR;
}
