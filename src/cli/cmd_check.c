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
 * Flags: the policy settings and the limits inputs are the shared option
 * tables (policy/settings_keys.h, limits/limits_keys.h): the same flags,
 * bounds and messages as `tokgate serve` and `tokgate limits`, the same values
 * as a gateway model section's "policy" and "hardware" keys. --flag=value
 * works for every flag.
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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "limits/limits_keys.h"
#include "policy/settings_keys.h"
#include "tokgate/limits.h"
#include "tokgate/model.h"
#include "tokgate/policy.h"
#include "tokgate/reasoning.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"
#include "util/file.h"

/* The flags of this verb alone; the limits inputs and the policy settings
 * are the shared tables (limits/limits_keys.h, policy/settings_keys.h: the
 * same flags in limits and serve, the same keys in a gateway model section). */
typedef struct opts {
    uint64_t context;
    const char *model_path, *model_name, *tokenizer;
} opts;

static const tgx_opt check_opts[] = {
    {.flag = "--context", .kind = TGX_OPT_UINT, .store = TGX_ST_U64, .off = offsetof(opts, context), .lo = 1,
     .hi = TG__TOKENS_MAX, .arg = "N", .help = "context window in tokens (limits given directly)"},
    {.flag = "--model", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = offsetof(opts, model_path),
     .arg = "PATH", .help = "GGUF, HF model directory or config.json: derive the limits"},
    {.flag = "--model-name", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = offsetof(opts, model_name),
     .arg = "NAME", .help = "model name for messages and the reasoning catalogue"},
    {.flag = "--tokenizer", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = offsetof(opts, tokenizer),
     .arg = "PATH", .help = "count with this tokenizer (tokenizer.json, its directory, or GGUF)"},
};
#define N_CHECK_OPTS (sizeof check_opts / sizeof check_opts[0])

static void usage(FILE *out) {
    fprintf(out,
        "usage: tokgate check (--context N | --model PATH | --model-name NAME) [options] < request.json\n"
        "\n"
        "Applies the request budget policy and prints the decision as JSON.\n"
        "\n"
        "model and limits:\n");
    tg__limits_inputs li;
    tg__limits_inputs_init(&li);
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_cli_options_help(out, check_opts, N_CHECK_OPTS, NULL);
    tg_cli_options_help(out, tg__budget_opts, tg__n_budget_opts, &li);
    fprintf(out, "limits derivation (as in tokgate limits; not with --context):\n");
    tg_cli_options_help(out, tg__hardware_opts, tg__n_hardware_opts, &li);
    fprintf(out, "policy settings:\n");
    tg_cli_options_help(out, tg__settings_opts, tg__n_settings_opts, &s);
    fprintf(out,
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

/* Reads the flags; 0 after a message on stderr when they are unusable. */
static int parse_args(int argc, char **argv, opts *o, tg__limits_inputs *li, tg_model_settings *s,
                      int *thinking_base_given) {
    const tgx_opt_table tabs[] = {{check_opts, N_CHECK_OPTS},
                                  {tg__budget_opts, tg__n_budget_opts},
                                  {tg__hardware_opts, tg__n_hardware_opts},
                                  {tg__settings_opts, tg__n_settings_opts}};
    void *const targets[] = {o, li, li, s};
    uint64_t given[4] = {0, 0, 0, 0};
    if (tg_cli_options("check", tabs, targets, given, 4, argc, argv) != TG_OK) return 0;
    *thinking_base_given = (given[3] & tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "thinking_base")) != 0;
    if (!(given[2] & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "prefill_tps")) !=
        !(given[2] & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "target_prefill_s"))) {
        fprintf(stderr, "tokgate check: --prefill-tps and --target-prefill-s go together\n");
        return 0;
    }
    if ((given[0] & 1u) && given[2]) {
        fprintf(stderr, "tokgate check: --context gives the limits directly; the VRAM and "
                        "throughput flags derive them from --model: give one or the other\n");
        return 0;
    }
    if (!(given[0] & 1u) && !o->model_path && !o->model_name) {
        fprintf(stderr, "tokgate check: give --context N, --model PATH or --model-name NAME\n");
        return 0;
    }
    return tg_cli_resolve_nvml("check", li) == 0;
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
    tg__limits_inputs li;
    tg__limits_inputs_init(&li);
    int have_thinking_base = 0;
    if (!parse_args(argc, argv, &o, &li, &settings, &have_thinking_base)) return 2;

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
    if (!o.context) {
        tg_status ms = o.model_path ? tg_model_load(o.model_path, &prof, &err)
                                    : tg_model_from_name(o.model_name, &prof, &err);
        if (ms != TG_OK) {
            fprintf(stderr, "tokgate check: %s\n", err.msg);
            return 2;
        }
        have_prof = 1;
        if (tg_limits_derive(&prof, &li.cfg, &lim, &err) != TG_OK) {
            fprintf(stderr, "tokgate check: deriving limits: %s\n", err.msg);
            tg_model_profile_free(&prof);
            return 2;
        }
    } else if (tg_limits_from_context(o.context, &li.cfg, &lim, &err) != TG_OK) {
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
    if (!have_thinking_base && name) {
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
                          env_out, NULL, 0};
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
