/*
 * test_catalog.c: the endpoints that describe the served models
 * (src/gateway/catalog.c) say what the table enforces: /v1/models keeps the
 * upstream's entry and adds "limit" {context, input, output} (helexa's
 * shape), "context_length" and "max_model_len"; /api.json is the models.dev
 * provider shape opencode reads (id, npm "@ai-sdk/openai-compatible", api
 * URL from the Host, models by id with the same limit); /v1/limits names
 * the source and ceilings; /metrics ends with one tokgate_limit_tokens gauge
 * per model and kind. A model without limits advertises none.
 */
#include <event2/buffer.h>

#include "tg_test.h"

#include "gateway/catalog.h"
#include "server_fixture.h"

static json_t *render(tg__server *s, int which) {
    struct evbuffer *b = evbuffer_new();
    if (which == 0) tg__catalog_models(s, b);
    else if (which == 1) tg__catalog_api_json(s, "gw.example:8000", b);
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
    json_decref(j);

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

int main(void) {
    TG_RUN(test_endpoints);
    TG_RUN(test_no_limits);
    return tg_test_summary();
}
