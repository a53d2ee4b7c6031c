/*
 * test_limits.c: KV bytes per token by KV type and tensor parallelism, the
 * three ceilings, the clamp, the output reserve and the ladder table.
 *
 * Models come from tests/data/configs (published HF configs). Expected values
 * are worked out by hand from those configs and ggml's block sizes (q8_0:
 * 32 elements in 34 bytes; q4_0 18; q4_1 20; q5_0 22; q5_1 24), with the
 * arithmetic written out.
 */
#include "tg_test.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"
#include "model/config_fixture.h"

#define MIB 1048576ull

static tg_limits derive(const tg_model_profile *p, const tg_limits_config *c) {
    tg_limits l;
    tg_error err = {0};
    if (tg_limits_derive(p, c, &l, &err) != TG_OK) fprintf(stderr, "derive: %s\n", err.msg);
    return l;
}

/* The acceptance case: Qwen3.6-27B as helexa's doc/context-limits.md has it. */
static void test_qwen36_helexa(void) {
    tg_model_profile p;
    if (!tgt_load_config("Qwen3.6-27B", &p)) { TG_CHECK(0); return; }
    tg_limits_config c;
    tg_limits_config_init(&c);
    c.tp = 2;
    c.free_vram[0] = 9254 * MIB; /* beast's tighter card, GPU 1 */
    c.free_vram[1] = 12000 * MIB;
    c.n_cards = 2;
    tg_limits l = derive(&p, &c);
    /* 2 x 16 full layers x 4 KV heads x 256 x 2 B = 65536; per card at tp 2: 32768 */
    TG_CHECK_EQ_U(l.kv_bytes_per_token, 65536);
    TG_CHECK_EQ_U(l.kv_bytes_per_token_per_card, 32768);
    /* fixed per card: 48 linear layers x 3268608 B of f32 state / 2 cards = 78446592 */
    TG_CHECK_EQ_U(l.kv_fixed_bytes_per_card, 48ull * 3268608 / 2);
    /* budget = 9254 MiB - 0 activation - 1500 MiB floor - 78446592
     *        = 9703522304 - 1572864000 - 78446592 = 8052211712 B
     * vram   = 8052211712 / 32768 = 245734 (helexa's sheet, without the fixed
     *          state, gets 7754 MiB / 32 KiB = 248128; both bind below 262144) */
    TG_CHECK_EQ_I(l.vram_budget_bytes, 9703522304ll - 1572864000ll - 78446592ll);
    TG_CHECK_EQ_U(l.ceiling_vram, (9703522304ull - 1572864000ull - 78446592ull) / 32768);
    TG_CHECK_EQ_U(l.ceiling_vram, 245734);
    TG_CHECK(l.ceiling_vram < 262144);
    TG_CHECK_EQ_U(l.ceiling_native, 262144);
    TG_CHECK_EQ_U(l.ceiling_throughput, TG_CEILING_NONE);
    TG_CHECK(l.binding == TG_BIND_VRAM);
    TG_CHECK_STR(tg_binding_name(l.binding), "vram");
    TG_CHECK_EQ_U(l.context, 245734);
    TG_CHECK_EQ_U(l.output, 8192);
    TG_CHECK_EQ_U(l.input, 245734 - 8192);

    /* helexa's recommended profile: the 131072 backstop clamps */
    c.max_prompt_tokens = 131072;
    l = derive(&p, &c);
    TG_CHECK(l.binding == TG_BIND_CLAMP);
    TG_CHECK_EQ_U(l.context, 131072);
    TG_CHECK_EQ_U(l.input, 122880); /* helexa's opencode limit.input */

    /* the ladder: helexa's table rows 131072 (safe) and 262144 (under the floor) */
    c.max_prompt_tokens = 0;
    l = derive(&p, &c);
    tg_ladder_row rows[TG_LADDER_MAX_ROWS];
    size_t n = tg_limits_ladder(&l, &c, rows, TG_LADDER_MAX_ROWS);
    /* 4096 .. 131072 (6 rows), the derived 245734, the native 262144 */
    TG_CHECK_EQ_U(n, 8);
    TG_CHECK_EQ_U(rows[0].context, 4096);
    TG_CHECK_EQ_U(rows[5].context, 131072);
    TG_CHECK_EQ_U(rows[6].context, 245734);
    TG_CHECK(rows[6].derived);
    TG_CHECK_EQ_U(rows[7].context, 262144);
    /* 131072 x 32768 + 78446592 = 4373413888 B; left 9703522304 - 4373413888 */
    TG_CHECK_EQ_U(rows[5].kv_bytes_per_card, 131072ull * 32768 + 78446592);
    TG_CHECK_EQ_I(rows[5].left_bytes, 9703522304ll - 4373413888ll);
    TG_CHECK(rows[5].verdict == TG_VERDICT_FITS);
    /* 262144 x 32768 + 78446592 = 8668381184; left 1035141120 < 1500 MiB */
    TG_CHECK_EQ_I(rows[7].left_bytes, 9703522304ll - 8668381184ll);
    TG_CHECK(rows[7].verdict == TG_VERDICT_UNDER_FLOOR);
    TG_CHECK(rows[6].verdict == TG_VERDICT_FITS);
    tg_model_profile_free(&p);
}

