/*
 * budget.c: tg_budget_decide, the one budget path. `tokgate check` and the
 * gateway both call it, so for the same request, model and limits they take
 * the same decision (tests/gateway/test_check_vs_serve.sh holds them to it).
 *
 *   1. count (tg_budget_count), as exactly as the model allows:
 *        chat + tokenizer + template  the template rendered as the upstream
 *                                     renders it (chat_dialect) and tokenized:
 *                                     exact (tg_chat_count[_cached]); the
 *                                     per-message counts stay for truncation
 *        tokenizer                    a raw prompt with the specials the server
 *                                     adds (BOS): exact; a chat per message
 *                                     (no specials: the template adds them)
 *                                     plus the cookbook's overhead
 *        nothing                      tg_estimate_count
 *        + engine_tokens              the serving engine's own count (the
 *                                     gateway asked its /tokenize): exact,
 *                                     unless the template counted it here
 *   2. tg_policy_decide over the live limits, with keep_recent cutting through
 *      the same tokenizer (tg_keep_last_counted) and drop_oldest_turns
 *      recounting what it keeps through the template (exact, as counted in 1)
 *   3. what the caller acts on: whether the body was rewritten, and the
 *      escalation body (tg_decision_escalated_request)
 *
 * A prompt the tokenizer refuses to count is refused like any other bad
 * input (400 invalid_request naming messages or prompt); only a missing
 * argument or memory exhaustion is an error.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy_int.h"
#include "policy/req_scan.h"

/* Counting with a real tokenizer: FLAGS as the server would tokenize. */
typedef struct tok_counter {
    const tg_tokenizer *tok;
    unsigned flags;
} tok_counter;

static tg_status count_with_tokenizer(void *user, const char *text, size_t len, uint64_t *tokens,
                                      tg_error *err) {
    const tok_counter *c = user;
    size_t n = 0;
    tg_status s = tg_tokenizer_count(c->tok, text, len, c->flags, &n, err);
    if (s == TG_OK) *tokens = (uint64_t)n;
    return s;
}

static const char *const method_names[] = {"estimate", "tokenizer", "template", "engine"};

const char *tg_count_method_name(tg_count_method m) {
    return (unsigned)m < sizeof method_names / sizeof method_names[0] ? method_names[m] : "unknown";
}

/* The exact count of a chat: rendered as the upstream renders it. llama-server
 * adds BOS to the rendered prompt; vLLM renders as transformers does and
 * tokenizes a chat prompt without added specials. */
tg_status tg_budget_count_chat(const json_t *request, const tg_budget_model *m, size_t *n, tg_error *err) {
    if (!request || !m || !m->tok || !m->chat)
        return tg_error_set(err, TG_EINVAL, "tg_budget_count_chat: needs a request, a tokenizer and a chat template");
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = m->chat_dialect;
    unsigned flags = m->chat_dialect == TG_CHAT_LLAMACPP ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u;
    if (m->cache) return tg_chat_count_cached(m->chat, m->cache, request, &opt, flags, n, err);
    return tg_chat_count(m->chat, m->tok, request, &opt, flags, n, err);
}

/* The hooks' user: keep_last (tg_keep_last_counted) reads it as the
 * tg_counter it starts with; recount as the whole. */
typedef struct hook_ctx {
    tg_counter counter;
    const tg_budget_model *m;
} hook_ctx;

/* drop_oldest_turns' recount: the kept messages rendered and counted exactly;
 * a render that fails leaves the policy's estimate (not exact), but running
 * out of memory is an error (the estimate may be far below the count). */
static tg_status recount_chat(void *user, const json_t *request, uint64_t *tokens, int *exact,
                              tg_error *err) {
    const hook_ctx *h = user;
    size_t n = 0;
    tg_error cerr;
    tg_status st = tg_budget_count_chat(request, h->m, &n, &cerr);
    if (st == TG_ENOMEM) return tg_error_set(err, TG_ENOMEM, "%s", cerr.msg);
    if (st != TG_OK) return TG_OK;
    *tokens = (uint64_t)n;
    *exact = 1;
    return TG_OK;
}

