/*
 * test_filter_escalation.c: the escalation policy (src/gateway/filters/
 * escalation.c) and the continuation it plans (cont.c over the llama-server
 * adapter), without sockets.
 *
 * Policy (escalation.h): continue in place only on an engine that can and
 * a request that allows it (one choice, no tools or grammars); a
 * non-streaming request is then sent as a stream with usage; otherwise a
 * non-streaming answer escalates by re-sending, a stream not at all.
 *
 * Continuation, fed split at every byte offset: a first leg of
 * chat.completion.chunk events carrying logprobs ids (llama-server with
 * "logprobs": true; tools/server/README.md) that stops on "length" at the
 * capped 3 tokens, then a /completion leg with return_tokens (events
 * {"content","tokens","stop"}, the last with tokens_predicted and stop_type
 * "limit"). Expected, from those shapes and the cap: the client sees the
 * first leg's chunks without the logprobs it did not ask for, the held
 * "length" ending replaced by the continuation's text as chunks with the
 * first leg's id, one final chunk with finish_reason "length", a usage
 * chunk with completion_tokens 3 + 5 = 8, and one `data: [DONE]` last; the
 * leg request is prompt [rendered prompt, the 3 ids] with n_predict 5.
 *
 * The filter that runs the legs (tg__esc_filter_new), driven through a
 * host that records what it is asked: growth by escalate_to - max_tokens =
 * 5, then llama-server's /apply-template with the forwarded body, then
 * /completion; the same client stream whatever the split; a refused growth
 * ends with the first leg's own "length" ending and [DONE]; a failed leg
 * before the escalation ran ends the answer as it was.
 *
 * Re-send mode (tg__esc_resend_filter_new), with llama-server's
 * non-streaming chat.completion: a 200 answer that is not a stream is held
 * (nothing passes); on finish_reason "length" the growth is escalate_to -
 * max_tokens and the escalated body is sent, and the retry's answer passes
 * byte for byte; on "stop", or when no room comes, the held head is asked
 * for and the held bytes pass as they came; an error, a stream or an
 * answer without a body is never held.
 */
#include <jansson.h>

#include "tg_test.h"

#include "gateway/engine.h"
#include "gateway/filters/escalation.h"

static tg__model_cfg cfg;

static void model(tg__model *m, const tg__engine_cont *cont) {
    memset(m, 0, sizeof *m);
    memset(&cfg, 0, sizeof cfg);
    m->cfg = &cfg;
    m->cont = cont;
}

