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
 * The proxy runs what this decides (legs, admission growth, the re-send).
 */
#ifndef TG_GATEWAY_FILTERS_ESCALATION_H
#define TG_GATEWAY_FILTERS_ESCALATION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/cont.h"
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

#endif
