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

#define MAX_MIB ((uint64_t)1 << 30) /* 1 PiB, in MiB */
#define MAX_TOKENS ((uint64_t)1 << 40)

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
    const char *model, *model_name;
    tg_limits_config cfg;
    int have_tps, have_target, table, json;
} opts;

/* The value of --flag or --flag=value; NULL (after an error message) when missing. */
static const char *value_of(int argc, char **argv, int *i, const char *flag) {
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (a[n] == '=') return a + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    fprintf(stderr, "tokgate limits: %s needs a value\n", flag);
    return NULL;
}

static int is_flag(const char *a, const char *flag) {
    size_t n = strlen(flag);
    return strncmp(a, flag, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

static int bad_number(const char *flag, const char *v, const char *what) {
    fprintf(stderr, "tokgate limits: %s '%s' is not %s\n", flag, v, what);
    return 2;
}

static int parse_args(int argc, char **argv, opts *o) {
    tg_error err = {0};
    uint64_t u = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strcmp(a, "--table") == 0) { o->table = 1; continue; }
        if (strcmp(a, "--json") == 0) { o->json = 1; continue; }
#define VALUE(flag) if (!(v = value_of(argc, argv, &i, flag))) return 2
        if (is_flag(a, "--model")) { VALUE("--model"); o->model = v; }
        else if (is_flag(a, "--model-name")) { VALUE("--model-name"); o->model_name = v; }
        else if (is_flag(a, "--free-vram-mib")) {
            VALUE("--free-vram-mib");
            if (tg_cli_parse_free_vram("limits", v, &o->cfg)) return 2;
        } else if (is_flag(a, "--tp")) {
            VALUE("--tp");
            if (tg_cli_parse_u64(v, TG_LIMITS_MAX_TP, &u) || u == 0)
                return bad_number("--tp", v, "a degree in 1..1024");
            o->cfg.tp = (uint32_t)u;
        } else if (is_flag(a, "--kv-type")) {
            VALUE("--kv-type");
            if (tg_kv_type_parse(v, &o->cfg.kv_type, &err) != TG_OK) {
                fprintf(stderr, "tokgate limits: %s\n", err.msg);
                return 2;
            }
        } else if (is_flag(a, "--min-free-mib")) {
            VALUE("--min-free-mib");
            if (tg_cli_parse_u64(v, MAX_MIB, &u)) return bad_number("--min-free-mib", v, "a whole number of MiB");
            o->cfg.min_free_bytes = u * TG_MIB;
        } else if (is_flag(a, "--activation-mib")) {
            VALUE("--activation-mib");
            if (tg_cli_parse_u64(v, MAX_MIB, &u)) return bad_number("--activation-mib", v, "a whole number of MiB");
            o->cfg.activation_bytes = u * TG_MIB;
        } else if (is_flag(a, "--prefill-tps")) {
            VALUE("--prefill-tps");
            if (tg_cli_parse_double(v, &o->cfg.prefill_tps) || o->cfg.prefill_tps <= 0 || o->cfg.prefill_tps > 1e9)
                return bad_number("--prefill-tps", v, "a rate in (0, 1e9] tokens per second");
            o->have_tps = 1;
        } else if (is_flag(a, "--target-prefill-s")) {
            VALUE("--target-prefill-s");
            if (tg_cli_parse_double(v, &o->cfg.target_prefill_s) || o->cfg.target_prefill_s <= 0 ||
                o->cfg.target_prefill_s > 1e6)
                return bad_number("--target-prefill-s", v, "a duration in (0, 1e6] seconds");
            o->have_target = 1;
        } else if (is_flag(a, "--max-prompt-tokens")) {
            VALUE("--max-prompt-tokens");
            if (tg_cli_parse_u64(v, MAX_TOKENS, &u) || u == 0)
                return bad_number("--max-prompt-tokens", v, "a token count in 1..2^40");
            o->cfg.max_prompt_tokens = u;
        } else if (is_flag(a, "--output-reserve")) {
            VALUE("--output-reserve");
            if (tg_cli_parse_u64(v, MAX_TOKENS, &u)) return bad_number("--output-reserve", v, "a token count up to 2^40");
            o->cfg.output_reserve = u;
        } else {
            fprintf(stderr, "tokgate limits: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
#undef VALUE
    }
    if (!o->model == !o->model_name) {
        fprintf(stderr, "tokgate limits: give exactly one of --model PATH and --model-name NAME\n");
        usage(stderr);
        return 2;
    }
    if (o->have_tps != o->have_target) {
        fprintf(stderr, "tokgate limits: --prefill-tps and --target-prefill-s go together\n");
        return 2;
    }
    return 0;
}

static json_t *ceiling_json(uint64_t v) {
    return v == TG_CEILING_NONE ? json_null() : json_integer((json_int_t)v);
}

static json_t *to_json(const opts *o, const tg_model_profile *p, const tg_limits *l,
                       const tg_ladder_row *rows, size_t n_rows) {
    json_t *j = json_object();
    json_object_set_new(j, "model", tg_cli_profile_json(p));
    json_object_set_new(j, "kv_type", json_string(tg_kv_type_name(o->cfg.kv_type)));
    json_object_set_new(j, "tp", json_integer(o->cfg.tp));
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
                        o->cfg.n_cards ? json_integer((json_int_t)l->vram_budget_bytes) : json_null());
    json_t *in = json_object();
    json_t *cards = json_array();
    for (size_t i = 0; i < o->cfg.n_cards; i++)
        json_array_append_new(cards, json_integer((json_int_t)(o->cfg.free_vram[i] / TG_MIB)));
    json_object_set_new(in, "free_vram_mib", cards);
    json_object_set_new(in, "min_free_mib", json_integer((json_int_t)(o->cfg.min_free_bytes / TG_MIB)));
    json_object_set_new(in, "activation_mib", json_integer((json_int_t)(o->cfg.activation_bytes / TG_MIB)));
    json_object_set_new(in, "prefill_tps", o->have_tps ? json_real(o->cfg.prefill_tps) : json_null());
    json_object_set_new(in, "target_prefill_s", o->have_target ? json_real(o->cfg.target_prefill_s) : json_null());
    json_object_set_new(in, "max_prompt_tokens",
                        o->cfg.max_prompt_tokens ? json_integer((json_int_t)o->cfg.max_prompt_tokens) : json_null());
    json_object_set_new(in, "output_reserve", json_integer((json_int_t)o->cfg.output_reserve));
    json_object_set_new(j, "inputs", in);
    if (rows) {
        json_t *t = json_array();
        for (size_t i = 0; i < n_rows; i++) {
            json_t *r = json_object();
            json_object_set_new(r, "context", json_integer((json_int_t)rows[i].context));
            json_object_set_new(r, "kv_bytes_per_card", json_integer((json_int_t)rows[i].kv_bytes_per_card));
            json_object_set_new(r, "left_bytes", o->cfg.n_cards ? json_integer((json_int_t)rows[i].left_bytes) : json_null());
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
           tg_kv_type_name(o->cfg.kv_type), o->cfg.tp, (unsigned long long)l->kv_bytes_per_token, a,
           (unsigned long long)l->kv_bytes_per_token_per_card, b);
    tg_cli_human_bytes(a, sizeof a, (double)l->kv_fixed_bytes);
    tg_cli_human_bytes(b, sizeof b, (double)l->kv_fixed_bytes_per_card);
    printf("fixed KV    %llu B (%s); per card %llu B (%s)\n", (unsigned long long)l->kv_fixed_bytes, a,
           (unsigned long long)l->kv_fixed_bytes_per_card, b);
    if (o->cfg.n_cards) {
        tg_cli_human_bytes(a, sizeof a, (double)l->vram_budget_bytes);
        printf("VRAM budget %s per card (tightest %llu MiB - activation %llu MiB - floor %llu MiB - fixed)\n", a,
               (unsigned long long)(l->tightest_free_bytes / TG_MIB),
               (unsigned long long)(o->cfg.activation_bytes / TG_MIB),
               (unsigned long long)(o->cfg.min_free_bytes / TG_MIB));
    }
    ceiling_text(a, sizeof a, l->ceiling_native);
    ceiling_text(b, sizeof b, l->ceiling_vram);
    ceiling_text(c, sizeof c, l->ceiling_throughput);
    printf("ceilings    native %s | vram %s | throughput %s", a, b, c);
    if (o->cfg.max_prompt_tokens) printf(" | clamp %llu", (unsigned long long)o->cfg.max_prompt_tokens);
    printf("\n");
    printf("context     %llu tokens (bound by %s)\n", (unsigned long long)l->context, tg_binding_name(l->binding));
    printf("output      %llu\n", (unsigned long long)l->output);
    printf("input       %llu\n", (unsigned long long)l->input);
    if (!rows) return;
    printf("\n%10s  %14s  %18s  %s\n", "context", "KV per card", "left on tightest", "verdict");
    for (size_t i = 0; i < n_rows; i++) {
        const tg_ladder_row *r = &rows[i];
        tg_cli_human_bytes(a, sizeof a, (double)r->kv_bytes_per_card);
        if (o->cfg.n_cards) tg_cli_human_bytes(b, sizeof b, (double)r->left_bytes);
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
    tg_limits_config_init(&o.cfg);
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;

    tg_error err = {0};
    tg_model_profile p;
    tg_status st = o.model ? tg_model_load(o.model, &p, &err) : tg_model_from_name(o.model_name, &p, &err);
    if (st != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        return 2;
    }
    if (p.fallback) fprintf(stderr, "tokgate limits: warning: %s\n", p.note);
    tg_limits l;
    if (tg_limits_derive(&p, &o.cfg, &l, &err) != TG_OK) {
        fprintf(stderr, "tokgate limits: %s\n", err.msg);
        tg_model_profile_free(&p);
        return 2;
    }
    tg_ladder_row rows[TG_LADDER_MAX_ROWS];
    size_t n_rows = o.table ? tg_limits_ladder(&l, &o.cfg, rows, TG_LADDER_MAX_ROWS) : 0;
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
