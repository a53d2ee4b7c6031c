/*
 * gateway/filters/think_cut.c: the thinking cut (think_cut.h has the
 * design): the thinking state read from each chunk, the count and the cut
 * at the budget, the routing of a continuation's text, the marker and
 * budget message after the cut, and the filter over a first leg's stream.
 * cont.c, the continuation protocol, calls the state functions for every
 * leg; the events it writes use tg__chunk_emit.
 */
#define _GNU_SOURCE /* memmem */
#include "gateway/filters/think_cut.h"
#include "gateway/sse_end.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>


#define EVENT_MAX (4u << 20)

tg_status tg__think_init(tg__think *t, const tg__think_cfg *cfg) {
    memset(t, 0, sizeof *t);
    t->enforce = cfg->enforce;
    t->budget = cfg->budget;
    t->open = strdup(cfg->open && *cfg->open ? cfg->open : "<think>");
    t->close = strdup(cfg->close && *cfg->close ? cfg->close : "</think>");
    t->message = cfg->message && *cfg->message ? strdup(cfg->message) : NULL;
    if (cfg->prompt_opens) { /* shown as reasoning_content or content: the first chunk says */
        t->thinking = 1;
        t->in_content = -1;
    }
    tgx_buf_init(&t->hold, 1u << 16);
    if (!t->open || !t->close || (cfg->message && *cfg->message && !t->message)) {
        tg__think_free(t);
        return TG_ENOMEM;
    }
    return TG_OK;
}

void tg__think_free(tg__think *t) {
    free(t->open);
    free(t->close);
    free(t->message);
    t->open = t->close = t->message = NULL;
    tgx_buf_free(&t->hold);
}

int tg__think_spent(const tg__think *t) { return t->enforce && !t->cut && t->thinking && t->n >= t->budget; }

void tg__think_leg_ids(tg__think *t, uint64_t n) {
    if (t->thinking) t->n += n;
}

/* Thinking state after one chunk's delta. */
static void chunk_state(tg__think *t, json_t *delta) {
    const char *rc = json_string_value(json_object_get(delta, "reasoning_content"));
    const char *ct = json_string_value(json_object_get(delta, "content"));
    json_t *tc = json_object_get(delta, "tool_calls");
    if (rc && *rc && !t->seen_answer) {
        t->thinking = 1;
        t->in_content = 0;
    }
    if (ct && *ct) {
        if (t->thinking && t->in_content < 0) t->in_content = 1; /* the prompt opened it */
        if (t->thinking && t->in_content) {
            if (strstr(ct, t->close)) t->thinking = 0, t->seen_answer = 1;
        } else if (t->thinking) {
            t->thinking = 0, t->seen_answer = 1; /* answer after reasoning_content */
        } else if (!t->seen_answer && strstr(ct, t->open)) {
            const char *o = strstr(ct, t->open);
            t->thinking = 1;
            t->in_content = 1;
            if (strstr(o, t->close)) t->thinking = 0, t->seen_answer = 1;
        } else if (strspn(ct, " \t\r\n") < strlen(ct)) {
            t->seen_answer = 1;
        }
    }
    if (json_array_size(tc)) t->thinking = 0, t->seen_answer = 1;
}

int tg__think_chunk(tg__think *t, json_t *delta, uint64_t n_ids, int counted) {
    int was_thinking = t->thinking, was_in_content = t->in_content, was_answer = t->seen_answer;
    chunk_state(t, delta);
    /* A chunk's ids were thought when it shows reasoning or thinking goes
     * on after it (the chunk that opens a thinking block counts, the one
     * whose text ends it does not). */
    int rc = json_string_length(json_object_get(delta, "reasoning_content")) > 0;
    uint64_t thought = rc || t->thinking ? (n_ids ? n_ids : (uint64_t)rc) : 0;
    if (thought && (rc || was_thinking) && t->enforce && !t->cut && counted && t->n + thought > t->budget) {
        t->thinking = was_thinking, t->in_content = was_in_content, t->seen_answer = was_answer;
        if (!t->thinking) t->thinking = 1, t->in_content = !rc;
        if (t->in_content < 0) t->in_content = !rc;
        return TG__THINK_DROP;
    }
    t->n += thought;
    return TG__THINK_GO;
}

/* Longest suffix of s[0..n) that is a proper prefix of m. */
static size_t partial_suffix(const char *s, size_t n, const char *m) {
    size_t ml = strlen(m);
    for (size_t l = ml - 1 < n ? ml - 1 : n; l > 0; l--)
        if (memcmp(s + n - l, m, l) == 0) return l;
    return 0;
}

