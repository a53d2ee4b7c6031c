/* test_thinking.c: thinking budgets after the dynamic thinking token
 * allocation table (MiniMax-M2.1 16000/64000/128000/disabled, REAP-50
 * 32000/128000/256000, GLM-4.7 8000/32000/64000, explicit 42000), the request
 * spellings of the modes, the fit-inside-max_tokens rule, the upstream fields
 * per dialect, and the reasoning catalogue's name matching. */
#include "policy_fixture.h"

#include "policy/policy_int.h"

static tg_model_settings model(const char *name) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.name = name;
    const tg_reasoning_info *ri = tg_reasoning_lookup(name, strlen(name));
    s.thinking_base = ri ? ri->base_budget : 0;
    return s;
}

/* Invariants of every decision that forwards a reasoning model. */
static void check_invariants(const pcase *c) {
    if (c->d.action == TG_ACTION_REJECT) return;
    TG_CHECK(c->d.budget.thinking_tokens <= c->d.budget.max_tokens);
    TG_CHECK(c->d.budget.max_tokens + c->d.budget.prompt_tokens <= c->d.budget.context);
    const json_t *kw = fx_kwargs(c, "max_thinking_tokens");
    if (kw) TG_CHECK((uint64_t)json_integer_value(kw) < c->d.budget.max_tokens);
}

/* The allocation table: a 1M context leaves every budget room to fit. */
static void test_matrix(void) {
    static const struct { const char *model, *mode; uint64_t want; int disabled; } rows[] = {
        {"MiniMaxAI/MiniMax-M2.1", "conservative", 16000, 0},
        {"MiniMaxAI/MiniMax-M2.1", "balanced", 64000, 0},
        {"MiniMaxAI/MiniMax-M2.1", "auto", 64000, 0},
        {"MiniMaxAI/MiniMax-M2.1", "aggressive", 128000, 0},
        {"MiniMaxAI/MiniMax-M2.1", "disabled", 0, 1},
        {"0xSero/MiniMax-M2.1-REAP-50", "conservative", 32000, 0},
        {"0xSero/MiniMax-M2.1-REAP-50", "balanced", 128000, 0},
        {"0xSero/MiniMax-M2.1-REAP-50", "aggressive", 256000, 0},
        {"zai-org/GLM-4.7", "conservative", 8000, 0},
        {"zai-org/GLM-4.7", "balanced", 32000, 0},
        {"zai-org/GLM-4.7", "aggressive", 64000, 0},
        {"zai-org/GLM-4.7", "disabled", 0, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s = model(rows[i].model);
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"%s\"}",
                 rows[i].mode);
        pcase c;
        fx_run(&c, &s, fx_limits(1048576, 8192), json, 100, 0);
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
        TG_CHECK_EQ_U(c.d.budget.thinking_tokens, rows[i].want);
        TG_CHECK_EQ_I(c.d.budget.thinking_disabled, rows[i].disabled);
        if (rows[i].disabled) {
            TG_CHECK(json_is_false(fx_kwargs(&c, "enable_thinking")));
            TG_CHECK(fx_kwargs(&c, "max_thinking_tokens") == NULL);
            TG_CHECK_EQ_U(c.d.budget.max_tokens, 8000); /* plain capped default */
        } else {
            TG_CHECK_EQ_I(json_integer_value(fx_kwargs(&c, "max_thinking_tokens")),
                          (long long)rows[i].want);
            /* defaulted max_tokens = thinking + the default answer (8000) */
            TG_CHECK_EQ_U(c.d.budget.max_tokens, rows[i].want + 8000);
        }
        /* tokgate's own field never goes upstream */
        TG_CHECK(json_object_get(c.d.request, "thinking_mode") == NULL);
        check_invariants(&c);
        fx_free(&c);
    }
}

/* Explicit budget 42000 overrides the mode, wherever it is said. */
static void test_custom(void) {
    static const char *const bodies[] = {
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_thinking_tokens\":42000,"
        "\"thinking_mode\":\"conservative\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
        "\"chat_template_kwargs\":{\"max_thinking_tokens\":42000},\"reasoning_effort\":\"high\"}",
    };
    for (size_t i = 0; i < 2; i++) {
        tg_model_settings s = model("MiniMax-M2.1");
        pcase c;
        fx_run(&c, &s, fx_limits(1048576, 8192), bodies[i], 100, 0);
        TG_CHECK_EQ_U(c.d.budget.thinking_tokens, 42000);
        TG_CHECK_EQ_U(c.d.budget.max_tokens, 50000);
        TG_CHECK(json_object_get(c.d.request, "max_thinking_tokens") == NULL);
        TG_CHECK_EQ_I(json_integer_value(fx_kwargs(&c, "max_thinking_tokens")), 42000);
        check_invariants(&c);
        fx_free(&c);
    }
}

