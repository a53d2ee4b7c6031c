/*
 * summarize.c: the library's half of summarizing compaction (truncation
 * mode summarize, docs/policy.md). truncate.c decides which messages the
 * summary replaces (the turns drop_oldest_turns drops, with room kept for
 * the summary); this file is what the gateway needs around its extra call,
 * all pure: the summary call's body (a transcript of those messages under
 * the operator's prompt), the cache key of the exact prefix replaced, the
 * summary read from the upstream's answer, and the compacted chat (system
 * messages, one summary message, the kept messages byte for byte) with its
 * count. The gateway (src/gateway/summary.c) sends, caches and falls back.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"
#include "util/buf.h"

static const char default_prompt[] =
    "You compact a conversation that no longer fits the model's context. Summarize the "
    "conversation below so that the summary can replace it: keep the user's goals and "
    "constraints, decisions made, facts, names, file paths, numbers, code identifiers, the "
    "results of tool calls and open questions. Write plain text, no preamble.";

static const char summary_head[] = "Summary of the earlier conversation:\n";

const char *tg_summary_default_prompt(void) { return default_prompt; }

static const char *role_of(const json_t *m) {
    const char *r = json_string_value(json_object_get(m, "role"));
    return r ? r : "unknown";
}

/* A message's content as text: a string, or the "text" of its parts. */
static void put_content(tgx_buf *b, const json_t *c) {
    if (json_is_string(c)) {
        tgx_buf_append(b, json_string_value(c), json_string_length(c));
        return;
    }
    size_t i;
    const json_t *part;
    json_array_foreach(c, i, part) {
        const json_t *t = json_object_get(part, "text");
        if (!json_is_string(t)) continue;
        if (i) tgx_buf_putc(b, '\n');
        tgx_buf_append(b, json_string_value(t), json_string_length(t));
    }
}

/* "ROLE: CONTENT" (a tool result: "tool result: CONTENT"), then one line per
 * tool call, "ROLE called NAME(ARGS)"; a message with calls and no content
 * is its calls alone. A blank line ends it. */
static void put_message(tgx_buf *b, const json_t *m) {
    const char *role = role_of(m);
    const json_t *c = json_object_get(m, "content");
    const json_t *calls = json_object_get(m, "tool_calls");
    int is_result = !strcmp(role, "tool") || !strcmp(role, "function");
    int has_text = (json_is_string(c) && json_string_length(c)) || json_array_size(c);
    int lines = 0;
    if (has_text || !json_array_size(calls)) {
        if (is_result) tgx_buf_puts(b, "tool result: ");
        else tgx_buf_printf(b, "%s: ", role);
        put_content(b, c);
        lines++;
    }
    size_t i;
    const json_t *tc;
    json_array_foreach(calls, i, tc) {
        const json_t *f = json_object_get(tc, "function");
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *args = json_string_value(json_object_get(f, "arguments"));
        tgx_buf_printf(b, "%s%s called %s(%s)", lines++ ? "\n" : "", role, name ? name : "?", args ? args : "");
    }
    tgx_buf_puts(b, "\n\n");
}

char *tg_summary_transcript(const json_t *request, const size_t *msgs, size_t n) {
    const json_t *all = json_object_get(request, "messages");
    tgx_buf b;
    tgx_buf_init(&b, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(all, msgs[i]);
        if (m) put_message(&b, m);
    }
    if (tgx_buf_putc(&b, '\0') != TG_OK) {
        tgx_buf_free(&b);
        return NULL;
    }
    return tgx_buf_detach(&b, NULL);
}

static json_t *message(const char *role, const char *text) {
    json_t *m = json_object();
    if (m && (json_object_set_new(m, "role", json_string(role)) != 0 ||
              json_object_set_new(m, "content", json_string(text)) != 0)) {
        json_decref(m);
        return NULL;
    }
    return m;
}

