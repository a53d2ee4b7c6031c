/*
 * template/template.c: the public tg_template API (parse once, render many).
 *
 * Parsing validates the source as UTF-8, preprocesses and tokenizes it
 * (lexer.c) and builds the AST (parser.c) in the template's arena. Rendering
 * builds the global scope as @huggingface/jinja's Template.render does:
 * true/false/none (and True/False/None), raise_exception, range,
 * strftime_now, namespace, then the context's keys (a key that collides with
 * one of those names is refused, as the reference refuses to redeclare
 * them). All render memory comes from one arena freed at the end; the output
 * is copied out only on success.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "template/tpl.h"
#include "util/utf8.h"

tg_status tg_template_parse(const char *src, size_t len, tg_template **out, tg_error *err) {
    if (!src && len) return tg_error_set(err, TG_EINVAL, "template: NULL source");
    if (len > TG_TEMPLATE_MAX_SOURCE)
        return tg_error_set(err, TG_ELIMIT, "template of %zu bytes exceeds the %u-byte limit", len,
                            TG_TEMPLATE_MAX_SOURCE);
    size_t bad;
    if (len && !tgx_utf8_valid((const uint8_t *)src, len, &bad)) {
        size_t line, col;
        tg__j_source_pos(src, len, bad, &line, &col);
        return tg_error_set(err, TG_EINVAL, "template line %zu, column %zu: invalid UTF-8 (byte offset %zu)",
                            line, col, bad);
    }
    tg_template *t = calloc(1, sizeof *t);
    if (!t) return tg_error_set(err, TG_ENOMEM, "template: out of memory");
    tg__j_arena_init(&t->arena, (size_t)64 * len + (1u << 20));
    t->src = malloc(len + 1);
    if (!t->src) { free(t); return tg_error_set(err, TG_ENOMEM, "template: out of memory"); }
    if (len) memcpy(t->src, src, len);
    t->src[len] = '\0';
    t->len = len;
    tg__j_tok *toks = NULL;
    size_t ntoks = 0;
    tg_status st = tg__j_lex(t->src, len, &t->arena, &toks, &ntoks, err);
    if (!st) st = tg__j_parse(toks, ntoks, &t->arena, t->src, len, &t->program, err);
    if (st) {
        tg_template_free(t);
        return st;
    }
    *out = t;
    return TG_OK;
}

void tg_template_free(tg_template *t) {
    if (!t) return;
    tg__j_arena_free(&t->arena);
    free(t->src);
    free(t);
}

tg_status tg__j_exec_program(tg__j_rt *rt, const tg__j_nodes *program, tg__j_env *env, tgx_buf *out);

static const char *const GLOBAL_NAMES[] = {"false", "true", "none", "raise_exception", "range",
                                           "strftime_now", "True", "False", "None", "namespace"};

static tg_status setup_globals(tg__j_rt *rt, tg__j_env *g) {
    tg_status st;
    tg__j_val v;
    const struct { const char *name; int kind; int val; } fixed[] = {
        {"false", V_BOOL, 0}, {"true", V_BOOL, 1}, {"none", V_NULL, 0},
        {"True", V_BOOL, 1}, {"False", V_BOOL, 0}, {"None", V_NULL, 0}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        v = fixed[i].kind == V_BOOL ? tg__j_bool(fixed[i].val) : tg__j_null();
        if ((st = tg__j_env_set(rt, g, (tg__j_str){fixed[i].name, strlen(fixed[i].name)}, v))) return st;
    }
    const struct { const char *name; int id; } fns[] = {
        {"raise_exception", B_RAISE}, {"range", B_RANGE}, {"strftime_now", B_STRFTIME},
        {"namespace", B_NAMESPACE}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        if ((st = tg__j_fn_new(rt, F_BUILTIN, fns[i].id, &v, NULL))) return st;
        if ((st = tg__j_env_set(rt, g, (tg__j_str){fns[i].name, strlen(fns[i].name)}, v))) return st;
    }
    return TG_OK;
}

/* The context of tg_template_render: a JSON object converted as
 * convertToRuntimeValues (keys in JavaScript object order). */
