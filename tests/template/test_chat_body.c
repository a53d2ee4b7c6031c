/* test_chat_body.c: tg_chat_render_body (chat_body.c, the request parsed in
 * place from its bytes) against the reference chain it replaces: jansson's
 * json_loadb (JSON_ALLOW_NUL, as the gateway reads bodies) then
 * tg_chat_render. Bodies jansson accepts must render to the same bytes (or
 * fail with the same message); bodies jansson refuses must be refused. Each
 * refused case is checked to be refused by jansson first, so the list
 * documents the reference, not tokgate. The counts of real conversations
 * against @huggingface/jinja + HF tokenizers are in test_chat_count.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tg_test.h"
#include "tokgate/template.h"

/* Prints everything a request can carry into the context. */
static const char TPL[] =
    "{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m | tojson }}|{{ m.n is integer }}"
    "{% if m.x is defined %}{{ m.x | tojson }}{% endif %}]\n{% endfor %}"
    "{{ tools | tojson }}|{{ documents | tojson }}|{{ add_generation_prompt }}|{{ bos_token }}|{{ eos_token }}|"
    "{{ extra_k | tojson }}|{{ messages | length }}";

static tg_chat *chat;

/* 1 when both paths agree on body[0..len); *jansson_ok says whether the
 * reference parsed it. */
static int agree(const char *body, size_t len, int dialect, int *jansson_ok) {
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = dialect ? TG_CHAT_LLAMACPP : TG_CHAT_HF;
    opt.render.now = 1752494400;
    tg_error e1 = {0}, e2 = {0};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    json_error_t je;
    json_t *req = json_loadb(body, len, JSON_ALLOW_NUL, &je);
    *jansson_ok = req != NULL;
    tg_status sb = tg_chat_render_body(chat, body, len, &opt, &b, &nb, &e2);
    int ok;
    if (!req) {
        ok = sb == TG_EINVAL && strstr(e2.msg, "request JSON") != NULL;
    } else {
        tg_status sa = tg_chat_render(chat, req, &opt, &a, &na, &e1);
        ok = sa == sb && (sa ? strcmp(e1.msg, e2.msg) == 0 : na == nb && memcmp(a, b, na) == 0);
        if (!ok) fprintf(stderr, "json %d [%s] body %d [%s]\n", sa, sa ? e1.msg : a, sb, sb ? e2.msg : b);
    }
    if (!ok) fprintf(stderr, "disagree on: %.*s\n", (int)(len > 300 ? 300 : len), body);
    json_decref(req);
    free(a);
    free(b);
    return ok;
}

static void check_n(const char *body, size_t len, int want_jansson_ok) {
    for (int d = 0; d < 2; d++) {
        int jok = -1;
        TG_CHECK(agree(body, len, d, &jok));
        TG_CHECK_EQ_I(jok, want_jansson_ok);
    }
}

static void check(const char *body, int want_jansson_ok) { check_n(body, strlen(body), want_jansson_ok); }

/* jansson's lexer skips one raw NUL right after a number or a literal (it
 * takes NUL for the end of input, then steps back over it): accepted there,
 * so accepted here; anywhere else a raw NUL is refused. */
static void test_raw_nul(void) {
#define C(lit, ok) check_n(lit, sizeof lit - 1, ok)
    C("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"n\":1\0}]}", 1);
    C("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"n\":1.5\0,\"x\":true\0}]}", 1);
    C("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"x\":[null\0 ,false\0]}]}", 1);
    C("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"x\":[1\0\0]}]}", 0);
    C("{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"x\":[1 \0]}]}", 0);
    C("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"\0}]}", 0);
    C("{\"messages\":[]\0}", 0);
    C("{\"messages\":[]}\0", 0);
    C("{\"messages\":[],\"x\":-\0}", 0);
#undef C
}

#define MSG(x) "{\"messages\":[{\"role\":\"user\",\"content\":" x "}]}"

