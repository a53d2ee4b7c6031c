/*
 * gateway/filters/escalation.c: the escalation policy (escalation.h):
 * continue in place when the engine can, re-send otherwise; and the filter
 * that continues in place: it reads each leg through cont.c, passes on
 * what the client sees, and runs the legs and the growth through the
 * exchange's tg__esc_host.
 */
#include "gateway/filters/escalation.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"

/* A chat tokgate can continue in place (cont.h): one choice, and nothing
 * the server parses out of the whole generated text (tool calls,
 * grammars), which a raw continuation would hand over unparsed. */
static int continuable(const json_t *req) {
    json_t *n = json_object_get(req, "n");
    if (n && !json_is_null(n) && json_integer_value(n) != 1) return 0;
    if (json_array_size(json_object_get(req, "tools"))) return 0;
    static const char *const parsed[] = {"response_format", "grammar", "json_schema", "tool_choice"};
    for (size_t i = 0; i < sizeof parsed / sizeof parsed[0]; i++) {
        json_t *v = json_object_get(req, parsed[i]);
        if (v && !json_is_null(v) && !(json_is_string(v) && !strcmp(json_string_value(v), "none")) &&
            !(i == 0 && json_is_object(v) && json_is_string(json_object_get(v, "type")) &&
              !strcmp(json_string_value(json_object_get(v, "type")), "text")))
            return 0;
    }
    return 1;
}

tg__cont *tg__escalation_plan(const tg__model *m, int chat, int stream, const json_t *req, json_t **send,
                              const tg__esc_budget *b) {
    if (!chat || !m->cont) return NULL;
    tg__cont_cfg cc;
    memset(&cc, 0, sizeof cc);
    cc.engine = m->cont;
    cc.max_tokens = b->max_tokens;
    cc.escalate_to = b->escalate_to;
    cc.think_enforce = m->settings.thinking_base > 0 && (b->thinking_tokens > 0 || b->thinking_disabled);
    cc.think_budget = b->thinking_disabled ? 0 : b->thinking_tokens;
    int failover = stream && m->n_replicas > 1; /* a replica that dies mid-stream: go on elsewhere (issue 14) */
    /* the budget's test first: it reads no member (the usual request ends here) */
    if (cc.escalate_to <= cc.max_tokens && !cc.think_enforce && !failover) return NULL;
    if (!continuable(req)) return NULL;
    if (!stream && json_is_true(json_object_get(req, "logprobs"))) return NULL; /* an assembled answer carries none */
    if (!*send) *send = json_incref((json_t *)(uintptr_t)req);
    json_t *s = *send;
    /* The ids of every generated token, as the engine gives them. */
    cc.include_usage = json_is_true(json_object_get(json_object_get(s, "stream_options"), "include_usage"));
    cc.strip_logprobs = m->cont->ask_ids(s) == 1; /* (an engine may ask for usage too: the client's wish read first) */
    if (!stream) { /* only a stream can be read and cut as it runs: tokgate assembles the answer */
        json_object_set_new(s, "stream", json_true());
        json_object_set_new(s, "stream_options", json_pack("{s:b}", "include_usage", 1));
        cc.include_usage = 1;
    }
    cc.prompt_tokens = b->prompt_tokens;
    cc.think_open = m->cfg->thinking_open;
    cc.think_close = m->cfg->thinking_close;
    cc.budget_message = m->cont->ids_from_prompt ? NULL : m->cfg->budget_message; /* text between ids: not there */
    if (cc.think_enforce) /* the render the upstream will see, after the policy's rewrite */
        cc.prompt_opens_thinking = tg__chat_prompt_opens(m, s, cc.think_open, cc.think_close) == 1;
    return tg__cont_new(&cc, s);
}

int tg__escalation_resends(int stream, int continues, uint64_t max_tokens, uint64_t escalate_to, int has_body) {
    return !stream && !continues && escalate_to > max_tokens && has_body;
}

