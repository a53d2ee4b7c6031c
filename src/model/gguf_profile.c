/*
 * model/gguf_profile.c: a model profile from GGUF metadata, following the
 * rules llama.cpp applies when it loads the file (src/llama-model.cpp
 * load_hparams, src/models/<arch>.cpp load_arch_hparams, llama-hparams.cpp,
 * llama-kv-cache.cpp). Keys are `{arch}.*` with arch = general.architecture.
 *
 *   layers        block_count minus nextn_predict_layers (MTP layers get no
 *                 cache in the main context)
 *   heads         attention.head_count, attention.head_count_kv: a scalar or
 *                 an array with one entry per layer; KV heads default to heads
 *   head sizes    attention.key_length / value_length, default
 *                 embedding_length / head_count; key_length_swa /
 *                 value_length_swa for sliding layers (default: the same)
 *   MLA           attention.kv_lora_rank and attention.key_length_mla both set
 *                 (DeepSeek-V2/V3, Kimi): K only, n_head_kv x key_length
 *                 (= kv_lora_rank + rope dims), no V
 *   sliding       attention.sliding_window and the layer pattern: an array
 *                 attention.sliding_window_pattern (bool per layer) or a
 *                 period n (layer i slides when i % n < n - 1; with
 *                 dense_first when i % n != 0), defaults per architecture as
 *                 in llama.cpp (gemma2 2 + window 4096, gemma3 6, gemma3n 5,
 *                 gpt-oss 2, cohere2 4, cohere2moe 4 dense first, olmo2 4,
 *                 afmoe 4, smallthinker 4 dense first + window 4096, exaone4
 *                 at 64 layers 4 + 4096, llama4 chunked 8192 every 4th dense;
 *                 gemma4, mimo2, step35 by array). Other architectures slide
 *                 only when the file carries both a window and a pattern.
 *   recurrent     mamba, mamba2, rwkv6, rwkv6qwen2, rwkv7, arwkv7: every layer;
 *                 qwen3next, qwen35, qwen35moe, qwen4exp (interval 4) and
 *                 minimax-01 (interval 8): attention.recurrent_layers, else
 *                 full_attention_interval k, layer i recurrent when
 *                 (i + 1) % k != 0; jamba, granitehybrid, lfm2, lfm2moe,
 *                 plamo2, kimi-linear: layers with head_count_kv 0;
 *                 nemotron_h(_moe): head_count_kv 0 and feed_forward_length 0
 *                 (0 KV heads with an FFN is a plain MLP layer); falcon-h1:
 *                 every layer has both. Other architectures: recurrent_layers
 *                 when present. State elements per layer as llama-hparams.cpp
 *                 n_embd_r + n_embd_s: RWKV (wkv.head_size), LFM2
 *                 (shortconv.l_cache), Kimi KDA (kda.head_dim), MiniMax-01
 *                 lightning attention, else Mamba (ssm.conv_kernel,
 *                 ssm.inner_size, ssm.state_size, ssm.group_count).
 *   no cache      attention.shared_kv_layers (gemma4) / the first 20 layers of
 *                 gemma3n keep a cache, the rest reuse it
 *   context       context_length; YaRN (rope.scaling.type "yarn") with
 *                 factor x original_context_length larger is taken, as for HF
 *                 configs. A file without context_length (or without
 *                 block_count: not a full model) gets the 8192 fallback and
 *                 says so.
 *   weights       the sum of the tensors' data bytes
 *   tokenizer     tokenizer.ggml.model, tokenizer.ggml.pre, the count of
 *                 tokenizer.ggml.tokens, tokenizer.chat_template present
 */
#include "model/model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gg {
    const tg_gguf *g;
    char arch[64];
    uint32_t n_all; /* block_count */
} gg;

static const char *key(const gg *x, char *buf, size_t cap, const char *suffix) {
    snprintf(buf, cap, "%s.%s", x->arch, suffix);
    return buf;
}

