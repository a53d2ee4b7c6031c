/*
 * test_routes.c: the router (src/gateway/routes.c) and the path it routes
 * (src/gateway/path.c).
 *
 * Normalization: RFC 3986's own examples of remove_dot_segments (5.2.4:
 * "/a/b/c/./../../g" -> "/a/g") and unreserved escapes (2.3, 6.2.2.2:
 * "%7Euser" is "~user"); issue 16's bypasses (/v1/chat/%63ompletions,
 * //v1/chat/completions, /x/../v1/chat/completions) come out as
 * /v1/chat/completions; %2F, %00, malformed escapes and ".." above the root
 * are errors naming what was wrong.
 *
 * Lookup: each path tokgate answers itself maps to its route and method;
 * llama-server's routes come from its adapter's table (its
 * tools/server/server.cpp registrations): /chat/completions is budgeted as
 * a chat, /completion, /completions, /infill, /v1/messages are refused
 * naming the route to use, /props GET passes through, POST /slots/0 is an
 * admin route, an unknown path is unknown (404); an API key matches only in
 * full, by value, against any configured key.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/engine.h"
#include "gateway/metrics.h"
#include "gateway/path.h"
#include "gateway/routes.h"

static void test_normalize(void) {
    static const struct {
        const char *in;
        const char *out; /* NULL: an error */
        const char *why; /* a word the error names */
    } cases[] = {
        {"/v1/chat/completions", "/v1/chat/completions", NULL},
        {"/v1/chat/%63ompletions", "/v1/chat/completions", NULL},
        {"/v1/chat/%63%6F%6d%70letions", "/v1/chat/completions", NULL},
        {"/%76%31/chat/completions", "/v1/chat/completions", NULL},
        {"//v1/chat/completions", "/v1/chat/completions", NULL},
        {"/v1//chat///completions", "/v1/chat/completions", NULL},
        {"/x/../v1/chat/completions", "/v1/chat/completions", NULL},
        {"/v1/./chat/completions", "/v1/chat/completions", NULL},
        {"/v1/chat/completions/.", "/v1/chat/completions/", NULL},
        {"/v1/x/%2E%2E/chat/completions", "/v1/chat/completions", NULL},
        {"/v1/x/.%2e/chat/completions", "/v1/chat/completions", NULL},
        {"/a/b/c/./../../g", "/a/g", NULL},   /* RFC 3986 5.2.4 */
        {"/mid/content=5/../6", "/mid/6", NULL}, /* RFC 3986 5.2.4 */
        {"/%7Euser", "/~user", NULL},         /* RFC 3986 6.2.2.2 */
        {"/a%20b", "/a%20b", NULL},           /* reserved/other escapes stay, upper case */
        {"/a%3fb", "/a%3Fb", NULL},           /* a decoded '?' would start a query */
        {"/a/", "/a/", NULL},
        {"/a/..", "/", NULL},
        {"/", "/", NULL},
        {"//", "/", NULL},
        {"/..a/b", "/..a/b", NULL},           /* not a dot segment */
        {"/v1/chat/completions?x=/../%2F", "/v1/chat/completions?x=/../%2F", NULL}, /* the query is kept */
        {"/..", NULL, "root"},
        {"/a/../..", NULL, "root"},
        {"/%2e%2e/v1/chat/completions", NULL, "root"},
        {"/v1%2Fchat/completions", NULL, "%2F"},
        {"/v1/chat/completions%00", NULL, "%00"},
        {"/v1/chat/%6", NULL, "percent-escape"},
        {"/v1/chat/%zz", NULL, "percent-escape"},
        {"/v1/chat/%", NULL, "percent-escape"},
        {"/v1/chat#frag", NULL, "fragment"},
        {"v1/chat/completions", NULL, "'/'"},
        {"", NULL, "'/'"},
        {"?x=1", NULL, "'/'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        const char *why = NULL;
        long n = tg__path_normalize(cases[i].in, strlen(cases[i].in), out, sizeof out, 0, &why);
        if (cases[i].out) {
            if (n < 0 || strcmp(out, cases[i].out)) fprintf(stderr, "%s: got %s (%s)\n", cases[i].in, n < 0 ? "error" : out, why ? why : "");
            TG_CHECK(n >= 0);
            if (n >= 0) {
                TG_CHECK_STR(out, cases[i].out);
                TG_CHECK_EQ_I(n, (long)strlen(cases[i].out));
            }
        } else {
            if (n >= 0) fprintf(stderr, "%s: want an error, got %s\n", cases[i].in, out);
            TG_CHECK(n < 0);
            TG_CHECK(why && strstr(why, cases[i].why));
        }
    }
    /* the length bounds the target; a buffer too small is an error */
    char out[64];
    const char *why;
    TG_CHECK_EQ_I(tg__path_normalize("/a/bXYZ", 4, out, sizeof out, 0, &why), 4);
    TG_CHECK_STR(out, "/a/b");
    TG_CHECK(tg__path_normalize("/abc", 4, out, 5, 0, &why) < 0);
    /* GET /v1/models/{id}: an id may hold an encoded '/' */
    TG_CHECK(tg__path_normalize("/v1/models/Qwen%2FQwen3-8B", 26, out, sizeof out, 1, &why) > 0);
    TG_CHECK_STR(out, "/v1/models/Qwen%2FQwen3-8B");
}

