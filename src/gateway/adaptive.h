/*
 * gateway/adaptive.h: the gateway's side of thinking budgets learned from
 * use (the table itself is the library's: tokgate/adaptive.h).
 *
 *   start    the table is made from the config (adaptive.quantile,
 *            adaptive.min_samples) and filled from adaptive.state_file; a
 *            file that cannot be read or is refused is logged, naming the
 *            file and what is wrong, and the daemon starts with an empty
 *            table. A timer saves it every adaptive.save_interval seconds
 *            when it changed, and once more at exit.
 *   decide   every model in the table points at it (tg__model.adaptive,
 *            handed to tg_budget_decide); a request whose mode is adaptive
 *            gets its class's budget (budget.c writes the headers).
 *   observe  when an answer of such a request ends, its thinking tokens
 *            (filters/usage.h: the engine's reasoning_tokens, else the
 *            reasoning events of the stream) are recorded when it finished
 *            by itself (finish_reason stop or tool_calls), as a censored
 *            sample when its budget cut it (the thinking reached the
 *            budget, or tokgate cut it), and not at all otherwise
 *            (finish_reason length below the budget, an error, no count).
 *   metrics  tokgate_adaptive_samples and tokgate_adaptive_budget_tokens
 *            per model and class, tokgate_adaptive_answers_total{outcome}.
 * All on the loop thread but the table's lookups (worker threads; the
 * table locks itself).
 */
#ifndef TG_GATEWAY_ADAPTIVE_H
#define TG_GATEWAY_ADAPTIVE_H

#include <event2/buffer.h>
#include <stdint.h>

#include "tokgate/adaptive.h"

typedef struct tg__server tg__server;
typedef struct tg__usage tg__usage;

/* What an answer is recorded under, copied from its decision. */
typedef struct tg__think_obs {
    int on;                /* the adaptive mode chose this request's budget */
    tg_adaptive_class cls;
    uint64_t budget;       /* the thinking budget sent (after fitting inside max_tokens) */
    uint64_t hi;           /* the mode's upper bound */
    char model[128];
} tg__think_obs;

enum { TG__ADAPT_SKIPPED, TG__ADAPT_FINISHED, TG__ADAPT_CUT, TG__ADAPT_N };

struct tg__adaptive_state {
    tg_adaptive *table;
    char *path;               /* adaptive.state_file as read at start (a reload does not move it) */
    struct event *ev_save;
    uint64_t changes;         /* records since the last save */
    uint64_t outcomes[TG__ADAPT_N];
};

/* Makes s->adaptive (NULL without memory: no adaptive budgets, logged). */
void tg__adaptive_start(tg__server *s);
/* Saves (when a file is configured and anything changed) and frees. */
void tg__adaptive_stop(tg__server *s);
/* The outcome of one answer (TG__ADAPT_*), recorded into A when not
 * skipped. GATEWAY_CUT: tokgate cut its thinking at the budget. */
int tg__adaptive_observe(tg_adaptive *a, const tg__think_obs *o, const tg__usage *u, int gateway_cut);
/* tg__adaptive_observe on s's table, counted for the metrics; the outcome. */
int tg__adaptive_answer(tg__server *s, const tg__think_obs *o, const tg__usage *u, int gateway_cut);
void tg__adaptive_metrics(tg__server *s, struct evbuffer *out);

#endif