static int arch_is(const gg *x, const char *const *names) {
    for (size_t i = 0; names[i]; i++)
        if (strcmp(x->arch, names[i]) == 0) return 1;
    return 0;
}

/* A scalar {arch}.suffix as u64 (bools count as 0/1). TG_ENOTFOUND when absent. */
static tg_status get_u(const gg *x, const char *suffix, uint64_t max, uint64_t *out, tg_error *err) {
    char k[192];
    key(x, k, sizeof k, suffix);
    long i = tg_gguf_find(x->g, k);
    if (i < 0) return TG_ENOTFOUND;
    tg_gguf_value v = tg_gguf_kv_value(x->g, (size_t)i);
    uint64_t u = 0;
    int b = 0;
    if (tg_gguf_value_u64(&v, &u) != TG_OK) {
        if (tg_gguf_value_bool(&v, &b) != TG_OK)
            return tg_error_set(err, TG_EINVAL, "GGUF key %s is a %s, expected an unsigned integer", k,
                                tg_gguf_type_name(v.type));
        u = (uint64_t)b;
    }
    if (u > max)
        return tg_error_set(err, TG_ELIMIT, "GGUF key %s is %llu, above the %llu limit", k,
                            (unsigned long long)u, (unsigned long long)max);
    *out = u;
    return TG_OK;
}

/* get_u with a default when absent. */
static tg_status get_u_or(const gg *x, const char *suffix, uint64_t max, uint64_t def, uint64_t *out,
                          tg_error *err) {
    tg_status st = get_u(x, suffix, max, out, err);
    if (st == TG_ENOTFOUND) { *out = def; return TG_OK; }
    return st;
}

/* {arch}.suffix as a scalar (copied to every layer) or an array of exactly
 * n_all integers or bools, like llama.cpp's get_key_or_arr. *found = 0 and
 * arr untouched when absent. */
static tg_status get_per_layer(const gg *x, const char *suffix, uint64_t max, uint32_t *arr, int *found,
                               tg_error *err) {
    char k[192];
    key(x, k, sizeof k, suffix);
    *found = 0;
    long i = tg_gguf_find(x->g, k);
    if (i < 0) return TG_OK;
    tg_gguf_value v = tg_gguf_kv_value(x->g, (size_t)i);
    if (v.type != TG_GGUF_ARRAY) {
        uint64_t u = 0;
        tg_status st = get_u(x, suffix, max, &u, err);
        if (st != TG_OK) return st;
        for (uint32_t l = 0; l < x->n_all; l++) arr[l] = (uint32_t)u;
        *found = 1;
        return TG_OK;
    }
    if (v.n != x->n_all)
        return tg_error_set(err, TG_EINVAL, "GGUF key %s has %llu entries, expected block_count %u", k,
                            (unsigned long long)v.n, x->n_all);
    for (uint32_t l = 0; l < x->n_all; l++) {
        tg_gguf_value e;
        uint64_t u = 0;
        int b = 0;
        int64_t s = 0;
        if (tg_gguf_array_get(x->g, &v, l, &e) != TG_OK)
            return tg_error_set(err, TG_ECORRUPT, "GGUF key %s: entry %u unreadable", k, l);
        if (tg_gguf_value_u64(&e, &u) == TG_OK) {
        } else if (tg_gguf_value_bool(&e, &b) == TG_OK) {
            u = (uint64_t)b;
        } else if (tg_gguf_value_i64(&e, &s) == TG_OK) {
            return tg_error_set(err, TG_EINVAL, "GGUF key %s[%u] is %lld, expected >= 0", k, l, (long long)s);
        } else {
            return tg_error_set(err, TG_EINVAL, "GGUF key %s holds %s elements, expected integers", k,
                                tg_gguf_type_name(v.elem_type));
        }
        if (u > max)
            return tg_error_set(err, TG_ELIMIT, "GGUF key %s[%u] is %llu, above the %llu limit", k, l,
                                (unsigned long long)u, (unsigned long long)max);
        arr[l] = (uint32_t)u;
    }
    *found = 1;
    return TG_OK;
}

