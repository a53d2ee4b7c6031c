/*
 * test_gguf_profile.c: model profiles from GGUF metadata.
 *
 * Synthetic files are built with tokgate's GGUF writer, key by key as
 * llama.cpp's converters name them, and the expected profile is worked out
 * by hand from those keys with llama.cpp's rules (the arithmetic is written
 * beside each check). Real files: llama.cpp's vocab-only GGUFs carry their
 * source model's hyper-parameters; the expectations for those come from the
 * source models' published configs (Meta-Llama-3-8B: 32 layers, 8 KV heads,
 * 128 head size, 8192 context, 128256 tokens).
 */
#include <stdlib.h>

#include "tg_test.h"
#include "tokgate/gguf.h"
#include "tokgate/gguf_write.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"

static tg_gguf_writer *w_;
static tg_error werr_;

#define U32(k, v) TG_CHECK_EQ_I(tg_gguf_add_u32(w_, k, v, &werr_), TG_OK)
#define STR(k, v) TG_CHECK_EQ_I(tg_gguf_add_str(w_, k, v, strlen(v), &werr_), TG_OK)
#define F32(k, v) TG_CHECK_EQ_I(tg_gguf_add_f32(w_, k, v, &werr_), TG_OK)

/* Writes w_ to memory and builds a profile; frees the writer. */
static tg_status profile_of(tg_model_profile *p, tg_error *err, void **mem) {
    size_t len = 0;
    *mem = NULL;
    tg_status st = tg_gguf_writer_to_memory(w_, mem, &len, err);
    tg_gguf_writer_free(w_);
    w_ = NULL;
    if (st != TG_OK) return st;
    tg_gguf *g = NULL;
    st = tg_gguf_open_buffer(*mem, len, &g, err);
    if (st != TG_OK) return st;
    st = tg_model_from_gguf(g, p, err);
    tg_gguf_close(g);
    return st;
}

static uint64_t per_token(const tg_model_profile *p) {
    tg_kv_cost c;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg_kv_cost_compute(p, TG_KV_F16, 1, &c, &err), TG_OK);
    return c.per_token;
}

static void test_dense(void) {
    w_ = tg_gguf_writer_new();
    STR("general.architecture", "llama");
    STR("general.name", "Tiny Llama");
    U32("llama.block_count", 4);
    U32("llama.context_length", 8192);
    U32("llama.embedding_length", 512);
    U32("llama.attention.head_count", 8);
    U32("llama.attention.head_count_kv", 2);
    STR("tokenizer.ggml.model", "gpt2");
    STR("tokenizer.ggml.pre", "llama-bpe");
    tg_gguf_str toks[3] = {{"a", 1}, {"b", 1}, {"c", 1}};
    TG_CHECK_EQ_I(tg_gguf_add_str_array(w_, "tokenizer.ggml.tokens", toks, 3, &werr_), TG_OK);
    STR("tokenizer.chat_template", "{{ messages }}");
    uint64_t dims[2] = {16, 4};
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w_, "token_embd.weight", 2, dims, 0 /* F32 */, NULL, 16 * 4 * 4, &werr_), TG_OK);
    tg_model_profile p;
    tg_error err = {0};
    void *mem;
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_OK);
    TG_CHECK_STR(p.name, "Tiny Llama");
    TG_CHECK_STR(p.arch, "llama");
    TG_CHECK_EQ_U(p.native_context, 8192);
    TG_CHECK_EQ_U(p.n_full, 4);
    /* head size 512 / 8 = 64; 4 layers x 2 x 2 KV heads x 64 x 2 B = 2048 */
    TG_CHECK_EQ_U(p.layers[0].head_k, 64);
    TG_CHECK_EQ_U(per_token(&p), 4u * 2 * 2 * 64 * 2);
    TG_CHECK_EQ_U(p.weights_bytes, 16 * 4 * 4);
    TG_CHECK_STR(p.tokenizer_model, "gpt2");
    TG_CHECK_STR(p.tokenizer_pre, "llama-bpe");
    TG_CHECK_EQ_U(p.tokenizer_tokens, 3);
    TG_CHECK_EQ_I(p.has_chat_template, 1);
    tg_model_profile_free(&p);
    free(mem);
}

