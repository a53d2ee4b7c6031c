/*
 * template/chat_llamacpp_fam.c: the template families llama-server renders
 * through code of its own (common_chat_try_specialized_template in
 * common/chat.cpp, one init function per family in common/parsers/ (one .cpp per family),
 * llama.cpp 0.5.0-dev as in the test fixtures), re-implemented for the
 * TG_CHAT_LLAMACPP dialect (chat_llamacpp.c) so their counts are exact
 * instead of refused. What each family does to the prompt:
 *
 *  - every family renders the template as the generic path does
 *    (common_chat_template_direct_apply_impl) with the same rebuilt messages;
 *    what differs is listed here. A family not listed below with a prefill
 *    rule refuses a trailing assistant message (prefill), and Ministral 3,
 *    LFM2 / LFM2.5 and DeepSeek V3.2 (messages rewritten further) are refused.
 *  - gpt-oss (parsers/gpt-oss.cpp, common_chat_params_init_gpt_oss): each
 *    message's reasoning_content is copied to "thinking", and a message with
 *    tool calls and reasoning loses its content; without a generation prompt
 *    the last "<|return|>" becomes "<|end|>".
 *  - Gemma 4 (parsers/gemma4.cpp): a template without the "{#- OpenAI Chat
 *    Completions:" block (the older one, as in ggml-vocab-gemma-4.gguf) gets
 *    its tool turns folded (workaround::convert_tool_responses_gemma4): an
 *    assistant message with tool calls, the tool messages after it and a
 *    following assistant message with content and no tool calls become one
 *    assistant message {role, tool_calls, tool_responses [{name, response}],
 *    content, reasoning_content}; a response is the tool content parsed as
 *    JSON (else the string), named by the matching call (else the
 *    tool_call_id). With a generation prompt, a render ending "<turn|>\n" gets
 *    "<|turn>model\n" appended.
 *  - prefill (a trailing assistant message continued): the render of the
 *    messages before it, then the family's own text: PREFIX + THINK_START +
 *    reasoning, and when the message has content (or no reasoning) THINK_END
 *    + content (has_continuation / COMMON_CHAT_CONTINUATION_AUTO).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "template/chat.h"
#include "util/buf.h"

/* Continuation text per family (the init functions' has_continuation blocks). */
static const struct {
    const char *name, *prefix, *think_start, *think_end;
} prefills[] = {
    {"gpt-oss", "", "<|start|>assistant<|channel|>analysis<|message|>",
     "<|end|><|start|>assistant<|channel|>final<|message|>"},
    {"Gemma 4", NULL /* "<|turn>model\n" after "<turn|>\n" */, "<|channel>thought\n", "<channel|>"},
    {"Qwen3-Coder", "<|im_start|>assistant\n", "<think>\n", "\n</think>\n\n"},
    {"Kimi K2", "<|im_assistant|>assistant<|im_middle|>", "<think>", "</think>"},
    {"Kimi K3", "<|open|>message role=\"assistant\"<|sep|>", "<|open|>think<|sep|>",
     "<|close|>think<|sep|><|open|>response<|sep|>"},
    {"MiniCPM5", "<|im_start|>assistant\n<think>\n", "", "\n</think>\n\n"},
};

int tg__j_fam_refused(const tg__j_caps *caps) {
    const char *s = caps->specialized;
    return s && (strcmp(s, "Ministral 3") == 0 || strcmp(s, "LFM2") == 0 || strcmp(s, "DeepSeek V3.2") == 0);
}

static int fam_is(const tg__j_caps *caps, const char *name) {
    return caps->specialized && strcmp(caps->specialized, name) == 0;
}

int tg__j_fam_prefill(const tg__j_caps *caps) {
    for (size_t i = 0; i < sizeof prefills / sizeof prefills[0]; i++)
        if (fam_is(caps, prefills[i].name)) return (int)i;
    return -1;
}

/* gpt-oss: reasoning_content -> thinking (content dropped beside tool calls). */
static int gpt_oss_messages(json_t *msgs) {
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        json_t *rc = json_object_get(m, "reasoning_content");
        if (!json_is_string(rc)) continue;
        if (json_object_set(m, "thinking", rc)) return 1;
        const json_t *tc = json_object_get(m, "tool_calls");
        if (json_is_array(tc) && json_array_size(tc) > 0) json_object_del(m, "content");
    }
    return 0;
}

static int has_content(const json_t *m) {
    const json_t *c = json_object_get(m, "content");
    return (json_is_string(c) && json_string_length(c) > 0) || (json_is_array(c) && json_array_size(c) > 0);
}

static int has_calls(const json_t *m) {
    const json_t *tc = json_object_get(m, "tool_calls");
    return json_is_array(tc) && json_array_size(tc) > 0;
}

static int role_of(const json_t *m, const char *r) {
    const char *s = json_string_value(json_object_get(m, "role"));
    return s && strcmp(s, r) == 0;
}

/* One tool result as {name, response} (gemma4_model_turn_builder::collect_result). */
static json_t *tool_response(const json_t *tool, const json_t *calls, size_t idx) {
    const json_t *c = json_object_get(tool, "content");
    json_t *resp = NULL;
    if (json_is_string(c)) resp = json_loadb(json_string_value(c), json_string_length(c), JSON_DECODE_ANY, NULL);
    if (!resp) resp = c ? json_deep_copy(c) : json_null();
    const char *name = "";
    if (idx < json_array_size(calls)) {
        const char *n = json_string_value(json_object_get(json_object_get(json_array_get(calls, idx), "function"), "name"));
        if (n) name = n;
    }
    if (!*name) {
        const char *id = json_string_value(json_object_get(tool, "tool_call_id"));
        if (id) name = id;
    }
    return resp ? json_pack("{s:s,s:o}", "name", name, "response", resp) : NULL;
}