static void copy_str(const tg_gguf *g, const char *k, char *dst, size_t cap) {
    tg_gguf_str s;
    if (tg_gguf_get_str(g, k, &s, NULL) == TG_OK) tg__copy_name(dst, cap, s.ptr, s.len);
}

/* Per-architecture sliding-window defaults (see the top comment). */
typedef struct swa_rule {
    const char *arch;
    uint32_t pattern;     /* default period; 1 = all dense unless the file says */
    int dense_first;
    uint32_t window;      /* default window when the key is absent; 0 = none */
    int only_with_window; /* slide only when sliding_window is present and > 0 */
} swa_rule;

static const swa_rule swa_rules[] = {
    {"gemma2", 2, 0, 4096, 0},  {"gemma3", 6, 0, 0, 1},       {"gemma3n", 5, 0, 0, 0},
    {"gemma4", 1, 0, 0, 0},     {"gpt-oss", 2, 0, 0, 0},      {"cohere2", 4, 0, 0, 0},
    {"cohere2moe", 4, 1, 0, 0}, {"olmo2", 4, 0, 0, 1},        {"afmoe", 4, 0, 0, 1},
    {"smallthinker", 4, 1, 0, 1}, {"mimo2", 1, 0, 0, 0},      {"step35", 1, 0, 0, 0},
};

static tg_status sliding(const gg *x, tg_model_profile *p, uint32_t *is_swa, uint32_t *window,
                         tg_error *err) {
    uint64_t w = 0;
    tg_status st = get_u(x, "attention.sliding_window", UINT32_MAX, &w, err);
    int have_w = st == TG_OK;
    if (st != TG_OK && st != TG_ENOTFOUND) return st;
    const swa_rule *r = NULL;
    for (size_t i = 0; i < sizeof swa_rules / sizeof swa_rules[0]; i++)
        if (strcmp(x->arch, swa_rules[i].arch) == 0) r = &swa_rules[i];
    swa_rule generic = {NULL, 0, 0, 0, 1};
    int dense_first = 0;
    uint64_t pattern = 0;

    if (strcmp(x->arch, "llama4") == 0) {
        if (have_w && w == 0) return TG_OK;
        w = 8192; /* chunked attention, llama4.cpp */
        pattern = 4;
        have_w = 1;
    } else if (strcmp(x->arch, "exaone4") == 0) {
        if (p->n_layer != 64) return TG_OK;
        if (!have_w) w = 4096;
        have_w = 1;
        pattern = 4;
    } else {
        if (!r) {
            /* unknown to the table: only with both a window and a pattern key */
            char k[192];
            if (tg_gguf_find(x->g, key(x, k, sizeof k, "attention.sliding_window_pattern")) < 0) return TG_OK;
            r = &generic;
        }
        if (r->only_with_window && (!have_w || w == 0)) return TG_OK;
        if (!have_w && r->window) { w = r->window; have_w = 1; }
        if (strcmp(x->arch, "smallthinker") == 0) w = 4096;
        pattern = r->pattern;
        dense_first = r->dense_first;
    }
    if (!have_w || w == 0) return TG_OK;

    int found = 0;
    st = get_per_layer(x, "attention.sliding_window_pattern", UINT32_MAX, is_swa, &found, err);
    if (st != TG_OK) return st;
    char k[192];
    long ki = tg_gguf_find(x->g, key(x, k, sizeof k, "attention.sliding_window_pattern"));
    int is_array = ki >= 0 && tg_gguf_kv_value(x->g, (size_t)ki).type == TG_GGUF_ARRAY;
    if (!is_array) {
        if (found) pattern = is_swa[0]; /* a scalar period */
        for (uint32_t i = 0; i < p->n_layer; i++) {
            if (pattern == 0) is_swa[i] = 1;
            else if (dense_first) is_swa[i] = (i % pattern) != 0;
            else is_swa[i] = (i % pattern) < pattern - 1;
        }
    }
    *window = (uint32_t)w;
    return TG_OK;
}

