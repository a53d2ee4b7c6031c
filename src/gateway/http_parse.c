/* gateway/http_parse.c: HTTP/1.1 heads and chunked bodies (see http_parse.h). */
#include "gateway/http_parse.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* ---- scanning 16 bytes a step (issue 17, round 7) ------------------------
 * A head is read with a few block scans instead of a memchr, a word-wise
 * control check and a byte loop per line. Each kind picks bytes: */
enum {
    SC_CTL,     /* a control byte: < 0x20 or 0x7f (CR, LF and HTAB included) */
    SC_NOTVCHAR, /* not 0x21..0x7e: what ends a request target */
    SC_NOTNAME, /* not a letter, digit or '-': what ends a usual field name */
    SC_LF       /* LF */
};

static inline int byte_picked(unsigned char ch, int kind) {
    switch (kind) {
    case SC_CTL: return ch < 0x20 || ch == 0x7f;
    case SC_NOTVCHAR: return ch <= 0x20 || ch >= 0x7f;
    case SC_NOTNAME: {
        unsigned char l = (unsigned char)(ch | 0x20);
        return !((l >= 'a' && l <= 'z') || (ch >= '0' && ch <= '9') || ch == '-');
    }
    default: return ch == '\n';
    }
}

#if defined(__SSE2__)
/* Bit k set when byte k of x is picked (byte_picked, 16 at once; signed
 * compares: a byte >= 0x80 is below every positive bound). */
static inline unsigned block_picked(__m128i x, int kind) {
    switch (kind) {
    case SC_CTL: {
        __m128i lo = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
        return (unsigned)_mm_movemask_epi8(_mm_or_si128(lo, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f))));
    }
    case SC_NOTVCHAR: {
        __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)), _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));
        return (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
    }
    case SC_NOTNAME: {
        __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
        __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
        __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)), _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
        __m128i ok = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
        return (unsigned)_mm_movemask_epi8(ok) ^ 0xffffu;
    }
    default: return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
    }
}
#endif

/* Index of the first byte of p[i..n) that `kind` picks; n when none.
 * Reads nothing outside p[0..n): the last short step reloads the final 16
 * bytes and shifts out those already seen. */
static inline size_t scan(const char *p, size_t n, size_t i, int kind) {
#if defined(__SSE2__)
    if (n >= 16) {
        for (; i + 16 <= n; i += 16) {
            unsigned m = block_picked(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), kind);
            if (m) return i + (size_t)__builtin_ctz(m);
        }
        if (i >= n) return n;
        unsigned m = block_picked(_mm_loadu_si128((const __m128i *)(const void *)(p + n - 16)), kind) >>
                     (i - (n - 16));
        return m ? i + (size_t)__builtin_ctz(m) : n;
    }
#endif
    for (; i < n; i++)
        if (byte_picked((unsigned char)p[i], kind)) return i;
    return n;
}


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
#if defined(__SSE2__)
    if (n >= 17) { /* an LF before an LF or a CR, 16 places a step; the last step overlaps places seen */
        const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
        for (size_t at;; i += 16) {
            if (i + 1 >= n) return 0;
            at = i + 17 <= n ? i : n - 17;
            __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
            __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + at + 1));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(x0, lf), _mm_or_si128(_mm_cmpeq_epi8(x1, lf), _mm_cmpeq_epi8(x1, cr))));
            if (m && at != i) m = (m >> (i - at)) << (i - at);
            for (; m; m &= m - 1) {
                size_t k = at + (size_t)__builtin_ctz(m);
                if (p[k + 1] == '\n') return k + 2;
                if (k + 2 < n && p[k + 2] == '\n') return k + 3;
            }
            if (at + 17 >= n) return 0;
        }
    }
#endif
    for (; (i = scan(p, n, i, SC_LF)) < n; i++) { /* LF to LF */
        if (i + 1 < n && p[i + 1] == '\n') return i + 2;
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') return i + 3;
    }
    return 0;
}

