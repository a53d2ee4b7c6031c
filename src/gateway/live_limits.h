/*
 * gateway/live_limits.h: each served model's {context, input, output} as
 * it stands now (live_limits.c): configured limits, the upstream's own
 * context, the model file or built-in catalogue through tg_limits_derive
 * (free VRAM from the config or NVML, the prefill throughput measured on the
 * upstream's answers). The same numbers go to /v1/models, /api.json,
 * /v1/limits, /metrics and the budget decision: every limit enforced is one
 * advertised.
 */
#ifndef TG_GATEWAY_LIVE_LIMITS_H
#define TG_GATEWAY_LIVE_LIMITS_H

#include "gateway/discovery.h"
#include "gateway/models.h"

/* Sets m->limits, have_limits, limits_source, upstream_ctx and n_ctx_train
 * from m's section, its upstream entry and `ui` (NULL: not discovered). */
void tg__live_limits_derive(tg__server *s, tg__model *m, const tg__upinfo *ui);
/* Folds one answer's prefill rate (llama-server's timings) into the
 * upstream's EMA (alpha 0.2); fewer than 16 tokens say nothing. */
void tg__prefill_observe(tg__server *s, const char *pool_key, double tokens, double ms);

#endif
