/*
 * test_catalog.c: the endpoints that describe the served models
 * (src/gateway/catalog.c) say what the table enforces: /v1/models keeps the
 * upstream's entry and adds "limit" {context, input, output} (helexa's
 * shape), "context_length" and "max_model_len"; /v1/models/{id} one entry;
 * /api.json is the models.dev provider shape opencode reads (id, npm
 * "@ai-sdk/openai-compatible", api URL from the forwarded or Host header,
 * validated, env, models by id with release_date and the same limit); /v1/limits names
 * the source and ceilings; /metrics ends with one tokgate_limit_tokens gauge
 * per model and kind. A model without limits advertises none.
 */
#include <event2/buffer.h>
#include <string.h>
#include <time.h>

#include "tg_test.h"

#include "gateway/catalog.h"
#include "server_fixture.h"

static json_t *render(tg__server *s, int which) {
    struct evbuffer *b = evbuffer_new();
    if (which == 0) tg__catalog_models(s, b);
    else if (which == 1) tg__catalog_api_json(s, "http://gw.example:8000", b);
    else tg__catalog_limits(s, b);
    size_t n = evbuffer_get_length(b);
    json_t *j = json_loadb((const char *)evbuffer_pullup(b, -1), n, 0, NULL);
    evbuffer_free(b);
    return j;
}

static void test_endpoints(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", "--served-name", "m", "--context", "8192", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    fx_upinfo(&s, "llama.cpp", "[{\"id\":\"m.gguf\",\"object\":\"model\",\"meta\":{\"n_ctx_train\":32768}}]", 0, 0);
    tg_error err;
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);

    json_t *j = render(&s, 0);
    json_t *e = json_array_get(json_object_get(j, "data"), 0);
    TG_CHECK_STR(json_string_value(json_object_get(e, "id")), "m");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(e, "limit"), "context")), 8192);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(e, "limit"), "input")), 4096);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(e, "limit"), "output")), 4096);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "context_length")), 8192);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(e, "max_model_len")), 8192);
    TG_CHECK(json_object_get(e, "meta") != NULL); /* the upstream's own fields kept */
    json_decref(j);

    j = render(&s, 1);
    json_t *p = json_object_get(j, "tokgate");
    TG_CHECK_STR(json_string_value(json_object_get(p, "npm")), "@ai-sdk/openai-compatible");
    TG_CHECK_STR(json_string_value(json_object_get(p, "api")), "http://gw.example:8000/v1");
    json_t *mm = json_object_get(json_object_get(p, "models"), "m");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(mm, "limit"), "output")), 4096);
    /* opencode's models.dev schema (its ModelsDev Model struct) requires
     * release_date as a string and these booleans; tokgate's date is the
     * day it started, YYYY-MM-DD in UTC (from strftime's own gmtime here) */
    char day[16];
    time_t st = (time_t)s.started;
    struct tm tm;
    strftime(day, sizeof day, "%Y-%m-%d", gmtime_r(&st, &tm));
    TG_CHECK_STR(json_string_value(json_object_get(mm, "release_date")), day);
    TG_CHECK(json_is_boolean(json_object_get(mm, "attachment")) && json_is_boolean(json_object_get(mm, "reasoning")) &&
             json_is_boolean(json_object_get(mm, "temperature")) && json_is_boolean(json_object_get(mm, "tool_call")));
    /* keys off: opencode shows a provider when one of its env variables is set
     * and sends it as the key only when there is exactly one */
    TG_CHECK_EQ_U(json_array_size(json_object_get(p, "env")), 2);
    TG_CHECK_STR(json_string_value(json_array_get(json_object_get(p, "env"), 0)), "TOKGATE_API_KEY");
    json_decref(j);

    /* GET /v1/models/{id}: the list's entry, by served name; unknown: -1 */
    struct evbuffer *one = evbuffer_new();
    TG_CHECK_EQ_I(tg__catalog_model(&s, "m", one), 0);
    j = json_loadb((const char *)evbuffer_pullup(one, -1), evbuffer_get_length(one), 0, NULL);
    TG_CHECK_STR(json_string_value(json_object_get(j, "id")), "m");
    TG_CHECK_STR(json_string_value(json_object_get(j, "object")), "model");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(j, "limit"), "context")), 8192);
    json_decref(j);
    evbuffer_drain(one, evbuffer_get_length(one));
    TG_CHECK_EQ_I(tg__catalog_model(&s, "nope", one), -1);
    TG_CHECK_EQ_I(tg__catalog_model(&s, "", one), -1);
    TG_CHECK_EQ_U(evbuffer_get_length(one), 0);
    evbuffer_free(one);

    j = render(&s, 2);
    e = json_array_get(json_object_get(j, "data"), 0);
    TG_CHECK_STR(json_string_value(json_object_get(e, "source")), "config");
    TG_CHECK_STR(json_string_value(json_object_get(e, "binding")), "clamp");
    TG_CHECK_EQ_I(json_integer_value(json_object_get(json_object_get(e, "ceilings"), "native")), 32768);
    TG_CHECK_STR(json_string_value(json_object_get(json_object_get(e, "upstream_info"), "kind")), "llama.cpp");
    /* no /props figures: the KV pool is unknown and admission off, said as null */
    TG_CHECK(json_is_null(json_object_get(json_object_get(e, "upstream_info"), "kv_capacity")));
    json_decref(j);

    struct evbuffer *b = evbuffer_new();
    tg__catalog_metrics(&s, b);
    evbuffer_add(b, "", 1);
    const char *t = (const char *)evbuffer_pullup(b, -1);
    TG_CHECK_CONTAINS(t, "# TYPE tokgate_limit_tokens gauge\n");
    TG_CHECK_CONTAINS(t, "tokgate_limit_tokens{model=\"m\",kind=\"context\"} 8192\n");
    TG_CHECK_CONTAINS(t, "tokgate_limit_tokens{model=\"m\",kind=\"input\"} 4096\n");
    evbuffer_free(b);
    fx_free(&s);
}

