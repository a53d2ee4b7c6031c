/* policy/settings_keys.c: tg_model_settings as option table entries (see
 * settings_keys.h). Bounds: token counts 0..2^40 (0 is "none" where the field
 * says so: default_max_tokens, output_limit, escalated_output_tokens,
 * thinking_base); the safe fractions 0.000001..1. Enumerations take the
 * names (and aliases) of the tg_*_parse functions. */
#include "policy/settings_keys.h"

#include <stddef.h>

#include "limits/limits_keys.h"

_Static_assert(sizeof(tg_overflow_mode) == sizeof(int) && sizeof(tg_truncation_mode) == sizeof(int) &&
                   sizeof(tg_dialect) == sizeof(int) && sizeof(tg_thinking_mode) == sizeof(int),
               "enumerations are stored as int");

/* A model's default mode: "custom" is only a request's explicit budget. */
static int think_parse(const char *s) {
    int m = tg_thinking_mode_parse(s);
    return m == TG_THINK_CUSTOM ? -1 : m;
}

#define S(f) offsetof(tg_model_settings, f)
#define TOKENS(k, fl, field, h) \
    {.key = (k), .flag = (fl), .kind = TGX_OPT_UINT, .store = TGX_ST_U64, .off = S(field), .lo = 0, \
     .hi = TG__TOKENS_MAX, .arg = "N", .help = (h)}

const tgx_opt tg__settings_opts[] = {
    {.key = "overflow", .flag = "--overflow", .alias = "--on-overflow", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT,
     .off = S(overflow), .parse = tg_overflow_mode_parse, .arg = "clamp|reject",
     .help = "max_tokens above the safe maximum or the room the prompt leaves: clamp it, or refuse"},
    {.key = "truncation", .flag = "--truncation", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = S(truncation),
     .parse = tg_truncation_mode_parse, .arg = "none|keep_recent|drop_oldest_turns|summarize",
     .help = "a prompt over the input limit (off = none)"},
    {.key = "dialect", .flag = "--dialect", .alias = "--upstream-dialect", .kind = TGX_OPT_ENUM,
     .store = TGX_ST_INT, .off = S(dialect), .parse = tg_dialect_parse, .arg = "none|vllm|llamacpp",
     .help = "the upstream's thinking-budget field (openai = none)"},
    {.key = "thinking_mode", .flag = "--thinking-mode", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT,
     .off = S(thinking_mode), .parse = think_parse, .arg = "auto|conservative|balanced|aggressive|disabled|adaptive",
     .help = "thinking budget when the request names no mode"},
    {.key = "default_max_tokens", .flag = "--default-max-tokens", .alias = "--max-output-tokens-default",
     .kind = TGX_OPT_UINT, .store = TGX_ST_U64, .off = S(default_max_tokens), .lo = 0, .hi = TG__TOKENS_MAX,
     .arg = "N", .help = "configured output default (0: none)"},
    TOKENS("escalated_output_tokens", "--escalated-output-tokens", escalated_max_tokens,
           "escalation target on finish_reason length (0 disables)"),
    TOKENS("capped_default", "--capped-default", capped_default, "last-resort output default"),
    TOKENS("output_limit", "--output-limit", output_limit, "known model output limit (0: unknown)"),
    TOKENS("min_max_tokens", "--min-max-tokens", min_max_tokens, "smallest max_tokens accepted"),
    TOKENS("abs_max_tokens", "--abs-max-tokens", abs_max_tokens, "absolute max_tokens cap"),
    {.key = "safe_fraction", .flag = "--safe-fraction", .kind = TGX_OPT_NUM, .store = TGX_ST_PPM,
     .off = S(safe_fraction_ppm), .lo = 1e-6, .hi = 1, .arg = "F", .help = "safe maximum = context x F"},
    {.key = "safe_fraction_large", .flag = "--safe-fraction-large", .kind = TGX_OPT_NUM, .store = TGX_ST_PPM,
     .off = S(safe_fraction_large_ppm), .lo = 1e-6, .hi = 1, .arg = "F",
     .help = "... above --large-context-threshold"},
    TOKENS("large_context_threshold", "--large-context-threshold", large_context_threshold,
           "context above which the large fraction applies"),
    TOKENS("thinking_base", "--thinking-base", thinking_base,
           "base thinking budget (default: the reasoning catalogue)"),
    TOKENS("min_answer_tokens", "--min-answer-tokens", min_answer_tokens, "answer room kept beside thinking"),
    TOKENS("summary_max_tokens", "--summary-max-tokens", summary_max_tokens,
           "truncation summarize: the summary's output budget, kept free in the compacted chat"),
};
const size_t tg__n_settings_opts = sizeof tg__settings_opts / sizeof tg__settings_opts[0];
