/*
 * gateway/cont.c: the protocol of continuing a streamed chat answer in
 * place (cont.h has the design; proxy.c runs the legs).
 *
 * State over the whole answer: the ids generated so far (the first leg's
 * from each chunk's logprobs, a continuation's from the leg events the
 * engine adapter reads, engine.h; llama-server's /completion `tokens`),
 * whether the model is thinking and how many tokens it thought, the cap
 * (max_tokens, escalate_to once escalated) and the first leg's identity
 * (id, created, model, system_fingerprint) that every chunk tokgate writes
 * reuses. Thinking is recognised as llama-server shows it: chunks whose
 * delta carries `reasoning_content`, or (when the server does not parse
 * reasoning) the text between the open and close markers in `content`.
 *
 * Whatever cannot be read (an event over 4 MiB, a chunk that is not JSON,
 * ids missing or disagreeing with the server's own count) turns the
 * exchange into a plain relay: everything from then on goes to the client
 * as it came and nothing continues, so a surprise costs the extension, never
 * the answer.
 */
#define _GNU_SOURCE /* memmem */
#include "gateway/cont.h"
#include "gateway/engine.h"

#include <stdlib.h>
#include <string.h>

#define EVENT_MAX (4u << 20)

enum { LEG_CHAT, LEG_COMPLETION };
enum { END_NONE, END_LENGTH, END_STOP, END_CUT };

struct tg__cont {
    tg__cont_cfg cfg;
    char *open, *close, *message; /* owned copies */
    json_t *fwd;          /* the request's sampling fields */
    int leg;
    int plain;            /* unreadable: relay as is, never continue */
    tgx_buf ev;           /* SSE event being assembled */
    size_t scan;          /* where in ev to look for the event's end next */
    json_t *ids;          /* generated ids, all legs */
    uint64_t n_first;     /* ids of the first leg */
    uint64_t n_later;     /* tokens_predicted of continuation legs */
    uint64_t n_leg;       /* ids seen in the current continuation leg */
    uint64_t cap;         /* generated tokens allowed in total */
    int escalated;
    /* thinking */
    int thinking;         /* the model is thinking now */
    int think_in_content; /* 1: shown as text in content, 0: as reasoning_content,
                             -1: not known yet (the prompt opened the block) */
    int seen_answer;      /* answer text or tool calls began */
    int cut;              /* the budget cut happened (once) */
    int pending_marker;   /* the next leg's prompt ends with the close marker */
    uint64_t n_think;
    tgx_buf hold;         /* completion text that may be the start of the close marker */
    int after_close;      /* strip whitespace before the answer's first text */
    /* the first leg */
    json_t *ident;        /* {"id","created","model","system_fingerprint"} */
    int64_t up_prompt, up_completion; /* its usage; -1 unseen */
    int end;              /* how the current leg ended */
    tgx_buf tail;         /* held ending of the first leg (its raw events) */
    int holding;
    char *prompt;         /* /apply-template's prompt */
    int done_sent;
};

tg__cont *tg__cont_new(const tg__cont_cfg *cfg, const json_t *request) {
    tg__cont *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->cfg = *cfg;
    k->open = strdup(cfg->think_open && *cfg->think_open ? cfg->think_open : "<think>");
    k->close = strdup(cfg->think_close && *cfg->think_close ? cfg->think_close : "</think>");
    k->message = cfg->budget_message && *cfg->budget_message ? strdup(cfg->budget_message) : NULL;
    k->cfg.think_open = k->cfg.think_close = k->cfg.budget_message = NULL;
    k->ids = json_array();
    k->ident = json_object();
    k->fwd = json_object(); /* the sampling fields only: the request may be large */
    for (const char *const *key = cfg->engine->sampling_keys; k->fwd && key && *key; key++) {
        json_t *v = json_object_get(request, *key);
        if (v && !json_is_null(v)) json_object_set_new(k->fwd, *key, json_deep_copy(v));
    }
    k->cap = cfg->max_tokens;
    k->up_prompt = k->up_completion = -1;
    if (cfg->prompt_opens_thinking) { /* shown as reasoning_content or content: the first chunk says */
        k->thinking = 1;
        k->think_in_content = -1;
    }
    tgx_buf_init(&k->ev, EVENT_MAX);
    tgx_buf_init(&k->tail, EVENT_MAX);
    tgx_buf_init(&k->hold, 1u << 16);
    if (!k->open || !k->close || (cfg->budget_message && *cfg->budget_message && !k->message) || !k->ids ||
        !k->ident || !k->fwd) {
        tg__cont_free(k);
        return NULL;
    }
    return k;
}

