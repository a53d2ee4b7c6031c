/*
 * gateway/filters/stream_error.h: an engine's error events inside a 200 SSE
 * stream (SGLang's `data: {"error": {...}}`) said in tokgate's shape, through
 * the engine adapter's map_stream_error (engine.h); every other event goes on
 * byte for byte. Used by the relay (proxy.c) for streams whose engine has
 * that hook; events are complete when they leave (an SSE event ends at a
 * blank line), an unfinished one goes out as it is at the end.
 */
#ifndef TG_GATEWAY_FILTERS_STREAM_ERROR_H
#define TG_GATEWAY_FILTERS_STREAM_ERROR_H

#include <stddef.h>

#include "gateway/engine.h"
#include "util/buf.h"

typedef struct tg__stream_err {
    const tg__engine *engine;
    tgx_buf ev;  /* the event being assembled */
    int plain;   /* an event over the cap: everything goes on as it comes */
    unsigned long mapped; /* error events said in tokgate's shape */
} tg__stream_err;

typedef void (*tg__stream_err_emit)(void *ud, const char *p, size_t n);

void tg__stream_err_init(tg__stream_err *s, const tg__engine *e);
void tg__stream_err_free(tg__stream_err *s);
/* Bytes of the stream: complete events go to emit (mapped or as they came). */
void tg__stream_err_feed(tg__stream_err *s, const char *p, size_t n, tg__stream_err_emit emit, void *ud);
/* The stream ended: what is left goes to emit as it is. */
void tg__stream_err_flush(tg__stream_err *s, tg__stream_err_emit emit, void *ud);

#endif
