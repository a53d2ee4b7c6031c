/*
 * model/hf_config.c: a model profile from a Hugging Face config.json.
 *
 * The language model's fields are read from `text_config` (or `llm_config`,
 * `language_config`) when the config nests it there, as multimodal models do
 * (Gemma-3, Qwen3.5/3.6, Llama-4); a field missing there is looked up at the
 * top level. Rules, each from the transformers modelling code of the family
 * it names:
 *
 *   layers      num_hidden_layers (n_layer, num_layers)
 *   KV heads    num_key_value_heads, default num_attention_heads (MHA)
 *   head size   head_dim, default hidden_size / num_attention_heads
 *   MLA         kv_lora_rank set (DeepSeek-V2/V3, Kimi-K2): every layer keeps
 *               one latent of kv_lora_rank + qk_rope_head_dim per token and
 *               no V (llama.cpp caches exactly that; V is read from it)
 *   layer kinds, first rule that applies:
 *     layer_types[i]: full_attention | attention, sliding_attention,
 *       chunked_attention (window attention_chunk_size), linear_attention |
 *       mamba | conv (constant state)
 *     full_attention_interval k (Qwen3-Next, Qwen3.5): layer i is full
 *       attention when (i + 1) % k == 0, else linear attention
 *     hybrid_override_pattern (Nemotron-H): 'M' mamba, '*' attention,
 *       anything else no cache
 *     attn_layer_period p + attn_layer_offset o (Jamba): attention when
 *       i % p == o, else mamba
 *     sliding_window w (unless use_sliding_window is false) with
 *       sliding_window_pattern P (Gemma-3: P = 6, every 6th layer global;
 *       Cohere2): sliding when (i + 1) % P != 0; model_type gemma2: P = 2;
 *       model_type mistral: every layer slides. Otherwise the window is
 *       ignored and the note says so (counting a layer as full attention
 *       overestimates, never underestimates, its cost).
 *     otherwise every layer is full attention.
 *   recurrent state (f32, as llama.cpp keeps it), per recurrent layer:
 *     linear_num_value_heads nv, linear_num_key_heads nk, linear_key_head_dim
 *     dk, linear_value_head_dim dv, linear_conv_kernel_dim c (gated delta
 *     net): (c - 1) * (2*nk*dk + nv*dv) + nv*dk*dv;
 *     mamba_d_conv, mamba_d_state, mamba_expand (or mamba_n_heads *
 *     mamba_d_head), mamba_n_groups: llama.cpp's Mamba formula.
 *   native context: max_position_embeddings (n_positions, seq_length, ...).
 *     When rope_scaling (or rope_parameters) is YaRN with a factor and an
 *     original_max_position_embeddings whose product is larger, the context
 *     is that product (vLLM's rule; Qwen3 configs with YaRN switched on say
 *     max_position_embeddings 40960 but mean 4 x 32768 = 131072). Other
 *     scaling types (linear, dynamic, llama3, longrope) already report the
 *     extended length in max_position_embeddings (Gemma-3, Llama-3.1, Phi-3),
 *     so they are not multiplied again. A config without any context field
 *     gets the 8192 fallback and is flagged.
 *
 * Every number is checked: negative, non-integral or above TG_MODEL_MAX_DIM
 * (TG_MODEL_MAX_LAYERS for layers) is an error naming the key and the limit.
 */
#include "model/model_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TG_MODEL_MAX_CONTEXT ((uint64_t)1 << 40)

typedef struct cfg {
    json_t *root;
    json_t *lm;       /* text_config etc., or root */
    json_t *defaults; /* the transformers config class's defaults for lm's model_type */
} cfg;

/* Defaults that published configs leave out because the transformers config
 * class supplies them (Gemma3TextConfig: max_position_embeddings 131072,
 * sliding_window_pattern 6, head_dim 256; Gemma2Config: 8192, window 4096,
 * head_dim 256; Qwen3NextConfig / Qwen3_5TextConfig: full_attention_interval 4).
 * google/gemma-3-27b-it's text_config, for one, has no max_position_embeddings. */