/* Recurrent state elements per layer (llama-hparams.cpp n_embd_r + n_embd_s). */
static tg_status state_elems(const gg *x, uint64_t n_embd, uint64_t n_head0, uint64_t head_k,
                             uint64_t *out, tg_error *err) {
    const uint64_t M = TG_MODEL_MAX_DIM;
    uint64_t wkv = 0, shift = 0, lcache = 0, kda = 0, conv = 0, inner = 0, state = 0, groups = 0;
    tg_status st;
    if ((st = get_u_or(x, "wkv.head_size", M, 0, &wkv, err)) != TG_OK) return st;
    if (wkv) {
        if ((st = get_u_or(x, "token_shift_count", M, 2, &shift, err)) != TG_OK) return st;
        *out = tg__add_sat(tg__mul_sat(shift, n_embd), tg__mul_sat(n_embd, wkv));
        return TG_OK;
    }
    if ((st = get_u_or(x, "shortconv.l_cache", M, 0, &lcache, err)) != TG_OK) return st;
    if (lcache) {
        *out = tg__mul_sat(n_embd, lcache - 1);
        return TG_OK;
    }
    if ((st = get_u_or(x, "ssm.conv_kernel", M, 0, &conv, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "kda.head_dim", M, 0, &kda, err)) != TG_OK) return st;
    if (kda) {
        uint64_t d_inner = tg__mul_sat(n_head0, kda);
        uint64_t r = tg__mul_sat(tg__mul_sat(3, conv > 0 ? conv - 1 : 3), d_inner);
        *out = tg__add_sat(r, tg__mul_sat(tg__mul_sat(kda, kda), n_head0));
        return TG_OK;
    }
    if (strcmp(x->arch, "minimax-01") == 0) {
        *out = tg__mul_sat(tg__mul_sat(head_k, head_k), n_head0);
        return TG_OK;
    }
    if ((st = get_u_or(x, "ssm.inner_size", M, 0, &inner, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "ssm.state_size", M, 0, &state, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "ssm.group_count", M, 0, &groups, err)) != TG_OK) return st;
    *out = tg__mamba_state_elems(conv, inner, state, groups);
    return TG_OK;
}

static tg_status recurrent(const gg *x, const tg_model_profile *p, const uint32_t *n_head_kv,
                           const uint32_t *n_ff, int have_ff, uint32_t *is_recr, int *both,
                           tg_error *err) {
    static const char *const all_recr[] = {"mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7", NULL};
    static const char *const interval4[] = {"qwen3next", "qwen35", "qwen35moe", "qwen4exp", NULL};
    static const char *const by_kv0[] = {"jamba", "granitehybrid", "lfm2", "lfm2moe", "plamo2", "kimi-linear", NULL};
    static const char *const nemotron[] = {"nemotron_h", "nemotron_h_moe", NULL};
    *both = 0;
    if (arch_is(x, all_recr)) {
        for (uint32_t i = 0; i < p->n_layer; i++) is_recr[i] = 1;
        return TG_OK;
    }
    if (strcmp(x->arch, "falcon-h1") == 0) {
        for (uint32_t i = 0; i < p->n_layer; i++) is_recr[i] = 1;
        *both = 1;
        return TG_OK;
    }
    int found = 0;
    tg_status st = get_per_layer(x, "attention.recurrent_layers", 1, is_recr, &found, err);
    if (st != TG_OK || found) return st;
    int minimax = strcmp(x->arch, "minimax-01") == 0;
    if (arch_is(x, interval4) || minimax) {
        uint64_t k = 0;
        if ((st = get_u_or(x, "full_attention_interval", x->n_all, minimax ? 8 : 4, &k, err)) != TG_OK)
            return st;
        if (k == 0) return tg_error_set(err, TG_EINVAL, "GGUF key %s.full_attention_interval is 0", x->arch);
        for (uint32_t i = 0; i < p->n_layer; i++) is_recr[i] = (i + 1) % k != 0;
        return TG_OK;
    }
    if (arch_is(x, by_kv0)) {
        for (uint32_t i = 0; i < p->n_layer; i++) is_recr[i] = n_head_kv[i] == 0;
        return TG_OK;
    }
    if (arch_is(x, nemotron)) {
        for (uint32_t i = 0; i < p->n_layer; i++) is_recr[i] = n_head_kv[i] == 0 && (!have_ff || n_ff[i] == 0);
        return TG_OK;
    }
    return TG_OK;
}