json_t *tg_summary_request(const json_t *request, const size_t *msgs, size_t n, const char *prompt,
                           uint64_t max_tokens) {
    char *tr = tg_summary_transcript(request, msgs, n);
    json_t *o = json_object(), *ms = json_array(), *kw = json_object();
    int ok = tr && o && ms && kw;
    const json_t *model = json_object_get(request, "model");
    if (ok && model) ok &= json_object_set(o, "model", (json_t *)(uintptr_t)model) == 0;
    ok &= json_array_append_new(ms, message("system", prompt ? prompt : default_prompt)) == 0;
    ok &= json_array_append_new(ms, message("user", tr ? tr : "")) == 0;
    ok &= json_object_set_new(o, "messages", ms) == 0;
    ok &= json_object_set_new(o, "max_tokens", tg__json_count(max_tokens)) == 0;
    ok &= json_object_set_new(o, "stream", json_false()) == 0;
    ok &= json_object_set_new(o, "temperature", json_integer(0)) == 0;
    ok &= json_object_set_new(kw, "enable_thinking", json_false()) == 0;
    ok &= json_object_set_new(o, "chat_template_kwargs", kw) == 0;
    free(tr);
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void fnv(uint64_t *h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        *h ^= (unsigned char)p[i];
        *h *= 0x100000001b3ull;
    }
}

/* Each field is hashed with its length first, so no two sequences of fields
 * give the same byte stream. */
static void hash_field(tg_summary_key *k, const char *p, size_t n) {
    uint64_t len = n;
    for (int i = 0; i < 2; i++) {
        fnv(&k->h[i], (const char *)&len, sizeof len);
        fnv(&k->h[i], p ? p : "", p ? n : 0);
    }
}

/* The key's state before any message: the model, the prompt, max_tokens. */
static tg_summary_key key_start(const json_t *request, const char *prompt, uint64_t max_tokens) {
    /* two FNV-1a streams: the standard offset basis, and the second seeded apart */
    tg_summary_key k = {{0xcbf29ce484222325ull, 0x84222325cbf29ce4ull}};
    const char *model = json_string_value(json_object_get(request, "model"));
    hash_field(&k, model, model ? strlen(model) : 0);
    const char *pr = prompt ? prompt : default_prompt;
    hash_field(&k, pr, strlen(pr));
    hash_field(&k, (const char *)&max_tokens, sizeof max_tokens);
    return k;
}

static void key_add(tg_summary_key *k, const json_t *m) {
    char *s = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);
    hash_field(k, s, s ? strlen(s) : 0);
    free(s);
}

tg_summary_key tg_summary_key_of(const json_t *request, const size_t *msgs, size_t n,
                                 const char *prompt, uint64_t max_tokens) {
    tg_summary_key k = key_start(request, prompt, max_tokens);
    const json_t *all = json_object_get(request, "messages");
    for (size_t i = 0; i < n; i++) key_add(&k, json_array_get(all, msgs[i]));
    return k;
}

void tg_summary_keys(const json_t *request, const size_t *msgs, size_t n, const char *prompt,
                     uint64_t max_tokens, const size_t *ends, size_t n_ends, tg_summary_key *keys) {
    tg_summary_key k = key_start(request, prompt, max_tokens);
    const json_t *all = json_object_get(request, "messages");
    size_t i = 0;
    for (size_t e = 0; e < n_ends; e++) {
        for (; i < ends[e] && i < n; i++) key_add(&k, json_array_get(all, msgs[i]));
        keys[e] = k;
    }
}

static int is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

char *tg_summary_text(const char *answer, size_t len, tg_error *err) {
    json_error_t je;
    json_t *o = json_loadb(answer, len, 0, &je);
    const json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
    const json_t *c = json_object_get(json_object_get(ch, "message"), "content");
    const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
    char *out = NULL;
    if (!o) tg_error_set(err, TG_ECORRUPT, "the summary answer is not JSON: %s", je.text);
    else if (!json_is_string(c)) tg_error_set(err, TG_ECORRUPT, "the summary answer has no choices[0].message.content");
    else if (fr && strcmp(fr, "stop") != 0 && strcmp(fr, "length") != 0)
        tg_error_set(err, TG_ECORRUPT, "the summary answer ended with finish_reason %s", fr);
    else {
        const char *s = json_string_value(c);
        size_t n = json_string_length(c);
        while (n && is_space(*s)) s++, n--;
        while (n && is_space(s[n - 1])) n--;
        if (!n || memchr(s, '\0', n)) tg_error_set(err, TG_ECORRUPT, "the summary answer's content is empty");
        else if ((out = malloc(n + 1)) != NULL) {
            memcpy(out, s, n);
            out[n] = '\0';
        } else tg_error_set(err, TG_ENOMEM, "out of memory reading the summary");
    }
    json_decref(o);
    return out;
}

