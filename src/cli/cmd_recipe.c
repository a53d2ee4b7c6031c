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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "tokgate/policy.h"
#include "tokgate/reasoning.h"
#include "tokgate/recipe.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tokgate recipe --engine E (--model PATH | --model-name NAME) [options]\n"
            "\n"
            "Print the engine's launch line with the context tokgate derives (as tokgate\n"
            "limits), the tokgate config section and the opencode.json limit block.\n"
            "\n"
            "  --engine E                vllm (--max-model-len), sglang (--context-length),\n"
            "                            llama-server (-c, -np), ollama (Modelfile num_ctx)\n"
            "  --model PATH, --model-name NAME, --free-vram-mib N[,N...], --tp N,\n"
            "  --kv-type T, --min-free-mib N, --activation-mib N, --prefill-tps X,\n"
            "  --target-prefill-s S, --max-prompt-tokens N, --output-reserve N\n"
            "                            the derivation's inputs, as tokgate limits takes them\n"
            "  --parallel N              slots (llama-server -np, Ollama OLLAMA_NUM_PARALLEL;\n"
            "                            default 1). llama-server's -c is the KV cache of all\n"
            "                            slots together: each slot gets -c / -np, so the\n"
            "                            recipe prints -c = slot context x N, with the slot\n"
            "                            context a multiple of 256 (llama.cpp pads slots to 256)\n"
            "                            and the VRAM ceiling shared by the N slots\n"
            "  --served-name NAME        the name clients use (default: the model file's name)\n"
            "  --port N                  the engine's port (default vllm 8001, sglang 30000,\n"
            "                            llama-server 8080, ollama 11434)\n"
            "  --thinking-mode M         auto, conservative, balanced, aggressive, disabled:\n"
            "                            the thinking budget the engine gets by default\n"
            "  --max-thinking-tokens N   an explicit thinking budget (mode custom)\n"
            "  --format F                shell (default) or systemd (drop-in files)\n"
            "  --json                    one JSON object on stdout\n");
}

typedef struct opts {
    tg_cli_limits_flags lf;
    tg_recipe_input in;
    int json, have_budget, mode;
    uint64_t budget;
} opts;

static int recipe_flag(int argc, char **argv, int *i, opts *o) {
    const char *a = argv[*i], *v = NULL;
    uint64_t u = 0;
    static const char *const flags[] = {"--engine", "--parallel", "--served-name", "--port", "--thinking-mode",
                                        "--max-thinking-tokens", "--format", NULL};
    size_t k = 0;
    while (flags[k] && !tg_cli_is_flag(a, flags[k])) k++;
    if (!flags[k]) return 1;
    if (!(v = tg_cli_flag_value("recipe", argc, argv, i, flags[k]))) return 2;
    int e;
    switch (k) {
    case 0:
        if ((e = tg_engine_parse(v)) < 0) break;
        o->in.engine = (tg_engine)e;
        return 0;
    case 1:
        if (tg_cli_parse_u64(v, TG_RECIPE_MAX_PARALLEL, &u) || u == 0) break;
        o->in.parallel = (uint32_t)u;
        return 0;
    case 2: o->in.served_name = v; return 0;
    case 3:
        if (tg_cli_parse_u64(v, 65535, &u) || u == 0) break;
        o->in.port = (uint16_t)u;
        return 0;
    case 4:
        if ((o->mode = tg_thinking_mode_parse(v)) < 0 || o->mode == TG_THINK_CUSTOM) break;
        o->in.thinking_mode = v;
        return 0;
    case 5:
        if (tg_cli_parse_u64(v, (uint64_t)1 << 40, &o->budget)) break;
        o->have_budget = 1;
        return 0;
    case 6:
        if (strcmp(v, "shell") == 0) o->in.format = TG_RECIPE_SHELL;
        else if (strcmp(v, "systemd") == 0) o->in.format = TG_RECIPE_SYSTEMD;
        else break;
        return 0;
    }
    fprintf(stderr, "tokgate recipe: %s '%s' is not valid (see tokgate recipe --help)\n", flags[k], v);
    return 2;
}

static int parse_args(int argc, char **argv, opts *o) {
    int have_engine = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) { o->json = 1; continue; }
        if (tg_cli_is_flag(argv[i], "--engine")) have_engine = 1;
        int rc = recipe_flag(argc, argv, &i, o);
        if (rc == 1) rc = tg_cli_parse_limits_flag("recipe", argc, argv, &i, &o->lf);
        if (rc == 2) return 2;
        if (rc == 1) {
            fprintf(stderr, "tokgate recipe: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!have_engine) {
        fprintf(stderr, "tokgate recipe: --engine is required (vllm, sglang, llama-server, ollama)\n");
        return 2;
    }
    return tg_cli_limits_flags_done("recipe", &o->lf) ? 2 : 0;
}

/* The thinking budget the engine gets by default: the policy's rule
 * (src/policy/thinking.c) over the model's base budget. */
static void thinking_defaults(opts *o) {
    const char *name = o->lf.model ? o->lf.model : o->lf.model_name;
    const tg_reasoning_info *ri = tg_reasoning_lookup(name, strlen(name));
    if (!ri || ri->base_budget == 0) return;
    o->in.reasoning = 1;
    o->in.reasoning_family = ri->family;
    uint64_t base = ri->base_budget;
    if (o->have_budget) { o->in.thinking_budget = o->budget; return; }
    switch (o->in.thinking_mode ? o->mode : TG_THINK_AUTO) {
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
    tg_limits_config_init(&o.lf.cfg);
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    thinking_defaults(&o);
    char name[256];
    o.in.model = o.lf.model ? o.lf.model : o.lf.model_name;
    o.in.model_is_path = o.lf.model != NULL;
    if (!o.in.served_name) o.in.served_name = default_served_name(o.in.model, name, sizeof name);

    tg_error err = {0};
    tg_model_profile p;
    tg_status st = o.lf.model ? tg_model_load(o.lf.model, &p, &err) : tg_model_from_name(o.lf.model_name, &p, &err);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate recipe: %s\n", err.msg);
        return 2;
    }
    if (p.fallback) fprintf(stderr, "tokgate recipe: warning: %s\n", p.note);
    tg_recipe r;
    st = tg_recipe_build(&p, &o.lf.cfg, &o.in, &r, &err);
    tg_model_profile_free(&p);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate recipe: %s\n", err.msg);
        return st == TG_EINVAL && strstr(err.msg, "no context fits") ? 1 : 2;
    }
    rc = print_recipe(&o, &r);
    tg_recipe_free(&r);
    return rc;
}