/* Layer kinds, heads and sizes; `scratch` holds 5 x n_all zeroed words. */
static tg_status build_layers(const gg *x, tg_model_profile *p, uint64_t n_embd, uint64_t nextn,
                              uint32_t *scratch, tg_error *err) {
    const uint64_t M = TG_MODEL_MAX_DIM;
    uint32_t *n_head = scratch, *n_kv = scratch + x->n_all, *n_ff = scratch + 2 * (size_t)x->n_all;
    uint32_t *is_swa = scratch + 3 * (size_t)x->n_all, *is_recr = scratch + 4 * (size_t)x->n_all;
    int found = 0, have_ff = 0;
    tg_status st;
    if ((st = get_per_layer(x, "attention.head_count", M, n_head, &found, err)) != TG_OK) return st;
    memcpy(n_kv, n_head, sizeof(uint32_t) * x->n_all);
    if ((st = get_per_layer(x, "attention.head_count_kv", M, n_kv, &found, err)) != TG_OK) return st;
    if ((st = get_per_layer(x, "feed_forward_length", UINT32_MAX, n_ff, &have_ff, err)) != TG_OK) return st;

    uint64_t hk = 0, hv = 0, hk_swa = 0, hv_swa = 0;
    uint64_t def = n_head[0] ? n_embd / n_head[0] : 0;
    if ((st = get_u_or(x, "attention.key_length", M, def, &hk, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "attention.value_length", M, def, &hv, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "attention.key_length_swa", M, hk, &hk_swa, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "attention.value_length_swa", M, hv, &hv_swa, err)) != TG_OK) return st;
    uint64_t lora = 0, k_mla = 0;
    if ((st = get_u_or(x, "attention.kv_lora_rank", M, 0, &lora, err)) != TG_OK) return st;
    if ((st = get_u_or(x, "attention.key_length_mla", M, 0, &k_mla, err)) != TG_OK) return st;
    int mla = lora > 0 && k_mla > 0;

    if ((st = tg__profile_alloc_layers(p, x->n_all - nextn, 0, (uint32_t)hk, (uint32_t)hv, err)) != TG_OK)
        return st;
    p->n_head = n_head[0];
    p->n_embd = (uint32_t)n_embd;

    uint32_t window = 0;
    if ((st = sliding(x, p, is_swa, &window, err)) != TG_OK) return st;
    int both = 0;
    if ((st = recurrent(x, p, n_kv, n_ff, have_ff, is_recr, &both, err)) != TG_OK) return st;
    uint64_t state = 0;
    int any_recr = 0;
    for (uint32_t i = 0; i < p->n_layer; i++) any_recr |= is_recr[i] != 0;
    if (any_recr && (st = state_elems(x, n_embd, n_head[0], hk, &state, err)) != TG_OK) return st;

    /* layers that reuse another's cache (gemma3n, gemma4) */
    uint64_t kv_from = p->n_layer;
    uint64_t shared = 0;
    if (strcmp(x->arch, "gemma3n") == 0) kv_from = 20;
    if ((st = get_u(x, "attention.shared_kv_layers", x->n_all, &shared, err)) == TG_OK)
        kv_from = x->n_all - shared;
    else if (st != TG_ENOTFOUND)
        return st;

    for (uint32_t i = 0; i < p->n_layer; i++) {
        tg_layer *l = &p->layers[i];
        l->n_head_kv = n_kv[i];
        if (is_recr[i]) {
            l->recurrent = 1;
            l->state_elems = state;
            if (!both) { l->attn = TG_ATTN_NONE; continue; }
        }
        if (n_kv[i] == 0 || i >= kv_from) {
            l->attn = TG_ATTN_NONE;
        } else if (mla) {
            l->attn = TG_ATTN_MLA;
            l->head_v = 0;
        } else if (is_swa[i]) {
            l->attn = TG_ATTN_SLIDING;
            l->window = window;
            l->head_k = (uint32_t)hk_swa;
            l->head_v = (uint32_t)hv_swa;
        }
    }
    tg_model_profile_summarize(p);
    if (any_recr && state == 0)
        snprintf(p->note, sizeof p->note, "recurrent layers without known state sizes: counted as 0 bytes");

    return TG_OK;
}

