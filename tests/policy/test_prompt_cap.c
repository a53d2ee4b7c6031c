/* test_prompt_cap.c: the prompt cap after helexa #67 (prompts above the
 * derived input budget are refused up front) with the error shape agents
 * recognise: HTTP 400, invalid_request_error, context_length_exceeded,
 * param messages, OpenAI's "This model's maximum context length is L tokens."
 * opening, llama.cpp's n_prompt_tokens / n_ctx. */
#include "policy_fixture.h"

static void test_cap_error(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    pcase c;
    /* helexa's recommended profile: context 131072, output 8192, input 122880 */
    fx_run(&c, &s, fx_limits(131072, 8192),
           "{\"messages\":[{\"role\":\"user\",\"content\":\"long\"}]}", 130000, 0);
    TG_CHECK_EQ_I(c.st, TG_OK);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
    TG_CHECK_EQ_I(c.d.status, 400);
    TG_CHECK(c.d.request == NULL);
    const char *msg = fx_err_str(&c, "message");
    TG_CHECK(msg && strncmp(msg, "This model's maximum context length is 131072 tokens.", 53) == 0);
    TG_CHECK_CONTAINS(msg, "130000 tokens");
    TG_CHECK_CONTAINS(msg, "input budget of 122880 tokens");
    TG_CHECK_CONTAINS(msg, "an estimated"); /* counts were not exact */
    TG_CHECK_STR(fx_err_str(&c, "type"), "invalid_request_error");
    TG_CHECK_STR(fx_err_str(&c, "code"), "context_length_exceeded");
    TG_CHECK_STR(fx_err_str(&c, "param"), "messages");
    TG_CHECK_EQ_I(fx_err_int(&c, "n_prompt_tokens"), 130000);
    TG_CHECK_EQ_I(fx_err_int(&c, "n_ctx"), 131072);
    /* the body is exactly {"error": {...}} */
    TG_CHECK_EQ_U(json_object_size(c.d.error), 1);
    fx_free(&c);
}

/* Table: prompt vs input budget at the boundary; exact counts say so. */
static void test_boundary(void) {
    static const struct { uint64_t prompt; int exact; int refused; } rows[] = {
        {24576, 1, 0}, /* exactly the budget (32768 - 8192) */
        {24577, 1, 1},
        {24577, 0, 1},
        {1, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        pcase c;
        fx_run_items(&c, &s, fx_limits(32768, 8192),
                     "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", rows[i].prompt, 0,
                     NULL, rows[i].exact, 0, NULL);
        TG_CHECK_EQ_I(c.d.action == TG_ACTION_REJECT, rows[i].refused);
        if (rows[i].refused) {
            const char *msg = fx_err_str(&c, "message");
            TG_CHECK_EQ_I(strstr(msg, "an estimated") != NULL, !rows[i].exact);
        }
        TG_CHECK_EQ_I(c.d.budget.prompt_tokens_exact, rows[i].exact);
        fx_free(&c);
    }
}

/* /v1/completions: param is "prompt". */
static void test_completion_param(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    pcase c;
    fx_run(&c, &s, fx_limits(4096, 1024), "{\"prompt\":\"some text\"}", 5000, 0);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
    TG_CHECK_STR(fx_err_str(&c, "param"), "prompt");
    TG_CHECK_CONTAINS(fx_err_str(&c, "message"), "your prompt resulted in");
    fx_free(&c);
}

/* Unusable field values are refused naming the field. */
static void test_bad_fields(void) {
    static const struct { const char *fields, *param; } rows[] = {
        {"\"thinking_mode\":\"fast\"", "thinking_mode"},
        {"\"reasoning_effort\":\"max\"", "reasoning_effort"},
        {"\"max_thinking_tokens\":-1", "max_thinking_tokens"},
        {"\"max_thinking_tokens\":\"many\"", "max_thinking_tokens"},
        {"\"chat_template_kwargs\":{\"max_thinking_tokens\":1.5}", "chat_template_kwargs.max_thinking_tokens"},
        {"\"chat_template_kwargs\":5", "chat_template_kwargs"},
        {"\"truncation\":\"yes\"", "truncation"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],%s}", rows[i].fields);
        pcase c;
        fx_run(&c, &s, fx_limits(32768, 8192), json, 10, 0);
        TG_CHECK_EQ_I(c.d.action, TG_ACTION_REJECT);
        TG_CHECK_EQ_I(c.d.status, 400);
        TG_CHECK_STR(fx_err_str(&c, "param"), rows[i].param);
        TG_CHECK_STR(fx_err_str(&c, "type"), "invalid_request_error");
        fx_free(&c);
    }
}

int main(void) {
    TG_RUN(test_cap_error);
    TG_RUN(test_boundary);
    TG_RUN(test_completion_param);
    TG_RUN(test_bad_fields);
    return tg_test_summary();
}