tg_status tg_budget_count(const tg_request *r, const tg_budget_model *m, tg_prompt_counts *out,
                          tg_count_method *method, char *note, size_t note_cap, tg_error *err) {
    memset(out, 0, sizeof *out);
    if (note && note_cap) note[0] = '\0';
    if (!r || !r->root || !m) return tg_error_set(err, TG_EINVAL, "tg_budget_count: missing input");
    /* A raw prompt gets the specials the server adds (BOS); a chat message's
     * text does not (its template adds them). */
    tok_counter tc = {m->tok, r->kind == TG_REQ_COMPLETION ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u};
    tg_status st = m->tok ? tg_request_count(r, count_with_tokenizer, &tc, 1, out, err)
                          : tg_request_count(r, tg_estimate_count, NULL, 0, out, err);
    if (st != TG_OK) return st;
    tg_count_method how = m->tok ? TG_COUNT_TOKENIZER : TG_COUNT_ESTIMATE;
    if (m->tok && m->chat && r->kind == TG_REQ_CHAT) {
        size_t n = 0;
        tg_error cerr;
        memset(&cerr, 0, sizeof cerr);
        tg_status cst = tg_budget_count_chat(r->root, m, &n, &cerr);
        if (cst == TG_OK) {
            tg_prompt_counts_set_exact(out, (uint64_t)n);
            how = TG_COUNT_TEMPLATE;
        } else if (cst == TG_ENOMEM) { /* not a template's failure: no fallback to the (lower) sum */
            tg_prompt_counts_free(out);
            return tg_error_set(err, TG_ENOMEM, "%s", cerr.msg);
        } else if (note && note_cap) {
            snprintf(note, note_cap, "chat template: %s; the chat count is the sum of its messages, "
                                     "not exact", cerr.msg);
        }
    }
    if (how != TG_COUNT_TEMPLATE && m->engine_tokens) { /* the engine counted it: exact */
        tg_prompt_counts_set_exact(out, m->engine_tokens);
        how = TG_COUNT_ENGINE;
    }
    if (method) *method = how;
    return TG_OK;
}

void tg_budget_decision_free(tg_budget_decision *b) {
    if (!b) return;
    tg_decision_free(&b->d);
    json_decref(b->escalated);
    memset(b, 0, sizeof *b);
}

/* A prompt the tokenizer cannot count: the client's input, refused. */
static tg_status refuse_uncountable(const tg_request *r, const tg_budget_model *m,
                                    tg_budget_decision *out, const tg_error *cerr) {
    tg_decision *d = &out->d;
    d->budget.context = m->limits->context;
    d->budget.input = m->limits->input;
    d->budget.safe_max = tg_policy_safe_max(m->settings, m->limits->context);
    char msg[TG_ERROR_MSG_MAX + 32];
    snprintf(msg, sizeof msg, "counting the prompt: %s", cerr->msg);
    return tg__reject(d, 400, "invalid_request", r->kind == TG_REQ_CHAT ? "messages" : "prompt", msg);
}

static tg_status decide_counts(const tg_request *r, const tg_budget_model *m, const tg_prompt_counts *counts,
                               tg_count_method method, tg_budget_decision *out, tg_error *err, int share);

tg_status tg_budget_decide(const tg_request *r, const tg_budget_model *m, tg_budget_decision *out,
                           tg_error *err) {
    memset(out, 0, sizeof *out);
    if (!r || !r->root || !m || !m->settings || !m->limits)
        return tg_error_set(err, TG_EINVAL, "tg_budget_decide: missing input");
    tg_prompt_counts counts;
    tg_error cerr;
    memset(&cerr, 0, sizeof cerr);
    tg_count_method method = TG_COUNT_ESTIMATE;
    tg_status st = tg_budget_count(r, m, &counts, &method, out->note, sizeof out->note, &cerr);
    if (st == TG_ENOMEM) return tg_error_set(err, st, "%s", cerr.msg);
    if (st != TG_OK) {
        out->method = method;
        st = refuse_uncountable(r, m, out, &cerr);
        return st == TG_OK ? TG_OK : tg_error_set(err, st, "out of memory refusing the request");
    }
    char note[sizeof out->note];
    memcpy(note, out->note, sizeof note);
    st = decide_counts(r, m, &counts, method, out, err, 0);
    memcpy(out->note, note, sizeof note);
    tg_prompt_counts_free(&counts);
    return st;
}