static void test_kv_types(void) {
    tg_model_profile p;
    if (!tgt_load_config("Llama-3.1-8B", &p)) { TG_CHECK(0); return; }
    /* one K row per layer: 8 KV heads x 128 = 1024 elements = 32 blocks of 32 */
    static const struct { tg_kv_type t; uint64_t per_token; } want[] = {
        {TG_KV_F32, 32ull * 2 * 1024 * 4},          /* 262144 */
        {TG_KV_F16, 32ull * 2 * 1024 * 2},          /* 131072 */
        {TG_KV_BF16, 32ull * 2 * 1024 * 2},
        {TG_KV_Q8_0, 32ull * 2 * (1024 / 32) * 34}, /* 69632 */
        {TG_KV_Q4_0, 32ull * 2 * (1024 / 32) * 18}, /* 36864 */
        {TG_KV_Q4_1, 32ull * 2 * (1024 / 32) * 20},
        {TG_KV_Q5_0, 32ull * 2 * (1024 / 32) * 22},
        {TG_KV_Q5_1, 32ull * 2 * (1024 / 32) * 24},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        tg_kv_cost c;
        tg_error err = {0};
        TG_CHECK_EQ_I(tg_kv_cost_compute(&p, want[i].t, 1, &c, &err), TG_OK);
        TG_CHECK_EQ_U(c.per_token, want[i].per_token);
    }
    tg_model_profile_free(&p);

    /* DeepSeek-V3 latent at q8_0: 576 = 18 blocks: 61 x 18 x 34 = 37332 */
    if (!tgt_load_config("DeepSeek-V3", &p)) { TG_CHECK(0); return; }
    tg_kv_cost c;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_Q8_0, 1, &c, &err), TG_OK);
    TG_CHECK_EQ_U(c.per_token, 61ull * 18 * 34);
    tg_model_profile_free(&p);

    /* a head size that does not tile the 32-element block (phi-2: 80) */
    TG_CHECK_EQ_I(tg_model_from_hf_config("{\"num_hidden_layers\":2,\"num_attention_heads\":32,"
                                          "\"hidden_size\":2560,\"max_position_embeddings\":2048}",
                                          strlen("{\"num_hidden_layers\":2,\"num_attention_heads\":32,"
                                                 "\"hidden_size\":2560,\"max_position_embeddings\":2048}"),
                                          &p, &err), TG_OK);
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_Q4_0, 1, &c, &err), TG_EUNSUPPORTED);
    TG_CHECK_CONTAINS(err.msg, "80");
    TG_CHECK_CONTAINS(err.msg, "32");
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 1, &c, &err), TG_OK);
    TG_CHECK_EQ_U(c.per_token, 2ull * 2 * 32 * 80 * 2);
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 0, &c, &err), TG_EINVAL);
    tg_model_profile_free(&p);

    tg_kv_type t;
    TG_CHECK_EQ_I(tg_kv_type_parse("Q8_0", &t, &err), TG_OK);
    TG_CHECK(t == TG_KV_Q8_0);
    TG_CHECK_EQ_I(tg_kv_type_parse("q3_k", &t, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "q3_k");
    TG_CHECK_STR(tg_kv_type_name(TG_KV_Q5_1), "q5_1");
}

static void test_tp_split(void) {
    tg_model_profile p;
    tg_kv_cost c;
    tg_error err = {0};
    /* Qwen3-Next: 2 KV heads. At tp 4 each card still holds one head
     * (replicated): 12 x 2 x 1 x 256 x 2 = 12288, not 24576 / 4 */
    if (!tgt_load_config("Qwen3-Next-80B-A3B-Instruct", &p)) { TG_CHECK(0); return; }
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 4, &c, &err), TG_OK);
    TG_CHECK_EQ_U(c.per_token_per_card, 12ull * 2 * 1 * 256 * 2);
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 2, &c, &err), TG_OK);
    TG_CHECK_EQ_U(c.per_token_per_card, 12ull * 2 * 1 * 256 * 2);
    tg_model_profile_free(&p);
    /* MLA latent is not split across cards */
    if (!tgt_load_config("DeepSeek-V3", &p)) { TG_CHECK(0); return; }
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 8, &c, &err), TG_OK);
    TG_CHECK_EQ_U(c.per_token_per_card, 70272);
    tg_model_profile_free(&p);
    /* gpt-oss-120b at tp 8: 8 KV heads, one per card: 18 x 2 x 64 x 2 = 4608 */
    if (!tgt_load_config("gpt-oss-120b", &p)) { TG_CHECK(0); return; }
    TG_CHECK_EQ_I(tg_kv_cost_compute(&p, TG_KV_F16, 8, &c, &err), TG_OK);
    TG_CHECK_EQ_U(c.per_token_per_card, 18ull * 2 * 64 * 2);
    TG_CHECK_EQ_U(c.fixed_bytes_per_card, 18ull * 128 * (2 * 64 * 2));
    tg_model_profile_free(&p);
}