static void test_policy(void) {
    tg__model m;
    model(&m, tg__engine_llama_server.cont);
    tg__esc_budget b = {10, 8, 32, 0, 0};
    json_t *req = json_pack("{s:s,s:[{s:s,s:s}]}", "model", "m", "messages", "role", "user", "content", "hi");
    json_t *send = NULL;
    tg__cont *k = tg__escalation_plan(&m, 1, 1, req, &send, &b);
    TG_CHECK(k != NULL);
    TG_CHECK(json_is_true(json_object_get(send, "logprobs"))); /* ids asked for */
    TG_CHECK(json_object_get(send, "stream") == NULL);      /* a stream already */
    tg__cont_free(k);
    json_decref(send);
    send = NULL;
    json_decref(req); /* the plan rewrote it in place (send was a reference to it) */
    req = json_pack("{s:s,s:[{s:s,s:s}]}", "model", "m", "messages", "role", "user", "content", "hi");
    send = json_deep_copy(req);
    k = tg__escalation_plan(&m, 1, 0, req, &send, &b); /* non-streaming: sent as a stream, assembled */
    TG_CHECK(k != NULL);
    TG_CHECK(json_is_true(json_object_get(send, "stream")));
    TG_CHECK(json_is_true(json_object_get(json_object_get(send, "stream_options"), "include_usage")));
    TG_CHECK(!tg__escalation_resends(0, k != NULL, 8, 32, 1)); /* one way only */
    tg__cont_free(k);
    json_decref(send);
    send = NULL;
    /* not continuable: tools, n > 1, a grammar; a text response_format is fine */
    TG_CHECK(json_object_get(req, "stream") == NULL); /* the copy was rewritten, not the request */
    json_t *r2 = json_deep_copy(req);
    json_object_set_new(r2, "tools", json_pack("[{s:s}]", "type", "function"));
    TG_CHECK(tg__escalation_plan(&m, 1, 1, r2, &send, &b) == NULL);
    json_object_del(r2, "tools");
    json_object_set_new(r2, "n", json_integer(2));
    TG_CHECK(tg__escalation_plan(&m, 1, 1, r2, &send, &b) == NULL);
    json_object_del(r2, "n");
    json_object_set_new(r2, "grammar", json_string("root ::= \"a\""));
    TG_CHECK(tg__escalation_plan(&m, 1, 1, r2, &send, &b) == NULL);
    json_object_del(r2, "grammar");
    json_object_set_new(r2, "response_format", json_pack("{s:s}", "type", "text"));
    k = tg__escalation_plan(&m, 1, 1, r2, &send, &b);
    TG_CHECK(k != NULL);
    tg__cont_free(k);
    json_decref(send);
    send = NULL;
    json_decref(r2);
    TG_CHECK(tg__escalation_plan(&m, 0, 1, req, &send, &b) == NULL); /* /v1/completions */
    tg__esc_budget none = {10, 8, 0, 0, 0};
    TG_CHECK(tg__escalation_plan(&m, 1, 1, req, &send, &none) == NULL); /* nothing to continue for */
    TG_CHECK(send == NULL);
    /* an engine without continuation: non-streaming re-sends, streams do not */
    model(&m, NULL);
    TG_CHECK(tg__escalation_plan(&m, 1, 0, req, &send, &b) == NULL);
    TG_CHECK(tg__escalation_resends(0, 0, 8, 32, 1));
    TG_CHECK(!tg__escalation_resends(1, 0, 8, 32, 1));
    TG_CHECK(!tg__escalation_resends(0, 0, 32, 32, 1));
    json_decref(req);
    static const char len_body[] = "{\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"message\":{}}]}";
    static const char stop_body[] = "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":{}}]}";
    TG_CHECK(tg__escalation_hit_length(len_body, sizeof len_body - 1));
    TG_CHECK(!tg__escalation_hit_length(stop_body, sizeof stop_body - 1));
    TG_CHECK(!tg__escalation_hit_length(len_body, 20)); /* cut short: not JSON */
}

static const char first_leg[] =
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],"
    "\"created\":100,\"id\":\"chatcmpl-x\",\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" a\"},\"logprobs\":{\"content\":"
    "[{\"id\":264,\"token\":\" a\",\"logprob\":-0.5,\"top_logprobs\":[]}]}}],\"created\":100,\"id\":\"chatcmpl-x\","
    "\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" b\"},\"logprobs\":{\"content\":"
    "[{\"id\":293,\"token\":\" b\",\"logprob\":-0.5,\"top_logprobs\":[]}]}}],\"created\":101,\"id\":\"chatcmpl-x\","
    "\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" c\"},\"logprobs\":{\"content\":"
    "[{\"id\":272,\"token\":\" c\",\"logprob\":-0.5,\"top_logprobs\":[]}]}}],\"created\":101,\"id\":\"chatcmpl-x\","
    "\"model\":\"tiny\",\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}],\"created\":101,\"id\":\"chatcmpl-x\","
    "\"model\":\"tiny\",\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":3,\"prompt_tokens\":10,"
    "\"total_tokens\":13}}\n\n"
    "data: [DONE]\n\n";

