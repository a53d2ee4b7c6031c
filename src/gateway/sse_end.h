/*
 * gateway/sse_end.h: did an event stream end cleanly? (sse_end.c)
 *
 * A close-delimited answer (no Content-Length, no chunked coding) ends when
 * the upstream closes the connection, so a stream the upstream was cut off
 * in the middle of looks, at the transport, like a finished one. proxy.c
 * feeds the stream's bytes here and asks at the close: the stream ended
 * cleanly when its last event is complete (a blank line) and, on the OpenAI
 * routes, that event was `data: [DONE]`. No allocation; bytes in any split.
 * Also the one rule for where an event ends, for every reader of streams
 * (cont.c, filters/think_cut.c, filters/stream_error.c).
 */
#ifndef TG_GATEWAY_SSE_END_H
#define TG_GATEWAY_SSE_END_H

#include <stddef.h>

typedef struct tg__sse_end {
    char tail[16];  /* the stream's last bytes */
    size_t n;
} tg__sse_end;

void tg__sse_end_feed(tg__sse_end *t, const char *p, size_t n);
/* 1 when the bytes so far end a stream cleanly; want_done: the last event
 * must be `data: [DONE]` (OpenAI's end of stream). */
int tg__sse_end_clean(const tg__sse_end *t, int want_done);

/* Where the first event in p[0..n) ends: the start of its blank line
 * ("\n\n" or "\r\n\r\n", whichever comes first), *sep its length;
 * NULL when no event is complete yet. */
const char *tg__sse_event_end(const char *p, size_t n, size_t *sep);

#endif
