/*
 * truncate.c: making an over-long prompt fit its cap (prompt_cap.c: the input
 * budget, or what the client's max_tokens leaves of the context), only when asked
 * (the model's truncation setting, or the request's "truncation": "auto",
 * OpenAI's Responses convention; "truncation": "disabled" turns it off).
 * The method follows the request: chats drop whole messages (cutting inside a
 * chat would break its template), raw prompts keep their newest tokens.
 *
 * drop_oldest_turns (chats):
 *   - every system (and "developer") message stays, and so does the last user
 *     message; if they alone do not fit, the request is refused;
 *   - before the last user message the units are turns: a user message and
 *     everything up to the next user message (so the kept conversation still
 *     starts with a user turn, as strict templates require);
 *   - after it, an assistant message with tool_calls and the tool results that
 *     follow it are one unit: a tool call is never separated from its results;
 *   - the newest units that fit are kept, walking back from the end and
 *     stopping at the first that does not fit (no gaps in the history).
 *   With a recount hook the result is recounted exactly, and one more unit is
 *   dropped while the exact count is still over the budget.
 *
 * keep_recent (raw prompts), after Oxide-Lab's ContextSlice (keep the most
 * recent tokens): each prompt over the cap keeps its last `cap` tokens,
 * through the caller's keep_last hook (tokenizer) or, without one, the
 * estimator's byte cut. Token-id prompts are cut exactly.
 *
 * The decision's truncation report lists the dropped message indices and the
 * tokens removed.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"

static int refuse(const tg_policy_input *in, tg_decision *d, tg_status *st, const char *why) {
    *st = tg__reject_prompt_cap(in, d, d->budget.prompt_tokens, d->budget.prompt_tokens_exact, why);
    return 1;
}

static int is_system(const json_t *m) {
    const char *role = json_string_value(json_object_get(m, "role"));
    return role && (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0);
}

static int has_role(const json_t *m, const char *want) {
    const char *role = json_string_value(json_object_get(m, "role"));
    return role && strcmp(role, want) == 0;
}

/* Tool results: "tool", and the legacy "function" role. */
static int is_tool_result(const json_t *m) { return has_role(m, "tool") || has_role(m, "function"); }

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* The unit of each message: -1 for what always stays (system messages, the
 * last user message), else a unit number, 0 for the oldest unit. Returns the
 * number of units. */
static size_t assign_units(const json_t *msgs, size_t n, long *unit) {
    size_t last_user = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (has_role(json_array_get(msgs, i), "user")) last_user = i;
    long cur = -1;
    int open = 0; /* a unit is open to absorb following messages */
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(msgs, i);
        if (is_system(m) || i == last_user) {
            unit[i] = -1;
            if (i == last_user) open = 0;
            continue;
        }
        int starts;
        if (last_user == SIZE_MAX || i < last_user)
            starts = has_role(m, "user") || !open; /* turns */
        else
            starts = !is_tool_result(m) || !open; /* tool-call groups */
        if (starts) {
            cur++;
            open = 1;
        }
        unit[i] = cur;
    }
    return (size_t)(cur + 1);
}

/* What drop_oldest_turns removes from a chat, and what it keeps. */
typedef struct drop_plan {
    json_t *request;         /* the request with the kept messages (owned) */
    size_t *dropped;         /* original indices, ascending (owned) */
    size_t n_dropped;
    size_t n_units;          /* turns (and tool-call groups) dropped */
    uint64_t tokens;         /* the kept chat's count (recounted when hooked) */
    int exact;
} drop_plan;

static void drop_plan_free(drop_plan *p) {
    json_decref(p->request);
    free(p->dropped);
    memset(p, 0, sizeof *p);
}

/* P becomes REQUEST without the units before FIRST_KEPT: its dropped list and
 * its count, TOTAL minus their items (not exact), or the recount hook's. */
