/* limits/limits_keys.c: the limits-derivation inputs as option table entries
 * (see limits_keys.h). Bounds: a tensor-parallel degree 1..TG_LIMITS_MAX_TP;
 * MiB figures 0..2^30 (1 PiB a card); a prefill rate above 0 and at most
 * 1e9 tokens/s; a target prefill above 0 and at most 1e6 s (11.6 days); token
 * counts 1..2^40. */
#include "limits/limits_keys.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tg__limits_inputs_init(tg__limits_inputs *in) {
    memset(in, 0, sizeof *in);
    tg_limits_config_init(&in->cfg);
}

static int kv_parse(const char *s) {
    tg_kv_type t;
    return tg_kv_type_parse(s, &t, NULL) == TG_OK ? (int)t : -1;
}

/* One MiB figure for card N of the list. */
static int add_card(tg__limits_inputs *in, double mib) {
    if (!(mib >= 0 && mib <= TG__MIB_MAX) || mib != (double)(uint64_t)mib || in->cfg.n_cards == TG_LIMITS_MAX_CARDS)
        return -1;
    in->cfg.free_vram[in->cfg.n_cards++] = (uint64_t)mib * TG_MIB;
    return 0;
}

static int vram_text(tg__limits_inputs *in, const char *v) {
    const char *p = v;
    for (;;) {
        size_t len = strcspn(p, ",");
        uint64_t mib = 0;
        if (len == 0 || len > 12) return -1; /* 2^30 has 10 digits */
        for (size_t i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9') return -1;
            mib = mib * 10 + (uint64_t)(p[i] - '0');
        }
        if (add_card(in, (double)mib) != 0) return -1;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

static int vram_json(tg__limits_inputs *in, json_t *v) {
    if (json_is_number(v)) return add_card(in, json_number_value(v));
    if (!json_is_array(v) || json_array_size(v) == 0) return -1;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
        if (!json_is_number(e) || add_card(in, json_number_value(e)) != 0) return -1;
    return 0;
}

/* free_vram_mib: "N[,N...]" (a number, an array or that text in the file) or "nvml". */
static tg_status set_free_vram(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                               tg_error *err) {
    (void)o;
    tg__limits_inputs *in = target;
    const char *s = text ? text : json_string_value(v);
    in->cfg.n_cards = 0;
    in->free_vram_nvml = 0;
    if (s && !strcmp(s, "nvml")) {
        in->free_vram_nvml = 1;
        return TG_OK;
    }
    /* a JSON string other than "nvml" is read as the flag's text */
    if (s ? vram_text(in, s) == 0 : vram_json(in, v) == 0) return TG_OK;
    in->cfg.n_cards = 0;
    char shown[80];
    if (text) {
        snprintf(shown, sizeof shown, "'%.60s'", text);
    } else {
        char *j = tgx_json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(shown, sizeof shown, "%.60s", j ? j : "a value");
        free(j);
    }
    return tg_error_set(err, TG_EINVAL,
                        "%s: %s is not whole MiB figures in 0..%.0f, one per card (at most %u), or nvml", where,
                        shown, TG__MIB_MAX, TG_LIMITS_MAX_CARDS);
}

static void format_free_vram(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    const tg__limits_inputs *in = target;
    if (in->free_vram_nvml) {
        tgx_buf_puts(b, "nvml");
        return;
    }
    for (size_t i = 0; i < in->cfg.n_cards; i++)
        tgx_buf_printf(b, "%s%llu", i ? "," : "", (unsigned long long)(in->cfg.free_vram[i] / TG_MIB));
}

/* ---- gpus (issue 20) ---------------------------------------------------- */

static int item_ok(const char *p, size_t len) {
    if (len == 0 || len > TG__GPU_ITEM_MAX) return 0;
    if (p[0] >= '0' && p[0] <= '9') {
        unsigned v = 0;
        for (size_t i = 0; i < len; i++) {
            if (p[i] < '0' || p[i] > '9' || (v = v * 10 + (unsigned)(p[i] - '0')) >= TG_LIMITS_MAX_CARDS) return 0;
        }
        return 1;
    }
    if (len < 5 || (strncmp(p, "GPU-", 4) != 0 && strncmp(p, "MIG-", 4) != 0)) return 0;
    for (size_t i = 4; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              p[i] == '-'))
            return 0;
    return 1;
}

tg_status tg__gpus_check(const char *spec, tg_error *err) {
    size_t items = 0;
    for (const char *p = spec;;) {
        size_t len = strcspn(p, ",");
        if (!item_ok(p, len))
            return tg_error_set(err, TG_EINVAL,
                                "'%.*s' is not a card: an NVML index 0..%d or a UUID GPU-... / MIG-... of at most "
                                "%d letters, digits and dashes",
                                (int)(len > 100 ? 100 : len), p, TG_LIMITS_MAX_CARDS - 1, TG__GPU_ITEM_MAX);
        if (++items > TG_LIMITS_MAX_CARDS)
            return tg_error_set(err, TG_EINVAL, "more than %d cards", TG_LIMITS_MAX_CARDS);
        if (!p[len]) return TG_OK;
        p += len + 1;
    }
}

const char *tg__gpus_spec(const tg__limits_inputs *in, const char **from) {
    if (in->gpus[0]) {
        *from = "hardware.gpus";
        return in->gpus;
    }
    const char *env = getenv("CUDA_VISIBLE_DEVICES"); /* empty: as unset (said in docs/limits.md) */
    if (env && *env) {
        *from = "CUDA_VISIBLE_DEVICES";
        return env;
    }
    *from = "all cards";
    return NULL;
}

static int card_matches(const char *p, size_t len, const tg_nvml_card *c) {
    if (p[0] >= '0' && p[0] <= '9') return (unsigned)strtoul(p, NULL, 10) == c->index;
    return c->uuid[0] && strlen(c->uuid) >= len && strncmp(c->uuid, p, len) == 0;
}

tg_status tg__gpus_select(const char *spec, const tg_nvml_card *cards, size_t n, size_t *pos, size_t *n_pos,
                          tg_error *err) {
    *n_pos = 0;
    if (!spec) {
        for (size_t i = 0; i < n; i++) pos[(*n_pos)++] = i;
        return TG_OK;
    }
    tg_status st = tg__gpus_check(spec, err);
    if (st != TG_OK) return st;
    for (const char *p = spec;;) {
        size_t len = strcspn(p, ","), hit = n;
        for (size_t i = 0; i < n && hit == n; i++)
            if (card_matches(p, len, &cards[i])) hit = i;
        if (hit == n)
            return tg_error_set(err, TG_ENOTFOUND, "card '%.*s' is not among the %zu card(s) NVML sees", (int)len, p,
                                n);
        int dup = 0;
        for (size_t k = 0; k < *n_pos; k++) dup |= pos[k] == hit;
        if (!dup) pos[(*n_pos)++] = hit;
        if (!p[len]) return TG_OK;
        p += len + 1;
    }
}

/* gpus: [0, "GPU-..."] in the file, "0,GPU-..." as the flag or a string. */
static tg_status set_gpus(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                          tg_error *err) {
    (void)o;
    tg__limits_inputs *in = target;
    char buf[TG__GPUS_TEXT_MAX];
    size_t len = 0;
    const char *s = text ? text : json_string_value(v);
    int bad = 0;
    size_t bad_at = 0;
    if (s) {
        bad = strlen(s) >= sizeof buf;
        if (!bad) snprintf(buf, sizeof buf, "%s", s);
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        json_t *e;
        buf[0] = '\0';
        json_array_foreach(v, i, e) {
            char item[128];
            if (json_is_integer(e) && json_integer_value(e) >= 0 && json_integer_value(e) < TG_LIMITS_MAX_CARDS)
                snprintf(item, sizeof item, "%lld", (long long)json_integer_value(e));
            else if (json_is_string(e) && json_string_length(e) <= TG__GPU_ITEM_MAX && !strchr(json_string_value(e), ','))
                snprintf(item, sizeof item, "%s", json_string_value(e));
            else {
                bad = 1;
                bad_at = i + 1;
                break;
            }
            int w = snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "", item);
            if (w < 0 || (size_t)w >= sizeof buf - len) {
                bad = 1;
                break;
            }
            len += (size_t)w;
        }
    } else bad = 1;
    tg_error sub;
    if (!bad && tg__gpus_check(buf, &sub) == TG_OK) {
        memcpy(in->gpus, buf, sizeof buf);
        return TG_OK;
    }
    if (bad_at)
        return tg_error_set(err, TG_EINVAL,
                            "%s: entry %zu is not a card (an NVML index 0..%d, or a UUID string of at most %d "
                            "bytes without commas)",
                            where, bad_at - 1, TG_LIMITS_MAX_CARDS - 1, TG__GPU_ITEM_MAX);
    return tg_error_set(err, TG_EINVAL, "%s: %s (a list of NVML indices or GPU UUIDs, as CUDA_VISIBLE_DEVICES)",
                        where, bad ? "not a list of cards" : sub.msg);
}

