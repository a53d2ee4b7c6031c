/*
 * template/chat.c: a model's chat templates and the context of a chat request.
 *
 * Where templates come from (tg_chat_load):
 *  - tokenizer_config.json: "chat_template" is a string, or a list of
 *    {"name": ..., "template": ...} (transformers' named templates);
 *    bos_token / eos_token are strings, AddedToken objects {"content": ...},
 *    or null (then "");
 *  - a tokenizer.json: as its directory;
 *  - a directory: its chat_template.jinja if present (transformers prefers it),
 *    else its tokenizer_config.json's chat_template; special tokens from the
 *    tokenizer_config.json when there is one;
 *  - a GGUF file: tokenizer.chat_template (and tokenizer.chat_template.<name>),
 *    bos/eos from tokenizer.ggml.{bos,eos}_token_id and tokenizer.ggml.tokens
 *    (chat_gguf.c).
 * Every template is compiled at load; one that does not compile keeps its
 * error, reported only when a request selects it.
 *
 * Which template (as transformers' apply_chat_template): the named one when a
 * name is given; else "tool_use" when the request has tools and it exists;
 * else "default"; else the only one.
 *
 * The context (as transformers and llama-server build it): messages, tools
 * (null when absent), documents (null when absent), add_generation_prompt,
 * bos_token, eos_token, then caller extras, then chat_template_kwargs' keys
 * at top level (enable_thinking, ...), later keys overriding earlier ones.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "template/chat.h"
#include "template/tpl.h"
#include "util/file.h"

#define TG_CHAT_MAX_CONFIG (64u << 20)

void tg_chat_free(tg_chat *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->names[i]);
        tg_template_free(c->tpls[i]);
    }
    free(c->names);
    free(c->tpls);
    free(c->errs);
    free(c->caps);
    free(c->bos);
    free(c->eos);
    free(c);
}

tg_chat *tg__j_chat_new(void) { return calloc(1, sizeof(tg_chat)); }

tg_status tg__j_chat_set_token(char **dst, const char *s, size_t n) {
    free(*dst);
    *dst = malloc(n + 1);
    if (!*dst) return TG_ENOMEM;
    if (n) memcpy(*dst, s, n);
    (*dst)[n] = '\0';
    return TG_OK;
}

tg_status tg__j_chat_add(tg_chat *c, const char *name, const char *src, size_t len, tg_error *err) {
    size_t n = c->n + 1;
    char **names = realloc(c->names, n * sizeof *names);
    if (names) c->names = names;
    tg_template **tpls = realloc(c->tpls, n * sizeof *tpls); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (tpls) c->tpls = tpls;
    tg_error *errs = realloc(c->errs, n * sizeof *errs);
    if (errs) c->errs = errs;
    tg__j_caps *caps = realloc(c->caps, n * sizeof *caps);
    if (caps) c->caps = caps;
    if (!names || !tpls || !errs || !caps) return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    c->names[c->n] = strdup(name);
    if (!c->names[c->n]) return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    c->tpls[c->n] = NULL;
    memset(&c->errs[c->n], 0, sizeof c->errs[c->n]);
    tg_status st = tg_template_parse(src, len, &c->tpls[c->n], &c->errs[c->n]);
    if (st == TG_ENOMEM) {
        free(c->names[c->n]);
        return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    }
    memset(&c->caps[c->n], 0, sizeof c->caps[c->n]);
    if (c->tpls[c->n] && tg__j_caps_detect(c->tpls[c->n], src, len, &c->caps[c->n]) != TG_OK) {
        tg_template_free(c->tpls[c->n]);
        free(c->names[c->n]);
        return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    }
    c->n++;
    return TG_OK;
}

/* A special token: a string, {"content": string}, or null/absent -> "". */
static tg_status token_field(const json_t *cfg, const char *key, char **dst, tg_error *err) {
    const json_t *v = json_object_get(cfg, key);
    if (v && json_is_object(v)) v = json_object_get(v, "content");
    if (v && json_is_string(v)) {
        if (tg__j_chat_set_token(dst, json_string_value(v), json_string_length(v)))
            return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
        return TG_OK;
    }
    if (v && !json_is_null(v))
        return tg_error_set(err, TG_EINVAL, "tokenizer_config.json: %s is neither a string nor {\"content\": string}", key);
    if (!*dst && tg__j_chat_set_token(dst, "", 0)) return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    return TG_OK;
}

