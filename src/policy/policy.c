/*
 * policy.c: tg_policy_decide, the order in which the rules apply, and the
 * decision's life cycle (free, JSON). Each rule lives in its own file (see
 * policy_int.h); this file only sequences them:
 *
 *   0. a request field with an unusable value        -> 400 naming it
 *   1. the client's max_tokens (GPUStack validation) -> 400 when refused (the
 *      safe maximum only in reject mode)
 *   2. prompt above its cap (prompt_cap.c: limit.input without max_tokens,
 *      context - the smallest answer allowed with one) -> truncate when
 *      asked, else 400 context_length_exceeded
 *   3. max_tokens and its source (qwen-code order), within the output limit,
 *      the safe maximum and what the context leaves (a client's value
 *      clamped); a default also within limit.output
 *   4. thinking budget wanted (mode, custom, effort); a defaulted max_tokens
 *      grows to thinking + answer
 *   5. thinking budget fits inside max_tokens, leaving min_answer_tokens
 *   6. escalation target for a capped default
 *   7. rewrite the request: max_tokens, thinking fields; tokgate's own
 *      fields (truncation, thinking_mode, top-level max_thinking_tokens) are
 *      removed
 *
 * A refusal leaves the budget filled as far as it was computed, so the
 * gateway can log and advertise it.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"
#include "tokgate/adaptive.h"

void tg_model_settings_init(tg_model_settings *s) {
    memset(s, 0, sizeof *s);
    s->safe_fraction_ppm = 800000u;
    s->safe_fraction_large_ppm = 900000u;
    s->large_context_threshold = 100000u;
    s->min_max_tokens = 1;
    s->abs_max_tokens = 500000u;
    s->overflow = TG_OVERFLOW_CLAMP;
    s->capped_default = 8000u;
    s->escalated_max_tokens = 64000u;
    s->min_answer_tokens = 1024u;
    s->thinking_mode = TG_THINK_AUTO;
    s->dialect = TG_DIALECT_NONE;
    s->truncation = TG_TRUNC_NONE;
    s->summary_max_tokens = 512u;
}

static const char *const action_names[] = {"forward", "truncate", "reject"};
static const char *const source_names[] = {"request", "config", "env", "default"};
static const char *const think_names[] = {"auto", "conservative", "balanced",
                                          "aggressive", "disabled", "adaptive", "custom"};
static const char *const trunc_names[] = {"none", "keep_recent", "drop_oldest_turns", "summarize"};
static const char *const dialect_names[] = {"none", "vllm", "llamacpp"};
static const char *const overflow_names[] = {"clamp", "reject"};

#define NAME(arr, i) ((unsigned)(i) < sizeof(arr) / sizeof((arr)[0]) ? (arr)[i] : "unknown")

const char *tg_action_name(tg_action a) { return NAME(action_names, a); }
const char *tg_max_tokens_source_name(tg_max_tokens_source s) { return NAME(source_names, s); }
const char *tg_thinking_mode_name(tg_thinking_mode m) { return NAME(think_names, m); }
const char *tg_truncation_mode_name(tg_truncation_mode m) { return NAME(trunc_names, m); }
const char *tg_dialect_name(tg_dialect d) { return NAME(dialect_names, d); }

static int lookup(const char *const *names, size_t n, const char *s) {
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return (int)i;
    return -1;
}

int tg_thinking_mode_parse(const char *s) { return lookup(think_names, 7, s); }
int tg_truncation_mode_parse(const char *s) {
    if (s && strcmp(s, "off") == 0) return TG_TRUNC_NONE;
    return lookup(trunc_names, 4, s);
}
int tg_dialect_parse(const char *s) {
    if (s && strcmp(s, "openai") == 0) return TG_DIALECT_NONE;
    return lookup(dialect_names, 3, s);
}
int tg_overflow_mode_parse(const char *s) { return lookup(overflow_names, 2, s); }

void tg_decision_free(tg_decision *d) {
    if (!d) return;
    json_decref(d->request);
    json_decref(d->error);
    free(d->truncation.dropped_messages);
    free(d->truncation.summary_messages);
    free(d->truncation.summary_ends);
    free(d->truncation.summary_end_tokens);
    memset(d, 0, sizeof *d);
}

static tg_status check_counts(const tg_policy_input *in, tg_error *err) {
    const tg_request *r = in->request;
    const tg_prompt_counts *c = in->counts;
    size_t want;
    if (r->kind == TG_REQ_CHAT) {
        want = json_array_size(json_object_get(r->root, "messages"));
    } else {
        const json_t *p = json_object_get(r->root, "prompt");
        int single = json_is_string(p) || (json_is_array(p) && json_is_integer(json_array_get(p, 0)));
        want = single ? 1 : json_array_size(p);
    }
    if (c->n_items != want || (want && !c->items))
        return tg_error_set(err, TG_EINVAL, "token counts cover %zu items but the request has %zu",
                            c->n_items, want);
    return TG_OK;
}

/* How decide() holds the rewritten request: a deep copy (tg_policy_decide),
 * one sharing the request's values (tg__policy_decide_shared), or none at all
 * (tg__policy_decide_lite: the caller knows the rewrite leaves it as it came). */
