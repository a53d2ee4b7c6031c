/*
 * fuzz_chat_body.c: tg_chat_render_body (template/chat_body.c, a chat request
 * parsed in place from its bytes) against the chain it stands in for,
 * json_loadb (JSON_ALLOW_NUL, as the gateway reads bodies) then
 * tg_chat_render, with a template that prints every message, tools,
 * documents and the context keys (tojson included).
 *
 * Input: the request body, byte for byte.
 *
 * Invariants (abort on violation): where jansson refuses the bytes the body
 * path refuses them too ("request JSON: ..."); where jansson accepts them
 * both paths give the same status, and then the same prompt bytes or the
 * same error message. ASan/UBSan catch reads past the body (strings are
 * NUL-terminated in the copy) and the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tokgate/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static const char TPL[] =
    "{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m | tojson }}|{{ m.n is integer }}"
    "{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}]\n{% endfor %}"
    "{{ tools | tojson }}|{{ documents | tojson }}|{{ add_generation_prompt }}|{{ bos_token }}|{{ eos_token }}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_chat *chat;
    tg_error err = {0};
    if (!chat && tg_chat_from_source(TPL, sizeof TPL - 1, "<s>", "</s>", &chat, &err) != TG_OK) abort();
    if (size > 64 * 1024) return 0;
    const char *body = (const char *)data;
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.render.now = 1752494400;
    opt.render.limits.max_iterations = 100000;
    opt.render.limits.max_output = 1u << 22;
    tg_error e1 = {0}, e2 = {0};
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    json_t *req = json_loadb(size ? body : "", size, JSON_ALLOW_NUL, NULL);
    tg_status sb = tg_chat_render_body(chat, size ? body : "", size, &opt, &b, &nb, &e2);
    if (!req) {
        CHECK(sb == TG_EINVAL);
        CHECK(strncmp(e2.msg, "request JSON", 12) == 0);
    } else {
        tg_status sa = tg_chat_render(chat, req, &opt, &a, &na, &e1);
        if (sa != sb) fprintf(stderr, "json %d [%s] body %d [%s]\n", sa, e1.msg, sb, e2.msg);
        CHECK(sa == sb);
        if (sa) CHECK(strcmp(e1.msg, e2.msg) == 0);
        else CHECK(na == nb && memcmp(a, b, na) == 0);
    }
    json_decref(req);
    free(a);
    free(b);
    return 0;
}
