/*
 * cmd_limits.c: `tokgate limits`: derive {context, input, output} for a model
 * on given hardware (the rule is in tokgate/limits.h and docs/limits.md).
 *
 *   tokgate limits (--model PATH | --model-name NAME) [--free-vram-mib N[,N...]]
 *     [--tp N] [--kv-type T] [--min-free-mib N] [--activation-mib N]
 *     [--prefill-tps X --target-prefill-s S] [--max-prompt-tokens N]
 *     [--output-reserve N] [--table] [--json]
 *   tokgate limits --list-gpus [--gpus I|UUID[,...]] [--json]
 *     every card NVML sees: index, UUID, free and total MiB, in the shape of
 *     nvidia-smi --query-gpu=index,uuid,memory.free,memory.total
 *     --format=csv (tests/gpu/nvml_check.sh compares the two), and which
 *     cards --gpus / $CUDA_VISIBLE_DEVICES select (issue 20).
 *
 * The derivation flags are the shared option tables (limits/limits_keys.h):
 * the same flags, bounds and messages in `tokgate check` and `tokgate serve`,
 * and the same values as a gateway model section's "hardware" keys.
 *
 * Exit: 0 derived; 1 derived but no context fits (context 0), or a card
 * NVML could not read (--list-gpus); 2 bad usage, a model tokgate cannot
 * read, or no NVML. Errors go to stderr.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"

typedef struct opts {
    const char *model, *model_name;
    int table, json, list_gpus;
} opts;

/* The flags of this verb alone; the derivation inputs are the shared tables
 * (limits/limits_keys.h: the same flags in check and serve, the same keys in
 * a gateway model section's "hardware"). */
static const tgx_opt limits_opts[] = {
    {.flag = "--model", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = offsetof(opts, model),
     .arg = "PATH", .help = "GGUF file, HF model directory or config.json"},
    {.flag = "--model-name", .kind = TGX_OPT_STR, .store = TGX_ST_BORROW, .off = offsetof(opts, model_name),
     .arg = "NAME", .help = "a model known by name (built-in catalogue; an unknown name gets 8192 tokens)"},
    {.flag = "--table", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT, .off = offsetof(opts, table),
     .help = "ladder of context sizes: KV per card, memory left, verdict"},
    {.flag = "--json", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT, .off = offsetof(opts, json),
     .help = "one JSON object on stdout"},
    {.flag = "--list-gpus", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT, .off = offsetof(opts, list_gpus),
     .help = "print NVML's readings of every card (index, uuid, free and total MiB) and exit"},
};

static void usage(FILE *f) {
    fprintf(f,
            "usage: tokgate limits (--model PATH | --model-name NAME) [options]\n"
            "       tokgate limits --list-gpus [--gpus I|UUID[,...]] [--json]\n"
            "\n"
            "Derive a model's usable {context, input, output} from its architecture and the\n"
            "hardware: context = min(native, VRAM ceiling, throughput ceiling), then the\n"
            "max-prompt backstop; output = the reserve; input = context - output.\n"
            "\n");
    tg__limits_inputs defaults;
    tg__limits_inputs_init(&defaults);
    tg_cli_options_help(f, limits_opts, sizeof limits_opts / sizeof limits_opts[0], NULL);
    tg_cli_options_help(f, tg__hardware_opts, tg__n_hardware_opts, &defaults);
    tg_cli_options_help(f, tg__budget_opts, tg__n_budget_opts, &defaults);
}

static int parse_args(int argc, char **argv, opts *o, tg__limits_inputs *in) {
    const tgx_opt_table tabs[] = {{limits_opts, sizeof limits_opts / sizeof limits_opts[0]},
                                  {tg__hardware_opts, tg__n_hardware_opts},
                                  {tg__budget_opts, tg__n_budget_opts}};
    void *const targets[] = {o, in, in};
    uint64_t given[3] = {0, 0, 0};
    tg_status st = tg_cli_options("limits", tabs, targets, given, 3, argc, argv);
    if (st != TG_OK) {
        if (st == TG_ENOTFOUND) usage(stderr);
        return 2;
    }
    if (o->list_gpus) return 0;
    if (!o->model == !o->model_name) {
        fprintf(stderr, "tokgate limits: give exactly one of --model PATH and --model-name NAME\n");
        usage(stderr);
        return 2;
    }
    if (!(given[1] & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "prefill_tps")) !=
        !(given[1] & tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "target_prefill_s"))) {
        fprintf(stderr, "tokgate limits: --prefill-tps and --target-prefill-s go together\n");
        return 2;
    }
    return tg_cli_resolve_nvml("limits", in);
}

