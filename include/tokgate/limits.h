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
 *   output             = output reserve (default 8192), at most context
 *   input              = context - output
 *
 * tg_limits is a plain value: the gateway publishes it atomically and the
 * policy layer reads it; nothing in it is owned.
 */
#ifndef TOKGATE_LIMITS_H
#define TOKGATE_LIMITS_H

#include <stdint.h>
#include "tokgate/error.h"

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
} tg_limits;

TG_API const char *tg_binding_name(tg_binding b);

#ifdef __cplusplus
}
#endif
#endif
