/*
 * fuzz_gguf_profile.c: libFuzzer target over GGUF metadata interpreted as a
 * model profile (tg_model_from_gguf on a buffer opened metadata-only), then
 * the KV cost and limits derived from it.
 *
 * Invariants (abort on violation): a file the reader accepts either gives a
 * profile with n_layer <= TG_MODEL_MAX_LAYERS, layers non-NULL when
 * n_layer > 0, a native context > 0 and counts that cover every layer, or
 * fails with a message and a zeroed profile; limits derive cleanly (or with
 * TG_EUNSUPPORTED / TG_ELIMIT and a message) and input + output == context.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tokgate/gguf.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_gguf *g = NULL;
    if (tg_gguf_open_buffer_ex(data, size, TG_GGUF_OPEN_META_ONLY, &g, NULL) != TG_OK) return 0;
    tg_model_profile p;
    tg_error err = {0};
    tg_status st = tg_model_from_gguf(g, &p, &err);
    if (st != TG_OK) {
        CHECK(err.msg[0] != '\0');
        CHECK(p.layers == NULL && p.n_layer == 0);
    } else {
        CHECK(p.n_layer <= TG_MODEL_MAX_LAYERS);
        CHECK(p.n_layer == 0 || p.layers != NULL);
        CHECK(p.native_context > 0);
        uint32_t seen = 0;
        for (uint32_t i = 0; i < p.n_layer; i++)
            if (p.layers[i].attn != TG_ATTN_NONE || !p.layers[i].recurrent) seen++;
        CHECK(p.n_full + p.n_sliding + p.n_mla + p.n_no_cache == seen);
        tg_limits_config c;
        tg_limits_config_init(&c);
        c.free_vram[0] = (uint64_t)16000 << 20;
        c.n_cards = 1;
        c.tp = 4;
        c.kv_type = TG_KV_Q8_0;
        tg_limits l;
        st = tg_limits_derive(&p, &c, &l, &err);
        CHECK(st == TG_OK || st == TG_EUNSUPPORTED || st == TG_ELIMIT);
        if (st == TG_OK) CHECK(l.input + l.output == l.context && l.context <= p.native_context);
        else CHECK(err.msg[0] != '\0');
    }
    tg_model_profile_free(&p);
    tg_gguf_close(g);
    return 0;
}