static json_t *ceiling_json(uint64_t v) {
    return v == TG_CEILING_NONE ? json_null() : json_integer((json_int_t)v);
}

static json_t *to_json(const tg_limits_config *cfg, const tg_model_profile *p, const tg_limits *l,
                       const tg_ladder_row *rows, size_t n_rows) {
    json_t *j = json_object();
    json_object_set_new(j, "model", tg_cli_profile_json(p));
    json_object_set_new(j, "kv_type", json_string(tg_kv_type_name(cfg->kv_type)));
    json_object_set_new(j, "tp", json_integer(cfg->tp));
    json_object_set_new(j, "kv_bytes_per_token", json_integer((json_int_t)l->kv_bytes_per_token));
    json_object_set_new(j, "kv_bytes_per_token_per_card", json_integer((json_int_t)l->kv_bytes_per_token_per_card));
    json_object_set_new(j, "kv_fixed_bytes", json_integer((json_int_t)l->kv_fixed_bytes));
    json_object_set_new(j, "kv_fixed_bytes_per_card", json_integer((json_int_t)l->kv_fixed_bytes_per_card));
    json_object_set_new(j, "kv_sliding_bytes", json_integer((json_int_t)l->kv_sliding_bytes));
    json_object_set_new(j, "kv_recurrent_bytes", json_integer((json_int_t)l->kv_recurrent_bytes));
    json_object_set_new(j, "context", json_integer((json_int_t)l->context));
    json_object_set_new(j, "input", json_integer((json_int_t)l->input));
    json_object_set_new(j, "output", json_integer((json_int_t)l->output));
    json_object_set_new(j, "binding", json_string(tg_binding_name(l->binding)));
    json_t *c = json_object();
    json_object_set_new(c, "native", ceiling_json(l->ceiling_native));
    json_object_set_new(c, "vram", ceiling_json(l->ceiling_vram));
    json_object_set_new(c, "throughput", ceiling_json(l->ceiling_throughput));
    json_object_set_new(j, "ceilings", c);
    json_object_set_new(j, "vram_budget_bytes",
                        cfg->n_cards ? json_integer((json_int_t)l->vram_budget_bytes) : json_null());
    json_t *in = json_object();
    json_t *cards = json_array();
    for (size_t i = 0; i < cfg->n_cards; i++)
        json_array_append_new(cards, json_integer((json_int_t)(cfg->free_vram[i] / TG_MIB)));
    json_object_set_new(in, "free_vram_mib", cards);
    json_object_set_new(in, "min_free_mib", json_integer((json_int_t)(cfg->min_free_bytes / TG_MIB)));
    json_object_set_new(in, "activation_mib", json_integer((json_int_t)(cfg->activation_bytes / TG_MIB)));
    json_object_set_new(in, "prefill_tps", cfg->prefill_tps > 0 ? json_real(cfg->prefill_tps) : json_null());
    json_object_set_new(in, "target_prefill_s", cfg->target_prefill_s > 0 ? json_real(cfg->target_prefill_s) : json_null());
    json_object_set_new(in, "max_prompt_tokens",
                        cfg->max_prompt_tokens ? json_integer((json_int_t)cfg->max_prompt_tokens) : json_null());
    json_object_set_new(in, "output_reserve", json_integer((json_int_t)cfg->output_reserve));
    json_object_set_new(j, "inputs", in);
    if (rows) {
        json_t *t = json_array();
        for (size_t i = 0; i < n_rows; i++) {
            json_t *r = json_object();
            json_object_set_new(r, "context", json_integer((json_int_t)rows[i].context));
            json_object_set_new(r, "kv_bytes_per_card", json_integer((json_int_t)rows[i].kv_bytes_per_card));
            json_object_set_new(r, "left_bytes", cfg->n_cards ? json_integer((json_int_t)rows[i].left_bytes) : json_null());
            json_object_set_new(r, "verdict", json_string(tg_verdict_name(rows[i].verdict)));
            json_object_set_new(r, "over_throughput", json_boolean(rows[i].over_throughput));
            json_object_set_new(r, "over_clamp", json_boolean(rows[i].over_clamp));
            json_object_set_new(r, "derived", json_boolean(rows[i].derived));
            json_array_append_new(t, r);
        }
        json_object_set_new(j, "table", t);
    }
    return j;
}

