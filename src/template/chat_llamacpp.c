/*
 * template/chat_llamacpp.c: the TG_CHAT_LLAMACPP dialect, a chat request as
 * llama-server's /v1/chat/completions turns it into a prompt, so that the
 * count tokgate computes equals llama-server's usage.prompt_tokens.
 *
 * The spec is llama.cpp's source (common/chat.cpp, common/jinja/caps.cpp,
 * tools/server/server-common.cpp, version 0.5.0-dev as installed in the test
 * fixtures); this file re-implements its rules on jansson values:
 *
 *  1. Messages are parsed as common_chat_msgs_parse_oaicompat does (errors
 *     for a missing role, content that is neither string, list nor null,
 *     content parts other than "text"/"media_marker", tool calls that are not
 *     functions, a message with neither content nor tool_calls) and rebuilt as
 *     common_chat_msg::to_json_oaicompat: role, content (the string; or the
 *     parts; "" when empty or null), reasoning_content / name / tool_call_id
 *     when non-empty, tool_calls as {type, function {name, arguments}, id}
 *     with arguments as a string (objects dumped as compact JSON). Other keys
 *     are dropped.
 *  2. Content normalisation by the template's capabilities: a template that
 *     only prints string content gets typed parts joined with "\n" (no
 *     newline around media markers); one that only reads typed content gets
 *     strings wrapped as [{type: text, text}].
 *  3. Prefill: a trailing assistant message (when the body has no
 *     continue_final_message) is continued: the prompt is the render of the
 *     messages before it without a generation prompt, plus the generation
 *     prompt (the difference between renders with and without it), plus the
 *     message's text (parts joined with "\n\n"). Two trailing assistant
 *     messages, or one with tool calls, are errors as in llama-server.
 *  4. "developer" -> "system" (unless the template has "<|channel|>").
 *  5. A template without a system role: a leading system message is merged
 *     into the next ("SYSTEM\nUSER"), or dropped when it is alone.
 *  6. A template that reads tool-call arguments as objects gets them parsed.
 *  7. tools rebuilt as {type: function, function {name, description,
 *     parameters}} (absent when empty).
 *  8. Context: messages, bos_token, eos_token, enable_thinking (true when the
 *     template supports thinking, overridden by chat_template_kwargs or
 *     reasoning_effort "none"), tools, datetime ("%b %d %Y"), date_string
 *     ("%d %b %Y"), each chat_template_kwargs key, add_generation_prompt only
 *     when true; preserve_reasoning / reasoning_effort set their aliases.
 *  9. A BOS the render starts with is removed when the tokenizer adds BOS
 *     (an EOS it ends with, when it adds EOS).
 * Template families that llama-server renders through its own code
 * (common_chat_try_specialized_template: gpt-oss, Gemma 4, Qwen3-Coder, Kimi
 * K2, ...) get that code's rules from chat_llamacpp_fam.c; the few still
 * refused there (Ministral 3, LFM2, DeepSeek V3.2) fail with TG_EUNSUPPORTED
 * rather than counted wrong, and so do prefills on generic templates with a
 * thinking section, whose continuation llama.cpp builds from its template
 * analysis. Every render runs in the llama.cpp-semantics mode of the
 * renderer (tg_render_options.llamacpp, llamacpp_sem.c), as llama-server
 * renders with llama.cpp's own Jinja engine.
 *
 * Capabilities (tg__j_caps_detect): llama.cpp records which values the
 * template touches while rendering probe conversations; tokgate renders the
 * same probes with marker strings and looks for them in the output.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "template/chat.h"
#include "util/buf.h"

/* ---- capabilities ------------------------------------------------------ */

/* Renders ctx_json (a JSON text) with t; returns the output or NULL (the
 * template cannot render it). *oom is set when memory ran out: then the
 * probe says nothing about the template. */
static char *probe(const tg_template *t, const char *ctx_json, int *oom) {
    json_t *ctx = json_loads(ctx_json, 0, NULL);
    if (!ctx) {
        *oom = 1; /* the probes are valid JSON */
        return NULL;
    }
    char *out = NULL;
    size_t n = 0;
    tg_error e = {0};
    tg_render_options ro;
    memset(&ro, 0, sizeof ro);
    ro.now = 1700000000;
    ro.llamacpp = 1; /* llama.cpp probes with its own engine */
    ro.limits.max_output = 1u << 20;
    tg_status st = tg_template_render(t, ctx, &ro, &out, &n, &e);
    if (st != TG_OK) out = NULL;
    if (st == TG_ENOMEM) *oom = 1;
    json_decref(ctx);
    return out;
}

static int has(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }
static int has_n(const char *s, size_t n, const char *needle) {
    size_t m = strlen(needle);
    if (m > n) return 0;
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(s + i, needle, m) == 0) return 1;
    return 0;
}

