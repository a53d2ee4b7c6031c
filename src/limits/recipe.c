/*
 * limits/recipe.c: launch recipes (tokgate/recipe.h): the derived context as
 * each engine takes it, with the tokgate config section and the opencode
 * `limit` block that advertise the same numbers.
 *
 * Where each engine's flags come from:
 *   vLLM     `vllm serve MODEL`, --max-model-len, --served-model-name, --port,
 *            --tensor-parallel-size (docs.vllm.ai, serving/openai_compatible_server
 *            and "vllm serve" arguments); --reasoning-parser with the parser
 *            names registered in vllm/reasoning/ (qwen3, deepseek_r1, glm45,
 *            openai_gptoss, minimax_m2_append_think); --default-chat-template-kwargs
 *            (vllm-project/vllm PR #31343, merged December 2025: server-wide
 *            chat_template_kwargs defaults, request kwargs override them; a vLLM
 *            from before that PR rejects the flag).
 *   SGLang   `python -m sglang.launch_server`, --model-path, --context-length,
 *            --served-model-name, --port, --tp-size, --reasoning-parser with the
 *            names of ReasoningParser.DetectorMap
 *            (python/sglang/srt/parser/reasoning_parser.py: qwen3, deepseek-r1,
 *            glm45, gpt-oss, minimax-append-think). SGLang takes the thinking
 *            budget per request (chat_template_kwargs), which tokgate's policy
 *            sends; there is no launch default to print.
 *   llama-server  llama.cpp common/arg.cpp: -m, --alias, --port, -c/--ctx-size
 *            (env LLAMA_ARG_CTX_SIZE), -np/--parallel (LLAMA_ARG_N_PARALLEL),
 *            -ctk/-ctv cache types, --jinja, --reasoning-budget N ("-1 for
 *            unrestricted, 0 for immediate end, N>0 for token budget",
 *            LLAMA_ARG_THINK_BUDGET; builds before the N>0 budget took only -1
 *            and 0). src/llama-context.cpp: n_ctx is padded up to a multiple
 *            of 256, each slot gets n_ctx / n_seq_max padded up to 256 (without
 *            --kv-unified), so a slot context that is a multiple of 256 and
 *            -c = slot x np give every slot exactly the slot context.
 *   Ollama   Modelfile `FROM`, `PARAMETER num_ctx` (docs/modelfile.md), env
 *            OLLAMA_CONTEXT_LENGTH and OLLAMA_NUM_PARALLEL for `ollama serve`
 *            (docs/context-length.mdx, docs/faq.md). num_ctx is per request;
 *            the server allocates num_ctx x parallel.
 */
#include "tokgate/recipe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Every text is built in a buffer reserved at once: with model and name under
 * RECIPE_MAX_ARG bytes (each quoted at most 4x, a few times over) no append
 * can fail after the reservation. */
#define RECIPE_MAX_TEXT ((size_t)1 << 16)
#define RECIPE_MAX_ARG 4096u
#define LLAMA_CTX_PAD 256u

static const char *const engine_names[] = {"vllm", "sglang", "llama-server", "ollama"};

int tg_engine_parse(const char *s) {
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, engine_names[i]) == 0) return i;
    return -1;
}

const char *tg_engine_name(tg_engine e) {
    return (unsigned)e < 4 ? engine_names[e] : "unknown";
}

/* The engine's reasoning parser for a reasoning family (tg_reasoning_info.family). */
static const char *reasoning_parser(tg_engine e, const char *family) {
    static const struct {
        const char *prefix, *vllm, *sglang;
    } rows[] = {
        {"MiniMax", "minimax_m2_append_think", "minimax-append-think"},
        {"GLM", "glm45", "glm45"},
        {"DeepSeek-R1", "deepseek_r1", "deepseek-r1"},
        {"QwQ", "deepseek_r1", "deepseek-r1"}, /* QwQ's template opens <think> itself, as R1's */
        {"gpt-oss", "openai_gptoss", "gpt-oss"},
        {"Qwen3", "qwen3", "qwen3"},
    };
    if (!family || (e != TG_ENGINE_VLLM && e != TG_ENGINE_SGLANG)) return NULL;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strncmp(family, rows[i].prefix, strlen(rows[i].prefix)) == 0)
            return e == TG_ENGINE_VLLM ? rows[i].vllm : rows[i].sglang;
    return NULL;
}