/* Emits what is held but cannot be the start of the close marker (all of
 * it when `final`), as `field`. */
static void emit_held(tg__think *t, const char *field, int final, tg__think_emit emit, void *ud) {
    size_t keep = final ? 0 : partial_suffix(t->hold.data, t->hold.len, t->close);
    if (t->hold.len - keep) emit(ud, field, t->hold.data, t->hold.len - keep);
    memmove(t->hold.data, t->hold.data + t->hold.len - keep, keep);
    t->hold.len = keep;
}

void tg__think_text(tg__think *t, const char *p, size_t n, int final, tg__think_emit emit, void *ud) {
    size_t cl = strlen(t->close);
    if (t->thinking && t->in_content > 0) { /* all content; the marker flips the state */
        tgx_buf_append(&t->hold, p, n);
        if (memmem(t->hold.data, t->hold.len, t->close, cl)) t->thinking = 0, t->seen_answer = 1;
        emit_held(t, "content", final || !t->thinking, emit, ud);
        return;
    }
    if (!t->thinking) {
        if (t->after_close) {
            while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++, n--;
            if (n) t->after_close = 0;
        }
        if (n) {
            t->seen_answer = 1;
            emit(ud, "content", p, n);
        }
        return;
    }
    tgx_buf_append(&t->hold, p, n);
    const char *c = memmem(t->hold.data, t->hold.len, t->close, cl);
    if (!c) {
        emit_held(t, "reasoning_content", final, emit, ud);
        return;
    }
    size_t before = (size_t)(c - t->hold.data);
    if (before) emit(ud, "reasoning_content", t->hold.data, before);
    t->thinking = 0;
    t->after_close = 1;
    size_t rest = t->hold.len - before - cl;
    char *r = t->hold.data + before + cl;
    t->hold.len = 0; /* r stays readable: the buffer is not touched until the call below returns */
    if (rest) tg__think_text(t, r, rest, final, emit, ud);
}

void tg__think_resume(tg__think *t, tgx_buf *model, tg__think_emit emit, void *ud) {
    size_t start = model->len;
    if (t->message) tgx_buf_printf(model, "\n%s", t->message);
    tgx_buf_printf(model, "\n%s\n\n", t->close);
    /* The client sees the marker only where it saw the thinking as text in
     * content; as reasoning_content, only the message. */
    int in_content = t->in_content > 0;
    int show = in_content && t->n > 0;
    if (t->message && !in_content && t->n > 0)
        emit(ud, "reasoning_content", model->data + start + 1, strlen(t->message));
    if (show) emit(ud, "content", model->data + start, model->len - start);
    t->cut = 1;
    t->thinking = 0;
    t->in_content = 0;
    t->after_close = !show;
}

void tg__chunk_emit(const json_t *ident, const char *field, const char *text, size_t len, const char *finish,
                    tgx_buf *out) {
    json_t *o = json_object(), *delta = json_object(), *choice = json_object(), *choices = json_array();
    if (!o || !delta || !choice || !choices) goto out;
    if (field) json_object_set_new(delta, field, json_stringn(text, len));
    json_object_set_new(choice, "finish_reason", finish ? json_string(finish) : json_null());
    json_object_set_new(choice, "index", json_integer(0));
    json_object_set(choice, "delta", delta);
    json_array_append(choices, choice);
    json_object_set(o, "choices", choices);
    json_object_update(o, (json_t *)(uintptr_t)ident);
    json_object_set_new(o, "object", json_string("chat.completion.chunk"));
    char *s = tgx_json_dumps(o, JSON_COMPACT);
    if (s) {
        tgx_buf_puts(out, "data: ");
        tgx_buf_puts(out, s);
        tgx_buf_puts(out, "\n\n");
        free(s);
    }
out:
    json_decref(o);
    json_decref(delta);
    json_decref(choice);
    json_decref(choices);
}

/* ---- the filter ------------------------------------------------------------ */

typedef struct think_filter {
    tg__filter base;
    tg__think t;
    tgx_buf ev;     /* the event being assembled */
    json_t *ident;  /* the stream's id, created, model, system_fingerprint */
    int plain;      /* unreadable (an event over the cap, ids missing): passed on, never cut */
    int stopped;    /* the cut: nothing more passes */
} think_filter;

