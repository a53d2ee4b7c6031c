/*
 * estimate.c: prompt token counts supplied to the policy, with a counting
 * function the caller chooses (a real tokenizer, or the estimator).
 *
 * Estimator: ceil(bytes / 4), the common "about four bytes of English text per
 * token" rule of thumb (OpenAI's tokenizer guide: one token is about four
 * characters of English). It is never exact and is flagged so.
 *
 * Chats, until chat templates are rendered: OpenAI cookbook's
 * num_tokens_from_messages rule: 3 tokens per message (the role markers), 1
 * more for a "name", 3 for the reply priming; each message's text pieces
 * (role, content strings or "text" parts, name, tool_calls' function name and
 * arguments, tool_call_id, reasoning_content) are counted separately with the
 * counting function. "tools" counts as its compact JSON. The result is marked
 * not exact; when the template renderer lands, the caller passes its exact
 * total (tg_prompt_counts.total with exact = 1) and keeps the per-message
 * items for truncation.
 */
#include <stdlib.h>
#include <string.h>

#include "tokgate/policy.h"
#include "util/buf.h"

tg_status tg_estimate_count(void *user, const char *text, size_t len, uint64_t *tokens,
                            tg_error *err) {
    (void)user;
    (void)err;
    (void)text;
    *tokens = (uint64_t)(len / 4 + (len % 4 != 0));
    return TG_OK;
}

typedef struct counter {
    tg_count_fn fn;
    void *user;
    tg_error *err;
    uint64_t sum;
} counter;

static tg_status add_str(counter *c, const json_t *v) {
    if (!json_is_string(v)) return TG_OK;
    uint64_t t = 0;
    tg_status s = c->fn(c->user, json_string_value(v), json_string_length(v), &t, c->err);
    if (s == TG_OK) c->sum += t;
    return s;
}

static tg_status add_content(counter *c, const json_t *content) {
    if (json_is_string(content)) return add_str(c, content);
    if (!json_is_array(content)) return TG_OK;
    for (size_t i = 0; i < json_array_size(content); i++) {
        const json_t *part = json_array_get(content, i);
        /* Text parts count; images and audio have no text to count here. */
        tg_status s = add_str(c, json_is_string(part) ? part : json_object_get(part, "text"));
        if (s != TG_OK) return s;
    }
    return TG_OK;
}

static tg_status count_message(counter *c, const json_t *m) {
    c->sum += TG_CHAT_TOKENS_PER_MESSAGE;
    tg_status s;
    if ((s = add_str(c, json_object_get(m, "role"))) != TG_OK) return s;
    if ((s = add_content(c, json_object_get(m, "content"))) != TG_OK) return s;
    if ((s = add_str(c, json_object_get(m, "reasoning_content"))) != TG_OK) return s;
    if ((s = add_str(c, json_object_get(m, "tool_call_id"))) != TG_OK) return s;
    const json_t *name = json_object_get(m, "name");
    if (json_is_string(name)) {
        c->sum += TG_CHAT_TOKENS_PER_NAME;
        if ((s = add_str(c, name)) != TG_OK) return s;
    }
    const json_t *calls = json_object_get(m, "tool_calls");
    for (size_t i = 0; i < json_array_size(calls); i++) {
        const json_t *fn = json_object_get(json_array_get(calls, i), "function");
        if ((s = add_str(c, json_object_get(fn, "name"))) != TG_OK) return s;
        const json_t *args = json_object_get(fn, "arguments");
        if (json_is_string(args)) {
            if ((s = add_str(c, args)) != TG_OK) return s;
        } else if (args) {
            char *txt = tgx_json_dumps(args, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!txt) return TG_ENOMEM;
            uint64_t t = 0;
            s = c->fn(c->user, txt, strlen(txt), &t, c->err);
            free(txt);
            if (s != TG_OK) return s;
            c->sum += t;
        }
    }
    return TG_OK;
}

void tg_prompt_counts_set_exact(tg_prompt_counts *c, uint64_t total) {
    uint64_t sum = 0;
    for (size_t i = 0; i < c->n_items; i++) sum += c->items[i];
    c->total = total;
    c->fixed = total > sum ? total - sum : 0;
    c->exact = 1;
}

tg_status tg_request_count(const tg_request *r, tg_count_fn fn, void *user, int fn_exact,
                           tg_prompt_counts *out, tg_error *err) {
    memset(out, 0, sizeof *out);
    if (!r || !r->root || !fn) return tg_error_set(err, TG_EINVAL, "tg_request_count: no request");
    counter c = {fn, user, err, 0};
    tg_status s = TG_OK;
    if (r->kind == TG_REQ_CHAT) {
        const json_t *msgs = json_object_get(r->root, "messages");
        size_t n = json_array_size(msgs);
        out->items = calloc(n ? n : 1, sizeof *out->items);
        if (!out->items) return TG_ENOMEM;
        out->n_items = n;
        uint64_t sum = 0;
        for (size_t i = 0; i < n && s == TG_OK; i++) {
            c.sum = 0;
            s = count_message(&c, json_array_get(msgs, i));
            out->items[i] = c.sum;
            sum += c.sum;
        }
        c.sum = TG_CHAT_TOKENS_REPLY;
        const json_t *tools = json_object_get(r->root, "tools");
        if (s == TG_OK && tools && !json_is_null(tools)) {
            char *txt = tgx_json_dumps(tools, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!txt) s = TG_ENOMEM;
            else {
                uint64_t t = 0;
                s = fn(user, txt, strlen(txt), &t, err);
                c.sum += t;
                free(txt);
            }
        }
        out->fixed = c.sum;
        out->total = sum + c.sum;
        out->exact = 0;
    } else {
        const json_t *p = json_object_get(r->root, "prompt");
        int single = json_is_string(p) || (json_is_array(p) && json_is_integer(json_array_get(p, 0)));
        size_t n = single ? 1 : json_array_size(p);
        out->items = calloc(n ? n : 1, sizeof *out->items);
        if (!out->items) return TG_ENOMEM;
        out->n_items = n;
        out->exact = 1;
        for (size_t i = 0; i < n && s == TG_OK; i++) {
            const json_t *item = single ? p : json_array_get(p, i);
            if (json_is_array(item)) {
                out->items[i] = json_array_size(item);
            } else {
                c.sum = 0;
                s = add_str(&c, item);
                out->items[i] = c.sum;
                if (!fn_exact) out->exact = 0;
            }
            if (out->items[i] > out->total) out->total = out->items[i];
        }
    }
    if (s != TG_OK) tg_prompt_counts_free(out);
    return s;
}

void tg_prompt_counts_free(tg_prompt_counts *c) {
    if (!c) return;
    free(c->items);
    memset(c, 0, sizeof *c);
}
