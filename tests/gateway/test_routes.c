/*
 * test_routes.c: the router's table and key check (src/gateway/routes.c):
 * each path tokgate answers itself maps to its route and the one method it
 * takes, the query string is ignored, /v1/models/{id} is the models route, anything else (including near misses
 * and llama-server's own paths) passes through; an API key matches only in
 * full, by value, against any configured key.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/metrics.h"
#include "gateway/routes.h"

static void test_table(void) {
    static const struct {
        const char *target;
        int route;
        const char *allow;
    } cases[] = {
        {"/v1/chat/completions", TG__R_CHAT, "POST"},
        {"/v1/chat/completions?x=1", TG__R_CHAT, "POST"},
        {"/v1/completions", TG__R_COMPLETIONS, "POST"},
        {"/v1/models", TG__R_MODELS, "GET"},
        {"/api.json", TG__R_API_JSON, "GET"},
        {"/v1/limits", TG__R_LIMITS, "GET"},
        {"/metrics", TG__R_METRICS, "GET"},
        {"/healthz", TG__R_HEALTHZ, "GET"},
        {"/tokenize", TG__R_TOKENIZE, "POST"},
        {"/readyz", TG__R_READYZ, "GET"},
        {"/status", TG__R_STATUS, "GET"},
        {"/status/", TG__R_PASSTHROUGH, NULL},
        {"/v1/models/tiny", TG__R_MODELS, "GET"},          /* OpenAI's models.retrieve */
        {"/v1/models/Qwen/Qwen3-8B?x=1", TG__R_MODELS, "GET"},
        {"/v1/models/", TG__R_PASSTHROUGH, NULL},          /* no id */
        {"/v1/modelsX", TG__R_PASSTHROUGH, NULL},
        {"/v1/chat/completions/", TG__R_PASSTHROUGH, NULL},
        {"/v1/chat/completion", TG__R_PASSTHROUGH, NULL},
        {"/props", TG__R_PASSTHROUGH, NULL},
        {"/", TG__R_PASSTHROUGH, NULL},
        {"", TG__R_PASSTHROUGH, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *allow = "unset";
        int r = tg__route_match(cases[i].target, strlen(cases[i].target), &allow);
        if (r != cases[i].route) fprintf(stderr, "%s: route %d, want %d\n", cases[i].target, r, cases[i].route);
        TG_CHECK_EQ_I(r, cases[i].route);
        if (cases[i].allow) TG_CHECK_STR(allow, cases[i].allow);
        else TG_CHECK(allow == NULL);
    }
    /* the length bounds the target: bytes past it are not read */
    const char *allow;
    TG_CHECK_EQ_I(tg__route_match("/metricsXYZ", 8, &allow), TG__R_METRICS);
}

static void test_keys(void) {
    char *keys[] = {(char *)(uintptr_t)"sk-one", (char *)(uintptr_t)"sk-two-longer"};
    tg__config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.api_keys = keys;
    cfg.n_api_keys = 2;
    TG_CHECK(tg__api_key_ok(&cfg, "sk-one", 6));
    TG_CHECK(tg__api_key_ok(&cfg, "sk-two-longer", 13));
    TG_CHECK(!tg__api_key_ok(&cfg, "sk-on", 5));
    TG_CHECK(!tg__api_key_ok(&cfg, "sk-one ", 7));
    TG_CHECK(!tg__api_key_ok(&cfg, "sk-onf", 6));
    TG_CHECK(!tg__api_key_ok(&cfg, "", 0));
    TG_CHECK(!tg__api_key_ok(&cfg, "sk-one\0", 7));
}

int main(void) {
    TG_RUN(test_table);
    TG_RUN(test_keys);
    return tg_test_summary();
}