/* Fills c from a parsed tokenizer_config.json; templates only when want_tpl. */
static tg_status from_config_json(tg_chat *c, const json_t *cfg, int want_tpl, tg_error *err) {
    tg_status st;
    if (!json_is_object(cfg)) return tg_error_set(err, TG_ECORRUPT, "tokenizer_config.json: not a JSON object");
    if ((st = token_field(cfg, "bos_token", &c->bos, err))) return st;
    if ((st = token_field(cfg, "eos_token", &c->eos, err))) return st;
    if (!want_tpl) return TG_OK;
    const json_t *ct = json_object_get(cfg, "chat_template");
    if (!ct || json_is_null(ct))
        return tg_error_set(err, TG_ENOTFOUND, "tokenizer_config.json has no chat_template");
    if (json_is_string(ct)) return tg__j_chat_add(c, "default", json_string_value(ct), json_string_length(ct), err);
    if (!json_is_array(ct))
        return tg_error_set(err, TG_ECORRUPT, "tokenizer_config.json: chat_template is neither a string nor a list");
    size_t i;
    const json_t *e;
    json_array_foreach(ct, i, e) {
        const json_t *name = json_object_get(e, "name"), *tpl = json_object_get(e, "template");
        if (!json_is_string(name) || !json_is_string(tpl))
            return tg_error_set(err, TG_ECORRUPT,
                                "tokenizer_config.json: chat_template[%zu] lacks a string \"name\" and \"template\"", i);
        if ((st = tg__j_chat_add(c, json_string_value(name), json_string_value(tpl), json_string_length(tpl), err)))
            return st;
    }
    if (c->n == 0) return tg_error_set(err, TG_ENOTFOUND, "tokenizer_config.json: chat_template is an empty list");
    return TG_OK;
}