static void ceiling_text(char *out, size_t cap, uint64_t v) {
    if (v == TG_CEILING_NONE) snprintf(out, cap, "-");
    else snprintf(out, cap, "%llu", (unsigned long long)v);
}

static void print_human(const tg_limits_config *cfg, const tg_model_profile *p, const tg_limits *l,
                        const tg_ladder_row *rows, size_t n_rows) {
    char a[32], b[32], c[32];
    printf("model       %s (%s%s%s)\n", p->name, tg_model_source_name(p->source), p->arch[0] ? ", " : "", p->arch);
    if (p->note[0]) printf("note        %s\n", p->note);
    tg_cli_human_bytes(a, sizeof a, (double)l->kv_bytes_per_token);
    tg_cli_human_bytes(b, sizeof b, (double)l->kv_bytes_per_token_per_card);
    printf("KV cache    %s, tp %u: %llu B/token (%s); per card %llu B/token (%s)\n",
           tg_kv_type_name(cfg->kv_type), cfg->tp, (unsigned long long)l->kv_bytes_per_token, a,
           (unsigned long long)l->kv_bytes_per_token_per_card, b);
    tg_cli_human_bytes(a, sizeof a, (double)l->kv_fixed_bytes);
    tg_cli_human_bytes(b, sizeof b, (double)l->kv_fixed_bytes_per_card);
    printf("fixed KV    %llu B (%s); per card %llu B (%s)\n", (unsigned long long)l->kv_fixed_bytes, a,
           (unsigned long long)l->kv_fixed_bytes_per_card, b);
    if (cfg->n_cards) {
        tg_cli_human_bytes(a, sizeof a, (double)l->vram_budget_bytes);
        printf("VRAM budget %s per card (tightest %llu MiB - activation %llu MiB - floor %llu MiB - fixed)\n", a,
               (unsigned long long)(l->tightest_free_bytes / TG_MIB),
               (unsigned long long)(cfg->activation_bytes / TG_MIB),
               (unsigned long long)(cfg->min_free_bytes / TG_MIB));
    }
    ceiling_text(a, sizeof a, l->ceiling_native);
    ceiling_text(b, sizeof b, l->ceiling_vram);
    ceiling_text(c, sizeof c, l->ceiling_throughput);
    printf("ceilings    native %s | vram %s | throughput %s", a, b, c);
    if (cfg->max_prompt_tokens) printf(" | clamp %llu", (unsigned long long)cfg->max_prompt_tokens);
    printf("\n");
    printf("context     %llu tokens (bound by %s)\n", (unsigned long long)l->context, tg_binding_name(l->binding));
    printf("output      %llu\n", (unsigned long long)l->output);
    printf("input       %llu\n", (unsigned long long)l->input);
    if (!rows) return;
    printf("\n%10s  %14s  %18s  %s\n", "context", "KV per card", "left on tightest", "verdict");
    for (size_t i = 0; i < n_rows; i++) {
        const tg_ladder_row *r = &rows[i];
        tg_cli_human_bytes(a, sizeof a, (double)r->kv_bytes_per_card);
        if (cfg->n_cards) tg_cli_human_bytes(b, sizeof b, (double)r->left_bytes);
        else snprintf(b, sizeof b, "-");
        printf("%10llu  %14s  %18s  %s%s%s%s\n", (unsigned long long)r->context, a, b,
               tg_verdict_name(r->verdict), r->over_throughput ? ", prefill too slow" : "",
               r->over_clamp ? ", above the clamp" : "", r->derived ? "   <= derived" : "");
    }
}

