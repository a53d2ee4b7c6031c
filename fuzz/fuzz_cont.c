/*
 * fuzz_cont.c: libFuzzer target for the stream-continuation protocol
 * (src/gateway/cont.c), which reads whatever an upstream streams: the
 * chat chunks of the first leg and the /completion events of a
 * continuation, split anywhere by the network.
 *
 * Input: one byte of settings (strip logprobs, escalation, thinking budget
 * 0..3 or none, prompt opens thinking, usage), one byte of split size, then
 * the first leg's bytes and, after a 0xff byte, a continuation leg's bytes.
 * Invariants, beyond "no crash, no leak":
 *   - the bytes the client sees do not depend on how the upstream's bytes
 *     were split (fed whole and fed in pieces of the given size);
 *   - a leg ends in DONE, ESCALATE (only with an escalation configured, and
 *     once) or RESUME (only with a thinking budget configured), and a
 *     continuation body, when one is built, is JSON with a prompt array
 *     starting with the rendered prompt and n_predict >= 1;
 *   - finishing after a continuation leg ends the client's stream with
 *     `data: [DONE]`;
 *   - the answer the assembly filter (filters/assemble.c, as a
 *     non-streaming request gets it) makes of the client's bytes is JSON and
 *     does not depend on how those bytes are split either;
 *   - the escalation filter (filters/escalation.c), continuing in place with
 *     the same settings through a host that grants every growth and answers
 *     the prompt request, passes the client the same bytes however the legs
 *     are split, and ends the answer exactly once (finish or fail);
 *   - the thinking-cut filter (filters/think_cut.c) over the first leg, with
 *     the same settings, passes the same bytes, cuts or not and counts the
 *     same thinking tokens however the leg is split; it cuts only under a
 *     thinking budget; when it does not, every byte passed as it came.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/filters/assemble.h"
#include "gateway/filters/escalation.h"
#include "gateway/filters/think_cut.h"
#include "gateway/cont.h"
#include "gateway/engine.h"

static void must(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

typedef struct run {
    tgx_buf out;
    int ends[4];
    int continued;
} run;

static void feed(tg__cont *k, const uint8_t *p, size_t n, size_t piece, tgx_buf *out, int *cut) {
    *cut = 0;
    while (n && !*cut) {
        size_t t = piece && piece < n ? piece : n;
        if (tg__cont_feed(k, (const char *)p, t, out) == TG__CONT_CUT) *cut = 1;
        p += t;
        n -= t;
    }
}

/* The continuation's settings from the input's first byte: escalation,
 * thinking budget (0..6, or none), logprobs stripped, a prompt that opens
 * thinking, usage asked for, a budget message. */
static void cfg_of(uint8_t set, tg__cont_cfg *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->engine = tg__engine_llama_server.cont;
    cfg->max_tokens = 8;
    cfg->escalate_to = (set & 2) ? 32 : 0;
    cfg->think_enforce = (set & 0x1c) != 0;
    cfg->think_budget = cfg->think_enforce ? (uint64_t)((set >> 2) & 7) - 1u : 0;
    cfg->strip_logprobs = set & 1;
    cfg->prompt_opens_thinking = (set & 0x20) != 0;
    cfg->include_usage = (set & 0x40) != 0;
    cfg->budget_message = (set & 0x80) ? "stop now" : NULL;
}

static void one(const uint8_t *d, size_t n, size_t piece, run *r) {
    tg__cont_cfg cfg;
    cfg_of(d[0], &cfg);
    cfg.prompt_tokens = 5;
    json_t *req = json_pack("{s:f,s:i}", "temperature", 0.0, "seed", 1);
    tg__cont *k = tg__cont_new(&cfg, req);
    json_decref(req);
    tgx_buf_init(&r->out, 64u << 20);
    if (!k) return;
    const uint8_t *p = d + 2;
    size_t len = n - 2;
    const uint8_t *sep = memchr(p, 0xff, len);
    size_t first = sep ? (size_t)(sep - p) : len;
    int cut = 0;
    feed(k, p, first, piece, &r->out, &cut);
    int legs = 0, escalations = 0;
    for (;;) {
        int e = tg__cont_leg_end(k);
        must(e == TG__CONT_DONE || e == TG__CONT_ESCALATE || e == TG__CONT_RESUME, "leg end result");
        r->ends[e]++;
        must(e != TG__CONT_ESCALATE || cfg.escalate_to, "escalation without escalate_to");
        must(e != TG__CONT_RESUME || cfg.think_enforce, "resume without a thinking budget");
        if (e == TG__CONT_DONE || legs >= 3) break;
        if (e == TG__CONT_ESCALATE) {
            must(++escalations == 1, "escalated twice");
            tg__cont_escalate(k);
        }
        if (tg__cont_needs_prompt(k)) {
            tg_error err;
            must(tg__cont_set_prompt(k, "{\"prompt\":\"P\"}", 14, &err) == TG_OK, "prompt taken");
        }
        char *body = NULL;
        size_t blen = 0;
        tg_error err;
        tg_status st = tg__cont_next_body(k, &body, &blen, &r->out, &err);
        if (st != TG_OK) break;
        json_error_t je;
        json_t *b = json_loadb(body, blen, 0, &je);
        json_t *pr = json_object_get(b, "prompt");
        must(json_is_array(pr) && !strcmp(json_string_value(json_array_get(pr, 0)) ? json_string_value(json_array_get(pr, 0)) : "", "P"),
             "continuation prompt starts with the rendered prompt");
        must(json_integer_value(json_object_get(b, "n_predict")) >= 1, "n_predict >= 1");
        json_decref(b);
        free(body);
        r->continued = 1;
        legs++;
        if (sep) feed(k, sep + 1, len - first - 1, piece, &r->out, &cut);
    }
    tg__cont_finish(k, &r->out);
    if (r->continued) {
        must(r->out.len >= 14 && !memcmp(r->out.data + r->out.len - 14, "data: [DONE]\n\n", 14) ,
             "a continued stream ends with [DONE]");
    }
    tg__cont_free(k);
}