enum { COPY_DEEP, COPY_SHALLOW, COPY_NONE };

static tg_status decide(const tg_policy_input *in, tg_decision *d, tg_error *err, int copy, int *lite);

static tg_status decide_as(const tg_policy_input *in, tg_decision *d, tg_error *err, int copy, int *lite) {
    if (err) err->msg[0] = '\0';
    tg_status st = decide(in, d, err, copy, lite);
    /* A refusal whose body could not be built leaves no message: say why. */
    if (st != TG_OK && err && err->msg[0] == '\0')
        tg_error_set(err, st, "building the decision failed: %s", tg_status_str(st));
    return st;
}

tg_status tg_policy_decide(const tg_policy_input *in, tg_decision *d, tg_error *err) {
    return decide_as(in, d, err, COPY_DEEP, NULL);
}

tg_status tg__policy_decide_shared(const tg_policy_input *in, tg_decision *d, tg_error *err) {
    return decide_as(in, d, err, COPY_SHALLOW, NULL);
}

tg_status tg__policy_decide_lite(const tg_policy_input *in, size_t n_messages, tg_decision *d, int *lite,
                                 tg_error *err) {
    *lite = 0;
    const tg_prompt_counts *c = in && in->request && in->request->kind == TG_REQ_CHAT ? in->counts : NULL;
    /* a reasoning model's thinking fields are always written (and its adaptive class reads the tree) */
    if (!c || !in->settings || in->settings->thinking_base || !n_messages || c->n_items != n_messages || !c->items) { /* check_counts' error: the tree path says it */
        memset(d, 0, sizeof *d);
        return TG_OK;
    }
    *lite = 1;
    tg_status st = decide_as(in, d, err, COPY_NONE, lite);
    if (!*lite) tg_decision_free(d);
    return st;
}

