/* gateway/config_load.c: a serve configuration from a JSON file and flags
 * (config_load.h; format and precedence in config.h), in two passes, the
 * file then the flags, both read through the option tables of options.h. */
#include "gateway/config_load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/options.h"

#define MAX_CONFIG_BYTES (4u << 20)

static tg_status load_json(tg__config *c, json_t *root, const char *file, tg_error *err) {
    tg_status st = tgx_opt_object(tg__serve_opts, tg__n_serve_opts, c, NULL, "", root, err);
    if (st != TG_OK && err && strncmp(err->msg, "config ", 7) == 0 && !strstr(err->msg, file))
        tg_error_wrap(err, "%s", file);
    return st;
}

static tg_status load_file(tg__config *c, const char *file, tg_error *err) {
    json_error_t je;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!root) return tg_error_set(err, TG_EINVAL, "config %s:%d:%d: %s", file, je.line, je.column, je.text);
    tg_status st = load_json(c, root, file, err);
    json_decref(root);
    return st;
}

/* Checks across keys, once everything is read. */
static tg_status finish(tg__config *c, tg_error *err) {
    if (!c->listen_host && !(c->listen_host = strdup("127.0.0.1"))) return tg_error_set(err, TG_ENOMEM, "out of memory");
    if (c->n_models == 0)
        return tg_error_set(err, TG_EINVAL, "no model to serve: give --upstream URL or a --config with \"models\"");
    for (size_t i = 0; i < c->n_models; i++) {
        tg__model_cfg *m = &c->models[i];
        for (size_t j = 0; j < i; j++)
            if (m->name && c->models[j].name && !strcmp(m->name, c->models[j].name))
                return tg_error_set(err, TG_EINVAL, "model name '%s' is served twice", m->name);
        if (m->context && m->output && m->output > m->context)
            return tg_error_set(err, TG_EINVAL, "model %s: output %llu exceeds context %llu", m->name ? m->name : "(flags)",
                                (unsigned long long)m->output, (unsigned long long)m->context);
    }
    return TG_OK;
}

/* The flags, after the file: global ones override it; the single-model ones
 * build one more model section. */
static tg_status apply_flags(tg__config *c, int argc, char **argv, tg_error *err) {
    /* the global scope, then a model section's three */
    const tgx_opt_table tabs[4] = {{tg__serve_opts, tg__n_serve_opts},
                                   {tg__model_opts, tg__n_model_opts},
                                   {tg__settings_opts, tg__n_settings_opts},
                                   {tg__hardware_opts, tg__n_hardware_opts}};
    size_t fm = SIZE_MAX; /* index of the section built from flags */
    uint64_t lists_given = 0; /* global lists already replaced by flags */
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) return tg_error_set(err, TG_EINVAL, "unexpected argument '%s'", argv[i]);
        tgx_opt_arg a;
        tg_status st = tgx_opt_next(tabs, 4, argc, argv, &i, &a, err);
        if (st == TG_ENOTFOUND)
            return tg_error_set(err, TG_EINVAL, "unknown option '%s' (see tokgate serve --help)", a.name);
        if (st != TG_OK) return st;
        uint64_t bit = (uint64_t)1 << (size_t)(a.opt - tabs[a.table].v);
        void *target = c;
        if (a.table > 0) {
            if (fm == SIZE_MAX) {
                if (!tg__config_add_model(c)) return tg_error_set(err, TG_ENOMEM, "out of memory");
                fm = c->n_models - 1;
            }
            tg__model_cfg *m = &c->models[fm];
            target = a.table == 1 ? (void *)m : a.table == 2 ? (void *)&m->settings : (void *)&m->hw;
            if (a.table == 2) m->settings_given |= bit;
            if (a.table == 3) m->hw_given |= bit;
        } else if (a.opt->kind == TGX_OPT_LIST && !(lists_given & bit)) {
            tgx_opt_clear(a.opt, c); /* flags replace the file's list */
            lists_given |= bit;
        }
        if ((st = tgx_opt_from_text(a.opt, target, a.name, a.value, err)) != TG_OK) return st;
    }
    if (fm != SIZE_MAX && !c->models[fm].upstream)
        return tg_error_set(err, TG_EINVAL, "the single-model flags need --upstream URL");
    return TG_OK;
}

/* --config FILE or --config=FILE; NULL when not given. */
static const char *config_file(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) return i + 1 < argc ? argv[i + 1] : NULL;
        if (!strncmp(argv[i], "--config=", 9)) return argv[i] + 9;
    }
    return NULL;
}

tg_status tg__config_from_args(int argc, char **argv, tg__config **out, tg_error *err) {
    tg__config *c = tg__config_new();
    if (!c) return tg_error_set(err, TG_ENOMEM, "out of memory");
    const char *file = config_file(argc, argv);
    tg_status st = TG_OK;
    if (file) st = load_file(c, file, err);
    if (st == TG_OK) st = apply_flags(c, argc, argv, err);
    if (st == TG_OK) st = finish(c, err);
    if (st != TG_OK) {
        tg__config_unref(c);
        return st;
    }
    *out = c;
    return TG_OK;
}

tg_status tg__config_from_json(const char *json, size_t len, const char *name, tg__config **out, tg_error *err) {
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return tg_error_set(err, TG_EINVAL, "config %s:%d:%d: %s", name, je.line, je.column, je.text);
    tg__config *c = tg__config_new();
    tg_status st = c ? load_json(c, root, name, err) : tg_error_set(err, TG_ENOMEM, "out of memory");
    json_decref(root);
    if (st == TG_OK) st = finish(c, err);
    if (st != TG_OK) {
        tg__config_unref(c);
        return st;
    }
    *out = c;
    return TG_OK;
}
