/*
 * fuzz_usage.c: libFuzzer target for the usage filter's reading of a
 * non-streamed answer (src/gateway/filters/usage.c): its scanner (scan_body,
 * no DOM) against jansson, the reference it stands in for; and the one-pass
 * reading of a whole answer (tg__usage_filter_whole with the served-name
 * filter's tg__model_name_whole, proxy.c whole_answer) against the chain it
 * stands in for (usage, then served name, fed the bytes).
 *
 * Input: the bytes of one answer body. Invariants, beyond "no crash, no
 * leak": the scanner's reading (tg__usage's prompt/completion tokens,
 * timings, reasoning tokens, finish_reason) equals jansson's (dom_only);
 * the one pass, where it is taken, gives the chain's bytes and reading.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/filters/model_name.h"
#include "gateway/filters/usage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_body(const uint8_t *data, size_t size, int dom_only, tg__usage *u) {
    tg__usage_init(u, 0);
    u->dom_only = dom_only;
    tg__usage_feed(u, (const char *)data, size);
    tg__usage_finish(u);
}

static int same_reading(const tg__usage *a, const tg__usage *b) {
    return a->prompt_tokens == b->prompt_tokens && a->completion_tokens == b->completion_tokens &&
           ((a->prompt_n == b->prompt_n) || (a->prompt_n != a->prompt_n && b->prompt_n != b->prompt_n)) &&
           ((a->prompt_ms == b->prompt_ms) || (a->prompt_ms != a->prompt_ms && b->prompt_ms != b->prompt_ms)) &&
           a->reasoning_tokens == b->reasoning_tokens && !strcmp(a->finish, b->finish);
}

/* usage -> served name ("tiny") -> sink, fed or read in one pass; the
 * sink's bytes (malloc'd, *len) and the reading in *u. */
static char *chain(const char *p, size_t n, int whole, tg__usage *u, size_t *len) {
    tg__filter_sink sink;
    tg__filter_sink_init(&sink, 64u << 20);
    tg__filter *uf = tg__usage_filter_new(), *mf = tg__model_name_filter_new("tiny");
    if (!uf || !mf) abort();
    uf->next = mf;
    mf->next = &sink.base;
    tg__filter_head(uf, 200, 0);
    tg__filter_head(mf, 200, 0);
    tg__model_spans spans;
    if (whole && tg__usage_filter_whole(uf, p, n, &spans)) tg__model_name_whole(mf, p, n, &spans);
    else tg__filter_data(uf, p, n);
    tg__filter_end(uf);
    const tg__usage *r = tg__usage_filter_result(uf);
    memcpy(u, r, sizeof *u);
    *len = sink.out.len;
    char *out = tgx_buf_detach(&sink.out, NULL);
    tg__filter_free(uf);
    tg__filter_free(mf);
    tg__filter_sink_free(&sink);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg__usage a, b;
    read_body(data, size, 0, &a);
    read_body(data, size, 1, &b);
    int same = same_reading(&a, &b);
    tg__usage_free(&a);
    tg__usage_free(&b);
    if (!same) abort();
    size_t la = 0, lb = 0;
    char *oa = chain((const char *)data, size, 0, &a, &la), *ob = chain((const char *)data, size, 1, &b, &lb);
    same = same_reading(&a, &b) && la == lb && (!la || memcmp(oa, ob, la) == 0); /* a, b: copies, their buffers freed */
    free(oa);
    free(ob);
    if (!same) abort();
    return 0;
}
