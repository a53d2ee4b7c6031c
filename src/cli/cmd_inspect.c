/*
 * cmd_inspect.c: `tokgate inspect PATH [--kv-type T] [--json]`.
 *
 * Describes a GGUF file, an HF model directory or a config.json: name,
 * architecture, native context and where it came from, the layer kinds, the
 * KV bytes per token (and the fixed windows / recurrent state), weights'
 * bytes, the tokenizer summary, chat-template presence and the
 * end-of-generation token ids (`eog_token_ids` in --json) when known.
 * Exit: 0 described, 2 bad usage or a file tokgate cannot read as a model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: tokgate inspect PATH [--kv-type T] [--json]\n"
            "\n"
            "Describe a model: PATH is a GGUF file, an HF model directory (config.json,\n"
            "tokenizer.json, tokenizer_config.json) or a config.json file.\n"
            "\n"
            "  --kv-type T  KV cache type for the bytes per token: f32, f16 (default), bf16,\n"
            "               q8_0, q4_0, q4_1, q5_0, q5_1\n"
            "  --json       one JSON object on stdout\n");
}

static void print_human(const char *path, const tg_model_profile *p, const tg_kv_cost *kv,
                        tg_kv_type kt) {
    char a[32], b[32], c[32];
    printf("path            %s\n", path);
    printf("model           %s (%s)\n", p->name[0] ? p->name : "?", tg_model_source_name(p->source));
    printf("architecture    %s\n", p->arch[0] ? p->arch : "?");
    printf("native context  %llu tokens (%s)\n", (unsigned long long)p->native_context, p->context_from);
    printf("layers          %u: %u full attention, %u sliding window, %u MLA, %u recurrent, %u no cache\n",
           p->n_layer, p->n_full, p->n_sliding, p->n_mla, p->n_recurrent, p->n_no_cache);
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const tg_layer *l = &p->layers[i];
        if (l->attn == TG_ATTN_NONE) continue;
        printf("attention       %u KV heads x K %u / V %u", l->n_head_kv, l->head_k, l->head_v);
        if (l->attn == TG_ATTN_MLA) printf(" (MLA latent, no V)");
        printf("\n");
        break;
    }
    for (uint32_t i = 0; i < p->n_layer; i++)
        if (p->layers[i].attn == TG_ATTN_SLIDING) {
            printf("sliding window  %u tokens\n", p->layers[i].window);
            break;
        }
    if (p->n_layer) {
        char *pat = tg_cli_layer_pattern(p);
        if (pat) printf("layer pattern   %s\n", pat);
        free(pat);
    }
    tg_cli_human_bytes(a, sizeof a, (double)kv->per_token);
    printf("KV per token    %llu B (%s) at %s, grows with context\n", (unsigned long long)kv->per_token,
           a, tg_kv_type_name(kt));
    tg_cli_human_bytes(a, sizeof a, (double)kv->fixed_bytes);
    tg_cli_human_bytes(b, sizeof b, (double)kv->sliding_bytes);
    tg_cli_human_bytes(c, sizeof c, (double)kv->recurrent_bytes);
    printf("fixed KV        %llu B (%s): sliding windows %s, recurrent state %s\n",
           (unsigned long long)kv->fixed_bytes, a, b, c);
    if (p->weights_bytes) {
        tg_cli_human_bytes(a, sizeof a, (double)p->weights_bytes);
        printf("weights         %llu B (%s)\n", (unsigned long long)p->weights_bytes, a);
    }
    if (p->vocab_size) printf("vocab size      %llu\n", (unsigned long long)p->vocab_size);
    if (p->tokenizer_model[0] || p->tokenizer_tokens) {
        printf("tokenizer       %s", p->tokenizer_model[0] ? p->tokenizer_model : "?");
        if (p->tokenizer_pre[0]) printf(" (pre %s)", p->tokenizer_pre);
        if (p->tokenizer_tokens) printf(", %llu tokens", (unsigned long long)p->tokenizer_tokens);
        printf("\n");
    }
    printf("chat template   %s\n",
           p->has_chat_template < 0 ? "not known" : p->has_chat_template ? "present" : "absent");
    if (p->n_eog) {
        printf("end of gen ids ");
        for (size_t i = 0; i < p->n_eog; i++) printf("%s%u", i ? ", " : " ", p->eog_ids[i]);
        printf(" (%s)\n", p->eog_from);
    }
    if (p->note[0]) printf("note            %s\n", p->note);
}

int tg_cmd_inspect(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *path = NULL;
    int as_json = 0;
    tg_kv_type kt = TG_KV_F16;
    tg_error err = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            as_json = 1;
        } else if (strcmp(a, "--kv-type") == 0 || strncmp(a, "--kv-type=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || tg_kv_type_parse(v, &kt, &err) != TG_OK) {
                fprintf(stderr, "tokgate inspect: %s\n", v ? err.msg : "--kv-type needs a value");
                return 2;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tokgate inspect: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = a;
        } else {
            fprintf(stderr, "tokgate inspect: one PATH only (got '%s' and '%s')\n", path, a);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "tokgate inspect: missing PATH\n");
        usage(stderr);
        return 2;
    }
    tg_model_profile p;
    if (tg_model_load(path, &p, &err) != TG_OK) {
        fprintf(stderr, "tokgate inspect: %s\n", err.msg);
        return 2;
    }
    tg_kv_cost kv;
    if (tg_kv_cost_compute(&p, kt, 1, &kv, &err) != TG_OK) {
        fprintf(stderr, "tokgate inspect: %s\n", err.msg);
        tg_model_profile_free(&p);
        return 2;
    }
    int rc = 0;
    if (as_json) {
        json_t *o = tg_cli_profile_json(&p);
        json_object_set_new(o, "path", json_string(path));
        json_object_set_new(o, "kv_type", json_string(tg_kv_type_name(kt)));
        json_object_set_new(o, "kv_bytes_per_token", json_integer((json_int_t)kv.per_token));
        json_object_set_new(o, "kv_fixed_bytes", json_integer((json_int_t)kv.fixed_bytes));
        json_object_set_new(o, "kv_sliding_bytes", json_integer((json_int_t)kv.sliding_bytes));
        json_object_set_new(o, "kv_recurrent_bytes", json_integer((json_int_t)kv.recurrent_bytes));
        rc = tg_cli_print_json(o) == 0 ? 0 : 1;
        json_decref(o);
    } else {
        print_human(path, &p, &kv, kt);
    }
    tg_model_profile_free(&p);
    return rc;
}
