/*
 * tokgate/recipe.h: launch recipes. From a model profile and the inputs of
 * the limits derivation (tokgate/limits.h), the command line that starts an
 * inference engine with the derived context, the tokgate config model
 * section that goes with it and the opencode.json `limit` block, so the
 * engine, the gateway and the agent agree on one set of numbers
 * (docs/limits.md, "Launch recipes").
 *
 * Per engine (flag names from each engine's own source or docs, cited in
 * src/limits/recipe.c):
 *   vllm          vllm serve MODEL --max-model-len C [--reasoning-parser P
 *                 --default-chat-template-kwargs '{"max_thinking_tokens": N}']
 *   sglang        python -m sglang.launch_server --model-path MODEL
 *                 --context-length C [--reasoning-parser P]
 *   llama-server  llama-server -m MODEL -c C*NP -np NP [--reasoning-budget N]
 *                 (-c is the KV cache of all slots together; a slot gets
 *                 -c / -np, rounded by llama.cpp up to a multiple of 256, so
 *                 the recipe's slot context is a multiple of 256)
 *   ollama        a Modelfile: FROM MODEL, PARAMETER num_ctx C
 * `systemd` prints the same as drop-in files ([Service] Environment= /
 * ExecStart= overrides) instead of a shell line.
 *
 * With NP slots (llama-server, ollama's OLLAMA_NUM_PARALLEL) each slot keeps
 * its own KV cache and fixed state, so the VRAM ceiling is that of NP
 * sequences: (budget - NP x fixed per card) / (NP x KV bytes per token per
 * card). With NP = 1 the context is exactly tg_limits_derive's.
 *
 * Pure: builds text, opens nothing. The caller owns the tg_recipe and frees
 * it with tg_recipe_free.
 */
#ifndef TOKGATE_RECIPE_H
#define TOKGATE_RECIPE_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tg_engine {
    TG_ENGINE_VLLM = 0,
    TG_ENGINE_SGLANG,
    TG_ENGINE_LLAMA_SERVER,
    TG_ENGINE_OLLAMA
} tg_engine;

typedef enum tg_recipe_format {
    TG_RECIPE_SHELL = 0, /* a command line (a Modelfile and `ollama create` for ollama) */
    TG_RECIPE_SYSTEMD    /* drop-in files for the engine's unit */
} tg_recipe_format;

/* "vllm", "sglang", "llama-server", "ollama"; -1 for anything else. */
TG_API int tg_engine_parse(const char *s);
TG_API const char *tg_engine_name(tg_engine e);

#define TG_RECIPE_MAX_PARALLEL 1024u

typedef struct tg_recipe_input {
    tg_engine engine;
    tg_recipe_format format;
    const char *model;       /* path or name as the engine takes it (required, < 4096 bytes) */
    int model_is_path;       /* 1: a file or directory (the config section gets "model") */
    const char *served_name; /* name clients use (tokgate config, opencode; < 4096 bytes);
                                NULL: the profile's name */
    uint32_t parallel;       /* slots (llama-server -np, ollama OLLAMA_NUM_PARALLEL); 0 means 1 */
    uint16_t port;           /* engine port; 0: the engine's default (vllm 8001, sglang 30000,
                                llama-server 8080, ollama 11434); vllm's 8000 is tokgate's */
    /* Thinking defaults: reasoning = 1 for a model that thinks (tg_reasoning_lookup);
     * thinking_budget 0 with reasoning = 1 means thinking off. */
    int reasoning;
    const char *reasoning_family;  /* tg_reasoning_info.family, picks the engine's parser */
    uint64_t thinking_budget;
    const char *thinking_mode;     /* the config section's policy.thinking_mode; may be NULL */
    uint64_t policy_thinking_base; /* the config section's policy.thinking_base (an explicit
                                      budget); 0: none */
} tg_recipe_input;

typedef struct tg_recipe {
    tg_limits limits;        /* per slot: context, input, output and the ceilings */
    uint64_t slot_context;   /* what the engine is told per sequence (llama-server: a multiple of 256) */
    uint64_t total_context;  /* llama-server -c: slot_context x parallel; others: slot_context */
    uint32_t parallel;
    char *launch;            /* the launch text (shell or systemd drop-ins), ends with a newline */
    char *config_json;       /* the tokgate config model section, one JSON object */
    char *opencode_json;     /* {"context": C, "output": O} */
    const char *reasoning_parser; /* the engine's parser name, or NULL */
} tg_recipe;

/* Builds the recipe. TG_EINVAL for a missing model, parallel above
 * TG_RECIPE_MAX_PARALLEL, or a context of 0 (nothing fits: the message names
 * the VRAM budget); errors of tg_limits_derive pass through. */
TG_API tg_status tg_recipe_build(const tg_model_profile *p, const tg_limits_config *c,
                                 const tg_recipe_input *in, tg_recipe *out, tg_error *err);
TG_API void tg_recipe_free(tg_recipe *r);

#ifdef __cplusplus
}
#endif
#endif
