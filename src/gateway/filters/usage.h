/* gateway/filters/usage.h: token usage found in a relayed answer without holding
 * it back (usage.c). */
#ifndef TG_GATEWAY_USAGE_H
#define TG_GATEWAY_USAGE_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/filters/filter.h"
#include "util/buf.h"

typedef struct tg__usage {
    int64_t prompt_tokens, completion_tokens; /* -1: not seen */
    tgx_buf line;     /* SSE line being assembled (capped) */
    tgx_buf body;     /* non-SSE body copy (capped) */
    int sse;
    int line_skip, body_skip; /* over the cap: ignored */
    double prompt_n, prompt_ms; /* llama-server "timings" (tokens processed, not cached); -1: not seen */
    /* Thinking, for the adaptive budgets (tokgate/adaptive.h): */
    int64_t reasoning_tokens;   /* usage.completion_tokens_details.reasoning_tokens (OpenAI, vLLM); -1 */
    int64_t reasoning_chunks;   /* SSE events whose delta carries reasoning text (one token each as
                                   llama-server and vLLM stream by default) */
    char finish[24];            /* the last finish_reason seen ("" none) */
    int dom_only;               /* tests: read a non-streamed answer with jansson only (usage.c scan_body) */
} tg__usage;
void tg__usage_init(tg__usage *u, int sse);
void tg__usage_feed(tg__usage *u, const char *p, size_t n);
void tg__usage_finish(tg__usage *u);
void tg__usage_free(tg__usage *u);
/* The thinking tokens an answer used: reasoning_tokens when the engine
 * reported them, else the reasoning events counted (a stream); -1 unknown. */
int64_t tg__usage_thinking(const tg__usage *u);
/* Reads usage.{prompt,completion}_tokens from a parsed object. 1 if found. */
int tg__usage_from_json(json_t *o, int64_t *prompt, int64_t *completion);

/* The metering filter: passes every byte on unchanged. Each head starts a
 * new answer (a re-sent request's answer replaces the first's). NULL on
 * allocation failure. */
tg__filter *tg__usage_filter_new(void);
/* A non-streamed answer whole in one piece, read at once instead of fed
 * (proxy.c, when the body came in one read): the usage as the filter's end
 * would read it, and in *model (when given) where its top-level "model"
 * strings lie (filter.h). 1 when read so (the filter's end then reads
 * nothing more; pass the bytes on past this filter yourself); 0 when the
 * scanner is unsure or the filter holds bytes already: nothing changed,
 * feed the answer through the chain as usual. Same reading either way
 * (test_filter_whole, fuzz_usage). */
int tg__usage_filter_whole(tg__filter *f, const char *p, size_t n, tg__model_spans *model);
/* What the filter found; complete after its end. NULL for a NULL filter. */
const tg__usage *tg__usage_filter_result(const tg__filter *f);

#endif
