/*
 * test_vram.c: the live free-VRAM loop (src/gateway/vram.c) and what the
 * reading does in a model's limits (live_limits.c), issue 20, against the
 * STAND-IN NVML library (tests/limits/nvml_standin.c, built by CMake as
 * nvml_standin; its readings come from a file this test rewrites).
 *
 * Expected values are helexa's rule done by hand for Llama-3.1-8B
 * (tests/data/configs/Llama-3.1-8B/config.json: 32 layers, 8 KV heads,
 * head_dim 4096 / 32 = 128), f16 KV, tp 1:
 *   KV bytes per token per card = 32 x (8 x 128 K + 8 x 128 V) x 2 B = 131072 B = 1/8 MiB
 *   context = (free MiB on the tightest card - 1500 MiB floor) x 8 tokens
 * so 4000 MiB free holds 20000 tokens, 8000 MiB 52000; output = min(8192,
 * context / 2). The trained context (131072) is above every figure here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tg_test.h"

#include "gateway/live_limits.h"
#include "gateway/vram.h"
#include "server_fixture.h"

static char readings[256], cfgpath[256];

static void nvml_says(const char *figures) {
    FILE *f = fopen(readings, "w");
    if (!f) abort();
    fprintf(f, "%s\n", figures);
    fclose(f);
}

static uint64_t by_hand(uint64_t free_mib) { return (free_mib - 1500) * 8; }

/* Two sections on the same model file: "a" on card 0 by index, "b" on card 1
 * by UUID (the stand-in's UUID of card 1), b with a configured context. */
static int server_with(tg__server *s, const char *a_gpus, const char *extra) {
    const char *src = getenv("TG_SOURCE_DIR");
    FILE *f = fopen(cfgpath, "w");
    if (!f) return -1;
    fprintf(f,
            "{%s\"models\":["
            "{\"name\":\"a\",\"upstream\":\"http://127.0.0.1:1\",\"model\":\"%s/tests/data/configs/Llama-3.1-8B\""
            "%s%s%s},"
            "{\"name\":\"b\",\"upstream\":\"http://127.0.0.1:2\",\"model\":\"%s/tests/data/configs/Llama-3.1-8B\","
            "\"limits\":{\"context\":60000},"
            "\"hardware\":{\"gpus\":[\"GPU-5a1d0000-0000-4000-8000-000000000001\"]}}]}",
            extra, src ? src : ".", a_gpus ? ",\"hardware\":{\"gpus\":" : "", a_gpus ? a_gpus : "", a_gpus ? "}" : "",
            src ? src : ".");
    fclose(f);
    const char *args[] = {"--config", cfgpath, NULL};
    return fx_server(s, args);
}

static tg__live derive(tg__server *s, size_t i, tg__upinfo *u, const json_t *entry) {
    tg__live l;
    memset(&l, 0, sizeof l);
    tg__live_limits_derive(s, &s->cfg->models[i], s->cfg->models[i].name, entry, u, &l);
    return l;
}

static void test_disjoint_cards(void) {
    tg__server s;
    nvml_says("4000,8000");
    TG_CHECK(server_with(&s, "[0]", "") == 0);
    tg__live a = derive(&s, 0, NULL, NULL), b = derive(&s, 1, NULL, NULL);
    TG_CHECK_EQ_U(a.limits.context, by_hand(4000)); /* 20000 */
    TG_CHECK_EQ_U(a.limits.output, 8192);
    TG_CHECK_EQ_I(a.limits.binding, TG_BIND_VRAM);
    TG_CHECK_STR(a.vram.cards, "0");
    TG_CHECK_EQ_U(b.limits.context, by_hand(8000)); /* 52000, under b's configured 60000 */
    TG_CHECK_EQ_I(b.limits.binding, TG_BIND_VRAM);
    TG_CHECK_STR(b.vram.cards, "1");
    TG_CHECK_STR(b.vram.selected_by, "hardware.gpus");
    fx_free(&s);
}

/* No gpus: CUDA_VISIBLE_DEVICES of the daemon, else every card (the tightest binds). */
static void test_selection_fallbacks(void) {
    tg__server s;
    nvml_says("9000,4500");
    TG_CHECK(server_with(&s, NULL, "") == 0);
    unsetenv("CUDA_VISIBLE_DEVICES");
    tg__live a = derive(&s, 0, NULL, NULL);
    TG_CHECK_EQ_U(a.limits.context, by_hand(4500)); /* all cards: the 4500 MiB one is the tightest */
    TG_CHECK_STR(a.vram.selected_by, "all cards");
    TG_CHECK_STR(a.vram.cards, "0,1");
    fx_free(&s);
    TG_CHECK(server_with(&s, NULL, "") == 0);
    setenv("CUDA_VISIBLE_DEVICES", "0", 1);
    a = derive(&s, 0, NULL, NULL);
    TG_CHECK_EQ_U(a.limits.context, by_hand(9000));
    TG_CHECK_STR(a.vram.selected_by, "CUDA_VISIBLE_DEVICES");
    unsetenv("CUDA_VISIBLE_DEVICES");
    fx_free(&s);
    /* a card that is not there: no VRAM figure, the model keeps serving */
    TG_CHECK(server_with(&s, "[5]", "") == 0);
    a = derive(&s, 0, NULL, NULL);
    TG_CHECK(a.have_limits);
    TG_CHECK_EQ_U(a.limits.context, 131072); /* the trained context: no VRAM ceiling */
    TG_CHECK(strstr(a.vram.degraded, "'5' is not among the 2 card(s)") != NULL);
    fx_free(&s);
}