static void test_table(void) {
    static const struct {
        const char *target;
        const char *method;
        int route;
        int kind;
        const char *allow; /* NULL: not checked */
    } cases[] = {
        {"/v1/chat/completions", "POST", TG__R_CHAT, TG__ROUTE_OWN, "POST"},
        {"/v1/chat/completions?x=1", "POST", TG__R_CHAT, TG__ROUTE_OWN, "POST"},
        {"/v1/completions", "POST", TG__R_COMPLETIONS, TG__ROUTE_OWN, "POST"},
        {"/v1/models", "GET", TG__R_MODELS, TG__ROUTE_OWN, "GET"},
        {"/api.json", "GET", TG__R_API_JSON, TG__ROUTE_OWN, "GET"},
        {"/v1/limits", "GET", TG__R_LIMITS, TG__ROUTE_OWN, "GET"},
        {"/metrics", "GET", TG__R_METRICS, TG__ROUTE_OWN, "GET"},
        {"/healthz", "GET", TG__R_HEALTHZ, TG__ROUTE_OWN, "GET"},
        {"/tokenize", "POST", TG__R_TOKENIZE, TG__ROUTE_OWN, "POST"},
        {"/readyz", "GET", TG__R_READYZ, TG__ROUTE_OWN, "GET"},
        {"/status", "GET", TG__R_STATUS, TG__ROUTE_OWN, "GET"},
        {"/v1/models/tiny", "GET", TG__R_MODELS, TG__ROUTE_OWN, "GET"}, /* OpenAI's models.retrieve */
        {"/v1/models/Qwen/Qwen3-8B?x=1", "GET", TG__R_MODELS, TG__ROUTE_OWN, "GET"},
        /* llama-server's routes (its adapter's table) */
        {"/chat/completions", "POST", TG__R_CHAT, TG__ER_CHAT, "POST"},
        {"/completion", "POST", TG__R_NONE, TG__ER_REFUSE, "POST"},
        {"/completions", "POST", TG__R_NONE, TG__ER_REFUSE, "POST"},
        {"/infill", "POST", TG__R_NONE, TG__ER_REFUSE, "POST"},
        {"/v1/messages", "POST", TG__R_NONE, TG__ER_REFUSE, "POST"},
        {"/v1/responses", "POST", TG__R_NONE, TG__ER_REFUSE, "POST"},
        {"/props", "GET", TG__R_PASSTHROUGH, TG__ER_PASS, "GET"},
        {"/props", "HEAD", TG__R_PASSTHROUGH, TG__ER_PASS, "GET"},
        {"/props", "POST", TG__R_PASSTHROUGH, TG__ER_ADMIN, "POST"},
        {"/slots", "GET", TG__R_PASSTHROUGH, TG__ER_PASS, "GET"},
        {"/slots/0?action=erase", "POST", TG__R_PASSTHROUGH, TG__ER_ADMIN, "POST"},
        {"/lora-adapters", "POST", TG__R_PASSTHROUGH, TG__ER_ADMIN, "POST"},
        {"/health", "GET", TG__R_PASSTHROUGH, TG__ER_PASS, "GET"},
        {"/detokenize", "POST", TG__R_PASSTHROUGH, TG__ER_PASS, "POST"},
        {"/v1/embeddings", "POST", TG__R_PASSTHROUGH, TG__ER_PASS, "POST"},
        /* unknown: near misses and paths nobody serves */
        {"/status/", "GET", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
        {"/v1/models/", "GET", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL}, /* no id */
        {"/v1/modelsX", "GET", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
        {"/v1/chat/completions/", "POST", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
        {"/v1/chat/completion", "POST", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
        {"/slots/", "POST", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
        {"/", "GET", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
        {"/echo-headers", "GET", TG__R_NONE, TG__ROUTE_UNKNOWN, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg__route_hit h;
        tg__route_lookup(NULL, &tg__engine_llama_server, cases[i].target, strlen(cases[i].target), cases[i].method,
                         strlen(cases[i].method), &h);
        if (h.route != cases[i].route || h.kind != cases[i].kind)
            fprintf(stderr, "%s %s: route %d kind %d, want %d %d\n", cases[i].method, cases[i].target, h.route, h.kind,
                    cases[i].route, cases[i].kind);
        TG_CHECK_EQ_I(h.route, cases[i].route);
        TG_CHECK_EQ_I(h.kind, cases[i].kind);
        TG_CHECK(!h.wrong_method);
        if (cases[i].allow) TG_CHECK_STR(h.allow, cases[i].allow);
    }
    tg__route_hit h;
    /* refused routes name the budgeted one */
    tg__route_lookup(NULL, &tg__engine_llama_server, "/completion", 11, "POST", 4, &h);
    TG_CHECK_STR(h.instead, "/v1/completions");
    /* a route with another method: 405 with the one it takes */
    tg__route_lookup(NULL, &tg__engine_llama_server, "/detokenize", 11, "GET", 3, &h);
    TG_CHECK(h.wrong_method);
    TG_CHECK_STR(h.allow, "POST");
    /* the engine's table decides: vLLM has no /chat/completions or /completion */
    tg__route_lookup(NULL, &tg__engine_vllm, "/chat/completions", 17, "POST", 4, &h);
    TG_CHECK_EQ_I(h.kind, TG__ROUTE_UNKNOWN);
    tg__route_lookup(NULL, &tg__engine_vllm, "/props", 6, "GET", 3, &h);
    TG_CHECK_EQ_I(h.kind, TG__ROUTE_UNKNOWN);
    /* no engine known yet: every adapter's table */
    tg__route_lookup(NULL, NULL, "/completion", 11, "POST", 4, &h);
    TG_CHECK_EQ_I(h.kind, TG__ER_REFUSE);
    /* the operator's pass-through paths */
    char *pp[] = {(char *)(uintptr_t)"/echo-headers"};
    tg__config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.passthrough_paths = pp;
    cfg.n_passthrough_paths = 1;
    tg__route_lookup(&cfg, &tg__engine_llama_server, "/echo-headers?x=1", 17, "GET", 3, &h);
    TG_CHECK_EQ_I(h.route, TG__R_PASSTHROUGH);
    TG_CHECK(h.allow == NULL);
    /* the length bounds the target: bytes past it are not read */
    tg__route_lookup(NULL, NULL, "/metricsXYZ", 8, "GET", 3, &h);
    TG_CHECK_EQ_I(h.route, TG__R_METRICS);
}

/* Every adapter's table: a refused route names a route that is budgeted
 * under that engine, and no path is listed twice for one method. */
static void test_engine_tables(void) {
    size_t n = 0;
    const tg__engine *const *all = tg__engines(&n);
    TG_CHECK(n >= 3);
    for (size_t i = 0; i < n; i++)
        for (const tg__engine_route *r = all[i]->native_routes; r && r->path; r++) {
            TG_CHECK(!strcmp(r->method, "GET") || !strcmp(r->method, "POST") ||
                     !strcmp(r->method, "DELETE")); /* Ollama's DELETE /api/delete (server/routes.go) */
            if (r->instead) {
                tg__route_hit h;
                tg__route_lookup(NULL, all[i], r->instead, strlen(r->instead), "POST", 4, &h);
                if (h.route != TG__R_CHAT && h.route != TG__R_COMPLETIONS)
                    fprintf(stderr, "%s: %s names %s, not budgeted\n", all[i]->name, r->path, r->instead);
                TG_CHECK(h.route == TG__R_CHAT || h.route == TG__R_COMPLETIONS);
            }
            for (const tg__engine_route *o = r + 1; o->path; o++)
                TG_CHECK(strcmp(o->path, r->path) != 0 || strcmp(o->method, r->method) != 0);
        }
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
    TG_RUN(test_normalize);
    TG_RUN(test_table);
    TG_RUN(test_engine_tables);
    TG_RUN(test_keys);
    return tg_test_summary();
}
