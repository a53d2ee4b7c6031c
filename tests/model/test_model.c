/*
 * test_model.c: model profiles from HF config.json files and the catalogue.
 *
 * tests/data/configs/<Model>/config.json are typed from the models' published
 * Hugging Face configs (see the README there). Every expected number below is
 * worked out from those published fields by hand, with the arithmetic
 * written beside it; none is tokgate output pasted back.
 */
#include "tg_test.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"
#include "config_fixture.h"

static tg_kv_cost cost(const tg_model_profile *p, tg_kv_type t, uint32_t tp) {
    tg_kv_cost c;
    tg_error err = {0};
    if (tg_kv_cost_compute(p, t, tp, &c, &err) != TG_OK) fprintf(stderr, "kv cost: %s\n", err.msg);
    return c;
}

static tg_status from_json(const char *json, tg_model_profile *p, tg_error *err) {
    return tg_model_from_hf_config(json, strlen(json), p, err);
}

static void test_llama31_8b(void) {
    tg_model_profile p;
    if (!tgt_load_config("Llama-3.1-8B", &p)) { TG_CHECK(0); return; }
    TG_CHECK_STR(p.name, "Llama-3.1-8B");
    TG_CHECK_STR(p.arch, "llama");
    /* max_position_embeddings 131072; llama3 rope scaling is already folded in */
    TG_CHECK_EQ_U(p.native_context, 131072);
    TG_CHECK_EQ_U(p.n_layer, 32);
    TG_CHECK_EQ_U(p.n_full, 32);
    /* no head_dim in the config: hidden_size 4096 / 32 heads = 128 */
    TG_CHECK_EQ_U(p.layers[0].head_k, 128);
    TG_CHECK_EQ_U(p.layers[0].n_head_kv, 8);
    tg_kv_cost c = cost(&p, TG_KV_F16, 1);
    /* 32 layers x 2 (K+V) x 8 KV heads x 128 x 2 bytes = 131072 */
    TG_CHECK_EQ_U(c.per_token, 32u * 2 * 8 * 128 * 2);
    TG_CHECK_EQ_U(c.per_token, 131072);
    TG_CHECK_EQ_U(c.fixed_bytes, 0);
    tg_model_profile_free(&p);
}

static void test_qwen3_32b(void) {
    tg_model_profile p;
    if (!tgt_load_config("Qwen3-32B", &p)) { TG_CHECK(0); return; }
    TG_CHECK_EQ_U(p.native_context, 40960); /* max_position_embeddings, no rope_scaling */
    TG_CHECK_EQ_U(p.n_full, 64);            /* use_sliding_window false, sliding_window null */
    tg_kv_cost c = cost(&p, TG_KV_F16, 1);
    /* 64 x 2 x 8 x 128 x 2 = 262144 */
    TG_CHECK_EQ_U(c.per_token, 64u * 2 * 8 * 128 * 2);
    TG_CHECK_EQ_U(c.per_token, 262144);
    TG_CHECK_EQ_U(p.vocab_size, 151936);
    tg_model_profile_free(&p);
}

static void test_gemma3_27b(void) {
    tg_model_profile p;
    if (!tgt_load_config("gemma-3-27b-it", &p)) { TG_CHECK(0); return; }
    TG_CHECK_STR(p.arch, "gemma3_text");
    /* text_config has no max_position_embeddings: Gemma3TextConfig's default 131072 */
    TG_CHECK_EQ_U(p.native_context, 131072);
    TG_CHECK_EQ_U(p.n_layer, 62);
    /* sliding_window_pattern 6 (Gemma3TextConfig default): layer i global when
     * (i + 1) % 6 == 0, i.e. layers 5, 11, ..., 59: floor(62 / 6) = 10 */
    TG_CHECK_EQ_U(p.n_full, 10);
    TG_CHECK_EQ_U(p.n_sliding, 52);
    TG_CHECK(p.layers[5].attn == TG_ATTN_FULL);
    TG_CHECK(p.layers[0].attn == TG_ATTN_SLIDING);
    TG_CHECK(p.layers[61].attn == TG_ATTN_SLIDING);
    TG_CHECK_EQ_U(p.layers[0].window, 1024);
    TG_CHECK_EQ_U(p.layers[0].head_k, 128); /* head_dim 128 overrides the default 256 */
    tg_kv_cost c = cost(&p, TG_KV_F16, 1);
    /* growing: 10 global x 2 x 16 KV heads x 128 x 2 = 81920 B/token */
    TG_CHECK_EQ_U(c.per_token, 10u * 2 * 16 * 128 * 2);
    /* fixed: 52 sliding x 1024 tokens x (2 x 16 x 128 x 2 = 8192) = 436207616 */
    TG_CHECK_EQ_U(c.sliding_bytes, 52ull * 1024 * 8192);
    TG_CHECK_EQ_U(c.fixed_bytes, 436207616);
    tg_model_profile_free(&p);
}