void tg__cont_free(tg__cont *k) {
    if (!k) return;
    free(k->open);
    free(k->close);
    free(k->message);
    free(k->prompt);
    json_decref(k->fwd);
    json_decref(k->ids);
    json_decref(k->ident);
    tgx_buf_free(&k->ev);
    tgx_buf_free(&k->tail);
    tgx_buf_free(&k->hold);
    free(k);
}

uint64_t tg__cont_generated(const tg__cont *k) { return k->n_first + k->n_later; }
uint64_t tg__cont_prompt_tokens(const tg__cont *k) {
    return k->up_prompt >= 0 ? (uint64_t)k->up_prompt : k->cfg.prompt_tokens;
}
uint64_t tg__cont_thinking(const tg__cont *k) { return k->n_think; }
uint64_t tg__cont_growth(const tg__cont *k) {
    return k->cfg.escalate_to > k->cfg.max_tokens ? k->cfg.escalate_to - k->cfg.max_tokens : 0;
}
int tg__cont_escalated(const tg__cont *k) { return k->escalated; }
int tg__cont_has_ending(const tg__cont *k) { return k->leg == LEG_CHAT && k->tail.len > 0; }
int tg__cont_needs_prompt(const tg__cont *k) { return k->prompt == NULL; }

static int budget_spent(const tg__cont *k) {
    return k->cfg.think_enforce && !k->cut && k->thinking && k->n_think >= k->cfg.think_budget;
}

/* ---- the first leg: chat.completion.chunk events ------------------------- */

void tg__chunk_ident(json_t *ident, json_t *chunk) {
    static const char *const keys[] = {"created", "id", "model", "system_fingerprint"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(chunk, keys[i]);
        if (v && (i == 0 || !json_object_get(ident, keys[i]))) json_object_set(ident, keys[i], v);
    }
}

/* Thinking state after one chunk's delta. */
static void chat_thinking(tg__cont *k, json_t *delta) {
    const char *rc = json_string_value(json_object_get(delta, "reasoning_content"));
    const char *ct = json_string_value(json_object_get(delta, "content"));
    json_t *tc = json_object_get(delta, "tool_calls");
    if (rc && *rc && !k->seen_answer) {
        k->thinking = 1;
        k->think_in_content = 0;
    }
    if (ct && *ct) {
        if (k->thinking && k->think_in_content < 0) k->think_in_content = 1; /* the prompt opened it */
        if (k->thinking && k->think_in_content) {
            if (strstr(ct, k->close)) k->thinking = 0, k->seen_answer = 1;
        } else if (k->thinking) {
            k->thinking = 0, k->seen_answer = 1; /* answer after reasoning_content */
        } else if (!k->seen_answer && strstr(ct, k->open)) {
            const char *o = strstr(ct, k->open);
            k->thinking = 1;
            k->think_in_content = 1;
            if (strstr(o, k->close)) k->thinking = 0, k->seen_answer = 1;
        } else if (strspn(ct, " \t\r\n") < strlen(ct)) {
            k->seen_answer = 1;
        }
    }
    if (json_array_size(tc)) k->thinking = 0, k->seen_answer = 1;
}

