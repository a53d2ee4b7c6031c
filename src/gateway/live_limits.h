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

#include <jansson.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/discovery.h"
#include "gateway/vram.h"
#include "tokgate/limits.h"

typedef struct tg__live {
    tg_limits limits;
    int have_limits;
    const char *limits_source; /* static text */
    uint64_t upstream_ctx;     /* n_ctx / max_model_len the upstream enforces; 0 unknown */
    uint64_t n_ctx_train;
    /* issue 20: the free-VRAM figure and what it does for this engine */
    tg__vram_view vram;
    const char *vram_role;  /* static text: binds / information only / not used */
    uint64_t kv_held_tokens; /* KV the engine holds for the model now, added back (Ollama) */
    char binding_why[240];  /* which ceiling binds and why, in words */
} tg__live;

/* The limits of the model served as `name` (NULL: not named yet) under
 * section `c`, from its upstream entry (/v1/models, or NULL) and what
 * discovery learned of its upstream (`ui`, or NULL). Loads the model file
 * on first use (modelfiles.h). */
void tg__live_limits_derive(tg__server *s, const tg__model_cfg *c, const char *name, const json_t *upstream_obj,
                            const tg__upinfo *ui, tg__live *out);
/* Folds one answer's prefill rate (llama-server's timings) into the
 * upstream's EMA (alpha 0.2); fewer than 16 tokens say nothing. */
void tg__prefill_observe(tg__server *s, const char *pool_key, double tokens, double ms);

#endif