size_t tg__http_find_head_end_ref(const char *p, size_t n, size_t from) {
    size_t i = from > 2 ? from - 2 : 0;
    for (; i < n; i++) {
        const char *nl = memchr(p + i, '\n', n - i);
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

int tg__http_bytes_has(const char *hp, size_t hl, const char *what, size_t wl) {
    if (!hp || wl == 0 || wl > hl) return 0;
    size_t last = hl - wl, i = 0; /* the last place it may start */
#if defined(__SSE2__)
    if (wl >= 2 && last >= 15) { /* where the first and the last byte both match (16 places a step), then memcmp */
        const __m128i f = _mm_set1_epi8(what[0]), l = _mm_set1_epi8(what[wl - 1]);
        for (; i + 31 <= last; i += 32) { /* 32 places a step while they all fit */
            const char *q = hp + i;
            __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)q);
            __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)(q + wl - 1));
            __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(q + 16));
            __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(q + 16 + wl - 1));
            uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a0, f), _mm_cmpeq_epi8(b0, l))) |
                         (uint32_t)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a1, f), _mm_cmpeq_epi8(b1, l))) << 16;
            for (; m; m &= m - 1)
                if (memcmp(q + __builtin_ctz(m) + 1, what + 1, wl - 2) == 0) return 1;
        }
        if (i > last) return 0;
        for (size_t at;; i += 16) {
            at = i + 15 <= last ? i : last - 15; /* the last step overlaps places already seen: */
            __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(hp + at));
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(hp + at + wl - 1));
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, f), _mm_cmpeq_epi8(b, l)));
            if (m && at != i) m = (m >> (i - at)) << (i - at); /* ...shifted out */
            for (; m; m &= m - 1)
                if (memcmp(hp + at + (size_t)__builtin_ctz(m) + 1, what + 1, wl - 2) == 0) return 1;
            if (at + 15 >= last) return 0;
        }
    }
#endif
    for (; i <= last; i++)
        if (hp[i] == what[0] && memcmp(hp + i + 1, what + 1, wl - 1) == 0) return 1;
    return 0;
}

int tg__http_bytes_has_ref(const char *hp, size_t hl, const char *what, size_t wl) {
    for (size_t i = 0; hp && wl && i + wl <= hl; i++)
        if (memcmp(hp + i, what, wl) == 0) return 1;
    return 0;
}

