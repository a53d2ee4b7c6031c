/*
 * limits/limits_keys.h: the inputs of the limits derivation (tokgate/limits.h)
 * as one option table (util/opt.h), shared by `tokgate limits`, `tokgate
 * check` (flags) and `tokgate serve` (flags, and the "hardware" object of a
 * model section), so a flag and its config key take the same values with the
 * same bounds.
 *
 *   tg__hardware_opts  free_vram_mib, tp, kv_type, min_free_mib,
 *                      activation_mib, prefill_tps, target_prefill_s
 *   tg__budget_opts    max_prompt_tokens, output_reserve (the CLI's; a
 *                      gateway model section has its own "limits" object,
 *                      with the same bounds: TG__TOKENS_MAX)
 *
 * Both write into a tg__limits_inputs. free_vram_mib "nvml" is kept as a
 * mark: the CLI reads NVML once (tg__limits_inputs_resolve), the gateway at
 * each derivation.
 */
#ifndef TG_LIMITS_KEYS_H
#define TG_LIMITS_KEYS_H

#include "tokgate/limits.h"
#include "util/opt.h"

#define TG__TOKENS_MAX 1099511627776.0 /* 2^40: the largest token count any option takes */
#define TG__MIB_MAX 1073741824.0       /* 2^30 MiB (1 PiB): the largest per-card figure */

typedef struct tg__limits_inputs {
    tg_limits_config cfg;
    int free_vram_nvml; /* free_vram_mib "nvml": read the cards when deriving (cfg.n_cards 0 until then) */
} tg__limits_inputs;

/* tg_limits_config_init, no NVML mark. */
void tg__limits_inputs_init(tg__limits_inputs *in);

extern const tgx_opt tg__hardware_opts[];
extern const size_t tg__n_hardware_opts;
extern const tgx_opt tg__budget_opts[];
extern const size_t tg__n_budget_opts;

/* With the NVML mark: reads every card's free memory now into cfg (the
 * error of tg_nvml_free_vram otherwise). Without it: TG_OK, nothing done. */
tg_status tg__limits_inputs_resolve(tg__limits_inputs *in, tg_error *err);

#endif