static void test_accepted(void) {
    check(MSG("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t e\""), 1);
    check(MSG("\"\\u00e9\\u4E2D\\ud83d\\ude00 caf\xc3\xa9 \xe6\x97\xa5\""), 1);
    check(MSG("\"nul\\u0000inside\""), 1);
    check(MSG("\"\""), 1);
    check(" \t\r\n{ \"messages\" : [ { \"role\" : \"user\" , \"content\" : \"x\" } ] } \n", 1);
    check("{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"content\":\"b\"}]}", 1);
    check("{\"messages\":[],\"messages\":[{\"role\":\"user\",\"content\":\"second\"}]}", 1);
    check("{\"messages\":[{\"role\":\"user\",\"content\":\"k\",\"x\":{\"2\":\"x\",\"b\":1,\"1\":\"y\",\"01\":\"z\","
          "\"4294967295\":\"w\",\"4294967294\":\"v\",\"\":0}}]}", 1);
    static const char *const nums[] = {"0", "-0", "1.0", "1e2", "-1.5e-3", "1E+2", "9007199254740993",
                                       "-9223372036854775808", "9223372036854775807", "1e308", "1e-400", "0.1",
                                       "123456789012345678901234567890.5", "2.5E-1", "true", "false", "null",
                                       "[]", "{}", "[[1,[2,[3]]],{\"a\":{\"b\":[]}}]"};
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"messages\":[{\"role\":\"user\",\"content\":\"n\",\"n\":%s,\"x\":%s}]}", nums[i],
                 nums[i]);
        check(b, 1);
    }
    check("{\"messages\":[{\"role\":\"user\",\"content\":\"t\"}],\"tools\":[{\"type\":\"function\",\"function\":"
          "{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}}}],"
          "\"documents\":[{\"title\":\"d\",\"text\":\"t\"}],\"add_generation_prompt\":false,"
          "\"chat_template_kwargs\":{\"extra_k\":[1,2.5,\"s\"],\"bos_token\":\"B\"}}", 1);
    check("{\"messages\":[{\"role\":\"user\",\"content\":\"t\"}],\"tools\":null,\"chat_template_kwargs\":null,"
          "\"add_generation_prompt\":1}", 1);
    /* more than 16 keys with duplicates (the hashed path) */
    char big[4096] = "{\"messages\":[{\"role\":\"user\",\"content\":\"big\",\"x\":{";
    for (int i = 0; i < 60; i++) {
        char kv[64];
        snprintf(kv, sizeof kv, "%s\"k%d\":%d", i ? "," : "", i % 23, i);
        strcat(big, kv);
    }
    strcat(big, "}}]}");
    check(big, 1);
    /* refused by the template context, not the JSON */
    check("[1,2]", 1);
    check("{}", 1);
    check(" {\n } ", 1);
    check("[]", 1);
    check("{\"messages\":{}}", 1);
    check("{\"messages\":[],\"chat_template_kwargs\":3}", 1);
    check("{\"messages\":[],\"chat_template_kwargs\":{\"range\":1}}", 1);
}

/* Nesting: n levels of arrays under key k (inside the first message when
 * in_msg). */
static char *nested(size_t n, int in_msg) {
    char *b = malloc(2 * n + 128);
    if (!b) return NULL;
    strcpy(b, in_msg ? "{\"messages\":[{\"role\":\"user\",\"content\":\"d\",\"x\":" : "{\"messages\":[],\"deep\":");
    size_t l = strlen(b);
    memset(b + l, '[', n);
    memset(b + l + n, ']', n);
    strcpy(b + l + 2 * n, in_msg ? "}]}" : "}");
    return b;
}

static void test_depth(void) {
    /* jansson refuses nesting beyond 2048; the context allows 512 levels */
    size_t sizes[] = {505, 508, 509, 510, 511, 512, 600, 2046, 2047, 2048};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int m = 0; m < 2; m++) {
            char *b = nested(sizes[i], m);
            if (!b) continue;
            int jok;
            TG_CHECK(agree(b, strlen(b), 0, &jok));
            free(b);
        }
}

static void test_refused(void) {
    static const char *const bad[] = {
        "", " ", "\"str\"", "1", "null", "{\"messages\":[]} x", "{\"messages\":[]}}", MSG("01"), MSG("1."),
        MSG(".5"), MSG("-"), MSG("+1"), MSG("1e"), MSG("1e+"), MSG("0x10"), MSG("\"\x01\""), MSG("\"\x1f\""),
        MSG("\"\\ud800\""), MSG("\"\\udc00\""), MSG("\"\\ud800\\u0041\""), MSG("\"\\ud800x\""),
        "{\"messages\":[],\"a\\u0000b\":1}", MSG("\"\xff\""), MSG("\"\xed\xa0\x80\""), MSG("\"\xc0\xaf\""),
        MSG("\"\xf4\x90\x80\x80\""), MSG("\"\xe6\x97\""), MSG("9223372036854775808"),
        MSG("-9223372036854775809"), MSG("1e999"), MSG("-1e999"), MSG("tru"), MSG("nul"), MSG("True"),
        "{\"messages\":[1,]}", "{,}", "{\"a\" 1}", "{\"a\":1,}", MSG("\"\\x\""), MSG("\"\\u12\""),
        MSG("\"\\u12g4\""), MSG("\"unterminated"), "{\"messages\":[", "{'a':1}", "{\"a\":NaN}",
        "{\"a\":Infinity}", "\xef\xbb\xbf{}", "{\"a\":1}\x00"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = strlen(bad[i]) + (i == sizeof bad / sizeof *bad - 1 ? 1 : 0);
        int jok = -1;
        TG_CHECK(agree(bad[i], len, 0, &jok));
        if (jok) fprintf(stderr, "jansson accepts case %zu\n", i);
        TG_CHECK_EQ_I(jok, 0);
    }
    char *b = nested(2049, 1);
    if (b) {
        int jok;
        TG_CHECK(agree(b, strlen(b), 0, &jok));
        TG_CHECK_EQ_I(jok, 0);
        free(b);
    }
}

int main(void) {
    tg_error err = {0};
    if (tg_chat_from_source(TPL, sizeof TPL - 1, "<s>", "</s>", &chat, &err) != TG_OK) {
        fprintf(stderr, "template: %s\n", err.msg);
        return 1;
    }
    TG_RUN(test_accepted);
    TG_RUN(test_depth);
    TG_RUN(test_refused);
    TG_RUN(test_raw_nul);
    tg_chat_free(chat);
    return tg_test_summary();
}
