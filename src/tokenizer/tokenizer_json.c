/*
 * tokenizer_json.c: loading HF tokenizer.json (and the tokenizer_config.json
 * beside it) into a tg_tokenizer through tg__tokenizer_build.
 *
 * Layout (HF tokenizers' serialization):
 *   { "version", "truncation": null, "padding": null,
 *     "added_tokens": [ {id, content, single_word, lstrip, rstrip,
 *                        normalized, special}, ... ],
 *     "normalizer", "pre_tokenizer", "post_processor", "decoder",
 *     "model": { "type": "BPE", "dropout": null, "unk_token",
 *                "continuing_subword_prefix", "end_of_word_suffix",
 *                "fuse_unk", "byte_fallback", "ignore_merges",
 *                "vocab": {token: id}, "merges": ["a b", ...] or [[a, b], ...] } }
 * Only BPE models are supported (WordPiece, WordLevel, Unigram are refused);
 * dropout must be null; truncation and padding must be null (they change
 * what encode returns). Unknown keys in the model are refused by name.
 *
 * Parsing: json_scan.c validates the document and decodes model.vocab and
 * model.merges (nearly all of the bytes) straight into arrays; the rest, with
 * those two values blanked to {} and [], goes to jansson. A DOM parse of the
 * whole file would cost 10x more (Qwen3's 11 MB: ~200 ms with jansson).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/tokenizer_internal.h"
#include "tokenizer/json_scan.h"
#include "util/file.h"

/* The model's small fields from jansson; vocab and merges were decoded by
 * json_scan.c and are already in spec. */
static tg_status load_model(const json_t *m, tg__bpe_spec *spec, tg_error *err) {
    tg_status st;
    if (!json_is_object(m)) return tg_error_set(err, TG_ECORRUPT, "\"model\" must be an object");
    const char *type = json_string_value(json_object_get(m, "type"));
    if (type && strcmp(type, "BPE") != 0)
        return tg_error_set(err, TG_EUNSUPPORTED, "model type \"%s\" is not supported (only BPE)", type);
    if (!type && !json_object_get(m, "merges"))
        return tg_error_set(err, TG_EUNSUPPORTED, "model without \"type\" or \"merges\" is not supported (only BPE)");
    static const char *const keys[] = {"type", "dropout", "unk_token", "continuing_subword_prefix",
                                       "end_of_word_suffix", "fuse_unk", "byte_fallback",
                                       "ignore_merges", "vocab", "merges", NULL};
    if ((st = tg__check_keys(m, keys, "BPE model", err))) return st;
    json_t *dropout = json_object_get(m, "dropout");
    if (dropout && !json_is_null(dropout))
        return tg_error_set(err, TG_EUNSUPPORTED, "BPE dropout must be null (it makes encode random)");
    if (!json_is_object(json_object_get(m, "vocab")))
        return tg_error_set(err, TG_ECORRUPT, "model \"vocab\" must be an object");
    json_t *merges = json_object_get(m, "merges");
    if (merges && !json_is_array(merges)) return tg_error_set(err, TG_ECORRUPT, "model \"merges\" must be an array");
    json_t *unk = json_object_get(m, "unk_token");
    if (json_is_string(unk)) {
        spec->unk_token.p = json_string_value(unk);
        spec->unk_token.n = json_string_length(unk);
    } else if (unk && !json_is_null(unk)) {
        return tg_error_set(err, TG_ECORRUPT, "model \"unk_token\" must be a string or null");
    }
    json_t *cp = json_object_get(m, "continuing_subword_prefix"), *ew = json_object_get(m, "end_of_word_suffix");
    if (json_is_string(cp)) {
        spec->continuing_subword_prefix.p = json_string_value(cp);
        spec->continuing_subword_prefix.n = json_string_length(cp);
    }
    if (json_is_string(ew)) {
        spec->end_of_word_suffix.p = json_string_value(ew);
        spec->end_of_word_suffix.n = json_string_length(ew);
    }
    spec->fuse_unk = json_is_true(json_object_get(m, "fuse_unk"));
    spec->byte_fallback = json_is_true(json_object_get(m, "byte_fallback"));
    spec->ignore_merges = json_is_true(json_object_get(m, "ignore_merges"));
    return TG_OK;
}

