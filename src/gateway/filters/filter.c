/*
 * gateway/filters/filter.c: the chain's plumbing (filter.h): calls that
 * end quietly at the end of a chain, the buffer sink, and what the filters
 * that read chat.completion.chunk events share (one event's data, a
 * stream's identity).
 */
#include "gateway/filters/filter.h"

#include <string.h>

void tg__filter_head(tg__filter *f, int status, int sse) {
    if (f && f->ops->on_head) f->ops->on_head(f, status, sse);
}

void tg__filter_data(tg__filter *f, const char *p, size_t n) {
    if (f && n && f->ops->on_data) f->ops->on_data(f, p, n);
}

void tg__filter_end(tg__filter *f) {
    if (f && f->ops->on_end) f->ops->on_end(f);
}

void tg__filter_free(tg__filter *f) {
    if (f && f->ops->destroy) f->ops->destroy(f);
}

static void sink_head(tg__filter *f, int status, int sse) {
    tg__filter_sink *s = (tg__filter_sink *)f;
    s->status = status;
    s->sse = sse;
}

static void sink_data(tg__filter *f, const char *p, size_t n) { tgx_buf_append(&((tg__filter_sink *)f)->out, p, n); }

static void sink_end(tg__filter *f) { ((tg__filter_sink *)f)->ended = 1; }

static const tg__filter_ops sink_ops = {"sink", sink_head, sink_data, sink_end, NULL};

void tg__filter_sink_init(tg__filter_sink *s, size_t max) {
    memset(s, 0, sizeof *s);
    s->base.ops = &sink_ops;
    tgx_buf_init(&s->out, max);
}

void tg__filter_sink_free(tg__filter_sink *s) { tgx_buf_free(&s->out); }

const char *tg__sse_data(const char *ev, size_t n, size_t *dl) {
    if (n >= 5 && !memcmp(ev, "data:", 5)) {
        size_t s = (n > 5 && ev[5] == ' ') ? 6u : 5u;
        size_t e = n;
        while (e > s && (ev[e - 1] == '\n' || ev[e - 1] == '\r')) e--;
        if (memchr(ev + s, '\n', e - s)) return NULL; /* multi-line data: not a chunk tokgate reads */
        *dl = e - s;
        return ev + s;
    }
    return NULL;
}

void tg__chunk_ident(json_t *ident, json_t *chunk) {
    static const char *const keys[] = {"created", "id", "model", "system_fingerprint"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(chunk, keys[i]);
        if (v && (i == 0 || !json_object_get(ident, keys[i]))) json_object_set(ident, keys[i], v);
    }
}