/* ---- the escalation filter, through a host that grants and records ----- */

typedef struct esc_run {
    tg__filter *f;
    int sends, ends, grows, cancelled;
    int template_next; /* the request sent was the engine's prompt_path */
} esc_run;

static int eh_send(void *ud, const char *path, const char *body, size_t len) {
    esc_run *r = ud;
    (void)body;
    (void)len;
    r->sends++;
    r->template_next = path && !strcmp(path, tg__engine_llama_server.cont->prompt_path);
    return 0;
}
static void eh_cancel(void *ud) { ((esc_run *)ud)->cancelled = 1; }
static void eh_grow(void *ud, uint64_t n) {
    esc_run *r = ud;
    (void)n;
    r->grows++;
}
static void eh_flush(void *ud) { (void)ud; }
static void eh_finish(void *ud) { ((esc_run *)ud)->ends++; }
static void eh_fail(void *ud, const char *msg, int held) {
    (void)msg;
    if (!held) ((esc_run *)ud)->ends++;
}
static void eh_note(void *ud, int what, uint64_t a, uint64_t b) {
    (void)ud;
    (void)what;
    (void)a;
    (void)b;
}

/* One leg's bytes; after a cancel (the cut) nothing more of it arrives. */
static void esc_feed(tg__filter *f, esc_run *r, const uint8_t *p, size_t n, size_t piece) {
    tg__filter_head(f, 200, 1);
    for (size_t i = 0; i < n && !r->cancelled; i += piece ? piece : n)
        tg__filter_data(f, (const char *)p + i, piece && n - i > piece ? piece : n - i);
}

/* The legs: the first leg, then each continuation the filter asks for
 * gets the input's second part (the prompt request its template answer). */
static void esc_one(const uint8_t *d, size_t n, size_t piece, tgx_buf *out) {
    tg__cont_cfg cfg;
    cfg_of(d[0], &cfg);
    json_t *req = json_pack("{s:f}", "temperature", 0.0);
    tg__cont *k = tg__cont_new(&cfg, req);
    json_decref(req);
    if (!k) return;
    esc_run r;
    memset(&r, 0, sizeof r);
    tg__esc_host host = {&r, eh_send, eh_cancel, eh_grow, eh_flush, eh_finish, eh_fail, eh_note};
    tg__filter_sink sink;
    tg__filter_sink_init(&sink, 64u << 20);
    tg__filter *f = tg__esc_filter_new(k, "{}", 2, &host);
    must(f != NULL, "escalation filter made");
    f->next = &sink.base;
    const uint8_t *p = d + 2, *sep = memchr(p, 0xff, n - 2);
    size_t first = sep ? (size_t)(sep - p) : n - 2;
    int sends = r.sends;
    esc_feed(f, &r, p, first, piece);
    for (int legs = 0; legs < 8 && !r.ends; legs++) {
        if (!r.cancelled) { /* the leg ended on its own (a cut leg's next one is under way already) */
            int grows = r.grows;
            if (!tg__esc_filter_up_done(f, 0, "ok", NULL)) break; /* not a 200 stream: not the filter's */
            if (r.grows > grows) tg__esc_filter_grown(f, 1);
        }
        r.cancelled = 0;
        if (r.ends || r.sends == sends) break;
        sends = r.sends;
        if (r.template_next) esc_feed(f, &r, (const uint8_t *)"{\"prompt\":\"P\"}", 14, 0);
        else esc_feed(f, &r, sep ? sep + 1 : p, sep ? n - 2 - first - 1 : 0, piece);
    }
    must(r.ends <= 1, "the answer ends at most once");
    tgx_buf_init(out, 64u << 20);
    tgx_buf_append(out, sink.out.data ? sink.out.data : "", sink.out.len);
    tg__filter_free(f);
    tg__filter_sink_free(&sink);
}