static const char second_leg[] =
    "data: {\"index\":0,\"content\":\" d\",\"tokens\":[294],\"stop\":false,\"id_slot\":0}\n\n"
    "data: {\"index\":0,\"content\":\" e e\",\"tokens\":[384,384],\"stop\":false,\"id_slot\":0}\n\n"
    "data: {\"index\":0,\"content\":\" f\",\"tokens\":[282],\"stop\":false,\"id_slot\":0}\n\n"
    "data: {\"index\":0,\"content\":\" g\",\"tokens\":[342],\"stop\":false,\"id_slot\":0}\n\n"
    "data: {\"index\":0,\"content\":\"\",\"tokens\":[],\"stop\":true,\"id_slot\":0,\"tokens_predicted\":5,"
    "\"tokens_evaluated\":14,\"stop_type\":\"limit\"}\n\n";

static void feed(tg__cont *k, const char *p, size_t n, size_t cut, tgx_buf *out) {
    TG_CHECK_EQ_I(tg__cont_feed(k, p, cut, out), TG__CONT_GO);
    TG_CHECK_EQ_I(tg__cont_feed(k, p + cut, n - cut, out), TG__CONT_GO);
}

/* One run, both legs split at (cut1, cut2); the client's bytes in out. */
static void run(size_t cut1, size_t cut2, tgx_buf *out, int check_body) {
    tg__model m;
    model(&m, tg__engine_llama_server.cont);
    tg__esc_budget b = {10, 3, 8, 0, 0};
    json_t *req = json_pack("{s:s,s:[],s:b,s:{s:b},s:f}", "model", "m", "messages", "stream", 1, "stream_options",
                            "include_usage", 1, "temperature", 0.0);
    json_t *send = NULL;
    tg__cont *k = tg__escalation_plan(&m, 1, 1, req, &send, &b);
    json_decref(req);
    json_decref(send);
    TG_CHECK(k != NULL);
    if (!k) return;
    feed(k, first_leg, sizeof first_leg - 1, cut1, out);
    TG_CHECK_EQ_I(tg__cont_leg_end(k), TG__CONT_ESCALATE);
    TG_CHECK_EQ_U(tg__cont_growth(k), 5);
    tg__cont_escalate(k);
    TG_CHECK(tg__cont_needs_prompt(k));
    tg_error err;
    static const char tpl[] = "{\"prompt\":\"<|im_start|>user\\n<|im_end|>\\n<|im_start|>assistant\\n\"}";
    TG_CHECK_EQ_I(tg__cont_set_prompt(k, tpl, sizeof tpl - 1, &err), TG_OK);
    char *body = NULL;
    size_t blen = 0;
    TG_CHECK_EQ_I(tg__cont_next_body(k, &body, &blen, out, &err), TG_OK);
    if (check_body) {
        json_t *o = json_loadb(body, blen, 0, NULL), *w = json_pack("[s,i,i,i]", "<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n", 264, 293, 272);
        TG_CHECK(json_equal(json_object_get(o, "prompt"), w));
        TG_CHECK_EQ_I(json_integer_value(json_object_get(o, "n_predict")), 5);
        TG_CHECK(json_is_true(json_object_get(o, "return_tokens")));
        json_decref(o);
        json_decref(w);
    }
    free(body);
    feed(k, second_leg, sizeof second_leg - 1, cut2, out);
    TG_CHECK_EQ_I(tg__cont_leg_end(k), TG__CONT_DONE);
    tg__cont_finish(k, out);
    tg__cont_free(k);
}

