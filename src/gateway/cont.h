/*
 * gateway/cont.h: continuing a streamed chat answer in place (issue 7).
 *
 * Two budget actions need a stream to go on past where its upstream request
 * stopped, without the client seeing a seam:
 *   - escalation: a stream that ended with finish_reason "length" at the
 *     capped default goes on up to escalate_to (once);
 *   - thinking budgets: a stream still thinking when its thinking budget
 *     runs out (or that starts thinking while thinking is disabled) is
 *     stopped, and resumed after the end-of-thinking marker, so the model
 *     answers at once.
 * Both continue by token ids, the only exact way (docs/gateway.md): the
 * first leg is the client's chat request, sent so that every chunk names
 * the ids it carries (the engine's ask_ids: `logprobs`); a continuation leg
 * is the engine's own request (engine.h tg__engine_cont; llama-server's
 * `/completion` with `prompt` = [rendered prompt text, generated ids...,
 * (end-of-thinking text)], tokenized exactly as the chat request was). The
 * rendered prompt comes from the engine itself (llama-server's
 * `/apply-template` on the forwarded body), so it is the server's render by
 * construction.
 *
 * This file is the protocol, free of sockets: it splits the relayed SSE
 * bytes into events, reads each chunk (ids, finish reason; whether it is
 * thinking, and where the thinking budget cuts, it asks the thinking cut,
 * filters/think_cut.h), decides what the client sees (chunks relayed, `logprobs`
 * stripped when tokgate added them, the "length" ending held back while a
 * continuation may follow), has the engine build the continuation request,
 * and reshapes the leg events the engine reads into `chat.completion.chunk`s with the first leg's
 * id, created, model and system_fingerprint, ending with one final chunk
 * (the real finish_reason), one usage chunk (when the client asked for
 * usage: prompt tokens of the first leg, completion tokens of all legs) and
 * `data: [DONE]`. The escalation filter (filters/escalation.c) runs the legs.
 */
#ifndef TG_GATEWAY_CONT_H
#define TG_GATEWAY_CONT_H

#include <jansson.h>
#include <stdint.h>

#include "tokgate/error.h"
#include "util/buf.h"

typedef struct tg__cont tg__cont;

typedef struct tg__engine_cont tg__engine_cont;

typedef struct tg__cont_cfg {
    const tg__engine_cont *engine; /* the continuation protocol (engine.h); required */
    uint64_t max_tokens;        /* the first leg's max_tokens */
    uint64_t escalate_to;       /* > max_tokens: a "length" ending may continue up to it; 0: never */
    int think_enforce;          /* count thinking tokens and cut at think_budget */
    uint64_t think_budget;      /* with think_enforce; 0: thinking is disabled, cut at once */
    const char *think_open;     /* "<think>" (NULL: that default) */
    const char *think_close;    /* "</think>" (NULL: that default) */
    const char *budget_message; /* text the model reads before the close marker; NULL none */
    int prompt_opens_thinking;  /* the rendered prompt ends inside an open thinking block */
    int strip_logprobs;         /* tokgate asked for logprobs, the client did not: strip them */
    int include_usage;          /* the client asked for a usage chunk */
    uint64_t prompt_tokens;     /* for the final usage when the first leg reported none */
} tg__cont_cfg;

/* Feed results. */
enum { TG__CONT_GO = 0, TG__CONT_CUT = 1 };
/* Leg-end results. */
enum { TG__CONT_DONE = 0, TG__CONT_ESCALATE = 1, TG__CONT_RESUME = 2 };

/* `request` is the body forwarded upstream: the continuation copies its
 * sampling fields (nothing else is kept, so any thread may build it and
 * hand it over). NULL on allocation failure. */
tg__cont *tg__cont_new(const tg__cont_cfg *cfg, const json_t *request);
void tg__cont_free(tg__cont *k);

/* Bytes of the current leg's body (SSE). What the client should see is
 * appended to `out`. TG__CONT_CUT: the thinking budget ran out; the caller
 * stops this leg now and asks tg__cont_leg_end, which says RESUME. */
int tg__cont_feed(tg__cont *k, const char *p, size_t n, tgx_buf *out);

/* The current leg ended (complete, or cut after TG__CONT_CUT): DONE (call
 * tg__cont_finish), ESCALATE (a "length" ending that may grow to
 * escalate_to: the caller checks for KV room, then calls tg__cont_escalate
 * or tg__cont_finish) or RESUME (continue after the thinking cut). */
int tg__cont_leg_end(tg__cont *k);
/* The leg under way broke mid-answer (its replica died, issue 14): 1 when
 * the answer can go on by token ids from what the client already has (the
 * next leg, tg__cont_next_body, asks for the rest of the cap), 0 when not
 * (unreadable ids, an ending already seen, nothing left to generate). */
int tg__cont_failover(tg__cont *k);
/* Tokens the reservation grows by when the answer escalates. */
uint64_t tg__cont_growth(const tg__cont *k);
/* 1 when the first leg's own ending is held back (finishing now relays it
 * unchanged: the answer the client would have had without tokgate). */
int tg__cont_has_ending(const tg__cont *k);
/* 1 once the answer escalated. */
int tg__cont_escalated(const tg__cont *k);
/* Accepts the escalation: the answer's cap becomes escalate_to. */
void tg__cont_escalate(tg__cont *k);
/* What remains for the client: the held ending of the first leg as it was,
 * or the final chunk, usage and [DONE] after continuations. */
void tg__cont_finish(tg__cont *k, tgx_buf *out);

/* The rendered prompt is needed (the engine's prompt_path not answered yet). */
int tg__cont_needs_prompt(const tg__cont *k);
/* The engine's prompt_path body (engine.h prompt_body) from the forwarded
 * body and the first leg's text; malloc'd, NULL on failure. */
char *tg__cont_prompt_body(const tg__cont *k, const char *fwd, size_t len, size_t *out_len);
/* Takes the answer to the engine's prompt_path request. */
tg_status tg__cont_set_prompt(tg__cont *k, const char *body, size_t len, tg_error *err);
/* The continuation protocol this stream uses. */
const tg__engine_cont *tg__cont_engine(const tg__cont *k);
/* The next continuation leg's body (malloc'd JSON, for the engine's leg_path) and the
 * client-visible text it implies (the end-of-thinking marker when thinking
 * was shown in content), appended to `out`. */
tg_status tg__cont_next_body(tg__cont *k, char **body, size_t *len, tgx_buf *out, tg_error *err);
/* After tg__cont_next_body: 1 when the body is not a leg but the engine's
 * text_path request (engine.h: text to turn into ids first); its answer
 * goes to tg__cont_set_text, then tg__cont_next_body again. */
int tg__cont_wants_text(const tg__cont *k);
tg_status tg__cont_set_text(tg__cont *k, const char *body, size_t len, tg_error *err);

/* Tokens generated over all legs; the first leg's prompt tokens (0: unknown). */
uint64_t tg__cont_generated(const tg__cont *k);
uint64_t tg__cont_prompt_tokens(const tg__cont *k);
/* Thinking tokens counted so far. */
uint64_t tg__cont_thinking(const tg__cont *k);

#endif
