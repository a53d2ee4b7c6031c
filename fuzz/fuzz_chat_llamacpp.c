/* fuzz_chat_llamacpp.c: libFuzzer target for the llama-server chat dialect
 * (TG_CHAT_LLAMACPP, src/template/chat_llamacpp.c): the request rewriting
 * (message parsing, content parts, prefill, system merging, tool-call
 * arguments, tools, chat_template_kwargs) over outside request JSON.
 *
 * Input: first byte picks one of four fixed templates (ChatML with tools and
 * tojson arguments; no system role, raising on one; typed-content only;
 * Llama-2 style with BOS); the rest is the request JSON (not JSON: ignored).
 * Rendered with add_bos and add_eos on.
 * Invariants: a failure has a message and no output; a success is a
 * NUL-terminated valid UTF-8 buffer, the same bytes when rendered again, and
 * the context call agrees on success. ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tokgate/template.h"
#include "util/utf8.h"

static const char *const TEMPLATES[4] = {
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}{% if m.tool_calls %}{% for tc in m.tool_calls %}"
    "{{ tc.function.name }}{{ tc.function.arguments | tojson }}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if tools %}{{ tools | tojson }}{% endif %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system') }}{% endif %}"
    "<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}",
    "{% for m in messages %}[{{ m.role }}]{% for p in m.content %}{% if p.type == 'text' %}{{ p.text }}{% endif %}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}",
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'user' %}[INST] {{ m.content }} [/INST]{% else %} "
    "{{ m.content }}{{ eos_token }}{% endif %}{% endfor %}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static tg_chat *chats[4];
    if (size < 1 || size > 256 * 1024) return 0;
    size_t which = data[0] & 3u;
    if (!chats[which]) {
        tg_error e = {0};
        if (tg_chat_from_source(TEMPLATES[which], strlen(TEMPLATES[which]), "<s>", "</s>", &chats[which], &e)) abort();
    }
    json_t *req = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_INT_AS_REAL, NULL);
    if (!req) return 0;
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = TG_CHAT_LLAMACPP;
    opt.add_bos = opt.add_eos = 1;
    opt.render.now = 1752494400;
    opt.render.limits.max_output = 1u << 20;
    opt.render.limits.max_iterations = 20000;
    opt.render.limits.max_memory = 64u << 20;
    tg_error err = {0}, err2 = {0};
    char *out = NULL, *out2 = NULL;
    size_t n = 0, n2 = 0;
    tg_status st = tg_chat_render(chats[which], req, &opt, &out, &n, &err);
    if (st) {
        if (err.msg[0] == '\0' || out != NULL) abort();
    } else {
        size_t bad;
        if (!out || out[n] != '\0' || !tgx_utf8_valid((const uint8_t *)out, n, &bad)) abort();
        if (tg_chat_render(chats[which], req, &opt, &out2, &n2, &err2) != TG_OK) abort();
        if (n2 != n || memcmp(out, out2, n) != 0) abort();
        json_t *ctx = NULL;
        const tg_template *tpl = NULL;
        if (tg_chat_context(chats[which], req, &opt, &ctx, &tpl, &err2) != TG_OK || !ctx || !tpl) abort();
        json_decref(ctx);
    }
    free(out);
    free(out2);
    json_decref(req);
    return 0;
}
