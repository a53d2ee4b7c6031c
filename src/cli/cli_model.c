/* cli/cli_model.c: shared helpers of `inspect` and `limits` (see cli_model.h). */
#include "cli/cli_model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tg_cli_parse_u64(const char *s, uint64_t max, uint64_t *out) {
    if (!s || !*s) return -1;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (v > max) return -1;
    *out = v;
    return 0;
}

int tg_cli_parse_double(const char *s, double *out) {
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ') return -1;
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (errno != 0 || !end || *end != '\0' || !isfinite(d) || d < 0) return -1;
    *out = d;
    return 0;
}

void tg_cli_human_bytes(char *out, size_t cap, double b) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    double neg = b < 0 ? -1.0 : 1.0;
    b *= neg;
    while (b >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) { b /= 1024.0; u++; }
    if (u == 0) snprintf(out, cap, "%.0f %s", b * neg, units[u]);
    else snprintf(out, cap, "%.2f %s", b * neg, units[u]);
}

char *tg_cli_layer_pattern(const tg_model_profile *p) {
    char *s = malloc((size_t)p->n_layer + 1);
    if (!s) return NULL;
    for (uint32_t i = 0; i < p->n_layer; i++) {
        const tg_layer *l = &p->layers[i];
        char c = '-';
        switch (l->attn) {
        case TG_ATTN_FULL: c = l->recurrent ? 'B' : 'F'; break;
        case TG_ATTN_SLIDING: c = l->recurrent ? 'B' : 'S'; break;
        case TG_ATTN_MLA: c = l->recurrent ? 'B' : 'M'; break;
        case TG_ATTN_NONE: c = l->recurrent ? 'R' : '-'; break;
        }
        s[i] = c;
    }
    s[p->n_layer] = '\0';
    return s;
}

static json_t *str_or_null(const char *s) { return s && *s ? json_string(s) : json_null(); }

static json_t *u64_json(uint64_t v) {
    /* json_int_t is signed 64-bit; every size here is far below 2^63 */
    return json_integer((json_int_t)(v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v));
}

json_t *tg_cli_profile_json(const tg_model_profile *p) {
    json_t *o = json_object();
    json_object_set_new(o, "name", str_or_null(p->name));
    json_object_set_new(o, "source", json_string(tg_model_source_name(p->source)));
    json_object_set_new(o, "architecture", str_or_null(p->arch));
    json_object_set_new(o, "native_context", u64_json(p->native_context));
    json_object_set_new(o, "context_from", str_or_null(p->context_from));
    json_object_set_new(o, "fallback", json_boolean(p->fallback));
    json_object_set_new(o, "note", str_or_null(p->note));
    json_object_set_new(o, "layers", json_integer(p->n_layer));
    json_t *k = json_object();
    json_object_set_new(k, "full", json_integer(p->n_full));
    json_object_set_new(k, "sliding", json_integer(p->n_sliding));
    json_object_set_new(k, "mla", json_integer(p->n_mla));
    json_object_set_new(k, "recurrent", json_integer(p->n_recurrent));
    json_object_set_new(k, "none", json_integer(p->n_no_cache));
    json_object_set_new(o, "layer_kinds", k);
    char *pat = p->n_layer ? tg_cli_layer_pattern(p) : NULL;
    json_object_set_new(o, "layer_pattern", str_or_null(pat));
    free(pat);
    /* window: the first sliding layer's */
    json_t *win = json_null();
    for (uint32_t i = 0; i < p->n_layer; i++)
        if (p->layers[i].attn == TG_ATTN_SLIDING) { json_decref(win); win = json_integer(p->layers[i].window); break; }
    json_object_set_new(o, "sliding_window", win);
    json_object_set_new(o, "weights_bytes", p->weights_bytes ? u64_json(p->weights_bytes) : json_null());
    json_object_set_new(o, "vocab_size", p->vocab_size ? u64_json(p->vocab_size) : json_null());
    if (p->tokenizer_model[0] || p->tokenizer_tokens) {
        json_t *t = json_object();
        json_object_set_new(t, "model", str_or_null(p->tokenizer_model));
        json_object_set_new(t, "pre", str_or_null(p->tokenizer_pre));
        json_object_set_new(t, "tokens", p->tokenizer_tokens ? u64_json(p->tokenizer_tokens) : json_null());
        json_object_set_new(o, "tokenizer", t);
    } else {
        json_object_set_new(o, "tokenizer", json_null());
    }
    json_object_set_new(o, "chat_template",
                        p->has_chat_template < 0 ? json_null() : json_boolean(p->has_chat_template));
    return o;
}

int tg_cli_print_json(json_t *v) {
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    if (!s) return -1;
    int rc = printf("%s\n", s) < 0 ? -1 : 0;
    free(s);
    return rc;
}

int tg_cli_parse_free_vram(const char *verb, const char *v, tg_limits_config *cfg) {
    const uint64_t max_mib = (uint64_t)1 << 30; /* 1 PiB */
    if (strcmp(v, "nvml") == 0) {
        tg_error err;
        memset(&err, 0, sizeof err);
        size_t n = 0;
        if (tg_nvml_free_vram(cfg->free_vram, TG_LIMITS_MAX_CARDS, &n, &err) != TG_OK) {
            fprintf(stderr, "tokgate %s: --free-vram-mib nvml: %s\n", verb, err.msg);
            return 2;
        }
        cfg->n_cards = n;
        return 0;
    }
    size_t n = 0;
    const char *p = v;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char tok[32];
        uint64_t mib = 0;
        if (n == TG_LIMITS_MAX_CARDS) {
            fprintf(stderr, "tokgate %s: --free-vram-mib lists more than %u cards\n", verb, TG_LIMITS_MAX_CARDS);
            return 2;
        }
        if (len == 0 || len >= sizeof tok) break;
        memcpy(tok, p, len);
        tok[len] = '\0';
        if (tg_cli_parse_u64(tok, max_mib, &mib) != 0) break;
        cfg->free_vram[n++] = mib * TG_MIB;
        if (!comma) {
            cfg->n_cards = n;
            return 0;
        }
        p = comma + 1;
    }
    fprintf(stderr, "tokgate %s: --free-vram-mib '%s' is not a list of whole MiB figures up to 2^30 "
                    "(one per card, comma-separated) or 'nvml'\n", verb, v);
    return 2;
}