/* One chat chunk (parsed). Appends what the client sees to out. */
static int chat_chunk(tg__cont *k, json_t *o, const char *raw, size_t rawlen, tgx_buf *out) {
    tg__chunk_ident(k->ident, o);
    json_t *usage = json_object_get(o, "usage");
    if (json_is_object(usage)) {
        json_t *p = json_object_get(usage, "prompt_tokens"), *c = json_object_get(usage, "completion_tokens");
        if (json_is_integer(p)) k->up_prompt = json_integer_value(p);
        if (json_is_integer(c)) k->up_completion = json_integer_value(c);
    }
    json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
    uint64_t n_new = 0;
    if (ch) {
        json_t *lp = json_object_get(json_object_get(ch, "logprobs"), "content");
        size_t i;
        json_t *e;
        json_array_foreach(lp, i, e) {
            if (!json_is_integer(json_object_get(e, "id"))) {
                k->plain = 1; /* ids are what continuing needs */
                break;
            }
            n_new++;
        }
        json_t *delta = json_object_get(ch, "delta");
        int was_thinking = k->thinking, was_in_content = k->think_in_content, was_answer = k->seen_answer;
        chat_thinking(k, delta);
        /* A chunk's ids were thought when it shows reasoning or thinking
         * goes on after it (the chunk that opens a thinking block counts,
         * the one whose text ends it does not). */
        int rc = json_string_length(json_object_get(delta, "reasoning_content")) > 0;
        uint64_t thought = rc || k->thinking ? (n_new ? n_new : (uint64_t)rc) : 0;
        if (thought && (rc || was_thinking) && k->cfg.think_enforce && !k->cut && !k->plain &&
            k->n_think + thought > k->cfg.think_budget) {
            /* past the budget: this chunk is not shown and its ids not kept;
             * the answer goes on from the budget's last token */
            k->thinking = was_thinking, k->think_in_content = was_in_content, k->seen_answer = was_answer;
            if (!k->thinking) k->thinking = 1, k->think_in_content = !rc;
            if (k->think_in_content < 0) k->think_in_content = !rc;
            return TG__CONT_CUT;
        }
        json_array_foreach(lp, i, e) {
            if (i >= n_new) break;
            json_array_append(k->ids, json_object_get(e, "id"));
        }
        k->n_first += n_new;
        k->n_think += thought;
        const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
        if (fr) k->end = !strcmp(fr, "length") ? END_LENGTH : END_STOP;
        if (fr && k->end == END_LENGTH && k->cfg.escalate_to > k->cap && !k->escalated && !k->plain)
            k->holding = 1;
        if (k->cfg.strip_logprobs) json_object_del(ch, "logprobs");
    }
    tgx_buf *dst = k->holding ? &k->tail : out;
    if (k->cfg.strip_logprobs && ch) {
        char *s = json_dumps(o, JSON_COMPACT);
        if (!s) return TG__CONT_GO;
        tgx_buf_puts(dst, "data: ");
        tgx_buf_puts(dst, s);
        tgx_buf_puts(dst, "\n\n");
        free(s);
    } else {
        tgx_buf_append(dst, raw, rawlen);
    }
    return budget_spent(k) && !k->plain ? TG__CONT_CUT : TG__CONT_GO;
}

/* ---- continuation legs: /completion events --------------------------------- */

static void emit_chunk(tg__cont *k, const char *field, const char *text, size_t len, const char *finish,
                       tgx_buf *out) {
    json_t *o = json_object();
    json_t *delta = json_object();
    json_t *choice = json_object();
    if (!o || !delta || !choice) goto out;
    if (field) json_object_set_new(delta, field, json_stringn(text, len));
    json_object_set_new(choice, "finish_reason", finish ? json_string(finish) : json_null());
    json_object_set_new(choice, "index", json_integer(0));
    json_object_set(choice, "delta", delta);
    json_t *choices = json_array();
    json_array_append(choices, choice);
    json_object_set_new(o, "choices", choices);
    json_object_update(o, k->ident);
    json_object_set_new(o, "object", json_string("chat.completion.chunk"));
    char *s = json_dumps(o, JSON_COMPACT);
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
}

/* Longest suffix of s[0..n) that is a proper prefix of m. */
static size_t partial_suffix(const char *s, size_t n, const char *m) {
    size_t ml = strlen(m);
    for (size_t l = ml - 1 < n ? ml - 1 : n; l > 0; l--)
        if (memcmp(s + n - l, m, l) == 0) return l;
    return 0;
}

/* Text generated by a continuation, routed as llama-server's reasoning
 * parser would: reasoning_content up to the close marker (dropped, with the
 * whitespace after it), content after. When thinking shows in content, all
 * of it is content and the marker only flips the state. */
