/*
 * cmd_check.c: `tokgate check`: apply the request budget policy to one
 * OpenAI-style request read from stdin and print the decision, the same
 * decision the gateway would apply (both call tg_policy_decide):
 *
 *   {"action": "forward"|"truncate"|"reject", "status": 200|4xx,
 *    "request": {...}|null, "error": {"error": {...}}|null,
 *    "budget": {"context", "input", "prompt_tokens", "prompt_tokens_exact",
 *               "safe_max", "max_tokens", "max_tokens_source", "escalate_to",
 *               "thinking_tokens", "requested_max_tokens", "clamped",
 *               "thinking_disabled", "truncation": {...}}}
 *
 * Limits: --context N gives the context directly (output = --output-reserve,
 * default 8192, at most the context; input = context - output; a
 * --max-prompt-tokens backstop clamps the context, as in tokgate limits).
 * Otherwise they are derived from the model (--model PATH: GGUF, HF directory
 * or config.json; --model-name NAME: the built-in catalogue, an unknown name
 * getting 8192 tokens) with the VRAM/throughput flags of `tokgate limits`
 * (tg_limits_derive).
 *
 * Counting: with --tokenizer PATH (tokenizer.json, a directory holding one,
 * or a GGUF), or else the tokenizer of --model PATH when it has one, a raw prompt is counted exactly as the server tokenizes it (with
 * the special tokens the post-processor adds, e.g. BOS) and keep_recent cuts
 * it with that tokenizer (tg_keep_last_counted); a chat is rendered with the
 * model's chat template and counted exactly (tg_chat_count; llama-server's
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
 * stderr, 1 for other failures.
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

/* Counting with a real tokenizer: FLAGS as the server would tokenize. */
typedef struct tok_counter {
    const tg_tokenizer *tok;
    unsigned flags;
} tok_counter;

static tg_status count_with_tokenizer(void *user, const char *text, size_t len, uint64_t *tokens,
                                      tg_error *err) {
    const tok_counter *c = user;
    size_t n = 0;
    tg_status s = tg_tokenizer_count(c->tok, text, len, c->flags, &n, err);
    if (s == TG_OK) *tokens = (uint64_t)n;
    return s;
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
    } else {
        lim.context = o.context;
        lim.binding = TG_BIND_NATIVE;
        lim.ceiling_native = o.context;
        lim.ceiling_vram = TG_CEILING_NONE;
        lim.ceiling_throughput = TG_CEILING_NONE;
        if (li.cfg.max_prompt_tokens && li.cfg.max_prompt_tokens < lim.context) {
            lim.context = li.cfg.max_prompt_tokens;
            lim.binding = TG_BIND_CLAMP;
        }
        lim.output = li.cfg.output_reserve < lim.context ? li.cfg.output_reserve : lim.context;
        lim.input = lim.context - lim.output;
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
        fprintf(stderr, "tokgate check: unusable request: %s\n", err.msg);
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
    /* A raw prompt gets the specials the server adds (BOS); a chat message's
     * text does not (its template adds them). */
    tok_counter tc = {tok, req.kind == TG_REQ_COMPLETION ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u};
    tg_counter counter = {count_with_tokenizer, &tc};
    tg_policy_hooks hooks = {tg_keep_last_counted, NULL, &counter};

    tg_prompt_counts counts;
    int rc = 1;
    tg_decision d;
    memset(&d, 0, sizeof d);
    if (tg_request_count(&req, tok ? count_with_tokenizer : tg_estimate_count, tok ? &tc : NULL,
                         tok != NULL, &counts, &err) != TG_OK) {
        fprintf(stderr, "tokgate check: counting the prompt: %s\n", err.msg);
        tg_tokenizer_free(tok);
        tg_request_free(&req);
        tg_model_profile_free(&prof);
        return 1;
    }
    if (tok && req.kind == TG_REQ_CHAT) {
        /* The exact count: the model's chat template rendered and tokenized
         * as the upstream does (llama-server rewrites the request first and
         * adds BOS; vLLM and transformers render as HF does and add none). */
        const char *tpl_path = o.tokenizer ? o.tokenizer : o.model_path;
        tg_chat *chat = NULL;
        tg_error cerr;
        memset(&cerr, 0, sizeof cerr);
        if (tpl_path && tg_chat_load(tpl_path, &chat, &cerr) == TG_OK) {
            tg_chat_options copt;
            memset(&copt, 0, sizeof copt);
            copt.add_generation_prompt = -1;
            int llama = settings.dialect == TG_DIALECT_LLAMACPP;
            copt.dialect = llama ? TG_CHAT_LLAMACPP : TG_CHAT_HF;
            size_t n = 0;
            if (tg_chat_count(chat, tok, req.root, &copt, llama ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u, &n,
                              &cerr) == TG_OK)
                tg_prompt_counts_set_exact(&counts, (uint64_t)n);
            else
                fprintf(stderr, "tokgate check: note: chat template: %s; the chat count is the sum of "
                                "its messages, not exact\n", cerr.msg);
            tg_chat_free(chat);
        } else if (tpl_path) {
            fprintf(stderr, "tokgate check: note: no chat template from %s (%s); the chat count is the "
                            "sum of its messages, not exact\n", tpl_path, cerr.msg);
        }
    }
    tg_policy_input in = {&settings, &lim, &req, &counts, env_out, tok ? &hooks : NULL};
    st = tg_policy_decide(&in, &d, &err);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate check: %s\n", err.msg);
    } else {
        json_t *out = tg_decision_to_json(&d);
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
    tg_decision_free(&d);
    tg_prompt_counts_free(&counts);
    tg_tokenizer_free(tok);
    tg_request_free(&req);
    tg_model_profile_free(&prof);
    return rc;
}
