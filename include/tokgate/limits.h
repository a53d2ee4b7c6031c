/*
 * tokgate/limits.h: a model's usable {context, input, output} and how they
 * were derived (helexa's rule, made general; see docs/limits.md).
 *
 *   kv_bytes_per_token_per_card = sum over layers whose cache grows with
 *                                 context of that layer's K+V bytes per token,
 *                                 divided by the tensor-parallel degree
 *   vram ceiling       = (free VRAM on the tightest card - activation headroom
 *                         - minimum free floor - fixed KV state per card)
 *                         / kv_bytes_per_token_per_card
 *   throughput ceiling = target prefill latency x prefill tokens per second
 *   context            = min(native, vram, throughput), then clamped by a
 *                        static max-prompt backstop when one is set
 *   output             = output reserve (default 8192), at most half the context
 *   input              = context - output
 * (tg_limits_from_context applies the same clamp and split to a context that
 * is already known.)
 *
 * tg_limits is a plain value: the gateway publishes it atomically and the
 * policy layer reads it; nothing in it is owned.
 *
 * KV bytes per token, per layer kind (llama.cpp's cache layout,
 * src/llama-kv-cache.cpp; ggml row sizes ggml_row_size = elems / block
 * elems x block bytes):
 *   full attention   K row (n_head_kv x head_k) + V row (n_head_kv x head_v),
 *                    grows with context
 *   MLA              one K row of kv_lora_rank + rope dims, no V, grows
 *   sliding window   as full attention, but `window` tokens at most: fixed
 *   recurrent        state elements x 4 bytes (f32, whatever the KV type): fixed
 * Per card, KV heads are split over the tensor-parallel degree (a card holds
 * ceil(n_head_kv / tp) heads, at least one: heads are replicated, not split,
 * when there are fewer than cards); an MLA latent is not split (vLLM keeps the
 * whole latent on every rank); recurrent state is split evenly.
 * A quantised KV type needs every head size to be a multiple of its block
 * (32), as llama.cpp requires: otherwise TG_EUNSUPPORTED.
 */
#ifndef TOKGATE_LIMITS_H
#define TOKGATE_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"
#include "tokgate/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tg_binding {
    TG_BIND_NATIVE = 0,
    TG_BIND_VRAM,
    TG_BIND_THROUGHPUT,
    TG_BIND_CLAMP
} tg_binding;

#define TG_CEILING_NONE UINT64_MAX /* a ceiling that was not computed */

typedef struct tg_limits {
    uint64_t context;
    uint64_t input;
    uint64_t output;
    tg_binding binding;
    uint64_t ceiling_native;
    uint64_t ceiling_vram;        /* TG_CEILING_NONE when no VRAM figure */
    uint64_t ceiling_throughput;  /* TG_CEILING_NONE when no prefill figures */
    uint64_t kv_bytes_per_token;           /* whole model, marginal per token */
    uint64_t kv_bytes_per_token_per_card;  /* divided by tp */
    uint64_t kv_fixed_bytes;               /* sliding windows + recurrent state, whole model */
    /* Added detail. */
    uint64_t kv_fixed_bytes_per_card;      /* the fixed part on one card */
    uint64_t kv_sliding_bytes;             /* windows, whole model */
    uint64_t kv_recurrent_bytes;           /* recurrent / linear state, whole model */
    uint64_t tightest_free_bytes;          /* min free VRAM over the cards; 0 when none given */
    int64_t vram_budget_bytes;             /* tightest - activation - floor - fixed per card */
} tg_limits;

TG_API const char *tg_binding_name(tg_binding b);

/* KV cache element types, by ggml's block layout. */
typedef enum tg_kv_type {
    TG_KV_F32 = 0, /* block 1 elem, 4 bytes */
    TG_KV_F16,     /* 1, 2 */
    TG_KV_BF16,    /* 1, 2 */
    TG_KV_Q8_0,    /* 32, 34 (f16 scale + 32 x i8) */
    TG_KV_Q4_0,    /* 32, 18 (f16 scale + 16 bytes of nibbles) */
    TG_KV_Q4_1,    /* 32, 20 (f16 scale and min + 16) */
    TG_KV_Q5_0,    /* 32, 22 (f16 scale + 4 high bits + 16) */
    TG_KV_Q5_1     /* 32, 24 (f16 scale and min + 4 + 16) */
} tg_kv_type;

TG_API const char *tg_kv_type_name(tg_kv_type t);
/* "f16", "q8_0", ... (case-insensitive); TG_EINVAL naming the accepted set. */
TG_API tg_status tg_kv_type_parse(const char *s, tg_kv_type *out, tg_error *err);
TG_API void tg_kv_type_block(tg_kv_type t, uint32_t *block_elems, uint32_t *block_bytes);

#define TG_MIB ((uint64_t)1 << 20)
#define TG_LIMITS_MAX_CARDS 64
#define TG_LIMITS_MAX_TP 1024
#define TG_LIMITS_DEFAULT_MIN_FREE_MIB 1500u
#define TG_LIMITS_DEFAULT_OUTPUT_RESERVE 8192u

