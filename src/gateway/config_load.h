/* gateway/config_load.h: reading a serve configuration (config.h) from its
 * file and flags (config_load.c). */
#ifndef TG_GATEWAY_CONFIG_LOAD_H
#define TG_GATEWAY_CONFIG_LOAD_H

#include <stddef.h>

#include "gateway/config.h"

/* Builds a config from `tokgate serve` arguments (argv[0] is "serve"),
 * reading --config FILE (or --config=FILE) when given. */
tg_status tg__config_from_args(int argc, char **argv, tg__config **out, tg_error *err);
/* Builds a config from LEN bytes of config-file JSON alone (the fuzzer's and
 * the tests' entry: no file, no flags); NAME prefixes messages. */
tg_status tg__config_from_json(const char *json, size_t len, const char *name, tg__config **out, tg_error *err);

#endif
