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
