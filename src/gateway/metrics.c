/*
 * gateway/metrics.c: counters and histograms, rendered as Prometheus text
 * exposition format 0.0.4 at GET /metrics.
 *
 *   tokgate_requests_total{route,code}         answered requests
 *   tokgate_refusals_total{reason}             requests refused by the policy
 *   tokgate_escalations_total                  output escalations (issue 7)
 *   tokgate_escalations_skipped_total          escalations not made: no KV room to grow
 *   tokgate_escalations_continued_total        answers continued in place to escalate_to
 *   tokgate_thinking_cuts_total                streams cut at their thinking budget and resumed
 *   tokgate_admission_{capacity,reserved,queue_depth}_tokens/gauge per upstream,
 *   tokgate_admission_{admitted,waits,refusals}_total       per upstream
 *   tokgate_tokens_total{direction="in|out"}   usage reported by upstreams
 *   tokgate_upstream_faults_total{kind}        connect, timeouts, resets, protocol
 *   tokgate_client_disconnects_total           clients gone mid-request
 *   tokgate_open_connections, tokgate_open_streams
 *   tokgate_added_latency_seconds              time tokgate spends on a request
 *                                              (before sending upstream + relaying the head)
 *   tokgate_upstream_latency_seconds           request sent → response head
 *
 * The served models' limit gauges (tokgate_limit_tokens) come after these,
 * from catalog.c, which knows the model table.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/metrics.h"
#include "gateway/upstream.h"

static const double bounds[TG__HIST_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};

const char *tg__route_name(int route) {
    static const char *const names[] = {"chat_completions", "completions", "models", "api_json", "limits",
                                        "metrics", "healthz", "tokenize", "passthrough", "none"};
    return route >= 0 && route < TG__R_COUNT ? names[route] : "none";
}

void tg__metrics_request(tg__metrics *m, int route, int status) {
    if (route < 0 || route >= TG__R_COUNT) route = TG__R_NONE;
    if (status < 100 || status > 599) status = 0;
    m->status_codes[route][status]++;
}

void tg__metrics_refusal(tg__metrics *m, const char *reason) {
    size_t i;
    for (i = 0; i < TG__MAX_REASONS && m->reasons[i]; i++)
        if (!strcmp(m->reasons[i], reason)) break;
    if (i == TG__MAX_REASONS) i = TG__MAX_REASONS - 1; /* last slot collects the overflow */
    if (!m->reasons[i]) m->reasons[i] = strdup(reason);
    m->refusals[i]++;
}

void tg__metrics_free(tg__metrics *m) {
    for (size_t i = 0; i < TG__MAX_REASONS; i++) free(m->reasons[i]);
    memset(m, 0, sizeof *m);
}

void tg__hist_observe(tg__hist *h, double s) {
    size_t i = 0;
    while (i < TG__HIST_BUCKETS && s > bounds[i]) i++;
    h->counts[i]++;
    h->sum += s;
    h->n++;
}

static void hist_render(struct evbuffer *out, const char *name, const char *help, const tg__hist *h) {
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (size_t i = 0; i < TG__HIST_BUCKETS; i++) {
        cum += h->counts[i];
        evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i], (unsigned long long)cum);
    }
    cum += h->counts[TG__HIST_BUCKETS];
    evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name,
                        (unsigned long long)cum, name, h->sum, name, (unsigned long long)h->n);
}

/* A label value with \\, \" and newlines escaped (exposition format 0.0.4). */
const char *tg__metrics_label(const char *v, char *buf, size_t cap) {
    size_t o = 0;
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') buf[o++] = '\\', buf[o++] = *v;
        else if (*v == '\n') buf[o++] = '\\', buf[o++] = 'n';
        else buf[o++] = *v;
    }
    buf[o] = '\0';
    return buf;
}

