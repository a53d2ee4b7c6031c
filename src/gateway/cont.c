/*
 * gateway/cont.c: the protocol of continuing a streamed chat answer in
 * place (cont.h has the design; the escalation filter,
 * filters/escalation.c, runs the legs): the stream's bookkeeping across
 * legs.
 *
 * State over the whole answer: the ids generated so far (the first leg's
 * from each chunk's logprobs, a continuation's from the leg events the
 * engine adapter reads, engine.h; llama-server's /completion `tokens`),
 * whether the model is thinking and how many tokens it thought, the cap
 * (max_tokens, escalate_to once escalated) and the first leg's identity
 * (id, created, model, system_fingerprint) that every chunk tokgate writes
 * reuses. The thinking state, its count, the cut and the text after it are
 * filters/think_cut.c's (a tg__think this file feeds every chunk and every
 * continuation's text); the events tokgate writes are its tg__chunk_emit.
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
#include "gateway/filters/think_cut.h"
#include "gateway/sse_end.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

#define EVENT_MAX (4u << 20)

enum { LEG_CHAT, LEG_COMPLETION };
enum { END_NONE, END_LENGTH, END_STOP, END_CUT };

struct tg__cont {
    tg__cont_cfg cfg;
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
    tg__think th;         /* the thinking cut (filters/think_cut.h) */
    /* the first leg */
    json_t *ident;        /* {"id","created","model","system_fingerprint"} */
    int64_t up_prompt, up_completion; /* its usage; -1 unseen */
    int end;              /* how the current leg ended */
    tgx_buf tail;         /* held ending of the first leg (its raw events) */
    int holding;
    char *prompt;         /* /apply-template's prompt */
    tgx_buf text, reasoning; /* the first leg's text, for an ids_from_prompt engine (engine.h) */
    int done_sent;
    size_t text_at;       /* with wants_text: the index in ids of the text being tokenized */
    int wants_text;
};

tg__cont *tg__cont_new(const tg__cont_cfg *cfg, const json_t *request) {
    tg__cont *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->cfg = *cfg;
    k->cfg.think_open = k->cfg.think_close = k->cfg.budget_message = NULL;
    tg__think_cfg tc = {cfg->think_enforce, cfg->think_budget, cfg->think_open, cfg->think_close,
                        cfg->budget_message, cfg->prompt_opens_thinking};
    if (tg__think_init(&k->th, &tc) != TG_OK) {
        free(k);
        return NULL;
    }
    k->ids = json_array();
    k->ident = json_object();
    k->fwd = json_object(); /* the sampling fields only: the request may be large */
    for (const char *const *key = cfg->engine->sampling_keys; k->fwd && key && *key; key++) {
        json_t *v = json_object_get(request, *key);
        if (v && !json_is_null(v)) json_object_set_new(k->fwd, *key, json_deep_copy(v));
    }
    k->cap = cfg->max_tokens;
    k->up_prompt = k->up_completion = -1;
    tgx_buf_init(&k->ev, EVENT_MAX);
    tgx_buf_init(&k->tail, EVENT_MAX);
    tgx_buf_init(&k->text, SIZE_MAX);
    tgx_buf_init(&k->reasoning, SIZE_MAX);
    if (!k->ids || !k->ident || !k->fwd) {
        tg__cont_free(k);
        return NULL;
    }
    return k;
}

void tg__cont_free(tg__cont *k) {
    if (!k) return;
    tg__think_free(&k->th);
    free(k->prompt);
    json_decref(k->fwd);
    json_decref(k->ids);
    json_decref(k->ident);
    tgx_buf_free(&k->ev);
    tgx_buf_free(&k->tail);
    tgx_buf_free(&k->text);
    tgx_buf_free(&k->reasoning);
    free(k);
}

uint64_t tg__cont_generated(const tg__cont *k) { return k->n_first + k->n_later; }
uint64_t tg__cont_prompt_tokens(const tg__cont *k) {
    return k->up_prompt >= 0 ? (uint64_t)k->up_prompt : k->cfg.prompt_tokens;
}
uint64_t tg__cont_thinking(const tg__cont *k) { return k->th.n; }
uint64_t tg__cont_growth(const tg__cont *k) {
    return k->cfg.escalate_to > k->cfg.max_tokens ? k->cfg.escalate_to - k->cfg.max_tokens : 0;
}
int tg__cont_escalated(const tg__cont *k) { return k->escalated; }
int tg__cont_has_ending(const tg__cont *k) { return k->leg == LEG_CHAT && k->tail.len > 0; }
int tg__cont_needs_prompt(const tg__cont *k) { return k->prompt == NULL; }