static void esc_check(const uint8_t *d, size_t n) {
    tgx_buf x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    esc_one(d, n, 0, &x);
    esc_one(d, n, (size_t)d[1] % 11 + 1, &y);
    must(x.len == y.len && (!x.len || !memcmp(x.data, y.data, x.len)),
         "the escalation filter's bytes do not depend on the split");
    tgx_buf_free(&x);
    tgx_buf_free(&y);
}

/* The thinking-cut filter over the first leg in pieces of `piece` (0: whole). */
static tg__filter *think_run(const uint8_t *d, size_t n, size_t piece, tg__filter_sink *sink) {
    uint8_t set = d[0];
    tg__think_cfg tc = {(set & 0x1c) != 0, 0, NULL, NULL, (set & 0x80) ? "stop now" : NULL, (set & 0x20) != 0};
    tc.budget = tc.enforce ? (uint64_t)((set >> 2) & 7) - 1u : 0;
    tg__filter_sink_init(sink, 64u << 20);
    tg__filter *f = tg__think_cut_filter_new(&tc);
    must(f != NULL, "think_cut filter made");
    f->next = &sink->base;
    const uint8_t *sep = memchr(d + 2, 0xff, n - 2);
    size_t len = sep ? (size_t)(sep - (d + 2)) : n - 2;
    tg__filter_head(f, 200, 1);
    for (size_t i = 0; i < len; i += piece ? piece : len)
        tg__filter_data(f, (const char *)d + 2 + i, piece && len - i > piece ? piece : len - i);
    tg__filter_end(f);
    if (tg__think_cut_filter_cut(f))
        must(tc.enforce, "a cut only under a thinking budget");
    else must(sink->out.len == len && (!len || !memcmp(sink->out.data, d + 2, len)), "no cut: passed as it came");
    return f;
}

static void think_check(const uint8_t *d, size_t n) {
    tg__filter_sink sx, sy;
    tg__filter *x = think_run(d, n, 0, &sx), *y = think_run(d, n, (size_t)d[1] % 13 + 1, &sy);
    must(sx.out.len == sy.out.len && (!sx.out.len || !memcmp(sx.out.data, sy.out.data, sx.out.len)),
         "the thinking cut's bytes do not depend on the split");
    must(tg__think_cut_filter_cut(x) == tg__think_cut_filter_cut(y) &&
             tg__think_cut_filter_thought(x) == tg__think_cut_filter_thought(y),
         "the thinking cut's decision does not depend on the split");
    tg__filter_free(x);
    tg__filter_free(y);
    tg__filter_sink_free(&sx);
    tg__filter_sink_free(&sy);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 2 || n > (1u << 20)) return 0;
    run a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    one(d, n, 0, &a);
    one(d, n, (size_t)d[1] % 17 + 1, &b);
    must(a.out.len == b.out.len && (!a.out.len || !memcmp(a.out.data, b.out.data, a.out.len)),
         "the client's bytes do not depend on how the upstream's were split");
    must(!memcmp(a.ends, b.ends, sizeof a.ends), "leg ends do not depend on the split");
    /* the assembly filter (filters/assemble.h), fed whole and in pieces */
    tg__filter_sink sx, sy;
    tg__filter_sink_init(&sx, 64u << 20);
    tg__filter_sink_init(&sy, 64u << 20);
    tg__filter *x = tg__asm_filter_new(), *y = tg__asm_filter_new();
    must(x && y, "filters made");
    x->next = &sx.base;
    y->next = &sy.base;
    tg__filter_head(x, 200, 1);
    tg__filter_head(y, 200, 1);
    tg__filter_data(x, a.out.data, a.out.len);
    size_t step = (size_t)d[1] % 7 + 1;
    for (size_t i = 0; i < b.out.len; i += step) tg__filter_data(y, b.out.data + i, b.out.len - i < step ? b.out.len - i : step);
    tg__filter_end(x);
    tg__filter_end(y);
    size_t xl = sx.out.len, yl = sy.out.len;
    const char *xs = sx.out.data, *ys = sy.out.data;
    must(xs && ys && xl == yl && !memcmp(xs, ys, xl), "the assembled answer does not depend on the split");
    json_error_t je;
    json_t *j = json_loadb(xs, xl, 0, &je);
    must(json_is_object(j) && (json_is_array(json_object_get(j, "choices")) || tg__asm_filter_only_error(x)),
         "the assembled answer is a JSON object: a chat.completion, or the error that alone came");
    json_decref(j);
    tg__filter_free(x);
    tg__filter_free(y);
    tg__filter_sink_free(&sx);
    tg__filter_sink_free(&sy);
    tgx_buf_free(&a.out);
    tgx_buf_free(&b.out);
    think_check(d, n);
    esc_check(d, n);
    return 0;
}
