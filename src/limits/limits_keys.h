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

#define TG__GPUS_TEXT_MAX 512 /* hardware.gpus as text, NUL included */
#define TG__GPU_ITEM_MAX 95   /* one index or UUID (NVML_DEVICE_UUID_V2_BUFFER_SIZE 96) */

typedef struct tg__limits_inputs {
    tg_limits_config cfg;
    int free_vram_nvml; /* free_vram_mib "nvml": read the cards when deriving (cfg.n_cards 0 until then) */
    /* "gpus" (issue 20): the cards the model runs on, as CUDA_VISIBLE_DEVICES
     * text ("0,1", "GPU-8932f937-...", NVML indices or UUIDs, a UUID prefix
     * allowed); "" not given: $CUDA_VISIBLE_DEVICES, else every card. */
    char gpus[TG__GPUS_TEXT_MAX];
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

/* The card list a model runs on and where it came from: hardware.gpus
 * ("hardware.gpus"), else $CUDA_VISIBLE_DEVICES of this process
 * ("CUDA_VISIBLE_DEVICES"), else NULL (every card, "all cards"). */
const char *tg__gpus_spec(const tg__limits_inputs *in, const char **from);
/* Checks a card list's syntax (items: an index 0..63, or a UUID "GPU-..." /
 * "MIG-..." of [0-9A-Za-z-], at most 95 bytes; comma-separated, at most
 * TG_LIMITS_MAX_CARDS); TG_EINVAL naming the item and the rule. */
tg_status tg__gpus_check(const char *spec, tg_error *err);
/* The positions in cards[0..n) of the cards `spec` names (NULL: all), in
 * the list's order, each once; an index matches NVML's index, a UUID the
 * card's UUID or its prefix (as CUDA reads CUDA_VISIBLE_DEVICES). TG_ENOTFOUND
 * naming an item no card matches. */
tg_status tg__gpus_select(const char *spec, const tg_nvml_card *cards, size_t n, size_t *pos, size_t *n_pos,
                          tg_error *err);

#endif