int tg__escalation_hit_length(const char *body, size_t len) {
    json_error_t je;
    json_t *j = json_loadb(body, len, 0, &je);
    json_t *ch = json_array_get(json_object_get(j, "choices"), 0);
    const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
    int hit = fr && !strcmp(fr, "length");
    json_decref(j);
    return hit;
}

/* ---- continuing in place: the filter -------------------------------------- */

enum { LEG_CLIENT, LEG_TEMPLATE, LEG_COMPLETION, LEG_TEXT }; /* what the upstream request under way is */

typedef struct esc_filter {
    tg__filter base;      /* next: the assembler, or the relay */
    tg__esc_host host;
    tg__cont *cont;
    char *fwd_body;       /* the body as forwarded, for the engine's prompt_path */
    size_t fwd_len;
    int on;               /* the first leg is a 200 SSE stream: cont reads it */
    int leg;
    int leg_bad;          /* a continuation leg answered other than 200: its body is the message */
    int leg_status;
    tgx_buf aux;          /* a leg's non-streamed answer (prompt_path, errors) */
    /* re-send mode (cont NULL): fwd_body is the escalated body */
    uint64_t max_tokens, escalate_to;
    int holding, escalated;
    tgx_buf held;         /* the answer held back */
} esc_filter;

static void pass_on(esc_filter *e, tgx_buf *out) {
    tg__filter_data(e->base.next, out->data, out->len);
    tgx_buf_free(out);
}

/* What remains for the client, then the exchange ends the answer. */
static void esc_finish(esc_filter *e) {
    tgx_buf out;
    tgx_buf_init(&out, SIZE_MAX);
    tg__cont_finish(e->cont, &out);
    pass_on(e, &out);
    e->host.finish(e->host.ud);
}

/* A leg failed: the answer ends as it would have without it when its own
 * ending was held back (an escalation not yet under way), else the
 * exchange reports the failure. */
static void esc_fail(esc_filter *e, const char *msg) {
    int held = tg__cont_has_ending(e->cont);
    e->host.fail(e->host.ud, msg, held);
    if (held) esc_finish(e);
}

/* Starts the next leg: the engine's prompt_path first when the rendered
 * prompt is not known yet, then leg_path. */
static void next_leg(esc_filter *e) {
    tgx_buf out;
    tgx_buf_init(&out, SIZE_MAX);
    char *body = NULL;
    size_t len = 0;
    const tg__engine_cont *eng = tg__cont_engine(e->cont);
    const char *path = eng->prompt_path;
    tg_error err;
    memset(&err, 0, sizeof err);
    if (tg__cont_needs_prompt(e->cont)) {
        e->leg = LEG_TEMPLATE;
        if (eng->prompt_body && !(body = tg__cont_prompt_body(e->cont, e->fwd_body, e->fwd_len, &len))) {
            tgx_buf_free(&out);
            esc_fail(e, "out of memory starting a continuation request");
            return;
        }
    } else {
        tg_status st = tg__cont_next_body(e->cont, &body, &len, &out, &err);
        pass_on(e, &out);
        if (st == TG_ELIMIT) { /* the cap is reached already: the answer is complete */
            esc_finish(e);
            return;
        }
        if (st != TG_OK) {
            esc_fail(e, err.msg);
            return;
        }
        e->leg = tg__cont_wants_text(e->cont) ? LEG_TEXT : LEG_COMPLETION; /* text to tokenize first (engine.h) */
        path = e->leg == LEG_TEXT ? eng->text_path : eng->leg_path;
    }
    tgx_buf_free(&out);
    e->leg_bad = 0;
    tgx_buf_reset(&e->aux);
    int rc = e->host.send(e->host.ud, path, body ? body : e->fwd_body, body ? len : e->fwd_len);
    free(body);
    if (rc != 0) esc_fail(e, "out of memory starting a continuation request");
}

/* A leg ended cleanly (or was cut): escalate, resume after the thinking
 * cut, or finish. */
