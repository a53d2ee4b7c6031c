/*
 * gateway/sse_end.c: did an event stream end cleanly (sse_end.h)? Only
 * the stream's last 16 bytes are kept: a clean end is judged by them alone
 * (`data: [DONE]` and the blank line after it, with \n or \r\n endings).
 */
#define _GNU_SOURCE /* memmem */
#include "gateway/sse_end.h"

#include <string.h>

void tg__sse_end_feed(tg__sse_end *t, const char *p, size_t n) {
    const size_t cap = sizeof t->tail;
    if (n >= cap) {
        memcpy(t->tail, p + n - cap, cap);
        t->n = cap;
        return;
    }
    size_t keep = t->n + n > cap ? cap - n : t->n;
    memmove(t->tail, t->tail + t->n - keep, keep);
    memcpy(t->tail + keep, p, n);
    t->n = keep + n;
}

/* The tail without its line endings, written to `out`; its length. */
static size_t strip_end(const tg__sse_end *t, char *out) {
    size_t n = t->n;
    while (n && (t->tail[n - 1] == '\n' || t->tail[n - 1] == '\r')) n--;
    memcpy(out, t->tail, n);
    return n;
}

int tg__sse_end_clean(const tg__sse_end *t, int want_done) {
    size_t n = t->n;
    /* a complete event ends with an empty line: "\n\n" or "\r\n\r\n" */
    int blank = (n >= 2 && t->tail[n - 1] == '\n' && t->tail[n - 2] == '\n') ||
                (n >= 4 && !memcmp(t->tail + n - 4, "\r\n\r\n", 4));
    if (!blank) return 0;
    if (!want_done) return 1;
    char s[sizeof t->tail];
    size_t m = strip_end(t, s);
    static const char done[] = "data: [DONE]";
    size_t dl = sizeof done - 1;
    if (m < dl || memcmp(s + m - dl, done, dl) != 0) return 0;
    return m == dl || s[m - dl - 1] == '\n'; /* a line of its own */
}

const char *tg__sse_event_end(const char *p, size_t n, size_t *sep) {
    const char *e = memmem(p, n, "\n\n", 2);
    const char *e2 = memmem(p, n, "\r\n\r\n", 4);
    *sep = 2;
    if (e2 && (!e || e2 < e)) {
        e = e2;
        *sep = 4;
    }
    return e;
}