static void test_deepseek_v3(void) {
    tg_model_profile p;
    if (!tgt_load_config("DeepSeek-V3", &p)) { TG_CHECK(0); return; }
    /* max_position_embeddings 163840 = YaRN factor 40 x original 4096 */
    TG_CHECK_EQ_U(p.native_context, 163840);
    TG_CHECK_EQ_U(p.n_mla, 61);
    TG_CHECK_EQ_U(p.layers[0].n_head_kv, 1);
    TG_CHECK_EQ_U(p.layers[0].head_k, 512 + 64); /* kv_lora_rank + qk_rope_head_dim */
    TG_CHECK_EQ_U(p.layers[0].head_v, 0);
    tg_kv_cost c = cost(&p, TG_KV_F16, 1);
    /* one latent per layer, not per head: 61 x 576 x 2 = 70272 */
    TG_CHECK_EQ_U(c.per_token, 61u * 576 * 2);
    TG_CHECK_EQ_U(c.per_token, 70272);
    tg_model_profile_free(&p);
}

static void test_gpt_oss_120b(void) {
    tg_model_profile p;
    if (!tgt_load_config("gpt-oss-120b", &p)) { TG_CHECK(0); return; }
    TG_CHECK_EQ_U(p.native_context, 131072); /* = YaRN 32 x 4096 as well */
    TG_CHECK_EQ_U(p.n_full, 18);
    TG_CHECK_EQ_U(p.n_sliding, 18);
    TG_CHECK(p.layers[0].attn == TG_ATTN_SLIDING);
    TG_CHECK(p.layers[1].attn == TG_ATTN_FULL);
    TG_CHECK_EQ_U(p.layers[0].window, 128);
    tg_kv_cost c = cost(&p, TG_KV_F16, 1);
    /* 18 full x 2 x 8 x 64 x 2 = 36864 B/token; 18 sliding x 128 x 2048 = 4718592 */
    TG_CHECK_EQ_U(c.per_token, 18u * 2 * 8 * 64 * 2);
    TG_CHECK_EQ_U(c.per_token, 36864);
    TG_CHECK_EQ_U(c.sliding_bytes, 18ull * 128 * (2 * 8 * 64 * 2));
    TG_CHECK_EQ_U(c.recurrent_bytes, 0);
    tg_model_profile_free(&p);
}

static void test_qwen3_next(void) {
    tg_model_profile p;
    if (!tgt_load_config("Qwen3-Next-80B-A3B-Instruct", &p)) { TG_CHECK(0); return; }
    TG_CHECK_EQ_U(p.native_context, 262144);
    /* full_attention_interval 4: layers 3, 7, ..., 47 full = 12; 36 linear */
    TG_CHECK_EQ_U(p.n_full, 12);
    TG_CHECK_EQ_U(p.n_recurrent, 36);
    TG_CHECK(p.layers[3].attn == TG_ATTN_FULL);
    TG_CHECK(p.layers[0].recurrent);
    tg_kv_cost c = cost(&p, TG_KV_F16, 1);
    /* 12 x 2 x 2 KV heads x 256 x 2 = 24576 */
    TG_CHECK_EQ_U(c.per_token, 12u * 2 * 2 * 256 * 2);
    /* linear state per layer, f32: conv (4 - 1) x (2 x 16 x 128 + 32 x 128) = 24576
     * + recurrent 32 x 128 x 128 = 524288; x 4 bytes x 36 layers = 79036416 */
    TG_CHECK_EQ_U(p.layers[0].state_elems, 3u * (2 * 16 * 128 + 32 * 128) + 32u * 128 * 128);
    TG_CHECK_EQ_U(c.recurrent_bytes, 36ull * (24576 + 524288) * 4);
    TG_CHECK_EQ_U(c.recurrent_bytes, 79036416);
    tg_model_profile_free(&p);
}