static void format_gpus(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    tgx_buf_puts(b, ((const tg__limits_inputs *)target)->gpus);
}

#define IN(f) offsetof(tg__limits_inputs, cfg.f)

const tgx_opt tg__hardware_opts[] = {
    {.key = "free_vram_mib", .flag = "--free-vram-mib", .kind = TGX_OPT_CUSTOM, .arg = "N[,N...]|nvml",
     .help = "free VRAM per card in MiB (the tightest card counts), or nvml to read it",
     .example = "24000,20000", .set = set_free_vram, .format = format_free_vram},
    {.key = "gpus", .flag = "--gpus", .kind = TGX_OPT_CUSTOM, .arg = "I|UUID[,...]",
     .help = "the cards the model runs on (NVML index or UUID); default $CUDA_VISIBLE_DEVICES, else all",
     .example = "0,1", .set = set_gpus, .format = format_gpus},
    {.key = "tp", .flag = "--tp", .kind = TGX_OPT_UINT, .store = TGX_ST_U32, .off = IN(tp), .lo = 1,
     .hi = TG_LIMITS_MAX_TP, .arg = "N", .help = "tensor-parallel degree"},
    {.key = "kv_type", .flag = "--kv-type", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = IN(kv_type),
     .parse = kv_parse, .arg = "f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1", .help = "KV cache element type"},
    {.key = "min_free_mib", .flag = "--min-free-mib", .kind = TGX_OPT_UINT, .store = TGX_ST_U64,
     .off = IN(min_free_bytes), .lo = 0, .hi = TG__MIB_MAX, .scale = (double)TG_MIB, .arg = "N",
     .help = "VRAM kept free on every card, MiB"},
    {.key = "activation_mib", .flag = "--activation-mib", .kind = TGX_OPT_UINT, .store = TGX_ST_U64,
     .off = IN(activation_bytes), .lo = 0, .hi = TG__MIB_MAX, .scale = (double)TG_MIB, .arg = "N",
     .help = "activation headroom per card, MiB"},
    {.key = "prefill_tps", .flag = "--prefill-tps", .kind = TGX_OPT_NUM, .store = TGX_ST_DOUBLE,
     .off = IN(prefill_tps), .lo = 0, .hi = 1e9, .flags = TGX_OPT_OPEN_LO, .arg = "X",
     .help = "prefill throughput, tokens per second (with --target-prefill-s)"},
    {.key = "target_prefill_s", .flag = "--target-prefill-s", .kind = TGX_OPT_NUM, .store = TGX_ST_DOUBLE,
     .off = IN(target_prefill_s), .lo = 0, .hi = 1e6, .flags = TGX_OPT_OPEN_LO, .arg = "S",
     .help = "longest acceptable prefill, seconds"},
};
const size_t tg__n_hardware_opts = sizeof tg__hardware_opts / sizeof tg__hardware_opts[0];