#define PROBE_HEAD "{\"bos_token\": \"\", \"eos_token\": \"\", \"add_generation_prompt\": true, "
/* caps_try_execute gives "tools": [] unless the probe has tools of its own. */
#define PROBE_NO_TOOLS PROBE_HEAD "\"tools\": [], "
#define PROBE_TOOLS                                                                                          \
    "\"tools\": [{\"name\": \"tool\", \"type\": \"function\", \"function\": {\"name\": \"tool1\", "         \
    "\"description\": \"Tool description\", \"parameters\": {\"type\": \"object\", \"properties\": "        \
    "{\"arg\": {\"type\": \"string\", \"description\": \"Arg description\"}}, \"required\": [\"arg\"]}}}], "
#define PROBE_CALL(ARGS)                                                                                     \
    "\"messages\": [{\"role\": \"user\", \"content\": \"User message\"}, {\"role\": \"assistant\", "       \
    "\"content\": \"\", \"tool_calls\": [{\"id\": \"call00001\", \"type\": \"function\", \"function\": "   \
    "{\"name\": \"tool1\", \"arguments\": " ARGS "}}]}, {\"role\": \"tool\", \"content\": \"Tool "         \
    "response\", \"tool_call_id\": \"call00001\"}, {\"role\": \"assistant\", \"content\": \"The tool "     \
    "response was 'tool response'\"}, {\"role\": \"user\", \"content\": \"User message\"}]}"

/* Families common_chat_try_specialized_template renders with its own code:
 * all of `all` present and `none` absent (NULL: no condition). */
static const struct { const char *name, *all[3], *none; } specialized[] = {
    {"Ministral 3", {"[SYSTEM_PROMPT]", "[TOOL_CALLS]", "[ARGS]"}, "[CALL_ID]"},
    {"gpt-oss", {"<|channel|>", NULL, NULL}, NULL},
    {"Muse Glimmer", {"<atem:function_calls>", "<|eom|>", NULL}, NULL},
    {"Functionary v3.2", {">>>all", ">>>${recipient}", NULL}, NULL},
    {"Kimi K2", {"<|tool_calls_section_begin|>", "<|tool_call_begin|>", NULL}, NULL},
    {"Kimi K3", {"<|open|>", "<|close|>", "<|end_of_msg|>"}, NULL},
    {"Ling 3", {"<role>ASSISTANT</role>", "<arg_key>", NULL}, NULL},
    {"Cohere2 MoE", {"<|START_TEXT|>", "<|START_ACTION|>", NULL}, NULL},
    {"LFM2", {"<|tool_list_start|>", NULL, NULL}, NULL},
    {"LFM2", {"List of tools: [", NULL, NULL}, "<|tool_list_start|>"},
    {"GigaChat v3", {"<|role_sep|>", "<|message_sep|>", NULL}, "<|function_call|>"},
    {"MiniMax M3", {"]<]minimax[>[", "<tool_call>", "<invoke name="}, NULL},
    {"DeepSeek V3.2", {"dsml_token", "DSML", NULL}, NULL},
    {"Gemma 4", {"'<|tool_call>call:'", NULL, NULL}, NULL},
    {"MiniCPM5", {"Tool usage guidelines:", "<function name=\"", "<param name=\""}, NULL},
    {"Qwen3-Coder", {"<tool_call>", "<function=", "<parameter="}, "'<tool_call><function=' ~ tool_call.name ~ '>'"},
};

tg_status tg__j_caps_detect(const tg_template *t, const char *src, size_t len, tg__j_caps *caps) {
    int oom = 0;
    memset(caps, 0, sizeof *caps);
    caps->string_content = 1;
    caps->system_role = 1;
    caps->channel = has_n(src, len, "<|channel|>");
    caps->trim_content = has_n(src, len, "You have access to the following functions in JSONSchema format");
    caps->think_tag = has_n(src, len, "<think>");
    caps->gemma4_old = !has_n(src, len, "{#- OpenAI Chat Completions:");
    for (size_t i = 0; i < sizeof specialized / sizeof specialized[0] && !caps->specialized; i++) {
        int ok = 1;
        for (int k = 0; k < 3 && ok; k++)
            if (specialized[i].all[k] && !has_n(src, len, specialized[i].all[k])) ok = 0;
        if (ok && specialized[i].none && has_n(src, len, specialized[i].none)) ok = 0;
        if (ok) caps->specialized = specialized[i].name;
    }
    /* Typed content: the template reads content as a list (the text of a part
     * shows up, but not the printed part itself); string content: the string
     * renders (or the template does not read lists). */
    char *s = probe(t, PROBE_NO_TOOLS "\"messages\": [{\"role\": \"user\", \"content\": \"STRING_MARKER\"}]}", &oom);
    char *l = probe(t, PROBE_NO_TOOLS "\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", "
                                  "\"text\": \"TYPED_MARKER\"}]}]}", &oom);
    caps->typed_content = has(l, "TYPED_MARKER") && !has(l, "\"text\"") && !has(l, "'text'");
    if (!s || (caps->typed_content && !has(s, "STRING_MARKER"))) caps->string_content = 0;
    free(s);
    free(l);
    s = probe(t, PROBE_NO_TOOLS "\"messages\": [{\"role\": \"system\", \"content\": \"SYSTEM_MARKER\"}, "
                            "{\"role\": \"user\", \"content\": \"User message\"}]}", &oom);
    caps->system_role = has(s, "SYSTEM_MARKER");
    free(s);
    s = probe(t, PROBE_HEAD PROBE_TOOLS PROBE_CALL("{\"arg\": \"ARG_MARKER\"}"), &oom);
    caps->object_arguments = has(s, "ARG_MARKER") && !has(s, "[object Object]");
    free(s);
    /* Thinking: the generation prompt depends on enable_thinking. */
    s = probe(t, PROBE_NO_TOOLS "\"enable_thinking\": true, \"messages\": [{\"role\": \"user\", \"content\": \"test\"}]}", &oom);
    l = probe(t, PROBE_NO_TOOLS "\"enable_thinking\": false, \"messages\": [{\"role\": \"user\", \"content\": \"test\"}]}", &oom);
    caps->thinking = (s && l && strcmp(s, l) != 0) || has_n(src, len, "<think>");
    free(s);
    free(l);
    return oom ? TG_ENOMEM : TG_OK;
}