/* MSGS sorted, in range, and no system message among them. */
static int valid_plan(const json_t *all, const size_t *msgs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (msgs[i] >= json_array_size(all) || (i && msgs[i] <= msgs[i - 1])) return 0;
        const char *r = role_of(json_array_get(all, msgs[i]));
        if (!strcmp(r, "system") || !strcmp(r, "developer")) return 0;
    }
    return 1;
}

static json_t *compacted_messages(const json_t *all, const size_t *msgs, size_t n, const char *text) {
    json_t *out = json_array();
    char *body = malloc(sizeof summary_head + strlen(text));
    json_t *sm = NULL;
    if (body) {
        memcpy(body, summary_head, sizeof summary_head - 1);
        memcpy(body + sizeof summary_head - 1, text, strlen(text) + 1);
        sm = message("system", body);
        free(body);
    }
    if (!out || !sm) goto fail;
    size_t k = 0, lead = 0, total = json_array_size(all);
    while (lead < total) {
        const char *r = role_of(json_array_get(all, lead));
        if (strcmp(r, "system") != 0 && strcmp(r, "developer") != 0) break;
        lead++;
    }
    for (size_t i = 0; i < total; i++) {
        if (i == lead && json_array_append(out, sm) != 0) goto fail;
        if (k < n && msgs[k] == i) {
            k++;
            continue;
        }
        if (json_array_append(out, json_array_get(all, i)) != 0) goto fail;
    }
    if (lead == total && json_array_append(out, sm) != 0) goto fail;
    json_decref(sm);
    return out;
fail:
    json_decref(sm);
    json_decref(out);
    return NULL;
}

/* REQ's count as tg_budget_count counts it. */
static tg_status count_compacted(const json_t *req, const tg_budget_model *m, uint64_t *tokens,
                                 int *exact, tg_error *err) {
    char *s = json_dumps(req, JSON_COMPACT);
    if (!s) return tg_error_set(err, TG_ENOMEM, "out of memory counting the compacted chat");
    tg_request r;
    tg_status st = tg_request_parse_as(s, strlen(s), TG_REQ_CHAT, &r, err);
    free(s);
    if (st != TG_OK) return st;
    tg_prompt_counts pc;
    tg_count_method how;
    st = tg_budget_count(&r, m, &pc, &how, NULL, 0, err);
    tg_request_free(&r);
    if (st != TG_OK) return st;
    *tokens = pc.total;
    *exact = pc.exact;
    tg_prompt_counts_free(&pc);
    return TG_OK;
}

json_t *tg_summary_compact(const json_t *request, const size_t *msgs, size_t n, const char *text,
                           const tg_budget_model *m, uint64_t *tokens, int *exact, tg_error *err) {
    const json_t *all = json_object_get(request, "messages");
    if (!json_is_array(all) || !text || (n && !msgs) || !valid_plan(all, msgs, n)) {
        tg_error_set(err, TG_EINVAL, "tg_summary_compact: no chat, no summary, or a bad message list");
        return NULL;
    }
    json_t *out = json_copy((json_t *)(uintptr_t)request);
    json_t *ms = out ? compacted_messages(all, msgs, n, text) : NULL;
    if (!ms || json_object_set_new(out, "messages", ms) != 0) {
        json_decref(out);
        tg_error_set(err, TG_ENOMEM, "out of memory building the compacted chat");
        return NULL;
    }
    if (m && tokens && exact && count_compacted(out, m, tokens, exact, err) != TG_OK) {
        json_decref(out);
        return NULL;
    }
    return out;
}
