/* gateway/metrics.h: the daemon's counters and histograms, and their
 * Prometheus text (metrics.c). Counters are changed on the loop thread only. */
#ifndef TG_GATEWAY_METRICS_H
#define TG_GATEWAY_METRICS_H

#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tg__pools tg__pools;

enum tg__route {
    TG__R_CHAT, TG__R_COMPLETIONS, TG__R_MODELS, TG__R_API_JSON, TG__R_LIMITS, TG__R_METRICS,
    TG__R_HEALTHZ, TG__R_TOKENIZE, TG__R_READYZ, TG__R_STATUS, TG__R_PASSTHROUGH, TG__R_NONE, TG__R_COUNT
};
const char *tg__route_name(int route);

#define TG__HIST_BUCKETS 21
typedef struct tg__hist {
    uint64_t counts[TG__HIST_BUCKETS + 1]; /* last: +Inf */
    double sum;
    uint64_t n;
} tg__hist;

#define TG__MAX_REASONS 32
typedef struct tg__metrics {
    uint64_t requests[TG__R_COUNT][6]; /* by route and status class index (1xx..5xx, other) */
    uint64_t status_codes[TG__R_COUNT][600];
    char *reasons[TG__MAX_REASONS];
    uint64_t refusals[TG__MAX_REASONS];
    uint64_t escalations;
    uint64_t escalations_skipped; /* no KV room to grow the reservation */
    uint64_t escalations_continued; /* answers continued in place to escalate_to */
    uint64_t thinking_cuts;       /* streams cut at their thinking budget and resumed */
    uint64_t admission_timeouts;
    uint64_t tokens_in, tokens_out;
    uint64_t upstream_faults[16]; /* by upstream.h's fault kinds (TG__UP_N_FAULTS of them) */
    uint64_t client_disconnects;
    uint64_t open_connections, open_streams;
    tg__hist added_latency, upstream_latency;
    double started; /* unix time the daemon started (process_start_time_seconds) */
    uint64_t summaries[4];  /* truncation summarize, by result (summary.h TG__SUM_*: made, hit, failed, unfit) */
    uint64_t summary_calls; /* summary calls sent upstream */
} tg__metrics;

void tg__metrics_request(tg__metrics *m, int route, int status);
void tg__metrics_refusal(tg__metrics *m, const char *reason);
void tg__hist_observe(tg__hist *h, double seconds);
/* The Prometheus text of the counters and of each pool's admission state. */
void tg__metrics_render(const tg__metrics *m, const tg__pools *pools, struct evbuffer *out);
/* A label value with \\, \" and newlines escaped, in buf (cap bytes). */
const char *tg__metrics_label(const char *v, char *buf, size_t cap);
void tg__metrics_free(tg__metrics *m);

#endif
