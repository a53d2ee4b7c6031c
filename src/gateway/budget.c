/* gateway/budget.c: the adapter onto tg_budget_decide (see budget.h): the
 * model table's entry as a tg_budget_model, and the decision as x-tokgate-*
 * header lines. Every number and error comes from the library; nothing here
 * decides. Runs on a worker thread for large bodies. */
#include "gateway/budget.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/modelfiles.h"
#include "gateway/req_fast.h"
#include "tokgate/adaptive.h"
#include "util/buf.h"

void tg__budget_model(const tg__model *m, tg_budget_model *bm) {
    memset(bm, 0, sizeof *bm);
    bm->settings = &m->settings;
    bm->limits = &m->limits;
    bm->tok = m->tok;
    bm->chat = m->chat;
    bm->chat_dialect = (tg_chat_dialect)m->chat_dialect;
    bm->cache = m->tok && m->chat ? tg__count_cache_for(m->tok) : NULL;
    bm->adaptive = m->adaptive;
}

static void put_int(tgx_buf *h, int v) { /* "%d" */
    if (v < 0) tgx_buf_putc(h, '-');
    tgx_buf_u64(h, v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v);
}

static void decision_headers(tgx_buf *h, const tg_budget_decision *bd) {
    const tg_budget *b = &bd->d.budget;
    /* written piece by piece: printf cost more than the rest of the decision */
    tgx_buf_puts(h, "x-tokgate-prompt-tokens: ");
    tgx_buf_u64(h, b->prompt_tokens);
    tgx_buf_puts(h, "\r\nx-tokgate-prompt-exact: ");
    put_int(h, b->prompt_tokens_exact);
    tgx_buf_puts(h, "\r\n");
    if (bd->d.action == TG_ACTION_REJECT) return;
    tgx_buf_puts(h, "x-tokgate-max-tokens: ");
    tgx_buf_u64(h, b->max_tokens);
    tgx_buf_puts(h, "\r\nx-tokgate-max-tokens-source: ");
    tgx_buf_puts(h, tg_max_tokens_source_name(b->max_tokens_source));
    tgx_buf_puts(h, "\r\nx-tokgate-clamped: ");
    put_int(h, b->clamped);
    tgx_buf_puts(h, "\r\nx-tokgate-truncated: ");
    put_int(h, bd->d.truncation.applied);
    tgx_buf_puts(h, "\r\n");
    if (b->escalate_to) tgx_buf_printf(h, "x-tokgate-escalate-to: %llu\r\n", (unsigned long long)b->escalate_to);
    if (b->thinking_tokens) tgx_buf_printf(h, "x-tokgate-thinking-tokens: %llu\r\n", (unsigned long long)b->thinking_tokens);
    if (b->adaptive) { /* thinking_mode adaptive: its class, the budget it answered and where from */
        char name[32];
        tg_adaptive_class c = {b->adaptive_band, b->adaptive_code, b->adaptive_asked};
        tg_adaptive_class_name(c, name, sizeof name);
        tgx_buf_printf(h, "x-tokgate-thinking-adaptive: budget=%llu; class=%s; source=%s; samples=%u\r\n",
                       (unsigned long long)b->adaptive_budget, name, b->adaptive_from_samples ? "samples" : "catalogue",
                       (unsigned)b->adaptive_samples);
    }
}

/* The model's limits as lines onto H, piece by piece. */
static void limit_lines(const tg__model *m, tgx_buf *h) {
    tgx_buf_puts(h, "x-tokgate-limit-context: ");
    tgx_buf_u64(h, m->limits.context);
    tgx_buf_puts(h, "\r\nx-tokgate-limit-input: ");
    tgx_buf_u64(h, m->limits.input);
    tgx_buf_puts(h, "\r\nx-tokgate-limit-output: ");
    tgx_buf_u64(h, m->limits.output);
    tgx_buf_puts(h, "\r\n");
}

/* ---- the same lines in one append (issue 17) ----------------------------
 * decision_headers and limit_lines wrote ~20 pieces per request, each a
 * strlen, a room test and a copy: the usual decision (no escalation, no
 * thinking, no adaptive class) is written here into a stack array, literal
 * lengths known, then appended once. Anything else, or an append refused
 * (the ceiling), goes the piecewise way: byte-for-byte the same text
 * (tests/gateway/test_req_fast.c compares both on a spread of decisions). */
