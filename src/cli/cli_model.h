/*
 * cli/cli_model.h: helpers shared by `tokgate inspect`, `tokgate limits` and
 * `tokgate check`: describing a model profile in JSON, and reading flags
 * through the option tables the gateway's config shares (util/opt.h,
 * limits/limits_keys.h, policy/settings_keys.h), so a flag takes the same
 * values with the same bounds in every verb and as a config key.
 */
#ifndef TG_CLI_MODEL_H
#define TG_CLI_MODEL_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "limits/limits_keys.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"
#include "util/opt.h"

/* The verb's flags through option tables: each argument is looked up in TABS
 * in order and stored into the matching TARGETS entry; GIVEN[k] gets the bit
 * of each entry of table k that was set. On a bad argument prints
 * "tokgate VERB: message" to stderr and returns its status (TG_ENOTFOUND for
 * an unknown option), else TG_OK. */
int tg_cli_options(const char *verb, const tgx_opt_table *tabs, void *const *targets, uint64_t *given,
                   size_t ntabs, int argc, char **argv);
/* The table's help lines, with defaults from DEFAULTS (a target) when not NULL. */
void tg_cli_options_help(FILE *out, const tgx_opt *t, size_t n, const void *defaults);
/* --free-vram-mib nvml: reads the cards now; on failure prints
 * "tokgate VERB: --free-vram-mib nvml: ..." and returns 2, else 0. */
int tg_cli_resolve_nvml(const char *verb, tg__limits_inputs *in);

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
