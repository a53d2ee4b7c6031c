/*
 * test_config.c: the serve configuration (src/gateway/config.c) and its
 * option tables (src/gateway/options.c):
 *   - every entry of the global and model-section tables works as a flag
 *     and as a config key with the same bounds (tests/util/opt_table_check.h);
 *   - a flag that `tokgate check` or `tokgate limits` also takes has the same
 *     kind and bounds in serve (--max-prompt-tokens, --output-reserve, the
 *     shared tables), and no flag is claimed twice;
 *   - `tokgate serve --help` lists every flag and alias;
 *   - docs/gateway.md carries the generated key table, so every key is
 *     documented (and a change to the table shows as a diff here);
 *   - end to end through tg__config_from_args / tg__config_from_json: issue
 *     15's --safe-fraction and policy.safe_fraction give the same settings;
 *     discovery_interval's one bound (1..86400) both ways; unknown keys
 *     refused with their path; --api-key replacing the file's keys; the
 *     given bits that keep the reasoning catalogue's thinking base.
 */
#include "util/opt_table_check.h"

#include <stdarg.h>
#include <stdint.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/config_load.h"
#include "gateway/options.h"
#include "util/file.h"

static void config_init(void *p) {
    tg__config *d = tg__config_new();
    if (d) memcpy(p, d, sizeof *d); /* a new config owns nothing yet */
    free(d);
}

static void config_fini(void *p) {
    tg__config *c = malloc(sizeof *c);
    if (!c) return;
    memcpy(c, p, sizeof *c);
    c->refs = 1;
    tg__config_unref(c);
    memset(p, 0, sizeof *c);
}

static void model_init(void *p) { tg__model_cfg_init(p); }
static void model_fini(void *p) { tg__model_cfg_free(p); }

static const opt_target config_target = {sizeof(tg__config), config_init, config_fini};
static const opt_target model_target = {sizeof(tg__model_cfg), model_init, model_fini};

static void test_tables(void) {
    /* every flag but --config is a key too, and every key but the sections a flag */
    TG_CHECK(opt_check_table(tg__serve_opts, tg__n_serve_opts, &config_target) >= 20);
    TG_CHECK(opt_check_table(tg__model_opts, tg__n_model_opts, &model_target) >= 14);
    const tgx_opt_table all[] = {{tg__serve_opts, tg__n_serve_opts},
                                 {tg__model_opts, tg__n_model_opts},
                                 {tg__settings_opts, tg__n_settings_opts},
                                 {tg__hardware_opts, tg__n_hardware_opts}};
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 0; i < all[a].n; i++) {
            const tgx_opt *o = &all[a].v[i];
            if (o->kind == TGX_OPT_HEADING) continue;
            if (!o->key) TG_CHECK_STR(o->flag, "--config");
            if (!o->flag) TG_CHECK(o->kind == TGX_OPT_CUSTOM); /* "models", "policy", "hardware" */
            /* no flag is claimed by two tables (the first would win silently) */
            for (size_t b = 0; b < a; b++) {
                if (o->flag) TG_CHECK(tgx_opt_by_flag(all[b].v, all[b].n, o->flag) == NULL);
                if (o->alias) TG_CHECK(tgx_opt_by_flag(all[b].v, all[b].n, o->alias) == NULL);
            }
        }
}

/* Flags serve shares with check and limits: same kind, same bounds. */
static void test_shared_flags(void) {
    static const char *const shared[] = {"--max-prompt-tokens", "--output-reserve"};
    for (size_t i = 0; i < 2; i++) {
        const tgx_opt *s = tgx_opt_by_flag(tg__model_opts, tg__n_model_opts, shared[i]);
        const tgx_opt *c = tgx_opt_by_flag(tg__budget_opts, tg__n_budget_opts, shared[i]);
        TG_CHECK(s && c);
        if (!s || !c) continue;
        TG_CHECK_EQ_I(s->kind, c->kind);
        TG_CHECK(s->lo == c->lo && s->hi == c->hi);
    }
}

static void test_help(void) {
    tgx_buf b;
    tgx_buf_init(&b, 1u << 20);
    TG_CHECK_EQ_I(tg__serve_usage(&b), TG_OK);
    const tgx_opt_table all[] = {{tg__serve_opts, tg__n_serve_opts},
                                 {tg__model_opts, tg__n_model_opts},
                                 {tg__settings_opts, tg__n_settings_opts},
                                 {tg__hardware_opts, tg__n_hardware_opts}};
    size_t flags = 0;
    for (size_t a = 0; a < 4; a++)
        for (size_t i = 0; i < all[a].n; i++) {
            const tgx_opt *o = &all[a].v[i];
            char want[80];
            if (o->flag) {
                snprintf(want, sizeof want, "  %s%s", o->flag, o->kind == TGX_OPT_BOOL ? "" : " ");
                TG_CHECK_CONTAINS(b.data, want);
                flags++;
            }
            if (o->alias) TG_CHECK_CONTAINS(b.data, o->alias);
        }
    TG_CHECK(flags >= 50);
    TG_CHECK_CONTAINS(b.data, "--discovery-interval S     between upstream discovery rounds");
    TG_CHECK_CONTAINS(b.data, "(default 30)");
    tgx_buf_free(&b);
}