static const struct {
    const char *model_type, *key;
    json_int_t value;
} type_defaults[] = {
    {"gemma3_text", "max_position_embeddings", 131072},
    {"gemma3_text", "sliding_window", 4096},
    {"gemma3_text", "sliding_window_pattern", 6},
    {"gemma3_text", "head_dim", 256},
    {"gemma2", "max_position_embeddings", 8192},
    {"gemma2", "sliding_window", 4096},
    {"gemma2", "head_dim", 256},
    {"qwen3_next", "full_attention_interval", 4},
    {"qwen3_5_text", "full_attention_interval", 4},
    {"qwen3_5_moe_text", "full_attention_interval", 4},
};

static json_t *cfg_get(const cfg *c, const char *key) {
    json_t *v = json_object_get(c->lm, key);
    if ((!v || json_is_null(v)) && c->lm != c->root) v = json_object_get(c->root, key);
    if ((!v || json_is_null(v)) && c->defaults) v = json_object_get(c->defaults, key);
    if (v && json_is_null(v)) return NULL;
    return v;
}

/* Reads an unsigned integer field. Absent (or null): TG_ENOTFOUND, *out untouched. */
static tg_status json_to_u64(const json_t *v, const char *key, uint64_t max, uint64_t *out,
                             tg_error *err) {
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 0)
            return tg_error_set(err, TG_EINVAL, "config key \"%s\" is %lld, expected a count >= 0",
                                key, (long long)x);
        if ((uint64_t)x > max)
            return tg_error_set(err, TG_ELIMIT, "config key \"%s\" is %lld, above the %llu limit",
                                key, (long long)x, (unsigned long long)max);
        *out = (uint64_t)x;
        return TG_OK;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 0.0) || d != floor(d))
            return tg_error_set(err, TG_EINVAL, "config key \"%s\" is %g, expected a whole count >= 0",
                                key, d);
        if (d > (double)max)
            return tg_error_set(err, TG_ELIMIT, "config key \"%s\" is %g, above the %llu limit", key,
                                d, (unsigned long long)max);
        *out = (uint64_t)d;
        return TG_OK;
    }
    return tg_error_set(err, TG_EINVAL, "config key \"%s\" is not a number", key);
}

static tg_status get_u64(const cfg *c, const char *key, uint64_t max, uint64_t *out, tg_error *err) {
    json_t *v = cfg_get(c, key);
    if (!v) return TG_ENOTFOUND;
    return json_to_u64(v, key, max, out, err);
}

/* First present key of a NULL-terminated list; TG_ENOTFOUND when none. */
static tg_status get_u64_any(const cfg *c, const char *const *keys, uint64_t max, uint64_t *out,
                             const char **which, tg_error *err) {
    for (size_t i = 0; keys[i]; i++) {
        tg_status st = get_u64(c, keys[i], max, out, err);
        if (st == TG_ENOTFOUND) continue;
        if (st == TG_OK && which) *which = keys[i];
        return st;
    }
    return TG_ENOTFOUND;
}

