/*
 * test_sse_end.c: the clean-end check of an event stream
 * (src/gateway/sse_end.c): complete events and OpenAI's `data: [DONE]`
 * (the end of stream in OpenAI's streaming format, which llama-server and
 * vLLM follow), fed whole and byte by byte; a cut inside an event, before
 * [DONE], or inside [DONE]'s line is not clean.
 */
#include <string.h>

#include "tg_test.h"

#include "gateway/sse_end.h"

static int clean(const char *s, int want_done, int bytewise) {
    tg__sse_end t;
    memset(&t, 0, sizeof t);
    size_t n = strlen(s);
    if (bytewise)
        for (size_t i = 0; i < n; i++) tg__sse_end_feed(&t, s + i, 1);
    else
        tg__sse_end_feed(&t, s, n);
    return tg__sse_end_clean(&t, want_done);
}

static void test_cases(void) {
    static const char ev[] = "data: {\"choices\":[{\"delta\":{\"content\":\"hello there\"}}]}\n\n";
    char buf[512];
    for (int bw = 0; bw < 2; bw++) {
        snprintf(buf, sizeof buf, "%sdata: [DONE]\n\n", ev);
        TG_CHECK_EQ_I(clean(buf, 1, bw), 1);
        TG_CHECK_EQ_I(clean(buf, 0, bw), 1);
        snprintf(buf, sizeof buf, "%sdata: [DONE]\r\n\r\n", ev);
        TG_CHECK_EQ_I(clean(buf, 1, bw), 1);
        TG_CHECK_EQ_I(clean(ev, 1, bw), 0);        /* cut at an event boundary before [DONE] */
        TG_CHECK_EQ_I(clean(ev, 0, bw), 1);        /* ... fine where no [DONE] is owed */
        snprintf(buf, sizeof buf, "%sdata: {\"cho", ev);
        TG_CHECK_EQ_I(clean(buf, 0, bw), 0);       /* cut inside an event */
        snprintf(buf, sizeof buf, "%sdata: [DONE]\n", ev);
        TG_CHECK_EQ_I(clean(buf, 1, bw), 0);       /* [DONE]'s event not closed */
        snprintf(buf, sizeof buf, "%sdata: [DO", ev);
        TG_CHECK_EQ_I(clean(buf, 1, bw), 0);
        TG_CHECK_EQ_I(clean("data: [DONE]\n\n", 1, bw), 1);
        TG_CHECK_EQ_I(clean("xdata: [DONE]\n\n", 1, bw), 0); /* not a line of its own */
        TG_CHECK_EQ_I(clean("", 0, bw), 0);
    }
}

/* Where an event ends (the WHATWG event-stream format: an event ends at a
 * blank line; lines end with LF or CRLF): the earliest blank line wins. */
static void test_event_end(void) {
    size_t sep = 0;
    const char *a = "data: 1\n\ndata: 2\n\n";
    TG_CHECK(tg__sse_event_end(a, strlen(a), &sep) == a + 7);
    TG_CHECK_EQ_U(sep, 2);
    const char *b = "data: 1\r\n\r\ndata: 2\n\n";
    TG_CHECK(tg__sse_event_end(b, strlen(b), &sep) == b + 7);
    TG_CHECK_EQ_U(sep, 4);
    const char *c = "data: 1\r\ndata: 2\n\n";
    TG_CHECK(tg__sse_event_end(c, strlen(c), &sep) == c + 16);
    TG_CHECK_EQ_U(sep, 2);
    const char *d = "data: 1\n";
    TG_CHECK(tg__sse_event_end(d, strlen(d), &sep) == NULL);
}

int main(void) {
    TG_RUN(test_cases);
    TG_RUN(test_event_end);
    return tg_test_summary();
}
