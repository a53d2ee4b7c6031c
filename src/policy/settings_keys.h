/*
 * policy/settings_keys.h: the per-model policy settings (tg_model_settings,
 * tokgate/policy.h) as one option table (util/opt.h), shared by `tokgate
 * check` (flags) and `tokgate serve` (flags, and the "policy" object of a
 * model section): a flag and its key take the same values with the same
 * bounds, and `--safe-fraction` is `policy.safe_fraction` everywhere.
 *
 * The target of every entry is a tg_model_settings. thinking_base has no
 * "unset" value: callers that fill it from the reasoning catalogue do so
 * only when its bit (tgx_opt_bit(..., "thinking_base")) is not given.
 */
#ifndef TG_POLICY_SETTINGS_KEYS_H
#define TG_POLICY_SETTINGS_KEYS_H

#include "tokgate/policy.h"
#include "util/opt.h"

extern const tgx_opt tg__settings_opts[];
extern const size_t tg__n_settings_opts;

#endif
