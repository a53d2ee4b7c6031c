/*
 * tokenizer_config.c: what tokgate takes from transformers'
 * tokenizer_config.json: bos/eos/pad/unk token strings (a string or an
 * AddedToken object {"content": ...}), add_bos_token / add_eos_token, and
 * chat_template (a string, or a list of {"name", "template"} whose "default"
 * entry is the default). Other keys are ignored: they configure the Python
 * wrapper, not the tokenization tokgate reproduces.
 *
 * End-of-generation ids (as Oxide-Lab's extract_eos_ids collects them): the
 * eos token plus every added token whose content is a known end-of-turn
 * marker (<|eot_id|>, <|eom_id|>, <|im_end|>, <end_of_turn>, <|endoftext|>,
 * <|end|>, <|return|>, <|call|>, ...).
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/json_scan.h"
#include "tokenizer/tokenizer_internal.h"

void tg__config_free(tg__config *c) {
    free(c->bos_token);
    free(c->eos_token);
    free(c->chat_template);
    for (size_t i = 0; i < c->n_templates; i++) {
        free(c->template_names[i]);
        free(c->template_srcs[i]);
    }
    free(c->template_names);
    free(c->template_srcs);
    free(c->eog_ids);
    memset(c, 0, sizeof *c);
    c->bos_id = c->eos_id = c->pad_id = c->unk_id = TG__NO_ID;
    c->add_bos = c->add_eos = -1;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

static const char *token_str(const json_t *v) {
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_object(v)) return json_string_value(json_object_get(v, "content"));
    return NULL;
}

tg_status tg__config_parse(const char *json, size_t len, tg__config *cfg, tg_error *err) {
    json_error_t je;
    /* "added_tokens_decoder" (unused here; the added tokens come from
     * tokenizer.json) is most of a big config (Gemma-3: 1.1 MB, 6415
     * entries): validate the whole file with the fast scanner, then give
     * jansson the rest with that value cut to {} */
    size_t cs, ce;
    tg_status vst = tg__json_top_span(json, len, "added_tokens_decoder", &cs, &ce, err);
    if (vst) return vst;
    char *cut = NULL;
    if (ce > cs) {
        cut = malloc(len - (ce - cs) + 2);
        if (!cut) return tg_error_set(err, TG_ENOMEM, "out of memory");
        memcpy(cut, json, cs);
        cut[cs] = '{';
        cut[cs + 1] = '}';
        memcpy(cut + cs + 2, json + ce, len - ce);
        len = len - (ce - cs) + 2;
        json = cut;
    }
    /* model_max_length can exceed 64-bit integers; no integer is used here */
    json_t *root = json_loadb(json, len, JSON_DECODE_INT_AS_REAL, &je);
    free(cut);
    if (!root)
        return tg_error_set(err, TG_ECORRUPT, "not valid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
    tg_status st = TG_OK;
    if (!json_is_object(root)) {
        st = tg_error_set(err, TG_ECORRUPT, "must hold an object");
        goto done;
    }
    const char *b = token_str(json_object_get(root, "bos_token"));
    const char *e = token_str(json_object_get(root, "eos_token"));
    if (b && !(cfg->bos_token = dup_str(b))) goto oom;
    if (e && !(cfg->eos_token = dup_str(e))) goto oom;
    json_t *ab = json_object_get(root, "add_bos_token"), *ae = json_object_get(root, "add_eos_token");
    if (json_is_boolean(ab)) cfg->add_bos = json_is_true(ab);
    if (json_is_boolean(ae)) cfg->add_eos = json_is_true(ae);
    json_t *ct = json_object_get(root, "chat_template");
    if (json_is_string(ct)) {
        if (!(cfg->chat_template = dup_str(json_string_value(ct)))) goto oom;
    } else if (json_is_array(ct)) {
        size_t n = json_array_size(ct);
        cfg->template_names = calloc(n ? n : 1, sizeof(char *));
        cfg->template_srcs = calloc(n ? n : 1, sizeof(char *));
        if (!cfg->template_names || !cfg->template_srcs) goto oom;
        for (size_t i = 0; i < n; i++) {
            json_t *x = json_array_get(ct, i);
            const char *nm = json_string_value(json_object_get(x, "name"));
            const char *tp = json_string_value(json_object_get(x, "template"));
            if (!nm || !tp) {
                st = tg_error_set(err, TG_ECORRUPT, "chat_template entry %zu needs \"name\" and \"template\" strings", i);
                goto done;
            }
            cfg->template_names[cfg->n_templates] = dup_str(nm);
            cfg->template_srcs[cfg->n_templates] = dup_str(tp);
            if (!cfg->template_names[cfg->n_templates] || !cfg->template_srcs[cfg->n_templates]) {
                free(cfg->template_names[cfg->n_templates]);
                free(cfg->template_srcs[cfg->n_templates]);
                goto oom;
            }
            cfg->n_templates++;
        }
    } else if (ct && !json_is_null(ct)) {
        st = tg_error_set(err, TG_ECORRUPT, "chat_template must be a string or a list of {name, template}");
    }
    goto done;
oom:
    st = tg_error_set(err, TG_ENOMEM, "out of memory");
done:
    json_decref(root);
    if (st) tg__config_free(cfg); /* on failure cfg holds nothing */
    return st;
}

static const char *const EOG_NAMES[] = {
    "<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<end_of_turn>", "<|endoftext|>", "<|end|>",
    "<|end_of_text|>", "<|return|>", "<|call|>", "<|EOT|>", "<eos>", "</s>", "<|eos|>",
    "<|end_of_turn|>", "<|end\xE2\x96\x81of\xE2\x96\x81sentence|>", NULL};

static void add_eog(tg__config *c, uint32_t id) {
    if (id == TG__NO_ID) return;
    for (size_t i = 0; i < c->n_eog; i++)
        if (c->eog_ids[i] == id) return;
    uint32_t *p = realloc(c->eog_ids, (c->n_eog + 1) * sizeof *p);
    if (!p) return;
    c->eog_ids = p;
    c->eog_ids[c->n_eog++] = id;
}

void tg__config_resolve(tg_tokenizer *t) {
    tg__config *c = &t->cfg;
    if (c->bos_token && c->bos_id == TG__NO_ID)
        c->bos_id = tg_tokenizer_token_id(t, c->bos_token, strlen(c->bos_token));
    if (c->eos_token && c->eos_id == TG__NO_ID)
        c->eos_id = tg_tokenizer_token_id(t, c->eos_token, strlen(c->eos_token));
    add_eog(c, c->eos_id);
    for (size_t i = 0; i < t->added.n; i++) {
        const tg__added_token *k = &t->added.tokens[i];
        for (size_t j = 0; EOG_NAMES[j]; j++)
            if (strlen(EOG_NAMES[j]) == k->content_len && memcmp(EOG_NAMES[j], k->content, k->content_len) == 0)
                add_eog(c, k->id);
    }
}
