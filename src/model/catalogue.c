/*
 * model/catalogue.c: profiles for models known only by name, as GPUStack's
 * model catalogue does: `--model-name qwen3-235b-a22b` still gets its 131072
 * context and a layer layout to cost the KV cache with.
 *
 * Each entry is typed from the model's published Hugging Face config.json
 * (the repository named in its comment): layers, query heads, KV heads, head
 * size, and the layer pattern (sliding window P: layer i slides when
 * (i + 1) % P != 0; hybrid interval K: layer i is full attention when
 * (i + 1) % K == 0, else gated-delta-net linear attention with the given
 * linear head counts and sizes; MLA: kv_lora_rank + qk_rope_head_dim).
 *
 * The context: where GPUStack's table (GPUStack UI v2.5.3 release notes,
 * "Dynamic Token Validation": qwen3 32B 32768, qwen3 235B 131072) lists the
 * model, its figure, so a name gets the limit GPUStack gives it (qwen3-32b:
 * 32768, safe maximum 26214). Otherwise the one the model card advertises as
 * supported: for the other Qwen3 sizes (4B and up) 131072 with YaRN, although
 * the config's max_position_embeddings says 40960 (32768 native + room). A
 * config.json read by hf_config.c reports what the config itself says.
 *
 * Every entry carries its source in the comment above it: the config.json
 * (a Hugging Face URL) its layout was typed from, and the context's source
 * where it is not that config.
 *
 * Name matching (tg_model_catalogue_match): case-insensitive; an org prefix
 * ("Qwen/") is dropped, a ".gguf" extension too; ':' (Ollama tags) and ' '
 * count as '-'. The name is tried as is, then with decoration segments
 * peeled off its end one at a time: quantisation tags (q4_k_m, iq4_xs, q8_0,
 * 4bit, fp8, awq, ...) and "gguf", "instruct", "it", "chat", "base",
 * "thinking", "qat", ... So "Qwen/Qwen3-32B-GGUF:Q4_K_M" is qwen3-32b, while
 * "deepseek-r1-distill-llama-70b" (a different model) is not deepseek-r1.
 */
#include "model/model_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef enum cat_kind { CAT_DENSE, CAT_SWA, CAT_HYBRID, CAT_MLA } cat_kind;

typedef struct cat_entry {
    const char *names[6]; /* canonical key first, then aliases */
    const char *arch;
    uint32_t context;
    uint16_t n_layer, n_head, n_kv, head_dim;
    cat_kind kind;
    uint32_t window;  /* CAT_SWA */
    uint16_t pattern; /* CAT_SWA: P; CAT_HYBRID: full-attention interval */
    uint16_t lin_nk, lin_nv, lin_dk, lin_dv, lin_conv; /* CAT_HYBRID */
    uint16_t kv_lora, rope; /* CAT_MLA */
} cat_entry;

#define DENSE(arch, ctx, L, H, KV, HD) arch, ctx, L, H, KV, HD, CAT_DENSE, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define SWA(arch, ctx, L, H, KV, HD, W, P) arch, ctx, L, H, KV, HD, CAT_SWA, W, P, 0, 0, 0, 0, 0, 0, 0
#define HYBRID(arch, ctx, L, H, KV, HD, I, NK, NV, DK, DV, C) \
    arch, ctx, L, H, KV, HD, CAT_HYBRID, 0, I, NK, NV, DK, DV, C, 0, 0
#define MLA(arch, ctx, L, H, R, ROPE) arch, ctx, L, H, 1, 0, CAT_MLA, 0, 0, 0, 0, 0, 0, 0, R, ROPE