/* ---- compact JSON as llama.cpp's json dump() writes it ------------------ */

static int dump_compact(tgx_buf *b, const json_t *v) {
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_NULL: return tgx_buf_append(b, "null", 4);
    case JSON_TRUE: return tgx_buf_append(b, "true", 4);
    case JSON_FALSE: return tgx_buf_append(b, "false", 5);
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        return tgx_buf_append(b, tmp, strlen(tmp));
    case JSON_REAL: {
        double d = json_real_value(v);
        /* Requests are read with integers as reals: integral values print as
         * integers, others in the shortest form that reads back. */
        if (d == floor(d) && fabs(d) < 9.0e15) snprintf(tmp, sizeof tmp, "%.0f", d);
        else
            for (int p = 1; p <= 17; p++) {
                snprintf(tmp, sizeof tmp, "%.*g", p, d);
                if (strtod(tmp, NULL) == d) break;
            }
        return tgx_buf_append(b, tmp, strlen(tmp));
    }
    case JSON_STRING: {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        size_t n = json_string_length(v);
        if (tgx_buf_append(b, "\"", 1)) return 1;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = s[i];
            const char *esc = NULL;
            switch (ch) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default: break;
            }
            if (esc) {
                if (tgx_buf_append(b, esc, strlen(esc))) return 1;
            } else if (ch < 0x20) {
                snprintf(tmp, sizeof tmp, "\\u%04x", ch);
                if (tgx_buf_append(b, tmp, 6)) return 1;
            } else if (tgx_buf_append(b, (const char *)&s[i], 1)) return 1;
        }
        return tgx_buf_append(b, "\"", 1);
    }
    case JSON_ARRAY: {
        if (tgx_buf_append(b, "[", 1)) return 1;
        for (size_t i = 0; i < json_array_size(v); i++)
            if ((i && tgx_buf_append(b, ",", 1)) || dump_compact(b, json_array_get(v, i))) return 1;
        return tgx_buf_append(b, "]", 1);
    }
    case JSON_OBJECT: {
        if (tgx_buf_append(b, "{", 1)) return 1;
        const char *k;
        json_t *x;
        int first = 1;
        json_object_foreach((json_t *)(uintptr_t)v, k, x) {
            json_t *ks = json_string(k);
            int bad = !ks || (!first && tgx_buf_append(b, ",", 1)) || dump_compact(b, ks) ||
                      tgx_buf_append(b, ":", 1) || dump_compact(b, x);
            json_decref(ks);
            if (bad) return 1;
            first = 0;
        }
        return tgx_buf_append(b, "}", 1);
    }
    }
    return 1;
}

/* ---- request rewriting ------------------------------------------------- */

static int ws(unsigned char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

/* The string value v (a JSON string), trimmed when trim is set: v itself
 * (one more reference; string values are never changed in place) when
 * nothing is trimmed, else a copy without UTF-8 check (v is valid UTF-8 and
 * only ASCII whitespace is cut, so the rest is too): a long chat's contents
 * are neither copied nor validated again. */
static json_t *str_new(const json_t *v, int trim) {
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), n0 = n;
    if (trim) {
        while (n && ws((unsigned char)*s)) { s++; n--; }
        while (n && ws((unsigned char)s[n - 1])) n--;
    }
    if (n == n0) return json_incref((json_t *)(uintptr_t)v);
    return json_stringn_nocheck(s, n);
}