/* One chat chunk event: 1 when it passes on. */
static int tf_chunk(think_filter *tf, const char *ev, size_t n) {
    size_t dl = 0;
    const char *d = tg__sse_data(ev, n, &dl);
    json_t *o = d ? json_loadb(d, dl, 0, NULL) : NULL;
    json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
    if (!ch) {
        json_decref(o);
        return 1; /* a comment, [DONE], a usage chunk: as it came */
    }
    tg__chunk_ident(tf->ident, o);
    uint64_t n_ids = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(ch, "logprobs"), "content"), i, e) {
        if (!json_is_integer(json_object_get(e, "id"))) tf->plain = 1; /* no ids: nothing exact to count */
        n_ids++;
    }
    int r = tg__think_chunk(&tf->t, json_object_get(ch, "delta"), n_ids, !tf->plain);
    json_decref(o);
    if (r == TG__THINK_DROP) {
        tf->stopped = 1;
        return 0;
    }
    if (!tf->plain && tg__think_spent(&tf->t)) tf->stopped = 1; /* this one shows, nothing after it */
    return 1;
}

static void tf_head(tg__filter *f, int status, int sse) { tg__filter_head(f->next, status, sse); }

static void tf_data(tg__filter *f, const char *p, size_t n) {
    think_filter *tf = (think_filter *)f;
    if (tf->stopped) return;
    size_t from = tf->ev.len >= 3 ? tf->ev.len - 3 : 0;
    if ((tf->plain && !tf->ev.len) || tgx_buf_append(&tf->ev, p, n) != TG_OK) {
        tf->plain = 1; /* an event over the cap: all of it as it is, from now on */
        tg__filter_data(f->next, tf->ev.data, tf->ev.len);
        tg__filter_data(f->next, p, n);
        tgx_buf_reset(&tf->ev);
        return;
    }
    size_t pos = 0;
    for (;;) { /* an event ends at a blank line */
        size_t el;
        const char *e = tg__sse_event_end(tf->ev.data + from, tf->ev.len - from, &el);
        if (!e) break;
        size_t evlen = (size_t)(e - (tf->ev.data + pos)) + el;
        if (tf->plain || tf_chunk(tf, tf->ev.data + pos, evlen)) tg__filter_data(f->next, tf->ev.data + pos, evlen);
        pos += evlen;
        from = pos;
        if (tf->stopped) {
            tgx_buf_reset(&tf->ev);
            return;
        }
    }
    memmove(tf->ev.data, tf->ev.data + pos, tf->ev.len - pos);
    tf->ev.len -= pos;
}

static void tf_emit(void *ud, const char *field, const char *text, size_t len) {
    think_filter *tf = ud;
    tgx_buf ev;
    tgx_buf_init(&ev, EVENT_MAX);
    tg__chunk_emit(tf->ident, field, text, len, NULL, &ev);
    tg__filter_data(tf->base.next, ev.data, ev.len);
    tgx_buf_free(&ev);
}

static void tf_end(tg__filter *f) {
    think_filter *tf = (think_filter *)f;
    if (tf->stopped) {
        tgx_buf model;
        tgx_buf_init(&model, 1u << 16);
        tg__think_resume(&tf->t, &model, tf_emit, tf);
        tgx_buf_free(&model);
    } else {
        tg__filter_data(f->next, tf->ev.data, tf->ev.len); /* unterminated bytes after the last event */
    }
    tgx_buf_reset(&tf->ev);
    tg__filter_end(f->next);
}

static void tf_destroy(tg__filter *f) {
    think_filter *tf = (think_filter *)f;
    tg__think_free(&tf->t);
    tgx_buf_free(&tf->ev);
    json_decref(tf->ident);
    free(tf);
}

static const tg__filter_ops think_ops = {"think_cut", tf_head, tf_data, tf_end, tf_destroy};

tg__filter *tg__think_cut_filter_new(const tg__think_cfg *cfg) {
    think_filter *tf = calloc(1, sizeof *tf);
    if (!tf) return NULL;
    tf->base.ops = &think_ops;
    tgx_buf_init(&tf->ev, EVENT_MAX);
    tf->ident = json_object();
    if (tg__think_init(&tf->t, cfg) != TG_OK || !tf->ident) {
        json_decref(tf->ident);
        tgx_buf_free(&tf->ev);
        free(tf);
        return NULL;
    }
    return &tf->base;
}

int tg__think_cut_filter_cut(const tg__filter *f) { return f && ((const think_filter *)f)->stopped; }

uint64_t tg__think_cut_filter_thought(const tg__filter *f) { return f ? ((const think_filter *)f)->t.n : 0; }
