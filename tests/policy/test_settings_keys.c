/*
 * test_settings_keys.c: the library's option tables, policy/settings_keys.c
 * (tg_model_settings) and limits/limits_keys.c (the derivation inputs, the
 * CLI's budget flags), entry by entry through tests/util/opt_table_check.h:
 * each value in range is taken alike as a flag and as a config key, each
 * value out of range refused alike with a message naming the bound. Then the
 * values whose meaning is not the table's own: the aliases the policy's
 * parsers accept (docs/policy.md: truncation "off", dialect "openai"), the
 * safe fraction in parts per million (tokgate/policy.h), free VRAM forms
 * (tokgate/limits.h: one figure per card, at most TG_LIMITS_MAX_CARDS).
 */
#include "util/opt_table_check.h"

#include "limits/limits_keys.h"
#include "policy/settings_keys.h"

static void settings_init(void *p) { tg_model_settings_init(p); }
static void inputs_init(void *p) { tg__limits_inputs_init(p); }

static const opt_target settings_target = {sizeof(tg_model_settings), settings_init, NULL};
static const opt_target inputs_target = {sizeof(tg__limits_inputs), inputs_init, NULL};

static void test_tables(void) {
    TG_CHECK_EQ_U(opt_check_table(tg__settings_opts, tg__n_settings_opts, &settings_target), tg__n_settings_opts);
    TG_CHECK_EQ_U(opt_check_table(tg__hardware_opts, tg__n_hardware_opts, &inputs_target), tg__n_hardware_opts);
    TG_CHECK_EQ_U(opt_check_table(tg__budget_opts, tg__n_budget_opts, &inputs_target), tg__n_budget_opts);
}

static const tgx_opt *flag(const tgx_opt *t, size_t n, const char *f) {
    const tgx_opt *o = tgx_opt_by_flag(t, n, f);
    TG_CHECK(o != NULL);
    return o;
}

static void test_policy_values(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_error e;
    const tgx_opt *o = flag(tg__settings_opts, tg__n_settings_opts, "--truncation");
    s.truncation = TG_TRUNC_KEEP_RECENT;
    TG_CHECK_EQ_I(tgx_opt_from_text(o, &s, "--truncation", "off", &e), TG_OK);
    TG_CHECK_EQ_I(s.truncation, TG_TRUNC_NONE);
    o = flag(tg__settings_opts, tg__n_settings_opts, "--upstream-dialect");
    TG_CHECK_STR(o->key, "dialect");
    s.dialect = TG_DIALECT_VLLM;
    json_t *j = json_string("openai");
    TG_CHECK_EQ_I(tgx_opt_from_json(o, &s, "config policy.dialect", j, &e), TG_OK);
    json_decref(j);
    TG_CHECK_EQ_I(s.dialect, TG_DIALECT_NONE);
    /* "custom" is a request's explicit budget, not a model's mode */
    o = flag(tg__settings_opts, tg__n_settings_opts, "--thinking-mode");
    TG_CHECK(tgx_opt_from_text(o, &s, "--thinking-mode", "custom", &e) != TG_OK);
    /* 0.8 -> 800000 ppm, 0.75 -> 750000 (the policy's safe maximum uses ppm) */
    o = flag(tg__settings_opts, tg__n_settings_opts, "--safe-fraction");
    TG_CHECK_EQ_I(tgx_opt_from_text(o, &s, "--safe-fraction", "0.75", &e), TG_OK);
    TG_CHECK_EQ_U(s.safe_fraction_ppm, 750000);
    TG_CHECK_EQ_U(tg_policy_safe_max(&s, 32768), 24576);
    o = flag(tg__settings_opts, tg__n_settings_opts, "--max-output-tokens-default");
    TG_CHECK_STR(o->key, "default_max_tokens");
    TG_CHECK(tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "thinking_base") != 0);
    TG_CHECK_EQ_U(tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "no_such_key"), 0);
}

static void test_free_vram(void) {
    tg__limits_inputs in;
    tg__limits_inputs_init(&in);
    tg_error e;
    const tgx_opt *o = flag(tg__hardware_opts, tg__n_hardware_opts, "--free-vram-mib");
    TG_CHECK_EQ_I(tgx_opt_from_text(o, &in, "--free-vram-mib", "9254,12000", &e), TG_OK);
    TG_CHECK_EQ_U(in.cfg.n_cards, 2);
    TG_CHECK_EQ_U(in.cfg.free_vram[1], 12000ull << 20);
    json_t *j = json_integer(24000); /* one card, as a number */
    TG_CHECK_EQ_I(tgx_opt_from_json(o, &in, "config hardware.free_vram_mib", j, &e), TG_OK);
    json_decref(j);
    TG_CHECK_EQ_U(in.cfg.n_cards, 1);
    TG_CHECK_EQ_U(in.cfg.free_vram[0], 24000ull << 20);
    TG_CHECK_EQ_I(tgx_opt_from_text(o, &in, "--free-vram-mib", "nvml", &e), TG_OK);
    TG_CHECK(in.free_vram_nvml && in.cfg.n_cards == 0);
    char many[64 * 3 + 8] = "";
    for (int i = 0; i <= TG_LIMITS_MAX_CARDS; i++) strcat(many, i ? ",1" : "1");
    TG_CHECK(tgx_opt_from_text(o, &in, "--free-vram-mib", many, &e) != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "at most 64");
    TG_CHECK(!in.free_vram_nvml && in.cfg.n_cards == 0);
    TG_CHECK(tgx_opt_from_text(o, &in, "--free-vram-mib", "9254,", &e) != TG_OK);
    j = json_pack("[i, s]", 1, "x");
    TG_CHECK(tgx_opt_from_json(o, &in, "config hardware.free_vram_mib", j, &e) != TG_OK);
    json_decref(j);
    TG_CHECK_CONTAINS(e.msg, "config hardware.free_vram_mib");
    /* MiB flags store bytes */
    o = flag(tg__hardware_opts, tg__n_hardware_opts, "--min-free-mib");
    TG_CHECK_EQ_I(tgx_opt_from_text(o, &in, "--min-free-mib", "2000", &e), TG_OK);
    TG_CHECK_EQ_U(in.cfg.min_free_bytes, 2000ull << 20);
}

/* A key nested in an object, unknown keys with their path, and GIVEN. */
static void test_object(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    uint64_t given = 0;
    tg_error e;
    json_t *obj = json_pack("{s:f, s:s}", "safe_fraction", 0.5, "overflow", "reject");
    TG_CHECK_EQ_I(tgx_opt_object(tg__settings_opts, tg__n_settings_opts, &s, &given, "models[0].policy", obj, &e),
                  TG_OK);
    json_decref(obj);
    TG_CHECK_EQ_U(s.safe_fraction_ppm, 500000);
    TG_CHECK_EQ_I(s.overflow, TG_OVERFLOW_REJECT);
    TG_CHECK_EQ_U(given, tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "safe_fraction") |
                             tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "overflow"));
    obj = json_pack("{s:i}", "safe_fracton", 1);
    TG_CHECK(tgx_opt_object(tg__settings_opts, tg__n_settings_opts, &s, NULL, "models[0].policy", obj, &e) != TG_OK);
    json_decref(obj);
    TG_CHECK_CONTAINS(e.msg, "config models[0].policy.safe_fracton: unknown key");
    TG_CHECK_CONTAINS(e.msg, "safe_fraction_large");
}

int main(void) {
    TG_RUN(test_tables);
    TG_RUN(test_policy_values);
    TG_RUN(test_free_vram);
    TG_RUN(test_object);
    return tg_test_summary();
}
