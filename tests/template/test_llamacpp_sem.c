/*
 * tests/template/test_llamacpp_sem.c: the llama.cpp-semantics mode of the
 * renderer (tg_render_options.llamacpp, src/template/llamacpp_sem.c).
 *
 * Expected values: the cases marked "test-jinja" are llama.cpp's own tests
 * (tests/test-jinja.cpp in the fixtures' llama.cpp, 0.5.0-dev; the case name
 * is quoted) with their expected output; the others follow llama.cpp's source
 * where its tests say nothing (the file and function are named) and Python's
 * Jinja2, whose semantics that engine follows ("" == False is False in
 * Python). Each template is also rendered in the default mode, where
 * @huggingface/jinja's result must stay (the HF values here were rendered
 * with @huggingface/jinja from the fixtures' node_modules; the general cases
 * are tests/template/jinja_cases.json's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tg_test.h"
#include "tokgate/template.h"

/* Renders src with ctx (JSON text) in the given mode; the output, or
 * "ERROR" when the render fails. Static buffer. */
static const char *render(const char *src, const char *ctx_json, int llamacpp) {
    static char res[1024];
    tg_template *t = NULL;
    tg_error err = {0};
    if (tg_template_parse(src, strlen(src), &t, &err)) return "PARSE-ERROR";
    json_t *ctx = json_loads(ctx_json, 0, NULL);
    tg_render_options ro;
    memset(&ro, 0, sizeof ro);
    ro.llamacpp = llamacpp;
    char *out = NULL;
    size_t n = 0;
    tg_status st = tg_template_render(t, ctx, &ro, &out, &n, &err);
    snprintf(res, sizeof res, "%s", st ? "ERROR" : out);
    free(out);
    json_decref(ctx);
    tg_template_free(t);
    return res;
}

#define LC(src, ctx, want) TG_CHECK_STR(render(src, ctx, 1), want)
#define HF(src, ctx, want) TG_CHECK_STR(render(src, ctx, 0), want)

static void test_llamacpp_tests(void) {
    /* test-jinja: "for undefined empty" */
    LC("{% for i in items %}{{ i }}{% else %}empty{% endfor %}", "{}", "empty");
    /* test-jinja: "undefined computed member is undefined" */
    LC("{{ a[undefined] is undefined }}", "{\"a\": {\"name\": \"Bob\"}}", "True");
    /* test-jinja: "boolean true" / "boolean false" */
    LC("{{ true }}", "{}", "True");
    LC("{{ false }}", "{}", "False");
    /* test-jinja: "none to string" */
    LC("{{ x|string }}", "{\"x\": null}", "None");
    /* test-jinja: "undefined is sequence" / "undefined is iterable" */
    LC("{{ 'yes' if x is sequence }}", "{}", "yes");
    LC("{{ 'yes' if x is iterable }}", "{}", "yes");
    /* test-jinja: "undefined|length", "undefined|join", "undefined|list" (|string), "undefined|upper", "undefined|first" */
    LC("{{ arr|length }}", "{}", "0");
    LC("{{ arr|join }}", "{}", "");
    LC("{{ arr|list|string }}", "{}", "[]");
    LC("{{ arr|upper }}", "{}", "");
    LC("{{ arr|first }}", "{}", "");
    /* test-jinja: "string is false" */
    LC("{{ 'yes' if x is false else 'no' }}", "{\"x\": \"\"}", "no");
    /* test-jinja: "array.pop() last", "array.pop() with index", "array.append()" */
    LC("{{ arr.pop() }}-{{ arr|join(',') }}", "{\"arr\": [\"a\", \"b\", \"c\"]}", "c-a,b");
    LC("{{ arr.pop(0) }}-{{ arr|join(',') }}", "{\"arr\": [\"a\", \"b\", \"c\"]}", "a-b,c");
    LC("{% set _ = arr.append('d') %}{{ arr|join(',') }}", "{\"arr\": [\"a\", \"b\", \"c\"]}", "a,b,c,d");
}

static void test_source_rules(void) {
    /* value.h value_string_t::equivalent: a string equals only a string
     * (Python: "" == False is False); @huggingface/jinja: JS ==, "" == false. */
    LC("{{ 'differ' if s != false else 'same' }}", "{\"s\": \"\"}", "differ");
    HF("{{ 'differ' if s != false else 'same' }}", "{\"s\": \"\"}", "same");
    /* value_int/bool_t::equivalent: numbers and booleans by value (Python: True == 1, 1 == 1.0) */
    LC("{{ (true == 1) ~ '/' ~ (1 == 1.0) ~ '/' ~ ('1' == 1) }}", "{}", "True/True/False");
    /* value_none_t / value_undefined_t::equivalent: None == None, undefined != None */
    LC("{{ (x == none) ~ '/' ~ (y == none) }}", "{\"x\": null}", "True/False");
    /* value_array/object_t::equivalent: by content, not identity */
    LC("{{ [1, 'a'] == [1, 'a'] }}", "{}", "True");
    HF("{{ [1, 'a'] == [1, 'a'] }}", "{}", "false");
    /* runtime.cpp binary_expression::execute_impl, workaround_concat_null_with_str */
    LC("{{ 'def ' + tool.name + '(' }}", "{\"tool\": {}}", "def (");
    LC("{{ x ~ 'b' }}", "{\"x\": null}", "b");
    HF("{{ 'def ' + tool.name + '(' }}", "{\"tool\": {}}", "ERROR");
    /* value_undefined_t::get_builtins through a member: undefined.items() is [] */
    LC("{% for k, v in x.params.items() %}{{ k }}{% endfor %}done", "{\"x\": {}}", "done");
    HF("{% for k, v in x.params.items() %}{{ k }}{% endfor %}done", "{\"x\": {}}", "ERROR");
    /* runtime.cpp apply_filter: non-strings coerced with as_string for trim/upper...;
     * value_array_t::as_string is Python's repr */
    LC("{{ x|trim }}", "{\"x\": [{\"type\": \"text\", \"text\": \"hi\"}]}", "[{'type': 'text', 'text': 'hi'}]");
    LC("{{ x|string }}", "{\"x\": true}", "True");
    /* runtime.h gather_string_parts_recursive: floats as std::to_string without trailing zeros, lists by items */
    LC("{{ 2.5 }}|{{ 1.0 }}|{{ [1, 'a'] }}|{{ {'k': 1} }}", "{}", "2.5|1.0|1a|");
    /* `in` uses the same equality */
    LC("{{ 1.0 in [1] }}", "{}", "True");
}

int main(void) {
    TG_RUN(test_llamacpp_tests);
    TG_RUN(test_source_rules);
    return tg_test_summary();
}