const tgx_opt tg__budget_opts[] = {
    {.key = "max_prompt_tokens", .flag = "--max-prompt-tokens", .kind = TGX_OPT_UINT, .store = TGX_ST_U64,
     .off = IN(max_prompt_tokens), .lo = 1, .hi = TG__TOKENS_MAX, .arg = "N",
     .help = "static backstop: clamp the context to N"},
    {.key = "output_reserve", .flag = "--output-reserve", .kind = TGX_OPT_UINT, .store = TGX_ST_U64,
     .off = IN(output_reserve), .lo = 1, .hi = TG__TOKENS_MAX, .arg = "N",
     .help = "output tokens reserved; input = context - reserve"},
};
const size_t tg__n_budget_opts = sizeof tg__budget_opts / sizeof tg__budget_opts[0];

tg_status tg__limits_inputs_resolve(tg__limits_inputs *in, tg_error *err) {
    if (!in->free_vram_nvml) return TG_OK;
    tg_nvml_card cards[TG_LIMITS_MAX_CARDS];
    size_t n = 0, pos[TG_LIMITS_MAX_CARDS], n_pos = 0;
    const char *from = NULL;
    const char *spec = tg__gpus_spec(in, &from);
    tg_error sub;
    tg_status st = tg_nvml_cards(cards, TG_LIMITS_MAX_CARDS, &n, err);
    if (st != TG_OK) return st;
    if ((st = tg__gpus_select(spec, cards, n, pos, &n_pos, &sub)) != TG_OK)
        return tg_error_set(err, st, "%s: %s", from, sub.msg);
    if (n_pos == 0) return tg_error_set(err, TG_ENOTFOUND, "%s names no card", from);
    for (size_t k = 0; k < n_pos; k++) {
        const tg_nvml_card *c = &cards[pos[k]];
        if (c->status) return tg_error_set(err, TG_EIO, "NVML GPU %u: %s", c->index, c->error);
        in->cfg.free_vram[k] = c->free_bytes;
    }
    in->cfg.n_cards = n_pos;
    return TG_OK;
}