static void test_hybrid_qwen35(void) {
    w_ = tg_gguf_writer_new();
    STR("general.architecture", "qwen35");
    U32("qwen35.block_count", 8);
    U32("qwen35.context_length", 262144);
    U32("qwen35.embedding_length", 5120);
    U32("qwen35.attention.head_count", 24);
    U32("qwen35.attention.head_count_kv", 4);
    U32("qwen35.attention.key_length", 256);
    U32("qwen35.attention.value_length", 256);
    U32("qwen35.full_attention_interval", 4);
    /* Qwen3.5-27B's linear attention as convert_hf_to_gguf maps it:
     * conv_kernel 4, inner_size 48 x 128 = 6144, state_size 128, group_count 16 */
    U32("qwen35.ssm.conv_kernel", 4);
    U32("qwen35.ssm.inner_size", 6144);
    U32("qwen35.ssm.state_size", 128);
    U32("qwen35.ssm.group_count", 16);
    U32("qwen35.ssm.time_step_rank", 48);
    tg_model_profile p;
    tg_error err = {0};
    void *mem;
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_OK);
    TG_CHECK_EQ_U(p.n_full, 2); /* layers 3 and 7 */
    TG_CHECK_EQ_U(p.n_recurrent, 6);
    TG_CHECK(p.layers[3].attn == TG_ATTN_FULL && p.layers[2].recurrent);
    /* 2 x 2 x 4 x 256 x 2 = 16384 */
    TG_CHECK_EQ_U(per_token(&p), 2u * 2 * 4 * 256 * 2);
    /* n_embd_r = 3 x (6144 + 2 x 16 x 128) = 30720; n_embd_s = 128 x 6144 = 786432 */
    TG_CHECK_EQ_U(p.layers[0].state_elems, 30720 + 786432);
    tg_model_profile_free(&p);
    free(mem);
}

static void test_mla_nextn_yarn(void) {
    w_ = tg_gguf_writer_new();
    STR("general.architecture", "deepseek2");
    U32("deepseek2.block_count", 4);
    U32("deepseek2.nextn_predict_layers", 1);
    U32("deepseek2.context_length", 40960);
    U32("deepseek2.embedding_length", 7168);
    U32("deepseek2.attention.head_count", 128);
    U32("deepseek2.attention.head_count_kv", 1);
    U32("deepseek2.attention.key_length", 576);
    U32("deepseek2.attention.value_length", 512);
    U32("deepseek2.attention.key_length_mla", 192);
    U32("deepseek2.attention.value_length_mla", 128);
    U32("deepseek2.attention.kv_lora_rank", 512);
    U32("deepseek2.rope.dimension_count", 64);
    STR("deepseek2.rope.scaling.type", "yarn");
    F32("deepseek2.rope.scaling.factor", 4.0f);
    U32("deepseek2.rope.scaling.original_context_length", 32768);
    tg_model_profile p;
    tg_error err = {0};
    void *mem;
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_OK);
    TG_CHECK_EQ_U(p.n_layer, 3); /* 4 blocks - 1 MTP layer */
    TG_CHECK_EQ_U(p.n_mla, 3);
    /* K only: 3 x 1 x 576 x 2 = 3456 */
    TG_CHECK_EQ_U(per_token(&p), 3u * 576 * 2);
    /* yarn 4 x 32768 = 131072 > context_length 40960 */
    TG_CHECK_EQ_U(p.native_context, 131072);
    tg_model_profile_free(&p);
    free(mem);
}

static void test_per_layer_arrays(void) {
    /* gemma4-like: per-layer KV heads, a bool sliding pattern, separate
     * head sizes for sliding layers, the last layer sharing another's cache */
    w_ = tg_gguf_writer_new();
    STR("general.architecture", "gemma4");
    U32("gemma4.block_count", 6);
    U32("gemma4.context_length", 131072);
    U32("gemma4.embedding_length", 2816);
    U32("gemma4.attention.head_count", 16);
    int32_t kv[6] = {8, 8, 2, 8, 8, 2};
    TG_CHECK_EQ_I(tg_gguf_add_array(w_, "gemma4.attention.head_count_kv", TG_GGUF_INT32, kv, 6, &werr_), TG_OK);
    uint8_t swa[6] = {1, 1, 0, 1, 1, 0};
    TG_CHECK_EQ_I(tg_gguf_add_array(w_, "gemma4.attention.sliding_window_pattern", TG_GGUF_BOOL, swa, 6, &werr_), TG_OK);
    U32("gemma4.attention.key_length", 512);
    U32("gemma4.attention.value_length", 512);
    U32("gemma4.attention.key_length_swa", 256);
    U32("gemma4.attention.value_length_swa", 256);
    U32("gemma4.attention.sliding_window", 1024);
    U32("gemma4.attention.shared_kv_layers", 1);
    tg_model_profile p;
    tg_error err = {0};
    void *mem;
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_OK);
    TG_CHECK_EQ_U(p.n_sliding, 4);
    TG_CHECK_EQ_U(p.n_full, 1);     /* layer 2; layer 5 shares a cache */
    TG_CHECK_EQ_U(p.n_no_cache, 1);
    tg_kv_cost c;
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 1, &c, &err), TG_OK);
    /* full: 2 x 2 KV heads x 512 x 2 = 4096 B/token */
    TG_CHECK_EQ_U(c.per_token, 2u * 2 * 512 * 2);
    /* sliding: 4 layers x 1024 x (2 x 8 x 256 x 2) = 33554432 */
    TG_CHECK_EQ_U(c.sliding_bytes, 4ull * 1024 * (2 * 8 * 256 * 2));
    tg_model_profile_free(&p);
    free(mem);

    /* jamba: a layer with 0 KV heads is a Mamba layer */
    w_ = tg_gguf_writer_new();
    STR("general.architecture", "jamba");
    U32("jamba.block_count", 4);
    U32("jamba.context_length", 262144);
    U32("jamba.embedding_length", 4096);
    U32("jamba.attention.head_count", 32);
    uint32_t jkv[4] = {0, 8, 0, 0};
    TG_CHECK_EQ_I(tg_gguf_add_array(w_, "jamba.attention.head_count_kv", TG_GGUF_UINT32, jkv, 4, &werr_), TG_OK);
    U32("jamba.ssm.conv_kernel", 4);
    U32("jamba.ssm.inner_size", 8192);
    U32("jamba.ssm.state_size", 16);
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_OK);
    TG_CHECK_EQ_U(p.n_full, 1);
    TG_CHECK_EQ_U(p.n_recurrent, 3);
    /* group_count absent = 0: 3 x 8192 + 16 x 8192 */
    TG_CHECK_EQ_U(p.layers[0].state_elems, 3u * 8192 + 16u * 8192);
    tg_model_profile_free(&p);
    free(mem);
}