static tg_status build(const gg *x, tg_model_profile *p, tg_error *err) {
    const uint64_t M = TG_MODEL_MAX_DIM;
    const tg_gguf *g = x->g;
    uint64_t nextn = 0, ctx = 0, n_embd = 0;
    tg_status st;
    char k[192];

    if ((st = get_u_or(x, "nextn_predict_layers", x->n_all, 0, &nextn, err)) != TG_OK) return st;
    if (nextn >= x->n_all)
        return tg_error_set(err, TG_EINVAL, "GGUF %s.nextn_predict_layers %llu leaves no layers of %u",
                            x->arch, (unsigned long long)nextn, x->n_all);
    if ((st = get_u_or(x, "embedding_length", M, 0, &n_embd, err)) != TG_OK) return st;

    /* per-layer arrays over all blocks (MTP included, as the keys are) */
    uint32_t *scratch = calloc((size_t)x->n_all * 5, sizeof(uint32_t));
    if (!scratch) return tg_error_set(err, TG_ENOMEM, "out of memory for %u layers", x->n_all);
    st = build_layers(x, p, n_embd, nextn, scratch, err);
    free(scratch);
    if (st != TG_OK) return st;

    /* context */
    if ((st = get_u(x, "context_length", (uint64_t)1 << 40, &ctx, err)) != TG_OK && st != TG_ENOTFOUND)
        return st;
    if (st == TG_ENOTFOUND || ctx == 0) {
        p->native_context = TG_MODEL_FALLBACK_CONTEXT;
        p->fallback = 1;
        snprintf(p->context_from, sizeof p->context_from, "fallback (no %s.context_length)", x->arch);
        snprintf(p->note, sizeof p->note, "GGUF has no %s.context_length; assuming %u tokens", x->arch,
                 TG_MODEL_FALLBACK_CONTEXT);
    } else {
        p->native_context = ctx;
        snprintf(p->context_from, sizeof p->context_from, "%.60s.context_length", x->arch);
        tg_gguf_str type;
        double factor = 0;
        uint64_t orig = 0;
        if (tg_gguf_get_str(g, key(x, k, sizeof k, "rope.scaling.type"), &type, NULL) == TG_OK &&
            type.len == 4 && memcmp(type.ptr, "yarn", 4) == 0 &&
            tg_gguf_get_f64(g, key(x, k, sizeof k, "rope.scaling.factor"), &factor, NULL) == TG_OK &&
            get_u(x, "rope.scaling.original_context_length", (uint64_t)1 << 40, &orig, NULL) == TG_OK &&
            factor >= 1.0 && factor <= 1024.0 && factor * (double)orig > (double)ctx) {
            p->native_context = (uint64_t)(factor * (double)orig);
            snprintf(p->context_from, sizeof p->context_from,
                     "rope.scaling yarn factor %g x original_context_length %llu", factor,
                     (unsigned long long)orig);
        }
    }
    return TG_OK;
}