static tg_status load_added(const json_t *arr, tg__added_spec **out, size_t *n, tg_error *err) {
    *out = NULL;
    *n = 0;
    if (!arr || json_is_null(arr)) return TG_OK;
    if (!json_is_array(arr)) return tg_error_set(err, TG_ECORRUPT, "\"added_tokens\" must be an array");
    size_t cnt = json_array_size(arr);
    tg__added_spec *a = calloc(cnt ? cnt : 1, sizeof *a);
    if (!a) return tg_error_set(err, TG_ENOMEM, "out of memory");
    *out = a;
    for (size_t i = 0; i < cnt; i++) {
        json_t *e = json_array_get(arr, i);
        json_t *id = json_object_get(e, "id"), *c = json_object_get(e, "content");
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) >= (json_int_t)TG__MAX_VOCAB ||
            !json_is_string(c))
            return tg_error_set(err, TG_ECORRUPT, "added token %zu needs an \"id\" in [0, %u) and a \"content\" string",
                                i, (unsigned)TG__MAX_VOCAB);
        a[i].id = (uint32_t)json_integer_value(id);
        a[i].content.p = json_string_value(c);
        a[i].content.n = json_string_length(c);
        a[i].special = json_is_true(json_object_get(e, "special"));
        a[i].lstrip = json_is_true(json_object_get(e, "lstrip"));
        a[i].rstrip = json_is_true(json_object_get(e, "rstrip"));
        a[i].single_word = json_is_true(json_object_get(e, "single_word"));
        json_t *nz = json_object_get(e, "normalized");
        /* HF's AddedToken default: normalized = !special */
        a[i].normalized = nz ? json_is_true(nz) : !a[i].special;
    }
    *n = cnt;
    return TG_OK;
}

