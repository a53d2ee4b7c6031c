/* gateway/budget.c: budget_decide (see budget.h). Until the policy layer
 * lands it forwards every request unchanged and reports what it saw. */
#include "gateway/budget.h"

#include <stdlib.h>
#include <string.h>

tg_status tg__budget_decide(const tg__config *cfg, const tg__model *m, int route, json_t *req, tg__budget *out) {
    (void)cfg;
    (void)route;
    memset(out, 0, sizeof *out);
    out->action = TG__BUDGET_FORWARD;
    tgx_buf h;
    tgx_buf_init(&h, 4096);
    json_t *mt = json_object_get(req, "max_completion_tokens");
    if (!json_is_integer(mt)) mt = json_object_get(req, "max_tokens");
    if (json_is_integer(mt)) tgx_buf_printf(&h, "x-tokgate-max-tokens: %lld\r\n", (long long)json_integer_value(mt));
    tgx_buf_printf(&h, "x-tokgate-clamped: 0\r\nx-tokgate-truncated: 0\r\n");
    if (m->have_limits)
        tgx_buf_printf(&h, "x-tokgate-limit-context: %llu\r\nx-tokgate-limit-input: %llu\r\nx-tokgate-limit-output: %llu\r\n",
                       (unsigned long long)m->limits.context, (unsigned long long)m->limits.input,
                       (unsigned long long)m->limits.output);
    out->headers = tgx_buf_detach(&h, NULL);
    return TG_OK;
}

void tg__budget_free(tg__budget *b) {
    free(b->error_json);
    free(b->headers);
    if (b->rewritten) json_decref(b->rewritten);
    memset(b, 0, sizeof *b);
}