#define LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + (sizeof(s) - 1))

static char *dec_u64(char *p, uint64_t v) { return p + tgx_u64_dec(p, v); }

static char *dec_int(char *p, int v) { /* put_int's "%d" */
    if (v < 0) *p++ = '-';
    return dec_u64(p, v < 0 ? (uint64_t)(-(int64_t)v) : (uint64_t)v);
}

enum { LINES_ROOM = 512, SOURCE_MAX = 64 }; /* 7 numbers of <= 20 digits, the names, a source name <= 64 */

/* The three limit lines for the limits this thread saw last: made again only
 * when they change (a model's limits move only when its engine reports new
 * ones), else copied whole, room included (LIMIT_ROOM bytes, n of them the
 * text). */
enum { LIMIT_ROOM = 160 }; /* 25 + 23 + 24 bytes of names, 3 x (20 digits + CRLF) */
typedef struct limit_text_cache {
    uint64_t context, input, output;
    size_t n; /* 0: not made yet */
    char s[LIMIT_ROOM];
} limit_text_cache;
static _Thread_local limit_text_cache limit_cache;

static char *limit_text(char *p, const tg_limits *l) {
    limit_text_cache *c = &limit_cache; /* the thread's address once (a call where the code is position-independent) */
    if (!c->n || c->context != l->context || c->input != l->input || c->output != l->output) {
        char *q = LIT(c->s, "x-tokgate-limit-context: ");
        q = dec_u64(q, l->context);
        q = LIT(q, "\r\nx-tokgate-limit-input: ");
        q = dec_u64(q, l->input);
        q = LIT(q, "\r\nx-tokgate-limit-output: ");
        q = dec_u64(q, l->output);
        q = LIT(q, "\r\n");
        c->n = (size_t)(q - c->s);
        c->context = l->context;
        c->input = l->input;
        c->output = l->output;
    }
    memcpy(p, c->s, LIMIT_ROOM); /* a fixed size: a few vector moves, not a call */
    return p + c->n;
}

static int lines_at_once(const tg__model *m, tgx_buf *h, const tg_budget_decision *bd) {
    const tg_budget *b = &bd->d.budget;
    if (b->escalate_to || b->thinking_tokens || b->adaptive) return 0;
    const char *src = NULL;
    size_t sl = 0;
    if (bd->d.action != TG_ACTION_REJECT) {
        src = tg_max_tokens_source_name(b->max_tokens_source);
        sl = strlen(src);
        if (sl > SOURCE_MAX) return 0;
    }
    _Static_assert(LINES_ROOM >= 300 + LIMIT_ROOM, "the decision's lines (<= 291 bytes) and the limits' room");
    char line[LINES_ROOM];
    char *p = LIT(line, "x-tokgate-prompt-tokens: ");
    p = dec_u64(p, b->prompt_tokens);
    p = LIT(p, "\r\nx-tokgate-prompt-exact: ");
    p = dec_int(p, b->prompt_tokens_exact);
    p = LIT(p, "\r\n");
    if (src) {
        p = LIT(p, "x-tokgate-max-tokens: ");
        p = dec_u64(p, b->max_tokens);
        p = LIT(p, "\r\nx-tokgate-max-tokens-source: ");
        memcpy(p, src, sl);
        p += sl;
        p = LIT(p, "\r\nx-tokgate-clamped: ");
        p = dec_int(p, b->clamped);
        p = LIT(p, "\r\nx-tokgate-truncated: ");
        p = dec_int(p, bd->d.truncation.applied);
        p = LIT(p, "\r\n");
    }
    p = limit_text(p, &m->limits);
    return tgx_buf_append(h, line, (size_t)(p - line)) == TG_OK;
}

void tg__budget_lines(const tg__model *m, const tg_budget_decision *bd, tgx_buf *h, int piecewise) {
    if (!piecewise && lines_at_once(m, h, bd)) return;
    decision_headers(h, bd);
    limit_lines(m, h);
}

/* A decision made: its lines and the model's limits onto H. */
static void decided_lines(const tg__model *m, tgx_buf *h, tg__budget *out) {
    out->decided = 1;
    tg__budget_lines(m, &out->dec, h, 0);
}

/* The same as OUT's headers (H is freed). */
static void decided_headers(const tg__model *m, tgx_buf *h, tg__budget *out) {
    decided_lines(m, h, out);
    out->headers = tgx_buf_detach(h, NULL);
}