static void leg_done(esc_filter *e) {
    int r = tg__cont_leg_end(e->cont);
    if (r == TG__CONT_ESCALATE) {
        e->host.grow(e->host.ud, tg__cont_growth(e->cont));
        return;
    }
    if (r == TG__CONT_RESUME) {
        e->host.note(e->host.ud, TG__ESC_NOTE_THINKING_CUT, tg__cont_thinking(e->cont), 0);
        next_leg(e);
        return;
    }
    esc_finish(e);
}

/* Re-send mode: the held bytes go on, after the held head. */
static void release_held(esc_filter *e) {
    e->holding = 0;
    e->host.flush(e->host.ud);
    tg__filter_data(e->base.next, e->held.data, e->held.len);
    tgx_buf_free(&e->held);
}

/* Re-send mode: the growth came or not. */
static void resend_grown(esc_filter *e, int granted) {
    if (!granted) { /* no room: the capped answer as it was */
        release_held(e);
        e->host.finish(e->host.ud);
        return;
    }
    e->holding = 0;
    e->escalated = 1;
    tgx_buf_free(&e->held);
    e->host.note(e->host.ud, TG__ESC_NOTE_RESENT, e->max_tokens, e->escalate_to);
    if (e->host.send(e->host.ud, NULL, e->fwd_body, e->fwd_len) != 0)
        e->host.fail(e->host.ud, "out of memory sending the escalated request", 0);
}

int tg__esc_filter_failover(tg__filter *f) {
    esc_filter *e = (esc_filter *)f;
    if (!f || !e->cont || !e->on || e->leg == LEG_TEXT) return 0;
    if (e->leg != LEG_TEMPLATE && !tg__cont_failover(e->cont)) return 0; /* a template request is asked again */
    e->leg_bad = 0;
    next_leg(e);
    return 1;
}

int tg__esc_filter_held_done(tg__filter *f) {
    esc_filter *e = (esc_filter *)f;
    if (!f || !e->holding) return 0;
    if (tg__escalation_hit_length(e->held.data, e->held.len)) {
        e->host.note(e->host.ud, TG__ESC_NOTE_LENGTH, 0, 0);
        e->host.grow(e->host.ud, e->escalate_to - e->max_tokens);
        return 1;
    }
    release_held(e);
    return 0;
}

int tg__esc_filter_holding(const tg__filter *f) { return f && ((const esc_filter *)f)->holding; }

void tg__esc_filter_grown(tg__filter *f, int granted) {
    esc_filter *e = (esc_filter *)f;
    if (!e->cont) {
        resend_grown(e, granted);
        return;
    }
    if (!granted) { /* no room: the capped answer as it was */
        esc_finish(e);
        return;
    }
    tg__cont_escalate(e->cont);
    e->host.note(e->host.ud, TG__ESC_NOTE_CONTINUED, tg__cont_generated(e->cont),
                 tg__cont_generated(e->cont) + tg__cont_growth(e->cont));
    next_leg(e);
}

static void ef_head(tg__filter *f, int status, int sse) {
    esc_filter *e = (esc_filter *)f;
    if (!e->cont) { /* re-send mode: a complete 200 answer is needed to know */
        e->holding = !e->escalated && status == 200 && !sse;
        tgx_buf_reset(&e->held);
        tg__filter_head(f->next, status, sse);
        return;
    }
    if (e->leg != LEG_CLIENT) { /* a continuation leg: the client's head went out long ago */
        e->leg_status = status;
        e->leg_bad = status != 200;
        tgx_buf_reset(&e->aux);
        return;
    }
    e->on = status == 200 && sse;
    tg__filter_head(f->next, status, sse);
}

