/* gateway/proxy.h: an exchange, the life of one request relayed upstream
 * (proxy.c has the whole story: admission, relaying, escalation,
 * continuation legs, faults). */
#ifndef TG_GATEWAY_PROXY_H
#define TG_GATEWAY_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/adaptive.h"
#include "gateway/config.h"

typedef struct tg__client tg__client;
typedef struct tg__exchange tg__exchange;
typedef struct tg__model tg__model;
typedef struct tg__pool tg__pool;
struct tg__cont;

/* What the budget decided for an inference request, for admission and
 * escalation (NULL for pass-through requests). */
typedef struct tg__plan {
    uint64_t prompt_tokens, max_tokens; /* reservation = their sum, times n_choices */
    uint64_t n_choices;                 /* the request's "n" (0 or 1: one) */
    uint64_t escalate_to;               /* 0: no escalation */
    const char *escalated_body;         /* the retry body at escalate_to (JSON), or NULL */
    size_t escalated_len;
    struct tg__cont *cont;              /* a stream that may continue in place (owned by the
                                           plan until tg__proxy_start takes it), or NULL */
    tg__think_obs think;                /* the adaptive budget's class, to record the answer under */
    uint64_t route_key;                 /* replicas: the request's prefix key (route_pick.h); 0 none */
    int prompt_estimated;               /* prompt_tokens is an estimate: the answer's own prompt
                                           count (usage.prompt_tokens, Ollama's prompt_eval_count) is
                                           logged against it as the estimate's drift (issue 19) */
} tg__plan;

/* Relays the client's request upstream with `body` (copied once into the
 * upstream request), or for body NULL the client's own buffer (c->body,
 * body_len bytes, moved into it without a copy). */
void tg__proxy_start(tg__client *c, const tg__model *m, const tg__model_cfg *mc, tg__pool *pool,
                     const char *body, size_t body_len, tg__plan *plan, int want_stream,
                     const char *extra_headers);
void tg__exchange_free(tg__exchange *ex, int client_gone);
void tg__exchange_on_client_drain(tg__exchange *ex);
int tg__exchange_active(const tg__exchange *ex);
/* The drain deadline: a stream already begun ends with an SSE error event
 * (code shutting_down) and the connection closes once it is flushed; 1
 * when so (ex is gone), 0 when the exchange is no such stream. */
int tg__exchange_drain_cut(tg__exchange *ex);

#endif
