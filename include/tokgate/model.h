/*
 * tokgate/model.h: what a model is, as far as token budgets care.
 *
 * A tg_model_profile holds a model's native context and, layer by layer, what
 * its cache costs: a full-attention layer keeps K and V for every token of
 * context; a sliding-window layer keeps at most `window` tokens; an MLA layer
 * (DeepSeek-V2/V3) keeps one compressed latent per token, not one K and V per
 * head; a recurrent or linear-attention layer (Mamba, RWKV, Qwen3-Next's gated
 * delta net) keeps a state of constant size; a layer may keep nothing at all.
 * src/limits/ turns this into KV bytes per token and the context that fits.
 *
 * A profile comes from one of three sources:
 *   - a GGUF file (tokgate/gguf.h): `general.architecture`, `{arch}.*` keys,
 *     per-architecture rules as llama.cpp applies them, weights' bytes from the
 *     tensor infos, tokenizer summary and chat-template presence;
 *   - an HF model directory or config.json (multimodal configs nest the
 *     language model under `text_config`);
 *   - the built-in catalogue, by name ("Qwen/Qwen3-32B", "qwen3:32b",
 *     "Qwen3-32B-GGUF:Q4_K_M"); an unknown name gets an 8192-token context and
 *     the profile says so (`fallback` = 1 and `note`).
 *
 * Ownership: the caller owns the profile and releases it with
 * tg_model_profile_free (which frees `layers` and leaves a zeroed profile).
 * Every function fills `*out` only on success; on failure `*out` is zeroed.
 */
#ifndef TOKGATE_MODEL_H
#define TOKGATE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"
#include "tokgate/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_MODEL_MAX_LAYERS     4096        /* layers in one profile */
#define TG_MODEL_MAX_DIM        (1u << 20)  /* a head size, head count, window... */
#define TG_MODEL_MAX_CONFIG     (64u << 20) /* bytes of config.json read */
#define TG_MODEL_FALLBACK_CONTEXT 8192u
#define TG_MODEL_MAX_EOG        16          /* end-of-generation ids kept */

/* What a layer's attention cache does as context grows. */
typedef enum tg_attn_kind {
    TG_ATTN_NONE = 0, /* no attention cache (pure recurrent layer, or shares another's) */
    TG_ATTN_FULL,     /* K and V per KV head per token: grows with context */
    TG_ATTN_SLIDING,  /* as FULL but capped at `window` tokens: a fixed cost */
    TG_ATTN_MLA       /* one latent of `head_k` elements per token, no V: grows */
} tg_attn_kind;

typedef struct tg_layer {
    tg_attn_kind attn;
    uint32_t n_head_kv; /* KV heads (MLA: 1, the latent) */
    uint32_t head_k;    /* elements of K per head (MLA: kv_lora_rank + rope dims) */
    uint32_t head_v;    /* elements of V per head (MLA: 0, V is read from the latent) */
    uint32_t window;    /* SLIDING: tokens kept */
    int recurrent;      /* 1: the layer also (or only) keeps a constant state */
    uint64_t state_elems; /* recurrent state elements, kept in f32 (0 = unknown) */
} tg_layer;

typedef enum tg_model_source {
    TG_MODEL_SRC_GGUF = 0,
    TG_MODEL_SRC_HF_CONFIG,
    TG_MODEL_SRC_CATALOGUE,
    TG_MODEL_SRC_FALLBACK
} tg_model_source;

typedef struct tg_model_profile {
    tg_model_source source;
    char name[128];          /* general.name, architectures[0], catalogue key, or the name asked */
    char arch[64];           /* general.architecture or HF model_type */
    uint64_t native_context; /* tokens */
    char context_from[128];  /* where native_context came from, for humans */
    uint32_t n_layer;        /* layers in `layers` (MTP/nextn layers excluded) */
    uint32_t n_head;         /* query heads (first layer) */
    uint32_t n_embd;         /* hidden size, 0 when unknown */
    tg_layer *layers;

    /* Counts over `layers`, filled by tg_model_profile_summarize. */
    uint32_t n_full, n_sliding, n_mla, n_recurrent, n_no_cache;

    uint64_t weights_bytes;  /* tensor data bytes (GGUF) or safetensors total_size; 0 unknown */
    uint64_t vocab_size;     /* embedding rows from the config / token count, 0 unknown */

    /* Tokenizer summary; empty / 0 / -1 when the source says nothing. */
    char tokenizer_model[32]; /* tokenizer.ggml.model ("gpt2", "llama") or tokenizer.json model.type */
    char tokenizer_pre[32];   /* tokenizer.ggml.pre */
    uint64_t tokenizer_tokens; /* tokens in the vocabulary */
    int has_chat_template;    /* 1 yes, 0 no, -1 not known */

    int fallback;            /* 1 when the name was unknown and native_context is the fallback */
    char note[256];          /* a remark for the operator (fallback, assumptions), may be empty */

    /* End-of-generation token ids, each once, in the order found: GGUF
     * tokenizer.ggml.eos_token_id, eot_token_id, eom_token_id; HF
     * config.json eos_token_id (an id or a list), then generation_config.json
     * eos_token_id beside it. n_eog 0 when the source names none. */
    uint32_t eog_ids[TG_MODEL_MAX_EOG];
    size_t n_eog;
    char eog_from[96];       /* the keys or files they came from, for humans */
} tg_model_profile;

/* Loads a profile from PATH: a GGUF file (by its magic), an HF model
 * directory (config.json inside, plus tokenizer.json / tokenizer_config.json /
 * chat_template.jinja / model.safetensors.index.json when present), or a
 * config.json file. */
TG_API tg_status tg_model_load(const char *path, tg_model_profile *out, tg_error *err);

/* From an open GGUF handle (the profile copies what it keeps). */
TG_API tg_status tg_model_from_gguf(const tg_gguf *g, tg_model_profile *out, tg_error *err);

/* From the bytes of an HF config.json. */
TG_API tg_status tg_model_from_hf_config(const char *json, size_t len, tg_model_profile *out,
                                         tg_error *err);

/* From the built-in catalogue. An unknown name is not an error: the profile
 * gets source TG_MODEL_SRC_FALLBACK, fallback = 1, native_context 8192, no
 * layers, and a note saying so. TG_EINVAL only for an empty name. */
TG_API tg_status tg_model_from_name(const char *name, tg_model_profile *out, tg_error *err);

/* The catalogue key NAME resolves to, or NULL when unknown. */
TG_API const char *tg_model_catalogue_match(const char *name);
/* Catalogue size and keys, for listings and tests. */
TG_API size_t tg_model_catalogue_count(void);
TG_API const char *tg_model_catalogue_key(size_t i);

/* Recomputes the n_full/n_sliding/... counts from `layers`. */
TG_API void tg_model_profile_summarize(tg_model_profile *p);
TG_API void tg_model_profile_free(tg_model_profile *p);

TG_API const char *tg_attn_kind_name(tg_attn_kind k);
TG_API const char *tg_model_source_name(tg_model_source s);

#ifdef __cplusplus
}
#endif
#endif