static const char *get_str(const cfg *c, const char *key) {
    json_t *v = cfg_get(c, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string of the nested LM config only (model_type of text_config), else the root's. */
static const char *lm_str(const cfg *c, const char *key) {
    json_t *v = json_object_get(c->lm, key);
    if (json_is_string(v)) return json_string_value(v);
    v = json_object_get(c->root, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static tg_status required(tg_status st, const char *what, tg_error *err) {
    if (st == TG_ENOTFOUND)
        return tg_error_set(err, TG_EINVAL, "config.json has no %s", what);
    return st;
}

/* Native context, with the YaRN rule described at the top. */
static tg_status native_context(const cfg *c, tg_model_profile *p, tg_error *err) {
    static const char *const keys[] = {"max_position_embeddings", "n_positions", "max_seq_len",
                                       "max_sequence_length", "seq_length", NULL};
    uint64_t ctx = 0;
    const char *which = NULL;
    tg_status st = get_u64_any(c, keys, TG_MODEL_MAX_CONTEXT, &ctx, &which, err);
    if (st != TG_OK && st != TG_ENOTFOUND) return st;
    if (st == TG_ENOTFOUND || ctx == 0) {
        p->native_context = TG_MODEL_FALLBACK_CONTEXT;
        p->fallback = 1;
        snprintf(p->context_from, sizeof p->context_from, "fallback (config gives no context length)");
        snprintf(p->note, sizeof p->note,
                 "config.json gives no max_position_embeddings; assuming %u tokens",
                 TG_MODEL_FALLBACK_CONTEXT);
        return TG_OK;
    }
    p->native_context = ctx;
    int from_default = !json_object_get(c->lm, which) && !json_object_get(c->root, which);
    snprintf(p->context_from, sizeof p->context_from, "%s%s", which,
             from_default ? " (default of the model type's config class)" : "");

    json_t *rs = cfg_get(c, "rope_scaling");
    if (!json_is_object(rs)) rs = cfg_get(c, "rope_parameters");
    if (!json_is_object(rs)) return TG_OK;
    json_t *type = json_object_get(rs, "rope_type");
    if (!json_is_string(type)) type = json_object_get(rs, "type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "yarn") != 0) return TG_OK;
    json_t *fv = json_object_get(rs, "factor");
    json_t *ov = json_object_get(rs, "original_max_position_embeddings");
    if (!json_is_number(fv) || !ov) return TG_OK;
    double factor = json_number_value(fv);
    uint64_t orig = 0;
    st = json_to_u64(ov, "rope_scaling.original_max_position_embeddings", TG_MODEL_MAX_CONTEXT, &orig, err);
    if (st != TG_OK) return st;
    if (!(factor >= 1.0) || factor > 1024.0)
        return tg_error_set(err, TG_EINVAL, "config rope_scaling.factor %g is outside 1..1024", factor);
    double scaled = floor(factor * (double)orig);
    if (scaled > (double)ctx && scaled <= (double)TG_MODEL_MAX_CONTEXT) {
        p->native_context = (uint64_t)scaled;
        snprintf(p->context_from, sizeof p->context_from,
                 "rope_scaling yarn factor %g x original_max_position_embeddings %llu", factor,
                 (unsigned long long)orig);
    }
    return TG_OK;
}

/* Recurrent state elements per layer from whichever family's keys are present. */
static tg_status recurrent_state(const cfg *c, uint64_t hidden, uint64_t *elems, tg_error *err) {
    uint64_t nv = 0, nk = 0, dk = 0, dv = 0, conv = 0;
    tg_status st = get_u64(c, "linear_num_value_heads", TG_MODEL_MAX_DIM, &nv, err);
    if (st == TG_OK) {
        if ((st = required(get_u64(c, "linear_num_key_heads", TG_MODEL_MAX_DIM, &nk, err),
                           "linear_num_key_heads", err)) != TG_OK ||
            (st = required(get_u64(c, "linear_key_head_dim", TG_MODEL_MAX_DIM, &dk, err),
                           "linear_key_head_dim", err)) != TG_OK ||
            (st = required(get_u64(c, "linear_value_head_dim", TG_MODEL_MAX_DIM, &dv, err),
                           "linear_value_head_dim", err)) != TG_OK ||
            (st = required(get_u64(c, "linear_conv_kernel_dim", TG_MODEL_MAX_DIM, &conv, err),
                           "linear_conv_kernel_dim", err)) != TG_OK)
            return st;
        *elems = tg__gdn_state_elems(conv, nk, nv, dk, dv);
        return TG_OK;
    }
    if (st != TG_ENOTFOUND) return st;

    static const char *const k_conv[] = {"mamba_d_conv", "conv_kernel", "d_conv", NULL};
    static const char *const k_state[] = {"mamba_d_state", "ssm_state_size", "state_size", "d_state", NULL};
    static const char *const k_groups[] = {"mamba_n_groups", "n_groups", NULL};
    static const char *const k_head_dim[] = {"mamba_d_head", "mamba_head_dim", NULL};
    static const char *const k_expand[] = {"mamba_expand", "expand", NULL};
    uint64_t d_conv = 0, d_state = 0, groups = 1, d_inner = 0, expand = 0, heads = 0, hd = 0;
    st = get_u64_any(c, k_state, TG_MODEL_MAX_DIM, &d_state, NULL, err);
    if (st == TG_ENOTFOUND) { *elems = 0; return TG_OK; }
    if (st != TG_OK) return st;
    if ((st = get_u64_any(c, k_conv, TG_MODEL_MAX_DIM, &d_conv, NULL, err)) != TG_OK &&
        st != TG_ENOTFOUND)
        return st;
    if ((st = get_u64_any(c, k_groups, TG_MODEL_MAX_DIM, &groups, NULL, err)) != TG_OK &&
        st != TG_ENOTFOUND)
        return st;
    if ((st = get_u64(c, "mamba_n_heads", TG_MODEL_MAX_DIM, &heads, err)) == TG_OK &&
        (st = get_u64_any(c, k_head_dim, TG_MODEL_MAX_DIM, &hd, NULL, err)) == TG_OK) {
        d_inner = heads * hd;
    } else if (st != TG_OK && st != TG_ENOTFOUND) {
        return st;
    } else if ((st = get_u64_any(c, k_expand, TG_MODEL_MAX_DIM, &expand, NULL, err)) == TG_OK) {
        d_inner = expand * hidden;
    } else if (st != TG_ENOTFOUND) {
        return st;
    }
    *elems = tg__mamba_state_elems(d_conv, d_inner, d_state, groups);
    return TG_OK;
}

static void set_recurrent(tg_layer *l, uint64_t state) {
    l->attn = TG_ATTN_NONE;
    l->recurrent = 1;
    l->state_elems = state;
}

static tg_status window_of(const cfg *c, const char *key, uint64_t *w, tg_error *err) {
    tg_status st = get_u64(c, key, TG_MODEL_MAX_CONTEXT, w, err);
    if (st == TG_ENOTFOUND || (st == TG_OK && *w == 0))
        return tg_error_set(err, TG_EINVAL, "config.json has sliding layers but no %s", key);
    if (st == TG_OK && *w > UINT32_MAX)
        return tg_error_set(err, TG_ELIMIT, "config key \"%s\" is %llu, above the %u limit", key,
                            (unsigned long long)*w, UINT32_MAX);
    return st;
}

/* Marks layer kinds per the rules at the top. *need_state is set when any
 * layer is recurrent. */
static tg_status layer_kinds(const cfg *c, tg_model_profile *p, uint64_t state, tg_error *err) {
    uint32_t n = p->n_layer;
    const char *mt = lm_str(c, "model_type");
    json_t *lt = cfg_get(c, "layer_types");
    uint64_t w = 0, k = 0;
    tg_status st;

    if (lt) {
        if (!json_is_array(lt) || json_array_size(lt) != n)
            return tg_error_set(err, TG_EINVAL,
                                "config layer_types has %zu entries, expected num_hidden_layers %u",
                                json_is_array(lt) ? json_array_size(lt) : (size_t)0, n);
        for (uint32_t i = 0; i < n; i++) {
            const char *t = json_string_value(json_array_get(lt, i));
            if (!t) return tg_error_set(err, TG_EINVAL, "config layer_types[%u] is not a string", i);
            if (strcmp(t, "full_attention") == 0 || strcmp(t, "attention") == 0) continue;
            if (strcmp(t, "sliding_attention") == 0 || strcmp(t, "chunked_attention") == 0) {
                const char *wk = t[0] == 's' ? "sliding_window" : "attention_chunk_size";
                if (w == 0 && (st = window_of(c, wk, &w, err)) != TG_OK) return st;
                p->layers[i].attn = TG_ATTN_SLIDING;
                p->layers[i].window = (uint32_t)w;
            } else if (strcmp(t, "linear_attention") == 0 || strcmp(t, "mamba") == 0 ||
                       strcmp(t, "conv") == 0) {
                set_recurrent(&p->layers[i], state);
            } else {
                char shown[48];
                tg__copy_name(shown, sizeof shown, t, strlen(t));
                return tg_error_set(err, TG_EUNSUPPORTED,
                                    "config layer_types[%u] is \"%s\", not a layer kind tokgate knows "
                                    "(full_attention, sliding_attention, chunked_attention, "
                                    "linear_attention, mamba, conv)", i, shown);
            }
        }
        return TG_OK;
    }

    if ((st = get_u64(c, "full_attention_interval", n, &k, err)) == TG_OK) {
        if (k == 0) return tg_error_set(err, TG_EINVAL, "config full_attention_interval is 0");
        for (uint32_t i = 0; i < n; i++)
            if ((i + 1) % k != 0) set_recurrent(&p->layers[i], state);
        return TG_OK;
    }
    if (st != TG_ENOTFOUND) return st;

    const char *hop = get_str(c, "hybrid_override_pattern");
    if (hop) {
        if (strlen(hop) != n)
            return tg_error_set(err, TG_EINVAL,
                                "config hybrid_override_pattern has %zu characters, expected %u",
                                strlen(hop), n);
        for (uint32_t i = 0; i < n; i++) {
            if (hop[i] == 'M') set_recurrent(&p->layers[i], state);
            else if (hop[i] != '*') p->layers[i].attn = TG_ATTN_NONE;
        }
        return TG_OK;
    }

    uint64_t period = 0, offset = 0;
    if ((st = get_u64(c, "attn_layer_period", n, &period, err)) == TG_OK && period > 0) {
        if ((st = get_u64(c, "attn_layer_offset", n, &offset, err)) != TG_OK && st != TG_ENOTFOUND)
            return st;
        for (uint32_t i = 0; i < n; i++)
            if (i % period != offset) set_recurrent(&p->layers[i], state);
        return TG_OK;
    }
    if (st != TG_OK && st != TG_ENOTFOUND) return st;

    json_t *usw = cfg_get(c, "use_sliding_window");
    st = get_u64(c, "sliding_window", TG_MODEL_MAX_CONTEXT, &w, err);
    if (st != TG_OK && st != TG_ENOTFOUND) return st;
    if (st == TG_ENOTFOUND || w == 0 || json_is_false(usw)) return TG_OK;
    if (w > UINT32_MAX)
        return tg_error_set(err, TG_ELIMIT, "config sliding_window %llu is above the %u limit",
                            (unsigned long long)w, UINT32_MAX);
    uint64_t pattern = 0;
    st = get_u64(c, "sliding_window_pattern", n + 1, &pattern, err);
    if (st != TG_OK && st != TG_ENOTFOUND) return st;
    if (st == TG_ENOTFOUND && mt && strcmp(mt, "gemma2") == 0) pattern = 2;
    if (st == TG_ENOTFOUND && mt && strcmp(mt, "mistral") == 0) pattern = UINT32_MAX; /* all slide */
    if (pattern == 0) {
        snprintf(p->note, sizeof p->note,
                 "sliding_window %llu without a layer pattern: every layer counted as full attention",
                 (unsigned long long)w);
        return TG_OK;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (pattern == UINT32_MAX || (i + 1) % pattern != 0) {
            p->layers[i].attn = TG_ATTN_SLIDING;
            p->layers[i].window = (uint32_t)w;
        }
    }
    return TG_OK;
}

static tg_status from_cfg(const cfg *c, tg_model_profile *p, tg_error *err) {
    static const char *const k_layers[] = {"num_hidden_layers", "n_layer", "num_layers", "n_layers", NULL};
    static const char *const k_heads[] = {"num_attention_heads", "n_head", "num_heads", NULL};
    static const char *const k_hidden[] = {"hidden_size", "n_embd", "d_model", NULL};
    uint64_t n_layer = 0, n_head = 0, hidden = 0, n_kv = 0, head_dim = 0, vocab = 0;
    tg_status st;

    st = required(get_u64_any(c, k_layers, TG_MODEL_MAX_LAYERS, &n_layer, NULL, err),
                  "num_hidden_layers", err);
    if (st != TG_OK) return st;
    if (n_layer == 0) return tg_error_set(err, TG_EINVAL, "config num_hidden_layers is 0");
    st = required(get_u64_any(c, k_heads, TG_MODEL_MAX_DIM, &n_head, NULL, err),
                  "num_attention_heads", err);
    if (st != TG_OK) return st;
    if (n_head == 0) return tg_error_set(err, TG_EINVAL, "config num_attention_heads is 0");
    if ((st = get_u64_any(c, k_hidden, TG_MODEL_MAX_DIM, &hidden, NULL, err)) != TG_OK &&
        st != TG_ENOTFOUND)
        return st;
    st = get_u64(c, "num_key_value_heads", TG_MODEL_MAX_DIM, &n_kv, err);
    if (st == TG_ENOTFOUND) {
        json_t *mqa = cfg_get(c, "multi_query_attention");
        st = json_is_true(mqa) ? get_u64(c, "multi_query_group_num", TG_MODEL_MAX_DIM, &n_kv, err)
                               : TG_ENOTFOUND;
        if (st == TG_ENOTFOUND) { n_kv = n_head; st = TG_OK; }
    }
    if (st != TG_OK) return st;
    if (n_kv == 0) n_kv = n_head;
    st = get_u64(c, "head_dim", TG_MODEL_MAX_DIM, &head_dim, err);
    if (st == TG_ENOTFOUND) {
        if (hidden == 0)
            return tg_error_set(err, TG_EINVAL, "config.json has neither head_dim nor hidden_size");
        head_dim = hidden / n_head;
        st = TG_OK;
    }
    if (st != TG_OK) return st;
    if (head_dim == 0) return tg_error_set(err, TG_EINVAL, "config head_dim is 0");
    if ((st = get_u64(c, "vocab_size", UINT32_MAX, &vocab, err)) != TG_OK && st != TG_ENOTFOUND)
        return st;

    uint64_t kv_lora = 0, rope = 0;
    int mla = 0;
    st = get_u64(c, "kv_lora_rank", TG_MODEL_MAX_DIM, &kv_lora, err);
    if (st == TG_OK && kv_lora > 0) {
        st = required(get_u64(c, "qk_rope_head_dim", TG_MODEL_MAX_DIM, &rope, err), "qk_rope_head_dim", err);
        if (st != TG_OK) return st;
        mla = 1;
    } else if (st != TG_OK && st != TG_ENOTFOUND) {
        return st;
    }

    if (mla) st = tg__profile_alloc_layers(p, n_layer, 1, (uint32_t)(kv_lora + rope), 0, err);
    else st = tg__profile_alloc_layers(p, n_layer, (uint32_t)n_kv, (uint32_t)head_dim, (uint32_t)head_dim, err);
    if (st != TG_OK) return st;
    if (mla)
        for (uint32_t i = 0; i < p->n_layer; i++) p->layers[i].attn = TG_ATTN_MLA;
    p->n_head = (uint32_t)n_head;
    p->n_embd = (uint32_t)hidden;
    p->vocab_size = vocab;

    uint64_t state = 0;
    if ((st = recurrent_state(c, hidden, &state, err)) != TG_OK) return st;
    if ((st = layer_kinds(c, p, state, err)) != TG_OK) return st;

    /* Gemma-4 style: global (full) layers with their own head size / KV heads. */
    uint64_t ghd = 0, gkv = 0;
    if ((st = get_u64(c, "global_head_dim", TG_MODEL_MAX_DIM, &ghd, err)) != TG_OK && st != TG_ENOTFOUND)
        return st;
    if ((st = get_u64(c, "num_global_key_value_heads", TG_MODEL_MAX_DIM, &gkv, err)) != TG_OK &&
        st != TG_ENOTFOUND)
        return st;
    for (uint32_t i = 0; i < p->n_layer && !mla; i++) {
        if (p->layers[i].attn != TG_ATTN_FULL) continue;
        if (ghd) p->layers[i].head_k = p->layers[i].head_v = (uint32_t)ghd;
        if (gkv) p->layers[i].n_head_kv = (uint32_t)gkv;
    }

    tg_model_profile_summarize(p);
    if (p->n_recurrent > 0 && state == 0 && p->note[0] == '\0')
        snprintf(p->note, sizeof p->note,
                 "recurrent layers without known state sizes: their state is counted as 0 bytes");

    const char *mt = lm_str(c, "model_type");
    if (mt) tg__copy_name(p->arch, sizeof p->arch, mt, strlen(mt));
    json_t *archs = json_object_get(c->root, "architectures");
    const char *nm = json_string_value(json_array_get(archs, 0));
    if (!nm) nm = mt;
    if (nm) tg__copy_name(p->name, sizeof p->name, nm, strlen(nm));
    return native_context(c, p, err);
}

tg_status tg_model_from_hf_config(const char *json, size_t len, tg_model_profile *out,
                                  tg_error *err) {
    tg__profile_init(out, TG_MODEL_SRC_HF_CONFIG);
    if (!json) return tg_error_set(err, TG_EINVAL, "config.json: no data");
    if (len > TG_MODEL_MAX_CONFIG)
        return tg_error_set(err, TG_ELIMIT, "config.json is %zu bytes, above the %u limit", len,
                            TG_MODEL_MAX_CONFIG);
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return tg_error_set(err, TG_ECORRUPT, "config.json: %s at line %d column %d", jerr.text,
                            jerr.line, jerr.column);
    tg_status st;
    if (!json_is_object(root)) {
        st = tg_error_set(err, TG_EINVAL, "config.json: the top level is not an object");
    } else {
        cfg c = {root, root, NULL};
        static const char *const nests[] = {"text_config", "llm_config", "language_config", NULL};
        for (size_t i = 0; nests[i]; i++) {
            json_t *t = json_object_get(root, nests[i]);
            if (json_is_object(t)) { c.lm = t; break; }
        }
        const char *mt = lm_str(&c, "model_type");
        if (mt && !json_is_string(json_object_get(c.lm, "model_type")) &&
            strcmp(mt, "gemma3") == 0)
            mt = "gemma3_text"; /* a Gemma-3 text_config without its own model_type */
        for (size_t i = 0; mt && i < sizeof type_defaults / sizeof type_defaults[0]; i++) {
            if (strcmp(type_defaults[i].model_type, mt) != 0) continue;
            if (!c.defaults) c.defaults = json_object();
            json_object_set_new(c.defaults, type_defaults[i].key, json_integer(type_defaults[i].value));
        }
        st = from_cfg(&c, out, err);
        if (st == TG_OK) {
            tg__profile_add_eog_json(out, root, "config.json");
            if (c.lm != root) tg__profile_add_eog_json(out, c.lm, "config.json");
        }
        json_decref(c.defaults);
    }
    json_decref(root);
    if (st != TG_OK) {
        tg_model_profile_free(out);
        return st;
    }
    return TG_OK;
}
