/*
 * gateway/filters/assemble.c: the assembly filter; folds chat.completion.chunk events into one
 * chat.completion (assemble.h). Events end at a blank line; `data: [DONE]`,
 * comments and lines that are not JSON objects are skipped; the text of
 * every delta is concatenated in order, the last finish_reason and usage
 * win, and the first chunk's id, model and fingerprint name the answer
 * (created: the latest, as a server stamps an answer when it is done).
 */
#define _GNU_SOURCE /* memmem */
#include "gateway/filters/assemble.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

void tg__asm_init(tg__assembler *a) {
    memset(a, 0, sizeof *a);
    tgx_buf_init(&a->pending, 16u << 20);
    tgx_buf_init(&a->content, 256u << 20);
    tgx_buf_init(&a->reasoning, 256u << 20);
    a->ident = json_object();
}

void tg__asm_free(tg__assembler *a) {
    tgx_buf_free(&a->pending);
    tgx_buf_free(&a->content);
    tgx_buf_free(&a->reasoning);
    json_decref(a->ident);
    json_decref(a->usage);
    json_decref(a->error);
    memset(a, 0, sizeof *a);
}

static void one_event(tg__assembler *a, const char *ev, size_t n) {
    while (n && (*ev == '\n' || *ev == '\r')) ev++, n--; /* an error event tokgate wrote opens with them */
    size_t dl = 0;
    const char *d = tg__sse_data(ev, n, &dl);
    if (!d) return;
    json_error_t je;
    json_t *o = json_loadb(d, dl, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    json_t *err = json_object_get(o, "error");
    if (err) {
        a->saw_error = 1;
        json_decref(a->error);
        a->error = json_incref(err);
    }
    tg__chunk_ident(a->ident, o);
    json_t *u = json_object_get(o, "usage");
    if (json_is_object(u)) {
        json_decref(a->usage);
        a->usage = json_incref(u);
    }
    json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
    json_t *delta = json_object_get(ch, "delta");
    json_t *c = json_object_get(delta, "content"), *r = json_object_get(delta, "reasoning_content");
    if (json_is_string(c)) tgx_buf_append(&a->content, json_string_value(c), json_string_length(c));
    if (json_is_string(r)) tgx_buf_append(&a->reasoning, json_string_value(r), json_string_length(r));
    const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
    if (fr) snprintf(a->finish, sizeof a->finish, "%s", fr);
    json_decref(o);
}

void tg__asm_feed(tg__assembler *a, const char *p, size_t n) {
    if (tgx_buf_append(&a->pending, p, n) != TG_OK) {
        tgx_buf_reset(&a->pending); /* an event over 16 MiB: dropped */
        return;
    }
    size_t pos = 0;
    for (;;) {
        const char *s = a->pending.data + pos;
        const char *e = memmem(s, a->pending.len - pos, "\n\n", 2);
        if (!e) break;
        one_event(a, s, (size_t)(e - s) + 2);
        pos += (size_t)(e - s) + 2;
    }
    memmove(a->pending.data, a->pending.data + pos, a->pending.len - pos);
    a->pending.len -= pos;
}

char *tg__asm_result(tg__assembler *a, size_t *len) {
    if (a->pending.len) { /* a last event without its blank line */
        one_event(a, a->pending.data, a->pending.len);
        tgx_buf_reset(&a->pending);
    }
    json_t *msg = json_object();
    json_t *o = json_object();
    json_t *choice = json_object();
    char *out = NULL;
    if (!msg || !o || !choice) goto done;
    json_object_set_new(msg, "role", json_string("assistant"));
    json_object_set_new(msg, "content", json_stringn(a->content.data ? a->content.data : "", a->content.len));
    if (a->reasoning.len) json_object_set_new(msg, "reasoning_content", json_stringn(a->reasoning.data, a->reasoning.len));
    json_object_set_new(choice, "finish_reason", a->finish[0] ? json_string(a->finish) : json_null());
    json_object_set_new(choice, "index", json_integer(0));
    json_object_set(choice, "message", msg);
    json_t *choices = json_array();
    json_array_append(choices, choice);
    json_object_set_new(o, "choices", choices);
    json_object_set(o, "created", json_object_get(a->ident, "created"));
    json_object_set(o, "model", json_object_get(a->ident, "model"));
    json_object_set(o, "system_fingerprint", json_object_get(a->ident, "system_fingerprint"));
    json_object_set_new(o, "object", json_string("chat.completion"));
    if (a->usage) json_object_set(o, "usage", a->usage);
    json_object_set(o, "id", json_object_get(a->ident, "id"));
    out = tgx_json_dumps(o, JSON_COMPACT);
done:
    json_decref(msg);
    json_decref(o);
    json_decref(choice);
    *len = out ? strlen(out) : 0;
    return out;
}

/* ---- the filter ---------------------------------------------------------- */

typedef struct asm_filter {
    tg__filter base;
    tg__assembler a;
} asm_filter;

static void af_head(tg__filter *f, int status, int sse) { tg__filter_head(f->next, status, sse); }

static void af_data(tg__filter *f, const char *p, size_t n) { tg__asm_feed(&((asm_filter *)f)->a, p, n); }

int tg__asm_filter_only_error(const tg__filter *f) {
    const tg__assembler *a = &((const asm_filter *)f)->a;
    return a->saw_error && !a->content.len && !a->reasoning.len;
}

static void af_end(tg__filter *f) {
    tg__assembler *a = &((asm_filter *)f)->a;
    size_t len = 0;
    char *body = tg__asm_result(a, &len); /* also reads a last event without its blank line */
    if (body && tg__asm_filter_only_error(f)) {
        free(body);
        json_t *e = json_pack("{s:O}", "error", a->error);
        body = e ? tgx_json_dumps(e, JSON_COMPACT) : NULL;
        json_decref(e);
        len = body ? strlen(body) : 0;
    }
    tg__filter_data(f->next, body, len);
    free(body);
    tg__filter_end(f->next);
}

static void af_destroy(tg__filter *f) {
    tg__asm_free(&((asm_filter *)f)->a);
    free(f);
}

static const tg__filter_ops asm_ops = {"assemble", af_head, af_data, af_end, af_destroy};

tg__filter *tg__asm_filter_new(void) {
    asm_filter *af = calloc(1, sizeof *af);
    if (!af) return NULL;
    af->base.ops = &asm_ops;
    tg__asm_init(&af->a);
    return &af->base;
}
