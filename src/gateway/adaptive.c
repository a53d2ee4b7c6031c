/*
 * gateway/adaptive.c: the learned thinking budgets' life in the daemon
 * (adaptive.h has the story): the table made and loaded at start, saved on
 * a timer and at exit, fed from finished answers, exported as metrics.
 */
#include "gateway/adaptive.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/filters/usage.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/server.h"

static void save(tg__server *s, const char *why) {
    struct tg__adaptive_state *st = s->adaptive;
    const char *path = st ? st->path : NULL;
    if (!path || !st->changes) return;
    tg_error err;
    if (tg_adaptive_save(st->table, path, &err) != TG_OK) {
        tg__log(s, TG__LOG_WARN, "%s; the learned budgets stay in memory", err.msg);
        return;
    }
    st->changes = 0;
    tg__log(s, TG__LOG_INFO, "adaptive budgets saved to %s (%s)", path, why);
}

static void on_save_timer(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    save(arg, "interval");
}

static void load(tg__server *s) {
    const char *path = s->adaptive->path;
    if (!path) return;
    tg_error err;
    tg_status st = tg_adaptive_load(s->adaptive->table, path, &err);
    if (st == TG_OK) tg__log(s, TG__LOG_INFO, "adaptive budgets loaded from %s", path);
    else if (st == TG_ENOTFOUND) tg__log(s, TG__LOG_INFO, "adaptive budgets: %s does not exist yet; starting empty", path);
    else tg__log(s, TG__LOG_ERROR, "%s; starting with no learned budgets (the file is replaced at the next save)",
                 err.msg);
}

void tg__adaptive_start(tg__server *s) {
    tg_adaptive_cfg cfg;
    tg_adaptive_cfg_init(&cfg);
    cfg.quantile_ppm = s->cfg->adaptive_quantile;
    cfg.min_samples = s->cfg->adaptive_min_samples;
    struct tg__adaptive_state *st = calloc(1, sizeof *st);
    if (st) st->table = tg_adaptive_new(&cfg);
    if (!st || !st->table) {
        free(st);
        tg__log(s, TG__LOG_ERROR, "out of memory: thinking_mode adaptive uses the catalogue budgets");
        return;
    }
    s->adaptive = st;
    if (s->cfg->adaptive_state_file && !(st->path = strdup(s->cfg->adaptive_state_file)))
        tg__log(s, TG__LOG_ERROR, "out of memory: the adaptive budgets stay in memory only");
    load(s);
    if (!st->path || !s->base) return;
    st->ev_save = event_new(s->base, -1, EV_PERSIST, on_save_timer, s);
    double iv = s->cfg->adaptive_save_interval;
    struct timeval tv = {(time_t)iv, (suseconds_t)((iv - (double)(time_t)iv) * 1e6)};
    if (st->ev_save) event_add(st->ev_save, &tv);
}

void tg__adaptive_stop(tg__server *s) {
    struct tg__adaptive_state *st = s->adaptive;
    if (!st) return;
    save(s, "exit");
    if (st->ev_save) event_free(st->ev_save);
    free(st->path);
    tg_adaptive_free(st->table);
    free(st);
    s->adaptive = NULL;
}

static int finished_by_itself(const char *fr) {
    return strcmp(fr, "stop") == 0 || strcmp(fr, "tool_calls") == 0 || strcmp(fr, "function_call") == 0;
}

int tg__adaptive_observe(tg_adaptive *a, const tg__think_obs *o, const tg__usage *u, int gateway_cut) {
    if (!a || !o || !o->on || !u) return TG__ADAPT_SKIPPED;
    int64_t t = tg__usage_thinking(u);
    if (t < 0) return TG__ADAPT_SKIPPED; /* no count: nothing learned */
    int cut = gateway_cut || (o->budget && (uint64_t)t >= o->budget);
    if (!cut && !finished_by_itself(u->finish)) return TG__ADAPT_SKIPPED;
    if (tg_adaptive_record(a, o->model, o->cls, (uint64_t)t, cut, o->budget, o->hi) != TG_OK)
        return TG__ADAPT_SKIPPED;
    return cut ? TG__ADAPT_CUT : TG__ADAPT_FINISHED;
}

int tg__adaptive_answer(tg__server *s, const tg__think_obs *o, const tg__usage *u, int gateway_cut) {
    struct tg__adaptive_state *st = s->adaptive;
    if (!st || !o || !o->on) return TG__ADAPT_SKIPPED;
    int r = tg__adaptive_observe(st->table, o, u, gateway_cut);
    st->outcomes[r]++;
    if (r != TG__ADAPT_SKIPPED) st->changes++;
    return r;
}

typedef struct render {
    struct evbuffer *out;
    int budgets; /* 0: the samples family; 1: the budget family */
} render;

static void sample_line(void *ud, const char *model, tg_adaptive_class c, uint32_t samples, uint64_t q) {
    render *r = ud;
    char lb[300], name[32];
    if (r->budgets && !q) return; /* below min_samples: the catalogue's, not learned */
    tg_adaptive_class_name(c, name, sizeof name); /* band/code/effort */
    char *code = strchr(name, '/');
    char *effort = code ? strchr(code + 1, '/') : NULL;
    if (!effort) return;
    *code++ = '\0';
    *effort++ = '\0';
    evbuffer_add_printf(r->out, "%s{model=\"%s\",band=\"%s\",code=\"%s\",effort=\"%s\"} %llu\n",
                        r->budgets ? "tokgate_adaptive_budget_tokens" : "tokgate_adaptive_samples",
                        tg__metrics_label(model, lb, sizeof lb), name, code, effort,
                        (unsigned long long)(r->budgets ? q : samples));
}

void tg__adaptive_metrics(tg__server *s, struct evbuffer *out) {
    struct tg__adaptive_state *st = s->adaptive;
    if (!st) return;
    static const char *const names[TG__ADAPT_N] = {"skipped", "finished", "cut"};
    evbuffer_add_printf(out, "# HELP tokgate_adaptive_answers_total Answers of adaptive-mode requests, by what "
                             "was learned from them.\n# TYPE tokgate_adaptive_answers_total counter\n");
    for (int i = 0; i < TG__ADAPT_N; i++)
        evbuffer_add_printf(out, "tokgate_adaptive_answers_total{outcome=\"%s\"} %llu\n", names[i],
                            (unsigned long long)st->outcomes[i]);
    render r = {out, 0};
    evbuffer_add_printf(out, "# HELP tokgate_adaptive_samples Thinking-token samples held per model and request "
                             "class.\n# TYPE tokgate_adaptive_samples gauge\n");
    tg_adaptive_visit(st->table, sample_line, &r);
    r.budgets = 1;
    evbuffer_add_printf(out, "# HELP tokgate_adaptive_budget_tokens Learned thinking budget (the quantile, before "
                             "the mode's bounds) per model and class with enough samples.\n"
                             "# TYPE tokgate_adaptive_budget_tokens gauge\n");
    tg_adaptive_visit(st->table, sample_line, &r);
}