static void test_no_limits(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    tg_error err;
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    json_t *j = render(&s, 0);
    json_t *e = json_array_get(json_object_get(j, "data"), 0);
    TG_CHECK(json_object_get(e, "limit") == NULL);
    json_decref(j);
    j = render(&s, 2);
    e = json_array_get(json_object_get(j, "data"), 0);
    TG_CHECK(json_is_null(json_object_get(e, "limit")));
    json_decref(j);
    fx_free(&s);
}

static void url_of(const char *host, const char *fwd, const char *xfp, const char *xfh, int trust, const char *want) {
    tg__catalog_origin o = {host, host ? strlen(host) : 0, fwd, fwd ? strlen(fwd) : 0, xfp, xfp ? strlen(xfp) : 0,
                            xfh, xfh ? strlen(xfh) : 0, trust, "127.0.0.1", 8000};
    char out[600];
    tg__catalog_base_url(&o, out, sizeof out);
    TG_CHECK_STR(out, want);
}

/* The "api" URL: RFC 7239 Forwarded (first element, quoted values),
 * X-Forwarded-Proto / -Host (first of a list), Host, else the listen
 * address; a scheme other than http/https and a host that is not
 * host[:port] (RFC 3986 reg-name / IPv4 / [IPv6], port 1-65535) are never
 * written into the URL. */
static void test_base_url(void) {
    url_of("gw:8000", NULL, NULL, NULL, 1, "http://gw:8000");
    url_of("gw:8000", NULL, "https", NULL, 1, "https://gw:8000");
    url_of("gw:8000", NULL, "HTTPS, http", "public.example, inner", 1, "https://public.example");
    url_of("gw:8000", "for=192.0.2.60;proto=https;host=\"api.example:8443\", for=10.0.0.1", "http", "x", 1,
           "https://api.example:8443");
    url_of("[::1]:9000", NULL, NULL, NULL, 1, "http://[::1]:9000");
    url_of("gw:8000", NULL, "https", "evil.example", 0, "http://gw:8000"); /* ignore_forwarded */
    url_of("gw:8000", NULL, "javascript", "a b", 1, "http://gw:8000");
    url_of("evil.example/x?", NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
    url_of("evil.example@x", NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
    url_of("gw:0", NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
    url_of("gw:65536", NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
    url_of("[::1", NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
    url_of("\"gw\"", NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
    url_of(NULL, NULL, NULL, NULL, 1, "http://127.0.0.1:8000");
}

int main(void) {
    TG_RUN(test_endpoints);
    TG_RUN(test_base_url);
    TG_RUN(test_no_limits);
    return tg_test_summary();
}
