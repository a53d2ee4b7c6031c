/* gateway/config.c: the serve configuration (config.h): its lifetime, the
 * defaults and the address parsers. Reading it from a file and flags is
 * config_load.c's, through the option tables of options.h. */
#include "gateway/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/options.h"

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
    for (size_t i = 0; i < m->n_more; i++) {
        free(m->more_upstreams[i]);
        tg__url_free(&m->more_urls[i]);
    }
    free(m->more_upstreams);
    free(m->more_urls);
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
    c->header_timeout = 20;
    c->header_timeout_max = 40;
    c->body_timeout = 20;
    c->body_timeout_max = 0;
    c->min_rate = 500;
    c->discovery_interval = 30;
    c->discovery_wait = 5;
    c->vram_interval = 5;
    c->vram_window = 6;
    c->vram_hysteresis_mib = 512;
    c->route_load_bound = 1.25;
    c->engine_count_timeout = 5;
    c->max_body = 32u << 20;
    c->max_head = 32u << 10;
    c->max_headers = 100;
    c->max_line = 8192;
    c->high_watermark = 256u << 10;
    c->workers = 2;
    c->inline_max = 64u << 10;
    c->admission_queue = 64;
    c->admission_wait = 30;
    c->admission_share = 1;
    c->answer_min_rate = 16;
    c->adaptive_quantile = 900000u;
    c->adaptive_min_samples = 20u;
    c->adaptive_save_interval = 60;
    c->summary_cache = 256;
    c->summary_timeout = 60;
    return c;
}

/* The file's top-level object; messages name FILE. */