/* docs/gateway.md holds the generated table between its markers, so every
 * key (with its flag, bounds and default) is documented. */
static void test_docs(void) {
    const char *dir = getenv("TG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/gateway.md", dir ? dir : ".");
    tgx_buf doc, gen;
    tgx_buf_init(&doc, 1u << 22);
    tgx_buf_init(&gen, 1u << 20);
    tg_error e;
    TG_CHECK_EQ_I(tgx_read_file(path, 1u << 22, &doc, &e), TG_OK);
    TG_CHECK_EQ_I(tg__config_keys_markdown(&gen), TG_OK);
    const char *begin = "<!-- config-keys:begin (generated from src/gateway/options.c) -->\n";
    const char *bp = doc.data ? strstr(doc.data, begin) : NULL;
    const char *ep = bp ? strstr(bp, "<!-- config-keys:end -->") : NULL;
    TG_CHECK(bp && ep);
    if (bp && ep) {
        bp += strlen(begin);
        int same = (size_t)(ep - bp) == gen.len && memcmp(bp, gen.data, gen.len) == 0;
        if (!same) fprintf(stderr, "docs/gateway.md's key table is stale; the table now reads:\n%s", gen.data);
        TG_CHECK(same);
    }
    /* and each key by its full path, whatever the table's layout */
    const struct { const char *prefix; const tgx_opt *t; size_t n; } scopes[] = {
        {"", tg__serve_opts, tg__n_serve_opts},
        {"models[].", tg__model_opts, tg__n_model_opts},
        {"models[].policy.", tg__settings_opts, tg__n_settings_opts},
        {"models[].hardware.", tg__hardware_opts, tg__n_hardware_opts},
    };
    for (size_t s = 0; s < 4; s++)
        for (size_t i = 0; i < scopes[s].n; i++) {
            if (!scopes[s].t[i].key) continue;
            char want[160];
            snprintf(want, sizeof want, "`%s%s`", scopes[s].prefix, scopes[s].t[i].key);
            TG_CHECK_CONTAINS(doc.data, want);
        }
    tgx_buf_free(&doc);
    tgx_buf_free(&gen);
}

static tg_status from_args(tg__config **c, tg_error *e, ...) {
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, e);
    argv[argc++] = (char *)(uintptr_t)"serve";
    for (const char *a; argc < 31 && (a = va_arg(ap, const char *));) argv[argc++] = (char *)(uintptr_t)a;
    va_end(ap);
    argv[argc] = NULL;
    *c = NULL;
    return tg__config_from_args(argc, argv, c, e);
}

static tg_status from_json(tg__config **c, tg_error *e, const char *json) {
    *c = NULL;
    return tg__config_from_json(json, strlen(json), "test.json", c, e);
}

/* Issue 15: serve refused --safe-fraction and ignored policy.safe_fraction. */
static void test_safe_fraction(void) {
    tg__config *a, *b;
    tg_error e;
    TG_CHECK_EQ_I(from_args(&a, &e, "--upstream", "http://127.0.0.1:8080", "--safe-fraction", "0.5",
                            "--safe-fraction-large=0.75", "--thinking-base", "2048", (char *)NULL), TG_OK);
    TG_CHECK_EQ_I(from_json(&b, &e, "{\"models\":[{\"upstream\":\"http://127.0.0.1:8080\",\"policy\":"
                                    "{\"safe_fraction\":0.5,\"safe_fraction_large\":0.75,\"thinking_base\":2048}}]}"),
                  TG_OK);
    if (a && b) {
        TG_CHECK_EQ_U(a->models[0].settings.safe_fraction_ppm, 500000);
        TG_CHECK_EQ_U(a->models[0].settings.safe_fraction_large_ppm, 750000);
        TG_CHECK(memcmp(&a->models[0].settings, &b->models[0].settings, sizeof a->models[0].settings) == 0);
        TG_CHECK_EQ_U(a->models[0].settings_given, b->models[0].settings_given);
        TG_CHECK(a->models[0].settings_given & tgx_opt_bit(tg__settings_opts, tg__n_settings_opts, "thinking_base"));
        TG_CHECK_EQ_U(tg_policy_safe_max(&a->models[0].settings, 32768), 16384);
    }
    tg__config_unref(a);
    tg__config_unref(b);
}