static tg_status parse_config(const char *json, size_t len, json_t **out, tg_error *err) {
    json_error_t je;
    json_t *cfg = json_loadb(json, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
    if (!cfg)
        return tg_error_set(err, TG_ECORRUPT, "tokenizer_config.json: line %d, column %d: %s", je.line, je.column, je.text);
    *out = cfg;
    return TG_OK;
}

tg_status tg_chat_from_config(const char *json, size_t len, tg_chat **out, tg_error *err) {
    json_t *cfg;
    tg_status st = parse_config(json, len, &cfg, err);
    if (st) return st;
    tg_chat *c = tg__j_chat_new();
    if (!c) { json_decref(cfg); return tg_error_set(err, TG_ENOMEM, "chat template: out of memory"); }
    st = from_config_json(c, cfg, 1, err);
    json_decref(cfg);
    if (st) { tg_chat_free(c); return st; }
    *out = c;
    return TG_OK;
}

tg_status tg_chat_from_source(const char *src, size_t len, const char *bos, const char *eos, tg_chat **out,
                              tg_error *err) {
    tg_chat *c = tg__j_chat_new();
    if (!c) return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    tg_status st = tg__j_chat_add(c, "default", src, len, err);
    if (!st && (tg__j_chat_set_token(&c->bos, bos ? bos : "", bos ? strlen(bos) : 0) ||
                tg__j_chat_set_token(&c->eos, eos ? eos : "", eos ? strlen(eos) : 0)))
        st = tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    if (st) { tg_chat_free(c); return st; }
    *out = c;
    return TG_OK;
}

static tg_status load_dir(const char *dir, tg_chat **out, tg_error *err) {
    size_t dl = strlen(dir);
    char *cfgp = malloc(dl + 32), *jp = malloc(dl + 32);
    tg_status st = TG_OK;
    tg_chat *c = NULL;
    json_t *cfg = NULL;
    tgx_buf b;
    tgx_buf_init(&b, TG_CHAT_MAX_CONFIG);
    if (!cfgp || !jp) { st = tg_error_set(err, TG_ENOMEM, "chat template: out of memory"); goto done; }
    snprintf(cfgp, dl + 32, "%s/tokenizer_config.json", dir);
    snprintf(jp, dl + 32, "%s/chat_template.jinja", dir);
    int have_cfg = tgx_file_exists(cfgp), have_jinja = tgx_file_exists(jp);
    if (!have_cfg && !have_jinja) {
        st = tg_error_set(err, TG_ENOTFOUND, "%s holds neither tokenizer_config.json nor chat_template.jinja", dir);
        goto done;
    }
    c = tg__j_chat_new();
    if (!c) { st = tg_error_set(err, TG_ENOMEM, "chat template: out of memory"); goto done; }
    if (have_cfg) {
        if ((st = tgx_read_file(cfgp, TG_CHAT_MAX_CONFIG, &b, err))) goto done;
        if ((st = parse_config(b.data ? b.data : "", b.len, &cfg, err))) goto done;
        if ((st = from_config_json(c, cfg, !have_jinja, err))) goto done;
    } else if (tg__j_chat_set_token(&c->bos, "", 0) || tg__j_chat_set_token(&c->eos, "", 0)) {
        st = tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
        goto done;
    }
    if (have_jinja) {
        tgx_buf_free(&b); /* tgx_read_file initialises the buffer itself */
        if ((st = tgx_read_file(jp, TG_TEMPLATE_MAX_SOURCE, &b, err))) goto done;
        if ((st = tg__j_chat_add(c, "default", b.data ? b.data : "", b.len, err))) goto done;
    }
done:
    if (st) tg_chat_free(c);
    else *out = c;
    json_decref(cfg);
    tgx_buf_free(&b);
    free(cfgp);
    free(jp);
    return st;
}

tg_status tg_chat_load(const char *path, tg_chat **out, tg_error *err) {
    if (tgx_is_dir(path)) return load_dir(path, out, err);
    /* A tokenizer.json: its templates live in the directory around it. */
    size_t pl = strlen(path);
    if ((pl == 14 || (pl > 14 && path[pl - 15] == '/')) && strcmp(path + pl - 14, "tokenizer.json") == 0) {
        char *dir = strdup(path);
        if (!dir) return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
        if (pl == 14) memcpy(dir, ".", 2); /* "." and its NUL: dir holds 15 bytes */
        else dir[pl - 15] = '\0';
        tg_status st = load_dir(dir[0] ? dir : "/", out, err);
        free(dir);
        return st;
    }
    tgx_buf b;
    tgx_buf_init(&b, TG_CHAT_MAX_CONFIG);
    tg_status st;
    if (tg__j_chat_is_gguf(path)) return tg__j_chat_from_gguf(path, out, err);
    if ((st = tgx_read_file(path, TG_CHAT_MAX_CONFIG, &b, err))) {
        tgx_buf_free(&b);
        return st;
    }
    st = tg_chat_from_config(b.data ? b.data : "", b.len, out, err);
    tgx_buf_free(&b);
    if (st) tg_error_wrap(err, "%s", path);
    return st;
}

const char *tg_chat_bos_token(const tg_chat *c) { return c->bos ? c->bos : ""; }
const char *tg_chat_eos_token(const tg_chat *c) { return c->eos ? c->eos : ""; }

tg_status tg__j_chat_pick(const tg_chat *c, const char *name, int has_tools, size_t *idx, tg_error *err) {
    if (name) {
        for (size_t i = 0; i < c->n; i++)
            if (strcmp(c->names[i], name) == 0) { *idx = i; return TG_OK; }
        return tg_error_set(err, TG_ENOTFOUND, "no chat template named '%s' (%zu templates)", name, c->n);
    }
    if (has_tools)
        for (size_t i = 0; i < c->n; i++)
            if (strcmp(c->names[i], "tool_use") == 0) { *idx = i; return TG_OK; }
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], "default") == 0) { *idx = i; return TG_OK; }
    if (c->n == 1) { *idx = 0; return TG_OK; }
    return tg_error_set(err, TG_ENOTFOUND, "no 'default' chat template among %zu named ones; pick one by name", c->n);
}

