/*
 * tokgate/reasoning.h: which models think before they answer, and the base
 * thinking budget of each family (the "balanced"/"auto" budget of the dynamic
 * thinking token scheme; see docs/policy.md and src/model/reasoning.c, where
 * every figure carries its source).
 *
 * Lookup is by model name as users and servers spell it: case-insensitive,
 * with any organisation prefix ("MiniMaxAI/", "unsloth/"), a file extension
 * (".gguf") and quantisation suffixes ("-W4A16", "-Q4_K_M", ":Q8_0") ignored,
 * because matching is on a family pattern found inside the name, bounded so
 * that "glm-4.7" does not match "glm-4.75". The most specific pattern wins
 * ("MiniMax-M2.1-REAP-50" before "MiniMax-M2.1").
 *
 * The table is static data; nothing is allocated and nothing is owned.
 */
#ifndef TOKGATE_REASONING_H
#define TOKGATE_REASONING_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tg_reasoning_info {
    const char *family;       /* display name of the family ("MiniMax-M2.1") */
    uint64_t base_budget;     /* thinking tokens in balanced/auto mode */
    const char *source;       /* where the figure comes from */
} tg_reasoning_info;

/* The reasoning family of model NAME (LEN bytes, need not be NUL-terminated),
 * or NULL when the name is not a known reasoning model (or is a known
 * non-thinking variant such as "Qwen3-...-Instruct-2507"). */
TG_API const tg_reasoning_info *tg_reasoning_lookup(const char *name, size_t len);

#ifdef __cplusplus
}
#endif
#endif
