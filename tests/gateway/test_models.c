/*
 * test_models.c: the served-model table (src/gateway/models.c): a named
 * section serves one model under its name, aliases, upstream_model and the
 * upstream's id; an unnamed section serves every model its upstream lists,
 * or, before discovery, everything as a catch-all; the only model answers a
 * request without a name, and none does when several are served; the
 * table keeps its config alive across a rebuild while a request holds it;
 * the engine's kind sets the chat-count dialect (llama-server rewrites chat
 * requests, TG_CHAT_LLAMACPP) and whether streams may continue in place.
 * Expected values follow from those rules (models.h, docs/gateway.md).
 */
#include "tg_test.h"

#include "server_fixture.h"

static void test_named_section(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", "--served-name", "qwen", "--alias", "q",
                       "--upstream-model", "Qwen/Qwen3-8B", "--context", "4096", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    fx_upinfo(&s, "vllm", "[{\"id\":\"Qwen/Qwen3-8B\",\"max_model_len\":40960}]", 0, 0);
    tg_error err;
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    TG_CHECK_EQ_U(s.table->n, 1);
    const tg__model *m = tg__model_resolve(s.table, "qwen");
    TG_CHECK(m != NULL);
    TG_CHECK(tg__model_resolve(s.table, "q") == m);
    TG_CHECK(tg__model_resolve(s.table, "Qwen/Qwen3-8B") == m);
    TG_CHECK(tg__model_resolve(s.table, NULL) == m); /* the only one */
    TG_CHECK(tg__model_resolve(s.table, "other") == NULL);
    TG_CHECK_STR(tg__model_id(m), "qwen");
    TG_CHECK_EQ_U(m->limits.context, 4096); /* configured, under the upstream's 40960 */
    TG_CHECK_EQ_I(m->chat_dialect, TG_CHAT_HF);
    TG_CHECK(m->cont == tg__engine_vllm.cont); /* vLLM continues by token ids (engines/vllm.c) */
    fx_free(&s);
}

static void test_unnamed_section(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    tg_error err;
    /* before discovery: a catch-all under any name */
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    TG_CHECK_EQ_U(s.table->n, 1);
    TG_CHECK(tg__model_resolve(s.table, "anything") == &s.table->v[0]);
    TG_CHECK(!s.table->v[0].have_limits);
    /* a held table survives the rebuild unchanged */
    tg__model_table *held = s.table;
    tg__table_ref(held);
    fx_upinfo(&s, "llama.cpp", "[{\"id\":\"a.gguf\"},{\"id\":\"b.gguf\"}]", 2048, 4);
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    TG_CHECK(s.table != held);
    TG_CHECK_EQ_U(held->n, 1);
    TG_CHECK(held->cfg == s.cfg);
    tg__table_unref(held);
    /* after discovery: every listed model, none without a name */
    TG_CHECK_EQ_U(s.table->n, 2);
    const tg__model *b = tg__model_resolve(s.table, "b.gguf");
    TG_CHECK(b == &s.table->v[1]);
    TG_CHECK(tg__model_resolve(s.table, NULL) == NULL);
    TG_CHECK(tg__model_resolve(s.table, "c.gguf") == NULL);
    TG_CHECK_EQ_U(b->limits.context, 2048); /* /props n_ctx per slot */
    TG_CHECK_EQ_I(b->chat_dialect, TG_CHAT_LLAMACPP);
    TG_CHECK(b->cont); /* auto: on for llama-server */
    fx_free(&s);
}

static void test_continuation_setting(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", "--continuation", "off", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    fx_upinfo(&s, "llama.cpp", "[{\"id\":\"a.gguf\"}]", 2048, 1);
    tg_error err;
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    TG_CHECK(!s.table->v[0].cont);
    /* tokgate does not cut thinking here: llama-server's own field is sent */
    TG_CHECK_EQ_I(s.table->v[0].settings.dialect, TG_DIALECT_LLAMACPP);
    fx_free(&s);
}

/* The engine adapter: a section's `engine` wins over discovery; the
 * engine's thinking field only when no dialect is given and tokgate does
 * not cut thinking itself (engine.h). */
static void test_engine_setting(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    fx_upinfo(&s, "llama.cpp", "[{\"id\":\"a.gguf\"}]", 2048, 1);
    tg_error err;
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    TG_CHECK(s.table->v[0].engine == &tg__engine_llama_server);
    TG_CHECK_EQ_I(s.table->v[0].settings.dialect, TG_DIALECT_NONE); /* continuation cuts: no second cut */
    fx_free(&s);
    const char *b[] = {"--upstream", "http://127.0.0.1:1", "--engine", "vllm", "--continuation", "off",
                       "--dialect", "none", NULL};
    TG_CHECK(fx_server(&s, b) == 0);
    fx_upinfo(&s, "llama.cpp", "[{\"id\":\"a.gguf\",\"max_model_len\":1024}]", 2048, 1);
    TG_CHECK(tg__models_rebuild(&s, &err) == TG_OK);
    TG_CHECK(s.table->v[0].engine == &tg__engine_vllm);
    TG_CHECK_EQ_I(s.table->v[0].chat_dialect, TG_CHAT_HF);
    TG_CHECK_EQ_U(s.table->v[0].limits.context, 1024); /* vLLM's max_model_len, not /props */
    TG_CHECK_EQ_I(s.table->v[0].settings.dialect, TG_DIALECT_NONE); /* given */
    fx_free(&s);
}

int main(void) {
    TG_RUN(test_named_section);
    TG_RUN(test_unnamed_section);
    TG_RUN(test_continuation_setting);
    TG_RUN(test_engine_setting);
    return tg_test_summary();
}