static void test_ceilings(void) {
    tg_model_profile p;
    if (!tgt_load_config("Llama-3.1-8B", &p)) { TG_CHECK(0); return; }
    tg_limits_config c;
    tg_limits_config_init(&c);
    /* nothing known but the model: native binds, the others are not computed */
    tg_limits l = derive(&p, &c);
    TG_CHECK(l.binding == TG_BIND_NATIVE);
    TG_CHECK_EQ_U(l.context, 131072);
    TG_CHECK_EQ_U(l.ceiling_vram, TG_CEILING_NONE);
    TG_CHECK_EQ_U(l.ceiling_throughput, TG_CEILING_NONE);
    TG_CHECK_EQ_U(l.input, 131072 - 8192);

    /* throughput: 2000 tok/s x 30 s = 60000 */
    c.prefill_tps = 2000;
    c.target_prefill_s = 30;
    l = derive(&p, &c);
    TG_CHECK(l.binding == TG_BIND_THROUGHPUT);
    TG_CHECK_EQ_U(l.ceiling_throughput, 60000);
    TG_CHECK_EQ_U(l.context, 60000);

    /* VRAM on a 24 GiB card with 8000 MiB free, 1000 MiB activation:
     * (8000 - 1000 - 1500) MiB = 5767168000 B / 131072 = 44000 tokens */
    c.free_vram[0] = 8000 * MIB;
    c.n_cards = 1;
    c.activation_bytes = 1000 * MIB;
    l = derive(&p, &c);
    TG_CHECK(l.binding == TG_BIND_VRAM);
    TG_CHECK_EQ_U(l.ceiling_vram, (8000 - 1000 - 1500) * MIB / 131072);
    TG_CHECK_EQ_U(l.context, 44000);

    /* the backstop only clamps when it is smaller */
    c.max_prompt_tokens = 100000;
    l = derive(&p, &c);
    TG_CHECK(l.binding == TG_BIND_VRAM);
    c.max_prompt_tokens = 4096;
    l = derive(&p, &c);
    TG_CHECK(l.binding == TG_BIND_CLAMP);
    /* output reserve is at most half the context (a context of 4096 with the
     * 8192 default would otherwise leave no input at all): 4096 / 2 = 2048 */
    TG_CHECK_EQ_U(l.output, 2048);
    TG_CHECK_EQ_U(l.input, 2048);
    c.output_reserve = 1024;
    l = derive(&p, &c);
    TG_CHECK_EQ_U(l.output, 1024);
    TG_CHECK_EQ_U(l.input, 3072);

    /* no room at all: context 0 with binding vram, not an error */
    c.max_prompt_tokens = 0;
    c.free_vram[0] = 2000 * MIB;
    l = derive(&p, &c);
    TG_CHECK_EQ_U(l.ceiling_vram, 0);
    TG_CHECK_EQ_U(l.context, 0);
    TG_CHECK_EQ_U(l.output, 0);
    TG_CHECK(l.vram_budget_bytes < 0);

    /* bad inputs are refused with the number */
    tg_error err = {0};
    c.prefill_tps = -5;
    TG_CHECK_EQ_I(tg_limits_derive(&p, &c, &l, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "-5");
    c.prefill_tps = 0;
    c.n_cards = TG_LIMITS_MAX_CARDS + 1;
    TG_CHECK_EQ_I(tg_limits_derive(&p, &c, &l, &err), TG_ELIMIT);
    tg_model_profile_free(&p);
}

static void test_fallback_model(void) {
    tg_model_profile p;
    tg_error err = {0};
    TG_CHECK_EQ_I(tg_model_from_name("somebody/mystery-13b", &p, &err), TG_OK);
    tg_limits_config c;
    tg_limits_config_init(&c);
    c.free_vram[0] = 20000 * MIB;
    c.n_cards = 1;
    tg_limits l = derive(&p, &c);
    /* nothing known about the architecture: the 8192 fallback binds */
    TG_CHECK_EQ_U(l.context, 8192);
    TG_CHECK(l.binding == TG_BIND_NATIVE);
    /* half of 8192 for output, half for the prompt: the fallback stays usable */
    TG_CHECK_EQ_U(l.output, 4096);
    TG_CHECK_EQ_U(l.input, 4096);
    tg_ladder_row rows[TG_LADDER_MAX_ROWS];
    size_t n = tg_limits_ladder(&l, &c, rows, TG_LADDER_MAX_ROWS);
    TG_CHECK_EQ_U(n, 2); /* 4096, 8192 */
    TG_CHECK_EQ_U(tg_limits_ladder(&l, &c, rows, 1), 1);
    tg_model_profile_free(&p);
}

int main(void) {
    TG_RUN(test_qwen36_helexa);
    TG_RUN(test_kv_types);
    TG_RUN(test_tp_split);
    TG_RUN(test_ceilings);
    TG_RUN(test_fallback_model);
    return tg_test_summary();
}
