/*
 * gateway/budget.h: budget_decide, the one place where the request budget
 * policy plugs into the request path.
 *
 * Called once per inference request after the body parsed and the model
 * resolved, before anything goes upstream. It returns one decision:
 *   FORWARD   send the request on, unchanged (rewritten == NULL) or as
 *             `rewritten` (e.g. max_tokens clamped),
 *   TRUNCATE  send `rewritten` (the prompt was cut to fit),
 *   REJECT    answer `status` with `error_json` (an OpenAI-shaped error such
 *             as context_length_exceeded) and never contact the upstream.
 * `headers` are x-tokgate-* response fields ("Name: value\r\n" lines) that
 * say what was counted and changed; `reason` names a refusal for /metrics.
 *
 * Today the decision forwards unchanged: the policy layer (branch `policy`,
 * include/tokgate/policy.h) replaces the body of tg__budget_decide with a
 * call to its decision API over the model's live limits (tg__model.limits),
 * its tokenizer and chat template, and maps the result onto this struct.
 */
#ifndef TG_GATEWAY_BUDGET_H
#define TG_GATEWAY_BUDGET_H

#include <jansson.h>

#include "gateway/gateway.h"

enum { TG__BUDGET_FORWARD, TG__BUDGET_TRUNCATE, TG__BUDGET_REJECT };

typedef struct tg__budget {
    int action;
    int status;         /* REJECT: HTTP status */
    char *error_json;   /* REJECT: body (malloc'd) */
    json_t *rewritten;  /* FORWARD/TRUNCATE: new body, or NULL = unchanged (owned) */
    char *headers;      /* x-tokgate-* lines (malloc'd) or NULL */
    const char *reason; /* REJECT: static reason label for metrics */
    int escalated;      /* issue 7: the answer was escalated */
} tg__budget;

/* Runs on a worker thread for large bodies: it may read `cfg` and `m` (held
 * by the request) and must touch nothing else shared. */
tg_status tg__budget_decide(const tg__config *cfg, const tg__model *m, int route, json_t *req, tg__budget *out);
void tg__budget_free(tg__budget *b);

#endif
