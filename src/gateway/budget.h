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
 * The decision is the policy layer's (tokgate/policy.h, tg_policy_decide,
 * the same call `tokgate check` makes) over the model's published limits
 * (tg__model.limits), its settings (the config's "policy" section) and the
 * prompt counted with the model's tokenizer (exact for raw prompts; chats
 * stay marked estimated until chat templates are rendered here) or the
 * policy's estimator when there is none. A model whose limits are not known
 * yet is forwarded unchanged.
 */
#ifndef TG_GATEWAY_BUDGET_H
#define TG_GATEWAY_BUDGET_H

#include <jansson.h>

#include "gateway/config.h"
#include "gateway/models.h"
#include "tokgate/policy.h"

enum { TG__BUDGET_FORWARD, TG__BUDGET_TRUNCATE, TG__BUDGET_REJECT };

typedef struct tg__budget {
    int action;
    int status;         /* REJECT: HTTP status */
    char *error_json;   /* REJECT: body (malloc'd) */
    json_t *rewritten;  /* FORWARD/TRUNCATE: new body, or NULL = unchanged (owned) */
    char *headers;      /* x-tokgate-* lines (malloc'd) or NULL */
    char reason[64];    /* REJECT: reason label for metrics (the error code) */
    uint64_t prompt_tokens, max_tokens; /* FORWARD/TRUNCATE: what admission reserves */
    uint64_t escalate_to;   /* 0: no escalation */
    json_t *escalated;      /* the retry body at escalate_to (owned), or NULL */
    uint64_t thinking_tokens; /* the thinking budget; 0: none */
    int thinking_disabled;    /* thinking turned off (enforced as a budget of 0) */
} tg__budget;

/* Runs on a worker thread for large bodies: it may read `cfg` and `m` (held
 * by the request) and must touch nothing else shared. */
tg_status tg__budget_decide(const tg__config *cfg, const tg__model *m, int route, const tg_request *r,
                            tg__budget *out);
void tg__budget_free(tg__budget *b);

#endif
