/*
 * tiny_model.c: writes a tiny random-weight `qwen2` GGUF that llama.cpp's
 * llama-server loads and serves, so the gateway can be tested against a real
 * server without downloading a model (see ../shared/FIXTURES.md).
 *
 * Shape: 2 layers, n_embd 64, 4 heads (head size 16), 2 KV heads, FFN 128,
 * context 4096, all tensors F32, and an untied output.weight (with tied
 * embeddings a random model only repeats the last prompt token). The
 * vocabulary is the source file's: every `tokenizer.*` pair is copied byte
 * for byte (tokens, merges, types, special ids, chat template), and n_vocab
 * is its token count.
 *
 * Tensor names and ggml shapes (innermost dimension first) follow llama.cpp's
 * loader for LLM_ARCH_QWEN2 (src/models/qwen2.cpp load_arch_tensors and the
 * names in src/llama-arch.cpp):
 *   token_embd.weight {n_embd, n_vocab}   output_norm.weight {n_embd}
 *   output.weight {n_embd, n_vocab}
 *   blk.N.attn_norm.weight {n_embd}       blk.N.ffn_norm.weight {n_embd}
 *   blk.N.attn_q.weight {n_embd, n_embd}  blk.N.attn_q.bias {n_embd}
 *   blk.N.attn_k.weight {n_embd, n_kv}    blk.N.attn_k.bias {n_kv}
 *   blk.N.attn_v.weight {n_embd, n_kv}    blk.N.attn_v.bias {n_kv}
 *   blk.N.attn_output.weight {n_embd, n_embd}
 *   blk.N.ffn_gate.weight {n_embd, n_ff}  blk.N.ffn_up.weight {n_embd, n_ff}
 *   blk.N.ffn_down.weight {n_ff, n_embd}
 * where n_kv = head size x KV heads = 32. Norm weights are 1; the other
 * weights are uniform in [-0.1, 0.1) from a splitmix64 stream of `seed`, so
 * one seed always gives the same file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_internal.h"
#include "tokgate/gguf_write.h"

#define N_LAYER 2
#define N_EMBD 64
#define N_HEAD 4
#define N_HEAD_KV 2
#define N_FF 128
#define N_CTX 4096
#define N_EMBD_KV (N_EMBD / N_HEAD * N_HEAD_KV)

typedef struct rng {
    uint64_t s;
} rng;

/* splitmix64 (Steele, Lea, Flood 2014). */
static uint64_t rng_next(rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_random(rng *r, float *p, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) {
        float u = (float)(rng_next(r) >> 40) / (float)(1u << 24); /* [0, 1) */
        p[i] = (u * 2.0f - 1.0f) * scale;
    }
}

typedef struct pool {
    float *bufs[64];
    size_t n;
} pool;

static float *pool_alloc(pool *p, size_t n) {
    if (p->n == sizeof p->bufs / sizeof p->bufs[0]) return NULL;
    float *b = malloc(n * sizeof *b);
    if (b) p->bufs[p->n++] = b;
    return b;
}

static void pool_free(pool *p) {
    for (size_t i = 0; i < p->n; i++) free(p->bufs[i]);
    p->n = 0;
}

/* Adds an F32 tensor of shape {d0, d1} (d1 = 0: 1-D), filled with ones
 * (scale 0) or random values in [-scale, scale). */
static tg_status add_f32(tg_gguf_writer *w, pool *pl, rng *r, const char *name, uint64_t d0, uint64_t d1,
                         float scale, tg_error *err) {
    uint64_t dims[2] = {d0, d1};
    size_t n = (size_t)(d0 * (d1 ? d1 : 1));
    float *p = pool_alloc(pl, n);
    if (!p) return tg_error_set(err, TG_ENOMEM, "tiny model: out of memory for %s", name);
    if (scale == 0.0f) {
        for (size_t i = 0; i < n; i++) p[i] = 1.0f;
    } else {
        fill_random(r, p, n, scale);
    }
    return tg_gguf_add_tensor(w, name, d1 ? 2 : 1, dims, 0 /* GGML_TYPE_F32 */, p, (uint64_t)n * 4, err);
}