tg_status tg__budget_decide(const tg__model *m, const tg_request *r, tg__budget *out, tg_error *err) {
    return tg__budget_decide_counted(m, r, 0, out, err);
}

/* The library's decision; with FAST (req_fast.h), the counts from its cache
 * on a hit, and a whole count filling the cache on a miss. */
static tg_status decide(const tg_request *r, tg_budget_model *bm, tg__rfast *fast, tg_budget_decision *dec,
                        tg_error *err) {
    /* a key is made for a model counted through its template or, with no
     * tokenizer and no template, estimated (tg__rfast_estimable) */
    tg_count_method cached = bm->tok ? TG_COUNT_TEMPLATE : TG_COUNT_ESTIMATE;
    if (fast && fast->hit) return tg__budget_decide_counts(r, bm, &fast->counts, cached, dec, err);
    if (!fast || !fast->have_key || !bm->tok != !bm->chat || bm->engine_tokens) return tg_budget_decide(r, bm, dec, err);
    tg_prompt_counts counts;
    tg_count_method method = TG_COUNT_ESTIMATE;
    tg_error cerr;
    char note[sizeof dec->note];
    if (tg_budget_count(r, bm, &counts, &method, note, sizeof note, &cerr) != TG_OK)
        return tg_budget_decide(r, bm, dec, err); /* its refusal, as the whole path words it */
    if (method == cached && (counts.exact || method == TG_COUNT_ESTIMATE)) tg__rfast_put(fast->key, &counts);
    tg_status st = tg__budget_decide_counts(r, bm, &counts, method, dec, err);
    memcpy(dec->note, note, sizeof note);
    tg_prompt_counts_free(&counts);
    return st;
}

tg_status tg__budget_decide_counted(const tg__model *m, const tg_request *r, uint64_t engine_tokens, tg__budget *out,
                                    tg_error *err) {
    return tg__budget_decide_fast(m, r, engine_tokens, NULL, out, err);
}

tg_status tg__budget_decide_fast(const tg__model *m, const tg_request *r, uint64_t engine_tokens, tg__rfast *fast,
                                 tg__budget *out, tg_error *err) {
    memset(out, 0, sizeof out[0]);
    tgx_buf h;
    char h_mem[512];
    tgx_buf_init_with(&h, h_mem, sizeof h_mem, 4096); /* the usual headers on the stack, then one allocation of their size */
    if (!m->have_limits) { /* nothing to enforce yet: say so and forward */
        tgx_buf_puts(&h, "x-tokgate-limits: unknown\r\n");
        out->headers = tgx_buf_detach(&h, NULL);
        return TG_OK;
    }
    tg_budget_model bm;
    tg__budget_model(m, &bm);
    bm.engine_tokens = engine_tokens;
    tg_status st = decide(r, &bm, fast, &out->dec, err);
    if (st != TG_OK) {
        tgx_buf_free(&h);
        tg__budget_free(out);
        return st;
    }
    decided_headers(m, &h, out);
    return TG_OK;
}

tg_status tg__budget_decide_lite(const tg__model *m, const tg__req_lite *q, const tg__rfast *fast, tg__budget *out,
                                 int *decided, tgx_buf *h, tg_error *err) {
    *decided = 0;
    if (!m->have_limits || !fast->hit) {
        memset(out, 0, sizeof out[0]);
        return TG_OK;
    }
    /* OUT's decision (~1.3 KB) is cleared by tg__budget_decide_counts_lite,
     * which fills it whole or leaves it empty (req_scan.h): not twice (issue 17) */
    out->decided = 0;
    out->headers = NULL;
    tg_budget_model bm;
    tg__budget_model(m, &bm);
    tg_count_method cached = bm.tok ? TG_COUNT_TEMPLATE : TG_COUNT_ESTIMATE; /* decide()'s, on a hit */
    tg_status st = tg__budget_decide_counts_lite(q, &bm, &fast->counts, cached, &out->dec, decided, err);
    if (st != TG_OK || !*decided) {
        *decided = 0;
        tg__budget_free(out);
        return st;
    }
    decided_lines(m, h, out);
    return TG_OK;
}

void tg__budget_free(tg__budget *b) {
    tg_budget_decision_free(&b->dec);
    free(b->headers);
    memset(b, 0, sizeof b[0]);
}