/* ---- the first leg: chat.completion.chunk events ------------------------- */

/* A logprobs entry's token id: llama-server's "id", or vLLM's "token" as
 * "token_id:N" (return_tokens_as_token_ids; vllm/entrypoints/openai/
 * serving_engine.py _get_decoded_token). NULL when it names none. */
static json_t *entry_id(const json_t *e) {
    json_t *id = json_object_get(e, "id");
    if (json_is_integer(id)) return json_incref(id);
    const char *t = json_string_value(json_object_get(e, "token"));
    if (!t || strncmp(t, "token_id:", 9) != 0 || t[9] < '0' || t[9] > '9') return NULL;
    char *end = NULL;
    long long v = strtoll(t + 9, &end, 10);
    return *end || v < 0 ? NULL : json_integer((json_int_t)v);
}

static int fr_here(const json_t *ch) { return json_is_string(json_object_get(ch, "finish_reason")); }

static int delta_has_text(const json_t *d) {
    static const char *const keys[] = {"content", "reasoning_content", "reasoning", NULL};
    for (const char *const *k = keys; *k; k++)
        if (json_string_length(json_object_get(d, *k)) > 0) return 1;
    return json_array_size(json_object_get(d, "tool_calls")) > 0;
}

static void write_event(tgx_buf *dst, const json_t *o) {
    char *s = tgx_json_dumps(o, JSON_COMPACT);
    if (!s) return;
    tgx_buf_puts(dst, "data: ");
    tgx_buf_puts(dst, s);
    tgx_buf_puts(dst, "\n\n");
    free(s);
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
    if (!ch && json_is_object(usage) && k->cfg.engine->ids_from_prompt && !k->cfg.include_usage)
        return TG__CONT_GO; /* the usage tokgate asked for (engine.h ask_ids), not the client */
    if (ch) {
        json_t *lp = json_object_get(json_object_get(ch, "logprobs"), "content");
        size_t i;
        json_t *e;
        int by_text = k->cfg.engine->ids_from_prompt; /* no ids in the chunks: one logprobs entry a token, */
        if (by_text) { /* else one a chunk that carries text (SGLang's reasoning chunks carry no logprobs) */
            json_t *d = json_object_get(ch, "delta");
            n_new = json_array_size(lp);
            if (!n_new && (json_string_length(json_object_get(d, "content")) ||
                           json_string_length(json_object_get(d, "reasoning_content"))))
                n_new = 1;
            lp = NULL;
        }
        json_t *got = json_array();
        json_array_foreach(lp, i, e) {
            json_t *id = entry_id(e);
            if (!id || !got) {
                json_decref(id);
                k->plain = 1; /* ids are what continuing needs */
                break;
            }
            json_array_append_new(got, id);
            n_new++;
        }
        /* past the budget: this chunk is not shown and its ids not kept;
         * the answer goes on from the budget's last token */
        if (tg__think_chunk(&k->th, json_object_get(ch, "delta"), n_new, !k->plain) == TG__THINK_DROP) {
            json_decref(got);
            return TG__CONT_CUT;
        }
        if (by_text) { /* the text kept, for the engine's prompt request (engine.h prompt_body) */
            json_t *d = json_object_get(ch, "delta");
            json_t *c = json_object_get(d, "content"), *rc = json_object_get(d, "reasoning_content");
            if (json_is_string(c)) tgx_buf_append(&k->text, json_string_value(c), json_string_length(c));
            if (json_is_string(rc)) tgx_buf_append(&k->reasoning, json_string_value(rc), json_string_length(rc));
        }
        json_array_extend(k->ids, got);
        json_decref(got);
        k->n_first += n_new;
        const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
        if (fr) k->end = !strcmp(fr, "length") ? END_LENGTH : END_STOP;
        if (fr && k->end == END_LENGTH && k->cfg.escalate_to > k->cap && !k->escalated && !k->plain)
            k->holding = 1;
        if (k->cfg.strip_logprobs) json_object_del(ch, "logprobs");
    }
    tgx_buf *dst = k->holding ? &k->tail : out;
    if (k->holding && fr_here(ch) && delta_has_text(json_object_get(ch, "delta"))) {
        /* the ending chunk carries the last token's text too (vLLM's does,
         * serving_chat.py): the text goes out now, only the ending is held */
        json_t *fr = json_incref(json_object_get(ch, "finish_reason"));
        json_object_set_new(ch, "finish_reason", json_null());
        write_event(out, o);
        json_object_set_new(ch, "finish_reason", fr);
        json_object_set_new(ch, "delta", json_object());
        json_object_del(ch, "logprobs");
        write_event(dst, o);
    } else if (k->cfg.strip_logprobs && ch) {
        char *s = tgx_json_dumps(o, JSON_COMPACT);
        if (!s) return TG__CONT_GO;
        tgx_buf_puts(dst, "data: ");
        tgx_buf_puts(dst, s);
        tgx_buf_puts(dst, "\n\n");
        free(s);
    } else {
        tgx_buf_append(dst, raw, rawlen);
    }
    return tg__think_spent(&k->th) && !k->plain ? TG__CONT_CUT : TG__CONT_GO;
}