tg_status tg__tokenizer_from_json_buf(const char *json, size_t len, const char *config_json,
                                      size_t config_len, tg_tokenizer **out, tg_error *err) {
    tg_error local;
    if (!err) err = &local;
    tg__json_spans sp;
    tg_status st = tg__json_locate(json, len, &sp, err);
    if (st) return st;
    tg__bpe_spec spec;
    memset(&spec, 0, sizeof spec);
    json_t *root = NULL;
    tg__added_spec *added = NULL;
    size_t n_added = 0;
    tg__config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bos_id = cfg.eos_id = cfg.pad_id = cfg.unk_id = TG__NO_ID;
    cfg.add_bos = cfg.add_eos = -1;

    /* rest = the document with the vocab and merges values cut to {} and [] */
    size_t cut_bytes = (sp.vocab_end - sp.vocab_start) + (sp.merges_end - sp.merges_start);
    char *rest = malloc(len - cut_bytes + 8);
    size_t rl = 0;
    if (!rest) {
        tg__json_spans_free(&sp);
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    {
        size_t cuts[2][2] = {{sp.vocab_start, sp.vocab_end}, {sp.merges_start, sp.merges_end}};
        const char *repl[2] = {"{}", "[]"};
        int order[2] = {0, 1};
        if (sp.merges_end && sp.vocab_end && sp.merges_start < sp.vocab_start) { order[0] = 1; order[1] = 0; }
        size_t pos = 0;
        for (int k = 0; k < 2; k++) {
            int w = order[k];
            if (!cuts[w][1]) continue;
            memcpy(rest + rl, json + pos, cuts[w][0] - pos);
            rl += cuts[w][0] - pos;
            memcpy(rest + rl, repl[w], 2);
            rl += 2;
            pos = cuts[w][1];
        }
        memcpy(rest + rl, json + pos, len - pos);
        rl += len - pos;
    }
    if (sp.have_vocab) {
        spec.tokens = &sp.vocab;
        spec.n_vocab = sp.vocab.count;
    }
    spec.merge_refs = sp.merges; /* NULL only with no merges */
    spec.merge_src = json;
    spec.merge_pool = sp.merges_pool;
    spec.n_merges = sp.n_merges;
    json_error_t je;
    root = json_loadb(rest, rl, 0, &je);
    if (!root) {
        st = tg_error_set(err, TG_ECORRUPT, "tokenizer.json is not valid JSON: %s (line %d, column %d)",
                          je.text, je.line, je.column);
        goto done;
    }
    if (!json_is_object(root)) {
        st = tg_error_set(err, TG_ECORRUPT, "tokenizer.json must hold an object");
        goto done;
    }
    static const char *const keys[] = {"version", "truncation", "padding", "added_tokens", "normalizer",
                                       "pre_tokenizer", "post_processor", "decoder", "model", NULL};
    if ((st = tg__check_keys(root, keys, "tokenizer.json", err))) goto done;
    json_t *tr = json_object_get(root, "truncation"), *pd = json_object_get(root, "padding");
    if ((tr && !json_is_null(tr)) || (pd && !json_is_null(pd))) {
        st = tg_error_set(err, TG_EUNSUPPORTED, "tokenizer.json: %s must be null (it changes what encode returns)",
                          tr && !json_is_null(tr) ? "truncation" : "padding");
        goto done;
    }
    if ((st = load_model(json_object_get(root, "model"), &spec, err))) {
        tg_error_wrap(err, "tokenizer.json model");
        goto done;
    }
    if ((st = load_added(json_object_get(root, "added_tokens"), &added, &n_added, err))) goto done;
    if (config_json && (st = tg__config_parse(config_json, config_len, &cfg, err))) {
        tg_error_wrap(err, "tokenizer_config.json");
        goto done;
    }
    st = tg__tokenizer_build_ex(&spec, added, n_added, json_object_get(root, "normalizer"),
                                json_object_get(root, "pre_tokenizer"), json_object_get(root, "post_processor"),
                                json_object_get(root, "decoder"), &cfg, TG__BUILD_HF_ADDED_IDS, out, err);
    if (st) tg_error_wrap(err, "tokenizer.json");
done:
    tg__config_free(&cfg);
    tg__json_spans_free(&sp);
    free(added);
    free(rest);
    json_decref(root);
    return st;
}

tg_status tg_tokenizer_load_buffer(const char *json, size_t len, const char *config_json,
                                   size_t config_len, tg_tokenizer **out, tg_error *err) {
    return tg__tokenizer_from_json_buf(json, len, config_json, config_len, out, err);
}

#define MAX_JSON_BYTES ((size_t)1 << 30)

static tg_status read_opt(const char *path, tgx_buf *b, int *present, tg_error *err) {
    *present = 0;
    if (!tgx_file_exists(path)) return TG_OK;
    tg_status st = tgx_read_file(path, MAX_JSON_BYTES, b, err);
    if (st) return st;
    *present = 1;
    return TG_OK;
}

tg_status tg_tokenizer_load(const char *path, tg_tokenizer **out, tg_error *err) {
    tg_error local;
    if (!err) err = &local;
    if (!path || !out) return tg_error_set(err, TG_EINVAL, "tg_tokenizer_load: NULL argument");
    size_t pl = strlen(path);
    if (pl > 4000) return tg_error_set(err, TG_ELIMIT, "path of %zu bytes exceeds 4000", pl);
    char dir[4096], file[4200], cfgp[4200];
    if (tgx_is_dir(path)) {
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(file, sizeof file, "%s/tokenizer.json", path);
        if (!tgx_file_exists(file))
            return tg_error_set(err, TG_ENOTFOUND, "%s holds no tokenizer.json", path);
    } else {
        snprintf(file, sizeof file, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
    }
    tgx_map m;
    tg_status st = tgx_map_file(file, &m, err);
    if (st) return st;
    if (m.size >= 4 && memcmp(m.data, "GGUF", 4) == 0) {
        st = tg__tokenizer_from_gguf_buf(m.data, m.size, out, err);
        tgx_unmap(&m);
        if (st) tg_error_wrap(err, "%s", file);
        return st;
    }
    snprintf(cfgp, sizeof cfgp, "%s/tokenizer_config.json", dir);
    tgx_buf cb;
    tgx_buf_init(&cb, MAX_JSON_BYTES);
    int have_cfg = 0;
    if ((st = read_opt(cfgp, &cb, &have_cfg, err))) {
        tgx_unmap(&m);
        tgx_buf_free(&cb);
        return st;
    }
    st = tg__tokenizer_from_json_buf((const char *)m.data, m.size, have_cfg ? (cb.data ? cb.data : "") : NULL,
                                     cb.len, out, err);
    tgx_unmap(&m);
    tgx_buf_free(&cb);
    if (st) tg_error_wrap(err, "%s", file);
    return st;
}