static uint16_t default_port(tg_engine e) {
    switch (e) {
    case TG_ENGINE_VLLM: return 8001; /* vLLM's own 8000 is where tokgate listens */
    case TG_ENGINE_SGLANG: return 30000;
    case TG_ENGINE_LLAMA_SERVER: return 8080;
    case TG_ENGINE_OLLAMA: return 11434;
    }
    return 8080;
}

/* The slot limits: tg_limits_derive's rule with the VRAM ceiling of `np`
 * sequences (each keeps its KV and its fixed state). */
static void settle_slots(tg_limits *l, const tg_limits_config *c, uint32_t np) {
    if (np > 1 && l->ceiling_vram != TG_CEILING_NONE) {
        int64_t fixed = l->kv_fixed_bytes_per_card > (uint64_t)INT64_MAX / 4 / np
                            ? INT64_MAX / 4
                            : (int64_t)(l->kv_fixed_bytes_per_card * np);
        int64_t budget = (int64_t)l->tightest_free_bytes - (int64_t)c->activation_bytes -
                         (int64_t)c->min_free_bytes - fixed;
        l->vram_budget_bytes = budget;
        if (budget <= 0) l->ceiling_vram = 0;
        else if (l->kv_bytes_per_token_per_card > 0)
            l->ceiling_vram = (uint64_t)budget / (l->kv_bytes_per_token_per_card * np);
    }
    l->context = l->ceiling_native;
    l->binding = TG_BIND_NATIVE;
    if (l->ceiling_vram != TG_CEILING_NONE && l->ceiling_vram < l->context) {
        l->context = l->ceiling_vram;
        l->binding = TG_BIND_VRAM;
    }
    if (l->ceiling_throughput != TG_CEILING_NONE && l->ceiling_throughput < l->context) {
        l->context = l->ceiling_throughput;
        l->binding = TG_BIND_THROUGHPUT;
    }
    if (c->max_prompt_tokens > 0 && c->max_prompt_tokens < l->context) {
        l->context = c->max_prompt_tokens;
        l->binding = TG_BIND_CLAMP;
    }
}

static void split_output(tg_limits *l, uint64_t context, const tg_limits_config *c) {
    l->context = context;
    l->output = c->output_reserve < context / 2 ? c->output_reserve : context / 2;
    l->input = context - l->output;
}

/* Appends one argument, quoted for a POSIX shell (systemd = 0) or for a
 * systemd command line (systemd = 1: double quotes, '%' and '$' doubled). */
static void put_arg(tgx_buf *b, const char *s, int systemd) {
    int plain = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@+=,-", *p)) plain = 0;
    tgx_buf_putc(b, ' ');
    if (plain) {
        tgx_buf_puts(b, s);
        return;
    }
    tgx_buf_putc(b, systemd ? '"' : '\'');
    for (const char *p = s; *p; p++) {
        if (!systemd && *p == '\'') tgx_buf_puts(b, "'\\''");
        else if (systemd && (*p == '"' || *p == '\\')) { tgx_buf_putc(b, '\\'); tgx_buf_putc(b, *p); }
        else if (systemd && (*p == '%' || *p == '$')) { tgx_buf_putc(b, *p); tgx_buf_putc(b, *p); }
        else tgx_buf_putc(b, *p);
    }
    tgx_buf_putc(b, systemd ? '"' : '\'');
}