const tg__http_header *tg__http_find_n(const tg__http_head *h, const char *name, size_t n) {
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

/* One field line read line by line (the reference reading): 1 with the
 * line's start, its name length and its value's bounds (OWS trimmed) in
 * the line, 0 for the blank line ending the head, -1 with *e set. */
static int field_line_ref(const char *p, size_t n, size_t *pos, const tg__http_limits *lim, const tg__http_head *h,
                          const char **ls, size_t *c, size_t *vs, size_t *ve, tg__http_error *e) {
    size_t ll;
    int clean = next_line(p, n, pos, ls, &ll);
    if (clean < 0) return fail(e, 400, "malformed line ending in header block");
    if (ll == 0) return 0;
    const char *l = *ls;
    if (l[0] == ' ' || l[0] == '\t') return fail(e, 400, "obsolete header line folding is not accepted");
    if (h->n_headers >= lim->max_headers)
        return fail_limit(e, 431, "too many header fields", 0, lim->max_headers, "limits.max_headers");
    size_t k = 0;
    while (k < ll && is_tchar((unsigned char)l[k])) k++;
    if (k == 0 || k >= ll || l[k] != ':')
        return fail(e, 400, "malformed header field name (a token followed by ':' is required)");
    size_t s = k + 1, t = ll;
    while (s < t && (l[s] == ' ' || l[s] == '\t')) s++;
    while (t > s && (l[t - 1] == ' ' || l[t - 1] == '\t')) t--;
    for (size_t j = clean ? t : s; j < t; j++) {
        unsigned char ch = (unsigned char)l[j];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return fail(e, 400, "control character in header field value");
    }
    *c = k;
    *vs = s;
    *ve = t;
    return 1;
}

/* One field line the usual way (issue 17, round 7), in two block scans: a
 * name (letters, digits, '-', then any tchar), ':', OWS, a value without a
 * control byte, CRLF or LF. Returns as field_line_ref, whose answer it is
 * for such a line (the line holds no control byte but OWS tabs, so its
 * first LF, its end and its value are these, and every check passes), or
 * -1 with *pos untouched for any other line: field_line_ref reads it. The
 * caller checks limits.max_headers. */
static int field_line(const char *p, size_t n, size_t *pos, const char **ls, size_t *c, size_t *vs, size_t *ve) {
    size_t s = *pos;
    if (s >= n) return -1;
    if (p[s] == '\n' || (p[s] == '\r' && s + 1 < n && p[s + 1] == '\n')) { /* the blank line */
        *pos = s + (p[s] == '\n' ? 1 : 2);
        return 0;
    }
    size_t i = scan(p, n, s, SC_NOTNAME);
    while (i < n && is_tchar((unsigned char)p[i])) i++;
    if (i == s || i >= n || p[i] != ':') return -1;
    size_t v = i + 1;
    while (v < n && (p[v] == ' ' || p[v] == '\t')) v++;
    size_t t = scan(p, n, v, SC_CTL), next;
    if (t < n && p[t] == '\n') next = t + 1;
    else if (t + 1 < n && p[t] == '\r' && p[t + 1] == '\n') next = t + 2;
    else return -1; /* a tab or another control byte, or no line end */
    while (t > v && p[t - 1] == ' ') t--;
    *ls = p + s;
    *c = i - s;
    *vs = v - s;
    *ve = t - s;
    *pos = next;
    return 1;
}

enum { F_OTHER, F_LENGTH, F_TE, F_CONNECTION, F_HOST, F_EXPECT };

/* The fields parse_fields acts on, by name (the reference: a compare each). */
static int field_kind_ref(const char *name, size_t len, int is_request) {
    if (tg__http_name_eq(name, len, "content-length")) return F_LENGTH;
    if (tg__http_name_eq(name, len, "transfer-encoding")) return F_TE;
    if (tg__http_name_eq(name, len, "connection")) return F_CONNECTION;
    if (is_request && tg__http_name_eq(name, len, "host")) return F_HOST;
    if (is_request && tg__http_name_eq(name, len, "expect")) return F_EXPECT;
    return F_OTHER;
}

/* The same by length first, then one word-wise compare (tg__http_lit_eq, http_parse.h). */
static int field_kind(const char *name, size_t len, int is_request) {
    switch (len) {
    case 4: return is_request && tg__http_lit_eq(name, "host", 4) ? F_HOST : F_OTHER;
    case 6: return is_request && tg__http_lit_eq(name, "expect", 6) ? F_EXPECT : F_OTHER;
    case 10: return tg__http_lit_eq(name, "connection", 10) ? F_CONNECTION : F_OTHER;
    case 14: return tg__http_lit_eq(name, "content-length", 14) ? F_LENGTH : F_OTHER;
    case 17: return tg__http_lit_eq(name, "transfer-encoding", 17) ? F_TE : F_OTHER;
    default: return F_OTHER;
    }
}

typedef struct fields_seen {
    int conn_close, conn_keep, have_te, hosts;
} fields_seen;

static int content_length(const tg__http_header *hd, tg__http_head *h, tg__http_error *e) {
    if (hd->value_len == 0 || hd->value_len > 18) return fail(e, 400, "Content-Length must be 1 to 18 decimal digits");
    int64_t v = 0;
    for (size_t k = 0; k < hd->value_len; k++) {
        char d = hd->value[k];
        if (d < '0' || d > '9') return fail(e, 400, "Content-Length is not a plain decimal number");
        v = v * 10 + (d - '0');
    }
    if (h->content_length >= 0 && h->content_length != v) return fail(e, 400, "conflicting Content-Length fields");
    h->content_length = v;
    return 0;
}

/* A response's Transfer-Encoding: chunked must be the final coding (RFC 9112 6.1). */
static int response_te(const tg__http_header *hd, tg__http_head *h, tg__http_error *e) {
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
    return 0;
}

/* What a field of `kind` means for the framing. `fast`: a lone
 * "keep-alive" or "close" Connection value is read at once. */
static int field_meaning(int kind, const tg__http_header *hd, tg__http_head *h, int is_request, fields_seen *st,
                         int fast, tg__http_error *e) {
    switch (kind) {
    case F_LENGTH: return content_length(hd, h, e);
    case F_TE:
        if (is_request && request_te(hd, h, st->have_te, e) != 0) return -1;
        st->have_te = 1;
        return is_request ? 0 : response_te(hd, h, e);
    case F_CONNECTION:
        if (fast && hd->value_len == 10 && tg__http_lit_eq(hd->value, "keep-alive", 10)) {
            if (h->version_minor == 0) st->conn_keep = 1;
            return 0;
        }
        if (fast && hd->value_len == 5 && tg__http_lit_eq(hd->value, "close", 5)) {
            st->conn_close = 1;
            return 0;
        }
        if (tg__http_has_token(hd->value, hd->value_len, "close")) st->conn_close = 1;
        if (h->version_minor == 0 && tg__http_has_token(hd->value, hd->value_len, "keep-alive"))
            st->conn_keep = 1; /* read for HTTP/1.0 only */
        return 0;
    case F_HOST:
        if (++st->hosts > 1) return fail(e, 400, "more than one Host field"); /* RFC 9112 3.2 */
        return 0;
    case F_EXPECT:
        if (tg__http_name_eq(hd->value, hd->value_len, "100-continue")) h->expect_continue = 1;
        return 0;
    default: return 0;
    }
}

/* Field lines up to the blank line, then framing. `fast`: field_line and
 * field_kind, each falling back to the reference (0: the reference alone,
 * tg__http_parse_*_ref). */
static int parse_fields(const char *p, size_t n, size_t pos, const tg__http_limits *lim,
                        tg__http_head *h, int is_request, int fast, tg__http_error *e) {
    fields_seen st = {0, 0, 0, 0};
    h->n_headers = 0;
    h->content_length = -1;
    h->chunked = 0;
    h->te_other = 0;
    h->expect_continue = 0;
    for (;;) {
        const char *ls = NULL;
        size_t c = 0, vs = 0, ve = 0;
        int r = fast ? field_line(p, n, &pos, &ls, &c, &vs, &ve) : -1;
        if (r > 0 && h->n_headers >= lim->max_headers)
            return fail_limit(e, 431, "too many header fields", 0, lim->max_headers, "limits.max_headers");
        if (r < 0 && (r = field_line_ref(p, n, &pos, lim, h, &ls, &c, &vs, &ve, e)) < 0) return -1;
        if (r == 0) break;
        tg__http_header *hd = &h->headers[h->n_headers++];
        hd->name = ls;
        hd->name_len = c;
        hd->value = ls + vs;
        hd->value_len = ve - vs;
        int kind = fast ? field_kind(ls, c, is_request) : field_kind_ref(ls, c, is_request);
        if (kind != F_OTHER && field_meaning(kind, hd, h, is_request, &st, fast, e) != 0) return -1;
    }
    if (pos != n) return fail(e, 400, "bytes after the end of the header block");
    if (is_request && h->version_minor == 1 && st.hosts == 0)
        return fail(e, 400, "an HTTP/1.1 request without a Host field"); /* RFC 9112 3.2 */
    if (st.have_te && h->content_length >= 0) {
        if (is_request) return fail(e, 400, "both Transfer-Encoding and Content-Length");
        h->content_length = -1; /* RFC 9112 6.3: Transfer-Encoding overrides */
    }
    if (h->te_other) h->chunked = 0;
    h->keep_alive = h->version_minor == 1 ? !st.conn_close : (st.conn_keep && !st.conn_close);
    if (h->te_other) h->keep_alive = 0;
    return 0;
}

/* The start line: as next_line, in one control-byte scan when the line has
 * none before its CRLF or LF (`fast`, the usual line). */
static int start_line(const char *p, size_t n, size_t *pos, const char **ls, size_t *ll, int fast) {
    if (fast) {
        size_t j = scan(p, n, *pos, SC_CTL), next = 0;
        if (j < n && p[j] == '\n') next = j + 1;
        else if (j + 1 < n && p[j] == '\r' && p[j + 1] == '\n') next = j + 2;
        if (next) {
            *ls = p + *pos;
            *ll = j - *pos;
            *pos = next;
            return 1;
        }
    }
    return next_line(p, n, pos, ls, ll);
}

static int parse_request(const char *p, size_t n, const tg__http_limits *lim, tg__http_head *h, int fast,
                         tg__http_error *e) {
    if (n > lim->max_head)
        return fail_limit(e, 431, "request header block too large", n, lim->max_head, "limits.max_header_bytes");
    size_t pos = 0;
    const char *ls;
    size_t ll;
    if (start_line(p, n, &pos, &ls, &ll, fast) < 0) return fail(e, 400, "malformed request line");
    if (ll > lim->max_line)
        return fail_limit(e, 414, "request line too long", ll, lim->max_line, "limits.max_request_line");
    size_t i = 0;
    while (i < ll && is_tchar((unsigned char)ls[i])) i++;
    if (i == 0 || i >= ll || ls[i] != ' ') return fail(e, 400, "malformed request method");
    h->method = ls;
    h->method_len = i;
    size_t ts = ++i;
    if (fast) i = scan(ls, ll, i, SC_NOTVCHAR);
    else
        while (i < ll && ls[i] > 0x20 && ls[i] < 0x7f) i++;
    if (i == ts || i >= ll || ls[i] != ' ') return fail(e, 400, "malformed request target");
    h->target = ls + ts;
    h->target_len = i - ts;
    i++;
    int r = parse_version(ls + i, ll - i, &h->version_minor);
    if (r == -2) return fail(e, 505, "HTTP version not supported: only HTTP/1.0 and HTTP/1.1");
    if (r != 0) return fail(e, 400, "malformed HTTP version in request line");
    h->status = 0;
    return parse_fields(p, n, pos, lim, h, 1, fast, e);
}

static int parse_response(const char *p, size_t n, const tg__http_limits *lim, tg__http_head *h, int fast,
                          tg__http_error *e) {
    if (n > lim->max_head) return fail(e, 502, "upstream response head exceeds the header size limit");
    size_t pos = 0;
    const char *ls;
    size_t ll;
    if (start_line(p, n, &pos, &ls, &ll, fast) < 0) return fail(e, 502, "malformed upstream status line");
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
    if (parse_fields(p, n, pos, lim, h, 0, fast, e) != 0) {
        e->status = 502;
        return -1;
    }
    return 0;
}

int tg__http_parse_request(const char *p, size_t n, const tg__http_limits *lim, tg__http_head *h,
                           tg__http_error *e) {
    return parse_request(p, n, lim, h, 1, e);
}
int tg__http_parse_request_ref(const char *p, size_t n, const tg__http_limits *lim, tg__http_head *h,
                               tg__http_error *e) {
    return parse_request(p, n, lim, h, 0, e);
}
int tg__http_parse_response(const char *p, size_t n, const tg__http_limits *lim, tg__http_head *h,
                            tg__http_error *e) {
    return parse_response(p, n, lim, h, 1, e);
}
int tg__http_parse_response_ref(const char *p, size_t n, const tg__http_limits *lim, tg__http_head *h,
                                tg__http_error *e) {
    return parse_response(p, n, lim, h, 0, e);
}

static int heads_same(const tg__http_head *a, const tg__http_head *b) {
    if (a->method != b->method || a->method_len != b->method_len || a->target != b->target ||
        a->target_len != b->target_len || a->status != b->status || a->version_minor != b->version_minor ||
        a->n_headers != b->n_headers || a->content_length != b->content_length || a->chunked != b->chunked ||
        a->te_other != b->te_other || a->keep_alive != b->keep_alive || a->expect_continue != b->expect_continue)
        return 0;
    for (size_t i = 0; i < a->n_headers; i++)
        if (a->headers[i].name != b->headers[i].name || a->headers[i].name_len != b->headers[i].name_len ||
            a->headers[i].value != b->headers[i].value || a->headers[i].value_len != b->headers[i].value_len)
            return 0;
    return 1;
}

int tg__http_vs_ref(const char *p, size_t n, const tg__http_limits *lim, int is_req, tg__http_header *h1,
                    tg__http_header *h2, tg__http_error *e1, tg__http_error *e2, int *rc) {
    tg__http_head a, b;
    memset(&a, 0x5a, sizeof a); /* a part neither parser sets shows as the same bytes */
    memset(&b, 0x5a, sizeof b);
    a.headers = h1;
    b.headers = h2;
    *e1 = *e2 = (tg__http_error){0, NULL, 0, 0, NULL};
    int r1 = is_req ? tg__http_parse_request(p, n, lim, &a, e1) : tg__http_parse_response(p, n, lim, &a, e1);
    int r2 = is_req ? tg__http_parse_request_ref(p, n, lim, &b, e2) : tg__http_parse_response_ref(p, n, lim, &b, e2);
    *rc = r1;
    if (r1 != r2) return TG__HTTP_REF_VERDICT;
    if (r1 == 0) return heads_same(&a, &b) ? TG__HTTP_REF_SAME : TG__HTTP_REF_PARTS;
    return e1->status == e2->status && !strcmp(e1->message, e2->message) && e1->got == e2->got &&
                   e1->limit == e2->limit && e1->setting == e2->setting
               ? TG__HTTP_REF_SAME
               : TG__HTTP_REF_REFUSAL;
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