static void ef_data(tg__filter *f, const char *p, size_t n) {
    esc_filter *e = (esc_filter *)f;
    if (e->holding) {
        if (tgx_buf_append(&e->held, p, n) == TG_OK) return;
        release_held(e); /* too big to hold: it goes out as it is */
    }
    if (!e->on && e->leg == LEG_CLIENT) { /* nothing to continue or hold: as it came */
        tg__filter_data(f->next, p, n);
        return;
    }
    if (e->leg == LEG_TEMPLATE || e->leg == LEG_TEXT || e->leg_bad) { /* a whole answer to read, not to pass on */
        if (tgx_buf_append(&e->aux, p, n) != TG_OK) e->leg_bad = 1;
        return;
    }
    tgx_buf out;
    tgx_buf_init(&out, SIZE_MAX);
    int r = tg__cont_feed(e->cont, p, n, &out);
    pass_on(e, &out);
    if (r == TG__CONT_CUT) { /* thinking budget spent: stop this leg, go on after the marker */
        e->host.cancel(e->host.ud);
        leg_done(e);
    }
}

int tg__esc_filter_up_done(tg__filter *f, int fault, const char *fault_name, const char *msg) {
    esc_filter *e = (esc_filter *)f;
    char buf[512];
    if (fault == 0 && !e->leg_bad) {
        if (e->leg == LEG_TEMPLATE || e->leg == LEG_TEXT) {
            tg_error err;
            memset(&err, 0, sizeof err);
            tg_status st = e->leg == LEG_TEXT ? tg__cont_set_text(e->cont, e->aux.data, e->aux.len, &err)
                                              : tg__cont_set_prompt(e->cont, e->aux.data, e->aux.len, &err);
            if (st == TG_OK) next_leg(e);
            else esc_fail(e, err.msg);
            return 1;
        }
        leg_done(e);
        return 1;
    }
    if (e->leg == LEG_CLIENT) return 0; /* the client's own request failed: the usual path */
    if (fault == 0)
        snprintf(buf, sizeof buf, "the upstream answered HTTP %d to a continuation request: %.*s", e->leg_status,
                 (int)(e->aux.len > 300 ? 300 : e->aux.len), e->aux.data ? e->aux.data : "");
    else
        snprintf(buf, sizeof buf, "continuation request: %s: %s", fault_name, msg ? msg : "");
    esc_fail(e, buf);
    return 1;
}

int tg__esc_filter_active(const tg__filter *f) {
    const esc_filter *e = (const esc_filter *)f;
    return f && (e->on || e->leg != LEG_CLIENT);
}

int tg__esc_filter_first_leg(const tg__filter *f) { return f && ((const esc_filter *)f)->leg == LEG_CLIENT; }

const tg__cont *tg__esc_filter_cont(const tg__filter *f) { return f ? ((const esc_filter *)f)->cont : NULL; }

static void ef_destroy(tg__filter *f) {
    esc_filter *e = (esc_filter *)f;
    tg__cont_free(e->cont);
    free(e->fwd_body);
    tgx_buf_free(&e->aux);
    tgx_buf_free(&e->held);
    free(e);
}

static const tg__filter_ops esc_ops = {"escalation", ef_head, ef_data, NULL, ef_destroy};

static esc_filter *esc_alloc(const char *body, size_t len, const tg__esc_host *host) {
    esc_filter *e = calloc(1, sizeof *e);
    char *b = e ? malloc(len + 1) : NULL;
    if (!b) {
        free(e);
        return NULL;
    }
    memcpy(b, body, len);
    b[len] = '\0';
    e->base.ops = &esc_ops;
    e->host = *host;
    e->fwd_body = b;
    e->fwd_len = len;
    tgx_buf_init(&e->aux, 16u << 20);
    tgx_buf_init(&e->held, 64u << 20);
    return e;
}

tg__filter *tg__esc_resend_filter_new(const char *body, size_t len, uint64_t max_tokens, uint64_t escalate_to,
                                      const tg__esc_host *host) {
    esc_filter *e = esc_alloc(body, len, host);
    if (!e) return NULL;
    e->max_tokens = max_tokens;
    e->escalate_to = escalate_to;
    return &e->base;
}

tg__filter *tg__esc_filter_new(tg__cont *cont, const char *body, size_t len, const tg__esc_host *host) {
    esc_filter *e = esc_alloc(body, len, host);
    if (!e) {
        tg__cont_free(cont);
        return NULL;
    }
    e->cont = cont;
    return &e->base;
}

