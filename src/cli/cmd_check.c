/*
 * cmd_check.c: `tokgate check`: apply the request budget policy to one
 * OpenAI-style request read from stdin and print the decision, the same
 * decision the gateway would apply (both call tg_budget_decide, the one
 * budget path: count, limits, policy, error):
 *
 *   {"action": "forward"|"truncate"|"reject", "status": 200|4xx,
 *    "request": {...}|null, "error": {"error": {...}}|null,
 *    "budget": {"context", "input", "prompt_tokens", "prompt_tokens_exact",
 *               "safe_max", "max_tokens", "max_tokens_source", "escalate_to",
 *               "thinking_tokens", "requested_max_tokens", "clamped",
 *               "thinking_disabled", "truncation": {...}}}
 *
 * Limits: --context N gives the context directly and tg_limits_from_context
 * splits it as the gateway splits the context its upstream enforces (output =
 * --output-reserve, default 8192, at most half the context; input = context
 * - output; a --max-prompt-tokens backstop clamps the context, as in tokgate
 * limits).
 * Otherwise they are derived from the model (--model PATH: GGUF, HF directory
 * or config.json; --model-name NAME: the built-in catalogue, an unknown name
 * getting 8192 tokens) with the VRAM/throughput flags of `tokgate limits`
 * (tg_limits_derive).
 *
 * Counting: with --tokenizer PATH (tokenizer.json, a directory holding one,
 * or a GGUF), or else the tokenizer of --model PATH when it has one, a raw prompt is counted exactly as the server tokenizes it (with
 * the special tokens the post-processor adds, e.g. BOS) and keep_recent cuts
 * it with that tokenizer (tg_keep_last_counted); a chat is rendered with the
 * model's chat template (the --model file's, else the tokenizer's, as the
 * gateway takes it) and counted exactly (tg_chat_count; llama-server's
 * request rewriting with --dialect llamacpp), its per-message counts kept for
 * truncation. Without a tokenizer the estimator is used.
 *
 * The model's name (for messages and the reasoning catalogue) is
 * --model-name, else the request's "model", else the loaded profile's name.
 *
 * TOKGATE_MAX_OUTPUT_TOKENS is read here and passed to the (pure) policy.
 *
 * Exit: 0 whenever a decision was made (a refusal included), 2 for bad usage
 * or unusable input (not JSON, no messages or prompt) with the reason on
 * stderr, followed by the status, code and param the gateway answers the
 * same body with ("[status 400, code invalid_json, param -]"), 1 for other
 * failures.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"
#include "tokgate/policy.h"
#include "tokgate/reasoning.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"

static void usage(FILE *out) {
    fprintf(out,
        "usage: tokgate check (--context N | --model PATH | --model-name NAME) [options] < request.json\n"
        "\n"
        "Applies the request budget policy and prints the decision as JSON.\n"
        "\n"
        "model and limits:\n"
        "  --context N                 context window in tokens (limits given directly)\n"
        "  --output-reserve N          output reserve (default 8192); input = context - reserve\n"
        "  --max-prompt-tokens N       static backstop that clamps the context\n"
        "  --model PATH                GGUF or HF model directory: derive limits (needs the model layer)\n"
        "  --model-name NAME           model name for messages and the reasoning catalogue\n"
        "  --tokenizer PATH            count with this tokenizer (tokenizer.json, its directory, or GGUF)\n"
        "  --free-vram-mib N --tp N --kv-type T --min-free-mib N --activation-mib N\n"
        "  --prefill-tps N --target-prefill-s N   limits derivation (as in tokgate limits)\n"
        "policy settings:\n"
        "  --overflow clamp|reject     prompt + max_tokens above context (alias --on-overflow)\n"
        "  --truncation none|keep_recent|drop_oldest_turns   (alias: off = none)\n"
        "  --dialect none|vllm|llamacpp  upstream thinking field (alias --upstream-dialect; openai = none)\n"
        "  --default-max-tokens N      configured default (alias --max-output-tokens-default)\n"
        "  --escalated-output-tokens N escalation target (default 64000; 0 disables)\n"
        "  --capped-default N          last-resort default (default 8000)\n"
        "  --output-limit N            known model output limit\n"
        "  --min-max-tokens N          minimum accepted max_tokens (default 1)\n"
        "  --abs-max-tokens N          absolute cap (default 500000)\n"
        "  --safe-fraction F           safe maximum = context x F (default 0.8)\n"
        "  --safe-fraction-large F     ... above the threshold (default 0.9)\n"
        "  --large-context-threshold N context above which the large fraction applies (100000)\n"
        "  --thinking-mode M           auto|conservative|balanced|aggressive|disabled\n"
        "  --thinking-base N           base thinking budget (default: reasoning catalogue)\n"
        "  --min-answer-tokens N       answer room beside thinking (default 1024)\n"
        "environment:\n"
        "  TOKGATE_MAX_OUTPUT_TOKENS   output default between config and the capped default\n"
        "exit: 0 a decision was made, 2 bad usage or unusable input, 1 other failure\n");
}

static int parse_u64(const char *flag, const char *s, uint64_t *out) {
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "tokgate check: %s needs a non-negative integer, got '%s'\n", flag,
                s ? s : "");
        return 0;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || *end) {
        fprintf(stderr, "tokgate check: %s needs a non-negative integer, got '%s'\n", flag, s);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

#define MAX_MIB ((uint64_t)1 << 30)
#define MAX_TOKENS ((uint64_t)1 << 40)

typedef struct opts {
    uint64_t context;
    int have_context;
    const char *model_path, *model_name, *tokenizer;
    int derive_flags; /* a flag of the limits derivation was given */
    int have_tps, have_target;
    tg_limits_config cfg;
    uint64_t thinking_base;
    int have_thinking_base;
} opts;