/* ---- continuation legs: /completion events --------------------------------- */

static void emit_chunk(tg__cont *k, const char *field, const char *text, size_t len, const char *finish,
                       tgx_buf *out) {
    tg__chunk_emit(k->ident, field, text, len, finish, out);
}

/* Where the thinking cut routes a continuation's text: a chunk for the client. */
struct emit_to {
    tg__cont *k;
    tgx_buf *out;
};
static void emit_text(void *ud, const char *field, const char *text, size_t len) {
    struct emit_to *t = ud;
    emit_chunk(t->k, field, text, len, NULL, t->out);
}

static void completion_text(tg__cont *k, const char *p, size_t n, int final, tgx_buf *out) {
    struct emit_to to = {k, out};
    tg__think_text(&k->th, p, n, final, emit_text, &to);
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
    tg__think_leg_ids(&k->th, n_new);
    if (ev->text) completion_text(k, ev->text, ev->text_len, ev->stop, out);
    if (ev->stop) {
        uint64_t pred = ev->predicted >= 0 ? (uint64_t)ev->predicted : k->n_leg;
        if (pred != k->n_leg) k->plain = 1; /* ids and count disagree: no further leg */
        k->n_later += pred;
        k->end = ev->length ? END_LENGTH : END_STOP;
        if (k->th.hold.len) completion_text(k, "", 0, 1, out);
    }
    return tg__think_spent(&k->th) && !k->plain ? TG__CONT_CUT : TG__CONT_GO;
}

