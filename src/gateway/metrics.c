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
 *   tokgate_summaries_total{result}            truncation summarize: made (a new summary
 *                                              used), hit (the cache's), failed (the call
 *                                              failed: drop_oldest_turns), unfit (no room,
 *                                              or the compacted chat did not fit: the same)
 *   tokgate_summarize_calls_total                summary calls sent upstream
 *   tokgate_tokens_total{direction="in|out"}   usage reported by upstreams
 *   tokgate_upstream_faults_total{kind}        connect, timeouts, resets, protocol
 *   tokgate_client_disconnects_total           clients gone mid-request
 *   tokgate_open_connections, tokgate_open_streams
 *   tokgate_added_latency_seconds              time tokgate spends on a request
 *                                              (before sending upstream + relaying the head)
 *   tokgate_upstream_latency_seconds           request sent → response head
 *   tokgate_build_info{version}                1
 *   process_cpu_seconds_total, process_{resident,virtual}_memory_bytes,
 *   process_{open,max}_fds, process_start_time_seconds   (Prometheus's
 *                                              standard process metrics, /proc)
 * Each family is one group: HELP, TYPE, then all its samples.
 *
 * The served models' limit gauges (tokgate_limit_tokens) come after these,
 * from catalog.c, which knows the model table, then the adaptive thinking
 * budgets' families (gateway/adaptive.c).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gateway/metrics.h"
#include "gateway/upstream.h"

_Static_assert(TG__UP_N_FAULTS <= 16, "metrics.h upstream_faults holds every fault kind");

/* Seconds: tokgate's own overhead lives in the sub-millisecond buckets, an
 * upstream's answer in the long ones (a long generation takes minutes). */
static const double bounds[TG__HIST_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                0.25,   0.5,     1,      2.5,   5,      10,    30,   60,    120,  300, 600};

