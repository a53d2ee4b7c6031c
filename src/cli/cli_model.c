/* cli/cli_model.c: shared helpers of `inspect`, `limits` and `check` (see cli_model.h). */
#include "cli/cli_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tg_cli_human_bytes(char *out, size_t cap, double b) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    double neg = b < 0 ? -1.0 : 1.0;
    b *= neg;
    while (b >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) { b /= 1024.0; u++; }
    if (u == 0) snprintf(out, cap, "%.0f %s", b * neg, units[u]);
    else snprintf(out, cap, "%.2f %s", b * neg, units[u]);
}

char *tg_cli_layer_pattern(const tg_model_profile *p) {
    char *s = malloc((size_t)p->n_layer + 1);
    if (!s) return NULL;
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const tg_layer *l = &p->layers[i];
        char c = '-';
        switch (l->attn) {
        case TG_ATTN_FULL: c = l->recurrent ? 'B' : 'F'; break;
        case TG_ATTN_SLIDING: c = l->recurrent ? 'B' : 'S'; break;
        case TG_ATTN_MLA: c = l->recurrent ? 'B' : 'M'; break;
        case TG_ATTN_NONE: c = l->recurrent ? 'R' : '-'; break;
        }
        s[i] = c;
    }
    s[p->n_layer] = '\0';
    return s;
}

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *u64_json(uint64_t v) {
    /* json_int_t is signed 64-bit; every size here is far below 2^63 */
    return json_integer((json_int_t)(v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v));
}

json_t *tg_cli_profile_json(const tg_model_profile *p) {
    json_t *o = json_object();
    json_object_set_new(o, "name", str_or_null(p->name));
    json_object_set_new(o, "source", json_string(tg_model_source_name(p->source)));
    json_object_set_new(o, "architecture", str_or_null(p->arch));
    json_object_set_new(o, "native_context", u64_json(p->native_context));
    json_object_set_new(o, "context_from", str_or_null(p->context_from));
    json_object_set_new(o, "fallback", json_boolean(p->fallback));
    json_object_set_new(o, "note", str_or_null(p->note));
    json_object_set_new(o, "layers", json_integer(p->n_layer));
    json_t *k = json_object();
    json_object_set_new(k, "full", json_integer(p->n_full));
    json_object_set_new(k, "sliding", json_integer(p->n_sliding));
    json_object_set_new(k, "mla", json_integer(p->n_mla));
    json_object_set_new(k, "recurrent", json_integer(p->n_recurrent));
    json_object_set_new(k, "none", json_integer(p->n_no_cache));
    json_object_set_new(o, "layer_kinds", k);
    char *pat = p->n_layer ? tg_cli_layer_pattern(p) : NULL;
    json_object_set_new(o, "layer_pattern", str_or_null(pat));
    free(pat);
    /* window: the first sliding layer's */
    json_t *win = json_null();
    for (uint32_t i = 0; i < p->n_layer; i++)
        if (p->layers[i].attn == TG_ATTN_SLIDING) { json_decref(win); win = json_integer(p->layers[i].window); break; }
    json_object_set_new(o, "sliding_window", win);
    json_object_set_new(o, "weights_bytes", p->weights_bytes ? u64_json(p->weights_bytes) : json_null());
    json_object_set_new(o, "vocab_size", p->vocab_size ? u64_json(p->vocab_size) : json_null());
    if (p->tokenizer_model[0] || p->tokenizer_tokens) {
        json_t *t = json_object();
        json_object_set_new(t, "model", str_or_null(p->tokenizer_model));
        json_object_set_new(t, "pre", str_or_null(p->tokenizer_pre));
        json_object_set_new(t, "tokens", p->tokenizer_tokens ? u64_json(p->tokenizer_tokens) : json_null());
        json_object_set_new(o, "tokenizer", t);
    } else {
        json_object_set_new(o, "tokenizer", json_null());
    }
    json_t *eog = json_array();
    for (size_t i = 0; i < p->n_eog; i++) json_array_append_new(eog, json_integer(p->eog_ids[i]));
    json_object_set_new(o, "eog_token_ids", eog);
    json_object_set_new(o, "eog_from", str_or_null(p->eog_from));
    json_object_set_new(o, "chat_template",
                        p->has_chat_template < 0 ? json_null() : json_boolean(p->has_chat_template));
    return o;
}

int tg_cli_print_json(json_t *v) {
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (!s) return -1;
    int rc = printf("%s\n", s) < 0 ? -1 : 0;
    free(s);
    return rc;
}

int tg_cli_options(const char *verb, const tgx_opt_table *tabs, void *const *targets, uint64_t *given,
                   size_t ntabs, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        tgx_opt_arg a;
        tg_error err;
        tg_status st = tgx_opt_next(tabs, ntabs, argc, argv, &i, &a, &err);
        if (st == TG_OK) st = tgx_opt_from_text(a.opt, targets[a.table], a.name, a.value, &err);
        if (st != TG_OK) {
            fprintf(stderr, "tokgate %s: %s%s\n", verb, err.msg, st == TG_ENOTFOUND ? " (see --help)" : "");
            return st;
        }
        given[a.table] |= (uint64_t)1 << (size_t)(a.opt - tabs[a.table].v);
    }
    return TG_OK;
}

void tg_cli_options_help(FILE *out, const tgx_opt *t, size_t n, const void *defaults) {
    tgx_buf b;
    tgx_buf_init(&b, 1u << 16);
    if (tgx_opt_help(&b, t, n, defaults) == TG_OK && b.data) fputs(b.data, out);
    tgx_buf_free(&b);
}

int tg_cli_resolve_nvml(const char *verb, tg__limits_inputs *in) {
    tg_error err;
    memset(&err, 0, sizeof err);
    /* --gpus names cards to read: without a figure it means nvml (issue 20) */
    if (in->gpus[0] && !in->free_vram_nvml && in->cfg.n_cards == 0) in->free_vram_nvml = 1;
    if (tg__limits_inputs_resolve(in, &err) == TG_OK) return 0;
    fprintf(stderr, "tokgate %s: --free-vram-mib nvml: %s\n", verb, err.msg);
    return 2;
}