static void test_qwen36_27b(void) {
    tg_model_profile p;
    if (!tgt_load_config("Qwen3.6-27B", &p)) { TG_CHECK(0); return; }
    TG_CHECK_STR(p.arch, "qwen3_5_text"); /* from text_config */
    TG_CHECK_EQ_U(p.native_context, 262144);
    TG_CHECK_EQ_U(p.n_layer, 64);
    TG_CHECK_EQ_U(p.n_full, 16); /* every 4th of 64 */
    TG_CHECK_EQ_U(p.n_recurrent, 48);
    tg_kv_cost c = cost(&p, TG_KV_F16, 2);
    /* helexa: 2 (K+V) x 16 layers x 4 KV heads x 256 x 2 B = 65536, 32768 per card at tp 2 */
    TG_CHECK_EQ_U(c.per_token, 2u * 16 * 4 * 256 * 2);
    TG_CHECK_EQ_U(c.per_token, 65536);
    TG_CHECK_EQ_U(c.per_token_per_card, 32768);
    /* state: (4-1) x (2 x 16 x 128 + 48 x 128) + 48 x 128 x 128 = 30720 + 786432
     * elements x 4 B x 48 layers = 156893184 */
    TG_CHECK_EQ_U(c.recurrent_bytes, 48ull * (30720 + 786432) * 4);
    TG_CHECK_EQ_U(c.fixed_bytes_per_card, 156893184 / 2);
    tg_model_profile_free(&p);
}

static void test_hf_defaults_and_nesting(void) {
    tg_model_profile p;
    tg_error err = {0};
    /* no num_key_value_heads (MHA), no head_dim */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,\"num_attention_heads\":12,\"hidden_size\":768,"
                            "\"max_position_embeddings\":2048}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.layers[1].n_head_kv, 12);
    TG_CHECK_EQ_U(p.layers[1].head_k, 64);
    TG_CHECK_EQ_U(p.native_context, 2048);
    tg_model_profile_free(&p);
    /* fields missing from text_config come from the top level */
    TG_CHECK_EQ_I(from_json("{\"max_position_embeddings\":4096,\"text_config\":{\"num_hidden_layers\":3,"
                            "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":32}}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.native_context, 4096);
    TG_CHECK_EQ_U(p.layers[0].n_head_kv, 2);
    tg_model_profile_free(&p);
    /* Qwen3 with YaRN switched on as its model card says: 4 x 32768 = 131072 */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,\"num_attention_heads\":4,\"head_dim\":8,"
                            "\"max_position_embeddings\":40960,\"rope_scaling\":{\"rope_type\":\"yarn\","
                            "\"factor\":4.0,\"original_max_position_embeddings\":32768}}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.native_context, 131072);
    TG_CHECK_CONTAINS(p.context_from, "yarn");
    tg_model_profile_free(&p);
    /* no context length at all: fallback, flagged */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":1,\"num_attention_heads\":1,\"head_dim\":8}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.native_context, 8192);
    TG_CHECK(p.fallback);
    TG_CHECK_CONTAINS(p.note, "8192");
    tg_model_profile_free(&p);
}