static tg_status build_kept(const tg_policy_input *in, const json_t *request, const long *unit,
                            size_t first_kept, uint64_t total, drop_plan *p, tg_error *err) {
    const json_t *msgs = json_object_get(request, "messages");
    size_t n = json_array_size(msgs);
    drop_plan_free(p);
    p->dropped = malloc((n ? n : 1) * sizeof(size_t));
    p->request = json_copy((json_t *)(uintptr_t)request); /* shallow: messages replaced below */
    json_t *kept = p->request ? json_array() : NULL;
    /* json_object_set_new takes kept, also when it fails */
    if (!p->dropped || !kept || json_object_set_new(p->request, "messages", kept) != 0) return TG_ENOMEM;
    uint64_t dropped = 0;
    for (size_t i = 0; i < n; i++) {
        if (unit[i] >= 0 && (size_t)unit[i] < first_kept) {
            p->dropped[p->n_dropped++] = i;
            dropped = sat_add(dropped, in->counts->items[i]);
        } else if (json_array_append(kept, json_array_get(msgs, i)) != 0) {
            return TG_ENOMEM;
        }
    }
    p->n_units = first_kept;
    p->tokens = total > dropped ? total - dropped : 0;
    p->exact = 0;
    if (in->hooks && in->hooks->recount)
        return in->hooks->recount(in->hooks->user, p->request, &p->tokens, &p->exact, err);
    return TG_OK;
}

/* The one routine behind drop_oldest_turns and summarize: the oldest units of
 * REQUEST's chat (TOTAL tokens, in->counts per message) removed until it fits
 * BUDGET. 0: *p is the plan; 1: even with every droppable unit gone it does
 * not fit (p->tokens: the recount of what always stays, 0 when the per-message
 * counts alone said so; nothing else in *p); -1: an error (*st). */
static int plan_drop(const tg_policy_input *in, const json_t *request, uint64_t total, uint64_t budget,
                     drop_plan *p, tg_status *st, tg_error *err) {
    const json_t *msgs = json_object_get(request, "messages");
    size_t n = json_array_size(msgs);
    const uint64_t *items = in->counts->items;
    memset(p, 0, sizeof *p);
    long *unit = calloc(n ? n : 1, sizeof *unit);
    uint64_t *ucost = calloc(n ? n : 1, sizeof *ucost);
    int rc = -1;
    *st = TG_ENOMEM;
    if (!unit || !ucost) goto out;
    size_t nu = assign_units(msgs, n, unit);
    uint64_t droppable = 0;
    for (size_t i = 0; i < n; i++) {
        if (unit[i] < 0) continue;
        ucost[unit[i]] = sat_add(ucost[unit[i]], items[i]);
        droppable = sat_add(droppable, items[i]);
    }
    uint64_t floor = total > droppable ? total - droppable : 0;
    *st = TG_OK;
    rc = 1;
    if (floor > budget) goto out; /* p->tokens 0: nothing was recounted */
    /* Newest units that fit; first_kept = oldest kept unit. */
    uint64_t left = budget - floor;
    size_t first_kept = nu;
    while (first_kept > 0 && ucost[first_kept - 1] <= left) {
        left -= ucost[first_kept - 1];
        first_kept--;
    }
    for (;;) {
        tg_status s = build_kept(in, request, unit, first_kept, total, p, err);
        if (s != TG_OK) {
            *st = s;
            rc = -1;
            break;
        }
        if (p->tokens <= budget) {
            rc = 0;
            break;
        }
        if (first_kept >= nu) break; /* rc 1: the exact count of what always stays is over */
        first_kept++;                /* the exact count is higher: drop one more unit */
    }
out:
    if (rc != 0) {
        uint64_t t = p->tokens;
        int e = p->exact;
        drop_plan_free(p);
        p->tokens = t;
        p->exact = e;
    }
    free(unit);
    free(ucost);
    return rc;
}

static const char cannot_help[] =
    "Truncation cannot help: the system messages and the last user message alone do not fit.";

/* drop_oldest_turns into d: the plan's request replaces d's. */
static int drop_oldest_turns(const tg_policy_input *in, tg_decision *d, uint64_t budget,
                             tg_status *st, tg_error *err) {
    drop_plan p;
    uint64_t total = d->budget.prompt_tokens;
    int rc = plan_drop(in, d->request, total, budget, &p, st, err);
    if (rc < 0) return 1;
    if (rc > 0) {
        if (p.tokens) { /* what always stays, recounted: say its count */
            d->budget.prompt_tokens = p.tokens;
            d->budget.prompt_tokens_exact = p.exact;
        }
        return refuse(in, d, st, cannot_help);
    }
    json_decref(d->request);
    d->request = p.request;
    free(d->truncation.dropped_messages);
    d->truncation.dropped_messages = p.dropped;
    d->truncation.n_dropped_messages = p.n_dropped;
    d->truncation.dropped_tokens = total > p.tokens ? total - p.tokens : 0;
    d->budget.prompt_tokens = p.tokens;
    d->budget.prompt_tokens_exact = p.exact;
    return 0;
}

