/*
 * gateway/summary.h: the network half of summarizing compaction (truncation
 * mode summarize; the library's half is tokgate/policy.h tg_summary_*, the
 * request flow is routes.c's): the summary call, one budgeted, non-streaming
 * chat request to the model's own upstream, run on the event loop like any
 * upstream request (upstream.h), and the bounded in-memory cache of
 * summaries keyed by the prefix they replace (tg_summary_key), so the same
 * history is summarized once and its compacted prefix stays byte-identical
 * (the engine's prefix cache stays warm). Loop thread only.
 */
#ifndef TG_GATEWAY_SUMMARY_H
#define TG_GATEWAY_SUMMARY_H

#include <stddef.h>

#include "gateway/models.h"
#include "tokgate/policy.h"

typedef struct tg__server tg__server;
typedef struct tg__sumcall tg__sumcall;

/* Results, as tokgate_summaries_total{result} names them. */
enum { TG__SUM_MADE, TG__SUM_HIT, TG__SUM_FAILED, TG__SUM_UNFIT, TG__SUM_N };
const char *tg__sum_result_name(int r);

/* The call's end: TEXT the summary (malloc'd, the callee's to free) or NULL
 * with WHY (one line: the upstream's status and message, the fault, or what
 * the answer lacked). Runs later on the loop, never inside tg__sum_call. */
typedef void (*tg__sum_cb)(void *ud, char *text, const char *why);

/* POSTs BODY (a chat request, JSON) to M's upstream /v1/chat/completions
 * with the summary timeout as its answer deadline. NULL out of memory. */
tg__sumcall *tg__sum_call(tg__server *s, const tg__model *m, const char *body, size_t len, tg__sum_cb cb,
                          void *ud);
/* Drops the call (its connection closes, the engine stops); no callback. */
void tg__sum_cancel(tg__sumcall *k);

/* The cached summary under KEY (borrowed until the next put), or NULL. */
const char *tg__sum_cache_get(tg__server *s, tg_summary_key key);
/* Keeps TEXT (copied) under KEY; the least recently used entry goes when
 * s->cfg->summary_cache are held (0: nothing is kept). */
void tg__sum_cache_put(tg__server *s, tg_summary_key key, const char *text);
void tg__sum_cache_free(tg__server *s);

#endif
