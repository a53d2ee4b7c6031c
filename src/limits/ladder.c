/*
 * limits/ladder.c: the table operators otherwise work out by hand (helexa's
 * doc/context-limits.md "VRAM cost of context"): for context sizes 4096,
 * 8192, ... up to the native context, the KV cache one card holds, what is
 * left on the tightest card, and a verdict against the free floor.
 *
 *   KV per card(C) = C x KV bytes per token per card + fixed bytes per card
 *   left(C)        = tightest free - activation headroom - KV per card(C)
 *   verdict        = fits (left >= floor), under floor (0 <= left < floor),
 *                    does not fit (left < 0), unknown (no VRAM figure)
 */
#include "tokgate/limits.h"

const char *tg_verdict_name(tg_verdict v) {
    switch (v) {
    case TG_VERDICT_FITS: return "fits";
    case TG_VERDICT_UNDER_FLOOR: return "under floor";
    case TG_VERDICT_NO_FIT: return "does not fit";
    case TG_VERDICT_UNKNOWN: return "unknown";
    }
    return "unknown";
}

static void fill(tg_ladder_row *r, uint64_t ctx, const tg_limits *l, const tg_limits_config *c) {
    r->context = ctx;
    uint64_t kv = l->kv_bytes_per_token_per_card != 0 && ctx > UINT64_MAX / l->kv_bytes_per_token_per_card
                      ? UINT64_MAX
                      : ctx * l->kv_bytes_per_token_per_card;
    kv = kv > UINT64_MAX - l->kv_fixed_bytes_per_card ? UINT64_MAX : kv + l->kv_fixed_bytes_per_card;
    r->kv_bytes_per_card = kv;
    r->left_bytes = 0;
    r->verdict = TG_VERDICT_UNKNOWN;
    if (c->n_cards > 0) {
        const int64_t cap = INT64_MAX / 4;
        int64_t kvs = kv > (uint64_t)cap ? cap : (int64_t)kv;
        int64_t free_ = (int64_t)l->tightest_free_bytes - (int64_t)c->activation_bytes;
        r->left_bytes = free_ - kvs;
        if (r->left_bytes < 0) r->verdict = TG_VERDICT_NO_FIT;
        else if ((uint64_t)r->left_bytes < c->min_free_bytes) r->verdict = TG_VERDICT_UNDER_FLOOR;
        else r->verdict = TG_VERDICT_FITS;
    }
    r->over_throughput = l->ceiling_throughput != TG_CEILING_NONE && ctx > l->ceiling_throughput;
    r->over_clamp = c->max_prompt_tokens > 0 && ctx > c->max_prompt_tokens;
    r->derived = ctx == l->context;
}

size_t tg_limits_ladder(const tg_limits *l, const tg_limits_config *c, tg_ladder_row *rows,
                        size_t cap) {
    uint64_t sizes[TG_LADDER_MAX_ROWS];
    size_t n = 0;
    uint64_t native = l->ceiling_native;
    for (uint64_t s = 4096; s < native && n + 2 < TG_LADDER_MAX_ROWS; s *= 2) sizes[n++] = s;
    if (native > 0) sizes[n++] = native;
    /* the derived context, in order, when it is not on the ladder already */
    if (l->context > 0) {
        size_t at = 0;
        while (at < n && sizes[at] < l->context) at++;
        if (at == n || sizes[at] != l->context) {
            for (size_t k = n; k > at; k--) sizes[k] = sizes[k - 1];
            sizes[at] = l->context;
            n++;
        }
    }
    size_t w = 0;
    for (size_t i = 0; i < n && w < cap; i++) fill(&rows[w++], sizes[i], l, c);
    return w;
}