/* OpenAI's reasoning_effort and enable_thinking:false map onto the modes. */
static void test_spellings(void) {
    static const struct { const char *fields; uint64_t want; int disabled; } rows[] = {
        {"\"reasoning_effort\":\"low\"", 16000, 0},
        {"\"reasoning_effort\":\"medium\"", 64000, 0},
        {"\"reasoning_effort\":\"high\"", 128000, 0},
        {"\"reasoning_effort\":\"none\"", 0, 1},
        {"\"reasoning_effort\":\"minimal\"", 0, 1},
        {"\"chat_template_kwargs\":{\"enable_thinking\":false}", 0, 1},
        {"\"chat_template_kwargs\":{\"enable_thinking\":true}", 64000, 0},
        {"\"thinking_mode\":\"balanced\",\"reasoning_effort\":\"low\"", 64000, 0}, /* mode wins */
        {"\"max_thinking_tokens\":0", 0, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s = model("MiniMax-M2.1");
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],%s}", rows[i].fields);
        pcase c;
        fx_run(&c, &s, fx_limits(1048576, 8192), json, 100, 0);
        TG_CHECK_EQ_U(c.d.budget.thinking_tokens, rows[i].want);
        TG_CHECK_EQ_I(c.d.budget.thinking_disabled, rows[i].disabled);
        fx_free(&c);
    }
    /* enable_thinking: true turns a model configured as disabled back on. */
    {
        tg_model_settings m2 = model("GLM-4.7");
        m2.thinking_mode = TG_THINK_DISABLED;
        pcase c2;
        fx_run(&c2, &m2, fx_limits(1048576, 8192),
               "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
               "\"chat_template_kwargs\":{\"enable_thinking\":true}}", 100, 0);
        TG_CHECK_EQ_U(c2.d.budget.thinking_tokens, 32000);
        TG_CHECK(!c2.d.budget.thinking_disabled);
        fx_free(&c2);
        fx_run(&c2, &m2, fx_limits(1048576, 8192),
               "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 100, 0);
        TG_CHECK(c2.d.budget.thinking_disabled);
        TG_CHECK(json_is_false(fx_kwargs(&c2, "enable_thinking")));
        fx_free(&c2);
    }
    /* The model's configured mode applies when the request says nothing. */
    tg_model_settings s = model("GLM-4.7");
    s.thinking_mode = TG_THINK_AGGRESSIVE;
    pcase c;
    fx_run(&c, &s, fx_limits(1048576, 8192),
           "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 100, 0);
    TG_CHECK_EQ_U(c.d.budget.thinking_tokens, 64000);
    fx_free(&c);
}

/* The fit rule: the client's max_tokens keeps min_answer_tokens for the
 * answer; a defaulted one grows only as far as the context, safe maximum and
 * output limit allow. */
static void test_fit(void) {
    static const struct {
        const char *model;
        uint64_t ctx, prompt, min_answer, output_limit;
        const char *extra;
        uint64_t max_tokens, thinking;
        int disabled;
    } rows[] = {
        /* client 32000 on balanced MiniMax (64000): 32000 - 1024 */
        {"MiniMax-M2.1", 1048576, 100, 1024, 0, ",\"max_tokens\":32000", 32000, 30976, 0},
        /* client 32000 with a larger budget than that asked: still shrinks */
        {"MiniMax-M2.1", 1048576, 100, 4000, 0, ",\"max_tokens\":32000", 32000, 28000, 0},
        /* client budget below max_tokens - answer: kept as asked */
        {"MiniMax-M2.1", 1048576, 100, 1024, 0,
         ",\"max_tokens\":32000,\"max_thinking_tokens\":20000", 32000, 20000, 0},
        /* client max_tokens smaller than the answer room: thinking off */
        {"MiniMax-M2.1", 1048576, 100, 1024, 0, ",\"max_tokens\":1000", 1000, 0, 1},
        /* defaulted, 64K context: 72000 wanted, safe maximum 52429 binds */
        {"MiniMax-M2.1", 65536, 1000, 1024, 0, "", 52429, 51405, 0},
        /* defaulted, context - prompt binds: 131072 - 100000 = 31072 */
        {"GLM-4.7", 131072, 100000, 1024, 0, "", 31072, 30048, 0},
        /* defaulted, output limit binds */
        {"GLM-4.7", 1048576, 100, 1024, 16384, "", 16384, 15360, 0},
        /* clamped client value (prompt + 20000 > 32768) then fitted */
        {"GLM-4.7", 32768, 20000, 1024, 0, ",\"max_tokens\":20000", 12768, 11744, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s = model(rows[i].model);
        s.min_answer_tokens = rows[i].min_answer;
        s.output_limit = rows[i].output_limit;
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]%s}", rows[i].extra);
        pcase c;
        fx_run(&c, &s, fx_limits(rows[i].ctx, 8192), json, rows[i].prompt, 0);
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
        TG_CHECK_EQ_U(c.d.budget.max_tokens, rows[i].max_tokens);
        TG_CHECK_EQ_U(c.d.budget.thinking_tokens, rows[i].thinking);
        TG_CHECK_EQ_I(c.d.budget.thinking_disabled, rows[i].disabled);
        check_invariants(&c);
        if (c.d.budget.max_tokens != rows[i].max_tokens || c.d.budget.thinking_tokens != rows[i].thinking)
            fprintf(stderr, "  row %zu\n", i);
        fx_free(&c);
    }
}