/* Text parts joined with `delim` (media markers without newlines around). */
static json_t *concat_parts(const json_t *parts, const char *delim, int markers) {
    tgx_buf b;
    tgx_buf_init(&b, (size_t)1 << 30);
    int last_marker = 0;
    size_t i;
    const json_t *p;
    json_array_foreach(parts, i, p) {
        const char *type = json_string_value(json_object_get(p, "type"));
        const json_t *text = json_object_get(p, "text");
        if (!type || !json_is_string(text)) continue;
        int nl;
        if (strcmp(type, "text") == 0) {
            nl = !last_marker && b.len > 0;
            last_marker = 0;
        } else if (markers && strcmp(type, "media_marker") == 0) {
            nl = 0;
            last_marker = 1;
        } else continue;
        if ((nl && tgx_buf_append(&b, delim, strlen(delim))) ||
            tgx_buf_append(&b, json_string_value(text), json_string_length(text))) {
            tgx_buf_free(&b);
            return NULL;
        }
    }
    json_t *r = json_stringn_nocheck(b.data ? b.data : "", b.len); /* valid UTF-8 strings and delim joined */
    tgx_buf_free(&b);
    return r;
}

#define FAIL(code, ...) do { st = tg_error_set(err, code, __VA_ARGS__); goto fail; } while (0)

