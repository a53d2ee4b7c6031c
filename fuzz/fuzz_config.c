/*
 * fuzz_config.c: libFuzzer target over HF config.json parsing
 * (tg_model_from_hf_config), the KV cost and limit derivation that follow it,
 * and the catalogue's name matcher.
 *
 * Invariants checked (abort on violation, so the fuzzer reports them):
 *   - on success: 1 <= n_layer <= TG_MODEL_MAX_LAYERS, layers non-NULL, a
 *     native context > 0, the per-kind counts cover every layer, every
 *     sliding layer has a window, and limits derive without error or with a
 *     clean TG_EUNSUPPORTED / TG_ELIMIT; context <= native and
 *     input + output == context;
 *   - on failure: a non-empty message and a zeroed profile (layers NULL);
 *   - the matcher: a name that matches a key matches the key itself too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/limits.h"
#include "tokgate/model.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_profile(const tg_model_profile *p) {
    CHECK(p->n_layer >= 1 && p->n_layer <= TG_MODEL_MAX_LAYERS);
    CHECK(p->layers != NULL);
    CHECK(p->native_context > 0);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const tg_layer *l = &p->layers[i];
        if (l->attn == TG_ATTN_SLIDING) CHECK(l->window > 0);
        if (l->attn != TG_ATTN_NONE || !l->recurrent) seen++;
    }
    CHECK(p->n_full + p->n_sliding + p->n_mla + p->n_no_cache == seen);

    tg_limits_config c;
    tg_limits_config_init(&c);
    c.free_vram[0] = (uint64_t)24000 << 20;
    c.n_cards = 1;
    c.tp = 2;
    c.prefill_tps = 1000;
    c.target_prefill_s = 60;
    tg_limits l;
    tg_error err = {0};
    tg_status st = tg_limits_derive(p, &c, &l, &err);
    CHECK(st == TG_OK || st == TG_EUNSUPPORTED || st == TG_ELIMIT);
    if (st == TG_OK) {
        CHECK(l.context <= p->native_context);
        CHECK(l.input + l.output == l.context);
        tg_ladder_row rows[TG_LADDER_MAX_ROWS];
        size_t n = tg_limits_ladder(&l, &c, rows, TG_LADDER_MAX_ROWS);
        CHECK(n <= TG_LADDER_MAX_ROWS);
        for (size_t i = 1; i < n; i++) CHECK(rows[i].context > rows[i - 1].context);
    } else {
        CHECK(err.msg[0] != '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_model_profile p;
    tg_error err = {0};
    tg_status st = tg_model_from_hf_config((const char *)data, size, &p, &err);
    if (st == TG_OK) {
        check_profile(&p);
    } else {
        CHECK(err.msg[0] != '\0');
        CHECK(p.layers == NULL && p.n_layer == 0);
    }
    tg_model_profile_free(&p);

    if (size <= 256) {
        char name[257];
        memcpy(name, data, size);
        name[size] = '\0';
        const char *key = tg_model_catalogue_match(name);
        if (key) CHECK(strcmp(tg_model_catalogue_match(key), key) == 0);
    }
    return 0;
}