static tg_status add_hparams(tg_gguf_writer *w, tg_error *err) {
    static const char name[] = "tokgate tiny random qwen2";
    tg_status st = tg_gguf_add_str(w, "general.architecture", "qwen2", 5, err);
    if (!st) st = tg_gguf_add_str(w, "general.name", name, sizeof name - 1, err);
    if (!st) st = tg_gguf_add_u32(w, "general.file_type", 0, err); /* LLAMA_FTYPE_ALL_F32 */
    if (!st) st = tg_gguf_add_u32(w, "qwen2.block_count", N_LAYER, err);
    if (!st) st = tg_gguf_add_u32(w, "qwen2.context_length", N_CTX, err);
    if (!st) st = tg_gguf_add_u32(w, "qwen2.embedding_length", N_EMBD, err);
    if (!st) st = tg_gguf_add_u32(w, "qwen2.feed_forward_length", N_FF, err);
    if (!st) st = tg_gguf_add_u32(w, "qwen2.attention.head_count", N_HEAD, err);
    if (!st) st = tg_gguf_add_u32(w, "qwen2.attention.head_count_kv", N_HEAD_KV, err);
    if (!st) st = tg_gguf_add_f32(w, "qwen2.rope.freq_base", 1000000.0f, err);
    if (!st) st = tg_gguf_add_f32(w, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f, err);
    return st;
}

static tg_status add_tensors(tg_gguf_writer *w, pool *pl, uint64_t n_vocab, uint64_t seed, tg_error *err) {
    rng r = {seed};
    const float s = 0.1f;
    tg_status st = add_f32(w, pl, &r, "token_embd.weight", N_EMBD, n_vocab, s, err);
    if (!st) st = add_f32(w, pl, &r, "output_norm.weight", N_EMBD, 0, 0.0f, err);
    if (!st) st = add_f32(w, pl, &r, "output.weight", N_EMBD, n_vocab, s, err);
    for (int l = 0; l < N_LAYER && !st; l++) {
        static const struct { const char *name; uint64_t d0, d1; int norm; } t[] = {
            {"attn_norm.weight", N_EMBD, 0, 1},
            {"attn_q.weight", N_EMBD, N_EMBD, 0},
            {"attn_k.weight", N_EMBD, N_EMBD_KV, 0},
            {"attn_v.weight", N_EMBD, N_EMBD_KV, 0},
            {"attn_q.bias", N_EMBD, 0, 0},
            {"attn_k.bias", N_EMBD_KV, 0, 0},
            {"attn_v.bias", N_EMBD_KV, 0, 0},
            {"attn_output.weight", N_EMBD, N_EMBD, 0},
            {"ffn_norm.weight", N_EMBD, 0, 1},
            {"ffn_gate.weight", N_EMBD, N_FF, 0},
            {"ffn_down.weight", N_FF, N_EMBD, 0},
            {"ffn_up.weight", N_EMBD, N_FF, 0},
        };
        for (size_t k = 0; k < sizeof t / sizeof t[0] && !st; k++) {
            char name[64];
            snprintf(name, sizeof name, "blk.%d.%s", l, t[k].name);
            st = add_f32(w, pl, &r, name, t[k].d0, t[k].d1, t[k].norm ? 0.0f : s, err);
        }
    }
    return st;
}

tg_status tg_gguf_write_tiny_model_ex(const tg_gguf *vocab_src, const tg_gguf_str *chat_template,
                                      const char *out_path, uint64_t seed, tg_error *err) {
    if (!vocab_src || !out_path) return tg_error_set(err, TG_EINVAL, "tiny model: no vocabulary or output path");
    tg_gguf_value toks;
    tg_status st = tg_gguf_get_array(vocab_src, "tokenizer.ggml.tokens", &toks, err);
    if (st) return tg_error_wrap(err, "tiny model: the vocabulary source has no token list");
    if (toks.elem_type != TG_GGUF_STRING || toks.n == 0)
        return tg_error_set(err, TG_EINVAL, "tiny model: tokenizer.ggml.tokens is not a non-empty string array");
    tg_gguf_writer *w = tg_gguf_writer_new();
    if (!w) return tg_error_set(err, TG_ENOMEM, "tiny model: out of memory");
    pool pl = {{0}, 0};
    st = add_hparams(w, err);
    for (size_t i = 0; i < tg_gguf_kv_count(vocab_src) && !st; i++) {
        tg_gguf_str k = tg_gguf_kv_key(vocab_src, i);
        if (k.len < 10 || memcmp(k.ptr, "tokenizer.", 10) != 0) continue;
        if (chat_template && tg__gguf_str_eq(k, "tokenizer.chat_template", 23)) continue;
        st = tg_gguf_add_kv_from(w, vocab_src, i, err);
    }
    if (!st && chat_template)
        st = tg_gguf_add_str(w, "tokenizer.chat_template", chat_template->ptr, chat_template->len, err);
    if (!st) st = add_tensors(w, &pl, toks.n, seed, err);
    if (!st) st = tg_gguf_writer_to_file(w, out_path, err);
    pool_free(&pl);
    tg_gguf_writer_free(w);
    return st;
}

tg_status tg_gguf_write_tiny_model(const tg_gguf *vocab_src, const char *out_path, uint64_t seed, tg_error *err) {
    return tg_gguf_write_tiny_model_ex(vocab_src, NULL, out_path, seed, err);
}