/* Parses and rebuilds one message (rules 1 and 2); *out is new. */
static tg_status rebuild_message(const json_t *m, size_t idx, const tg__j_caps *caps, json_t **out, tg_error *err) {
    tg_status st = TG_OK;
    json_t *r = json_object(), *tcs = NULL, *c = NULL;
    if (!r) return tg_error_set(err, TG_ENOMEM, "chat request: out of memory");
    if (!json_is_object(m)) FAIL(TG_EINVAL, "chat request: messages[%zu] is not an object", idx);
    const json_t *role = json_object_get(m, "role");
    if (!json_is_string(role)) FAIL(TG_EINVAL, "chat request: messages[%zu] has no string 'role'", idx);
    const json_t *content = json_object_get(m, "content");
    const json_t *calls = json_object_get(m, "tool_calls");
    if (!content && !calls) FAIL(TG_EINVAL, "chat request: messages[%zu] has neither 'content' nor 'tool_calls'", idx);
    int trim = caps->trim_content;
    if (json_is_string(content) && json_string_length(content) > 0) {
        c = str_new(content, trim);
        if (!c) FAIL(TG_ENOMEM, "chat request: out of memory"); /* not "" below */
    } else if (json_is_array(content) && json_array_size(content) > 0) {
        int media = 0;
        size_t i;
        const json_t *p;
        c = json_array();
        if (!c) FAIL(TG_ENOMEM, "chat request: out of memory");
        json_array_foreach(content, i, p) {
            const char *type = json_string_value(json_object_get(p, "type"));
            const json_t *text = json_object_get(p, "text");
            if (!json_is_object(p) || !type)
                FAIL(TG_EINVAL, "chat request: messages[%zu].content[%zu] has no 'type'", idx, i);
            if (strcmp(type, "text") != 0 && strcmp(type, "media_marker") != 0)
                FAIL(TG_EUNSUPPORTED, "chat request: messages[%zu].content[%zu]: unsupported content part type '%s'",
                     idx, i, type);
            if (!json_is_string(text))
                FAIL(TG_EINVAL, "chat request: messages[%zu].content[%zu] has no string 'text'", idx, i);
            if (strcmp(type, "media_marker") == 0) media = 1;
            json_t *part = json_object();
            json_t *tx = str_new(text, trim && strcmp(type, "text") == 0);
            /* a *_new call takes its value even when it fails: tx, then part, handed over once */
            if (!part || !tx || json_object_set_new(part, "type", json_string(type))) {
                json_decref(part);
                json_decref(tx);
                FAIL(TG_ENOMEM, "chat request: out of memory");
            }
            if (json_object_set_new(part, "text", tx)) {
                json_decref(part);
                FAIL(TG_ENOMEM, "chat request: out of memory");
            }
            if (json_array_append_new(c, part)) FAIL(TG_ENOMEM, "chat request: out of memory");
        }
        if (media) {
            json_t *j = concat_parts(c, "\n", 1);
            json_decref(c);
            c = j;
            if (!c) FAIL(TG_ENOMEM, "chat request: out of memory");
        }
    } else if (content && !json_is_null(content) && !json_is_string(content) && !json_is_array(content)) {
        FAIL(TG_EINVAL, "chat request: messages[%zu].content is neither a string, a list nor null", idx);
    }
    if (!c) c = json_string("");
    /* Rule 2: normalisation by the template's content capabilities. */
    int only_string = caps->string_content && !caps->typed_content;
    int only_typed = !caps->string_content && caps->typed_content;
    if (only_string && json_is_array(c)) {
        json_t *j = concat_parts(c, "\n", 1);
        json_decref(c);
        c = j;
    } else if (only_typed && json_is_string(c)) {
        json_t *part = json_pack("{s:s,s:O}", "type", "text", "text", c);
        json_t *arr = part ? json_array() : NULL;
        if (arr && json_array_append_new(arr, part)) { json_decref(arr); arr = NULL; }
        else if (!arr) json_decref(part);
        json_decref(c);
        c = arr;
    }
    if (!c || json_object_set_new(r, "role", json_string(json_string_value(role)))) FAIL(TG_ENOMEM, "chat request: out of memory");
    int lost = json_object_set_new(r, "content", c);
    c = NULL; /* stolen, even on failure */
    if (lost) FAIL(TG_ENOMEM, "chat request: out of memory");
    static const char *const keys[] = {"reasoning_content", "name", "tool_call_id"};
    for (size_t k = 0; k < 3; k++) {
        const json_t *v = json_object_get(m, keys[k]);
        if (!v) continue;
        if (!json_is_string(v)) FAIL(TG_EINVAL, "chat request: messages[%zu].%s is not a string", idx, keys[k]);
        if (json_string_length(v) == 0) continue;
        json_t *sv = str_new(v, trim && k == 0);
        if (!sv || json_object_set_new(r, keys[k], sv)) FAIL(TG_ENOMEM, "chat request: out of memory");
    }
    if (calls) {
        if (!json_is_array(calls)) FAIL(TG_EINVAL, "chat request: messages[%zu].tool_calls is not a list", idx);
        tcs = json_array();
        if (!tcs) FAIL(TG_ENOMEM, "chat request: out of memory");
        size_t i;
        const json_t *tc;
        json_array_foreach(calls, i, tc) {
            const json_t *type = json_object_get(tc, "type"), *fn = json_object_get(tc, "function");
            if (!json_is_string(type) || strcmp(json_string_value(type), "function") != 0)
                FAIL(TG_EINVAL, "chat request: messages[%zu].tool_calls[%zu] is not of type \"function\"", idx, i);
            const json_t *name = json_object_get(fn, "name"), *args = json_object_get(fn, "arguments");
            if (!json_is_string(name) || !args)
                FAIL(TG_EINVAL, "chat request: messages[%zu].tool_calls[%zu].function lacks a string 'name' or "
                     "'arguments'", idx, i);
            json_t *a;
            if (json_is_string(args)) a = json_incref((json_t *)(uintptr_t)args);
            else {
                tgx_buf b;
                tgx_buf_init(&b, (size_t)1 << 30);
                a = dump_compact(&b, args) ? NULL : json_stringn(b.data ? b.data : "", b.len);
                tgx_buf_free(&b);
            }
            if (caps->object_arguments && a) {
                json_error_t je;
                json_t *o = json_loadb(json_string_value(a), json_string_length(a),
                                       JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &je);
                json_decref(a);
                if (!o)
                    FAIL(TG_EINVAL, "chat request: messages[%zu].tool_calls[%zu]: arguments are not JSON (%s)", idx, i,
                         je.text);
                a = o;
            }
            json_t *f = json_object(), *t = json_object();
            const json_t *id = json_object_get(tc, "id");
            int bad = !a || !f || !t || json_object_set_new(t, "type", json_string("function")) ||
                      json_object_set_new(f, "name", json_string(json_string_value(name))) ||
                      json_object_set_new(f, "arguments", json_incref(a)) ||
                      json_object_set_new(t, "function", json_incref(f));
            json_decref(a);
            json_decref(f); /* t holds it now (or it is released) */
            if (!bad && json_is_string(id) && json_string_length(id) > 0)
                bad = json_object_set_new(t, "id", json_string(json_string_value(id)));
            if (bad) { json_decref(t); FAIL(TG_ENOMEM, "chat request: out of memory"); }
            if (json_array_append_new(tcs, t)) FAIL(TG_ENOMEM, "chat request: out of memory");
        }
        if (json_array_size(tcs) > 0) {
            if (json_object_set_new(r, "tool_calls", tcs)) { tcs = NULL; FAIL(TG_ENOMEM, "chat request: out of memory"); }
        } else json_decref(tcs);
        tcs = NULL;
    }
    *out = r;
    return TG_OK;
fail:
    json_decref(c);
    json_decref(tcs);
    json_decref(r);
    return st;
}