/* ---- SSE framing ----------------------------------------------------------- */

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
        size_t el;
        const char *e = tg__sse_event_end(s, rem, &el);
        if (!e) {
            k->scan = k->ev.len >= 3 ? k->ev.len - 3 : 0;
            break;
        }
        size_t evlen = (size_t)(e - (k->ev.data + pos)) + el;
        int r = one_event(k, k->ev.data + pos, evlen, out);
        pos += evlen;
        k->scan = pos;
        if (r == TG__CONT_CUT) { /* the rest of this leg is not wanted */
            k->th.cut = 1;
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

int tg__cont_failover(tg__cont *k) {
    if (k->plain || k->end != END_NONE || k->done_sent || k->holding || k->cfg.engine->ids_from_prompt) return 0;
    if (k->leg != LEG_CHAT) { /* the leg's ids so far count as generated (its own count never came) */
        k->n_later += k->n_leg;
        k->n_leg = 0;
    }
    tgx_buf_reset(&k->ev); /* an event cut in half never reached the client */
    k->scan = 0;
    return tg__cont_generated(k) < k->cap;
}

int tg__cont_leg_end(tg__cont *k) {
    if (k->end == END_CUT) return TG__CONT_RESUME;
    if (k->plain) return TG__CONT_DONE;
    if (k->leg == LEG_CHAT && k->cfg.engine->ids_from_prompt) { /* the engine's count stands for the ids */
        if (k->up_completion < 0) return TG__CONT_DONE;
        k->n_first = (uint64_t)k->up_completion; /* (a leg cut short was counted by its logprobs entries) */
    }
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

char *tg__cont_prompt_body(const tg__cont *k, const char *fwd, size_t len, size_t *out_len) {
    json_error_t je;
    json_t *f = json_loadb(fwd, len, 0, &je);
    json_t *o = f ? k->cfg.engine->prompt_body(f, k->text.data ? k->text.data : "", k->text.len,
                                               k->reasoning.data ? k->reasoning.data : "", k->reasoning.len)
                  : NULL;
    char *s = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    json_decref(f);
    *out_len = s ? strlen(s) : 0;
    return s;
}


/* An engine whose legs take ids only (engine.h text_path): the first text in
 * ids becomes the body of a request that tokenizes it. 1 when it does. */
static int text_request(tg__cont *k, char **body, size_t *len, tg_error *err) {
    const tg__engine_cont *eng = k->cfg.engine;
    k->wants_text = 0;
    if (!eng->text_path || !eng->text_body || !eng->read_text_ids) return 0;
    size_t i;
    json_t *e;
    json_array_foreach(k->ids, i, e) {
        if (!json_is_string(e)) continue;
        json_t *o = eng->text_body(json_string_value(e), json_string_length(e));
        *body = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        if (!*body) {
            tg_error_set(err, TG_ENOMEM, "out of memory");
            return 1;
        }
        *len = strlen(*body);
        k->text_at = i;
        k->wants_text = 1;
        return 1;
    }
    return 0;
}

int tg__cont_wants_text(const tg__cont *k) { return k->wants_text; }

tg_status tg__cont_set_text(tg__cont *k, const char *body, size_t len, tg_error *err) {
    json_t *ids = NULL;
    k->wants_text = 0;
    tg_status st = k->cfg.engine->read_text_ids(body, len, &ids, err);
    if (st != TG_OK) return st;
    json_t *rest = json_array();
    size_t n = json_array_size(k->ids);
    for (size_t i = k->text_at + 1; rest && i < n; i++) json_array_append(rest, json_array_get(k->ids, i));
    while (json_array_size(k->ids) > k->text_at) json_array_remove(k->ids, k->text_at);
    int bad = !rest || json_array_extend(k->ids, ids) || json_array_extend(k->ids, rest);
    json_decref(ids);
    json_decref(rest);
    return bad ? tg_error_set(err, TG_ENOMEM, "out of memory") : TG_OK;
}

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
        struct emit_to to = {k, out};
        tg__think_resume(&k->th, &mk, emit_text, &to);
        if (mk.len) json_array_append_new(k->ids, json_stringn(mk.data, mk.len));
        tgx_buf_free(&mk);
        k->end = END_NONE;
    }
    if (text_request(k, body, len, err)) return *body ? TG_OK : TG_ENOMEM;
    json_t *o = k->cfg.engine->leg_body(k->prompt, k->ids, k->fwd, k->cap - gen);
    if (!o) return tg_error_set(err, TG_ENOMEM, "out of memory");
    *body = tgx_json_dumps(o, JSON_COMPACT);
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
    if (k->th.hold.len) completion_text(k, "", 0, 1, out);
    emit_chunk(k, NULL, NULL, 0, k->end == END_LENGTH ? "length" : "stop", out);
    if (k->cfg.include_usage) {
        json_t *o = json_object();
        uint64_t pt = tg__cont_prompt_tokens(k), ct = tg__cont_generated(k);
        json_object_set_new(o, "choices", json_array());
        json_object_update(o, k->ident);
        json_object_set_new(o, "object", json_string("chat.completion.chunk"));
        json_object_set_new(o, "usage", json_pack("{s:I,s:I,s:I}", "completion_tokens", (json_int_t)ct,
                                                  "prompt_tokens", (json_int_t)pt, "total_tokens", (json_int_t)pt + (json_int_t)ct));
        char *s = tgx_json_dumps(o, JSON_COMPACT);
        if (s) {
            tgx_buf_printf(out, "data: %s\n\n", s);
            free(s);
        }
        json_decref(o);
    }
    tgx_buf_puts(out, "data: [DONE]\n\n");
}