static void test_hf_layer_rules(void) {
    tg_model_profile p;
    tg_error err = {0};
    /* Mistral-7B-v0.1: sliding_window 4096 on every layer */
    TG_CHECK_EQ_I(from_json("{\"model_type\":\"mistral\",\"num_hidden_layers\":4,\"num_attention_heads\":32,"
                            "\"num_key_value_heads\":8,\"hidden_size\":4096,\"max_position_embeddings\":32768,"
                            "\"sliding_window\":4096}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.n_sliding, 4);
    tg_model_profile_free(&p);
    /* Gemma-2: alternating, layer 0 sliding */
    TG_CHECK_EQ_I(from_json("{\"model_type\":\"gemma2\",\"num_hidden_layers\":4,\"num_attention_heads\":8,"
                            "\"num_key_value_heads\":4,\"head_dim\":256}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.n_sliding, 2);
    TG_CHECK(p.layers[0].attn == TG_ATTN_SLIDING && p.layers[1].attn == TG_ATTN_FULL);
    TG_CHECK_EQ_U(p.layers[0].window, 4096);
    TG_CHECK_EQ_U(p.native_context, 8192);
    tg_model_profile_free(&p);
    /* a window with use_sliding_window false is ignored (Qwen2) */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,\"num_attention_heads\":4,\"head_dim\":8,"
                            "\"sliding_window\":131072,\"use_sliding_window\":false,"
                            "\"max_position_embeddings\":32768}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.n_full, 2);
    tg_model_profile_free(&p);
    /* Jamba: attention when i % 8 == 4 */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":16,\"num_attention_heads\":32,\"num_key_value_heads\":8,"
                            "\"hidden_size\":4096,\"attn_layer_period\":8,\"attn_layer_offset\":4,"
                            "\"mamba_d_state\":16,\"mamba_d_conv\":4,\"mamba_expand\":2,"
                            "\"max_position_embeddings\":262144}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.n_full, 2);
    TG_CHECK_EQ_U(p.n_recurrent, 14);
    TG_CHECK(p.layers[4].attn == TG_ATTN_FULL && p.layers[12].attn == TG_ATTN_FULL);
    /* Mamba state: (4-1) x (8192 + 2 x 1 x 16) + 16 x 8192, d_inner = 2 x 4096 */
    TG_CHECK_EQ_U(p.layers[0].state_elems, 3u * (8192 + 32) + 16u * 8192);
    tg_model_profile_free(&p);
    /* Nemotron-H pattern: M mamba, * attention, - MLP only */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":4,\"num_attention_heads\":8,\"num_key_value_heads\":2,"
                            "\"head_dim\":128,\"hybrid_override_pattern\":\"M-*M\","
                            "\"max_position_embeddings\":8192}", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.n_full, 1);
    TG_CHECK_EQ_U(p.n_recurrent, 2);
    TG_CHECK_EQ_U(p.n_no_cache, 1);
    tg_model_profile_free(&p);
}

static void test_hf_errors(void) {
    tg_model_profile p;
    tg_error err = {0};
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,", &p, &err), TG_ECORRUPT);
    TG_CHECK_CONTAINS(err.msg, "config.json");
    TG_CHECK(p.layers == NULL);
    TG_CHECK_EQ_I(from_json("[1,2]", &p, &err), TG_EINVAL);
    TG_CHECK_EQ_I(from_json("{\"num_attention_heads\":4}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "num_hidden_layers");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":-3,\"num_attention_heads\":4}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "-3");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":99999,\"num_attention_heads\":4,\"head_dim\":8}", &p, &err),
                  TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "99999");
    TG_CHECK_CONTAINS(err.msg, "4096");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,\"num_attention_heads\":4,\"head_dim\":8,"
                            "\"layer_types\":[\"full_attention\"]}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "layer_types has 1 entries");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":1,\"num_attention_heads\":4,\"head_dim\":8,"
                            "\"layer_types\":[\"hyper_attention\"]}", &p, &err), TG_EUNSUPPORTED);
    TG_CHECK_CONTAINS(err.msg, "hyper_attention");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":1,\"num_attention_heads\":4,\"head_dim\":8,"
                            "\"layer_types\":[\"sliding_attention\"]}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "sliding_window");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":1,\"num_attention_heads\":4}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "head_dim");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":1.5,\"num_attention_heads\":4}", &p, &err), TG_EINVAL);
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":1,\"num_hidden_layers\":2}", &p, &err), TG_ECORRUPT);
    /* a bad Mamba size is an error, not a reason to try the next name for it */
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,\"num_attention_heads\":4,\"head_dim\":8,\"hidden_size\":64,"
                            "\"hybrid_override_pattern\":\"M*\",\"mamba_d_state\":16,\"mamba_n_heads\":8,"
                            "\"mamba_d_head\":-1,\"mamba_head_dim\":16}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "mamba_d_head");
    TG_CHECK_EQ_I(from_json("{\"num_hidden_layers\":2,\"num_attention_heads\":4,\"head_dim\":8,\"hidden_size\":64,"
                            "\"hybrid_override_pattern\":\"M*\",\"mamba_d_state\":16,"
                            "\"mamba_expand\":\"2\",\"expand\":2}", &p, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "mamba_expand");
    tg_error e2 = {0};
    TG_CHECK_EQ_I(tg_model_load(tg_source("tests/data/configs/no-such-model"), &p, &e2), TG_EIO);
    TG_CHECK_CONTAINS(e2.msg, "no-such-model");
}