/* Rebuilt tools (rule 7), or NULL with *st set on error / none. */
static tg_status rebuild_tools(const json_t *tools, json_t **out, tg_error *err) {
    *out = NULL;
    if (!tools || json_is_null(tools)) return TG_OK;
    if (!json_is_array(tools)) return tg_error_set(err, TG_EINVAL, "chat request: 'tools' is not a list");
    if (json_array_size(tools) == 0) return TG_OK;
    json_t *r = json_array();
    if (!r) return tg_error_set(err, TG_ENOMEM, "chat request: out of memory");
    size_t i;
    const json_t *t;
    json_array_foreach(tools, i, t) {
        const json_t *type = json_object_get(t, "type"), *fn = json_object_get(t, "function");
        const json_t *name = json_object_get(fn, "name");
        if (!json_is_string(type) || strcmp(json_string_value(type), "function") != 0 || !json_is_object(fn) ||
            !json_is_string(name)) {
            json_decref(r);
            return tg_error_set(err, TG_EINVAL, "chat request: tools[%zu] is not a function with a string name", i);
        }
        const json_t *desc = json_object_get(fn, "description"), *params = json_object_get(fn, "parameters");
        if (desc && !json_is_string(desc)) {
            json_decref(r);
            return tg_error_set(err, TG_EINVAL, "chat request: tools[%zu].function.description is not a string", i);
        }
        json_t *f = json_object(), *w = json_object();
        int bad = !f || !w || json_object_set_new(f, "name", json_string(json_string_value(name))) ||
                  json_object_set_new(f, "description", json_string(desc ? json_string_value(desc) : "")) ||
                  json_object_set_new(f, "parameters", params ? json_deep_copy(params) : json_object()) ||
                  json_object_set_new(w, "type", json_string("function"));
        if (!bad) { /* a *_new call takes its value even when it fails */
            bad = json_object_set_new(w, "function", f);
            f = NULL;
        }
        if (bad) {
            json_decref(f);
            json_decref(w);
        }
        if (bad || json_array_append_new(r, w)) {
            json_decref(r);
            return tg_error_set(err, TG_ENOMEM, "chat request: out of memory");
        }
    }
    *out = r;
    return TG_OK;
}

static int role_is(const json_t *m, const char *role) {
    const char *r = json_string_value(json_object_get(m, "role"));
    return r && strcmp(r, role) == 0;
}

/* What the llama.cpp pipeline needs besides the context. */
typedef struct lc_req {
    json_t *ctx;           /* context without add_generation_prompt */
    json_t *cont;          /* the continued (prefill) text, or NULL */
    json_t *cont_reasoning; /* its reasoning_content (a string), or NULL */
    int agp;               /* add_generation_prompt */
    const tg_template *tpl;
    const tg__j_caps *caps;
} lc_req;