tg_status tg_chat_context(const tg_chat *c, const json_t *request, const tg_chat_options *opt, json_t **ctx_out,
                          const tg_template **tpl, tg_error *err) {
    if (opt && opt->dialect == TG_CHAT_LLAMACPP) return tg__j_llamacpp_context(c, request, opt, ctx_out, tpl, err);
    if (!json_is_object(request)) return tg_error_set(err, TG_EINVAL, "chat request: not a JSON object");
    const json_t *messages = json_object_get(request, "messages");
    if (!json_is_array(messages)) return tg_error_set(err, TG_EINVAL, "chat request: \"messages\" is not a list");
    const json_t *tools = json_object_get(request, "tools");
    const json_t *docs = json_object_get(request, "documents");
    const json_t *kwargs = json_object_get(request, "chat_template_kwargs");
    if (kwargs && !json_is_object(kwargs) && !json_is_null(kwargs))
        return tg_error_set(err, TG_EINVAL, "chat request: \"chat_template_kwargs\" is not an object");
    size_t idx = 0;
    tg_status st = tg__j_chat_pick(c, opt ? opt->template_name : NULL, tools && !json_is_null(tools), &idx, err);
    if (st) return st;
    if (!c->tpls[idx]) {
        if (err) *err = c->errs[idx];
        return c->errs[idx].code ? c->errs[idx].code : TG_EINVAL;
    }
    int agp = opt ? opt->add_generation_prompt : -1;
    if (agp < 0) {
        const json_t *a = json_object_get(request, "add_generation_prompt");
        agp = a && json_is_boolean(a) ? json_is_true(a) : 1;
    }
    json_t *ctx = json_object();
    if (!ctx) return tg_error_set(err, TG_ENOMEM, "chat template: out of memory");
    int bad = 0;
    bad |= json_object_set(ctx, "messages", (json_t *)(uintptr_t)messages);
    bad |= json_object_set_new(ctx, "tools", tools ? json_incref((json_t *)(uintptr_t)tools) : json_null());
    bad |= json_object_set_new(ctx, "documents", docs ? json_incref((json_t *)(uintptr_t)docs) : json_null());
    bad |= json_object_set_new(ctx, "add_generation_prompt", json_boolean(agp));
    bad |= json_object_set_new(ctx, "bos_token", json_string(tg_chat_bos_token(c)));
    bad |= json_object_set_new(ctx, "eos_token", json_string(tg_chat_eos_token(c)));
    if (opt && opt->extra && json_is_object(opt->extra)) bad |= json_object_update(ctx, (json_t *)(uintptr_t)opt->extra);
    if (kwargs && json_is_object(kwargs)) bad |= json_object_update(ctx, (json_t *)(uintptr_t)kwargs);
    if (bad) {
        json_decref(ctx);
        return tg_error_set(err, TG_ENOMEM, "chat template: cannot build the context");
    }
    *ctx_out = ctx;
    *tpl = c->tpls[idx];
    return TG_OK;
}

tg_status tg_chat_render(const tg_chat *c, const json_t *request, const tg_chat_options *opt, char **out,
                         size_t *out_len, tg_error *err) {
    if (opt && opt->dialect == TG_CHAT_LLAMACPP) return tg__j_llamacpp_render(c, request, opt, out, out_len, err);
    json_t *ctx;
    const tg_template *tpl;
    tg_status st = tg_chat_context(c, request, opt, &ctx, &tpl, err);
    if (st) return st;
    st = tg_template_render(tpl, ctx, opt ? &opt->render : NULL, out, out_len, err);
    json_decref(ctx);
    return st;
}