static int parse_args(int argc, char **argv, opts *o, tg_model_settings *s) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        /* --flag=value, as tokgate limits accepts */
        char name[64];
        const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        int inline_value = 0;
        if (eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            a = name;
            v = eq + 1;
            inline_value = 1;
        }
#define FLAG(name) (strcmp(a, name) == 0)
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "tokgate check: %s needs a value\n", a); return 0; } if (!inline_value) i++; } while (0)
#define U64(dst) do { NEED_VALUE(); if (!parse_u64(a, v, (dst))) return 0; } while (0)
        int m;
        uint64_t u = 0;
        tg_error e;
        if (FLAG("--context")) { U64(&o->context); o->have_context = 1; }
        else if (FLAG("--output-reserve")) U64(&o->cfg.output_reserve);
        else if (FLAG("--max-prompt-tokens")) {
            U64(&u);
            if (u == 0) { fprintf(stderr, "tokgate check: --max-prompt-tokens must be at least 1\n"); return 0; }
            o->cfg.max_prompt_tokens = u;
        }
        else if (FLAG("--model")) { NEED_VALUE(); o->model_path = v; }
        else if (FLAG("--model-name")) { NEED_VALUE(); o->model_name = v; }
        else if (FLAG("--tokenizer")) { NEED_VALUE(); o->tokenizer = v; }
        else if (FLAG("--free-vram-mib")) {
            NEED_VALUE();
            if (tg_cli_parse_free_vram("check", v, &o->cfg)) return 0;
            o->derive_flags = 1;
        } else if (FLAG("--tp")) {
            NEED_VALUE();
            if (tg_cli_parse_u64(v, TG_LIMITS_MAX_TP, &u) || u == 0) {
                fprintf(stderr, "tokgate check: --tp '%s' is not a degree in 1..%u\n", v, TG_LIMITS_MAX_TP);
                return 0;
            }
            o->cfg.tp = (uint32_t)u;
            o->derive_flags = 1;
        } else if (FLAG("--kv-type")) {
            NEED_VALUE();
            if (tg_kv_type_parse(v, &o->cfg.kv_type, &e) != TG_OK) {
                fprintf(stderr, "tokgate check: %s\n", e.msg);
                return 0;
            }
            o->derive_flags = 1;
        } else if (FLAG("--min-free-mib") || FLAG("--activation-mib")) {
            NEED_VALUE();
            if (tg_cli_parse_u64(v, MAX_MIB, &u)) {
                fprintf(stderr, "tokgate check: %s '%s' is not a whole number of MiB\n", a, v);
                return 0;
            }
            if (FLAG("--min-free-mib")) o->cfg.min_free_bytes = u * TG_MIB;
            else o->cfg.activation_bytes = u * TG_MIB;
            o->derive_flags = 1;
        } else if (FLAG("--prefill-tps") || FLAG("--target-prefill-s")) {
            NEED_VALUE();
            double dv = 0;
            if (tg_cli_parse_double(v, &dv) || dv <= 0 || dv > 1e9) {
                fprintf(stderr, "tokgate check: %s '%s' is not a positive number\n", a, v);
                return 0;
            }
            if (FLAG("--prefill-tps")) { o->cfg.prefill_tps = dv; o->have_tps = 1; }
            else { o->cfg.target_prefill_s = dv; o->have_target = 1; }
            o->derive_flags = 1;
        }
        else if (FLAG("--overflow") || FLAG("--on-overflow")) {
            NEED_VALUE();
            if ((m = tg_overflow_mode_parse(v)) < 0) {
                fprintf(stderr, "tokgate check: %s must be clamp or reject, got '%s'\n", a, v);
                return 0;
            }
            s->overflow = (tg_overflow_mode)m;
        } else if (FLAG("--truncation")) {
            NEED_VALUE();
            if ((m = tg_truncation_mode_parse(v)) < 0) {
                fprintf(stderr, "tokgate check: --truncation must be none, keep_recent or "
                                "drop_oldest_turns, got '%s'\n", v);
                return 0;
            }
            s->truncation = (tg_truncation_mode)m;
        } else if (FLAG("--dialect") || FLAG("--upstream-dialect")) {
            NEED_VALUE();
            if ((m = tg_dialect_parse(v)) < 0) {
                fprintf(stderr, "tokgate check: %s must be none, vllm or llamacpp, got '%s'\n", a, v);
                return 0;
            }
            s->dialect = (tg_dialect)m;
        } else if (FLAG("--thinking-mode")) {
            NEED_VALUE();
            if ((m = tg_thinking_mode_parse(v)) < 0 || m == TG_THINK_CUSTOM) {
                fprintf(stderr, "tokgate check: --thinking-mode must be auto, conservative, "
                                "balanced, aggressive or disabled, got '%s'\n", v);
                return 0;
            }
            s->thinking_mode = (tg_thinking_mode)m;
        }
        else if (FLAG("--default-max-tokens") || FLAG("--max-output-tokens-default")) U64(&s->default_max_tokens);
        else if (FLAG("--escalated-output-tokens")) U64(&s->escalated_max_tokens);
        else if (FLAG("--capped-default")) U64(&s->capped_default);
        else if (FLAG("--output-limit")) U64(&s->output_limit);
        else if (FLAG("--min-max-tokens")) U64(&s->min_max_tokens);
        else if (FLAG("--abs-max-tokens")) U64(&s->abs_max_tokens);
        else if (FLAG("--min-answer-tokens")) U64(&s->min_answer_tokens);
        else if (FLAG("--safe-fraction") || FLAG("--safe-fraction-large")) {
            NEED_VALUE();
            double f = 0;
            if (tg_cli_parse_double(v, &f) || f < 1e-6 || f > 1) {
                fprintf(stderr, "tokgate check: %s '%s' is not a fraction in [0.000001, 1]\n", a, v);
                return 0;
            }
            uint32_t ppm = (uint32_t)(f * 1e6 + 0.5);
            if (FLAG("--safe-fraction")) s->safe_fraction_ppm = ppm;
            else s->safe_fraction_large_ppm = ppm;
        }
        else if (FLAG("--large-context-threshold")) U64(&s->large_context_threshold);
        else if (FLAG("--thinking-base")) { U64(&o->thinking_base); o->have_thinking_base = 1; }
        else {
            fprintf(stderr, "tokgate check: unknown option '%s' (see --help)\n", a);
            return 0;
        }