static tg_status build(const tg_chat *c, const json_t *request, const tg_chat_options *opt, lc_req *q, tg_error *err) {
    memset(q, 0, sizeof *q);
    if (!json_is_object(request)) return tg_error_set(err, TG_EINVAL, "chat request: not a JSON object");
    const json_t *messages = json_object_get(request, "messages");
    if (!json_is_array(messages)) return tg_error_set(err, TG_EINVAL, "chat request: \"messages\" is not a list");
    const json_t *kwargs = json_object_get(request, "chat_template_kwargs");
    if (kwargs && !json_is_object(kwargs) && !json_is_null(kwargs))
        return tg_error_set(err, TG_EINVAL, "chat request: \"chat_template_kwargs\" is not an object");
    if (json_object_get(request, "continue_final_message"))
        return tg_error_set(err, TG_EUNSUPPORTED, "chat request: 'continue_final_message' is not supported for "
                                                  "llama-server counts");
    tg_status st;
    json_t *tools = NULL, *msgs = NULL, *ctx = NULL;
    if ((st = rebuild_tools(json_object_get(request, "tools"), &tools, err))) return st;
    size_t idx = 0;
    if ((st = tg__j_chat_pick(c, opt->template_name, tools != NULL, &idx, err))) goto fail;
    if (!c->tpls[idx]) {
        if (err) *err = c->errs[idx];
        st = c->errs[idx].code ? c->errs[idx].code : TG_EINVAL;
        goto fail;
    }
    q->tpl = c->tpls[idx];
    q->caps = &c->caps[idx];
    if (tg__j_fam_refused(q->caps))
        FAIL(TG_EUNSUPPORTED, "chat template: llama-server renders the %s family with its own code; no exact "
             "llama-server count", q->caps->specialized);
    msgs = json_array();
    if (!msgs) FAIL(TG_ENOMEM, "chat request: out of memory");
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m) {
        json_t *r = NULL;
        if ((st = rebuild_message(m, i, q->caps, &r, err))) goto fail;
        if (json_array_append_new(msgs, r)) FAIL(TG_ENOMEM, "chat request: out of memory");
    }
    const json_t *a = json_object_get(request, "add_generation_prompt");
    q->agp = a && json_is_boolean(a) ? json_is_true(a) : 1;
    if (opt->add_generation_prompt >= 0) q->agp = opt->add_generation_prompt;
    /* Rule 3: prefill. */
    size_t n = json_array_size(msgs);
    if (n > 0 && role_is(json_array_get(msgs, n - 1), "assistant") && opt->add_generation_prompt != 1) {
        if (n >= 2 && role_is(json_array_get(msgs, n - 2), "assistant"))
            FAIL(TG_EINVAL, "chat request: cannot have 2 or more assistant messages at the end of the list");
        if (json_object_get(json_array_get(msgs, n - 1), "tool_calls"))
            FAIL(TG_EINVAL, "chat request: cannot continue an assistant message that contains tool calls");
        /* The continued text is the request's own content (parts joined
         * with "\n\n", common_chat_msg::render_content), not the normalised one. */
        const json_t *oc = json_object_get(json_array_get(messages, n - 1), "content");
        q->cont = json_is_array(oc) ? concat_parts(oc, "\n\n", 0)
                  : json_is_string(oc) ? str_new(oc, q->caps->trim_content)
                                       : json_string("");
        if (!q->cont) FAIL(TG_ENOMEM, "chat request: out of memory");
        const json_t *orc = json_object_get(json_array_get(messages, n - 1), "reasoning_content");
        if (json_is_string(orc)) q->cont_reasoning = json_incref((json_t *)(uintptr_t)orc);
        json_array_remove(msgs, n - 1);
        q->agp = 0;
        if (q->caps->specialized && tg__j_fam_prefill(q->caps) < 0)
            FAIL(TG_EUNSUPPORTED, "chat request: a trailing assistant message (prefill) on a %s template; "
                 "llama-server's continuation for it is not reproduced", q->caps->specialized);
        if (q->caps->thinking && !q->caps->specialized)
            FAIL(TG_EUNSUPPORTED, "chat request: a trailing assistant message (prefill) on a template with a "
                 "thinking section; llama-server's continuation is not reproduced");
    }
    /* Rules 4 and 5. */
    json_array_foreach(msgs, i, m) {
        if (!q->caps->channel && role_is(m, "developer") && json_object_set_new((json_t *)(uintptr_t)m, "role", json_string("system")))
            FAIL(TG_ENOMEM, "chat request: out of memory");
    }
    if (!q->caps->system_role && json_array_size(msgs) > 0 && role_is(json_array_get(msgs, 0), "system")) {
        if (json_array_size(msgs) > 1) {
            json_t *s = json_object_get(json_array_get(msgs, 0), "content");
            json_t *u = json_array_get(msgs, 1), *uc = json_object_get(u, "content");
            if (!json_is_string(s) || !json_is_string(uc))
                FAIL(TG_EINVAL, "chat request: the template has no system role and the system message cannot be "
                     "merged into the next one (content is not a string)");
            size_t sl = json_string_length(s), ul = json_string_length(uc);
            char *j = malloc(sl + ul + 2);
            if (!j) FAIL(TG_ENOMEM, "chat request: out of memory");
            memcpy(j, json_string_value(s), sl);
            j[sl] = '\n';
            memcpy(j + sl + 1, json_string_value(uc), ul);
            int bad = json_object_set_new(u, "content", json_stringn_nocheck(j, sl + ul + 1)); /* two valid strings */
            free(j);
            if (bad) FAIL(TG_ENOMEM, "chat request: out of memory");
        }
        json_array_remove(msgs, 0);
    }
    if ((st = tg__j_fam_messages(q->caps, msgs, err))) goto fail;
    /* Rule 8: the context. */
    ctx = json_object();
    int bad = !ctx || json_object_set(ctx, "messages", msgs) ||
              json_object_set_new(ctx, "bos_token", json_string(tg_chat_bos_token(c))) ||
              json_object_set_new(ctx, "eos_token", json_string(tg_chat_eos_token(c)));
    int thinking = q->caps->thinking;
    const json_t *et = kwargs ? json_object_get(kwargs, "enable_thinking") : NULL;
    if (json_is_boolean(et)) thinking = json_is_true(et);
    else if (json_is_string(et)) FAIL(TG_EINVAL, "chat request: invalid type for \"enable_thinking\" (expected boolean, got string)");
    const json_t *effort = json_object_get(request, "reasoning_effort");
    if (json_is_string(effort) && strcmp(json_string_value(effort), "none") == 0) thinking = 0;
    bad |= json_object_set_new(ctx, "enable_thinking", json_boolean(thinking));
    if (tools) bad |= json_object_set(ctx, "tools", tools);
    time_t now = opt->render.now ? (time_t)opt->render.now : time(NULL);
    struct tm tm;
    char d1[64] = "", d2[64] = "";
    if (localtime_r(&now, &tm)) {
        strftime(d1, sizeof d1, "%b %d %Y", &tm);
        strftime(d2, sizeof d2, "%d %b %Y", &tm);
    }
    bad |= json_object_set_new(ctx, "datetime", json_string(d1));
    bad |= json_object_set_new(ctx, "date_string", json_string(d2));
    if (opt->extra && json_is_object(opt->extra)) bad |= json_object_update(ctx, (json_t *)(uintptr_t)opt->extra);
    if (kwargs && json_is_object(kwargs)) bad |= json_object_update(ctx, (json_t *)(uintptr_t)kwargs);
    if (json_is_string(effort) && json_string_length(effort) > 0 && strcmp(json_string_value(effort), "none") != 0)
        bad |= json_object_set(ctx, "reasoning_effort", (json_t *)(uintptr_t)effort);
    else if (json_is_string(effort) && strcmp(json_string_value(effort), "none") == 0) {
        bad |= json_object_set_new(ctx, "enable_thinking", json_false());
        json_object_del(ctx, "reasoning_effort");
    }
    const json_t *pr = json_object_get(ctx, "preserve_reasoning");
    if (json_is_boolean(pr)) {
        int on = json_is_true(pr);
        bad |= json_object_set_new(ctx, "preserve_thinking", json_boolean(on)) |
               json_object_set_new(ctx, "clear_thinking", json_boolean(!on)) |
               json_object_set_new(ctx, "truncate_history_thinking", json_boolean(!on)) |
               json_object_set_new(ctx, "drop_thinking", json_boolean(!on));
    }
    const json_t *re = json_object_get(ctx, "reasoning_effort");
    if (json_is_string(re) && json_string_length(re) > 0)
        bad |= json_object_set(ctx, "reasoning_strength", (json_t *)(uintptr_t)re);
    if (bad) FAIL(TG_ENOMEM, "chat request: cannot build the context");
    json_decref(msgs);
    json_decref(tools);
    q->ctx = ctx;
    return TG_OK;