static void test_catalogue_names(void) {
    TG_CHECK_STR(tg_model_catalogue_match("qwen3-235b-a22b"), "qwen3-235b-a22b");
    TG_CHECK_STR(tg_model_catalogue_match("Qwen/Qwen3-235B-A22B"), "qwen3-235b-a22b");
    TG_CHECK_STR(tg_model_catalogue_match("Qwen3-235B-A22B-GGUF"), "qwen3-235b-a22b");
    TG_CHECK_STR(tg_model_catalogue_match("Qwen/Qwen3-235B-A22B-GGUF:Q4_K_M"), "qwen3-235b-a22b");
    TG_CHECK_STR(tg_model_catalogue_match("unsloth/Qwen3-235B-A22B-Instruct-2507-GGUF"),
                 "qwen3-235b-a22b-instruct-2507");
    TG_CHECK_STR(tg_model_catalogue_match("qwen3:32b"), "qwen3-32b");
    TG_CHECK_STR(tg_model_catalogue_match("Qwen3-32B-Q4_K_M.gguf"), "qwen3-32b");
    TG_CHECK_STR(tg_model_catalogue_match("meta-llama/Llama-3.1-8B-Instruct"), "llama-3.1-8b");
    TG_CHECK_STR(tg_model_catalogue_match("meta-llama/Meta-Llama-3.1-8B-Instruct"), "llama-3.1-8b");
    TG_CHECK_STR(tg_model_catalogue_match("google/gemma-3-27b-it"), "gemma-3-27b");
    TG_CHECK_STR(tg_model_catalogue_match("gemma3:27b-it-qat"), "gemma-3-27b");
    TG_CHECK_STR(tg_model_catalogue_match("openai/gpt-oss-120b"), "gpt-oss-120b");
    TG_CHECK_STR(tg_model_catalogue_match("gpt-oss:20b"), "gpt-oss-20b");
    TG_CHECK_STR(tg_model_catalogue_match("deepseek-ai/DeepSeek-R1-0528"), "deepseek-r1");
    TG_CHECK_STR(tg_model_catalogue_match("unsloth/DeepSeek-V3-0324-GGUF:UD-Q2_K_XL"), "deepseek-v3");
    TG_CHECK_STR(tg_model_catalogue_match("zai-org/GLM-4.5-Air-FP8"), "glm-4.5-air");
    TG_CHECK_STR(tg_model_catalogue_match("MiniMaxAI/MiniMax-M2.1"), "minimax-m2.1");
    TG_CHECK_STR(tg_model_catalogue_match("Qwen/Qwen3.6-27B"), "qwen3.6-27b");
    TG_CHECK_STR(tg_model_catalogue_match("Qwen/Qwen3-Next-80B-A3B-Thinking"), "qwen3-next-80b-a3b");
    /* a different model that shares a prefix is not matched */
    TG_CHECK(tg_model_catalogue_match("deepseek-ai/DeepSeek-R1-Distill-Llama-70B") == NULL);
    TG_CHECK(tg_model_catalogue_match("qwen3-32") == NULL);
    TG_CHECK(tg_model_catalogue_match("") == NULL);
    TG_CHECK(tg_model_catalogue_match("-gguf") == NULL);
    /* every key resolves to itself */
    for (size_t i = 0; i < tg_model_catalogue_count(); i++)
        TG_CHECK_STR(tg_model_catalogue_match(tg_model_catalogue_key(i)), tg_model_catalogue_key(i));
}