static tg_status decide(const tg_policy_input *in, tg_decision *d, tg_error *err, int copy, int *lite) {
    memset(d, 0, sizeof *d);
    if (!in || !in->settings || !in->limits || !in->request || (copy != COPY_NONE && !in->request->root) ||
        !in->counts)
        return tg_error_set(err, TG_EINVAL, "tg_policy_decide: missing input");
    const tg_model_settings *s = in->settings;
    const tg_request *r = in->request;
    tg_status st = copy == COPY_NONE ? TG_OK : check_counts(in, err); /* lite: its caller checked them */
    if (st != TG_OK) return st;

    const char *model = s->name ? s->name : (r->model ? r->model : "(unnamed)");
    d->action = TG_ACTION_FORWARD;
    d->status = 200;
    d->budget.context = in->limits->context;
    d->budget.input = in->limits->input;
    d->budget.safe_max = tg_policy_safe_max(s, in->limits->context);
    d->budget.prompt_tokens = in->counts->total;
    d->budget.prompt_tokens_exact = in->counts->exact;
    d->budget.max_tokens_source = TG_SRC_DEFAULT;
    d->truncation.mode = TG_TRUNC_NONE;

    /* 0. unusable field values */
    if (r->bad_param) {
        return tg__reject(d, 400, "invalid_value", r->bad_param, r->bad_message);
    }
    /* 1. the client's max_tokens */
    if (tg__check_requested_max_tokens(in, model, d, &st)) return st;

    /* Shared: the top level is the decision's own, its values the request's
     * (every rewrite below replaces a top-level member, or copies the nested
     * container it edits first: thinking.c's chat_template_kwargs, truncate.c's
     * prompt array). */
    if (copy != COPY_NONE) {
        d->request = copy == COPY_SHALLOW ? json_copy(r->root) : json_deep_copy(r->root);
        if (!d->request) return tg_error_set(err, TG_ENOMEM, "out of memory copying the request");
    }

    /* 2. prompt cap, truncation */
    uint64_t cap = tg__prompt_cap(in, d->budget.safe_max);
    if (d->budget.prompt_tokens > cap) {
        if (copy == COPY_NONE) { /* truncation works on the tree, a refusal is the tree path's */
            *lite = 0;
            return TG_OK;
        }
        if (tg__truncate(in, d, cap, &st, err)) return st;
    }
    /* 3-6. output budget */
    int think_disabled = 0;
    uint64_t wanted = tg__thinking_wanted(in, &d->budget, &think_disabled);
    if (tg__choose_max_tokens(in, d, &st)) return st;
    tg__thinking_raise(in, d, wanted);
    if (s->thinking_base) {
        if (think_disabled) d->budget.thinking_disabled = 1;
        else tg__thinking_fit(in, d, wanted);
    }
    tg__escalation(in, d);
    if (copy == COPY_NONE) return TG_OK; /* 7 is the caller's (tg__policy_decide_lite) */
    /* 7. rewrite: tokgate's own fields are handled and do not go upstream */
    json_object_del(d->request, "truncation");
    if ((st = tg__write_max_tokens(in, d)) != TG_OK ||
        (st = tg__thinking_write(in, d, s->thinking_base != 0)) != TG_OK)
        return tg_error_set(err, st, "out of memory rewriting the request");
    return TG_OK;
}

static json_t *count_or_null(uint64_t v) { return v ? tg__json_count(v) : json_null(); }

/* budget.adaptive: {"class", "source": "samples"|"catalogue", "samples",
 * "budget"}, or null when the adaptive mode did not choose the budget. */
static json_t *adaptive_json(const tg_budget *b) {
    if (!b->adaptive) return json_null();
    char name[32];
    tg_adaptive_class c = {b->adaptive_band, b->adaptive_code, b->adaptive_asked};
    tg_adaptive_class_name(c, name, sizeof name);
    return json_pack("{s:s, s:s, s:I, s:o}", "class", name, "source",
                     b->adaptive_from_samples ? "samples" : "catalogue", "samples", (json_int_t)b->adaptive_samples,
                     "budget", tg__json_count(b->adaptive_budget));
}

/* mode summarize: "summary": {"messages": [...], "turns", "tokens", "cap"}. */
static int summary_json(json_t *tr, const tg_truncation_report *t) {
    json_t *o = json_object(), *idx = json_array();
    int ok = o && idx;
    for (size_t i = 0; ok && i < t->n_summary_messages; i++)
        ok &= json_array_append_new(idx, json_integer((json_int_t)t->summary_messages[i])) == 0;
    ok &= json_object_set_new(o, "messages", idx) == 0;
    ok &= json_object_set_new(o, "turns", json_integer((json_int_t)t->n_summary_turns)) == 0;
    ok &= json_object_set_new(o, "tokens", tg__json_count(t->summary_tokens)) == 0;
    ok &= json_object_set_new(o, "cap", tg__json_count(t->summary_cap)) == 0;
    ok &= json_object_set_new(o, "min_messages", json_integer((json_int_t)t->n_summary_min)) == 0;
    return (json_object_set_new(tr, "summary", o) == 0) & ok;
}