fail:
    json_decref(q->cont);
    json_decref(q->cont_reasoning);
    q->cont = NULL;
    q->cont_reasoning = NULL;
    json_decref(ctx);
    json_decref(msgs);
    json_decref(tools);
    return st;
}

tg_status tg__j_llamacpp_context(const tg_chat *c, const json_t *request, const tg_chat_options *opt, json_t **ctx,
                                 const tg_template **tpl, tg_error *err) {
    lc_req q;
    tg_status st = build(c, request, opt, &q, err);
    if (st) return st;
    json_decref(q.cont);
    json_decref(q.cont_reasoning);
    if (q.agp && json_object_set_new(q.ctx, "add_generation_prompt", json_true())) {
        json_decref(q.ctx);
        return tg_error_set(err, TG_ENOMEM, "chat request: cannot build the context");
    }
    *ctx = q.ctx;
    *tpl = q.tpl;
    return TG_OK;
}

/* One render as common_chat_template_direct_apply (rule 9 included). */
static tg_status direct_apply(const tg_chat *c, const lc_req *q, int agp, const tg_chat_options *opt, char **out,
                              size_t *len, tg_error *err) {
    if (agp) {
        if (json_object_set_new(q->ctx, "add_generation_prompt", json_true()))
            return tg_error_set(err, TG_ENOMEM, "chat request: out of memory");
    } else json_object_del(q->ctx, "add_generation_prompt");
    tg_render_options ro = opt->render;
    ro.llamacpp = 1; /* llama-server renders with llama.cpp's own Jinja engine */
    tg_status st = tg_template_render(q->tpl, q->ctx, &ro, out, len, err);
    if (st) return st;
    const char *bos = tg_chat_bos_token(c), *eos = tg_chat_eos_token(c);
    size_t bl = strlen(bos), el = strlen(eos);
    if (opt->add_bos > 0 && bl && *len >= bl && memcmp(*out, bos, bl) == 0) {
        memmove(*out, *out + bl, *len - bl + 1);
        *len -= bl;
    }
    if (opt->add_eos > 0 && el && *len >= el && memcmp(*out + *len - el, eos, el) == 0) {
        *len -= el;
        (*out)[*len] = '\0';
    }
    return TG_OK;
}

tg_status tg__j_llamacpp_render(const tg_chat *c, const json_t *request, const tg_chat_options *opt, char **out,
                                size_t *out_len, tg_error *err) {
    lc_req q;
    tg_status st = build(c, request, opt, &q, err);
    if (st) return st;
    char *p = NULL, *g = NULL;
    size_t pl = 0, gl = 0;
    st = direct_apply(c, &q, q.agp, opt, &p, &pl, err);
    if (!st && q.caps->specialized) st = tg__j_fam_finish(q.caps, q.agp, q.cont, q.cont_reasoning, &p, &pl, err);
    else if (!st && q.cont) {
        /* Prefill: + generation prompt + the continued text. */
        st = direct_apply(c, &q, 1, opt, &g, &gl, err);
        if (!st) {
            size_t pre = 0;
            while (pre < pl && pre < gl && p[pre] == g[pre]) pre++;
            const json_t *text = q.cont;
            size_t tl = json_string_length(text);
            char *r = malloc(pl + (gl - pre) + tl + 1);
            if (!r) st = tg_error_set(err, TG_ENOMEM, "chat request: out of memory");
            else {
                memcpy(r, p, pl);
                memcpy(r + pl, g + pre, gl - pre);
                if (tl) memcpy(r + pl + gl - pre, json_string_value(text), tl);
                pl = pl + gl - pre + tl;
                r[pl] = '\0';
                free(p);
                p = r;
            }
        }
        free(g);
    }
    json_decref(q.cont);
    json_decref(q.cont_reasoning);
    json_decref(q.ctx);
    if (st) { free(p); return st; }
    *out = p;
    if (out_len) *out_len = pl;
    return TG_OK;
}