/* What the client sees of the continued answer, read event by event. */
static void check_client_stream(const tgx_buf *whole) {
    json_t *ids = json_array();
    tgx_buf text;
    tgx_buf_init(&text, 1u << 20);
    int finishes = 0, done = 0, done_last = 0, logprobs = 0;
    int64_t usage = -1;
    const char *p = whole->data, *end = whole->data + whole->len;
    while (p < end) {
        const char *e = strstr(p, "\n\n");
        if (!e) break;
        TG_CHECK(!strncmp(p, "data: ", 6));
        done_last = 0;
        if (!strncmp(p, "data: [DONE]", 12)) done++, done_last = 1;
        else {
            json_t *o = json_loadb(p + 6, (size_t)(e - p - 6), 0, NULL);
            TG_CHECK(o != NULL);
            json_array_append(ids, json_object_get(o, "id"));
            json_t *c = json_array_get(json_object_get(o, "choices"), 0);
            const char *t = json_string_value(json_object_get(json_object_get(c, "delta"), "content"));
            if (t) tgx_buf_puts(&text, t);
            if (json_string_value(json_object_get(c, "finish_reason"))) {
                finishes++;
                TG_CHECK_STR(json_string_value(json_object_get(c, "finish_reason")), "length");
            }
            if (json_object_get(c, "logprobs")) logprobs++;
            json_t *u = json_object_get(json_object_get(o, "usage"), "completion_tokens");
            if (u) usage = json_integer_value(u);
            json_decref(o);
        }
        p = e + 2;
    }
    tgx_buf_putc(&text, '\0');
    TG_CHECK_STR(text.data, " a b c d e e f g");
    TG_CHECK_EQ_I(finishes, 1);
    TG_CHECK_EQ_I(done, 1);
    TG_CHECK(done_last);
    TG_CHECK_EQ_I(logprobs, 0);
    TG_CHECK_EQ_I(usage, 8);
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v) TG_CHECK_STR(json_string_value(v), "chatcmpl-x");
    json_decref(ids);
    tgx_buf_free(&text);
}

static void test_continued_stream(void) {
    tgx_buf whole;
    tgx_buf_init(&whole, 1u << 24);
    run(sizeof first_leg - 1, sizeof second_leg - 1, &whole, 1);
    check_client_stream(&whole);
    /* the same bytes whatever the split */
    size_t bad = 0;
    for (size_t c2 = 0; c2 < sizeof second_leg; c2++) { /* every offset of the continuation */
        tgx_buf o;
        tgx_buf_init(&o, 1u << 24);
        run(sizeof first_leg - 1, c2, &o, 0);
        if (o.len != whole.len || memcmp(o.data, whole.data, o.len)) bad++;
        tgx_buf_free(&o);
    }
    for (size_t c1 = 0; c1 < sizeof first_leg; c1++) { /* every offset of the first leg */
        tgx_buf o;
        tgx_buf_init(&o, 1u << 24);
        run(c1, sizeof second_leg - 1, &o, 0);
        if (o.len != whole.len || memcmp(o.data, whole.data, o.len)) bad++;
        tgx_buf_free(&o);
    }
    TG_CHECK_EQ_U(bad, 0);
    tgx_buf_free(&whole);
}

/* ---- the filter that runs the legs, through a host that records ---------- */

typedef struct host_log {
    int sends, cancels, finishes, fails, held, flushes, notes[4];
    uint64_t grow;
    char path[64];
    char *body;
    size_t len;
} host_log;

static int h_send(void *ud, const char *path, const char *body, size_t len) {
    host_log *h = ud;
    h->sends++;
    snprintf(h->path, sizeof h->path, "%s", path);
    free(h->body);
    h->body = malloc(len + 1);
    memcpy(h->body, body, len);
    h->body[len] = '\0';
    h->len = len;
    return 0;
}
static void h_cancel(void *ud) { ((host_log *)ud)->cancels++; }
static void h_grow(void *ud, uint64_t n) { ((host_log *)ud)->grow = n; }
static void h_finish(void *ud) { ((host_log *)ud)->finishes++; }
static void h_flush(void *ud) { ((host_log *)ud)->flushes++; }
static void h_fail(void *ud, const char *msg, int held) {
    (void)msg;
    ((host_log *)ud)->fails++;
    ((host_log *)ud)->held = held;
}
static void h_note(void *ud, int what, uint64_t a, uint64_t b) {
    (void)a;
    (void)b;
    ((host_log *)ud)->notes[what]++;
}

static void feed_f(tg__filter *f, int status, const char *p, size_t n, size_t cut) {
    tg__filter_head(f, status, 1);
    tg__filter_data(f, p, cut);
    tg__filter_data(f, p + cut, n - cut);
}