tg_status tg_model_from_gguf(const tg_gguf *g, tg_model_profile *out, tg_error *err) {
    tg__profile_init(out, TG_MODEL_SRC_GGUF);
    if (!g) return tg_error_set(err, TG_EINVAL, "no GGUF handle");
    gg x;
    memset(&x, 0, sizeof x);
    x.g = g;
    tg_gguf_str arch;
    if (tg_gguf_get_str(g, "general.architecture", &arch, NULL) != TG_OK || arch.len == 0)
        return tg_error_set(err, TG_EINVAL, "GGUF has no general.architecture string");
    if (arch.len >= sizeof x.arch)
        return tg_error_set(err, TG_ELIMIT, "GGUF general.architecture is %zu bytes, above the %zu limit",
                            arch.len, sizeof x.arch - 1);
    tg__copy_name(x.arch, sizeof x.arch, arch.ptr, arch.len);
    memcpy(out->arch, x.arch, sizeof out->arch < sizeof x.arch ? sizeof out->arch : sizeof x.arch);
    out->arch[sizeof out->arch - 1] = '\0';
    copy_str(g, "general.name", out->name, sizeof out->name);
    if (!out->name[0]) snprintf(out->name, sizeof out->name, "%s", out->arch);

    uint64_t n_all = 0;
    tg_status st = get_u(&x, "block_count", TG_MODEL_MAX_LAYERS, &n_all, err);
    if (st != TG_OK && st != TG_ENOTFOUND) goto fail;
    if (st == TG_OK && n_all > 0) {
        x.n_all = (uint32_t)n_all;
        if ((st = build(&x, out, err)) != TG_OK) goto fail;
    } else {
        out->native_context = TG_MODEL_FALLBACK_CONTEXT;
        out->fallback = 1;
        snprintf(out->context_from, sizeof out->context_from, "fallback (no %s.block_count)", x.arch);
        snprintf(out->note, sizeof out->note,
                 "GGUF has no %s.block_count (a vocab-only file?): no layers, assuming %u tokens", x.arch,
                 TG_MODEL_FALLBACK_CONTEXT);
    }

    /* weights, tokenizer, template */
    for (size_t i = 0; i < tg_gguf_tensor_count(g); i++)
        out->weights_bytes = tg__add_sat(out->weights_bytes, tg_gguf_tensor_at(g, i)->n_bytes);
    copy_str(g, "tokenizer.ggml.model", out->tokenizer_model, sizeof out->tokenizer_model);
    copy_str(g, "tokenizer.ggml.pre", out->tokenizer_pre, sizeof out->tokenizer_pre);
    tg_gguf_value toks;
    if (tg_gguf_get_array(g, "tokenizer.ggml.tokens", &toks, NULL) == TG_OK) out->tokenizer_tokens = toks.n;
    out->has_chat_template = tg_gguf_find(g, "tokenizer.chat_template") >= 0 ? 1 : 0;
    /* llama.cpp's end-of-generation set starts from these (llama-vocab.cpp) */
    static const char *const eog_keys[] = {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                                           "tokenizer.ggml.eom_token_id"};
    for (size_t i = 0; i < sizeof eog_keys / sizeof eog_keys[0]; i++) {
        uint64_t id = 0;
        if (tg_gguf_get_u64(g, eog_keys[i], &id, NULL) == TG_OK)
            tg__profile_add_eog(out, id, eog_keys[i] + 15); /* "eos_token_id", ... */
    }
    uint64_t vs = 0;
    if (get_u(&x, "vocab_size", UINT32_MAX, &vs, NULL) == TG_OK) out->vocab_size = vs;
    else out->vocab_size = out->tokenizer_tokens;
    return TG_OK;
fail:
    tg_model_profile_free(out);
    return st;
}

tg_status tg__model_from_gguf_file(const char *path, tg_model_profile *out, tg_error *err) {
    tg__profile_init(out, TG_MODEL_SRC_GGUF);
    tg_gguf *g = NULL;
    tg_status st = tg_gguf_open_file(path, &g, err);
    if (st == TG_OK) {
        st = tg_model_from_gguf(g, out, err);
        tg_gguf_close(g);
    }
    if (st != TG_OK) tg_error_wrap(err, "%s", path);
    return st;
}