static void json_str(tgx_buf *b, const char *s) {
    tgx_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { tgx_buf_putc(b, '\\'); tgx_buf_putc(b, (char)*p); }
        else if (*p < 0x20) tgx_buf_printf(b, "\\u%04x", *p);
        else tgx_buf_putc(b, (char)*p);
    }
    tgx_buf_putc(b, '"');
}

static void put_u64(tgx_buf *b, const char *flag, uint64_t v) {
    tgx_buf_printf(b, " %s %llu", flag, (unsigned long long)v);
}

typedef struct ctx {
    const tg_recipe_input *in;
    const tg_limits_config *c;
    const tg_recipe *r;
    const char *name;
    uint16_t port;
    int systemd;
} ctx;

/* The thinking default as a chat_template_kwargs JSON object (vLLM). */
static void thinking_kwargs(char *out, size_t cap, const tg_recipe_input *in) {
    if (in->thinking_budget == 0) snprintf(out, cap, "{\"enable_thinking\": false}");
    else snprintf(out, cap, "{\"max_thinking_tokens\": %llu}", (unsigned long long)in->thinking_budget);
}

static void vllm_line(tgx_buf *b, const ctx *x) {
    tgx_buf_puts(b, "vllm serve");
    put_arg(b, x->in->model, x->systemd);
    tgx_buf_puts(b, " --served-model-name");
    put_arg(b, x->name, x->systemd);
    put_u64(b, "--port", x->port);
    put_u64(b, "--max-model-len", x->r->slot_context);
    if (x->c->tp > 1) put_u64(b, "--tensor-parallel-size", x->c->tp);
    if (x->r->reasoning_parser) {
        char kw[96];
        thinking_kwargs(kw, sizeof kw, x->in);
        tgx_buf_printf(b, " --reasoning-parser %s --default-chat-template-kwargs", x->r->reasoning_parser);
        put_arg(b, kw, x->systemd);
    }
}

static void sglang_line(tgx_buf *b, const ctx *x) {
    tgx_buf_puts(b, "python3 -m sglang.launch_server --model-path");
    put_arg(b, x->in->model, x->systemd);
    tgx_buf_puts(b, " --served-model-name");
    put_arg(b, x->name, x->systemd);
    put_u64(b, "--port", x->port);
    put_u64(b, "--context-length", x->r->slot_context);
    if (x->c->tp > 1) put_u64(b, "--tp-size", x->c->tp);
    if (x->r->reasoning_parser) tgx_buf_printf(b, " --reasoning-parser %s", x->r->reasoning_parser);
}

static void llama_line(tgx_buf *b, const ctx *x) {
    tgx_buf_puts(b, "llama-server -m");
    put_arg(b, x->in->model, x->systemd);
    tgx_buf_puts(b, " --alias");
    put_arg(b, x->name, x->systemd);
    put_u64(b, "--port", x->port);
    put_u64(b, "-c", x->r->total_context);
    put_u64(b, "-np", x->r->parallel);
    if (x->c->kv_type != TG_KV_F16)
        tgx_buf_printf(b, " -ctk %s -ctv %s", tg_kv_type_name(x->c->kv_type), tg_kv_type_name(x->c->kv_type));
    if (x->in->reasoning) put_u64(b, "--jinja --reasoning-budget", x->in->thinking_budget);
}

static void ollama_modelfile(tgx_buf *b, const ctx *x) {
    tgx_buf_printf(b, "FROM %s\nPARAMETER num_ctx %llu\n", x->in->model, (unsigned long long)x->r->slot_context);
}

static void shell_text(tgx_buf *b, const ctx *x) {
    switch (x->in->engine) {
    case TG_ENGINE_VLLM: vllm_line(b, x); break;
    case TG_ENGINE_SGLANG: sglang_line(b, x); break;
    case TG_ENGINE_LLAMA_SERVER: llama_line(b, x); break;
    case TG_ENGINE_OLLAMA:
        tgx_buf_puts(b, "cat > Modelfile <<'EOF'\n");
        ollama_modelfile(b, x);
        tgx_buf_puts(b, "EOF\nollama create");
        put_arg(b, x->name, 0);
        tgx_buf_puts(b, " -f Modelfile");
        if (x->r->parallel > 1)
            tgx_buf_printf(b, "\n# the server: OLLAMA_NUM_PARALLEL=%u ollama serve", x->r->parallel);
        break;
    }
    tgx_buf_putc(b, '\n');
}

