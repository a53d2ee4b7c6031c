/*
 * template/chat_gguf.c: chat templates from a GGUF file's metadata.
 *
 * tokenizer.chat_template is the default template; tokenizer.chat_template.<name>
 * are named ones (llama.cpp's convert script writes "tool_use" and others this
 * way). The special tokens are the vocabulary entries
 * tokenizer.ggml.tokens[tokenizer.ggml.bos_token_id] and [eos_token_id]
 * ("" when an id is absent or out of range), which is what llama-server puts in
 * the template context. The file is read through the bounds-checked reader
 * (tokgate/gguf.h); its strings are copied before the file is closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/chat.h"
#include "tokgate/gguf.h"

int tg__j_chat_is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[4];
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

static tg_status special_token(const tg_gguf *g, const char *id_key, char **dst, tg_error *err) {
    uint64_t id;
    tg_gguf_str s = {"", 0};
    tg_gguf_value tokens;
    if (tg_gguf_get_u64(g, id_key, &id, NULL) == TG_OK &&
        tg_gguf_get_array(g, "tokenizer.ggml.tokens", &tokens, NULL) == TG_OK && id < tokens.n &&
        tokens.elem_type == TG_GGUF_STRING) {
        if (tg_gguf_array_str(g, &tokens, id, &s) != TG_OK) s.len = 0;
    }
    if (tg__j_chat_set_token(dst, s.len ? s.ptr : "", s.len)) return tg_error_set(err, TG_ENOMEM, "out of memory");
    return TG_OK;
}

tg_status tg__j_chat_from_gguf(const char *path, tg_chat **out, tg_error *err) {
    tg_gguf *g = NULL;
    tg_status st = tg_gguf_open_file(path, &g, err);
    if (st) return st;
    tg_chat *c = tg__j_chat_new();
    if (!c) { tg_gguf_close(g); return tg_error_set(err, TG_ENOMEM, "out of memory"); }
    static const char prefix[] = "tokenizer.chat_template";
    const size_t plen = sizeof prefix - 1;
    tg_gguf_str src;
    if (tg_gguf_get_str(g, prefix, &src, NULL) == TG_OK)
        st = tg__j_chat_add(c, "default", src.ptr, src.len, err);
    for (size_t i = 0; !st && i < tg_gguf_kv_count(g); i++) {
        tg_gguf_str k = tg_gguf_kv_key(g, i);
        if (k.len <= plen + 1 || memcmp(k.ptr, prefix, plen) != 0 || k.ptr[plen] != '.') continue;
        tg_gguf_value v = tg_gguf_kv_value(g, i);
        if (v.type != TG_GGUF_STRING) continue;
        char name[256];
        size_t nl = k.len - plen - 1 < sizeof name - 1 ? k.len - plen - 1 : sizeof name - 1;
        memcpy(name, k.ptr + plen + 1, nl);
        name[nl] = '\0';
        char key[300];
        snprintf(key, sizeof key, "%s.%s", prefix, name);
        if (tg_gguf_get_str(g, key, &src, NULL) == TG_OK) st = tg__j_chat_add(c, name, src.ptr, src.len, err);
    }
    if (!st && c->n == 0)
        st = tg_error_set(err, TG_ENOTFOUND, "%s: no tokenizer.chat_template in the GGUF metadata", path);
    if (!st) st = special_token(g, "tokenizer.ggml.bos_token_id", &c->bos, err);
    if (!st) st = special_token(g, "tokenizer.ggml.eos_token_id", &c->eos, err);
    tg_gguf_close(g);
    if (st) { tg_chat_free(c); return st; }
    *out = c;
    return TG_OK;
}