static tg_status ctx_from_json(tg__j_rt *rt, void *user, tg__j_val *root) {
    const json_t *ctx = user;
    if (!ctx) return tg__j_dict_new(rt, 0, V_DICT, root);
    return tg__j_from_json(rt, ctx, root, 0);
}

tg_status tg_template_render(const tg_template *t, const json_t *ctx, const tg_render_options *opt,
                             char **out, size_t *out_len, tg_error *err) {
    if (!t || !out) return tg_error_set(err, TG_EINVAL, "template: NULL argument");
    if (ctx && !json_is_object(ctx)) return tg_error_set(err, TG_EINVAL, "template context must be a JSON object");
    return tg__j_render_with(t, opt, ctx_from_json, (void *)(uintptr_t)ctx, out, out_len, err);
}

tg_status tg__j_render_with(const tg_template *t, const tg_render_options *opt, tg__j_ctx_fn make_ctx, void *user,
                            char **out, size_t *out_len, tg_error *err) {
    tg__j_rt rt;
    memset(&rt, 0, sizeof rt);
    rt.err = err;
    rt.tpl = t;
    if (opt) rt.lim = opt->limits;
    if (!rt.lim.max_output) rt.lim.max_output = TG_TEMPLATE_DEFAULT_MAX_OUTPUT;
    if (!rt.lim.max_depth) rt.lim.max_depth = TG_TEMPLATE_DEFAULT_MAX_DEPTH;
    if (!rt.lim.max_iterations) rt.lim.max_iterations = TG_TEMPLATE_DEFAULT_MAX_ITERATIONS;
    if (!rt.lim.max_memory) rt.lim.max_memory = TG_TEMPLATE_DEFAULT_MAX_MEMORY;
    rt.now = opt && opt->now ? opt->now : (int64_t)time(NULL);
    rt.llamacpp = opt && opt->llamacpp;
    tg__j_arena_init(&rt.arena, rt.lim.max_memory);
    tgx_buf b;
    tg__j_buf_init(&rt, &b);
    tg_status st = TG_OK;
    tg__j_env *g = tg__j_env_new(&rt, NULL);
    if (!g) st = tg_error_set(err, TG_ENOMEM, "template: out of memory");
    if (!st) st = setup_globals(&rt, g);
    tg__j_val root;
    if (!st) st = make_ctx(&rt, user, &root);
    if (!st && !rt.tpl) st = tg_error_set(err, TG_EINVAL, "template: none chosen");
    t = rt.tpl;
    for (size_t i = 0; !st && i < root.u.d->n; i++) {
        tg__j_str k = root.u.d->k[i];
        for (size_t j = 0; j < sizeof GLOBAL_NAMES / sizeof GLOBAL_NAMES[0]; j++)
            if (tg__j_str_eq(k, GLOBAL_NAMES[j]))
                st = tg_error_set(err, TG_EINVAL, "template context: Variable already declared: %s",
                                  GLOBAL_NAMES[j]);
        if (!st) st = tg__j_env_set(&rt, g, k, root.u.d->v[i]);
    }
    if (!st) st = tg__j_exec_program(&rt, &t->program, g, &b); // NOLINT(clang-analyzer-core.NullDereference): t set above
    if (!st) {
        size_t n = b.len;
        char *p = tgx_buf_detach(&b, &n);
        if (!p) {
            p = malloc(1);
            if (!p) st = tg_error_set(err, TG_ENOMEM, "template: out of memory");
            else p[0] = '\0';
            n = 0;
        }
        if (!st) {
            *out = p;
            if (out_len) *out_len = n;
        }
    }
    tgx_buf_free(&b);
    tg__j_arena_free(&rt.arena);
    return st;
}
