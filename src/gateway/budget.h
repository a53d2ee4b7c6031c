/*
 * gateway/budget.h: the gateway's adapter onto the one budget path
 * (tokgate/policy.h, tg_budget_decide, the call `tokgate check` makes).
 *
 * Called once per inference request after the body parsed and the model
 * resolved, before anything goes upstream. It hands the library the model as
 * the table holds it (settings from the config's "policy" section, the
 * published limits, the tokenizer, the chat template and the dialect the
 * upstream renders it in, this thread's count cache) and keeps the library's
 * decision whole in `dec`:
 *   forward   send dec.d.request when dec.rewritten (e.g. max_tokens written),
 *             else the client's body unchanged
 *   truncate  send dec.d.request (the prompt was cut to fit)
 *   reject    answer dec.d.status with dec.d.error (an OpenAI-shaped error such
 *             as context_length_exceeded; dec.d.refusal.api.code names it for
 *             /metrics) and never contact the upstream
 * What the adapter adds is the x-tokgate-* response fields ("Name: value\r\n"
 * lines in `headers`) that say what was counted and changed. A model whose
 * limits are not known yet is forwarded unchanged (decided = 0) with
 * "x-tokgate-limits: unknown".
 */
#ifndef TG_GATEWAY_BUDGET_H
#define TG_GATEWAY_BUDGET_H

#include "gateway/models.h"
#include "tokgate/policy.h"
#include "util/buf.h"

typedef struct tg__budget {
    int decided;             /* 0: no limits yet; forward unchanged, dec is empty */
    tg_budget_decision dec;  /* the library's decision */
    char *headers;           /* x-tokgate-* lines (malloc'd) or NULL */
} tg__budget;

/* Runs on a worker thread for large bodies: it reads only the request, the
 * model (immutable in its held table) and this thread's count cache. An error
 * (out of memory) leaves nothing to free but what tg__budget_free frees. */
tg_status tg__budget_decide(const tg__model *m, const tg_request *r, tg__budget *out, tg_error *err);
/* The same with the prompt's exact count as the engine gave it
 * (engine_count.h; 0: none), used where m's tokenizer cannot count it. */
tg_status tg__budget_decide_counted(const tg__model *m, const tg_request *r, uint64_t engine_tokens, tg__budget *out,
                                    tg_error *err);
/* The same through the whole-request count cache (req_fast.h): FAST's
 * counts on a hit (R then comes from tg__request_parse_scanned), and on a
 * miss with a key the whole count, which fills the cache. FAST NULL: as
 * tg__budget_decide_counted. */
struct tg__rfast;
tg_status tg__budget_decide_fast(const tg__model *m, const tg_request *r, uint64_t engine_tokens, struct tg__rfast *fast,
                                 tg__budget *out, tg_error *err);
/* A plain chat decided on its scanned members alone (Q, req_scan.h's
 * tg__req_lite) with FAST's cached counts (a hit): *decided 1 and OUT as
 * tg__budget_decide_fast fills it when the decision forwards Q as it came
 * (OUT's dec.d.request is NULL), except that its header lines are written
 * onto H (the caller adds its own and takes them: one allocation), not into
 * OUT's headers (such a decision holds no allocation); *decided 0, OUT empty and H as it was when it does not
 * forward it so, or m has no limits yet: the scanned tree decides. */
struct tg__req_lite;
tg_status tg__budget_decide_lite(const tg__model *m, const struct tg__req_lite *q, const struct tg__rfast *fast,
                                 tg__budget *out, int *decided, tgx_buf *h, tg_error *err);
void tg__budget_free(tg__budget *b);
/* BD's x-tokgate-* lines and m's limit lines onto H, as a decision's
 * headers carry them: the usual ones in one append, or (PIECEWISE, and
 * whatever that does not cover) piece by piece; the text is the same. */
void tg__budget_lines(const tg__model *m, const tg_budget_decision *bd, tgx_buf *h, int piecewise);

/* The model as the library's budget path takes it (BM borrows from m, and
 * SETTINGS must outlive BM); the count cache is this thread's for m's
 * tokenizer. */
void tg__budget_model(const tg__model *m, tg_budget_model *bm);

#endif