static void test_gguf_errors(void) {
    tg_model_profile p;
    tg_error err = {0};
    void *mem;
    w_ = tg_gguf_writer_new();
    U32("llama.block_count", 4);
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "general.architecture");
    free(mem);

    w_ = tg_gguf_writer_new();
    STR("general.architecture", "llama");
    U32("llama.block_count", 3);
    U32("llama.attention.head_count", 8);
    uint32_t kv[2] = {2, 2};
    TG_CHECK_EQ_I(tg_gguf_add_array(w_, "llama.attention.head_count_kv", TG_GGUF_UINT32, kv, 2, &werr_), TG_OK);
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "llama.attention.head_count_kv has 2 entries, expected block_count 3");
    TG_CHECK(p.layers == NULL);
    free(mem);

    w_ = tg_gguf_writer_new();
    STR("general.architecture", "llama");
    U32("llama.block_count", 2);
    int32_t neg[2] = {4, -1};
    TG_CHECK_EQ_I(tg_gguf_add_array(w_, "llama.attention.head_count", TG_GGUF_INT32, neg, 2, &werr_), TG_OK);
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "-1");
    free(mem);

    w_ = tg_gguf_writer_new();
    STR("general.architecture", "llama");
    U32("llama.block_count", 5000);
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "5000");
    free(mem);

    w_ = tg_gguf_writer_new();
    STR("general.architecture", "llama");
    STR("llama.block_count", "many");
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "llama.block_count");
    free(mem);

    /* no block_count: a vocab-only file, flagged, no layers */
    w_ = tg_gguf_writer_new();
    STR("general.architecture", "llama");
    TG_CHECK_EQ_I(profile_of(&p, &err, &mem), TG_OK);
    TG_CHECK(p.fallback);
    TG_CHECK_EQ_U(p.n_layer, 0);
    TG_CHECK_EQ_U(p.native_context, 8192);
    tg_model_profile_free(&p);
    free(mem);
}

static void test_real_vocab_files(void) {
    tg_model_profile p;
    tg_error err = {0};
    /* ggml-vocab-llama-bpe.gguf: Meta-Llama-3-8B's hyper-parameters */
    TG_CHECK_EQ_I(tg_model_load(tg_fixture("llama.cpp/models/ggml-vocab-llama-bpe.gguf"), &p, &err), TG_OK);
    if (p.n_layer) {
        TG_CHECK(p.source == TG_MODEL_SRC_GGUF);
        TG_CHECK_STR(p.arch, "llama");
        TG_CHECK_EQ_U(p.native_context, 8192);
        TG_CHECK_EQ_U(p.n_full, 32);
        /* 32 x 2 x 8 x 128 x 2 = 131072 */
        TG_CHECK_EQ_U(per_token(&p), 131072);
        TG_CHECK_EQ_U(p.tokenizer_tokens, 128256);
        TG_CHECK_STR(p.tokenizer_model, "gpt2");
        TG_CHECK_EQ_U(p.weights_bytes, 0); /* vocab only */
    } else {
        fprintf(stderr, "load: %s\n", err.msg);
        TG_CHECK(0);
    }
    tg_model_profile_free(&p);
    /* a corrupt file is reported with its path */
    TG_CHECK(tg_model_load(tg_source("tests/data/configs/README.md"), &p, &err) != TG_OK);
}

int main(void) {
    TG_RUN(test_dense);
    TG_RUN(test_hybrid_qwen35);
    TG_RUN(test_mla_nextn_yarn);
    TG_RUN(test_per_layer_arrays);
    TG_RUN(test_gguf_errors);
    TG_RUN(test_real_vocab_files);
    return tg_test_summary();
}
