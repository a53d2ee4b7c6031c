/*
 * test_tiny_writer.c: tests for src/gguf/tiny_model.c, and the tool the shell
 * test uses to write the model.
 *
 * As a test (no arguments): writes the tiny qwen2 model from llama.cpp's
 * ggml-vocab-qwen2.gguf and reads it back: every `tokenizer.*` pair of the
 * source is present with identical bytes, the qwen2 hyperparameters are the
 * ones FIXTURES.md asks for, the tensor set and shapes are those llama.cpp's
 * qwen2 loader creates (src/models/qwen2.cpp; names from src/llama-arch.cpp),
 * output.weight differs from token_embd.weight, and the same seed gives the
 * same bytes while another seed does not. Whether llama-server really serves
 * it is tests/gguf/test_tiny_model.sh's job.
 *
 * As a tool: `gguf_test_tiny_writer --write OUT [VOCAB.gguf [SEED [TEMPLATE]]]`
 * writes the model (VOCAB defaults to the qwen2 vocab fixture, SEED to 42;
 * TEMPLATE is a file whose text replaces the chat template).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_test.h"
#include "tokgate/gguf.h"
#include "tokgate/gguf_write.h"
#include "util/buf.h"
#include "util/file.h"

static int write_tool(int argc, char **argv) {
    const char *out = argv[2];
    const char *vocab = argc > 3 ? argv[3] : tg_fixture("llama.cpp/models/ggml-vocab-qwen2.gguf");
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 42;
    tg_error err;
    tg_gguf *src = NULL;
    if (tg_gguf_open_file(vocab, &src, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    tgx_buf tmpl = {0};
    tg_gguf_str t = {NULL, 0};
    if (argc > 5) {
        if (tgx_read_file(argv[5], (size_t)1 << 24, &tmpl, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            tg_gguf_close(src);
            return 1;
        }
        t.ptr = tmpl.data;
        t.len = tmpl.len;
    }
    tg_status st = tg_gguf_write_tiny_model_ex(src, argc > 5 ? &t : NULL, out, seed, &err);
    if (st) fprintf(stderr, "%s\n", err.msg);
    tgx_buf_free(&tmpl);
    tg_gguf_close(src);
    return st ? 1 : 0;
}

static char path_a[4096], path_b[4096], path_c[4096];

static void test_tiny_model(void) {
    tg_error err;
    tg_gguf *src = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_file(tg_fixture("llama.cpp/models/ggml-vocab-qwen2.gguf"), &src, &err), TG_OK);
    if (!src) return;
    TG_CHECK_EQ_I(tg_gguf_write_tiny_model(src, path_a, 42, &err), TG_OK);
    tg_gguf *g = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_file(path_a, &g, &err), TG_OK);
    if (!g) {
        tg_gguf_close(src);
        return;
    }
    /* Every tokenizer.* pair, byte for byte. */
    size_t copied = 0;
    for (size_t i = 0; i < tg_gguf_kv_count(src); i++) {
        tg_gguf_str k = tg_gguf_kv_key(src, i);
        if (k.len < 10 || memcmp(k.ptr, "tokenizer.", 10) != 0) continue;
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)k.len, k.ptr);
        long j = tg_gguf_find(g, key);
        TG_CHECK(j >= 0);
        if (j < 0) continue;
        tg_gguf_value a = tg_gguf_kv_value(src, i), b = tg_gguf_kv_value(g, (size_t)j);
        TG_CHECK(a.type == b.type && a.n == b.n && a.end - a.p == b.end - b.p &&
                 memcmp(a.p, b.p, (size_t)(a.end - a.p)) == 0);
        copied++;
    }
    TG_CHECK(copied >= 7); /* model, pre, tokens, token_type, merges, ids, chat_template */
    TG_CHECK(tg_gguf_find(g, "tokenizer.chat_template") >= 0);

    static const struct { const char *key; uint64_t v; } hp[] = {
        {"qwen2.block_count", 2}, {"qwen2.context_length", 4096}, {"qwen2.embedding_length", 64},
        {"qwen2.feed_forward_length", 128}, {"qwen2.attention.head_count", 4},
        {"qwen2.attention.head_count_kv", 2}, {"general.file_type", 0},
    };
    for (size_t i = 0; i < sizeof hp / sizeof hp[0]; i++) {
        uint64_t v = 99;
        TG_CHECK_EQ_I(tg_gguf_get_u64(g, hp[i].key, &v, &err), TG_OK);
        TG_CHECK_EQ_U(v, hp[i].v);
    }
    tg_gguf_str arch;
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "general.architecture", &arch, &err), TG_OK);
    TG_CHECK(arch.len == 5 && memcmp(arch.ptr, "qwen2", 5) == 0);

    /* Tensors as llama.cpp's qwen2 loader creates them: {n_embd, n_vocab} etc. */
    tg_gguf_value toks;
    TG_CHECK_EQ_I(tg_gguf_get_array(src, "tokenizer.ggml.tokens", &toks, &err), TG_OK);
    uint64_t nv = toks.n;
    struct { const char *name; uint64_t d0, d1; } want[40];
    size_t nw = 0;
    want[nw].name = "token_embd.weight"; want[nw].d0 = 64; want[nw++].d1 = nv;
    want[nw].name = "output_norm.weight"; want[nw].d0 = 64; want[nw++].d1 = 0;
    want[nw].name = "output.weight"; want[nw].d0 = 64; want[nw++].d1 = nv;
    static const struct { const char *name; uint64_t d0, d1; } layer[] = {
        {"attn_norm.weight", 64, 0}, {"attn_q.weight", 64, 64}, {"attn_k.weight", 64, 32},
        {"attn_v.weight", 64, 32}, {"attn_q.bias", 64, 0}, {"attn_k.bias", 32, 0}, {"attn_v.bias", 32, 0},
        {"attn_output.weight", 64, 64}, {"ffn_norm.weight", 64, 0}, {"ffn_gate.weight", 64, 128},
        {"ffn_down.weight", 128, 64}, {"ffn_up.weight", 64, 128},
    };
    static char names[2][12][64];
    for (int l = 0; l < 2; l++)
        for (size_t k = 0; k < 12; k++) {
            snprintf(names[l][k], sizeof names[l][k], "blk.%d.%s", l, layer[k].name);
            want[nw].name = names[l][k];
            want[nw].d0 = layer[k].d0;
            want[nw++].d1 = layer[k].d1;
        }
    TG_CHECK_EQ_U(tg_gguf_tensor_count(g), nw);
    for (size_t i = 0; i < nw; i++) {
        long ti = tg_gguf_find_tensor(g, want[i].name);
        TG_CHECK(ti >= 0);
        if (ti < 0) {
            fprintf(stderr, "missing tensor %s\n", want[i].name);
            continue;
        }
        const tg_gguf_tensor *t = tg_gguf_tensor_at(g, (size_t)ti);
        TG_CHECK_EQ_U(t->type, 0);
        TG_CHECK_EQ_U(t->n_dims, want[i].d1 ? 2 : 1);
        TG_CHECK_EQ_U(t->dims[0], want[i].d0);
        if (want[i].d1) TG_CHECK_EQ_U(t->dims[1], want[i].d1);
        TG_CHECK_EQ_U(t->n_bytes, want[i].d0 * (want[i].d1 ? want[i].d1 : 1) * 4);
    }
    /* Untied output, unit norms. */
    tgx_map m = {0};
    TG_CHECK_EQ_I(tgx_map_file(path_a, &m, &err), TG_OK);
    const tg_gguf_tensor *te = tg_gguf_tensor_at(g, (size_t)tg_gguf_find_tensor(g, "token_embd.weight"));
    const tg_gguf_tensor *to = tg_gguf_tensor_at(g, (size_t)tg_gguf_find_tensor(g, "output.weight"));
    const tg_gguf_tensor *tn = tg_gguf_tensor_at(g, (size_t)tg_gguf_find_tensor(g, "output_norm.weight"));
    if (m.data && te && to && tn) {
        const uint8_t *d = m.data + tg_gguf_data_offset(g);
        TG_CHECK(memcmp(d + te->offset, d + to->offset, (size_t)te->n_bytes) != 0);
        float one;
        memcpy(&one, d + tn->offset, 4);
        TG_CHECK(one == 1.0f);
    }
    tgx_unmap(&m);
    tg_gguf_close(g);

    /* Determinism: same seed, same bytes; another seed, other bytes. */
    TG_CHECK_EQ_I(tg_gguf_write_tiny_model(src, path_b, 42, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_write_tiny_model(src, path_c, 43, &err), TG_OK);
    tgx_buf a, b, c;
    TG_CHECK_EQ_I(tgx_read_file(path_a, (size_t)1 << 30, &a, &err), TG_OK);
    TG_CHECK_EQ_I(tgx_read_file(path_b, (size_t)1 << 30, &b, &err), TG_OK);
    TG_CHECK_EQ_I(tgx_read_file(path_c, (size_t)1 << 30, &c, &err), TG_OK);
    TG_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    TG_CHECK(a.len == c.len && memcmp(a.data, c.data, a.len) != 0);
    tgx_buf_free(&a);
    tgx_buf_free(&b);
    tgx_buf_free(&c);

    /* A replacement chat template. */
    tg_gguf_str tmpl = {"{{ messages[0].content }}", 25};
    TG_CHECK_EQ_I(tg_gguf_write_tiny_model_ex(src, &tmpl, path_b, 1, &err), TG_OK);
    g = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_file(path_b, &g, &err), TG_OK);
    tg_gguf_str s;
    if (g) {
        TG_CHECK_EQ_I(tg_gguf_get_str(g, "tokenizer.chat_template", &s, &err), TG_OK);
        TG_CHECK(s.len == 25 && memcmp(s.ptr, tmpl.ptr, 25) == 0);
    }
    tg_gguf_close(g);

    /* A source without tokens is refused. */
    tg_gguf_writer *w = tg_gguf_writer_new();
    tg_gguf_add_str(w, "general.architecture", "x", 1, &err);
    void *mem = NULL;
    size_t len = 0;
    TG_CHECK_EQ_I(tg_gguf_writer_to_memory(w, &mem, &len, &err), TG_OK);
    tg_gguf *empty = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_buffer(mem, len, &empty, &err), TG_OK);
    if (empty) {
        TG_CHECK_EQ_I(tg_gguf_write_tiny_model(empty, path_c, 1, &err), TG_ENOTFOUND);
        TG_CHECK_CONTAINS(err.msg, "tokenizer.ggml.tokens");
    }
    tg_gguf_close(empty);
    free(mem);
    tg_gguf_writer_free(w);
    tg_gguf_close(src);
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--write") == 0) return write_tool(argc, argv);
    const char *bd = getenv("TG_BUILD_DIR");
    int pid = (int)getpid();
    snprintf(path_a, sizeof path_a, "%s/tiny_a_%d.gguf", bd ? bd : "/tmp", pid);
    snprintf(path_b, sizeof path_b, "%s/tiny_b_%d.gguf", bd ? bd : "/tmp", pid);
    snprintf(path_c, sizeof path_c, "%s/tiny_c_%d.gguf", bd ? bd : "/tmp", pid);
    TG_RUN(test_tiny_model);
    unlink(path_a);
    unlink(path_b);
    unlink(path_c);
    return tg_test_summary();
}
