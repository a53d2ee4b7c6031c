/*
 * gateway/filters/stream_error.c: see stream_error.h. An event is one
 * `data:` line (filter.h tg__sse_data) whose JSON object has "error"; the
 * adapter's map_stream_error gives tokgate's {"error":{...}} for it, or NULL
 * (a shape it does not know: the event goes on as it came).
 */
#define _GNU_SOURCE /* memmem */
#include "gateway/filters/stream_error.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/filters/filter.h"
#include "gateway/sse_end.h"

#define EVENT_MAX (4u << 20)

void tg__stream_err_init(tg__stream_err *s, const tg__engine *e) {
    memset(s, 0, sizeof *s);
    s->engine = e;
    tgx_buf_init(&s->ev, EVENT_MAX);
}

void tg__stream_err_free(tg__stream_err *s) { tgx_buf_free(&s->ev); }

static void one_event(tg__stream_err *s, const char *ev, size_t n, tg__stream_err_emit emit, void *ud) {
    size_t dl = 0;
    const char *d = tg__sse_data(ev, n, &dl);
    char *mapped = NULL;
    if (d && dl > 9 && d[0] == '{' && memmem(d, dl, "\"error\"", 7) && s->engine->map_stream_error)
        mapped = s->engine->map_stream_error(d, dl);
    if (!mapped) {
        emit(ud, ev, n);
        return;
    }
    tgx_buf out;
    tgx_buf_init(&out, SIZE_MAX);
    tgx_buf_printf(&out, "data: %s\n\n", mapped);
    emit(ud, out.data, out.len);
    tgx_buf_free(&out);
    free(mapped);
    s->mapped++;
}

void tg__stream_err_feed(tg__stream_err *s, const char *p, size_t n, tg__stream_err_emit emit, void *ud) {
    if (s->plain) {
        emit(ud, p, n);
        return;
    }
    if (tgx_buf_append(&s->ev, p, n) != TG_OK) { /* over the cap: relay as it is from now on */
        s->plain = 1;
        emit(ud, s->ev.data, s->ev.len);
        emit(ud, p, n);
        tgx_buf_reset(&s->ev);
        return;
    }
    size_t pos = 0;
    for (;;) {
        const char *b = s->ev.data + pos;
        size_t rem = s->ev.len - pos;
        size_t el;
        const char *e = tg__sse_event_end(b, rem, &el);
        if (!e) break;
        size_t len = (size_t)(e - b) + el;
        one_event(s, b, len, emit, ud);
        pos += len;
    }
    if (pos) {
        memmove(s->ev.data, s->ev.data + pos, s->ev.len - pos);
        s->ev.len -= pos;
    }
}

void tg__stream_err_flush(tg__stream_err *s, tg__stream_err_emit emit, void *ud) {
    if (s->ev.len) emit(ud, s->ev.data, s->ev.len);
    tgx_buf_reset(&s->ev);
}