/* Upstream fields by dialect. */
static void test_dialects(void) {
    static const struct { tg_dialect d; const char *field; } rows[] = {
        {TG_DIALECT_NONE, NULL},
        {TG_DIALECT_VLLM, "thinking_token_budget"},
        {TG_DIALECT_LLAMACPP, "thinking_budget_tokens"},
    };
    static const char *const all[] = {"thinking_token_budget", "thinking_budget_tokens"};
    for (size_t i = 0; i < 3; i++) {
        tg_model_settings s = model("GLM-4.7");
        s.dialect = rows[i].d;
        pcase c;
        fx_run(&c, &s, fx_limits(1048576, 8192),
               "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"balanced\"}",
               100, 0);
        for (size_t k = 0; k < 2; k++) {
            int want = rows[i].field && strcmp(rows[i].field, all[k]) == 0;
            TG_CHECK_EQ_I(fx_req_int(&c, all[k]), want ? 32000 : -1);
        }
        TG_CHECK_EQ_I(json_integer_value(fx_kwargs(&c, "max_thinking_tokens")), 32000);
        fx_free(&c);
        /* disabled: no budget field anywhere, enable_thinking false */
        fx_run(&c, &s, fx_limits(1048576, 8192),
               "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"reasoning_effort\":\"none\"}",
               100, 0);
        for (size_t k = 0; k < 2; k++) TG_CHECK_EQ_I(fx_req_int(&c, all[k]), -1);
        TG_CHECK(json_is_false(fx_kwargs(&c, "enable_thinking")));
        /* reasoning_effort is the client's and passes through */
        TG_CHECK(json_object_get(c.d.request, "reasoning_effort") != NULL);
        fx_free(&c);
    }
    /* A model that does not reason gets no thinking fields. */
    tg_model_settings s = model("Llama-3.1-8B-Instruct");
    s.dialect = TG_DIALECT_VLLM;
    pcase c;
    fx_run(&c, &s, fx_limits(131072, 8192),
           "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"aggressive\"}",
           100, 0);
    TG_CHECK_EQ_U(c.d.budget.thinking_tokens, 0);
    TG_CHECK(json_object_get(c.d.request, "chat_template_kwargs") == NULL);
    TG_CHECK(json_object_get(c.d.request, "thinking_mode") == NULL);
    TG_CHECK_EQ_I(fx_req_int(&c, "thinking_token_budget"), -1);
    fx_free(&c);
}

