/*
 * cli/cli_model.h: helpers shared by `tokgate inspect` and `tokgate limits`:
 * loading a profile from --model PATH or --model-name NAME, describing it in
 * JSON, and parsing numeric flags strictly.
 */
#ifndef TG_CLI_MODEL_H
#define TG_CLI_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "tokgate/limits.h"
#include "tokgate/model.h"

/* Whole decimal number in 0..max, nothing else (no sign, no spaces); 0 on success. */
int tg_cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Finite decimal number >= 0; 0 on success. */
int tg_cli_parse_double(const char *s, double *out);

/* --free-vram-mib for limits, check: "N[,N...]" whole MiB per card, or
 * "nvml" to read every GPU's free memory now (tg_nvml_free_vram). Fills
 * cfg->free_vram/n_cards; on a bad value prints "tokgate VERB: ..." to stderr
 * and returns 2, else 0. */
int tg_cli_parse_free_vram(const char *verb, const char *v, tg_limits_config *cfg);

/* The flags of `tokgate limits` that choose a model and the derivation's
 * inputs, shared by every verb that derives limits (limits, recipe):
 *   --model PATH | --model-name NAME, --free-vram-mib, --tp, --kv-type,
 *   --min-free-mib, --activation-mib, --prefill-tps, --target-prefill-s,
 *   --max-prompt-tokens, --output-reserve (each also as --flag=value).
 * Initialise cfg with tg_limits_config_init first. */
typedef struct tg_cli_limits_flags {
    const char *model, *model_name;
    tg_limits_config cfg;
    int have_tps, have_target;
} tg_cli_limits_flags;

/* argv[*i] if it is one of those flags: consumes it (and its value, moving
 * *i) and returns 0; 1 when argv[*i] is not one of them; 2 after printing
 * "tokgate VERB: ..." for a missing or bad value. */
int tg_cli_parse_limits_flag(const char *verb, int argc, char **argv, int *i, tg_cli_limits_flags *f);
/* After the last flag: exactly one model, --prefill-tps with
 * --target-prefill-s. 0, or 2 after printing why. */
int tg_cli_limits_flags_done(const char *verb, const tg_cli_limits_flags *f);

/* The value of --flag or --flag=value at argv[*i] (moving *i past a
 * separate value); NULL after "tokgate VERB: FLAG needs a value". */
const char *tg_cli_flag_value(const char *verb, int argc, char **argv, int *i, const char *flag);
/* 1 when A is FLAG or FLAG=value. */
int tg_cli_is_flag(const char *a, const char *flag);

/* "64.0 KiB", "7.57 GiB": bytes for humans (exact bytes are printed beside). */
void tg_cli_human_bytes(char *out, size_t cap, double bytes);

/* One character per layer: F full, S sliding, M MLA, R recurrent,
 * B both attention and recurrent state, - no cache. Caller frees. */
char *tg_cli_layer_pattern(const tg_model_profile *p);

/* The profile as a JSON object (a new reference). */
json_t *tg_cli_profile_json(const tg_model_profile *p);

/* Prints a JSON value to stdout with a newline; 0 on success. */
int tg_cli_print_json(json_t *v);

#endif
