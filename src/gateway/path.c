/*
 * gateway/path.c: the request path in one canonical spelling (path.h):
 * unreserved escapes decoded, repeated slashes merged, dot segments removed
 * (RFC 3986 5.2.4). Used by the router before it matches a route, so that
 * /v1/chat/%63ompletions, //v1/chat/completions and /x/../v1/chat/completions
 * are /v1/chat/completions for the budget as they are for the upstream.
 */
#include "gateway/path.h"

#include <stdlib.h>
#include <string.h>

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

static int unreserved(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_' || ch == '~';
}

/* Percent-decoding of p[0..n) into d (n + 1 bytes): unreserved characters
 * decoded, other escapes kept in upper case. Returns the length or -1. */
static long decode(const char *p, size_t n, char *d, int keep_slash, const char **why) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '#') {
            *why = "a fragment ('#') is not allowed in a request target";
            return -1;
        }
        if (p[i] != '%') {
            d[o++] = p[i];
            continue;
        }
        int hi = i + 2 < n ? hexval(p[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(p[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            *why = "malformed percent-escape in the path ('%' not followed by two hex digits)";
            return -1;
        }
        unsigned char ch = (unsigned char)(hi * 16 + lo);
        if (ch == '/' && !keep_slash) {
            *why = "an encoded '/' (%2F) is not allowed in the path";
            return -1;
        }
        if (ch == 0) {
            *why = "an encoded NUL (%00) is not allowed in the path";
            return -1;
        }
        if (unreserved(ch)) d[o++] = (char)ch;
        else {
            d[o++] = '%';
            d[o++] = hex[ch >> 4];
            d[o++] = hex[ch & 15];
        }
        i += 2;
    }
    return (long)o;
}

/* remove_dot_segments over a decoded absolute path d[0..n) (d[0] == '/'),
 * empty segments dropped, into out (not overlapping d). Returns the length
 * or -1 (".." above the root). */
static long dot_segments(const char *d, size_t n, char *out, const char **why) {
    size_t o = 0;
    int trailing = 0; /* the path ends in a directory: keep its '/' */
    for (size_t i = 1; i <= n;) {
        const char *seg = d + i;
        const char *end = memchr(seg, '/', n - i);
        size_t sl = end ? (size_t)(end - seg) : n - i;
        int last = end == NULL;
        i += sl + 1;
        if (sl == 0 || (sl == 1 && seg[0] == '.')) {
            if (last) trailing = 1;
            continue;
        }
        if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            if (o == 0) {
                *why = "the path climbs above the root ('..')";
                return -1;
            }
            while (out[o - 1] != '/') o--;
            o--; /* the '/' before the removed segment */
            if (last) trailing = 1;
            continue;
        }
        out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
        trailing = 0;
    }
    if (o == 0 || trailing) out[o++] = '/';
    return (long)o;
}

/* 1 when the path p[0..pl) (p[0] == '/') is canonical as it stands: no
 * '%' or '#', and no empty, "." or ".." segment but a last empty one (a
 * trailing '/'), checked as no "//" and no segment starting with '.' (such
 * a path, rare, takes the long way). Most requests' paths are (issue 17,
 * round 7: decoding and rebuilding them cost ~500 instructions). */
static int canonical_as_is(const char *p, size_t pl) {
    for (size_t i = 0; i < pl; i++) {
        char ch = p[i];
        if (ch == '%' || ch == '#') return 0;
        if (ch == '/' && i + 1 < pl && (p[i + 1] == '/' || p[i + 1] == '.')) return 0;
    }
    return 1;
}

static long normalize(const char *target, size_t n, char *out, size_t outsz, int keep_slash, int as_is_ok,
                      const char **why) {
    const char *q = memchr(target, '?', n);
    size_t pl = q ? (size_t)(q - target) : n;
    *why = NULL;
    if (outsz < n + 2) {
        *why = "the request target is too long";
        return -1;
    }
    if (pl == 0 || target[0] != '/') {
        *why = "the request target must be a path starting with '/'";
        return -1;
    }
    if (as_is_ok && canonical_as_is(target, pl)) { /* decode and dot_segments would give it back */
        memcpy(out, target, n);
        out[n] = '\0';
        return (long)n;
    }
    /* zeroed: the analyzer cannot see decode() write every byte it reads;
     * a usual path on the stack (issue 17: calloc and free were a third of
     * this function's cost) */
    char small[256];
    char *d = pl + 1 <= sizeof small ? memset(small, 0, pl + 1) : calloc(pl + 1, 1);
    if (!d) {
        *why = "out of memory normalizing the path";
        return -1;
    }
    long dl = decode(target, pl, d, keep_slash, why);
    long ol = dl < 0 ? -1 : dot_segments(d, (size_t)dl, out, why);
    if (d != small) free(d);
    if (ol < 0) return -1;
    size_t o = (size_t)ol;
    if (q) {
        memmove(out + o, q, n - pl);
        o += n - pl;
    }
    out[o] = '\0';
    return (long)o;
}

long tg__path_normalize(const char *target, size_t n, char *out, size_t outsz, int keep_slash, const char **why) {
    return normalize(target, n, out, outsz, keep_slash, 1, why);
}

long tg__path_normalize_ref(const char *target, size_t n, char *out, size_t outsz, int keep_slash, const char **why) {
    return normalize(target, n, out, outsz, keep_slash, 0, why);
}