static void systemd_text(tgx_buf *b, const ctx *x) {
    const char *unit = tg_engine_name(x->in->engine);
    tgx_buf_printf(b, "# /etc/systemd/system/%s.service.d/tokgate.conf\n[Service]\n", unit);
    switch (x->in->engine) {
    case TG_ENGINE_VLLM:
    case TG_ENGINE_SGLANG:
        /* an empty ExecStart= clears the unit's own before the override */
        tgx_buf_puts(b, "ExecStart=\nExecStart=");
        if (x->in->engine == TG_ENGINE_VLLM) vllm_line(b, x);
        else sglang_line(b, x);
        tgx_buf_putc(b, '\n');
        break;
    case TG_ENGINE_LLAMA_SERVER:
        /* llama-server reads these when -c/-np are not on its command line */
        tgx_buf_printf(b, "Environment=LLAMA_ARG_CTX_SIZE=%llu\nEnvironment=LLAMA_ARG_N_PARALLEL=%u\n",
                       (unsigned long long)x->r->total_context, x->r->parallel);
        if (x->in->reasoning)
            tgx_buf_printf(b, "Environment=LLAMA_ARG_THINK_BUDGET=%llu\n",
                           (unsigned long long)x->in->thinking_budget);
        break;
    case TG_ENGINE_OLLAMA:
        tgx_buf_printf(b, "Environment=OLLAMA_CONTEXT_LENGTH=%llu\nEnvironment=OLLAMA_NUM_PARALLEL=%u\n",
                       (unsigned long long)x->r->slot_context, x->r->parallel);
        tgx_buf_puts(b, "\n# Modelfile (ollama create");
        put_arg(b, x->name, 0);
        tgx_buf_puts(b, " -f Modelfile); its num_ctx wins over OLLAMA_CONTEXT_LENGTH\n");
        ollama_modelfile(b, x);
        break;
    }
}

static char *config_section(const ctx *x, int model_is_path) {
    tgx_buf b;
    tgx_buf_init(&b, RECIPE_MAX_TEXT);
    if (tgx_buf_reserve(&b, RECIPE_MAX_TEXT) != TG_OK) return NULL;
    const tg_limits *l = &x->r->limits;
    tgx_buf_puts(&b, "{\"name\": ");
    json_str(&b, x->name);
    tgx_buf_printf(&b, ", \"upstream\": \"http://127.0.0.1:%u\", \"upstream_model\": ", x->port);
    json_str(&b, x->name);
    if (model_is_path) {
        tgx_buf_puts(&b, ", \"model\": ");
        json_str(&b, x->in->model);
    }
    tgx_buf_printf(&b, ", \"limits\": {\"context\": %llu, \"input\": %llu, \"output\": %llu}",
                   (unsigned long long)l->context, (unsigned long long)l->input, (unsigned long long)l->output);
    if (x->in->thinking_mode || x->in->policy_thinking_base) {
        tgx_buf_puts(&b, ", \"policy\": {");
        if (x->in->thinking_mode) {
            tgx_buf_puts(&b, "\"thinking_mode\": ");
            json_str(&b, x->in->thinking_mode);
        }
        if (x->in->policy_thinking_base)
            tgx_buf_printf(&b, "%s\"thinking_base\": %llu", x->in->thinking_mode ? ", " : "",
                           (unsigned long long)x->in->policy_thinking_base);
        tgx_buf_putc(&b, '}');
    }
    tgx_buf_puts(&b, "}");
    return tgx_buf_detach(&b, NULL);
}