/* The bound that drifted: 1..86400 s as a flag and as a key. */
static void test_discovery_interval(void) {
    tg__config *c;
    tg_error e;
    TG_CHECK(from_args(&c, &e, "--upstream", "http://x:1", "--discovery-interval", "0.5", (char *)NULL) != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "--discovery-interval: '0.5' is not a number in 1..86400");
    TG_CHECK(from_json(&c, &e, "{\"discovery_interval\":0.5,\"models\":[{\"upstream\":\"http://x:1\"}]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "config discovery_interval: 0.5 is not a number in 1..86400");
    TG_CHECK_EQ_I(from_args(&c, &e, "--upstream", "http://x:1", "--discovery-interval", "1", (char *)NULL), TG_OK);
    if (c) TG_CHECK(c->discovery_interval == 1.0);
    tg__config_unref(c);
}

static void test_file_errors(void) {
    tg__config *c;
    tg_error e;
    TG_CHECK(from_json(&c, &e, "{\"models\":[{\"upstream\":\"http://x:1\",\"upstrem\":\"y\"}]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "config models[0].upstrem: unknown key");
    TG_CHECK(from_json(&c, &e, "{\"timeouts\":{\"conect\":5},\"models\":[]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "config timeouts.conect: unknown key (want connect, first_byte, idle, client, drain, header, header_max, body, body_max, min_rate, answer, discovery_wait, engine_count)");
    TG_CHECK(from_json(&c, &e, "{\"models\":[{\"upstream\":\"http://x:1\",\"hardware\":{\"tp\":0}}]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "config models[0].hardware.tp: 0 is not a whole number in 1..1024");
    TG_CHECK(from_json(&c, &e, "{\"models\":[{\"name\":\"a\"}]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "\"upstream\" is required");
    TG_CHECK(from_json(&c, &e, "{\"models\":[]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "no model to serve");
    TG_CHECK(from_json(&c, &e, "{\"models\":[{\"upstream\":\"http://x:1\",\"limits\":{\"context\":100,"
                               "\"output\":200}}]}") != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "output 200 exceeds context 100");
    TG_CHECK(from_args(&c, &e, "--upstream", "http://x:1", "stray", (char *)NULL) != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "unexpected argument 'stray'");
    TG_CHECK(from_args(&c, &e, "--upstream", "http://x:1", "--frobnicate", (char *)NULL) != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "unknown option '--frobnicate'");
    TG_CHECK(from_args(&c, &e, "--tp", "2", (char *)NULL) != TG_OK);
    TG_CHECK_CONTAINS(e.msg, "need --upstream");
}

/* The file's keys, then flags: a global flag overrides, --api-key replaces
 * the file's list, the single-model flags add one more section. */
static void test_file_and_flags(void) {
    char path[] = "/tmp/tg_test_config_XXXXXX";
    int fd = mkstemp(path);
    TG_CHECK(fd >= 0);
    if (fd < 0) return;
    const char *json = "{\"listen\":\"127.0.0.1:9001\",\"api_keys\":[\"f1\",\"f2\"],\"admission\":{\"wait_ms\":1500},"
                       "\"models\":[{\"name\":\"m\",\"upstream\":\"http://127.0.0.1:8080/v1\","
                       "\"continuation\":false,\"hardware\":{\"free_vram_mib\":[24000,20000]}}]}";
    TG_CHECK(write(fd, json, strlen(json)) == (ssize_t)strlen(json));
    close(fd);
    tg__config *c;
    tg_error e;
    TG_CHECK_EQ_I(from_args(&c, &e, "--config", path, "--api-key", "k1", "--api-key=k2", "--listen", "9002",
                            "--upstream", "http://127.0.0.1:8081", "--continuation", "on", (char *)NULL), TG_OK);
    if (c) {
        TG_CHECK_EQ_U(c->n_api_keys, 2);
        if (c->n_api_keys == 2) TG_CHECK(!strcmp(c->api_keys[0], "k1") && !strcmp(c->api_keys[1], "k2"));
        TG_CHECK_EQ_I(c->listen_port, 9002);
        TG_CHECK(c->admission_wait == 1.5);
        TG_CHECK_EQ_U(c->n_models, 2);
        if (c->n_models == 2) {
            TG_CHECK_STR(c->models[0].url.base_path, ""); /* "/v1" dropped */
            TG_CHECK_EQ_I(c->models[0].continuation, 0);
            TG_CHECK_EQ_U(c->models[0].hw.cfg.n_cards, 2);
            TG_CHECK_EQ_U(c->models[0].hw.cfg.free_vram[1], 20000ull << 20);
            TG_CHECK_EQ_I(c->models[1].url.port, 8081);
            TG_CHECK_EQ_I(c->models[1].continuation, 1);
        }
    }
    tg__config_unref(c);
    TG_CHECK_EQ_I(from_args(&c, &e, "--config=", (char *)NULL) != TG_OK, 1);
    unlink(path);
}

int main(void) {
    TG_RUN(test_tables);
    TG_RUN(test_shared_flags);
    TG_RUN(test_help);
    TG_RUN(test_docs);
    TG_RUN(test_safe_fraction);
    TG_RUN(test_discovery_interval);
    TG_RUN(test_file_errors);
    TG_RUN(test_file_and_flags);
    return tg_test_summary();
}