static void test_catalogue(void) {
    static const struct { const char *name; uint64_t base; } rows[] = {
        {"MiniMax-M2.1", 64000},
        {"MiniMaxAI/MiniMax-M2.1", 64000},
        {"minimax_m2.1", 64000},
        {"MiniMax-M2.1-Q4_K_M.gguf", 64000},
        {"plezan/MiniMax-M2.1-REAP-50-W4A16", 128000},
        {"local/MiniMax-M2.1-REAP-50-MLX-4bit", 128000},
        {"zai-org/GLM-4.7", 32000},
        {"unsloth/GLM-4.7-GGUF:Q4_K_M", 32000},
        {"GLM-4.75", 0},
        {"glm-4.6", 0},
        {"deepseek-ai/DeepSeek-R1", 64000},
        {"DeepSeek-R1-0528", 64000},
        {"DeepSeek-R1-Distill-Qwen-32B-Q4_K_M.gguf", 64000},
        {"Qwen/Qwen3-32B", 32768},
        {"qwen3-235b-a22b", 32768},
        {"Qwen/Qwen3-235B-A22B-Thinking-2507", 32768},
        {"Qwen/Qwen3-235B-A22B-Instruct-2507", 0},
        {"Qwen/Qwen3-Coder-30B-A3B-Instruct", 0},
        {"Qwen/Qwen3-Embedding-8B", 0},
        {"Qwen/QwQ-32B", 32768},
        {"openai/gpt-oss-120b", 25000},
        {"gpt-oss:20b", 25000},
        {"meta-llama/Llama-3.1-8B-Instruct", 0},
        {"MiniMax-M2", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const tg_reasoning_info *ri = tg_reasoning_lookup(rows[i].name, strlen(rows[i].name));
        TG_CHECK_EQ_U(ri ? ri->base_budget : 0, rows[i].base);
        if ((ri ? ri->base_budget : 0) != rows[i].base) fprintf(stderr, "  %s\n", rows[i].name);
        if (ri) TG_CHECK(ri->source && ri->source[0]);
    }
    /* Length-bounded: the bytes after LEN are not read as part of the name. */
    TG_CHECK(tg_reasoning_lookup("GLM-4.7X", 7) != NULL);
    TG_CHECK(tg_reasoning_lookup("GLM-4.75", 7) != NULL);
    TG_CHECK(tg_reasoning_lookup(NULL, 0) == NULL);
}

/* tg__policy_decide_shared (the gateway's scanned request: a shallow copy)
 * decides as tg_policy_decide (a deep copy) does, and leaves the request it
 * shares values with as it was: the policy copies a nested container before
 * editing it (chat_template_kwargs, a prompt batch cut by keep_recent). */
static void test_shared_equals_deep(void) {
    static const struct { const char *model, *json; int keep_recent; uint64_t total; } rows[] = {
        {"MiniMax-M2.1", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                         "\"chat_template_kwargs\":{\"max_thinking_tokens\":42000,\"x\":[1]}}", 0, 100},
        {"MiniMax-M2.1", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                         "\"chat_template_kwargs\":{\"enable_thinking\":false,\"max_thinking_tokens\":5}}", 0, 100},
        {"MiniMax-M2.1", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"disabled\","
                         "\"chat_template_kwargs\":{\"a\":{\"b\":1}},\"stream_options\":{\"include_usage\":true}}", 0, 100},
        {"MiniMax-M2.1", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":9000000,"
                         "\"truncation\":\"auto\",\"reasoning_effort\":\"low\"}", 0, 100},
        {"plain", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1}", 0, 100},
        {"plain", "{\"prompt\":[\"short\",[1,2,3,4,5,6,7,8,9,10]]}", 1, 10},
        {"plain", "{\"prompt\":[[1,2,3,4,5,6,7,8,9,10],[1,2]]}", 1, 10},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        for (int dialect = 0; dialect < 3; dialect++) {
            tg_model_settings s = model(rows[i].model);
            s.dialect = (tg_dialect)dialect;
            if (rows[i].keep_recent) s.truncation = TG_TRUNC_KEEP_RECENT;
            tg_limits lim = rows[i].keep_recent ? fx_limits(105, 100) : fx_limits(1048576, 8192);
            pcase c;
            fx_run(&c, &s, lim, rows[i].json, rows[i].total, 0); /* deep */
            json_t *before = json_deep_copy(c.req.root);
            tg_policy_input in = {&s, &c.lim, &c.req, &c.counts, 0, NULL, NULL};
            tg_decision d;
            tg_error err;
            TG_CHECK_EQ_I(tg__policy_decide_shared(&in, &d, &err), c.st);
            json_t *a = tg_decision_to_json(&c.d), *b = tg_decision_to_json(&d);
            TG_CHECK(a && b && json_equal(a, b));
            TG_CHECK(json_equal(before, c.req.root)); /* the shared request: untouched */
            if (rows[i].keep_recent) TG_CHECK_EQ_I(d.action, TG_ACTION_TRUNCATE);
            json_decref(a);
            json_decref(b);
            json_decref(before);
            tg_decision_free(&d);
            fx_free(&c);
        }
    }
}

int main(void) {
    TG_RUN(test_shared_equals_deep);
    TG_RUN(test_matrix);
    TG_RUN(test_custom);
    TG_RUN(test_spellings);
    TG_RUN(test_fit);
    TG_RUN(test_dialects);
    TG_RUN(test_catalogue);
    return tg_test_summary();
}
