/*
 * gateway/options.h: every option of `tokgate serve` in one place: the
 * command-line flag, the config-file key, its kind and bounds, where it is
 * stored and its help line (util/opt.h; curl's tool_getparam.c aliases[] is
 * the model). config.c reads both the file and the flags through these
 * tables, the help text and docs/gateway.md's key table are generated from
 * them, and tests/gateway/test_config.c checks that every entry works as a
 * flag and as a key with the same bounds.
 *
 * Scopes, each a table and the struct it writes into:
 *   tg__serve_opts      the top level of the file, the global flags (tg__config)
 *   tg__model_opts      one entry of "models", the single-model flags (tg__model_cfg)
 *   tg__settings_opts   a model's "policy" object, the policy flags
 *                       (policy/settings_keys.h; shared with tokgate check)
 *   tg__hardware_opts   a model's "hardware" object, the derivation flags
 *                       (limits/limits_keys.h; shared with tokgate limits, check)
 * The single-model flags (the last three scopes) build one model section.
 */
#ifndef TG_GATEWAY_OPTIONS_H
#define TG_GATEWAY_OPTIONS_H

#include "gateway/config.h"
#include "limits/limits_keys.h"
#include "policy/settings_keys.h"
#include "util/buf.h"
#include "util/opt.h"

extern const tgx_opt tg__serve_opts[];
extern const size_t tg__n_serve_opts;
extern const tgx_opt tg__model_opts[];
extern const size_t tg__n_model_opts;

/* `tokgate serve --help`, generated from the tables with their defaults. */
tg_status tg__serve_usage(tgx_buf *b);

/* The Markdown table of every config key (key, flag, value, meaning) that
 * docs/gateway.md carries between its config-keys markers. */
tg_status tg__config_keys_markdown(tgx_buf *b);

#endif