/* The turn ends among the plan's dropped messages (each unit's last), with
 * the tokens up to each, into t. */
static tg_status summary_ends(const tg_policy_input *in, const json_t *request, const drop_plan *p,
                              tg_truncation_report *t) {
    const json_t *msgs = json_object_get(request, "messages");
    size_t n = json_array_size(msgs);
    long *unit = calloc(n ? n : 1, sizeof *unit);
    t->summary_ends = calloc(p->n_units ? p->n_units : 1, sizeof *t->summary_ends);
    t->summary_end_tokens = calloc(p->n_units ? p->n_units : 1, sizeof *t->summary_end_tokens);
    if (!unit || !t->summary_ends || !t->summary_end_tokens) {
        free(unit);
        return TG_ENOMEM;
    }
    assign_units(msgs, n, unit);
    uint64_t tokens = 0;
    for (size_t i = 0; i < p->n_dropped; i++) {
        tokens = sat_add(tokens, in->counts->items[p->dropped[i]]);
        int last = i + 1 == p->n_dropped || unit[p->dropped[i + 1]] != unit[p->dropped[i]];
        if (last && t->n_summary_ends < p->n_units) {
            t->summary_ends[t->n_summary_ends] = i + 1;
            t->summary_end_tokens[t->n_summary_ends++] = tokens;
        }
    }
    free(unit);
    return TG_OK;
}

/* The summary call for P's messages likely fits the context: their tokens,
 * the summary's and TG_SUMMARY_CALL_ROOM for the prompt and the transcript's
 * labels. Only chooses between two valid plans: a call that does not fit
 * fails, and the gateway falls back. */
#define TG_SUMMARY_CALL_ROOM 256u
static int call_fits(const tg_policy_input *in, const drop_plan *p) {
    uint64_t need = sat_add(in->settings->summary_max_tokens, TG_SUMMARY_CALL_ROOM);
    for (size_t i = 0; i < p->n_dropped; i++) need = sat_add(need, in->counts->items[p->dropped[i]]);
    return need <= in->limits->context;
}

/* summarize: drop_oldest_turns as the fallback in d, and the plan for the
 * summary beside it: the turns dropped when summary_max_tokens +
 * TG_SUMMARY_OVERHEAD more are kept free for the summary message (none when
 * that leaves no room), and a quarter of what is left kept free for the
 * conversation to grow into (when that fits too, and the summary call for
 * those turns likely fits the context), so the next requests can reuse the
 * same summary. */
static int summarize_plan(const tg_policy_input *in, tg_decision *d, uint64_t budget, tg_status *st,
                          tg_error *err) {
    uint64_t total = d->budget.prompt_tokens;
    json_t *orig = json_incref(d->request);
    int rc = drop_oldest_turns(in, d, budget, st, err);
    tg_truncation_report *t = &d->truncation;
    t->summary_cap = budget;
    uint64_t reserve = sat_add(in->settings->summary_max_tokens, TG_SUMMARY_OVERHEAD);
    drop_plan p, wide;
    memset(&p, 0, sizeof p);
    memset(&wide, 0, sizeof wide);
    int r = rc == 0 && reserve < budget ? plan_drop(in, orig, total, budget - reserve, &p, st, err) : 1;
    if (r == 0 && p.n_dropped > 0) {
        uint64_t room = budget - reserve;
        int rw = plan_drop(in, orig, total, room - room / 4, &wide, st, err);
        if (rw < 0) r = -1;
        drop_plan *use = rw == 0 && wide.n_dropped >= p.n_dropped && call_fits(in, &wide) ? &wide : &p;
        t->n_summary_min = p.n_dropped;
        if (r == 0 && summary_ends(in, orig, use, t) != TG_OK) {
            *st = TG_ENOMEM;
            r = -1;
        }
        if (r == 0) {
            t->summary_messages = use->dropped;
            t->n_summary_messages = use->n_dropped;
            t->n_summary_turns = use->n_units;
            t->summary_tokens = t->n_summary_ends ? t->summary_end_tokens[t->n_summary_ends - 1] : 0;
            use->dropped = NULL;
        }
    }
    drop_plan_free(&p);
    drop_plan_free(&wide);
    json_decref(orig);
    return r < 0 ? 1 : rc;
}