typedef struct tg_limits_config {
    uint64_t free_vram[TG_LIMITS_MAX_CARDS]; /* bytes free on each card */
    size_t n_cards;             /* 0: no VRAM figure, the VRAM ceiling is not computed */
    uint32_t tp;                /* tensor-parallel degree, 1..TG_LIMITS_MAX_TP */
    tg_kv_type kv_type;         /* default f16 */
    uint64_t min_free_bytes;    /* floor kept free, default 1500 MiB */
    uint64_t activation_bytes;  /* activation headroom, default 0 */
    double prefill_tps;         /* prefill tokens per second, 0 = unknown */
    double target_prefill_s;    /* target prefill latency, 0 = unknown */
    uint64_t max_prompt_tokens; /* static backstop, 0 = none */
    uint64_t output_reserve;    /* default 8192 */
} tg_limits_config;

/* The defaults above, no cards, tp 1. */
TG_API void tg_limits_config_init(tg_limits_config *c);

typedef struct tg_kv_cost {
    uint64_t per_token;            /* layers whose cache grows, whole model */
    uint64_t per_token_per_card;
    uint64_t sliding_bytes;        /* every window full, whole model */
    uint64_t recurrent_bytes;      /* whole model */
    uint64_t fixed_bytes;          /* sliding + recurrent */
    uint64_t fixed_bytes_per_card;
} tg_kv_cost;

/* KV cost of a profile. TG_EUNSUPPORTED when a head size does not tile the
 * KV type's block; TG_ELIMIT on overflow; TG_EINVAL for tp 0. */
TG_API tg_status tg_kv_cost_compute(const tg_model_profile *p, tg_kv_type t, uint32_t tp,
                                    tg_kv_cost *out, tg_error *err);

/* Derives {context, input, output} and the ceilings. A budget that leaves no
 * room gives context 0 (binding vram), not an error. */
TG_API tg_status tg_limits_derive(const tg_model_profile *p, const tg_limits_config *c,
                                  tg_limits *out, tg_error *err);

/* Limits from a context already known (no profile to derive from): the
 * context as the native ceiling, clamped by c->max_prompt_tokens when set,
 * output = min(c->output_reserve, context / 2), input = context - output:
 * the same split tg_limits_derive ends with. Only max_prompt_tokens and
 * output_reserve of C are read. TG_EINVAL for a context of 0 or above 2^40. */
TG_API tg_status tg_limits_from_context(uint64_t context, const tg_limits_config *c,
                                        tg_limits *out, tg_error *err);

typedef enum tg_verdict {
    TG_VERDICT_FITS = 0,     /* leaves at least the floor free */
    TG_VERDICT_UNDER_FLOOR,  /* fits, but eats into the floor */
    TG_VERDICT_NO_FIT,       /* needs more than is free */
    TG_VERDICT_UNKNOWN       /* no VRAM figure given */
} tg_verdict;

TG_API const char *tg_verdict_name(tg_verdict v);

typedef struct tg_ladder_row {
    uint64_t context;
    uint64_t kv_bytes_per_card; /* context x per-token-per-card + fixed per card */
    int64_t left_bytes;         /* tightest free - activation - KV (when a VRAM figure is given) */
    tg_verdict verdict;
    int over_throughput;        /* above the throughput ceiling */
    int over_clamp;             /* above the max-prompt backstop */
    int derived;                /* this row is the derived context */
} tg_ladder_row;

#define TG_LADDER_MAX_ROWS 48

/* The operator's table: 4096, 8192, 16384, ... up to the native context, the
 * native context itself and the derived context (each once, ascending).
 * Writes at most `cap` rows and returns how many it wrote. */
TG_API size_t tg_limits_ladder(const tg_limits *l, const tg_limits_config *c,
                               tg_ladder_row *rows, size_t cap);

/* Free VRAM of every GPU NVML sees, in bytes (limits/nvml.c: libnvidia-ml
 * loaded with dlopen on first use; TG_NVML_LIB overrides its path).
 * TG_ENOTFOUND, with the reason, where there is no NVML or no GPU; the caller
 * falls back to a configured figure. */
TG_API tg_status tg_nvml_free_vram(uint64_t *free_bytes, size_t cap, size_t *n_cards, tg_error *err);

/* One card as NVML reports it (issue 20). status 0: read; else NVML's
 * nvmlReturn_t for this card (e.g. 15 NVML_ERROR_GPU_IS_LOST), `error` its
 * text, and free/total 0. `uuid` is nvmlDeviceGetUUID's "GPU-..." ("" where
 * the library lacks the entry point). */
typedef struct tg_nvml_card {
    uint64_t free_bytes, total_bytes;
    unsigned index;
    int status;
    char uuid[96];
    char error[96];
} tg_nvml_card;

/* Every card NVML sees, in NVML's index order (nvidia-smi's), each with its
 * own status: a lost card is reported in place, not as a failure of the
 * whole reading. TG_ENOTFOUND where there is no NVML or no GPU; TG_EIO when
 * the count itself cannot be read; TG_ELIMIT above `cap` cards. */
TG_API tg_status tg_nvml_cards(tg_nvml_card *cards, size_t cap, size_t *n_cards, tg_error *err);

#ifdef __cplusplus
}
#endif
#endif