/* Gemma 4 (older template): assistant(tool_calls) + tool* + assistant(content)
 * folded into one assistant message. 1 when memory ran out. */
static int gemma4_fold(json_t *msgs) {
    json_t *out = json_array();
    size_t i = 0, n = json_array_size(msgs);
    while (out && i < n) {
        json_t *m = json_array_get(msgs, i);
        if (!role_of(m, "assistant") || !has_calls(m)) {
            if (json_array_append(out, m)) break;
            i++;
            continue;
        }
        json_t *calls = json_object_get(m, "tool_calls"), *resps = json_array();
        json_t *msg = json_pack("{s:s,s:O}", "role", "assistant", "tool_calls", calls);
        json_t *rc = json_object_get(m, "reasoning_content");
        int bad = !resps || !msg;
        for (i++; !bad && i < n && role_of(json_array_get(msgs, i), "tool"); i++)
            bad = json_array_append_new(resps, tool_response(json_array_get(msgs, i), calls, json_array_size(resps)));
        if (!bad && json_array_size(resps) > 0) bad = json_object_set(msg, "tool_responses", resps);
        if (!bad && i < n && role_of(json_array_get(msgs, i), "assistant") && !has_calls(json_array_get(msgs, i)) &&
            has_content(json_array_get(msgs, i)))
            bad = json_object_set(msg, "content", json_object_get(json_array_get(msgs, i++), "content"));
        if (!bad && json_is_string(rc)) bad = json_object_set(msg, "reasoning_content", rc);
        json_decref(resps);
        if (bad || json_array_append_new(out, msg)) {
            if (bad) json_decref(msg);
            break;
        }
    }
    int bad = !out || i < n || json_array_clear(msgs) || json_array_extend(msgs, out);
    json_decref(out);
    return bad;
}

tg_status tg__j_fam_messages(const tg__j_caps *caps, json_t *msgs, tg_error *err) {
    int bad = 0;
    if (fam_is(caps, "gpt-oss")) bad = gpt_oss_messages(msgs);
    else if (fam_is(caps, "Gemma 4") && caps->gemma4_old) bad = gemma4_fold(msgs);
    return bad ? tg_error_set(err, TG_ENOMEM, "chat request: out of memory") : TG_OK;
}

static int ends_with(const char *p, size_t n, const char *s) {
    size_t m = strlen(s);
    return p && n >= m && memcmp(p + n - m, s, m) == 0;
}

tg_status tg__j_fam_finish(const tg__j_caps *caps, int agp, const json_t *cont, const json_t *cont_reasoning,
                           char **p, size_t *pl, tg_error *err) {
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 30);
    int bad = tgx_buf_append(&b, *p, *pl);
    if (fam_is(caps, "gpt-oss") && !agp && b.data) {
        /* the last "<|return|>" -> "<|end|>" */
        static const char ret[] = "<|return|>", end[] = "<|end|>";
        for (size_t k = b.len >= 10 ? b.len - 10 + 1 : 0; k-- > 0;)
            if (memcmp(b.data + k, ret, 10) == 0) {
                memcpy(b.data + k, end, 7);
                memmove(b.data + k + 7, b.data + k + 10, b.len - k - 10);
                b.len -= 3;
                break;
            }
    }
    int gem = fam_is(caps, "Gemma 4");
    if (gem && agp && !cont && ends_with(b.data, b.len, "<turn|>\n")) bad |= tgx_buf_append(&b, "<|turn>model\n", 13);
    int f = cont ? tg__j_fam_prefill(caps) : -1;
    if (f >= 0) {
        const char *rs = json_string_value(cont_reasoning);
        size_t rl = rs ? json_string_length(cont_reasoning) : 0;
        /* COMMON_CHAT_CONTINUATION_AUTO: reasoning only when there is reasoning and no content */
        int content_mode = !(rl > 0 && json_string_length(cont) == 0);
        const char *pre = prefills[f].prefix ? prefills[f].prefix
                          : ends_with(b.data, b.len, "<turn|>\n") ? "<|turn>model\n" : "";
        /* Qwen3-Coder without "<think>" in its source prints no reasoning section */
        int think = !fam_is(caps, "Qwen3-Coder") || caps->think_tag;
        bad |= tgx_buf_append(&b, pre, strlen(pre));
        if (think) {
            bad |= tgx_buf_append(&b, prefills[f].think_start, strlen(prefills[f].think_start));
            if (rl) bad |= tgx_buf_append(&b, rs, rl);
        }
        if (content_mode) {
            if (think) bad |= tgx_buf_append(&b, prefills[f].think_end, strlen(prefills[f].think_end));
            if (json_string_length(cont)) bad |= tgx_buf_append(&b, json_string_value(cont), json_string_length(cont));
        }
    }
    if (bad || !b.data) { /* data is NUL-terminated once anything was appended */
        tgx_buf_free(&b);
        return tg_error_set(err, TG_ENOMEM, "chat request: out of memory");
    }
    free(*p);
    *p = b.data;
    *pl = b.len;
    return TG_OK;
}