/* --list-gpus: NVML's readings, as nvidia-smi's CSV (MiB = bytes / 2^20,
 * rounded down), each card marked when the selection names it. */
static int list_gpus(const opts *o, const tg__limits_inputs *in) {
    tg_nvml_card cards[TG_LIMITS_MAX_CARDS];
    size_t n = 0, pos[TG_LIMITS_MAX_CARDS], n_pos = 0;
    tg_error err = {0};
    if (tg_nvml_cards(cards, TG_LIMITS_MAX_CARDS, &n, &err) != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        return 2;
    }
    const char *from = NULL;
    const char *spec = tg__gpus_spec(in, &from);
    if (tg__gpus_select(spec, cards, n, pos, &n_pos, &err) != TG_OK) {
        fprintf(stderr, "tokgate limits: %s: %s\n", from, err.msg);
        return 2;
    }
    int failed = 0;
    json_t *a = o->json ? json_array() : NULL;
    if (!o->json) printf("index, uuid, memory.free [MiB], memory.total [MiB], selected\n");
    for (size_t i = 0; i < n; i++) {
        const tg_nvml_card *c = &cards[i];
        int sel = 0;
        for (size_t k = 0; k < n_pos; k++) sel |= pos[k] == i;
        failed |= c->status != 0;
        if (a) {
            json_t *e = json_pack("{s:I,s:s,s:b}", "index", (json_int_t)c->index, "uuid", c->uuid, "selected", sel);
            if (c->status) json_object_set_new(e, "error", json_string(c->error));
            else {
                json_object_set_new(e, "memory_free_mib", json_integer((json_int_t)(c->free_bytes / TG_MIB)));
                json_object_set_new(e, "memory_total_mib", json_integer((json_int_t)(c->total_bytes / TG_MIB)));
            }
            json_array_append_new(a, e);
        } else if (c->status) {
            printf("%u, %s, [%s], [%s], %s\n", c->index, c->uuid, c->error, c->error, sel ? "yes" : "no");
        } else {
            printf("%u, %s, %llu MiB, %llu MiB, %s\n", c->index, c->uuid,
                   (unsigned long long)(c->free_bytes / TG_MIB), (unsigned long long)(c->total_bytes / TG_MIB),
                   sel ? "yes" : "no");
        }
    }
    if (a) {
        json_t *j = json_pack("{s:o,s:s}", "gpus", a, "selected_by", from);
        if (tg_cli_print_json(j) != 0) failed = 1;
        json_decref(j);
    }
    return failed ? 1 : 0;
}

int tg_cmd_limits(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    opts o;
    memset(&o, 0, sizeof o);
    tg__limits_inputs in;
    tg__limits_inputs_init(&in);
    int rc = parse_args(argc, argv, &o, &in);
    if (rc) return rc;
    if (o.list_gpus) return list_gpus(&o, &in);

    tg_error err = {0};
    tg_model_profile p;
    tg_status st = o.model ? tg_model_load(o.model, &p, &err) : tg_model_from_name(o.model_name, &p, &err);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        return 2;
    }
    if (p.fallback) fprintf(stderr, "tokgate limits: warning: %s\n", p.note);
    tg_limits l;
    if (tg_limits_derive(&p, &in.cfg, &l, &err) != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        tg_model_profile_free(&p);
        return 2;
    }
    tg_ladder_row rows[TG_LADDER_MAX_ROWS];
    size_t n_rows = o.table ? tg_limits_ladder(&l, &in.cfg, rows, TG_LADDER_MAX_ROWS) : 0;
    if (o.json) {
        json_t *j = to_json(&in.cfg, &p, &l, o.table ? rows : NULL, n_rows);
        if (tg_cli_print_json(j) != 0) rc = 1;
        json_decref(j);
    } else {
        print_human(&in.cfg, &p, &l, o.table ? rows : NULL, n_rows);
    }
    if (l.context == 0) {
        fprintf(stderr, "tokgate limits: no context fits: the VRAM budget on the tightest card is %lld bytes\n",
                (long long)l.vram_budget_bytes);
        rc = 1;
    }
    tg_model_profile_free(&p);
    return rc;
}