#undef U64
#undef NEED_VALUE
#undef FLAG
    }
    return 1;
}

int tg_cmd_check(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    tg_model_settings settings;
    tg_model_settings_init(&settings);
    opts o;
    memset(&o, 0, sizeof o);
    tg_limits_config_init(&o.cfg);
    if (!parse_args(argc, argv, &o, &settings)) return 2;

    if (o.have_tps != o.have_target) {
        fprintf(stderr, "tokgate check: --prefill-tps and --target-prefill-s go together\n");
        return 2;
    }
    if (o.have_context && o.derive_flags) {
        fprintf(stderr, "tokgate check: --context gives the limits directly; the VRAM and "
                        "throughput flags derive them from --model: give one or the other\n");
        return 2;
    }
    if (!o.have_context && !o.model_path && !o.model_name) {
        fprintf(stderr, "tokgate check: give --context N, --model PATH or --model-name NAME\n");
        return 2;
    }
    if (o.have_context && (o.context == 0 || o.context > MAX_TOKENS)) {
        fprintf(stderr, "tokgate check: --context must be in 1..2^40\n");
        return 2;
    }

    uint64_t env_out = 0;
    const char *env = getenv("TOKGATE_MAX_OUTPUT_TOKENS");
    if (env && *env && !parse_u64("TOKGATE_MAX_OUTPUT_TOKENS", env, &env_out)) return 2;

    tg_limits lim;
    memset(&lim, 0, sizeof lim);
    tg_model_profile prof;
    memset(&prof, 0, sizeof prof);
    int have_prof = 0;
    tg_error err;
    memset(&err, 0, sizeof err);
    if (!o.have_context) {
        tg_status ms = o.model_path ? tg_model_load(o.model_path, &prof, &err)
                                    : tg_model_from_name(o.model_name, &prof, &err);
        if (ms != TG_OK) {
            fprintf(stderr, "tokgate check: %s\n", err.msg);
            return 2;
        }
        have_prof = 1;
        if (tg_limits_derive(&prof, &o.cfg, &lim, &err) != TG_OK) {
            fprintf(stderr, "tokgate check: deriving limits: %s\n", err.msg);
            tg_model_profile_free(&prof);
            return 2;
        }
    } else if (tg_limits_from_context(o.context, &o.cfg, &lim, &err) != TG_OK) {
        fprintf(stderr, "tokgate check: %s\n", err.msg);
        return 2;
    }

    tgx_buf body;
    tgx_buf_init(&body, TG_REQUEST_MAX_BYTES);
    if (tgx_read_fd(STDIN_FILENO, TG_REQUEST_MAX_BYTES, &body, &err) != TG_OK) {
        tgx_buf_free(&body);
        tg_model_profile_free(&prof);
        fprintf(stderr, "tokgate check: reading the request: %s\n", err.msg);
        return 2;
    }
    tg_request req;
    tg_status st = tg_request_parse(body.data, body.len, &req, &err);
    tgx_buf_free(&body);
    if (st != TG_OK) {
        tg_model_profile_free(&prof);
        /* What the gateway answers for the same body: status, code, param. */
        fprintf(stderr, "tokgate check: unusable request: %s [status %d, code %s, param %s]\n", err.msg,
                err.api.status, err.api.code[0] ? err.api.code : "-", err.api.param[0] ? err.api.param : "-");
        return 2;
    }

    const char *name = o.model_name ? o.model_name : req.model;
    if (!name && have_prof && prof.name[0]) name = prof.name;
    settings.name = name;
    if (o.have_thinking_base) {
        settings.thinking_base = o.thinking_base;
    } else if (name) {
        const tg_reasoning_info *ri = tg_reasoning_lookup(name, strlen(name));
        if (ri) settings.thinking_base = ri->base_budget;
    }

    tg_tokenizer *tok = NULL;
    if (o.tokenizer && tg_tokenizer_load(o.tokenizer, &tok, &err) != TG_OK) {
        fprintf(stderr, "tokgate check: --tokenizer %s: %s\n", o.tokenizer, err.msg);
        tg_request_free(&req);
        tg_model_profile_free(&prof);
        return 2;
    }
    if (!tok && o.model_path && tg_tokenizer_load(o.model_path, &tok, &err) != TG_OK) {
        /* The model's own tokenizer (an HF directory's tokenizer.json, a
         * GGUF's vocabulary) when it has a usable one; else estimate. */
        fprintf(stderr, "tokgate check: note: no tokenizer from %s (%s); prompt tokens are "
                        "estimated\n", o.model_path, err.msg);
        tok = NULL;
    }
    /* The model's chat template, so a chat is counted exactly as the upstream
     * renders it; taken as the gateway takes it: the model file's (what
     * llama-server renders), else the tokenizer's. */
    tg_chat *chat = NULL;
    const char *tpl_paths[2] = {o.model_path, o.tokenizer};
    for (size_t i = 0; tok && req.kind == TG_REQ_CHAT && !chat && i < 2; i++) {
        if (!tpl_paths[i]) continue;
        if (tg_chat_load(tpl_paths[i], &chat, &err) != TG_OK) {
            fprintf(stderr, "tokgate check: note: no chat template from %s (%s)\n", tpl_paths[i], err.msg);
            chat = NULL;
        }
    }
    if (tok && req.kind == TG_REQ_CHAT && !chat)
        fprintf(stderr, "tokgate check: note: the chat count is the sum of its messages, not exact\n");
    /* The upstream's rendering: llama-server rewrites the request first and
     * adds BOS; vLLM and transformers render as HF does and add none. */
    tg_budget_model bm = {&settings, &lim, tok, chat,
                          settings.dialect == TG_DIALECT_LLAMACPP ? TG_CHAT_LLAMACPP : TG_CHAT_HF, NULL,
                          env_out};
    tg_budget_decision bd;
    int rc = 1;
    st = tg_budget_decide(&req, &bm, &bd, &err);
    if (bd.note[0]) fprintf(stderr, "tokgate check: note: %s\n", bd.note);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate check: %s\n", err.msg);
    } else {
        json_t *out = tg_decision_to_json(&bd.d);
        char *txt = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
        if (txt) {
            printf("%s\n", txt);
            rc = fflush(stdout) == 0 ? 0 : 1;
        } else {
            fprintf(stderr, "tokgate check: out of memory printing the decision\n");
        }
        free(txt);
        json_decref(out);
    }
    tg_budget_decision_free(&bd);
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
    tg_request_free(&req);
    tg_model_profile_free(&prof);
    return rc;
}