const char *tg__route_name(int route) {
    static const char *const names[] = {"chat_completions", "completions", "models", "api_json", "limits",
                                        "metrics", "healthz", "tokenize", "readyz", "status",
                                        "passthrough", "none"};
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

/* "# HELP" and "# TYPE" of one family; its samples follow at once (the
 * exposition format wants each family in one group). */
static void family(struct evbuffer *out, const char *name, const char *type, const char *help) {
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void single(struct evbuffer *out, const char *name, const char *type, const char *help, uint64_t v) {
    family(out, name, type, help);
    evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void counters(const tg__metrics *m, struct evbuffer *out) {
    char lb[512];
    family(out, "tokgate_requests_total", "counter", "Requests answered, by route and status code.");
    for (int r = 0; r < TG__R_COUNT; r++)
        for (int st = 0; st < 600; st++)
            if (m->status_codes[r][st])
                evbuffer_add_printf(out, "tokgate_requests_total{route=\"%s\",code=\"%d\"} %llu\n", tg__route_name(r), st,
                                    (unsigned long long)m->status_codes[r][st]);
    family(out, "tokgate_refusals_total", "counter", "Requests refused by the budget policy, by reason.");
    for (size_t i = 0; i < TG__MAX_REASONS && m->reasons[i]; i++)
        evbuffer_add_printf(out, "tokgate_refusals_total{reason=\"%s\"} %llu\n",
                            tg__metrics_label(m->reasons[i], lb, sizeof lb), (unsigned long long)m->refusals[i]);
    single(out, "tokgate_escalations_total", "counter", "Output escalations after finish_reason length.", m->escalations);
    single(out, "tokgate_escalations_skipped_total", "counter",
           "Escalations not made: no KV room to grow the reservation.", m->escalations_skipped);
    single(out, "tokgate_escalations_continued_total", "counter",
           "Answers continued in place to the escalated limit (not regenerated).", m->escalations_continued);
    single(out, "tokgate_thinking_cuts_total", "counter",
           "Streams cut at their thinking budget and resumed after the end-of-thinking marker.", m->thinking_cuts);
    static const char *const sum_results[] = {"made", "hit", "failed", "unfit"}; /* summary.h TG__SUM_* */
    family(out, "tokgate_summaries_total", "counter",
           "Summarizing compactions (truncation summarize), by result (failed, unfit: drop_oldest_turns instead).");
    for (int i = 0; i < 4; i++)
        evbuffer_add_printf(out, "tokgate_summaries_total{result=\"%s\"} %llu\n", sum_results[i],
                            (unsigned long long)m->summaries[i]);
    single(out, "tokgate_summarize_calls_total", "counter", "Summary calls sent to upstreams.", m->summary_calls);
    family(out, "tokgate_tokens_total", "counter", "Tokens reported by upstream usage.");
    evbuffer_add_printf(out, "tokgate_tokens_total{direction=\"in\"} %llu\ntokgate_tokens_total{direction=\"out\"} %llu\n",
                        (unsigned long long)m->tokens_in, (unsigned long long)m->tokens_out);
    family(out, "tokgate_upstream_faults_total", "counter", "Upstream failures, by kind.");
    for (int k = 1; k < TG__UP_N_FAULTS; k++)
        evbuffer_add_printf(out, "tokgate_upstream_faults_total{kind=\"%s\"} %llu\n", tg__up_fault_name(k),
                            (unsigned long long)m->upstream_faults[k]);
    single(out, "tokgate_client_disconnects_total", "counter", "Clients that left mid-request.", m->client_disconnects);
    single(out, "tokgate_open_connections", "gauge", "Open client connections.", m->open_connections);
    single(out, "tokgate_open_streams", "gauge", "Streaming answers being relayed.", m->open_streams);
}

/* Per upstream: one family at a time, every pool's sample under it. */
static void admission(const tg__pools *pools, struct evbuffer *out) {
    static const struct {
        const char *name, *type, *help;
    } fams[] = {
        {"tokgate_admission_capacity_tokens", "gauge", "KV tokens an upstream holds at once (0: unknown, admission off)."},
        {"tokgate_admission_reserved_tokens", "gauge", "Tokens reserved by requests in flight (prompt + max_tokens)."},
        {"tokgate_admission_queue_depth", "gauge", "Requests waiting for KV room."},
        {"tokgate_admission_admitted_total", "counter", "Requests admitted."},
        {"tokgate_admission_waits_total", "counter", "Requests that had to wait."},
        {"tokgate_admission_refusals_total", "counter", "Requests refused (queue full or wait timed out)."},
        /* issue 14 item 3: slots (several gateways on one engine) */
        {"tokgate_admission_running", "gauge", "Sequences (engine slots) this gateway runs on the upstream now."},
        {"tokgate_admission_running_peak", "gauge", "The most sequences this gateway ran on the upstream at once."},
        {"tokgate_admission_slots", "gauge", "Slots this gateway may use now (share and engine reading; 0: no slot gate)."},
        {"tokgate_admission_engine_free", "gauge", "Free slots per the engine's last reading (0 also when none was read)."},
        {"tokgate_admission_engine_waits_total", "counter", "Requests that waited because the engine's reading showed no free slot."},
    };
    char lb[512];
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        family(out, fams[f].name, fams[f].type, fams[f].help);
        for (const tg__pool *p = pools->head; p; p = p->next) {
            const tg__adm *a = &p->adm;
            uint64_t room = tg__adm_slot_room(a);
            const uint64_t v[] = {a->capacity, a->reserved, a->depth, a->admitted, a->waits, a->refusals,
                                  a->running, a->peak_running, room == UINT64_MAX ? 0 : room, a->engine_fresh && a->engine_free != UINT64_MAX ? a->engine_free : 0, a->engine_waits};
            evbuffer_add_printf(out, "%s{upstream=\"%s\"} %llu\n", fams[f].name, tg__metrics_label(p->key, lb, sizeof lb),
                                (unsigned long long)v[f]);
        }
    }
}

/* The process_* families every Prometheus client exports, from /proc (Linux;
 * elsewhere they are left out), and the build. */
static void process(double started, struct evbuffer *out) {
    family(out, "tokgate_build_info", "gauge", "tokgate's version, as a label; always 1.");
    evbuffer_add_printf(out, "tokgate_build_info{version=\"%s\"} 1\n", TG_VERSION);
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        unsigned long utime = 0, stime = 0, vsize = 0;
        long rss = 0;
        /* fields 14, 15 (utime, stime in ticks), 23 (vsize), 24 (rss in pages); comm may hold spaces */
        char buf[1024];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %*d %*d %*u %lu %ld",
                        &utime, &stime, &vsize, &rss) == 4) {
            double tick = (double)sysconf(_SC_CLK_TCK);
            family(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
            evbuffer_add_printf(out, "process_cpu_seconds_total %.2f\n", (double)(utime + stime) / tick);
            single(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize);
            single(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
                   (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE));
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        uint64_t fds = 0;
        while (readdir(d)) fds++;
        closedir(d);
        single(out, "process_open_fds", "gauge", "Number of open file descriptors.", fds > 3 ? fds - 3 : 0); /* ., .., the dir's own */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        single(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.", (uint64_t)rl.rlim_cur);
    family(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    evbuffer_add_printf(out, "process_start_time_seconds %.0f\n", started);
}

void tg__metrics_render(const tg__metrics *m, const tg__pools *pools, struct evbuffer *out) {
    counters(m, out);
    admission(pools, out);
    hist_render(out, "tokgate_added_latency_seconds", "Time tokgate adds to a request (parse, budget, relay of the head).",
                &m->added_latency);
    hist_render(out, "tokgate_upstream_latency_seconds", "Upstream time from request sent to response head.",
                &m->upstream_latency);
    process(m->started, out);
}
