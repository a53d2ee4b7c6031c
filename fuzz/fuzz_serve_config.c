/*
 * fuzz_serve_config.c: libFuzzer target over the `tokgate serve` config file
 * (tg__config_from_json: the JSON through the option tables of
 * gateway/options.h, then the checks across keys). fuzz_config.c is the HF
 * config.json target; this one is the gateway's.
 *
 * Invariants checked (abort on violation, so the fuzzer reports them):
 *   - on success: a listen address, at least one model section, each with
 *     an http upstream parsed to a host and port (every replica of
 *     "upstreams" too, at most TG__MAX_REPLICAS, no host:port twice); every value within the
 *     bounds its table entry declares (timeouts, discovery interval, sizes,
 *     safe fractions in ppm, tp, cards); output <= context when both set;
 *   - flag/key agreement: every value the file set, formatted as flag text
 *     and given to the same entry as a flag on a fresh target, is accepted
 *     and reads back identically (global entries and every model section's,
 *     policy and hardware included);
 *   - on failure: a non-empty message naming the file or the config.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/config_load.h"
#include "gateway/options.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static char *fmt(const tgx_opt *o, const void *target) {
    tgx_buf b;
    tgx_buf_init(&b, 1u << 16);
    tgx_opt_format(o, target, &b);
    char *s = strdup(b.data ? b.data : "");
    tgx_buf_free(&b);
    CHECK(s);
    return s;
}

/* Each entry with a flag: TARGET's value as text, read into FRESH (a target
 * with the defaults) as the flag, must read back the same. Values left at
 * their default (unset ones among them: 0 for a count from 1), lists and
 * booleans are skipped. */
static void agree(const tgx_opt *t, size_t n, const void *target, void *fresh) {
    for (size_t i = 0; i < n; i++) {
        const tgx_opt *o = &t[i];
        if (!o->flag || !o->key || o->kind == TGX_OPT_LIST || o->kind == TGX_OPT_BOOL) continue;
        char *v = fmt(o, target), *d = fmt(o, fresh);
        if (*v && strcmp(v, d) != 0) {
            tg_error err;
            CHECK(tgx_opt_from_text(o, fresh, o->flag, v, &err) == TG_OK);
            char *w = fmt(o, fresh);
            CHECK(strcmp(v, w) == 0);
            free(w);
        }
        free(v);
        free(d);
    }
}

static void check_model(const tg__model_cfg *m) {
    CHECK(m->upstream && m->url.host && m->url.host[0] && m->url.port >= 1 && m->url.port <= 65535);
    CHECK(tg__mc_n_urls(m) <= TG__MAX_REPLICAS); /* replicas ("upstreams"): each parsed, none twice */
    for (size_t r = 1; r < tg__mc_n_urls(m); r++) {
        const tg__url *u = tg__mc_url(m, r);
        CHECK(m->more_upstreams[r - 1] && u->host && u->host[0] && u->port >= 1 && u->port <= 65535);
        for (size_t q = 0; q < r; q++)
            CHECK(tg__mc_url(m, q)->port != u->port || strcmp(tg__mc_url(m, q)->host, u->host) != 0);
    }
    CHECK(!(m->context && m->output) || m->output <= m->context);
    CHECK(m->settings.safe_fraction_ppm >= 1 && m->settings.safe_fraction_ppm <= 1000000);
    CHECK(m->hw.cfg.tp >= 1 && m->hw.cfg.tp <= TG_LIMITS_MAX_TP && m->hw.cfg.n_cards <= TG_LIMITS_MAX_CARDS);
    CHECK(m->continuation >= -1 && m->continuation <= 1);
    tg__model_cfg f;
    tg__model_cfg_init(&f);
    agree(tg__model_opts, tg__n_model_opts, m, &f);
    agree(tg__settings_opts, tg__n_settings_opts, &m->settings, &f.settings);
    agree(tg__hardware_opts, tg__n_hardware_opts, &m->hw, &f.hw);
    tg__model_cfg_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg__config *c = NULL;
    tg_error err;
    memset(&err, 0, sizeof err);
    tg_status st = tg__config_from_json((const char *)data, size, "fuzz.json", &c, &err);
    if (st != TG_OK) {
        CHECK(c == NULL && err.msg[0] != '\0');
        return 0;
    }
    CHECK(c && c->listen_host && c->listen_port >= 1 && c->listen_port <= 65535 && c->n_models >= 1);
    CHECK(c->discovery_interval >= 1 && c->discovery_interval <= 86400);
    CHECK(c->connect_timeout >= 0.001 && c->drain_timeout >= 0 && c->drain_timeout <= 86400);
    CHECK(c->max_headers >= 1 && c->max_headers <= 10000 && c->workers <= 64);
    CHECK(c->admission_wait >= 0 && c->admission_wait <= 86400.0 + 1e-6);
    for (size_t i = 0; i < c->n_api_keys; i++) CHECK(c->api_keys[i][0] != '\0');
    for (size_t i = 0; i < c->n_models; i++) check_model(&c->models[i]);
    tg__config *f = tg__config_new();
    CHECK(f);
    agree(tg__serve_opts, tg__n_serve_opts, c, f);
    tg__config_unref(f);
    tg__config_unref(c);
    return 0;
}