static void completion_text(tg__cont *k, const char *p, size_t n, int final, tgx_buf *out) {
    if (!k->thinking || k->think_in_content > 0) {
        if (k->thinking && k->think_in_content > 0) {
            tgx_buf_append(&k->hold, p, n);
            const char *c = memmem(k->hold.data, k->hold.len, k->close, strlen(k->close));
            if (c) k->thinking = 0, k->seen_answer = 1;
            size_t keep = c || final ? 0 : partial_suffix(k->hold.data, k->hold.len, k->close);
            if (k->hold.len - keep) emit_chunk(k, "content", k->hold.data, k->hold.len - keep, NULL, out);
            memmove(k->hold.data, k->hold.data + k->hold.len - keep, keep);
            k->hold.len = keep;
            return;
        }
        if (k->after_close) {
            while (n && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++, n--;
            if (n) k->after_close = 0;
        }
        if (n) {
            k->seen_answer = 1;
            emit_chunk(k, "content", p, n, NULL, out);
        }
        return;
    }
    tgx_buf_append(&k->hold, p, n);
    const char *c = memmem(k->hold.data, k->hold.len, k->close, strlen(k->close));
    if (c) {
        size_t before = (size_t)(c - k->hold.data), cl = strlen(k->close);
        if (before) emit_chunk(k, "reasoning_content", k->hold.data, before, NULL, out);
        k->thinking = 0;
        k->after_close = 1;
        size_t rest = k->hold.len - before - cl;
        char *r = k->hold.data + before + cl;
        k->hold.len = 0;
        if (rest) completion_text(k, r, rest, final, out);
        return;
    }
    size_t keep = final ? 0 : partial_suffix(k->hold.data, k->hold.len, k->close);
    if (k->hold.len - keep) emit_chunk(k, "reasoning_content", k->hold.data, k->hold.len - keep, NULL, out);
    memmove(k->hold.data, k->hold.data + k->hold.len - keep, keep);
    k->hold.len = keep;
}

/* One event of a continuation leg, as the engine reads it. */
static int completion_event(tg__cont *k, const tg__leg_event *ev, tgx_buf *out) {
    size_t i;
    json_t *e;
    uint64_t n_new = 0;
    json_array_foreach(ev->ids, i, e) {
        if (!json_is_integer(e)) {
            k->plain = 1;
            break;
        }
        json_array_append(k->ids, e);
        n_new++;
    }
    k->n_leg += n_new;
    if (k->thinking) k->n_think += n_new;
    if (ev->text) completion_text(k, ev->text, ev->text_len, ev->stop, out);
    if (ev->stop) {
        uint64_t pred = ev->predicted >= 0 ? (uint64_t)ev->predicted : k->n_leg;
        if (pred != k->n_leg) k->plain = 1; /* ids and count disagree: no further leg */
        k->n_later += pred;
        k->end = ev->length ? END_LENGTH : END_STOP;
        if (k->hold.len) completion_text(k, "", 0, 1, out);
    }
    return budget_spent(k) && !k->plain ? TG__CONT_CUT : TG__CONT_GO;
}

/* ---- SSE framing ----------------------------------------------------------- */

const char *tg__sse_data(const char *ev, size_t n, size_t *dl) {
    if (n >= 5 && !memcmp(ev, "data:", 5)) {
        size_t s = (n > 5 && ev[5] == ' ') ? 6u : 5u;
        size_t e = n;
        while (e > s && (ev[e - 1] == '\n' || ev[e - 1] == '\r')) e--;
        if (memchr(ev + s, '\n', e - s)) return NULL; /* multi-line data: not a chunk tokgate reads */
        *dl = e - s;
        return ev + s;
    }
    return NULL;
}

static int one_event(tg__cont *k, const char *ev, size_t n, tgx_buf *out) {
    if (k->plain) {
        tgx_buf_append(k->holding ? &k->tail : out, ev, n);
        return TG__CONT_GO;
    }
    size_t dl = 0;
    const char *d = tg__sse_data(ev, n, &dl);
    if (!d) {
        if (k->leg == LEG_CHAT) tgx_buf_append(k->holding ? &k->tail : out, ev, n);
        return TG__CONT_GO;
    }
    if (dl == 6 && !memcmp(d, "[DONE]", 6)) {
        if (k->leg == LEG_CHAT) tgx_buf_append(k->holding ? &k->tail : out, ev, n);
        return TG__CONT_GO;
    }
    json_error_t je;
    json_t *o = json_loadb(d, dl, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        if (k->leg == LEG_CHAT) {
            k->plain = 1;
            tgx_buf_append(k->holding ? &k->tail : out, ev, n);
        } else { /* a continuation that says what it is not: an error the client should see */
            k->plain = 1;
            tgx_buf_append(out, ev, n);
        }
        return TG__CONT_GO;
    }
    int r = TG__CONT_GO;
    tg__leg_event le;
    if (k->leg == LEG_CHAT) r = chat_chunk(k, o, ev, n, out);
    else if (k->cfg.engine->read_event(o, &le) == TG__LEG_EVENT) r = completion_event(k, &le, out);
    else { /* the engine's error event mid-stream, or what it is not: for the client */
        k->plain = 1;
        tgx_buf_append(out, ev, n);
    }
    json_decref(o);
    return r;
}

int tg__cont_feed(tg__cont *k, const char *p, size_t n, tgx_buf *out) {
    if (k->plain && !k->ev.len) {
        tgx_buf_append(k->holding ? &k->tail : out, p, n);
        return TG__CONT_GO;
    }
    if (tgx_buf_append(&k->ev, p, n) != TG_OK) { /* an event over the cap: relay it all as it is */
        k->plain = 1;
        tgx_buf_append(k->holding ? &k->tail : out, k->ev.data, k->ev.len);
        tgx_buf_append(k->holding ? &k->tail : out, p, n);
        tgx_buf_reset(&k->ev);
        k->scan = 0;
        return TG__CONT_GO;
    }
    size_t pos = 0;
    for (;;) { /* an event ends at a blank line */
        size_t from = k->scan > pos && k->scan <= k->ev.len ? k->scan : pos;
        const char *s = k->ev.data + from;
        size_t rem = k->ev.len - from;
        const char *e = memmem(s, rem, "\n\n", 2);
        size_t el = 2;
        const char *e2 = memmem(s, rem, "\r\n\r\n", 4);
        if (e2 && (!e || e2 < e)) e = e2, el = 4;
        if (!e) {
            k->scan = k->ev.len >= 3 ? k->ev.len - 3 : 0;
            break;
        }
        size_t evlen = (size_t)(e - (k->ev.data + pos)) + el;
        int r = one_event(k, k->ev.data + pos, evlen, out);
        pos += evlen;
        k->scan = pos;
        if (r == TG__CONT_CUT) { /* the rest of this leg is not wanted */
            k->cut = 1;
            k->end = END_CUT;
            tgx_buf_reset(&k->ev);
            k->scan = 0;
            return TG__CONT_CUT;
        }
    }
    if (k->plain) { /* from now on everything goes out as it comes */
        tgx_buf_append(k->holding ? &k->tail : out, k->ev.data + pos, k->ev.len - pos);
        tgx_buf_reset(&k->ev);
        k->scan = 0;
        return TG__CONT_GO;
    }
    if (pos) {
        memmove(k->ev.data, k->ev.data + pos, k->ev.len - pos);
        k->ev.len -= pos;
        k->scan = k->scan >= pos ? k->scan - pos : 0;
    }
    return TG__CONT_GO;
}

/* ---- leg ends and the next leg --------------------------------------------- */

int tg__cont_leg_end(tg__cont *k) {
    if (k->end == END_CUT) return TG__CONT_RESUME;
    if (k->plain) return TG__CONT_DONE;
    if (k->leg == LEG_CHAT && k->up_completion >= 0 && (uint64_t)k->up_completion != k->n_first) {
        k->plain = 1; /* the ids do not add up to the server's own count */
        return TG__CONT_DONE;
    }
    if (k->end == END_LENGTH && !k->escalated && k->cfg.escalate_to > k->cap &&
        tg__cont_generated(k) < k->cfg.escalate_to)
        return TG__CONT_ESCALATE;
    return TG__CONT_DONE;
}

void tg__cont_escalate(tg__cont *k) {
    k->escalated = 1;
    k->cap = k->cfg.escalate_to;
}

tg_status tg__cont_set_prompt(tg__cont *k, const char *body, size_t len, tg_error *err) {
    char *p = NULL;
    tg_status st = k->cfg.engine->read_prompt(body, len, &p, err);
    if (st != TG_OK) return st;
    free(k->prompt);
    k->prompt = p;
    return TG_OK;
}

const tg__engine_cont *tg__cont_engine(const tg__cont *k) { return k->cfg.engine; }


tg_status tg__cont_next_body(tg__cont *k, char **body, size_t *len, tgx_buf *out, tg_error *err) {
    *body = NULL;
    *len = 0;
    if (!k->prompt) return tg_error_set(err, TG_EINVAL, "no rendered prompt to continue from");
    uint64_t gen = tg__cont_generated(k);
    if (gen >= k->cap) return tg_error_set(err, TG_ELIMIT, "nothing left to generate: %llu of %llu tokens used",
                                           (unsigned long long)gen, (unsigned long long)k->cap);
    if (k->end == END_CUT) { /* the thinking cut: the model reads the close marker next */
        tgx_buf mk;
        tgx_buf_init(&mk, 1u << 16);
        if (k->message) tgx_buf_printf(&mk, "\n%s", k->message);
        tgx_buf_printf(&mk, "\n%s\n\n", k->close);
        if (mk.len) json_array_append_new(k->ids, json_stringn(mk.data, mk.len));
        /* The client sees the marker only where it saw the thinking as text
         * in content; as reasoning_content, only the message. */
        int in_content = k->think_in_content > 0;
        int show = in_content && k->n_think > 0;
        if (k->message && !in_content && k->n_think > 0)
            emit_chunk(k, "reasoning_content", mk.data + 1, strlen(k->message), NULL, out);
        if (show) emit_chunk(k, "content", mk.data, mk.len, NULL, out);
        tgx_buf_free(&mk);
        k->thinking = 0;
        k->think_in_content = 0;
        k->after_close = !show;
        k->end = END_NONE;
    }
    json_t *o = k->cfg.engine->leg_body(k->prompt, k->ids, k->fwd, k->cap - gen);
    if (!o) return tg_error_set(err, TG_ENOMEM, "out of memory");
    *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!*body) return tg_error_set(err, TG_ENOMEM, "out of memory");
    *len = strlen(*body);
    k->leg = LEG_COMPLETION;
    k->n_leg = 0;
    k->holding = 0;
    tgx_buf_reset(&k->tail);
    tgx_buf_reset(&k->ev);
    k->scan = 0;
    return TG_OK;
}

