/*
 * cmd_limits.c: `tokgate limits`: derive {context, input, output} for a model
 * on given hardware (the rule is in tokgate/limits.h and docs/limits.md).
 *
 *   tokgate limits (--model PATH | --model-name NAME) [--free-vram-mib N[,N...]]
 *     [--tp N] [--kv-type T] [--min-free-mib N] [--activation-mib N]
 *     [--prefill-tps X --target-prefill-s S] [--max-prompt-tokens N]
 *     [--output-reserve N] [--table] [--json]
 *
 * Exit: 0 derived; 1 derived but no context fits (context 0); 2 bad usage or
 * a model tokgate cannot read. Errors go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"


static void usage(FILE *f) {
    fprintf(f,
            "usage: tokgate limits (--model PATH | --model-name NAME) [options]\n"
            "\n"
            "Derive a model's usable {context, input, output} from its architecture and the\n"
            "hardware: context = min(native, VRAM ceiling, throughput ceiling), then the\n"
            "max-prompt backstop; output = the reserve; input = context - output.\n"
            "\n"
            "  --model PATH              GGUF file, HF model directory or config.json\n"
            "  --model-name NAME         a model known by name (built-in catalogue); an\n"
            "                            unknown name gets 8192 tokens and is flagged\n"
            "  --free-vram-mib N[,N...]  free VRAM per card in MiB; the tightest card counts\n"
            "  --tp N                    tensor-parallel degree (default 1)\n"
            "  --kv-type T               f32, f16 (default), bf16, q8_0, q4_0, q4_1, q5_0, q5_1\n"
            "  --min-free-mib N          VRAM kept free on every card (default 1500)\n"
            "  --activation-mib N        activation headroom per card (default 0)\n"
            "  --prefill-tps X           prefill throughput, tokens per second\n"
            "  --target-prefill-s S      longest acceptable prefill, seconds (with --prefill-tps)\n"
            "  --max-prompt-tokens N     static backstop: clamp the context to N\n"
            "  --output-reserve N        output tokens reserved (default 8192)\n"
            "  --table                   ladder of context sizes: KV per card, memory left, verdict\n"
            "  --json                    one JSON object on stdout\n");
}

typedef struct opts {
    tg_cli_limits_flags lf;
    int table, json;
} opts;

static int parse_args(int argc, char **argv, opts *o) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--table") == 0) { o->table = 1; continue; }
        if (strcmp(a, "--json") == 0) { o->json = 1; continue; }
        int rc = tg_cli_parse_limits_flag("limits", argc, argv, &i, &o->lf);
        if (rc == 2) return 2;
        if (rc == 0) continue;
        fprintf(stderr, "tokgate limits: unknown argument '%s'\n", a);
        usage(stderr);
        return 2;
    }
    return tg_cli_limits_flags_done("limits", &o->lf) ? 2 : 0;
}

static json_t *ceiling_json(uint64_t v) {
    return v == TG_CEILING_NONE ? json_null() : json_integer((json_int_t)v);
}

static json_t *to_json(const opts *o, const tg_model_profile *p, const tg_limits *l,
                       const tg_ladder_row *rows, size_t n_rows) {
    json_t *j = json_object();
    json_object_set_new(j, "model", tg_cli_profile_json(p));
    json_object_set_new(j, "kv_type", json_string(tg_kv_type_name(o->lf.cfg.kv_type)));
    json_object_set_new(j, "tp", json_integer(o->lf.cfg.tp));
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
                        o->lf.cfg.n_cards ? json_integer((json_int_t)l->vram_budget_bytes) : json_null());
    json_t *in = json_object();
    json_t *cards = json_array();
    for (size_t i = 0; i < o->lf.cfg.n_cards; i++)
        json_array_append_new(cards, json_integer((json_int_t)(o->lf.cfg.free_vram[i] / TG_MIB)));
    json_object_set_new(in, "free_vram_mib", cards);
    json_object_set_new(in, "min_free_mib", json_integer((json_int_t)(o->lf.cfg.min_free_bytes / TG_MIB)));
    json_object_set_new(in, "activation_mib", json_integer((json_int_t)(o->lf.cfg.activation_bytes / TG_MIB)));
    json_object_set_new(in, "prefill_tps", o->lf.have_tps ? json_real(o->lf.cfg.prefill_tps) : json_null());
    json_object_set_new(in, "target_prefill_s", o->lf.have_target ? json_real(o->lf.cfg.target_prefill_s) : json_null());
    json_object_set_new(in, "max_prompt_tokens",
                        o->lf.cfg.max_prompt_tokens ? json_integer((json_int_t)o->lf.cfg.max_prompt_tokens) : json_null());
    json_object_set_new(in, "output_reserve", json_integer((json_int_t)o->lf.cfg.output_reserve));
    json_object_set_new(j, "inputs", in);
    if (rows) {
        json_t *t = json_array();
        for (size_t i = 0; i < n_rows; i++) {
            json_t *r = json_object();
            json_object_set_new(r, "context", json_integer((json_int_t)rows[i].context));
            json_object_set_new(r, "kv_bytes_per_card", json_integer((json_int_t)rows[i].kv_bytes_per_card));
            json_object_set_new(r, "left_bytes", o->lf.cfg.n_cards ? json_integer((json_int_t)rows[i].left_bytes) : json_null());
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

static void print_human(const opts *o, const tg_model_profile *p, const tg_limits *l,
                        const tg_ladder_row *rows, size_t n_rows) {
    char a[32], b[32], c[32];
    printf("model       %s (%s%s%s)\n", p->name, tg_model_source_name(p->source), p->arch[0] ? ", " : "", p->arch);
    if (p->note[0]) printf("note        %s\n", p->note);
    tg_cli_human_bytes(a, sizeof a, (double)l->kv_bytes_per_token);
    tg_cli_human_bytes(b, sizeof b, (double)l->kv_bytes_per_token_per_card);
    printf("KV cache    %s, tp %u: %llu B/token (%s); per card %llu B/token (%s)\n",
           tg_kv_type_name(o->lf.cfg.kv_type), o->lf.cfg.tp, (unsigned long long)l->kv_bytes_per_token, a,
           (unsigned long long)l->kv_bytes_per_token_per_card, b);
    tg_cli_human_bytes(a, sizeof a, (double)l->kv_fixed_bytes);
    tg_cli_human_bytes(b, sizeof b, (double)l->kv_fixed_bytes_per_card);
    printf("fixed KV    %llu B (%s); per card %llu B (%s)\n", (unsigned long long)l->kv_fixed_bytes, a,
           (unsigned long long)l->kv_fixed_bytes_per_card, b);
    if (o->lf.cfg.n_cards) {
        tg_cli_human_bytes(a, sizeof a, (double)l->vram_budget_bytes);
        printf("VRAM budget %s per card (tightest %llu MiB - activation %llu MiB - floor %llu MiB - fixed)\n", a,
               (unsigned long long)(l->tightest_free_bytes / TG_MIB),
               (unsigned long long)(o->lf.cfg.activation_bytes / TG_MIB),
               (unsigned long long)(o->lf.cfg.min_free_bytes / TG_MIB));
    }
    ceiling_text(a, sizeof a, l->ceiling_native);
    ceiling_text(b, sizeof b, l->ceiling_vram);
    ceiling_text(c, sizeof c, l->ceiling_throughput);
    printf("ceilings    native %s | vram %s | throughput %s", a, b, c);
    if (o->lf.cfg.max_prompt_tokens) printf(" | clamp %llu", (unsigned long long)o->lf.cfg.max_prompt_tokens);
    printf("\n");
    printf("context     %llu tokens (bound by %s)\n", (unsigned long long)l->context, tg_binding_name(l->binding));
    printf("output      %llu\n", (unsigned long long)l->output);
    printf("input       %llu\n", (unsigned long long)l->input);
    if (!rows) return;
    printf("\n%10s  %14s  %18s  %s\n", "context", "KV per card", "left on tightest", "verdict");
    for (size_t i = 0; i < n_rows; i++) {
        const tg_ladder_row *r = &rows[i];
        tg_cli_human_bytes(a, sizeof a, (double)r->kv_bytes_per_card);
        if (o->lf.cfg.n_cards) tg_cli_human_bytes(b, sizeof b, (double)r->left_bytes);
        else snprintf(b, sizeof b, "-");
        printf("%10llu  %14s  %18s  %s%s%s%s\n", (unsigned long long)r->context, a, b,
               tg_verdict_name(r->verdict), r->over_throughput ? ", prefill too slow" : "",
               r->over_clamp ? ", above the clamp" : "", r->derived ? "   <= derived" : "");
    }
}

int tg_cmd_limits(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    opts o;
    memset(&o, 0, sizeof o);
    tg_limits_config_init(&o.lf.cfg);
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;

    tg_error err = {0};
    tg_model_profile p;
    tg_status st = o.lf.model ? tg_model_load(o.lf.model, &p, &err) : tg_model_from_name(o.lf.model_name, &p, &err);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        return 2;
    }
    if (p.fallback) fprintf(stderr, "tokgate limits: warning: %s\n", p.note);
    tg_limits l;
    if (tg_limits_derive(&p, &o.lf.cfg, &l, &err) != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        tg_model_profile_free(&p);
        return 2;
    }
    tg_ladder_row rows[TG_LADDER_MAX_ROWS];
    size_t n_rows = o.table ? tg_limits_ladder(&l, &o.lf.cfg, rows, TG_LADDER_MAX_ROWS) : 0;
    if (o.json) {
        json_t *j = to_json(&o, &p, &l, o.table ? rows : NULL, n_rows);
        if (tg_cli_print_json(j) != 0) rc = 1;
        json_decref(j);
    } else {
        print_human(&o, &p, &l, o.table ? rows : NULL, n_rows);
    }
    if (l.context == 0) {
        fprintf(stderr, "tokgate limits: no context fits: the VRAM budget on the tightest card is %lld bytes\n",
                (long long)l.vram_budget_bytes);
        rc = 1;
    }
    tg_model_profile_free(&p);
    return rc;
}