static char *launch_text(const ctx *x) {
    tgx_buf b;
    tgx_buf_init(&b, RECIPE_MAX_TEXT);
    if (tgx_buf_reserve(&b, RECIPE_MAX_TEXT) != TG_OK) return NULL;
    if (x->systemd) systemd_text(&b, x);
    else shell_text(&b, x);
    return tgx_buf_detach(&b, NULL);
}

tg_status tg_recipe_build(const tg_model_profile *p, const tg_limits_config *c, const tg_recipe_input *in,
                          tg_recipe *out, tg_error *err) {
    memset(out, 0, sizeof *out);
    if (!in->model || !in->model[0] || strlen(in->model) >= RECIPE_MAX_ARG)
        return tg_error_set(err, TG_EINVAL, "the recipe needs a model path or name of 1 to %u bytes",
                            RECIPE_MAX_ARG - 1);
    const char *name = in->served_name && in->served_name[0] ? in->served_name : p->name;
    if (!name[0] || strlen(name) >= RECIPE_MAX_ARG)
        return tg_error_set(err, TG_EINVAL, "the served name must be 1 to %u bytes", RECIPE_MAX_ARG - 1);
    if ((unsigned)in->engine > TG_ENGINE_OLLAMA)
        return tg_error_set(err, TG_EINVAL, "unknown engine %d", (int)in->engine);
    uint32_t np = in->parallel ? in->parallel : 1;
    if (np > TG_RECIPE_MAX_PARALLEL)
        return tg_error_set(err, TG_EINVAL, "%u parallel slots, above the %u limit", np, TG_RECIPE_MAX_PARALLEL);
    if (np > 1 && in->engine != TG_ENGINE_LLAMA_SERVER && in->engine != TG_ENGINE_OLLAMA)
        return tg_error_set(err, TG_EINVAL, "parallel slots (%u) are for llama-server and ollama; %s shares "
                            "one paged KV pool between sequences", np, tg_engine_name(in->engine));
    tg_recipe r;
    memset(&r, 0, sizeof r);
    tg_status st = tg_limits_derive(p, c, &r.limits, err);
    if (st != TG_OK) return st;
    settle_slots(&r.limits, c, np);
    uint64_t slot = r.limits.context;
    /* llama.cpp pads a slot up to 256: ask for a multiple of 256, never more than derived */
    if (in->engine == TG_ENGINE_LLAMA_SERVER && slot >= LLAMA_CTX_PAD) slot -= slot % LLAMA_CTX_PAD;
    if (slot == 0)
        return tg_error_set(err, TG_EINVAL, "no context fits %u slot(s): the VRAM budget on the tightest card "
                            "is %lld bytes", np, (long long)r.limits.vram_budget_bytes);
    split_output(&r.limits, slot, c);
    r.slot_context = slot;
    r.parallel = np;
    r.total_context = in->engine == TG_ENGINE_LLAMA_SERVER ? slot * np : slot;
    r.reasoning_parser = in->reasoning ? reasoning_parser(in->engine, in->reasoning_family) : NULL;
    ctx x = {in, c, &r, name, in->port ? in->port : default_port(in->engine), in->format == TG_RECIPE_SYSTEMD};
    r.launch = launch_text(&x);
    r.config_json = config_section(&x, in->model_is_path);
    char oc[96];
    snprintf(oc, sizeof oc, "{\"context\": %llu, \"output\": %llu}", (unsigned long long)r.limits.context,
             (unsigned long long)r.limits.output);
    r.opencode_json = strdup(oc);
    if (!r.launch || !r.config_json || !r.opencode_json) {
        tg_recipe_free(&r);
        return tg_error_set(err, TG_ENOMEM, "out of memory building the recipe");
    }
    *out = r;
    return TG_OK;
}

void tg_recipe_free(tg_recipe *r) {
    if (!r) return;
    free(r->launch);
    free(r->config_json);
    free(r->opencode_json);
    memset(r, 0, sizeof *r);
}