static const cat_entry catalogue[] = {
    /* Qwen3 dense and MoE: Qwen/Qwen3-<size>/config.json (max_position_embeddings
     * 40960; the model cards: 32768 native, 131072 with YaRN for 4B and up). */
    /* https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json */
    {{"qwen3-0.6b"}, DENSE("qwen3", 32768, 28, 16, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-1.7B/blob/main/config.json */
    {{"qwen3-1.7b"}, DENSE("qwen3", 32768, 28, 16, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-4B/blob/main/config.json */
    {{"qwen3-4b"}, DENSE("qwen3", 131072, 36, 32, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-8B/blob/main/config.json */
    {{"qwen3-8b"}, DENSE("qwen3", 131072, 36, 32, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-14B/blob/main/config.json */
    {{"qwen3-14b"}, DENSE("qwen3", 131072, 40, 40, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-32B/blob/main/config.json
     * context: GPUStack UI v2.5.3 release notes, "Dynamic Token Validation" table:
     * qwen3 32B, context window 32768, safe maximum 26214 */
    {{"qwen3-32b"}, DENSE("qwen3", 32768, 64, 64, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-30B-A3B/blob/main/config.json */
    {{"qwen3-30b-a3b", "qwen3-30b"}, DENSE("qwen3moe", 131072, 48, 32, 4, 128)},
    /* https://huggingface.co/Qwen/Qwen3-235B-A22B/blob/main/config.json
     * context: GPUStack UI v2.5.3 release notes, "Dynamic Token Validation" table:
     * qwen3 235B, context window 131072, safe maximum 117965 */
    {{"qwen3-235b-a22b", "qwen3-235b"}, DENSE("qwen3moe", 131072, 94, 64, 4, 128)},
    /* The 2507 refreshes: same architectures, 262144 native
     * (Qwen/Qwen3-*-2507/config.json max_position_embeddings 262144). */
    /* https://huggingface.co/Qwen/Qwen3-4B-Instruct-2507/blob/main/config.json */
    {{"qwen3-4b-instruct-2507", "qwen3-4b-thinking-2507"}, DENSE("qwen3", 262144, 36, 32, 8, 128)},
    /* https://huggingface.co/Qwen/Qwen3-30B-A3B-Instruct-2507/blob/main/config.json */
    {{"qwen3-30b-a3b-instruct-2507", "qwen3-30b-a3b-thinking-2507"},
     DENSE("qwen3moe", 262144, 48, 32, 4, 128)},
    /* https://huggingface.co/Qwen/Qwen3-235B-A22B-Instruct-2507/blob/main/config.json */
    {{"qwen3-235b-a22b-instruct-2507", "qwen3-235b-a22b-thinking-2507"},
     DENSE("qwen3moe", 262144, 94, 64, 4, 128)},
    /* Qwen/Qwen3-Coder-30B-A3B-Instruct, Qwen/Qwen3-Coder-480B-A35B-Instruct. */
    /* https://huggingface.co/Qwen/Qwen3-Coder-30B-A3B-Instruct/blob/main/config.json */
    {{"qwen3-coder-30b-a3b", "qwen3-coder-30b"}, DENSE("qwen3moe", 262144, 48, 32, 4, 128)},
    /* https://huggingface.co/Qwen/Qwen3-Coder-480B-A35B-Instruct/blob/main/config.json */
    {{"qwen3-coder-480b-a35b", "qwen3-coder-480b"}, DENSE("qwen3moe", 262144, 62, 96, 8, 128)},
    /* Qwen/Qwen3-Next-80B-A3B-Instruct: 48 layers, full_attention_interval 4,
     * 2 KV heads x 256; linear attention 16 key heads, 32 value heads, 128/128,
     * conv kernel 4; max_position_embeddings 262144. */
    /* https://huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct/blob/main/config.json */
    {{"qwen3-next-80b-a3b", "qwen3-next-80b", "qwen3-next"},
     HYBRID("qwen3next", 262144, 48, 16, 2, 256, 4, 16, 32, 128, 128, 4)},
    /* Qwen/Qwen3.5-27B and Qwen/Qwen3.6-27B (Qwen3_5ForConditionalGeneration,
     * text_config): 64 layers, full_attention_interval 4, 4 KV heads x 256;
     * linear attention 16 key heads, 48 value heads, 128/128, conv 4; 262144. */
    /* https://huggingface.co/Qwen/Qwen3.5-27B/blob/main/config.json */
    {{"qwen3.5-27b"}, HYBRID("qwen35", 262144, 64, 24, 4, 256, 4, 16, 48, 128, 128, 4)},
    /* https://huggingface.co/Qwen/Qwen3.6-27B/blob/main/config.json */
    {{"qwen3.6-27b"}, HYBRID("qwen35", 262144, 64, 24, 4, 256, 4, 16, 48, 128, 128, 4)},
    /* Qwen/Qwen3.5-35B-A3B (text_config): 40 layers, interval 4, 2 KV heads x 256;
     * linear 16 key / 32 value heads, 128/128, conv 4; 262144. Qwen3.6-35B-A3B
     * ships the same text architecture. */
    /* https://huggingface.co/Qwen/Qwen3.5-35B-A3B/blob/main/config.json */
    {{"qwen3.5-35b-a3b", "qwen3.5-35b"}, HYBRID("qwen35moe", 262144, 40, 16, 2, 256, 4, 16, 32, 128, 128, 4)},
    /* https://huggingface.co/Qwen/Qwen3.6-35B-A3B/blob/main/config.json */
    {{"qwen3.6-35b-a3b", "qwen3.6-35b"}, HYBRID("qwen35moe", 262144, 40, 16, 2, 256, 4, 16, 32, 128, 128, 4)},

    /* Llama 3.x: meta-llama/<name>/config.json (3.1+: max_position_embeddings
     * 131072 with llama3 rope scaling; Llama 3: 8192). */
    /* https://huggingface.co/meta-llama/Meta-Llama-3-8B/blob/main/config.json */
    {{"llama-3-8b", "meta-llama-3-8b", "llama3-8b"}, DENSE("llama", 8192, 32, 32, 8, 128)},
    /* https://huggingface.co/meta-llama/Meta-Llama-3-70B/blob/main/config.json */
    {{"llama-3-70b", "meta-llama-3-70b", "llama3-70b"}, DENSE("llama", 8192, 80, 64, 8, 128)},
    /* https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json */
    {{"llama-3.1-8b", "meta-llama-3.1-8b", "llama3.1-8b"}, DENSE("llama", 131072, 32, 32, 8, 128)},
    /* https://huggingface.co/meta-llama/Llama-3.1-70B/blob/main/config.json */
    {{"llama-3.1-70b", "meta-llama-3.1-70b", "llama3.1-70b"}, DENSE("llama", 131072, 80, 64, 8, 128)},
    /* https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json */
    {{"llama-3.1-405b", "meta-llama-3.1-405b", "llama3.1-405b"}, DENSE("llama", 131072, 126, 128, 8, 128)},
    /* https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json */
    {{"llama-3.2-1b", "llama3.2-1b"}, DENSE("llama", 131072, 16, 32, 8, 64)},
    /* https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json */
    {{"llama-3.2-3b", "llama3.2-3b"}, DENSE("llama", 131072, 28, 24, 8, 128)},
    /* https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct/blob/main/config.json */
    {{"llama-3.3-70b", "llama3.3-70b"}, DENSE("llama", 131072, 80, 64, 8, 128)},

    /* Gemma 3: google/gemma-3-<size>-it/config.json text_config:
     * sliding_window 1024 (512 for 1B), sliding_window_pattern 6. */
    /* https://huggingface.co/google/gemma-3-1b-it/blob/main/config.json */
    {{"gemma-3-1b", "gemma3-1b"}, SWA("gemma3", 32768, 26, 4, 1, 256, 512, 6)},
    /* https://huggingface.co/google/gemma-3-4b-it/blob/main/config.json */
    {{"gemma-3-4b", "gemma3-4b"}, SWA("gemma3", 131072, 34, 8, 4, 256, 1024, 6)},
    /* https://huggingface.co/google/gemma-3-12b-it/blob/main/config.json */
    {{"gemma-3-12b", "gemma3-12b"}, SWA("gemma3", 131072, 48, 16, 8, 256, 1024, 6)},
    /* https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json */
    {{"gemma-3-27b", "gemma3-27b"}, SWA("gemma3", 131072, 62, 32, 16, 128, 1024, 6)},

    /* DeepSeek-V3 family: deepseek-ai/DeepSeek-V3/config.json: 61 layers,
     * kv_lora_rank 512, qk_rope_head_dim 64, max_position_embeddings 163840
     * (YaRN 40 x 4096). R1, V3-0324, V3.1 share it. */
    /* https://huggingface.co/deepseek-ai/DeepSeek-V3/blob/main/config.json */
    {{"deepseek-v3", "deepseek-v3-0324", "deepseek-v3-671b"}, MLA("deepseek2", 163840, 61, 128, 512, 64)},
    /* https://huggingface.co/deepseek-ai/DeepSeek-R1/blob/main/config.json */
    {{"deepseek-r1", "deepseek-r1-0528", "deepseek-r1-671b"}, MLA("deepseek2", 163840, 61, 128, 512, 64)},
    /* https://huggingface.co/deepseek-ai/DeepSeek-V3.1/blob/main/config.json */
    {{"deepseek-v3.1", "deepseek-v3.1-terminus"}, MLA("deepseek2", 163840, 61, 128, 512, 64)},

    /* gpt-oss: openai/gpt-oss-120b and -20b config.json: layer_types alternate
     * sliding (window 128) and full, 8 KV heads x 64, 131072 (YaRN 32 x 4096). */
    /* https://huggingface.co/openai/gpt-oss-120b/blob/main/config.json */
    {{"gpt-oss-120b"}, SWA("gpt-oss", 131072, 36, 64, 8, 64, 128, 2)},
    /* https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json */
    {{"gpt-oss-20b"}, SWA("gpt-oss", 131072, 24, 64, 8, 64, 128, 2)},

    /* GLM-4.x: zai-org/GLM-4.5, GLM-4.5-Air, GLM-4.6, GLM-4.7 config.json
     * (8 KV heads x 128; 131072 for 4.5, 202752 for 4.6 and 4.7). */
    /* https://huggingface.co/zai-org/GLM-4.5/blob/main/config.json */
    {{"glm-4.5"}, DENSE("glm4moe", 131072, 92, 96, 8, 128)},
    /* https://huggingface.co/zai-org/GLM-4.5-Air/blob/main/config.json */
    {{"glm-4.5-air"}, DENSE("glm4moe", 131072, 46, 96, 8, 128)},
    /* https://huggingface.co/zai-org/GLM-4.6/blob/main/config.json */
    {{"glm-4.6"}, DENSE("glm4moe", 202752, 92, 96, 8, 128)},
    /* https://huggingface.co/zai-org/GLM-4.7/blob/main/config.json */
    {{"glm-4.7"}, DENSE("glm4moe", 202752, 92, 96, 8, 128)},

    /* MiniMax-M2.x: MiniMaxAI/MiniMax-M2.x config.json: 62 layers of full
     * attention, 48 heads, 8 KV heads x 128, max_position_embeddings 196608. */
    /* https://huggingface.co/MiniMaxAI/MiniMax-M2/blob/main/config.json */
    {{"minimax-m2"}, DENSE("minimax-m2", 196608, 62, 48, 8, 128)},
    /* https://huggingface.co/MiniMaxAI/MiniMax-M2.1/blob/main/config.json */
    {{"minimax-m2.1"}, DENSE("minimax-m2", 196608, 62, 48, 8, 128)},
    /* https://huggingface.co/plezan/MiniMax-M2.1-REAP-50-W4A16 (model card, a re-upload of
     * 0xSero/MiniMax-M2.1-REAP-50-W4A16 with its author's consent): "50% expert-pruned
     * MiniMax-M2.1 using REAP", base model MiniMaxAI/MiniMax-M2.1, experts 128/256.
     * REAP removes routed experts only, so attention (what the KV cache costs) and the
     * context are the base model's config.json above; no config.json of the pruned
     * model itself was found to cite. */
    {{"minimax-m2.1-reap-50"}, DENSE("minimax-m2", 196608, 62, 48, 8, 128)},
    /* https://huggingface.co/MiniMaxAI/MiniMax-M2.5/blob/main/config.json */
    {{"minimax-m2.5"}, DENSE("minimax-m2", 196608, 62, 48, 8, 128)},
    /* https://huggingface.co/MiniMaxAI/MiniMax-M2.7/blob/main/config.json */
    {{"minimax-m2.7"}, DENSE("minimax-m2", 196608, 62, 48, 8, 128)},
};

#define N_CAT (sizeof catalogue / sizeof catalogue[0])
#define NAME_MAX_LEN 200

size_t tg_model_catalogue_count(void) { return N_CAT; }

const char *tg_model_catalogue_key(size_t i) { return i < N_CAT ? catalogue[i].names[0] : NULL; }

/* A trailing segment that names a packaging, not a model. */
static int is_decoration(const char *s, size_t n) {
    static const char *const words[] = {
        "gguf", "instruct", "it", "chat", "base", "hf", "thinking", "qat", "fp8", "fp16", "bf16",
        "f16", "f32", "awq", "gptq", "mlx", "int4", "int8", "nvfp4", "mxfp4", "ud", "latest",
        "dynamic", "imatrix", "i1", "exl2", "w4a16", "w8a8", "unsloth", "quantized", NULL};
    for (size_t i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0) return 1;
    /* q4_k_m, q8_0, iq4_xs, ... */
    size_t k = 0;
    if (n >= 2 && s[0] == 'i' && s[1] == 'q') k = 2;
    else if (n >= 1 && s[0] == 'q') k = 1;
    if (k && k < n && isdigit((unsigned char)s[k])) return 1;
    /* 4bit, 8bit, 4.5bpw */
    size_t d = 0;
    while (d < n && (isdigit((unsigned char)s[d]) || s[d] == '.')) d++;
    if (d > 0 && ((n - d == 3 && memcmp(s + d, "bit", 3) == 0) ||
                  (n - d == 3 && memcmp(s + d, "bpw", 3) == 0)))
        return 1;
    return 0;
}

static const cat_entry *lookup_exact(const char *s) {
    for (size_t i = 0; i < N_CAT; i++)
        for (size_t a = 0; a < 6 && catalogue[i].names[a]; a++)
            if (strcmp(catalogue[i].names[a], s) == 0) return &catalogue[i];
    return NULL;
}

static const cat_entry *match(const char *name) {
    if (!name) return NULL;
    const char *slash = strrchr(name, '/');
    if (slash) name = slash + 1;
    size_t n = strlen(name);
    if (n == 0 || n > NAME_MAX_LEN) return NULL;
    char buf[NAME_MAX_LEN + 1];
    for (size_t i = 0; i < n; i++) {
        char c = (char)tolower((unsigned char)name[i]);
        buf[i] = (c == ':' || c == ' ') ? '-' : c;
    }
    buf[n] = '\0';
    if (n > 5 && strcmp(buf + n - 5, ".gguf") == 0) buf[n - 5] = '\0';
    for (;;) {
        const cat_entry *e = lookup_exact(buf);
        if (e) return e;
        char *dash = strrchr(buf, '-');
        if (!dash || dash == buf) return NULL;
        if (!is_decoration(dash + 1, strlen(dash + 1))) return NULL;
        *dash = '\0';
    }
}

const char *tg_model_catalogue_match(const char *name) {
    const cat_entry *e = match(name);
    return e ? e->names[0] : NULL;
}

static tg_status build(const cat_entry *e, tg_model_profile *p, tg_error *err) {
    uint32_t hk = e->kind == CAT_MLA ? (uint32_t)(e->kv_lora + e->rope) : e->head_dim;
    uint32_t hv = e->kind == CAT_MLA ? 0 : e->head_dim;
    tg_status st = tg__profile_alloc_layers(p, e->n_layer, e->n_kv, hk, hv, err);
    if (st != TG_OK) return st;
    uint64_t state = e->kind == CAT_HYBRID
                         ? tg__gdn_state_elems(e->lin_conv, e->lin_nk, e->lin_nv, e->lin_dk, e->lin_dv)
                         : 0;
    for (uint32_t i = 0; i < p->n_layer; i++) {
        tg_layer *l = &p->layers[i];
        if (e->kind == CAT_MLA) {
            l->attn = TG_ATTN_MLA;
        } else if (e->kind == CAT_SWA && (i + 1) % e->pattern != 0) {
            l->attn = TG_ATTN_SLIDING;
            l->window = e->window;
        } else if (e->kind == CAT_HYBRID && (i + 1) % e->pattern != 0) {
            l->attn = TG_ATTN_NONE;
            l->recurrent = 1;
            l->state_elems = state;
        }
    }
    p->n_head = e->n_head;
    p->native_context = e->context;
    snprintf(p->context_from, sizeof p->context_from, "catalogue entry %s", e->names[0]);
    snprintf(p->arch, sizeof p->arch, "%s", e->arch);
    snprintf(p->name, sizeof p->name, "%s", e->names[0]);
    tg_model_profile_summarize(p);
    return TG_OK;
}

tg_status tg_model_from_name(const char *name, tg_model_profile *out, tg_error *err) {
    tg__profile_init(out, TG_MODEL_SRC_CATALOGUE);
    if (!name || !name[0]) return tg_error_set(err, TG_EINVAL, "empty model name");
    const cat_entry *e = match(name);
    if (e) {
        tg_status st = build(e, out, err);
        if (st != TG_OK) tg_model_profile_free(out);
        return st;
    }
    out->source = TG_MODEL_SRC_FALLBACK;
    out->fallback = 1;
    out->native_context = TG_MODEL_FALLBACK_CONTEXT;
    tg__copy_name(out->name, sizeof out->name, name, strlen(name));
    snprintf(out->context_from, sizeof out->context_from, "fallback (name not in the catalogue)");
    snprintf(out->note, sizeof out->note,
             "model \"%.120s\" is not in the catalogue: assuming a %u-token context and no "
             "architecture (pass --model PATH for a real profile)",
             out->name, TG_MODEL_FALLBACK_CONTEXT);
    return TG_OK;
}