static tg__filter *esc_new(host_log *h, tg__filter_sink *sink) {
    tg__model m;
    model(&m, tg__engine_llama_server.cont);
    tg__esc_budget b = {10, 3, 8, 0, 0};
    json_t *req = json_pack("{s:s,s:[],s:b,s:{s:b},s:f}", "model", "m", "messages", "stream", 1, "stream_options",
                            "include_usage", 1, "temperature", 0.0);
    json_t *send = NULL;
    tg__cont *k = tg__escalation_plan(&m, 1, 1, req, &send, &b);
    json_decref(req);
    json_decref(send);
    memset(h, 0, sizeof *h);
    tg__esc_host host = {h, h_send, h_cancel, h_grow, h_flush, h_finish, h_fail, h_note};
    static const char fwd[] = "{\"model\":\"m\",\"messages\":[]}";
    tg__filter *f = tg__esc_filter_new(k, fwd, sizeof fwd - 1, &host);
    TG_CHECK(f != NULL);
    tg__filter_sink_init(sink, 1u << 24);
    if (f) f->next = &sink->base;
    return f;
}

/* The legs as the filter asks the exchange for them: growth by 5, the
 * engine's /apply-template with the forwarded body, then /completion;
 * the client's stream as from cont.c directly. */
static void run_filter(size_t cut1, size_t cut2, tgx_buf *out) {
    host_log h;
    tg__filter_sink sink;
    tg__filter *f = esc_new(&h, &sink);
    if (!f) return;
    TG_CHECK(!tg__esc_filter_active(f)); /* before the first leg's head */
    feed_f(f, 200, first_leg, sizeof first_leg - 1, cut1);
    TG_CHECK(tg__esc_filter_active(f) && tg__esc_filter_first_leg(f));
    TG_CHECK_EQ_I(tg__esc_filter_up_done(f, 0, "ok", NULL), 1);
    TG_CHECK_EQ_U(h.grow, 5);
    TG_CHECK_EQ_I(h.sends, 0);
    tg__esc_filter_grown(f, 1);
    TG_CHECK_EQ_I(h.notes[TG__ESC_NOTE_CONTINUED], 1);
    TG_CHECK_EQ_I(h.sends, 1);
    TG_CHECK_STR(h.path, "/apply-template");
    TG_CHECK(h.body && !strcmp(h.body, "{\"model\":\"m\",\"messages\":[]}"));
    static const char tpl[] = "{\"prompt\":\"<|im_start|>user\\n<|im_end|>\\n<|im_start|>assistant\\n\"}";
    feed_f(f, 200, tpl, sizeof tpl - 1, sizeof tpl - 1);
    TG_CHECK_EQ_I(tg__esc_filter_up_done(f, 0, "ok", NULL), 1);
    TG_CHECK_EQ_I(h.sends, 2);
    TG_CHECK_STR(h.path, "/completion");
    feed_f(f, 200, second_leg, sizeof second_leg - 1, cut2);
    TG_CHECK_EQ_I(h.finishes, 0);
    TG_CHECK_EQ_I(tg__esc_filter_up_done(f, 0, "ok", NULL), 1);
    TG_CHECK_EQ_I(h.finishes, 1);
    TG_CHECK_EQ_I(h.fails + h.cancels, 0);
    tgx_buf_append(out, sink.out.data ? sink.out.data : "", sink.out.len);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
    free(h.body);
}

static void test_filter_legs(void) {
    tgx_buf whole;
    tgx_buf_init(&whole, 1u << 24);
    run_filter(sizeof first_leg - 1, sizeof second_leg - 1, &whole);
    check_client_stream(&whole);
    size_t bad = 0;
    for (size_t c = 0; c < sizeof first_leg; c++) {
        tgx_buf o;
        tgx_buf_init(&o, 1u << 24);
        run_filter(c, c < sizeof second_leg ? c : sizeof second_leg - 1, &o);
        if (o.len != whole.len || memcmp(o.data, whole.data, o.len)) bad++;
        tgx_buf_free(&o);
    }
    TG_CHECK_EQ_U(bad, 0);
    tgx_buf_free(&whole);
}