void tg__metrics_render(const tg__metrics *m, const tg__pools *pools, struct evbuffer *out) {
    char lb[512];
    evbuffer_add_printf(out, "# HELP tokgate_requests_total Requests answered, by route and status code.\n"
                             "# TYPE tokgate_requests_total counter\n");
    for (int r = 0; r < TG__R_COUNT; r++)
        for (int st = 0; st < 600; st++)
            if (m->status_codes[r][st])
                evbuffer_add_printf(out, "tokgate_requests_total{route=\"%s\",code=\"%d\"} %llu\n", tg__route_name(r), st,
                                    (unsigned long long)m->status_codes[r][st]);
    evbuffer_add_printf(out, "# HELP tokgate_refusals_total Requests refused by the budget policy, by reason.\n"
                             "# TYPE tokgate_refusals_total counter\n");
    for (size_t i = 0; i < TG__MAX_REASONS && m->reasons[i]; i++)
        evbuffer_add_printf(out, "tokgate_refusals_total{reason=\"%s\"} %llu\n", tg__metrics_label(m->reasons[i], lb, sizeof lb),
                            (unsigned long long)m->refusals[i]);
    evbuffer_add_printf(out, "# HELP tokgate_escalations_total Output escalations after finish_reason length.\n"
                             "# TYPE tokgate_escalations_total counter\ntokgate_escalations_total %llu\n",
                        (unsigned long long)m->escalations);
    evbuffer_add_printf(out, "# HELP tokgate_escalations_skipped_total Escalations not made: no KV room to grow the reservation.\n"
                             "# TYPE tokgate_escalations_skipped_total counter\ntokgate_escalations_skipped_total %llu\n",
                        (unsigned long long)m->escalations_skipped);
    evbuffer_add_printf(out, "# HELP tokgate_escalations_continued_total Answers continued in place to the escalated limit (not regenerated).\n"
                             "# TYPE tokgate_escalations_continued_total counter\ntokgate_escalations_continued_total %llu\n",
                        (unsigned long long)m->escalations_continued);
    evbuffer_add_printf(out, "# HELP tokgate_thinking_cuts_total Streams cut at their thinking budget and resumed after the end-of-thinking marker.\n"
                             "# TYPE tokgate_thinking_cuts_total counter\ntokgate_thinking_cuts_total %llu\n",
                        (unsigned long long)m->thinking_cuts);
    evbuffer_add_printf(out, "# HELP tokgate_tokens_total Tokens reported by upstream usage.\n"
                             "# TYPE tokgate_tokens_total counter\n"
                             "tokgate_tokens_total{direction=\"in\"} %llu\ntokgate_tokens_total{direction=\"out\"} %llu\n",
                        (unsigned long long)m->tokens_in, (unsigned long long)m->tokens_out);
    evbuffer_add_printf(out, "# HELP tokgate_upstream_faults_total Upstream failures, by kind.\n"
                             "# TYPE tokgate_upstream_faults_total counter\n");
    for (int k = 1; k < 8; k++)
        evbuffer_add_printf(out, "tokgate_upstream_faults_total{kind=\"%s\"} %llu\n", tg__up_fault_name(k),
                            (unsigned long long)m->upstream_faults[k]);
    evbuffer_add_printf(out, "# HELP tokgate_client_disconnects_total Clients that left mid-request.\n"
                             "# TYPE tokgate_client_disconnects_total counter\ntokgate_client_disconnects_total %llu\n",
                        (unsigned long long)m->client_disconnects);
    evbuffer_add_printf(out, "# HELP tokgate_open_connections Open client connections.\n"
                             "# TYPE tokgate_open_connections gauge\ntokgate_open_connections %llu\n"
                             "# HELP tokgate_open_streams Streaming answers being relayed.\n"
                             "# TYPE tokgate_open_streams gauge\ntokgate_open_streams %llu\n",
                        (unsigned long long)m->open_connections, (unsigned long long)m->open_streams);
    evbuffer_add_printf(out, "# HELP tokgate_admission_capacity_tokens KV tokens an upstream holds at once.\n"
                             "# TYPE tokgate_admission_capacity_tokens gauge\n"
                             "# HELP tokgate_admission_reserved_tokens Tokens reserved by requests in flight (prompt + max_tokens).\n"
                             "# TYPE tokgate_admission_reserved_tokens gauge\n"
                             "# HELP tokgate_admission_queue_depth Requests waiting for KV room.\n"
                             "# TYPE tokgate_admission_queue_depth gauge\n"
                             "# HELP tokgate_admission_admitted_total Requests admitted.\n"
                             "# TYPE tokgate_admission_admitted_total counter\n"
                             "# HELP tokgate_admission_waits_total Requests that had to wait.\n"
                             "# TYPE tokgate_admission_waits_total counter\n"
                             "# HELP tokgate_admission_refusals_total Requests refused (queue full or wait timed out).\n"
                             "# TYPE tokgate_admission_refusals_total counter\n");
    for (const tg__pool *p = pools->head; p; p = p->next) {
        const tg__adm *a = &p->adm;
        const char *u = tg__metrics_label(p->key, lb, sizeof lb);
        evbuffer_add_printf(out,
                            "tokgate_admission_capacity_tokens{upstream=\"%s\"} %llu\n"
                            "tokgate_admission_reserved_tokens{upstream=\"%s\"} %llu\n"
                            "tokgate_admission_queue_depth{upstream=\"%s\"} %zu\n"
                            "tokgate_admission_admitted_total{upstream=\"%s\"} %llu\n"
                            "tokgate_admission_waits_total{upstream=\"%s\"} %llu\n"
                            "tokgate_admission_refusals_total{upstream=\"%s\"} %llu\n",
                            u, (unsigned long long)a->capacity, u, (unsigned long long)a->reserved, u, a->depth, u,
                            (unsigned long long)a->admitted, u, (unsigned long long)a->waits, u,
                            (unsigned long long)a->refusals);
    }
    hist_render(out, "tokgate_added_latency_seconds", "Time tokgate adds to a request (parse, budget, relay of the head).",
                &m->added_latency);
    hist_render(out, "tokgate_upstream_latency_seconds", "Upstream time from request sent to response head.",
                &m->upstream_latency);
}
