/*
 * gateway/filters/filter.h: the response path as a chain of filters, in the
 * manner of h2o's output filters (the files of lib/handler/, each linked by `next`).
 *
 * A filter sees the upstream answer's head, then its body bytes as they
 * arrive, split anywhere, then its end; it may hold, rewrite or continue
 * them and passes what the next one should see to `next` (NULL: the end of
 * the chain, bytes go nowhere). Each filter is one file under filters/ with
 * its state in its own struct (the first member a tg__filter), so the
 * exchange (proxy.c) keeps only what every request has. Filters never touch
 * sockets: tests feed them bytes and read what comes out of a sink.
 *
 *   usage.c     usage metering: reads usage and llama-server's timings,
 *               passes every byte on unchanged
 *   assemble.c  non-streaming assembly: folds chat.completion.chunk events
 *               into one chat.completion, passed on at the end
 *   think_cut.c the thinking cut: thinking counted per chunk from its ids,
 *               the stream stopped at the budget, the budget message and
 *               close marker as the client sees them (cont.c keeps its
 *               state functions for every leg it reads)
 *   escalation.c  the one escalation filter: continue in place (cont.h)
 *               when the engine can, re-send otherwise; the legs, the held
 *               answer and the growth asked of the exchange (tg__esc_host)
 *   relay       proxy.c's sink: the client, with back-pressure
 * Order, upstream to client: usage, escalation, assemble (when a
 * non-streaming answer was streamed upstream), relay.
 *
 * Ownership: a filter is created by its file's constructor and freed with
 * tg__filter_free, which frees it alone (not `next`).
 */
#ifndef TG_GATEWAY_FILTERS_FILTER_H
#define TG_GATEWAY_FILTERS_FILTER_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"

typedef struct tg__filter tg__filter;

typedef struct tg__filter_ops {
    const char *name;
    /* The answer's status and whether its body is an SSE stream. */
    void (*on_head)(tg__filter *f, int status, int sse);
    void (*on_data)(tg__filter *f, const char *p, size_t n);
    /* The body is complete (not called when the answer failed). */
    void (*on_end)(tg__filter *f);
    void (*destroy)(tg__filter *f);
} tg__filter_ops;

struct tg__filter {
    const tg__filter_ops *ops;
    tg__filter *next;
};

/* Each of these is a no-op on NULL (the end of the chain). */
void tg__filter_head(tg__filter *f, int status, int sse);
void tg__filter_data(tg__filter *f, const char *p, size_t n);
void tg__filter_end(tg__filter *f);
void tg__filter_free(tg__filter *f);

/* Where the top-level "model" strings of one whole JSON answer lie, as
 * byte offsets [at, end) from the opening quote to past the closing one:
 * usage.c finds them in the scan it makes anyway (tg__usage_filter_whole),
 * model_name.c writes the served name over them (tg__model_name_whole).
 * One pass over a small answer serves both filters (proxy.c). */
#define TG__MODEL_SPANS 4
typedef struct tg__model_spans {
    size_t n;
    size_t at[TG__MODEL_SPANS], end[TG__MODEL_SPANS];
} tg__model_spans;

/* A sink: the end of a chain that keeps what reaches it in `out` (capped
 * at `max` bytes; tests, and the assembled answer). */
typedef struct tg__filter_sink {
    tg__filter base;
    tgx_buf out;
    int status, sse, ended;
} tg__filter_sink;
void tg__filter_sink_init(tg__filter_sink *s, size_t max);
void tg__filter_sink_free(tg__filter_sink *s);

/* For the filters that read chat.completion.chunk events (and cont.c): */
/* The payload of an SSE event (bytes up to and including its blank line)
 * that is one `data:` line, or NULL (a comment, another field, multi-line
 * data). */
const char *tg__sse_data(const char *ev, size_t n, size_t *dl);
/* Folds a chat chunk's identity into `ident`: id, model and
 * system_fingerprint from the first chunk that has them, created from the
 * latest (llama-server stamps each chunk when it is made, so an answer's
 * created never goes back). */
void tg__chunk_ident(json_t *ident, json_t *chunk);

#endif