/* The escalation's growth refused: the capped answer as it came (the first
 * leg's own "length" ending, [DONE]); a failing /apply-template leg before
 * the escalation is under way: the failure is told with the ending held, and
 * the answer ends as it was; the first leg's own failure is not the
 * filter's. */
static void test_filter_endings(void) {
    host_log h;
    tg__filter_sink sink;
    tg__filter *f = esc_new(&h, &sink);
    if (!f) return;
    feed_f(f, 200, first_leg, sizeof first_leg - 1, 0);
    tg__esc_filter_up_done(f, 0, "ok", NULL);
    tg__esc_filter_grown(f, 0);
    TG_CHECK_EQ_I(h.finishes, 1);
    TG_CHECK_EQ_I(h.sends, 0);
    tgx_buf_putc(&sink.out, '\0');
    TG_CHECK(strstr(sink.out.data, "\"finish_reason\":\"length\"") != NULL);
    TG_CHECK(strstr(sink.out.data, "data: [DONE]\n\n") != NULL);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
    free(h.body);

    f = esc_new(&h, &sink);
    if (!f) return;
    feed_f(f, 200, first_leg, sizeof first_leg - 1, 0);
    tg__esc_filter_up_done(f, 0, "ok", NULL);
    tg__esc_filter_grown(f, 1);
    static const char err[] = "{\"error\":{\"code\":500,\"message\":\"boom\",\"type\":\"server_error\"}}";
    feed_f(f, 500, err, sizeof err - 1, 3);
    TG_CHECK_EQ_I(tg__esc_filter_up_done(f, 0, "ok", NULL), 1);
    TG_CHECK_EQ_I(h.fails, 1);
    TG_CHECK_EQ_I(h.held, 1);
    TG_CHECK_EQ_I(h.finishes, 1);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
    free(h.body);

    f = esc_new(&h, &sink);
    if (!f) return;
    tg__filter_head(f, 200, 1);
    TG_CHECK_EQ_I(tg__esc_filter_up_done(f, 3, "reset", "connection reset"), 0);
    TG_CHECK_EQ_I(h.fails + h.finishes, 0);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
    free(h.body);
}

/* ---- re-send mode ---------------------------------------------------------- */

/* llama-server's non-streaming chat.completion (tools/server/README.md). */
#define ANSWER(fr)                                                                                               \
    "{\"choices\":[{\"finish_reason\":\"" fr "\",\"index\":0,\"message\":{\"role\":\"assistant\","            \
    "\"content\":\" a b c\"}}],\"created\":100,\"model\":\"tiny\",\"object\":\"chat.completion\","             \
    "\"usage\":{\"completion_tokens\":3,\"prompt_tokens\":10,\"total_tokens\":13},\"id\":\"chatcmpl-y\"}"

static tg__filter *resend_new(host_log *h, tg__filter_sink *sink) {
    memset(h, 0, sizeof *h);
    tg__esc_host host = {h, h_send, h_cancel, h_grow, h_flush, h_finish, h_fail, h_note};
    static const char esc[] = "{\"model\":\"m\",\"max_tokens\":8}";
    tg__filter *f = tg__esc_resend_filter_new(esc, sizeof esc - 1, 3, 8, &host);
    TG_CHECK(f != NULL);
    tg__filter_sink_init(sink, 1u << 20);
    if (f) f->next = &sink->base;
    return f;
}

