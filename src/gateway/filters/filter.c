/*
 * gateway/filters/filter.c: the chain's plumbing (filter.h): calls that
 * end quietly at the end of a chain, and the buffer sink.
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