/* A card lost mid-run: the models on it fall back to their configured
 * figure (b: limits.context 60000), the other keeps its ceiling; back when
 * the card reads again. */
static void test_lost_card(void) {
    tg__server s;
    nvml_says("4000,8000");
    TG_CHECK(server_with(&s, "[0]", "") == 0);
    TG_CHECK_EQ_U(derive(&s, 1, NULL, NULL).limits.context, by_hand(8000));
    nvml_says("4000,lost");
    TG_CHECK(tg__vram_sample(&s) == 1);
    tg__live a = derive(&s, 0, NULL, NULL), b = derive(&s, 1, NULL, NULL);
    TG_CHECK_EQ_U(a.limits.context, by_hand(4000));
    TG_CHECK_EQ_U(b.limits.context, 60000);
    TG_CHECK_EQ_I(b.limits.binding, TG_BIND_CLAMP);
    TG_CHECK(strstr(b.vram.degraded, "GPU is lost") != NULL);
    nvml_says("");
    TG_CHECK(tg__vram_sample(&s) == 1); /* NVML sees no card at all */
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, 131072);
    nvml_says("4000,8000");
    TG_CHECK(tg__vram_sample(&s) == 1);
    TG_CHECK_EQ_U(derive(&s, 1, NULL, NULL).limits.context, by_hand(8000));
    fx_free(&s);
}

/* Hysteresis 512 MiB, window 1: readings oscillating by less than 512 MiB
 * leave the context where it is; a move of more follows. Window 3: a drop
 * counts at once, a rise only once it has lasted three readings. */
static void test_no_flap(void) {
    tg__server s;
    nvml_says("4000,8000");
    TG_CHECK(server_with(&s, "[0]", "\"vram\":{\"window\":1,\"hysteresis_mib\":512},") == 0);
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(4000));
    static const char *const wobble[] = {"4300,8000", "3700,8000", "4500,8000", "3600,8000", "4000,8000", "4511,8000"};
    for (size_t i = 0; i < sizeof wobble / sizeof wobble[0]; i++) {
        nvml_says(wobble[i]);
        tg__vram_sample(&s);
        TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(4000));
    }
    nvml_says("4600,8000"); /* 600 MiB above the held 4000: follows */
    TG_CHECK(tg__vram_sample(&s) == 1);
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(4600));
    fx_free(&s);

    nvml_says("6000,8000");
    TG_CHECK(server_with(&s, "[0]", "\"vram\":{\"window\":3,\"hysteresis_mib\":0},") == 0);
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(6000));
    nvml_says("5000,8000");
    tg__vram_sample(&s);
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(5000)); /* a drop: at once */
    nvml_says("7000,8000");
    tg__vram_sample(&s); /* window 6000, 5000, 7000 */
    tg__vram_sample(&s); /* 5000, 7000, 7000 */
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(5000));
    tg__vram_sample(&s); /* 7000, 7000, 7000 */
    TG_CHECK_EQ_U(derive(&s, 0, NULL, NULL).limits.context, by_hand(7000));
    fx_free(&s);
}

/* An engine that allocates its KV pool at start (vLLM): the VRAM ceiling is
 * shown, the upstream's max_model_len binds. */
static void test_preallocating_engine(void) {
    tg__server s;
    nvml_says("4000,8000");
    TG_CHECK(server_with(&s, "[0]", "") == 0);
    tg__upinfo *u = fx_upinfo(&s, "vllm", "[{\"id\":\"a\",\"max_model_len\":100000}]", 0, 1);
    tg__live a = derive(&s, 0, u, json_array_get(u->models, 0));
    TG_CHECK_EQ_U(a.limits.context, 100000);
    TG_CHECK_EQ_I(a.limits.binding, TG_BIND_CLAMP);
    TG_CHECK_EQ_U(a.limits.ceiling_vram, by_hand(4000)); /* for information */
    TG_CHECK(strstr(a.vram_role, "information only") != NULL);
    fx_free(&s);
}

int main(void) {
    const char *so = getenv("TG_NVML_STANDIN_SO");
    if (!so) {
        fprintf(stderr, "TG_NVML_STANDIN_SO is not set (CMake sets it to the nvml_standin module)\n");
        return 1;
    }
    snprintf(readings, sizeof readings, "/tmp/tg_vram_%d.txt", (int)getpid());
    snprintf(cfgpath, sizeof cfgpath, "/tmp/tg_vram_%d.json", (int)getpid());
    setenv("TG_NVML_LIB", so, 1);
    setenv("TG_NVML_STANDIN_FILE", readings, 1);
    TG_RUN(test_disjoint_cards);
    TG_RUN(test_selection_fallbacks);
    TG_RUN(test_lost_card);
    TG_RUN(test_no_flap);
    TG_RUN(test_preallocating_engine);
    unlink(readings);
    unlink(cfgpath);
    return tg_test_summary();
}
