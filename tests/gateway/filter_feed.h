/* filter_feed.h: feeds a filter chain the same bytes whole, split in two at
 * every byte offset, and one byte at a time, each through a fresh chain into
 * a sink, and checks every split gives the whole feed's output (the network
 * may cut an answer anywhere). The test gives a constructor and a check of
 * the output. */
#ifndef TG_TEST_FILTER_FEED_H
#define TG_TEST_FILTER_FEED_H

#include "tg_test.h"

#include "gateway/filters/filter.h"

typedef tg__filter *(*fx_filter_new)(void);
/* Called with the chain's first filter after its end, and the sink. */
typedef void (*fx_filter_check)(tg__filter *f, const tg__filter_sink *out, void *ud);

static inline void fx_run(fx_filter_new mk, int status, int sse, const char *in, size_t n, size_t cut, size_t step,
                          tgx_buf *out, fx_filter_check check, void *ud) {
    tg__filter_sink sink;
    tg__filter_sink_init(&sink, 64u << 20);
    tg__filter *f = mk();
    TG_CHECK(f != NULL);
    if (!f) return;
    f->next = &sink.base;
    tg__filter_head(f, status, sse);
    if (step) {
        for (size_t i = 0; i < n; i += step) tg__filter_data(f, in + i, n - i < step ? n - i : step);
    } else {
        tg__filter_data(f, in, cut);
        tg__filter_data(f, in + cut, n - cut);
    }
    tg__filter_end(f);
    TG_CHECK(sink.ended);
    if (check) check(f, &sink, ud);
    tgx_buf_append(out, sink.out.data ? sink.out.data : "", sink.out.len);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
}

/* Whole, every two-piece split, byte by byte: the same output each time,
 * and `check` passes on each. Returns the whole feed's output (malloc'd). */
static inline char *fx_every_split(fx_filter_new mk, int status, int sse, const char *in, size_t n, size_t *out_len,
                                   fx_filter_check check, void *ud) {
    tgx_buf whole;
    tgx_buf_init(&whole, 64u << 20);
    fx_run(mk, status, sse, in, n, n, 0, &whole, check, ud);
    size_t bad = 0;
    for (size_t cut = 0; cut <= n + 1; cut++) {
        tgx_buf o;
        tgx_buf_init(&o, 64u << 20);
        if (cut <= n) fx_run(mk, status, sse, in, n, cut, 0, &o, check, ud);
        else fx_run(mk, status, sse, in, n, 0, 1, &o, check, ud);
        if (o.len != whole.len || (o.len && memcmp(o.data, whole.data, o.len))) bad++;
        tgx_buf_free(&o);
    }
    TG_CHECK_EQ_U(bad, 0);
    *out_len = whole.len;
    return tgx_buf_detach(&whole, NULL);
}

#endif
