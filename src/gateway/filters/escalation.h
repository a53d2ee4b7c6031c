/*
 * gateway/filters/escalation.h: the one escalation policy (escalation.c).
 *
 * An answer capped at the default (the budget's max_tokens < escalate_to)
 * that stops on "length" gets more room once; a thinking budget cuts a
 * model that thinks too long and resumes it after the end-of-thinking
 * marker. How, is decided here and nowhere else:
 *   - continue in place, by token ids, when the model's engine has a
 *     continuation protocol (engine.h) and the request allows it (one
 *     choice, nothing the server parses from the whole text): the answer
 *     runs under a tg__cont (cont.h), streams of it are cut and continued,
 *     a non-streaming request is sent as a stream and assembled
 *     (filters/assemble.h);
 *   - else re-send: a non-streaming answer is held until complete and, when
 *     it stopped on "length", the escalated request is sent instead;
 *   - else (a stream the engine cannot continue) it goes out as it is.
 *
 * Both ways run here, as one filter (filter.h) between the upstream and
 * the client's side of the chain (the assembler, or the relay):
 *   - continuing in place: it takes the first leg's head and body, has
 *     cont.c read them, passes on what the client sees, and runs the legs
 *     that follow (the engine's prompt_path once, then leg_path legs);
 *   - re-sending: it holds a 200 answer that is not a stream until it is
 *     complete; on "length" the escalated body is sent instead (once) and
 *     its answer passes on; otherwise (or when it is too big to hold) the
 *     exchange sends the held head and the held bytes pass on.
 * Either way the escalation first grows the KV reservation. The filter
 * calls nothing of the exchange's by name: the exchange hands it a
 * tg__esc_host (send a request upstream, cancel it, grow the reservation,
 * send the held head, the answer's end or failure, notes for metrics and
 * the log).
 */
#ifndef TG_GATEWAY_FILTERS_ESCALATION_H
#define TG_GATEWAY_FILTERS_ESCALATION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/cont.h"
#include "gateway/filters/filter.h"
#include "gateway/models.h"

/* The budget's numbers an answer escalates and cuts thinking under. */
typedef struct tg__esc_budget {
    uint64_t prompt_tokens, max_tokens, escalate_to;
    uint64_t thinking_tokens; /* 0: none */
    int thinking_disabled;
} tg__esc_budget;

/* The continuation an answer runs under, or NULL (nothing to continue, or
 * the engine or request cannot). May rewrite *send (a reference to the body
 * to forward; set from `req` when NULL): ids asked for, a non-streaming
 * request made a stream with usage. `chat`: a chat completion. Any thread. */
tg__cont *tg__escalation_plan(const tg__model *m, int chat, int stream, const json_t *req, json_t **send,
                              const tg__esc_budget *b);
/* 1 when an answer escalates by re-sending (see above): non-streaming, no
 * continuation, an escalated body to send. */
int tg__escalation_resends(int stream, int continues, uint64_t max_tokens, uint64_t escalate_to, int has_body);
/* A held, complete non-streaming answer: 1 when its first choice stopped
 * on "length". */
int tg__escalation_hit_length(const char *body, size_t len);

/* ---- continuing in place ------------------------------------------------- */

/* What the escalation filter asks of the exchange it runs in. */
enum { TG__ESC_NOTE_CONTINUED, TG__ESC_NOTE_THINKING_CUT, TG__ESC_NOTE_LENGTH, TG__ESC_NOTE_RESENT }; /* notes */
typedef struct tg__esc_host {
    void *ud;
    /* Sends a POST with `body` to the engine's `path` under the upstream's
     * base (a continuation leg), or with path NULL `body` under the client's
     * own request head (the re-send); a fresh upstream request. 0, or -1
     * when it could not start. */
    int (*send)(void *ud, const char *path, const char *body, size_t len);
    /* Stops the upstream request under way now (the thinking cut): no end
     * comes for it. */
    void (*cancel)(void *ud);
    /* Grows the KV reservation by n tokens, now or once there is room;
     * answered with tg__esc_grown. */
    void (*grow)(void *ud, uint64_t n);
    /* Sends the head of the answer held back (re-send mode); the held bytes
     * pass on right after. */
    void (*flush)(void *ud);
    /* The answer is complete: what the client sees was all passed on (next
     * was not ended: the exchange ends it). */
    void (*finish)(void *ud);
    /* A continuation leg failed. `held`: the first leg's own ending was
     * held back and goes out now (finish follows); else the answer ends
     * with the failure. */
    void (*fail)(void *ud, const char *msg, int held);
    /* A note for metrics and the log: CONTINUED (a: generated so far, b:
     * the new cap), THINKING_CUT (a: thinking tokens), LENGTH (the held
     * answer stopped on "length": meter it now, the re-sent one's meter
     * starts afresh), RESENT (a: max_tokens, b: escalate_to; the re-send
     * follows, under x-tokgate-escalated). */
    void (*note)(void *ud, int what, uint64_t a, uint64_t b);
} tg__esc_host;

/* The filter continuing an answer in place under `cont` (taken, freed with
 * the filter), for the forwarded request `body` (copied: the engine's
 * prompt_path reads it). NULL on allocation failure (cont freed). */
tg__filter *tg__esc_filter_new(tg__cont *cont, const char *body, size_t len, const tg__esc_host *host);
/* The filter re-sending `body` (copied) at escalate_to when the held
 * answer stopped on "length" at max_tokens. NULL on allocation failure. */
tg__filter *tg__esc_resend_filter_new(const char *body, size_t len, uint64_t max_tokens, uint64_t escalate_to,
                                      const tg__esc_host *host);
/* Heads: status 0 is an answer without a body (HEAD, 204, 304), which
 * neither continues nor is held. */
/* 1 while the answer is held back (re-send mode, after its head). */
int tg__esc_filter_holding(const tg__filter *f);
/* The held answer ended (complete): 1 when the filter took it (the growth,
 * then the re-send or the answer as it was, run through the host); 0 when
 * it passed the held bytes on (after the host's flush) or held nothing:
 * the exchange ends the answer as usual. */
int tg__esc_filter_held_done(tg__filter *f);
/* 1 while the upstream's bytes are this filter's: the first leg is a 200
 * stream (after its head), or a continuation leg runs. */
int tg__esc_filter_active(const tg__filter *f);
/* 1 while the first leg (the client's own request) runs. */
int tg__esc_filter_first_leg(const tg__filter *f);
/* The upstream request under way ended (fault 0: complete). 1 when the
 * filter took it (the answer goes on or ended through the host); 0 when
 * the client's own request failed: the exchange's usual path. */
int tg__esc_filter_up_done(tg__filter *f, int fault, const char *fault_name, const char *msg);
/* The upstream request under way broke mid-answer and the exchange moved
 * to another replica (issue 14): 1 when the answer goes on there by token
 * ids (the next leg is sent through the host), 0 when it cannot. */
int tg__esc_filter_failover(tg__filter *f);
/* The growth asked for came (granted) or not. */
void tg__esc_filter_grown(tg__filter *f, int granted);
/* The continuation (NULL for a NULL filter). */
const tg__cont *tg__esc_filter_cont(const tg__filter *f);

#endif