/* The estimator's keep_last: the last 4N bytes, moved forward past any UTF-8
 * continuation bytes so the text stays valid where it was. */
static tg_status estimate_keep_last(const char *text, size_t len, uint64_t n, char **out,
                                    size_t *out_len, uint64_t *out_tokens) {
    size_t keep = n > SIZE_MAX / 4 ? len : (size_t)n * 4;
    if (keep > len) keep = len;
    size_t start = len - keep;
    while (start < len && ((unsigned char)text[start] & 0xC0) == 0x80) start++;
    *out_len = len - start;
    *out = malloc(*out_len + 1);
    if (!*out) return TG_ENOMEM;
    memcpy(*out, text + start, *out_len);
    (*out)[*out_len] = '\0';
    return tg_estimate_count(NULL, *out, *out_len, out_tokens, NULL);
}

/* Cuts one prompt item (a string, or an array of token ids) to its last
 * BUDGET tokens: *repl is the new item, *tokens its count, and *exact is
 * cleared when that count is an estimate. */
static tg_status cut_item(const tg_policy_input *in, const json_t *item, uint64_t budget,
                          json_t **repl, uint64_t *tokens, int *exact, tg_error *err) {
    if (json_is_array(item)) { /* token ids: exact */
        size_t len = json_array_size(item);
        size_t keep = budget < len ? (size_t)budget : len;
        json_t *a = json_array();
        if (!a) return TG_ENOMEM;
        for (size_t i = len - keep; i < len; i++)
            if (json_array_append(a, json_array_get(item, i)) != 0) {
                json_decref(a);
                return TG_ENOMEM;
            }
        *repl = a;
        *tokens = keep;
        return TG_OK;
    }
    const char *text = json_string_value(item);
    size_t len = json_string_length(item);
    char *cut = NULL;
    size_t cut_len = 0;
    uint64_t n = budget;
    tg_status s = TG_OK;
    int hooked = in->hooks && in->hooks->keep_last;
    for (int tries = 0; tries < 4; tries++) {
        free(cut);
        cut = NULL;
        cut_len = 0;
        s = hooked ? in->hooks->keep_last(in->hooks->user, text, len, n, &cut, &cut_len, tokens, err)
                   : estimate_keep_last(text, len, n, &cut, &cut_len, tokens);
        if (s != TG_OK || *tokens <= budget || n == 0) break;
        /* Re-tokenising at the cut gave more tokens than asked: ask for fewer. */
        uint64_t over = *tokens - budget;
        n = n > over ? n - over : 0;
    }
    if (!hooked) *exact = 0;
    if (s == TG_OK && *tokens > budget) s = tg_error_set(err, TG_EINVAL,
        "keep_last returned %llu tokens for a budget of %llu",
        (unsigned long long)*tokens, (unsigned long long)budget);
    if (s != TG_OK) {
        free(cut);
        return s;
    }
    *repl = json_stringn(cut ? cut : "", cut_len);
    free(cut);
    return *repl ? TG_OK : TG_ENOMEM;
}

