/*
 * gateway/engine_count.h: prompt counts from the serving engine itself
 * (issue 19), for a model tokgate holds no tokenizer file for: the engine's
 * count hook (engine.h tg__engine_count: vLLM's /tokenize with the chat's
 * messages, SGLang's /v1/tokenize with a string prompt) is asked once per
 * count request not seen before, on the event loop, and the answer kept in
 * a process-wide cache keyed by the upstream and the count request's bytes
 * (routes.c waits for it before the budget decides; a timeout or an engine
 * error leaves the estimate, marked so). engine_count.c.
 */
#ifndef TG_GATEWAY_ENGINE_COUNT_H
#define TG_GATEWAY_ENGINE_COUNT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/models.h"


typedef struct tg__ecount_key {
    uint64_t a, b; /* two seeded FNV-1a hashes of pool key + count request */
} tg__ecount_key;

/* The count request for the OpenAI body `request` to m's engine (a new
 * reference), or NULL when the engine cannot count it (no hook, a chat on
 * SGLang, a prompt of ids). *key set when not NULL. */
json_t *tg__ecount_body(const tg__model *m, const json_t *request, int as_chat, tg__ecount_key *key);

/* The cache (any thread). 1 and *count when known. */
int tg__ecount_lookup(const tg__ecount_key *key, uint64_t *count);
void tg__ecount_store(const tg__ecount_key *key, uint64_t count);
/* Counts since start: cache hits, misses (round trips asked), failures
 * (round trips that gave no count), and the round trips' seconds in all. */
void tg__ecount_stats(uint64_t *hits, uint64_t *misses, uint64_t *failures, double *seconds);
void tg__ecount_cache_free(void);
/* An upstream that answered the count path 404/405/501 (an OpenAI-compatible
 * server taken for vLLM, a release without the route) is never asked again:
 * 1 when pool_key is one. */
int tg__ecount_unsupported(const char *pool_key);

/* One count round trip on the loop: POST the count request (JSON text,
 * copied; its key from tg__ecount_body) to m's upstream, or wait on the one
 * in flight for the same key; done(ud, count, NULL) with the engine's count,
 * or done(ud, 0, why) on a timeout, an error answer or one it cannot read.
 * done runs later, never inside this call, and never after cancel. NULL
 * when out of memory (no callback then). */
typedef struct tg__ecount_req tg__ecount_req;
typedef void (*tg__ecount_done)(void *ud, uint64_t count, const char *why);
tg__ecount_req *tg__ecount_start(tg__server *s, const tg__model *m, const tg__ecount_key *key, const char *body,
                                 size_t len, double timeout, tg__ecount_done done, void *ud);
void tg__ecount_cancel(tg__ecount_req *r);

#endif
