/*
 * test_metrics.c: the Prometheus text of the daemon's counters
 * (src/gateway/metrics.c), checked against the exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats): every sample's
 * family has a TYPE line before it, label values escape \\, \" and newline,
 * histogram buckets are cumulative with le="+Inf" equal to _count.
 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/metrics.h"
#include "gateway/upstream.h"

static char *render(const tg__metrics *m, const tg__pools *pools) {
    struct evbuffer *b = evbuffer_new();
    tg__metrics_render(m, pools, b);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

/* Each sample line's metric family has "# TYPE family" earlier in the text. */
static int every_sample_typed(const char *t) {
    for (const char *l = t; *l; l = strchr(l, '\n') + 1) {
        if (*l != '#') {
            size_t n = strcspn(l, "{ ");
            char fam[128], want[160];
            snprintf(fam, sizeof fam, "%.*s", (int)n, l);
            char *u = strstr(fam, "_bucket");
            if (!u) u = strstr(fam, "_sum");
            if (!u && strstr(fam, "_seconds_count")) u = strstr(fam, "_count");
            if (u) *u = '\0';
            snprintf(want, sizeof want, "# TYPE %s ", fam);
            const char *at = strstr(t, want);
            if (!at || at > l) return 0;
        }
        if (!strchr(l, '\n')) break;
    }
    return 1;
}

static void test_render(void) {
    tg__metrics m;
    memset(&m, 0, sizeof m);
    tg__metrics_request(&m, TG__R_CHAT, 200);
    tg__metrics_request(&m, TG__R_CHAT, 200);
    tg__metrics_request(&m, TG__R_CHAT, 400);
    tg__metrics_refusal(&m, "context_length_exceeded");
    tg__metrics_refusal(&m, "a\"b\\c\nd");
    tg__hist_observe(&m.added_latency, 0.0002);
    tg__hist_observe(&m.added_latency, 0.003);
    tg__hist_observe(&m.added_latency, 100);
    tg__pools pools;
    memset(&pools, 0, sizeof pools);
    tg__pool *p = tg__pool_get(&pools, "127.0.0.1", 8080);
    p->adm.capacity = 4096;
    char *t = render(&m, &pools);
    TG_CHECK_CONTAINS(t, "tokgate_requests_total{route=\"chat_completions\",code=\"200\"} 2\n");
    TG_CHECK_CONTAINS(t, "tokgate_requests_total{route=\"chat_completions\",code=\"400\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_refusals_total{reason=\"context_length_exceeded\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_refusals_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_admission_capacity_tokens{upstream=\"127.0.0.1:8080\"} 4096\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"0.00025\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"0.005\"} 2\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"+Inf\"} 3\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_count 3\n");
    TG_CHECK(every_sample_typed(t));
    TG_CHECK(!every_sample_typed("tokgate_x 1\n# TYPE tokgate_x counter\n")); /* the check can fail */
    free(t);
    tg__pool_free_all(&pools);
    tg__metrics_free(&m);
}

int main(void) {
    TG_RUN(test_render);
    return tg_test_summary();
}