static int keep_recent(const tg_policy_input *in, tg_decision *d, uint64_t budget, tg_status *st,
                       tg_error *err) {
    json_t *prompt = json_object_get(d->request, "prompt");
    const tg_prompt_counts *c = in->counts;
    if (budget == 0) return refuse(in, d, st, "No room is left for the prompt.");
    /* One prompt (a string or one id array) or a batch of them. */
    int single = json_is_string(prompt) ||
                 (json_is_array(prompt) && json_array_size(prompt) > 0 &&
                  json_is_integer(json_array_get(prompt, 0)));
    if (!single && json_is_array(prompt)) { /* a batch is edited in a copy of its own: the request's may be shared */
        prompt = json_copy(prompt);
        if (!prompt || json_object_set_new(d->request, "prompt", prompt) != 0) {
            *st = TG_ENOMEM;
            return 1;
        }
    }
    size_t n = single ? 1 : json_array_size(prompt);
    uint64_t max_now = 0, dropped = 0;
    int exact = d->budget.prompt_tokens_exact;
    for (size_t i = 0; i < n; i++) {
        uint64_t have = c->items[i];
        if (have <= budget) {
            if (have > max_now) max_now = have;
            continue;
        }
        json_t *item = single ? prompt : json_array_get(prompt, i);
        json_t *repl = NULL;
        uint64_t now = 0;
        tg_status s = cut_item(in, item, budget, &repl, &now, &exact, err);
        if (s != TG_OK) {
            *st = s;
            return 1;
        }
        int rc = single ? json_object_set_new(d->request, "prompt", repl)
                        : json_array_set_new(prompt, i, repl);
        if (rc != 0) {
            *st = TG_ENOMEM;
            return 1;
        }
        dropped += have > now ? have - now : 0;
        if (now > max_now) max_now = now;
    }
    d->truncation.dropped_tokens = dropped;
    d->budget.prompt_tokens = max_now;
    d->budget.prompt_tokens_exact = exact;
    return 0;
}

int tg__truncate(const tg_policy_input *in, tg_decision *d, uint64_t cap, tg_status *st,
                 tg_error *err) {
    const tg_request *r = in->request;
    int on = r->truncation > 0 || (r->truncation == 0 && in->settings->truncation != TG_TRUNC_NONE);
    if (!on) return refuse(in, d, st, NULL);
    /* summarize: asked by the request, or the model's mode when the request says "auto" or nothing */
    int summarize = r->truncation == 2 || (r->truncation >= 0 && r->truncation != 2 &&
                                           in->settings->truncation == TG_TRUNC_SUMMARIZE);
    d->truncation.prompt_tokens_before = d->budget.prompt_tokens;
    int rc;
    if (r->kind == TG_REQ_CHAT && summarize) {
        d->truncation.mode = TG_TRUNC_SUMMARIZE;
        d->truncation.summarize = 1;
        rc = summarize_plan(in, d, cap, st, err);
    } else if (r->kind == TG_REQ_CHAT) {
        d->truncation.mode = TG_TRUNC_DROP_OLDEST_TURNS;
        rc = drop_oldest_turns(in, d, cap, st, err);
    } else {
        d->truncation.mode = TG_TRUNC_KEEP_RECENT;
        rc = keep_recent(in, d, cap, st, err);
    }
    if (!rc) {
        d->truncation.applied = 1;
        d->action = TG_ACTION_TRUNCATE;
    }
    return rc;
}

static int is_cont(unsigned char c) { return (c & 0xC0) == 0x80; }

tg_status tg_keep_last_counted(void *user, const char *text, size_t len, uint64_t n, char **out,
                               size_t *out_len, uint64_t *out_tokens, tg_error *err) {
    const tg_counter *c = user;
    if (!c || !c->fn || (!text && len))
        return tg_error_set(err, TG_EINVAL, "tg_keep_last_counted: no counter or text");
    uint64_t t = 0;
    tg_status s = c->fn(c->user, text, len, &t, err);
    if (s != TG_OK) return s;
    size_t lo = 0, hi = len; /* count(lo) > n unless the whole text fits; count(hi) = 0 */
    uint64_t hi_tokens = 0;
    if (t <= n) {
        hi = 0;
        hi_tokens = t;
    } else {
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2, b = mid;
            while (b < hi && is_cont((unsigned char)text[b])) b++;
            if (b >= hi) {
                b = mid;
                while (b > lo && is_cont((unsigned char)text[b])) b--;
                if (b <= lo) break;
            }
            if ((s = c->fn(c->user, text + b, len - b, &t, err)) != TG_OK) return s;
            if (t <= n) {
                hi = b;
                hi_tokens = t;
            } else {
                lo = b;
            }
        }
        if (hi == len) hi_tokens = 0;
    }
    *out_len = len - hi;
    *out = malloc(*out_len + 1); // NOLINT(clang-analyzer-optin.portability.UnixAPI): hi <= len (each new hi is a b < hi), so never 0
    if (!*out) return TG_ENOMEM;
    if (*out_len) memcpy(*out, text + hi, *out_len);
    (*out)[*out_len] = '\0';
    *out_tokens = hi_tokens;
    return TG_OK;
}
