/*
 * model/load.c: tg_model_load, a profile from a path of any kind tokgate
 * reads: a GGUF file (recognised by its "GGUF" magic, not its name), an HF
 * model directory, or a config.json file.
 *
 * For a directory the profile is completed from the files beside
 * config.json when they are there:
 *   tokenizer_config.json  chat_template present -> has_chat_template = 1
 *   chat_template.jinja / chat_template.json     -> has_chat_template = 1
 *   tokenizer.json         model.type ("BPE", "Unigram", ...) and the token
 *                          count: the largest id in model.vocab and
 *                          added_tokens, plus one
 *   model.safetensors.index.json  metadata.total_size -> weights_bytes
 *   generation_config.json  eos_token_id -> more end-of-generation ids
 * The name is the directory's (or, for a file named config.json, its parent
 * directory's) base name: "Qwen3-32B" says more than "Qwen3ForCausalLM".
 */
#include "model/model_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/file.h"

#define TG_MODEL_MAX_TOKENIZER_JSON (512u << 20)

static void join(char *out, size_t cap, const char *dir, const char *name) {
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;
    snprintf(out, cap, "%.*s/%s", (int)dl, dir, name);
}

/* Base name of `path` without trailing slashes, into out. */
static void base_name(char *out, size_t cap, const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t s = n;
    while (s > 0 && path[s - 1] != '/') s--;
    tg__copy_name(out, cap, path + s, n - s);
}

static json_t *load_json(const char *path, size_t max) {
    tgx_buf b;
    tgx_buf_init(&b, max);
    json_t *j = NULL;
    if (tgx_read_file(path, max, &b, NULL) == TG_OK)
        j = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
    tgx_buf_free(&b);
    return j;
}

static void tokenizer_summary(const char *dir, tg_model_profile *p) {
    char path[4096];
    join(path, sizeof path, dir, "tokenizer_config.json");
    json_t *tc = load_json(path, TG_MODEL_MAX_CONFIG);
    if (tc) {
        json_t *ct = json_object_get(tc, "chat_template");
        p->has_chat_template = (json_is_string(ct) || (json_is_array(ct) && json_array_size(ct) > 0)) ? 1 : 0;
        json_decref(tc);
    }
    join(path, sizeof path, dir, "chat_template.jinja");
    if (tgx_file_exists(path)) p->has_chat_template = 1;
    join(path, sizeof path, dir, "chat_template.json");
    if (tgx_file_exists(path)) p->has_chat_template = 1;

    join(path, sizeof path, dir, "tokenizer.json");
    json_t *tj = tgx_file_exists(path) ? load_json(path, TG_MODEL_MAX_TOKENIZER_JSON) : NULL;
    if (tj) {
        json_t *model = json_object_get(tj, "model");
        const char *type = json_string_value(json_object_get(model, "type"));
        if (type) tg__copy_name(p->tokenizer_model, sizeof p->tokenizer_model, type, strlen(type));
        uint64_t next = 0;
        json_t *vocab = json_object_get(model, "vocab");
        const char *k;
        json_t *v;
        size_t i;
        if (json_is_object(vocab)) {
            json_object_foreach(vocab, k, v) {
                if (json_is_integer(v) && json_integer_value(v) >= 0 &&
                    (uint64_t)json_integer_value(v) + 1 > next)
                    next = (uint64_t)json_integer_value(v) + 1;
            }
        } else if (json_is_array(vocab)) { /* Unigram: [[piece, score], ...] */
            next = json_array_size(vocab);
        }
        json_array_foreach(json_object_get(tj, "added_tokens"), i, v) {
            json_t *id = json_object_get(v, "id");
            if (json_is_integer(id) && json_integer_value(id) >= 0 &&
                (uint64_t)json_integer_value(id) + 1 > next)
                next = (uint64_t)json_integer_value(id) + 1;
        }
        p->tokenizer_tokens = next;
        json_decref(tj);
    }

    join(path, sizeof path, dir, "generation_config.json");
    json_t *gc = tgx_file_exists(path) ? load_json(path, TG_MODEL_MAX_CONFIG) : NULL;
    if (gc) {
        tg__profile_add_eog_json(p, gc, "generation_config.json");
        json_decref(gc);
    }

    join(path, sizeof path, dir, "model.safetensors.index.json");
    json_t *ix = tgx_file_exists(path) ? load_json(path, TG_MODEL_MAX_CONFIG) : NULL;
    if (ix) {
        json_t *ts = json_object_get(json_object_get(ix, "metadata"), "total_size");
        if (json_is_integer(ts) && json_integer_value(ts) > 0)
            p->weights_bytes = (uint64_t)json_integer_value(ts);
        json_decref(ix);
    }
}

static tg_status load_config_file(const char *path, tg_model_profile *out, tg_error *err) {
    tgx_buf b;
    tgx_buf_init(&b, TG_MODEL_MAX_CONFIG);
    tg_status st = tgx_read_file(path, TG_MODEL_MAX_CONFIG, &b, err);
    if (st == TG_OK) st = tg_model_from_hf_config(b.data ? b.data : "", b.len, out, err);
    tgx_buf_free(&b);
    if (st != TG_OK) tg_error_wrap(err, "%s", path);
    return st;
}

tg_status tg_model_load(const char *path, tg_model_profile *out, tg_error *err) {
    tg__profile_init(out, TG_MODEL_SRC_HF_CONFIG);
    if (!path || !path[0]) return tg_error_set(err, TG_EINVAL, "empty model path");
    char cfg[4096];
    if (tgx_is_dir(path)) {
        join(cfg, sizeof cfg, path, "config.json");
        if (!tgx_file_exists(cfg))
            return tg_error_set(err, TG_ENOTFOUND, "%s: a model directory needs a config.json", path);
        tg_status st = load_config_file(cfg, out, err);
        if (st != TG_OK) return st;
        base_name(out->name, sizeof out->name, path);
        tokenizer_summary(path, out);
        return TG_OK;
    }
    if (!tgx_file_exists(path)) return tg_error_set(err, TG_EIO, "%s: no such file or directory", path);

    char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return tg_error_set(err, TG_EIO, "%s: cannot open", path);
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    if (got == 4 && memcmp(magic, "GGUF", 4) == 0) return tg__model_from_gguf_file(path, out, err);
    tg_status st = load_config_file(path, out, err);
    if (st != TG_OK) return st;
    char base[64];
    base_name(base, sizeof base, path);
    if (strcmp(base, "config.json") == 0) {
        /* the parent directory names the model */
        size_t n = strlen(path);
        while (n > 0 && path[n - 1] != '/') n--;
        while (n > 1 && path[n - 1] == '/') n--;
        if (n > 0 && n < sizeof cfg) {
            memcpy(cfg, path, n);
            cfg[n] = '\0';
            if (strcmp(cfg, ".") != 0 && strcmp(cfg, "/") != 0) base_name(out->name, sizeof out->name, cfg);
            tokenizer_summary(cfg, out);
        }
    }
    return TG_OK;
}