#define MAX_MIB ((uint64_t)1 << 30) /* 1 PiB, in MiB */
#define MAX_TOKENS ((uint64_t)1 << 40)

const char *tg_cli_flag_value(const char *verb, int argc, char **argv, int *i, const char *flag) {
    const char *a = argv[*i];
    size_t n = strlen(flag);
    if (a[n] == '=') return a + n + 1;
    if (*i + 1 < argc) return argv[++*i];
    fprintf(stderr, "tokgate %s: %s needs a value\n", verb, flag);
    return NULL;
}

int tg_cli_is_flag(const char *a, const char *flag) {
    size_t n = strlen(flag);
    return strncmp(a, flag, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

static int bad_number(const char *verb, const char *flag, const char *v, const char *what) {
    fprintf(stderr, "tokgate %s: %s '%s' is not %s\n", verb, flag, v, what);
    return 2;
}

/* The numeric flags: 0 parsed, 1 not one of them, 2 bad value. */
static int parse_number_flag(const char *verb, const char *a, const char *v, tg_cli_limits_flags *f) {
    tg_limits_config *c = &f->cfg;
    uint64_t u = 0;
    if (strcmp(a, "--tp") == 0) {
        if (tg_cli_parse_u64(v, TG_LIMITS_MAX_TP, &u) || u == 0) return bad_number(verb, a, v, "a degree in 1..1024");
        c->tp = (uint32_t)u;
    } else if (strcmp(a, "--min-free-mib") == 0 || strcmp(a, "--activation-mib") == 0) {
        if (tg_cli_parse_u64(v, MAX_MIB, &u)) return bad_number(verb, a, v, "a whole number of MiB");
        *(a[2] == 'm' ? &c->min_free_bytes : &c->activation_bytes) = u * TG_MIB;
    } else if (strcmp(a, "--prefill-tps") == 0) {
        if (tg_cli_parse_double(v, &c->prefill_tps) || c->prefill_tps <= 0 || c->prefill_tps > 1e9)
            return bad_number(verb, a, v, "a rate in (0, 1e9] tokens per second");
        f->have_tps = 1;
    } else if (strcmp(a, "--target-prefill-s") == 0) {
        if (tg_cli_parse_double(v, &c->target_prefill_s) || c->target_prefill_s <= 0 || c->target_prefill_s > 1e6)
            return bad_number(verb, a, v, "a duration in (0, 1e6] seconds");
        f->have_target = 1;
    } else if (strcmp(a, "--max-prompt-tokens") == 0) {
        if (tg_cli_parse_u64(v, MAX_TOKENS, &u) || u == 0) return bad_number(verb, a, v, "a token count in 1..2^40");
        c->max_prompt_tokens = u;
    } else if (strcmp(a, "--output-reserve") == 0) {
        if (tg_cli_parse_u64(v, MAX_TOKENS, &u)) return bad_number(verb, a, v, "a token count up to 2^40");
        c->output_reserve = u;
    } else {
        return 1;
    }
    return 0;
}

int tg_cli_parse_limits_flag(const char *verb, int argc, char **argv, int *i, tg_cli_limits_flags *f) {
    static const char *const flags[] = {"--model", "--model-name", "--free-vram-mib", "--tp", "--kv-type",
                                        "--min-free-mib", "--activation-mib", "--prefill-tps",
                                        "--target-prefill-s", "--max-prompt-tokens", "--output-reserve", NULL};
    const char *a = argv[*i];
    size_t k = 0;
    while (flags[k] && !tg_cli_is_flag(a, flags[k])) k++;
    if (!flags[k]) return 1;
    const char *flag = flags[k];
    const char *v = tg_cli_flag_value(verb, argc, argv, i, flag);
    if (!v) return 2;
    if (strcmp(flag, "--model") == 0) f->model = v;
    else if (strcmp(flag, "--model-name") == 0) f->model_name = v;
    else if (strcmp(flag, "--free-vram-mib") == 0) return tg_cli_parse_free_vram(verb, v, &f->cfg) ? 2 : 0;
    else if (strcmp(flag, "--kv-type") == 0) {
        tg_error err = {0};
        if (tg_kv_type_parse(v, &f->cfg.kv_type, &err) != TG_OK) {
            fprintf(stderr, "tokgate %s: %s\n", verb, err.msg);
            return 2;
        }
    } else {
        return parse_number_flag(verb, flag, v, f) ? 2 : 0;
    }
    return 0;
}

int tg_cli_limits_flags_done(const char *verb, const tg_cli_limits_flags *f) {
    if (!f->model == !f->model_name) {
        fprintf(stderr, "tokgate %s: give exactly one of --model PATH and --model-name NAME\n", verb);
        return 2;
    }
    if (f->have_tps != f->have_target) {
        fprintf(stderr, "tokgate %s: --prefill-tps and --target-prefill-s go together\n", verb);
        return 2;
    }
    return 0;
}