static void test_catalogue_profiles(void) {
    tg_model_profile p;
    tg_error err = {0};
    /* GPUStack: qwen3-235b-a22b at 131072 (YaRN 4 x 32768) */
    TG_CHECK_EQ_I(tg_model_from_name("qwen3-235b-a22b", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.native_context, 131072);
    TG_CHECK(!p.fallback);
    TG_CHECK(p.source == TG_MODEL_SRC_CATALOGUE);
    /* 94 layers x 2 x 4 KV heads x 128 x 2 = 192512 (Qwen/Qwen3-235B-A22B config) */
    TG_CHECK_EQ_U(cost(&p, TG_KV_F16, 1).per_token, 94u * 2 * 4 * 128 * 2);
    tg_model_profile_free(&p);

    /* GPUStack UI v2.5.3 release notes, "Dynamic Token Validation" table: qwen3
     * 32B has a 32768 context window (safe maximum 26214), qwen3 235B 131072. A
     * name gets GPUStack's figure, not the card's YaRN 131072. */
    static const struct { const char *name; uint64_t ctx; } gpustack[] = {
        {"qwen3-32b", 32768}, {"Qwen/Qwen3-32B", 32768}, {"qwen3:32b", 32768}, {"qwen3-235b-a22b", 131072}};
    for (size_t i = 0; i < sizeof gpustack / sizeof gpustack[0]; i++) {
        TG_CHECK_EQ_I(tg_model_from_name(gpustack[i].name, &p, &err), TG_OK);
        TG_CHECK_EQ_U(p.native_context, gpustack[i].ctx);
        tg_model_profile_free(&p);
    }
    /* MiniMax-M2.1-REAP-50 (model card: 50% of MiniMax-M2.1's routed experts
     * pruned): the base model's attention, so the same KV cost and context as
     * MiniMaxAI/MiniMax-M2.1's config.json (62 layers x 2 x 8 KV heads x 128 x 2 B). */
    TG_CHECK_STR(tg_model_catalogue_match("plezan/MiniMax-M2.1-REAP-50-W4A16"), "minimax-m2.1-reap-50");
    TG_CHECK_EQ_I(tg_model_from_name("0xSero/MiniMax-M2.1-REAP-50", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.native_context, 196608);
    TG_CHECK_EQ_U(cost(&p, TG_KV_F16, 1).per_token, 62u * 2 * 8 * 128 * 2);
    tg_model_profile_free(&p);

    TG_CHECK_EQ_I(tg_model_from_name("acme/unknown-model-7b", &p, &err), TG_OK);
    TG_CHECK_EQ_U(p.native_context, 8192);
    TG_CHECK(p.fallback);
    TG_CHECK(p.source == TG_MODEL_SRC_FALLBACK);
    TG_CHECK_CONTAINS(p.note, "not in the catalogue");
    TG_CHECK_EQ_U(p.n_layer, 0);
    tg_model_profile_free(&p);
    TG_CHECK_EQ_I(tg_model_from_name("", &p, &err), TG_EINVAL);

    /* Catalogue entries cost the KV cache exactly as the published configs do. */
    static const struct { const char *name, *dir; } same[] = {
        {"Qwen/Qwen3.6-27B", "Qwen3.6-27B"},      {"llama-3.1-8b", "Llama-3.1-8B"},
        {"gemma-3-27b-it", "gemma-3-27b-it"},     {"deepseek-v3", "DeepSeek-V3"},
        {"gpt-oss-120b", "gpt-oss-120b"},         {"qwen3-next-80b-a3b", "Qwen3-Next-80B-A3B-Instruct"},
        {"qwen3-32b", "Qwen3-32B"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        tg_model_profile a, b;
        TG_CHECK_EQ_I(tg_model_from_name(same[i].name, &a, &err), TG_OK);
        if (!tgt_load_config(same[i].dir, &b)) { TG_CHECK(0); tg_model_profile_free(&a); continue; }
        tg_kv_cost ca = cost(&a, TG_KV_F16, 2), cb = cost(&b, TG_KV_F16, 2);
        TG_CHECK_EQ_U(ca.per_token, cb.per_token);
        TG_CHECK_EQ_U(ca.per_token_per_card, cb.per_token_per_card);
        TG_CHECK_EQ_U(ca.fixed_bytes, cb.fixed_bytes);
        TG_CHECK_EQ_U(a.n_layer, b.n_layer);
        tg_model_profile_free(&a);
        tg_model_profile_free(&b);
    }
    /* every entry builds */
    for (size_t i = 0; i < tg_model_catalogue_count(); i++) {
        TG_CHECK_EQ_I(tg_model_from_name(tg_model_catalogue_key(i), &p, &err), TG_OK);
        TG_CHECK(p.n_layer > 0 && p.native_context >= 8192);
        TG_CHECK(cost(&p, TG_KV_F16, 1).per_token > 0);
        tg_model_profile_free(&p);
    }
}

int main(void) {
    TG_RUN(test_llama31_8b);
    TG_RUN(test_qwen3_32b);
    TG_RUN(test_gemma3_27b);
    TG_RUN(test_deepseek_v3);
    TG_RUN(test_gpt_oss_120b);
    TG_RUN(test_qwen3_next);
    TG_RUN(test_qwen36_27b);
    TG_RUN(test_hf_defaults_and_nesting);
    TG_RUN(test_hf_layer_rules);
    TG_RUN(test_hf_errors);
    TG_RUN(test_catalogue_names);
    TG_RUN(test_catalogue_profiles);
    return tg_test_summary();
}