void tg__cont_finish(tg__cont *k, tgx_buf *out) {
    if (k->done_sent) return;
    k->done_sent = 1;
    if (k->leg == LEG_CHAT) { /* nothing continued: the first leg's own ending, and any
                                 unterminated bytes after its last event, as they came */
        if (k->tail.len) tgx_buf_append(out, k->tail.data, k->tail.len);
        if (k->ev.len) tgx_buf_append(out, k->ev.data, k->ev.len);
        return;
    }
    if (k->hold.len) completion_text(k, "", 0, 1, out);
    emit_chunk(k, NULL, NULL, 0, k->end == END_LENGTH ? "length" : "stop", out);
    if (k->cfg.include_usage) {
        json_t *o = json_object();
        uint64_t pt = tg__cont_prompt_tokens(k), ct = tg__cont_generated(k);
        json_object_set_new(o, "choices", json_array());
        json_object_update(o, k->ident);
        json_object_set_new(o, "object", json_string("chat.completion.chunk"));
        json_object_set_new(o, "usage", json_pack("{s:I,s:I,s:I}", "completion_tokens", (json_int_t)ct,
                                                  "prompt_tokens", (json_int_t)pt, "total_tokens", (json_int_t)(pt + ct)));
        char *s = json_dumps(o, JSON_COMPACT);
        if (s) {
            tgx_buf_printf(out, "data: %s\n\n", s);
            free(s);
        }
        json_decref(o);
    }
    tgx_buf_puts(out, "data: [DONE]\n\n");
}
