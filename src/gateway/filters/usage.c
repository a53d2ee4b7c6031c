/*
 * gateway/filters/usage.c: the usage-metering filter (filter.h); finds token usage in a relayed answer without holding it
 * back. A JSON answer is copied aside (up to USAGE_MAX_BODY bytes) and
 * parsed at the end for its "usage" object. An SSE answer is split into
 * lines as it streams; a "data:" line whose JSON carries a non-null "usage"
 * (llama-server's and vLLM's final chunk; OpenAI's with include_usage)
 * replaces what was seen before. Lines over USAGE_MAX_LINE bytes are skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/filters/usage.h"

#define USAGE_MAX_BODY (8u << 20)
#define USAGE_MAX_LINE (1u << 20)

void tg__usage_init(tg__usage *u, int sse) {
    u->prompt_tokens = u->completion_tokens = -1;
    u->sse = sse;
    u->line_skip = u->body_skip = 0;
    u->prompt_n = u->prompt_ms = -1;
    tgx_buf_init(&u->line, USAGE_MAX_LINE);
    tgx_buf_init(&u->body, USAGE_MAX_BODY);
}

void tg__usage_free(tg__usage *u) {
    tgx_buf_free(&u->line);
    tgx_buf_free(&u->body);
}

int tg__usage_from_json(json_t *o, int64_t *prompt, int64_t *completion) {
    json_t *us = json_object_get(o, "usage");
    if (!json_is_object(us) && json_is_integer(json_object_get(o, "prompt_eval_count"))) {
        /* Ollama's native answer: the last object's Metrics (api/types.go:
         * prompt_eval_count, eval_count; issue 19) */
        json_t *pe = json_object_get(o, "prompt_eval_count"), *ec = json_object_get(o, "eval_count");
        *prompt = (int64_t)json_integer_value(pe);
        *completion = json_is_integer(ec) ? (int64_t)json_integer_value(ec) : -1;
        return 1;
    }
    if (!json_is_object(us)) return 0;
    json_t *p = json_object_get(us, "prompt_tokens"), *c = json_object_get(us, "completion_tokens");
    if (!json_is_integer(p) && !json_is_integer(c)) return 0;
    *prompt = json_is_integer(p) ? (int64_t)json_integer_value(p) : -1;
    *completion = json_is_integer(c) ? (int64_t)json_integer_value(c) : -1;
    return 1;
}

/* llama-server's "timings": prompt_n tokens processed (cached ones left
 * out) in prompt_ms; vLLM sends none. */
static void timings_from(tg__usage *u, json_t *o) {
    json_t *t = json_object_get(o, "timings");
    json_t *n = json_object_get(t, "prompt_n"), *ms = json_object_get(t, "prompt_ms");
    if (json_is_number(n) && json_is_number(ms)) {
        u->prompt_n = json_number_value(n);
        u->prompt_ms = json_number_value(ms);
    }
}

static int has_usage_key(const char *p, size_t n) {
    for (size_t i = 0; i + 7 <= n; i++)
        if (p[i] == '"' && memcmp(p + i, "\"usage\"", 7) == 0) return 1;
    return 0;
}

static void sse_line(tg__usage *u, const char *p, size_t n) {
    if (n && p[n - 1] == '\r') n--;
    if (n < 5 || memcmp(p, "data:", 5) != 0) return;
    p += 5;
    n -= 5;
    if (!has_usage_key(p, n)) return;
    json_t *o = json_loadb(p, n, 0, NULL);
    if (!o) return;
    tg__usage_from_json(o, &u->prompt_tokens, &u->completion_tokens);
    timings_from(u, o);
    json_decref(o);
}

void tg__usage_feed(tg__usage *u, const char *p, size_t n) {
    if (!u->sse) {
        if (!u->body_skip && tgx_buf_append(&u->body, p, n) != TG_OK) u->body_skip = 1;
        return;
    }
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (!u->line_skip && tgx_buf_append(&u->line, p, take) != TG_OK) u->line_skip = 1;
        if (!nl) return;
        if (!u->line_skip && u->line.len) sse_line(u, u->line.data, u->line.len);
        tgx_buf_reset(&u->line);
        u->line_skip = 0;
        p += take + 1;
        n -= take + 1;
    }
}

void tg__usage_finish(tg__usage *u) {
    if (u->sse) {
        if (!u->line_skip && u->line.len) sse_line(u, u->line.data, u->line.len);
        return;
    }
    if (!u->body.len || u->body_skip) return;
    json_t *o = json_loadb(u->body.data, u->body.len, 0, NULL);
    if (!o) { /* NDJSON (Ollama's native stream): its last line holds the counts */
        size_t e = u->body.len;
        while (e && (u->body.data[e - 1] == '\n' || u->body.data[e - 1] == '\r')) e--;
        size_t b = e;
        while (b && u->body.data[b - 1] != '\n') b--;
        if (b > 0 && e > b) o = json_loadb(u->body.data + b, e - b, 0, NULL);
    }
    if (!o) return;
    tg__usage_from_json(o, &u->prompt_tokens, &u->completion_tokens);
    timings_from(u, o);
    json_decref(o);
}

/* ---- the filter ---------------------------------------------------------- */

typedef struct usage_filter {
    tg__filter base;
    tg__usage u;
} usage_filter;

static void uf_head(tg__filter *f, int status, int sse) {
    usage_filter *uf = (usage_filter *)f;
    tg__usage_free(&uf->u);
    tg__usage_init(&uf->u, sse);
    tg__filter_head(f->next, status, sse);
}

static void uf_data(tg__filter *f, const char *p, size_t n) {
    tg__usage_feed(&((usage_filter *)f)->u, p, n);
    tg__filter_data(f->next, p, n);
}

static void uf_end(tg__filter *f) {
    tg__usage_finish(&((usage_filter *)f)->u);
    tg__filter_end(f->next);
}

static void uf_destroy(tg__filter *f) {
    tg__usage_free(&((usage_filter *)f)->u);
    free(f);
}

static const tg__filter_ops usage_ops = {"usage", uf_head, uf_data, uf_end, uf_destroy};

tg__filter *tg__usage_filter_new(void) {
    usage_filter *uf = calloc(1, sizeof *uf);
    if (!uf) return NULL;
    uf->base.ops = &usage_ops;
    tg__usage_init(&uf->u, 0);
    return &uf->base;
}

const tg__usage *tg__usage_filter_result(const tg__filter *f) { return f ? &((const usage_filter *)f)->u : NULL; }
