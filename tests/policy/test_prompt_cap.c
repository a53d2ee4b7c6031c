/* test_prompt_cap.c: the prompt cap (docs/policy.md, rule 2): without
 * max_tokens, helexa #67's derived input budget (prompts above it are refused
 * up front); with the client's max_tokens, prompt + the smallest answer it
 * may be shortened to must fit the context (issue 15: a 1518-token prompt
 * with max_tokens 100 on a 2048 context was refused). The error shape agents
 * recognise: HTTP 400, invalid_request_error, context_length_exceeded, param
 * messages, OpenAI's "This model's maximum context length is L tokens."
 * opening, vLLM's "However, you requested N tokens (P in the messages, M in
 * the completion)" (vllm/entrypoints/openai/serving_engine.py,
 * _validate_prompt_and_tokenize), llama.cpp's n_prompt_tokens / n_ctx. */
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
    TG_CHECK_CONTAINS(msg, "input limit of 122880 tokens");
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

/* With the client's max_tokens: the measured case forwards, and the
 * boundary is prompt + min(max_tokens, limit.output) = context. Limits of a
 * 2048 context as the gateway splits it: output min(8192, 1024) = 1024,
 * input 1024, safe maximum round(2048 x 0.8) = 1638. */
static void test_cap_with_max_tokens(void) {
    static const struct {
        uint64_t prompt;
        const char *mt;
        tg_overflow_mode overflow;
        int refused;
        uint64_t want;
    } rows[] = {
        {1518, "100", TG_OVERFLOW_CLAMP, 0, 100},   /* issue 15: forwarded as asked */
        {1518, "100", TG_OVERFLOW_REJECT, 0, 100},
        {1948, "100", TG_OVERFLOW_CLAMP, 0, 100},   /* exactly the context */
        {1949, "100", TG_OVERFLOW_CLAMP, 1, 0},
        {1949, "100", TG_OVERFLOW_REJECT, 1, 0},
        {1024, "32000", TG_OVERFLOW_CLAMP, 0, 1024}, /* prompt = input: room 1024 = output */
        {1025, "32000", TG_OVERFLOW_CLAMP, 1, 0},    /* 1023 left, below limit.output */
        {1025, "1023", TG_OVERFLOW_CLAMP, 0, 1023},  /* ... which is all it asks for */
        {1000, "1500", TG_OVERFLOW_CLAMP, 0, 1048},  /* clamped to the room, >= 1024 */
        {1000, "1500", TG_OVERFLOW_REJECT, 1, 0},    /* 1000 + 1500 > 2048 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.overflow = rows[i].overflow;
        char json[256];
        snprintf(json, sizeof json,
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":%s}", rows[i].mt);
        pcase c;
        fx_run_items(&c, &s, fx_limits(2048, 1024), json, rows[i].prompt, 0, NULL, 1, 0, NULL);
        TG_CHECK_EQ_I(c.st, TG_OK);
        TG_CHECK_EQ_I(c.d.action == TG_ACTION_REJECT, rows[i].refused);
        if (rows[i].refused) {
            TG_CHECK_STR(fx_err_str(&c, "code"), "context_length_exceeded");
            TG_CHECK_EQ_I(fx_err_int(&c, "n_prompt_tokens"), (long long)rows[i].prompt);
            TG_CHECK_EQ_I(fx_err_int(&c, "n_ctx"), 2048);
        } else {
            TG_CHECK_EQ_U(c.d.budget.max_tokens, rows[i].want);
        }
        fx_free(&c);
    }
}

/* The messages, word for word: every number agrees with the others. */
static void test_messages(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    pcase c;
    /* clamp mode, the client's max_tokens: vLLM's sentence, then what is left */
    fx_run_items(&c, &s, fx_limits(2048, 1024),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":100}", 2000, 0,
                 NULL, 1, 0, NULL);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "This model's maximum context length is 2048 tokens. However, you requested 2100 "
                 "tokens (2000 in the messages, 100 in the completion). Please reduce the length of "
                 "the messages or completion. The messages leave 48 tokens for the completion.");
    TG_CHECK_STR(fx_err_str(&c, "param"), "messages");
    fx_free(&c);
    /* opencode's 32000 with a prompt above the input limit, estimated */
    fx_run(&c, &s, fx_limits(4096, 2048),
           "{\"prompt\":\"x\",\"max_tokens\":32000}", 3000, 0);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "This model's maximum context length is 4096 tokens. However, you requested 35000 "
                 "tokens (an estimated 3000 in the prompt, 32000 in the completion). Please reduce "
                 "the length of the prompt or completion. The prompt leaves 1096 tokens for the "
                 "completion.");
    TG_CHECK_STR(fx_err_str(&c, "param"), "prompt");
    fx_free(&c);
    /* defaulted: the input limit, what is kept, and the max_tokens that fits */
    fx_run_items(&c, &s, fx_limits(2048, 1024),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 1518, 0, NULL, 1, 0, NULL);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "This model's maximum context length is 2048 tokens. However, your messages "
                 "resulted in 1518 tokens, above the input limit of 1024 tokens for a request "
                 "without max_tokens (1024 kept for the completion). Please reduce the length of "
                 "the messages, or set max_tokens to at most 530 (2048 - 1518).");
    fx_free(&c);
    /* ... and the max_tokens it names is forwarded as asked */
    fx_run_items(&c, &s, fx_limits(2048, 1024),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":530}", 1518, 0,
                 NULL, 1, 0, NULL);
    TG_CHECK_EQ_I(c.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_U(c.d.budget.max_tokens, 530);
    fx_free(&c);
    /* a prompt over the whole context has no max_tokens to suggest */
    fx_run_items(&c, &s, fx_limits(2048, 1024),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 3000, 0, NULL, 1, 0, NULL);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "This model's maximum context length is 2048 tokens. However, your messages "
                 "resulted in 3000 tokens, above the input limit of 1024 tokens for a request "
                 "without max_tokens (1024 kept for the completion). Please reduce the length of "
                 "the messages.");
    fx_free(&c);
    /* reject mode with room left: vLLM's refusal of the field, param the field */
    s.overflow = TG_OVERFLOW_REJECT;
    fx_run_items(&c, &s, fx_limits(2048, 1024),
                 "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_completion_tokens\":1500}",
                 1000, 0, NULL, 1, 0, NULL);
    TG_CHECK_STR(fx_err_str(&c, "message"),
                 "'max_tokens' or 'max_completion_tokens' is too large: 1500. This model's maximum "
                 "context length is 2048 tokens and your request has 1000 input tokens "
                 "(1500 > 2048 - 1000).");
    TG_CHECK_STR(fx_err_str(&c, "param"), "max_completion_tokens");
    fx_free(&c);
}

int main(void) {
    TG_RUN(test_cap_with_max_tokens);
    TG_RUN(test_messages);
    TG_RUN(test_cap_error);
    TG_RUN(test_boundary);
    TG_RUN(test_completion_param);
    TG_RUN(test_bad_fields);
    return tg_test_summary();
}
