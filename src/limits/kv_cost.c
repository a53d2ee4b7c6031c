/*
 * limits/kv_cost.c: KV-cache bytes of a model profile, per token and fixed,
 * whole model and per card; KV element types by their ggml block layout.
 *
 * The layout is llama.cpp's (src/llama-kv-cache.cpp): each layer with a
 * cache holds a K tensor of n_embd_k_gqa = n_head_kv x head_k elements per
 * cell and, except for MLA, a V tensor of n_head_kv x head_v; a row of n
 * elements takes ggml_row_size = n / block_elems x block_bytes bytes, which
 * llama.cpp only allows when the head size is a multiple of the block
 * (llama-context.cpp refuses a quantised cache otherwise; so do we).
 * Recurrent state (llama-memory-recurrent.cpp) is kept in f32 regardless of
 * the KV type. The per-card split is described in tokgate/limits.h.
 */
#include "tokgate/limits.h"

#include <ctype.h>
#include <string.h>

static const struct {
    const char *name;
    uint32_t elems, bytes;
} kv_types[] = {
    [TG_KV_F32] = {"f32", 1, 4},   [TG_KV_F16] = {"f16", 1, 2},   [TG_KV_BF16] = {"bf16", 1, 2},
    [TG_KV_Q8_0] = {"q8_0", 32, 34}, [TG_KV_Q4_0] = {"q4_0", 32, 18}, [TG_KV_Q4_1] = {"q4_1", 32, 20},
    [TG_KV_Q5_0] = {"q5_0", 32, 22}, [TG_KV_Q5_1] = {"q5_1", 32, 24},
};
#define N_KV_TYPES (sizeof kv_types / sizeof kv_types[0])

const char *tg_kv_type_name(tg_kv_type t) {
    return (size_t)t < N_KV_TYPES ? kv_types[t].name : "unknown";
}

void tg_kv_type_block(tg_kv_type t, uint32_t *block_elems, uint32_t *block_bytes) {
    size_t i = (size_t)t < N_KV_TYPES ? (size_t)t : (size_t)TG_KV_F16;
    if (block_elems) *block_elems = kv_types[i].elems;
    if (block_bytes) *block_bytes = kv_types[i].bytes;
}

tg_status tg_kv_type_parse(const char *s, tg_kv_type *out, tg_error *err) {
    char low[16];
    size_t n = s ? strlen(s) : 0;
    if (n > 0 && n < sizeof low) {
        for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)s[i]);
        for (size_t i = 0; i < N_KV_TYPES; i++)
            if (strcmp(low, kv_types[i].name) == 0) { *out = (tg_kv_type)i; return TG_OK; }
    }
    return tg_error_set(err, TG_EINVAL,
                        "KV type \"%.32s\" is not one of f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1",
                        s ? s : "");
}

typedef struct acc {
    int overflow;
} acc;

static uint64_t mul(acc *a, uint64_t x, uint64_t y) {
    if (x != 0 && y > UINT64_MAX / x) { a->overflow = 1; return 0; }
    return x * y;
}

static uint64_t add(acc *a, uint64_t x, uint64_t y) {
    if (y > UINT64_MAX - x) { a->overflow = 1; return 0; }
    return x + y;
}

static uint64_t ceil_div(uint64_t x, uint64_t y) { return x / y + (x % y != 0); }

tg_status tg_kv_cost_compute(const tg_model_profile *p, tg_kv_type t, uint32_t tp,
                             tg_kv_cost *out, tg_error *err) {
    memset(out, 0, sizeof *out);
    if (tp == 0 || tp > TG_LIMITS_MAX_TP)
        return tg_error_set(err, TG_EINVAL, "tensor-parallel degree %u is outside 1..%u", tp,
                            TG_LIMITS_MAX_TP);
    if ((size_t)t >= N_KV_TYPES) return tg_error_set(err, TG_EINVAL, "unknown KV type %d", (int)t);
    const uint64_t be = kv_types[t].elems, bb = kv_types[t].bytes;
    acc a = {0};
    tg_kv_cost c = {0};
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const tg_layer *l = &p->layers[i];
        if (l->recurrent) {
            uint64_t s = mul(&a, l->state_elems, 4);
            c.recurrent_bytes = add(&a, c.recurrent_bytes, s);
            c.fixed_bytes_per_card = add(&a, c.fixed_bytes_per_card, ceil_div(s, tp));
        }
        if (l->attn == TG_ATTN_NONE || l->n_head_kv == 0) continue;
        if ((l->head_k % be) != 0 || (l->head_v % be) != 0)
            return tg_error_set(err, TG_EUNSUPPORTED,
                                "KV type %s needs head sizes that are multiples of its %llu-element "
                                "block, but layer %u has K head %u and V head %u (llama.cpp refuses "
                                "this cache type too)",
                                kv_types[t].name, (unsigned long long)be, i, l->head_k, l->head_v);
        /* bytes per token of one KV head (K + V rows) */
        uint64_t head = add(&a, mul(&a, l->head_k / be, bb), mul(&a, l->head_v / be, bb));
        uint64_t whole = mul(&a, head, l->n_head_kv);
        uint64_t card = l->attn == TG_ATTN_MLA ? whole : mul(&a, head, ceil_div(l->n_head_kv, tp));
        if (l->attn == TG_ATTN_SLIDING) {
            uint64_t w = mul(&a, whole, l->window);
            c.sliding_bytes = add(&a, c.sliding_bytes, w);
            c.fixed_bytes_per_card = add(&a, c.fixed_bytes_per_card, mul(&a, card, l->window));
        } else {
            c.per_token = add(&a, c.per_token, whole);
            c.per_token_per_card = add(&a, c.per_token_per_card, card);
        }
    }
    c.fixed_bytes = add(&a, c.sliding_bytes, c.recurrent_bytes);
    if (a.overflow)
        return tg_error_set(err, TG_ELIMIT, "KV cache size of %u layers overflows 64 bits", p->n_layer);
    *out = c;
    return TG_OK;
}
