/* fuzz_path.c: libFuzzer target for the request-path normalizer
 * (src/gateway/path.c, tg__path_normalize), which every request target goes
 * through before the router matches it and the upstream receives it.
 *
 * Input: first byte's low bit is keep_slash (GET /v1/models/{id}), the rest
 * the target bytes.
 * Invariants: an error has a message and writes nothing that is read; a
 * success is NUL-terminated at the returned length, starts with '/', and its
 * path (before '?') has no empty, "." or ".." segment and no escape of an
 * unreserved character; normalizing it again gives the same bytes (one
 * canonical spelling, rebuilt by tg__path_normalize_ref); tg__path_normalize
 * (its shortcut for a path already canonical) answers as tg__path_normalize_ref
 * does. ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/path.h"

static int unreserved(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_' || ch == '~';
}

static int hexv(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1; /* canonical escapes are upper case */
}

static void check_canonical(const char *p, size_t n) {
    const char *q = memchr(p, '?', n);
    size_t pl = q ? (size_t)(q - p) : n;
    if (pl == 0 || p[0] != '/') abort();
    for (size_t i = 0; i < pl; i++) {
        if (p[i] == '/') {
            size_t e = i + 1;
            while (e < pl && p[e] != '/') e++;
            size_t sl = e - i - 1;
            if (sl == 0 && e < pl) abort(); /* "//" */
            if (sl == 1 && p[i + 1] == '.') abort();
            if (sl == 2 && p[i + 1] == '.' && p[i + 2] == '.') abort();
        }
        if (p[i] == '%') {
            if (i + 2 >= pl) abort();
            int hi = hexv(p[i + 1]), lo = hexv(p[i + 2]);
            if (hi < 0 || lo < 0 || unreserved((unsigned char)(hi * 16 + lo))) abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 64 * 1024) return 0;
    int keep = data[0] & 1;
    const char *t = (const char *)data + 1;
    size_t n = size - 1;
    char *a = malloc(n + 2), *b = malloc(n + 2);
    if (!a || !b) abort();
    const char *why = NULL;
    long la = tg__path_normalize(t, n, a, n + 2, keep, &why);
    { /* the shortcut for a canonical path answers as the full rebuild does */
        char *r = malloc(n + 2);
        const char *rwhy = NULL;
        if (!r) abort();
        long lr = tg__path_normalize_ref(t, n, r, n + 2, keep, &rwhy);
        if (lr != la || (la >= 0 && memcmp(a, r, (size_t)la + 1) != 0) || (la < 0 && strcmp(why, rwhy) != 0)) abort();
        free(r);
    }
    if (la < 0) {
        if (!why || !*why) abort();
    } else {
        if ((size_t)la > n || a[la] != '\0') abort();
        check_canonical(a, (size_t)la);
        long lb = tg__path_normalize_ref(a, (size_t)la, b, n + 2, keep, &why); /* rebuilt: the same */
        if (lb != la || memcmp(a, b, (size_t)la) != 0) abort();
    }
    free(a);
    free(b);
    return 0;
}
