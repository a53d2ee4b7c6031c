/* fuzz_template.c: libFuzzer target for the chat-template renderer.
 *
 * Input: first byte selects the mode.
 *   even: the rest is a template, rendered against a small fixed chat context
 *         (messages with a tool call, tools, add_generation_prompt, tokens);
 *   odd:  the rest is "template \0 JSON context"; a context that is not a JSON
 *         object falls back to the fixed one.
 * Limits are small (1 MiB output, 20000 iterations, 64 MiB memory) so hostile
 * templates stop quickly.
 * Invariants: a parse failure is TG_EINVAL or TG_ELIMIT with a message naming
 * the template line; a render failure has a message; a success returns a
 * NUL-terminated buffer within the output limit that is valid UTF-8 (the
 * template is checked UTF-8, JSON strings are UTF-8, and every string
 * operation works on whole code points), and rendering again gives the same
 * bytes. A rendered prompt (up to 64 KiB) is also counted with a built-in
 * tokenizer (builtin_tokenizer.h: "<s>", "</s>", "<|im_start|>", ... are
 * special) through a fresh count cache, cold and warm: its first half, then
 * the whole prompt (which takes over the half's prefix), then the whole
 * again; each count must equal the whole count.
 * ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tokgate/template.h"
#include "util/utf8.h"
#include "builtin_tokenizer.h"

static const char FIXED_CTX[] =
    "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
    " {\"role\": \"user\", \"content\": \"Hi \\u00e9\\ud83d\\ude80 {{x}}\"},"
    " {\"role\": \"assistant\", \"content\": \"\", \"reasoning_content\": \"think\","
    "  \"tool_calls\": [{\"id\": \"c1\", \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {\"a\": [1, 2.5, null]}}}]},"
    " {\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"{\\\"ok\\\": true}\"},"
    " {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"part\"}]}],"
    " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\"}}}],"
    " \"documents\": null, \"add_generation_prompt\": true, \"bos_token\": \"<s>\", \"eos_token\": \"</s>\","
    " \"enable_thinking\": false}";

static json_t *fixed_ctx(void) {
    static json_t *ctx;
    if (!ctx) ctx = json_loads(FIXED_CTX, 0, NULL);
    return ctx;
}

/* Cached counts (cold and warm) of a rendered prompt equal the whole count. */
static void check_counts(const char *out, size_t n) {
    static tg_tokenizer *tok;
    tg_count_cache *cache = NULL;
    tg_error err;
    if (!tok) tok = tgf_builtin_tokenizer();
    if (tg_count_cache_new(tok, 4096, &cache, &err) != TG_OK) abort();
    size_t half = n / 2;
    while (half > 0 && ((unsigned char)out[half] & 0xC0) == 0x80) half--; /* whole code points */
    const size_t lens[] = {half, n, n};
    for (size_t i = 0; i < 3; i++) {
        size_t whole = 0, cached = 0;
        if (tg_tokenizer_count(tok, out, lens[i], TG_ENCODE_ADD_SPECIAL, &whole, &err) != TG_OK) abort();
        if (tg_count_cache_count(cache, out, lens[i], TG_ENCODE_ADD_SPECIAL, &cached, &err) != TG_OK) abort();
        if (cached != whole) abort();
    }
    tg_count_cache_free(cache);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 256 * 1024) return 0;
    int split = data[0] & 1;
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    json_t *own = NULL;
    const json_t *ctx = fixed_ctx();
    if (split) {
        const char *nul = memchr(src, '\0', len);
        if (nul) {
            size_t tl = (size_t)(nul - src);
            own = json_loadb(nul + 1, len - tl - 1, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
            if (own && json_is_object(own)) ctx = own;
            len = tl;
        }
    }
    tg_error err = {0};
    tg_template *t = NULL;
    tg_status st = tg_template_parse(src, len, &t, &err);
    if (st) {
        if (st != TG_EINVAL && st != TG_ELIMIT && st != TG_ENOMEM) abort();
        if (st == TG_EINVAL && !strstr(err.msg, "line ")) abort();
        json_decref(own);
        return 0;
    }
    tg_render_options opt;
    memset(&opt, 0, sizeof opt);
    opt.limits.max_output = 1u << 20;
    opt.limits.max_iterations = 20000;
    opt.limits.max_memory = 64u << 20;
    opt.now = 1752494400;
    char *out = NULL, *out2 = NULL;
    size_t n = 0, n2 = 0;
    st = tg_template_render(t, ctx, &opt, &out, &n, &err);
    if (st) {
        if (err.msg[0] == '\0' || out != NULL) abort();
    } else {
        size_t bad;
        if (!out || out[n] != '\0' || n > opt.limits.max_output) abort();
        if (!tgx_utf8_valid((const uint8_t *)out, n, &bad)) abort();
        tg_error err2 = {0};
        if (tg_template_render(t, ctx, &opt, &out2, &n2, &err2) != TG_OK) abort();
        if (n2 != n || memcmp(out, out2, n) != 0) abort();
        if (n <= 64 * 1024) check_counts(out, n);
    }
    free(out);
    free(out2);
    tg_template_free(t);
    json_decref(own);
    return 0;
}
