/* gateway/config.c: the serve configuration from a JSON file and flags (see
 * config.h for the format and precedence): its lifetime, the defaults, the
 * address parsers, and the two passes (the file, then the flags) that read
 * both through the option tables of gateway/options.h. */
#include "gateway/config.h"

#include "gateway/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFIG_BYTES (4u << 20)

static char *xstrdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

void tg__url_free(tg__url *u) {
    free(u->host);
    free(u->hostport);
    free(u->base_path);
    memset(u, 0, sizeof *u);
}

static int parse_port(const char *s, size_t n, int *port) {
    if (n == 0 || n > 5) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    *port = (int)v;
    return 0;
}

/* host[:port] at s[0..n): bracketed IPv6 allowed. */
static int split_hostport(const char *s, size_t n, char **host, int *port, int default_port) {
    const char *h = s;
    size_t hl;
    const char *rest;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb) return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        rest = rb + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
        rest = s + hl;
    }
    size_t restn = n - (size_t)(rest - s);
    if (restn) {
        if (rest[0] != ':' || parse_port(rest + 1, restn - 1, port) != 0) return -1;
    } else {
        if (default_port <= 0) return -1;
        *port = default_port;
    }
    *host = malloc(hl + 1);
    if (!*host) return -1;
    memcpy(*host, h, hl);
    (*host)[hl] = '\0';
    return 0;
}

tg_status tg__parse_hostport(const char *s, char **host, int *port, tg_error *err) {
    size_t n = strlen(s);
    int p = 0;
    if (parse_port(s, n, &p) == 0) {
        *host = xstrdup("127.0.0.1");
        *port = p;
        return *host ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    if (n && s[0] == ':' && parse_port(s + 1, n - 1, &p) == 0) {
        *host = xstrdup("127.0.0.1");
        *port = p;
        return *host ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    if (split_hostport(s, n, host, port, 0) != 0 || !**host) {
        if (*host) { free(*host); *host = NULL; }
        return tg_error_set(err, TG_EINVAL, "bad listen address '%s' (want HOST:PORT, port 1-65535)", s);
    }
    return TG_OK;
}

tg_status tg__url_parse(const char *s, tg__url *u, tg_error *err) {
    memset(u, 0, sizeof *u);
    if (strncmp(s, "http://", 7) != 0)
        return tg_error_set(err, TG_EINVAL, "upstream URL '%s' must start with http:// (TLS upstreams are not supported)", s);
    const char *a = s + 7;
    const char *slash = strchr(a, '/');
    size_t an = slash ? (size_t)(slash - a) : strlen(a);
    if (an == 0 || split_hostport(a, an, &u->host, &u->port, 80) != 0 || !u->host[0]) {
        tg__url_free(u);
        return tg_error_set(err, TG_EINVAL, "upstream URL '%s' has a bad host or port", s);
    }
    u->hostport = malloc(an + 1);
    const char *path = slash ? slash : "";
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/') pl--;
    if (pl >= 3 && memcmp(path + pl - 3, "/v1", 3) == 0) pl -= 3;
    u->base_path = malloc(pl + 1);
    if (!u->hostport || !u->base_path) {
        tg__url_free(u);
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    memcpy(u->hostport, a, an);
    u->hostport[an] = '\0';
    memcpy(u->base_path, path, pl);
    u->base_path[pl] = '\0';
    return TG_OK;
}

void tg__model_cfg_init(tg__model_cfg *m) {
    memset(m, 0, sizeof *m);
    m->continuation = -1;
    tg_model_settings_init(&m->settings);
    tg__limits_inputs_init(&m->hw);
}

void tg__model_cfg_free(tg__model_cfg *m) {
    tgx_opt_free(tg__model_opts, tg__n_model_opts, m);
    free(m->upstream);
    tg__url_free(&m->url);
    memset(m, 0, sizeof *m);
}

void tg__config_ref(tg__config *c) { c->refs++; }

void tg__config_unref(tg__config *c) {
    if (!c || --c->refs > 0) return;
    free(c->listen_host);
    tgx_opt_free(tg__serve_opts, tg__n_serve_opts, c);
    for (size_t i = 0; i < c->n_models; i++) tg__model_cfg_free(&c->models[i]);
    free(c->models);
    free(c);
}

tg__model_cfg *tg__config_add_model(tg__config *c) {
    tg__model_cfg *nm = realloc(c->models, (c->n_models + 1) * sizeof *nm);
    if (!nm) return NULL;
    c->models = nm;
    tg__model_cfg_init(&nm[c->n_models]);
    return &nm[c->n_models++];
}

tg__config *tg__config_new(void) {
    tg__config *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->refs = 1;
    c->listen_port = 8000;
    c->connect_timeout = 5;
    c->first_byte_timeout = 600;
    c->idle_timeout = 120;
    c->client_timeout = 60;
    c->drain_timeout = 30;
    c->discovery_interval = 30;
    c->max_body = 32u << 20;
    c->max_head = 32u << 10;
    c->max_headers = 100;
    c->max_line = 8192;
    c->high_watermark = 256u << 10;
    c->workers = 2;
    c->inline_max = 64u << 10;
    c->admission_queue = 64;
    c->admission_wait = 30;
    return c;
}

/* The file's top-level object; messages name FILE. */
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
    if (!c->listen_host && !(c->listen_host = xstrdup("127.0.0.1"))) return tg_error_set(err, TG_ENOMEM, "out of memory");
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
