/*
 * model/profile.c: the tg_model_profile value itself: initialisation, the
 * layer array, the per-kind counts, names, and release. The builders
 * (hf_config.c, gguf_profile.c, catalogue.c) fill a profile through these.
 */
#include "model/model_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tg__profile_init(tg_model_profile *p, tg_model_source src) {
    memset(p, 0, sizeof *p);
    p->source = src;
    p->has_chat_template = -1;
}

void tg__profile_add_eog(tg_model_profile *p, uint64_t id, const char *from) {
    if (id > UINT32_MAX || p->n_eog == TG_MODEL_MAX_EOG) return;
    for (size_t i = 0; i < p->n_eog; i++)
        if (p->eog_ids[i] == id) return;
    p->eog_ids[p->n_eog++] = (uint32_t)id;
    if (!strstr(p->eog_from, from)) {
        size_t n = strlen(p->eog_from);
        snprintf(p->eog_from + n, sizeof p->eog_from - n, "%s%s", n ? ", " : "", from);
    }
}

void tg__profile_add_eog_json(tg_model_profile *p, const void *json_obj, const char *from) {
    json_t *v = json_object_get((const json_t *)json_obj, "eos_token_id");
    size_t i;
    json_t *e;
    if (json_is_integer(v) && json_integer_value(v) >= 0) tg__profile_add_eog(p, (uint64_t)json_integer_value(v), from);
    json_array_foreach(v, i, e) {
        if (json_is_integer(e) && json_integer_value(e) >= 0)
            tg__profile_add_eog(p, (uint64_t)json_integer_value(e), from);
    }
}

tg_status tg__profile_alloc_layers(tg_model_profile *p, uint64_t n, uint32_t n_head_kv,
                                   uint32_t head_k, uint32_t head_v, tg_error *err) {
    if (n == 0 || n > TG_MODEL_MAX_LAYERS)
        return tg_error_set(err, TG_ELIMIT, "layer count %llu is outside 1..%u",
                            (unsigned long long)n, TG_MODEL_MAX_LAYERS);
    tg_layer *l = calloc((size_t)n, sizeof *l);
    if (!l) return tg_error_set(err, TG_ENOMEM, "out of memory for %llu layers", (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        l[i].attn = TG_ATTN_FULL;
        l[i].n_head_kv = n_head_kv;
        l[i].head_k = head_k;
        l[i].head_v = head_v;
    }
    free(p->layers);
    p->layers = l;
    p->n_layer = (uint32_t)n;
    return TG_OK;
}

void tg__copy_name(char *dst, size_t cap, const char *s, size_t n) {
    if (cap == 0) return;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    dst[k] = '\0';
}

uint64_t tg__mul_sat(uint64_t a, uint64_t b) {
    if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
    return a * b;
}

uint64_t tg__add_sat(uint64_t a, uint64_t b) {
    return (b > UINT64_MAX - a) ? UINT64_MAX : a + b;
}

uint64_t tg__mamba_state_elems(uint64_t d_conv, uint64_t d_inner, uint64_t d_state,
                               uint64_t n_group) {
    uint64_t conv_rows = d_conv > 0 ? d_conv - 1 : 0;
    uint64_t conv = tg__mul_sat(conv_rows,
                                tg__add_sat(d_inner, tg__mul_sat(tg__mul_sat(2, n_group), d_state)));
    return tg__add_sat(conv, tg__mul_sat(d_state, d_inner));
}

uint64_t tg__gdn_state_elems(uint64_t conv, uint64_t nk, uint64_t nv, uint64_t dk, uint64_t dv) {
    return tg__mamba_state_elems(conv, tg__mul_sat(nv, dv), dk, nk);
}

void tg_model_profile_summarize(tg_model_profile *p) {
    p->n_full = p->n_sliding = p->n_mla = p->n_recurrent = p->n_no_cache = 0;
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const tg_layer *l = &p->layers[i];
        switch (l->attn) {
        case TG_ATTN_FULL: p->n_full++; break;
        case TG_ATTN_SLIDING: p->n_sliding++; break;
        case TG_ATTN_MLA: p->n_mla++; break;
        case TG_ATTN_NONE: if (!l->recurrent) p->n_no_cache++; break;
        }
        if (l->recurrent) p->n_recurrent++;
    }
}

void tg_model_profile_free(tg_model_profile *p) {
    if (!p) return;
    free(p->layers);
    memset(p, 0, sizeof *p);
}

const char *tg_attn_kind_name(tg_attn_kind k) {
    switch (k) {
    case TG_ATTN_NONE: return "none";
    case TG_ATTN_FULL: return "full";
    case TG_ATTN_SLIDING: return "sliding";
    case TG_ATTN_MLA: return "mla";
    }
    return "unknown";
}

const char *tg_model_source_name(tg_model_source s) {
    switch (s) {
    case TG_MODEL_SRC_GGUF: return "gguf";
    case TG_MODEL_SRC_HF_CONFIG: return "hf-config";
    case TG_MODEL_SRC_CATALOGUE: return "catalogue";
    case TG_MODEL_SRC_FALLBACK: return "fallback";
    }
    return "unknown";
}
