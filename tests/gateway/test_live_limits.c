/*
 * test_live_limits.c: a served model's limits (src/gateway/live_limits.c)
 * from each source, by the rules live_limits.c and docs/gateway.md state:
 * the configured context; else the context the upstream enforces
 * (llama-server's per-slot n_ctx from /props over vLLM's max_model_len);
 * else meta.n_ctx_train; the configured context capped by the upstream's;
 * output = the configured reserve or min(8192, context/2), input the rest,
 * capped by --max-prompt-tokens. Expected numbers are that arithmetic done
 * by hand. With a model file the gateway's limits must be the library's
 * tg_limits_derive over the same inputs (the daemon adds no rule of its own).
 */
#include <stdio.h>

#include "tg_test.h"

#include "gateway/live_limits.h"
#include "server_fixture.h"

static tg__live derive_with(const char *const *args, const char *kind, const char *models, uint64_t n_ctx) {
    tg__server s;
    tg__live l;
    memset(&l, 0, sizeof l);
    if (fx_server(&s, args) != 0) return l;
    tg__upinfo *u = models || n_ctx ? fx_upinfo(&s, kind, models, n_ctx, 1) : NULL;
    json_t *entry = u && u->models ? json_array_get(u->models, 0) : NULL;
    tg__live_limits_derive(&s, &s.cfg->models[0], "m", entry, u, &l);
    fx_free(&s);
    return l;
}

static void test_configured(void) {
    const char *a[] = {"--upstream", "http://127.0.0.1:1", "--context", "8192", NULL};
    tg__live l = derive_with(a, NULL, NULL, 0);
    TG_CHECK(l.have_limits);
    TG_CHECK_EQ_U(l.limits.context, 8192);
    TG_CHECK_EQ_U(l.limits.output, 4096); /* min(8192, 8192/2) */
    TG_CHECK_EQ_U(l.limits.input, 4096);
    TG_CHECK_STR(l.limits_source, "config");
}

static void test_upstream_context(void) {
    const char *a[] = {"--upstream", "http://127.0.0.1:1", NULL};
    /* vLLM's /v1/models entry */
    tg__live l = derive_with(a, "vllm", "[{\"id\":\"m\",\"max_model_len\":32768}]", 0);
    TG_CHECK_EQ_U(l.limits.context, 32768);
    TG_CHECK_EQ_U(l.limits.output, 8192);
    TG_CHECK_EQ_U(l.limits.input, 24576);
    TG_CHECK_EQ_U(l.upstream_ctx, 32768);
    /* llama-server: /props n_ctx (per slot) wins over the list's trained context */
    l = derive_with(a, "llama.cpp", "[{\"id\":\"m\",\"meta\":{\"n_ctx_train\":131072}}]", 4096);
    TG_CHECK_EQ_U(l.limits.context, 4096);
    TG_CHECK_EQ_U(l.limits.output, 2048);
    TG_CHECK_EQ_U(l.n_ctx_train, 131072);
    TG_CHECK_EQ_U(l.limits.ceiling_native, 131072);
    /* only the trained context */
    l = derive_with(a, "llama.cpp", "[{\"id\":\"m\",\"meta\":{\"n_ctx_train\":131072}}]", 0);
    TG_CHECK_EQ_U(l.limits.context, 131072);
    TG_CHECK_EQ_U(l.limits.input, 131072 - 8192);
    /* nothing known: no limits */
    l = derive_with(a, NULL, "[{\"id\":\"m\"}]", 0);
    TG_CHECK(!l.have_limits);
}

static void test_caps(void) {
    const char *a[] = {"--upstream", "http://127.0.0.1:1", "--context", "65536", "--max-prompt-tokens", "1000", NULL};
    tg__live l = derive_with(a, "vllm", "[{\"id\":\"m\",\"max_model_len\":32768}]", 0);
    TG_CHECK_EQ_U(l.limits.context, 32768); /* the upstream refuses more anyway */
    TG_CHECK_EQ_U(l.limits.input, 1000);
    const char *b[] = {"--upstream", "http://127.0.0.1:1", "--context", "8192", "--output-reserve", "1000", NULL};
    l = derive_with(b, NULL, NULL, 0);
    TG_CHECK_EQ_U(l.limits.output, 1000);
    TG_CHECK_EQ_U(l.limits.input, 7192);
}

/* With a model (an HF config.json here) the daemon's limits are the
 * library's derivation over the same inputs. */
static void test_model_file(void) {
    const char *src = getenv("TG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/configs/Qwen3.6-27B", src ? src : ".");
    const char *a[] = {"--upstream", "http://127.0.0.1:1", "--model", path, "--free-vram-mib", "9254,12000", "--tp", "2", NULL};
    tg__live l = derive_with(a, NULL, NULL, 0);
    tg_model_profile p;
    tg_error err;
    TG_CHECK(tg_model_load(path, &p, &err) == TG_OK);
    tg_limits_config lc;
    tg_limits_config_init(&lc);
    lc.tp = 2;
    lc.n_cards = 2;
    lc.free_vram[0] = 9254ull * TG_MIB;
    lc.free_vram[1] = 12000ull * TG_MIB;
    tg_limits want;
    TG_CHECK(tg_limits_derive(&p, &lc, &want, &err) == TG_OK);
    TG_CHECK(l.have_limits);
    TG_CHECK_EQ_U(l.limits.context, want.context);
    TG_CHECK_EQ_U(l.limits.input, want.input);
    TG_CHECK_EQ_U(l.limits.output, want.output);
    TG_CHECK_EQ_I(l.limits.binding, want.binding);
    TG_CHECK_EQ_I(l.limits.binding, TG_BIND_VRAM); /* 9254 MiB on the tighter card binds */
    tg_model_profile_free(&p);
}

int main(void) {
    TG_RUN(test_configured);
    TG_RUN(test_upstream_context);
    TG_RUN(test_caps);
    TG_RUN(test_model_file);
    return tg_test_summary();
}
