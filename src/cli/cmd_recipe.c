/*
 * cmd_recipe.c: `tokgate recipe`: the launch line of an inference engine with
 * the context `tokgate limits` derives, the tokgate config model section and
 * the opencode.json `limit` block that go with it (tokgate/recipe.h builds
 * them; docs/limits.md "Launch recipes").
 *
 *   tokgate recipe --engine vllm|sglang|llama-server|ollama
 *     (--model PATH | --model-name NAME) [limits flags, as tokgate limits]
 *     [--parallel N] [--served-name NAME] [--port N]
 *     [--thinking-mode M] [--max-thinking-tokens N]
 *     [--format shell|systemd] [--json]
 *
 * Exit: 0 printed; 1 no context fits; 2 bad usage or a model tokgate cannot
 * read.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "tokgate/policy.h"
#include "tokgate/reasoning.h"
#include "tokgate/recipe.h"

typedef struct opts {
    const char *model, *model_name, *served_name;
    int engine, format, json, mode;
    uint32_t parallel, port;
    uint64_t budget;
    int have_mode, have_budget;
    tg_recipe_input in;
} opts;

static int format_parse(const char *s) {
    return strcmp(s, "shell") == 0 ? TG_RECIPE_SHELL : strcmp(s, "systemd") == 0 ? TG_RECIPE_SYSTEMD : -1;
}

/* The mode names of the policy, less "custom" (that is --max-thinking-tokens)
 * and "adaptive" (learned by a running gateway, not a launch setting). */
static int mode_parse(const char *s) {
    int m = tg_thinking_mode_parse(s);
    return m == TG_THINK_CUSTOM || m == TG_THINK_ADAPTIVE ? -1 : m;
}

#define O(f) offsetof(opts, f)
static const tgx_opt recipe_opts[] = {
    {.flag = "--engine", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = O(engine), .parse = tg_engine_parse,
     .arg = "vllm|sglang|llama-server|ollama",
     .help = "vllm (--max-model-len), sglang (--context-length), llama-server (-c, -np), ollama (num_ctx)"},
    {.flag = "--model", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = O(model), .arg = "PATH",
     .help = "GGUF file, HF model directory or config.json"},
    {.flag = "--model-name", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = O(model_name), .arg = "NAME",
     .help = "a model known by name (built-in catalogue; an unknown name gets 8192 tokens)"},
    {.flag = "--parallel", .kind = TGX_OPT_UINT, .store = TGX_ST_U32, .off = O(parallel), .lo = 1,
     .hi = TG_RECIPE_MAX_PARALLEL, .arg = "N",
     .help = "slots (llama-server -np, Ollama OLLAMA_NUM_PARALLEL); they share the VRAM ceiling"},
    {.flag = "--served-name", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = O(served_name),
     .flags = TGX_OPT_NONEMPTY, .arg = "NAME", .help = "the name clients use (default: the model file's name)"},
    {.flag = "--port", .kind = TGX_OPT_UINT, .store = TGX_ST_U32, .off = O(port), .lo = 1, .hi = 65535,
     .arg = "N", .help = "the engine's port (vllm 8001, sglang 30000, llama-server 8080, ollama 11434)"},
    {.flag = "--thinking-mode", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = O(mode), .parse = mode_parse,
     .arg = "auto|conservative|balanced|aggressive|disabled", .help = "the thinking budget the engine gets by default"},
    {.flag = "--max-thinking-tokens", .kind = TGX_OPT_UINT, .store = TGX_ST_U64, .off = O(budget), .lo = 0,
     .hi = TG__TOKENS_MAX, .arg = "N", .help = "an explicit thinking budget (mode custom)"},
    {.flag = "--format", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = O(format), .parse = format_parse,
     .arg = "shell|systemd", .help = "a shell line (default), or systemd drop-in files"},
    {.flag = "--json", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT, .off = O(json), .help = "one JSON object on stdout"},
};
#undef O
#define N_RECIPE_OPTS (sizeof recipe_opts / sizeof recipe_opts[0])

static void usage(FILE *f) {
    fprintf(f,
            "usage: tokgate recipe --engine E (--model PATH | --model-name NAME) [options]\n"
            "\n"
            "Print the engine's launch line with the context tokgate derives (as tokgate\n"
            "limits), the tokgate config section and the opencode.json limit block.\n"
            "llama-server's -c is the KV cache of all slots together: each of the -np slots\n"
            "gets -c / -np, so the recipe prints -c = slot context x N, the slot context a\n"
            "multiple of 256 (llama.cpp pads a slot up to 256) within the derivation.\n"
            "\n");
    tg__limits_inputs defaults;
    tg__limits_inputs_init(&defaults);
    tg_cli_options_help(f, recipe_opts, N_RECIPE_OPTS, NULL);
    tg_cli_options_help(f, tg__hardware_opts, tg__n_hardware_opts, &defaults);
    tg_cli_options_help(f, tg__budget_opts, tg__n_budget_opts, &defaults);
}