static tg_status decide_counts(const tg_request *r, const tg_budget_model *m, const tg_prompt_counts *counts,
                               tg_count_method method, tg_budget_decision *out, tg_error *err, int share) {
    memset(out, 0, sizeof *out);
    if (!r || !r->root || !m || !m->settings || !m->limits || !counts)
        return tg_error_set(err, TG_EINVAL, "tg_budget_decide: missing input");
    out->method = method;
    tok_counter tc = {m->tok, r->kind == TG_REQ_COMPLETION ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u};
    hook_ctx hc = {{count_with_tokenizer, &tc}, m};
    tg_policy_hooks hooks = {tg_keep_last_counted, out->method == TG_COUNT_TEMPLATE ? recount_chat : NULL, &hc};
    tg_policy_input in = {m->settings, m->limits, r, counts, m->env_max_output_tokens,
                          m->tok ? &hooks : NULL, m->adaptive};
    tg_status st = share ? tg__policy_decide_shared(&in, &out->d, err) : tg_policy_decide(&in, &out->d, err);
    if (st != TG_OK) return st;
    if (out->d.action == TG_ACTION_REJECT) return TG_OK;
    out->rewritten = out->d.request && !json_equal(out->d.request, r->root);
    if (out->d.budget.escalate_to) {
        out->escalated = tg_decision_escalated_request(&out->d);
        if (!out->escalated) return tg_error_set(err, TG_ENOMEM, "out of memory building the escalated request");
    }
    return TG_OK;
}

/* The gateway's scanned request (req_scan.h): its decision shares the
 * request's values (tg__policy_decide_shared), read and freed before it. */
tg_status tg__budget_decide_counts(const tg_request *r, const tg_budget_model *m, const tg_prompt_counts *counts,
                                   tg_count_method method, tg_budget_decision *out, tg_error *err) {
    return decide_counts(r, m, counts, method, out, err, 1);
}

/* Step 7 of the policy (tg__write_max_tokens, tg__thinking_write for a model
 * that does not reason, the truncation field removed) on Q's members: 1 when
 * it leaves them as they were. max_tokens is written into each of
 * max_completion_tokens and max_tokens that Q has (not null), or added. */
static int rewrite_keeps(const tg__req_lite *q, uint64_t max_tokens) {
    long long v = max_tokens > (uint64_t)LLONG_MAX ? LLONG_MAX : (long long)max_tokens; /* tg__json_count's */
    if (!q->have_mct && !q->have_mt) return 0; /* added */
    return (!q->have_mct || q->mct == v) && (!q->have_mt || q->mt == v);
}

tg_status tg__budget_decide_counts_lite(const tg__req_lite *q, const tg_budget_model *m, const tg_prompt_counts *counts,
                                        tg_count_method method, tg_budget_decision *out, int *decided, tg_error *err) {
    memset(out, 0, sizeof *out);
    *decided = 0;
    if (!q || !m || !m->settings || !m->limits || !counts)
        return tg_error_set(err, TG_EINVAL, "tg_budget_decide: missing input");
    out->method = method;
    /* no hooks: only truncation calls them, and a prompt over its cap is not decided here */
    tg_policy_input in = {m->settings, m->limits, &q->r, counts, m->env_max_output_tokens, NULL, m->adaptive};
    int lite = 0;
    tg_status st = tg__policy_decide_lite(&in, q->n_messages, &out->d, &lite, err);
    if (st != TG_OK || !lite) {
        tg_budget_decision_free(out);
        return st;
    }
    const tg_decision *d = &out->d;
    if (d->action != TG_ACTION_FORWARD || d->budget.escalate_to || !rewrite_keeps(q, d->budget.max_tokens)) {
        tg_budget_decision_free(out);
        return TG_OK;
    }
    *decided = 1;
    return TG_OK;
}