json_t *tg_decision_to_json(const tg_decision *d) {
    const tg_budget *b = &d->budget;
    json_t *budget = json_object();
    json_t *o = json_object();
    if (!budget || !o) {
        json_decref(budget);
        json_decref(o);
        return NULL;
    }
    int ok = 1;
    ok &= json_object_set_new(budget, "context", tg__json_count(b->context)) == 0;
    ok &= json_object_set_new(budget, "input", tg__json_count(b->input)) == 0;
    ok &= json_object_set_new(budget, "prompt_tokens", tg__json_count(b->prompt_tokens)) == 0;
    ok &= json_object_set_new(budget, "prompt_tokens_exact", json_boolean(b->prompt_tokens_exact)) == 0;
    ok &= json_object_set_new(budget, "safe_max", tg__json_count(b->safe_max)) == 0;
    ok &= json_object_set_new(budget, "max_tokens", count_or_null(b->max_tokens)) == 0;
    ok &= json_object_set_new(budget, "max_tokens_source",
                              b->max_tokens ? json_string(tg_max_tokens_source_name(b->max_tokens_source))
                                            : json_null()) == 0;
    ok &= json_object_set_new(budget, "escalate_to", count_or_null(b->escalate_to)) == 0;
    ok &= json_object_set_new(budget, "thinking_tokens",
                              b->thinking_disabled ? json_null() : count_or_null(b->thinking_tokens)) == 0;
    ok &= json_object_set_new(budget, "requested_max_tokens", count_or_null(b->requested_max_tokens)) == 0;
    ok &= json_object_set_new(budget, "clamped", json_boolean(b->clamped)) == 0;
    ok &= json_object_set_new(budget, "thinking_disabled", json_boolean(b->thinking_disabled)) == 0;
    ok &= json_object_set_new(budget, "adaptive", adaptive_json(b)) == 0;
    const tg_truncation_report *t = &d->truncation;
    json_t *tr = json_object();
    json_t *idx = json_array();
    ok &= tr && idx;
    if (tr && idx) {
        for (size_t i = 0; i < t->n_dropped_messages; i++)
            ok &= json_array_append_new(idx, json_integer((json_int_t)t->dropped_messages[i])) == 0;
        ok &= json_object_set_new(tr, "applied", json_boolean(t->applied)) == 0;
        ok &= json_object_set_new(tr, "mode", t->applied ? json_string(tg_truncation_mode_name(t->mode))
                                                          : json_null()) == 0;
        ok &= json_object_set_new(tr, "dropped_messages", idx) == 0;
        idx = NULL;
        ok &= json_object_set_new(tr, "dropped_tokens", tg__json_count(t->dropped_tokens)) == 0;
        ok &= json_object_set_new(tr, "prompt_tokens_before",
                                  tg__json_count(t->applied ? t->prompt_tokens_before : b->prompt_tokens)) == 0;
        if (t->summarize) ok &= summary_json(tr, t);
        ok &= json_object_set_new(budget, "truncation", tr) == 0;
        tr = NULL;
    }
    json_decref(idx);
    json_decref(tr);
    ok &= json_object_set_new(o, "action", json_string(tg_action_name(d->action))) == 0;
    ok &= json_object_set_new(o, "status", json_integer(d->status)) == 0;
    ok &= json_object_set(o, "request", d->request ? d->request : json_null()) == 0;
    ok &= json_object_set(o, "error", d->error ? d->error : json_null()) == 0;
    ok &= json_object_set_new(o, "budget", budget) == 0;
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