static void test_resend(void) {
    static const char len_ans[] = ANSWER("length"), stop_ans[] = ANSWER("stop");
    size_t bad = 0;
    for (size_t cut = 0; cut < sizeof len_ans; cut++) {
        host_log h;
        tg__filter_sink sink;
        tg__filter *f = resend_new(&h, &sink);
        if (!f) return;
        /* "length" at the capped 3: held, nothing passes; growth by 8 - 3; the escalated body re-sent */
        tg__filter_head(f, 200, 0);
        TG_CHECK(tg__esc_filter_holding(f));
        tg__filter_data(f, len_ans, cut);
        tg__filter_data(f, len_ans + cut, sizeof len_ans - 1 - cut);
        if (sink.out.len) bad++;
        TG_CHECK_EQ_I(tg__esc_filter_held_done(f), 1);
        TG_CHECK_EQ_I(h.notes[TG__ESC_NOTE_LENGTH], 1);
        TG_CHECK_EQ_U(h.grow, 5);
        tg__esc_filter_grown(f, 1);
        TG_CHECK_EQ_I(h.notes[TG__ESC_NOTE_RESENT], 1);
        TG_CHECK_EQ_I(h.sends, 1);
        TG_CHECK(h.body && !strcmp(h.body, "{\"model\":\"m\",\"max_tokens\":8}"));
        TG_CHECK_EQ_I(h.flushes, 0);
        /* the retry's answer passes as it comes, even on "length" (once) */
        tg__filter_head(f, 200, 0);
        TG_CHECK(!tg__esc_filter_holding(f));
        tg__filter_data(f, len_ans, cut);
        tg__filter_data(f, len_ans + cut, sizeof len_ans - 1 - cut);
        TG_CHECK_EQ_I(tg__esc_filter_held_done(f), 0);
        if (sink.out.len != sizeof len_ans - 1 || memcmp(sink.out.data, len_ans, sink.out.len)) bad++;
        tg__filter_free(f);
        tg__filter_sink_free(&sink);
        free(h.body);

        /* "stop": the held head, then the held bytes as they came */
        f = resend_new(&h, &sink);
        tg__filter_head(f, 200, 0);
        tg__filter_data(f, stop_ans, cut < sizeof stop_ans ? cut : 0);
        tg__filter_data(f, stop_ans + (cut < sizeof stop_ans ? cut : 0),
                        sizeof stop_ans - 1 - (cut < sizeof stop_ans ? cut : 0));
        TG_CHECK_EQ_I(tg__esc_filter_held_done(f), 0);
        TG_CHECK_EQ_I(h.flushes, 1);
        TG_CHECK_EQ_I(h.sends + h.notes[TG__ESC_NOTE_LENGTH], 0);
        if (sink.out.len != sizeof stop_ans - 1 || memcmp(sink.out.data, stop_ans, sink.out.len)) bad++;
        tg__filter_free(f);
        tg__filter_sink_free(&sink);
        free(h.body);
    }
    TG_CHECK_EQ_U(bad, 0);
    /* no KV room: the capped answer as it was, then the end */
    host_log h;
    tg__filter_sink sink;
    tg__filter *f = resend_new(&h, &sink);
    tg__filter_head(f, 200, 0);
    tg__filter_data(f, len_ans, sizeof len_ans - 1);
    TG_CHECK_EQ_I(tg__esc_filter_held_done(f), 1);
    tg__esc_filter_grown(f, 0);
    TG_CHECK_EQ_I(h.flushes, 1);
    TG_CHECK_EQ_I(h.finishes, 1);
    TG_CHECK_EQ_I(h.sends, 0);
    TG_CHECK(sink.out.len == sizeof len_ans - 1 && !memcmp(sink.out.data, len_ans, sink.out.len));
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
    /* not held: an error status, a stream, an answer without a body (status 0) */
    int st[3] = {500, 200, 0}, sse[3] = {0, 1, 0};
    for (int i = 0; i < 3; i++) {
        f = resend_new(&h, &sink);
        tg__filter_head(f, st[i], sse[i]);
        TG_CHECK(!tg__esc_filter_holding(f));
        tg__filter_data(f, len_ans, sizeof len_ans - 1);
        TG_CHECK_EQ_U(sink.out.len, sizeof len_ans - 1); /* passed on at once */
        TG_CHECK_EQ_I(tg__esc_filter_held_done(f), 0);
        TG_CHECK_EQ_I(h.flushes, 0);
        tg__filter_free(f);
        tg__filter_sink_free(&sink);
    }
}

int main(void) {
    TG_RUN(test_policy);
    TG_RUN(test_continued_stream);
    TG_RUN(test_filter_legs);
    TG_RUN(test_filter_endings);
    TG_RUN(test_resend);
    return tg_test_summary();
}