static int parse_args(int argc, char **argv, opts *o, tg__limits_inputs *li) {
    const tgx_opt_table tabs[] = {{recipe_opts, N_RECIPE_OPTS},
                                  {tg__hardware_opts, tg__n_hardware_opts},
                                  {tg__budget_opts, tg__n_budget_opts}};
    void *const targets[] = {o, li, li};
    uint64_t given[3] = {0, 0, 0};
    o->engine = -1;
    tg_status st = tg_cli_options("recipe", tabs, targets, given, 3, argc, argv);
    if (st != TG_OK) {
        if (st == TG_ENOTFOUND) usage(stderr);
        return 2;
    }
    if (o->engine < 0) {
        fprintf(stderr, "tokgate recipe: --engine is required (vllm, sglang, llama-server, ollama)\n");
        return 2;
    }
    if (!o->model == !o->model_name) {
        fprintf(stderr, "tokgate recipe: give exactly one of --model PATH and --model-name NAME\n");
        return 2;
    }
    if (!(given[1] & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "prefill_tps")) !=
        !(given[1] & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "target_prefill_s"))) {
        fprintf(stderr, "tokgate recipe: --prefill-tps and --target-prefill-s go together\n");
        return 2;
    }
    for (size_t k = 0; k < N_RECIPE_OPTS; k++) {
        if (!(given[0] & ((uint64_t)1 << k))) continue;
        if (strcmp(recipe_opts[k].flag, "--thinking-mode") == 0) o->have_mode = 1;
        if (strcmp(recipe_opts[k].flag, "--max-thinking-tokens") == 0) o->have_budget = 1;
    }
    return tg_cli_resolve_nvml("recipe", li);
}

/* The thinking budget the engine gets by default: the policy's rule
 * (src/policy/thinking.c) over the model's base budget. */
static void thinking_defaults(opts *o) {
    const char *name = o->model ? o->model : o->model_name;
    const tg_reasoning_info *ri = tg_reasoning_lookup(name, strlen(name));
    if (!ri || ri->base_budget == 0) return;
    o->in.reasoning = 1;
    o->in.reasoning_family = ri->family;
    uint64_t base = ri->base_budget;
    if (o->have_budget) { o->in.thinking_budget = o->budget; return; }
    switch (o->have_mode ? o->mode : TG_THINK_AUTO) {
    case TG_THINK_CONSERVATIVE: o->in.thinking_budget = base / 4 + (base % 4 >= 2); break;
    case TG_THINK_AGGRESSIVE: o->in.thinking_budget = base * 2; break;
    case TG_THINK_DISABLED: o->in.thinking_budget = 0; break;
    default: o->in.thinking_budget = base; break;
    }
}

/* The model file's name without directory and .gguf: what clients call it. */
static const char *default_served_name(const char *path, char *buf, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b && b[1] ? b + 1 : path;
    snprintf(buf, cap, "%s", b);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    if (n > 5 && strcmp(buf + n - 5, ".gguf") == 0) buf[n - 5] = '\0';
    return buf;
}

static int print_recipe(const opts *o, const tg_recipe *r) {
    if (o->json) {
        printf("{\"engine\": \"%s\", \"format\": \"%s\", \"context\": %llu, \"input\": %llu, \"output\": %llu, "
               "\"binding\": \"%s\", \"slot_context\": %llu, \"total_context\": %llu, \"parallel\": %u,\n"
               " \"tokgate_model\": %s,\n \"opencode_limit\": %s,\n \"launch\": ",
               tg_engine_name(o->in.engine), o->in.format == TG_RECIPE_SYSTEMD ? "systemd" : "shell",
               (unsigned long long)r->limits.context, (unsigned long long)r->limits.input,
               (unsigned long long)r->limits.output, tg_binding_name(r->limits.binding),
               (unsigned long long)r->slot_context, (unsigned long long)r->total_context, r->parallel,
               r->config_json, r->opencode_json);
        json_t *s = json_string(r->launch);
        char *t = s ? json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        printf("%s}\n", t ? t : "null");
        free(t);
        json_decref(s);
        return 0;
    }
    printf("# %s: context %llu per sequence (input %llu + output %llu), bound by %s\n%s\n",
           tg_engine_name(o->in.engine), (unsigned long long)r->limits.context,
           (unsigned long long)r->limits.input, (unsigned long long)r->limits.output,
           tg_binding_name(r->limits.binding), r->launch);
    printf("# tokgate config: an entry of \"models\" (docs/gateway.md)\n%s\n\n", r->config_json);
    printf("# opencode.json: provider.<id>.models.<model>.limit\n%s\n", r->opencode_json);
    return 0;
}

int tg_cmd_recipe(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    opts o;
    memset(&o, 0, sizeof o);
    tg__limits_inputs li;
    tg__limits_inputs_init(&li);
    int rc = parse_args(argc, argv, &o, &li);
    if (rc) return rc;
    char name[256];
    o.in.engine = (tg_engine)o.engine;
    o.in.format = (tg_recipe_format)o.format;
    o.in.parallel = o.parallel;
    o.in.port = (uint16_t)o.port;
    /* an explicit budget is the policy's base in auto mode (the config takes no "custom") */
    o.in.thinking_mode = o.have_budget ? NULL : o.have_mode ? tg_thinking_mode_name((tg_thinking_mode)o.mode) : NULL;
    o.in.policy_thinking_base = o.have_budget ? o.budget : 0;
    o.in.model = o.model ? o.model : o.model_name;
    o.in.model_is_path = o.model != NULL;
    o.in.served_name = o.served_name ? o.served_name : default_served_name(o.in.model, name, sizeof name);
    thinking_defaults(&o);

    tg_error err = {0};
    tg_model_profile p;
    tg_status st = o.model ? tg_model_load(o.model, &p, &err) : tg_model_from_name(o.model_name, &p, &err);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate recipe: %s\n", err.msg);
        return 2;
    }
    if (p.fallback) fprintf(stderr, "tokgate recipe: warning: %s\n", p.note);
    tg_recipe r;
    st = tg_recipe_build(&p, &li.cfg, &o.in, &r, &err);
    tg_model_profile_free(&p);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate recipe: %s\n", err.msg);
        return st == TG_EINVAL && strstr(err.msg, "no context fits") ? 1 : 2;
    }
    rc = print_recipe(&o, &r);
    tg_recipe_free(&r);
    return rc;
}
